/* store_sqlite.c - the SQLite store: connections, the read pool, open/close, accounts.
 *
 * Objects live in objects.c, the writer thread in writer.c, the schema in schema.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base/err.h"
#include "base/log.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "store/sqlite/store_int.h"

#define STORE_FILE "vigil.db"

/* ---- connections --------------------------------------------------------------------- */

/* Each connection's page cache, in KiB (as SQLite's cache_size takes it, negated). */
#define CACHE_KIB 32768
#define STR_(x) #x
#define STR(x) STR_(x)

/* The page pool (store_page_pool): the writer's cache, which fills and stays full, and room
 * for the pages the readers' transactions hold at once. SQLite links every line into its free
 * list when it is given the pool, so all of it is resident from the start. */
#define POOL_BYTES ((CACHE_KIB + 8192) * (size_t)1024)
#define POOL_PAGE 4096 /* SQLite's default page size, which the store keeps */

static size_t pool_line; /* bytes per pool line; 0 without a pool */

int store_page_pool(int64_t kib)
{
    size_t bytes = kib > 0 ? (size_t)kib * 1024 : POOL_BYTES;
    int hdr = 0;
    if (sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &hdr) != SQLITE_OK)
        return VIGIL_ESTORE;
    size_t line = (POOL_PAGE + (size_t)hdr + 7) & ~(size_t)7, n = bytes / line;
    void *mem = mmap(NULL, n * line, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return VIGIL_EIO;
    /* In pages of 2 MiB where the kernel has them (transparent huge pages, asked for): SQLite
     * writes every line as it links it, and in 4 KiB pages that was a page fault each, 130,000
     * for a large import's pool before its first row (8-18% of the CPU time of an import of
     * 50,000-100,000 rows, perf; docs/BENCHMARKS.md). Advice only: nothing fails without. */
    madvise(mem, n * line, MADV_HUGEPAGE);
    if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, mem, (int)line, (int)n) != SQLITE_OK) {
        munmap(mem, n * line); /* SQLite has started: its caches stay on malloc */
        return VIGIL_ESTORE;
    }
    pool_line = line;
    return 0;
}

/* SipHash-2-4 under a fixed key: a partner choosing ids can at best make pairs collide, which
 * costs a lookup one more row; the key is not a secret. */
int64_t store_idh(const void *id, size_t len)
{
    static const unsigned char key[crypto_shorthash_KEYBYTES] = "vigil object id";
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, len, key);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (int64_t)v;
}

/* vigil_idh(text): store_idh() for SQL (the migration, triggers, readers' queries). */
static void sql_idh(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_result_int64(
        ctx, store_idh(sqlite3_value_text(argv[0]), (size_t)sqlite3_value_bytes(argv[0])));
}

int conn_open(struct store_reader *conn, const char *path, bool readonly, char *msg)
{
    memset(conn, 0, sizeof *conn);
    conn->ops = &store_sqlite_ops;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX; /* each connection is used by one thread at a time */
    int rc = sqlite3_open_v2(path, &conn->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, STORE_MSG_SZ, "%s: %s", path,
                 conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
        sqlite3_close(conn->db);
        conn->db = NULL;
        return VIGIL_ESTORE;
    }
    sqlite3_busy_timeout(conn->db, 10000);
    sqlite3_create_function(conn->db, "vigil_idh", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, sql_idh,
                            NULL, NULL);
    /* No connection maps the file. Readers: while the writer grows it, every reader's mapping
     * was redone, and each unmapping interrupts both cores (pages of 100 objects: 10-20% more
     * requests/s with plain reads). The writer: its mapping no longer paid for itself at 1M
     * objects (ingest 56,293 / 54,010 objects/s with it, 54,215 / 55,032 without), and every
     * page it touched stayed in the daemon's RSS, up to the whole mapping: new versions of
     * old objects touch pages all over the file (docs/BENCHMARKS.md, Soak). */
    const char *pragmas = readonly ? "PRAGMA cache_size = -" STR(CACHE_KIB) ";"
                                   : "PRAGMA journal_mode = WAL;"
                                     "PRAGMA synchronous = FULL;"
                                     "PRAGMA foreign_keys = ON;"
                                     "PRAGMA cache_size = -" STR(CACHE_KIB) ";";
    char *err = NULL;
    if (sqlite3_exec(conn->db, pragmas, NULL, NULL, &err) != SQLITE_OK) {
        if ((sqlite3_errcode(conn->db) & 0xff) == SQLITE_BUSY) /* waited busy_timeout for it */
            snprintf(msg, STORE_MSG_SZ,
                     "%s: another process holds the store (a large vigil import keeps it to"
                     " its end): try again when it has finished",
                     path);
        else
            snprintf(msg, STORE_MSG_SZ, "%s: %s", path, err ? err : "pragma failed");
        sqlite3_free(err);
        conn_close(conn);
        return VIGIL_ESTORE;
    }
    return 0;
}

void conn_close(struct store_reader *conn)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(conn->cache[i].st);
        free(conn->cache[i].sql);
    }
    sqlite3_close(conn->db);
    memset(conn, 0, sizeof *conn);
}

sqlite3_stmt *conn_stmt(struct store_reader *conn, const char *sql)
{
    int victim = 0;
    conn->tick++;
    /* Callers pass string literals, mostly: the same pointer finds its statement with one
     * comparison of the text (a buffer reused for other SQL fails it), instead of up to one
     * per cached statement (a tenth of an import's time once). */
    for (int i = 0; i < STMT_CACHE; i++) {
        if (conn->cache[i].key == sql && conn->cache[i].sql &&
            strcmp(conn->cache[i].sql, sql) == 0) {
            conn->cache[i].used = conn->tick;
            sqlite3_reset(conn->cache[i].st);
            sqlite3_clear_bindings(conn->cache[i].st);
            return conn->cache[i].st;
        }
    }
    for (int i = 0; i < STMT_CACHE; i++) {
        if (conn->cache[i].sql && strcmp(conn->cache[i].sql, sql) == 0) {
            conn->cache[i].key = sql;
            conn->cache[i].used = conn->tick;
            sqlite3_reset(conn->cache[i].st);
            sqlite3_clear_bindings(conn->cache[i].st);
            return conn->cache[i].st;
        }
        if (conn->cache[i].used < conn->cache[victim].used)
            victim = i;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("store: cannot prepare \"%.80s\": %s", sql, sqlite3_errmsg(conn->db));
        return NULL;
    }
    sqlite3_finalize(conn->cache[victim].st);
    free(conn->cache[victim].sql);
    conn->cache[victim].sql = xstrdup(sql);
    conn->cache[victim].key = sql;
    conn->cache[victim].st = st;
    conn->cache[victim].used = conn->tick;
    return st;
}

void conn_reset_all(struct store_reader *conn)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(conn->db, NULL); st;
         st = sqlite3_next_stmt(conn->db, st))
        if (sqlite3_stmt_busy(st))
            sqlite3_reset(st);
}

int conn_exec(struct store_reader *conn, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(conn->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("store: \"%.60s\" failed: %s", sql, err ? err : "?");
        sqlite3_free(err);
        return VIGIL_ESTORE;
    }
    return 0;
}

sqlite3_stmt *conn_stmt_after(struct store_reader *conn, const char *sql, int64_t after,
                              size_t limit)
{
    sqlite3_stmt *st = conn_stmt(conn, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    }
    return st;
}

/* ---- open / close -------------------------------------------------------------------- */

/* store_options.bulk_load: the store from WAL to a rollback journal (DELETE: SQLite's default,
 * atomic and durable with synchronous=FULL), before any other connection of this process
 * exists. SQLite changes it only when no other connection has the WAL open; otherwise the
 * store stays in WAL, as any other open. Whether it changed. A large import's pages were
 * written twice in WAL (to the WAL, then by the checkpoint to the database), and every page
 * read missing the cache searched the WAL's index, which grows with the transaction: at a
 * million ACLED rows a tenth of the CPU time in sqlite3WalFindFrame and a seventh in the
 * checkpoint (perf, docs/BENCHMARKS.md). In a rollback journal a new page (past the store's
 * size when the transaction began) is written once, into the database; the journal holds the
 * originals of the pages that existed. */
static bool journal_rollback(struct store_reader *c)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = DELETE", -1, &st, NULL) ==
                  SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), "delete") == 0;
    sqlite3_finalize(st);
    if (!ok)
        log_info("store: kept in WAL (another connection has it open)");
    return ok;
}

int store_open(const char *dir, const struct store_options *opt, struct store **out,
               char msg[STORE_MSG_SZ])
{
    *out = NULL;
    msg[0] = '\0';
    struct store *s = xcalloc(1, sizeof *s);
    s->ops = &store_sqlite_ops;
    s->path = xasprintf("%s/%s", dir, STORE_FILE);
    pthread_cond_init(&s->ckpt_cond, NULL);
    pthread_mutex_init(&s->plock, NULL);
    pthread_cond_init(&s->pcond, NULL);
    int rc = conn_open(&s->wconn, s->path, false, msg);
    if (rc) {
        store_close(s);
        return rc;
    }
    s->wconn.owner = s;
    if (chmod(s->path, 0600) != 0)
        log_warn("store: cannot chmod %s: %s", s->path, strerror(errno));
    rc = schema_migrate(s, msg);
    if (!rc && writer_state_load(s)) {
        snprintf(msg, STORE_MSG_SZ, "cannot read the store: %s", sqlite3_errmsg(s->wconn.db));
        rc = VIGIL_ESTORE;
    }
    if (rc) {
        store_close(s);
        return rc;
    }
    if (opt && opt->bulk_load)
        s->rollback_journal = journal_rollback(&s->wconn);
    s->npool = opt && opt->read_connections ? opt->read_connections : 8;
    s->pool = xcalloc(s->npool, sizeof *s->pool);
    s->pool_busy = xcalloc(s->npool, sizeof *s->pool_busy);
    for (unsigned i = 0; i < s->npool; i++) {
        rc = conn_open(&s->pool[i], s->path, true, msg);
        if (rc) {
            s->npool = i;
            store_close(s);
            return rc;
        }
        s->pool[i].owner = s;
        s->pool[i].in_pool = true;
    }
    if (store_writer_start(&s->w, &writer_hooks, s)) {
        snprintf(msg, STORE_MSG_SZ, "cannot start the writer thread");
        store_close(s);
        return VIGIL_EINTERNAL;
    }
    *out = s;
    return 0;
}

int64_t store_memory_used(struct store *s, int64_t *id_filter)
{
    int64_t f = atomic_load(&s->idf.bytes);
    if (id_filter)
        *id_filter = f;
    sqlite3_int64 lines = 0, most = 0; /* the pool's lines in use: not malloc'd */
    sqlite3_status64(SQLITE_STATUS_PAGECACHE_USED, &lines, &most, 0);
    return sqlite3_memory_used() + lines * (int64_t)pool_line + f;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_writer_stop(&s->w);
    pthread_cond_destroy(&s->ckpt_cond);
    pthread_mutex_destroy(&s->plock);
    pthread_cond_destroy(&s->pcond);
    for (unsigned i = 0; i < s->npool; i++)
        conn_close(&s->pool[i]);
    /* Back to WAL for the other processes; if this fails (or the process dies before), the
     * next open does it (conn_open). */
    if (s->rollback_journal && s->wconn.db && conn_exec(&s->wconn, "PRAGMA journal_mode = WAL"))
        log_warn("store: left in a rollback journal; the next open returns it to WAL");
    conn_close(&s->wconn);
    free(s->idf.bits);
    free(s->pool);
    free(s->pool_busy);
    free(s->path);
    free(s);
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
    sqlite3_stmt *st = conn_stmt(r, "PRAGMA integrity_check");
    rc = VIGIL_ESTORE;
    snprintf(msg, STORE_MSG_SZ, "integrity check could not run");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        snprintf(msg, STORE_MSG_SZ, "%s", res ? res : "?");
        if (res && strcmp(res, "ok") == 0)
            rc = 0;
    }
    if (st)
        sqlite3_reset(st);
    store_read_end(r);
    return rc;
}

/* ---- read pool ----------------------------------------------------------------------- */

int store_read_begin(struct store *s, struct store_reader **out)
{
    pthread_mutex_lock(&s->plock);
    for (;;) {
        for (unsigned i = 0; i < s->npool; i++) {
            if (!s->pool_busy[i]) {
                s->pool_busy[i] = true;
                pthread_mutex_unlock(&s->plock);
                *out = &s->pool[i];
                return conn_exec(&s->pool[i], "BEGIN");
            }
        }
        pthread_cond_wait(&s->pcond, &s->plock);
    }
}

void store_read_end(struct store_reader *r)
{
    if (!r || !r->in_pool)
        return;
    conn_reset_all(r); /* a statement left on a row would keep the old snapshot alive */
    conn_exec(r, "COMMIT");
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
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%lld", (long long)(kib > 0 ? kib : CACHE_KIB));
    return conn_exec(t->conn, sql);
}

/* ---- small helpers ------------------------------------------------------------------- */

const char *col_text(sqlite3_stmt *st, int i)
{
    const char *p = (const char *)sqlite3_column_text(st, i);
    return p ? p : "";
}

int step_insert(struct store_reader *c, sqlite3_stmt *st, int64_t *id)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return VIGIL_EEXIST;
    if (rc != SQLITE_DONE) {
        log_error("store: insert failed: %s", sqlite3_errmsg(c->db));
        return VIGIL_ESTORE;
    }
    if (id)
        *id = sqlite3_last_insert_rowid(c->db);
    return 0;
}

int step_row(struct store_reader *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 0;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return VIGIL_ENOENT;
    log_error("store: query failed: %s", sqlite3_errmsg(c->db));
    return VIGIL_ESTORE;
}

/* ---- collections --------------------------------------------------------------------- */

int store_txn_collection_add(struct store_txn *t, const char *name, const char *title,
                             const char *description, bool partner_writable, int64_t *id)
{
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO collections(uuid, name, title, "
                                          "description, partner_writable) VALUES(?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, partner_writable);
    return step_insert(t->conn, st, id);
}

#define COLL_COLS "id, uuid, name, title, description, partner_writable"

static void read_collection(sqlite3_stmt *st, struct store_collection *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->uuid = col_text(st, 1);
    c->name = col_text(st, 2);
    c->title = col_text(st, 3);
    c->description = col_text(st, 4);
    c->partner_writable = sqlite3_column_int(st, 5);
}

int store_collections(struct store_reader *r,
                      int (*fn)(void *ctx, const struct store_collection *c), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " COLL_COLS " FROM collections ORDER BY id");
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_collection c;
        read_collection(st, &c);
        rc = fn(ctx, &c);
    }
    sqlite3_reset(st);
    return rc;
}

int store_collection_find(struct store_reader *r, const char *uuid_or_name,
                          struct store_collection *out)
{
    sqlite3_stmt *st =
        conn_stmt(r, "SELECT " COLL_COLS " FROM collections WHERE uuid = ?1 OR name = ?1");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, uuid_or_name, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc)
        read_collection(st, out);
    return rc;
}

/* ---- TAXII status resources ---------------------------------------------------------- */

int store_txn_status_put(struct store_txn *t, const char *id, int64_t partner, const char *json)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO statuses(id, partner, created, json)"
                                          " VALUES(?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_int64(st, 3, ts_now());
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    return step_insert(t->conn, st, NULL);
}

int store_status_get(struct store_reader *r, const char *id, int64_t *partner, const char **json)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT partner, json FROM statuses WHERE id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (rc)
        return rc;
    *partner = sqlite3_column_int64(st, 0);
    *json = col_text(st, 1);
    return 0;
}

int step_done(struct store_reader *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store: update failed: %s", sqlite3_errmsg(c->db));
        return VIGIL_ESTORE;
    }
    return 0;
}
