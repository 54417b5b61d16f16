/* static.c - the dashboard's files from web_root (see static.h). */
#include "server/static.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "server/app.h"

/* No inline scripts or styles from markup, nothing from other origins. Leaflet positions its
 * elements through the CSSOM, which style-src does not restrict; data: images are the few icons
 * that the bundler inlines. */
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "                    \
    "frame-ancestors 'none'; form-action 'self'"

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

/* The media type for a file name, by its extension. */
static const char *media_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* True for a plain file name: [A-Za-z0-9._-]+, no leading dot, no "..". This excludes '/',
 * '\\', NUL and every other way out of the directory. */
static bool safe_name(const char *name)
{
    if (!name || !name[0] || name[0] == '.' || strstr(name, ".."))
        return false;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
        if (!ok)
            return false;
    }
    return strlen(name) <= 255;
}

/* Reads the regular file dir/name into resp's body. Returns 0, or -1 when there is no such
 * regular file (or it is too big or unreadable), leaving the body empty. */
static int read_regular(const char *dir, const char *name, struct http_resp *resp)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc = -1;
    struct stat st;
    if (fd < 0)
        goto out;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        goto out;
    if (st.st_size > STATIC_FILE_MAX) {
        log_warn("static: %s is larger than %ld bytes; not served", path, STATIC_FILE_MAX);
        goto out;
    }
    buf_reset(&resp->body);
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_reset(&resp->body);
            goto out;
        }
        if (n == 0)
            break;
        if (buf_add(&resp->body, chunk, (size_t)n) || resp->body.len > (size_t)STATIC_FILE_MAX) {
            buf_reset(&resp->body);
            goto out;
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* Headers every static answer carries. */
static void common_headers(struct http_resp *resp, const char *cache)
{
    http_resp_header(resp, "Content-Security-Policy", CSP);
    http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    http_resp_header(resp, "Referrer-Policy", "no-referrer");
    http_resp_header(resp, "X-Frame-Options", "DENY");
    http_resp_header(resp, "Cache-Control", cache);
}

/* Answers dir/name with its media type, or 404. */
static void serve(struct http_req *req, struct http_resp *resp, const char *dir, const char *name,
                  const char *cache)
{
    if (!safe_name(name) || read_regular(dir, name, resp)) {
        app_error(req, resp, 404, "Not Found", NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = media_type(name);
    common_headers(resp, cache);
}

static void serve_index(struct http_req *req, struct http_resp *resp, struct app *a)
{
    if (read_regular(a->cfg->web_root, "index.html", resp)) {
        app_error(req, resp, 404, "Not Found",
                  "the dashboard is not built here (see docs/DASHBOARD.md: web_root)");
        return;
    }
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    common_headers(resp, CACHE_REVALIDATE);
}

static void h_index(struct http_req *req, struct http_resp *resp, void *arg)
{
    serve_index(req, resp, arg);
}

static void h_asset(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    char *dir = xasprintf("%s/assets", a->cfg->web_root);
    serve(req, resp, dir, http_param(req, "file"), CACHE_IMMUTABLE);
    free(dir);
}

/* A top-level file when there is one; a name without a dot is a client-side page. */
static void h_top(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const char *name = http_param(req, "name");
    if (safe_name(name) && !strchr(name, '.')) {
        serve_index(req, resp, a);
        return;
    }
    serve(req, resp, a->cfg->web_root, name, CACHE_REVALIDATE);
}

const struct http_route static_routes[] = {
    {"GET", "/", h_index, "web", true},
    {"GET", "/assets/{file}", h_asset, "web_asset", true},
    {"GET", "/{name}", h_top, "web", true},
};

const size_t static_nroutes = sizeof static_routes / sizeof static_routes[0];
