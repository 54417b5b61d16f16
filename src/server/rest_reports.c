/* rest_reports.c - /api/v1/reports: event reports in plain JSON (SPEC S5).
 *
 * POST builds the STIX objects of the Vigil profile from the plain resource and stores them
 * (service/ingest.h); GET queries the report index by place, time, code, partner, grading and
 * text, newest event first, with keyset paging; ?format=geojson gives a FeatureCollection.
 * Every answer passes the read policy: reports a reader may not read are not there.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
                  .partner_name = partner,
                  .user_name = p->user_name},
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

/* The columns a list may be sorted by (?sort=KEY, or -KEY for descending). */
enum sort_key {
    SORT_NONE,
    SORT_START,
    SORT_EVENT,
    SORT_MODE,
    SORT_FUTURE,
    SORT_TITLE,
    SORT_PARTNER,
    SORT_GRADING,
    SORT_MARKING,
    SORT_FATALITIES,
};
static const char *const sort_names[] = {"",      "start",   "event",   "mode",    "future",
                                         "title", "partner", "grading", "marking", "fatalities"};
#define SORT_NKEYS (sizeof sort_names / sizeof sort_names[0])
/* A sorted list, a marking filter or a total reads every matching report the reader may read:
 * at most this many (more is a 400 asking for narrower filters). */
#define SORT_MAX 100000

struct query_args {
    struct store_report_query q;
    const char *cursor; /* the previous page's next, as sent */
    bool geojson;
    enum sort_key sort;
    bool desc, total;
    int marking; /* enum tlp_level to keep, -1: any */
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
    } else if (strcmp(key, "sort") == 0) {
        x->desc = value[0] == '-';
        for (size_t i = 1; i < SORT_NKEYS; i++)
            if (strcmp(value + x->desc, sort_names[i]) == 0)
                x->sort = (enum sort_key)i;
        if (x->sort == SORT_NONE)
            x->bad = "sort: start, event, mode, future, title, partner, grading, marking or "
                     "fatalities, with - before it for descending";
    } else if (strcmp(key, "marking") == 0) {
        enum tlp_level l = TLP_UNKNOWN;
        if (tlp_parse(value, &l))
            x->bad = "marking: clear, green, amber, amber+strict or red";
        x->marking = (int)l;
    } else if (strcmp(key, "total") == 0) {
        x->total = strcmp(value, "true") == 0;
        if (!x->total && strcmp(value, "false") != 0)
            x->bad = "total: true or false";
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

/* The list item of a report: its document, or a GeoJSON Feature of it. NULL on a bad doc. */
static json_t *report_item(const struct store_report *rep, bool geojson)
{
    json_t *doc = json_loads(rep->doc, 0, NULL);
    if (!doc || !geojson)
        return doc;
    json_t *loc = json_object_get(doc, "location");
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    json_t *geom = lat && lon
                       ? json_pack("{s:s, s:[O, O]}", "type", "Point", "coordinates", lon, lat)
                       : json_null();
    return json_pack("{s:s, s:O, s:o, s:o}", "type", "Feature", "id", json_object_get(doc, "id"),
                     "geometry", geom, "properties", doc);
}

static int add_report(void *ctx, const struct store_report *rep)
{
    struct page *pg = ctx;
    json_t *item = report_item(rep, pg->geojson);
    if (!item)
        return VIGIL_ESTORE;
    pg->last_start = rep->start;
    pg->last_seq = rep->seq;
    char id[128];
    snprintf(id, sizeof id, "\"%s\"", rep->id);
    audit_list_add(&pg->reads, id);
    json_array_append_new(pg->list, item);
    return 0;
}

/* ---- sorted lists ------------------------------------------------------------------------ */

/* One matching report in a sorted list: its sort key and its place in the newest-first order. */
struct sort_row {
    int64_t seq;
    char *id;
    vtime_t start;
    double num;  /* start, future, fatalities */
    char *text;  /* the other keys */
};

struct sorting {
    const struct query_args *x;
    struct sort_row *v;
    size_t n, cap;
    bool over; /* more than SORT_MAX */
};

static const char *doc_str(json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

static int collect_row(void *ctx, const struct store_report *rep)
{
    struct sorting *so = ctx;
    if (so->x->marking >= 0 && !tlp_marked(&rep->acl, (enum tlp_level)so->x->marking))
        return 0;
    if (so->n == SORT_MAX) {
        so->over = true;
        return 1;
    }
    if (so->n == so->cap) {
        so->cap = so->cap ? 2 * so->cap : 256;
        so->v = xrealloc(so->v, so->cap * sizeof *so->v);
    }
    struct sort_row *row = &so->v[so->n++];
    *row = (struct sort_row){.seq = rep->seq, .id = xstrdup(rep->id), .start = rep->start,
                             .num = (double)rep->start};
    enum sort_key k = so->x->sort;
    if (k == SORT_START || k == SORT_NONE || k == SORT_MARKING) {
        row->num = k == SORT_MARKING ? (double)tlp_strictest(TLP_CLEAR, &rep->acl) : row->num;
        return 0;
    }
    json_t *doc = json_loads(rep->doc, 0, NULL);
    if (!doc)
        return VIGIL_ESTORE;
    if (k == SORT_FUTURE) {
        row->num = json_is_true(json_object_get(doc, "future"));
    } else if (k == SORT_FATALITIES) {
        json_t *f = json_object_get(doc, "fatalities");
        row->num = json_is_integer(f) ? (double)json_integer_value(f) : -1;
    } else if (k == SORT_GRADING) {
        json_t *c = json_object_get(doc, "credibility");
        row->text = xasprintf("%s%d", doc_str(doc, "reliability")[0] ? doc_str(doc, "reliability")
                                                                     : "F",
                              json_is_integer(c) ? (int)json_integer_value(c) : 6);
    } else {
        row->text = xstrdup(doc_str(doc, sort_names[k]));
    }
    json_decref(doc);
    return 0;
}

static bool sort_desc; /* qsort has no context: set under sort_mu */
static pthread_mutex_t sort_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp_rows(const void *pa, const void *pb)
{
    const struct sort_row *a = pa, *b = pb;
    int c = 0;
    if (a->text && b->text) /* ASCII letters in any case together, as people read them */
        c = strcasecmp(a->text, b->text) ? strcasecmp(a->text, b->text) : strcmp(a->text, b->text);
    else
        c = (a->num > b->num) - (a->num < b->num);
    if (sort_desc)
        c = -c;
    if (!c) /* ties: newest event first, as the unsorted list */
        c = a->start != b->start ? (a->start < b->start ? 1 : -1)
                                 : (a->seq < b->seq) - (a->seq > b->seq);
    return c;
}

struct picked {
    const int64_t *seqs; /* the page's seqs, in the page's order */
    size_t n;
    json_t **docs;
    char **ids; /* as audited */
    struct page *pg;
};

static int pick_row(void *ctx, const struct store_report *rep)
{
    struct picked *p = ctx;
    for (size_t i = 0; i < p->n; i++)
        if (p->seqs[i] == rep->seq && !p->docs[i]) {
            p->docs[i] = report_item(rep, p->pg->geojson);
            if (!p->docs[i])
                return VIGIL_ESTORE;
            char id[128];
            snprintf(id, sizeof id, "\"%s\"", rep->id);
            p->ids[i] = xstrdup(id);
        }
    return 0;
}

/* A sorted page: every matching report is read once for its key, sorted here, and the page's
 * reports read again by id (in the same snapshot). The cursor is the offset of the next page. */
static int sorted_page(struct store_reader *r, struct query_args *x, int64_t offset,
                       struct page *pg, size_t *total, bool *more, bool *over)
{
    struct store_report_query q = x->q;
    size_t limit = q.limit;
    q.limit = 0;
    q.has_after = false;
    struct sorting so = {.x = x};
    int rc = store_reports_query(r, &q, collect_row, &so, &(bool){false});
    if (rc == 1)
        rc = 0;
    *over = so.over;
    if (!rc && !so.over) {
        pthread_mutex_lock(&sort_mu);
        sort_desc = x->desc || x->sort == SORT_NONE; /* unsorted: newest event first */
        if (so.n) /* so.v is NULL when nothing matched */
            qsort(so.v, so.n, sizeof *so.v, cmp_rows);
        pthread_mutex_unlock(&sort_mu);
        *total = so.n;
        size_t from = (size_t)offset < so.n ? (size_t)offset : so.n;
        size_t n = so.n - from < limit ? so.n - from : limit;
        *more = from + n < so.n;
        int64_t *seqs = xmalloc((n + 1) * sizeof *seqs);
        for (size_t i = 0; i < n; i++)
            seqs[i] = so.v[from + i].seq;
        struct picked p = {seqs, n, xcalloc(n + 1, sizeof(json_t *)),
                           xcalloc(n + 1, sizeof(char *)), pg};
        for (size_t i = 0; i < n && !rc; i++) /* the page's reports, by id (an index read) */
            rc = store_report_get(r, so.v[from + i].id, q.visible, q.visible_ctx, pick_row, &p);
        for (size_t i = 0; i < n; i++) {
            if (p.docs[i]) {
                audit_list_add(&pg->reads, p.ids[i]);
                json_array_append_new(pg->list, p.docs[i]);
            }
            free(p.ids[i]);
        }
        free(p.docs);
        free(p.ids);
        free(seqs);
    }
    for (size_t i = 0; i < so.n; i++) {
        free(so.v[i].text);
        free(so.v[i].id);
    }
    free(so.v);
    return rc;
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
    bool sorted = x->sort != SORT_NONE || x->marking >= 0 || x->total;
    if (x->cursor && sorted) {
        if (!rest_cursor_open(a, req, "reports-sorted", x->cursor, after, 1) || after[0] < 0) {
            app_error(req, resp, 400, "bad request",
                      "cursor: use the next value of the previous page");
            return;
        }
    } else if (x->cursor) {
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
    bool more = false, over = false;
    size_t total = 0;
    int64_t offset = x->cursor && sorted ? after[0] : 0;
    if (!rc && sorted)
        rc = sorted_page(r, x, offset, &pg, &total, &more, &over);
    else if (!rc)
        rc = store_reports_query(r, q, add_report, &pg, &more);
    store_read_end(r);
    if (rc == VIGIL_ENOENT) {
        app_error(req, resp, 400, "bad request", "partner: no such partner");
    } else if (over) {
        rc = VIGIL_ETOOBIG;
        app_error(req, resp, 400, "bad request",
                  "more than 100000 reports match: narrow the filters to sort, count or filter "
                  "them by marking");
    } else if (rc) {
        app_error(req, resp, 500, "cannot query reports", NULL);
    } else {
        json_t *v = x->geojson
                        ? json_pack("{s:s, s:O}", "type", "FeatureCollection", "features", pg.list)
                        : json_pack("{s:O}", "reports", pg.list);
        if (sorted)
            json_object_set_new(v, "total", json_integer((json_int_t)total));
        if (more && sorted) {
            char cur[REST_CURSOR_SZ];
            int64_t at = offset + (int64_t)json_array_size(pg.list);
            rest_cursor_seal(a, req, "reports-sorted", &at, 1, cur);
            json_object_set_new(v, "next", json_string(cur));
        } else if (more) {
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
    struct query_args x = {.q = {.future = -1}, .marking = -1};
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
