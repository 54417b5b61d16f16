/* rest_reports.c - /api/v1/reports: event reports in plain JSON (SPEC S5).
 *
 * POST builds the STIX objects of the Vigil profile from the plain resource and stores them
 * (service/ingest.h); GET queries the report index by place, time, code, partner, grading and
 * text, newest event first, with keyset paging; ?format=geojson gives a FeatureCollection.
 * Every answer passes the read policy: reports a reader may not read are not there.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "intel/profile.h"
#include "server/app.h"
#include "service/ingest.h"
#include "server/rest.h"
#include "stix/stix.h"

struct post_report {
    int64_t coll;
    struct ingest_actor actor;
    const struct event_report *r;
    json_t *doc;
    int rc;
    char msg[INGEST_MSG_SZ];
};

static int post_report_txn(struct store_txn *t, void *arg)
{
    struct post_report *p = arg;
    enum store_put_outcome outcome;
    return ingest_report(t, p->coll, &p->actor, p->r, &outcome, &p->doc, p->msg);
}

static void h_report_post(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    if (!rest_can_write(req, resp))
        return;
    if (strcmp(p->role, "reader") == 0) {
        app_error(req, resp, 403, "forbidden", "readers do not submit reports");
        return;
    }
    json_t *body = rest_body(a, req, resp, NULL);
    if (!body)
        return;
    struct event_report r;
    char rmsg[REPORT_MSG_SZ];
    if (report_from_json(body, &r, rmsg)) {
        json_decref(body);
        app_error(req, resp, 400, "invalid report", rmsg);
        return;
    }
    json_decref(body);
    char identity[80], partner[128];
    if (app_partner_names(a, p->partner, identity, partner)) {
        report_release(&r);
        app_error(req, resp, 503, "store unavailable", NULL);
        return;
    }
    struct post_report job = {
        .coll = a->coll_reports,
        .actor = {.partner = p->partner,
                  .user = p->user,
                  .default_tlp = p->default_tlp,
                  .identity_id = identity,
                  .partner_name = partner},
        .r = &r,
    };
    int rc = store_write(a->store, post_report_txn, &job);
    report_release(&r);
    if (rc == VIGIL_EINVAL)
        app_error(req, resp, 400, "invalid report", job.msg);
    else if (rc == VIGIL_EPERM || rc == VIGIL_ECONFLICT)
        app_error(req, resp, 409, "conflict", job.msg);
    else if (rc)
        app_error(req, resp, 503, "the store could not take the report", NULL);
    if (rc)
        json_decref(job.doc);
    else
        rest_reply(resp, 201, job.doc);
}

/* ---- queries --------------------------------------------------------------------------- */

struct query_args {
    struct store_report_query q;
    const char *cursor; /* the previous page's next, as sent */
    bool geojson;
    char partner[128];
    const char *bad;
    char badbuf[160];
};

static int on_arg(void *ctx, const char *key, const char *value)
{
    struct query_args *x = ctx;
    struct store_report_query *q = &x->q;
    char *end;
    value = value ? value : "";
    if (rest_report_filter(q, key, value, &x->bad)) {
        /* bbox, since, until, event, future */
    } else if (strcmp(key, "mode") == 0) {
        q->mode = value;
    } else if (strcmp(key, "partner") == 0) {
        snprintf(x->partner, sizeof x->partner, "%s", value);
    } else if (strcmp(key, "reliability") == 0) {
        if (strlen(value) != 1 || value[0] < 'A' || value[0] > 'F')
            x->bad = "reliability: a grade from A to F (reports at least this reliable)";
        q->max_reliability = value[0];
    } else if (strcmp(key, "credibility") == 0) {
        long c = strtol(value, &end, 10);
        if (*end || c < 1 || c > 6)
            x->bad = "credibility: a grade from 1 to 6 (reports at least this credible)";
        q->max_credibility = (int)c;
    } else if (strcmp(key, "q") == 0) {
        q->text = value;
    } else if (strcmp(key, "limit") == 0) {
        long n = strtol(value, &end, 10);
        if (*end || n < 1)
            x->bad = "limit: a positive integer";
        q->limit = (size_t)n;
    } else if (strcmp(key, "cursor") == 0) {
        x->cursor = value; /* opened by answer_query (rest_cursor_open) */
    } else if (strcmp(key, "format") == 0) {
        if (strcmp(value, "geojson") == 0)
            x->geojson = true;
        else if (strcmp(value, "json") != 0)
            x->bad = "format: json or geojson";
    } else {
        snprintf(x->badbuf, sizeof x->badbuf, "unknown parameter \"%.60s\"", key);
        x->bad = x->badbuf;
    }
    return x->bad ? 1 : 0;
}

struct page {
    json_t *list;
    bool geojson;
    struct audit_list reads;
    vtime_t last_start;
    int64_t last_seq;
};

static int add_report(void *ctx, const struct store_report *rep)
{
    struct page *pg = ctx;
    json_t *doc = json_loads(rep->doc, 0, NULL);
    if (!doc)
        return VIGIL_ESTORE;
    pg->last_start = rep->start;
    pg->last_seq = rep->seq;
    char item[128];
    snprintf(item, sizeof item, "\"%s\"", rep->id);
    audit_list_add(&pg->reads, item);
    if (!pg->geojson) {
        json_array_append_new(pg->list, doc);
        return 0;
    }
    json_t *loc = json_object_get(doc, "location");
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    json_t *geom = lat && lon
                       ? json_pack("{s:s, s:[O, O]}", "type", "Point", "coordinates", lon, lat)
                       : json_null();
    json_array_append_new(pg->list, json_pack("{s:s, s:O, s:o, s:o}", "type", "Feature", "id",
                                              json_object_get(doc, "id"), "geometry", geom,
                                              "properties", doc));
    return 0;
}

/* Runs a report query for the request's principal and answers with one page. */
static void answer_query(struct app *a, struct http_req *req, struct http_resp *resp,
                         struct query_args *x)
{
    const struct auth_principal *p = app_principal(req);
    struct store_report_query *q = &x->q;
    if (!q->limit || q->limit > (size_t)a->cfg->page_max)
        q->limit = q->limit ? (size_t)a->cfg->page_max : 100;
    q->visible = policy_visible;
    q->visible_ctx = (void *)&p->reader;
    int64_t after[2];
    if (x->cursor) {
        if (!rest_cursor_open(a, req, "reports", x->cursor, after, 2)) {
            app_error(req, resp, 400, "bad request",
                      "cursor: use the next value of the previous page");
            return;
        }
        q->has_after = true;
        q->after_start = after[0], q->after_seq = after[1];
    }
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    int rc = 0;
    if (x->partner[0]) {
        struct store_partner sp;
        rc = store_partner_find(r, x->partner, &sp);
        q->partner = sp.id;
    }
    struct page pg = {.list = json_array(), .geojson = x->geojson};
    audit_list_init(&pg.reads);
    bool more = false;
    if (!rc)
        rc = store_reports_query(r, q, add_report, &pg, &more);
    store_read_end(r);
    if (rc == VIGIL_ENOENT) {
        app_error(req, resp, 400, "bad request", "partner: no such partner");
    } else if (rc) {
        app_error(req, resp, 500, "cannot query reports", NULL);
    } else {
        json_t *v = x->geojson
                        ? json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", pg.list)
                        : json_pack("{s:O}", "reports", pg.list);
        if (more) {
            char cur[REST_CURSOR_SZ];
            rest_cursor_seal(a, req, "reports", (int64_t[]){pg.last_start, pg.last_seq}, 2, cur);
            json_object_set_new(v, "next", json_string(cur));
        }
        app_json(resp, 200, x->geojson ? "application/geo+json" : "application/json", v);
        json_decref(v);
    }
    json_decref(pg.list);
    if (rc)
        pg.reads.count = 0; /* nothing was answered: nothing to audit */
    app_audit_read(a, req, &pg.reads, "reports", "");
}

static void h_reports(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct query_args x = {.q = {.future = -1}};
    http_query_foreach(req, on_arg, &x);
    if (x.bad) {
        app_error(req, resp, 400, "bad request", x.bad);
        return;
    }
    answer_query(arg, req, resp, &x);
}

/* One report by id: found in the index under any owner the reader may read. */
struct one {
    const char *id;
    json_t *doc;
};

static int find_one(void *ctx, const struct store_report *rep)
{
    struct one *o = ctx;
    if (strcmp(rep->id, o->id) != 0)
        return 0;
    o->doc = json_loads(rep->doc, 0, NULL);
    return 1;
}

static void h_report(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    const char *id = http_param(req, "id");
    struct one o = {id, NULL};
    struct store_reader *r;
    if (!stix_id_valid(id) || strncmp(id, "report--", 8) != 0) {
        app_error(req, resp, 404, "no such report", NULL);
        return;
    }
    if (!rest_reader(a, req, resp, &r))
        return;
    int rc = store_report_get(r, id, policy_visible, (void *)&p->reader, find_one, &o);
    store_read_end(r);
    if (rc < 0 || !o.doc) {
        app_error(req, resp, 404, "no such report", NULL);
        return;
    }
    char *detail = xasprintf("{\"reports\":[\"%s\"]}", id);
    audit_append_async(a->store, p->partner, p->user, "read", "reports", detail);
    free(detail);
    rest_reply(resp, 200, o.doc);
}

const struct http_route rest_report_routes[] = {
    {"POST", "/api/v1/reports", h_report_post, "reports", false},
    {"GET", "/api/v1/reports", h_reports, "reports", false},
    {"GET", "/api/v1/reports/{id}", h_report, "report", false},
};
const size_t rest_report_nroutes = sizeof rest_report_routes / sizeof rest_report_routes[0];
