/* admin.h - administration of partners, users and tokens, shared by the CLI and the REST API.
 *
 * Each function validates its input, then performs its writes through the store's writer in
 * one durable transaction, together with an audit entry naming the actor: on any error
 * nothing is written. actor is the principal acting over the API, or NULL for the local
 * operator (the CLI).
 */
#ifndef VIGIL_ACCESS_ADMIN_H
#define VIGIL_ACCESS_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "access/auth.h"
#include "store/store.h"

#define ADMIN_MSG_SZ 256

/* Valid names: 1-64 characters, letters, digits, space and ._-+@ (not starting with space). */
bool admin_name_valid(const char *name);
/* True for admin, analyst, reporter, reader. */
bool admin_role_valid(const char *role);

/* Adds a partner with a new STIX identity id (written into identity_id[64]); its default
 * marking is AMBER. VIGIL_EEXIST if the name is taken, VIGIL_EINVAL for a bad name. */
int admin_partner_add(struct store *s, const struct auth_principal *actor, const char *name,
                      bool coordinator, char identity_id[64], char msg[ADMIN_MSG_SZ]);
/* Adds a user to a partner (by partner name). password may be NULL (token-only user). */
int admin_user_add(struct store *s, const struct auth_principal *actor, const char *partner,
                   const char *user, const char *role, const char *password,
                   char msg[ADMIN_MSG_SZ]);
/* Creates a token for a user; writes it into token. expires_days 0 = never. */
int admin_token_create(struct store *s, const struct auth_principal *actor, const char *user,
                       bool read_only, int expires_days, const char *label,
                       char token[AUTH_TOKEN_LEN + 1], char msg[ADMIN_MSG_SZ]);

/* Creates a sharing group owned by partner `owner` (by name) with the given members: each a
 * partner name, or "user:NAME" for a named user (RED sharing). Writes the group's
 * marking-definition id into marking_id[80]. Nothing is written on any error
 * (VIGIL_EINVAL: bad name or unknown member; VIGIL_EEXIST: name taken; VIGIL_ETOOBIG: owner
 * already owns max_owned groups, 0 for no limit). */
int admin_group_add(struct store *s, const struct auth_principal *actor, const char *owner,
                    const char *name, const char *const *members, size_t nmembers, long max_owned,
                    char marking_id[80], char msg[ADMIN_MSG_SZ]);
/* Changes a sharing group's members, in one audited transaction (an entry per member): adds
 * each of add[] and takes out each of remove[] (partner names, or user:NAME); one already in
 * (added) or not in (taken out) is left as it is. The change holds from the next read on:
 * every read path loads the reader's groups again. `group` is the group's marking-definition
 * id, or the name of a group of the actor's own partner (for the operator, actor NULL, of
 * partner `owner`). Who may: admin_may_change_members; VIGIL_EPERM for another who lists the
 * group (a member, the coordination center's admins), VIGIL_ENOENT (as for no such group) for
 * anyone else; VIGIL_EINVAL for an unknown member.
 * Nothing is written on any error; msg says why. */
int admin_group_members(struct store *s, const struct auth_principal *actor, const char *group,
                        const char *owner, const char *const *add, size_t nadd,
                        const char *const *remove, size_t nremove, char msg[ADMIN_MSG_SZ]);
/* Whether actor (NULL: the operator) may add members to (add) or take members out of (!add) a
 * group owned by partner owner: the operator and the owner partner's admins and analysts both;
 * the coordination center's admins take members out of any group (a partner that left), but
 * add only to their own partner's: adding widens who reads what others shared into the group,
 * which is for its owner to decide (an admin role does not bypass markings, S3). */
bool admin_may_change_members(const struct auth_principal *actor, int64_t owner, bool add);
/* Sets a user's dashboard password (argon2id). */
int admin_user_password(struct store *s, const struct auth_principal *actor, const char *user,
                        const char *password, char msg[ADMIN_MSG_SZ]);
/* Disables a user, or enables it again (disabled false): a disabled user's tokens, sessions,
 * streams and webhooks stop (store_txn_user_set_disabled). actor NULL is the operator; an admin
 * of the coordination center may change any user, another partner's admin its partner's users
 * only (VIGIL_ENOENT for any other, as for no such user); nobody their own (VIGIL_EINVAL);
 * VIGIL_EPERM for an actor who is not an admin. */
int admin_user_set_disabled(struct store *s, const struct auth_principal *actor, const char *user,
                            bool disabled, char msg[ADMIN_MSG_SZ]);

#endif
