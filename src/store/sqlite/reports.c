/* reports.c - the event report index: one row per report, an R*Tree on its place. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

#define HOUR_US 3600000000.0 /* the R*Tree's unit of time (schema.c, migration 7) */

int store_txn_report_index(struct store_txn *t, const struct store_report_in *r)
{
    struct store_reader *c = t->conn;
    sqlite3_stmt *st = conn_stmt(c, "SELECT seq FROM reports WHERE stix_id = ? AND owner = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->acl.owner);
    int64_t old = 0;
    if (step_row(c, st) == 0) {
        old = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        /* A corrected report keeps its seq; what was derived from its old content is withdrawn
         * through the log (the alert service reads it). */
        static const char *const sql[] = {"DELETE FROM reports_geo WHERE seq = ?",
                                          "INSERT INTO reports_withdrawn(seq) VALUES(?)"};
        for (int i = 0; i < 2; i++) {
            st = conn_stmt(c, sql[i]);
            if (!st)
                return VIGIL_ESTORE;
            sqlite3_bind_int64(st, 1, old);
            if (step_done(c, st))
                return VIGIL_ESTORE;
        }
        /* Its earlier events showed the old content, perhaps under a laxer marking. */
        if (events_withdraw(c, r->id, r->acl.owner))
            return VIGIL_ESTORE;
    }
    /* A new row is a plain INSERT: OR REPLACE (which may delete) makes SQLite keep a statement
     * journal, a copy of every page the insert touches, for each row of an import. */
    st = old ? conn_stmt(c, "INSERT OR REPLACE INTO reports(seq, stix_id, owner, tlp, grp, event,"
                            " mode, future, start, end, lat, lon, precision_m, area, reliability,"
                            " credibility, source_ref, text, doc, added, target)"
                            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
             : conn_stmt(c, "INSERT INTO reports(seq, stix_id, owner, tlp, grp, event,"
                            " mode, future, start, end, lat, lon, precision_m, area, reliability,"
                            " credibility, source_ref, text, doc, added, target)"
                            " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    if (old)
        sqlite3_bind_int64(st, 1, old);
    sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->acl.owner);
    sqlite3_bind_int(st, 4, r->acl.tlp);
    sqlite3_bind_int64(st, 5, r->acl.group);
    sqlite3_bind_text(st, 6, r->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->mode ? r->mode : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, r->future);
    sqlite3_bind_int64(st, 9, r->start);
    sqlite3_bind_int64(st, 10, r->end);
    if (r->has_point) {
        sqlite3_bind_double(st, 11, r->lat);
        sqlite3_bind_double(st, 12, r->lon);
        sqlite3_bind_double(st, 13, r->precision_m);
    }
    sqlite3_bind_text(st, 14, r->area ? r->area : "", -1, SQLITE_STATIC);
    char rel[2] = {r->reliability, '\0'};
    sqlite3_bind_text(st, 15, rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 16, r->credibility);
    sqlite3_bind_text(st, 17, r->source_ref ? r->source_ref : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 18, r->text ? r->text : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 19, r->doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 20, ts_now()); /* accepted now: this transaction commits it */
    sqlite3_bind_text(st, 21, r->target ? r->target : "", -1, SQLITE_STATIC);
    int64_t seq;
    int rc = step_insert(c, st, &seq);
    t->last_report.set = false;
    if (!rc && strlen(r->id) < sizeof t->last_report.id) {
        buf_reset(&t->last_report.doc);
        t->last_report.set = buf_adds(&t->last_report.doc, r->doc) == 0;
        snprintf(t->last_report.id, sizeof t->last_report.id, "%s", r->id);
        t->last_report.owner = r->acl.owner;
    }
    if (rc || !r->has_point || (t->bulk.on && seq > t->bulk.mark))
        return rc; /* a bulk load places the rows above its mark at its end */
    st = conn_stmt(c, "INSERT INTO reports_geo(seq, min_lat, max_lat, min_lon, max_lon,"
                      " min_hour, max_hour) VALUES(?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_double(st, 2, r->lat);
    sqlite3_bind_double(st, 3, r->lat);
    sqlite3_bind_double(st, 4, r->lon);
    sqlite3_bind_double(st, 5, r->lon);
    sqlite3_bind_double(st, 6, (double)r->start / HOUR_US);
    sqlite3_bind_double(st, 7, (double)r->end / HOUR_US);
    return step_insert(c, st, NULL);
}

/* Below this many rows, or fewer than the index holds, a bulk load keeps the per-row inserts:
 * building the indexes again reads the whole index. */
#define BULK_MIN_ROWS 10000

int store_txn_reports_bulk_begin(struct store_txn *t, size_t rows)
{
    struct store_reader *c = t->conn;
    if (t->bulk.on || rows < BULK_MIN_ROWS)
        return 0;
    sqlite3_stmt *st = conn_stmt(c, "SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM reports");
    if (!st || step_row(c, st))
        return VIGIL_ESTORE;
    int64_t mark = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if ((int64_t)rows < n)
        return 0;
    /* Every index of the table but its UNIQUE(stix_id, owner) and the source records': the
     * load's own look-ups (a report's earlier version, by id or by source record) need
     * those. Each is dropped and later created again from its own definition. */
    st = conn_stmt(c, "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                      " AND tbl_name = 'reports' AND sql IS NOT NULL"
                      " AND name != 'reports_source' ORDER BY name");
    if (!st)
        return VIGIL_ESTORE;
    char drop[4][300];
    size_t k = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = col_text(st, 0), *sql = col_text(st, 1);
        if (k == 4 || strlen(sql) >= sizeof t->bulk.index_sql[0] || strlen(name) > 200) {
            sqlite3_reset(st);
            return 0; /* not the schema this was written for: per row, as always */
        }
        snprintf(t->bulk.index_sql[k], sizeof t->bulk.index_sql[k], "%s", sql);
        snprintf(drop[k], sizeof drop[k], "DROP INDEX \"%s\"", name);
        k++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return VIGIL_ESTORE;
    conn_reset_all(c); /* no statement may be reading the table while its indexes go */
    for (size_t i = 0; i < k; i++)
        if (conn_exec(c, drop[i]))
            return VIGIL_ESTORE;
    t->bulk.n_index = k;
    t->bulk.mark = mark;
    t->bulk.on = true;
    objects_hold_ids(t); /* the objects' id rows written in key order at the end too */
    return 0;
}

int store_txn_reports_bulk_end(struct store_txn *t)
{
    struct store_reader *c = t->conn;
    if (!t->bulk.on)
        return 0;
    t->bulk.on = false;
    conn_reset_all(c);
    if (objects_held_end(t))
        return VIGIL_ESTORE;
    for (size_t i = 0; i < t->bulk.n_index; i++)
        if (conn_exec(c, t->bulk.index_sql[i]))
            return VIGIL_ESTORE;
    /* The R*Tree written whole, packed (geo_pack.c): the same boxes as the per-row insert. */
    return reports_geo_pack(c, t->bulk.mark);
}

int reports_unindex(struct store_reader *c, const char *id, int64_t owner)
{
    /* Most callers have no row: one probe of the (stix_id, owner) index tells. */
    sqlite3_stmt *st = conn_stmt(c, "SELECT 1 FROM reports WHERE stix_id = ? AND owner = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, owner);
    int rc = step_row(c, st);
    sqlite3_reset(st);
    if (rc)
        return rc == VIGIL_ENOENT ? 0 : rc;
    static const char *const sql[] = {
        "INSERT INTO reports_withdrawn(seq) SELECT seq FROM reports WHERE stix_id = ?"
        " AND owner = ?",
        "DELETE FROM reports_geo WHERE seq IN (SELECT seq FROM reports WHERE stix_id = ?"
        " AND owner = ?)",
        "DELETE FROM reports WHERE stix_id = ? AND owner = ?"};
    for (int i = 0; i < 3; i++) {
        st = conn_stmt(c, sql[i]);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, owner);
        if (step_done(c, st))
            return VIGIL_ESTORE;
    }
    return events_withdraw(c, id, owner);
}

int store_txn_report_unindex(struct store_txn *t, const char *id, int64_t owner)
{
    t->last_report.set = false;
    return reports_unindex(t->conn, id, owner);
}

int store_report_by_source(struct store_reader *r, int64_t owner, const char *source_ref,
                           char id[80], const char **doc)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT stix_id, doc FROM reports WHERE owner = ?"
                                    " AND source_ref = ? AND source_ref != ''");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_text(st, 2, source_ref, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc) {
        snprintf(id, 80, "%s", col_text(st, 0));
        *doc = col_text(st, 1);
    }
    return rc;
}

/* A row of REPORT_COLS. */
#define REPORT_COLS "seq, stix_id, owner, tlp, grp, start, doc"

static void read_report(sqlite3_stmt *st, struct store_report *rep)
{
    rep->seq = sqlite3_column_int64(st, 0);
    rep->id = col_text(st, 1);
    rep->acl = (struct store_acl){.owner = sqlite3_column_int64(st, 2),
                                  .tlp = sqlite3_column_int(st, 3),
                                  .group = sqlite3_column_int64(st, 4)};
    rep->start = sqlite3_column_int64(st, 5);
    rep->doc = col_text(st, 6);
}

/* Escapes LIKE wildcards in text with '\'. */
static int add_like(struct buf *b, const char *text)
{
    int rc = buf_addc(b, '%');
    for (const char *p = text; *p && !rc; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            rc = buf_addc(b, '\\');
        if (!rc)
            rc = buf_addc(b, *p);
    }
    return rc ? rc : buf_addc(b, '%');
}

int store_reports_query(struct store_reader *r, const struct store_report_query *q,
                        int (*emit)(void *ctx, const struct store_report *rep), void *ctx,
                        bool *more)
{
    *more = false;
    if (!q->visible)
        return 0; /* a read that names no reader sees nothing */
    *more = false;
    struct buf sql, like;
    buf_init(&sql, 4096);
    buf_init(&like, 4096);
    int rc = buf_adds(&sql, "SELECT r.seq, r.stix_id, r.owner, r.tlp, r.grp, r.start, r.doc"
                            " FROM reports r");
    /* With a box, the R*Tree finds the candidates; without, the time index orders them. */
    if (!rc && q->has_bbox)
        rc = buf_adds(&sql, " JOIN reports_geo g ON g.seq = r.seq AND g.min_lat >= ?1"
                            " AND g.max_lat <= ?3 AND g.min_lon >= ?2 AND g.max_lon <= ?4"
                            " AND g.max_hour >= ?16 AND g.min_hour <= ?17");
    rc = rc ? rc : buf_adds(&sql, " WHERE 1");
    if (!rc && q->since)
        rc = buf_adds(&sql, " AND r.end >= ?5");
    if (!rc && q->until)
        rc = buf_adds(&sql, " AND r.start <= ?6");
    if (!rc && q->event)
        rc = buf_adds(&sql, " AND r.event = ?7");
    if (!rc && q->mode)
        rc = buf_adds(&sql, " AND r.mode = ?8");
    if (!rc && q->future >= 0)
        rc = buf_adds(&sql, " AND r.future = ?9");
    if (!rc && q->partner)
        rc = buf_adds(&sql, " AND r.owner = ?10");
    if (!rc && q->max_reliability)
        rc = buf_adds(&sql, " AND r.reliability <= ?11");
    if (!rc && q->max_credibility)
        rc = buf_adds(&sql, " AND r.credibility <= ?12");
    if (!rc && q->text) {
        rc = buf_adds(&sql, " AND r.text LIKE ?13 ESCAPE '\\'");
        rc = rc ? rc : add_like(&like, q->text);
    }
    if (!rc && q->has_after)
        rc = buf_adds(&sql, " AND (r.start < ?14 OR (r.start = ?14 AND r.seq < ?15))");
    rc = rc ? rc : buf_adds(&sql, " ORDER BY r.start DESC, r.seq DESC");
    if (rc) {
        buf_release(&sql);
        buf_release(&like);
        return VIGIL_ETOOBIG;
    }
    sqlite3_stmt *st = conn_stmt(r, sql.data);
    buf_release(&sql);
    if (!st) {
        buf_release(&like);
        return VIGIL_ESTORE;
    }
    sqlite3_bind_double(st, 1, q->min_lat);
    sqlite3_bind_double(st, 2, q->min_lon);
    sqlite3_bind_double(st, 3, q->max_lat);
    sqlite3_bind_double(st, 4, q->max_lon);
    sqlite3_bind_int64(st, 5, q->since);
    sqlite3_bind_int64(st, 6, q->until);
    sqlite3_bind_text(st, 7, q->event ? q->event : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, q->mode ? q->mode : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, q->future);
    sqlite3_bind_int64(st, 10, q->partner);
    char rel[2] = {q->max_reliability, '\0'};
    sqlite3_bind_text(st, 11, rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 12, q->max_credibility);
    sqlite3_bind_text(st, 13, like.data, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 14, q->after_start);
    sqlite3_bind_int64(st, 15, q->after_seq);
    /* The R*Tree's time bounds, an hour wider than the period: its floats are approximate. */
    sqlite3_bind_double(st, 16, q->since ? (double)q->since / HOUR_US - 1 : -1e30);
    sqlite3_bind_double(st, 17, q->until ? (double)q->until / HOUR_US + 1 : 1e30);
    buf_release(&like);

    size_t n = 0;
    int step;
    rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report rep;
        read_report(st, &rep);
        if (!q->visible(q->visible_ctx, &rep.acl))
            continue;
        if (q->limit && n == q->limit) {
            *more = true;
            break;
        }
        n++;
        rc = emit(ctx, &rep);
        if (rc)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        log_error("store: report query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

int store_report_get(struct store_reader *r, const char *id,
                     bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                     int (*emit)(void *ctx, const struct store_report *rep), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " REPORT_COLS " FROM reports WHERE stix_id = ?"
                                    " ORDER BY seq");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_report rep;
        read_report(st, &rep);
        if (visible && visible(visible_ctx, &rep.acl))
            rc = emit(ctx, &rep);
    }
    sqlite3_reset(st);
    return rc;
}

#define ROW_COLUMNS                                                                                \
    "r.seq, r.stix_id, r.owner, r.tlp, r.grp, r.event, r.mode, r.future, r.start, r.end, r.lat,"   \
    " r.lon, r.precision_m, r.area, r.reliability, r.credibility, r.source_ref,"                   \
    " json_extract(r.doc, '$.fatalities'), json_extract(r.doc, '$.injured'), r.added,"     \
    " r.target"

/* A count of column k, or -1 when NULL (unknown) or out of range. */
static int count_at(sqlite3_stmt *st, int k)
{
    if (sqlite3_column_type(st, k) != SQLITE_INTEGER)
        return -1;
    sqlite3_int64 v = sqlite3_column_int64(st, k);
    return v >= 0 && v <= INT32_MAX ? (int)v : -1;
}

/* The index row whose ROW_COLUMNS start at column k of st. */
static void row_at(sqlite3_stmt *st, int k, struct store_report_row *row)
{
    *row = (struct store_report_row){
        .seq = sqlite3_column_int64(st, k),
        .id = col_text(st, k + 1),
        .acl = {.owner = sqlite3_column_int64(st, k + 2),
                .tlp = sqlite3_column_int(st, k + 3),
                .group = sqlite3_column_int64(st, k + 4)},
        .event = col_text(st, k + 5),
        .mode = col_text(st, k + 6),
        .future = sqlite3_column_int(st, k + 7),
        .start = sqlite3_column_int64(st, k + 8),
        .end = sqlite3_column_int64(st, k + 9),
        .has_point = sqlite3_column_type(st, k + 10) != SQLITE_NULL,
        .lat = sqlite3_column_double(st, k + 10),
        .lon = sqlite3_column_double(st, k + 11),
        .precision_m = sqlite3_column_double(st, k + 12),
        .area = col_text(st, k + 13),
        .reliability = col_text(st, k + 14)[0],
        .credibility = sqlite3_column_int(st, k + 15),
        .source_ref = col_text(st, k + 16),
        .fatalities = count_at(st, k + 17),
        .injured = count_at(st, k + 18),
        .added = sqlite3_column_int64(st, k + 19),
        .target = col_text(st, k + 20),
    };
}

int store_reports_newest(struct store_reader *r, size_t n,
                         bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                         void (*fn)(void *ctx, int64_t seq), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT seq, owner, tlp, grp FROM reports ORDER BY seq DESC");
    if (!st)
        return VIGIL_ESTORE;
    int step = SQLITE_DONE;
    while (n && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_acl acl = {.owner = sqlite3_column_int64(st, 1),
                                .tlp = sqlite3_column_int(st, 2),
                                .group = sqlite3_column_int64(st, 3)};
        if (visible && visible(visible_ctx, &acl)) {
            fn(ctx, sqlite3_column_int64(st, 0));
            n--;
        }
    }
    sqlite3_reset(st);
    return n && step != SQLITE_DONE ? VIGIL_ESTORE : 0;
}

int store_reports_after(struct store_reader *r, int64_t after, size_t limit,
                        bool (*visible)(void *ctx, const struct store_acl *acl),
                        void *visible_ctx,
                        int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    sqlite3_stmt *st = conn_stmt_after(r,
                                       "SELECT " ROW_COLUMNS " FROM reports r WHERE r.seq > ?"
                                       " ORDER BY r.seq LIMIT ?",
                                       after, limit);
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_report_row row;
        row_at(st, 0, &row);
        if (visible && visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    sqlite3_reset(st);
    return rc;
}

int store_reports_by_time(struct store_reader *r, vtime_t after_start, int64_t after_seq,
                          int64_t max_seq, size_t limit,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " ROW_COLUMNS " FROM reports r"
                                    " WHERE (r.start > ?1 OR (r.start = ?1 AND r.seq > ?2))"
                                    " AND r.seq <= ?3 ORDER BY r.start, r.seq LIMIT ?4");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, after_start);
    sqlite3_bind_int64(st, 2, after_seq);
    sqlite3_bind_int64(st, 3, max_seq);
    sqlite3_bind_int64(st, 4, limit ? (sqlite3_int64)limit : -1);
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_row row;
        row_at(st, 0, &row);
        if (visible && visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    if (!rc && step != SQLITE_DONE) {
        log_error("store: report query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

int store_reports_by_seqs(struct store_reader *r, const int64_t *seqs, size_t n,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    if (!visible || !n)
        return 0;
    /* The seqs as a JSON array: one statement whatever their number (json_each), each seq
     * found by the primary key. */
    struct buf list;
    buf_init(&list, BUF_NOCAP);
    buf_addc(&list, '[');
    for (size_t i = 0; i < n; i++)
        buf_addf(&list, "%s%lld", i ? "," : "", (long long)seqs[i]);
    buf_addc(&list, ']');
    sqlite3_stmt *st = conn_stmt(r, "SELECT " ROW_COLUMNS " FROM reports r WHERE r.seq IN"
                                    " (SELECT value FROM json_each(?1)) ORDER BY r.start, r.seq");
    int rc = 0, step = SQLITE_DONE;
    if (!st)
        rc = VIGIL_ESTORE;
    else
        sqlite3_bind_text(st, 1, list.data, (int)list.len, SQLITE_TRANSIENT);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_row row;
        row_at(st, 0, &row);
        if (visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    if (st && !rc && step != SQLITE_DONE) {
        log_error("store: report query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    if (st)
        sqlite3_reset(st);
    buf_release(&list);
    return rc;
}

int store_reports_window(struct store_reader *r, const struct store_report_window *q,
                         bool (*visible)(void *ctx, const struct store_acl *acl),
                         void *visible_ctx,
                         int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    if (!visible)
        return 0;
    /* With a box the R*Tree (place and hours, rounded outwards) finds the candidates; without,
     * the time index (start, seq) over [t0 - longest, t1]. The exact times are compared. */
    const char *sql =
        q->has_bbox ? "SELECT " ROW_COLUMNS " FROM reports_geo g JOIN reports r ON r.seq = g.seq"
                      " WHERE g.min_lat >= ?1 AND g.max_lat <= ?3 AND g.min_lon >= ?2"
                      " AND g.max_lon <= ?4 AND g.max_hour >= ?5 AND g.min_hour <= ?6"
                      " AND r.end >= ?7 AND r.start <= ?8 AND r.seq <= ?9"
        : q->unlocated ? "SELECT " ROW_COLUMNS " FROM reports r WHERE r.lat IS NULL"
                         " AND r.start >= ?10 AND r.start <= ?8 AND r.end >= ?7 AND r.seq <= ?9"
                       : "SELECT " ROW_COLUMNS " FROM reports r WHERE r.start >= ?10"
                         " AND r.start <= ?8 AND r.end >= ?7 AND r.seq <= ?9";
    sqlite3_stmt *st = conn_stmt(r, sql);
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_double(st, 1, q->min_lat);
    sqlite3_bind_double(st, 2, q->min_lon);
    sqlite3_bind_double(st, 3, q->max_lat);
    sqlite3_bind_double(st, 4, q->max_lon);
    sqlite3_bind_double(st, 5, (double)q->t0 / HOUR_US - 1);
    sqlite3_bind_double(st, 6, (double)q->t1 / HOUR_US + 1);
    sqlite3_bind_int64(st, 7, q->t0);
    sqlite3_bind_int64(st, 8, q->t1);
    sqlite3_bind_int64(st, 9, q->max_seq);
    sqlite3_bind_int64(st, 10, q->t0 - (q->longest_us > 0 ? q->longest_us : 0));
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_report_row row;
        row_at(st, 0, &row);
        if (visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    if (!rc && step != SQLITE_DONE) {
        log_error("store: report window query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

int store_reports_withdrawn_after(struct store_reader *r, int64_t after, size_t limit,
                                  bool (*visible)(void *ctx, const struct store_acl *acl),
                                  void *visible_ctx,
                                  int (*fn)(void *ctx, int64_t n, int64_t seq,
                                            const struct store_report_row *now),
                                  void *ctx)
{
    sqlite3_stmt *st = conn_stmt_after(r,
                                       "SELECT w.n, w.seq, " ROW_COLUMNS " FROM reports_withdrawn w"
                                       " LEFT JOIN reports r ON r.seq = w.seq WHERE w.n > ?"
                                       " ORDER BY w.n LIMIT ?",
                                       after, limit);
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_report_row row;
        bool present = sqlite3_column_type(st, 2) != SQLITE_NULL;
        if (present)
            row_at(st, 2, &row);
        present = present && visible && visible(visible_ctx, &row.acl);
        rc = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                present ? &row : NULL);
    }
    sqlite3_reset(st);
    return rc;
}

int store_reports_head(struct store_reader *r, int64_t *seq, int64_t *withdrawn)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM reports),"
                                    " (SELECT COALESCE(MAX(n), 0) FROM reports_withdrawn)");
    if (!st)
        return VIGIL_ESTORE;
    int rc = step_row(r, st);
    *seq = rc ? 0 : sqlite3_column_int64(st, 0);
    *withdrawn = rc ? 0 : sqlite3_column_int64(st, 1);
    return rc;
}
