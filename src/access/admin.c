#include "access/admin.h"

#include <argon2.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "access/policy.h"
#include "base/err.h"
#include "base/uuid.h"

bool admin_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(" ._-+@", c) || c >= 0x80))
            return false;
    }
    return true;
}

bool admin_role_valid(const char *role)
{
    static const char *const roles[] = {"admin", "analyst", "reporter", "reader"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(role, roles[i]) == 0)
            return true;
    return false;
}

struct partner_add {
    const char *name;
    const char *identity_id;
    bool coordinator;
};

static int partner_add_txn(struct store_txn *t, void *arg)
{
    struct partner_add *a = arg;
    return store_txn_partner_add(t, a->name, a->identity_id, a->coordinator, TLP_AMBER, NULL);
}

int admin_partner_add(struct store *s, const char *name, bool coordinator,
                      char identity_id[64], char msg[ADMIN_MSG_SZ])
{
    if (!admin_name_valid(name)) {
        snprintf(msg, ADMIN_MSG_SZ, "invalid partner name \"%.64s\"", name);
        return VIGIL_EINVAL;
    }
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    snprintf(identity_id, 64, "identity--%s", uuid);
    struct partner_add a = {name, identity_id, coordinator};
    int rc = store_write(s, partner_add_txn, &a);
    if (rc == VIGIL_EEXIST)
        snprintf(msg, ADMIN_MSG_SZ, "partner \"%s\" already exists", name);
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot add partner: %s", vigil_strerror(rc));
    return rc;
}

struct user_add {
    const char *partner, *user, *role, *hash;
};

static int user_add_txn(struct store_txn *t, void *arg)
{
    struct user_add *a = arg;
    struct store_partner p;
    int rc = store_partner_find(store_txn_reader(t), a->partner, &p);
    if (rc)
        return rc;
    return store_txn_user_add(t, p.id, a->user, a->role, a->hash, NULL);
}

int admin_user_add(struct store *s, const char *partner, const char *user, const char *role,
                   const char *password, char msg[ADMIN_MSG_SZ])
{
    if (!admin_name_valid(user)) {
        snprintf(msg, ADMIN_MSG_SZ, "invalid user name \"%.64s\"", user);
        return VIGIL_EINVAL;
    }
    if (!admin_role_valid(role)) {
        snprintf(msg, ADMIN_MSG_SZ, "role must be admin, analyst, reporter or reader");
        return VIGIL_EINVAL;
    }
    char hash[128] = "";
    if (password) {
        /* argon2id, RFC 9106's second recommended option scaled to a small server:
         * t=3, m=64 MiB, p=1. */
        unsigned char salt[16];
        randombytes_buf(salt, sizeof salt);
        if (argon2id_hash_encoded(3, 1 << 16, 1, password, strlen(password), salt, sizeof salt,
                                  32, hash, sizeof hash) != ARGON2_OK) {
            snprintf(msg, ADMIN_MSG_SZ, "cannot hash the password");
            return VIGIL_EINTERNAL;
        }
    }
    struct user_add a = {partner, user, role, hash};
    int rc = store_write(s, user_add_txn, &a);
    if (rc == VIGIL_ENOENT)
        snprintf(msg, ADMIN_MSG_SZ, "no partner named \"%s\"", partner);
    else if (rc == VIGIL_EEXIST)
        snprintf(msg, ADMIN_MSG_SZ, "user \"%s\" already exists", user);
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot add user: %s", vigil_strerror(rc));
    return rc;
}

struct token_add {
    const char *user;
    struct store_token_in in;
};

static int token_add_txn(struct store_txn *t, void *arg)
{
    struct token_add *a = arg;
    struct store_user u;
    int rc = store_user_find(store_txn_reader(t), a->user, &u);
    if (rc)
        return rc;
    a->in.user = u.id;
    return store_txn_token_add(t, &a->in, NULL);
}

int admin_token_create(struct store *s, const char *user, bool read_only, int expires_days,
                       const char *label, char token[AUTH_TOKEN_LEN + 1],
                       char msg[ADMIN_MSG_SZ])
{
    if (expires_days < 0 || expires_days > 3650) {
        snprintf(msg, ADMIN_MSG_SZ, "expiry must be from 0 (never) to 3650 days");
        return VIGIL_EINVAL;
    }
    struct token_add a = {.user = user};
    auth_token_new(token, a.in.hash);
    a.in.read_only = read_only;
    a.in.expires = expires_days ? ts_now() + (vtime_t)expires_days * 86400 * VTIME_US_PER_SEC : 0;
    a.in.label = label;
    int rc = store_write(s, token_add_txn, &a);
    if (rc == VIGIL_ENOENT)
        snprintf(msg, ADMIN_MSG_SZ, "no user named \"%s\"", user);
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot create token: %s", vigil_strerror(rc));
    if (rc)
        sodium_memzero(token, AUTH_TOKEN_LEN + 1);
    return rc;
}
