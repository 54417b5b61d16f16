/* rest_alerts.c - /api/v1/alerts and the rules (S5, S7).
 *
 * Every alert is shown as the reader's view: computed from the evidence that reader may read
 * (service/alerts.h), absent when the rule does not fire on it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "service/alerts.h"
#include "server/app.h"
#include "server/rest.h"

static void h_alerts(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct alert_filter f = {http_query(req, "status"), http_query(req, "severity"), 0, 0};
    const char *since = http_query(req, "since"), *until = http_query(req, "until");
    if ((since && ts_parse(since, &f.since, NULL)) || (until && ts_parse(until, &f.until, NULL))) {
        app_error(req, resp, 400, "bad request", "since and until take RFC 3339 timestamps");
        return;
    }
    static const char *const statuses[] = {"new", "acknowledged", "resolved", "false_alarm"};
    static const char *const severities[] = {"low", "medium", "high", "critical"};
    bool ok_status = !f.status, ok_sev = !f.severity;
    for (int i = 0; i < 4; i++) {
        ok_status |= f.status && strcmp(f.status, statuses[i]) == 0;
        ok_sev |= f.severity && strcmp(f.severity, severities[i]) == 0;
    }
    if (!ok_status || !ok_sev) {
        app_error(req, resp, 400, "bad request",
                  "status: new, acknowledged, resolved or false_alarm; severity: low, medium, "
                  "high or critical (that or higher)");
        return;
    }
    /* Pages, newest first: limit (100, at most page_max) and the previous page's next. */
    const char *lim = http_query(req, "limit"), *cur = http_query(req, "cursor");
    char *end;
    long long limit = lim ? strtoll(lim, &end, 10) : 100, before = 0;
    if (lim && (*end || limit < 1)) {
        app_error(req, resp, 400, "bad request", "limit: a positive integer");
        return;
    }
    int64_t pos = 0;
    if (cur && (!rest_cursor_open(a, req, "alerts", cur, &pos, 1) || (before = pos) < 1)) {
        app_error(req, resp, 400, "bad request", "cursor: use the next value of the previous page");
        return;
    }
    if (limit > a->cfg->page_max)
        limit = a->cfg->page_max;
    int64_t next;
    json_t *list = alerts_list(a->alerts, &app_principal(req)->reader, &f, (size_t)limit,
                               (int64_t)before, &next);
    json_t *v = json_pack("{s:o}", "alerts", list);
    if (next) {
        char n[REST_CURSOR_SZ];
        rest_cursor_seal(a, req, "alerts", &next, 1, n);
        json_object_set_new(v, "next", json_string(n));
    }
    rest_reply(resp, 200, v);
}

/* The {id} of the path: an alert id (service/alerts.h), or text that names no alert (404,
 * like an alert the reader may not see). */
static const char *alert_id(struct http_req *req)
{
    const char *id = http_param(req, "id");
    return id ? id : "";
}

static void h_alert(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    json_t *v = alerts_get(a->alerts, &app_principal(req)->reader, alert_id(req));
    if (!v)
        app_error(req, resp, 404, "no such alert", NULL);
    else
        rest_reply(resp, 200, v);
}

static void h_alert_status(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    static const char *const fields[] = {"status", "status_version", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    const char *status = vjson_str(body, "status");
    /* the view's status_version the change was decided on (optional): a compare-and-set */
    json_t *ver = json_object_get(body, "status_version");
    if (ver && (!json_is_integer(ver) || json_integer_value(ver) < 0)) {
        json_decref(body);
        app_error(req, resp, 400, "bad request",
                  "status_version: the alert's status_version as read, an integer");
        return;
    }
    int64_t version = ver ? (int64_t)json_integer_value(ver) : -1;
    char msg[ALERTS_MSG_SZ] = "";
    const char *id = alert_id(req);
    /* Whether the alert exists for this reader is answered before any role check, so that a
     * 403 never confirms an alert the reader cannot see. */
    json_t *seen = alerts_get(a->alerts, &p->reader, id);
    int rc = !seen ? VIGIL_ENOENT
             : strcmp(p->role, "analyst") != 0 && strcmp(p->role, "admin") != 0
                 ? VIGIL_EPERM
                 : alerts_set_status(a->alerts, p, id, status ? status : "", version, msg);
    json_decref(seen);
    json_decref(body);
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such alert", NULL);
    else if (rc == VIGIL_EPERM)
        app_error(req, resp, 403, "forbidden", "analysts and admins change an alert's status");
    else if (rc == VIGIL_EINVAL)
        app_error(req, resp, 400, "bad request", "status: acknowledged, resolved or false_alarm");
    else if (rc == VIGIL_ECONFLICT)
        app_error(req, resp, 409, "conflict",
                  msg[0] ? msg : "the alert's lifecycle does not allow this");
    else if (rc)
        app_error(req, resp, 500, "cannot change the alert", NULL);
    else
        rest_reply(resp, 200, alerts_get(a->alerts, &p->reader, id));
}

/* POST /api/v1/alerts/{id}/triage {"assignee"?, "comment"?}: the triage of the caller's
 * partner (service/alerts.h), answered with the alert as the caller sees it now. */
static void h_alert_triage(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    static const char *const fields[] = {"assignee", "comment", NULL};
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    json_t *as = json_object_get(body, "assignee"), *cm = json_object_get(body, "comment");
    const char *id = alert_id(req);
    json_t *seen = alerts_get(a->alerts, &p->reader, id);
    int rc = !seen ? VIGIL_ENOENT
             : strcmp(p->role, "analyst") != 0 && strcmp(p->role, "admin") != 0 ? VIGIL_EPERM
             : (as && !json_is_string(as)) || (cm && !json_is_string(cm))
                 ? VIGIL_EINVAL
                 : alerts_triage(a->alerts, p, id, json_string_value(as), json_string_value(cm));
    json_decref(seen);
    json_decref(body);
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "no such alert", NULL);
    else if (rc == VIGIL_EPERM)
        app_error(req, resp, 403, "forbidden", "analysts and admins triage alerts");
    else if (rc == VIGIL_EINVAL)
        app_error(req, resp, 400, "bad request",
                  "assignee: a user of your partner (\"\" for none); comment: 1 to 2000 "
                  "characters; at least one of them");
    else if (rc == VIGIL_ETOOBIG)
        app_error(req, resp, 409, "conflict", "the alert has 200 comments already");
    else if (rc)
        app_error(req, resp, 500, "cannot triage the alert", NULL);
    else
        rest_reply(resp, 200, alerts_get(a->alerts, &p->reader, id));
}

static void h_rules_reload(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    if (strcmp(p->role, "admin") != 0 || !p->coordinator) {
        app_error(req, resp, 403, "forbidden", "the coordination center's admins only");
        return;
    }
    char msg[256];
    if (alerts_reload(a->alerts, msg))
        app_error(req, resp, 400, "the rules file was refused; the old rules stay in force", msg);
    else
        rest_reply(resp, 200, json_pack("{s:b}", "reloaded", 1));
}

const struct http_route rest_alert_routes[] = {
    {"GET", "/api/v1/alerts", h_alerts, "alerts", false},
    {"GET", "/api/v1/alerts/{id}", h_alert, "alert", false},
    {"POST", "/api/v1/alerts/{id}/status", h_alert_status, "alert", false},
    {"POST", "/api/v1/alerts/{id}/triage", h_alert_triage, "alert", false},
    {"POST", "/api/v1/rules/reload", h_rules_reload, "rules", false},
};
const size_t rest_alert_nroutes = sizeof rest_alert_routes / sizeof rest_alert_routes[0];
