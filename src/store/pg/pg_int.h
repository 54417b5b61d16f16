/* pg_int.h - private to the PostgreSQL store: connections, parameters, the writer.
 *
 * Lock order: writer.lock, then pool.lock; never both held while running SQL.
 */
#ifndef VIGIL_STORE_PG_PG_INT_H
#define VIGIL_STORE_PG_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/pg/names.h" /* before store.h: its names become pg_... */
#include "store/store_ops.h"
#include "store/writer.h"

/* Results whose strings a function lends out until its next call on the same reader (a
 * lookup of one row): one slot per function. Scans keep their result only while they run. */
enum pg_keep {
    KEEP_COLLECTION, KEEP_STATUS, KEEP_PARTNER, KEEP_USER, KEEP_AUTH, KEEP_SESSION,
    KEEP_GROUP, KEEP_REPORT_SOURCE, KEEP_ALERT_STATE, KEEP_ALERT_TRIAGE, KEEP_VIOLATION, KEEP_N
};

/* One connection: the writer's or a pooled reader's. */
struct store_reader {
    const struct store_ops *ops; /* first, as store_gen.c expects: store_pg_ops */
    PGconn *conn;
    struct store *owner;
    bool in_pool; /* a pooled read connection (false: the writer's) */
    bool failed;  /* a statement failed in the current job: its transaction is aborted */
    PGresult *keep[KEEP_N];
    /* Statements prepared on this connection (pg.c), named "v<index>", by SQL text. */
    char **stmt_sql;
    uint32_t *stmt_hash;
    int nstmt;
    int pending; /* statements sent in pipeline mode whose results are not read yet */
};

struct store_txn {
    struct store_reader *conn; /* first, as store_gen.c expects: the writer connection */
    struct store *s;
};

struct store {
    const struct store_ops *ops; /* first, as store_gen.c expects */
    char *uri;
    int schema_version;

    struct store_reader wconn;
    struct store_writer w;  /* store/writer.h; the hooks in pg.c */
    struct store_txn txn;   /* the batch's (writer thread only) */
    vtime_t last_added; /* newest date_added, read under the write lock (writer thread only) */

    /* commits of other processes (LISTEN vigil_commit), and leadership (store_leads) */
    _Atomic bool leading;
    pthread_t listener;
    bool listening;
    int wake[2]; /* a pipe that stops the listener */

    pthread_mutex_t plock;
    pthread_cond_t pcond;
    struct store_reader *pool;
    bool *pool_busy;
    unsigned npool;
};

/* Statement parameters, as text (NULL for SQL NULL). */
struct pg_params {
    int n, cap;
    char **v;
};

void pp_init(struct pg_params *p);
void pp_release(struct pg_params *p);
/* Each adds one parameter and returns its number ($n). */
int pp_i64(struct pg_params *p, int64_t v);
int pp_dbl(struct pg_params *p, double v);
int pp_str(struct pg_params *p, const char *v); /* NULL: SQL NULL */
int pp_strn(struct pg_params *p, const char *v, size_t len);
int pp_null(struct pg_params *p);
int pp_bytea(struct pg_params *p, const unsigned char *v, size_t len);

/* Runs sql with p (may be NULL); returns the result of a statement that succeeded (caller
 * clears it), or NULL (logged; c->failed set). */
PGresult *pg_run(struct store_reader *c, const char *sql, const struct pg_params *p);
/* pg_run for a statement without rows: 0, or VIGIL_ESTORE; *changed (may be NULL) the rows
 * it changed. */
int pg_exec(struct store_reader *c, const char *sql, const struct pg_params *p, int64_t *changed);
/* An INSERT ... ON CONFLICT DO NOTHING RETURNING one column: 0 and *id (may be NULL),
 * VIGIL_EEXIST when it inserted nothing, VIGIL_ESTORE on failure. */
int pg_insert(struct store_reader *c, const char *sql, const struct pg_params *p, int64_t *id);
/* pg_run, pg_exec and pg_insert that release p afterwards (for parameters built for one
 * statement). */
PGresult *pg_run_p(struct store_reader *c, const char *sql, struct pg_params *p);
int pg_exec_p(struct store_reader *c, const char *sql, struct pg_params *p, int64_t *changed);
int pg_insert_p(struct store_reader *c, const char *sql, struct pg_params *p, int64_t *id);
/* Sends a statement whose rows are not needed without waiting for it (libpq pipeline mode),
 * and releases p: it runs before the next statement on c, or at pg_flush. 0, or VIGIL_ESTORE
 * when it could not be sent (logged; c->failed set); its own failure shows at the next
 * statement or pg_flush (c->failed). */
int pg_defer_p(struct store_reader *c, const char *sql, struct pg_params *p);
/* Runs sql once for each of p[0..n) in libpq pipeline mode, after what pg_defer_p sent and in
 * one round trip with it, and releases the p: out[i] the result of p[i] (the caller clears
 * them). 0, or VIGIL_ESTORE when a statement failed (logged; c->failed set; out all NULL). The
 * server runs them in order: each sees what those before it did. Keep n modest (the results
 * wait in the socket's buffers until all are sent). */
int pg_run_all_p(struct store_reader *c, const char *sql, struct pg_params *p, int n,
                 PGresult **out);
/* Waits for the statements pg_defer_p sent: 0, or VIGIL_ESTORE when one failed (c->failed). */
int pg_flush(struct store_reader *c);
/* Forgets the statements prepared on c (a new connection has none). */
void pg_stmts_clear(struct store_reader *c);
/* A one-row SELECT kept in slot (its strings stay until the next use of the slot): the
 * result, or NULL with *rc VIGIL_ENOENT (no row) or VIGIL_ESTORE. */
PGresult *pg_row(struct store_reader *c, enum pg_keep slot, const char *sql,
                 const struct pg_params *p, int *rc);
void pg_keep_clear(struct store_reader *c);

int64_t gi64(const PGresult *r, int row, int col);
int gint(const PGresult *r, int row, int col);
double gdbl(const PGresult *r, int row, int col);
const char *gtxt(const PGresult *r, int row, int col); /* "" for NULL */
bool gnull(const PGresult *r, int row, int col);
/* A bytea column into out[len]; zeros when it is not len bytes. */
void gbytea(const PGresult *r, int row, int col, unsigned char *out, size_t len);

/* Withdraws the report events of (id, owner) (events.c of the SQLite store, likewise). */
int pg_events_withdraw(struct store_reader *c, const char *id, int64_t owner);
/* Drops the report index row of (id, owner), logging the withdrawal, with its events. */
int pg_reports_unindex(struct store_reader *c, const char *id, int64_t owner);

/* Applies the schema (pg_schema.c) on the writer connection. */
int pg_schema_migrate(struct store *s, char *msg);

/* The advisory lock every writing transaction takes (pg.c): writes commit one at a time
 * across every process sharing the database. */
#define PG_WRITE_LOCK 0x76696769 /* "vigi" */
/* The session advisory lock of the front-end that runs the one-of-a-kind services. */
#define PG_LEADER_LOCK 0x7669676c /* "vigl" */

#endif
