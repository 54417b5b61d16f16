/* copy.c - a hub's rows, table by table, for vigil store copy (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/sqlite/store_int.h"

static bool known_table(const char *table)
{
    for (const char *const *t = store_copy_tables(); *t; t++)
        if (strcmp(*t, table) == 0)
            return true;
    return false;
}

/* A column name as the other store gave it: letters, digits and '_' only. */
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
    /* A report event may keep its data in its index row (events.c, EVENT_DATA): copied with
     * the data written out, as another store keeps it. */
    const char *events = "SELECT e.seq, e.time, e.kind, e.owner, e.tlp, e.grp, CASE WHEN"
                         " e.data = '' AND e.kind = 'report' THEN COALESCE(r.doc, '') ELSE"
                         " e.data END AS data, e.subject, e.gone FROM events e LEFT JOIN reports"
                         " r ON e.data = '' AND r.stix_id = e.subject AND r.owner = e.owner";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, strcmp(table, "events") == 0 ? events : sql, -1, &st, NULL) !=
        SQLITE_OK)
        return VIGIL_ESTORE;
    size_t n = (size_t)sqlite3_column_count(st);
    const char **cols = xcalloc(n, sizeof *cols);
    struct store_value *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        cols[i] = sqlite3_column_name(st, (int)i);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < n; i++) {
            int k = (int)i;
            memset(&v[i], 0, sizeof v[i]);
            switch (sqlite3_column_type(st, k)) {
            case SQLITE_INTEGER:
                v[i].type = STORE_INT;
                v[i].i = sqlite3_column_int64(st, k);
                break;
            case SQLITE_FLOAT:
                v[i].type = STORE_REAL;
                v[i].d = sqlite3_column_double(st, k);
                break;
            case SQLITE_TEXT:
                v[i].type = STORE_TEXT;
                v[i].s = (const char *)sqlite3_column_text(st, k);
                v[i].len = (size_t)sqlite3_column_bytes(st, k);
                break;
            case SQLITE_BLOB:
                v[i].type = STORE_BLOB;
                v[i].s = sqlite3_column_blob(st, k);
                v[i].len = (size_t)sqlite3_column_bytes(st, k);
                break;
            default:
                v[i].type = STORE_NULL;
            }
        }
        rc = fn(ctx, n, cols, v);
    }
    if (!rc && step != SQLITE_DONE)
        rc = VIGIL_ESTORE;
    sqlite3_finalize(st);
    free(cols);
    free(v);
    return rc;
}

int store_txn_table_put(struct store_txn *t, const char *table, size_t ncols,
                        const char *const *cols, const struct store_value *v)
{
    if (!known_table(table) || !ncols)
        return VIGIL_EINVAL;
    struct buf sql;
    buf_init(&sql, 4096);
    /* A new store starts with its service marks: the copied ones replace them. */
    int rc = buf_addf(&sql, "INSERT %sINTO %s(",
                      strcmp(table, "service_marks") == 0 ? "OR REPLACE " : "", table);
    for (size_t i = 0; i < ncols && !rc; i++)
        rc = plain_name(cols[i]) ? buf_addf(&sql, "%s\"%s\"", i ? "," : "", cols[i])
                                 : VIGIL_EINVAL;
    rc = rc ? rc : buf_adds(&sql, ") VALUES(");
    for (size_t i = 0; i < ncols && !rc; i++)
        rc = buf_adds(&sql, i ? ",?" : "?");
    rc = rc ? rc : buf_addc(&sql, ')');
    sqlite3_stmt *st = rc ? NULL : conn_stmt(t->conn, sql.data);
    buf_release(&sql);
    if (rc)
        return rc == VIGIL_EINVAL ? rc : VIGIL_ETOOBIG;
    if (!st)
        return VIGIL_ESTORE;
    for (size_t i = 0; i < ncols; i++) {
        int k = (int)i + 1;
        switch (v[i].type) {
        case STORE_INT:
            sqlite3_bind_int64(st, k, v[i].i);
            break;
        case STORE_REAL:
            sqlite3_bind_double(st, k, v[i].d);
            break;
        case STORE_TEXT:
            sqlite3_bind_text(st, k, v[i].s, (int)v[i].len, SQLITE_STATIC);
            break;
        case STORE_BLOB:
            sqlite3_bind_blob(st, k, v[i].s, (int)v[i].len, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_null(st, k);
        }
    }
    return step_insert(t->conn, st, NULL);
}

int store_txn_numbers_reset(struct store_txn *t)
{
    /* What SQLite keeps beside the copied tables: the id index and the reports' R*Tree
     * (schema.c, migrations 6 and 7), and the writer's memory of them. Id rows a bulk load
     * holds (objects.c) are written first, so that nothing is left to write twice. */
    if (objects_held_flush(t))
        return VIGIL_ESTORE;
    int rc = conn_exec(t->conn, "DELETE FROM object_ids; DELETE FROM object_ids_new;"
                                "INSERT INTO object_ids SELECT vigil_idh(stix_id), seq FROM objects"
                                " ORDER BY 1, 2;"
                                "DELETE FROM reports_geo;"
                                "INSERT INTO reports_geo SELECT seq, lat, lat, lon, lon,"
                                " start / 3600000000.0, end / 3600000000.0 FROM reports"
                                " WHERE lat IS NOT NULL AND lon IS NOT NULL;");
    if (!rc) {
        sqlite3_stmt *st = conn_stmt(t->conn, "SELECT COALESCE(MAX(date_added), 0) FROM objects");
        if (st && sqlite3_step(st) == SQLITE_ROW)
            t->s->last_added = sqlite3_column_int64(st, 0);
        if (st)
            sqlite3_reset(st);
        t->s->ids_new = 0;
        idf_drop(t->s);
    }
    return rc;
}

bool store_leads(struct store *s)
{
    (void)s;
    return true; /* one process serves a SQLite store */
}
