/* pg_data.c - collections, statuses, accounts, groups, the audit log, events, webhooks, the
 * outbox, alert states, service marks, on PostgreSQL (the SQLite store's store_sqlite.c,
 * accounts.c, groups.c, audit.c and events.c). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "store/pg/pg_int.h"

static PGresult *row_p(struct store_reader *c, enum pg_keep slot, const char *sql,
                       struct pg_params *p, int *rc)
{
    PGresult *r = pg_row(c, slot, sql, p, rc);
    pp_release(p);
    return r;
}

/* ---- collections, statuses ----------------------------------------------------------- */

int store_txn_collection_add(struct store_txn *t, const char *name, const char *title,
                             const char *description, bool partner_writable, int64_t *id)
{
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, uuid);
    pp_str(&p, name);
    pp_str(&p, title);
    pp_str(&p, description);
    pp_i64(&p, partner_writable);
    return pg_insert_p(t->conn,
                       "INSERT INTO collections(uuid, name, title, description,"
                       " partner_writable) VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING"
                       " RETURNING id",
                       &p, id);
}

#define COLL_COLS "id, uuid, name, title, description, partner_writable"

static void read_collection(const PGresult *r, int i, struct store_collection *c)
{
    c->id = gi64(r, i, 0);
    c->uuid = gtxt(r, i, 1);
    c->name = gtxt(r, i, 2);
    c->title = gtxt(r, i, 3);
    c->description = gtxt(r, i, 4);
    c->partner_writable = gint(r, i, 5);
}

int store_collections(struct store_reader *r,
                      int (*fn)(void *ctx, const struct store_collection *c), void *ctx)
{
    PGresult *res = pg_run(r, "SELECT " COLL_COLS " FROM collections ORDER BY id", NULL);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_collection c;
        read_collection(res, i, &c);
        rc = fn(ctx, &c);
    }
    PQclear(res);
    return rc;
}

int store_collection_find(struct store_reader *r, const char *uuid_or_name,
                          struct store_collection *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, uuid_or_name);
    int rc;
    PGresult *res = row_p(r, KEEP_COLLECTION,
                          "SELECT " COLL_COLS " FROM collections WHERE uuid = $1 OR name = $1"
                          " ORDER BY id LIMIT 1",
                          &p, &rc);
    if (res)
        read_collection(res, 0, out);
    return rc;
}

int store_txn_status_put(struct store_txn *t, const char *id, int64_t partner, const char *json)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    pp_i64(&p, partner);
    pp_i64(&p, ts_now());
    pp_str(&p, json);
    return pg_insert_p(t->conn,
                       "INSERT INTO statuses(id, partner, created, json)"
                       " VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING 1",
                       &p, NULL);
}

int store_status_get(struct store_reader *r, const char *id, int64_t *partner, const char **json)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, id);
    int rc;
    PGresult *res =
        row_p(r, KEEP_STATUS, "SELECT partner, json FROM statuses WHERE id = $1", &p, &rc);
    if (res) {
        *partner = gi64(res, 0, 0);
        *json = gtxt(res, 0, 1);
    }
    return rc;
}

/* ---- partners, users, tokens, sessions ----------------------------------------------- */

int store_txn_partner_add(struct store_txn *t, const char *name, const char *identity_id,
                          bool coordinator, int default_tlp, int64_t *id)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    pp_str(&p, identity_id);
    pp_i64(&p, coordinator);
    pp_i64(&p, default_tlp);
    pp_i64(&p, ts_now());
    return pg_insert_p(t->conn,
                       "INSERT INTO partners(name, identity_id, coordinator, default_tlp,"
                       " created) VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING"
                       " RETURNING id",
                       &p, id);
}

#define PARTNER_COLS "id, name, identity_id, coordinator, default_tlp, created"

static void read_partner(const PGresult *r, int i, struct store_partner *out)
{
    out->id = gi64(r, i, 0);
    out->name = gtxt(r, i, 1);
    out->identity_id = gtxt(r, i, 2);
    out->coordinator = gint(r, i, 3);
    out->default_tlp = gint(r, i, 4);
    out->created = gi64(r, i, 5);
}

int store_partners(struct store_reader *r, int (*fn)(void *ctx, const struct store_partner *p),
                   void *ctx)
{
    PGresult *res = pg_run(r, "SELECT " PARTNER_COLS " FROM partners ORDER BY id", NULL);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_partner pa;
        read_partner(res, i, &pa);
        rc = fn(ctx, &pa);
    }
    PQclear(res);
    return rc;
}

int store_partner_find(struct store_reader *r, const char *name, struct store_partner *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    int rc;
    PGresult *res =
        row_p(r, KEEP_PARTNER, "SELECT " PARTNER_COLS " FROM partners WHERE name = $1", &p, &rc);
    if (res)
        read_partner(res, 0, out);
    return rc;
}

int store_partner_get(struct store_reader *r, int64_t id, struct store_partner *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, id);
    int rc;
    PGresult *res =
        row_p(r, KEEP_PARTNER, "SELECT " PARTNER_COLS " FROM partners WHERE id = $1", &p, &rc);
    if (res)
        read_partner(res, 0, out);
    return rc;
}

int store_txn_user_add(struct store_txn *t, int64_t partner, const char *name, const char *role,
                       const char *password_hash, int64_t *id)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, partner);
    pp_str(&p, name);
    pp_str(&p, role);
    pp_str(&p, password_hash ? password_hash : "");
    pp_i64(&p, ts_now());
    return pg_insert_p(t->conn,
                       "INSERT INTO users(partner, name, role, password_hash, created)"
                       " VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING id",
                       &p, id);
}

#define USER_COLS "id, partner, name, role, password_hash, disabled, created"

static void read_user(const PGresult *r, int i, struct store_user *out)
{
    out->id = gi64(r, i, 0);
    out->partner = gi64(r, i, 1);
    out->name = gtxt(r, i, 2);
    out->role = gtxt(r, i, 3);
    out->password_hash = gtxt(r, i, 4);
    out->disabled = gint(r, i, 5);
    out->created = gi64(r, i, 6);
}

int store_user_find(struct store_reader *r, const char *name, struct store_user *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    int rc;
    PGresult *res = row_p(r, KEEP_USER, "SELECT " USER_COLS " FROM users WHERE name = $1", &p, &rc);
    if (res)
        read_user(res, 0, out);
    return rc;
}

int store_user_get(struct store_reader *r, int64_t id, struct store_user *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, id);
    int rc;
    PGresult *res = row_p(r, KEEP_USER, "SELECT " USER_COLS " FROM users WHERE id = $1", &p, &rc);
    if (res)
        read_user(res, 0, out);
    return rc;
}

int store_users(struct store_reader *r, int64_t partner,
                int (*fn)(void *ctx, const struct store_user *u), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, partner);
    PGresult *res = pg_run_p(r,
                             "SELECT " USER_COLS " FROM users WHERE $1 = 0 OR partner = $1"
                             " ORDER BY id",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_user u;
        read_user(res, i, &u);
        rc = fn(ctx, &u);
    }
    PQclear(res);
    return rc;
}

int store_txn_user_set_password(struct store_txn *t, int64_t user, const char *password_hash)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, password_hash);
    pp_i64(&p, user);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn, "UPDATE users SET password_hash = $1 WHERE id = $2", &p, &n);
    if (!rc && !n)
        return VIGIL_ENOENT;
    if (rc)
        return rc;
    /* A new password ends every session opened with the old one. */
    pp_init(&p);
    pp_i64(&p, user);
    return pg_exec_p(t->conn, "DELETE FROM sessions WHERE \"user\" = $1", &p, NULL);
}

int store_txn_user_set_disabled(struct store_txn *t, int64_t user, bool disabled)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, disabled);
    pp_i64(&p, user);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn, "UPDATE users SET disabled = $1 WHERE id = $2", &p, &n);
    if (!rc && !n)
        return VIGIL_ENOENT;
    static const char *const ends[] = {
        "DELETE FROM sessions WHERE \"user\" = $1",
        "UPDATE outbox SET state = 2, next_attempt = 0,"
        " last_error = 'given up: the webhook''s user is disabled'"
        " WHERE state = 0 AND hook IN (SELECT id FROM webhooks WHERE \"user\" = $1)"};
    for (size_t i = 0; !rc && disabled && i < 2; i++) {
        pp_init(&p);
        pp_i64(&p, user);
        rc = pg_exec_p(t->conn, ends[i], &p, NULL);
    }
    return rc;
}

int store_txn_token_add(struct store_txn *t, const struct store_token_in *tok, int64_t *id)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, tok->user);
    pp_bytea(&p, tok->hash, STORE_TOKEN_HASH_LEN);
    pp_i64(&p, tok->read_only);
    pp_i64(&p, tok->expires);
    pp_str(&p, tok->label ? tok->label : "");
    pp_i64(&p, ts_now());
    return pg_insert_p(t->conn,
                       "INSERT INTO tokens(\"user\", hash, read_only, expires, label,"
                       " created) VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING"
                       " RETURNING id",
                       &p, id);
}

#define AUTH_COLS                                                                                  \
    "t.id, u.id, u.name, u.role, p.id, p.coordinator, t.read_only, t.revoked,"                     \
    " u.disabled, t.expires, p.default_tlp"

static void read_auth(const PGresult *r, struct store_auth *out)
{
    out->token_id = gi64(r, 0, 0);
    out->user_id = gi64(r, 0, 1);
    out->user_name = gtxt(r, 0, 2);
    out->role = gtxt(r, 0, 3);
    out->partner_id = gi64(r, 0, 4);
    out->coordinator = gint(r, 0, 5);
    out->read_only = gint(r, 0, 6);
    out->revoked = gint(r, 0, 7);
    out->disabled = gint(r, 0, 8);
    out->expires = gi64(r, 0, 9);
    out->default_tlp = gint(r, 0, 10);
}

int store_token_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                       struct store_auth *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_bytea(&p, hash, STORE_TOKEN_HASH_LEN);
    int rc;
    PGresult *res = row_p(r, KEEP_AUTH,
                          "SELECT " AUTH_COLS " FROM tokens t"
                          " JOIN users u ON u.id = t.\"user\""
                          " JOIN partners p ON p.id = u.partner WHERE t.hash = $1",
                          &p, &rc);
    if (res)
        read_auth(res, out);
    return rc;
}

int store_tokens(struct store_reader *r, int64_t partner,
                 int (*fn)(void *ctx, const struct store_token *t), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, partner);
    PGresult *res = pg_run_p(r,
                             "SELECT t.id, t.\"user\", u.name, t.label, t.read_only, t.revoked,"
                             " t.expires, t.created FROM tokens t JOIN users u ON u.id = t.\"user\""
                             " WHERE $1 = 0 OR u.partner = $1 ORDER BY t.id",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_token t = {
            .id = gi64(res, i, 0),
            .user = gi64(res, i, 1),
            .user_name = gtxt(res, i, 2),
            .label = gtxt(res, i, 3),
            .read_only = gint(res, i, 4),
            .revoked = gint(res, i, 5),
            .expires = gi64(res, i, 6),
            .created = gi64(res, i, 7),
        };
        rc = fn(ctx, &t);
    }
    PQclear(res);
    return rc;
}

int store_txn_token_revoke(struct store_txn *t, int64_t token, int64_t partner)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, token);
    pp_i64(&p, partner);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn,
                       "UPDATE tokens SET revoked = 1 WHERE id = $1 AND ($2 = 0 OR"
                       " \"user\" IN (SELECT id FROM users WHERE partner = $2))",
                       &p, &n);
    return rc ? rc : n ? 0 : VIGIL_ENOENT;
}

int store_txn_session_add(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                          int64_t user, const char *csrf, vtime_t expires)
{
    struct pg_params p;
    pp_init(&p);
    pp_bytea(&p, hash, STORE_TOKEN_HASH_LEN);
    pp_i64(&p, user);
    pp_str(&p, csrf);
    pp_i64(&p, expires);
    return pg_insert_p(t->conn,
                       "INSERT INTO sessions(hash, \"user\", csrf, expires)"
                       " VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING 1",
                       &p, NULL);
}

int store_txn_session_delete(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN])
{
    struct pg_params p;
    pp_init(&p);
    pp_bytea(&p, hash, STORE_TOKEN_HASH_LEN);
    pp_i64(&p, ts_now());
    return pg_exec_p(t->conn, "DELETE FROM sessions WHERE hash = $1 OR expires < $2", &p, NULL);
}

int store_session_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                         struct store_auth *out, const char **csrf)
{
    struct pg_params p;
    pp_init(&p);
    pp_bytea(&p, hash, STORE_TOKEN_HASH_LEN);
    pp_i64(&p, ts_now());
    int rc;
    PGresult *res = row_p(r, KEEP_SESSION,
                          "SELECT 0, u.id, u.name, u.role, p.id, p.coordinator, 0, 0,"
                          " u.disabled, s.expires, p.default_tlp, s.csrf"
                          " FROM sessions s JOIN users u ON u.id = s.\"user\""
                          " JOIN partners p ON p.id = u.partner"
                          " WHERE s.hash = $1 AND s.expires > $2",
                          &p, &rc);
    if (res) {
        read_auth(res, out);
        *csrf = gtxt(res, 0, 11);
    }
    return rc;
}

/* ---- sharing groups ------------------------------------------------------------------ */

int store_txn_group_add(struct store_txn *t, const char *name, const char *marking_id,
                        int64_t owner, int64_t *id)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    pp_str(&p, marking_id);
    pp_i64(&p, owner);
    pp_i64(&p, ts_now());
    return pg_insert_p(t->conn,
                       "INSERT INTO groups(name, marking_id, owner, created)"
                       " VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING id",
                       &p, id);
}

int store_txn_group_member(struct store_txn *t, int64_t group, int64_t partner, int64_t user,
                           bool in)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, group);
    pp_i64(&p, partner);
    pp_i64(&p, user);
    return pg_exec_p(t->conn,
                     in ? "INSERT INTO group_members(grp, partner, \"user\") VALUES($1,$2,$3)"
                          " ON CONFLICT DO NOTHING"
                        : "DELETE FROM group_members WHERE grp = $1 AND partner = $2"
                          " AND \"user\" = $3",
                     &p, NULL);
}

#define GROUP_COLS "id, name, marking_id, owner, created"

static void read_group(const PGresult *r, int i, struct store_group *g)
{
    g->id = gi64(r, i, 0);
    g->name = gtxt(r, i, 1);
    g->marking_id = gtxt(r, i, 2);
    g->owner = gi64(r, i, 3);
    g->created = gi64(r, i, 4);
}

int store_group_find(struct store_reader *r, const char *key, int64_t partner, int64_t user,
                     struct store_group *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, key);
    pp_i64(&p, partner);
    pp_i64(&p, user);
    int rc;
    /* as SQLite's (sqlite/groups.c): the last column counts every group key may name */
    PGresult *res = row_p(r, KEEP_GROUP,
                          "SELECT " GROUP_COLS ", count(*) OVER () FROM groups g"
                          " WHERE marking_id = $1 OR (name = $1 AND ((owner = $2 AND $2 <> 0)"
                          " OR EXISTS(SELECT 1 FROM group_members WHERE grp = g.id"
                          " AND ((partner = $2 AND $2 <> 0) OR (\"user\" = $3 AND $3 <> 0)))))"
                          " ORDER BY marking_id = $1 DESC, owner = $2 DESC, id LIMIT 1",
                          &p, &rc);
    if (res)
        read_group(res, 0, out);
    if (!rc && strcmp(out->marking_id, key) != 0 && out->owner != partner && gi64(res, 0, 5) > 1)
        rc = VIGIL_ECONFLICT;
    return rc;
}

int store_groups(struct store_reader *r, int (*fn)(void *ctx, const struct store_group *g),
                 void *ctx)
{
    PGresult *res = pg_run(r, "SELECT " GROUP_COLS " FROM groups ORDER BY id", NULL);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_group g;
        read_group(res, i, &g);
        rc = fn(ctx, &g);
    }
    PQclear(res);
    return rc;
}

int store_group_may_use(struct store_reader *r, int64_t group, int64_t partner, int64_t user)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, group);
    pp_i64(&p, partner);
    pp_i64(&p, user);
    PGresult *res = pg_run_p(r,
                             "SELECT 1 FROM groups WHERE id = $1 AND (owner = $2"
                             " OR EXISTS(SELECT 1 FROM group_members WHERE grp = $1"
                             " AND ((partner = $2 AND $2 <> 0) OR (\"user\" = $3 AND $3 <> 0))))",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int yes = PQntuples(res) > 0;
    PQclear(res);
    return yes;
}

int store_group_members(struct store_reader *r, int64_t group,
                        int (*fn)(void *ctx, int64_t partner, int64_t user), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, group);
    PGresult *res = pg_run_p(r,
                             "SELECT partner, \"user\" FROM group_members WHERE grp = $1"
                             " ORDER BY partner, \"user\"",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++)
        rc = fn(ctx, gi64(res, i, 0), gi64(res, i, 1));
    PQclear(res);
    return rc;
}

static int collect_ids(struct store_reader *r, const char *sql, int64_t v, int64_t **out, size_t *n)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, v);
    *out = NULL;
    *n = 0;
    PGresult *res = pg_run_p(r, sql, &p);
    if (!res)
        return VIGIL_ESTORE;
    int rows = PQntuples(res);
    if (rows) {
        *out = xcalloc((size_t)rows, sizeof **out);
        for (int i = 0; i < rows; i++)
            (*out)[i] = gi64(res, i, 0);
        *n = (size_t)rows;
    }
    PQclear(res);
    return 0;
}

int store_groups_of(struct store_reader *r, int64_t partner, int64_t user, int64_t **by_partner,
                    size_t *np, int64_t **by_user, size_t *nu)
{
    *by_user = NULL;
    *nu = 0;
    int rc = collect_ids(r,
                         "SELECT DISTINCT grp FROM group_members WHERE partner = $1"
                         " AND partner <> 0 ORDER BY grp",
                         partner, by_partner, np);
    if (!rc)
        rc = collect_ids(r,
                         "SELECT DISTINCT grp FROM group_members WHERE \"user\" = $1"
                         " AND \"user\" <> 0 ORDER BY grp",
                         user, by_user, nu);
    if (rc) {
        free(*by_partner);
        *by_partner = NULL;
        *np = 0;
    }
    return rc;
}

/* ---- the audit log ------------------------------------------------------------------- */

int store_txn_audit_append(struct store_txn *t, const struct store_audit *e)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, e->seq);
    pp_i64(&p, e->time);
    pp_i64(&p, e->partner);
    pp_i64(&p, e->user);
    pp_str(&p, e->action);
    pp_str(&p, e->object);
    pp_str(&p, e->detail);
    pp_bytea(&p, e->prev, STORE_HASH_LEN);
    pp_bytea(&p, e->hash, STORE_HASH_LEN);
    return pg_insert_p(t->conn,
                       "INSERT INTO audit(seq, time, partner, \"user\", action, object,"
                       " detail, prev, hash) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                       " ON CONFLICT DO NOTHING RETURNING seq",
                       &p, NULL);
}

int store_audit_head(struct store_reader *r, int64_t *seq, unsigned char hash[STORE_HASH_LEN])
{
    *seq = 0;
    memset(hash, 0, STORE_HASH_LEN);
    PGresult *res = pg_run(r, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", NULL);
    if (!res)
        return VIGIL_ESTORE;
    if (PQntuples(res)) {
        *seq = gi64(res, 0, 0);
        gbytea(res, 0, 1, hash, STORE_HASH_LEN);
    }
    PQclear(res);
    return 0;
}

int store_audit_scan(struct store_reader *r, int64_t partner, int64_t after, size_t limit,
                     int (*fn)(void *ctx, const struct store_audit *e), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, after);
    pp_i64(&p, partner);
    if (limit)
        pp_i64(&p, (int64_t)limit);
    else
        pp_null(&p);
    PGresult *res = pg_run_p(r,
                             "SELECT seq, time, partner, \"user\", action, object, detail, prev,"
                             " hash FROM audit WHERE seq > $1 AND ($2 = 0 OR partner = $2)"
                             " ORDER BY seq LIMIT $3::bigint",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_audit e = {
            .seq = gi64(res, i, 0),
            .time = gi64(res, i, 1),
            .partner = gi64(res, i, 2),
            .user = gi64(res, i, 3),
            .action = gtxt(res, i, 4),
            .object = gtxt(res, i, 5),
            .detail = gtxt(res, i, 6),
        };
        gbytea(res, i, 7, e.prev, STORE_HASH_LEN);
        gbytea(res, i, 8, e.hash, STORE_HASH_LEN);
        rc = fn(ctx, &e);
    }
    PQclear(res);
    return rc;
}

/* ---- events, webhooks, the outbox ---------------------------------------------------- */

int store_txn_event_add(struct store_txn *t, const char *kind, const struct store_acl *acl,
                        const char *data, int64_t *seq)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, ts_now());
    pp_str(&p, kind);
    pp_i64(&p, acl->owner);
    pp_i64(&p, acl->tlp);
    pp_i64(&p, acl->group);
    pp_str(&p, data);
    return pg_insert_p(t->conn,
                       "INSERT INTO events(time, kind, owner, tlp, grp, data, subject)"
                       " VALUES($1,$2::text,$3,$4,$5,$6::text, CASE WHEN $2::text = 'report'"
                       " THEN $6::text::jsonb->>'id' END) RETURNING seq",
                       &p, seq);
}

int pg_events_withdraw(struct store_reader *c, const char *id, int64_t owner)
{
    static const char *const sql[] = {
        "UPDATE outbox SET state = 2, next_attempt = 0,"
        " last_error = 'withdrawn: the report was corrected or deleted'"
        " WHERE state = 0 AND event IN (SELECT seq FROM events WHERE subject = $1"
        " AND owner = $2 AND kind = 'report' AND gone = 0)",
        "UPDATE events SET gone = 1 WHERE subject = $1 AND owner = $2 AND kind = 'report'"
        " AND gone = 0"};
    for (int i = 0; i < 2; i++) {
        struct pg_params p;
        pp_init(&p);
        pp_str(&p, id);
        pp_i64(&p, owner);
        if (pg_exec_p(c, sql[i], &p, NULL))
            return VIGIL_ESTORE;
    }
    return 0;
}

static void read_event(const PGresult *r, int i, int k, struct store_event *e)
{
    e->seq = gi64(r, i, k);
    e->time = gi64(r, i, k + 1);
    e->kind = gtxt(r, i, k + 2);
    e->acl.owner = gi64(r, i, k + 3);
    e->acl.tlp = gint(r, i, k + 4);
    e->acl.group = gi64(r, i, k + 5);
    e->data = gtxt(r, i, k + 6);
}

int store_events(struct store_reader *r, int64_t after, size_t limit,
                 int (*fn)(void *ctx, const struct store_event *e), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, after);
    if (limit)
        pp_i64(&p, (int64_t)limit);
    else
        pp_null(&p);
    PGresult *res = pg_run_p(r,
                             "SELECT seq, time, kind, owner, tlp, grp, data FROM events"
                             " WHERE seq > $1 AND gone = 0 ORDER BY seq LIMIT $2::bigint",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_event e;
        read_event(res, i, 0, &e);
        rc = fn(ctx, &e);
    }
    PQclear(res);
    return rc;
}

int store_event_head(struct store_reader *r, int64_t *seq)
{
    PGresult *res = pg_run(r, "SELECT COALESCE(MAX(seq), 0) FROM events", NULL);
    *seq = 0;
    if (!res)
        return VIGIL_ESTORE;
    *seq = gi64(res, 0, 0);
    PQclear(res);
    return 0;
}

int store_txn_webhook_add(struct store_txn *t, int64_t user, const char *url, const char *secret,
                          const char *kinds, int64_t *id)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, user);
    pp_str(&p, url);
    pp_str(&p, secret);
    pp_str(&p, kinds ? kinds : "");
    pp_i64(&p, ts_now());
    return pg_insert_p(t->conn,
                       "INSERT INTO webhooks(\"user\", url, secret, kinds, created)"
                       " VALUES($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING id",
                       &p, id);
}

int store_txn_webhook_disable(struct store_txn *t, int64_t id, int64_t user)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, id);
    pp_i64(&p, user);
    int64_t n = 0;
    int rc = pg_exec_p(t->conn,
                       "UPDATE webhooks SET disabled = 1 WHERE id = $1"
                       " AND ($2 = 0 OR \"user\" = $2) AND disabled = 0",
                       &p, &n);
    return rc ? rc : n ? 0 : VIGIL_ENOENT;
}

int store_webhooks(struct store_reader *r, int64_t user,
                   int (*fn)(void *ctx, const struct store_webhook *w), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, user);
    PGresult *res = pg_run_p(r,
                             "SELECT id, \"user\", url, secret, kinds, disabled, created"
                             " FROM webhooks WHERE disabled = 0 AND ($1 = 0 OR \"user\" = $1)"
                             " ORDER BY id",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_webhook w = {
            .id = gi64(res, i, 0),
            .user = gi64(res, i, 1),
            .url = gtxt(res, i, 2),
            .secret = gtxt(res, i, 3),
            .kinds = gtxt(res, i, 4),
            .disabled = gint(res, i, 5),
            .created = gi64(res, i, 6),
        };
        rc = fn(ctx, &w);
    }
    PQclear(res);
    return rc;
}

int store_webhooks_of_partner(struct store_reader *r, int64_t partner, int64_t *n)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, partner);
    PGresult *res = pg_run_p(r,
                             "SELECT COUNT(*) FROM webhooks w JOIN users u ON u.id = w.\"user\""
                             " WHERE w.disabled = 0 AND u.partner = $1",
                             &p);
    *n = 0;
    if (!res)
        return VIGIL_ESTORE;
    *n = gi64(res, 0, 0);
    PQclear(res);
    return 0;
}

int store_txn_outbox_add(struct store_txn *t, int64_t hook, int64_t event, vtime_t when,
                         const char *payload)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, hook);
    pp_i64(&p, event);
    pp_i64(&p, when);
    pp_str(&p, payload);
    /* The id is the hook's next number (store.h, STORE_OUTBOX_ID; writes are serialised). */
    return pg_exec_p(t->conn,
                     "INSERT INTO outbox(id, hook, event, next_attempt, payload)"
                     " VALUES(COALESCE((SELECT id FROM outbox WHERE id > $1::bigint * 4294967296"
                     " AND id < ($1::bigint + 1) * 4294967296 ORDER BY id DESC LIMIT 1),"
                     " $1::bigint * 4294967296) + 1, $1, $2, $3, $4) ON CONFLICT DO NOTHING",
                     &p, NULL);
}

int store_outbox_due(struct store_reader *r, vtime_t now, size_t limit, size_t per_partner,
                     int (*fn)(void *ctx, const struct store_delivery *d), void *ctx)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, now);
    pp_i64(&p, (int64_t)limit);
    pp_i64(&p, (int64_t)per_partner);
    /* d: each webhook's oldest due delivery; p: of those, each partner's oldest per_partner */
    PGresult *res = pg_run_p(r,
                             "SELECT o.id, o.attempts, w.url, w.secret, e.seq, e.time, e.kind,"
                             " e.owner, e.tlp, e.grp, COALESCE(o.payload, e.data), o.hook,"
                             " p.partner, w.\"user\", (o.payload IS NOT NULL)::int"
                             " FROM (SELECT o.id, u.partner, ROW_NUMBER() OVER"
                             " (PARTITION BY u.partner ORDER BY o.next_attempt, o.id) AS nth"
                             " FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY hook ORDER BY"
                             " next_attempt, id) AS nth FROM outbox WHERE state = 0 AND"
                             " next_attempt <= $1) d JOIN outbox o ON o.id = d.id"
                             " JOIN webhooks w ON w.id = o.hook JOIN users u ON u.id = w.\"user\""
                             " WHERE d.nth = 1 AND w.disabled = 0 AND u.disabled = 0) p"
                             " JOIN outbox o ON o.id = p.id"
                             " JOIN webhooks w ON w.id = o.hook JOIN events e ON e.seq = o.event"
                             " WHERE p.nth <= $3 ORDER BY o.next_attempt, o.id LIMIT $2",
                             &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        struct store_delivery d = {
            .id = gi64(res, i, 0),
            .hook = gi64(res, i, 11),
            .partner = gi64(res, i, 12),
            .user = gi64(res, i, 13),
            .view = gint(res, i, 14) != 0,
            .attempts = gint(res, i, 1),
            .url = gtxt(res, i, 2),
            .secret = gtxt(res, i, 3),
        };
        read_event(res, i, 4, &d.event);
        rc = fn(ctx, &d);
    }
    PQclear(res);
    return rc;
}

int store_txn_outbox_result(struct store_txn *t, int64_t id, bool delivered, const char *error,
                            vtime_t next)
{
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, id);
    pp_i64(&p, delivered ? OUTBOX_DELIVERED : next ? OUTBOX_PENDING : OUTBOX_FAILED);
    pp_str(&p, error ? error : "");
    pp_i64(&p, next);
    return pg_exec_p(t->conn,
                     "UPDATE outbox SET attempts = attempts + 1, state = $2,"
                     " last_error = $3, next_attempt = $4 WHERE id = $1",
                     &p, NULL);
}

/* ---- alert states, service marks ----------------------------------------------------- */

int store_txn_alert_state(struct store_txn *t, const char *key, const char *status,
                          const char *history)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, key);
    pp_str(&p, status);
    pp_str(&p, history);
    return pg_exec_p(t->conn,
                     "INSERT INTO alert_states(key, status, history) VALUES($1,$2,$3)"
                     " ON CONFLICT (key) DO UPDATE SET status = excluded.status,"
                     " history = excluded.history",
                     &p, NULL);
}

int store_alert_state(struct store_reader *r, const char *key, const char **status,
                      const char **history)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, key);
    int rc;
    PGresult *res = row_p(r, KEEP_ALERT_STATE,
                          "SELECT status, history FROM alert_states WHERE key = $1", &p, &rc);
    if (res) {
        *status = gtxt(res, 0, 0);
        *history = gtxt(res, 0, 1);
    }
    return rc;
}

int store_txn_alert_rekey(struct store_txn *t, const char *from, const char *to)
{
    static const char *const sql[] = {
        "UPDATE alert_states SET key = $2 WHERE key = $1"
        " AND NOT EXISTS (SELECT 1 FROM alert_states WHERE key = $2)",
        "DELETE FROM alert_states WHERE key = $1",
        "UPDATE alert_triage o SET key = $2 WHERE key = $1"
        " AND NOT EXISTS (SELECT 1 FROM alert_triage n WHERE n.key = $2"
        " AND n.partner = o.partner)",
        "DELETE FROM alert_triage WHERE key = $1",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof sql / sizeof *sql && !rc; i++) {
        struct pg_params p;
        pp_init(&p);
        pp_str(&p, from);
        if (i % 2 == 0)
            pp_str(&p, to);
        rc = pg_exec_p(t->conn, sql[i], &p, NULL);
    }
    return rc;
}

int store_txn_mark_set(struct store_txn *t, const char *name, int64_t value)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    pp_i64(&p, value);
    return pg_exec_p(t->conn,
                     "INSERT INTO service_marks(name, value) VALUES($1,$2)"
                     " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                     &p, NULL);
}

int store_mark_get(struct store_reader *r, const char *name, int64_t *value)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    PGresult *res = pg_run_p(r, "SELECT value FROM service_marks WHERE name = $1", &p);
    *value = 0;
    if (!res)
        return VIGIL_ESTORE;
    int rc = PQntuples(res) ? 0 : VIGIL_ENOENT;
    if (!rc)
        *value = gi64(res, 0, 0);
    PQclear(res);
    return rc;
}

int store_txn_service_state_put(struct store_txn *t, const char *name, int64_t mark,
                                const void *data, size_t len)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    pp_i64(&p, mark);
    pp_bytea(&p, data, len);
    return pg_exec_p(t->conn,
                     "INSERT INTO service_states(name, mark, data) VALUES($1,$2,$3)"
                     " ON CONFLICT (name) DO UPDATE SET mark = excluded.mark,"
                     " data = excluded.data",
                     &p, NULL);
}

int store_txn_service_state_drop(struct store_txn *t, const char *name)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    return pg_exec_p(t->conn, "DELETE FROM service_states WHERE name = $1", &p, NULL);
}

int store_service_state(struct store_reader *r, const char *name, int64_t *mark, void **data,
                        size_t *len)
{
    *data = NULL;
    *len = 0;
    *mark = 0;
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, name);
    PGresult *res = pg_run_p(r, "SELECT mark, data FROM service_states WHERE name = $1", &p);
    if (!res)
        return VIGIL_ESTORE;
    int rc = PQntuples(res) ? 0 : VIGIL_ENOENT;
    if (!rc) {
        *mark = gi64(res, 0, 0);
        size_t n = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &n);
        if (!b)
            rc = VIGIL_ESTORE;
        else {
            char *copy = xmalloc(n + 1);
            if (n)
                memcpy(copy, b, n);
            copy[n] = '\0';
            PQfreemem(b);
            *data = copy;
            *len = n;
        }
    }
    PQclear(res);
    return rc;
}

int store_txn_alert_triage_put(struct store_txn *t, const char *key, int64_t partner,
                               const struct store_alert_triage *tr)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, key);
    pp_i64(&p, partner);
    pp_str(&p, tr->assignee ? tr->assignee : "");
    pp_str(&p, tr->status_by ? tr->status_by : "");
    pp_i64(&p, tr->status_at);
    pp_str(&p, tr->comments ? tr->comments : "[]");
    return pg_exec_p(t->conn,
                     "INSERT INTO alert_triage(key, partner, assignee, status_by,"
                     " status_at, comments) VALUES($1,$2,$3,$4,$5,$6)"
                     " ON CONFLICT (key, partner) DO UPDATE SET assignee = excluded.assignee,"
                     " status_by = excluded.status_by, status_at = excluded.status_at,"
                     " comments = excluded.comments",
                     &p, NULL);
}

int store_alert_triage(struct store_reader *r, const char *key, int64_t partner,
                       struct store_alert_triage *out)
{
    struct pg_params p;
    pp_init(&p);
    pp_str(&p, key);
    pp_i64(&p, partner);
    int rc;
    PGresult *res = row_p(r, KEEP_ALERT_TRIAGE,
                          "SELECT assignee, status_by, status_at, comments FROM alert_triage"
                          " WHERE key = $1 AND partner = $2",
                          &p, &rc);
    if (res) {
        out->assignee = gtxt(res, 0, 0);
        out->status_by = gtxt(res, 0, 1);
        out->status_at = gi64(res, 0, 2);
        out->comments = gtxt(res, 0, 3);
    }
    return rc;
}
