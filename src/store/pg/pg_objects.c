/* pg_objects.c - STIX object versions and the report index, on PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/pg/pg_int.h"

/* Rows fetched per round trip by the paged scans: they filter by the read policy as they go. */
#define SCAN_CHUNK 256

/* The rows of (coll $1, id $2, owner $3). */
#define OWN_ROWS "coll = $1 AND stix_id = $2 AND owner = $3"

static void own_params(struct pg_params *p, int64_t coll, const char *id, int64_t owner)
{
    pp_init(p);
    pp_i64(p, coll);
    pp_str(p, id);
    pp_i64(p, owner);
}

static bool same_json(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    json_t *x = json_loadb(a, alen, 0, NULL), *y = json_loadb(b, blen, 0, NULL);
    bool eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

/* $1..$10 of an object row: coll, stix_id, type, spec_version, version, date_added, owner,
 * tlp, grp, json. */
static void object_params(struct pg_params *p, int64_t coll, const struct store_object_in *o,
                          vtime_t added)
{
    pp_init(p);
    pp_i64(p, coll);
    pp_str(p, o->id);
    pp_str(p, o->type);
    pp_str(p, o->spec_version);
    pp_i64(p, o->version);
    pp_i64(p, added);
    pp_i64(p, o->acl.owner);
    pp_i64(p, o->acl.tlp);
    pp_i64(p, o->acl.group);
    pp_strn(p, o->json, o->json_len);
}

#define INSERT_NEW_SQL                                                                         \
    "INSERT INTO objects(coll, stix_id, type, spec_version, version, date_added, owner, tlp,"   \
    " grp, json, latest, first) SELECT $1::bigint, $2::text, $3::text, $4::text, $5::bigint,"   \
    " $6::bigint, $7::bigint, $8::integer, $9::bigint, $10::text, 1, 1 WHERE NOT EXISTS"        \
    " (SELECT 1 FROM objects WHERE coll = $1::bigint AND stix_id = $2::text) RETURNING seq"

/* Stores o under date_added added when the collection holds its id already (the versions are
 * looked up): 0 with *outcome, VIGIL_EPERM, VIGIL_ECONFLICT or VIGIL_ESTORE. */
static int put_known(struct store_txn *t, int64_t coll, const struct store_object_in *o,
                     vtime_t added, enum store_put_outcome *outcome)
{
    struct store_reader *c = t->conn;
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, coll);
    pp_str(&p, o->id);
    PGresult *r = pg_run_p(
        c, "SELECT owner, version, json FROM objects WHERE coll = $1 AND stix_id = $2", &p);
    if (!r)
        return VIGIL_ESTORE;
    bool any = false, same = false, differs = false, foreign = false;
    vtime_t vmax = 0, vmin = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t owner = gi64(r, i, 0);
        vtime_t v = gi64(r, i, 1);
        if (owner != o->acl.owner) {
            foreign |= o->version != 0; /* observables (version 0) are each partner's own */
            continue;
        }
        if (v == o->version && o->version != 0)
            differs |= !same_json(gtxt(r, i, 2), (size_t)PQgetlength(r, i, 2), o->json,
                                  o->json_len);
        vmax = any && vmax > v ? vmax : v;
        vmin = any && vmin < v ? vmin : v;
        same |= v == o->version;
        any = true;
    }
    PQclear(r);
    if (foreign)
        return VIGIL_EPERM;
    if (differs)
        return VIGIL_ECONFLICT;
    if (same) {
        *outcome = STORE_PUT_EXISTS;
        return 0;
    }
    bool latest = !any || o->version > vmax;
    bool first = !any || o->version < vmin;
    int rc = 0;
    if (any && latest) {
        own_params(&p, coll, o->id, o->acl.owner);
        rc = pg_exec(c, "UPDATE objects SET latest = 0 WHERE " OWN_ROWS " AND latest = 1", &p,
                     NULL);
        pp_release(&p);
    }
    if (!rc && any && first) {
        own_params(&p, coll, o->id, o->acl.owner);
        rc = pg_exec(c, "UPDATE objects SET first = 0 WHERE " OWN_ROWS " AND first = 1", &p,
                     NULL);
        pp_release(&p);
    }
    if (rc)
        return rc;
    object_params(&p, coll, o, added);
    pp_i64(&p, latest);
    pp_i64(&p, first);
    rc = pg_exec_p(c, "INSERT INTO objects(coll, stix_id, type, spec_version, version,"
                      " date_added, owner, tlp, grp, json, latest, first)"
                      " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)", &p, NULL);
    if (rc)
        return rc;
    *outcome = latest ? STORE_PUT_ADDED : STORE_PUT_ADDED_OLDER;
    return 0;
}

int store_txn_objects_put(struct store_txn *t, int64_t coll,
                          const struct store_object_in *const *objs, size_t n,
                          enum store_put_outcome *outcomes, vtime_t *date_added, int *rcs)
{
    struct store_reader *c = t->conn;
    /* date_added strictly increases across the whole store: the writer read the newest under
     * the write lock at the start of this transaction (pg.c). Each object has its own, in the
     * order of objs, whichever way below stores it. */
    vtime_t now = ts_now();
    vtime_t base = now > t->s->last_added ? now : t->s->last_added + 1;
    for (size_t i = 0; i < n; i++)
        date_added[i] = base + (vtime_t)i;
    /* The common case, an id the collection does not hold yet: the first version is both the
     * latest and the first, stored by one INSERT ... WHERE NOT EXISTS; those of a chunk go in
     * one round trip (pipeline mode). The server runs them in order, so a later object of an
     * id that an earlier one inserted is not inserted: it, like an id stored before, is put by
     * put_known below, after the chunk. That changes no outcome: every object of an id that
     * put_known puts comes after the id's first (or only) insertion, the inserts touch no
     * other id, and put_known goes in the order of objs. The write lock (pg.c) keeps any
     * other writer from adding an id between the check and the insert. */
    struct pg_params p[STORE_PUT_BATCH];
    PGresult *res[STORE_PUT_BATCH];
    bool *known = xcalloc(n ? n : 1, sizeof *known);
    int rc = 0;
    for (size_t at = 0; !rc && at < n; at += STORE_PUT_BATCH) {
        int m = n - at < STORE_PUT_BATCH ? (int)(n - at) : STORE_PUT_BATCH;
        for (int k = 0; k < m; k++)
            object_params(&p[k], coll, objs[at + k], date_added[at + k]);
        rc = pg_run_all_p(c, INSERT_NEW_SQL, p, m, res);
        for (int k = 0; !rc && k < m; k++) {
            known[at + k] = PQntuples(res[k]) != 1;
            outcomes[at + k] = STORE_PUT_ADDED;
            rcs[at + k] = 0;
        }
        for (int k = 0; k < m; k++)
            PQclear(res[k]);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        if (!known[i])
            continue;
        rcs[i] = put_known(t, coll, objs[i], date_added[i], &outcomes[i]);
        if (rcs[i] && rcs[i] != VIGIL_EPERM && rcs[i] != VIGIL_ECONFLICT)
            rc = rcs[i];
    }
    free(known);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (rcs[i] == 0 && outcomes[i] != STORE_PUT_EXISTS)
            t->s->last_added = date_added[i]; /* increasing: the last one stored is the newest */
        else
            date_added[i] = 0;
    }
    return 0;
}

int store_txn_object_put(struct store_txn *t, int64_t coll, const struct store_object_in *o,
                         enum store_put_outcome *outcome, vtime_t *date_added)
{
    vtime_t added;
    int orc;
    int rc = store_txn_objects_put(t, coll, &o, 1, outcome, &added, &orc);
    rc = rc ? rc : orc;
    if (!rc && date_added && *outcome != STORE_PUT_EXISTS)
        *date_added = added;
    return rc;
}

/* Appends s, quoted, to a PostgreSQL array literal b (which holds "{" and what follows). */
static void array_add(struct buf *b, const char *s)
{
    if (b->len > 1)
        buf_addc(b, ',');
    buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_addc(b, '\\');
        buf_addc(b, *s);
    }
    buf_addc(b, '"');
}

int store_txn_reports_traced(struct store_txn *t, const char *const *ids, const int64_t *owners,
                             size_t n, bool *found)
{
    for (size_t i = 0; i < n; i++)
        found[i] = false;
    if (!n)
        return 0;
    /* The pairs as two array parameters: one round trip whatever their number. */
    struct buf idl, ownl;
    buf_init(&idl, BUF_NOCAP);
    buf_init(&ownl, BUF_NOCAP);
    buf_addc(&idl, '{');
    buf_addc(&ownl, '{');
    for (size_t i = 0; i < n; i++) {
        array_add(&idl, ids[i]);
        buf_addf(&ownl, "%s%lld", i ? "," : "", (long long)owners[i]);
    }
    buf_addc(&idl, '}');
    buf_addc(&ownl, '}');
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, idl.data);
    pp_str(&p, ownl.data);
    buf_release(&idl);
    buf_release(&ownl);
    PGresult *r = pg_run_p(
        t->conn,
        "SELECT u.i FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS u(id, owner, i)"
        " WHERE EXISTS (SELECT 1 FROM reports WHERE stix_id = u.id AND owner = u.owner)"
        " OR EXISTS (SELECT 1 FROM violations WHERE report = u.id AND report_owner = u.owner)"
        " OR EXISTS (SELECT 1 FROM violation_evidence WHERE report = u.id AND owner = u.owner)",
        &p);
    if (!r)
        return VIGIL_ESTORE;
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t i = gi64(r, k, 0);
        if (i >= 1 && (size_t)i <= n)
            found[i - 1] = true;
    }
    PQclear(r);
    return 0;
}

int store_txn_object_delete(struct store_txn *t, int64_t coll, const char *id, int64_t owner,
                            const vtime_t *versions, size_t nversions, size_t *deleted)
{
    struct store_reader *c = t->conn;
    struct pg_params p;
    *deleted = 0;
    size_t n = nversions ? nversions : 1;
    for (size_t i = 0; i < n; i++) {
        own_params(&p, coll, id, owner);
        if (nversions)
            pp_i64(&p, versions[i]);
        int64_t changed = 0;
        int rc = pg_exec(c, nversions ? "DELETE FROM objects WHERE " OWN_ROWS " AND version = $4"
                                      : "DELETE FROM objects WHERE " OWN_ROWS,
                         &p, &changed);
        pp_release(&p);
        if (rc)
            return rc;
        *deleted += (size_t)changed;
    }
    if (!*deleted)
        return 0;
    own_params(&p, coll, id, owner);
    int rc = pg_exec(c, "UPDATE objects SET"
                        " latest = (version = (SELECT MAX(version) FROM objects WHERE " OWN_ROWS
                        "))::int, first = (version = (SELECT MIN(version) FROM objects WHERE "
                        OWN_ROWS "))::int WHERE " OWN_ROWS, &p, NULL);
    PGresult *r = rc ? NULL : pg_run(c, "SELECT 1 FROM objects WHERE " OWN_ROWS " LIMIT 1", &p);
    pp_release(&p);
    if (!r)
        return VIGIL_ESTORE;
    bool left = PQntuples(r) > 0;
    PQclear(r);
    return left ? 0 : pg_reports_unindex(c, id, owner);
}

/* " AND col IN ($a,$b,...)" for n text values. */
static int add_in(struct buf *sql, struct pg_params *p, const char *col,
                  const char *const *v, size_t n)
{
    int rc = buf_addf(sql, " AND %s IN (", col);
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_addf(sql, "%s$%d", i ? "," : "", pp_str(p, v[i]));
    return rc ? rc : buf_addc(sql, ')');
}

static int newest_acl(struct store_reader *r, int64_t coll, const char *id, int64_t owner,
                      struct store_acl *out)
{
    struct pg_params p;
    own_params(&p, coll, id, owner);
    PGresult *res = pg_run(r, "SELECT tlp, grp FROM objects WHERE " OWN_ROWS " AND latest = 1"
                              " LIMIT 1", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = VIGIL_ENOENT;
    if (PQntuples(res)) {
        *out = (struct store_acl){.owner = owner, .tlp = gint(res, 0, 0), .group = gi64(res, 0, 1)};
        rc = 0;
    }
    PQclear(res);
    return rc;
}

static bool row_visible(struct store_reader *r, const struct store_query *q,
                        const struct store_object *o, bool latest)
{
    if (!q->visible || !q->visible(q->visible_ctx, &o->acl))
        return false;
    if (latest)
        return true;
    struct store_acl now;
    return newest_acl(r, q->coll, o->id, o->acl.owner, &now) == 0 &&
           q->visible(q->visible_ctx, &now);
}

int store_objects_query(struct store_reader *r, const struct store_query *q,
                        int (*emit)(void *ctx, const struct store_object *o), void *ctx,
                        struct store_page *page)
{
    memset(page, 0, sizeof *page);
    if (!q->visible)
        return 0;
    unsigned vm = q->version_match ? q->version_match : (q->nversions ? 0 : STORE_VER_LAST);
    vtime_t after = q->added_after;
    size_t bytes = 0;
    int rc = 0;
    for (bool done = false; !done && !rc;) {
        struct buf sql;
        struct pg_params p;
        buf_init(&sql, 64 * 1024);
        pp_init(&p);
        int brc = buf_addf(&sql,
                           "SELECT stix_id, type, spec_version, version, date_added, owner, tlp,"
                           " grp, json, latest FROM objects WHERE coll = $%d AND date_added > $%d",
                           pp_i64(&p, q->coll), pp_i64(&p, after));
        if (!brc && !(vm & STORE_VER_ALL)) {
            const char *sep = " AND (";
            if (vm & STORE_VER_LAST) {
                brc = brc ? brc : buf_addf(&sql, "%slatest = 1", sep);
                sep = " OR ";
            }
            if (vm & STORE_VER_FIRST) {
                brc = brc ? brc : buf_addf(&sql, "%sfirst = 1", sep);
                sep = " OR ";
            }
            if (q->nversions) {
                brc = brc ? brc : buf_addf(&sql, "%sversion IN (", sep);
                for (size_t i = 0; i < q->nversions && !brc; i++)
                    brc = buf_addf(&sql, "%s$%d", i ? "," : "", pp_i64(&p, q->versions[i]));
                brc = brc ? brc : buf_addc(&sql, ')');
            }
            brc = brc ? brc : buf_addc(&sql, ')');
        }
        if (!brc && q->nids)
            brc = add_in(&sql, &p, "stix_id", q->ids, q->nids);
        if (!brc && q->ntypes)
            brc = add_in(&sql, &p, "type", q->types, q->ntypes);
        if (!brc && q->nspec_versions)
            brc = add_in(&sql, &p, "spec_version", q->spec_versions, q->nspec_versions);
        brc = brc ? brc : buf_addf(&sql, " ORDER BY date_added LIMIT %d", SCAN_CHUNK);
        PGresult *res = brc ? NULL : pg_run(r, sql.data, &p);
        buf_release(&sql);
        pp_release(&p);
        if (brc)
            return VIGIL_ETOOBIG;
        if (!res)
            return VIGIL_ESTORE;
        int n = PQntuples(res);
        done = n < SCAN_CHUNK;
        for (int i = 0; i < n && !rc; i++) {
            struct store_object o = {
                .id = gtxt(res, i, 0),
                .type = gtxt(res, i, 1),
                .spec_version = gtxt(res, i, 2),
                .version = gi64(res, i, 3),
                .date_added = gi64(res, i, 4),
                .acl = {.owner = gi64(res, i, 5), .tlp = gint(res, i, 6), .group = gi64(res, i, 7)},
            };
            after = o.date_added;
            if (!row_visible(r, q, &o, gint(res, i, 9) != 0))
                continue;
            if ((q->limit && page->count == q->limit) || (q->max_bytes && bytes >= q->max_bytes)) {
                page->more = true;
                done = true;
                break;
            }
            o.json = gtxt(res, i, 8);
            o.json_len = (size_t)PQgetlength(res, i, 8);
            bytes += o.json_len;
            if (page->count == 0)
                page->first_added = o.date_added;
            page->last_added = o.date_added;
            page->count++;
            rc = emit(ctx, &o);
        }
        PQclear(res);
    }
    return rc;
}

/* ---- the event report index ---------------------------------------------------------- */

int store_txn_report_index(struct store_txn *t, const struct store_report_in *r)
{
    struct store_reader *c = t->conn;
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, r->id);
    pp_i64(&p, r->acl.owner);
    PGresult *res = pg_run(c, "SELECT seq FROM reports WHERE stix_id = $1 AND owner = $2", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int64_t old = PQntuples(res) ? gi64(res, 0, 0) : 0;
    PQclear(res);
    if (old) {
        /* A corrected report keeps its seq; what was derived from its old content is withdrawn
         * through the log (the alert service reads it), its earlier events with it. */
        pp_init(&p);
        pp_i64(&p, old);
        int rc = pg_exec(c, "INSERT INTO reports_withdrawn(seq) VALUES($1)", &p, NULL);
        pp_release(&p);
        if (rc || pg_events_withdraw(c, r->id, r->acl.owner))
            return VIGIL_ESTORE;
    }
    pp_init(&p);
    pp_str(&p, r->id);
    pp_i64(&p, r->acl.owner);
    pp_i64(&p, r->acl.tlp);
    pp_i64(&p, r->acl.group);
    pp_str(&p, r->event);
    pp_str(&p, r->mode ? r->mode : "");
    pp_i64(&p, r->future);
    pp_i64(&p, r->start);
    pp_i64(&p, r->end);
    if (r->has_point) {
        pp_dbl(&p, r->lat);
        pp_dbl(&p, r->lon);
        pp_dbl(&p, r->precision_m);
    } else {
        pp_null(&p);
        pp_null(&p);
        pp_null(&p);
    }
    pp_str(&p, r->area ? r->area : "");
    char rel[2] = {r->reliability, '\0'};
    pp_str(&p, rel);
    pp_i64(&p, r->credibility);
    pp_str(&p, r->source_ref ? r->source_ref : "");
    pp_str(&p, r->text ? r->text : "");
    pp_str(&p, r->doc);
    pp_i64(&p, ts_now()); /* accepted now: this transaction commits it */
    pp_str(&p, r->target ? r->target : "");
    int rc;
    if (old) {
        pp_i64(&p, old);
        rc = pg_exec(c, "UPDATE reports SET stix_id = $1, owner = $2, tlp = $3, grp = $4,"
                        " event = $5, mode = $6, future = $7, start = $8, \"end\" = $9,"
                        " lat = $10, lon = $11, precision_m = $12, area = $13, reliability = $14,"
                        " credibility = $15, source_ref = $16, text = $17, doc = $18, added = $19,"
                        " target = $20 WHERE seq = $21", &p, NULL);
    } else {
        rc = pg_insert(c, "INSERT INTO reports(stix_id, owner, tlp, grp, event, mode, future,"
                          " start, \"end\", lat, lon, precision_m, area, reliability, credibility,"
                          " source_ref, text, doc, added, target) VALUES($1,$2,$3,$4,$5,$6,$7,$8,"
                          "$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) ON CONFLICT DO NOTHING"
                          " RETURNING seq", &p, NULL);
    }
    pp_release(&p);
    return rc;
}

/* One statement: the index row of ($1, $2) goes, its withdrawal is logged and, when there was
 * one, its events are withdrawn (pg_events_withdraw, in the same snapshot: the outbox rows are
 * found through the events this statement marks gone). */
#define UNINDEX_SQL                                                                            \
    "WITH d AS (DELETE FROM reports WHERE stix_id = $1 AND owner = $2 RETURNING seq),"         \
    " w AS (INSERT INTO reports_withdrawn(seq) SELECT seq FROM d RETURNING seq),"              \
    " o AS (UPDATE outbox SET state = 2, next_attempt = 0,"                                    \
    "  last_error = 'withdrawn: the report was corrected or deleted'"                          \
    "  WHERE state = 0 AND EXISTS (SELECT 1 FROM w) AND event IN (SELECT seq FROM events"      \
    "  WHERE subject = $1 AND owner = $2 AND kind = 'report' AND gone = 0))"                   \
    " UPDATE events SET gone = 1 WHERE EXISTS (SELECT 1 FROM w) AND subject = $1"              \
    " AND owner = $2 AND kind = 'report' AND gone = 0"

int pg_reports_unindex(struct store_reader *c, const char *id, int64_t owner)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    pp_i64(&p, owner);
    return pg_exec_p(c, UNINDEX_SQL, &p, NULL);
}

int store_txn_report_unindex(struct store_txn *t, const char *id, int64_t owner)
{
    /* Nothing here needs its outcome: it goes with the next statement (ingest: the next
     * object's), one round trip for both. */
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    pp_i64(&p, owner);
    return pg_defer_p(t->conn, UNINDEX_SQL, &p);
}

int store_report_by_source(struct store_reader *r, int64_t owner, const char *source_ref,
                           char id[80], const char **doc)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, owner);
    pp_str(&p, source_ref);
    int rc;
    PGresult *res = pg_row(r, KEEP_REPORT_SOURCE,
                           "SELECT stix_id, doc FROM reports WHERE owner = $1 AND source_ref = $2"
                           " AND source_ref <> '' LIMIT 1", &p, &rc);
    pp_release(&p);
    if (res) {
        snprintf(id, 80, "%s", gtxt(res, 0, 0));
        *doc = gtxt(res, 0, 1);
    }
    return rc;
}

#define REPORT_COLS "r.seq, r.stix_id, r.owner, r.tlp, r.grp, r.start, r.doc"

static void read_report(const PGresult *res, int i, struct store_report *rep)
{
    rep->seq = gi64(res, i, 0);
    rep->id = gtxt(res, i, 1);
    rep->acl = (struct store_acl){
        .owner = gi64(res, i, 2), .tlp = gint(res, i, 3), .group = gi64(res, i, 4)};
    rep->start = gi64(res, i, 5);
    rep->doc = gtxt(res, i, 6);
}

/* Escapes LIKE wildcards in text with '\'. */
static int add_like(struct buf *b, const char *text)
{
    int rc = buf_addc(b, '%');
    for (const char *s = text; *s && !rc; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            rc = buf_addc(b, '\\');
        if (!rc)
            rc = buf_addc(b, *s);
    }
    return rc ? rc : buf_addc(b, '%');
}

int store_reports_query(struct store_reader *r, const struct store_report_query *q,
                        int (*emit)(void *ctx, const struct store_report *rep), void *ctx,
                        bool *more)
{
    *more = false;
    if (!q->visible)
        return 0;
    bool has_after = q->has_after;
    vtime_t after_start = q->after_start;
    int64_t after_seq = q->after_seq;
    size_t n = 0;
    int rc = 0;
    for (bool done = false; !done && !rc;) {
        struct buf sql, like;
        struct pg_params p;
        buf_init(&sql, 4096);
        buf_init(&like, 4096);
        pp_init(&p);
        int b = buf_adds(&sql, "SELECT " REPORT_COLS " FROM reports r WHERE true");
        if (!b && q->has_bbox)
            b = buf_addf(&sql, " AND r.lat >= $%d AND r.lat <= $%d AND r.lon >= $%d"
                               " AND r.lon <= $%d", pp_dbl(&p, q->min_lat),
                         pp_dbl(&p, q->max_lat), pp_dbl(&p, q->min_lon), pp_dbl(&p, q->max_lon));
        if (!b && q->since)
            b = buf_addf(&sql, " AND r.\"end\" >= $%d", pp_i64(&p, q->since));
        if (!b && q->until)
            b = buf_addf(&sql, " AND r.start <= $%d", pp_i64(&p, q->until));
        if (!b && q->event)
            b = buf_addf(&sql, " AND r.event = $%d", pp_str(&p, q->event));
        if (!b && q->mode)
            b = buf_addf(&sql, " AND r.mode = $%d", pp_str(&p, q->mode));
        if (!b && q->future >= 0)
            b = buf_addf(&sql, " AND r.future = $%d", pp_i64(&p, q->future));
        if (!b && q->partner)
            b = buf_addf(&sql, " AND r.owner = $%d", pp_i64(&p, q->partner));
        if (!b && q->max_reliability) {
            char rel[2] = {q->max_reliability, '\0'};
            b = buf_addf(&sql, " AND r.reliability COLLATE \"C\" <= $%d", pp_str(&p, rel));
        }
        if (!b && q->max_credibility)
            b = buf_addf(&sql, " AND r.credibility <= $%d", pp_i64(&p, q->max_credibility));
        if (!b && q->text) {
            b = add_like(&like, q->text);
            b = b ? b : buf_addf(&sql, " AND r.text ILIKE $%d", pp_str(&p, like.data));
        }
        if (!b && has_after) {
            int s1 = pp_i64(&p, after_start), s2 = pp_i64(&p, after_seq);
            b = buf_addf(&sql, " AND (r.start < $%d OR (r.start = $%d AND r.seq < $%d))", s1, s1,
                         s2);
        }
        b = b ? b : buf_addf(&sql, " ORDER BY r.start DESC, r.seq DESC LIMIT %d", SCAN_CHUNK);
        PGresult *res = b ? NULL : pg_run(r, sql.data, &p);
        buf_release(&sql);
        buf_release(&like);
        pp_release(&p);
        if (b)
            return VIGIL_ETOOBIG;
        if (!res)
            return VIGIL_ESTORE;
        int rows = PQntuples(res);
        done = rows < SCAN_CHUNK;
        for (int i = 0; i < rows && !rc; i++) {
            struct store_report rep;
            read_report(res, i, &rep);
            has_after = true;
            after_start = rep.start;
            after_seq = rep.seq;
            if (!q->visible(q->visible_ctx, &rep.acl))
                continue;
            if (q->limit && n == q->limit) {
                *more = true;
                done = true;
                break;
            }
            n++;
            rc = emit(ctx, &rep);
        }
        PQclear(res);
    }
    return rc;
}

int store_report_get(struct store_reader *r, const char *id,
                     bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                     int (*emit)(void *ctx, const struct store_report *rep), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    PGresult *res = pg_run(r, "SELECT " REPORT_COLS " FROM reports r WHERE r.stix_id = $1"
                              " ORDER BY r.seq", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report rep;
        read_report(res, i, &rep);
        if (visible && visible(visible_ctx, &rep.acl))
            rc = emit(ctx, &rep);
    }
    PQclear(res);
    return rc;
}

/* A count from the report's document: an integer, else NULL (read as -1). */
#define DOC_COUNT(f)                                                                               \
    "CASE WHEN jsonb_typeof(r.doc::jsonb->'" f "') = 'number' AND (r.doc::jsonb->>'" f "')"        \
    " ~ '^[0-9]{1,9}$' THEN (r.doc::jsonb->>'" f "') END"

#define ROW_COLUMNS                                                                                \
    "r.seq, r.stix_id, r.owner, r.tlp, r.grp, r.event, r.mode, r.future, r.start, r.\"end\","     \
    " r.lat, r.lon, r.precision_m, r.area, r.reliability, r.credibility, r.source_ref, "          \
    DOC_COUNT("fatalities") ", " DOC_COUNT("injured") ", r.added, r.target"

static int count_at(const PGresult *res, int i, int k)
{
    return gnull(res, i, k) ? -1 : gint(res, i, k);
}

static void row_at(const PGresult *res, int i, int k, struct store_report_row *row)
{
    *row = (struct store_report_row){
        .seq = gi64(res, i, k),
        .id = gtxt(res, i, k + 1),
        .acl = {.owner = gi64(res, i, k + 2),
                .tlp = gint(res, i, k + 3),
                .group = gi64(res, i, k + 4)},
        .event = gtxt(res, i, k + 5),
        .mode = gtxt(res, i, k + 6),
        .future = gint(res, i, k + 7),
        .start = gi64(res, i, k + 8),
        .end = gi64(res, i, k + 9),
        .has_point = !gnull(res, i, k + 10),
        .lat = gdbl(res, i, k + 10),
        .lon = gdbl(res, i, k + 11),
        .precision_m = gdbl(res, i, k + 12),
        .area = gtxt(res, i, k + 13),
        .reliability = gtxt(res, i, k + 14)[0],
        .credibility = gint(res, i, k + 15),
        .source_ref = gtxt(res, i, k + 16),
        .fatalities = count_at(res, i, k + 17),
        .injured = count_at(res, i, k + 18),
        .added = gi64(res, i, k + 19),
        .target = gtxt(res, i, k + 20),
    };
}

/* Parameters $1 (after) and $2 (limit, NULL for none). */
static void after_params(struct pg_params *p, int64_t after, size_t limit)
{
    pp_init(p);
    pp_i64(p, after);
    if (limit)
        pp_i64(p, (int64_t)limit);
    else
        pp_null(p);
}

int store_reports_newest(struct store_reader *r, size_t n,
                         bool (*visible)(void *ctx, const struct store_acl *acl), void *visible_ctx,
                         void (*fn)(void *ctx, int64_t seq), void *ctx)
{
    /* a page of rows at a time, each below the last one read */
    for (int64_t below = INT64_MAX; n;) {
        struct pg_params p;
        pp_init(&p);
        pp_i64(&p, below);
        PGresult *res = pg_run_p(r,
                                 "SELECT seq, owner, tlp, grp FROM reports WHERE seq < $1"
                                 " ORDER BY seq DESC LIMIT 10000",
                                 &p);
        if (!res)
            return VIGIL_ESTORE;
        int rows = PQntuples(res);
        for (int i = 0; i < rows && n; i++) {
            struct store_acl acl = {
                .owner = gi64(res, i, 1), .tlp = gint(res, i, 2), .group = gi64(res, i, 3)};
            below = gi64(res, i, 0);
            if (visible && visible(visible_ctx, &acl)) {
                fn(ctx, below);
                n--;
            }
        }
        PQclear(res);
        if (rows < 10000)
            break;
    }
    return 0;
}

int store_reports_after(struct store_reader *r, int64_t after, size_t limit,
                        bool (*visible)(void *ctx, const struct store_acl *acl),
                        void *visible_ctx,
                        int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    struct pg_params p;
    after_params(&p, after, limit);
    PGresult *res = pg_run(r, "SELECT " ROW_COLUMNS " FROM reports r WHERE r.seq > $1"
                              " ORDER BY r.seq LIMIT $2::bigint", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report_row row;
        row_at(res, i, 0, &row);
        if (visible && visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    PQclear(res);
    return rc;
}

int store_reports_by_time(struct store_reader *r, vtime_t after_start, int64_t after_seq,
                          int64_t max_seq, size_t limit,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, after_start);
    pp_i64(&p, after_seq);
    pp_i64(&p, max_seq);
    if (limit)
        pp_i64(&p, (int64_t)limit);
    else
        pp_null(&p);
    PGresult *res = pg_run(r, "SELECT " ROW_COLUMNS " FROM reports r"
                              " WHERE (r.start > $1 OR (r.start = $1 AND r.seq > $2))"
                              " AND r.seq <= $3 ORDER BY r.start, r.seq LIMIT $4::bigint", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report_row row;
        row_at(res, i, 0, &row);
        if (visible && visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    PQclear(res);
    return rc;
}

int store_reports_by_seqs(struct store_reader *r, const int64_t *seqs, size_t n,
                          bool (*visible)(void *ctx, const struct store_acl *acl),
                          void *visible_ctx,
                          int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    if (!visible || !n)
        return 0;
    /* The seqs as one array parameter: one round trip whatever their number. */
    struct buf list;
    buf_init(&list, BUF_NOCAP);
    buf_addc(&list, '{');
    for (size_t i = 0; i < n; i++)
        buf_addf(&list, "%s%lld", i ? "," : "", (long long)seqs[i]);
    buf_addc(&list, '}');
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, list.data);
    buf_release(&list);
    PGresult *res = pg_run_p(r, "SELECT " ROW_COLUMNS " FROM reports r"
                                " WHERE r.seq = ANY($1::bigint[]) ORDER BY r.start, r.seq", &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report_row row;
        row_at(res, i, 0, &row);
        if (visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    PQclear(res);
    return rc;
}

int store_reports_window(struct store_reader *r, const struct store_report_window *q,
                         bool (*visible)(void *ctx, const struct store_acl *acl),
                         void *visible_ctx,
                         int (*fn)(void *ctx, const struct store_report_row *row), void *ctx)
{
    if (!visible)
        return 0;
    /* With a box, the (lat, lon) index and the exact times; without, the time index (start,
     * seq) over [t0 - longest, t1] (SQLite's reports.c, likewise). */
    struct pg_params p;
    pp_init(&p);
    const char *sql;
    if (q->has_bbox) {
        pp_dbl(&p, q->min_lat);
        pp_dbl(&p, q->max_lat);
        pp_dbl(&p, q->min_lon);
        pp_dbl(&p, q->max_lon);
        sql = "SELECT " ROW_COLUMNS " FROM reports r WHERE r.lat >= $1 AND r.lat <= $2"
              " AND r.lon >= $3 AND r.lon <= $4 AND r.\"end\" >= $5 AND r.start <= $6"
              " AND r.seq <= $7";
    } else {
        pp_i64(&p, q->t0 - (q->longest_us > 0 ? q->longest_us : 0));
        sql = q->unlocated ? "SELECT " ROW_COLUMNS " FROM reports r WHERE r.lat IS NULL"
                             " AND r.start >= $1 AND r.\"end\" >= $2 AND r.start <= $3"
                             " AND r.seq <= $4"
                           : "SELECT " ROW_COLUMNS " FROM reports r WHERE r.start >= $1"
                             " AND r.\"end\" >= $2 AND r.start <= $3 AND r.seq <= $4";
    }
    pp_i64(&p, q->t0);
    pp_i64(&p, q->t1);
    pp_i64(&p, q->max_seq);
    PGresult *res = pg_run(r, sql, &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report_row row;
        row_at(res, i, 0, &row);
        if (visible(visible_ctx, &row.acl))
            rc = fn(ctx, &row);
    }
    PQclear(res);
    return rc;
}

int store_reports_withdrawn_after(struct store_reader *r, int64_t after, size_t limit,
                                  bool (*visible)(void *ctx, const struct store_acl *acl),
                                  void *visible_ctx,
                                  int (*fn)(void *ctx, int64_t n, int64_t seq,
                                            const struct store_report_row *now),
                                  void *ctx)
{
    struct pg_params p;
    after_params(&p, after, limit);
    PGresult *res = pg_run(r, "SELECT w.n, w.seq, " ROW_COLUMNS " FROM reports_withdrawn w"
                              " LEFT JOIN reports r ON r.seq = w.seq WHERE w.n > $1"
                              " ORDER BY w.n LIMIT $2::bigint", &p);
    pp_release(&p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_report_row row;
        bool present = !gnull(res, i, 2);
        if (present)
            row_at(res, i, 2, &row);
        present = present && visible && visible(visible_ctx, &row.acl);
        rc = fn(ctx, gi64(res, i, 0), gi64(res, i, 1), present ? &row : NULL);
    }
    PQclear(res);
    return rc;
}

int store_reports_head(struct store_reader *r, int64_t *seq, int64_t *withdrawn)
{
    PGresult *res = pg_run(r, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM reports),"
                              " (SELECT COALESCE(MAX(n), 0) FROM reports_withdrawn)", NULL);
    if (!res) {
        *seq = *withdrawn = 0;
        return VIGIL_ESTORE;
    }
    *seq = gi64(res, 0, 0);
    *withdrawn = gi64(res, 0, 1);
    PQclear(res);
    return 0;
}
