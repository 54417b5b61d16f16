/* app.c - daemon start and stop, authentication, error format, health and metrics. */
#include "server/app.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "service/alerts.h"
#include "server/ratelimit.h"
#include "server/rest.h"
#include "service/webhooks.h"
#include "server/static.h"
#include "server/taxii_areas.h"

#define TAXII_MEDIA "application/taxii+json;version=2.1"

void app_json(struct http_resp *resp, int status, const char *content_type, const json_t *v)
{
    resp->status = status;
    resp->content_type = content_type;
    buf_reset(&resp->body);
    if (vjson_dump(v, &resp->body)) {
        buf_reset(&resp->body);
        resp->status = 500;
        buf_adds(&resp->body, "{\"title\":\"response too large\",\"http_status\":\"500\"}");
    }
}

void app_error(const struct http_req *req, struct http_resp *resp, int status, const char *title,
               const char *description)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    json_t *e = json_pack("{s:s, s:s}", "title", title, "http_status", code);
    if (description)
        json_object_set_new(e, "description", json_string(description));
    bool taxii = req && strncmp(req->path, "/taxii2/", 8) == 0;
    app_json(resp, status, taxii ? TAXII_MEDIA : "application/json", e);
    json_decref(e);
}

static void on_error(struct http_req *req, struct http_resp *resp, int status, const char *title,
                     void *app)
{
    app_error(req, resp, status, title, NULL);
}

static void free_principal(void *p)
{
    auth_principal_release(p);
    free(p);
}

static bool on_auth(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct auth_principal *p = xcalloc(1, sizeof *p);
    struct auth_request ar = {
        .authorization = http_header(req, "Authorization"),
        .cookie = http_header(req, "Cookie"),
        .csrf = http_header(req, AUTH_CSRF_HEADER),
        .method = req->method,
    };
    int rc = auth_check(a->store, &ar, p);
    if (rc == VIGIL_EPERM) {
        free(p);
        app_error(req, resp, 403, "CSRF token missing or wrong",
                  "send the session's CSRF token in " AUTH_CSRF_HEADER);
        return false;
    }
    if (rc) {
        auth_principal_release(p);
        free(p);
        app_error(req, resp, 401, "authentication required",
                  "send an API token as Bearer, or as the password of HTTP Basic");
        /* Not to the dashboard's own calls (X-Requested-With): a Basic challenge would make
         * the browser hold the call and ask for a password instead of showing the sign-in. */
        if (!http_header(req, "X-Requested-With"))
            http_resp_header(resp, "WWW-Authenticate",
                             "Basic realm=\"vigil\", charset=\"UTF-8\"");
        return false;
    }
    req->auth = p;
    req->auth_free = free_principal;
    int retry = 0;
    /* Sessions have no token id: their bucket is keyed by the user, negated. A partner's admin
     * mints tokens at will: the partner's credentials share a second bucket. */
    int64_t now = ts_monotonic_us();
    if (!ratelimit_take(a->limiter, p->token ? p->token : -p->user, now, &retry) ||
        !ratelimit_take(a->partner_rate, p->partner, now, &retry)) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry);
        app_error(req, resp, 429, "too many requests", "slow down; see Retry-After");
        http_resp_header(resp, "Retry-After", secs);
        return false;
    }
    return true;
}

const struct auth_principal *app_principal(const struct http_req *req)
{
    return req->auth;
}

static int add_query_arg(void *ctx, const char *key, const char *value)
{
    json_t *q = ctx;
    if (json_object_size(q) >= 32)
        return 1;
    json_object_set_new(q, key, json_stringn(value, strnlen(value, 256)));
    return 0;
}

void app_audit_read(struct app *a, const struct http_req *req, struct audit_list *r,
                    const char *object, const char *fields)
{
    const struct auth_principal *p = app_principal(req);
    json_t *q = json_object();
    http_query_foreach(req, add_query_arg, q);
    char *qs = vjson_dumps(q);
    char *all = xasprintf("%s%s\"query\":%s", fields, fields[0] ? "," : "", qs);
    char *detail = audit_list_detail(r, all);
    if (detail)
        audit_append_async(a->store, p->partner, p->user, "read", object, detail);
    free(detail);
    free(all);
    free(qs);
    json_decref(q);
}

static void h_healthz(struct http_req *req, struct http_resp *resp, void *arg)
{
    http_resp_text(resp, 200, "application/json", "{\"status\":\"ok\"}");
}

/* Ready when the store answers a read. */
static void h_readyz(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct store_reader *r;
    struct store_collection c;
    int rc = store_read_begin(a->store, &r);
    if (!rc) {
        rc = store_collection_find(r, "reports", &c);
        store_read_end(r);
    }
    if (rc)
        http_resp_text(resp, 503, "application/json", "{\"status\":\"store unavailable\"}");
    else
        http_resp_text(resp, 200, "application/json", "{\"status\":\"ready\"}");
}

/* Metrics count what the whole hub holds (reports fused, memory, connections): they move with
 * reports a partner may not read, so only the coordination center's admins read them. */
static void h_metrics(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!p->coordinator || strcmp(p->role, "admin") != 0) {
        app_error(req, resp, 403, "forbidden", "the coordination center's admins only");
        return;
    }
    resp->content_type = "text/plain; version=0.0.4";
    buf_reset(&resp->body);
    http_metrics_write(a->http, &resp->body);
    buf_addf(&resp->body,
             "# HELP vigil_start_time_seconds When the daemon started.\n"
             "# TYPE vigil_start_time_seconds gauge\n"
             "vigil_start_time_seconds %.3f\n"
             "# HELP vigil_store_memory_bytes Memory the store holds (SQLite page caches and "
             "statements, bounded by the caches' sizes; the filter of the stored ids).\n"
             "# TYPE vigil_store_memory_bytes gauge\n"
             "vigil_store_memory_bytes %lld\n",
             (double)a->started / 1e6, (long long)store_memory_used(a->store, NULL));
    size_t reports, bytes;
    alerts_memory(a->alerts, &reports, &bytes);
    buf_addf(&resp->body,
             "# HELP vigil_fusion_reports Reports the fusion engine holds (what its rules and "
             "detectors can still reach, and the alerts' evidence).\n"
             "# TYPE vigil_fusion_reports gauge\n"
             "vigil_fusion_reports %zu\n"
             "# HELP vigil_fusion_memory_bytes Memory the fusion engine's reports, indexes and "
             "alerts occupy.\n"
             "# TYPE vigil_fusion_memory_bytes gauge\n"
             "vigil_fusion_memory_bytes %zu\n"
             "# HELP vigil_alert_ids_computed_total Alert ids computed (UUIDv5): a look-up by id "
             "computes a bounded number of them.\n"
             "# TYPE vigil_alert_ids_computed_total counter\n"
             "vigil_alert_ids_computed_total %llu\n",
             reports, bytes, (unsigned long long)alerts_ids_computed());
    /* The allocator's own view (every arena): what the process's heap is made of; absent when
     * malloc is not glibc's (a sanitizer's, which mallinfo2 does not see). */
    struct mallinfo2 mi = mallinfo2();
    if (mi.arena)
        buf_addf(&resp->body,
                 "# HELP vigil_heap_in_use_bytes Heap memory allocated and not freed (malloc).\n"
                 "# TYPE vigil_heap_in_use_bytes gauge\n"
                 "vigil_heap_in_use_bytes %zu\n"
                 "# HELP vigil_heap_free_bytes Heap memory freed but kept by the allocator.\n"
                 "# TYPE vigil_heap_free_bytes gauge\n"
                 "vigil_heap_free_bytes %zu\n",
                 mi.uordblks + mi.hblkhd, mi.fordblks);
}

static const struct http_route base_routes[] = {
    {"GET", "/healthz", h_healthz, "healthz", true},
    {"GET", "/readyz", h_readyz, "readyz", true},
    {"GET", "/metrics", h_metrics, "metrics", false},
};

int app_partner_names(struct app *a, int64_t partner, char identity[80], char name[128])
{
    struct store_reader *r;
    struct store_partner p;
    int rc = store_read_begin(a->store, &r);
    if (rc)
        return rc;
    rc = store_partner_get(r, partner, &p);
    if (!rc) {
        snprintf(identity, 80, "%s", p.identity_id);
        snprintf(name, 128, "%s", p.name);
    }
    store_read_end(r);
    return rc;
}

/* After every commit: live streams and the webhook sender look for new events. */
static void on_commit(void *ctx)
{
    struct app *a = ctx;
    http_server_wake(a->http);
    webhook_sender_poke(a->webhooks);
    alerts_poke(a->alerts);
}

/* Looks up the ids of the hub's collections. */
static int load_collections(struct app *a, char msg[APP_MSG_SZ])
{
    struct store_reader *r;
    int rc = store_read_begin(a->store, &r);
    if (rc)
        return rc;
    const char *names[] = {"reports", "alerts", "compliance"};
    int64_t *ids[] = {&a->coll_reports, &a->coll_alerts, &a->coll_compliance};
    for (int i = 0; i < 3 && !rc; i++) {
        struct store_collection c;
        rc = store_collection_find(r, names[i], &c);
        if (rc)
            snprintf(msg, APP_MSG_SZ, "the store has no %s collection", names[i]);
        else
            *ids[i] = c.id;
    }
    store_read_end(r);
    return rc;
}

/* The secret namespace of alert ids (service/alerts.h): a UUID made of a subkey of
 * secret.key, so that every front-end of a hub and every restart names an alert alike. */
static void alert_id_ns(const struct app *a, char ns[UUID_STRLEN + 1])
{
    unsigned char b[16];
    crypto_kdf_derive_from_key(b, sizeof b, 2, "vigilaid", a->cursor_key);
    uuid_from_bytes(b, 4, ns); /* the form of a UUID (version 4) */
    sodium_memzero(b, sizeof b);
}

/* Reads DIR/secret.key (32 random bytes made by init), the key of paging cursors. */
static int load_key(const char *dir, unsigned char key[APP_KEY_LEN], char msg[APP_MSG_SZ])
{
    char *path = xasprintf("%s/secret.key", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, key, APP_KEY_LEN) : -1;
    if (fd >= 0)
        close(fd);
    int rc = 0;
    if (n != APP_KEY_LEN) {
        snprintf(msg, APP_MSG_SZ, "%s: cannot read the server key (run vigil init)", path);
        rc = VIGIL_EIO;
    }
    free(path);
    return rc;
}

static char *read_file(const char *path, char msg[APP_MSG_SZ])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(msg, APP_MSG_SZ, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_add(&b, chunk, n))
            break;
    fclose(f);
    return buf_detach(&b, NULL);
}

/* Refuses files that other users could read or change: the store, keys and tokens hold
 * partners' data and secrets. A missing file is fine here (others report it). */
static int check_private(const char *dir, const char *name, char msg[APP_MSG_SZ])
{
    char *path = name ? xasprintf("%s/%s", dir, name) : xstrdup(dir);
    struct stat st;
    int rc = 0;
    if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXO | (name ? S_IRWXG : 0)))) {
        snprintf(msg, APP_MSG_SZ, "%s is open to other users (mode %04o); chmod %s it", path,
                 (unsigned)(st.st_mode & 07777), S_ISDIR(st.st_mode) ? "700" : "600");
        rc = VIGIL_EPERM;
    }
    free(path);
    return rc;
}

static void app_limits_free(struct app *a)
{
    ratelimit_free(a->limiter);
    ratelimit_free(a->partner_rate);
    ratelimit_free(a->login_user);
    ratelimit_free(a->login_addr);
    slots_free(a->logins);
    slots_free(a->streams);
    slots_free(a->partner_streams);
}

int app_start(struct app *a, const char *data_dir, const struct config *cfg, char msg[APP_MSG_SZ])
{
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    a->started = ts_now();
    static const char *const private_files[] = {NULL,          "vigil.db",    "vigil.db-wal",
                                                "secret.key",  "admin.token", "vigil.conf",
                                                "audit.key"};
    int rc = 0;
    for (size_t i = 0; i < sizeof private_files / sizeof *private_files && !rc; i++)
        rc = check_private(data_dir, private_files[i], msg);
    if (!rc && cfg->tls_key[0])
        rc = check_private(cfg->tls_key, NULL, msg);
    if (rc)
        return rc;
    rc = load_key(data_dir, a->cursor_key, msg);
    if (rc)
        return rc;
    struct store_options so = {.read_connections = (unsigned)cfg->read_connections};
    rc = store_open(config_store(cfg, data_dir), &so, &a->store, msg);
    if (rc)
        return rc;
    rc = load_collections(a, msg);
    char *rules = cfg->rules_file[0] == '/' ? xstrdup(cfg->rules_file)
                                            : xasprintf("%s/%s", data_dir, cfg->rules_file);
    char ns[UUID_STRLEN + 1];
    alert_id_ns(a, ns);
    if (!rc)
        rc = alerts_start(a->store, rules, ns, &a->alerts, msg);
    sodium_memzero(ns, sizeof ns);
    free(rules);
    if (rc) {
        store_close(a->store);
        return rc;
    }

    /* One route table from every API module. */
    const struct {
        const struct http_route *r;
        size_t n;
    } tables[] = {
        {base_routes, sizeof base_routes / sizeof base_routes[0]},
        {taxii_routes, taxii_nroutes},
        {rest_admin_routes, rest_admin_nroutes},
        {rest_report_routes, rest_report_nroutes},
        {rest_incident_routes, rest_incident_nroutes},
        {rest_stream_routes, rest_stream_nroutes},
        {rest_alert_routes, rest_alert_nroutes},
        {rest_compliance_routes, rest_compliance_nroutes},
        {static_routes, static_nroutes}, /* last: every API route wins */
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        n += tables[i].n;
    struct http_route *routes = xcalloc(n, sizeof *routes);
    n = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        memcpy(routes + n, tables[i].r, tables[i].n * sizeof *routes);
        n += tables[i].n;
    }

    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert[0]) {
        cert = read_file(cfg->tls_cert, msg);
        key = cert ? read_file(cfg->tls_key, msg) : NULL;
        if (!key) {
            free(cert);
            free(routes);
            alerts_stop(a->alerts);
            store_close(a->store);
            return VIGIL_EIO;
        }
    }
    struct http_config hc = {
        .listen = cfg->listen,
        .threads = (unsigned)cfg->threads,
        .max_body = (size_t)cfg->max_content_length,
        .connection_limit = (unsigned)cfg->connection_limit,
        .per_ip_connection_limit = (unsigned)cfg->per_ip_connection_limit,
        .timeout_s = (unsigned)cfg->request_timeout,
        .deadline_s = (unsigned)cfg->request_deadline,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
        .routes = routes,
        .nroutes = n,
        .auth = on_auth,
        .error = on_error,
        .app = a,
    };
    a->limiter = ratelimit_new(cfg->rate_limit);
    a->partner_rate = ratelimit_new(cfg->rate_limit_per_partner);
    a->login_user = ratelimit_new(cfg->login_rate_limit);
    a->login_addr = ratelimit_new(cfg->login_rate_limit_address);
    a->logins = slots_new(cfg->login_concurrency, cfg->login_concurrency);
    /* Streams never take more than half of the connections: the rest stay for requests. */
    long streams = cfg->connection_limit / 2 > 0 ? cfg->connection_limit / 2 : 1;
    a->streams = slots_new(cfg->stream_limit_per_credential,
                           cfg->stream_limit < streams ? cfg->stream_limit : streams);
    a->partner_streams = slots_new(cfg->stream_limit_per_partner, 0);
    rc = http_server_start(&hc, &a->http, msg);
    if (key)
        sodium_memzero(key, strlen(key));
    free(cert);
    free(key);
    free(routes); /* the HTTP layer keeps its own copy */
    if (rc) {
        app_limits_free(a);
        alerts_stop(a->alerts);
        store_close(a->store);
        return rc;
    }
    a->webhooks = webhook_sender_start(a->store, cfg->webhook_allow_private);
    a->areas = taxii_areas_new();
    store_set_commit_hook(a->store, on_commit, a);
    return 0;
}

void app_stop(struct app *a)
{
    store_set_commit_hook(a->store, NULL, NULL);
    http_server_stop(a->http);
    webhook_sender_stop(a->webhooks);
    alerts_stop(a->alerts);
    taxii_areas_free(a->areas);
    app_limits_free(a);
    store_close(a->store);
    memset(a, 0, sizeof *a);
}

void app_reload(struct app *a)
{
    char msg[256];
    if (alerts_reload(a->alerts, msg))
        log_error("reload refused, the old rules stay in force: %s", msg);
}
