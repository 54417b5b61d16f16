/* pg_compliance.c - agreements and violations (S8) on PostgreSQL (sqlite/compliance.c). */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "store/pg/pg_int.h"

static void acl_params(struct pg_params *p, const struct store_acl *acl)
{
    pp_i64(p, acl->owner);
    pp_i64(p, acl->tlp);
    pp_i64(p, acl->group);
}

int store_txn_agreement_put(struct store_txn *t, const struct store_agreement *a)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, a->id);
    if (pg_exec_p(t->conn, "DELETE FROM agreements WHERE stix_id = $1", &p, NULL))
        return VIGIL_ESTORE;
    pp_init(&p);
    pp_str(&p, a->id);
    pp_str(&p, a->name);
    pp_str(&p, a->digest);
    acl_params(&p, &a->acl);
    pp_i64(&p, a->loaded);
    pp_i64(&p, a->loaded_by);
    pp_str(&p, a->doc);
    return pg_insert_p(t->conn,
                       "INSERT INTO agreements(stix_id, name, digest, owner, tlp, grp,"
                       " loaded, loaded_by, doc) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                       " ON CONFLICT DO NOTHING RETURNING seq",
                       &p, NULL);
}

int store_agreements(struct store_reader *r, bool with_docs,
                     int (*fn)(void *ctx, const struct store_agreement *a), void *ctx)
{
    PGresult *res = pg_run(r,
                           with_docs ? "SELECT seq, stix_id, name, digest, owner, tlp, grp,"
                                       " loaded, loaded_by, doc FROM agreements ORDER BY seq"
                                     : "SELECT seq, stix_id, name, digest, owner, tlp, grp,"
                                       " loaded, loaded_by, '' FROM agreements ORDER BY seq",
                           NULL);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_agreement a = {
            .seq = gi64(res, i, 0),
            .id = gtxt(res, i, 1),
            .name = gtxt(res, i, 2),
            .digest = gtxt(res, i, 3),
            .acl = {.owner = gi64(res, i, 4), .tlp = gint(res, i, 5), .group = gi64(res, i, 6)},
            .loaded = gi64(res, i, 7),
            .loaded_by = gi64(res, i, 8),
            .doc = gtxt(res, i, 9),
        };
        rc = fn(ctx, &a);
    }
    PQclear(res);
    return rc;
}

#define VIOL_COLS                                                                                  \
    "seq, stix_id, agreement, zone, party, report, report_owner, event, mode, time, lat, lon,"     \
    " area, status, created, updated, detail, withdrawn, kept_tlp, kept_grp"

static void read_violation(const PGresult *r, int i, struct store_violation *v)
{
    v->seq = gi64(r, i, 0);
    v->id = gtxt(r, i, 1);
    v->agreement = gtxt(r, i, 2);
    v->zone = gtxt(r, i, 3);
    v->party = gtxt(r, i, 4);
    v->report = gtxt(r, i, 5);
    v->report_owner = gi64(r, i, 6);
    v->event = gtxt(r, i, 7);
    v->mode = gtxt(r, i, 8);
    v->time = gi64(r, i, 9);
    v->has_point = !gnull(r, i, 10);
    v->lat = gdbl(r, i, 10);
    v->lon = gdbl(r, i, 11);
    v->area = gtxt(r, i, 12);
    v->status = gtxt(r, i, 13);
    v->created = gi64(r, i, 14);
    v->updated = gi64(r, i, 15);
    v->detail = gtxt(r, i, 16);
    v->withdrawn = gi64(r, i, 17);
    v->kept = (struct store_acl){
        .owner = v->report_owner, .tlp = gint(r, i, 18), .group = gi64(r, i, 19)};
}

int store_txn_violation_put(struct store_txn *t, const struct store_violation *v, int64_t *seq,
                            bool *created)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, v->id);
    PGresult *res = pg_run_p(t->conn, "SELECT seq FROM violations WHERE stix_id = $1", &p);
    if (!res)
        return VIGIL_ESTORE;
    *created = PQntuples(res) == 0;
    int64_t old = *created ? 0 : gi64(res, 0, 0);
    PQclear(res);
    pp_init(&p);
    pp_str(&p, v->agreement);
    pp_str(&p, v->zone);
    pp_str(&p, v->party);
    pp_str(&p, v->report);
    pp_i64(&p, v->report_owner);
    pp_str(&p, v->event);
    pp_str(&p, v->mode ? v->mode : "");
    pp_i64(&p, v->time);
    if (v->has_point) {
        pp_dbl(&p, v->lat);
        pp_dbl(&p, v->lon);
    } else {
        pp_null(&p);
        pp_null(&p);
    }
    pp_str(&p, v->area ? v->area : "");
    pp_str(&p, v->detail ? v->detail : "{}");
    pp_i64(&p, v->updated);
    if (*created) {
        pp_str(&p, v->id);
        pp_str(&p, v->status);
        pp_i64(&p, v->created);
        return pg_insert_p(t->conn,
                           "INSERT INTO violations(agreement, zone, party, report,"
                           " report_owner, event, mode, time, lat, lon, area, detail,"
                           " updated, stix_id, status, created) VALUES($1,$2,$3,$4,$5,$6,"
                           "$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) ON CONFLICT DO NOTHING"
                           " RETURNING seq",
                           &p, seq);
    }
    pp_i64(&p, old);
    *seq = old;
    return pg_exec_p(t->conn,
                     "UPDATE violations SET agreement = $1, zone = $2, party = $3,"
                     " report = $4, report_owner = $5, event = $6, mode = $7, time = $8,"
                     " lat = $9, lon = $10, area = $11, detail = $12, updated = $13"
                     " WHERE seq = $14",
                     &p, NULL);
}

int store_txn_violation_delete(struct store_txn *t, int64_t seq)
{
    static const char *const sql[] = {
        "DELETE FROM violation_evidence WHERE violation = $1",
        "DELETE FROM violation_steps WHERE violation = $1",
        "DELETE FROM violation_opinions WHERE violation = $1",
        "DELETE FROM violations WHERE seq = $1",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        struct pg_params p;
        pp_init(&p);
        pp_i64(&p, seq);
        if (pg_exec_p(t->conn, sql[i], &p, NULL))
            return VIGIL_ESTORE;
    }
    return 0;
}

int store_txn_violation_withdraw(struct store_txn *t, int64_t seq, vtime_t at,
                                 const struct store_acl *kept)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, at);
    pp_i64(&p, kept->tlp);
    pp_i64(&p, kept->group);
    pp_i64(&p, seq);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn,
                       "UPDATE violations SET withdrawn = $1, updated = $1, kept_tlp = $2,"
                       " kept_grp = $3 WHERE seq = $4",
                       &p, &n);
    return rc ? rc : n ? 0 : VIGIL_ENOENT;
}

int store_txn_violation_status(struct store_txn *t, int64_t seq, const char *status,
                               vtime_t updated)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, status);
    pp_i64(&p, updated);
    pp_i64(&p, seq);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn, "UPDATE violations SET status = $1, updated = $2 WHERE seq = $3",
                       &p, &n);
    return rc ? rc : n ? 0 : VIGIL_ENOENT;
}

int store_violation_get(struct store_reader *r, const char *id, struct store_violation *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    int rc;
    PGresult *res = pg_row(r, KEEP_VIOLATION,
                           "SELECT " VIOL_COLS " FROM violations WHERE stix_id = $1", &p, &rc);
    pp_release(&p);
    if (res)
        read_violation(res, 0, out);
    return rc;
}

int store_violations_query(struct store_reader *r, const struct store_violation_query *q,
                           int (*fn)(void *ctx, const struct store_violation *v), void *ctx)
{
    struct buf sql;
    struct pg_params p;
    buf_init(&sql, 2048);
    pp_init(&p);
    int rc = buf_adds(&sql, "SELECT " VIOL_COLS " FROM violations WHERE true");
    if (!rc && q->since)
        rc = buf_addf(&sql, " AND time >= $%d", pp_i64(&p, q->since));
    if (!rc && q->until)
        rc = buf_addf(&sql, " AND time < $%d", pp_i64(&p, q->until));
    if (!rc && q->status)
        rc = buf_addf(&sql, " AND status = $%d", pp_str(&p, q->status));
    if (!rc && q->party)
        rc = buf_addf(&sql, " AND party = $%d", pp_str(&p, q->party));
    if (!rc && q->zone)
        rc = buf_addf(&sql, " AND zone = $%d", pp_str(&p, q->zone));
    if (!rc && q->report) {
        int a = pp_str(&p, q->report), b = pp_i64(&p, q->report_owner);
        rc = buf_addf(&sql, " AND report = $%d AND report_owner = $%d", a, b);
    }
    rc = rc ? rc : buf_adds(&sql, " ORDER BY time, seq");
    PGresult *res = rc ? NULL : pg_run(r, sql.data, &p);
    buf_release(&sql);
    pp_release(&p);
    if (rc)
        return rc;
    if (!res)
        return VIGIL_ESTORE;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_violation v;
        read_violation(res, i, &v);
        rc = fn(ctx, &v);
    }
    PQclear(res);
    return rc;
}

int store_txn_evidence_add(struct store_txn *t, int64_t violation, const struct store_evidence *e)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    pp_str(&p, e->report);
    acl_params(&p, &e->acl);
    pp_i64(&p, e->added);
    pp_i64(&p, e->added_by);
    return pg_insert_p(t->conn,
                       "INSERT INTO violation_evidence(violation, report, owner, tlp, grp,"
                       " added, added_by) VALUES($1,$2,$3,$4,$5,$6,$7)"
                       " ON CONFLICT DO NOTHING RETURNING 1",
                       &p, NULL);
}

int store_txn_evidence_set_acl(struct store_txn *t, const char *report, const struct store_acl *acl)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, acl->tlp);
    pp_i64(&p, acl->group);
    pp_str(&p, report);
    pp_i64(&p, acl->owner);
    return pg_exec_p(t->conn,
                     "UPDATE violation_evidence SET tlp = $1, grp = $2"
                     " WHERE report = $3 AND owner = $4",
                     &p, NULL);
}

int store_txn_evidence_remove(struct store_txn *t, const char *report, int64_t owner)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, report);
    pp_i64(&p, owner);
    return pg_exec_p(t->conn, "DELETE FROM violation_evidence WHERE report = $1 AND owner = $2", &p,
                     NULL);
}

int store_evidence(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_evidence *e), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    PGresult *res = pg_run_p(r,
                             "SELECT report, owner, tlp, grp, added, added_by"
                             " FROM violation_evidence WHERE violation = $1"
                             " ORDER BY added, report COLLATE \"C\"",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_evidence e = {
            .report = gtxt(res, i, 0),
            .acl = {.owner = gi64(res, i, 1), .tlp = gint(res, i, 2), .group = gi64(res, i, 3)},
            .added = gi64(res, i, 4),
            .added_by = gi64(res, i, 5),
        };
        rc = fn(ctx, &e);
    }
    PQclear(res);
    return rc;
}

int store_txn_violation_step_add(struct store_txn *t, int64_t violation,
                                 const struct store_violation_step *s)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    pp_i64(&p, s->time);
    pp_i64(&p, s->partner);
    pp_i64(&p, s->user);
    pp_str(&p, s->user_name ? s->user_name : "");
    pp_str(&p, s->from ? s->from : "");
    pp_str(&p, s->to);
    pp_str(&p, s->reason ? s->reason : "");
    return pg_insert_p(t->conn,
                       "INSERT INTO violation_steps(violation, time, partner, \"user\","
                       " user_name, from_status, to_status, reason)"
                       " VALUES($1,$2,$3,$4,$5,$6,$7,$8) RETURNING seq",
                       &p, NULL);
}

int store_violation_steps(struct store_reader *r, int64_t violation,
                          int (*fn)(void *ctx, const struct store_violation_step *s), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    PGresult *res = pg_run_p(r,
                             "SELECT time, partner, \"user\", user_name, from_status, to_status,"
                             " reason FROM violation_steps WHERE violation = $1 ORDER BY seq",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_violation_step s = {
            .time = gi64(res, i, 0),
            .partner = gi64(res, i, 1),
            .user = gi64(res, i, 2),
            .user_name = gtxt(res, i, 3),
            .from = gtxt(res, i, 4),
            .to = gtxt(res, i, 5),
            .reason = gtxt(res, i, 6),
        };
        rc = fn(ctx, &s);
    }
    PQclear(res);
    return rc;
}

int store_txn_opinion_add(struct store_txn *t, int64_t violation, const struct store_opinion *o)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    pp_i64(&p, o->time);
    pp_i64(&p, o->partner);
    pp_i64(&p, o->user);
    pp_str(&p, o->opinion);
    pp_str(&p, o->json);
    return pg_insert_p(t->conn,
                       "INSERT INTO violation_opinions(violation, time, partner, \"user\","
                       " opinion, json) VALUES($1,$2,$3,$4,$5,$6) RETURNING seq",
                       &p, NULL);
}

int store_opinions(struct store_reader *r, int64_t violation,
                   int (*fn)(void *ctx, const struct store_opinion *o), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, violation);
    PGresult *res = pg_run_p(r,
                             "SELECT time, partner, \"user\", opinion, json"
                             " FROM violation_opinions WHERE violation = $1 ORDER BY seq",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_opinion o = {
            .time = gi64(res, i, 0),
            .partner = gi64(res, i, 1),
            .user = gi64(res, i, 2),
            .opinion = gtxt(res, i, 3),
            .json = gtxt(res, i, 4),
        };
        rc = fn(ctx, &o);
    }
    PQclear(res);
    return rc;
}
