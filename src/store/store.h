/* store.h - Vigil's storage interface.
 *
 * Everything Vigil keeps lives behind these functions: STIX objects with all their versions,
 * collections, partners, users and tokens. Two backends implement this header, chosen at run
 * time by the store's location (store_open): SQLite in a data directory (src/store/sqlite/,
 * the embedded default) and PostgreSQL at a postgresql:// URI (src/store/pg/), which several
 * `vigil serve` processes may share. src/store/store_gen.c sends each call to the backend of
 * its first argument (scripts/gen-store-ops.py, docs/ARCHITECTURE.md).
 *
 * Writes. In each process one writer thread owns the writing connection. A caller hands it a
 * function (store_write) that runs ON THE WRITER THREAD inside a transaction, using the
 * store_txn_* functions; the caller blocks until the transaction holding its work is durable.
 * The writer group-commits: it runs every function queued since the last commit in one
 * transaction, each inside its own savepoint, so one caller's failure rolls back only that
 * caller's work. A caller is told its result only after the commit. Transactions that write
 * commit in one order across every process sharing the store (PostgreSQL: they take one
 * advisory lock), so rows numbered in a transaction (seq, date_added) become visible in the
 * order of their numbers: a reader that has seen n never later finds a new row below n.
 *
 * Reads. store_read_begin() lends a read-only connection holding one consistent snapshot
 * until store_read_end(). Readers never block the writer, nor each other.
 *
 * Time is vtime_t (microseconds since the epoch, base/timestamp.h).
 * Strings returned in structs filled by read functions borrow from the reader and stay valid
 * until the next call on that reader or store_read_end(), unless said otherwise.
 */
#ifndef VIGIL_STORE_STORE_H
#define VIGIL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/timestamp.h"

struct store;
struct store_txn;
struct store_reader;

#define STORE_MSG_SZ 256

struct store_options {
    unsigned read_connections; /* read-only connections lent to readers (default 8) */
    /* A process that opens the store for one large write (`vigil import` of a large file):
     * SQLite keeps the store in a rollback journal while this process has it open, if no other
     * connection uses it at the open, so that the pages are written once (the journal holds
     * the originals of the pages the write changes, none for the new ones) instead of to the
     * WAL and again to the database at its checkpoint. Commits stay atomic and durable
     * (synchronous=FULL); while such a transaction runs, other processes can neither read nor
     * open the store (they wait, then fail: SQLITE_BUSY). WAL again at store_close, or at the
     * next open after a crash. PostgreSQL ignores it. */
    bool bulk_load;
};

/* For a long-running process, before its first store_open: the storage engine's page caches
 * take their pages from one pool of fixed-size lines (40 MiB: the writer's cache and room for
 * the readers'), mapped once and resident from then on, instead of from malloc. Every read
 * transaction after a commit starts with an empty cache and fills it again, page by page;
 * through malloc that churn (hundreds of 4 KiB blocks a second on every request thread, among
 * the requests' own buffers) fragmented glibc's arenas, and the daemon's peaks grew with time
 * (docs/BENCHMARKS.md, Soak). Pages past the pool come from malloc. Returns 0, VIGIL_ESTORE
 * when the engine has started already or VIGIL_EIO when the pool cannot be mapped (the caches
 * then stay on malloc). kib: the pool's size, 0 for the default; a bulk import gives the size
 * its writer's cache will reach (cli_data.c), whose pages then cost no malloc each. */
int store_page_pool(int64_t kib);

/* Opens (creating if needed) the store at location and starts its writer thread: a directory
 * (SQLite, DIR/vigil.db) or a libpq URI "postgresql://USER@HOST:PORT/DB" (host=/path in its
 * query for a unix socket; the database must exist). Applies pending schema migrations.
 * Returns 0 and *out, or a VIGIL_E* code with msg set. */
int store_open(const char *location, const struct store_options *opt, struct store **out,
               char msg[STORE_MSG_SZ]);
/* Finishes queued writes, stops the writer and closes every connection. NULL is a no-op. */
void store_close(struct store *s);
/* Bytes of memory the store holds now: the storage engine's page caches (the page pool's
 * lines in use included) and statements (bounded by the caches' sizes, which fill as a store
 * is used) and the filter of the stored ids (1.5 to 3 bytes per distinct id, new versions of
 * an object adding nothing), whose part goes to *id_filter unless it is NULL. */
int64_t store_memory_used(struct store *s, int64_t *id_filter);
/* The schema version the store is at. */
int store_schema_version(struct store *s);
/* Runs SQLite's integrity check; 0 when the store is sound, VIGIL_ESTORE with msg otherwise. */
int store_check(struct store *s, char msg[STORE_MSG_SZ]);

/* ---- writes ---------------------------------------------------------------------------- */

/* Runs on the writer thread inside a transaction; returns 0 to keep its work or a negative
 * code to have it rolled back. */
typedef int (*store_txn_fn)(struct store_txn *t, void *arg);

/* Queues fn and waits until it has run and its transaction is durable. Returns fn's result,
 * or VIGIL_ESTORE when the commit failed (nothing of fn's work is kept), or
 * VIGIL_ESHUTDOWN when the store is closing. */
int store_write(struct store *s, store_txn_fn fn, void *arg);

/* Queues fn without waiting (for records such as read audits, where the caller must not
 * wait for a disk flush). The writer runs it like any job, then calls done(arg) (may be
 * NULL) after the commit, with fn's result or VIGIL_ESTORE. Returns VIGIL_ESHUTDOWN (and
 * does not call done) when the store is closing. */
int store_write_async(struct store *s, store_txn_fn fn, void *arg, void (*done)(void *arg, int rc));

/* ---- collections ----------------------------------------------------------------------- */

struct store_collection {
    int64_t id;
    const char *uuid; /* TAXII collection id */
    const char *name; /* short name: "reports", "alerts", "compliance" */
    const char *title;
    const char *description;
    bool partner_writable; /* partners may add objects; else only the hub writes */
};

/* Creates a collection; VIGIL_EEXIST when the name is taken. */
int store_txn_collection_add(struct store_txn *t, const char *name, const char *title,
                             const char *description, bool partner_writable, int64_t *id);
/* Calls fn for every collection, ordered by id; stops at fn's first nonzero result. */
int store_collections(struct store_reader *r,
                      int (*fn)(void *ctx, const struct store_collection *c), void *ctx);
/* Finds a collection by its uuid or its name. VIGIL_ENOENT when there is none. */
int store_collection_find(struct store_reader *r, const char *uuid_or_name,
                          struct store_collection *out);

/* ---- STIX objects ---------------------------------------------------------------------- */

/* Handling of an object as the access policy needs it (see access/policy.h). */
struct store_acl {
    int64_t owner; /* submitting partner */
    int tlp;       /* enum tlp_level of access/policy.h */
    int64_t group; /* sharing group, 0 for none */
};

/* True when a and b are the same handling (field by field: padding is not compared). */
static inline bool store_acl_same(const struct store_acl *a, const struct store_acl *b)
{
    return a->owner == b->owner && a->tlp == b->tlp && a->group == b->group;
}

struct store_object_in {
    const char *id;
    const char *type;
    const char *spec_version;
    vtime_t version; /* modified, else created; 0 for objects without either (SCOs) */
    struct store_acl acl;
    const char *json; /* the object, serialised */
    size_t json_len;
};

enum store_put_outcome {
    STORE_PUT_ADDED,       /* a new version was stored, and is the newest */
    STORE_PUT_EXISTS,      /* this id + version was already stored: nothing changed */
    STORE_PUT_ADDED_OLDER, /* a version older than the newest arrived late and was stored;
                            * the newest stays the object's current state */
};

/* Stores one object version in collection coll, stamping it with a date_added later than
 * every date_added before it. A versioned object (o->version != 0: SDOs, SROs, markings)
 * belongs to the partner that first stored its id (STIX 2.1 3.6: only its creator versions
 * it): VIGIL_EPERM when another partner holds the id, whether or not the submitter may read
 * it, and nothing is stored. Observables (version 0), whose ids derive from their value, are
 * the exception: each partner keeps its own record of such an id beside the others'.
 * Re-putting an existing id + version of the same partner with the same content (as JSON) is
 * not an error (*outcome = STORE_PUT_EXISTS); with other content it is VIGIL_ECONFLICT (a
 * change needs a new `modified`). */
int store_txn_object_put(struct store_txn *t, int64_t coll, const struct store_object_in *o,
                         enum store_put_outcome *outcome, vtime_t *date_added);
/* store_txn_object_put of objs[0..n) in their order, with the same outcomes: an id repeated
 * in objs meets its earlier versions, and date_added increases in the order of objs. Each
 * object's own result goes to rcs[i]: 0 (outcomes[i] set, and date_added[i], 0 for
 * STORE_PUT_EXISTS), VIGIL_EPERM or VIGIL_ECONFLICT (nothing stored). Returns 0, or an error
 * that fails the whole job (the store's: rcs then say nothing). PostgreSQL sends the objects
 * of ids the collection does not hold yet together, one round trip per STORE_PUT_BATCH (libpq
 * pipeline mode); SQLite puts them one by one. */
#define STORE_PUT_BATCH 256
int store_txn_objects_put(struct store_txn *t, int64_t coll,
                          const struct store_object_in *const *objs, size_t n,
                          enum store_put_outcome *outcomes, vtime_t *date_added, int *rcs);
/* found[i]: whether the report index, a violation or a violation's evidence names report
 * ids[i] of partner owners[i]. When none does, what ingest does for an object that is not (or
 * no longer) an event report, undoing its report's index row and violations, has nothing to
 * undo. PostgreSQL looks all of them up in one round trip; SQLite, whose look-ups cost none,
 * answers true for each (the caller then does what it would without asking). */
int store_txn_reports_traced(struct store_txn *t, const char *const *ids, const int64_t *owners,
                             size_t n, bool *found);
/* Deletes partner owner's versions of an object: all of them when nversions is 0, else those
 * listed; with the last version goes its report index row. Sets *deleted to the number
 * removed (0 is not an error). */
int store_txn_object_delete(struct store_txn *t, int64_t coll, const char *id, int64_t owner,
                            const vtime_t *versions, size_t nversions, size_t *deleted);

/* One stored object version, as read. */
struct store_object {
    const char *id;
    const char *type;
    const char *spec_version;
    vtime_t version;
    vtime_t date_added;
    struct store_acl acl;
    const char *json;
    size_t json_len;
};

enum store_version_match {
    STORE_VER_LAST = 1,  /* the newest version of each id */
    STORE_VER_FIRST = 2, /* the oldest version of each id */
    STORE_VER_ALL = 4,   /* every version */
};

/* A filtered, ordered (by date_added), paged scan of one collection. */
struct store_query {
    int64_t coll;
    vtime_t added_after;    /* only objects added strictly after; 0 = no bound */
    const char *const *ids; /* match any of these ids; nids 0 = any */
    size_t nids;
    const char *const *types;
    size_t ntypes;
    const char *const *spec_versions;
    size_t nspec_versions;
    unsigned version_match;  /* STORE_VER_* bits; 0 means STORE_VER_LAST */
    const vtime_t *versions; /* and/or these exact versions */
    size_t nversions;
    size_t limit;     /* most objects to emit; 0 = no limit */
    size_t max_bytes; /* end the page once the emitted JSON reaches this; 0 = no bound */
    /* The read policy (access/policy.h policy_visible): rows for which it returns false are
     * skipped as if they did not exist (neither emitted nor counted). An earlier version is
     * shown only to a reader who may read both it and the newest version of its owner: a
     * correction to a stricter marking withdraws the earlier ones from the others. NULL sees
     * nothing: every read names its reader (the hub's own, POLICY_SYSTEM). */
    bool (*visible)(void *ctx, const struct store_acl *acl);
    void *visible_ctx;
};

struct store_page {
    size_t count;        /* objects emitted */
    bool more;           /* another visible object follows the page */
    vtime_t first_added; /* date_added of the first and last emitted object */
    vtime_t last_added;
};

/* Runs q, calling emit for each visible object in date_added order until q->limit objects
 * (or q->max_bytes of JSON) have been emitted; emit's nonzero result stops the scan and is
 * returned. */
int store_objects_query(struct store_reader *r, const struct store_query *q,
                        int (*emit)(void *ctx, const struct store_object *o), void *ctx,
                        struct store_page *page);

/* ---- event report index ---------------------------------------------------------------- */

/* The searchable fields of an event report (the Vigil profile's report object), kept beside
 * the STIX store so that place, time and code queries never parse JSON. One row per report id
 * and owner: a newer version replaces the row. */
struct store_report_in {
    const char *id;         /* the STIX report id */
    struct store_acl acl;
    const char *event;      /* PLOVER event type */
    const char *mode;       /* PLOVER mode, or "" */
    bool future;
    vtime_t start, end;
    bool has_point;
    double lat, lon, precision_m;
    const char *area;       /* named area, or "" */
    char reliability;       /* 'A'..'F' */
    int credibility;        /* 1..6 */
    const char *source_ref; /* "acled:...", or "" */
    const char *target;     /* the category of who was struck: "civilians", or "" (unknown) */
    const char *text;       /* title and description, for text search */
    const char *doc;        /* the report as the REST API shows it (JSON text) */
};

/* Adds or replaces the index row of a report. */
int store_txn_report_index(struct store_txn *t, const struct store_report_in *r);
/* Drops the index row of report id of owner, if any (its newest version is no event report
 * any more): logged as a withdrawal, its events withdrawn, as for a deletion. */
int store_txn_report_unindex(struct store_txn *t, const char *id, int64_t owner);
/* The id (into id[80]) and document (*doc, borrowed) of the report that partner `owner`
 * submitted with source_ref; VIGIL_ENOENT when there is none (re-imports use it to avoid
 * duplicates). */
int store_report_by_source(struct store_reader *r, int64_t owner, const char *source_ref,
                           char id[80], const char **doc);

struct store_report_query {
    bool has_bbox;
    double min_lat, min_lon, max_lat, max_lon;
    vtime_t since, until;   /* events overlapping [since, until]; 0 = unbounded */
    const char *event;      /* NULL = any */
    const char *mode;
    int future;             /* -1 any, 0 observations, 1 warnings */
    int64_t partner;        /* owner, 0 = any */
    char max_reliability;   /* 'A'..'F': at least this reliable; 0 = any */
    int max_credibility;    /* 1..6; 0 = any */
    const char *text;       /* substring of title/description, NULL = any */
    /* keyset: continue after (after_start, after_seq) in (start DESC, seq DESC) order */
    bool has_after;
    vtime_t after_start;
    int64_t after_seq;
    size_t limit;
    /* The read policy, as in store_query: NULL sees nothing. */
    bool (*visible)(void *ctx, const struct store_acl *acl);
    void *visible_ctx;
};

struct store_report {
    int64_t seq;
    const char *id;
    struct store_acl acl;
    vtime_t start;
    const char *doc;
};

/* An index row with every field, for the fusion engine (fields as in store_report_in). */
struct store_report_row {
    int64_t seq;
    const char *id;
    struct store_acl acl;
    const char *event, *mode;
    bool future;
    vtime_t start, end;
    bool has_point;
    double lat, lon, precision_m;
    const char *area;
    char reliability;
    int credibility;
    const char *source_ref;
    int fatalities, injured; /* from the report's document; -1 when unknown */
    const char *target;      /* store_report_in's target: "civilians", or "" */
    vtime_t added;           /* when the hub accepted the row as it is now (0: not known) */
};

/* The highest seq of the report index and the highest n of its withdrawals (0 when none). */
int store_reports_head(struct store_reader *r, int64_t *seq, int64_t *withdrawn);
/* Calls fn for the index rows with seq > after that visible lets through (NULL: none),
 * ascending by seq, at most limit rows read (0: all). */
/* Calls fn with the seq of each of the newest n index rows that visible lets through, newest
 * first, reading only each row's seq and handling. */
int store_reports_newest(struct store_reader *r, size_t n,
                         bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                         void (*fn)(void *ctx, int64_t seq), void *ctx);
int store_reports_after(struct store_reader *r, int64_t after, size_t limit,
                        bool (*visible)(void *ctx, const struct store_acl *acl),
                        void *visible_ctx,
                        int (*fn)(void *ctx, const struct store_report_row *row), void *ctx);
/* Calls fn for the index rows with seq <= max_seq that visible lets through (NULL: none), in
 * event-time order (start, seq) after (after_start, after_seq), at most limit rows read (0:
 * all): a history given to the engine as it happened (the time index). */
int store_reports_by_time(struct store_reader *r, vtime_t after_start, int64_t after_seq,
                          int64_t max_seq, size_t limit,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx);
/* Calls fn for the index rows whose seq is one of seqs[0..n) that visible lets through (NULL:
 * none), in event-time order (start, seq), each row once; a seq with no row is skipped: the
 * rows a caller holds the seqs of, read at once (one query; on PostgreSQL one round trip).
 * fn's nonzero result stops and is returned. A caller that reads a long list in event order
 * gives it in slices of that order. */
int store_reports_by_seqs(struct store_reader *r, const int64_t *seqs, size_t n,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx);
/* The rows of a neighbourhood, for an engine that holds only part of the index and must
 * take back what a late report reaches (the alert service's engine, docs/FUSION.md). */
struct store_report_window {
    bool has_bbox;  /* rows with a point in the box (the R*Tree); else every row of the period */
    bool unlocated; /* without a box: only the rows without a point */
    double min_lat, min_lon, max_lat, max_lon;
    vtime_t t0, t1;      /* rows whose window [start, end] meets [t0, t1] ... */
    vtime_t longest_us;  /* ... of which none is longer than this (the time index's lookback) */
    int64_t max_seq;     /* rows with seq <= max_seq only */
};
/* Calls fn for the index rows of the window q that visible lets through (NULL: none), in no
 * particular order; fn's nonzero result stops and is returned. */
int store_reports_window(struct store_reader *r, const struct store_report_window *q,
                         bool (*visible)(void *ctx, const struct store_acl *acl),
                         void *visible_ctx,
                         int (*fn)(void *ctx, const struct store_report_row *row), void *ctx);
/* Calls fn for the withdrawals numbered n > after, in order, at most limit (0: all): the row
 * of report seq was replaced by a correction (which keeps the seq; `now` is the row as it is
 * now) or deleted (`now` is NULL, as it is for a row visible does not let through, or when
 * visible is NULL). What was derived from its earlier content must go. */
int store_reports_withdrawn_after(struct store_reader *r, int64_t after, size_t limit,
                                  bool (*visible)(void *ctx, const struct store_acl *acl),
                                  void *visible_ctx,
                                  int (*fn)(void *ctx, int64_t n, int64_t seq,
                                            const struct store_report_row *now),
                                  void *ctx);

/* ---- alert lifecycle ------------------------------------------------------------------- */

/* An alert's lifecycle, kept by its situation key so that it survives the engine being rebuilt
 * from the reports at start. history is JSON: [{"from","to","who","at"}...]. */
int store_txn_alert_state(struct store_txn *t, const char *key, const char *status,
                          const char *history);
/* The stored lifecycle of key: *status and *history borrow from r. VIGIL_ENOENT if none. */
int store_alert_state(struct store_reader *r, const char *key, const char **status,
                      const char **history);

/* One partner's triage of an alert (its situation key): never shown to another partner. */
struct store_alert_triage {
    const char *assignee;  /* a user name, or "" */
    const char *status_by; /* the partner's user who last changed the status, or "" */
    vtime_t status_at;     /* when (0: never) */
    const char *comments;  /* JSON array [{"by","at","text"}] */
};
/* Replaces partner's triage of key. */
int store_txn_alert_triage_put(struct store_txn *t, const char *key, int64_t partner,
                               const struct store_alert_triage *tr);
/* Partner's triage of key into *out (its strings borrow from r); VIGIL_ENOENT when none. */
int store_alert_triage(struct store_reader *r, const char *key, int64_t partner,
                       struct store_alert_triage *out);
/* An alert's situation key changed from `from` to `to` (a renamed escalation episode): its
 * lifecycle and every partner's triage move to `to`, but for what `to` already has, which
 * stays; nothing is left under `from`. Doing it twice changes nothing. */
int store_txn_alert_rekey(struct store_txn *t, const char *from, const char *to);

/* A service's durable mark (e.g. how far the alert service has published), set in the
 * transaction whose effects it marks. Returns 0 or a store error. */
int store_txn_mark_set(struct store_txn *t, const char *name, int64_t value);
/* The mark's value into *value; VIGIL_ENOENT (and *value 0) when it was never set. */
int store_mark_get(struct store_reader *r, const char *name, int64_t *value);

/* A service's saved state (restart2, issue #20: the alert engine's state at a watermark, so
 * that a start reads the reports after it only): replaced whole, in the transaction whose
 * effects it accounts for. mark is the caller's (e.g. the last report seq the state holds);
 * data[0..len) is opaque here. The state is a cache the service can rebuild from the reports:
 * `vigil store copy` does not carry it. Returns 0 or a store error. */
int store_txn_service_state_put(struct store_txn *t, const char *name, int64_t mark,
                                const void *data, size_t len);
/* Forgets the service's saved state, if any. Returns 0 or a store error. */
int store_txn_service_state_drop(struct store_txn *t, const char *name);
/* The saved state of name: its mark and a copy of its bytes (*data, NUL-terminated, the
 * caller frees; *len). VIGIL_ENOENT (*data NULL) when none was saved. */
int store_service_state(struct store_reader *r, const char *name, int64_t *mark, void **data,
                        size_t *len);

/* Emits the index rows of report id (one per owner that submitted that id) that pass
 * visible (NULL: none); emit's nonzero result stops and is returned. */
int store_report_get(struct store_reader *r, const char *id,
                     bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                     int (*emit)(void *ctx, const struct store_report *rep), void *ctx);

/* Emits matching visible reports, newest event first. Sets *more when another visible
 * report follows the page. */
int store_reports_query(struct store_reader *r, const struct store_report_query *q,
                        int (*emit)(void *ctx, const struct store_report *rep), void *ctx,
                        bool *more);

/* ---- TAXII status resources ------------------------------------------------------------ */

/* Keeps a status resource (json, serialised) under its id for the partner that caused it. */
int store_txn_status_put(struct store_txn *t, const char *id, int64_t partner, const char *json);
/* Reads a status resource; *json borrows from the reader. VIGIL_ENOENT when unknown. */
int store_status_get(struct store_reader *r, const char *id, int64_t *partner, const char **json);

/* ---- partners, users, tokens ----------------------------------------------------------- */

struct store_partner {
    int64_t id;
    const char *name;
    const char *identity_id; /* STIX identity--UUID */
    bool coordinator;        /* the coordination center */
    int default_tlp;
    vtime_t created;
};

int store_txn_partner_add(struct store_txn *t, const char *name, const char *identity_id,
                          bool coordinator, int default_tlp, int64_t *id);
int store_partner_find(struct store_reader *r, const char *name, struct store_partner *out);
int store_partner_get(struct store_reader *r, int64_t id, struct store_partner *out);

struct store_user {
    int64_t id;
    int64_t partner;
    const char *name;
    const char *role;          /* admin, analyst, reporter, reader */
    const char *password_hash; /* argon2id encoded, or "" when none is set */
    bool disabled;
    vtime_t created;
};

int store_txn_user_add(struct store_txn *t, int64_t partner, const char *name, const char *role,
                       const char *password_hash, int64_t *id);
int store_user_find(struct store_reader *r, const char *name, struct store_user *out);

#define STORE_TOKEN_HASH_LEN 32

struct store_token_in {
    int64_t user;
    unsigned char hash[STORE_TOKEN_HASH_LEN]; /* SHA-256 of the token; the token is not kept */
    bool read_only;
    vtime_t expires; /* 0 = never */
    const char *label;
};

int store_txn_token_add(struct store_txn *t, const struct store_token_in *tok, int64_t *id);

/* What a token stands for, joined with its user and partner. */
struct store_auth {
    int64_t token_id;
    int64_t user_id;
    const char *user_name;
    const char *role;
    int64_t partner_id;
    bool coordinator;
    int default_tlp;
    bool read_only;
    bool revoked;
    bool disabled;
    vtime_t expires;
};

/* Looks up a token by its hash. VIGIL_ENOENT when unknown. */
int store_token_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                       struct store_auth *out);

/* Lists partners ordered by id; stops at fn's first nonzero result. */
int store_partners(struct store_reader *r, int (*fn)(void *ctx, const struct store_partner *p),
                   void *ctx);
/* Lists users ordered by id, of one partner (partner > 0) or all (partner 0). */
int store_users(struct store_reader *r, int64_t partner,
                int (*fn)(void *ctx, const struct store_user *u), void *ctx);
int store_user_get(struct store_reader *r, int64_t id, struct store_user *out);
/* Replaces a user's password hash and ends the user's dashboard sessions. VIGIL_ENOENT when
 * there is no such user. */
int store_txn_user_set_password(struct store_txn *t, int64_t user, const char *password_hash);
/* Disables a user (disabled) or enables it again. Disabling ends the user's dashboard sessions
 * and gives up the pending deliveries of the user's webhooks; a disabled user's tokens,
 * sessions and webhooks are refused while it stays so (access/auth.c, access/events.c).
 * VIGIL_ENOENT when there is no such user. */
int store_txn_user_set_disabled(struct store_txn *t, int64_t user, bool disabled);

struct store_token {
    int64_t id;
    int64_t user;
    const char *user_name;
    const char *label;
    bool read_only;
    bool revoked;
    vtime_t expires;
    vtime_t created;
};

/* Lists tokens (never their hashes) of one partner's users (partner > 0) or all (0). */
int store_tokens(struct store_reader *r, int64_t partner,
                 int (*fn)(void *ctx, const struct store_token *t), void *ctx);
/* Revokes a token; when partner > 0 only a token of that partner's users. VIGIL_ENOENT when
 * there is no such token (for that partner). */
int store_txn_token_revoke(struct store_txn *t, int64_t token, int64_t partner);

/* ---- sharing groups -------------------------------------------------------------------- */

struct store_group {
    int64_t id;
    const char *name;
    const char *marking_id; /* the group's STIX marking-definition id */
    int64_t owner;          /* the partner that created it */
    vtime_t created;
};

/* Creates a group. VIGIL_EEXIST when owner already has a group of that name, or the marking
 * id is taken (group names are unique per owner partner, not over the hub). */
int store_txn_group_add(struct store_txn *t, const char *name, const char *marking_id,
                        int64_t owner, int64_t *id);
/* Makes (partner, 0) or (0, user) a member of a group (in true) or not (in false); nothing
 * when it already is, or is not. */
int store_txn_group_member(struct store_txn *t, int64_t group, int64_t partner, int64_t user,
                           bool in);
/* Finds the group that `key` names for partner `partner` (or its user `user`; 0 for none):
 *  - a marking-definition id names its group, whoever it belongs to (the caller asks
 *    store_group_may_use whether partner may use it);
 *  - a name names partner's own group of that name if it has one, else the one group of that
 *    name of which partner or user is a member; other partners' groups are not looked at.
 * VIGIL_ENOENT when there is none; VIGIL_ECONFLICT when the name is that of several other
 * partners' groups that partner or user is in (their marking ids tell them apart). */
int store_group_find(struct store_reader *r, const char *key, int64_t partner, int64_t user,
                     struct store_group *out);
int store_groups(struct store_reader *r, int (*fn)(void *ctx, const struct store_group *g),
                 void *ctx);
/* Whether partner (or its user `user`) may share into a group: the group's owner partner, a
 * member partner, or a member user. Returns 1 (yes), 0 (no; also for no such group), or a
 * negative store error. */
int store_group_may_use(struct store_reader *r, int64_t group, int64_t partner, int64_t user);
/* Calls fn with each member of a group: (partner, 0) or (0, user). */
int store_group_members(struct store_reader *r, int64_t group,
                        int (*fn)(void *ctx, int64_t partner, int64_t user), void *ctx);
/* The groups that name partner as a member, and those that name user, each ascending.
 * *by_partner and *by_user are allocated (caller frees; NULL when empty). */
int store_groups_of(struct store_reader *r, int64_t partner, int64_t user, int64_t **by_partner,
                    size_t *np, int64_t **by_user, size_t *nu);

/* ---- audit log ------------------------------------------------------------------------- */

#define STORE_HASH_LEN 32

struct store_audit {
    int64_t seq; /* 1, 2, 3, ... */
    vtime_t time;
    int64_t partner;
    int64_t user;
    const char *action; /* e.g. "write", "read", "delete", "admin" */
    const char *object; /* what it concerns (object id, collection, user name) */
    const char *detail; /* JSON text */
    unsigned char prev[STORE_HASH_LEN];
    unsigned char hash[STORE_HASH_LEN];
};

/* Appends an entry with the given seq, prev and hash (computed by access/audit.c). */
int store_txn_audit_append(struct store_txn *t, const struct store_audit *e);
/* The newest entry's seq and hash; *seq 0 (hash zeroed) for an empty log. */
int store_audit_head(struct store_reader *r, int64_t *seq, unsigned char hash[STORE_HASH_LEN]);
/* Calls fn for entries with seq > after, ascending, of one partner (partner > 0) or all,
 * at most limit (0 = all). */
int store_audit_scan(struct store_reader *r, int64_t partner, int64_t after, size_t limit,
                     int (*fn)(void *ctx, const struct store_audit *e), void *ctx);

/* ---- dashboard sessions ---------------------------------------------------------------- */

int store_txn_session_add(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                          int64_t user, const char *csrf, vtime_t expires);
int store_txn_session_delete(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN]);
/* Looks a session up by the hash of its cookie; fills out like store_token_lookup (token_id
 * 0) and *csrf (borrowed). VIGIL_ENOENT when unknown or expired. */
int store_session_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                         struct store_auth *out, const char **csrf);

/* ---- the event log, webhooks, the outbox ----------------------------------------------- */

/* One published event: what the live stream and webhooks carry. Its acl is that of the
 * object it tells about, so the read policy filters it like the object. */
struct store_event {
    int64_t seq;
    vtime_t time;
    const char *kind; /* "report", "alert", "violation" */
    struct store_acl acl;
    const char *data; /* JSON text */
};

/* Appends an event; *seq receives its number (strictly increasing). A "report" event is about
 * the report whose id its data carries ("id"): when that report is corrected or deleted (its
 * index row replaced or dropped), its earlier events are withdrawn: no longer replayed, and
 * their pending webhook deliveries given up. */
int store_txn_event_add(struct store_txn *t, const char *kind, const struct store_acl *acl,
                        const char *data, int64_t *seq);
/* Calls fn for the events (not withdrawn) with seq > after, ascending, at most limit (0: all);
 * stops when fn returns non-zero, and returns what it returned. The caller applies the read
 * policy to each (an alert event is shown as each reader's view of the alert). */
int store_events(struct store_reader *r, int64_t after, size_t limit,
                 int (*fn)(void *ctx, const struct store_event *e), void *ctx);
/* The newest event's seq (0 when none). */
int store_event_head(struct store_reader *r, int64_t *seq);

struct store_webhook {
    int64_t id;
    int64_t user;
    const char *url;
    const char *secret; /* the HMAC key, as the subscriber gave or got it */
    const char *kinds;  /* comma-separated event kinds, or "" for all */
    bool disabled;
    vtime_t created;
};

int store_txn_webhook_add(struct store_txn *t, int64_t user, const char *url,
                          const char *secret, const char *kinds, int64_t *id);
/* Disables a webhook of user (or of anyone when user is 0). VIGIL_ENOENT when none. */
int store_txn_webhook_disable(struct store_txn *t, int64_t id, int64_t user);
/* Active webhooks (user 0: all users'), ascending by id. */
int store_webhooks(struct store_reader *r, int64_t user,
                   int (*fn)(void *ctx, const struct store_webhook *w), void *ctx);
/* The active webhooks of partner's users together, into *n. */
int store_webhooks_of_partner(struct store_reader *r, int64_t partner, int64_t *n);

enum store_outbox_state { OUTBOX_PENDING = 0, OUTBOX_DELIVERED = 1, OUTBOX_FAILED = 2 };

/* A delivery's id is its webhook's id << 32 plus its number among that webhook's deliveries
 * (1, 2, ... in the order queued), so that what a subscriber is shown of it counts only what
 * was queued for it, never other subscribers' deliveries or events it may not read (S3).
 * Rows queued before this numbering have ids below 1 << 32. */
#define STORE_OUTBOX_ID(hook, n) ((int64_t)(hook) * 4294967296LL + (n))
#define STORE_OUTBOX_N(id) ((id) >= 4294967296LL ? (id) % 4294967296LL : 0)

struct store_delivery {
    int64_t id;       /* the delivery id, stable across retries (STORE_OUTBOX_ID) */
    int64_t hook;     /* the webhook's id */
    int64_t partner;  /* the partner of the webhook's user */
    int64_t user;     /* the webhook's user */
    bool view;        /* event.data is the subscriber's own view, made when queued (payload) */
    int attempts;
    const char *url;
    const char *secret;
    struct store_event event;
};

/* Queues the delivery of event to webhook (once: a second queueing is a no-op), under the
 * webhook's next number (STORE_OUTBOX_ID; hook below 1 << 31). payload, when
 * not NULL, replaces the event's data for this delivery (an alert as this subscriber may see
 * it). */
int store_txn_outbox_add(struct store_txn *t, int64_t hook, int64_t event, vtime_t when,
                         const char *payload);
/* Pending deliveries due at `now`: the oldest due delivery of each webhook (by due time, then
 * id), and of those at most per_partner for the webhooks of one partner's users, oldest
 * first, at most limit. One webhook's backlog never hides another's, nor one partner's many
 * webhooks the other partners'. */
int store_outbox_due(struct store_reader *r, vtime_t now, size_t limit, size_t per_partner,
                     int (*fn)(void *ctx, const struct store_delivery *d), void *ctx);
/* Records a delivery attempt: delivered, or failed with an error and a next attempt time
 * (next 0: given up). */
int store_txn_outbox_result(struct store_txn *t, int64_t id, bool delivered, const char *error,
                            vtime_t next);

/* For one large write (an import of many rows in one transaction): the writer's page cache
 * may grow to kib KiB (0: back to the default) until it is set again. A transaction larger
 * than the cache spills pages to the WAL and writes many of them again (the indexes with
 * random keys: a leaf per row), and every page read past the cache then searches a WAL that
 * grows with the transaction (a million ACLED rows: 12% more CPU time with the default cache
 * than with 512 MiB, docs/BENCHMARKS.md). The pages come from malloc as the cache fills. */
int store_txn_cache_kib(struct store_txn *t, int64_t kib);

/* For one large write of many reports (an import): the report index's secondary indexes
 * and its R*Tree may be built once, at store_txn_reports_bulk_end, instead of one random
 * insert per report. `rows` is the number of reports the caller expects to add; the backend
 * defers only when that many rows make rebuilding from the whole index cheaper (SQLite: at
 * least 10,000 rows and as many as it holds). Everything happens in the caller's
 * transaction: readers never see the index without its indexes, and a failed write (no
 * bulk_end, the transaction rolled back) changes nothing. Until bulk_end the transaction's
 * own queries by time, event code or place miss the new reports: only look-ups by id and by
 * source record work. 0, or a negative VIGIL_E* code. */
int store_txn_reports_bulk_begin(struct store_txn *t, size_t rows);

/* Builds what store_txn_reports_bulk_begin deferred (nothing if it deferred nothing): the
 * indexes, sorted, and the R*Tree entries of the reports added since. 0, or VIGIL_ESTORE
 * (then the transaction must not commit). */
int store_txn_reports_bulk_end(struct store_txn *t);

/* Calls fn(ctx) on the writer thread after every commit that wrote something (to wake live
 * streams and the webhook sender). One hook; NULL removes it. Set before writes start. */
void store_set_commit_hook(struct store *s, void (*fn)(void *ctx), void *ctx);

/* Whether this process runs the hub's one-of-a-kind services now: the alert service's
 * publishing of alert events and the webhook sender. SQLite: always (one process serves it).
 * PostgreSQL: the one front-end holding the session advisory lock PG_LEADER_LOCK on a
 * connection of its own; the others try to take it every second, so when the holder dies
 * (kill -9 closes its connection) another takes over within about a second. */
bool store_leads(struct store *s);

/* ---- reads ----------------------------------------------------------------------------- */

/* A reader on the writer's own connection, for reads inside a transaction (they see the
 * transaction's own writes). Valid until fn returns; do not pass it to store_read_end(). */
struct store_reader *store_txn_reader(struct store_txn *t);

/* Lends a read-only connection with a fresh snapshot; blocks while all are lent. */
int store_read_begin(struct store *s, struct store_reader **out);
/* Ends the snapshot and returns the connection. NULL is a no-op. */
void store_read_end(struct store_reader *r);

/* ---- ceasefire compliance (S8) --------------------------------------------------------- */

/* An agreement as loaded from its file: the normalised document (JSON text, see
 * docs/COMPLIANCE.md) under its STIX grouping id. Loading an id again replaces it. */
struct store_agreement {
    int64_t seq;        /* grows with every load: a newer load has a larger seq */
    const char *id;     /* grouping--UUID */
    const char *name;
    const char *digest; /* hex SHA-256 of doc, so caches can tell versions apart */
    struct store_acl acl;
    vtime_t loaded;
    int64_t loaded_by; /* user */
    const char *doc;   /* "" when listed without documents */
};

/* Adds an agreement, or replaces the one with the same id. */
int store_txn_agreement_put(struct store_txn *t, const struct store_agreement *a);
/* Calls fn for every agreement, ordered by seq; doc is "" unless with_docs. Stops at fn's
 * first nonzero result and returns it. */
int store_agreements(struct store_reader *r, bool with_docs,
                     int (*fn)(void *ctx, const struct store_agreement *a), void *ctx);

/* A violation (candidate or verified): a prohibited act of a party in a zone, found in the
 * report `report` submitted by partner `report_owner`. */
struct store_violation {
    int64_t seq;
    const char *id; /* x-vigil-violation--UUID */
    const char *agreement, *zone, *party; /* agreement id, zone id, party name */
    const char *report;
    int64_t report_owner;
    const char *event, *mode; /* PLOVER; mode "" when none */
    vtime_t time;             /* event time (the report's start) */
    bool has_point;
    double lat, lon;
    const char *area;   /* named area, or "" */
    const char *status; /* reported, under_review, confirmed, not_confirmed, disputed */
    vtime_t created, updated;
    const char *detail; /* JSON text: names and the term that applied */
    /* When the report was withdrawn (deleted, or restricted by a correction) while the
     * violation was kept (0: it was not), and the handling the report had until then (owner
     * report_owner), which the kept violation's audience keeps. */
    vtime_t withdrawn;
    struct store_acl kept;
};

/* Inserts v (v->seq ignored; *created true), or, when v->id exists, updates everything but
 * its status and created time (*created false). Sets *seq. */
int store_txn_violation_put(struct store_txn *t, const struct store_violation *v, int64_t *seq,
                            bool *created);
/* Deletes a violation with its evidence, history and opinions. */
int store_txn_violation_delete(struct store_txn *t, int64_t seq);
/* Records that violation seq is kept although its report was withdrawn at time `at`: sets
 * its withdrawn time (and updated time) to at and its kept handling to kept's tlp and group.
 * VIGIL_ENOENT when there is none. */
int store_txn_violation_withdraw(struct store_txn *t, int64_t seq, vtime_t at,
                                 const struct store_acl *kept);
/* Sets a violation's status and updated time. VIGIL_ENOENT when there is none. */
int store_txn_violation_status(struct store_txn *t, int64_t seq, const char *status,
                               vtime_t updated);
/* Finds a violation by id. VIGIL_ENOENT when there is none. Strings borrow from r until the
 * next store_violation_get on r. */
int store_violation_get(struct store_reader *r, const char *id, struct store_violation *out);

struct store_violation_query {
    vtime_t since, until; /* time in [since, until); 0 = unbounded */
    const char *status;   /* NULL = any (likewise below) */
    const char *party;
    const char *zone;     /* zone id */
    const char *report;   /* trigger report id, with report_owner */
    int64_t report_owner;
};

/* Calls fn for matching violations ordered by (time, seq); stops at fn's first nonzero
 * result and returns it. fn must not call store_violations_query on r. */
int store_violations_query(struct store_reader *r, const struct store_violation_query *q,
                           int (*fn)(void *ctx, const struct store_violation *v), void *ctx);

/* One report given as evidence of a violation, with the handling it had when indexed. */
struct store_evidence {
    const char *report;
    struct store_acl acl;
    vtime_t added;
    int64_t added_by; /* user; 0 for the hub itself */
};

/* Adds evidence to violation seq; VIGIL_EEXIST when that report (and owner) is there. */
int store_txn_evidence_add(struct store_txn *t, int64_t violation, const struct store_evidence *e);
/* Gives every evidence row of report (submitted by acl->owner) the handling acl. */
int store_txn_evidence_set_acl(struct store_txn *t, const char *report,
                               const struct store_acl *acl);
/* Removes every evidence row of report (submitted by owner): the report was deleted. */
int store_txn_evidence_remove(struct store_txn *t, const char *report, int64_t owner);
/* Calls fn for each evidence row of violation seq, in the order added. */
int store_evidence(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_evidence *e), void *ctx);

/* One step of a violation's history: a transition (from != to) or a note (from == to). */
struct store_violation_step {
    vtime_t time;
    int64_t partner, user; /* 0 for the hub itself */
    const char *user_name;
    const char *from, *to; /* from "" for the creation */
    const char *reason;
};

int store_txn_violation_step_add(struct store_txn *t, int64_t violation,
                                 const struct store_violation_step *s);
/* Calls fn for each step of violation seq, oldest first. */
int store_violation_steps(struct store_reader *r, int64_t violation,
                          int (*fn)(void *ctx, const struct store_violation_step *s), void *ctx);

/* A partner's STIX opinion about a violation. */
struct store_opinion {
    vtime_t time;
    int64_t partner, user;
    const char *opinion; /* the STIX opinion-enum value */
    const char *json;    /* the STIX opinion object */
};

int store_txn_opinion_add(struct store_txn *t, int64_t violation, const struct store_opinion *o);
/* Calls fn for each opinion on violation seq, oldest first. */
int store_opinions(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_opinion *o), void *ctx);

/* ---- copying a hub to another store (vigil store copy) --------------------------------- */

/* One column's value, as the store keeps it. */
struct store_value {
    enum { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT, STORE_BLOB } type;
    int64_t i;
    double d;
    const char *s; /* text or blob bytes (borrowed), len bytes */
    size_t len;
};

/* The tables that make a hub, in an order that keeps references valid (a table comes after
 * those it refers to), NULL-terminated. Every backend keeps them with the same columns. */
const char *const *store_copy_tables(void);
/* Calls fn with every row of table (one of store_copy_tables; VIGIL_EINVAL for another):
 * its column names and values, in the table's own order. Stops at fn's nonzero result. */
int store_table_scan(struct store_reader *r, const char *table,
                     int (*fn)(void *ctx, size_t ncols, const char *const *cols,
                               const struct store_value *v),
                     void *ctx);
/* Inserts one row as store_table_scan gave it, numbers (seq, id) included. */
int store_txn_table_put(struct store_txn *t, const char *table, size_t ncols,
                        const char *const *cols, const struct store_value *v);
/* After rows were put with their numbers: the next number of each table continues after the
 * highest stored (PostgreSQL's sequences; SQLite needs nothing). */
int store_txn_numbers_reset(struct store_txn *t);

#endif
