/* writer.c - the SQLite store's hooks of the one writer thread (store/writer.c); its
 * checkpointer.
 *
 * A batch is one BEGIN IMMEDIATE transaction, each job in a savepoint of it; COMMIT is durable
 * (fsync with synchronous=FULL). Under load many callers share one fsync.
 */
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

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
    pthread_mutex_lock(&s->w.lock);
    bool tail = s->ckpt_state == CKPT_CAUGHT_UP;
    if (s->ckpt_state == CKPT_IDLE) {
        s->ckpt_state = CKPT_RUNNING;
        pthread_cond_signal(&s->ckpt_cond);
    }
    if (tail)
        s->ckpt_state = CKPT_IDLE;
    pthread_mutex_unlock(&s->w.lock);
    if (tail)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    struct store *s = arg;
    struct store_reader c = {0};
    bool opened = false;
    char msg[STORE_MSG_SZ];
    pthread_mutex_lock(&s->w.lock);
    for (;;) {
        while (s->ckpt_state != CKPT_RUNNING && !s->w.stopping)
            pthread_cond_wait(&s->ckpt_cond, &s->w.lock);
        if (s->w.stopping)
            break;
        pthread_mutex_unlock(&s->w.lock);
        /* Its connection is opened at the first checkpoint, when the store is in WAL: opened
         * at the start, its PRAGMA journal_mode = WAL would undo a bulk load's rollback
         * journal (store_options.bulk_load). */
        if (!opened && conn_open(&c, s->path, false, msg)) {
            log_warn("store: no checkpoint connection (%s); the writer will checkpoint", msg);
            c.db = NULL;
        }
        opened = true;
        int frames = 0, copied = 0;
        if (c.db && sqlite3_wal_checkpoint_v2(c.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
                                              &copied) != SQLITE_OK)
            log_warn("store: checkpoint failed: %s", sqlite3_errmsg(c.db));
        pthread_mutex_lock(&s->w.lock);
        if (!c.db || frames - copied < CKPT_TAIL)
            s->ckpt_state = CKPT_CAUGHT_UP;
    }
    pthread_mutex_unlock(&s->w.lock);
    if (c.db)
        conn_close(&c);
    return NULL;
}

/* ---- the writer's hooks --------------------------------------------------------------- */

static int begin(void *be, struct store_txn **txn)
{
    struct store *s = be;
    struct store_reader *c = &s->wconn;
    s->txn = (struct store_txn){.conn = c, .s = s};
    buf_init(&s->txn.last_report.doc, BUF_NOCAP);
    s->batch_added = s->last_added;

    int rc = conn_exec(c, "BEGIN IMMEDIATE");
    if (!rc && (rc = check_others(s, c)) != 0)
        conn_exec(c, "ROLLBACK");
    if (!rc && objects_merge_ids(s, c)) {
        log_warn("store: the id index's merge failed; it will be tried again");
        conn_exec(c, "ROLLBACK");
        rc = conn_exec(c, "BEGIN IMMEDIATE");
    }
    if (rc) {
        buf_release(&s->txn.last_report.doc);
        return rc;
    }
    *txn = &s->txn;
    return 0;
}

static int savepoint(void *be)
{
    struct store *s = be;
    s->txn.last_report.set = false;
    return run(&s->wconn, "SAVEPOINT job");
}

static int settle(void *be, int rc)
{
    struct store *s = be;
    s->txn.last_report.set = false;
    conn_reset_all(&s->wconn);
    /* Id rows a bulk load still holds (objects.c): written if the job succeeded without
     * ending its load, else dropped with everything else the job did. */
    if (!rc)
        rc = objects_held_end(&s->txn);
    objects_held_drop(&s->txn);
    return rc;
}

static void rollback_to(void *be)
{
    struct store *s = be;
    run(&s->wconn, "ROLLBACK TO job");
}

static void release(void *be)
{
    struct store *s = be;
    run(&s->wconn, "RELEASE job");
}

static int commit(void *be)
{
    struct store *s = be;
    conn_reset_all(&s->wconn);
    int rc = conn_exec(&s->wconn, "COMMIT");
    if (rc)
        log_error("store: commit failed: %s", sqlite3_errmsg(s->wconn.db));
    return rc;
}

static void rollback(void *be)
{
    struct store *s = be;
    conn_exec(&s->wconn, "ROLLBACK");
    s->last_added = s->batch_added;
    if (writer_state_load(s)) /* the id index's merge (begin) was rolled back too */
        log_warn("store: the writer's state could not be read again");
}

static void end(void *be)
{
    struct store *s = be;
    buf_release(&s->txn.last_report.doc);
}

/* The writer connection's tuning, measured with bench/run.sh (docs/BENCHMARKS.md):
 * temp_store = MEMORY: every job runs in a savepoint, and a savepoint keeps the original of
 * each page it changes in a sub-journal, by default a temporary file once it passes 64 KiB;
 * in memory it costs a copy instead of file writes (ingest +40%). Checkpoints: above. */
static void start(void *be)
{
    struct store *s = be;
    if (conn_exec(&s->wconn, "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;"))
        log_warn("store: writer tuning not applied; writes will be slower");
    s->ckpt_thread = pthread_create(&s->ckpt, NULL, checkpointer_main, s) == 0;
    if (s->ckpt_thread) {
        sqlite3_wal_hook(s->wconn.db, wal_hook, s);
    } else {
        log_warn("store: no checkpoint thread; the writer will checkpoint");
        sqlite3_wal_autocheckpoint(s->wconn.db, CKPT_PAGES);
    }
}

static void stop(void *be)
{
    struct store *s = be;
    if (!s->ckpt_thread)
        return;
    pthread_mutex_lock(&s->w.lock);
    pthread_cond_signal(&s->ckpt_cond);
    pthread_mutex_unlock(&s->w.lock);
    pthread_join(s->ckpt, NULL);
}

const struct store_writer_hooks writer_hooks = {.start = start,
                                                .stop = stop,
                                                .begin = begin,
                                                .savepoint = savepoint,
                                                .settle = settle,
                                                .rollback_to = rollback_to,
                                                .release = release,
                                                .commit = commit,
                                                .rollback = rollback,
                                                .end = end};

int store_write(struct store *s, store_txn_fn fn, void *arg)
{
    return store_writer_submit(&s->w, fn, arg);
}

int store_write_async(struct store *s, store_txn_fn fn, void *arg, void (*done)(void *arg, int rc))
{
    return store_writer_submit_async(&s->w, fn, arg, done);
}

void store_set_commit_hook(struct store *s, void (*fn)(void *ctx), void *ctx)
{
    store_writer_set_hook(&s->w, fn, ctx);
}
