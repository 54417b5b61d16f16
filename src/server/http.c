/* http.c - the HTTP layer on libmicrohttpd (see http.h and docs/internals/http.md).
 *
 * One struct http_exchange lives for each request: MHD's URI log callback creates it (so it
 * sees the raw URI, before MHD unescapes the path and strips the query) and the request
 * completed notification frees it. The access handler is called at least twice per request:
 * once when the headers are in (routing, Content-Length check), then once per chunk of body,
 * then a last time with no data (auth, handler, response).
 *
 * Locks: one mutex per server, for the metrics tables. It is never held while calling out.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/err.h"
#include "base/log.h"
#include "base/timestamp.h"
#include "base/xalloc.h"
#include "server/http_parse.h"

#define MSG_SZ 256

/* Request counters: distinct (route, method, code) combinations kept apart. The last
 * OTHER_SLOTS entries are reserved for combinations that arrive once the table is full; they
 * are counted under route="other". */
#define MET_MAX_COUNTERS 256
#define MET_OTHER_SLOTS 32

static const double hist_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define HIST_NB (sizeof hist_bounds / sizeof hist_bounds[0])

static const char *const method_names[] = {"GET",    "HEAD",  "POST",    "PUT",
                                           "DELETE", "PATCH", "OPTIONS", "OTHER"};
#define METHOD_OTHER 7

/* A route with its pattern split into segments. */
struct route_c {
    char *method;
    char *name;
    http_handler_fn fn;
    bool public;
    size_t name_idx; /* index into srv->names, for metrics */
    size_t nseg;
    char **seg; /* literal text, or the capture name when is_param[i] */
    bool *is_param;
};

struct counter {
    size_t name_idx;
    unsigned method;
    int code;
    uint64_t n;
};

struct hist {
    uint64_t bucket[HIST_NB]; /* not cumulative; the +Inf bucket is count */
    uint64_t count;
    double sum;
};

struct http_server {
    struct MHD_Daemon *d;
    uint16_t port;
    size_t max_body;
    http_auth_fn auth;
    http_error_fn error;
    void *app;
    struct route_c *routes;
    size_t nroutes;

    /* Distinct route names; then "none" (no route) and "other" (overflow). */
    char **names;
    size_t nnames;
    size_t name_none;
    size_t name_other;

    pthread_mutex_t mu; /* guards everything below */
    struct hist *hists; /* one per name */
    struct counter ctr[MET_MAX_COUNTERS];
    size_t nctr;
    size_t nctr_other;
    uint64_t ctr_dropped; /* combinations that fitted nowhere */

    atomic_long conns_open;

    /* The request deadline: every open connection, and a thread that cuts off those whose
     * current request has been arriving for longer than deadline_us. */
    int64_t deadline_us;
    pthread_mutex_t conns_mu; /* guards conns and stopping */
    pthread_cond_t conns_cv;
    struct conn_rec *conns;
    bool stopping;
    bool reaper_started;
    pthread_mutex_t streams_mu; /* guards streams (never held with conns_mu) */
    struct stream *streams;
    atomic_bool closing; /* http_server_stop() has begun */
    atomic_ulong wakes;  /* http_server_wake() calls so far (changed under streams_mu) */
    pthread_t reaper;
};

/* A streamed response in flight. */
struct stream {
    struct http_server *srv;
    struct MHD_Connection *conn;
    http_stream_fn next;
    void *ctx;
    void (*free_ctx)(void *ctx);
    struct buf pending; /* produced, not yet handed to MHD */
    size_t off;
    bool asleep; /* suspended until woken */
    struct stream *prev, *nxt;
};

/* An open connection. */
struct conn_rec {
    int fd;
    atomic_llong busy_since; /* when the current request began arriving (monotonic us); 0:
                              * none is arriving */
    struct conn_rec *prev, *next;
};

/* Per-request state, reached through MHD's con_cls and req.impl. */
struct http_exchange {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_req req;
    struct http_resp resp;
    struct buf body;
    char *raw_uri;
    char *path;
    char *param_vals[HTTP_MAX_PARAMS];
    struct http_qarg *args;
    size_t nargs;
    char client[INET6_ADDRSTRLEN + 8];
    const struct route_c *route;
    int64_t t0;
    bool started;         /* the first access-handler call has been seen */
    bool queued;          /* a response has been queued */
    bool too_big;         /* the body passed max_body; being drained */
    size_t drained;       /* bytes thrown away after too_big */
    struct conn_rec *rec; /* its connection, for the deadline */
};

/* ---- small helpers -------------------------------------------------------------------- */

static unsigned method_index(const char *m)
{
    for (unsigned i = 0; i < METHOD_OTHER; i++)
        if (strcmp(m, method_names[i]) == 0)
            return i;
    return METHOD_OTHER;
}

/* ---- public request/response helpers -------------------------------------------------- */

const char *http_param(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

const char *http_header(const struct http_req *req, const char *name)
{
    const struct http_exchange *ex = req->impl;
    if (!ex || !ex->conn)
        return NULL;
    return MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *key)
{
    const struct http_exchange *ex = req->impl;
    if (!ex)
        return NULL;
    for (size_t i = 0; i < ex->nargs; i++)
        if (strcmp(ex->args[i].key, key) == 0)
            return ex->args[i].value;
    return NULL;
}

int http_query_foreach(const struct http_req *req,
                       int (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
    const struct http_exchange *ex = req->impl;
    if (!ex)
        return 0;
    for (size_t i = 0; i < ex->nargs; i++) {
        int rc = fn(ctx, ex->args[i].key, ex->args[i].value);
        if (rc)
            return rc;
    }
    return 0;
}

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders >= HTTP_MAX_RESP_HEADERS) {
        log_warn("http: response header %s dropped (more than %d)", name, HTTP_MAX_RESP_HEADERS);
        return;
    }
    resp->header_names[resp->nheaders] = xstrdup(name);
    resp->header_values[resp->nheaders] = xstrdup(value);
    resp->nheaders++;
}

void http_resp_text(struct http_resp *resp, int status, const char *content_type, const char *text)
{
    resp->status = status;
    resp->content_type = content_type;
    buf_reset(&resp->body);
    if (text && buf_adds(&resp->body, text))
        log_warn("http: response body over its cap, truncated to nothing");
}

static bool resp_has_header(const struct http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->header_names[i], name) == 0)
            return true;
    return false;
}

/* ---- metrics -------------------------------------------------------------------------- */

static void metrics_record(struct http_server *srv, size_t name_idx, const char *method, int code,
                           int64_t elapsed_us)
{
    unsigned mi = method_index(method);
    double secs = (double)elapsed_us / 1e6;

    pthread_mutex_lock(&srv->mu);
    struct hist *h = &srv->hists[name_idx];
    for (size_t i = 0; i < HIST_NB; i++) {
        if (secs <= hist_bounds[i]) {
            h->bucket[i]++;
            break;
        }
    }
    h->count++;
    h->sum += secs;

    struct counter *c = NULL;
    for (size_t i = 0; i < srv->nctr && !c; i++) {
        struct counter *e = &srv->ctr[i];
        if (e->name_idx == name_idx && e->method == mi && e->code == code)
            c = e;
    }
    if (!c && srv->nctr < MET_MAX_COUNTERS - MET_OTHER_SLOTS) {
        c = &srv->ctr[srv->nctr++];
        *c = (struct counter){.name_idx = name_idx, .method = mi, .code = code};
    }
    if (!c) {
        /* Table full: aggregate under route="other" in the reserved slots. */
        struct counter *o = &srv->ctr[MET_MAX_COUNTERS - MET_OTHER_SLOTS];
        for (size_t i = 0; i < srv->nctr_other && !c; i++)
            if (o[i].method == mi && o[i].code == code)
                c = &o[i];
        if (!c && srv->nctr_other < MET_OTHER_SLOTS) {
            c = &o[srv->nctr_other++];
            *c = (struct counter){.name_idx = srv->name_other, .method = mi, .code = code};
        }
    }
    if (c)
        c->n++;
    else
        srv->ctr_dropped++;
    pthread_mutex_unlock(&srv->mu);
}

/* Writes a label value with Prometheus escaping (backslash, quote, newline). */
static int add_label(struct buf *b, const char *s)
{
    int rc = 0;
    for (; *s && !rc; s++) {
        if (*s == '\\')
            rc = buf_adds(b, "\\\\");
        else if (*s == '"')
            rc = buf_adds(b, "\\\"");
        else if (*s == '\n')
            rc = buf_adds(b, "\\n");
        else
            rc = buf_addc(b, *s);
    }
    return rc;
}

static int write_counter(struct buf *b, const struct http_server *srv, const struct counter *c)
{
    int rc = buf_adds(b, "vigil_http_requests_total{route=\"");
    if (!rc)
        rc = add_label(b, srv->names[c->name_idx]);
    if (!rc)
        rc = buf_addf(b, "\",method=\"%s\",code=\"%d\"} %" PRIu64 "\n", method_names[c->method],
                      c->code, c->n);
    return rc;
}

static int write_hist(struct buf *b, const char *name, const struct hist *h)
{
    int rc = 0;
    uint64_t cum = 0;
    for (size_t i = 0; i <= HIST_NB && !rc; i++) {
        rc = buf_adds(b, "vigil_http_request_duration_seconds_bucket{route=\"");
        if (!rc)
            rc = add_label(b, name);
        if (rc)
            break;
        if (i < HIST_NB) {
            cum += h->bucket[i];
            rc = buf_addf(b, "\",le=\"%g\"} %" PRIu64 "\n", hist_bounds[i], cum);
        } else {
            rc = buf_addf(b, "\",le=\"+Inf\"} %" PRIu64 "\n", h->count);
        }
    }
    if (!rc)
        rc = buf_adds(b, "vigil_http_request_duration_seconds_sum{route=\"");
    if (!rc)
        rc = add_label(b, name);
    if (!rc)
        rc = buf_addf(b, "\"} %.6f\n", h->sum);
    if (!rc)
        rc = buf_adds(b, "vigil_http_request_duration_seconds_count{route=\"");
    if (!rc)
        rc = add_label(b, name);
    if (!rc)
        rc = buf_addf(b, "\"} %" PRIu64 "\n", h->count);
    return rc;
}

int http_metrics_write(struct http_server *srv, struct buf *b)
{
    if (!srv)
        return VIGIL_EINVAL;
    int rc = buf_adds(b, "# HELP vigil_http_requests_total HTTP requests answered, by route, "
                         "method and status code.\n"
                         "# TYPE vigil_http_requests_total counter\n");
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->nctr && !rc; i++)
        rc = write_counter(b, srv, &srv->ctr[i]);
    for (size_t i = 0; i < srv->nctr_other && !rc; i++)
        rc = write_counter(b, srv, &srv->ctr[MET_MAX_COUNTERS - MET_OTHER_SLOTS + i]);
    if (!rc && srv->ctr_dropped)
        rc = buf_addf(b,
                      "vigil_http_requests_total{route=\"other\",method=\"OTHER\","
                      "code=\"0\"} %" PRIu64 "\n",
                      srv->ctr_dropped);
    if (!rc)
        rc = buf_adds(b, "# HELP vigil_http_request_duration_seconds Time from request line "
                         "to response queued, by route.\n"
                         "# TYPE vigil_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < srv->nnames && !rc; i++) {
        if (srv->hists[i].count == 0 && (i == srv->name_none || i == srv->name_other))
            continue;
        rc = write_hist(b, srv->names[i], &srv->hists[i]);
    }
    pthread_mutex_unlock(&srv->mu);
    if (!rc)
        rc = buf_addf(b,
                      "# HELP vigil_http_connections_open Client connections now open.\n"
                      "# TYPE vigil_http_connections_open gauge\n"
                      "vigil_http_connections_open %ld\n",
                      atomic_load(&srv->conns_open));
    return rc;
}

/* ---- responses ------------------------------------------------------------------------ */

void http_resp_stream(struct http_resp *resp, http_stream_fn next, void *ctx,
                      void (*free_ctx)(void *ctx))
{
    resp->stream = next;
    resp->stream_ctx = ctx;
    resp->stream_free = free_ctx;
}

/* Whether the client of a stream has gone (closed or reset its end). MHD would only find out
 * when it next sends, which for a quiet stream is the next heartbeat: until then the
 * connection, its descriptor and its buffers would stay. */
static bool client_gone(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct pollfd p = {.fd = ci ? ci->connect_fd : -1, .events = POLLRDHUP};
    return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* MHD asks for more of a stream: hands out what is pending, else asks the producer; with
 * nothing to send, suspends the connection until the next wake (at least once a second: see
 * reaper_main), or ends it if the client has gone. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    while (st->off == st->pending.len) {
        buf_reset(&st->pending);
        st->off = 0;
        /* A wake that comes while the producer runs must not be lost: the producer runs again
         * instead of sleeping when the wake count moved meanwhile. */
        unsigned long gen = atomic_load(&st->srv->wakes);
        if (atomic_load(&st->srv->closing) || st->next(st->ctx, &st->pending) < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (st->pending.len)
            break;
        if (client_gone(st->conn))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&st->srv->streams_mu);
        if (atomic_load(&st->srv->wakes) != gen) {
            pthread_mutex_unlock(&st->srv->streams_mu);
            continue;
        }
        buf_release(&st->pending); /* a sleeping stream holds no buffer */
        st->asleep = true;
        MHD_suspend_connection(st->conn);
        pthread_mutex_unlock(&st->srv->streams_mu);
        return 0;
    }
    size_t n = st->pending.len - st->off;
    if (n > max)
        n = max;
    memcpy(out, st->pending.data + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    struct http_server *srv = st->srv;
    pthread_mutex_lock(&srv->streams_mu);
    if (st->prev)
        st->prev->nxt = st->nxt;
    else
        srv->streams = st->nxt;
    if (st->nxt)
        st->nxt->prev = st->prev;
    pthread_mutex_unlock(&srv->streams_mu);
    if (st->free_ctx)
        st->free_ctx(st->ctx);
    buf_release(&st->pending);
    free(st);
}

void http_server_wake(struct http_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->streams_mu);
    atomic_fetch_add(&srv->wakes, 1);
    for (struct stream *st = srv->streams; st; st = st->nxt) {
        if (st->asleep) {
            st->asleep = false;
            MHD_resume_connection(st->conn);
        }
    }
    pthread_mutex_unlock(&srv->streams_mu);
}

/* The MHD response of a streamed http_resp (ownership of the producer moves to it). */
static struct MHD_Response *stream_response(struct http_exchange *ex)
{
    struct stream *st = xcalloc(1, sizeof *st);
    st->srv = ex->srv;
    st->conn = ex->conn;
    st->next = ex->resp.stream;
    st->ctx = ex->resp.stream_ctx;
    st->free_ctx = ex->resp.stream_free;
    ex->resp.stream_free = NULL;
    buf_init(&st->pending, BUF_NOCAP);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!r) {
        if (st->free_ctx)
            st->free_ctx(st->ctx);
        buf_release(&st->pending);
        free(st);
        return NULL;
    }
    pthread_mutex_lock(&ex->srv->streams_mu);
    st->nxt = ex->srv->streams;
    if (st->nxt)
        st->nxt->prev = st;
    ex->srv->streams = st;
    pthread_mutex_unlock(&ex->srv->streams_mu);
    return r;
}

/* Queues ex->resp on the connection and records it in the metrics. */
static enum MHD_Result send_resp(struct http_exchange *ex)
{
    struct http_resp *resp = &ex->resp;
    if (resp->status < 100 || resp->status > 599) {
        log_warn("http: handler for %s set status %d; answering 500", ex->req.route, resp->status);
        resp->status = 500;
    }
    struct MHD_Response *r;
    if (resp->stream && resp->status < 300) {
        r = stream_response(ex);
    } else {
        size_t len;
        char *data = buf_detach(&resp->body, &len);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(data);
    }
    if (!r)
        return MHD_NO;
    if (!resp_has_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE)) {
        const char *ct = resp->content_type ? resp->content_type : "application/json";
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    }
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]) != MHD_YES)
            log_warn("http: response header %s refused", resp->header_names[i]);
    }
    enum MHD_Result ret = MHD_queue_response(ex->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        ex->queued = true;
        size_t name_idx = ex->route ? ex->route->name_idx : ex->srv->name_none;
        metrics_record(ex->srv, name_idx, ex->req.method, resp->status, ts_monotonic_us() - ex->t0);
    }
    return ret;
}

/* Answers an error the HTTP layer detected, formatted by the app's error hook. */
static enum MHD_Result send_error(struct http_exchange *ex, int status, const char *title)
{
    struct http_server *srv = ex->srv;
    ex->resp.status = status;
    if (srv->error) {
        srv->error(&ex->req, &ex->resp, status, title, srv->app);
        if (ex->resp.status == 200)
            ex->resp.status = status;
    } else {
        buf_reset(&ex->resp.body);
        buf_addf(&ex->resp.body, "{\"title\":\"%s\",\"http_status\":\"%d\"}", title, status);
        ex->resp.content_type = "application/json";
    }
    return send_resp(ex);
}

/* ---- routing -------------------------------------------------------------------------- */

static bool route_match_path(const struct route_c *r, char **seg, size_t nseg)
{
    if (r->nseg != nseg)
        return false;
    for (size_t i = 0; i < nseg; i++) {
        if (r->is_param[i]) {
            if (seg[i][0] == '\0')
                return false;
        } else if (strcmp(r->seg[i], seg[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* Routes the request: sets ex->route and the captures, or answers 400/404/405 itself.
 * Returns true when a route was found. */
static bool route_request(struct http_exchange *ex, enum MHD_Result *ret)
{
    struct http_server *srv = ex->srv;
    /* the raw path split on '/', each segment decoded: an encoded '/' stays in its segment,
     * so a capture may contain one */
    char **seg = NULL;
    size_t nseg = 0;
    bool found = false;
    if (http_path_parse(ex->raw_uri, &seg, &nseg, &ex->path)) {
        *ret = send_error(ex, 400, "Bad Request");
        return false;
    }
    ex->req.path = ex->path;

    const struct route_c *path_match = NULL;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const struct route_c *r = &srv->routes[i];
        if (!route_match_path(r, seg, nseg))
            continue;
        if (!path_match)
            path_match = r;
        if (strcmp(r->method, ex->req.method) == 0) {
            ex->route = r;
            break;
        }
    }
    if (!path_match) {
        *ret = send_error(ex, 404, "Not Found");
        goto out;
    }
    if (!ex->route) {
        /* Allow: the distinct methods of every route on this path */
        struct buf allow;
        buf_init(&allow, 1024);
        for (size_t i = 0; i < srv->nroutes; i++) {
            const struct route_c *r = &srv->routes[i];
            if (!route_match_path(r, seg, nseg))
                continue;
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = route_match_path(&srv->routes[j], seg, nseg) &&
                      strcmp(srv->routes[j].method, r->method) == 0;
            if (!dup)
                buf_addf(&allow, "%s%s", allow.len ? ", " : "", r->method);
        }
        /* set before the error hook so the app sees it, and it is not added twice */
        http_resp_header(&ex->resp, "Allow", allow.data);
        buf_release(&allow);
        *ret = send_error(ex, 405, "Method Not Allowed");
        goto out;
    }

    const struct route_c *r = ex->route;
    ex->req.route = r->name;
    for (size_t i = 0; i < nseg; i++) {
        if (!r->is_param[i])
            continue;
        size_t n = ex->req.nparams++;
        ex->req.param_names[n] = r->seg[i];
        ex->param_vals[n] = seg[i];
        ex->req.param_values[n] = seg[i];
        seg[i] = NULL; /* now owned by ex */
    }
    found = true;
out:
    http_path_free(seg, nseg);
    return found;
}

/* Splits the raw query string into decoded arguments, in order. */
static int parse_query(struct http_exchange *ex)
{
    return http_query_parse(ex->raw_uri, &ex->args, &ex->nargs);
}

/* ---- MHD callbacks -------------------------------------------------------------------- */

/* Creates the request's state while MHD still has the raw URI. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *srv = cls;
    struct http_exchange *ex = xcalloc(1, sizeof *ex);
    ex->srv = srv;
    ex->conn = conn;
    ex->t0 = ts_monotonic_us();
    ex->raw_uri = xstrdup(uri ? uri : "/");
    const union MHD_ConnectionInfo *sc =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    ex->rec = sc ? sc->socket_context : NULL;
    if (ex->rec)
        atomic_store(&ex->rec->busy_since, ex->t0); /* a new request starts arriving */
    buf_init(&ex->body, srv->max_body);
    buf_init(&ex->resp.body, BUF_NOCAP);
    ex->resp.status = 200;
    ex->resp.content_type = "application/json";
    ex->req.route = "none";
    ex->req.path = "";
    ex->req.body = ex->body.data;
    ex->req.impl = ex;
    ex->req.client = ex->client;

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ex->client, sizeof ex->client);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ex->client, sizeof ex->client);
    } else {
        snprintf(ex->client, sizeof ex->client, "unknown");
    }
    return ex;
}

static void exchange_free(struct http_exchange *ex)
{
    if (ex->resp.stream_free)
        ex->resp.stream_free(ex->resp.stream_ctx); /* a stream never started */
    if (ex->req.auth && ex->req.auth_free)
        ex->req.auth_free(ex->req.auth);
    buf_release(&ex->body);
    buf_release(&ex->resp.body);
    for (size_t i = 0; i < ex->resp.nheaders; i++) {
        free(ex->resp.header_names[i]);
        free(ex->resp.header_values[i]);
    }
    for (size_t i = 0; i < HTTP_MAX_PARAMS; i++)
        free(ex->param_vals[i]);
    http_query_free(ex->args, ex->nargs);
    free(ex->path);
    free(ex->raw_uri);
    free(ex);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_exchange *ex = *con_cls;
    if (ex)
        exchange_free(ex);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&srv->conns_open, 1);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_rec *rec = xcalloc(1, sizeof *rec);
        rec->fd = ci ? ci->connect_fd : -1;
        atomic_init(&rec->busy_since, ts_monotonic_us());
        pthread_mutex_lock(&srv->conns_mu);
        rec->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = rec;
        srv->conns = rec;
        pthread_mutex_unlock(&srv->conns_mu);
        *socket_context = rec;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&srv->conns_open, 1);
        struct conn_rec *rec = *socket_context;
        if (!rec)
            return;
        pthread_mutex_lock(&srv->conns_mu);
        if (rec->prev)
            rec->prev->next = rec->next;
        else
            srv->conns = rec->next;
        if (rec->next)
            rec->next->prev = rec->prev;
        pthread_mutex_unlock(&srv->conns_mu);
        free(rec);
        *socket_context = NULL;
    }
}

/* The deadline thread: twice a second, shuts down the sockets of connections whose request
 * has been arriving for too long (a client dripping a header line every few seconds never
 * trips the idle timeout). MHD then sees the socket end and closes the connection. */
static void *reaper_main(void *arg)
{
    struct http_server *srv = arg;
    int64_t last_wake = ts_monotonic_us();
    pthread_mutex_lock(&srv->conns_mu);
    while (!srv->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 500000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->conns_cv, &srv->conns_mu, &ts);
        if (srv->stopping)
            break;
        int64_t now = ts_monotonic_us();
        if (now - last_wake >= 1000000) {
            /* Streams produce heartbeats and notice departed clients. */
            pthread_mutex_unlock(&srv->conns_mu);
            http_server_wake(srv);
            pthread_mutex_lock(&srv->conns_mu);
            last_wake = now;
        }
        for (struct conn_rec *r = srv->conns; r && srv->deadline_us; r = r->next) {
            long long since = atomic_load(&r->busy_since);
            if (since && now - since > srv->deadline_us && r->fd >= 0) {
                log_info("http: cutting off a client that took over %lld s to send a request",
                         (long long)(srv->deadline_us / 1000000));
                shutdown(r->fd, SHUT_RDWR);
                atomic_store(&r->busy_since, 0);
            }
        }
    }
    pthread_mutex_unlock(&srv->conns_mu);
    return NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fm, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fm, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warn("http: %s", line);
}

/* First call for a request: headers are in, no body yet. Routes and checks the declared
 * length; may answer at once. */
static enum MHD_Result on_headers(struct http_exchange *ex, const char *method)
{
    struct http_server *srv = ex->srv;
    enum MHD_Result ret = MHD_YES;
    ex->req.method = method;
    if (parse_query(ex))
        return send_error(ex, 400, "Bad Request");
    if (!route_request(ex, &ret))
        return ret;
    const char *cl =
        MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        char *end;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno == ERANGE || v > srv->max_body)
            return send_error(ex, 413, "Payload Too Large");
    }
    return MHD_YES;
}

/* Last call: body complete. Authenticates, runs the handler, answers. */
static enum MHD_Result on_body_done(struct http_exchange *ex)
{
    struct http_server *srv = ex->srv;
    if (ex->too_big)
        return send_error(ex, 413, "Payload Too Large");
    ex->req.body = ex->body.data;
    ex->req.body_len = ex->body.len;
    if (ex->rec)
        atomic_store(&ex->rec->busy_since, 0); /* received whole: the deadline is met */
    const struct route_c *r = ex->route;
    if (!r)
        return MHD_NO; /* routing answered, but MHD could not queue it */
    if (!r->public && srv->auth) {
        if (!srv->auth(&ex->req, &ex->resp, srv->app)) {
            /* a refusal must not go out as a success */
            if (ex->resp.status < 400)
                ex->resp.status = 401;
            return send_resp(ex);
        }
    }
    r->fn(&ex->req, &ex->resp, srv->app);
    return send_resp(ex);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct http_exchange *ex = *con_cls;
    if (!ex) {
        /* the URI callback always runs first; be safe anyway */
        ex = on_uri(cls, url, conn);
        *con_cls = ex;
    }
    if (!ex->started) {
        ex->started = true;
        return on_headers(ex, method);
    }
    if (ex->queued) {
        /* answered early (404, 405, 413): swallow whatever body still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!ex->too_big && buf_add(&ex->body, upload_data, n) == 0)
            return MHD_YES;
        if (!ex->too_big) {
            ex->too_big = true;
            buf_release(&ex->body);
            ex->req.body = ex->body.data;
        }
        /* MHD cannot answer in the middle of a body: drain it, up to a bound, then 413. A
         * client that keeps sending past the bound loses the connection. */
        ex->drained += n;
        if (ex->drained > ex->srv->max_body + ((size_t)1 << 20)) {
            log_warn("http: %s sent an oversize body past the drain limit; closing", ex->client);
            return MHD_NO;
        }
        return MHD_YES;
    }
    return on_body_done(ex);
}

/* ---- start and stop ------------------------------------------------------------------- */

/* Parses "host:port", "[v6]:port" or ":port" into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen, bool *v6,
                        uint16_t *port, char *msg)
{
    char host[128];
    const char *colon;
    const char *h = listen;
    size_t hlen;
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':') {
            snprintf(msg, MSG_SZ, "listen address '%s': expected [address]:port", listen);
            return VIGIL_EINVAL;
        }
        h = listen + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
        *v6 = true;
    } else {
        colon = strrchr(listen, ':');
        if (!colon) {
            snprintf(msg, MSG_SZ, "listen address '%s': expected host:port", listen);
            return VIGIL_EINVAL;
        }
        hlen = (size_t)(colon - listen);
        *v6 = false;
    }
    if (hlen >= sizeof host) {
        snprintf(msg, MSG_SZ, "listen address '%s': host too long", listen);
        return VIGIL_EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';

    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || p > 65535) {
        snprintf(msg, MSG_SZ, "listen address '%s': bad port", listen);
        return VIGIL_EINVAL;
    }
    *port = (uint16_t)p;

    memset(ss, 0, sizeof *ss);
    if (*v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(*port);
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
            snprintf(msg, MSG_SZ, "listen address '%s': bad IPv6 address", listen);
            return VIGIL_EINVAL;
        }
        *sslen = sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(*port);
        if (host[0] == '\0' || strcmp(host, "*") == 0)
            snprintf(host, sizeof host, "0.0.0.0");
        else if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
            snprintf(msg, MSG_SZ, "listen address '%s': bad IPv4 address (no DNS names)", listen);
            return VIGIL_EINVAL;
        }
        *sslen = sizeof *in;
    }
    return 0;
}

static int compile_route(const struct http_route *src, struct route_c *r, char *msg)
{
    if (!src->method || !src->pattern || !src->fn || src->pattern[0] != '/') {
        snprintf(msg, MSG_SZ,
                 "route '%s': needs a method, a handler and a pattern "
                 "starting with '/'",
                 src->pattern ? src->pattern : "(null)");
        return VIGIL_EINVAL;
    }
    r->method = xstrdup(src->method);
    r->name = xstrdup(src->name ? src->name : src->pattern);
    r->fn = src->fn;
    r->public = src->public;
    const char *pat = src->pattern;
    r->nseg = 1;
    for (const char *c = pat; *c; c++)
        r->nseg += *c == '/';
    r->seg = xcalloc(r->nseg, sizeof *r->seg);
    r->is_param = xcalloc(r->nseg, sizeof *r->is_param);
    size_t k = 0, nparams = 0;
    const char *s = pat;
    for (;;) {
        size_t n = strcspn(s, "/");
        if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
            r->is_param[k] = true;
            r->seg[k] = xstrndup(s + 1, n - 2);
            nparams++;
        } else {
            r->seg[k] = xstrndup(s, n);
        }
        k++;
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
    if (nparams > HTTP_MAX_PARAMS) {
        snprintf(msg, MSG_SZ, "route '%s': more than %d captures", pat, HTTP_MAX_PARAMS);
        return VIGIL_EINVAL;
    }
    return 0;
}

static void server_free(struct http_server *srv)
{
    for (size_t i = 0; i < srv->nroutes; i++) {
        struct route_c *r = &srv->routes[i];
        for (size_t j = 0; r->seg && j < r->nseg; j++)
            free(r->seg[j]);
        free(r->seg);
        free(r->is_param);
        free(r->method);
        free(r->name);
    }
    free(srv->routes);
    for (size_t i = 0; i < srv->nnames; i++)
        free(srv->names[i]);
    free(srv->names);
    free(srv->hists);
    pthread_mutex_destroy(&srv->mu);
    pthread_mutex_destroy(&srv->conns_mu);
    pthread_mutex_destroy(&srv->streams_mu);
    pthread_cond_destroy(&srv->conns_cv);
    free(srv);
}

static size_t name_intern(struct http_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->nnames; i++)
        if (strcmp(srv->names[i], name) == 0)
            return i;
    srv->names[srv->nnames] = xstrdup(name);
    return srv->nnames++;
}

int http_server_start(const struct http_config *cfg, struct http_server **out, char *msg)
{
    int rc = 0;
    msg[0] = '\0';
    *out = NULL;
    struct http_server *srv = xcalloc(1, sizeof *srv);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_mutex_init(&srv->conns_mu, NULL);
    pthread_mutex_init(&srv->streams_mu, NULL);
    atomic_init(&srv->closing, false);
    atomic_init(&srv->wakes, 0);
    pthread_cond_init(&srv->conns_cv, NULL);
    srv->deadline_us = (int64_t)cfg->deadline_s * 1000000;
    atomic_init(&srv->conns_open, 0);
    srv->max_body = cfg->max_body;
    srv->auth = cfg->auth;
    srv->error = cfg->error;
    srv->app = cfg->app;

    srv->routes = xcalloc(cfg->nroutes ? cfg->nroutes : 1, sizeof *srv->routes);
    srv->names = xcalloc(cfg->nroutes + 2, sizeof *srv->names);
    for (size_t i = 0; i < cfg->nroutes; i++) {
        srv->nroutes = i + 1;
        rc = compile_route(&cfg->routes[i], &srv->routes[i], msg);
        if (rc)
            goto out;
        srv->routes[i].name_idx = name_intern(srv, srv->routes[i].name);
    }
    srv->name_none = name_intern(srv, "none");
    srv->name_other = name_intern(srv, "other");
    srv->hists = xcalloc(srv->nnames, sizeof *srv->hists);

    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6;
    uint16_t port;
    rc = parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:0", &ss, &sslen, &v6, &port, msg);
    if (rc)
        goto out;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (v6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[12];
    size_t no = 0;
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (cfg->threads > 1)
        opts[no++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL};
    if (cfg->connection_limit)
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                             (intptr_t)cfg->connection_limit, NULL};
    if (cfg->per_ip_connection_limit)
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                             (intptr_t)cfg->per_ip_connection_limit, NULL};
    if (cfg->timeout_s)
        opts[no++] =
            (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->timeout_s, NULL};
    if (cfg->tls_cert_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(msg, MSG_SZ, "TLS configured but this libmicrohttpd has no TLS support");
            rc = VIGIL_EINVAL;
            goto out;
        }
        if (!cfg->tls_key_pem) {
            snprintf(msg, MSG_SZ, "TLS certificate given without a private key");
            rc = VIGIL_EINVAL;
            goto out;
        }
        flags |= MHD_USE_TLS;
        /* MHD takes these as non-const but only reads them */
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                             (void *)(uintptr_t)cfg->tls_key_pem};
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                             (void *)(uintptr_t)cfg->tls_cert_pem};
    }
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    srv->d = MHD_start_daemon(flags, port, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
                              on_mhd_log, srv, MHD_OPTION_ARRAY, opts, MHD_OPTION_URI_LOG_CALLBACK,
                              on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->d) {
        snprintf(msg, MSG_SZ,
                 "cannot start HTTP server on %s (address in use, or bad TLS "
                 "material?)",
                 cfg->listen ? cfg->listen : "127.0.0.1:0");
        rc = VIGIL_EIO;
        goto out;
    }
    if (pthread_create(&srv->reaper, NULL, reaper_main, srv) == 0)
        srv->reaper_started = true;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : port;
    log_info("http: listening on %s port %u (%u threads%s)",
             cfg->listen ? cfg->listen : "127.0.0.1:0", (unsigned)srv->port,
             cfg->threads ? cfg->threads : 1, cfg->tls_cert_pem ? ", TLS" : "");
out:
    if (rc) {
        server_free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

uint16_t http_server_port(const struct http_server *srv)
{
    return srv ? srv->port : 0;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    /* MHD_stop_daemon joins the worker threads, so running handlers finish first, and
     * every open request gets its completion notification (which frees it) */
    /* Streams end (stream_read sees closing) and none may stay suspended for the stop. */
    atomic_store(&srv->closing, true);
    http_server_wake(srv);
    pthread_mutex_lock(&srv->conns_mu);
    srv->stopping = true;
    pthread_cond_signal(&srv->conns_cv);
    pthread_mutex_unlock(&srv->conns_mu);
    if (srv->reaper_started)
        pthread_join(srv->reaper, NULL);
    if (srv->d)
        MHD_stop_daemon(srv->d);
    server_free(srv);
}
