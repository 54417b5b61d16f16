/* compliance.c - agreements and violations (S8): the rows behind src/compliance/. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

/* ---- agreements ------------------------------------------------------------------------ */

int store_txn_agreement_put(struct store_txn *t, const struct store_agreement *a)
{
    struct store_reader *c = t->conn;
    sqlite3_stmt *st = conn_stmt(c, "DELETE FROM agreements WHERE stix_id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    if (step_done(c, st))
        return VIGIL_ESTORE;
    st = conn_stmt(c, "INSERT INTO agreements(stix_id, name, digest, owner, tlp, grp, loaded,"
                      " loaded_by, doc) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, a->acl.owner);
    sqlite3_bind_int(st, 5, a->acl.tlp);
    sqlite3_bind_int64(st, 6, a->acl.group);
    sqlite3_bind_int64(st, 7, a->loaded);
    sqlite3_bind_int64(st, 8, a->loaded_by);
    sqlite3_bind_text(st, 9, a->doc, -1, SQLITE_STATIC);
    return step_insert(c, st, NULL);
}

int store_agreements(struct store_reader *r, bool with_docs,
                     int (*fn)(void *ctx, const struct store_agreement *a), void *ctx)
{
    sqlite3_stmt *st =
        conn_stmt(r, with_docs ? "SELECT seq, stix_id, name, digest, owner, tlp, grp, loaded,"
                                 " loaded_by, doc FROM agreements ORDER BY seq"
                               : "SELECT seq, stix_id, name, digest, owner, tlp, grp, loaded,"
                                 " loaded_by, '' FROM agreements ORDER BY seq");
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_agreement a = {
            .seq = sqlite3_column_int64(st, 0),
            .id = col_text(st, 1),
            .name = col_text(st, 2),
            .digest = col_text(st, 3),
            .acl = {.owner = sqlite3_column_int64(st, 4),
                    .tlp = sqlite3_column_int(st, 5),
                    .group = sqlite3_column_int64(st, 6)},
            .loaded = sqlite3_column_int64(st, 7),
            .loaded_by = sqlite3_column_int64(st, 8),
            .doc = col_text(st, 9),
        };
        rc = fn(ctx, &a);
    }
    if (!rc && step != SQLITE_DONE) {
        log_error("store: agreements query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- violations ------------------------------------------------------------------------ */

#define VIOL_COLS                                                                                  \
    "seq, stix_id, agreement, zone, party, report, report_owner, event, mode, time, lat, lon,"     \
    " area, status, created, updated, detail, withdrawn, kept_tlp, kept_grp"

static void read_violation(sqlite3_stmt *st, struct store_violation *v)
{
    v->seq = sqlite3_column_int64(st, 0);
    v->id = col_text(st, 1);
    v->agreement = col_text(st, 2);
    v->zone = col_text(st, 3);
    v->party = col_text(st, 4);
    v->report = col_text(st, 5);
    v->report_owner = sqlite3_column_int64(st, 6);
    v->event = col_text(st, 7);
    v->mode = col_text(st, 8);
    v->time = sqlite3_column_int64(st, 9);
    v->has_point = sqlite3_column_type(st, 10) != SQLITE_NULL;
    v->lat = sqlite3_column_double(st, 10);
    v->lon = sqlite3_column_double(st, 11);
    v->area = col_text(st, 12);
    v->status = col_text(st, 13);
    v->created = sqlite3_column_int64(st, 14);
    v->updated = sqlite3_column_int64(st, 15);
    v->detail = col_text(st, 16);
    v->withdrawn = sqlite3_column_int64(st, 17);
    v->kept = (struct store_acl){.owner = v->report_owner,
                                 .tlp = sqlite3_column_int(st, 18),
                                 .group = sqlite3_column_int64(st, 19)};
}

int store_txn_violation_put(struct store_txn *t, const struct store_violation *v, int64_t *seq,
                            bool *created)
{
    struct store_reader *c = t->conn;
    sqlite3_stmt *st = conn_stmt(c, "SELECT seq FROM violations WHERE stix_id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, v->id, -1, SQLITE_STATIC);
    int rc = step_row(c, st);
    if (rc && rc != VIGIL_ENOENT)
        return rc;
    *created = rc == VIGIL_ENOENT;
    int64_t old = *created ? 0 : sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (*created)
        st = conn_stmt(c, "INSERT INTO violations(agreement, zone, party, report, report_owner,"
                          " event, mode, time, lat, lon, area, detail, updated, stix_id, status,"
                          " created) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
                          "?16)");
    else
        st = conn_stmt(c, "UPDATE violations SET agreement = ?1, zone = ?2, party = ?3,"
                          " report = ?4, report_owner = ?5, event = ?6, mode = ?7, time = ?8,"
                          " lat = ?9, lon = ?10, area = ?11, detail = ?12, updated = ?13"
                          " WHERE seq = ?17");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, v->agreement, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v->zone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v->party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, v->report, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, v->report_owner);
    sqlite3_bind_text(st, 6, v->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, v->mode ? v->mode : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, v->time);
    if (v->has_point) {
        sqlite3_bind_double(st, 9, v->lat);
        sqlite3_bind_double(st, 10, v->lon);
    }
    sqlite3_bind_text(st, 11, v->area ? v->area : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, v->detail ? v->detail : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 13, v->updated);
    if (*created) {
        sqlite3_bind_text(st, 14, v->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 15, v->status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 16, v->created);
        return step_insert(c, st, seq);
    }
    sqlite3_bind_int64(st, 17, old);
    *seq = old;
    return step_done(c, st);
}

int store_txn_violation_delete(struct store_txn *t, int64_t seq)
{
    static const char *const sql[] = {
        "DELETE FROM violation_evidence WHERE violation = ?",
        "DELETE FROM violation_steps WHERE violation = ?",
        "DELETE FROM violation_opinions WHERE violation = ?",
        "DELETE FROM violations WHERE seq = ?",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = conn_stmt(t->conn, sql[i]);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, seq);
        if (step_done(t->conn, st))
            return VIGIL_ESTORE;
    }
    return 0;
}

int store_txn_violation_withdraw(struct store_txn *t, int64_t seq, vtime_t at,
                                 const struct store_acl *kept)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE violations SET withdrawn = ?1, updated = ?1,"
                                          " kept_tlp = ?2, kept_grp = ?3 WHERE seq = ?4");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int(st, 2, kept->tlp);
    sqlite3_bind_int64(st, 3, kept->group);
    sqlite3_bind_int64(st, 4, seq);
    if (step_done(t->conn, st))
        return VIGIL_ESTORE;
    return sqlite3_changes(t->conn->db) ? 0 : VIGIL_ENOENT;
}

int store_txn_violation_status(struct store_txn *t, int64_t seq, const char *status,
                               vtime_t updated)
{
    sqlite3_stmt *st =
        conn_stmt(t->conn, "UPDATE violations SET status = ?, updated = ? WHERE seq = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, updated);
    sqlite3_bind_int64(st, 3, seq);
    if (step_done(t->conn, st))
        return VIGIL_ESTORE;
    return sqlite3_changes(t->conn->db) ? 0 : VIGIL_ENOENT;
}

int store_violation_get(struct store_reader *r, const char *id, struct store_violation *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " VIOL_COLS " FROM violations WHERE stix_id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc)
        read_violation(st, out);
    return rc;
}

int store_violations_query(struct store_reader *r, const struct store_violation_query *q,
                           int (*fn)(void *ctx, const struct store_violation *v), void *ctx)
{
    struct buf sql;
    buf_init(&sql, 2048);
    int rc = buf_adds(&sql, "SELECT " VIOL_COLS " FROM violations WHERE 1");
    if (!rc && q->since)
        rc = buf_adds(&sql, " AND time >= ?1");
    if (!rc && q->until)
        rc = buf_adds(&sql, " AND time < ?2");
    if (!rc && q->status)
        rc = buf_adds(&sql, " AND status = ?3");
    if (!rc && q->party)
        rc = buf_adds(&sql, " AND party = ?4");
    if (!rc && q->zone)
        rc = buf_adds(&sql, " AND zone = ?5");
    if (!rc && q->report)
        rc = buf_adds(&sql, " AND report = ?6 AND report_owner = ?7");
    rc = rc ? rc : buf_adds(&sql, " ORDER BY time, seq");
    sqlite3_stmt *st = rc ? NULL : conn_stmt(r, sql.data);
    buf_release(&sql);
    if (!st)
        return rc ? rc : VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, q->since);
    sqlite3_bind_int64(st, 2, q->until);
    sqlite3_bind_text(st, 3, q->status ? q->status : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, q->party ? q->party : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, q->zone ? q->zone : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, q->report ? q->report : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, q->report_owner);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_violation v;
        read_violation(st, &v);
        rc = fn(ctx, &v);
    }
    if (!rc && step != SQLITE_DONE) {
        log_error("store: violations query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- evidence, history, opinions ------------------------------------------------------- */

int store_txn_evidence_add(struct store_txn *t, int64_t violation, const struct store_evidence *e)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO violation_evidence(violation, report,"
                                          " owner, tlp, grp, added, added_by)"
                                          " VALUES(?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    sqlite3_bind_text(st, 2, e->report, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, e->acl.owner);
    sqlite3_bind_int(st, 4, e->acl.tlp);
    sqlite3_bind_int64(st, 5, e->acl.group);
    sqlite3_bind_int64(st, 6, e->added);
    sqlite3_bind_int64(st, 7, e->added_by);
    return step_insert(t->conn, st, NULL);
}

int store_txn_evidence_set_acl(struct store_txn *t, const char *report, const struct store_acl *acl)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE violation_evidence SET tlp = ?, grp = ?"
                                          " WHERE report = ? AND owner = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int(st, 1, acl->tlp);
    sqlite3_bind_int64(st, 2, acl->group);
    sqlite3_bind_text(st, 3, report, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, acl->owner);
    return step_done(t->conn, st);
}

int store_txn_evidence_remove(struct store_txn *t, const char *report, int64_t owner)
{
    sqlite3_stmt *st =
        conn_stmt(t->conn, "DELETE FROM violation_evidence WHERE report = ? AND owner = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, report, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, owner);
    return step_done(t->conn, st);
}

int store_evidence(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_evidence *e), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT report, owner, tlp, grp, added, added_by"
                                    " FROM violation_evidence WHERE violation = ?"
                                    " ORDER BY added, report");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_evidence e = {
            .report = col_text(st, 0),
            .acl = {.owner = sqlite3_column_int64(st, 1),
                    .tlp = sqlite3_column_int(st, 2),
                    .group = sqlite3_column_int64(st, 3)},
            .added = sqlite3_column_int64(st, 4),
            .added_by = sqlite3_column_int64(st, 5),
        };
        rc = fn(ctx, &e);
    }
    sqlite3_reset(st);
    return rc;
}

int store_txn_violation_step_add(struct store_txn *t, int64_t violation,
                                 const struct store_violation_step *s)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO violation_steps(violation, time, partner,"
                                          " user, user_name, from_status, to_status, reason)"
                                          " VALUES(?,?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    sqlite3_bind_int64(st, 2, s->time);
    sqlite3_bind_int64(st, 3, s->partner);
    sqlite3_bind_int64(st, 4, s->user);
    sqlite3_bind_text(st, 5, s->user_name ? s->user_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, s->from ? s->from : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, s->to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, s->reason ? s->reason : "", -1, SQLITE_STATIC);
    return step_insert(t->conn, st, NULL);
}

int store_violation_steps(struct store_reader *r, int64_t violation,
                          int (*fn)(void *ctx, const struct store_violation_step *s), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT time, partner, user, user_name, from_status,"
                                    " to_status, reason FROM violation_steps"
                                    " WHERE violation = ? ORDER BY seq");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_violation_step s = {
            .time = sqlite3_column_int64(st, 0),
            .partner = sqlite3_column_int64(st, 1),
            .user = sqlite3_column_int64(st, 2),
            .user_name = col_text(st, 3),
            .from = col_text(st, 4),
            .to = col_text(st, 5),
            .reason = col_text(st, 6),
        };
        rc = fn(ctx, &s);
    }
    sqlite3_reset(st);
    return rc;
}

int store_txn_opinion_add(struct store_txn *t, int64_t violation, const struct store_opinion *o)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO violation_opinions(violation, time,"
                                          " partner, user, opinion, json) VALUES(?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    sqlite3_bind_int64(st, 2, o->time);
    sqlite3_bind_int64(st, 3, o->partner);
    sqlite3_bind_int64(st, 4, o->user);
    sqlite3_bind_text(st, 5, o->opinion, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->json, -1, SQLITE_STATIC);
    return step_insert(t->conn, st, NULL);
}

int store_opinions(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_opinion *o), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT time, partner, user, opinion, json"
                                    " FROM violation_opinions WHERE violation = ? ORDER BY seq");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, violation);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_opinion o = {
            .time = sqlite3_column_int64(st, 0),
            .partner = sqlite3_column_int64(st, 1),
            .user = sqlite3_column_int64(st, 2),
            .opinion = col_text(st, 3),
            .json = col_text(st, 4),
        };
        rc = fn(ctx, &o);
    }
    sqlite3_reset(st);
    return rc;
}
