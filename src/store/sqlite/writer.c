/* writer.c - the one writer thread: group commit of queued write jobs.
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

static void run_batch(struct store *s, struct write_job *batch)
{
    struct store_reader *c = &s->wconn;
    struct store_txn t = {.conn = c, .s = s};
    vtime_t last_added = s->last_added;

    if (conn_exec(c, "BEGIN IMMEDIATE")) {
        for (struct write_job *j = batch; j; j = j->next)
            j->rc = VIGIL_ESTORE;
        return;
    }
    for (struct write_job *j = batch; j; j = j->next) {
        if (conn_exec(c, "SAVEPOINT job")) {
            j->rc = VIGIL_ESTORE;
            continue;
        }
        j->rc = j->fn(&t, j->arg);
        conn_reset_all(c);
        if (j->rc)
            conn_exec(c, "ROLLBACK TO job");
        conn_exec(c, "RELEASE job");
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
}

/* The writer connection's tuning, measured with bench/run.sh (docs/BENCHMARKS.md):
 * - temp_store = MEMORY: every job runs in a savepoint, and a savepoint keeps the original
 *   of each page it changes in a sub-journal, by default a temporary file once it passes
 *   64 KiB; in memory it costs a copy instead of file writes (ingest +40%).
 * - wal_autocheckpoint = 10000 pages (40 MB at 4 KiB pages): the checkpoint runs on the
 *   writer inside a commit, and each commit of objects with random ids dirties many index
 *   pages; at the default 1000 pages it ran every few commits (ingest +45%; a larger WAL
 *   costs a slower recovery after a crash, bounded by the same 40 MB). */
static const char writer_pragmas[] = "PRAGMA temp_store = MEMORY;"
                                     "PRAGMA wal_autocheckpoint = 10000;";

void *writer_main(void *arg)
{
    struct store *s = arg;
    if (conn_exec(&s->wconn, writer_pragmas))
        log_warn("store: writer tuning not applied; writes will be slower");
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
            return NULL;
        }
    }
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
