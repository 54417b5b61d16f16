/* handling.h - the handling (owner, TLP level, sharing group) of a submitted object.
 *
 * Over STIX/TAXII, handling comes from object_marking_refs: TLP 2.0 marking ids and the
 * marking-definition ids of Vigil sharing groups. Over REST it comes from the "marking" and
 * "group" fields. Either way the result is a struct store_acl that policy_can_read() judges.
 */
#ifndef VIGIL_ACCESS_HANDLING_H
#define VIGIL_ACCESS_HANDLING_H

#include <jansson.h>

#include "store/store.h"

#define HANDLING_MSG_SZ 200

/* Handling of an object submitted by user `user` of partner `owner` from its
 * object_marking_refs (NULL or empty: default_tlp, no group):
 *  - the most restrictive TLP 2.0 marking holds;
 *  - a Vigil sharing group's marking sets the group (with no TLP marking: AMBER) when the
 *    writer may share into it (store_group_may_use: its owner or a member);
 *  - any other marking, a group the writer is not in included, makes the object TLP_UNKNOWN:
 *    readable by its owner only.
 * Returns 0, or a store error. */
int handling_from_markings(struct store_reader *r, const json_t *refs, int default_tlp,
                           int64_t owner, int64_t user, struct store_acl *out);

/* Handling from a REST marking name ("clear" ... "red"; NULL: default_tlp) and group (NULL:
 * none), for user `user` of partner `owner`. The group is a name or a marking-definition id,
 * resolved by store_group_find: owner's own group of that name, else the one the writer is a
 * member of. VIGIL_EINVAL with msg for an unknown marking or group, and for a name of several
 * other partners' groups the writer is in (the marking id is asked for); a group the writer
 * may not share into (store_group_may_use) gets the same answer as one that does not exist.
 * A group with marking clear or green is refused (VIGIL_EINVAL): it would narrow nothing, and
 * its name would reach every partner. Sets *group_marking (borrowed from r, or NULL) to the
 * group's marking-definition id for the STIX object. */
int handling_from_names(struct store_reader *r, const char *marking, const char *group,
                        int default_tlp, int64_t owner, int64_t user, struct store_acl *out,
                        const char **group_marking, char msg[HANDLING_MSG_SZ]);

/* Whether two handlings are the same: owner, TLP level and sharing group. */
bool handling_same(const struct store_acl *a, const struct store_acl *b);

#endif
