/* rest_admin.c - /api/v1/ administration: who am I, login, partners, users, tokens, sharing
 * groups, audit. The same operations as the CLI (access/admin.h), with roles checked here:
 *  - the coordination center's admins manage everything;
 *  - a partner's admins manage their own partner's users and tokens;
 *  - analysts and admins create sharing groups owned by their partner;
 *  - read-only tokens write nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/admin.h"
#include "access/audit.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "server/app.h"
#include "server/ratelimit.h"
#include "server/rest.h"
#include "service/webhooks.h"

#define SESSION_TTL_S (12 * 3600)

static bool is_admin(const struct auth_principal *p)
{
    return strcmp(p->role, "admin") == 0;
}

static bool hub_admin(const struct auth_principal *p)
{
    return is_admin(p) && p->coordinator;
}

static void h_me(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct store_reader *r;
    struct store_partner partner;
    if (!rest_reader(a, req, resp, &r))
        return;
    int rc = store_partner_get(r, p->partner, &partner);
    json_t *v =
        rc ? NULL
           : json_pack("{s:s, s:s, s:{s:s, s:s, s:b}, s:b}", "user", p->user_name, "role", p->role,
                       "partner", "name", partner.name, "identity", partner.identity_id,
                       "coordinator", partner.coordinator, "read_only", p->read_only);
    store_read_end(r);
    if (!v) {
        app_error(req, resp, 500, "cannot read the partner", NULL);
        return;
    }
    /* A dashboard session gets its CSRF token back: only its own page can read this answer
     * (SameSite=Strict cookie, no CORS), and a reload then keeps the user signed in. */
    if (p->cred.kind == AUTH_CRED_SESSION && p->csrf[0])
        json_object_set_new(v, "csrf_token", json_string(p->csrf));
    rest_reply(resp, 200, v);
}

static void h_login(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    static const char *const fields[] = {"user", "password", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *user = vjson_str(body, "user"), *password = vjson_str(body, "password");
    if (!user || !password) {
        json_decref(body);
        app_error(req, resp, 400, "bad request", "user and password are required strings");
        return;
    }
    /* Throttled before the password is checked (docs/ACCESS.md): per address, per account, and
     * argon2id runs at most login_concurrency at once, so guesses cannot take the workers. */
    int retry = 1;
    int64_t now = ts_monotonic_us();
    bool ok = ratelimit_take(a->login_addr, ratelimit_key(req->client), now, &retry) &&
              ratelimit_take(a->login_user, ratelimit_key(user), now, &retry) &&
              slots_take(a->logins, 1) == SLOTS_OK;
    if (!ok) {
        json_decref(body);
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry);
        app_error(req, resp, 429, "too many login attempts", "try again later; see Retry-After");
        http_resp_header(resp, "Retry-After", secs);
        return;
    }
    char session[AUTH_SESSION_LEN + 1], csrf[AUTH_CSRF_LEN + 1];
    int rc = auth_login(a->store, user, password, SESSION_TTL_S, session, csrf);
    slots_give(a->logins, 1);
    json_decref(body);
    if (rc == VIGIL_EAUTH) {
        app_error(req, resp, 401, "wrong user name or password", NULL);
        return;
    }
    if (rc) {
        app_error(req, resp, 503, "cannot open a session", NULL);
        return;
    }
    char cookie[160];
    snprintf(cookie, sizeof cookie,
             AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", session,
             SESSION_TTL_S, a->cfg->tls_cert[0] ? "; Secure" : "");
    http_resp_header(resp, "Set-Cookie", cookie);
    rest_reply(resp, 200, json_pack("{s:s}", "csrf_token", csrf));
}

static void h_logout(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    auth_logout(a->store, http_header(req, "Cookie"));
    http_resp_header(resp, "Set-Cookie",
                     AUTH_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    rest_reply(resp, 200, json_object());
}

/* ---- names ------------------------------------------------------------------------------ */

/* The names of partners and users by id, read once per request (an admin's page shows names,
 * never bare ids). Only what the admin may already list is looked up through it. */
struct names {
    json_t *partners; /* "id" -> name */
    json_t *users;    /* "id" -> {"name", "partner"} */
};

static int name_partner(void *ctx, const struct store_partner *p)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)p->id);
    json_object_set_new(((struct names *)ctx)->partners, k, json_string(p->name));
    return 0;
}

static int name_user(void *ctx, const struct store_user *u)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)u->id);
    json_t *o = json_pack("{s:s, s:I}", "name", u->name, "partner", (json_int_t)u->partner);
    json_object_set_new(((struct names *)ctx)->users, k, o);
    return 0;
}

/* Reads the names of every partner, and of the users of partner (0: all). */
static int names_load(struct store_reader *r, int64_t partner, struct names *n)
{
    n->partners = json_object();
    n->users = json_object();
    int rc = store_partners(r, name_partner, n);
    return rc ? rc : store_users(r, partner, name_user, n);
}

static void names_release(struct names *n)
{
    json_decref(n->partners);
    json_decref(n->users);
}

static const char *partner_name(const struct names *n, int64_t id)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)id);
    return json_string_value(json_object_get(n->partners, k));
}

static const char *user_name(const struct names *n, int64_t id)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)id);
    return json_string_value(json_object_get(json_object_get(n->users, k), "name"));
}

/* ---- lists ------------------------------------------------------------------------------ */

static int add_partner(void *ctx, const struct store_partner *p)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:b}", "name", p->name, "identity",
                                         p->identity_id, "coordinator", p->coordinator));
    return 0;
}

struct user_list {
    json_t *arr;
    struct names names;
};

static int add_user(void *ctx, const struct store_user *u)
{
    struct user_list *l = ctx;
    const char *partner = partner_name(&l->names, u->partner);
    json_array_append_new(l->arr, json_pack("{s:I, s:s, s:s, s:s, s:b, s:b}", "id",
                                            (json_int_t)u->id, "name", u->name, "partner",
                                            partner ? partner : "", "role", u->role, "password",
                                            u->password_hash[0] != '\0', "disabled",
                                            u->disabled));
    return 0;
}

static int add_token(void *ctx, const struct store_token *t)
{
    char exp[TS_BUFSZ], created[TS_BUFSZ];
    json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:b, s:s}", "id", (json_int_t)t->id, "user",
                          t->user_name, "label", t->label, "read_only", t->read_only, "revoked",
                          t->revoked, "created", ts_format(t->created, 0, created));
    json_object_set_new(o, "expires",
                        t->expires ? json_string(ts_format(t->expires, 0, exp)) : json_null());
    json_array_append_new(ctx, o);
    return 0;
}

struct group_list {
    const struct auth_principal *p;
    json_t *arr;
    int64_t *ids, *owners; /* of the groups listed, for their members */
};

static int add_group(void *ctx, const struct store_group *g)
{
    struct group_list *l = ctx;
    const struct policy_reader *r = &l->p->reader;
    bool member = g->owner == l->p->partner || hub_admin(l->p);
    for (size_t i = 0; i < r->ngroups && !member; i++)
        member = r->groups[i] == g->id;
    for (size_t i = 0; i < r->nuser_groups && !member; i++)
        member = r->user_groups[i] == g->id;
    if (member) {
        size_t n = json_array_size(l->arr);
        l->ids = xrealloc(l->ids, (n + 1) * sizeof *l->ids);
        l->owners = xrealloc(l->owners, (n + 1) * sizeof *l->owners);
        l->ids[n] = g->id;
        l->owners[n] = g->owner;
        json_array_append_new(l->arr, json_pack("{s:s, s:s, s:[], s:I, s:b, s:b}", "name", g->name,
                                                "marking_id", g->marking_id, "members",
                                                "users_withheld", (json_int_t)0, "may_add_members",
                                                admin_may_change_members(l->p, g->owner, true),
                                                "may_remove_members",
                                                admin_may_change_members(l->p, g->owner, false)));
    }
    return 0;
}

struct member_ctx {
    const struct auth_principal *p;
    const struct names *names;
    json_t *group;
    int64_t owner;
};

/* A group's members as its reader may see them: partners by name; a user member by name when
 * the reader is the hub's admin, of the group's owner, or of that user's partner; otherwise
 * only counted ("users_withheld"): another partner's user names are not the reader's to know. */
static int add_member(void *ctx, int64_t partner, int64_t user)
{
    struct member_ctx *m = ctx;
    json_t *members = json_object_get(m->group, "members");
    if (!user) {
        const char *n = partner_name(m->names, partner);
        json_array_append_new(members, json_string(n ? n : "?"));
        return 0;
    }
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)user);
    json_t *u = json_object_get(m->names->users, k);
    int64_t of = json_integer_value(json_object_get(u, "partner"));
    if (u && (hub_admin(m->p) || m->owner == m->p->partner || of == m->p->partner)) {
        json_array_append_new(members,
                              json_sprintf("user:%s", json_string_value(json_object_get(u,
                                                                                       "name"))));
    } else {
        json_t *w = json_object_get(m->group, "users_withheld");
        json_integer_set(w, json_integer_value(w) + 1);
    }
    return 0;
}

enum list_kind { LIST_PARTNERS, LIST_USERS, LIST_TOKENS, LIST_GROUPS };

static void list(struct http_req *req, struct http_resp *resp, struct app *a, enum list_kind kind)
{
    const struct auth_principal *p = app_principal(req);
    if ((kind == LIST_USERS || kind == LIST_TOKENS) && !is_admin(p)) {
        app_error(req, resp, 403, "forbidden", "administrators only");
        return;
    }
    int64_t scope = hub_admin(p) ? 0 : p->partner;
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    json_t *arr = json_array();
    struct group_list gl = {p, arr, NULL, NULL};
    struct user_list ul = {arr, {NULL, NULL}};
    static const char *const keys[] = {"partners", "users", "tokens", "groups"};
    int rc = 0;
    if (kind == LIST_USERS || kind == LIST_GROUPS)
        rc = names_load(r, 0, &ul.names);
    if (!rc)
        rc = kind == LIST_PARTNERS ? store_partners(r, add_partner, arr)
             : kind == LIST_USERS  ? store_users(r, scope, add_user, &ul)
             : kind == LIST_TOKENS ? store_tokens(r, scope, add_token, arr)
                                   : store_groups(r, add_group, &gl);
    for (size_t i = 0; !rc && kind == LIST_GROUPS && i < json_array_size(arr); i++) {
        struct member_ctx m = {p, &ul.names, json_array_get(arr, i), gl.owners[i]};
        rc = store_group_members(r, gl.ids[i], add_member, &m);
    }
    store_read_end(r);
    names_release(&ul.names);
    free(gl.ids);
    free(gl.owners);
    if (rc) {
        json_decref(arr);
        app_error(req, resp, 500, "cannot list", NULL);
        return;
    }
    json_t *v = json_object();
    json_object_set_new(v, keys[kind], arr);
    rest_reply(resp, 200, v);
}

static void h_partners(struct http_req *req, struct http_resp *resp, void *arg)
{
    list(req, resp, arg, LIST_PARTNERS);
}

static void h_users(struct http_req *req, struct http_resp *resp, void *arg)
{
    list(req, resp, arg, LIST_USERS);
}

static void h_tokens(struct http_req *req, struct http_resp *resp, void *arg)
{
    list(req, resp, arg, LIST_TOKENS);
}

static void h_groups(struct http_req *req, struct http_resp *resp, void *arg)
{
    list(req, resp, arg, LIST_GROUPS);
}

/* ---- creation --------------------------------------------------------------------------- */

/* Answers an admin_* failure: 400 for bad input, 409 for a name taken or a limit reached,
 * else 500. */
static void admin_failed(struct http_req *req, struct http_resp *resp, int rc, const char *msg)
{
    int status = rc == VIGIL_EINVAL || rc == VIGIL_ENOENT    ? 400
                 : rc == VIGIL_EEXIST || rc == VIGIL_ETOOBIG ? 409
                                                             : 500;
    const char *title = rc == VIGIL_ETOOBIG ? "limit reached"
                        : status == 409     ? "conflict"
                                            : "bad request";
    app_error(req, resp, status, title, msg);
}

/* Whether body's optional flag key, if present, is true or false: a flag written any other
 * way ("true", 1) is refused rather than read as false, which made "read_only": "true" a
 * token that may write. */
static bool flag_ok(const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    return !v || json_is_boolean(v);
}

static void h_partner_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp) || !hub_admin(p)) {
        if (!p->read_only)
            app_error(req, resp, 403, "forbidden", "the coordination center's admins only");
        return;
    }
    static const char *const fields[] = {"name", "coordinator", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *name = vjson_str(body, "name");
    char identity[64], msg[ADMIN_MSG_SZ] = "name: required; coordinator: true or false";
    int rc =
        name && flag_ok(body, "coordinator")
            ? admin_partner_add(a->store, p, name,
                                json_is_true(json_object_get(body, "coordinator")), identity, msg)
            : VIGIL_EINVAL;
    if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(resp, 201, json_pack("{s:s, s:s}", "name", name, "identity", identity));
    json_decref(body);
}

/* The partner (by name) a partner admin may manage: their own. */
static bool may_manage(struct app *a, const struct auth_principal *p, const char *partner)
{
    if (hub_admin(p))
        return true;
    if (!is_admin(p) || !partner)
        return false;
    struct store_reader *r;
    struct store_partner sp;
    if (store_read_begin(a->store, &r))
        return false;
    bool ok = store_partner_find(r, partner, &sp) == 0 && sp.id == p->partner;
    store_read_end(r);
    return ok;
}

static void h_user_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    static const char *const fields[] = {"partner", "name", "role", "password", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *partner = vjson_str(body, "partner"), *name = vjson_str(body, "name"),
               *role = vjson_str(body, "role"), *password = vjson_str(body, "password");
    char msg[ADMIN_MSG_SZ] = "partner, name and role are required";
    int rc = VIGIL_EINVAL;
    if (!may_manage(a, p, partner)) {
        app_error(req, resp, 403, "forbidden", "you may not add users to this partner");
        json_decref(body);
        return;
    }
    if (partner && name && role)
        rc = admin_user_add(a->store, p, partner, name, role, NULL, msg);
    if (!rc && password)
        rc = admin_user_password(a->store, p, name, password, msg);
    if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(resp, 201,
                   json_pack("{s:s, s:s, s:s}", "partner", partner, "name", name, "role", role));
    json_decref(body);
}

/* The caller of a write only admins may make, or NULL once answered (403, or the read-only
 * token's answer). */
static const struct auth_principal *admin_writing(struct http_req *req, struct http_resp *resp)
{
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return NULL;
    if (!is_admin(p)) {
        app_error(req, resp, 403, "forbidden", "administrators only");
        return NULL;
    }
    return p;
}

/* PATCH /api/v1/users/{name} {"disabled": true|false}: an admin disables one of the users it
 * manages, or enables it again (admin_user_set_disabled). Any other user is 404, as a name
 * nobody uses. */
static void h_user_patch(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = admin_writing(req, resp);
    if (!p)
        return;
    static const char *const fields[] = {"disabled", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    json_t *d = json_object_get(body, "disabled");
    const char *name = http_param(req, "name");
    char msg[ADMIN_MSG_SZ] = "disabled: true or false is required";
    int rc = json_is_boolean(d) ? admin_user_set_disabled(a->store, p, name, json_is_true(d), msg)
                                : VIGIL_EINVAL;
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such user", msg);
    else if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(resp, 200, json_pack("{s:s, s:b}", "name", name, "disabled", json_is_true(d)));
    json_decref(body);
}

/* The partner name of a user, into out[128]; false when there is no such user. */
static bool user_partner(struct app *a, const char *user, char out[128])
{
    struct store_reader *r;
    struct store_user u;
    struct store_partner sp;
    if (!user || store_read_begin(a->store, &r))
        return false;
    bool ok = store_user_find(r, user, &u) == 0 && store_partner_get(r, u.partner, &sp) == 0;
    if (ok)
        snprintf(out, 128, "%s", sp.name);
    store_read_end(r);
    return ok;
}

static void h_token_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    static const char *const fields[] = {"user", "read_only", "expires_days", "label", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *user = vjson_str(body, "user");
    char partner[128] = "";
    /* Unknown users answer like users of other partners: 403, not 404. */
    if (!user_partner(a, user, partner) || !may_manage(a, p, partner)) {
        app_error(req, resp, 403, "forbidden", "you may not create tokens for this user");
        json_decref(body);
        return;
    }
    char token[AUTH_TOKEN_LEN + 1],
        msg[ADMIN_MSG_SZ] =
            "read_only: true or false; expires_days: whole days from 0 to 3650; label: a text";
    const char *label = vjson_str(body, "label");
    const json_t *days = json_object_get(body, "expires_days");
    bool ok = flag_ok(body, "read_only") && (!days || json_is_integer(days)) &&
              (label || !json_object_get(body, "label"));
    json_int_t d = ok && days ? json_integer_value(days) : 0;
    int rc = ok && d >= 0 && d <= 3650
                 ? admin_token_create(a->store, p, user,
                                      json_is_true(json_object_get(body, "read_only")), (int)d,
                                      label ? label : "created over the API", token, msg)
                 : VIGIL_EINVAL;
    if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(resp, 201, json_pack("{s:s, s:s}", "user", user, "token", token));
    json_decref(body);
}

struct revoke {
    const struct auth_principal *actor;
    int64_t id, scope;
};

static int revoke_txn(struct store_txn *t, void *arg)
{
    struct revoke *r = arg;
    int rc = store_txn_token_revoke(t, r->id, r->scope);
    char object[32];
    snprintf(object, sizeof object, "token %lld", (long long)r->id);
    return rc ? rc
              : audit_append(t, r->actor->partner, r->actor->user, "admin", object,
                             "{\"op\":\"token revoke\"}");
}

static void h_token_revoke(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = admin_writing(req, resp);
    if (!p)
        return;
    char *end;
    long long id = strtoll(http_param(req, "id"), &end, 10);
    struct revoke rv = {p, id, hub_admin(p) ? 0 : p->partner};
    int rc = *end || id <= 0 ? VIGIL_ENOENT : store_write(a->store, revoke_txn, &rv);
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such token", NULL);
    else if (rc)
        app_error(req, resp, 500, "cannot revoke", NULL);
    else
        rest_reply(resp, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

/* body's key as a list of up to 256 members (texts), NUL-terminated, to free; NULL when it is
 * something else. An absent key is an empty list. */
static const char **member_list(const json_t *body, const char *key, size_t *n)
{
    const json_t *v = json_object_get(body, key);
    *n = json_array_size(v);
    if ((v && !json_is_array(v)) || *n > 256)
        return NULL;
    const char **m = xcalloc(*n + 1, sizeof *m);
    for (size_t i = 0; i < *n; i++) {
        if (!(m[i] = json_string_value(json_array_get(v, i)))) {
            free(m);
            return NULL;
        }
    }
    return m;
}

static void h_group_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    if (strcmp(p->role, "admin") != 0 && strcmp(p->role, "analyst") != 0) {
        app_error(req, resp, 403, "forbidden", "admins and analysts create sharing groups");
        return;
    }
    static const char *const fields[] = {"name", "members", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *name = vjson_str(body, "name");
    size_t n;
    const char **m = member_list(body, "members", &n);
    char msg[ADMIN_MSG_SZ] = "name and members (a list of partner names or user:NAME) are "
                             "required";
    bool ok = name && m && n > 0;
    struct store_reader *r;
    struct store_partner own;
    char owner[128] = "";
    if (ok && store_read_begin(a->store, &r) == 0) {
        if (store_partner_get(r, p->partner, &own) == 0)
            snprintf(owner, sizeof owner, "%s", own.name);
        store_read_end(r);
    }
    char marking[80];
    int rc = ok ? admin_group_add(a->store, p, owner, name, m, n, a->cfg->groups_per_partner,
                                  marking, msg)
                : VIGIL_EINVAL;
    if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(resp, 201, json_pack("{s:s, s:s}", "name", name, "marking_id", marking));
    free(m);
    json_decref(body);
}

/* PATCH /api/v1/groups/{group} {"add": [...], "remove": [...]}: changes a sharing group's
 * members (admin_group_members says who may). {group} is its marking id, or the name of one of
 * the caller's partner's groups. */
static void h_group_patch(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    static const char *const fields[] = {"add", "remove", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    size_t nadd, nremove;
    const char **add = member_list(body, "add", &nadd);
    const char **remove = member_list(body, "remove", &nremove);
    char msg[ADMIN_MSG_SZ] = "add and remove: lists of partner names or user:NAME, at least one "
                             "member in all";
    const char *group = http_param(req, "group");
    int rc = add && remove && nadd + nremove > 0
                 ? admin_group_members(a->store, p, group, NULL, add, nadd, remove, nremove, msg)
                 : VIGIL_EINVAL;
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such group", msg);
    else if (rc == VIGIL_EPERM)
        app_error(req, resp, 403, "forbidden", msg);
    else if (rc)
        admin_failed(req, resp, rc, msg);
    else
        rest_reply(
            resp, 200,
            json_pack("{s:s, s:o, s:o}", "group", group, "added",
                      nadd ? json_incref(json_object_get(body, "add")) : json_array(), "removed",
                      nremove ? json_incref(json_object_get(body, "remove")) : json_array()));
    free(add);
    free(remove);
    json_decref(body);
}

/* ---- audit ------------------------------------------------------------------------------ */

/* What an admin sees of the audit log. A partner's admins see their own partner's entries
 * in full, but those of a colleague who reads more than they do (named in a RED sharing group
 * that does not name them) as another partner's: those would name what the admin may not
 * read. The coordination center's admins see every partner's, but of another partner's entry
 * only what they may read themselves: who, when and what kind of action, the object of an
 * administrative action (users, tokens, partners, groups: theirs to manage; not a webhook's
 * URL), and the id of a report they may read. Another partner's search terms, the ids it read
 * or wrote, counts and digests are withheld ("withheld": true). */
struct colleague {
    int64_t user;
    bool reads_more; /* than the admin */
};

struct colleagues {
    struct colleague *v;
    size_t n;
};

struct audit_view {
    const struct auth_principal *p;
    struct store_reader *r;
    json_t *arr;
    int64_t last;
    const struct names *names;
    struct colleagues *seen; /* the colleagues looked at, across the request's chunks */
};

/* Whether user, of the admin's partner, may read something the admin may not. */
static bool reads_more(struct audit_view *v, int64_t user)
{
    struct colleagues *c = v->seen;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].user == user)
            return c->v[i].reads_more;
    int64_t *g = NULL, *ug = NULL;
    size_t ng = 0, nug = 0;
    bool more = store_groups_of(v->r, v->p->partner, user, &g, &ng, &ug, &nug) != 0 ||
                !policy_reads_all_of(&v->p->reader, ug, nug); /* not known: as more */
    free(g);
    free(ug);
    c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (struct colleague){user, more};
    return more;
}

static int found_report(void *ctx, const struct store_report *rep)
{
    *(bool *)ctx = true;
    return 1;
}

/* The object of another partner's entry (or a colleague's who reads more) the admin may see,
 * or NULL. */
static const char *shown_object(struct audit_view *v, const struct store_audit *e)
{
    if (strcmp(e->action, "admin") == 0)
        return strstr(e->detail, "\"op\":\"webhook add\"") ? NULL : e->object;
    bool readable = false;
    if (strncmp(e->object, "report--", 8) == 0)
        store_report_get(v->r, e->object, policy_visible, (void *)&v->p->reader, found_report,
                         &readable);
    return readable ? e->object : NULL;
}

static int add_entry(void *ctx, const struct store_audit *e)
{
    struct audit_view *v = ctx;
    char ts[TS_BUFSZ];
    bool own = e->partner == v->p->partner &&
               (e->user == v->p->user || e->user == 0 || !reads_more(v, e->user));
    const char *object = own ? e->object : shown_object(v, e);
    bool full = own || (object && strcmp(e->action, "admin") == 0);
    json_t *detail = full ? json_loads(e->detail, 0, NULL) : NULL;
    json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s, s:o}", "time", ts_format(e->time, 6, ts),
                          "partner", (json_int_t)e->partner, "user", (json_int_t)e->user,
                          "action", e->action, "object", object ? object : "", "detail",
                          detail ? detail : json_object());
    const char *pn = partner_name(v->names, e->partner), *un = user_name(v->names, e->user);
    json_object_set_new(o, "partner_name", json_string(pn ? pn : ""));
    json_object_set_new(o, "user_name", json_string(un ? un : e->user ? "" : "(the hub)"));
    json_object_set_new(o, "_seq", json_integer((json_int_t)e->seq)); /* taken out: h_audit */
    /* seq counts every partner's entries: only the hub's admins see it (others page with
     * the opaque next). */
    if (hub_admin(v->p))
        json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
    if (!full)
        json_object_set_new(o, "withheld", json_true());
    json_array_append_new(v->arr, o);
    v->last = e->seq;
    return 0;
}

/* Whether entry o (as the admin sees it) passes the filters: action and user name exactly
 * ("" any); q a substring
 * (any case) of what is shown of it: action, object, user and partner names. A withheld
 * detail is never searched. */
static bool audit_match(json_t *o, const char *action, const char *user, const char *q)
{
    if (action && action[0] && strcmp(action, vjson_str(o, "action")) != 0)
        return false;
    if (user && user[0] && strcmp(user, vjson_str(o, "user_name")) != 0)
        return false;
    if (!q || !q[0])
        return true;
    static const char *const fields[] = {"action", "object", "user_name", "partner_name"};
    for (size_t i = 0; i < 4; i++)
        if (strcasestr(vjson_str(o, fields[i]) ? vjson_str(o, fields[i]) : "", q))
            return true;
    return false;
}

#define AUDIT_SCAN_CHUNK 1000
#define AUDIT_SCAN_MAX 100000 /* entries read per request, filtered or not */

/* Moves the entries of v->arr that pass the filters into out (newest first when desc), at
 * most n; *last is the seq of the last entry looked at. */
static void audit_take(json_t *chunk, json_t *out, size_t n, bool desc,
                       const char *const filt[3], int64_t *last, bool *full)
{
    size_t m = json_array_size(chunk);
    for (size_t k = 0; k < m && !*full; k++) {
        json_t *o = json_array_get(chunk, desc ? m - 1 - k : k);
        *last = json_integer_value(json_object_get(o, "_seq"));
        json_object_del(o, "_seq");
        if (audit_match(o, filt[0], filt[1], filt[2]))
            json_array_append(out, o);
        *full = json_array_size(out) == n;
    }
}

static void h_audit(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!is_admin(p)) {
        app_error(req, resp, 403, "forbidden", "administrators only");
        return;
    }
    const char *after = http_query(req, "after"), *cursor = http_query(req, "cursor");
    const char *limit = http_query(req, "limit"), *order = http_query(req, "order");
    const char *const filt[3] = {http_query(req, "action"), http_query(req, "user"),
                                 http_query(req, "q")};
    bool desc = order && strcmp(order, "newest") == 0;
    if (order && !desc && strcmp(order, "oldest") != 0) {
        app_error(req, resp, 400, "bad request", "order: oldest (the default) or newest");
        return;
    }
    char *end = NULL;
    long long from = 0;
    if (after && (!hub_admin(p) || desc)) {
        app_error(req, resp, 400, "bad request",
                  "after: use cursor (the next of a page); not with order=newest");
        return;
    }
    if (after)
        from = strtoll(after, &end, 10);
    if (end && *end) {
        app_error(req, resp, 400, "bad request", "after and limit are non-negative integers");
        return;
    }
    int64_t pos = 0;
    if (cursor) {
        if (!rest_cursor_open(a, req, desc ? "audit-newest" : "audit", cursor, &pos, 1) ||
            pos < 0) {
            app_error(req, resp, 400, "bad request", "cursor: use the next of a page");
            return;
        }
        from = pos;
    }
    end = NULL;
    long long n = limit ? strtoll(limit, &end, 10) : 100;
    if ((end && *end) || from < 0 || n < 1) {
        app_error(req, resp, 400, "bad request", "after and limit are non-negative integers");
        return;
    }
    if (n > a->cfg->page_max)
        n = a->cfg->page_max;
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    struct names names;
    int64_t scope = hub_admin(p) ? 0 : p->partner;
    int rc = names_load(r, scope, &names);
    json_t *out = json_array();
    /* Chunks of the log, oldest first from `from`, or newest first below `from` (0: the
     * head), each filtered here, until the page is full, the log ends, or AUDIT_SCAN_MAX
     * entries were read (then next continues the scan). */
    int64_t last = from, hi = from, scanned = 0;
    bool full = false, done = false;
    struct colleagues seen = {0};
    if (!rc && desc && !hi) {
        unsigned char head[STORE_HASH_LEN];
        rc = store_audit_head(r, &hi, head);
        hi += 1;
        last = hi;
    }
    while (!rc && !full && !done && scanned < AUDIT_SCAN_MAX) {
        struct audit_view v = {p, r, json_array(), 0, &names, &seen};
        int64_t lo = desc ? (hi - 1 - AUDIT_SCAN_CHUNK > 0 ? hi - 1 - AUDIT_SCAN_CHUNK : 0) : last;
        if (desc && hi <= 1) {
            done = true;
        } else {
            rc = store_audit_scan(r, scope, lo, desc ? (size_t)(hi - 1 - lo) : AUDIT_SCAN_CHUNK,
                                  add_entry, &v);
            scanned += desc ? hi - 1 - lo : (int64_t)json_array_size(v.arr);
            if (desc) {
                /* a partner's entries are sparse: a chunk of seqs may hold none of them */
                done = lo == 0;
                /* a partner's scan runs past hi (LIMIT counts its own entries): not those */
                while (json_array_size(v.arr) &&
                       json_integer_value(json_object_get(
                           json_array_get(v.arr, json_array_size(v.arr) - 1), "_seq")) >= hi)
                    json_array_remove(v.arr, json_array_size(v.arr) - 1);
                audit_take(v.arr, out, (size_t)n, true, filt, &last, &full);
                if (!full)
                    last = lo + 1; /* every seq above lo was looked at */
                hi = lo + 1;
            } else {
                done = json_array_size(v.arr) < AUDIT_SCAN_CHUNK;
                if (!json_array_size(v.arr))
                    done = true;
                audit_take(v.arr, out, (size_t)n, false, filt, &last, &full);
            }
        }
        json_decref(v.arr);
    }
    store_read_end(r);
    names_release(&names);
    free(seen.v);
    if (rc) {
        json_decref(out);
        app_error(req, resp, 500, "cannot read the audit log", NULL);
        return;
    }
    json_t *body = json_pack("{s:o}", "entries", out);
    bool more = desc ? (full ? last > 1 : !done) : (full || !done);
    if (more) {
        char cur[REST_CURSOR_SZ];
        rest_cursor_seal(a, req, desc ? "audit-newest" : "audit", &last, 1, cur);
        json_object_set_new(body, "next", json_string(cur));
    }
    rest_reply(resp, 200, body);
}

/* ---- webhooks ----------------------------------------------------------------------- */

static void h_webhook_add(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    if (strcmp(p->role, "admin") != 0 && strcmp(p->role, "analyst") != 0) {
        app_error(req, resp, 403, "forbidden", "admins and analysts subscribe webhooks");
        return;
    }
    static const char *const fields[] = {"url", "secret", "kinds", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    struct webhook_subscription sub = {.url = vjson_str(body, "url"),
                                       .secret = vjson_str(body, "secret"),
                                       .kinds = vjson_str(body, "kinds")};
    char msg[WEBHOOK_MSG_SZ];
    int rc = webhook_subscribe(a->store, p, a->cfg->webhook_allow_private,
                               a->cfg->webhooks_per_partner, &sub, msg);
    if (rc == VIGIL_EINVAL)
        app_error(req, resp, 400, "bad request", msg);
    else if (rc == VIGIL_ETOOBIG)
        app_error(req, resp, 409, "limit reached", msg);
    else if (rc)
        app_error(req, resp, 500, "cannot add the webhook", NULL);
    else
        rest_reply(resp, 201,
                   json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)sub.id, "url", sub.url,
                             "secret", sub.secret, "kinds", sub.kinds));
    json_decref(body);
}

static int add_hook(void *ctx, const struct store_webhook *w)
{
    json_array_append_new(ctx, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)w->id, "url",
                                         w->url, "kinds", w->kinds));
    return 0;
}

static void h_webhooks(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    json_t *arr = json_array();
    store_webhooks(r, p->user, add_hook, arr);
    store_read_end(r);
    rest_reply(resp, 200, json_pack("{s:o}", "webhooks", arr));
}

static void h_webhook_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    char *end;
    long long id = strtoll(http_param(req, "id"), &end, 10);
    int rc = *end ? VIGIL_ENOENT : webhook_unsubscribe(a->store, p, id);
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such webhook", NULL);
    else if (rc)
        app_error(req, resp, 500, "cannot remove the webhook", NULL);
    else
        rest_reply(resp, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "removed", 1));
}

const struct http_route rest_admin_routes[] = {
    {"GET", "/api/v1/webhooks", h_webhooks, "webhooks", false},
    {"POST", "/api/v1/webhooks", h_webhook_add, "webhooks", false},
    {"DELETE", "/api/v1/webhooks/{id}", h_webhook_delete, "webhooks", false},
    {"POST", "/api/v1/login", h_login, "login", true},
    {"POST", "/api/v1/logout", h_logout, "logout", true},
    {"GET", "/api/v1/me", h_me, "me", false},
    {"GET", "/api/v1/partners", h_partners, "partners", false},
    {"POST", "/api/v1/partners", h_partner_add, "partners", false},
    {"GET", "/api/v1/users", h_users, "users", false},
    {"POST", "/api/v1/users", h_user_add, "users", false},
    {"PATCH", "/api/v1/users/{name}", h_user_patch, "users", false},
    {"GET", "/api/v1/tokens", h_tokens, "tokens", false},
    {"POST", "/api/v1/tokens", h_token_add, "tokens", false},
    {"DELETE", "/api/v1/tokens/{id}", h_token_revoke, "tokens", false},
    {"GET", "/api/v1/groups", h_groups, "groups", false},
    {"POST", "/api/v1/groups", h_group_add, "groups", false},
    {"PATCH", "/api/v1/groups/{group}", h_group_patch, "groups", false},
    {"GET", "/api/v1/audit", h_audit, "audit", false},
};
const size_t rest_admin_nroutes = sizeof rest_admin_routes / sizeof rest_admin_routes[0];
