/* policy.h - who may read what: the S3 read rule, in one place.
 *
 * Every read path (TAXII, REST, search, counts, exports, the live stream, webhooks) asks
 * policy_can_read() about each object before it shows, counts or derives anything from it.
 * No read path filters on its own. See docs/ACCESS.md for the rule in plain words.
 */
#ifndef VIGIL_ACCESS_POLICY_H
#define VIGIL_ACCESS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Handling levels, stored as integers: never renumber. */
enum tlp_level {
    TLP_CLEAR = 0,
    TLP_GREEN = 1,
    TLP_AMBER = 2,
    TLP_AMBER_STRICT = 3,
    TLP_RED = 4,
    TLP_UNKNOWN = 5, /* a marking Vigil does not know: readable by its owner only */
};

/* The reader a decision is made for. Every read names one: a read without a reader (NULL)
 * sees nothing. */
struct policy_reader {
    /* Non-NULL: the hub itself reading everything, named ("alerts", "compliance", the CLI
     * tool): the alert service's engine, compliance evaluation, administrators' exports. It
     * is never a partner's principal. NULL for a partner's reader. */
    const char *system;
    int64_t partner;       /* the reader's partner */
    int64_t user;          /* the reader's user */
    bool coordinator;      /* the reader's partner is the coordination center */
    const int64_t *groups; /* sharing groups that name the reader's partner, ascending */
    size_t ngroups;
    const int64_t *user_groups; /* sharing groups that name the reader (the user), ascending */
    size_t nuser_groups;
};

/* The initializer of the hub's own reader, named:
 *     static const struct policy_reader engine = POLICY_SYSTEM("alerts"); */
#define POLICY_SYSTEM(name) {.system = (name)}

/* The S3 rule: true when reader r may read an object handled as acl says. A NULL reader
 * reads nothing; a system reader (r->system) reads everything.
 *  - the submitting partner always reads its own objects;
 *  - CLEAR, GREEN: every partner;
 *  - AMBER, AMBER+STRICT: partners named by the object's sharing group; with no group, the
 *    coordination center;
 *  - RED: only users named by the object's group (no group: the owner only);
 *  - unknown markings: the owner only. Roles (admin included) never widen this. */
bool policy_can_read(const struct policy_reader *r, const struct store_acl *acl);
/* Whether r reads everything another user of r's partner reads, that user named in the
 * sharing groups user_groups (n of them, ascending): two users of one partner differ only by
 * the groups that name each of them (RED shared with named users). */
bool policy_reads_all_of(const struct policy_reader *r, const int64_t *user_groups, size_t n);

/* True when every reader who may read an object handled as `before` may also read it handled
 * as `after` (the same owner): a change of handling that takes no reader away. False for a
 * restriction (a stricter marking, another group), which withdraws the object from some of
 * its readers (compliance keeps what the coordination center verified from it). */
bool policy_audience_kept(const struct store_acl *before, const struct store_acl *after);

/* Where something that leaves the hub goes. Every path that sends data out of the hub names
 * its destination and asks policy_may_leave() about each object (or each piece of evidence
 * of a derived product) before it sends anything made from it. */
enum policy_egress {
    EGRESS_WEBHOOK = 0,    /* a delivery to a partner's webhook: a system outside the hub */
    EGRESS_EXPORT = 1,     /* vigil export (STIX, CSV, GeoJSON): a file that leaves the hub */
    EGRESS_FEDERATION = 2, /* another hub */
};

/* THE EGRESS GATE, the one decision on what leaves the hub. True when an object handled as
 * acl may be sent towards dest (to a recipient who may also read it: policy_can_read):
 * TLP:CLEAR, GREEN and AMBER may; TLP:AMBER+STRICT (never leaves the hub), TLP:RED (for
 * named people, not their systems) and unknown markings (Vigil does not guess) may not,
 * whatever the destination and whoever owns the object. */
bool policy_may_leave(const struct store_acl *acl, enum policy_egress dest);

/* A reader outside the hub: who receives (read policy) and where it goes (egress gate). */
struct policy_recipient {
    const struct policy_reader *reader;
    enum policy_egress dest;
};

/* policy_can_read() and policy_may_leave() together; ctx is a struct policy_recipient. With
 * the signature of store_query.visible, so that exports and webhook payloads (alert views
 * included) are built from what may leave only. */
bool policy_egress_visible(void *ctx, const struct store_acl *acl);

/* Adapter with the signature of store_query.visible; ctx is a struct policy_reader (NULL:
 * nothing is visible). */
bool policy_visible(void *ctx, const struct store_acl *acl);

/* Parses "clear", "green", "amber", "amber+strict", "red" (any case). VIGIL_EINVAL if none. */
int tlp_parse(const char *s, enum tlp_level *out);
/* "clear" ... "red", "unknown". */
const char *tlp_name(enum tlp_level l);
/* Whether acl is marked l: a filter on what a reader already may read, not a read decision. */
bool tlp_marked(const struct store_acl *acl, enum tlp_level l);
/* The stricter of l and acl's level (TLP_CLEAR is the least strict, then GREEN ... RED). */
enum tlp_level tlp_strictest(enum tlp_level l, const struct store_acl *acl);
/* The official TLP 2.0 marking-definition id of a level (NULL for TLP_UNKNOWN). */
const char *tlp_marking_id(enum tlp_level l);
/* The level of a marking-definition id, or TLP_UNKNOWN. */
enum tlp_level tlp_from_marking_id(const char *id);
/* The more restrictive of two levels, for marking what is derived from objects of both
 * (CLEAR < GREEN < AMBER < AMBER+STRICT < RED < unknown). */
enum tlp_level tlp_stricter(enum tlp_level a, enum tlp_level b);

#endif
