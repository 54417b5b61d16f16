/* store_int.h - private to the SQLite store: connections, the statement cache, the writer.
 *
 * Lock order: writer.lock, then pool.lock; never both held while running SQL.
 */
#ifndef VIGIL_STORE_SQLITE_STORE_INT_H
#define VIGIL_STORE_SQLITE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/buf.h"
#include "store/sqlite/names.h" /* before store.h: its names become sqlite_... */
#include "store/store_ops.h"
#include "store/writer.h"

#define STMT_CACHE 48

/* One SQLite connection with its prepared statements, keyed by SQL text. */
struct store_reader {
    const struct store_ops *ops; /* first, as store.c expects: store_sqlite_ops */
    sqlite3 *db;
    struct {
        char *sql;
        const char *key; /* the caller's text last asked for it (a literal, mostly) */
        sqlite3_stmt *st;
        unsigned long used;
    } cache[STMT_CACHE];
    unsigned long tick;
    struct store *owner;
    bool in_pool; /* a pooled read connection (false: the writer's) */
};

struct store_txn {
    struct store_reader *conn; /* the writer connection; first, as store_gen.c expects */
    struct store *s;
    /* The report index row this job wrote last (reports.c), until the event of it is added
     * (events.c): an event showing exactly that document stores none of its own. Cleared at
     * each job's start and whenever a row is dropped. */
    struct {
        bool set;
        char id[80];
        int64_t owner;
        struct buf doc;
    } last_report;
    /* A bulk load of reports (store_txn_reports_bulk_begin, reports.c): the secondary
     * indexes dropped (their SQL kept to build them again) and the R*Tree entries of the
     * rows above `mark` left for the end. */
    struct {
        bool on;
        int64_t mark;
        size_t n_index;
        char index_sql[4][256];
    } bulk;
    /* The id rows (idh, seq) of the objects stored during a bulk load (objects.c): held here
     * instead of inserted into object_ids_new (a random key each), written into object_ids in
     * key order at the load's end. A hash by idh (chains of row indexes, -1 ends) serves the
     * writer's own look-ups meanwhile. Freed at the job's end; a rollback just drops them. */
    struct {
        bool on;
        struct held_id {
            int64_t idh, seq;
            int32_t next; /* the previous row of the same bucket, or -1 */
        } *rows;
        size_t n, cap;
        int32_t *heads; /* nbuckets of them, a power of two; -1: empty */
        size_t nbuckets;
    } held;
};

struct store {
    const struct store_ops *ops; /* first, as store.c expects: store_sqlite_ops */
    char *path;
    int schema_version;

    /* writer (store/writer.h; the hooks in writer.c) */
    struct store_reader wconn;
    struct store_writer w;
    struct store_txn txn;     /* the batch's (writer thread only) */
    vtime_t batch_added;      /* last_added when the batch began (writer thread only) */
    pthread_t ckpt;           /* the checkpointer, when ckpt_thread */
    bool ckpt_thread;
    bool rollback_journal; /* store_options.bulk_load took: no WAL until store_close */
    pthread_cond_t ckpt_cond; /* with w.lock: the WAL wants a checkpoint, or on stop */
    enum { CKPT_IDLE, CKPT_RUNNING, CKPT_CAUGHT_UP } ckpt_state; /* writer.c */
    vtime_t last_added;   /* newest date_added handed out (writer thread only) */
    long ids_new;         /* rows in object_ids_new, about (writer thread only) */
    int64_t data_version; /* PRAGMA data_version when the above were read */
    struct {              /* a Bloom filter of the stored ids (objects.c) */
        uint64_t *bits;   /* NULL until built */
        uint64_t nbits;   /* a power of two */
        long keys;
        bool failed;           /* could not be built: every put looks its id up */
        _Atomic int64_t bytes; /* its size, for store_memory_used on any thread */
    } idf;

    /* read pool */
    pthread_mutex_t plock;
    pthread_cond_t pcond;
    struct store_reader *pool;
    bool *pool_busy;
    unsigned npool;
};

/* Returns a reset prepared statement for sql on conn (cached), or NULL (logged) on error. */
sqlite3_stmt *conn_stmt(struct store_reader *conn, const char *sql);
/* conn_stmt() of a query of the rows after a key, in pages: ?1 is bound to after, ?2 to
 * limit (0: no limit). */
sqlite3_stmt *conn_stmt_after(struct store_reader *conn, const char *sql, int64_t after,
                              size_t limit);
/* Opens a connection to path with the store's pragmas. */
int conn_open(struct store_reader *conn, const char *path, bool readonly, char *msg);
void conn_close(struct store_reader *conn);
/* Resets every statement of conn that is still on a row, ending its implicit read. */
void conn_reset_all(struct store_reader *conn);
/* Executes SQL with no results; logs and returns VIGIL_ESTORE on failure. */
int conn_exec(struct store_reader *conn, const char *sql);

/* A column as text, "" for NULL. */
const char *col_text(sqlite3_stmt *st, int i);
/* Steps an INSERT and resets it; maps a uniqueness violation to VIGIL_EEXIST and sets *id
 * (may be NULL) to the new rowid. */
int step_insert(struct store_reader *c, sqlite3_stmt *st, int64_t *id);
/* Steps a single-row SELECT; VIGIL_ENOENT when it yields no row. The statement is left on
 * its row for the caller to read; the next conn_stmt() of it resets it. */
int step_row(struct store_reader *c, sqlite3_stmt *st);
/* Steps an UPDATE/DELETE and resets it; VIGIL_ESTORE on failure. */
int step_done(struct store_reader *c, sqlite3_stmt *st);

/* The key of a STIX id in the id index (schema.c, migration 6); vigil_idh() in SQL. */
int64_t store_idh(const void *id, size_t len);

/* Rebuilds the reports' R*Tree (reports_geo) packed, with the rows it holds and every located
 * report above mark, in the caller's transaction (geo_pack.c). */
int reports_geo_pack(struct store_reader *c, int64_t mark);

/* Frees the filter of the stored ids; the next put rebuilds it (objects.c). */
void idf_drop(struct store *s);

/* Moves the id index's new level into the main one once it is large enough (objects.c). Runs
 * first in the writer's transaction on c, before any savepoint; on failure the caller rolls
 * the transaction back (nothing else is in it yet). */
int objects_merge_ids(struct store *s, struct store_reader *c);
/* Id rows held during a bulk load (store_txn.held): start holding them; write those held into
 * object_ids in key order (0, or VIGIL_ESTORE); write them and stop; drop them and stop. */
void objects_hold_ids(struct store_txn *t);
int objects_held_flush(struct store_txn *t);
int objects_held_end(struct store_txn *t);
void objects_held_drop(struct store_txn *t);
/* Withdraws the "report" events of report id of owner (a correction or a deletion replaced
 * them): no longer replayed, their pending deliveries given up. */
int events_withdraw(struct store_reader *c, const char *id, int64_t owner);
/* Drops the report index row of (id, owner), logging the withdrawal, with its events. */
int reports_unindex(struct store_reader *c, const char *id, int64_t owner);

/* Reads what the writer keeps in memory about the store (writer.c): at open, and again when
 * another process wrote to it. */
int writer_state_load(struct store *s);

/* The writer's hooks (writer.c). */
extern const struct store_writer_hooks writer_hooks;
/* Applies schema migrations on the writer connection (schema.c). */
int schema_migrate(struct store *s, char *msg);

#endif
