/* ingest.h - how objects and event reports enter the store, for every write path (TAXII,
 * REST, the import command).
 *
 * CPU work (validation, serialisation) happens on the caller's thread with ingest_prepare();
 * the writes happen on the writer thread, inside the caller's transaction, with
 * ingest_store() and ingest_report(). Each write also keeps the event-report index and the
 * audit log, in the same transaction, so they never disagree with the objects.
 */
#ifndef VIGIL_SERVER_INGEST_H
#define VIGIL_SERVER_INGEST_H

#include <jansson.h>
#include <stdint.h>

#include "access/audit.h"
#include "access/policy.h"
#include "intel/profile.h"
#include "stix/stix.h"
#include "store/store.h"

/* The objects of many reports, audited as one entry (ingest_actor.audit_into): an import. */
struct ingest_audit {
    struct audit_list list; /* access/audit.h: count, digest, the first ten */
    vtime_t first, last;    /* date_added of the first and last object stored */
};

/* Who writes: a partner's user. */
struct ingest_actor {
    int64_t partner;
    int64_t user;
    int default_tlp;
    const char *identity_id;  /* the partner's STIX identity (created_by_ref of reports) */
    const char *partner_name; /* shown in report documents */
    const char *user_name;    /* shown in the history of violations it withdraws; may be NULL */
    bool audit_later; /* ingest_store leaves the audit entry to ingest_audit_batch() */
    /* When set, ingest_report adds each object it stores here instead of appending an audit
     * entry per object; the caller appends one entry for all (ingest_audit_finish). */
    struct ingest_audit *audit_into;
};

/* Why an object was refused: its id belongs to another partner (STIX 2.1 3.6: only the
 * creator versions an object; observables excepted), or this version is stored already with
 * other content. */
#define INGEST_TAKEN                                                                               \
    "this id belongs to another partner: only the partner that created an object may add"          \
    " versions of it (use an id of your own)"
#define INGEST_DIFFERS                                                                             \
    "this version (id and modified) is stored already with other content: a change needs a"       \
    " later modified"

/* Room for ingest_ref(): an id (a type of up to 250 characters, "--", a UUID) and a version. */
#define INGEST_REF_SZ 384

/* One STIX object on its way into the store. */
struct ingest_item {
    json_t *obj; /* borrowed */
    struct store_object_in in;
    char *json;        /* the serialised object (owned) */
    const char *error; /* why it was refused, or NULL */
    char msg[STIX_MSG_SZ];
    enum store_put_outcome outcome;
    vtime_t date_added;      /* of the stored version (0 when it was refused) */
    char ref[INGEST_REF_SZ]; /* ingest_ref() */
};

/* Validates and serialises obj (borrowed; must outlive the item). An invalid object gets
 * it->error and is skipped by ingest_store(). */
void ingest_prepare(struct ingest_item *it, json_t *obj, int64_t owner);
void ingest_item_release(struct ingest_item *it);

/* "\"id\":\"…\",\"version\":\"…\"": the valid object as a TAXII status and the audit list it.
 * Formatted by ingest_prepare() when the object has a version, else (an SCO, whose version
 * is its date_added) once it is stored. */
const char *ingest_ref(struct ingest_item *it);

/* Stores a prepared object in collection coll: handling from its markings, the put, the
 * report index when it carries the Vigil extension, the audit entry. A refusal that concerns
 * only this object (another partner's object id) sets it->error and returns 0; a store
 * failure returns its code. */
int ingest_store(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                 struct ingest_item *it);
/* ingest_store of items[0..n) in their order, with the same outcomes and effects: the objects
 * are put in one store_txn_objects_put (one round trip for an envelope's new ids on
 * PostgreSQL), then what follows each, in order. A store failure returns its code. */
int ingest_store_all(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                     struct ingest_item *items, size_t n);

/* Appends ONE audit entry for the objects of items[0..n) that were stored (those whose
 * outcome is STORE_PUT_ADDED), for callers that set actor->audit_later: a whole TAXII envelope
 * is then one entry instead of one per object, bounded like a read's (access/audit.h
 * audit_list: count, digest, the first ten, and the date_added range of the objects written).
 * No entry when nothing was stored. */
int ingest_audit_batch(struct store_txn *t, const struct ingest_actor *a, struct ingest_item *items,
                       size_t n);

/* After some of partner owner's versions of id were deleted (by user user_name): when the
 * newest one went and the id is an indexed report, its index row (and the event of it) become
 * the version now newest, as a correction would (by that user, for the history of the
 * violations it withdraws the report from). Nothing when the newest stayed or nothing is
 * left. */
int ingest_reindex(struct store_txn *t, int64_t coll, const char *id, int64_t owner,
                   const char *partner_name, int64_t user, const char *user_name);

/* After partner owner's versions of object id were deleted inside t (TAXII DELETE, by user
 * user_name): what was derived from a report that has no version left follows it (its place
 * in violations' evidence; the candidates it alone supports; the violations the coordination
 * center took up are kept, flagged: compliance_report_deleted). The alert service follows
 * deletions on its own (the store logs them). Returns 0 or a store error. */
int ingest_deleted(struct store_txn *t, const char *id, int64_t owner, int64_t user,
                   const char *user_name);

/* Appends the ONE audit entry of a->audit_into (action, object as given; fields: JSON
 * members describing the entry, or ""), with its date_added range, and releases the list. No
 * entry when nothing was stored. */
int ingest_audit_finish(struct store_txn *t, const struct ingest_actor *a, const char *action,
                        const char *object, const char *fields);

#define INGEST_MSG_SZ 256

/* Stores an event report (as the STIX objects of the Vigil profile) with the handling named by
 * r->marking and r->group. A report gets a random id, except that a report with the
 * source_ref of one the partner has stored already gets that report's id, so importing the
 * same record twice stores it once (STORE_PUT_EXISTS when nothing changed; a new version when
 * the record did). On success *doc (unless doc is NULL) is a new reference to the report as
 * the REST API shows it. VIGIL_EINVAL with msg for an unknown marking or group or a report the
 * profile refuses; VIGIL_EPERM or VIGIL_ECONFLICT with msg when an id it needs is taken
 * (INGEST_TAKEN, INGEST_DIFFERS). */
int ingest_report(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                  const struct event_report *r, enum store_put_outcome *outcome, json_t **doc,
                  char msg[INGEST_MSG_SZ]);

/* A report's documents built ahead, without the store (on another thread than the
 * writer's): the REST document, the report SDO and, with a point, the location SDO, as
 * ingest_report writes them, under a new random id and for the handling assumed. The
 * buffers are the caller's (init once, reused, release at the end). */
struct ingest_prebuilt {
    char id[80];
    struct store_acl acl; /* the handling assumed */
    char gm[80];          /* its group's marking-definition id, or "" */
    vtime_t now;          /* created and modified: the objects' version */
    char lid[64];
    struct buf text, rep, loc;
    int rc; /* 0, or VIGIL_EINVAL (the profile refused r) with msg */
    char msg[INGEST_MSG_SZ];
};
void ingest_prebuilt_init(struct ingest_prebuilt *pb);
void ingest_prebuilt_release(struct ingest_prebuilt *pb);
/* Builds pb for r (as ingest_report_built will get it) and a's partner, handled as acl with
 * group marking gm (NULL: none). Thread-safe: reads neither the store nor anything shared but
 * a's strings. Returns pb->rc. */
int ingest_prebuild(const struct event_report *r, const struct ingest_actor *a,
                    const struct store_acl *acl, const char *gm, struct ingest_prebuilt *pb);
/* ingest_report, with the documents of pb (may be NULL) when they fit: a new report (no
 * earlier one of its source record) whose handling is the one pb assumed. Otherwise builds
 * its own. The same outcome, objects and messages as ingest_report either way. */
int ingest_report_built(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                        const struct event_report *r, struct ingest_prebuilt *pb,
                        enum store_put_outcome *outcome, json_t **doc, char msg[INGEST_MSG_SZ]);

#endif
