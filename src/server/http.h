/* http.h - Vigil's HTTP layer on libmicrohttpd: requests in, routed to handlers, responses out.
 *
 * The server runs a pool of worker threads, each with its own epoll loop (MHD thread pool +
 * epoll). A request's body is collected up to a cap before its handler runs: a body over
 * max_content_length is answered 413 without calling the handler. Handlers run on worker
 * threads and may block (for example on the store's writer): size the pool for it.
 *
 * Routes are matched on method and path; a path pattern is a list of segments where "{name}"
 * captures one non-empty segment (e.g. "/taxii2/{root}/collections/{cid}/objects/").
 * A trailing slash is significant, as TAXII requires. No match on the path: 404; a path match
 * but not the method: 405 with Allow.
 *
 * Lifetime: http_server_start() starts listening and returns the server; http_server_stop()
 * stops accepting, waits for handlers to finish, and frees it.
 */
#ifndef VIGIL_SERVER_HTTP_H
#define VIGIL_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_RESP_HEADERS 16

struct http_req;
struct http_resp;
struct http_server;

typedef void (*http_handler_fn)(struct http_req *req, struct http_resp *resp, void *app);

struct http_route {
    const char *method;  /* "GET", "POST", "DELETE", ... */
    const char *pattern; /* path pattern, see above */
    http_handler_fn fn;
    const char *name;    /* label for metrics, e.g. "taxii_objects" */
    bool public;         /* true: no authentication (healthz, readyz) */
};

/* Called before every non-public route's handler. Returns true to let the request through
 * (it may set req->auth); false after it has filled resp (e.g. 401). */
typedef bool (*http_auth_fn)(struct http_req *req, struct http_resp *resp, void *app);
/* Fills resp for an error the HTTP layer itself detects (404 no route, 405, 413, 400 bad
 * request line), so that the app answers every error in one format. */
typedef void (*http_error_fn)(struct http_req *req, struct http_resp *resp, int status,
                              const char *title, void *app);

struct http_config {
    const char *listen;         /* "127.0.0.1:8080"; port 0 picks a free port */
    unsigned threads;
    size_t max_body;            /* body cap in bytes: larger gets 413 */
    unsigned connection_limit;
    unsigned per_ip_connection_limit;
    unsigned timeout_s;         /* idle timeout of a connection */
    unsigned deadline_s;        /* most seconds to receive one whole request (headers and
                                 * body); a slower client is cut off. 0: no deadline */
    const char *tls_cert_pem;   /* PEM text (not a path); NULL = plain HTTP */
    const char *tls_key_pem;
    const struct http_route *routes;
    size_t nroutes;
    http_auth_fn auth;
    http_error_fn error;
    void *app;                  /* passed to handlers, auth and error */
};

struct http_req {
    const char *method;
    const char *path;           /* decoded path, without the query string */
    const char *route;          /* the matched route's name, or "none" */
    const char *client;         /* client address as text */
    const char *body;           /* NUL-terminated; "" when there is none */
    size_t body_len;
    size_t nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS]; /* URL-decoded path captures */
    void *auth;                 /* set by the auth hook for the handler; owned by the app */
    void (*auth_free)(void *auth); /* called on auth after the request, when set */
    void *impl;                 /* the HTTP layer's own state */
};

/* A path capture by name, or NULL. */
const char *http_param(const struct http_req *req, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* The first value of a query argument, or NULL when absent ("" when present without value). */
const char *http_query(const struct http_req *req, const char *key);
/* Calls fn for every query argument in order; stops and returns fn's first nonzero result. */
int http_query_foreach(const struct http_req *req,
                       int (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/* A streamed response's producer: appends what is ready to out and returns 0, or returns a
 * negative value to end the stream. Appending nothing lets the connection sleep (freeing its
 * worker thread) until http_server_wake() or the next wake tick (once a second). */
typedef int (*http_stream_fn)(void *ctx, struct buf *out);

struct http_resp {
    int status;                 /* default 200 */
    const char *content_type;   /* static string; default "application/json" */
    struct buf body;
    size_t nheaders;
    char *header_names[HTTP_MAX_RESP_HEADERS];  /* owned */
    char *header_values[HTTP_MAX_RESP_HEADERS]; /* owned */
    http_stream_fn stream;      /* set by http_resp_stream() */
    void *stream_ctx;
    void (*stream_free)(void *ctx);
};

/* Adds a response header (copied). Headers past HTTP_MAX_RESP_HEADERS are dropped. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);
/* Sets status, content type and a body copied from text. */
void http_resp_text(struct http_resp *resp, int status, const char *content_type,
                    const char *text);

/* Makes the response a stream of unknown length (e.g. Server-Sent Events) produced by next.
 * The body buffer is ignored. free_ctx(ctx) is called once the stream is over (it ended, the
 * client left, or the server stops); it may be NULL. */
void http_resp_stream(struct http_resp *resp, http_stream_fn next, void *ctx,
                      void (*free_ctx)(void *ctx));
/* Wakes every sleeping stream so that its producer runs again. Any thread may call it. */
void http_server_wake(struct http_server *srv);

/* Starts the server. Returns 0, or a negative VIGIL_E* code with a message in msg[256]. */
int http_server_start(const struct http_config *cfg, struct http_server **out, char *msg);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *srv);
/* Stops and frees the server; waits for running handlers. NULL is a no-op. */
void http_server_stop(struct http_server *srv);

/* Appends Prometheus text-format metrics of the HTTP layer to b: a counter
 * vigil_http_requests_total{route,method,code} and a histogram
 * vigil_http_request_duration_seconds{route} (buckets 1ms..10s), plus
 * vigil_http_connections_open. */
int http_metrics_write(struct http_server *srv, struct buf *b);

#endif
