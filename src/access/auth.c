#include "access/auth.h"

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
    if (!rc) {
        memset(p, 0, sizeof *p);
        p->user = a.user_id;
        p->partner = a.partner_id;
        p->token = a.token_id;
        snprintf(p->user_name, sizeof p->user_name, "%s", a.user_name);
        snprintf(p->role, sizeof p->role, "%s", a.role);
        p->coordinator = a.coordinator;
        p->read_only = a.read_only;
        p->default_tlp = a.default_tlp;
        p->reader.partner = a.partner_id;
        p->reader.user = a.user_id;
        p->reader.coordinator = a.coordinator;
    }
    store_read_end(r);
    return rc;
}

int auth_check_header(struct store *s, const char *authorization, struct auth_principal *p)
{
    if (!authorization)
        return VIGIL_EAUTH;
    if (strncasecmp(authorization, "Bearer ", 7) == 0)
        return lookup(s, authorization + 7, NULL, p);
    if (strncasecmp(authorization, "Basic ", 6) != 0)
        return VIGIL_EAUTH;
    const char *b64 = authorization + 6;
    char decoded[256];
    size_t len = 0;
    if (strlen(b64) > 320 ||
        sodium_base642bin((unsigned char *)decoded, sizeof decoded - 1, b64, strlen(b64), NULL,
                          &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return VIGIL_EAUTH;
    decoded[len] = '\0';
    char *colon = strchr(decoded, ':');
    if (!colon || memchr(decoded, '\0', len))
        return VIGIL_EAUTH;
    *colon = '\0';
    int rc = lookup(s, colon + 1, decoded, p);
    sodium_memzero(decoded, sizeof decoded);
    return rc;
}

void auth_principal_release(struct auth_principal *p)
{
    free((void *)p->reader.groups);
    p->reader.groups = NULL;
    p->reader.ngroups = 0;
}
