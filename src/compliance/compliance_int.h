/* compliance_int.h - private to src/compliance/: the agreement cache and violation resources.
 *
 * The parsed agreements are shared, reference-counted snapshots (struct cmp_set) keyed by the
 * stored agreements' seq, digest and handling; cmp_set_get() re-parses only when they change.
 * One mutex (cache_lock in compliance.c) guards the cache pointer and reference counts; it is
 * never held while SQL runs or while parsing.
 */
#ifndef VIGIL_COMPLIANCE_COMPLIANCE_INT_H
#define VIGIL_COMPLIANCE_COMPLIANCE_INT_H

#include "compliance/compliance.h"

struct cmp_entry {
    struct cmp_agreement a;
    struct store_acl acl;
    vtime_t loaded;
};

struct cmp_set {
    int refs;  /* guarded by cache_lock */
    char *key; /* what the set was parsed from */
    struct cmp_entry *v;
    size_t n;
};

/* The current agreements as r sees them; release with cmp_set_put(). */
int cmp_set_get(struct store_reader *r, struct cmp_set **out);
/* Releases a set from cmp_set_get(). NULL is a no-op. */
void cmp_set_put(struct cmp_set *set);
/* The agreement with id, or NULL. */
const struct cmp_entry *cmp_set_find(const struct cmp_set *set, const char *id);
/* The zone of e with zone_id, or NULL (also when e is NULL). */
const struct cmp_zone *cmp_entry_zone(const struct cmp_entry *e, const char *zone_id);
/* The read rule of a violation (compliance.h): reader may read its agreement and the report
 * it was found in (its trigger), as that report is indexed now; a deleted trigger hides it
 * from everyone. Other evidence plays no part. */
bool cmp_visible(struct store_reader *r, const struct cmp_set *set,
                 const struct policy_reader *reader, const struct store_violation *v);
/* The REST resource of v (which must pass cmp_visible for reader) with the evidence reader
 * may read now (all of it for a NULL reader); with full, its history and opinions too. New
 * reference. */
json_t *cmp_violation_json(struct store_reader *r, const struct cmp_set *set,
                           const struct policy_reader *reader, const struct store_violation *v,
                           bool full);

#endif
