#include "base/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "vigil_version.h" /* VIGIL_WEB_ROOT: where the build put the dashboard */

enum kind { K_STR, K_LONG, K_LEVEL, K_BOOL };

struct key {
    const char *name;
    enum kind kind;
    size_t off;
    const char *def;
    long min, max;
    const char *doc;
};

#define F(f) offsetof(struct config, f)

static const struct key keys[] = {
    {"listen", K_STR, F(listen), "127.0.0.1:8443", 0, 0,
     "Address and port the server listens on (host:port). Overridden by serve --listen."},
    {"log_level", K_LEVEL, F(log_level), "info", 0, 0,
     "Lowest log level written to stderr: debug, info, warn or error."},
    {"threads", K_LONG, F(threads), "4", 1, 256, "HTTP worker threads."},
    {"max_content_length", K_LONG, F(max_content_length), "10485760", 1024, 1L << 30,
     "Largest request body in bytes; larger bodies get 413. Advertised to TAXII clients."},
    {"page_max", K_LONG, F(page_max), "1000", 1, 100000,
     "Largest page (objects per response) a client may ask for with limit."},
    {"max_response_length", K_LONG, F(max_response_length), "16777216", 65536, 1L << 30,
     "Bytes of objects after which a TAXII page ends early (more: true); at least one object."},
    {"json_max_depth", K_LONG, F(json_max_depth), "64", 4, 1000,
     "Deepest nesting of JSON arrays and objects accepted in a request."},
    {"max_objects_per_request", K_LONG, F(max_objects_per_request), "10000", 1, 1000000,
     "Most STIX objects accepted in one envelope or bundle."},
    {"connection_limit", K_LONG, F(connection_limit), "1024", 1, 65536,
     "Concurrent connections from all clients together."},
    {"per_ip_connection_limit", K_LONG, F(per_ip_connection_limit), "64", 1, 65536,
     "Concurrent connections from one client address."},
    {"request_timeout", K_LONG, F(request_timeout), "30", 1, 3600,
     "Seconds a connection may stay idle (slow clients are cut off)."},
    {"request_deadline", K_LONG, F(request_deadline), "60", 1, 3600,
     "Seconds a client may take to send one whole request (headers and body); slower ones "
     "are cut off."},
    {"sse_heartbeat", K_LONG, F(sse_heartbeat), "15", 1, 3600,
     "Seconds between heartbeat comments on a quiet live stream (/api/v1/stream)."},
    {"stream_limit", K_LONG, F(stream_limit), "256", 1, 65536,
     "Live streams open at once, all clients together; never more than half of "
     "connection_limit, so streams cannot take every connection. Beyond: 429."},
    {"stream_limit_per_credential", K_LONG, F(stream_limit_per_credential), "8", 1, 65536,
     "Live streams one API token (or one user's dashboard sessions) may hold. Beyond: 429."},
    {"login_rate_limit", K_LONG, F(login_rate_limit), "10", 0, 100000,
     "Dashboard login attempts per minute per account (user name), from all addresses; "
     "0 turns it off. Beyond: 429 + Retry-After, before the password is checked."},
    {"login_rate_limit_address", K_LONG, F(login_rate_limit_address), "30", 0, 100000,
     "Dashboard login attempts per minute per client address, for all accounts; 0 turns it "
     "off. Beyond: 429 + Retry-After."},
    {"login_concurrency", K_LONG, F(login_concurrency), "2", 1, 256,
     "Password checks (argon2id, 64 MiB each) running at once; a login beyond gets 429 "
     "at once instead of taking a worker thread."},
    {"stream_limit_per_partner", K_LONG, F(stream_limit_per_partner), "64", 1, 65536,
     "Live streams the tokens and sessions of one partner may hold together (a partner's "
     "admin mints tokens at will). Beyond: 429."},
    {"rules_file", K_STR, F(rules_file), "rules.conf", 0, 0,
     "Indicators-and-warnings rules (docs/RULES.md), relative to the data directory; reloaded "
     "on SIGHUP. When the file is missing the built-in defaults apply."},
    {"rate_limit", K_LONG, F(rate_limit), "6000", 0, 10000000,
     "Requests per minute per API token; 0 turns the limit off. Over it: 429 + Retry-After."},
    {"rate_limit_per_partner", K_LONG, F(rate_limit_per_partner), "30000", 0, 100000000,
     "Requests per minute of all the tokens and sessions of one partner together (a partner's "
     "admin mints tokens at will); 0 turns it off. Over it: 429 + Retry-After."},
    {"store", K_STR, F(store), "", 0, 0,
     "Where the store lives: empty for SQLite in the data directory (vigil.db); a libpq URI "
     "postgresql://USER@HOST:PORT/DB (?host=/path for a unix socket) for a PostgreSQL database "
     "that several vigil serve processes share (docs/OPERATIONS.md). Set by vigil init --store."},
    {"read_connections", K_LONG, F(read_connections), "8", 1, 256,
     "Read-only store connections shared by the HTTP workers."},
    {"tls_cert", K_STR, F(tls_cert), "", 0, 0,
     "PEM certificate file for built-in HTTPS; empty serves plain HTTP (use a reverse proxy)."},
    {"tls_key", K_STR, F(tls_key), "", 0, 0, "PEM private key file for tls_cert; mode 0600."},
    {"web_root", K_STR, F(web_root), VIGIL_WEB_ROOT, 0, 0,
     "Directory of the built dashboard (index.html, assets/), served at /."},
    {"webhooks_per_partner", K_LONG, F(webhooks_per_partner), "20", 1, 100000,
     "Active webhooks the users of one partner may hold together; beyond: 409. Every report "
     "and alert is offered to every webhook of the hub as it is stored (docs/ACCESS.md)."},
    {"groups_per_partner", K_LONG, F(groups_per_partner), "200", 1, 1000000,
     "Sharing groups one partner may create through the API; beyond: 409 (vigil group add, "
     "the hub operator's, is not limited)."},
    {"webhook_allow_private", K_BOOL, F(webhook_allow_private), "false", 0, 1,
     "true lets webhooks go to loopback, private, link-local and reserved addresses (a test "
     "receiver on this machine); false sends them to public addresses only (docs/CONFIG.md)."},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static char **str_at(struct config *c, const struct key *k)
{
    return (char **)(void *)((char *)c + k->off);
}

static long *long_at(struct config *c, const struct key *k)
{
    return (long *)(void *)((char *)c + k->off);
}

static bool *bool_at(struct config *c, const struct key *k)
{
    return (bool *)(void *)((char *)c + k->off);
}

static int apply(struct config *c, const struct key *k, const char *value, char msg[CONFIG_MSG_SZ])
{
    if (strcmp(k->name, "store") == 0 &&
        ((value[0] && strncmp(value, "postgresql://", 13) != 0 &&
          strncmp(value, "postgres://", 11) != 0) ||
         strcspn(value, " \t\r\n#") != strlen(value))) {
        snprintf(msg, CONFIG_MSG_SZ,
                 "store must be empty or a postgresql:// URI (without spaces or '#')");
        return VIGIL_EINVAL;
    }
    if (k->kind == K_LONG) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(msg, CONFIG_MSG_SZ, "%s must be an integer from %ld to %ld, not \"%s\"",
                     k->name, k->min, k->max, value);
            return VIGIL_EINVAL;
        }
        *long_at(c, k) = v;
        return 0;
    }
    if (k->kind == K_BOOL) {
        bool t = strcmp(value, "true") == 0, f = strcmp(value, "false") == 0;
        if (!t && !f) {
            snprintf(msg, CONFIG_MSG_SZ, "%s must be true or false, not \"%s\"", k->name,
                     value);
            return VIGIL_EINVAL;
        }
        *bool_at(c, k) = t;
        return 0;
    }
    if (k->kind == K_LEVEL) {
        enum log_level lvl;
        if (log_parse_level(value, &lvl)) {
            snprintf(msg, CONFIG_MSG_SZ, "%s must be debug, info, warn or error, not \"%s\"",
                     k->name, value);
            return VIGIL_EINVAL;
        }
    }
    char **p = str_at(c, k);
    free(*p);
    *p = xstrdup(value);
    return 0;
}

void config_init(struct config *c)
{
    char msg[CONFIG_MSG_SZ];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++) {
        if (apply(c, &keys[i], keys[i].def, msg))
            abort(); /* a default that does not parse is a bug */
    }
}

void config_release(struct config *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].kind != K_LONG && keys[i].kind != K_BOOL) {
            free(*str_at(c, &keys[i]));
            *str_at(c, &keys[i]) = NULL;
        }
    }
}

int config_set(struct config *c, const char *key, const char *value, char msg[CONFIG_MSG_SZ])
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].name, key) == 0)
            return apply(c, &keys[i], value, msg);
    }
    snprintf(msg, CONFIG_MSG_SZ, "unknown key \"%s\"", key);
    return VIGIL_EINVAL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int config_load(struct config *c, const char *path, char msg[CONFIG_MSG_SZ])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(msg, CONFIG_MSG_SZ, "%s: %s", path, strerror(errno));
        return VIGIL_EIO;
    }
    char line[1024];
    char why[CONFIG_MSG_SZ];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(msg, CONFIG_MSG_SZ, "%s:%d: line longer than %zu bytes", path, lineno,
                     sizeof line - 2);
            rc = VIGIL_EINVAL;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(msg, CONFIG_MSG_SZ, "%s:%d: expected \"key = value\"", path, lineno);
            rc = VIGIL_EINVAL;
            break;
        }
        *eq = '\0';
        rc = config_set(c, trim(s), trim(eq + 1), why);
        if (rc) {
            snprintf(msg, CONFIG_MSG_SZ, "%s:%d: %.200s", path, lineno, why);
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_write_defaults(struct buf *b)
{
    struct config c;
    config_init(&c);
    int rc = config_write(&c, b);
    config_release(&c);
    return rc;
}

int config_write(const struct config *c, struct buf *b)
{
    int rc = buf_adds(b, "# Vigil configuration. Every key is shown with its default value.\n"
                         "# Format: key = value; lines starting with # are comments.\n");
    for (size_t i = 0; i < NKEYS && !rc; i++) {
        const struct key *k = &keys[i];
        const void *at = (const char *)c + k->off;
        rc = buf_addf(b, "\n# %s\n%s = ", k->doc, k->name);
        if (!rc && k->kind == K_LONG)
            rc = buf_addf(b, "%ld\n", *(const long *)at);
        else if (!rc && k->kind == K_BOOL)
            rc = buf_addf(b, "%s\n", *(const bool *)at ? "true" : "false");
        else if (!rc)
            rc = buf_addf(b, "%s\n", *(char *const *)at);
    }
    return rc;
}

const char *config_store(const struct config *c, const char *dir)
{
    return c->store && c->store[0] ? c->store : dir;
}
