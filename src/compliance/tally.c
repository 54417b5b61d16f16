/* tally.c - tallies by party x zone x day, and the daily compliance report (S8).
 *
 * Every number here is computed from the violations that cmp_visible() lets through for the
 * reader, and from nothing else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "compliance/compliance_int.h"

#define DAY COMPLIANCE_DAY_US

int compliance_day_parse(const char *s, vtime_t *out)
{
    if (!s)
        return VIGIL_EINVAL;
    char buf[40];
    size_t n = strlen(s);
    if (n == 10) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        s = buf;
    }
    vtime_t t;
    if (ts_parse(s, &t, NULL) || t < REPORT_TIME_MIN || t > REPORT_TIME_MAX)
        return VIGIL_EINVAL;
    vtime_t d = t / DAY * DAY;
    if (d > t)
        d -= DAY; /* before 1970 */
    *out = d;
    return 0;
}

static void day_text(vtime_t t, char out[16])
{
    char ts[TS_BUFSZ];
    ts_format(t, 0, ts);
    snprintf(out, 16, "%.10s", ts);
}

int compliance_format_parse(const char *s, enum compliance_format *out)
{
    static const char *const names[] = {"html", "json", "csv"};
    for (int i = 0; s && i < 3; i++)
        if (strcmp(names[i], s) == 0) {
            *out = (enum compliance_format)i;
            return 0;
        }
    return VIGIL_EINVAL;
}

/* ---- collecting visible violations ----------------------------------------------------- */

/* One visible violation. `uncertain`: its timing is uncertain and no analyst has confirmed it,
 * so it is counted apart (docs/COMPLIANCE.md, "Attribution and timing"). */
struct rec {
    char *party, *zone, *report;
    long day; /* days since the window's start */
    bool confirmed, uncertain, exchange;
};

struct collect {
    struct store_reader *r;
    const struct cmp_set *set;
    const struct policy_reader *reader;
    vtime_t since;
    struct rec *v;
    size_t n;
    json_t *docs; /* when not NULL: the resources too */
};

static bool detail_is(const char *detail, const char *key, const char *value)
{
    json_t *d = json_loads(detail ? detail : "", 0, NULL);
    const char *x = json_string_value(json_object_get(d, key));
    bool eq = x && strcmp(x, value) == 0;
    json_decref(d);
    return eq;
}

static int collect_one(void *ctx, const struct store_violation *v)
{
    struct collect *c = ctx;
    if (!cmp_visible(c->r, c->set, c->reader, v))
        return 0;
    bool confirmed = strcmp(v->status, "confirmed") == 0;
    c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (struct rec){xstrdup(v->party),
                                xstrdup(v->zone),
                                xstrdup(v->report),
                                (long)((v->time - c->since) / DAY),
                                confirmed,
                                !confirmed && detail_is(v->detail, "timing", "uncertain"),
                                detail_is(v->detail, "attribution", "exchange")};
    if (c->docs)
        json_array_append_new(c->docs, cmp_violation_json(c->r, c->set, c->reader, v, false));
    return 0;
}

static void collect_release(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].party);
        free(c->v[i].zone);
        free(c->v[i].report);
    }
    free(c->v);
}

static int rec_cmp(const void *x, const void *y)
{
    const struct rec *a = x, *b = y;
    int d = strcmp(a->party, b->party);
    if (!d)
        d = strcmp(a->zone, b->zone);
    if (!d)
        d = (a->day > b->day) - (a->day < b->day);
    return d;
}

/* By party, then report: the rows of one (party, report) are one event for the party. */
static int rec_cmp_report(const void *x, const void *y)
{
    const struct rec *a = x, *b = y;
    int d = strcmp(a->party, b->party);
    if (!d)
        d = strcmp(a->report, b->report);
    if (!d)
        d = (a->day > b->day) - (a->day < b->day);
    return d;
}

static const char *zone_name(const struct cmp_set *set, const char *zone_id)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct cmp_zone *z = cmp_entry_zone(&set->v[i], zone_id);
        if (z)
            return z->name;
    }
    return "";
}

static double round3(double x)
{
    return round(x * 1000.0) / 1000.0;
}

static json_t *pct(long now, long before)
{
    if (before == 0)
        return json_null();
    return json_real(round(1000.0 * (double)(now - before) / (double)before) / 10.0);
}

/* Counts of one key (a party, a zone, the total) in the period and the previous one. */
struct counts {
    long all, confirmed, uncertain, exchange;
};

struct group {
    const char *key;
    struct counts now, prev;
};

static struct group *group_find(struct group **g, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*g)[i].key, key) == 0)
            return &(*g)[i];
    *g = xrealloc(*g, (*n + 1) * sizeof **g);
    (*g)[*n] = (struct group){.key = key};
    return &(*g)[(*n)++];
}

static int group_cmp(const void *x, const void *y)
{
    return strcmp(((const struct group *)x)->key, ((const struct group *)y)->key);
}

static void counts_add(struct counts *c, const struct rec *x)
{
    if (x->uncertain) {
        c->uncertain++;
        return;
    }
    c->all++;
    c->confirmed += x->confirmed;
    c->exchange += x->exchange;
}

static json_t *groups_json(const struct cmp_set *set, struct group *g, size_t n, bool zones)
{
    if (n)
        qsort(g, n, sizeof *g, group_cmp);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o =
            zones ? json_pack("{s:s, s:s}", "zone", g[i].key, "zone_name", zone_name(set, g[i].key))
                  : json_pack("{s:s}", "party", g[i].key);
        json_object_set_new(o, "all", json_integer(g[i].now.all));
        json_object_set_new(o, "confirmed", json_integer(g[i].now.confirmed));
        json_object_set_new(o, "uncertain", json_integer(g[i].now.uncertain));
        if (!zones)
            json_object_set_new(o, "exchange", json_integer(g[i].now.exchange));
        json_object_set_new(o, "previous_all", json_integer(g[i].prev.all));
        json_object_set_new(o, "previous_confirmed", json_integer(g[i].prev.confirmed));
        json_object_set_new(o, "change_all", json_integer(g[i].now.all - g[i].prev.all));
        json_object_set_new(o, "change_confirmed",
                            json_integer(g[i].now.confirmed - g[i].prev.confirmed));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Computes the tallies over c's records: c->since is the start of the fetched window, which
 * begins `lead` days before the period of ndays days. Zones (cells, by_zone) count each
 * violation; parties, totals and days count each (party, report) once, however many zones or
 * agreements it falls in. */
static json_t *tallies_json(struct collect *c, vtime_t from, int ndays, long lead)
{
    long *day_all = xcalloc((size_t)(lead + ndays), sizeof *day_all);
    long *day_conf = xcalloc((size_t)(lead + ndays), sizeof *day_conf);
    json_t *cells = json_array();
    struct group *parties = NULL, *zones = NULL;
    size_t np = 0, nz = 0;
    struct counts tot = {0}, ptot = {0};
    char d[16];
    /* zones: party x zone x day cells */
    if (c->n) /* qsort must not be given NULL, even for no elements */
        qsort(c->v, c->n, sizeof *c->v, rec_cmp);
    for (size_t i = 0; i < c->n;) {
        size_t j = i;
        struct counts cell = {0};
        for (; j < c->n && rec_cmp(&c->v[i], &c->v[j]) == 0; j++)
            counts_add(&cell, &c->v[j]);
        const struct rec *x = &c->v[i];
        long pd = x->day - lead; /* day within the period; negative: before it */
        struct group *gz = group_find(&zones, &nz, x->zone);
        for (size_t k = i; k < j; k++) {
            if (pd >= 0 && pd < ndays)
                counts_add(&gz->now, &c->v[k]);
            else if (pd < 0 && pd >= -(long)ndays)
                counts_add(&gz->prev, &c->v[k]);
        }
        if (pd >= 0 && pd < ndays) {
            day_text(from + pd * DAY, d);
            json_array_append_new(
                cells, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "day", d, "party",
                                 x->party, "zone", x->zone, "zone_name", zone_name(c->set, x->zone),
                                 "all", (json_int_t)cell.all, "confirmed",
                                 (json_int_t)cell.confirmed, "uncertain",
                                 (json_int_t)cell.uncertain));
        }
        i = j;
    }
    /* parties, totals, days: one per (party, report) */
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, rec_cmp_report);
    for (size_t i = 0; i < c->n;) {
        struct rec one = c->v[i]; /* the earliest day; confirmed or exchange in any zone */
        size_t j = i;
        bool certain = false;
        for (; j < c->n && strcmp(c->v[i].party, c->v[j].party) == 0 &&
               strcmp(c->v[i].report, c->v[j].report) == 0;
             j++) {
            one.confirmed |= c->v[j].confirmed;
            one.exchange |= c->v[j].exchange;
            certain |= !c->v[j].uncertain;
        }
        one.uncertain = !certain && !one.confirmed;
        long pd = one.day - lead;
        struct group *gp = group_find(&parties, &np, one.party);
        if (one.day >= 0 && one.day < lead + ndays && !one.uncertain) {
            day_all[one.day]++;
            day_conf[one.day] += one.confirmed;
        }
        if (pd >= 0 && pd < ndays) {
            counts_add(&gp->now, &one);
            counts_add(&tot, &one);
        } else if (pd < 0 && pd >= -(long)ndays) {
            counts_add(&gp->prev, &one);
            counts_add(&ptot, &one);
        }
        i = j;
    }
    /* cells in (day, party, zone) order */
    json_t *sorted = json_array();
    for (int day = 0; day < ndays; day++) {
        day_text(from + day * DAY, d);
        size_t k;
        json_t *cell;
        json_array_foreach (cells, k, cell)
            if (strcmp(json_string_value(json_object_get(cell, "day")), d) == 0)
                json_array_append(sorted, cell);
    }
    json_decref(cells);
    json_t *daily = json_array();
    for (int day = 0; day < ndays; day++) {
        long idx = lead + day, s7a = 0, s7c = 0;
        for (long k = idx - 6; k <= idx; k++)
            if (k >= 0)
                s7a += day_all[k], s7c += day_conf[k];
        day_text(from + day * DAY, d);
        json_array_append_new(daily, json_pack("{s:s, s:I, s:I, s:f, s:f}", "day", d, "all",
                                               (json_int_t)day_all[idx], "confirmed",
                                               (json_int_t)day_conf[idx], "rate7_all",
                                               round3((double)s7a / 7.0), "rate7_confirmed",
                                               round3((double)s7c / 7.0)));
    }
    char f[16], t[16], pf[16], pt[16];
    day_text(from, f);
    day_text(from + (ndays - 1) * DAY, t);
    day_text(from - ndays * DAY, pf);
    day_text(from - DAY, pt);
    long all = tot.all, conf = tot.confirmed, pall = ptot.all, pconf = ptot.confirmed;
    json_t *out = json_pack(
        "{s:s, s:s, s:i, s:{s:I, s:I}, s:I, s:I, s:{s:s, s:s, s:I, s:I}, s:{s:I, s:I, s:o, s:o}}",
        "from", f, "to", t, "days", ndays, "totals", "all", (json_int_t)all, "confirmed",
        (json_int_t)conf, "uncertain", (json_int_t)tot.uncertain, "exchange",
        (json_int_t)tot.exchange, "previous", "from", pf, "to", pt, "all", (json_int_t)pall,
        "confirmed", (json_int_t)pconf, "change", "all", (json_int_t)(all - pall), "confirmed",
        (json_int_t)(conf - pconf), "all_pct", pct(all, pall), "confirmed_pct", pct(conf, pconf));
    json_object_set_new(out, "by_party", groups_json(c->set, parties, np, false));
    json_object_set_new(out, "by_zone", groups_json(c->set, zones, nz, true));
    json_object_set_new(out, "daily", daily);
    json_object_set_new(out, "cells", sorted);
    free(parties);
    free(zones);
    free(day_all);
    free(day_conf);
    return out;
}

/* Collects what reader sees of [from - lead days, from + ndays days). */
static int collect_window(struct store_reader *r, const struct cmp_set *set,
                          const struct policy_reader *reader, vtime_t from, int ndays, long lead,
                          struct collect *c)
{
    *c = (struct collect){r, set, reader, from - lead * DAY, NULL, 0, c->docs};
    struct store_violation_query q = {.since = c->since, .until = from + ndays * DAY};
    return store_violations_query(r, &q, collect_one, c);
}

int compliance_tallies(struct store_reader *r, const struct policy_reader *reader, vtime_t from,
                       int ndays, json_t **out)
{
    *out = NULL;
    if (ndays < 1 || ndays > 366)
        return VIGIL_EINVAL;
    struct cmp_set *set;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    long lead = ndays > 6 ? ndays : 6;
    struct collect c = {0};
    rc = collect_window(r, set, reader, from, ndays, lead, &c);
    if (!rc)
        *out = tallies_json(&c, from, ndays, lead);
    collect_release(&c);
    cmp_set_put(set);
    return rc;
}

/* ---- the daily report ------------------------------------------------------------------ */

static void html_text(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': buf_adds(b, "&lt;"); break;
        case '>': buf_adds(b, "&gt;"); break;
        case '&': buf_adds(b, "&amp;"); break;
        case '"': buf_adds(b, "&quot;"); break;
        case '\'': buf_adds(b, "&#39;"); break;
        default: buf_addc(b, *s);
        }
    }
}

static void csv_text(struct buf *b, const char *s, bool last)
{
    /* A leading =, +, -, @, tab or CR would be a formula to a spreadsheet: quote it away. */
    bool formula = s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = strpbrk(s, ",\"\r\n") || formula;
    if (formula)
        buf_addc(b, '"'), buf_addc(b, '\'');
    else if (quote)
        buf_addc(b, '"');
    for (const char *p = s; quote && *p; p++) {
        if (*p == '"')
            buf_addc(b, '"');
        buf_addc(b, *p);
    }
    if (quote)
        buf_addc(b, '"');
    else
        buf_adds(b, s);
    buf_addc(b, last ? '\n' : ',');
}

static const char *jstr(const json_t *o, const char *k1, const char *k2)
{
    const json_t *v = json_object_get(o, k1);
    if (k2)
        v = json_object_get(v, k2);
    return json_is_string(v) ? json_string_value(v) : "";
}

static void csv_rows(struct buf *b, const json_t *list)
{
    buf_adds(b, "id,time,party,agreement,zone,zone_kind,event,mode,lat,lon,area,status,"
                "evidence\n");
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v) {
        char lat[32] = "", lon[32] = "";
        json_t *loc = json_object_get(v, "location");
        if (json_object_get(loc, "lat")) {
            snprintf(lat, sizeof lat, "%.6f", json_number_value(json_object_get(loc, "lat")));
            snprintf(lon, sizeof lon, "%.6f", json_number_value(json_object_get(loc, "lon")));
        }
        struct buf ev;
        buf_init(&ev, BUF_NOCAP);
        size_t k;
        json_t *e;
        json_array_foreach (json_object_get(v, "evidence"), k, e)
            buf_addf(&ev, "%s%s", k ? " " : "", json_string_value(e));
        csv_text(b, jstr(v, "id", NULL), false);
        csv_text(b, jstr(v, "time", NULL), false);
        csv_text(b, jstr(v, "party", NULL), false);
        csv_text(b, jstr(v, "agreement", "name"), false);
        csv_text(b, jstr(v, "zone", "name"), false);
        csv_text(b, jstr(v, "zone", "kind"), false);
        csv_text(b, jstr(v, "event", NULL), false);
        csv_text(b, jstr(v, "mode", NULL), false);
        buf_addf(b, "%s,%s,", lat, lon); /* numbers we formatted: never a formula */
        csv_text(b, jstr(loc, "area", NULL), false);
        csv_text(b, jstr(v, "status", NULL), false);
        csv_text(b, ev.data, true);
        buf_release(&ev);
    }
}

/* The map: an equirectangular projection of the box around the zones and the violations,
 * with longitude scaled by cos(latitude) so that shapes keep their proportions. */
struct proj {
    struct geo_bbox box;
    double sx, sy, w, h;
};

static void proj_xy(const struct proj *p, struct geo_point pt, double *x, double *y)
{
    *x = 10 + (pt.lon - p->box.min_lon) * p->sx;
    *y = 10 + (p->box.max_lat - pt.lat) * p->sy;
}

static void svg_line(struct buf *b, const struct proj *p, const struct geo_line *l, bool ring)
{
    for (size_t i = 0; i < l->n; i++) {
        double x, y;
        proj_xy(p, l->pts[i], &x, &y);
        buf_addf(b, "%s%.1f,%.1f", i ? " L" : "M", x, y);
    }
    if (ring)
        buf_adds(b, " Z");
}

static const char *kind_colour(enum cmp_zone_kind k)
{
    static const char *const c[] = {"#f4a261", "#e76f51", "#e63946", "#2a9d8f", "#457b9d"};
    return (unsigned)k < 5 ? c[k] : "#999";
}

static void svg_map(struct buf *b, const struct cmp_set *set, const struct policy_reader *reader,
                    const json_t *list)
{
    struct proj p;
    geo_bbox_empty(&p.box);
    for (size_t i = 0; i < set->n; i++)
        if (policy_can_read(reader, &set->v[i].acl))
            for (size_t j = 0; j < set->v[i].a.nzones; j++) {
                const struct geo_bbox *zb = &set->v[i].a.zones[j].geom.bbox;
                geo_bbox_add(&p.box, (struct geo_point){zb->min_lat, zb->min_lon});
                geo_bbox_add(&p.box, (struct geo_point){zb->max_lat, zb->max_lon});
            }
    size_t i;
    json_t *v;
    json_array_foreach (list, i, v) {
        json_t *loc = json_object_get(v, "location");
        if (json_object_get(loc, "lat"))
            geo_bbox_add(&p.box,
                         (struct geo_point){json_number_value(json_object_get(loc, "lat")),
                                            json_number_value(json_object_get(loc, "lon"))});
    }
    if (!(p.box.max_lat >= p.box.min_lat)) {
        buf_adds(b, "<p>No zones to draw.</p>\n");
        return;
    }
    double dlat = p.box.max_lat - p.box.min_lat, dlon = p.box.max_lon - p.box.min_lon;
    double k = cos((p.box.min_lat + p.box.max_lat) / 2 * M_PI / 180.0);
    dlat = dlat > 1e-6 ? dlat : 1e-6;
    dlon = dlon > 1e-6 ? dlon : 1e-6;
    double w = 640, h = w * dlat / (dlon * k);
    if (h > 900)
        h = 900, w = h * dlon * k / dlat;
    p.sx = w / dlon;
    p.sy = h / dlat;
    buf_addf(b,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\" width=\"%.0f\" "
             "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"map of zones "
             "and violations\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f9fa\"/>\n",
             w + 20, h + 20, w + 20, h + 20);
    for (size_t a = 0; a < set->n; a++) {
        if (!policy_can_read(reader, &set->v[a].acl))
            continue;
        for (size_t j = 0; j < set->v[a].a.nzones; j++) {
            const struct cmp_zone *z = &set->v[a].a.zones[j];
            const struct geo_geometry *g = &z->geom;
            buf_addf(b, "<g class=\"zone\" data-kind=\"%s\"><title>", cmp_zone_kind_name(z->kind));
            html_text(b, z->name);
            buf_addf(b, " (%s)</title>", cmp_zone_kind_name(z->kind));
            const char *col = kind_colour(z->kind);
            if (g->type == GEO_POINT) {
                double x, y;
                proj_xy(&p, g->point, &x, &y);
                buf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>",
                         x - 4, y - 4, col);
            } else if (g->n_polys) {
                buf_adds(b, "<path fill-rule=\"evenodd\" d=\"");
                for (size_t q = 0; q < g->n_polys; q++)
                    for (size_t r = 0; r < g->polys[q].n_rings; r++) {
                        buf_addc(b, ' ');
                        svg_line(b, &p, &g->polys[q].rings[r], true);
                    }
                buf_addf(b, "\" fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\"/>", col, col);
            } else {
                buf_adds(b, "<path fill=\"none\" d=\"");
                for (size_t q = 0; q < g->n_lines; q++) {
                    buf_addc(b, ' ');
                    svg_line(b, &p, &g->lines[q], false);
                }
                buf_addf(b, "\" stroke=\"%s\" stroke-width=\"3\"/>", col);
            }
            buf_adds(b, "</g>\n");
        }
    }
    json_array_foreach (list, i, v) {
        json_t *loc = json_object_get(v, "location");
        if (!json_object_get(loc, "lat"))
            continue;
        double x, y;
        struct geo_point pt = {json_number_value(json_object_get(loc, "lat")),
                               json_number_value(json_object_get(loc, "lon"))};
        proj_xy(&p, pt, &x, &y);
        bool confirmed = strcmp(jstr(v, "status", NULL), "confirmed") == 0;
        buf_addf(b,
                 "<circle class=\"violation\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" "
                 "stroke=\"#000\"><title>",
                 x, y, confirmed ? 6 : 4, confirmed ? "#b00020" : "#ffffff");
        html_text(b, jstr(v, "party", NULL));
        buf_adds(b, ": ");
        html_text(b, jstr(v, "event", NULL));
        buf_adds(b, " (");
        html_text(b, jstr(v, "status", NULL));
        buf_adds(b, ")</title></circle>\n");
    }
    buf_adds(b, "</svg>\n");
}

static void html_groups(struct buf *b, const char *title, const json_t *groups, bool zones)
{
    buf_addf(b,
             "<h2>%s</h2>\n<table><tr><th>%s</th><th>all</th><th>confirmed</th>"
             "<th>previous day (all)</th><th>change (all)</th></tr>\n",
             title, zones ? "zone" : "party");
    size_t i;
    json_t *g;
    json_array_foreach (groups, i, g) {
        buf_adds(b, "<tr><td>");
        html_text(b, jstr(g, zones ? "zone_name" : "party", NULL));
        buf_addf(b, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%+lld</td></tr>\n",
                 (long long)json_integer_value(json_object_get(g, "all")),
                 (long long)json_integer_value(json_object_get(g, "confirmed")),
                 (long long)json_integer_value(json_object_get(g, "previous_all")),
                 (long long)json_integer_value(json_object_get(g, "change_all")));
    }
    buf_adds(b, "</table>\n");
}

/* "amber+strict" -> "AMBER+STRICT" */
static void marking_label(const char *marking, char up[16])
{
    size_t i = 0;
    for (; marking[i] && i + 1 < 16; i++)
        up[i] = (char)(marking[i] >= 'a' && marking[i] <= 'z' ? marking[i] - 32 : marking[i]);
    up[i] = '\0';
}

/* The TLP banner: the marking's name, in the TLP 2.0 colours (on black). */
static void html_banner(struct buf *b, const char *marking, const char *where)
{
    char up[16];
    marking_label(marking, up);
    buf_addf(b, "<div class=\"tlp tlp-%s %s\" role=\"note\" aria-label=\"marking\">TLP:%s</div>\n",
             strcmp(marking, "amber+strict") == 0 ? "amber-strict" : marking, where, up);
}

static void html_report(struct buf *b, const struct cmp_set *set,
                        const struct policy_reader *reader, const struct compliance_view *view,
                        const char *marking, const char *date, const json_t *t,
                        const json_t *list)
{
    const json_t *tot = json_object_get(t, "totals"), *prev = json_object_get(t, "previous");
    long long all = json_integer_value(json_object_get(tot, "all"));
    long long conf = json_integer_value(json_object_get(tot, "confirmed"));
    long long pall = json_integer_value(json_object_get(prev, "all"));
    long long pconf = json_integer_value(json_object_get(prev, "confirmed"));
    char up[16], ts[TS_BUFSZ];
    marking_label(marking, up);
    buf_addf(b,
             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<title>TLP:%s Daily compliance report %s</title>\n<style>\n"
             "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
             "th{background:#eee}.map{border:1px solid #ccc;max-width:100%%;height:auto}\n"
             ".tlp{display:inline-block;background:#000;font:bold 1.1em monospace;"
             "padding:.2em .6em;margin:.3em 0;-webkit-print-color-adjust:exact;"
             "print-color-adjust:exact}\n.tlp-clear{color:#fff}.tlp-green{color:#33ff00}"
             ".tlp-amber,.tlp-amber-strict{color:#ffc000}.tlp-red{color:#ff2b2b}"
             ".tlp-unknown{color:#fff}\n.view{color:#555}\n"
             "@media print{@page{size:A4;margin:18mm 12mm}body{margin:0;font-size:10pt}"
             ".tlp.top{position:fixed;top:-14mm;right:0}.tlp.bottom{position:fixed;bottom:-14mm;"
             "right:0}h2{break-after:avoid}tr,svg{break-inside:avoid}"
             "table{width:100%%}th{background:#eee;-webkit-print-color-adjust:exact;"
             "print-color-adjust:exact}}\n</style></head><body>\n",
             up, date);
    html_banner(b, marking, "top");
    buf_addf(b, "<h1>Daily compliance report &mdash; %s (UTC)</h1>\n<p class=\"view\">The view of ",
             date);
    html_text(b, view->user);
    buf_adds(b, " (");
    html_text(b, view->partner);
    buf_addf(b,
             "): only what is shared with them is counted. Generated %s. Marked TLP:%s, the "
             "strictest marking of what it is made from.</p>\n",
             ts_format(view->generated, 0, ts), up);
    buf_addf(b,
             "<h2>Summary</h2>\n<p class=\"summary\">%lld violation(s) recorded, %lld "
             "confirmed. Previous day: %lld recorded, %lld confirmed (change: %+lld recorded, "
             "%+lld confirmed).</p>\n",
             all, conf, pall, pconf, all - pall, conf - pconf);
    long long unc = json_integer_value(json_object_get(t, "uncertain"));
    if (unc)
        buf_addf(b, "<p class=\"uncertain\">%lld more of uncertain timing (the event may lie "
                    "outside the prohibition's window): counted apart, to review.</p>\n", unc);
    html_groups(b, "By party", json_object_get(t, "by_party"), false);
    html_groups(b, "By zone", json_object_get(t, "by_zone"), true);
    buf_adds(b, "<h2>Confirmed violations</h2>\n<table class=\"confirmed\"><tr><th>time</th>"
                "<th>party</th><th>zone</th><th>act</th><th>place</th><th>evidence</th></tr>\n");
    size_t i, n = 0;
    json_t *v;
    json_array_foreach (list, i, v) {
        if (strcmp(jstr(v, "status", NULL), "confirmed") != 0)
            continue;
        n++;
        buf_adds(b, "<tr><td>");
        html_text(b, jstr(v, "time", NULL));
        buf_adds(b, "</td><td>");
        html_text(b, jstr(v, "party", NULL));
        buf_adds(b, "</td><td>");
        html_text(b, jstr(v, "zone", "name"));
        buf_adds(b, " (");
        html_text(b, jstr(v, "zone", "kind"));
        buf_adds(b, ")</td><td>");
        html_text(b, jstr(v, "event", NULL));
        if (jstr(v, "mode", NULL)[0]) {
            buf_adds(b, " / ");
            html_text(b, jstr(v, "mode", NULL));
        }
        buf_adds(b, "</td><td>");
        json_t *loc = json_object_get(v, "location");
        if (json_object_get(loc, "lat"))
            buf_addf(b, "%.5f, %.5f", json_number_value(json_object_get(loc, "lat")),
                     json_number_value(json_object_get(loc, "lon")));
        else
            html_text(b, jstr(loc, "area", NULL));
        buf_adds(b, "</td><td>");
        size_t k;
        json_t *e;
        json_array_foreach (json_object_get(v, "evidence"), k, e) {
            buf_adds(b, k ? "<br>" : "");
            html_text(b, json_string_value(e));
        }
        buf_adds(b, "</td></tr>\n");
    }
    if (!n)
        buf_adds(b, "<tr><td colspan=\"6\">none</td></tr>\n");
    buf_adds(b, "</table>\n<h2>Map</h2>\n");
    svg_map(b, set, reader, list);
    buf_adds(b, "<p>Zones are drawn from the agreements' geometries; filled red circles are "
                "confirmed violations, white ones candidates still under verification.</p>\n");
    html_banner(b, marking, "bottom");
    buf_adds(b, "</body></html>\n");
}

/* The strictest marking of what the daily report of `day` is made from: the agreements it
 * draws and names, and the violations of the day and the previous day it counts. */
static int daily_marking(struct store_reader *r, const struct cmp_set *set,
                         const struct policy_reader *reader, vtime_t day, enum tlp_level *out)
{
    enum tlp_level m = TLP_CLEAR;
    for (size_t i = 0; i < set->n; i++)
        if (policy_can_read(reader, &set->v[i].acl))
            m = tlp_stricter(m, (enum tlp_level)set->v[i].acl.tlp);
    struct collect c = {.docs = json_array()};
    json_t *docs = c.docs;
    int rc = collect_window(r, set, reader, day - DAY, 2, 0, &c);
    collect_release(&c);
    size_t i;
    json_t *v;
    json_array_foreach (docs, i, v) {
        enum tlp_level l;
        if (tlp_parse(jstr(v, "marking", NULL), &l))
            l = TLP_UNKNOWN;
        m = tlp_stricter(m, l);
    }
    json_decref(docs);
    *out = m;
    return rc;
}

int compliance_daily(struct store_reader *r, const struct policy_reader *reader,
                     const struct compliance_view *view, vtime_t day, enum compliance_format fmt,
                     struct buf *out)
{
    struct cmp_set *set;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    json_t *list = json_array();
    struct collect c = {.docs = NULL};
    rc = collect_window(r, set, reader, day, 1, 6, &c);
    json_t *t = rc ? NULL : tallies_json(&c, day, 1, 6);
    collect_release(&c);
    if (!rc) {
        /* the day's violations, as resources */
        c = (struct collect){.docs = list};
        rc = collect_window(r, set, reader, day, 1, 0, &c);
        collect_release(&c);
    }
    enum tlp_level level = TLP_CLEAR;
    if (!rc)
        rc = daily_marking(r, set, reader, day, &level);
    const char *marking = tlp_name(level);
    char date[16], ts[TS_BUFSZ];
    day_text(day, date);
    if (!rc && fmt == COMPLIANCE_CSV) {
        csv_rows(out, list);
    } else if (!rc && fmt == COMPLIANCE_JSON) {
        json_t *confirmed = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (list, i, v)
            if (strcmp(jstr(v, "status", NULL), "confirmed") == 0)
                json_array_append(confirmed, v);
        const json_t *tot = json_object_get(t, "totals"), *prev = json_object_get(t, "previous");
        json_t *doc = json_pack(
            "{s:s, s:{s:O, s:O, s:O, s:O, s:O, s:O}, s:O, s:O, s:o, s:O}", "date", date, "summary",
            "all", json_object_get(tot, "all"), "confirmed", json_object_get(tot, "confirmed"),
            "previous_all", json_object_get(prev, "all"), "previous_confirmed",
            json_object_get(prev, "confirmed"), "change_all",
            json_object_get(json_object_get(t, "change"), "all"), "change_confirmed",
            json_object_get(json_object_get(t, "change"), "confirmed"), "by_party",
            json_object_get(t, "by_party"), "by_zone", json_object_get(t, "by_zone"), "confirmed",
            confirmed, "violations", list);
        json_object_set_new(doc, "marking", json_string(marking));
        json_object_set_new(doc, "view", json_pack("{s:s, s:s}", "user", view->user, "partner",
                                                   view->partner));
        json_object_set_new(doc, "generated", json_string(ts_format(view->generated, 0, ts)));
        rc = vjson_dump(doc, out);
        json_decref(doc);
    } else if (!rc) {
        html_report(out, set, reader, view, marking, date, t, list);
    }
    json_decref(t);
    json_decref(list);
    cmp_set_put(set);
    return rc;
}
