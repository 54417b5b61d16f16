/* rest_compliance.c - /api/v1/ agreements, violations, tallies and the daily report (S8).
 *
 * The rules live in compliance/: who may see a violation (its agreement and the report it was
 * found in readable by the reader; other evidence listed only to those who may read it), the
 * workflow and its roles. Handlers here parse,
 * hand writes to the writer thread, and map error codes to statuses: a violation the reader
 * may not see is 404, exactly like one that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "compliance/compliance.h"
#include "server/app.h"
#include "server/rest.h"

/* The actor of a request; identity and name buffers live in the caller. */
static int actor_of(struct app *a, struct http_req *req, struct compliance_actor *who,
                    char identity[80], char name[128])
{
    const struct auth_principal *p = app_principal(req);
    int rc = app_partner_names(a, p->partner, identity, name);
    *who = compliance_actor_of(p, identity);
    return rc;
}

static void answer_error(struct http_req *req, struct http_resp *resp, int rc, const char *msg)
{
    if (rc == VIGIL_ENOENT)
        app_error(req, resp, 404, "not found", msg && msg[0] ? msg : NULL);
    else if (rc == VIGIL_EPERM)
        app_error(req, resp, 403, "forbidden", msg);
    else if (rc == VIGIL_EINVAL || rc == VIGIL_ETOOBIG)
        app_error(req, resp, 400, "bad request", msg);
    else if (rc == VIGIL_ECONFLICT)
        app_error(req, resp, 409, "conflict", msg);
    else
        app_error(req, resp, 503, "the store could not take the change", NULL);
}

static void audit_read(struct app *a, struct http_req *req, const char *what, json_t *detail)
{
    const struct auth_principal *p = app_principal(req);
    char *d = vjson_dumps(detail);
    audit_append_async(a->store, p->partner, p->user, "read", what, d);
    free(d);
    json_decref(detail);
}

/* ---- agreements ------------------------------------------------------------------------ */

struct load_job {
    const struct compliance_actor *who;
    const char *text;
    size_t len;
    char id[80];
    char msg[CMP_MSG_SZ];
};

static int load_txn(struct store_txn *t, void *arg)
{
    struct load_job *j = arg;
    return compliance_load(t, j->who, j->text, j->len, j->id, j->msg);
}

static void h_agreement_post(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!rest_can_write(req, resp))
        return;
    json_t *body = rest_body(a, req, resp, NULL); /* media type and JSON syntax */
    if (!body)
        return;
    json_decref(body);
    struct compliance_actor who;
    char identity[80], name[128];
    if (actor_of(a, req, &who, identity, name)) {
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    if (!compliance_can_review(&who)) {
        app_error(req, resp, 403, "forbidden",
                  "only admins and analysts of the coordination center load agreements");
        return;
    }
    struct load_job j = {.who = &who, .text = req->body, .len = req->body_len};
    int rc = store_write(a->store, load_txn, &j);
    if (rc) {
        answer_error(req, resp, rc, j.msg);
        return;
    }
    struct store_reader *r;
    json_t *list = NULL;
    if (store_read_begin(a->store, &r) == 0) {
        compliance_agreements_list(r, who.reader, &list);
        store_read_end(r);
    }
    size_t i;
    json_t *ag, *found = NULL;
    json_array_foreach (list, i, ag)
        if (strcmp(json_string_value(json_object_get(ag, "id")), j.id) == 0)
            found = json_incref(ag);
    json_decref(list);
    rest_reply(resp, 201, found ? found : json_pack("{s:s}", "id", j.id));
}

static void h_agreements(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct store_reader *r;
    json_t *list = NULL;
    if (!rest_reader(a, req, resp, &r))
        return;
    int rc = compliance_agreements_list(r, &p->reader, &list);
    store_read_end(r);
    if (rc) {
        app_error(req, resp, 500, "cannot list agreements", NULL);
        return;
    }
    rest_reply(resp, 200, json_pack("{s:o}", "agreements", list));
}

/* ---- violations ------------------------------------------------------------------------ */

struct list_args {
    struct compliance_filter f;
    const char *bad;
    char badbuf[160];
};

static int on_list_arg(void *ctx, const char *key, const char *value)
{
    struct list_args *x = ctx;
    value = value ? value : "";
    if (strcmp(key, "status") == 0) {
        if (!compliance_status_valid(value))
            x->bad = "status: reported, under_review, confirmed, not_confirmed or disputed";
        x->f.status = value;
    } else if (strcmp(key, "party") == 0) {
        x->f.party = value;
    } else if (strcmp(key, "zone") == 0) {
        x->f.zone = value;
    } else if (strcmp(key, "needs_review") == 0) {
        if (strcmp(value, "true") != 0)
            x->bad = "needs_review: true (or leave it out)";
        x->f.needs_review = true;
    } else if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
        vtime_t t;
        if (ts_parse(value, &t, NULL) && compliance_day_parse(value, &t))
            x->bad = key[0] == 's' ? "since: an RFC 3339 timestamp or a date"
                                   : "until: an RFC 3339 timestamp or a date";
        *(key[0] == 's' ? &x->f.since : &x->f.until) = t;
    } else {
        snprintf(x->badbuf, sizeof x->badbuf, "unknown parameter \"%.60s\"", key);
        x->bad = x->badbuf;
    }
    return x->bad ? 1 : 0;
}

static void audit_violations(struct app *a, struct http_req *req, const json_t *list)
{
    struct audit_list reads;
    audit_list_init(&reads);
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v) {
        char *id = vjson_dumps(json_object_get(v, "id"));
        audit_list_add(&reads, id);
        free(id);
    }
    app_audit_read(a, req, &reads, "violations", "");
}

static void h_violations(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct list_args x = {0};
    http_query_foreach(req, on_list_arg, &x);
    if (x.bad) {
        app_error(req, resp, 400, "bad request", x.bad);
        return;
    }
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    json_t *list = NULL;
    int rc = compliance_violations_list(r, &p->reader, &x.f, &list);
    store_read_end(r);
    if (rc) {
        app_error(req, resp, 500, "cannot list violations", NULL);
        return;
    }
    audit_violations(a, req, list);
    rest_reply(resp, 200, json_pack("{s:o}", "violations", list));
}

/* The violation the path names, as the principal sees it; NULL after answering 503 or 404. */
static json_t *violation_of(struct app *a, struct http_req *req, struct http_resp *resp)
{
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return NULL;
    json_t *v = compliance_violation_get(r, &app_principal(req)->reader, http_param(req, "id"));
    store_read_end(r);
    if (!v)
        app_error(req, resp, 404, "no such violation", NULL);
    return v;
}

static void h_violation(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    json_t *v = violation_of(a, req, resp);
    if (!v)
        return;
    audit_read(a, req, "violations", json_pack("{s:[O]}", "violations", json_object_get(v, "id")));
    rest_reply(resp, 200, v);
}

static void h_opinions(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = violation_of(arg, req, resp);
    if (!v)
        return;
    json_t *ops = json_incref(json_object_get(v, "opinions"));
    json_decref(v);
    rest_reply(resp, 200, json_pack("{s:o}", "opinions", ops));
}

enum change_kind { CHANGE_TRANSITION, CHANGE_OPINION, CHANGE_EVIDENCE };

struct change_job {
    enum change_kind kind;
    const struct compliance_actor *who;
    const char *id;
    const char *a1, *a2;
    json_t *out;
    char msg[CMP_MSG_SZ];
};

static int change_txn(struct store_txn *t, void *arg)
{
    struct change_job *j = arg;
    j->msg[0] = '\0';
    switch (j->kind) {
    case CHANGE_TRANSITION:
        return compliance_transition(t, j->who, j->id, j->a1, j->a2, &j->out, j->msg);
    case CHANGE_OPINION:
        return compliance_opinion_add(t, j->who, j->id, j->a1, j->a2, &j->out, j->msg);
    default: return compliance_evidence_add(t, j->who, j->id, j->a1, &j->out, j->msg);
    }
}

static void change(struct http_req *req, struct http_resp *resp, struct app *a,
                   enum change_kind kind, const char *const *fields, const char *k1, const char *k2)
{
    if (!rest_can_write(req, resp))
        return;
    json_t *body = rest_body(a, req, resp, fields);
    if (!body)
        return;
    json_t *v1 = json_object_get(body, k1), *v2 = k2 ? json_object_get(body, k2) : NULL;
    if (!json_is_string(v1) || (v2 && !json_is_string(v2) && !json_is_null(v2))) {
        char m[96];
        snprintf(m, sizeof m, "%s: required, a string%s%s%s", k1, k2 ? "; " : "", k2 ? k2 : "",
                 k2 ? ": a string" : "");
        json_decref(body);
        app_error(req, resp, 400, "bad request", m);
        return;
    }
    struct compliance_actor who;
    char identity[80], name[128];
    if (actor_of(a, req, &who, identity, name)) {
        json_decref(body);
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    struct change_job j = {
        .kind = kind,
        .who = &who,
        .id = http_param(req, "id"),
        .a1 = json_string_value(v1),
        .a2 = json_is_string(v2) ? json_string_value(v2) : NULL,
    };
    int rc = store_write(a->store, change_txn, &j);
    json_decref(body);
    if (rc == VIGIL_ENOENT && !j.msg[0])
        snprintf(j.msg, sizeof j.msg, "no such violation");
    if (rc) {
        json_decref(j.out);
        answer_error(req, resp, rc, j.msg);
        return;
    }
    rest_reply(resp, kind == CHANGE_TRANSITION ? 200 : 201, j.out ? j.out : json_object());
}

static void h_transition(struct http_req *req, struct http_resp *resp, void *arg)
{
    static const char *const f[] = {"to", "reason", NULL};
    change(req, resp, arg, CHANGE_TRANSITION, f, "to", "reason");
}

static void h_opinion_post(struct http_req *req, struct http_resp *resp, void *arg)
{
    static const char *const f[] = {"opinion", "explanation", NULL};
    change(req, resp, arg, CHANGE_OPINION, f, "opinion", "explanation");
}

static void h_evidence_post(struct http_req *req, struct http_resp *resp, void *arg)
{
    static const char *const f[] = {"report", NULL};
    change(req, resp, arg, CHANGE_EVIDENCE, f, "report", NULL);
}

/* ---- tallies and the daily report ------------------------------------------------------ */

struct tally_args {
    vtime_t from, to;
    bool has_from, has_to;
    const char *format;
    const char *bad;
};

static int on_tally_arg(void *ctx, const char *key, const char *value)
{
    struct tally_args *x = ctx;
    if (strcmp(key, "from") == 0 || strcmp(key, "date") == 0) {
        x->has_from = compliance_day_parse(value, &x->from) == 0;
        if (!x->has_from)
            x->bad = key[0] == 'f' ? "from: a date YYYY-MM-DD" : "date: a date YYYY-MM-DD";
    } else if (strcmp(key, "to") == 0) {
        x->has_to = compliance_day_parse(value, &x->to) == 0;
        if (!x->has_to)
            x->bad = "to: a date YYYY-MM-DD (the last day counted)";
    } else if (strcmp(key, "format") == 0) {
        x->format = value ? value : "";
    } else {
        x->bad = "unknown parameter";
    }
    return x->bad ? 1 : 0;
}

static void h_tallies(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct tally_args x = {0};
    http_query_foreach(req, on_tally_arg, &x);
    if (!x.bad && x.format)
        x.bad = "unknown parameter \"format\"";
    if (!x.bad && (!x.has_from || !x.has_to))
        x.bad = "from and to are required (dates YYYY-MM-DD, both included)";
    long ndays = x.bad ? 0 : (long)((x.to - x.from) / COMPLIANCE_DAY_US) + 1;
    if (!x.bad && (ndays < 1 || ndays > 366))
        x.bad = "to must not be before from, and the period at most 366 days";
    if (x.bad) {
        app_error(req, resp, 400, "bad request", x.bad);
        return;
    }
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    json_t *out = NULL;
    int rc = compliance_tallies(r, &p->reader, x.from, (int)ndays, &out);
    store_read_end(r);
    if (rc) {
        app_error(req, resp, 500, "cannot compute tallies", NULL);
        return;
    }
    audit_read(a, req, "tallies",
               json_pack("{s:O, s:O}", "from", json_object_get(out, "from"), "to",
                         json_object_get(out, "to")));
    rest_reply(resp, 200, out);
}

static void h_daily(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    struct tally_args x = {0};
    http_query_foreach(req, on_tally_arg, &x);
    enum compliance_format fmt = COMPLIANCE_HTML;
    if (!x.bad && (x.has_to || !x.has_from))
        x.bad = "date: required, a date YYYY-MM-DD";
    if (!x.bad && x.format && compliance_format_parse(x.format, &fmt))
        x.bad = "format: html, json or csv";
    if (x.bad) {
        app_error(req, resp, 400, "bad request", x.bad);
        return;
    }
    char identity[80], partner[128];
    if (app_partner_names(a, p->partner, identity, partner)) {
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    struct compliance_view view = {p->user_name, partner, ts_now()};
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    buf_reset(&resp->body);
    int rc = compliance_daily(r, &p->reader, &view, x.from, fmt, &resp->body);
    store_read_end(r);
    if (rc) {
        app_error(req, resp, 500, "cannot build the report", NULL);
        return;
    }
    char date[16], ts[TS_BUFSZ];
    snprintf(date, sizeof date, "%.10s", ts_format(x.from, 0, ts));
    audit_read(a, req, "daily-report", json_pack("{s:s}", "date", date));
    resp->status = 200;
    resp->content_type = fmt == COMPLIANCE_HTML   ? "text/html; charset=utf-8"
                         : fmt == COMPLIANCE_JSON ? "application/json"
                                                  : "text/csv; charset=utf-8";
}

const struct http_route rest_compliance_routes[] = {
    {"POST", "/api/v1/agreements", h_agreement_post, "agreements", false},
    {"GET", "/api/v1/agreements", h_agreements, "agreements", false},
    {"GET", "/api/v1/violations", h_violations, "violations", false},
    {"GET", "/api/v1/violations/{id}", h_violation, "violation", false},
    {"POST", "/api/v1/violations/{id}/transition", h_transition, "violation_transition", false},
    {"GET", "/api/v1/violations/{id}/opinions", h_opinions, "violation_opinions", false},
    {"POST", "/api/v1/violations/{id}/opinions", h_opinion_post, "violation_opinions", false},
    {"POST", "/api/v1/violations/{id}/evidence", h_evidence_post, "violation_evidence", false},
    {"GET", "/api/v1/tallies", h_tallies, "tallies", false},
    {"GET", "/api/v1/compliance/daily", h_daily, "compliance_daily", false},
};
const size_t rest_compliance_nroutes =
    sizeof rest_compliance_routes / sizeof rest_compliance_routes[0];
