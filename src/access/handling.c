#include "access/handling.h"

#include <stdio.h>
#include <string.h>

#include "access/policy.h"
#include "base/err.h"

int handling_from_markings(struct store_reader *r, const json_t *refs, int default_tlp,
                           int64_t owner, int64_t user, struct store_acl *out)
{
    *out = (struct store_acl){.owner = owner, .tlp = default_tlp, .group = 0};
    size_t n = json_array_size(refs);
    if (n == 0)
        return 0;
    int level = -1;
    bool unknown = false;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(refs, i));
        if (!id) {
            unknown = true;
            continue;
        }
        enum tlp_level l = tlp_from_marking_id(id);
        if (l != TLP_UNKNOWN) {
            if ((int)l > level)
                level = (int)l;
            continue;
        }
        struct store_group g;
        int rc = store_group_find(r, id, owner, user, &g);
        if ((rc == 0 && strcmp(g.marking_id, id) != 0) || rc == VIGIL_ECONFLICT)
            rc = VIGIL_ENOENT; /* a marking is never a group's name */
        if (rc == 0) { /* a group the writer is not in reads as a marking Vigil does not know */
            int may = store_group_may_use(r, g.id, owner, user);
            rc = may == 1 ? 0 : may == 0 ? VIGIL_ENOENT : may;
        }
        if (rc == 0 && !out->group)
            out->group = g.id;
        else if (rc == 0 || rc == VIGIL_ENOENT)
            unknown = true; /* not a marking we know, or a second group */
        else
            return rc;
    }
    if (unknown)
        out->tlp = TLP_UNKNOWN;
    else if (level >= 0)
        out->tlp = level;
    else
        out->tlp = TLP_AMBER; /* a group alone shares with its members */
    return 0;
}

int handling_from_names(struct store_reader *r, const char *marking, const char *group,
                        int default_tlp, int64_t owner, int64_t user, struct store_acl *out,
                        const char **group_marking, char msg[HANDLING_MSG_SZ])
{
    *out = (struct store_acl){.owner = owner, .tlp = default_tlp, .group = 0};
    *group_marking = NULL;
    if (marking) {
        enum tlp_level l;
        if (tlp_parse(marking, &l)) {
            snprintf(msg, HANDLING_MSG_SZ,
                     "marking: must be clear, green, amber, amber+strict or red");
            return VIGIL_EINVAL;
        }
        out->tlp = (int)l;
    }
    if (group && marking && (out->tlp == TLP_CLEAR || out->tlp == TLP_GREEN)) {
        /* Every partner reads CLEAR and GREEN: a group would narrow nothing, and its name,
         * kept in what every partner reads, would tell them the group exists. */
        snprintf(msg, HANDLING_MSG_SZ,
                 "group: a sharing group narrows amber, amber+strict and red; with %s every "
                 "partner reads it (leave group out, or mark it amber or red)",
                 marking);
        return VIGIL_EINVAL;
    }
    if (group) {
        struct store_group g;
        int rc = store_group_find(r, group, owner, user, &g);
        /* A group the writer is not in is answered exactly like one that does not exist. */
        if (!rc && (rc = store_group_may_use(r, g.id, owner, user)) >= 0)
            rc = rc == 1 ? 0 : VIGIL_ENOENT;
        if (rc == VIGIL_ENOENT) {
            snprintf(msg, HANDLING_MSG_SZ, "group: no sharing group named \"%.64s\"", group);
            return VIGIL_EINVAL;
        }
        if (rc == VIGIL_ECONFLICT) { /* only groups the writer is in: it lists them */
            snprintf(msg, HANDLING_MSG_SZ,
                     "group: several sharing groups named \"%.64s\": give the group's"
                     " marking_id instead",
                     group);
            return VIGIL_EINVAL;
        }
        if (rc)
            return rc;
        out->group = g.id;
        *group_marking = g.marking_id;
        if (!marking && (out->tlp == TLP_CLEAR || out->tlp == TLP_GREEN))
            out->tlp = TLP_AMBER;
    }
    return 0;
}

bool handling_same(const struct store_acl *a, const struct store_acl *b)
{
    return a->owner == b->owner && a->tlp == b->tlp && a->group == b->group;
}
