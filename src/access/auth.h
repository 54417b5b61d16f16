/* auth.h - API tokens and the principal a request acts as.
 *
 * A token is "vgl_" followed by 43 base64url characters (256 random bits). Only its SHA-256
 * is stored; the token itself is shown once, when it is created. Requests present it as
 * "Authorization: Bearer TOKEN", or as HTTP Basic with the user name and the token as the
 * password (TAXII clients use Basic).
 */
#ifndef VIGIL_ACCESS_AUTH_H
#define VIGIL_ACCESS_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "access/policy.h"
#include "store/store.h"

#define AUTH_TOKEN_PREFIX "vgl_"
#define AUTH_TOKEN_LEN 47 /* prefix + 43 base64url characters */
#define AUTH_NAME_MAX 64
#define AUTH_ROLE_MAX 16

/* Who a request acts as. Owned by the caller; release with auth_principal_release(). */
struct auth_principal {
    int64_t user;
    int64_t partner;
    int64_t token;
    char user_name[AUTH_NAME_MAX];
    char role[AUTH_ROLE_MAX];
    bool coordinator;
    bool read_only;
    int default_tlp;             /* the partner's default marking (enum tlp_level) */
    struct policy_reader reader; /* for policy_can_read; groups owned here */
};

/* Makes a new token: writes it into token[AUTH_TOKEN_LEN + 1] and its hash into hash. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1],
                    unsigned char hash[STORE_TOKEN_HASH_LEN]);
/* The stored hash of a token. */
void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN]);

/* Authenticates an Authorization header value against the store. Returns 0 and fills *p, or
 * VIGIL_EAUTH when the header is missing, malformed, or names an unknown, revoked or expired
 * token, a disabled user, or (Basic) a user the token does not belong to. The reason is not
 * told to the client. */
int auth_check_header(struct store *s, const char *authorization, struct auth_principal *p);

void auth_principal_release(struct auth_principal *p);

#endif
