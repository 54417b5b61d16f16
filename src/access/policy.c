#include "access/policy.h"

#include <strings.h>
#include <string.h>

#include "base/err.h"
#include "stix/stix.h"

static bool in_sorted(const int64_t *v, size_t n, int64_t g)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == g)
            return true;
        if (v[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool policy_can_read(const struct policy_reader *r, const struct store_acl *acl)
{
    if (!r || !acl)
        return false; /* a read that names no reader sees nothing */
    if (r->system)
        return true;
    if (acl->owner == r->partner)
        return true;
    switch (acl->tlp) {
    case TLP_CLEAR:
    case TLP_GREEN: return true;
    case TLP_AMBER:
    case TLP_AMBER_STRICT:
        return acl->group ? in_sorted(r->groups, r->ngroups, acl->group) : r->coordinator;
    case TLP_RED: return acl->group && in_sorted(r->user_groups, r->nuser_groups, acl->group);
    default: return false;
    }
}

/* Who reads an object under a handling, as policy_can_read decides it (its owner always). */
enum audience { AUD_ALL, AUD_PARTNER_GROUP, AUD_COORDINATORS, AUD_USER_GROUP, AUD_OWNER };

static enum audience audience_of(const struct store_acl *acl)
{
    switch (acl->tlp) {
    case TLP_CLEAR:
    case TLP_GREEN: return AUD_ALL;
    case TLP_AMBER:
    case TLP_AMBER_STRICT: return acl->group ? AUD_PARTNER_GROUP : AUD_COORDINATORS;
    case TLP_RED: return acl->group ? AUD_USER_GROUP : AUD_OWNER;
    default: return AUD_OWNER;
    }
}

bool policy_reads_all_of(const struct policy_reader *r, const int64_t *user_groups, size_t n)
{
    if (r->system)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!in_sorted(r->user_groups, r->nuser_groups, user_groups[i]))
            return false;
    return true;
}

bool policy_audience_kept(const struct store_acl *before, const struct store_acl *after)
{
    enum audience b = audience_of(before), a = audience_of(after);
    if (a == AUD_ALL || b == AUD_OWNER)
        return true;
    switch (b) {
    case AUD_ALL: return false;
    case AUD_COORDINATORS: return a == AUD_COORDINATORS;
    case AUD_USER_GROUP:
    case AUD_PARTNER_GROUP: return a == b && after->group == before->group;
    default: return false;
    }
}

bool policy_may_leave(const struct store_acl *acl, enum policy_egress dest)
{
    (void)dest; /* the same rule for every destination today; see policy.h */
    switch (acl->tlp) {
    case TLP_CLEAR:
    case TLP_GREEN:
    case TLP_AMBER: return true;
    default: return false; /* AMBER+STRICT, RED, unknown */
    }
}

bool policy_egress_visible(void *ctx, const struct store_acl *acl)
{
    const struct policy_recipient *to = ctx;
    return policy_may_leave(acl, to->dest) && policy_can_read(to->reader, acl);
}

bool policy_visible(void *ctx, const struct store_acl *acl)
{
    return policy_can_read(ctx, acl);
}

static const struct {
    const char *name;
    const char *id;
} levels[] = {
    [TLP_CLEAR] = {"clear", STIX_TLP_CLEAR},
    [TLP_GREEN] = {"green", STIX_TLP_GREEN},
    [TLP_AMBER] = {"amber", STIX_TLP_AMBER},
    [TLP_AMBER_STRICT] = {"amber+strict", STIX_TLP_AMBER_STRICT},
    [TLP_RED] = {"red", STIX_TLP_RED},
    [TLP_UNKNOWN] = {"unknown", NULL},
};

int tlp_parse(const char *s, enum tlp_level *out)
{
    for (int i = TLP_CLEAR; i <= TLP_RED; i++) {
        if (strcasecmp(s, levels[i].name) == 0) {
            *out = (enum tlp_level)i;
            return 0;
        }
    }
    return VIGIL_EINVAL;
}

const char *tlp_name(enum tlp_level l)
{
    return l <= TLP_UNKNOWN ? levels[l].name : "unknown";
}

bool tlp_marked(const struct store_acl *acl, enum tlp_level l)
{
    return acl->tlp == (int)l;
}

enum tlp_level tlp_strictest(enum tlp_level l, const struct store_acl *acl)
{
    return acl->tlp > (int)l ? (enum tlp_level)acl->tlp : l;
}

const char *tlp_marking_id(enum tlp_level l)
{
    return l <= TLP_UNKNOWN ? levels[l].id : NULL;
}

enum tlp_level tlp_stricter(enum tlp_level a, enum tlp_level b)
{
    return a > b ? a : b;
}

enum tlp_level tlp_from_marking_id(const char *id)
{
    for (int i = TLP_CLEAR; i <= TLP_RED; i++)
        if (strcmp(id, levels[i].id) == 0)
            return (enum tlp_level)i;
    return TLP_UNKNOWN;
}
