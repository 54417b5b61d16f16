/* pg_copy.c - a hub's rows, table by table, for vigil store copy (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "store/pg/pg_int.h"

/* Type oids of the columns the schema uses (pg_type.h). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT4 23
#define OID_FLOAT8 701

static bool known_table(const char *table)
{
    for (const char *const *t = store_copy_tables(); *t; t++)
        if (strcmp(*t, table) == 0)
            return true;
    return false;
}

static bool plain_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

int store_table_scan(struct store_reader *r, const char *table,
                     int (*fn)(void *ctx, size_t ncols, const char *const *cols,
                               const struct store_value *v),
                     void *ctx)
{
    if (!known_table(table))
        return VIGIL_EINVAL;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    PGresult *res = pg_run(r, sql, NULL);
    if (!res)
        return VIGIL_ESTORE;
    size_t n = (size_t)PQnfields(res);
    const char **cols = xcalloc(n ? n : 1, sizeof *cols);
    struct store_value *v = xcalloc(n ? n : 1, sizeof *v);
    unsigned char **blobs = xcalloc(n ? n : 1, sizeof *blobs);
    for (size_t i = 0; i < n; i++)
        cols[i] = PQfname(res, (int)i);
    int rc = 0;
    for (int row = 0; row < PQntuples(res) && !rc; row++) {
        for (size_t i = 0; i < n; i++) {
            int k = (int)i;
            memset(&v[i], 0, sizeof v[i]);
            PQfreemem(blobs[i]);
            blobs[i] = NULL;
            if (gnull(res, row, k))
                continue;
            Oid type = PQftype(res, k);
            if (type == OID_INT8 || type == OID_INT4) {
                v[i].type = STORE_INT;
                v[i].i = gi64(res, row, k);
            } else if (type == OID_FLOAT8) {
                v[i].type = STORE_REAL;
                v[i].d = gdbl(res, row, k);
            } else if (type == OID_BYTEA) {
                size_t len = 0;
                blobs[i] = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, k), &len);
                v[i].type = STORE_BLOB;
                v[i].s = (const char *)blobs[i];
                v[i].len = len;
            } else {
                v[i].type = STORE_TEXT;
                v[i].s = gtxt(res, row, k);
                v[i].len = (size_t)PQgetlength(res, row, k);
            }
        }
        rc = fn(ctx, n, cols, v);
    }
    for (size_t i = 0; i < n; i++)
        PQfreemem(blobs[i]);
    free(blobs);
    free(cols);
    free(v);
    PQclear(res);
    return rc;
}

int store_txn_table_put(struct store_txn *t, const char *table, size_t ncols,
                        const char *const *cols, const struct store_value *v)
{
    if (!known_table(table) || !ncols)
        return VIGIL_EINVAL;
    struct buf sql;
    struct pg_params p;
    buf_init(&sql, 4096);
    pp_init(&p);
    int rc = buf_addf(&sql, "INSERT INTO %s(", table);
    for (size_t i = 0; i < ncols && !rc; i++)
        rc = plain_name(cols[i]) ? buf_addf(&sql, "%s\"%s\"", i ? "," : "", cols[i])
                                 : VIGIL_EINVAL;
    rc = rc ? rc : buf_adds(&sql, ") VALUES(");
    for (size_t i = 0; i < ncols && !rc; i++) {
        int k;
        switch (v[i].type) {
        case STORE_INT:
            k = pp_i64(&p, v[i].i);
            break;
        case STORE_REAL:
            k = pp_dbl(&p, v[i].d);
            break;
        case STORE_TEXT:
            k = pp_strn(&p, v[i].s, v[i].len);
            break;
        case STORE_BLOB:
            k = pp_bytea(&p, (const unsigned char *)v[i].s, v[i].len);
            break;
        default:
            k = pp_null(&p);
        }
        rc = buf_addf(&sql, "%s$%d", i ? "," : "", k);
    }
    rc = rc ? rc : buf_addc(&sql, ')');
    /* A new store starts with its service marks: the copied ones replace them. */
    if (!rc && strcmp(table, "service_marks") == 0)
        rc = buf_adds(&sql, " ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    if (!rc)
        rc = pg_exec(t->conn, sql.data, &p, NULL);
    else if (rc != VIGIL_EINVAL)
        rc = VIGIL_ETOOBIG;
    buf_release(&sql);
    pp_release(&p);
    return rc;
}

int store_txn_numbers_reset(struct store_txn *t)
{
    /* Every BIGSERIAL column continues after the highest number copied. */
    PGresult *res = pg_run(t->conn, "SELECT table_name, column_name FROM information_schema.columns"
                                    " WHERE table_schema = current_schema()"
                                    " AND column_default LIKE 'nextval(%'", NULL);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        const char *tab = gtxt(res, i, 0), *col = gtxt(res, i, 1);
        if (!plain_name(tab) || !plain_name(col))
            continue;
        char *sql = xasprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'),"
                              " COALESCE(MAX(\"%s\"), 0) + 1, false) FROM %s",
                              tab, col, col, tab);
        rc = pg_exec(t->conn, sql, NULL, NULL);
        free(sql);
    }
    PQclear(res);
    return rc;
}
