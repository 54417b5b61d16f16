/* writer.c - the one writer thread of a store: group commit of queued write jobs, a savepoint
 * per job (writer.h). The SQL is the backend's, through its hooks.
 */
#include "store/writer.h"

#include <stdlib.h>

#include "base/err.h"

struct store_writer_job {
    store_txn_fn fn;
    void *arg;
    int rc;
    bool done;
    bool async;                         /* heap-allocated; freed by the writer after commit */
    void (*on_done)(void *arg, int rc); /* async jobs: called after the commit */
    struct store_writer_job *next;
};

static void finish(struct store_writer *w, struct store_writer_job *batch)
{
    /* Async jobs first, outside the lock: nobody waits on them. */
    struct store_writer_job **link = &batch;
    while (*link) {
        struct store_writer_job *j = *link;
        if (!j->async) {
            link = &j->next;
            continue;
        }
        *link = j->next;
        if (j->on_done)
            j->on_done(j->arg, j->rc);
        free(j);
    }
    pthread_mutex_lock(&w->lock);
    for (struct store_writer_job *j = batch; j; j = j->next)
        j->done = true;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
}

static void fail_all(struct store_writer_job *batch, bool keep_failures)
{
    for (struct store_writer_job *j = batch; j; j = j->next)
        if (!keep_failures || !j->rc)
            j->rc = VIGIL_ESTORE;
}

static void run_batch(struct store_writer *w, struct store_writer_job *batch)
{
    const struct store_writer_hooks *h = w->hooks;
    struct store_txn *txn = NULL;
    if (h->begin(w->be, &txn)) {
        fail_all(batch, false);
        return;
    }
    if (!batch->next) {
        /* A batch of one job runs without a savepoint, and its failure rolls the whole
         * transaction back: the same outcome, nothing of it is stored. Inside a savepoint,
         * SQLite copies the original of every page the job changes into an in-memory
         * sub-journal that each statement's release walks from its start: one large job over
         * a large store (an import) became quadratic (docs/BENCHMARKS.md, 2026-12-06). */
        batch->rc = h->settle(w->be, batch->fn(txn, batch->arg));
        if (batch->rc || h->commit(w->be)) {
            h->rollback(w->be);
            fail_all(batch, true);
        }
        if (h->end)
            h->end(w->be);
        return;
    }
    for (struct store_writer_job *j = batch; j; j = j->next) {
        if (h->savepoint(w->be)) {
            j->rc = VIGIL_ESTORE;
            continue;
        }
        j->rc = h->settle(w->be, j->fn(txn, j->arg));
        if (j->rc)
            h->rollback_to(w->be);
        h->release(w->be);
    }
    if (h->commit(w->be)) {
        h->rollback(w->be);
        fail_all(batch, true);
    }
    if (h->end)
        h->end(w->be);
}

static void *writer_main(void *arg)
{
    struct store_writer *w = arg;
    if (w->hooks->start)
        w->hooks->start(w->be);
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        struct store_writer_job *batch = w->head;
        w->head = w->tail = NULL;
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->lock);
        if (batch) {
            run_batch(w, batch);
            finish(w, batch);
            store_writer_call_hook(w);
        } else if (stop) {
            break;
        }
    }
    if (w->hooks->stop)
        w->hooks->stop(w->be);
    return NULL;
}

int store_writer_start(struct store_writer *w, const struct store_writer_hooks *hooks, void *be)
{
    *w = (struct store_writer){.hooks = hooks, .be = be};
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->hook_lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_mutex_destroy(&w->hook_lock);
        pthread_cond_destroy(&w->wake);
        pthread_cond_destroy(&w->done);
        return VIGIL_EINTERNAL;
    }
    w->running = true;
    return 0;
}

void store_writer_stop(struct store_writer *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->hook_lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
}

/* Queues j (the lock held): false when the writer is stopping. */
static bool enqueue(struct store_writer *w, struct store_writer_job *j)
{
    if (w->stopping)
        return false;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->wake);
    return true;
}

int store_writer_submit(struct store_writer *w, store_txn_fn fn, void *arg)
{
    struct store_writer_job job = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&w->lock);
    if (!enqueue(w, &job)) {
        pthread_mutex_unlock(&w->lock);
        return VIGIL_ESHUTDOWN;
    }
    while (!job.done)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return job.rc;
}

int store_writer_submit_async(struct store_writer *w, store_txn_fn fn, void *arg,
                              void (*done)(void *arg, int rc))
{
    struct store_writer_job *job = calloc(1, sizeof *job);
    if (!job)
        return VIGIL_EINTERNAL;
    job->fn = fn;
    job->arg = arg;
    job->async = true;
    job->on_done = done;
    pthread_mutex_lock(&w->lock);
    bool queued = enqueue(w, job);
    pthread_mutex_unlock(&w->lock);
    if (!queued) {
        free(job);
        return VIGIL_ESHUTDOWN;
    }
    return 0;
}

/* The hook is called with hook_lock held, so that once store_writer_set_hook returns the
 * hook it replaced is neither running nor called again: its context may be freed (the server's,
 * at stop; the sanitized run against PostgreSQL found a commit waking a freed server). */
void store_writer_set_hook(struct store_writer *w, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&w->hook_lock);
    w->commit_hook = fn;
    w->commit_ctx = ctx;
    pthread_mutex_unlock(&w->hook_lock);
}

void store_writer_call_hook(struct store_writer *w)
{
    pthread_mutex_lock(&w->hook_lock);
    if (w->commit_hook)
        w->commit_hook(w->commit_ctx);
    pthread_mutex_unlock(&w->hook_lock);
}
