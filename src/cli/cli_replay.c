/* cli_replay.c - vigil replay: back-test the rules and detectors on the stored history (S7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "compliance/compliance.h"
#include "fusion/escalation.h"
#include "intel/csv.h"
#include "intel/text.h"
#include "service/alerts.h"

static const char help[] =
    "usage: vigil --data DIR replay --as USER [--rules FILE] [--evaluate CEASEFIRES.csv [--json]]\n"
    "\n"
    "Re-runs fusion over every stored report, by event time, with the current rules (or those\n"
    "of FILE), and prints the alerts USER would see, one JSON object per line, as they would\n"
    "have fired at the time. Live alerts and their status are not touched: use it to\n"
    "back-test a rule change on past crises before reloading the server's rules.\n"
    "\n"
    "--evaluate judges those alerts against known ceasefires (CSV with the columns conflict,\n"
    "start, end_or_collapse and name, as tests/data/real/ceasefires.csv; an optional column\n"
    "area names the zone whose alerts count (a reports' area or an agreement's zone), else the\n"
    "conflict if an area of that name holds reports, else the overall series). Per ceasefire\n"
    "and per rule or detector it prints the warnings before the collapse and their lead time,\n"
    "false alarms per quiet month, and the alarms carried over from the fighting before;\n"
    "--json prints it as one JSON document.\n"
    "--conflict NAME keeps the ceasefires of that conflict only. --truce-regime gives the truce\n"
    "starts to the escalation detectors of the whole series: a truce is then judged against its\n"
    "own quiet level rather than the fighting before it (docs/FUSION.md: on the real data it\n"
    "costs more false alarms than it gains warnings, so it is not the default; an agreement's\n"
    "zone is judged so from the day the agreement took effect unless truce_zones = off).\n"
    "See docs/FUSION.md (Back-testing).\n";

#define DAY_US (INT64_C(86400) * VTIME_US_PER_SEC)
#define QUIET_MAX_DAYS 90 /* an open-ended truce is judged on its first 90 days at most */
#define LATE_DAYS 14      /* an alarm this soon after a collapse detected it, late */

struct replay_args {
    const char *data, *user, *rules, *evaluate, *conflict;
    bool json, truces;
};

static int64_t day_of(vtime_t t)
{
    return t / DAY_US - (t < 0 && t % DAY_US);
}

/* ---- what the store holds: the days with reports, per area and overall ------------------- */

struct held {
    char **area; /* area names; index 0 is the overall series (NULL) */
    size_t narea;
    int64_t (*days)[2]; /* (area index, day), sorted */
    size_t n, alloc;
    const struct policy_reader *reader; /* only what they may read */
    struct store_reader *r;             /* for the agreements' handling */
    struct compliance_places *places;   /* the agreements' zones, read once */
    struct held_agreement {             /* whether the reader may read each agreement met */
        char id[80];
        bool readable;
    } *agr;
    size_t nagr;
};

/* Whether h's reader may read agreement id (its handling read once per agreement). */
static bool agreement_readable(struct held *h, const char *id)
{
    for (size_t i = 0; i < h->nagr; i++)
        if (strcmp(h->agr[i].id, id) == 0)
            return h->agr[i].readable;
    struct store_acl acl;
    bool ok = compliance_agreement_acl(h->r, id, &acl) == 0 &&
              policy_visible((void *)h->reader, &acl);
    h->agr = xrealloc(h->agr, (h->nagr + 1) * sizeof(*h->agr));
    snprintf(h->agr[h->nagr].id, sizeof h->agr[h->nagr].id, "%s", id);
    h->agr[h->nagr++].readable = ok;
    return ok;
}

static size_t area_index(struct held *h, const char *area)
{
    for (size_t i = 1; i < h->narea; i++)
        if (strcmp(h->area[i], area) == 0)
            return i;
    h->area = xrealloc(h->area, (h->narea + 1) * sizeof(*h->area));
    h->area[h->narea] = xstrdup(area);
    return h->narea++;
}

static void held_push(struct held *h, size_t a, int64_t d)
{
    if (h->n == h->alloc) {
        h->alloc = h->alloc ? 2 * h->alloc : 1024;
        h->days = xrealloc(h->days, h->alloc * sizeof(*h->days));
    }
    h->days[h->n][0] = (int64_t)a;
    h->days[h->n][1] = d;
    h->n++;
}

static int held_row(void *ctx, const struct store_report_row *row)
{
    struct held *h = ctx;
    if (!policy_visible((void *)h->reader, &row->acl))
        return 0;
    int64_t d = day_of(row->start);
    held_push(h, 0, d);
    if (row->area && row->area[0]) {
        held_push(h, area_index(h, row->area), d);
        return 0;
    }
    /* the zone of an agreement the reader may read, as the alert service places the report */
    if (!row->has_point)
        return 0;
    struct compliance_place place;
    compliance_place_in(h->places, row->lat, row->lon, &place);
    if (place.zone[0] && agreement_readable(h, place.zone_agreement))
        held_push(h, area_index(h, place.zone), d);
    return 0;
}

static int cmp_pair(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* True when area a holds a report on a day in [d0, d1]. */
static bool held_any(const struct held *h, size_t a, int64_t d0, int64_t d1)
{
    size_t lo = 0, hi = h->n;
    int64_t key[2] = {(int64_t)a, d0};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_pair(h->days[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->n && h->days[lo][0] == (int64_t)a && h->days[lo][1] <= d1;
}

/* The last day area a holds a report, or INT64_MIN. */
static int64_t held_last(const struct held *h, size_t a)
{
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < h->n; i++)
        if (h->days[i][0] == (int64_t)a && h->days[i][1] > last)
            last = h->days[i][1];
    return last;
}

static void held_free(struct held *h)
{
    for (size_t i = 0; i < h->narea; i++)
        free(h->area[i]);
    free(h->area);
    free(h->days);
    free(h->agr);
    compliance_places_free(h->places);
}

/* ---- the ceasefires ------------------------------------------------------------------------ */

struct ceasefire {
    char *conflict, *name, *area;
    int64_t start, collapse; /* days; collapse INT64_MIN when none is known */
    int64_t end;             /* the end of the period judged */
};

static int parse_day(const char *s, int64_t *d)
{
    vtime_t t;
    if (strlen(s) != 10 || text_parse_iso_datetime(s, &t) != 0)
        return VIGIL_EINVAL;
    *d = day_of(t);
    return 0;
}

static int read_ceasefires(const char *path, const char *conflict, struct ceasefire **out,
                           size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "vigil: %s: cannot open\n", path);
        return 1;
    }
    struct csv_reader cr;
    csv_init(&cr, f, ',', true);
    char msg[CSV_MSG_SZ];
    int col[5] = {-1, -1, -1, -1, -1}; /* conflict, start, end_or_collapse, name, area */
    static const char *const names[5] = {"conflict", "start", "end_or_collapse", "name", "area"};
    int rc, bad = 0;
    bool header = true;
    *out = NULL;
    *n = 0;
    while ((rc = csv_next(&cr, msg)) != 0) {
        if (rc < 0) {
            fprintf(stderr, "vigil: %s:%zu: %s\n", path, cr.rec_line, msg);
            bad = 1;
            break;
        }
        if (header) {
            for (size_t i = 0; i < cr.n_fields; i++)
                for (int k = 0; k < 5; k++)
                    if (strcmp(cr.fields[i], names[k]) == 0)
                        col[k] = (int)i;
            if (col[0] < 0 || col[1] < 0 || col[2] < 0 || col[3] < 0) {
                fprintf(stderr, "vigil: %s: the header needs conflict, start, end_or_collapse and"
                                " name\n", path);
                bad = 1;
                break;
            }
            header = false;
            continue;
        }
        if (conflict && (size_t)col[0] < cr.n_fields && strcmp(cr.fields[col[0]], conflict) != 0)
            continue;
        struct ceasefire c = {.collapse = INT64_MIN};
        const char *coll = (size_t)col[2] < cr.n_fields ? cr.fields[col[2]] : "";
        if ((size_t)col[3] >= cr.n_fields || parse_day(cr.fields[col[1]], &c.start) ||
            (*coll && parse_day(coll, &c.collapse)) ||
            (c.collapse != INT64_MIN && c.collapse < c.start)) {
            fprintf(stderr, "vigil: %s:%zu: bad start or end_or_collapse date\n", path,
                    cr.rec_line);
            bad = 1;
            break;
        }
        c.conflict = xstrdup(cr.fields[col[0]]);
        c.name = xstrdup(cr.fields[col[3]]);
        c.area = xstrdup(col[4] >= 0 && (size_t)col[4] < cr.n_fields ? cr.fields[col[4]] : "");
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = c;
    }
    if (!bad && header) {
        fprintf(stderr, "vigil: %s: empty\n", path);
        bad = 1;
    }
    csv_release(&cr);
    fclose(f);
    return bad;
}

static void ceasefires_free(struct ceasefire *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].conflict);
        free(c[i].name);
        free(c[i].area);
    }
    free(c);
}

/* ---- evaluation ---------------------------------------------------------------------------- */

struct alarm {
    const char *rule, *area; /* borrowed from the alert JSON */
    int64_t first, last;     /* the day it fired and the last day of its window */
};

static json_t *day_json(int64_t d)
{
    char b[TS_BUFSZ];
    ts_format(d * DAY_US, 0, b);
    b[10] = '\0';
    return json_string(b);
}

/* One detector on one ceasefire. */
static json_t *judge(const struct ceasefire *c, const char *rule, const char *area,
                     const struct alarm *al, size_t nal)
{
    int warnings = 0, late = 0, falses = 0, carried = 0;
    int64_t first = INT64_MIN;
    for (size_t i = 0; i < nal; i++) {
        const struct alarm *a = &al[i];
        if (strcmp(a->rule, rule) != 0 || (area ? !a->area || strcmp(a->area, area) != 0
                                                : a->area != NULL))
            continue;
        if (a->first < c->start) {
            if (a->last >= c->start)
                carried++; /* the fighting before went on into the truce */
            continue;
        }
        if (c->collapse != INT64_MIN) {
            if (a->first < c->collapse) {
                warnings++;
                if (first == INT64_MIN || a->first < first)
                    first = a->first;
            } else if (a->first <= c->collapse + LATE_DAYS) {
                late++;
            }
        } else if (a->first < c->end) {
            falses++;
        }
    }
    json_t *o = json_pack("{s:s, s:i, s:i}", "rule", rule, "carried_over", carried,
                          "late", late);
    if (c->collapse != INT64_MIN) {
        json_object_set_new(o, "warnings", json_integer(warnings));
        json_object_set_new(o, "first_warning", first == INT64_MIN ? json_null() : day_json(first));
        json_object_set_new(o, "lead_days", first == INT64_MIN
                                                ? json_null()
                                                : json_integer(c->collapse - first));
    } else {
        double months = (double)(c->end - c->start) / 30.44;
        json_object_set_new(o, "false_alarms", json_integer(falses));
        json_object_set_new(o, "quiet_months", json_real(round(months * 100) / 100));
    }
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *evaluate(struct ceasefire *cf, size_t ncf, const struct held *h, json_t *list)
{
    /* the alarms, and the detectors: every rule that alerted, and the escalation detectors */
    size_t nal = json_array_size(list), nrules = FUSION_ESC_MEASURES;
    struct alarm *al = xcalloc(nal + 1, sizeof(*al));
    const char **rules = xcalloc(nal + FUSION_ESC_MEASURES, sizeof(*rules));
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        rules[m] = fusion_esc_name(m);
    for (size_t i = 0; i < nal; i++) {
        json_t *a = json_array_get(list, i);
        vtime_t fired = 0, end = 0;
        ts_parse(json_string_value(json_object_get(a, "fired_at")), &fired, NULL);
        ts_parse(json_string_value(json_object_get(a, "end")), &end, NULL);
        al[i].rule = json_string_value(json_object_get(a, "rule"));
        al[i].area = json_string_value(json_object_get(a, "area"));
        /* an escalation alert's fired_at is the end of its first alarm day */
        al[i].first = day_of(fired - (strncmp(al[i].rule, "escalation", 10) == 0));
        al[i].last = day_of(end);
        bool seen = false;
        for (size_t k = 0; k < nrules && !seen; k++)
            seen = strcmp(rules[k], al[i].rule) == 0;
        if (!seen)
            rules[nrules++] = al[i].rule;
    }
    qsort(rules + FUSION_ESC_MEASURES, nrules - FUSION_ESC_MEASURES, sizeof(*rules), cmp_str);
    json_t *out = json_array();
    for (size_t i = 0; i < ncf; i++) {
        struct ceasefire *c = &cf[i];
        /* the series: the area column, else an area named after the conflict, else overall */
        const char *area = NULL;
        size_t ai = 0;
        const char *want = c->area[0] ? c->area : c->conflict;
        for (size_t k = 1; k < h->narea; k++)
            if (strcmp(h->area[k], want) == 0) {
                area = h->area[k];
                ai = k;
            }
        if (c->area[0] && !area)
            area = c->area; /* named but holding nothing: no data */
        /* the period judged: to the collapse, else to the next truce of the conflict or 90
         * days, and never past the data */
        c->end = c->collapse != INT64_MIN ? c->collapse : c->start + QUIET_MAX_DAYS;
        for (size_t k = 0; c->collapse == INT64_MIN && k < ncf; k++)
            if (k != i && !strcmp(cf[k].conflict, c->conflict) && cf[k].start > c->start &&
                cf[k].start < c->end)
                c->end = cf[k].start;
        int64_t last = (area && !ai) ? INT64_MIN : held_last(h, ai);
        if (c->collapse == INT64_MIN && last < c->end)
            c->end = last + 1;
        bool data = !(area && !ai) && c->end > c->start &&
                    held_any(h, ai, c->start - 42, c->start) &&
                    held_any(h, ai, c->start, c->end);
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:b}", "conflict", c->conflict, "name",
                              c->name, "start", day_json(c->start), "collapse",
                              c->collapse == INT64_MIN ? json_null() : day_json(c->collapse),
                              "series", area ? area : "overall", "data", data);
        if (data) {
            json_object_set_new(o, "judged_until", day_json(c->end));
            json_t *det = json_array();
            for (size_t k = 0; k < nrules; k++)
                json_array_append_new(det, judge(c, rules[k], area, al, nal));
            json_object_set_new(o, "detectors", det);
        }
        json_array_append_new(out, o);
    }
    /* the summary per detector */
    json_t *sum = json_array();
    for (size_t k = 0; k < nrules; k++) {
        int collapses = 0, warned2 = 0, falses = 0, carried = 0;
        double months = 0;
        size_t i;
        json_t *c;
        json_array_foreach (out, i, c) {
            json_t *det = json_object_get(c, "detectors"), *d = json_array_get(det, k);
            if (!d)
                continue;
            carried += (int)json_integer_value(json_object_get(d, "carried_over"));
            if (json_object_get(d, "lead_days")) {
                collapses++;
                json_t *lead = json_object_get(d, "lead_days");
                if (json_is_integer(lead) && json_integer_value(lead) >= 2)
                    warned2++;
            } else {
                falses += (int)json_integer_value(json_object_get(d, "false_alarms"));
                months += json_real_value(json_object_get(d, "quiet_months"));
            }
        }
        json_array_append_new(
            sum, json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:i}", "rule", rules[k], "collapses",
                           collapses, "warned_2_days_before", warned2, "false_alarms", falses,
                           "quiet_months", round(months * 100) / 100, "false_alarms_per_month",
                           months > 0 ? round(falses / months * 1000) / 1000 : 0.0,
                           "carried_over", carried));
    }
    free(al);
    free(rules);
    return json_pack("{s:o, s:o}", "ceasefires", out, "summary", sum);
}

static void print_table(const json_t *ev)
{
    size_t i, k;
    json_t *c, *d;
    printf("%-16s %-36s %-10s %-10s %-19s %s\n", "conflict", "ceasefire", "start", "collapse",
           "detector", "result");
    json_array_foreach (json_object_get(ev, "ceasefires"), i, c) {
        const char *coll = json_string_value(json_object_get(c, "collapse"));
        if (!json_is_true(json_object_get(c, "data"))) {
            printf("%-16.16s %-36.36s %-10s %-10s %-19s no data in the store\n",
                   json_string_value(json_object_get(c, "conflict")),
                   json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "start")), coll ? coll : "-", "-");
            continue;
        }
        json_array_foreach (json_object_get(c, "detectors"), k, d) {
            char res[160];
            int carried = (int)json_integer_value(json_object_get(d, "carried_over"));
            if (coll) {
                json_t *lead = json_object_get(d, "lead_days");
                if (json_is_integer(lead))
                    snprintf(res, sizeof res, "warned %lld day(s) before (%lld warning(s))",
                             (long long)json_integer_value(lead),
                             (long long)json_integer_value(json_object_get(d, "warnings")));
                else
                    snprintf(res, sizeof res, "no warning before; %lld alarm(s) within %d days "
                             "after", (long long)json_integer_value(json_object_get(d, "late")),
                             LATE_DAYS);
            } else {
                snprintf(res, sizeof res, "%lld false alarm(s) in %.1f quiet month(s)",
                         (long long)json_integer_value(json_object_get(d, "false_alarms")),
                         json_real_value(json_object_get(d, "quiet_months")));
            }
            printf("%-16.16s %-36.36s %-10s %-10s %-19.19s %s%s\n",
                   json_string_value(json_object_get(c, "conflict")),
                   json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "start")), coll ? coll : "-",
                   json_string_value(json_object_get(d, "rule")), res,
                   carried ? "; alarm carried over from the fighting before" : "");
        }
    }
    printf("\n%-19s %9s %9s %12s %12s %10s\n", "detector", "collapses", "warned>=2d",
           "false alarms", "quiet months", "per month");
    json_array_foreach (json_object_get(ev, "summary"), i, d)
        printf("%-19.19s %9lld %9lld %12lld %12.1f %10.3f\n",
               json_string_value(json_object_get(d, "rule")),
               (long long)json_integer_value(json_object_get(d, "collapses")),
               (long long)json_integer_value(json_object_get(d, "warned_2_days_before")),
               (long long)json_integer_value(json_object_get(d, "false_alarms")),
               json_real_value(json_object_get(d, "quiet_months")),
               json_real_value(json_object_get(d, "false_alarms_per_month")));
}

static int run(struct store *s, void *arg)
{
    struct replay_args *x = arg;
    struct ceasefire *cf = NULL;
    size_t ncf = 0;
    if (x->evaluate && read_ceasefires(x->evaluate, x->conflict, &cf, &ncf))
        return 1;
    struct auth_principal p;
    if (auth_principal_for_user(s, x->user, &p)) {
        fprintf(stderr, "vigil: no user named \"%s\"\n", x->user);
        ceasefires_free(cf, ncf);
        return 1;
    }
    char *path = x->rules ? xstrdup(x->rules) : xasprintf("%s/rules.conf", x->data);
    json_t *list = NULL;
    char msg[256];
    int64_t *truces = xcalloc(ncf + 1, sizeof(*truces));
    for (size_t i = 0; x->truces && i < ncf; i++)
        truces[i] = cf[i].start;
    int rc = alerts_replay(s, path, truces, x->truces ? ncf : 0, &p.reader, &list, msg);
    free(truces);
    free(path);
    if (rc) {
        auth_principal_release(&p);
        fprintf(stderr, "vigil: %s\n", msg);
        ceasefires_free(cf, ncf);
        return 1;
    }
    if (x->evaluate) {
        /* the days that hold reports the user may read, per area: which truces the data covers */
        struct held h = {.reader = &p.reader};
        area_index(&h, ""); /* index 0: overall */
        struct store_reader *r;
        rc = store_read_begin(s, &r);
        if (!rc) {
            h.r = r;
            rc = compliance_places_get(r, &h.places);
            if (!rc)
                rc = store_reports_after(r, 0, 0, policy_visible, (void *)&p.reader, held_row,
                                         &h);
            store_read_end(r);
        }
        if (!rc) {
            qsort(h.days, h.n, sizeof(*h.days), cmp_pair);
            json_t *ev = evaluate(cf, ncf, &h, list);
            if (x->json) {
                char *text = vjson_dumps(ev);
                printf("%s\n", text);
                free(text);
            } else {
                print_table(ev);
            }
            json_decref(ev);
        } else {
            fprintf(stderr, "vigil: cannot read the store\n");
        }
        held_free(&h);
    } else {
        size_t i;
        json_t *a;
        json_array_foreach (list, i, a) {
            char *line = vjson_dumps(a);
            printf("%s\n", line);
            free(line);
        }
        fprintf(stderr, "%zu alert(s)\n", json_array_size(list));
    }
    auth_principal_release(&p);
    json_decref(list);
    ceasefires_free(cf, ncf);
    return rc ? 1 : 0;
}

int cli_replay(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    struct replay_args x = {.data = data};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            x.user = argv[++i];
        else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            x.rules = argv[++i];
        else if (strcmp(argv[i], "--evaluate") == 0 && i + 1 < argc)
            x.evaluate = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            x.json = true;
        else if (strcmp(argv[i], "--conflict") == 0 && i + 1 < argc)
            x.conflict = argv[++i];
        else if (strcmp(argv[i], "--truce-regime") == 0)
            x.truces = true;
        else {
            fputs(help, stderr);
            return 2;
        }
    }
    if (!x.user || ((x.json || x.conflict || x.truces) && !x.evaluate)) {
        fputs(help, stderr);
        return 2;
    }
    return cli_with_store(data, run, &x);
}
