/* pg.c - the PostgreSQL store: connections, statements, the read pool, the writer, open/close.
 *
 * Writes. One writer thread per process (store/writer.c) owns the writing connection and
 * group-commits queued jobs, a savepoint per job, as for the SQLite store (pg.c gives its
 * hooks). Every writing transaction first takes the transaction-level advisory lock
 * PG_WRITE_LOCK, so the transactions that write commit one
 * at a time across every front-end sharing the database: sequence numbers (seq, n) and
 * date_added are handed out in commit order, and a reader that has seen a row numbered n never
 * later finds a new row below n (TAXII added_after paging, the live stream's and the alert
 * service's "after" feeds stay exact). date_added is read under that lock (the newest
 * committed one) at the start of each batch.
 *
 * Reads. A pool of connections; each read runs in a REPEATABLE READ, READ ONLY transaction:
 * one snapshot until store_read_end.
 *
 * Other processes. Each batch that commits sends NOTIFY vigil_commit; a listener thread on a
 * connection of its own calls the commit hook when another process committed, so live streams,
 * the webhook sender and the alert service of every front-end wake within a poll.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/pg/pg_int.h"

/* ---- parameters ---------------------------------------------------------------------- */

void pp_init(struct pg_params *p)
{
    memset(p, 0, sizeof *p);
}

void pp_release(struct pg_params *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static int pp_take(struct pg_params *p, char *v)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, (size_t)p->cap * sizeof *p->v);
    }
    p->v[p->n++] = v;
    return p->n;
}

int pp_i64(struct pg_params *p, int64_t v)
{
    return pp_take(p, xasprintf("%" PRId64, v));
}

int pp_dbl(struct pg_params *p, double v)
{
    return pp_take(p, xasprintf("%.17g", v));
}

int pp_str(struct pg_params *p, const char *v)
{
    return pp_take(p, v ? xstrdup(v) : NULL);
}

int pp_strn(struct pg_params *p, const char *v, size_t len)
{
    char *s = xmalloc(len + 1);
    memcpy(s, v, len);
    s[len] = '\0';
    return pp_take(p, s);
}

int pp_null(struct pg_params *p)
{
    return pp_take(p, NULL);
}

int pp_bytea(struct pg_params *p, const unsigned char *v, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *s = xmalloc(2 * len + 3);
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < len; i++) {
        s[2 + 2 * i] = hex[v[i] >> 4];
        s[3 + 2 * i] = hex[v[i] & 15];
    }
    s[2 * len + 2] = '\0';
    return pp_take(p, s);
}

/* ---- statements ---------------------------------------------------------------------- */

/* Prepared statements. A statement with parameters is prepared once per connection (PQprepare,
 * named "v<index>") and executed by name from then on: the server parses and plans it once.
 * Statements built at run time (IN lists) would fill the cache with one-offs: beyond
 * PG_STMTS_MAX a connection runs new texts unnamed (PQexecParams), as before. */
#define PG_STMTS_MAX 256

static uint32_t sql_hash(const char *sql)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *q = (const unsigned char *)sql; *q; q++)
        h = (h ^ *q) * 16777619u;
    return h;
}

static int stmt_find(const struct store_reader *c, const char *sql, uint32_t h)
{
    for (int i = 0; i < c->nstmt; i++)
        if (c->stmt_hash[i] == h && strcmp(c->stmt_sql[i], sql) == 0)
            return i;
    return -1;
}

static bool result_ok(struct store_reader *c, const char *sql, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return true;
    if (st != PGRES_PIPELINE_ABORTED || !c->failed) {
        const char *err = r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn);
        log_error("store: \"%.80s\" failed: %.*s", sql, (int)strcspn(err, "\n"), err);
    }
    c->failed = true;
    return false;
}

/* The index of sql's prepared statement on c, preparing it if need be (outside pipeline mode);
 * -1 to run it unnamed; -2 when it failed to prepare (logged; c->failed set). */
static int stmt_prepare(struct store_reader *c, const char *sql, int nparams, bool may_prepare)
{
    uint32_t h = sql_hash(sql);
    int i = stmt_find(c, sql, h);
    if (i >= 0 || !may_prepare || c->nstmt == PG_STMTS_MAX || c->failed)
        return i;
    char name[16];
    snprintf(name, sizeof name, "v%d", c->nstmt);
    PGresult *r = PQprepare(c->conn, name, sql, nparams, NULL);
    bool ok = result_ok(c, sql, r);
    PQclear(r);
    if (!ok)
        return -2;
    if (!c->stmt_sql) {
        c->stmt_sql = xcalloc(PG_STMTS_MAX, sizeof *c->stmt_sql);
        c->stmt_hash = xcalloc(PG_STMTS_MAX, sizeof *c->stmt_hash);
    }
    c->stmt_sql[c->nstmt] = xstrdup(sql);
    c->stmt_hash[c->nstmt] = h;
    return c->nstmt++;
}

void pg_stmts_clear(struct store_reader *c)
{
    for (int i = 0; i < c->nstmt; i++)
        free(c->stmt_sql[i]);
    free(c->stmt_sql);
    free(c->stmt_hash);
    c->stmt_sql = NULL;
    c->stmt_hash = NULL;
    c->nstmt = 0;
}

/* Sends one statement in pipeline mode. */
static bool pipe_send(struct store_reader *c, const char *sql, const struct pg_params *p)
{
    int i = stmt_prepare(c, sql, p->n, false); /* never -2: nothing is prepared here */
    char name[16];
    snprintf(name, sizeof name, "v%d", i);
    int ok =
        i >= 0
            ? PQsendQueryPrepared(c->conn, name, p->n, (const char *const *)p->v, NULL, NULL, 0)
            : PQsendQueryParams(c->conn, sql, p->n, NULL, (const char *const *)p->v, NULL, NULL, 0);
    if (!ok) {
        log_error("store: \"%.80s\" not sent: %s", sql, PQerrorMessage(c->conn));
        c->failed = true;
        return false;
    }
    c->pending++;
    return true;
}

/* Ends the pipeline: syncs, reads every pending result (those of the last nout statements into
 * out[0..nout): the caller clears them) and leaves pipeline mode. False when a statement
 * failed (out all NULL). */
static bool pipe_drain_n(struct store_reader *c, PGresult **out, int nout)
{
    bool ok = PQpipelineSync(c->conn) == 1;
    if (!ok) {
        log_error("store: pipeline sync failed: %s", PQerrorMessage(c->conn));
        c->failed = true;
    }
    int pending = c->pending, left = pending;
    for (int i = 0; i < nout; i++)
        out[i] = NULL;
    for (;;) {
        PGresult *r = PQgetResult(c->conn);
        if (!r) {
            if (left > 0) {
                left--; /* the end of one statement's results */
                continue;
            }
            if (!ok || PQstatus(c->conn) != CONNECTION_OK)
                break; /* no sync is coming */
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        bool good = result_ok(c, "a statement sent in a pipeline", r);
        ok &= good;
        int k = (pending - left) - (pending - nout); /* this statement's place in out */
        if (good && left > 0 && k >= 0 && k < nout) {
            PQclear(out[k]);
            out[k] = r;
        } else {
            PQclear(r);
        }
    }
    c->pending = 0;
    if (!PQexitPipelineMode(c->conn)) {
        log_error("store: cannot leave pipeline mode: %s", PQerrorMessage(c->conn));
        c->failed = true;
        ok = false;
    }
    for (int i = 0; !ok && i < nout; i++) {
        PQclear(out[i]);
        out[i] = NULL;
    }
    return ok;
}

static bool pipe_drain(struct store_reader *c, PGresult **last)
{
    return pipe_drain_n(c, last, last ? 1 : 0);
}

/* Enters pipeline mode, preparing sql first when it is not on already (PQprepare waits). */
static bool pipe_enter(struct store_reader *c, const char *sql, int nparams)
{
    if (c->failed)
        return false;
    if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF)
        return true;
    stmt_prepare(c, sql, nparams, true);
    return !c->failed && PQenterPipelineMode(c->conn) == 1;
}

int pg_defer_p(struct store_reader *c, const char *sql, struct pg_params *p)
{
    bool ok = pipe_enter(c, sql, p->n) && pipe_send(c, sql, p);
    pp_release(p);
    if (!ok)
        c->failed = true;
    return ok ? 0 : VIGIL_ESTORE;
}

int pg_run_all_p(struct store_reader *c, const char *sql, struct pg_params *p, int n,
                 PGresult **out)
{
    bool ok = n == 0 || pipe_enter(c, sql, p[0].n);
    for (int i = 0; ok && i < n; i++)
        ok = pipe_send(c, sql, &p[i]);
    for (int i = 0; i < n; i++)
        pp_release(&p[i]);
    if (PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF) { /* nothing sent */
        for (int i = 0; i < n; i++)
            out[i] = NULL;
        c->failed |= !ok;
        return ok ? 0 : VIGIL_ESTORE;
    }
    ok = pipe_drain_n(c, out, n) && ok;
    if (!ok) {
        c->failed = true;
        for (int i = 0; i < n; i++) {
            PQclear(out[i]);
            out[i] = NULL;
        }
    }
    return ok ? 0 : VIGIL_ESTORE;
}

int pg_flush(struct store_reader *c)
{
    if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF && !pipe_drain(c, NULL))
        return VIGIL_ESTORE;
    return c->failed ? VIGIL_ESTORE : 0;
}

PGresult *pg_run(struct store_reader *c, const char *sql, const struct pg_params *p)
{
    if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF) {
        /* Statements were deferred: this one joins them, one round trip for all. */
        if (p) {
            PGresult *r = NULL;
            bool sent = pipe_send(c, sql, p);
            if (pipe_drain(c, &r) && sent)
                return r;
            PQclear(r);
            return NULL;
        }
        if (!pipe_drain(c, NULL))
            return NULL;
    }
    PGresult *r;
    if (p) {
        int i = stmt_prepare(c, sql, p->n, true);
        if (i == -2)
            return NULL;
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        r = i >= 0
                ? PQexecPrepared(c->conn, name, p->n, (const char *const *)p->v, NULL, NULL, 0)
                : PQexecParams(c->conn, sql, p->n, NULL, (const char *const *)p->v, NULL, NULL, 0);
    } else {
        /* Without parameters, PQexec: it runs several statements (the schema, settings). */
        r = PQexec(c->conn, sql);
    }
    if (result_ok(c, sql, r))
        return r;
    PQclear(r);
    return NULL;
}

int pg_exec(struct store_reader *c, const char *sql, const struct pg_params *p, int64_t *changed)
{
    PGresult *r = pg_run(c, sql, p);
    if (!r)
        return VIGIL_ESTORE;
    if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_insert(struct store_reader *c, const char *sql, const struct pg_params *p, int64_t *id)
{
    PGresult *r = pg_run(c, sql, p);
    if (!r)
        return VIGIL_ESTORE;
    int rc = PQntuples(r) ? 0 : VIGIL_EEXIST;
    if (!rc && id)
        *id = gi64(r, 0, 0);
    PQclear(r);
    return rc;
}

PGresult *pg_run_p(struct store_reader *c, const char *sql, struct pg_params *p)
{
    PGresult *r = pg_run(c, sql, p);
    pp_release(p);
    return r;
}

int pg_exec_p(struct store_reader *c, const char *sql, struct pg_params *p, int64_t *changed)
{
    int rc = pg_exec(c, sql, p, changed);
    pp_release(p);
    return rc;
}

int pg_insert_p(struct store_reader *c, const char *sql, struct pg_params *p, int64_t *id)
{
    int rc = pg_insert(c, sql, p, id);
    pp_release(p);
    return rc;
}

PGresult *pg_row(struct store_reader *c, enum pg_keep slot, const char *sql,
                 const struct pg_params *p, int *rc)
{
    PGresult *r = pg_run(c, sql, p);
    if (!r) {
        *rc = VIGIL_ESTORE;
        return NULL;
    }
    if (!PQntuples(r)) {
        PQclear(r);
        *rc = VIGIL_ENOENT;
        return NULL;
    }
    PQclear(c->keep[slot]);
    c->keep[slot] = r;
    *rc = 0;
    return r;
}

void pg_keep_clear(struct store_reader *c)
{
    for (int i = 0; i < KEEP_N; i++) {
        PQclear(c->keep[i]);
        c->keep[i] = NULL;
    }
}

int64_t gi64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int gint(const PGresult *r, int row, int col)
{
    return (int)strtol(PQgetvalue(r, row, col), NULL, 10);
}

double gdbl(const PGresult *r, int row, int col)
{
    return strtod(PQgetvalue(r, row, col), NULL);
}

const char *gtxt(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col); /* "" for NULL */
}

bool gnull(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

static int unhex(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

void gbytea(const PGresult *r, int row, int col, unsigned char *out, size_t len)
{
    const char *v = PQgetvalue(r, row, col);
    memset(out, 0, len);
    if (strncmp(v, "\\x", 2) != 0 || strlen(v) != 2 + 2 * len)
        return;
    for (size_t i = 0; i < len; i++) {
        int hi = unhex(v[2 + 2 * i]), lo = unhex(v[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            memset(out, 0, len);
            return;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
}

/* ---- connections --------------------------------------------------------------------- */

static void notice_quiet(void *arg, const PGresult *r)
{
    (void)arg;
    (void)r;
}

static int conn_open(struct store_reader *c, struct store *s, char *msg)
{
    memset(c, 0, sizeof *c);
    c->ops = &store_pg_ops;
    c->owner = s;
    c->conn = PQconnectdb(s->uri);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        snprintf(msg, STORE_MSG_SZ, "cannot connect to PostgreSQL: %s",
                 c->conn ? PQerrorMessage(c->conn) : "out of memory");
        for (char *nl = strchr(msg, '\n'); nl; nl = strchr(nl, '\n'))
            *nl = ' ';
        PQfinish(c->conn);
        c->conn = NULL;
        return VIGIL_ESTORE;
    }
    PQsetNoticeReceiver(c->conn, notice_quiet, NULL);
    /* Times are integers; text compares byte by byte whatever the database's locale. */
    PGresult *r = pg_run(c, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'", NULL);
    PQclear(r);
    return 0;
}

static void conn_close(struct store_reader *c)
{
    pg_keep_clear(c);
    pg_stmts_clear(c);
    PQfinish(c->conn);
    c->conn = NULL;
}

/* A connection the server dropped (a restart, a failover) is opened again before use. */
static void conn_check(struct store_reader *c)
{
    if (PQstatus(c->conn) != CONNECTION_OK) {
        log_warn("store: the PostgreSQL connection was lost; reconnecting");
        pg_stmts_clear(c); /* the new session has none of them */
        c->pending = 0;
        PQreset(c->conn);
    }
}

/* ---- writer -------------------------------------------------------------------------- */

/* The hooks of the one writer thread (store/writer.h). A statement that fails aborts the
 * transaction up to the job's savepoint: the job fails (c->failed), and is rolled back. */

static int begin(void *be, struct store_txn **txn)
{
    struct store *s = be;
    struct store_reader *c = &s->wconn;
    s->txn = (struct store_txn){.conn = c, .s = s};
    conn_check(c);
    c->failed = false;
    /* One round trip (a simple query of three statements; the lock as a literal, since such a
     * query takes no parameters): the transaction, the write lock, the newest date_added. */
    char sql[160];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT pg_advisory_xact_lock(%lld);"
             " SELECT COALESCE(MAX(date_added), 0) FROM objects",
             (long long)PG_WRITE_LOCK);
    PGresult *r = pg_run(c, sql, NULL);
    if (!r) {
        PQclear(PQexec(c->conn, "ROLLBACK"));
        return VIGIL_ESTORE;
    }
    s->last_added = gi64(r, 0, 0);
    PQclear(r);
    *txn = &s->txn;
    return 0;
}

static int savepoint(void *be)
{
    struct store *s = be;
    return pg_exec(&s->wconn, "SAVEPOINT job", NULL, NULL);
}

static int settle(void *be, int rc)
{
    struct store *s = be;
    pg_flush(&s->wconn); /* what the job deferred (pg_defer_p) is its own */
    if (s->wconn.failed && !rc)
        rc = VIGIL_ESTORE; /* a statement failed: its work cannot be kept */
    if (rc)
        s->wconn.failed = false;
    return rc;
}

static void rollback_to(void *be)
{
    struct store *s = be;
    pg_exec(&s->wconn, "ROLLBACK TO SAVEPOINT job", NULL, NULL);
}

static void release(void *be)
{
    struct store *s = be;
    pg_exec(&s->wconn, "RELEASE SAVEPOINT job", NULL, NULL);
}

static int commit(void *be)
{
    struct store *s = be;
    struct store_reader *c = &s->wconn;
    pg_keep_clear(c);
    c->failed = false;
    if (pg_exec(c, "NOTIFY vigil_commit; COMMIT", NULL, NULL)) { /* one round trip */
        log_error("store: commit failed");
        return VIGIL_ESTORE;
    }
    return 0;
}

static void rollback(void *be)
{
    struct store *s = be;
    pg_keep_clear(&s->wconn);
    s->wconn.failed = false;
    PQclear(PQexec(s->wconn.conn, "ROLLBACK"));
}

static const struct store_writer_hooks writer_hooks = {.begin = begin,
                                                       .savepoint = savepoint,
                                                       .settle = settle,
                                                       .rollback_to = rollback_to,
                                                       .release = release,
                                                       .commit = commit,
                                                       .rollback = rollback};

int store_write(struct store *s, store_txn_fn fn, void *arg)
{
    return store_writer_submit(&s->w, fn, arg);
}

int store_write_async(struct store *s, store_txn_fn fn, void *arg, void (*done)(void *arg, int rc))
{
    return store_writer_submit_async(&s->w, fn, arg, done);
}

static void *listener_main(void *arg);

/* The listener (commits of other front-ends, leadership) runs in a process that serves: one that
 * sets a commit hook. A command that runs once (vigil partner add) needs neither, nor the two
 * connections they hold. */
void store_set_commit_hook(struct store *s, void (*fn)(void *ctx), void *ctx)
{
    store_writer_set_hook(&s->w, fn, ctx);
    pthread_mutex_lock(&s->plock);
    bool start = fn && !s->listening && s->wake[0] < 0;
    if (start && pipe(s->wake) == 0 && pthread_create(&s->listener, NULL, listener_main, s) == 0)
        s->listening = true;
    else if (start)
        log_warn("store: no listener: commits of other front-ends are seen at the next poll");
    pthread_mutex_unlock(&s->plock);
}

/* ---- commits of other processes ------------------------------------------------------ */

/* Leadership (store_leads): holds PG_LEADER_LOCK on a connection of its own (l), or waits for
 * it there. The holder checks once a second that its connection still holds the lock; a lost
 * connection loses the lock: the flag drops before anything else is done. The others wait in
 * pg_advisory_lock, sent without waiting for its answer (*waiting): the server grants the lock
 * to one of them as soon as the holder's session ends (even at a kill -9 of its process, when
 * its socket closes), and the answer wakes the listener's poll; trying once a second instead
 * lost up to a second. A waiter that goes away cancels its wait (lead_end); one killed is
 * noticed by the server within client_connection_check_interval (set on l), and its wait
 * ends. */
static void lead_set(struct store *s, bool held)
{
    if (held != atomic_load(&s->leading))
        log_info("store: this front-end %s the hub's services (alert events, webhooks)",
                 held ? "now runs" : "no longer runs");
    bool gained = held && !atomic_load(&s->leading);
    atomic_store(&s->leading, held);
    if (gained) /* the services take over now, not at their next poll */
        store_writer_call_hook(&s->w);
}

/* Ends l (the lock goes with its session); a wait in progress is cancelled first, so that the
 * server does not keep the session waiting for a lock no one will take. */
static void lead_end(struct store_reader *l, bool *lup, bool *waiting)
{
    if (*waiting && PQstatus(l->conn) == CONNECTION_OK) {
        PGcancel *cancel = PQgetCancel(l->conn);
        char err[256];
        if (cancel && !PQcancel(cancel, err, sizeof err))
            log_debug("store: cannot cancel the wait for the services lock: %s", err);
        PQfreeCancel(cancel);
    }
    conn_close(l);
    *lup = *waiting = false;
}

static void lead(struct store *s, struct store_reader *l, bool *lup, bool *waiting)
{
    char msg[STORE_MSG_SZ];
    if (*lup && PQstatus(l->conn) != CONNECTION_OK) {
        atomic_store(&s->leading, false);
        lead_end(l, lup, waiting);
    }
    if (!*lup) {
        if (conn_open(l, s, msg))
            return;
        *lup = true;
        /* A wait takes as long as it takes; a session whose client died ends (PostgreSQL 14
         * and later; an older server refuses the setting, and such a session waits on). */
        PQclear(PQexec(l->conn, "SET statement_timeout = 0; SET lock_timeout = 0"));
        PQclear(PQexec(l->conn, "SET client_connection_check_interval = '1s'"));
        /* A holder whose host vanished sends no FIN: the server's keepalives on this session
         * end it (and free the lock) about 10 s after the host went silent (TCP only). */
        PQclear(PQexec(l->conn, "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 1;"
                                " SET tcp_keepalives_count = 5"));
    }
    if (*waiting)
        return;
    char key[32];
    snprintf(key, sizeof key, "%d", PG_LEADER_LOCK);
    const char *v[] = {key};
    if (!atomic_load(&s->leading)) {
        if (PQsendQueryParams(l->conn, "SELECT pg_advisory_lock($1::bigint)", 1, NULL, v, NULL,
                              NULL, 0))
            *waiting = true;
        else
            lead_end(l, lup, waiting);
        return;
    }
    PGresult *r = PQexecParams(l->conn, "SELECT count(*) > 0 FROM pg_locks WHERE locktype ="
                                        " 'advisory' AND pid = pg_backend_pid() AND classid = 0"
                                        " AND objid::bigint = $1::bigint AND objsubid = 1"
                                        " AND granted",
                               1, NULL, v, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    lead_set(s, ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0);
    PQclear(r);
    if (!ok)
        lead_end(l, lup, waiting);
}

/* The answer to the wait for the lock, when l's socket is readable: the lock, or an error
 * (the server restarted, a timeout): then a new wait at the next second. */
static void lead_answer(struct store *s, struct store_reader *l, bool *lup, bool *waiting)
{
    if (!PQconsumeInput(l->conn)) {
        lead_end(l, lup, waiting);
        return;
    }
    if (PQisBusy(l->conn))
        return;
    PGresult *r;
    bool held = false, any = false;
    while ((r = PQgetResult(l->conn)) != NULL) {
        held |= PQresultStatus(r) == PGRES_TUPLES_OK;
        any = true;
        PQclear(r);
    }
    *waiting = false;
    if (held)
        lead_set(s, true);
    else if (any)
        log_warn("store: the wait for the services lock failed: %s", PQerrorMessage(l->conn));
}

bool store_leads(struct store *s)
{
    return atomic_load(&s->leading);
}

/* Calls the commit hook for every NOTIFY vigil_commit another backend sent; keeps or waits for
 * leadership. Reconnects (after a second) when the server goes away. */
static void *listener_main(void *arg)
{
    struct store *s = arg;
    struct store_reader c, l;
    char msg[STORE_MSG_SZ];
    bool up = false, lup = false, waiting = false;
    memset(&l, 0, sizeof l);
    vtime_t next_lead = 0;
    for (;;) {
        if (ts_now() >= next_lead) {
            lead(s, &l, &lup, &waiting);
            next_lead = ts_now() + VTIME_US_PER_SEC;
        }
        if (!up) {
            up = conn_open(&c, s, msg) == 0;
            PGresult *r = up ? pg_run(&c, "LISTEN vigil_commit", NULL) : NULL;
            up = r != NULL;
            PQclear(r);
            if (!up && c.conn)
                conn_close(&c);
        }
        struct pollfd fds[3] = {{.fd = s->wake[0], .events = POLLIN},
                                {.fd = up ? PQsocket(c.conn) : -1, .events = POLLIN},
                                {.fd = waiting ? PQsocket(l.conn) : -1, .events = POLLIN}};
        int n = poll(fds, 3, 1000);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (waiting && fds[2].revents)
            lead_answer(s, &l, &lup, &waiting);
        if (!up || !fds[1].revents)
            continue;
        if (!PQconsumeInput(c.conn)) {
            log_warn("store: the listener lost its connection; reconnecting");
            conn_close(&c);
            up = false;
            continue;
        }
        bool others = false;
        int self = PQbackendPID(s->wconn.conn);
        PGnotify *nt;
        while ((nt = PQnotifies(c.conn)) != NULL) {
            others |= nt->be_pid != self;
            PQfreemem(nt);
        }
        if (others)
            store_writer_call_hook(&s->w);
    }
    if (up)
        conn_close(&c);
    atomic_store(&s->leading, false);
    if (lup)
        lead_end(&l, &lup, &waiting); /* the lock goes with the connection */
    return NULL;
}

/* ---- open / close -------------------------------------------------------------------- */

static void store_free(struct store *s)
{
    for (unsigned i = 0; i < s->npool; i++)
        conn_close(&s->pool[i]);
    if (s->wconn.conn)
        conn_close(&s->wconn);
    free(s->pool);
    free(s->pool_busy);
    free(s->uri);
    free(s);
}

int store_open(const char *uri, const struct store_options *opt, struct store **out,
               char msg[STORE_MSG_SZ])
{
    *out = NULL;
    msg[0] = '\0';
    struct store *s = xcalloc(1, sizeof *s);
    s->ops = &store_pg_ops;
    s->uri = xstrdup(uri);
    s->wake[0] = s->wake[1] = -1;
    int rc = conn_open(&s->wconn, s, msg);
    if (!rc)
        rc = pg_schema_migrate(s, msg);
    if (rc) {
        store_free(s);
        return rc;
    }
    s->npool = opt && opt->read_connections ? opt->read_connections : 8;
    s->pool = xcalloc(s->npool, sizeof *s->pool);
    s->pool_busy = xcalloc(s->npool, sizeof *s->pool_busy);
    /* Read connections open when first needed (store_read_begin): a command that reads once
     * opens one, a daemon as many as it has concurrent readers. */
    for (unsigned i = 0; i < s->npool; i++) {
        s->pool[i].ops = &store_pg_ops;
        s->pool[i].owner = s;
        s->pool[i].in_pool = true;
    }
    pthread_mutex_init(&s->plock, NULL);
    pthread_cond_init(&s->pcond, NULL);
    if (store_writer_start(&s->w, &writer_hooks, s)) {
        snprintf(msg, STORE_MSG_SZ, "cannot start the writer thread");
        store_free(s);
        return VIGIL_EINTERNAL;
    }
    *out = s; /* the listener starts with the commit hook (store_set_commit_hook) */
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->listening) {
        if (write(s->wake[1], "x", 1) != 1)
            log_warn("store: cannot wake the listener");
        pthread_join(s->listener, NULL);
    }
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    store_writer_stop(&s->w);
    pthread_mutex_destroy(&s->plock);
    pthread_cond_destroy(&s->pcond);
    store_free(s);
}

int store_page_pool(int64_t kib)
{
    (void)kib;
    return 0; /* the server keeps the pages */
}

/* The server holds the caches. In this process: each connection's buffers (libpq starts them
 * at 16 KiB in and 16 KiB out, and keeps them) and the listener's; results are freed as they
 * are read, except the few one-row lookups a reader lends out. */
#define CONN_BYTES (32 * 1024)

int64_t store_memory_used(struct store *s, int64_t *id_filter)
{
    if (id_filter)
        *id_filter = 0;
    return (int64_t)(s->npool + 2) * CONN_BYTES;
}

int store_schema_version(struct store *s)
{
    return s->schema_version;
}

int store_check(struct store *s, char msg[STORE_MSG_SZ])
{
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    PGresult *res = pg_run(r, "SELECT version FROM vigil_schema", NULL);
    rc = res && PQntuples(res) == 1 && gint(res, 0, 0) == s->schema_version ? 0 : VIGIL_ESTORE;
    snprintf(msg, STORE_MSG_SZ, "%s", rc ? "the schema is not as this vigil left it" : "ok");
    PQclear(res);
    store_read_end(r);
    return rc;
}

/* ---- reads --------------------------------------------------------------------------- */

int store_read_begin(struct store *s, struct store_reader **out)
{
    pthread_mutex_lock(&s->plock);
    for (;;) {
        for (unsigned i = 0; i < s->npool; i++) {
            if (!s->pool_busy[i]) {
                s->pool_busy[i] = true;
                pthread_mutex_unlock(&s->plock);
                struct store_reader *r = &s->pool[i];
                *out = r;
                int rc = 0;
                if (!r->conn) {
                    char msg[STORE_MSG_SZ];
                    rc = conn_open(r, s, msg);
                    r->in_pool = true;
                    if (rc) {
                        log_error("store: %s", msg);
                        store_read_end(r);
                        *out = NULL;
                        return rc;
                    }
                }
                conn_check(r);
                r->failed = false;
                rc = pg_exec(r, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, NULL);
                if (rc) {
                    store_read_end(r);
                    *out = NULL;
                }
                return rc;
            }
        }
        pthread_cond_wait(&s->pcond, &s->plock);
    }
}

void store_read_end(struct store_reader *r)
{
    if (!r || !r->in_pool)
        return;
    pg_keep_clear(r);
    PQclear(PQexec(r->conn, "COMMIT"));
    struct store *s = r->owner;
    pthread_mutex_lock(&s->plock);
    s->pool_busy[r - s->pool] = false;
    pthread_cond_signal(&s->pcond);
    pthread_mutex_unlock(&s->plock);
}

struct store_reader *store_txn_reader(struct store_txn *t)
{
    return t->conn;
}

int store_txn_cache_kib(struct store_txn *t, int64_t kib)
{
    (void)t;
    (void)kib;
    return 0; /* the server sizes its own caches */
}

int store_txn_reports_bulk_begin(struct store_txn *t, size_t rows)
{
    (void)t;
    (void)rows;
    return 0; /* every report is indexed as it is written */
}

int store_txn_reports_bulk_end(struct store_txn *t)
{
    (void)t;
    return 0;
}
