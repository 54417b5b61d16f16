/* writer.h - the one writer thread of a store, for every backend (store.h, store_write).
 *
 * The writer takes every job queued since its last commit, runs each inside its own savepoint
 * of one transaction, commits, and only then marks the jobs done and wakes their callers (under
 * load many callers share one durable commit), then calls the commit hook. What is specific to
 * a backend (its SQL, what it keeps per batch) is in its hooks, each called on the writer
 * thread with the backend's own pointer.
 *
 * Locks: store_writer.lock guards the queue and stopping; a backend may use it for state it
 * shares with the writer (the SQLite checkpointer). hook_lock guards the commit hook and is
 * held while it runs (the hook only wakes others: it must not write the store). Neither is
 * held while running SQL, nor both at once.
 */
#ifndef VIGIL_STORE_WRITER_H
#define VIGIL_STORE_WRITER_H

#include <pthread.h>
#include <stdbool.h>

#include "store/store.h"

struct store_writer_hooks {
    /* Before the first batch and after the last (each may be NULL). */
    void (*start)(void *be);
    void (*stop)(void *be);
    /* Opens a batch's transaction: 0 and *txn (what every job of the batch is handed), or an
     * error, with nothing left open: then every job of the batch fails with VIGIL_ESTORE. */
    int (*begin)(void *be, struct store_txn **txn);
    /* Opens a job's savepoint: 0, or an error (the job is not run; it fails). */
    int (*savepoint)(void *be);
    /* Right after a job returned rc: its outcome (a backend may fail a job one of whose
     * statements failed), with what the job left on the connection put away. */
    int (*settle)(void *be, int rc);
    /* Undo a failed job's work (back to its savepoint); close the savepoint. */
    void (*rollback_to)(void *be);
    void (*release)(void *be);
    /* Commits the batch: 0, or an error (logged): then rollback undoes the batch and every
     * job that succeeded fails with VIGIL_ESTORE. */
    int (*commit)(void *be);
    void (*rollback)(void *be);
    /* After each batch, committed or not: frees what begin kept (may be NULL). */
    void (*end)(void *be);
};

struct store_writer_job;

struct store_writer {
    const struct store_writer_hooks *hooks;
    void *be;
    pthread_t thread;
    bool running; /* the thread was started and not yet joined */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled when a job is queued or stop requested */
    pthread_cond_t done; /* broadcast when a batch is over */
    struct store_writer_job *head, *tail;
    bool stopping;
    pthread_mutex_t hook_lock;
    void (*commit_hook)(void *ctx); /* called after each batch (store_set_commit_hook) */
    void *commit_ctx;
};

/* Fills w (the caller's) and starts its thread: 0, or VIGIL_EINTERNAL with nothing left to
 * release. */
int store_writer_start(struct store_writer *w, const struct store_writer_hooks *hooks,
                       void *be);
/* Refuses new jobs, runs the queued ones, joins the thread and releases w; nothing for a w
 * that store_writer_start did not start (zeroed). */
void store_writer_stop(struct store_writer *w);

/* store_write, store_write_async and store_set_commit_hook of store.h, for a backend. */
int store_writer_submit(struct store_writer *w, store_txn_fn fn, void *arg);
int store_writer_submit_async(struct store_writer *w, store_txn_fn fn, void *arg,
                              void (*done)(void *arg, int rc));
/* Once it returns, the hook it replaced is neither running nor called again. */
void store_writer_set_hook(struct store_writer *w, void (*fn)(void *ctx), void *ctx);
/* Calls the commit hook set now, if any: for a backend that learns of other commits. */
void store_writer_call_hook(struct store_writer *w);

#endif
