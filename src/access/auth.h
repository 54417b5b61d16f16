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

#define AUTH_SESSION_COOKIE "vigil_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"
#define AUTH_SESSION_LEN 43
#define AUTH_CSRF_LEN 43

/* What a request authenticated with (only its hash), so that it can be checked again later:
 * a live stream outlives its request, and must end when its credential does. */
enum auth_cred_kind { AUTH_CRED_NONE, AUTH_CRED_TOKEN, AUTH_CRED_SESSION };
struct auth_credential {
    enum auth_cred_kind kind; /* NONE: acting for the CLI, nothing to check */
    unsigned char hash[STORE_TOKEN_HASH_LEN];
};

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
    struct auth_credential cred; /* what auth_check accepted */
    /* A dashboard session's CSRF token (empty for a token or the CLI): the session's own page
     * may read it again from GET /api/v1/me, so that a reload keeps the user signed in. */
    char csrf[AUTH_CSRF_LEN + 1];
};

/* Makes a new token: writes it into token[AUTH_TOKEN_LEN + 1] and its hash into hash. */
void auth_token_new(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[STORE_TOKEN_HASH_LEN]);
/* The stored hash of a token. */
void auth_token_hash(const char *token, unsigned char hash[STORE_TOKEN_HASH_LEN]);

/* The credentials a request carries. Any field may be NULL. */
struct auth_request {
    const char *authorization; /* the Authorization header */
    const char *cookie;        /* the Cookie header */
    const char *csrf;          /* the X-CSRF-Token header */
    const char *method;
};

/* Authenticates a request: a token (Bearer or Basic) when there is an Authorization header,
 * else a dashboard session cookie, which for any method but GET and HEAD also needs the
 * session's CSRF token in X-CSRF-Token. Returns 0 and fills *p (release it), VIGIL_EAUTH
 * when the credentials are missing, malformed, unknown, revoked, expired or of a disabled
 * user (the reason is not told to the client), or VIGIL_EPERM for a missing or wrong CSRF
 * token. */
int auth_check(struct store *s, const struct auth_request *req, struct auth_principal *p);

/* Checks again that a credential auth_check accepted may still be used: 0, or VIGIL_EAUTH
 * when the token has been revoked or has expired, the session has ended (logout, expiry, a
 * new password) or the user has been disabled; another error when the store cannot tell. */
int auth_recheck(struct store *s, const struct auth_credential *c);

/* The parsers that run on a request before it is authenticated (fuzzed in tests/fuzz/). */
/* Decodes the base64 of an "Authorization: Basic" value into user[AUTH_BASIC_MAX], cut at the
 * first ':'; *password (the token) points into user, after it (wipe user when done). Returns
 * 0, or VIGIL_EAUTH when it is not base64, too long, has no ':' or holds a NUL. */
#define AUTH_BASIC_MAX 256
int auth_basic_parse(const char *b64, char user[AUTH_BASIC_MAX], const char **password);
/* Finds the session cookie's value in a Cookie header; copies it into out. False when there is
 * none or it is not AUTH_SESSION_LEN characters long. */
bool auth_cookie_value(const char *cookie, char out[AUTH_SESSION_LEN + 1]);

/* Fills *p for a user by name, as if they had authenticated (for the CLI's --as USER).
 * VIGIL_ENOENT when there is no such user. */
int auth_principal_for_user(struct store *s, const char *user, struct auth_principal *p);

/* Fills *p for a user by id, reading with r (e.g. inside a transaction). VIGIL_ENOENT when
 * there is no such user. */
int auth_principal_load(struct store_reader *r, int64_t user, struct auth_principal *p);

/* Loads the sharing groups of a reader's partner and user into it, replacing those it had
 * (none on an error: a reader whose groups cannot be read reads no group's objects). */
int auth_load_groups(struct store_reader *r, struct policy_reader *reader);

/* Checks a user's password (argon2id) and opens a session: writes the cookie value into
 * session and the CSRF token into csrf. VIGIL_EAUTH for an unknown user, a wrong password, a
 * disabled user or one without a password (same answer for all). */
int auth_login(struct store *s, const char *user, const char *password, long ttl_s,
               char session[AUTH_SESSION_LEN + 1], char csrf[AUTH_CSRF_LEN + 1]);
/* Ends the session of a Cookie header value (no error when there is none). */
int auth_logout(struct store *s, const char *cookie);
/* Hashes a password with argon2id into out[128]. */
int auth_password_hash(const char *password, char out[128]);

void auth_principal_release(struct auth_principal *p);
/* Frees the groups a reader holds (auth_load_groups). */
void auth_reader_release(struct policy_reader *reader);

#endif
