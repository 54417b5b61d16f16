/* rest_incidents.c - GET /api/v1/incidents: the reports that describe one real event, fused
 * (docs/FUSION.md, Correlation), per reader.
 *
 * An incident is re-formed from what the reader may see (S3, the leak rule): the reports of
 * the window that pass the read policy are correlated afresh with the engine's rule, so a
 * report the reader cannot read neither appears nor joins, splits or corroborates anything.
 * The cost is one report query (bounded: at most INCIDENT_REPORTS_MAX reports in the window,
 * else 400 asking for a narrower one) and one correlation of those reports (bounded queries,
 * a few microseconds per report).
 *
 * Filters: bbox, since/until (the reports' event windows overlap them), event (PLOVER type),
 * future, corroborated (two or more independent sources), limit (incidents, newest first).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/timestamp.h"
#include "base/xalloc.h"
#include "fusion/confidence.h"
#include "fusion/correlate.h"
#include "intel/profile.h"
#include "server/app.h"
#include "server/rest.h"

#define INCIDENT_REPORTS_MAX 20000

struct inc_args {
    struct store_report_query q;
    int corroborated; /* -1 any */
    size_t limit;
    const char *bad;
    char badbuf[160];
};

static int inc_arg(void *ctx, const char *key, const char *value)
{
    struct inc_args *x = ctx;
    struct store_report_query *q = &x->q;
    char *end;
    value = value ? value : "";
    if (rest_report_filter(q, key, value, &x->bad)) {
        /* bbox, since, until, event, future */
    } else if (strcmp(key, "corroborated") == 0) {
        x->corroborated = strcmp(value, "true") == 0 ? 1 : strcmp(value, "false") == 0 ? 0 : -2;
        if (x->corroborated == -2)
            x->bad = "corroborated: true or false";
    } else if (strcmp(key, "limit") == 0) {
        long n = strtol(value, &end, 10);
        if (*end || n < 1)
            x->bad = "limit: a positive integer";
        x->limit = (size_t)n;
    } else {
        snprintf(x->badbuf, sizeof x->badbuf, "unknown parameter \"%.60s\"", key);
        x->bad = x->badbuf;
    }
    return x->bad ? 1 : 0;
}

/* One visible report: its plain resource and the struct fusion sees (strings borrow from
 * doc). */
struct vis {
    json_t *doc;
    struct fusion_report r;
};

struct gather {
    struct vis *v;
    size_t n, alloc;
    bool bad;
};

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && *s ? s : NULL;
}

static int gather_one(void *ctx, const struct store_report *rep)
{
    struct gather *g = ctx;
    json_t *doc = json_loads(rep->doc, 0, NULL);
    if (!doc)
        return VIGIL_ESTORE;
    struct fusion_report r;
    memset(&r, 0, sizeof r);
    r.seq = rep->seq;
    r.id = jstr(doc, "id"); /* rep's strings last only as long as the callback */
    r.acl = rep->acl;
    r.source_ref = jstr(doc, "source_ref");
    snprintf(r.event, sizeof r.event, "%s", jstr(doc, "event") ? jstr(doc, "event") : "");
    snprintf(r.mode, sizeof r.mode, "%s", jstr(doc, "mode") ? jstr(doc, "mode") : "");
    r.future = json_is_true(json_object_get(doc, "future"));
    const char *s = jstr(doc, "start"), *e = jstr(doc, "end");
    if (!r.id || !s || !e || ts_parse(s, &r.start, NULL) || ts_parse(e, &r.end, NULL)) {
        json_decref(doc);
        return 0; /* not an event report the index could use: left out */
    }
    json_t *loc = json_object_get(doc, "location");
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    r.lat = json_is_number(lat) ? json_number_value(lat) : NAN;
    r.lon = json_is_number(lon) ? json_number_value(lon) : NAN;
    json_t *prec = json_object_get(loc, "precision_m");
    r.precision_m = json_is_number(prec) ? json_number_value(prec) : 0;
    r.zone = jstr(loc, "area");
    const char *rel = jstr(doc, "reliability");
    r.reliability = rel ? rel[0] : 'F';
    json_t *cred = json_object_get(doc, "credibility");
    r.credibility = json_is_integer(cred) ? (int)json_integer_value(cred) : 6;
    json_t *fat = json_object_get(doc, "fatalities");
    r.has_fatalities = json_is_integer(fat) && json_integer_value(fat) >= 0;
    r.fatalities = r.has_fatalities ? json_integer_value(fat) : 0;
    r.dist_to_line_m = -1;
    if (fusion_report_check(&r) != 0) {
        json_decref(doc);
        return 0;
    }
    if (g->n == g->alloc) {
        g->alloc = g->alloc ? g->alloc * 2 : 64;
        g->v = xrealloc(g->v, g->alloc * sizeof(*g->v));
    }
    g->v[g->n].doc = doc;
    g->v[g->n].r = r;
    g->n++;
    return 0;
}

static int vis_by_seq(const void *a, const void *b)
{
    int64_t x = ((const struct vis *)a)->r.seq, y = ((const struct vis *)b)->r.seq;
    return x < y ? -1 : x > y;
}

/* The incidents, newest first (by the latest start among their reports). */
struct inc_out {
    const struct fusion_incident *inc;
    vtime_t start, end;
};

static int out_newest(const void *a, const void *b)
{
    const struct inc_out *x = a, *y = b;
    if (x->start != y->start)
        return x->start > y->start ? -1 : 1;
    int64_t i = fusion_incident_id(x->inc), j = fusion_incident_id(y->inc);
    return i > j ? -1 : i < j;
}

static json_t *time_str(vtime_t t)
{
    char b[TS_BUFSZ];
    return json_string(ts_format(t, 0, b));
}

/* The place of an incident's reports: the mean of their points, else the name of an area
 * one of them gives. */
static json_t *place_json(const struct fusion_report *const *m, size_t n)
{
    double slat = 0, slon = 0;
    size_t nloc = 0;
    const char *area = NULL;
    for (size_t i = 0; i < n; i++) {
        if (fusion_report_located(m[i])) {
            slat += m[i]->lat;
            slon += m[i]->lon;
            nloc++;
        } else if (m[i]->zone) {
            area = m[i]->zone;
        }
    }
    return nloc ? json_pack("{s:f, s:f}", "lat", slat / (double)nloc, "lon", slon / (double)nloc)
                : json_pack("{s:s?}", "area", area);
}

/* The report of m[0..n) the hub indexed first: it names the incident. */
static const struct fusion_report *first_report(const struct fusion_report *const *m, size_t n)
{
    const struct fusion_report *first = m[0];
    for (size_t i = 1; i < n; i++)
        if (m[i]->seq < first->seq)
            first = m[i];
    return first;
}

/* The UUID of a STIX id ("type--UUID"), or the id itself. */
static const char *uuid_of(const char *id)
{
    const char *d = strstr(id, "--");
    return d ? d + 2 : id;
}

/* The JSON of one incident; reports' docs are found by seq in g (sorted by seq). */
static json_t *incident_json(const struct gather *g, const struct inc_out *o,
                             const struct fusion_conf *cf, struct audit_list *reads)
{
    size_t n;
    const struct fusion_report *const *m = fusion_incident_reports(o->inc, &n);
    json_t *reps = json_array(), *ids = json_array();
    for (size_t i = 0; i < n; i++) {
        struct vis key = {.r = {.seq = m[i]->seq}};
        const struct vis *v = bsearch(&key, g->v, g->n, sizeof(*g->v), vis_by_seq);
        json_array_append(reps, v->doc);
        json_array_append_new(ids, json_string(m[i]->id));
        char item[128];
        snprintf(item, sizeof item, "\"%s\"", m[i]->id);
        audit_list_add(reads, item);
    }
    const struct fusion_report *first = first_report(m, n);
    json_t *place = place_json(m, n);
    char id[160];
    snprintf(id, sizeof id, "incident--%s", uuid_of(first->id));
    return json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:I, s:b, s:o, s:o}", "id", id, "event",
                     first->event, "future", (int)first->future, "start", time_str(o->start), "end",
                     time_str(o->end), "place", place, "sources", (json_int_t)cf->sources,
                     "confidence", (json_int_t)cf->confidence, "corroborated",
                     (int)(cf->sources >= 2), "report_ids", ids, "reports", reps);
}

/* Builds the incident of g's report `seq` (g sorted by seq, correlated in c). */
static json_t *incident_of(const struct gather *g, struct fusion_correlator *c, int64_t seq,
                           struct audit_list *reads)
{
    const struct fusion_report *me = fusion_corr_get(c, seq);
    if (!me)
        return NULL;
    size_t n;
    const struct fusion_report *const *m = fusion_incident_reports(fusion_corr_incident(me), &n);
    struct inc_out o = {fusion_corr_incident(me), m[0]->start, m[0]->end};
    for (size_t k = 1; k < n; k++) {
        o.start = m[k]->start > o.start ? o.start : m[k]->start;
        o.end = m[k]->end < o.end ? o.end : m[k]->end;
    }
    struct fusion_conf cf;
    fusion_confidence(m, n, &cf);
    return incident_json(g, &o, &cf, reads);
}

json_t *incident_around(struct store_reader *r, const struct policy_reader *reader,
                        const char *report_id)
{
    /* the report as this reader may read it */
    struct gather one = {0}, g = {0};
    int rc = store_report_get(r, report_id, policy_visible, (void *)reader, gather_one, &one);
    if (rc < 0 || !one.n) {
        for (size_t i = 0; i < one.n; i++)
            json_decref(one.v[i].doc);
        free(one.v);
        return NULL;
    }
    const struct fusion_report *me = &one.v[0].r;
    /* its neighbourhood: whatever could match it (R + precisions, the tolerance) */
    struct fusion_corr_params cp;
    fusion_corr_params_default(&cp);
    struct store_report_query nq = {.future = me->future ? 1 : 0,
                                    .event = me->event,
                                    .since = me->start - cp.tolerance_us,
                                    .until = me->end + cp.tolerance_us,
                                    .limit = INCIDENT_REPORTS_MAX,
                                    .visible = policy_visible,
                                    .visible_ctx = (void *)reader};
    if (fusion_report_located(me)) {
        double reach = (cp.radius_m + 2 * cp.max_precision_m) / 111195.0;
        double c = cos(me->lat * M_PI / 180);
        double rlon = c > 0.05 ? reach / c : 180;
        nq.has_bbox = true;
        nq.min_lat = me->lat - reach > -90 ? me->lat - reach : -90;
        nq.max_lat = me->lat + reach < 90 ? me->lat + reach : 90;
        nq.min_lon = me->lon - rlon > -180 ? me->lon - rlon : -180;
        nq.max_lon = me->lon + rlon < 180 ? me->lon + rlon : 180;
    }
    bool more = false;
    json_t *out = NULL;
    int64_t seq = me->seq;
    if (store_reports_query(r, &nq, gather_one, &g, &more) == 0 && !more && g.n) {
        qsort(g.v, g.n, sizeof(*g.v), vis_by_seq);
        struct fusion_correlator *c = fusion_corr_new(&cp);
        const struct fusion_report *stored;
        for (size_t i = 0; i < g.n; i++)
            fusion_corr_add(c, &g.v[i].r, 0, &stored);
        struct audit_list reads;
        audit_list_init(&reads);
        out = incident_of(&g, c, seq, &reads);
        free(audit_list_detail(&reads, "")); /* the stream's events are not audited as reads */
        fusion_corr_free(c);
    }
    for (size_t i = 0; i < g.n; i++)
        json_decref(g.v[i].doc);
    free(g.v);
    for (size_t i = 0; i < one.n; i++)
        json_decref(one.v[i].doc);
    free(one.v);
    return out;
}

/* ---- STIX: groupings for the TAXII alerts collection ------------------------------------ */

/* The rows a reader may read among the newest of the report index, correlated as they come
 * (in seq order: the correlator's fast path, and the incidents of docs/FUSION.md); the
 * correlator copies the rows' strings. */
struct row_set {
    struct fusion_correlator *c;
    int64_t *seqs;
    size_t n, alloc;
};

static int gather_row(void *ctx, const struct store_report_row *row)
{
    struct row_set *g = ctx;
    struct fusion_report fr;
    fusion_report_of_row(row, &fr);
    if (fr.added <= 0)
        fr.added = 1; /* a legacy row: not known */
    const struct fusion_report *stored;
    if (fusion_corr_add(g->c, &fr, 0, &stored) != 0)
        return 0; /* not one the index could use: left out, as by the REST endpoint */
    if (g->n == g->alloc) {
        g->alloc = g->alloc ? 2 * g->alloc : 256;
        g->seqs = xrealloc(g->seqs, g->alloc * sizeof *g->seqs);
    }
    g->seqs[g->n++] = row->seq;
    return 0;
}

static int vtime_cmp(const void *a, const void *b)
{
    vtime_t x = *(const vtime_t *)a, y = *(const vtime_t *)b;
    return x < y ? -1 : x > y;
}

/* The grouping of one incident of two or more reports, all of which its reader may read. */
static json_t *incident_stix(const struct fusion_incident *inc)
{
    size_t n;
    const struct fusion_report *const *m = fusion_incident_reports(inc, &n);
    vtime_t *added = xcalloc(n, sizeof *added);
    vtime_t start = m[0]->start, end = m[0]->end;
    enum tlp_level tlp = TLP_CLEAR;
    json_t *refs = json_array();
    for (size_t i = 0; i < n; i++) {
        added[i] = m[i]->added;
        start = m[i]->start < start ? m[i]->start : start;
        end = m[i]->end > end ? m[i]->end : end;
        tlp = tlp_stricter(tlp, (enum tlp_level)m[i]->acl.tlp);
        json_array_append_new(refs, json_string(m[i]->id));
    }
    const struct fusion_report *first = first_report(m, n);
    vtime_t born = first->added;
    qsort(added, n, sizeof *added, vtime_cmp);
    struct fusion_conf cf;
    fusion_confidence(m, n, &cf);
    char id[96], created[TS_BUFSZ], modified[TS_BUFSZ], day[TS_BUFSZ], name[256];
    snprintf(id, sizeof id, "grouping--%s", uuid_of(first->id));
    ts_format(start, 0, day);
    day[10] = '\0';
    snprintf(name, sizeof name, "%s%s on %s: %zu reports from %zu source%s", first->event,
             first->future ? " (planned)" : "", day, n, cf.sources, cf.sources == 1 ? "" : "s");
    /* created: when the hub accepted the report that names it (the same for every reader
     * who gets this id, and every version); modified: the latest report it holds
     * (view_version in server/taxii.c adds the microseconds) */
    json_t *ext =
        json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:b}", "extension_type",
                  "property-extension", "event", first->event, "future", (int)first->future,
                  "start", time_str(start), "end", time_str(end), "place", place_json(m, n),
                  "sources", (json_int_t)cf.sources, "corroborated", (int)(cf.sources >= 2));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:{s:o}}", "type", "grouping",
                  "spec_version", "2.1", "id", id, "created_by_ref", PROFILE_IDENTITY_ID, "created",
                  ts_format(born, 3, created), "modified", ts_format(added[n - 1], 3, modified),
                  "name", name, "context", "fused-incident", "object_refs", refs, "confidence",
                  (json_int_t)cf.confidence, "extensions", PROFILE_INCIDENT_EXT_ID, ext);
    const char *mark = tlp_marking_id(tlp); /* the strictest of its reports' */
    if (mark)
        json_object_set_new(o, "object_marking_refs", json_pack("[s]", mark));
    free(added);
    return o;
}

struct seqs {
    int64_t *v;
    size_t n, cap;
};

static void add_seq(void *ctx, int64_t seq)
{
    struct seqs *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = seq;
}

json_t *incidents_stix(struct store_reader *r, const struct policy_reader *reader)
{
    json_t *out = json_array();
    /* The newest INCIDENT_REPORTS_MAX reports the reader may read. The hub's newest rows
     * instead would let another partner's reports, hidden from the reader, push the reader's
     * incidents out, and tell the reader how many there were (S3). Finding them reads the
     * handling of every row back to the last of them: all rows for a reader who may read few;
     * only theirs are read whole. */
    struct seqs mine = {0};
    if (store_reports_newest(r, INCIDENT_REPORTS_MAX, policy_visible, (void *)reader, add_seq,
                             &mine)) {
        free(mine.v);
        return out;
    }
    struct fusion_corr_params cp;
    fusion_corr_params_default(&cp);
    struct row_set g = {fusion_corr_new(&cp), NULL, 0, 0};
    int rc = 0;
    /* each run of consecutive seqs in one read, oldest first (mine is newest first) */
    for (size_t end = mine.n; end > 0 && !rc;) {
        size_t newest = end - 1;
        while (newest > 0 && mine.v[newest - 1] == mine.v[newest] + 1)
            newest--;
        rc = store_reports_after(r, mine.v[end - 1] - 1, end - newest, policy_visible,
                                 (void *)reader, gather_row, &g);
        end = newest;
    }
    free(mine.v);
    if (!rc) {
        for (size_t i = 0; i < g.n; i++) {
            const struct fusion_report *me = fusion_corr_get(g.c, g.seqs[i]);
            const struct fusion_incident *inc = me ? fusion_corr_incident(me) : NULL;
            size_t n = 0;
            if (inc)
                fusion_incident_reports(inc, &n);
            if (!inc || n < 2 || fusion_incident_id(inc) != me->seq)
                continue; /* each incident of two or more reports once */
            json_array_append_new(out, incident_stix(inc));
        }
    }
    fusion_corr_free(g.c);
    free(g.seqs);
    return out;
}

static void h_incidents(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    struct inc_args x = {.q = {.future = -1}, .corroborated = -1, .limit = 100};
    http_query_foreach(req, inc_arg, &x);
    if (x.bad) {
        app_error(req, resp, 400, "bad request", x.bad);
        return;
    }
    if (x.limit > (size_t)a->cfg->page_max)
        x.limit = (size_t)a->cfg->page_max;
    const struct auth_principal *p = app_principal(req);
    x.q.visible = policy_visible;
    x.q.visible_ctx = (void *)&p->reader;
    x.q.limit = INCIDENT_REPORTS_MAX;
    struct store_reader *r;
    if (!rest_reader(a, req, resp, &r))
        return;
    struct gather g = {0};
    bool more = false;
    int rc = store_reports_query(r, &x.q, gather_one, &g, &more);
    store_read_end(r);
    struct audit_list reads;
    audit_list_init(&reads);
    if (rc) {
        app_error(req, resp, 500, "cannot query reports", NULL);
    } else if (more) {
        app_error(req, resp, 400, "bad request",
                  "too many reports in the window: narrow bbox or since/until");
    } else {
        /* in seq order: the correlator's fast path, and the incidents of docs/FUSION.md */
        if (g.n)
            qsort(g.v, g.n, sizeof(*g.v), vis_by_seq);
        struct fusion_corr_params cp;
        fusion_corr_params_default(&cp);
        struct fusion_correlator *c = fusion_corr_new(&cp);
        const struct fusion_report *stored;
        for (size_t i = 0; i < g.n; i++)
            fusion_corr_add(c, &g.v[i].r, 0, &stored);
        struct inc_out *outs = xmalloc((g.n + 1) * sizeof(*outs));
        size_t nout = 0;
        for (size_t i = 0; i < g.n; i++) {
            const struct fusion_report *me = fusion_corr_get(c, g.v[i].r.seq);
            const struct fusion_incident *inc = me ? fusion_corr_incident(me) : NULL;
            if (!inc || fusion_incident_id(inc) != me->seq)
                continue; /* each incident once: through its first report */
            size_t n;
            const struct fusion_report *const *m = fusion_incident_reports(inc, &n);
            struct inc_out o = {inc, m[0]->start, m[0]->end};
            for (size_t k = 1; k < n; k++) {
                o.start = m[k]->start > o.start ? o.start : m[k]->start;
                o.end = m[k]->end < o.end ? o.end : m[k]->end;
            }
            outs[nout++] = o;
        }
        qsort(outs, nout, sizeof(*outs), out_newest);
        json_t *list = json_array();
        for (size_t i = 0; i < nout && json_array_size(list) < x.limit; i++) {
            size_t n;
            const struct fusion_report *const *m = fusion_incident_reports(outs[i].inc, &n);
            struct fusion_conf cf;
            fusion_confidence(m, n, &cf);
            if (x.corroborated >= 0 && (cf.sources >= 2) != (x.corroborated == 1))
                continue;
            json_array_append_new(list, incident_json(&g, &outs[i], &cf, &reads));
        }
        free(outs);
        fusion_corr_free(c);
        rest_reply(resp, 200, json_pack("{s:o}", "incidents", list));
    }
    for (size_t i = 0; i < g.n; i++)
        json_decref(g.v[i].doc);
    free(g.v);
    app_audit_read(a, req, &reads, "reports", "");
}

const struct http_route rest_incident_routes[] = {
    {"GET", "/api/v1/incidents", h_incidents, "incidents", false},
};
const size_t rest_incident_nroutes = sizeof rest_incident_routes / sizeof rest_incident_routes[0];
