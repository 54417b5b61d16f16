/* writer.c - the one writer thread: group commit of queued write jobs; its checkpointer.
 *
 * The writer takes every job queued since its last commit, runs each inside its own
 * savepoint of one transaction, commits (fsync with synchronous=FULL), and only then marks
 * the jobs done and wakes their callers. Under load many callers share one fsync.
 */
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

static void finish(struct store *s, struct write_job *batch)
{
    /* Async jobs first, outside the lock: nobody waits on them. */
    struct write_job **link = &batch;
    while (*link) {
        struct write_job *j = *link;
        if (!j->async) {
            link = &j->next;
            continue;
        }
        *link = j->next;
        if (j->on_done)
            j->on_done(j->arg, j->rc);
        free(j);
    }
    pthread_mutex_lock(&s->wlock);
    for (struct write_job *j = batch; j; j = j->next)
        j->done = true;
    pthread_cond_broadcast(&s->wdone);
    pthread_mutex_unlock(&s->wlock);
}

/* Runs a statement without results through the statement cache: the writer's per-job
 * SAVEPOINT and RELEASE are not parsed again each time. */
static int run(struct store_reader *c, const char *sql)
{
    sqlite3_stmt *st = conn_stmt(c, sql);
    return st ? step_done(c, st) : VIGIL_ESTORE;
}

int writer_state_load(struct store *s)
{
    sqlite3_stmt *st =
        conn_stmt(&s->wconn, "SELECT (SELECT COALESCE(MAX(date_added), 0)"
                             " FROM objects), (SELECT COUNT(*) FROM object_ids_new)");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return VIGIL_ESTORE;
    s->last_added = sqlite3_column_int64(st, 0);
    s->ids_new = (long)sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    idf_drop(s); /* rebuilt at the next put */
    s->idf.failed = false;
    st = conn_stmt(&s->wconn, "PRAGMA data_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return VIGIL_ESTORE;
    s->data_version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

/* Another process (`vigil import` beside a running server) may have written since the last
 * batch: then what the writer keeps in memory about the store is read again. */
static int check_others(struct store *s, struct store_reader *c)
{
    sqlite3_stmt *st = conn_stmt(c, "PRAGMA data_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW)
        return VIGIL_ESTORE;
    bool moved = sqlite3_column_int64(st, 0) != s->data_version;
    sqlite3_reset(st);
    return moved ? writer_state_load(s) : 0;
}

/* A batch of one job runs without a savepoint, and its failure rolls the whole transaction
 * back (the same outcome: nothing of it is stored). Inside a savepoint, SQLite copies the
 * original of every page the job changes into the in-memory sub-journal, which is truncated
 * only when the outermost savepoint ends; each statement journal's release walks that journal
 * (1 KiB chunks) from its start. A large import into a large store (one job that changes pages
 * all over the existing B-trees) became quadratic: 20,000 rows into a 200,000-report store did
 * not finish in 11 minutes (docs/BENCHMARKS.md). */
static void alone(struct store *s, struct store_txn *t, struct write_job *j, vtime_t last_added)
{
    struct store_reader *c = t->conn;
    j->rc = j->fn(t, j->arg);
    t->last_report.set = false;
    conn_reset_all(c);
    if (!j->rc && conn_exec(c, "COMMIT") == 0)
        return;
    if (!j->rc) {
        log_error("store: commit failed: %s", sqlite3_errmsg(c->db));
        j->rc = VIGIL_ESTORE;
    }
    conn_exec(c, "ROLLBACK");
    s->last_added = last_added;
    if (writer_state_load(s)) /* the id index's merge was rolled back too: count again */
        log_warn("store: the writer's state could not be read again");
}

static void run_batch(struct store *s, struct write_job *batch)
{
    struct store_reader *c = &s->wconn;
    struct store_txn t = {.conn = c, .s = s};
    buf_init(&t.last_report.doc, BUF_NOCAP);
    vtime_t last_added = s->last_added;

    int rc = conn_exec(c, "BEGIN IMMEDIATE");
    if (!rc && (rc = check_others(s, c)) != 0)
        conn_exec(c, "ROLLBACK");
    if (!rc && objects_merge_ids(s, c)) {
        log_warn("store: the id index's merge failed; it will be tried again");
        conn_exec(c, "ROLLBACK");
        rc = conn_exec(c, "BEGIN IMMEDIATE");
    }
    if (rc) {
        for (struct write_job *j = batch; j; j = j->next)
            j->rc = VIGIL_ESTORE;
        buf_release(&t.last_report.doc);
        return;
    }
    if (!batch->next) {
        alone(s, &t, batch, last_added);
        buf_release(&t.last_report.doc);
        return;
    }
    for (struct write_job *j = batch; j; j = j->next) {
        if (run(c, "SAVEPOINT job")) {
            j->rc = VIGIL_ESTORE;
            continue;
        }
        t.last_report.set = false;
        j->rc = j->fn(&t, j->arg);
        t.last_report.set = false;
        conn_reset_all(c);
        if (j->rc)
            run(c, "ROLLBACK TO job");
        run(c, "RELEASE job");
    }
    conn_reset_all(c);
    if (conn_exec(c, "COMMIT")) {
        log_error("store: commit failed: %s", sqlite3_errmsg(c->db));
        conn_exec(c, "ROLLBACK");
        s->last_added = last_added;
        for (struct write_job *j = batch; j; j = j->next)
            if (!j->rc)
                j->rc = VIGIL_ESTORE;
    }
    buf_release(&t.last_report.doc);
}

/* Checkpoints copy the WAL back into the database file and fsync it. On the writer they
 * stalled every commit behind them, so a thread of its own copies the bulk, on its own
 * connection, once the WAL passes CKPT_PAGES (40 MB at 4 KiB pages; a larger WAL costs a slower
 * recovery after a crash). A passive checkpoint never blocks the writer, but while the writer
 * keeps committing it never quite catches up, and the WAL starts over only once one has: so
 * the checkpointer copies until fewer than CKPT_TAIL frames are left, and the writer, between
 * two commits, copies that tail itself. */
#define CKPT_PAGES 10000
#define CKPT_TAIL 1000

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store *s = arg;
    if (pages < CKPT_PAGES)
        return SQLITE_OK;
    pthread_mutex_lock(&s->wlock);
    bool tail = s->ckpt_state == CKPT_CAUGHT_UP;
    if (s->ckpt_state == CKPT_IDLE) {
        s->ckpt_state = CKPT_RUNNING;
        pthread_cond_signal(&s->ckpt_cond);
    }
    if (tail)
        s->ckpt_state = CKPT_IDLE;
    pthread_mutex_unlock(&s->wlock);
    if (tail)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct store *s = arg;
    struct store_reader c;
    char msg[STORE_MSG_SZ];
    if (conn_open(&c, s->path, false, msg)) {
        log_warn("store: no checkpoint connection (%s); the writer will checkpoint", msg);
        c.db = NULL;
    }
    pthread_mutex_lock(&s->wlock);
    for (;;) {
        while (s->ckpt_state != CKPT_RUNNING && !s->stopping)
            pthread_cond_wait(&s->ckpt_cond, &s->wlock);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->wlock);
        int frames = 0, copied = 0;
        if (c.db && sqlite3_wal_checkpoint_v2(c.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                              &copied) != SQLITE_OK)
            log_warn("store: checkpoint failed: %s", sqlite3_errmsg(c.db));
        pthread_mutex_lock(&s->wlock);
        if (!c.db || frames - copied < CKPT_TAIL)
            s->ckpt_state = CKPT_CAUGHT_UP;
    }
    pthread_mutex_unlock(&s->wlock);
    if (c.db)
        conn_close(&c);
    return NULL;
}

/* The writer connection's tuning, measured with bench/run.sh (docs/BENCHMARKS.md):
 * temp_store = MEMORY: every job runs in a savepoint, and a savepoint keeps the original of
 * each page it changes in a sub-journal, by default a temporary file once it passes 64 KiB;
 * in memory it costs a copy instead of file writes (ingest +40%). Checkpoints: above. */
void *writer_main(void *arg)
{
    struct store *s = arg;
    if (conn_exec(&s->wconn, "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;"))
        log_warn("store: writer tuning not applied; writes will be slower");
    pthread_t ckpt;
    bool ckpt_thread = pthread_create(&ckpt, NULL, checkpointer_main, s) == 0;
    if (ckpt_thread) {
        sqlite3_wal_hook(s->wconn.db, wal_hook, s);
    } else {
        log_warn("store: no checkpoint thread; the writer will checkpoint");
        sqlite3_wal_autocheckpoint(s->wconn.db, CKPT_PAGES);
    }
    for (;;) {
        pthread_mutex_lock(&s->wlock);
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->wcond, &s->wlock);
        struct write_job *batch = s->head;
        s->head = s->tail = NULL;
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->wlock);
        if (batch) {
            run_batch(s, batch);
            finish(s, batch);
            if (s->commit_hook)
                s->commit_hook(s->commit_ctx);
        } else if (stop) {
            break;
        }
    }
    if (ckpt_thread) {
        pthread_mutex_lock(&s->wlock);
        pthread_cond_signal(&s->ckpt_cond);
        pthread_mutex_unlock(&s->wlock);
        pthread_join(ckpt, NULL);
    }
    return NULL;
}

int store_write(struct store *s, store_txn_fn fn, void *arg)
{
    struct write_job job = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&s->wlock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->wlock);
        return VIGIL_ESHUTDOWN;
    }
    if (s->tail)
        s->tail->next = &job;
    else
        s->head = &job;
    s->tail = &job;
    pthread_cond_signal(&s->wcond);
    while (!job.done)
        pthread_cond_wait(&s->wdone, &s->wlock);
    pthread_mutex_unlock(&s->wlock);
    return job.rc;
}

int store_write_async(struct store *s, store_txn_fn fn, void *arg,
                      void (*done)(void *arg, int rc))
{
    struct write_job *job = calloc(1, sizeof *job);
    if (!job)
        return VIGIL_EINTERNAL;
    job->fn = fn;
    job->arg = arg;
    job->async = true;
    job->on_done = done;
    pthread_mutex_lock(&s->wlock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->wlock);
        free(job);
        return VIGIL_ESHUTDOWN;
    }
    if (s->tail)
        s->tail->next = job;
    else
        s->head = job;
    s->tail = job;
    pthread_cond_signal(&s->wcond);
    pthread_mutex_unlock(&s->wlock);
    return 0;
}

void store_set_commit_hook(struct store *s, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&s->wlock);
    s->commit_hook = fn;
    s->commit_ctx = ctx;
    pthread_mutex_unlock(&s->wlock);
}
