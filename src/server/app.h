/* app.h - the running daemon: store, HTTP server and the routes that join them.
 *
 * Handlers receive the struct app as their app pointer. The caller owns the struct;
 * app_start() fills it and starts serving, app_stop() stops and releases it.
 */
#ifndef VIGIL_SERVER_APP_H
#define VIGIL_SERVER_APP_H

#include <jansson.h>
#include <stdint.h>

#include "access/audit.h"
#include "access/auth.h"
#include "base/config.h"
#include "server/http.h"
#include "store/store.h"

#define APP_KEY_LEN 32
#define APP_MSG_SZ 256

struct app {
    struct store *store;
    const struct config *cfg;
    struct http_server *http;
    unsigned char cursor_key[APP_KEY_LEN]; /* HMAC key of TAXII paging cursors */
    vtime_t started;
    int64_t coll_reports;                  /* collection ids, looked up at start */
    int64_t coll_alerts;
    int64_t coll_compliance;
    struct ratelimit *limiter;        /* per-credential request rate */
    struct ratelimit *partner_rate;   /* one partner's credentials together */
    struct ratelimit *login_user;     /* login attempts per account */
    struct ratelimit *login_addr;     /* login attempts per client address */
    struct slots *logins;             /* password checks running */
    struct slots *streams;            /* live streams open, per credential and in all */
    struct slots *partner_streams;    /* live streams open, per partner */
    struct webhook_sender *webhooks;  /* delivers the outbox */
    struct alert_service *alerts;     /* the fusion engine, fed from the store */
    struct taxii_areas *areas;        /* the named areas of the reports (taxii_areas.h) */
};

/* Opens the store in data_dir and serves on cfg->listen. Returns 0 or an error with msg. */
int app_start(struct app *a, const char *data_dir, const struct config *cfg, char msg[APP_MSG_SZ]);
void app_stop(struct app *a);
/* Re-reads what can change without a restart (the rules file). Logs the outcome. */
void app_reload(struct app *a);

/* The principal of an authenticated request (set by the auth hook). */
const struct auth_principal *app_principal(const struct http_req *req);

/* Finishes a read's audit entry (access/audit.h) for the request's principal: fields (JSON
 * object members, or "") and the request's query arguments ("query", each value cut to 256
 * characters) describe the read. */
void app_audit_read(struct app *a, const struct http_req *req, struct audit_list *r,
                    const char *object, const char *fields);

/* The STIX identity id (into identity[80]) and name (into name[128]) of a partner. */
int app_partner_names(struct app *a, int64_t partner, char identity[80], char name[128]);

/* Fills resp with an error: a TAXII error message resource (title, description, http_status),
 * with the TAXII media type for /taxii2/ paths and application/json elsewhere. */
void app_error(const struct http_req *req, struct http_resp *resp, int status, const char *title,
               const char *description);
/* Serialises v (not consumed) into resp with status and content type. */
void app_json(struct http_resp *resp, int status, const char *content_type, const json_t *v);

/* Route tables of the API modules, joined by app.c. */
extern const struct http_route taxii_routes[];
extern const size_t taxii_nroutes;

#endif
