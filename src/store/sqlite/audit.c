/* audit.c - the audit log's rows. The hash chain itself is computed by access/audit.c. */
#include <string.h>

#include "base/err.h"
#include "store/sqlite/store_int.h"

int store_txn_audit_append(struct store_txn *t, const struct store_audit *e)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO audit(seq, time, partner, user, action,"
                                          " object, detail, prev, hash)"
                                          " VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, e->seq);
    sqlite3_bind_int64(st, 2, e->time);
    sqlite3_bind_int64(st, 3, e->partner);
    sqlite3_bind_int64(st, 4, e->user);
    sqlite3_bind_text(st, 5, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->detail, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, e->prev, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, e->hash, STORE_HASH_LEN, SQLITE_STATIC);
    return step_insert(t->conn, st, NULL);
}

int store_audit_head(struct store_reader *r, int64_t *seq, unsigned char hash[STORE_HASH_LEN])
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!st)
        return VIGIL_ESTORE;
    int rc = step_row(r, st);
    *seq = 0;
    memset(hash, 0, STORE_HASH_LEN);
    if (rc == VIGIL_ENOENT)
        return 0;
    if (rc)
        return rc;
    *seq = sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) == STORE_HASH_LEN)
        memcpy(hash, sqlite3_column_blob(st, 1), STORE_HASH_LEN);
    return 0;
}

/* Copies a hash column; a wrong length reads as zeros (and so fails verification). */
static void hash_col(sqlite3_stmt *st, int i, unsigned char out[STORE_HASH_LEN])
{
    if (sqlite3_column_bytes(st, i) == STORE_HASH_LEN)
        memcpy(out, sqlite3_column_blob(st, i), STORE_HASH_LEN);
    else
        memset(out, 0, STORE_HASH_LEN);
}

int store_audit_scan(struct store_reader *r, int64_t partner, int64_t after, size_t limit,
                     int (*fn)(void *ctx, const struct store_audit *e), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT seq, time, partner, user, action, object, detail,"
                                    " prev, hash FROM audit WHERE seq > ?1"
                                    " AND (?2 = 0 OR partner = ?2) ORDER BY seq LIMIT ?3");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_audit e = {
            .seq = sqlite3_column_int64(st, 0),
            .time = sqlite3_column_int64(st, 1),
            .partner = sqlite3_column_int64(st, 2),
            .user = sqlite3_column_int64(st, 3),
            .action = col_text(st, 4),
            .object = col_text(st, 5),
            .detail = col_text(st, 6),
        };
        hash_col(st, 7, e.prev);
        hash_col(st, 8, e.hash);
        rc = fn(ctx, &e);
    }
    sqlite3_reset(st);
    return rc;
}
