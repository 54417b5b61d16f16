/* taxii.c - the TAXII 2.1 server (OASIS TAXII Version 2.1, 2021-06-10).
 *
 * One API root, "api". Collections are rows of the store; what a principal may see of them
 * follows the S3 read policy (access/policy.h), applied by the store's query to each row.
 * Paging cursors are stateless: the date_added of the last object served plus a fingerprint
 * of the request's filters, sealed with an HMAC under the server key (docs/internals/taxii.md).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "access/audit.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "compliance/agreement.h"
#include "intel/profile.h"
#include "service/alerts.h"
#include "server/app.h"
#include "server/rest.h"
#include "service/ingest.h"
#include "server/taxii_areas.h"
#include "server/taxii_query.h"
#include "stix/stix.h"

#define TAXII_MEDIA "application/taxii+json;version=2.1"
#define STIX_MEDIA "application/stix+json;version=2.1"
#define API_ROOT "api"
#define DEFAULT_PAGE 100
/* The definitions collection is not a row of the store (see defs_objects). */
#define DEFS_UUID "5d7c1a80-7e0b-5b0e-9b1e-2f63c0a1d4e7"
#define DEFS_COLL_ID (-1)

/* ---- content negotiation ------------------------------------------------------------- */

enum {
    MEDIA_WILD = 1, /* also *\/\* and application/\* (Accept only) */
    MEDIA_STIX = 2, /* also application/stix+json: the manifest's Accept lists it (5.3) */
};

/* True when one media range (lower case, without blanks) names a type that flags allow, with
 * version 2.1 or no version (which means the newest, 1.6.8.2), and a q that is not zero. */
static bool range_ok(char *range, unsigned flags)
{
    char *params = strchr(range, ';');
    if (params)
        *params++ = '\0';
    bool wild = strcmp(range, "*/*") == 0 || strcmp(range, "application/*") == 0;
    bool ok = strcmp(range, "application/taxii+json") == 0 ||
              ((flags & MEDIA_STIX) && strcmp(range, "application/stix+json") == 0) ||
              ((flags & MEDIA_WILD) && wild);
    while (ok && params && *params) {
        char *next = strchr(params, ';');
        if (next)
            *next++ = '\0';
        char *val = strchr(params, '=');
        if (val) {
            *val++ = '\0';
            size_t n = strlen(val);
            if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
                val[n - 1] = '\0';
                val++;
            }
            if (strcmp(params, "version") == 0 && !wild)
                ok = strcmp(val, "2.1") == 0;
            else if (strcmp(params, "q") == 0)
                ok = val[strspn(val, "0.")] != '\0'; /* q=0 means "not acceptable" */
        }
        params = next;
    }
    return ok;
}

/* True when one media range of an Accept or Content-Type value is acceptable (range_ok). */
static bool media_ok(const char *value, unsigned flags)
{
    const char *p = value;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char range[160];
        size_t k = 0;
        for (size_t i = 0; i < n && k < sizeof range - 1; i++)
            if (p[i] != ' ' && p[i] != '\t')
                range[k++] = (char)tolower((unsigned char)p[i]);
        range[k] = '\0';
        if (k && range_ok(range, flags))
            return true;
        if (!end)
            return false;
        p = end + 1;
    }
}

/* The Accept check of every TAXII request (3.1): a request that names no acceptable range
 * is answered 406. A request without Accept is served (sending one is the client's duty). */
static bool check_accept_flags(struct http_req *req, struct http_resp *resp, unsigned flags)
{
    const char *accept = http_header(req, "Accept");
    if (accept && !media_ok(accept, MEDIA_WILD | flags)) {
        app_error(req, resp, 406, "not acceptable",
                  "the Accept header must allow " TAXII_MEDIA);
        return false;
    }
    return true;
}

static bool check_accept(struct http_req *req, struct http_resp *resp)
{
    return check_accept_flags(req, resp, 0);
}
/* The checks of every request under the API root: the root exists (404), Accept (406). */
static bool check_root(struct http_req *req, struct http_resp *resp, unsigned accept_flags)
{
    if (strcmp(http_param(req, "root"), API_ROOT) != 0) {
        app_error(req, resp, 404, "no such API root", NULL);
        return false;
    }
    return check_accept_flags(req, resp, accept_flags);
}

static void reply(struct http_resp *resp, int status, json_t *v)
{
    app_json(resp, status, TAXII_MEDIA, v);
    json_decref(v);
}

/* ---- discovery and API root ---------------------------------------------------------- */

/* The API root is advertised by a relative URL (4.1.1 allows "/..."): an absolute one would
 * have to be built from the client's Host header and be https (4.1.1 forbids http URLs). */
static void h_discovery(struct http_req *req, struct http_resp *resp, void *arg)
{
    if (!check_accept(req, resp))
        return;
    const char *root = "/taxii2/" API_ROOT "/";
    reply(resp, 200,
          json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "title", "Vigil", "description",
                    "Vigil ceasefire-monitoring intelligence hub", "contact",
                    "the coordination center", "default", root, "api_roots", root));
}

static void h_root(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!check_root(req, resp, 0))
        return;
    reply(resp, 200,
          json_pack("{s:s, s:s, s:[s], s:I}", "title", "Vigil hub", "description",
                    "Reports from partners, and the alerts and compliance records of the hub",
                    "versions", TAXII_MEDIA, "max_content_length",
                    (json_int_t)a->cfg->max_content_length));
}

/* ---- collections --------------------------------------------------------------------- */

/* Read and write rights of a principal on a collection: every partner reads; partners write
 * where the collection takes partner writes, unless their role or token is read-only. */
static bool can_write(const struct auth_principal *p, const struct store_collection *c)
{
    return c->partner_writable && !p->read_only && strcmp(p->role, "reader") != 0;
}

static json_t *collection_json(const struct auth_principal *p, const struct store_collection *c)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:[s]}", "id", c->uuid, "title", c->title,
                     "description", c->description, "can_read", 1, "can_write",
                     can_write(p, c), "media_types", STIX_MEDIA);
}

/* Read-only for everyone: the objects that Vigil's objects refer to (defs_objects). */
static const struct store_collection defs_collection = {
    .id = DEFS_COLL_ID,
    .uuid = DEFS_UUID,
    .name = "definitions",
    .title = "Definitions",
    .description = "What the hub's objects refer to: the Vigil identity, the extension "
                   "definitions, partners' identities, sharing groups' marking "
                   "definitions and named areas' locations, each to those who may see it",
};

struct coll_list {
    const struct auth_principal *p;
    json_t *arr;
};

static int add_collection(void *ctx, const struct store_collection *c)
{
    struct coll_list *l = ctx;
    json_array_append_new(l->arr, collection_json(l->p, c));
    return 0;
}

static void h_collections(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!check_root(req, resp, 0))
        return;
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    struct coll_list l = {app_principal(req), json_array()};
    int rc = store_collections(r, add_collection, &l);
    store_read_end(r);
    if (!rc)
        json_array_append_new(l.arr, collection_json(l.p, &defs_collection));
    if (rc) {
        json_decref(l.arr);
        app_error(req, resp, 500, "cannot list collections", NULL);
        return;
    }
    json_t *v = json_object();
    if (json_array_size(l.arr))
        json_object_set(v, "collections", l.arr);
    json_decref(l.arr);
    reply(resp, 200, v);
}

/* Finds the collection named by the path for a TAXII request; answers 404 itself. The
 * collection's strings are copied into the caller's storage. */
struct coll_ref {
    struct store_collection c;
    char uuid[UUID_STRLEN + 1];
    char title[128];
    char desc[256];
    char name[32];
};

static bool find_collection(struct app *a, struct http_req *req, struct http_resp *resp,
                            unsigned accept_flags, struct coll_ref *out)
{
    if (!check_root(req, resp, accept_flags))
        return false;
    const char *cid = http_param(req, "cid");
    if (strcmp(cid, DEFS_UUID) == 0) {
        out->c = defs_collection;
        return true;
    }
    struct store_reader *r;
    if (store_read_begin(a->store, &r)) {
        app_error(req, resp, 503, "store unavailable", NULL);
        return false;
    }
    int rc = uuid_valid(cid, strlen(cid)) ? store_collection_find(r, cid, &out->c)
                                          : VIGIL_ENOENT;
    if (!rc) {
        snprintf(out->uuid, sizeof out->uuid, "%s", out->c.uuid);
        snprintf(out->title, sizeof out->title, "%s", out->c.title);
        snprintf(out->desc, sizeof out->desc, "%s", out->c.description);
        snprintf(out->name, sizeof out->name, "%s", out->c.name);
        out->c.uuid = out->uuid;
        out->c.title = out->title;
        out->c.description = out->desc;
        out->c.name = out->name;
    }
    store_read_end(r);
    if (rc) {
        app_error(req, resp, 404, "no such collection", NULL);
        return false;
    }
    return true;
}

static void h_collection(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct coll_ref c;
    if (find_collection(arg, req, resp, 0, &c))
        reply(resp, 200, collection_json(app_principal(req), &c.c));
}

/* ---- filters and cursors (taxii_query.h) --------------------------------------------- */

_Static_assert(APP_KEY_LEN == TAXII_KEY_LEN, "the cursor key is the app's");

/* Parses the request's query into f; answers 400 itself and returns false on a problem. */
static bool parse_filters(struct app *a, struct http_req *req, struct http_resp *resp,
                          unsigned allowed, const char *scope, struct taxii_filters *f)
{
    taxii_filters_init(f, allowed, a->cursor_key, scope);
    http_query_foreach(req, taxii_filters_param, f);
    size_t page_max = (size_t)a->cfg->page_max;
    if (!f->limit)
        f->limit = DEFAULT_PAGE < page_max ? DEFAULT_PAGE : page_max;
    if (f->limit > page_max)
        f->limit = page_max;
    if (f->bad) {
        app_error(req, resp, 400, "bad request", f->bad);
        taxii_filters_release(f);
        return false;
    }
    return true;
}

/* Opens the request's cursor, if any (taxii_cursor_open); answers 400 itself and returns false
 * when it is forged, damaged, or was made for other filters. */
static bool cursor_open(struct http_req *req, struct http_resp *resp, struct taxii_filters *f)
{
    if (taxii_cursor_open(f))
        return true;
    app_error(req, resp, 400, "bad request",
              "next: not a cursor this server issued for these filters");
    return false;
}

static void set_query(struct store_query *q, int64_t coll, struct taxii_filters *f,
                      const struct auth_principal *p, long max_bytes)
{
    memset(q, 0, sizeof *q);
    q->coll = coll;
    q->added_after = f->added_after;
    q->ids = f->ids;
    q->nids = f->nids;
    q->types = f->types;
    q->ntypes = f->ntypes;
    q->spec_versions = f->specs;
    q->nspec_versions = f->nspecs;
    q->version_match = f->vmatch;
    q->versions = f->versions;
    q->nversions = f->nversions;
    q->limit = f->limit;
    q->max_bytes = (size_t)max_bytes;
    q->visible = policy_visible;
    q->visible_ctx = (void *)&p->reader;
}

/* The date_added headers (3.2): every 200 answer of a paged endpoint carries both. */
static void added_headers(struct http_resp *resp, vtime_t first, vtime_t last)
{
    char ts[TS_BUFSZ];
    http_resp_header(resp, "X-TAXII-Date-Added-First", ts_format(first, 6, ts));
    http_resp_header(resp, "X-TAXII-Date-Added-Last", ts_format(last, 6, ts));
}

/* A version as TAXII shows it everywhere (manifest, versions, status): the object's modified,
 * else its created (3.4.1, 4.3.1, 5.3.1); objects with neither (SCOs) use the date_added of
 * the stored version, which is consistent on this server. Milliseconds unless the timestamp
 * has finer digits. */
static char *version_str(vtime_t version, vtime_t date_added, char ts[TS_BUFSZ])
{
    vtime_t v = version ? version : date_added;
    return ts_format(v, v % 1000 ? 6 : 3, ts);
}

/* ---- GET objects, object, manifest, versions ----------------------------------------- */

enum listing { L_OBJECTS, L_MANIFEST, L_VERSIONS };

struct emit_ctx {
    enum listing kind;
    struct buf *body;
    int n;
    struct audit_list reads; /* the objects read, for the audit */
};

static int emit(void *ctx, const struct store_object *o)
{
    struct emit_ctx *e = ctx;
    int rc = e->n++ ? buf_addc(e->body, ',') : 0;
    char ts[TS_BUFSZ], added[TS_BUFSZ], item[INGEST_REF_SZ + 2];
    switch (e->kind) {
    case L_OBJECTS:
        /* S3: every read of an object by a partner is audited: one entry per request, for the
         * object versions read (manifest and versions show metadata, not objects). */
        snprintf(item, sizeof item, "{\"id\":\"%s\",\"version\":\"%s\"}", o->id,
                 version_str(o->version, o->date_added, ts));
        audit_list_add(&e->reads, item);
        return rc ? rc : buf_add(e->body, o->json, o->json_len);
    case L_VERSIONS:
        return rc ? rc : buf_addf(e->body, "\"%s\"", version_str(o->version, o->date_added, ts));
    case L_MANIFEST:
        return rc ? rc
                  : buf_addf(e->body,
                             "{\"id\":\"%s\",\"date_added\":\"%s\",\"version\":\"%s\","
                             "\"media_type\":\"" STIX_MEDIA "\"}",
                             o->id, ts_format(o->date_added, 6, added),
                             version_str(o->version, o->date_added, ts));
    }
    return VIGIL_EINTERNAL;
}

/* The four paged reads. Objects and manifest list the collection (default match[version]
 * last, 3.4.1); object-by-id is the same search with match[id] fixed (5.6); versions lists
 * every version of one object (5.8). Objects the principal may not read are skipped by the
 * store's query as if they did not exist, so they change neither the page, nor more, nor
 * the headers, nor 404. */
/* True when the filter list is empty or holds x. */
static bool matches(const char *const *v, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], x) == 0)
            return true;
    return n == 0;
}

/* An alert view of the alerts collection, with the date_added it is listed by. */
struct alert_item {
    json_t *o;
    vtime_t added;
    const char *id;
    bool exact; /* added is the version's time; else a lower bound in its millisecond */
};

static int alert_item_cmp(const void *x, const void *y)
{
    const struct alert_item *a = x, *b = y;
    if (a->added != b->added)
        return a->added < b->added ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* True when a view (one version per reader: its modified) passes match[version] and
 * match[spec_version]: the keywords first, last and all all select it; a timestamp selects
 * it when it is its modified. */
static bool alert_version_ok(const struct taxii_filters *f, vtime_t modified)
{
    if (!matches(f->specs, f->nspecs, "2.1"))
        return false;
    if (f->vmatch || !f->nversions)
        return true;
    for (size_t i = 0; i < f->nversions; i++)
        if (f->versions[i] == modified)
            return true;
    return false;
}

/* Gives a reader's view its own version (STIX 2.1 3.6: a version is its id and modified).
 * Views of one alert for readers who see different evidence differ in content, and may share
 * the millisecond of their latest change; so the view's modified is that millisecond plus a
 * microsecond offset (1 to 999) drawn from a BLAKE2b digest of everything else in the view:
 * readers seeing the same view get the same bytes, views that differ get different modified
 * (but for a 1-in-999 chance when they changed in the same millisecond). */
static void view_version(json_t *o)
{
    vtime_t m = 0;
    if (ts_parse(json_string_value(json_object_get(o, "modified")), &m, NULL))
        return;
    json_object_del(o, "modified");
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    unsigned char h[8] = {0};
    if (text)
        crypto_generichash(h, sizeof h, (const unsigned char *)text, strlen(text), NULL, 0);
    free(text);
    uint64_t d = 0;
    for (size_t i = 0; i < sizeof h; i++)
        d = d << 8 | h[i];
    m = m - m % 1000 + 1 + (vtime_t)(d % 999);
    char ts[TS_BUFSZ];
    json_object_set_new(o, "modified", json_string(ts_format(m, 6, ts)));
}

/* The fused incidents of the last few readers, so that a client paging through the alerts
 * collection, or polling it while no report arrives, does not correlate the newest reports
 * again at every request. An entry holds while the report index has neither new rows nor
 * withdrawals (a report corrected, re-marked or deleted) and the reader is the same: partner,
 * user, coordination center or not, and sharing groups. Entries are kept as compact JSON text
 * (INC_CACHE_N of at most INC_CACHE_MAX bytes: the cache stays under 32 MiB). */
#define INC_CACHE_N 4
#define INC_CACHE_MAX (8u << 20)

struct inc_cache_entry {
    const struct store *store;
    int64_t partner, user, head, withdrawn;
    bool coordinator;
    uint64_t groups; /* a digest of the reader's sharing groups */
    char *text;      /* the incidents' array; NULL: an empty slot */
    uint64_t used;
};

static struct {
    pthread_mutex_t mu;
    struct inc_cache_entry e[INC_CACHE_N];
    uint64_t clock;
} inc_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t groups_digest(const struct policy_reader *rd)
{
    crypto_generichash_state st;
    unsigned char h[8];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    size_t n[2] = {rd->ngroups, rd->nuser_groups};
    crypto_generichash_update(&st, (const unsigned char *)n, sizeof n);
    if (rd->ngroups)
        crypto_generichash_update(&st, (const unsigned char *)rd->groups,
                                  rd->ngroups * sizeof *rd->groups);
    if (rd->nuser_groups)
        crypto_generichash_update(&st, (const unsigned char *)rd->user_groups,
                                  rd->nuser_groups * sizeof *rd->user_groups);
    crypto_generichash_final(&st, h, sizeof h);
    uint64_t d = 0;
    for (size_t i = 0; i < sizeof h; i++)
        d = d << 8 | h[i];
    return d;
}

/* The incidents p may see (incidents_stix), from the cache when it holds them. A new array. */
static json_t *incidents_of(struct app *a, const struct auth_principal *p,
                            struct store_reader *r)
{
    struct inc_cache_entry key = {.store = a->store, .partner = p->reader.partner,
                                  .user = p->reader.user, .coordinator = p->reader.coordinator,
                                  .groups = groups_digest(&p->reader)};
    if (store_reports_head(r, &key.head, &key.withdrawn))
        return json_array();
    json_t *out = NULL;
    pthread_mutex_lock(&inc_cache.mu);
    struct inc_cache_entry *old = &inc_cache.e[0];
    for (size_t i = 0; i < INC_CACHE_N; i++) {
        struct inc_cache_entry *e = &inc_cache.e[i];
        if (e->text && !out && e->store == key.store && e->partner == key.partner &&
            e->user == key.user && e->coordinator == key.coordinator &&
            e->groups == key.groups && e->head == key.head && e->withdrawn == key.withdrawn) {
            out = json_loads(e->text, 0, NULL);
            e->used = ++inc_cache.clock;
        }
        if (e->used < old->used)
            old = e;
    }
    pthread_mutex_unlock(&inc_cache.mu);
    if (out)
        return out;
    out = incidents_stix(r, &p->reader);
    key.text = json_dumps(out, JSON_COMPACT);
    if (key.text && strlen(key.text) > INC_CACHE_MAX) {
        free(key.text);
        return out; /* too big to keep */
    }
    pthread_mutex_lock(&inc_cache.mu);
    free(old->text);
    *old = key;
    old->used = ++inc_cache.clock;
    pthread_mutex_unlock(&inc_cache.mu);
    return out;
}

/* The alerts collection is not stored: each reader gets the alerts as their own views
 * (service/alerts.h) and the fused incidents re-formed from what they may read
 * (incidents_stix, server/rest.h), each with its own version (view_version). */
static json_t *alerts_objects(struct app *a, const struct auth_principal *p,
                              const struct taxii_filters *f)
{
    int64_t next;
    json_t *all = alerts_stix(a->alerts, &p->reader, f->ids, f->nids, SIZE_MAX, 0, &next);
    struct store_reader *r;
    if (!matches(f->types, f->ntypes, "grouping") || store_read_begin(a->store, &r))
        return all;
    json_t *inc = incidents_of(a, p, r);
    store_read_end(r);
    json_array_extend(all, inc);
    json_decref(inc);
    return all;
}

/* Gives an alert view its version (view_version) and it its exact date_added. */
static void item_exact(struct alert_item *it)
{
    if (it->exact)
        return;
    view_version(it->o);
    ts_parse(json_string_value(json_object_get(it->o, "modified")), &it->added, NULL);
    it->exact = true;
}

/* ---- the definitions collection ------------------------------------------------------ */

struct defs_ctx {
    const struct auth_principal *p;
    json_t *out;
    json_t *identities; /* partner id (as text) -> identity id */
    json_t *group_marks; /* group id (as text) -> marking-definition id */
};

static int def_partner(void *ctx, const struct store_partner *sp)
{
    struct defs_ctx *d = ctx;
    char ts[TS_BUFSZ], key[24];
    ts_format(sp->created, 3, ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
                          "spec_version", "2.1", "id", sp->identity_id, "created", ts,
                          "modified", ts, "name", sp->name, "identity_class", "organization");
    if (sp->coordinator)
        json_object_set_new(o, "roles", json_pack("[s]", "coordination-center"));
    json_array_append_new(d->out, o);
    snprintf(key, sizeof key, "%lld", (long long)sp->id);
    json_object_set_new(d->identities, key, json_string(sp->identity_id));
    return 0;
}

/* A sharing group's marking-definition is shown to whom GET /api/v1/groups shows the group:
 * its owner, its members, and the coordination center's admins. */
static int def_group(void *ctx, const struct store_group *g)
{
    struct defs_ctx *d = ctx;
    const struct policy_reader *r = &d->p->reader;
    char gkey[24];
    snprintf(gkey, sizeof gkey, "%lld", (long long)g->id);
    json_object_set_new(d->group_marks, gkey, json_string(g->marking_id));
    bool member = g->owner == d->p->partner ||
                  (d->p->coordinator && strcmp(d->p->role, "admin") == 0);
    for (size_t i = 0; i < r->ngroups && !member; i++)
        member = r->groups[i] == g->id;
    for (size_t i = 0; i < r->nuser_groups && !member; i++)
        member = r->user_groups[i] == g->id;
    if (!member)
        return 0;
    char ts[TS_BUFSZ], key[24], *statement =
        xasprintf("Shared with the members of the Vigil sharing group %s only", g->name);
    ts_format(g->created, 3, ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "type",
                          "marking-definition", "spec_version", "2.1", "id", g->marking_id,
                          "created", ts, "name", g->name, "definition_type", "statement",
                          "definition", "statement", statement);
    free(statement);
    snprintf(key, sizeof key, "%lld", (long long)g->owner);
    json_t *owner = json_object_get(d->identities, key);
    if (owner)
        json_object_set(o, "created_by_ref", owner);
    json_array_append_new(d->out, o);
    return 0;
}

/* The objects that what the hub serves refers to, as principal p may see them: the Vigil
 * identity and the extension-definitions (everyone), every partner's identity (everyone, as
 * GET /api/v1/partners lists them), the marking-definitions of the sharing groups p may see,
 * and the location of every named area that a report p may read refers to (taxii_areas.h),
 * with its version (view_version). A marking-definition has no modified: its version is its
 * created. */
static json_t *defs_objects(struct app *a, const struct auth_principal *p)
{
    struct defs_ctx d = {p, json_array(), json_object(), json_object()};
    json_array_append_new(d.out, profile_identity());
    json_array_append_new(d.out, profile_extension_definition());
    json_array_append_new(d.out, profile_alert_extension_definition());
    json_array_append_new(d.out, profile_incident_extension_definition());
    json_array_append_new(d.out, cmp_extension_definition());
    struct store_reader *r;
    if (!store_read_begin(a->store, &r)) {
        if (store_partners(r, def_partner, &d) || store_groups(r, def_group, &d))
            log_warn("taxii: the definitions could not all be read");
        size_t from = json_array_size(d.out);
        if (taxii_areas_locations(a->areas, r, &p->reader, d.group_marks, d.out))
            log_warn("taxii: the named areas could not all be read");
        for (size_t i = from; i < json_array_size(d.out); i++)
            view_version(json_array_get(d.out, i));
        store_read_end(r);
    }
    json_decref(d.identities);
    json_decref(d.group_marks);
    return d.out;
}

/* ---- collections that are not stored ------------------------------------------------- */

/* Lists all (the objects p may see of a collection that is not stored) as a stored collection
 * is listed. Each object is listed by the date_added of its current version, which is its
 * modified (created for a marking-definition): for an alert view, the time of the latest
 * change to what that reader sees (docs/STIX-PROFILE.md). So added_after, the date_added
 * headers and the paging work as on a stored collection: oldest first, and next is the
 * date_added of the last object served. Objects added at the same instant are never split
 * across pages (a page may then hold fewer than limit, or, when they alone exceed it, more).
 * Takes all. With versioned (the alerts), each object gets its version (view_version) only
 * when the filters or the page need its microseconds, which costs a digest of the view. */
static void virtual_listing(struct http_req *req, struct http_resp *resp, enum listing kind,
                            const char *oid, struct taxii_filters *f, json_t *all,
                            bool versioned)
{
    size_t n = json_array_size(all), k = 0;
    struct alert_item *v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(all, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *ver = json_string_value(json_object_get(o, "modified"));
        if (!ver)
            ver = json_string_value(json_object_get(o, "created"));
        vtime_t m = 0;
        if (!id || !type || !matches(f->ids, f->nids, id))
            continue;
        if (!matches(f->types, f->ntypes, type) || !ver || ts_parse(ver, &m, NULL))
            continue;
        struct alert_item it = {o, m, id, !versioned};
        if (versioned) { /* the version is in (m0, m0 + 1000) for the millisecond m0 of m */
            vtime_t m0 = m - m % 1000;
            it.added = m0 + 1;
            if (m0 + 999 <= f->added_after)
                continue;
            if (m0 < f->added_after || f->nversions)
                item_exact(&it);
        }
        if (it.added <= f->added_after || !alert_version_ok(f, it.added))
            continue;
        v[k++] = it;
    }
    qsort(v, k, sizeof *v, alert_item_cmp);
    if (versioned && k) { /* the page and the millisecond it ends in, exactly */
        size_t last = (k < f->limit ? k : f->limit) - 1, e = 0;
        vtime_t ms = v[last].added - v[last].added % 1000;
        while (e < k && v[e].added - v[e].added % 1000 <= ms)
            item_exact(&v[e++]);
        qsort(v, e, sizeof *v, alert_item_cmp);
    }
    size_t take = k < f->limit ? k : f->limit;
    while (take < k && take > 0 && v[take].added == v[take - 1].added)
        take--;
    if (take == 0) /* one instant holds more than a page: serve it whole */
        while (take < k && v[take].added == v[0].added)
            take++;
    bool more = take < k;
    if (oid && k == 0 && !f->next) { /* as on a stored collection (listing) */
        free(v);
        json_decref(all);
        app_error(req, resp, 404, "no such object", NULL);
        return;
    }
    json_t *out = json_array();
    char ts[TS_BUFSZ], vs[TS_BUFSZ];
    for (size_t i = 0; i < take; i++) {
        const char *ver = version_str(v[i].added, 0, vs);
        if (kind == L_MANIFEST)
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "id", v[i].id,
                                                 "date_added", ts_format(v[i].added, 6, ts),
                                                 "version", ver, "media_type", STIX_MEDIA));
        else if (kind == L_VERSIONS)
            json_array_append_new(out, json_string(ver));
        else
            json_array_append(out, v[i].o);
    }
    json_t *env = json_object(); /* an empty answer is {} (5.3.1) */
    if (take) {
        json_object_set(env, kind == L_VERSIONS ? "versions" : "objects", out);
        json_object_set_new(env, "more", json_boolean(more));
        if (more) {
            char cur[TAXII_CURSOR_SZ];
            taxii_cursor_make(f, v[take - 1].added, cur);
            json_object_set_new(env, "next", json_string(cur));
        }
    }
    json_decref(out);
    app_json(resp, 200, TAXII_MEDIA, env);
    json_decref(env);
    if (take)
        added_headers(resp, v[0].added, v[take - 1].added);
    else
        added_headers(resp, f->added_after, f->added_after);
    free(v);
    json_decref(all);
}

static void listing(struct http_req *req, struct http_resp *resp, struct app *a,
                    enum listing kind, bool one_object)
{
    struct coll_ref c;
    if (!find_collection(a, req, resp, kind == L_MANIFEST ? MEDIA_STIX : 0, &c))
        return;
    const struct auth_principal *p = app_principal(req);
    const char *oid = one_object ? http_param(req, "oid") : NULL;
    if (oid && !stix_id_valid(oid)) {
        app_error(req, resp, 404, "no such object", NULL);
        return;
    }
    unsigned allowed = TAXII_F_ADDED_AFTER | TAXII_F_LIMIT | TAXII_F_NEXT | TAXII_F_SPEC;
    if (kind != L_VERSIONS)
        allowed |= TAXII_F_VERSION;
    if (!one_object)
        allowed |= TAXII_F_ID | TAXII_F_TYPE;
    char scope[TAXII_SCOPE_LEN];
    snprintf(scope, sizeof scope, "%d/%s/%s/%lld", (int)kind, c.uuid, oid ? oid : "",
             (long long)p->user);
    struct taxii_filters f;
    if (!parse_filters(a, req, resp, allowed, scope, &f))
        return;
    if (!cursor_open(req, resp, &f)) {
        taxii_filters_release(&f);
        return;
    }
    if (oid) {
        f.ids[0] = oid;
        f.nids = 1;
    }
    if (kind == L_VERSIONS)
        f.vmatch = STORE_VER_ALL;

    if (c.c.id == a->coll_alerts || c.c.id == DEFS_COLL_ID) {
        json_t *all = c.c.id == DEFS_COLL_ID ? defs_objects(a, p) : alerts_objects(a, p, &f);
        virtual_listing(req, resp, kind, oid, &f, all, c.c.id != DEFS_COLL_ID);
        taxii_filters_release(&f);
        return;
    }
    struct store_query q;
    set_query(&q, c.c.id, &f, p, a->cfg->max_response_length);
    struct buf *body = &resp->body;
    buf_reset(body);
    static const char *const heads[] = {"{\"objects\":[", "{\"objects\":[", "{\"versions\":["};
    buf_adds(body, heads[kind]);
    struct emit_ctx e = {.kind = kind, .body = body};
    audit_list_init(&e.reads);
    struct store_reader *r;
    struct store_page page = {0};
    int rc = store_read_begin(a->store, &r);
    if (!rc) {
        rc = store_objects_query(r, &q, emit, &e, &page);
        store_read_end(r);
    }
    if (rc)
        e.reads.count = 0; /* nothing was answered: nothing to audit */
    char fields[INGEST_REF_SZ + 160], first[TS_BUFSZ], last[TS_BUFSZ];
    snprintf(fields, sizeof fields,
             "\"collection\":\"%s\",\"object\":\"%s\",\"date_added_first\":\"%s\","
             "\"date_added_last\":\"%s\"",
             c.uuid, oid ? oid : "", ts_format(page.first_added, 6, first),
             ts_format(page.last_added, 6, last));
    app_audit_read(a, req, &e.reads, c.uuid, fields);
    if (rc) {
        taxii_filters_release(&f);
        app_error(req, resp, 500, "cannot read the collection", NULL);
        return;
    }
    /* An object (or version) not found is 404 (5.6, 5.8; and 5.7: what was deleted is 404);
     * a cursor that walked past the end is an empty page. */
    if (oid && page.count == 0 && !f.next) {
        taxii_filters_release(&f);
        app_error(req, resp, 404, "no such object", NULL);
        return;
    }
    if (page.count == 0) {
        /* Nothing: the list is omitted (2: no empty lists; 3.7, 5.3.1, 5.8.1: an empty
         * object), and the headers repeat the lower bound asked for, so a client paging by
         * added_after stays where it is. */
        buf_reset(body);
        buf_adds(body, "{}");
        added_headers(resp, f.added_after, f.added_after);
    } else {
        buf_adds(body, page.more ? "],\"more\":true" : "],\"more\":false");
        if (page.more) {
            char cur[TAXII_CURSOR_SZ];
            taxii_cursor_make(&f, page.last_added, cur);
            buf_addf(body, ",\"next\":\"%s\"", cur);
        }
        buf_addc(body, '}');
        added_headers(resp, page.first_added, page.last_added);
    }
    taxii_filters_release(&f);
    resp->status = 200;
    resp->content_type = TAXII_MEDIA;
}

static void h_objects_get(struct http_req *req, struct http_resp *resp, void *arg)
{
    listing(req, resp, arg, L_OBJECTS, false);
}

static void h_object_get(struct http_req *req, struct http_resp *resp, void *arg)
{
    listing(req, resp, arg, L_OBJECTS, true);
}

static void h_manifest(struct http_req *req, struct http_resp *resp, void *arg)
{
    listing(req, resp, arg, L_MANIFEST, false);
}

static void h_versions(struct http_req *req, struct http_resp *resp, void *arg)
{
    listing(req, resp, arg, L_VERSIONS, true);
}

/* ---- POST objects -------------------------------------------------------------------- */

struct post_job {
    int64_t coll;
    struct ingest_item *items;
    size_t n;
    const char *status_id;
    struct ingest_actor actor;
    vtime_t requested;    /* request_timestamp */
    char *status_json;    /* built on the writer thread after the puts */
};

/* A status-details (4.3.1): id and version (both required) and an optional message. Stored
 * objects show their version as every other endpoint does (version_str); an object that
 * could not be validated shows its own modified/created text, or "" when it has none. */
static json_t *item_json(const struct ingest_item *it, const char *message)
{
    json_t *o = json_object();
    const char *id = json_string_value(json_object_get(it->obj, "id"));
    json_object_set_new(o, "id", json_string(id ? id : ""));
    char ts[TS_BUFSZ];
    const char *ver = NULL;
    if (it->in.id && (it->in.version || it->date_added)) {
        ver = version_str(it->in.version, it->date_added, ts);
    } else {
        ver = json_string_value(json_object_get(it->obj, "modified"));
        if (!ver)
            ver = json_string_value(json_object_get(it->obj, "created"));
        vtime_t v;
        if (ver && ts_parse(ver, &v, NULL) == 0)
            ver = version_str(v, 0, ts);
    }
    json_object_set_new(o, "version", json_string(ver ? ver : ""));
    if (message)
        json_object_set_new(o, "message", json_string(message));
    return o;
}

static int keep_added(void *ctx, const struct store_object *o)
{
    *(vtime_t *)ctx = o->date_added;
    return 0;
}

/* The reader of stored_added: the submitter's own record only (other partners may hold the
 * same observable). */
static bool own_record(void *ctx, const struct store_acl *acl)
{
    return acl->owner == *(const int64_t *)ctx;
}

/* The date_added of a stored id + version of the submitter (for the status of a re-posted
 * SCO, whose version is its date_added). 0 when it cannot be read. */
static vtime_t stored_added(struct store_txn *t, int64_t coll, const struct store_object_in *in)
{
    vtime_t added = 0, version = in->version;
    struct store_query q = {.coll = coll,
                            .ids = &in->id,
                            .nids = 1,
                            .versions = &version,
                            .nversions = 1,
                            .limit = 1,
                            .visible = own_record,
                            .visible_ctx = (void *)&in->acl.owner};
    struct store_page page;
    return store_objects_query(store_txn_reader(t), &q, keep_added, &added, &page) ? 0 : added;
}

/* Adds a non-empty list to the status; empty lists are omitted (2: no empty lists). */
/* Appends an item's entry of a status list (5.5): id, version and, when there is one, why. */
static void status_entry(struct buf *list, struct ingest_item *it, const char *message)
{
    if (list->len)
        buf_addc(list, ',');
    if (it->error) { /* may lack a valid id or version: built with jansson */
        json_t *o = item_json(it, message);
        char *text = vjson_dumps(o);
        buf_adds(list, text);
        free(text);
        json_decref(o);
        return;
    }
    buf_addc(list, '{');
    buf_adds(list, ingest_ref(it));
    if (message) /* a constant of ours: nothing to escape */
        buf_addf(list, ",\"message\":\"%s\"", message);
    buf_addc(list, '}');
}

/* On the writer thread: stores the envelope's objects, then its status resource, built as
 * text from what ingest_prepare() formatted on the request's thread. */
static int post_txn(struct store_txn *t, void *arg)
{
    struct post_job *j = arg;
    struct buf ok, bad;
    buf_init(&ok, BUF_NOCAP);
    buf_init(&bad, BUF_NOCAP);
    size_t nok = 0;
    int rc = ingest_store_all(t, j->coll, &j->actor, j->items, j->n);
    if (rc) {
        buf_release(&ok);
        buf_release(&bad);
        return rc;
    }
    for (size_t i = 0; i < j->n; i++) {
        struct ingest_item *it = &j->items[i];
        if (!it->error && it->outcome == STORE_PUT_EXISTS && !it->in.version)
            it->date_added = stored_added(t, j->coll, &it->in);
        if (it->error) {
            status_entry(&bad, it, it->error);
        } else {
            status_entry(&ok, it, it->outcome == STORE_PUT_EXISTS ? "already stored" : NULL);
            nok++;
        }
    }
    struct buf st;
    buf_init(&st, BUF_NOCAP);
    char req_ts[TS_BUFSZ];
    buf_addf(&st,
             "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
             "\"total_count\":%zu,\"success_count\":%zu,\"failure_count\":%zu,"
             "\"pending_count\":0",
             j->status_id, ts_format(j->requested, 6, req_ts), j->n, nok, j->n - nok);
    const struct buf *lists[] = {&ok, &bad};
    static const char *const names[] = {",\"successes\":[", ",\"failures\":["};
    for (int i = 0; i < 2; i++) {
        if (!lists[i]->len)
            continue;
        buf_adds(&st, names[i]);
        buf_add(&st, lists[i]->data, lists[i]->len);
        buf_addc(&st, ']');
    }
    buf_addc(&st, '}');
    buf_release(&ok);
    buf_release(&bad);
    j->status_json = buf_detach(&st, NULL);
    rc = ingest_audit_batch(t, &j->actor, j->items, j->n);
    return rc ? rc : store_txn_status_put(t, j->status_id, j->actor.partner, j->status_json);
}

static int count_param(void *ctx, const char *key, const char *value)
{
    return 1;
}

/* True when env is a STIX bundle (STIX 2.1 8): type "bundle", a bundle id, and objects.
 * python-stix2's TAXIICollectionSink posts one; its objects are taken as an envelope's. */
static bool is_bundle(const json_t *env)
{
    const char *type = json_string_value(json_object_get(env, "type"));
    const char *id = json_string_value(json_object_get(env, "id"));
    if (!type || strcmp(type, "bundle") != 0 || !id || strncmp(id, "bundle--", 8) != 0 ||
        !stix_id_valid(id))
        return false;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)env, key, val) {
        if (strcmp(key, "type") && strcmp(key, "id") && strcmp(key, "objects"))
            return false;
    }
    return true;
}

/* Why a parsed body is not a TAXII envelope of objects (3.7, 5.5), nor a STIX bundle, or
 * NULL. */
static const char *envelope_problem(const json_t *env)
{
    if (!json_is_object(env))
        return "the body must be a TAXII envelope: an object with an \"objects\" list";
    if (json_object_get(env, "type")) {
        if (!is_bundle(env))
            return "a STIX bundle must have type \"bundle\", a bundle id and objects, and "
                   "nothing else";
    }
    const json_t *objs = json_object_get(env, "objects");
    if (!json_is_array(objs))
        return "objects: must be a list of STIX objects";
    if (json_array_size(objs) == 0)
        return "objects: must not be empty";
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)env, key, val) {
        if (!is_bundle(env) && strcmp(key, "objects") && strcmp(key, "more") &&
            strcmp(key, "next"))
            return "the envelope may hold only objects, more and next";
    }
    return NULL;
}

/* Add Objects (5.5). Synchronous: the answer comes after the durable commit, so the status
 * is "complete" and objects it counts as successes are stored. A body that is not JSON is
 * 400; JSON that is neither an envelope nor a STIX bundle (taken as an envelope of its
 * objects, as the OASIS reference server does) is 422; objects that fail validation or
 * belong to another partner are failures inside a 202. */
static void h_objects_post(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    vtime_t requested = ts_now();
    struct coll_ref c;
    if (!find_collection(a, req, resp, 0, &c))
        return;
    const struct auth_principal *p = app_principal(req);
    const char *ctype = http_header(req, "Content-Type");
    if (!ctype || !media_ok(ctype, 0)) {
        app_error(req, resp, 415, "unsupported media type",
                  "the Content-Type must be " TAXII_MEDIA);
        return;
    }
    if (!can_write(p, &c.c)) {
        app_error(req, resp, 403, "forbidden", "you may not write to this collection");
        return;
    }
    if (http_query_foreach(req, count_param, NULL)) {
        app_error(req, resp, 400, "bad request", "this endpoint takes no parameters");
        return;
    }
    json_t *env = NULL;
    char jmsg[JSON_MSG_SZ];
    if (vjson_parse(req->body, req->body_len, (int)a->cfg->json_max_depth, &env, jmsg)) {
        app_error(req, resp, 400, "bad request", jmsg);
        return;
    }
    const char *why = envelope_problem(env);
    if (why) {
        json_decref(env);
        app_error(req, resp, 422, "unprocessable envelope", why);
        return;
    }
    json_t *objs = json_object_get(env, "objects");
    size_t n = json_array_size(objs);
    if (n > (size_t)a->cfg->max_objects_per_request) {
        json_decref(env);
        char d[128];
        snprintf(d, sizeof d, "at most %ld objects per request",
                 a->cfg->max_objects_per_request);
        app_error(req, resp, 413, "too many objects", d);
        return;
    }

    char identity[80], partner[128];
    if (app_partner_names(a, p->partner, identity, partner)) {
        json_decref(env);
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    struct ingest_item *items = xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++)
        ingest_prepare(&items[i], json_array_get(objs, i), p->partner);
    char status_id[UUID_STRLEN + 1];
    uuid_v4(status_id);
    struct post_job job = {.coll = c.c.id,
                           .items = items,
                           .n = n,
                           .status_id = status_id,
                           .actor = {.partner = p->partner,
                                     .user = p->user,
                                     .identity_id = identity,
                                     .partner_name = partner,
                                     .user_name = p->user_name,
                                     .default_tlp = p->default_tlp,
                                     .audit_later = true},
                           .requested = requested};
    int rc = store_write(a->store, post_txn, &job);
    if (rc) {
        app_error(req, resp, 503, "the store could not take the objects",
                  "nothing was stored; try again");
    } else {
        resp->status = 202;
        resp->content_type = TAXII_MEDIA;
        buf_reset(&resp->body);
        buf_adds(&resp->body, job.status_json);
    }
    free(job.status_json);
    for (size_t i = 0; i < n; i++)
        ingest_item_release(&items[i]);
    free(items);
    json_decref(env);
}

/* ---- DELETE object ------------------------------------------------------------------- */


struct delete_job {
    int64_t coll;
    const char *coll_uuid;
    const char *id;
    struct taxii_filters *f;
    const struct auth_principal *p;
    const char *partner_name; /* the principal's partner, for the report index */
    vtime_t *versions;  /* the versions selected for deletion (grown as needed) */
    size_t nversions, alloc;
    size_t deleted;
};

/* Collects a visible version to delete when the principal's partner owns it. */
static int collect_version(void *ctx, const struct store_object *o)
{
    struct delete_job *d = ctx;
    if (d->nversions == d->alloc) {
        d->alloc = d->alloc ? 2 * d->alloc : 16;
        d->versions = xrealloc(d->versions, d->alloc * sizeof *d->versions);
    }
    if (o->acl.owner == d->p->partner)
        d->versions[d->nversions++] = o->version;
    return 0;
}

/* Deletes the versions the filters select: without match[version], every version (5.7: the
 * object is deleted, and fetching it afterwards MUST be 404). Versions the principal cannot
 * read count as absent (404), never as forbidden. */
static int delete_txn(struct store_txn *t, void *arg)
{
    struct delete_job *d = arg;
    struct store_query q;
    set_query(&q, d->coll, d->f, d->p, 0);
    q.ids = &d->id;
    q.nids = 1;
    q.limit = 0;
    if (!d->f->vmatch && !d->f->nversions)
        q.version_match = STORE_VER_ALL;
    struct store_page page;
    int rc = store_objects_query(store_txn_reader(t), &q, collect_version, d, &page);
    if (rc)
        return rc;
    if (page.count == 0)
        return VIGIL_ENOENT;
    if (d->nversions == 0)
        return VIGIL_EPERM; /* visible, but only another partner's */
    rc = store_txn_object_delete(t, d->coll, d->id, d->p->partner, d->versions, d->nversions,
                                 &d->deleted);
    if (!rc && d->deleted) /* the report index follows the version now newest */
        rc = ingest_reindex(t, d->coll, d->id, d->p->partner, d->partner_name, d->p->user,
                            d->p->user_name);
    rc = rc ? rc : ingest_deleted(t, d->id, d->p->partner, d->p->user, d->p->user_name);
    char detail[160];
    snprintf(detail, sizeof detail, "{\"collection\":\"%s\",\"versions\":%zu}",
             d->coll_uuid, d->nversions);
    return rc ? rc : audit_append(t, d->p->partner, d->p->user, "delete", d->id, detail);
}

/* Delete an Object (5.7): 200 with no payload. A principal that may not write to the
 * collection is answered 403 (the 5.7 table: can_read true, can_write false); a partner that
 * may read the object but did not create it, 403; an object it cannot read, 404. */
static void h_object_delete(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct coll_ref c;
    if (!find_collection(a, req, resp, 0, &c))
        return;
    const struct auth_principal *p = app_principal(req);
    const char *oid = http_param(req, "oid");
    if (!stix_id_valid(oid)) {
        app_error(req, resp, 404, "no such object", NULL);
        return;
    }
    struct taxii_filters f;
    if (!parse_filters(a, req, resp, TAXII_F_VERSION | TAXII_F_SPEC, "delete", &f))
        return;
    if (!can_write(p, &c.c)) {
        taxii_filters_release(&f);
        app_error(req, resp, 403, "forbidden", "you may not delete from this collection");
        return;
    }
    char identity[80], partner[128];
    if (app_partner_names(a, p->partner, identity, partner)) {
        taxii_filters_release(&f);
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    struct delete_job d = {
        .coll = c.c.id, .coll_uuid = c.uuid, .id = oid, .f = &f, .p = p, .partner_name = partner};
    int rc = store_write(a->store, delete_txn, &d);
    taxii_filters_release(&f);
    free(d.versions);
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such object", NULL);
    else if (rc == VIGIL_EPERM)
        app_error(req, resp, 403, "forbidden",
                  "only the partner that created an object may delete it");
    else if (rc)
        app_error(req, resp, 500, "cannot delete", NULL);
    else
        http_resp_text(resp, 200, TAXII_MEDIA, "");
}

/* ---- status -------------------------------------------------------------------------- */

static void h_status(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!check_root(req, resp, 0))
        return;
    const char *sid = http_param(req, "sid");
    const struct auth_principal *p = app_principal(req);
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    int64_t owner = 0;
    const char *json = NULL;
    int rc = uuid_valid(sid, strlen(sid)) ? store_status_get(r, sid, &owner, &json)
                                          : VIGIL_ENOENT;
    if (!rc && owner == p->partner)
        http_resp_text(resp, 200, TAXII_MEDIA, json);
    else
        app_error(req, resp, 404, "no such status", NULL);
    store_read_end(r);
}

/* ---- a missing trailing slash ------------------------------------------------------- */

/* Appends s to b, percent-encoding every byte outside RFC 3986's unreserved set. */
static void add_encoded(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            buf_addc(b, (char)*p);
        else
            buf_addf(b, "%%%02X", *p);
    }
}

static int add_query_arg(void *ctx, const char *key, const char *value)
{
    struct buf *b = ctx;
    buf_addc(b, b->data[b->len - 1] == '/' ? '?' : '&');
    add_encoded(b, key);
    if (value && *value) {
        buf_addc(b, '=');
        add_encoded(b, value);
    }
    return 0;
}

/* Every TAXII endpoint ends in '/' (4.1 to 5.8); without it the request is redirected, with
 * 308 so that the method and body are kept (as the OASIS reference server does). The
 * Location is built from the decoded path, each segment encoded again, and the query. */
static void h_add_slash(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct buf loc;
    buf_init(&loc, BUF_NOCAP);
    const char *p = req->path;
    while (*p) {
        const char *end = strchr(p + 1, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char seg[512];
        if (n >= sizeof seg) {
            buf_release(&loc);
            app_error(req, resp, 404, "not found", NULL);
            return;
        }
        memcpy(seg, p + 1, n - 1);
        seg[n - 1] = '\0';
        buf_addc(&loc, '/');
        add_encoded(&loc, seg);
        p += n;
    }
    buf_addc(&loc, '/');
    http_query_foreach(req, add_query_arg, &loc);
    http_resp_header(resp, "Location", loc.data);
    buf_release(&loc);
    http_resp_text(resp, 308, "text/plain", "");
}

/* ---- the extensions' JSON Schemas ---------------------------------------------------- */

/* The JSON Schemas the extension-definitions' `schema` URLs name (intel/profile.h): public,
 * like the documents of a standard. */
static void h_schema(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *name = http_param(req, "name");
    json_t *schema = NULL;
    if (strcmp(name, strrchr(PROFILE_SCHEMA_URL, '/') + 1) == 0)
        schema = profile_extension_schema();
    else if (strcmp(name, strrchr(PROFILE_ALERT_SCHEMA_URL, '/') + 1) == 0)
        schema = profile_alert_schema();
    else if (strcmp(name, strrchr(PROFILE_INCIDENT_SCHEMA_URL, '/') + 1) == 0)
        schema = profile_incident_schema();
    else if (strcmp(name, strrchr(CMP_SCHEMA_URL, '/') + 1) == 0)
        schema = cmp_extension_schema();
    if (!schema) {
        app_error(req, resp, 404, "no such schema", NULL);
        return;
    }
    app_json(resp, 200, "application/schema+json", schema);
    json_decref(schema);
}

#define COLL "/taxii2/{root}/collections/{cid}"
const struct http_route taxii_routes[] = {
    {"GET", "/taxii2/", h_discovery, "taxii_discovery", false},
    {"GET", "/taxii2/{root}/", h_root, "taxii_root", false},
    {"GET", "/taxii2/{root}/status/{sid}/", h_status, "taxii_status", false},
    {"GET", "/taxii2/{root}/collections/", h_collections, "taxii_collections", false},
    {"GET", COLL "/", h_collection, "taxii_collection", false},
    {"GET", COLL "/objects/", h_objects_get, "taxii_objects_get", false},
    {"POST", COLL "/objects/", h_objects_post, "taxii_objects_post", false},
    {"GET", COLL "/objects/{oid}/", h_object_get, "taxii_object_get", false},
    {"DELETE", COLL "/objects/{oid}/", h_object_delete, "taxii_object_delete", false},
    {"GET", COLL "/objects/{oid}/versions/", h_versions, "taxii_versions", false},
    {"GET", COLL "/manifest/", h_manifest, "taxii_manifest", false},
    {"GET", "/stix/schemas/{name}", h_schema, "stix_schema", true},
    {"GET", "/taxii2", h_add_slash, "taxii_redirect", false},
    {"GET", "/taxii2/{root}", h_add_slash, "taxii_redirect", false},
    {"GET", "/taxii2/{root}/status/{sid}", h_add_slash, "taxii_redirect", false},
    {"GET", "/taxii2/{root}/collections", h_add_slash, "taxii_redirect", false},
    {"GET", COLL, h_add_slash, "taxii_redirect", false},
    {"GET", COLL "/objects", h_add_slash, "taxii_redirect", false},
    {"POST", COLL "/objects", h_add_slash, "taxii_redirect", false},
    {"GET", COLL "/objects/{oid}", h_add_slash, "taxii_redirect", false},
    {"DELETE", COLL "/objects/{oid}", h_add_slash, "taxii_redirect", false},
    {"GET", COLL "/objects/{oid}/versions", h_add_slash, "taxii_redirect", false},
    {"GET", COLL "/manifest", h_add_slash, "taxii_redirect", false},
};
const size_t taxii_nroutes = sizeof taxii_routes / sizeof taxii_routes[0];
