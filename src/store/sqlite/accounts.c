/* accounts.c - partners, users, API tokens and dashboard sessions. */
#include <string.h>

#include "base/err.h"
#include "store/sqlite/store_int.h"

/* ---- partners, users, tokens --------------------------------------------------------- */

int store_txn_partner_add(struct store_txn *t, const char *name, const char *identity_id,
                          bool coordinator, int default_tlp, int64_t *id)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO partners(name, identity_id, coordinator,"
                                          " default_tlp, created) VALUES(?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, identity_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, coordinator);
    sqlite3_bind_int(st, 4, default_tlp);
    sqlite3_bind_int64(st, 5, ts_now());
    return step_insert(t->conn, st, id);
}

#define PARTNER_COLS "id, name, identity_id, coordinator, default_tlp, created"

static void partner_cols(sqlite3_stmt *st, struct store_partner *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->name = col_text(st, 1);
    out->identity_id = col_text(st, 2);
    out->coordinator = sqlite3_column_int(st, 3);
    out->default_tlp = sqlite3_column_int(st, 4);
    out->created = sqlite3_column_int64(st, 5);
}

static int read_partner(struct store_reader *r, sqlite3_stmt *st, struct store_partner *out)
{
    int rc = step_row(r, st);
    if (!rc)
        partner_cols(st, out);
    return rc;
}

int store_partners(struct store_reader *r, int (*fn)(void *ctx, const struct store_partner *p),
                   void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " PARTNER_COLS " FROM partners ORDER BY id");
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_partner p;
        partner_cols(st, &p);
        rc = fn(ctx, &p);
    }
    sqlite3_reset(st);
    return rc;
}

int store_partner_find(struct store_reader *r, const char *name, struct store_partner *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " PARTNER_COLS " FROM partners WHERE name = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return read_partner(r, st, out);
}

int store_partner_get(struct store_reader *r, int64_t id, struct store_partner *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " PARTNER_COLS " FROM partners WHERE id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    return read_partner(r, st, out);
}

int store_txn_user_add(struct store_txn *t, int64_t partner, const char *name, const char *role,
                       const char *password_hash, int64_t *id)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO users(partner, name, role, "
                                          "password_hash, created) VALUES(?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, partner);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, password_hash ? password_hash : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ts_now());
    return step_insert(t->conn, st, id);
}

#define USER_COLS "id, partner, name, role, password_hash, disabled, created"

static void read_user(sqlite3_stmt *st, struct store_user *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->partner = sqlite3_column_int64(st, 1);
    out->name = col_text(st, 2);
    out->role = col_text(st, 3);
    out->password_hash = col_text(st, 4);
    out->disabled = sqlite3_column_int(st, 5);
    out->created = sqlite3_column_int64(st, 6);
}

int store_user_find(struct store_reader *r, const char *name, struct store_user *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " USER_COLS " FROM users WHERE name = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc)
        read_user(st, out);
    return rc;
}

int store_user_get(struct store_reader *r, int64_t id, struct store_user *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " USER_COLS " FROM users WHERE id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = step_row(r, st);
    if (!rc)
        read_user(st, out);
    return rc;
}

int store_users(struct store_reader *r, int64_t partner,
                int (*fn)(void *ctx, const struct store_user *u), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " USER_COLS " FROM users"
                                    " WHERE ?1 = 0 OR partner = ?1 ORDER BY id");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, partner);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_user u;
        read_user(st, &u);
        rc = fn(ctx, &u);
    }
    sqlite3_reset(st);
    return rc;
}

int store_txn_user_set_password(struct store_txn *t, int64_t user, const char *password_hash)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE users SET password_hash = ? WHERE id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user);
    int rc = step_done(t->conn, st);
    if (!rc && !sqlite3_changes(t->conn->db))
        return VIGIL_ENOENT;
    /* A new password ends every session opened with the old one. */
    st = rc ? NULL : conn_stmt(t->conn, "DELETE FROM sessions WHERE user = ?");
    if (!rc && !st)
        return VIGIL_ESTORE;
    if (!rc) {
        sqlite3_bind_int64(st, 1, user);
        rc = step_done(t->conn, st);
    }
    return rc;
}

int store_txn_user_set_disabled(struct store_txn *t, int64_t user, bool disabled)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE users SET disabled = ? WHERE id = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int(st, 1, disabled);
    sqlite3_bind_int64(st, 2, user);
    int rc = step_done(t->conn, st);
    if (!rc && !sqlite3_changes(t->conn->db))
        return VIGIL_ENOENT;
    static const char *const ends[] = {
        "DELETE FROM sessions WHERE user = ?1",
        "UPDATE outbox SET state = 2, next_attempt = 0,"
        " last_error = 'given up: the webhook''s user is disabled'"
        " WHERE state = 0 AND hook IN (SELECT id FROM webhooks WHERE user = ?1)"};
    for (size_t i = 0; !rc && disabled && i < 2; i++) {
        st = conn_stmt(t->conn, ends[i]);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, user);
        rc = step_done(t->conn, st);
    }
    return rc;
}

int store_txn_token_add(struct store_txn *t, const struct store_token_in *tok, int64_t *id)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO tokens(user, hash, read_only, expires,"
                                          " label, created) VALUES(?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, tok->user);
    sqlite3_bind_blob(st, 2, tok->hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, tok->read_only);
    sqlite3_bind_int64(st, 4, tok->expires);
    sqlite3_bind_text(st, 5, tok->label ? tok->label : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, ts_now());
    return step_insert(t->conn, st, id);
}

/* Fills out from a row of AUTH_COLS. */
#define AUTH_COLS                                                                                  \
    "t.id, u.id, u.name, u.role, p.id, p.coordinator, t.read_only, t.revoked,"                     \
    " u.disabled, t.expires, p.default_tlp"

static void read_auth(sqlite3_stmt *st, struct store_auth *out)
{
    out->token_id = sqlite3_column_int64(st, 0);
    out->user_id = sqlite3_column_int64(st, 1);
    out->user_name = col_text(st, 2);
    out->role = col_text(st, 3);
    out->partner_id = sqlite3_column_int64(st, 4);
    out->coordinator = sqlite3_column_int(st, 5);
    out->read_only = sqlite3_column_int(st, 6);
    out->revoked = sqlite3_column_int(st, 7);
    out->disabled = sqlite3_column_int(st, 8);
    out->expires = sqlite3_column_int64(st, 9);
    out->default_tlp = sqlite3_column_int(st, 10);
}

int store_token_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                       struct store_auth *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " AUTH_COLS " FROM tokens t"
                                    " JOIN users u ON u.id = t.user"
                                    " JOIN partners p ON p.id = u.partner WHERE t.hash = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc)
        read_auth(st, out);
    return rc;
}

int store_tokens(struct store_reader *r, int64_t partner,
                 int (*fn)(void *ctx, const struct store_token *t), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT t.id, t.user, u.name, t.label, t.read_only,"
                                    " t.revoked, t.expires, t.created FROM tokens t"
                                    " JOIN users u ON u.id = t.user"
                                    " WHERE ?1 = 0 OR u.partner = ?1 ORDER BY t.id");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, partner);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_token t = {
            .id = sqlite3_column_int64(st, 0),
            .user = sqlite3_column_int64(st, 1),
            .user_name = col_text(st, 2),
            .label = col_text(st, 3),
            .read_only = sqlite3_column_int(st, 4),
            .revoked = sqlite3_column_int(st, 5),
            .expires = sqlite3_column_int64(st, 6),
            .created = sqlite3_column_int64(st, 7),
        };
        rc = fn(ctx, &t);
    }
    sqlite3_reset(st);
    return rc;
}

int store_txn_token_revoke(struct store_txn *t, int64_t token, int64_t partner)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE tokens SET revoked = 1 WHERE id = ?1 AND"
                                          " (?2 = 0 OR user IN (SELECT id FROM users"
                                          " WHERE partner = ?2))");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, token);
    sqlite3_bind_int64(st, 2, partner);
    int rc = step_done(t->conn, st);
    return rc ? rc : sqlite3_changes(t->conn->db) ? 0 : VIGIL_ENOENT;
}

/* ---- dashboard sessions -------------------------------------------------------------- */

int store_txn_session_add(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                          int64_t user, const char *csrf, vtime_t expires)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO sessions(hash, user, csrf, expires)"
                                          " VALUES(?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user);
    sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, expires);
    return step_insert(t->conn, st, NULL);
}

int store_txn_session_delete(struct store_txn *t, const unsigned char hash[STORE_TOKEN_HASH_LEN])
{
    sqlite3_stmt *st = conn_stmt(t->conn, "DELETE FROM sessions WHERE hash = ? OR expires < ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ts_now());
    return step_done(t->conn, st);
}

int store_session_lookup(struct store_reader *r, const unsigned char hash[STORE_TOKEN_HASH_LEN],
                         struct store_auth *out, const char **csrf)
{
    /* A session acts like a token that is never read-only and expires with the session. */
    sqlite3_stmt *st = conn_stmt(r, "SELECT 0, u.id, u.name, u.role, p.id, p.coordinator, 0, 0,"
                                    " u.disabled, s.expires, p.default_tlp, s.csrf"
                                    " FROM sessions s JOIN users u ON u.id = s.user"
                                    " JOIN partners p ON p.id = u.partner"
                                    " WHERE s.hash = ? AND s.expires > ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ts_now());
    int rc = step_row(r, st);
    if (!rc) {
        read_auth(st, out);
        *csrf = col_text(st, 11);
    }
    return rc;
}
