#include "access/auth.h"

#include <argon2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

void auth_token_new(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, AUTH_TOKEN_PREFIX, 4);
    sodium_bin2base64(token + 4, AUTH_TOKEN_LEN + 1 - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    auth_token_hash(token, hash);
}

void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN])
{
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}

/* 256 random bits as 43 base64url characters. */
static void random_text(char out[44])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, 44, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int auth_load_groups(struct store_reader *r, struct policy_reader *reader)
{
    free((void *)reader->groups);
    free((void *)reader->user_groups);
    int64_t *g = NULL, *ug = NULL;
    size_t ng = 0, nug = 0;
    int rc = store_groups_of(r, reader->partner, reader->user, &g, &ng, &ug, &nug);
    reader->groups = g;
    reader->ngroups = ng;
    reader->user_groups = ug;
    reader->nuser_groups = nug;
    return rc;
}

/* Fills p from an auth record that has passed its checks, with its groups. */
static int fill(struct store_reader *r, const struct store_auth *a, struct auth_principal *p)
{
    memset(p, 0, sizeof *p);
    p->user = a->user_id;
    p->partner = a->partner_id;
    p->token = a->token_id;
    snprintf(p->user_name, sizeof p->user_name, "%s", a->user_name);
    snprintf(p->role, sizeof p->role, "%s", a->role);
    p->coordinator = a->coordinator;
    p->read_only = a->read_only;
    p->default_tlp = a->default_tlp;
    p->reader.partner = a->partner_id;
    p->reader.user = a->user_id;
    p->reader.coordinator = a->coordinator;
    return auth_load_groups(r, &p->reader);
}

/* Finds the token's record and checks that it may be used now. */
static int lookup(struct store *s, const char *token, const char *basic_user,
                  struct auth_principal *p)
{
    if (strlen(token) != AUTH_TOKEN_LEN || strncmp(token, AUTH_TOKEN_PREFIX, 4) != 0)
        return VIGIL_EAUTH;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    auth_token_hash(token, hash);
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    struct store_auth a;
    rc = store_token_lookup(r, hash, &a);
    if (rc == VIGIL_ENOENT)
        rc = VIGIL_EAUTH;
    if (!rc && (a.revoked || a.disabled || (a.expires && a.expires <= ts_now())))
        rc = VIGIL_EAUTH;
    if (!rc && basic_user && strcmp(basic_user, a.user_name) != 0)
        rc = VIGIL_EAUTH;
    if (!rc)
        rc = fill(r, &a, p);
    if (!rc) {
        p->cred.kind = AUTH_CRED_TOKEN;
        memcpy(p->cred.hash, hash, sizeof hash);
    }
    store_read_end(r);
    return rc;
}

int auth_basic_parse(const char *b64, char user[AUTH_BASIC_MAX], const char **password)
{
    size_t len = 0;
    if (strlen(b64) > 320 ||
        sodium_base642bin((unsigned char *)user, AUTH_BASIC_MAX - 1, b64, strlen(b64), NULL, &len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return VIGIL_EAUTH;
    user[len] = '\0';
    char *colon = strchr(user, ':');
    if (!colon || memchr(user, '\0', len))
        return VIGIL_EAUTH;
    *colon = '\0';
    *password = colon + 1;
    return 0;
}

static int check_header(struct store *s, const char *authorization, struct auth_principal *p)
{
    if (strncasecmp(authorization, "Bearer ", 7) == 0)
        return lookup(s, authorization + 7, NULL, p);
    if (strncasecmp(authorization, "Basic ", 6) != 0)
        return VIGIL_EAUTH;
    char decoded[AUTH_BASIC_MAX];
    const char *token;
    int rc = auth_basic_parse(authorization + 6, decoded, &token);
    if (!rc)
        rc = lookup(s, token, decoded, p);
    sodium_memzero(decoded, sizeof decoded);
    return rc;
}

bool auth_cookie_value(const char *cookie, char out[AUTH_SESSION_LEN + 1])
{
    const char *name = AUTH_SESSION_COOKIE "=";
    size_t nlen = strlen(name);
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nlen) == 0) {
            p += nlen;
            size_t n = strcspn(p, "; ");
            if (n != AUTH_SESSION_LEN)
                return false;
            memcpy(out, p, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, ';');
    }
    return false;
}

static int check_session(struct store *s, const struct auth_request *req, struct auth_principal *p)
{
    char value[AUTH_SESSION_LEN + 1];
    if (!req->cookie || !auth_cookie_value(req->cookie, value))
        return VIGIL_EAUTH;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    auth_token_hash(value, hash);
    sodium_memzero(value, sizeof value);
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    struct store_auth a;
    const char *csrf = NULL;
    rc = store_session_lookup(r, hash, &a, &csrf);
    if (rc == VIGIL_ENOENT || (!rc && a.disabled))
        rc = VIGIL_EAUTH;
    bool safe =
        req->method && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0);
    if (!rc && !safe &&
        (!req->csrf || strlen(req->csrf) != strlen(csrf) ||
         sodium_memcmp(req->csrf, csrf, strlen(csrf)) != 0))
        rc = VIGIL_EPERM;
    if (!rc)
        rc = fill(r, &a, p);
    if (!rc) {
        p->cred.kind = AUTH_CRED_SESSION;
        memcpy(p->cred.hash, hash, sizeof hash);
        snprintf(p->csrf, sizeof p->csrf, "%s", csrf);
    }
    store_read_end(r);
    return rc;
}

int auth_recheck(struct store *s, const struct auth_credential *c)
{
    if (c->kind == AUTH_CRED_NONE)
        return 0;
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    struct store_auth a;
    const char *csrf;
    rc = c->kind == AUTH_CRED_SESSION ? store_session_lookup(r, c->hash, &a, &csrf)
                                      : store_token_lookup(r, c->hash, &a);
    if (rc == VIGIL_ENOENT)
        rc = VIGIL_EAUTH;
    if (!rc && (a.revoked || a.disabled || (a.expires && a.expires <= ts_now())))
        rc = VIGIL_EAUTH;
    store_read_end(r);
    return rc;
}

int auth_principal_load(struct store_reader *r, int64_t user, struct auth_principal *p)
{
    struct store_user u;
    struct store_partner sp;
    int rc = store_user_get(r, user, &u);
    if (!rc)
        rc = store_partner_get(r, u.partner, &sp);
    if (rc)
        return rc;
    struct store_auth a = {.user_id = u.id, .user_name = u.name, .role = u.role,
                           .partner_id = sp.id, .coordinator = sp.coordinator,
                           .default_tlp = sp.default_tlp};
    return fill(r, &a, p);
}

int auth_principal_for_user(struct store *s, const char *user, struct auth_principal *p)
{
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    struct store_user u;
    struct store_partner sp;
    rc = store_user_find(r, user, &u);
    if (!rc)
        rc = store_partner_get(r, u.partner, &sp);
    if (!rc) {
        struct store_auth a = {.user_id = u.id,
                               .user_name = u.name,
                               .role = u.role,
                               .partner_id = sp.id,
                               .coordinator = sp.coordinator,
                               .default_tlp = sp.default_tlp};
        rc = fill(r, &a, p);
    }
    store_read_end(r);
    return rc;
}

int auth_check(struct store *s, const struct auth_request *req, struct auth_principal *p)
{
    memset(p, 0, sizeof *p);
    if (req->authorization)
        return check_header(s, req->authorization, p);
    return check_session(s, req, p);
}

int auth_password_hash(const char *password, char out[128])
{
    /* argon2id with RFC 9106's second recommended option scaled to a small server:
     * t=3, m=64 MiB, p=1. */
    unsigned char salt[16];
    randombytes_buf(salt, sizeof salt);
    return argon2id_hash_encoded(3, 1 << 16, 1, password, strlen(password), salt, sizeof salt, 32,
                                 out, 128) == ARGON2_OK
               ? 0
               : VIGIL_EINTERNAL;
}

struct session_add {
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    int64_t user;
    const char *csrf;
    vtime_t expires;
};

static int session_add_txn(struct store_txn *t, void *arg)
{
    struct session_add *a = arg;
    return store_txn_session_add(t, a->hash, a->user, a->csrf, a->expires);
}

int auth_login(struct store *s, const char *user, const char *password, long ttl_s,
               char session[AUTH_SESSION_LEN + 1], char csrf[AUTH_CSRF_LEN + 1])
{
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc)
        return rc;
    struct store_user u;
    char hash[128] = "";
    rc = store_user_find(r, user, &u);
    if (!rc && !u.disabled)
        snprintf(hash, sizeof hash, "%s", u.password_hash);
    int64_t uid = rc ? 0 : u.id;
    store_read_end(r);
    /* Verify even for unknown users, so timing does not tell which names exist. */
    static const char dummy[] = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                "RdescudvJCsgt3ub+b+dWRWJTmaaJObG0RD1fJ4nnjE";
    bool ok = argon2id_verify(hash[0] ? hash : dummy, password, strlen(password)) == ARGON2_OK;
    if (!ok || !hash[0] || !uid)
        return VIGIL_EAUTH;
    struct session_add a = {
        .user = uid, .csrf = csrf, .expires = ts_now() + (vtime_t)ttl_s * VTIME_US_PER_SEC};
    random_text(session);
    random_text(csrf);
    auth_token_hash(session, a.hash);
    return store_write(s, session_add_txn, &a);
}

static int session_delete_txn(struct store_txn *t, void *arg)
{
    return store_txn_session_delete(t, arg);
}

int auth_logout(struct store *s, const char *cookie)
{
    char value[AUTH_SESSION_LEN + 1];
    if (!cookie || !auth_cookie_value(cookie, value))
        return 0;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    auth_token_hash(value, hash);
    return store_write(s, session_delete_txn, hash);
}

void auth_principal_release(struct auth_principal *p)
{
    auth_reader_release(&p->reader);
}

void auth_reader_release(struct policy_reader *reader)
{
    free((void *)reader->groups);
    free((void *)reader->user_groups);
    reader->groups = reader->user_groups = NULL;
    reader->ngroups = reader->nuser_groups = 0;
}
