/* test_http.c - the HTTP layer against a real server on 127.0.0.1, spoken to over raw
 * sockets so that the test needs nothing beyond the system. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "server/http.h"
#include "server/http_parse.h"
#include "server/ratelimit.h"

#define MAX_BODY 1024
#define WAITERS 3

/* ---- the app under test ---------------------------------------------------------------- */

struct app {
    struct http_server *srv;
    atomic_int body_calls;   /* calls of the /body handler */
    atomic_int auth_calls;
    atomic_int auth_grants;  /* auth states handed out */
    atomic_int auth_frees;
    pthread_mutex_t mu;      /* guards waiting, for the /wait barrier */
    pthread_cond_t cv;
    int waiting;
};

static struct app g_app = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
static struct http_server *g_srv;

static void h_item(struct http_req *req, struct http_resp *resp, void *app)
{
    const char *id = http_param(req, "id");
    http_resp_text(resp, 200, "text/plain", id ? id : "(null)");
    http_resp_header(resp, "X-Item", id ? id : "");
}

static void h_item_del(struct http_req *req, struct http_resp *resp, void *app)
{
    http_resp_text(resp, 200, "text/plain", "deleted");
}

static void h_items_post(struct http_req *req, struct http_resp *resp, void *app)
{
    http_resp_text(resp, 201, "text/plain", req->body);
}

static void h_two(struct http_req *req, struct http_resp *resp, void *app)
{
    buf_addf(&resp->body, "%s|%s|%zu", http_param(req, "x"), http_param(req, "y"),
             req->nparams);
    resp->content_type = "text/plain";
}

static int collect_arg(void *ctx, const char *key, const char *value)
{
    buf_addf(ctx, "%s=%s;", key, value);
    return 0;
}

static int stop_at_b(void *ctx, const char *key, const char *value)
{
    buf_addf(ctx, "%s;", key);
    return strcmp(key, "b") == 0 ? 42 : 0;
}

static void h_query(struct http_req *req, struct http_resp *resp, void *app)
{
    const char *a = http_query(req, "a");
    const char *flag = http_query(req, "flag");
    const char *missing = http_query(req, "missing");
    buf_addf(&resp->body, "first=%s flag=%s missing=%s mt=%s|", a ? a : "NULL",
             flag ? flag : "NULL", missing ? missing : "NULL",
             http_query(req, "match[type]") ? http_query(req, "match[type]") : "NULL");
    http_query_foreach(req, collect_arg, &resp->body);
    buf_adds(&resp->body, "|");
    int rc = http_query_foreach(req, stop_at_b, &resp->body);
    buf_addf(&resp->body, "rc=%d", rc);
    resp->content_type = "text/plain";
}

static void h_hdr(struct http_req *req, struct http_resp *resp, void *app)
{
    const char *a = http_header(req, "x-custom");
    const char *b = http_header(req, "X-CUSTOM");
    const char *c = http_header(req, "X-Absent");
    buf_addf(&resp->body, "%s|%s|%s|%s", a ? a : "NULL", b ? b : "NULL", c ? c : "NULL",
             req->client);
    resp->content_type = "text/plain";
}

static void h_secret(struct http_req *req, struct http_resp *resp, void *app)
{
    http_resp_text(resp, 200, "text/plain", req->auth ? (const char *)req->auth : "NOAUTH");
}

static void h_health(struct http_req *req, struct http_resp *resp, void *app)
{
    http_resp_text(resp, 200, "text/plain", req->auth ? "AUTH" : "ok");
}

static void h_body(struct http_req *req, struct http_resp *resp, void *app)
{
    struct app *a = app;
    atomic_fetch_add(&a->body_calls, 1);
    buf_addf(&resp->body, "%zu", req->body_len);
}

static void h_metrics(struct http_req *req, struct http_resp *resp, void *app)
{
    struct app *a = app;
    http_metrics_write(a->srv, &resp->body);
    resp->content_type = "text/plain; version=0.0.4";
}

/* Answers 200 only when WAITERS handlers are inside it at the same time. */
static void h_wait(struct http_req *req, struct http_resp *resp, void *app)
{
    struct app *a = app;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&a->mu);
    a->waiting++;
    pthread_cond_broadcast(&a->cv);
    int rc = 0;
    while (a->waiting < WAITERS && rc == 0)
        rc = pthread_cond_timedwait(&a->cv, &a->mu, &dl);
    bool all = a->waiting >= WAITERS;
    pthread_mutex_unlock(&a->mu);
    http_resp_text(resp, all ? 200 : 503, "text/plain", all ? "together" : "alone");
}

static void count_free(void *p)
{
    atomic_fetch_add(&g_app.auth_frees, 1);
    free(p);
}

static bool auth_hook(struct http_req *req, struct http_resp *resp, void *app)
{
    struct app *a = app;
    atomic_fetch_add(&a->auth_calls, 1);
    const char *h = http_header(req, "Authorization");
    if (h && strcmp(h, "Bearer good") == 0) {
        atomic_fetch_add(&a->auth_grants, 1);
        req->auth = xstrdup("alice");
        req->auth_free = count_free;
        return true;
    }
    http_resp_text(resp, 401, "application/json", "{\"title\":\"unauthorized\"}");
    return false;
}

static void error_hook(struct http_req *req, struct http_resp *resp, int status,
                       const char *title, void *app)
{
    struct buf b;
    buf_init(&b, 512);
    buf_addf(&b, "{\"app\":\"vigil\",\"title\":\"%s\",\"http_status\":\"%d\"}", title, status);
    http_resp_text(resp, status, "application/taxii+json;version=2.1", b.data);
    buf_release(&b);
}

static const struct http_route routes[] = {
    {"GET", "/items/{id}", h_item, "item", false},
    {"DELETE", "/items/{id}", h_item_del, "item_del", false},
    {"POST", "/items/", h_items_post, "items_post", false},
    {"GET", "/a/{x}/b/{y}", h_two, "two", false},
    {"GET", "/q", h_query, "query", false},
    {"GET", "/hdr", h_hdr, "hdr", false},
    {"GET", "/secret", h_secret, "secret", false},
    {"GET", "/healthz", h_health, "healthz", true},
    {"POST", "/body", h_body, "body", true},
    {"GET", "/metrics", h_metrics, "metrics", true},
    {"GET", "/wait", h_wait, "wait", true},
};

static struct http_config base_config(void)
{
    struct http_config cfg = {
        .listen = "127.0.0.1:0",
        .threads = 4,
        .max_body = MAX_BODY,
        .connection_limit = 64,
        .per_ip_connection_limit = 32,
        .timeout_s = 10,
        .routes = routes,
        .nroutes = sizeof routes / sizeof routes[0],
        .auth = auth_hook,
        .error = error_hook,
        .app = &g_app,
    };
    return cfg;
}

static int start(const struct http_config *cfg, struct http_server **srv)
{
    char msg[256];
    int rc = http_server_start(cfg, srv, msg);
    if (rc)
        fprintf(stderr, "start: %s\n", msg);
    return rc;
}

/* ---- a tiny HTTP/1.1 client ------------------------------------------------------------ */

struct reply {
    int status;
    char head[8192];  /* status line and headers */
    char *body;       /* NUL-terminated, malloc'd */
    size_t body_len;
};

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 15};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response (headers, then Content-Length bytes of body). */
static int read_reply(int fd, struct reply *r)
{
    memset(r, 0, sizeof *r);
    size_t hl = 0;
    char *end = NULL;
    while (!end) {
        if (hl + 1 >= sizeof r->head)
            return -1;
        ssize_t n = recv(fd, r->head + hl, 1, 0);
        if (n <= 0)
            return -1;
        hl++;
        r->head[hl] = '\0';
        end = strstr(r->head, "\r\n\r\n");
    }
    end[2] = '\0'; /* keep the last header's CRLF for lookups */
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    size_t clen = 0;
    const char *cl = strcasestr(r->head, "\r\nContent-Length:");
    if (cl)
        clen = strtoul(cl + 17, NULL, 10);
    r->body = calloc(1, clen + 1);
    size_t got = 0;
    while (got < clen) {
        ssize_t n = recv(fd, r->body + got, clen - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    r->body_len = clen;
    return 0;
}

/* The value of a response header (case-insensitive), copied into out; NULL when absent. */
static const char *reply_header(const struct reply *r, const char *name, char *out, size_t n)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\r\n%s:", name);
    const char *p = strcasestr(r->head, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\r");
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    return out;
}

static void reply_free(struct reply *r)
{
    free(r->body);
    r->body = NULL;
}

/* One request on a new connection. extra: header lines each ending in CRLF, or NULL. */
static int do_req(uint16_t port, const char *method, const char *target, const char *extra,
                  const char *body, struct reply *r)
{
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    buf_addf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method,
             target, extra ? extra : "");
    if (body)
        buf_addf(&b, "Content-Length: %zu\r\n", strlen(body));
    buf_adds(&b, "\r\n");
    if (body)
        buf_adds(&b, body);
    int rc = send_all(fd, b.data, b.len);
    buf_release(&b);
    if (rc == 0)
        rc = read_reply(fd, r);
    close(fd);
    return rc;
}

static uint16_t gport(void)
{
    return http_server_port(g_srv);
}

/* ---- tests ----------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    struct http_config cfg = base_config();
    if (start(&cfg, &g_srv))
        return -1;
    g_app.srv = g_srv;
    return 0;
}

static int group_teardown(void **state)
{
    http_server_stop(g_srv);
    g_srv = NULL;
    return 0;
}

static void test_port_zero(void **state)
{
    assert_int_not_equal(gport(), 0);
    int fd = connect_to(gport());
    assert_true(fd >= 0);
    close(fd);
}

static void test_routing_captures(void **state)
{
    struct reply r;
    char v[256];
    assert_int_equal(do_req(gport(), "GET", "/items/indicator--1234", "Authorization: "
                            "Bearer good\r\n", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "indicator--1234");
    assert_string_equal(reply_header(&r, "x-item", v, sizeof v), "indicator--1234");
    assert_string_equal(reply_header(&r, "Content-Type", v, sizeof v), "text/plain");
    reply_free(&r);

    /* captures are URL-decoded, and an encoded '/' stays inside its capture */
    assert_int_equal(do_req(gport(), "GET", "/items/a%20b%2Fc", "Authorization: Bearer good\r\n",
                            NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "a b/c");
    reply_free(&r);

    assert_int_equal(do_req(gport(), "GET", "/a/one/b/t%C3%A9", "Authorization: Bearer good\r\n",
                            NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "one|t\xc3\xa9|2");
    reply_free(&r);

    /* the query string is not part of the capture */
    assert_int_equal(do_req(gport(), "GET", "/items/x1?y=2", "Authorization: Bearer good\r\n",
                            NULL, &r), 0);
    assert_string_equal(r.body, "x1");
    reply_free(&r);
}

static void test_not_found(void **state)
{
    struct reply r;
    char v[256];
    /* nothing on the path; the trailing slash counts; an empty capture does not match */
    const char *paths[] = {"/nope", "/items", "/a/1/b/2/", "/a//b/2", "/healthz/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(do_req(gport(), "GET", paths[i], NULL, NULL, &r), 0);
        assert_int_equal(r.status, 404);
        assert_non_null(strstr(r.body, "\"app\":\"vigil\""));
        assert_non_null(strstr(r.body, "\"http_status\":\"404\""));
        assert_string_equal(reply_header(&r, "Content-Type", v, sizeof v),
                            "application/taxii+json;version=2.1");
        reply_free(&r);
    }
}

static void test_method_not_allowed(void **state)
{
    struct reply r;
    char v[256];
    assert_int_equal(do_req(gport(), "DELETE", "/a/1/b/2", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "GET");
    assert_non_null(strstr(r.body, "\"http_status\":\"405\""));
    reply_free(&r);

    assert_int_equal(do_req(gport(), "PUT", "/items/x", NULL, "{}", &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "GET, DELETE");
    reply_free(&r);

    /* "/items/" is a POST route: GET on it is 405, not a match of "/items/{id}" */
    assert_int_equal(do_req(gport(), "GET", "/items/", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "POST");
    reply_free(&r);
}

static void test_body(void **state)
{
    struct reply r;
    assert_int_equal(do_req(gport(), "POST", "/items/", "Authorization: Bearer good\r\n",
                            "{\"hello\":1}", &r), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"hello\":1}");
    reply_free(&r);

    /* exactly at the cap is fine */
    char *big = xmalloc(MAX_BODY + 1);
    memset(big, 'x', MAX_BODY);
    big[MAX_BODY] = '\0';
    assert_int_equal(do_req(gport(), "POST", "/body", NULL, big, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "1024");
    reply_free(&r);
    free(big);

    /* no body: the handler sees "" */
    assert_int_equal(do_req(gport(), "POST", "/body", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "0");
    reply_free(&r);
}

static void test_too_large_declared(void **state)
{
    struct reply r;
    int before = atomic_load(&g_app.body_calls);

    /* a declared length over the cap is refused before any body is sent */
    int fd = connect_to(gport());
    assert_true(fd >= 0);
    const char *req = "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n";
    assert_int_equal(send_all(fd, req, strlen(req)), 0);
    assert_int_equal(read_reply(fd, &r), 0);
    close(fd);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"http_status\":\"413\""));
    reply_free(&r);

    /* one byte over, body sent */
    char *big = xmalloc(MAX_BODY + 2);
    memset(big, 'y', MAX_BODY + 1);
    big[MAX_BODY + 1] = '\0';
    assert_int_equal(do_req(gport(), "POST", "/body", NULL, big, &r), 0);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    free(big);

    assert_int_equal(atomic_load(&g_app.body_calls), before);
}

static int send_chunked(uint16_t port, size_t total, struct reply *r)
{
    memset(r, 0, sizeof *r);
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    const char *head = "POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    int rc = send_all(fd, head, strlen(head));
    char chunk[300];
    memset(chunk, 'z', sizeof chunk);
    for (size_t sent = 0; sent < total && rc == 0;) {
        size_t n = total - sent < 256 ? total - sent : 256;
        char line[32];
        snprintf(line, sizeof line, "%zx\r\n", n);
        rc = send_all(fd, line, strlen(line));
        if (!rc)
            rc = send_all(fd, chunk, n);
        if (!rc)
            rc = send_all(fd, "\r\n", 2);
        sent += n;
    }
    if (!rc)
        rc = send_all(fd, "0\r\n\r\n", 5);
    if (!rc)
        rc = read_reply(fd, r);
    close(fd);
    return rc;
}

static void test_too_large_chunked(void **state)
{
    struct reply r;
    int before = atomic_load(&g_app.body_calls);
    assert_int_equal(send_chunked(gport(), 3 * MAX_BODY, &r), 0);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_app.body_calls), before);

    /* a client that keeps sending far past the cap loses the connection */
    assert_int_equal(send_chunked(gport(), 4u << 20, &r), -1);
    reply_free(&r);
    assert_int_equal(atomic_load(&g_app.body_calls), before);

    assert_int_equal(send_chunked(gport(), 700, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "700");
    reply_free(&r);
    assert_int_equal(atomic_load(&g_app.body_calls), before + 1);
}

static void test_query(void **state)
{
    struct reply r;
    assert_int_equal(do_req(gport(), "GET",
                            "/q?a=1&b=x%20y&a=2&match[type]=indicator&flag&c=1+2&e=",
                            "Authorization: Bearer good\r\n", NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "first=1 flag= missing=NULL mt=indicator|"
                                "a=1;b=x y;a=2;match[type]=indicator;flag=;c=1 2;e=;|"
                                "a;b;rc=42");
    reply_free(&r);

    /* the bracket key percent-encoded, as clients often send it */
    assert_int_equal(do_req(gport(), "GET", "/q?match%5Btype%5D=malware%2Cindicator",
                            "Authorization: Bearer good\r\n", NULL, &r), 0);
    assert_string_equal(r.body, "first=NULL flag=NULL missing=NULL mt=malware,indicator|"
                                "match[type]=malware,indicator;|match[type];rc=0");
    reply_free(&r);

    assert_int_equal(do_req(gport(), "GET", "/q", "Authorization: Bearer good\r\n", NULL, &r),
                     0);
    assert_string_equal(r.body, "first=NULL flag=NULL missing=NULL mt=NULL||rc=0");
    reply_free(&r);
}

static void test_headers(void **state)
{
    struct reply r;
    assert_int_equal(do_req(gport(), "GET", "/hdr",
                            "Authorization: Bearer good\r\nx-CuStOm: Hello there\r\n", NULL, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "Hello there|Hello there|NULL|127.0.0.1");
    reply_free(&r);
}

static void test_auth(void **state)
{
    struct reply r;
    int calls = atomic_load(&g_app.auth_calls);
    int grants = atomic_load(&g_app.auth_grants);

    assert_int_equal(do_req(gport(), "GET", "/secret", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"title\":\"unauthorized\"}");
    reply_free(&r);

    assert_int_equal(do_req(gport(), "GET", "/secret", "Authorization: Bearer bad\r\n", NULL,
                            &r), 0);
    assert_int_equal(r.status, 401);
    reply_free(&r);

    assert_int_equal(do_req(gport(), "GET", "/secret", "Authorization: Bearer good\r\n", NULL,
                            &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "alice");
    reply_free(&r);
    assert_int_equal(atomic_load(&g_app.auth_calls), calls + 3);

    /* public routes skip the hook */
    assert_int_equal(do_req(gport(), "GET", "/healthz", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "ok");
    reply_free(&r);
    assert_int_equal(atomic_load(&g_app.auth_calls), calls + 3);

    /* every auth state handed out is freed after its request; the completion notice may
     * trail the response by a moment */
    assert_int_equal(atomic_load(&g_app.auth_grants), grants + 1);
    for (int i = 0; i < 200 && atomic_load(&g_app.auth_frees) < atomic_load(&g_app.auth_grants);
         i++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_app.auth_frees), atomic_load(&g_app.auth_grants));
}

static void test_keepalive(void **state)
{
    int fd = connect_to(gport());
    assert_true(fd >= 0);
    struct reply r;
    const char *a = "GET /items/first HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n";
    const char *b = "GET /q?a=z HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n";
    assert_int_equal(send_all(fd, a, strlen(a)), 0);
    assert_int_equal(read_reply(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "first");
    reply_free(&r);
    assert_int_equal(send_all(fd, b, strlen(b)), 0);
    assert_int_equal(read_reply(fd, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "first=z flag=NULL missing=NULL mt=NULL|a=z;|a;rc=0");
    reply_free(&r);
    close(fd);
}

struct client_arg {
    uint16_t port;
    const char *target;
    int status;
    char body[64];
};

static void *client_thread(void *p)
{
    struct client_arg *ca = p;
    struct reply r;
    if (do_req(ca->port, "GET", ca->target, "Authorization: Bearer good\r\n", NULL, &r) == 0) {
        ca->status = r.status;
        snprintf(ca->body, sizeof ca->body, "%s", r.body);
        reply_free(&r);
    }
    return NULL;
}

static void test_concurrent_handlers(void **state)
{
    /* WAITERS handlers must be inside /wait at once for any of them to answer 200. Each
     * client starts once the previous one's handler is running, so that its connection is
     * accepted by an idle worker. */
    pthread_t th[WAITERS];
    struct client_arg ca[WAITERS];
    pthread_mutex_lock(&g_app.mu);
    g_app.waiting = 0;
    pthread_mutex_unlock(&g_app.mu);
    for (int i = 0; i < WAITERS; i++) {
        ca[i] = (struct client_arg){.port = gport(), .target = "/wait"};
        assert_int_equal(pthread_create(&th[i], NULL, client_thread, &ca[i]), 0);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += 5;
        pthread_mutex_lock(&g_app.mu);
        while (g_app.waiting < i + 1 &&
               pthread_cond_timedwait(&g_app.cv, &g_app.mu, &dl) == 0) {
        }
        pthread_mutex_unlock(&g_app.mu);
    }
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ca[i].status, 200);
        assert_string_equal(ca[i].body, "together");
    }
}

static void test_concurrent_clients(void **state)
{
    enum { N = 16 };
    pthread_t th[N];
    struct client_arg ca[N];
    char targets[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(targets[i], sizeof targets[i], "/items/obj-%d", i);
        ca[i] = (struct client_arg){.port = gport(), .target = targets[i]};
        assert_int_equal(pthread_create(&th[i], NULL, client_thread, &ca[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ca[i].status, 200);
        assert_string_equal(ca[i].body, targets[i] + strlen("/items/"));
    }
}

/* A metrics sample line's value, or -1 when the line is absent. */
static double metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return -1;
}

static void test_metrics(void **state)
{
    /* a fresh server so that the counts are exact */
    struct http_server *srv;
    struct http_config cfg = base_config();
    cfg.threads = 2;
    assert_int_equal(start(&cfg, &srv), 0);
    uint16_t port = http_server_port(srv);
    struct reply r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(do_req(port, "GET", "/items/m", "Authorization: Bearer good\r\n", NULL,
                                &r), 0);
        reply_free(&r);
    }
    assert_int_equal(do_req(port, "GET", "/items/m", NULL, NULL, &r), 0); /* 401 */
    reply_free(&r);
    assert_int_equal(do_req(port, "GET", "/zzz", NULL, NULL, &r), 0);     /* 404 */
    reply_free(&r);
    assert_int_equal(do_req(port, "DELETE", "/a/1/b/2", NULL, NULL, &r), 0); /* 405 */
    reply_free(&r);

    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(http_metrics_write(srv, &b), 0);
    const char *t = b.data;
    assert_non_null(strstr(t, "# HELP vigil_http_requests_total "));
    assert_non_null(strstr(t, "# TYPE vigil_http_requests_total counter\n"));
    assert_non_null(strstr(t, "# TYPE vigil_http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(t, "# TYPE vigil_http_connections_open gauge\n"));
    assert_true(metric(t, "vigil_http_requests_total{route=\"item\",method=\"GET\","
                          "code=\"200\"}") == 3);
    assert_true(metric(t, "vigil_http_requests_total{route=\"item\",method=\"GET\","
                          "code=\"401\"}") == 1);
    assert_true(metric(t, "vigil_http_requests_total{route=\"none\",method=\"GET\","
                          "code=\"404\"}") == 1);
    assert_true(metric(t, "vigil_http_requests_total{route=\"none\",method=\"DELETE\","
                          "code=\"405\"}") == 1);
    assert_true(metric(t, "vigil_http_request_duration_seconds_count{route=\"item\"}") == 4);
    assert_true(metric(t, "vigil_http_request_duration_seconds_bucket{route=\"item\","
                          "le=\"+Inf\"}") == 4);
    assert_true(metric(t, "vigil_http_request_duration_seconds_count{route=\"none\"}") == 2);
    assert_true(metric(t, "vigil_http_request_duration_seconds_sum{route=\"item\"}") >= 0);
    assert_true(metric(t, "vigil_http_request_duration_seconds_count{route=\"wait\"}") == 0);
    assert_true(metric(t, "vigil_http_connections_open") >= 0);
    /* buckets are cumulative and end at the count */
    const char *les[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25",  "0.5",    "1",     "2.5",  "5",     "10", "+Inf"};
    double prev = 0;
    for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
        char series[160];
        snprintf(series, sizeof series,
                 "vigil_http_request_duration_seconds_bucket{route=\"item\",le=\"%s\"}", les[i]);
        double v = metric(t, series);
        assert_true(v >= prev);
        prev = v;
    }
    assert_true(prev == 4);
    buf_release(&b);

    /* through HTTP too; a cap that is too small is reported, not overrun */
    g_app.srv = srv;
    assert_int_equal(do_req(port, "GET", "/metrics", NULL, NULL, &r), 0);
    g_app.srv = g_srv;
    assert_int_equal(r.status, 200);
    assert_true(metric(r.body, "vigil_http_requests_total{route=\"item\",method=\"GET\","
                               "code=\"200\"}") == 3);
    reply_free(&r);
    buf_init(&b, 64);
    assert_int_equal(http_metrics_write(srv, &b), VIGIL_ETOOBIG);
    buf_release(&b);
    http_server_stop(srv);
}

static void test_default_error_format(void **state)
{
    struct http_server *srv;
    struct http_config cfg = base_config();
    cfg.error = NULL;
    cfg.threads = 1;
    assert_int_equal(start(&cfg, &srv), 0);
    struct reply r;
    char v[128];
    assert_int_equal(do_req(http_server_port(srv), "GET", "/none", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{\"title\":\"Not Found\",\"http_status\":\"404\"}");
    assert_string_equal(reply_header(&r, "Content-Type", v, sizeof v), "application/json");
    reply_free(&r);
    assert_int_equal(do_req(http_server_port(srv), "PATCH", "/healthz", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(reply_header(&r, "Allow", v, sizeof v), "GET");
    reply_free(&r);
    http_server_stop(srv);
}

static void test_stop_idle(void **state)
{
    struct http_server *srv;
    struct http_config cfg = base_config();
    assert_int_equal(start(&cfg, &srv), 0);
    uint16_t port = http_server_port(srv);
    /* an idle keep-alive connection must not hold the stop up */
    int fd = connect_to(port);
    assert_true(fd >= 0);
    struct reply r;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send_all(fd, req, strlen(req)), 0);
    assert_int_equal(read_reply(fd, &r), 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    int idle = connect_to(port); /* connected, never sends */
    assert_true(idle >= 0);
    http_server_stop(srv);
    /* the server closed our connections and no longer listens */
    char c;
    assert_true(recv(fd, &c, 1, 0) <= 0);
    assert_int_equal(connect_to(port), -1);
    close(fd);
    close(idle);
    http_server_stop(NULL);
}

static void test_start_errors(void **state)
{
    struct http_server *srv = (void *)1;
    char msg[256];
    struct http_config cfg = base_config();
    const char *bad[] = {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "300.1.1.1:80",
                         "[::1:80", "example.com:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.listen = bad[i];
        msg[0] = '\0';
        assert_int_equal(http_server_start(&cfg, &srv, msg), VIGIL_EINVAL);
        assert_null(srv);
        assert_true(strlen(msg) > 0);
    }

    cfg = base_config();
    struct http_route many = {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", h_item, "m", true};
    cfg.routes = &many;
    cfg.nroutes = 1;
    assert_int_equal(http_server_start(&cfg, &srv, msg), VIGIL_EINVAL);
    assert_non_null(strstr(msg, "captures"));

    /* the port in use */
    cfg = base_config();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)gport());
    cfg.listen = listen;
    assert_int_equal(http_server_start(&cfg, &srv, msg), VIGIL_EIO);
    assert_null(srv);
}

static void test_bad_path_encoding(void **state)
{
    struct reply r;
    /* an encoded NUL would cut the capture short: refused */
    assert_int_equal(do_req(gport(), "GET", "/items/ab%00cd", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"http_status\":\"400\""));
    reply_free(&r);
    /* a stray '%' is kept literally */
    assert_int_equal(do_req(gport(), "GET", "/items/50%", "Authorization: Bearer good\r\n",
                            NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "50%");
    reply_free(&r);
}

/* Live streams' slots: per key and in all; given back, they can be taken again. */
static void test_slots(void **state)
{
    struct slots *sl = slots_new(2, 3);
    assert_int_equal(slots_take(sl, 7), SLOTS_OK);
    assert_int_equal(slots_take(sl, 7), SLOTS_OK);
    assert_int_equal(slots_take(sl, 7), SLOTS_KEY_FULL);
    assert_int_equal(slots_take(sl, -7), SLOTS_OK);
    assert_int_equal(slots_take(sl, 9), SLOTS_ALL_FULL);
    assert_int_equal(slots_held(sl), 3);
    slots_give(sl, 7);
    assert_int_equal(slots_take(sl, 9), SLOTS_OK);
    assert_int_equal(slots_take(sl, 7), SLOTS_ALL_FULL);
    slots_give(sl, 9);
    slots_give(sl, 12345); /* never taken: no effect */
    assert_int_equal(slots_held(sl), 2);
    assert_int_equal(slots_take(sl, 7), SLOTS_OK);
    assert_int_equal(slots_take(sl, 7), SLOTS_ALL_FULL);
    slots_free(sl);
    assert_int_not_equal(ratelimit_key(""), 0);
    assert_int_not_equal(ratelimit_key("alice"), ratelimit_key("bob"));
}

/* The request target's parsers on their own (the same answers as through a server). */
static void test_target_parsers(void **state)
{
    char *out = NULL;
    assert_int_equal(http_pct_decode("a%2Fb+c%zz%4", 12, true, &out), 0);
    assert_string_equal(out, "a/b c%zz%4");
    free(out);
    assert_int_equal(http_pct_decode("x%00y", 5, false, &out), VIGIL_EINVAL);

    char **seg, *path;
    size_t nseg;
    assert_int_equal(http_path_parse("http://h:1/a/b%2Fc/?q#f", &seg, &nseg, &path), 0);
    assert_int_equal(nseg, 4);
    assert_string_equal(seg[2], "b/c");
    assert_string_equal(seg[3], "");
    assert_string_equal(path, "/a/b/c/");
    http_path_free(seg, nseg);
    free(path);
    assert_int_equal(http_path_parse("a/b", &seg, &nseg, &path), VIGIL_EINVAL);
    assert_int_equal(http_path_parse("/a/%00", &seg, &nseg, &path), VIGIL_EINVAL);

    struct http_qarg *args;
    size_t nargs;
    assert_int_equal(http_query_parse("/p?a=1&&b;c=x+y#d=2", &args, &nargs), 0);
    assert_int_equal(nargs, 3);
    assert_string_equal(args[1].key, "b");
    assert_string_equal(args[1].value, "");
    assert_string_equal(args[2].value, "x y");
    http_query_free(args, nargs);
    assert_int_equal(http_query_parse("/p?a=1&b=%00", &args, &nargs), VIGIL_EINVAL);
    assert_null(args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_zero),
        cmocka_unit_test(test_routing_captures),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_too_large_declared),
        cmocka_unit_test(test_too_large_chunked),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_concurrent_handlers),
        cmocka_unit_test(test_concurrent_clients),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_default_error_format),
        cmocka_unit_test(test_stop_idle),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_bad_path_encoding),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_target_parsers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
