#include "access/admin.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "access/audit.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/uuid.h"

/* Records an administrative write in the audit log, in the same transaction. */
static int audit_admin(struct store_txn *t, const struct auth_principal *actor, const char *what,
                       const char *object)
{
    char detail[160];
    snprintf(detail, sizeof detail, "{\"op\":\"%s\"}", what);
    return audit_append(t, actor ? actor->partner : 0, actor ? actor->user : 0, "admin", object,
                        detail);
}

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
    const struct auth_principal *actor;
    const char *name;
    const char *identity_id;
    bool coordinator;
};

static int partner_add_txn(struct store_txn *t, void *arg)
{
    struct partner_add *a = arg;
    int rc = store_txn_partner_add(t, a->name, a->identity_id, a->coordinator, TLP_AMBER, NULL);
    return rc ? rc : audit_admin(t, a->actor, "partner add", a->name);
}

int admin_partner_add(struct store *s, const struct auth_principal *actor, const char *name,
                      bool coordinator, char identity_id[64], char msg[ADMIN_MSG_SZ])
{
    if (!admin_name_valid(name)) {
        snprintf(msg, ADMIN_MSG_SZ, "invalid partner name \"%.64s\"", name);
        return VIGIL_EINVAL;
    }
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    snprintf(identity_id, 64, "identity--%s", uuid);
    struct partner_add a = {actor, name, identity_id, coordinator};
    int rc = store_write(s, partner_add_txn, &a);
    if (rc == VIGIL_EEXIST)
        snprintf(msg, ADMIN_MSG_SZ, "partner \"%s\" already exists", name);
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot add partner: %s", vigil_strerror(rc));
    return rc;
}

struct user_add {
    const struct auth_principal *actor;
    const char *partner, *user, *role, *hash;
};

static int user_add_txn(struct store_txn *t, void *arg)
{
    struct user_add *a = arg;
    struct store_partner p;
    int rc = store_partner_find(store_txn_reader(t), a->partner, &p);
    if (rc)
        return rc;
    rc = store_txn_user_add(t, p.id, a->user, a->role, a->hash, NULL);
    return rc ? rc : audit_admin(t, a->actor, "user add", a->user);
}

int admin_user_add(struct store *s, const struct auth_principal *actor, const char *partner,
                   const char *user, const char *role, const char *password, char msg[ADMIN_MSG_SZ])
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
    if (password && auth_password_hash(password, hash)) {
        snprintf(msg, ADMIN_MSG_SZ, "cannot hash the password");
        return VIGIL_EINTERNAL;
    }
    struct user_add a = {actor, partner, user, role, hash};
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
    const struct auth_principal *actor;
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
    rc = store_txn_token_add(t, &a->in, NULL);
    return rc ? rc : audit_admin(t, a->actor, "token create", a->user);
}

int admin_token_create(struct store *s, const struct auth_principal *actor, const char *user,
                       bool read_only, int expires_days, const char *label,
                       char token[AUTH_TOKEN_LEN + 1], char msg[ADMIN_MSG_SZ])
{
    if (expires_days < 0 || expires_days > 3650) {
        snprintf(msg, ADMIN_MSG_SZ, "expiry must be from 0 (never) to 3650 days");
        return VIGIL_EINVAL;
    }
    struct token_add a = {.actor = actor, .user = user};
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

struct group_add {
    const struct auth_principal *actor;
    const char *owner, *name, *marking_id;
    const char *const *members;
    size_t n;
    long max_owned;
    char *msg;
};

struct owned {
    int64_t partner;
    long n;
};

static int count_owned(void *ctx, const struct store_group *g)
{
    struct owned *o = ctx;
    o->n += g->owner == o->partner;
    return 0;
}

/* A group member as written (a partner name, or user:NAME) to (partner, 0) or (0, user);
 * VIGIL_EINVAL, with msg saying which, when there is no such partner or user. */
static int find_member(struct store_reader *r, const char *m, int64_t *partner, int64_t *user,
                       char *msg)
{
    bool is_user = strncmp(m, "user:", 5) == 0;
    int rc;
    *partner = *user = 0;
    if (is_user) {
        struct store_user u;
        rc = store_user_find(r, m + 5, &u);
        *user = u.id;
    } else {
        struct store_partner p;
        rc = store_partner_find(r, m, &p);
        *partner = p.id;
    }
    if (rc == VIGIL_ENOENT) {
        snprintf(msg, ADMIN_MSG_SZ, "no %s named \"%.64s\"", is_user ? "user" : "partner",
                 is_user ? m + 5 : m);
        return VIGIL_EINVAL;
    }
    return rc;
}

static int group_add_txn(struct store_txn *t, void *arg)
{
    struct group_add *a = arg;
    struct store_reader *r = store_txn_reader(t);
    struct store_partner p;
    int rc = store_partner_find(r, a->owner, &p);
    if (rc) {
        snprintf(a->msg, ADMIN_MSG_SZ, "no partner named \"%.64s\"", a->owner);
        return rc == VIGIL_ENOENT ? VIGIL_EINVAL : rc;
    }
    struct owned owned = {p.id, 0};
    rc = a->max_owned ? store_groups(r, count_owned, &owned) : 0;
    if (!rc && a->max_owned && owned.n >= a->max_owned) {
        snprintf(a->msg, ADMIN_MSG_SZ,
                 "%.64s owns %ld sharing groups, the most this hub allows (groups_per_partner)",
                 a->owner, owned.n);
        return VIGIL_ETOOBIG;
    }
    int64_t gid;
    rc = rc ? rc : store_txn_group_add(t, a->name, a->marking_id, p.id, &gid);
    if (rc == VIGIL_EEXIST)
        snprintf(a->msg, ADMIN_MSG_SZ, "group \"%s\" already exists", a->name);
    for (size_t i = 0; i < a->n && !rc; i++) {
        int64_t partner, user;
        rc = find_member(r, a->members[i], &partner, &user, a->msg);
        rc = rc ? rc : store_txn_group_member(t, gid, partner, user, true);
    }
    return rc ? rc : audit_admin(t, a->actor, "group add", a->name);
}

int admin_group_add(struct store *s, const struct auth_principal *actor, const char *owner,
                    const char *name, const char *const *members, size_t nmembers, long max_owned,
                    char marking_id[80], char msg[ADMIN_MSG_SZ])
{
    msg[0] = '\0';
    if (!admin_name_valid(name) || strncmp(name, "marking-definition--", 20) == 0) {
        snprintf(msg, ADMIN_MSG_SZ, "invalid group name \"%.64s\"", name);
        return VIGIL_EINVAL;
    }
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    snprintf(marking_id, 80, "marking-definition--%s", uuid);
    struct group_add a = {actor, owner, name, marking_id, members, nmembers, max_owned, msg};
    int rc = store_write(s, group_add_txn, &a);
    if (rc && !msg[0])
        snprintf(msg, ADMIN_MSG_SZ, "cannot add group: %s", vigil_strerror(rc));
    return rc;
}

struct group_members {
    const struct auth_principal *actor;
    const char *group, *owner;
    const char *const *add, *const *remove;
    size_t nadd, nremove;
    char *msg;
};

bool admin_may_change_members(const struct auth_principal *actor, int64_t owner, bool add)
{
    if (!actor)
        return true;
    bool admin = strcmp(actor->role, "admin") == 0;
    if (owner == actor->partner && (admin || strcmp(actor->role, "analyst") == 0))
        return true;
    return actor->coordinator && admin && !add;
}

/* 0 when actor may change group g's members (add: members are added); VIGIL_EPERM for one
 * who lists the group (a member, the coordination center's admins) but may not; VIGIL_ENOENT,
 * as for no such group, for anyone else. */
static int may_change_members(struct store_reader *r, const struct auth_principal *actor,
                              const struct store_group *g, bool add)
{
    if (admin_may_change_members(actor, g->owner, add))
        return 0;
    if (actor->coordinator && strcmp(actor->role, "admin") == 0)
        return VIGIL_EPERM;
    int in = store_group_may_use(r, g->id, actor->partner, actor->user);
    return in < 0 ? in : in ? VIGIL_EPERM : VIGIL_ENOENT;
}

static int change_members(struct store_txn *t, struct group_members *a, const struct store_group *g,
                          bool add)
{
    struct store_reader *r = store_txn_reader(t);
    const char *const *m = add ? a->add : a->remove;
    size_t n = add ? a->nadd : a->nremove;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t partner, user;
        rc = find_member(r, m[i], &partner, &user, a->msg);
        rc = rc ? rc : store_txn_group_member(t, g->id, partner, user, add);
        char what[128];
        snprintf(what, sizeof what, "group member %s %s", add ? "add" : "remove", m[i]);
        rc = rc ? rc : audit_admin(t, a->actor, what, g->marking_id);
        /* Changed by the hub (its admins, the operator): the owner's admins see it in their
         * own log too, credited to the hub, not to a user of theirs. */
        if (!rc && (!a->actor || a->actor->partner != g->owner)) {
            char detail[192];
            snprintf(detail, sizeof detail, "{\"op\":\"%s\",\"by\":\"the hub\"}", what);
            rc = audit_append(t, g->owner, 0, "admin", g->marking_id, detail);
        }
    }
    return rc;
}

static int group_members_txn(struct store_txn *t, void *arg)
{
    struct group_members *a = arg;
    struct store_reader *r = store_txn_reader(t);
    int64_t partner = a->actor ? a->actor->partner : 0, user = a->actor ? a->actor->user : 0;
    struct store_partner owner;
    if (!a->actor && a->owner) { /* the operator names a group by its owner and name */
        int rc = store_partner_find(r, a->owner, &owner);
        if (rc) {
            snprintf(a->msg, ADMIN_MSG_SZ, "no partner named \"%.64s\"", a->owner);
            return rc == VIGIL_ENOENT ? VIGIL_EINVAL : rc;
        }
        partner = owner.id;
    }
    /* A name names a group of the caller's own partner; another's is given by its marking
     * id. (A name store_group_find resolves to another's group names one the caller is in.) */
    struct store_group g;
    int rc = store_group_find(r, a->group, partner, user, &g);
    bool by_name = strncmp(a->group, "marking-definition--", 20) != 0;
    if (rc == VIGIL_ECONFLICT || (!rc && by_name && g.owner != partner)) {
        snprintf(a->msg, ADMIN_MSG_SZ,
                 "no sharing group of yours named \"%.64s\": give "
                 "another partner's group by its marking_id",
                 a->group);
        return VIGIL_ENOENT;
    }
    rc = rc ? rc : may_change_members(r, a->actor, &g, a->nadd > 0);
    if (rc == VIGIL_ENOENT)
        snprintf(a->msg, ADMIN_MSG_SZ, "no sharing group \"%.100s\"", a->group);
    else if (rc == VIGIL_EPERM)
        snprintf(a->msg, ADMIN_MSG_SZ,
                 "the group's owner (its admins and analysts) changes its members; the "
                 "coordination center's admins may take members out");
    rc = rc ? rc : change_members(t, a, &g, true);
    return rc ? rc : change_members(t, a, &g, false);
}

int admin_group_members(struct store *s, const struct auth_principal *actor, const char *group,
                        const char *owner, const char *const *add, size_t nadd,
                        const char *const *remove, size_t nremove, char msg[ADMIN_MSG_SZ])
{
    msg[0] = '\0';
    struct group_members a = {actor, group, owner, add, remove, nadd, nremove, msg};
    int rc = store_write(s, group_members_txn, &a);
    if (rc && !msg[0])
        snprintf(msg, ADMIN_MSG_SZ, "cannot change the group: %s", vigil_strerror(rc));
    return rc;
}

struct set_password {
    const struct auth_principal *actor;
    const char *user, *hash;
};

static int set_password_txn(struct store_txn *t, void *arg)
{
    struct set_password *a = arg;
    struct store_user u;
    int rc = store_user_find(store_txn_reader(t), a->user, &u);
    rc = rc ? rc : store_txn_user_set_password(t, u.id, a->hash);
    return rc ? rc : audit_admin(t, a->actor, "user passwd", a->user);
}

int admin_user_password(struct store *s, const struct auth_principal *actor, const char *user,
                        const char *password, char msg[ADMIN_MSG_SZ])
{
    if (strlen(password) < 10 || strlen(password) > 1024) {
        snprintf(msg, ADMIN_MSG_SZ, "a password needs 10 to 1024 characters");
        return VIGIL_EINVAL;
    }
    char hash[128];
    if (auth_password_hash(password, hash)) {
        snprintf(msg, ADMIN_MSG_SZ, "cannot hash the password");
        return VIGIL_EINTERNAL;
    }
    struct set_password a = {actor, user, hash};
    int rc = store_write(s, set_password_txn, &a);
    if (rc == VIGIL_ENOENT)
        snprintf(msg, ADMIN_MSG_SZ, "no user named \"%s\"", user);
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot set the password: %s", vigil_strerror(rc));
    return rc;
}

struct set_disabled {
    const struct auth_principal *actor;
    const char *user;
    bool disabled;
};

static int set_disabled_txn(struct store_txn *t, void *arg)
{
    struct set_disabled *a = arg;
    const struct auth_principal *p = a->actor; /* NULL: the operator, on the command line */
    if (p && strcmp(p->role, "admin") != 0)
        return VIGIL_EPERM;
    struct store_user u;
    int rc = store_user_find(store_txn_reader(t), a->user, &u);
    /* Another partner's user is answered as no user at all, to a partner's admin: whether a
     * name is taken elsewhere is not theirs to learn. */
    if (!rc && p && !p->coordinator && u.partner != p->partner)
        rc = VIGIL_ENOENT;
    if (!rc && p && u.id == p->user)
        return VIGIL_EINVAL;
    rc = rc ? rc : store_txn_user_set_disabled(t, u.id, a->disabled);
    return rc ? rc : audit_admin(t, p, a->disabled ? "user disable" : "user enable", a->user);
}

int admin_user_set_disabled(struct store *s, const struct auth_principal *actor, const char *user,
                            bool disabled, char msg[ADMIN_MSG_SZ])
{
    struct set_disabled a = {actor, user, disabled};
    int rc = store_write(s, set_disabled_txn, &a);
    if (rc == VIGIL_ENOENT)
        snprintf(msg, ADMIN_MSG_SZ, "no user named \"%.64s\"", user);
    else if (rc == VIGIL_EINVAL)
        snprintf(msg, ADMIN_MSG_SZ, "you cannot disable or enable yourself");
    else if (rc == VIGIL_EPERM)
        snprintf(msg, ADMIN_MSG_SZ, "admins only");
    else if (rc)
        snprintf(msg, ADMIN_MSG_SZ, "cannot change the user: %s", vigil_strerror(rc));
    return rc;
}
