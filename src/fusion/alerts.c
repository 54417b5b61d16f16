/* alerts.c - alert evidence, lifecycle and per-reader views. See alerts.h. */
#include "fusion/alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "fusion/confidence.h"

static const char *const status_names[] = {"new", "acknowledged", "resolved", "false_alarm"};

const char *fusion_alert_status_name(enum fusion_alert_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "unknown";
}

int fusion_alert_status_parse(const char *s, enum fusion_alert_status *out)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, status_names[i])) {
            *out = (enum fusion_alert_status)i;
            return 0;
        }
    return VIGIL_EINVAL;
}

static struct fusion_alert *alert_alloc(int64_t id, const char *key, vtime_t now)
{
    struct fusion_alert *a = xcalloc(1, sizeof(*a));
    a->id = id;
    a->key = xstrdup(key);
    a->created = a->updated = now;
    a->lat = a->lon = NAN;
    a->status = FUSION_ALERT_NEW;
    return a;
}

struct fusion_alert *fusion_alert_new_rule(int64_t id, const char *key, struct fusion_rules *rs,
                                           const struct fusion_rule *rule,
                                           const struct fusion_corr_params *corr, vtime_t now)
{
    struct fusion_alert *a = alert_alloc(id, key, now);
    a->kind = FUSION_ALERT_RULE;
    a->rules = fusion_rules_ref(rs);
    a->rule = rule;
    a->corr = *corr;
    memcpy(a->rule_name, rule->name, sizeof(a->rule_name));
    memcpy(a->title, rule->title, sizeof(a->title));
    a->severity = rule->severity;
    return a;
}

struct fusion_alert *fusion_alert_new_escalation(int64_t id, const char *key,
                                                 const struct fusion_esc_params *p,
                                                 const char *zone, vtime_t now)
{
    struct fusion_alert *a = alert_alloc(id, key, now);
    a->kind = FUSION_ALERT_ESCALATION;
    a->esc = *p;
    a->esc_zone = xstrdup(zone);
    snprintf(a->rule_name, sizeof(a->rule_name), "%s", fusion_esc_name(p->measure));
    const char *what = p->measure == FUSION_ESC_FATAL ? "deadly violence" : "violent events";
    if (zone)
        snprintf(a->title, sizeof(a->title), "Escalation of %s in %s", what, zone);
    else
        snprintf(a->title, sizeof(a->title), "Escalation of %s overall", what);
    a->severity = (enum fusion_severity)p->severity;
    return a;
}

void fusion_alert_free(struct fusion_alert *a)
{
    if (!a)
        return;
    fusion_rules_unref(a->rules);
    free(a->key);
    free(a->was);
    free(a->esc_zone);
    free(a->days);
    free(a->gone);
    fusion_rvec_release(&a->evidence);
    fusion_rvec_release(&a->triggers);
    for (size_t i = 0; i < a->nhistory; i++) {
        free(a->history[i].who);
        free(a->history[i].on);
    }
    free(a->history);
    free(a);
}

size_t fusion_alert_memory(const struct fusion_alert *a)
{
    size_t b = sizeof(*a) + strlen(a->key) + 1 + (a->esc_zone ? strlen(a->esc_zone) + 1 : 0) +
               a->ndays * sizeof(*a->days) + a->nhistory * sizeof(*a->history) +
               (a->evidence.alloc + a->triggers.alloc) * sizeof(*a->evidence.v) +
               a->ngone * sizeof(*a->gone);
    for (size_t i = 0; i < a->nhistory; i++)
        b += strlen(a->history[i].who) + 1 + a->history[i].non * sizeof(*a->history[i].on);
    return b;
}

/* Inserts r into v kept in ascending seq; false when present. */
static bool seq_insert(struct fusion_rvec *v, const struct fusion_report *r)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->v[mid]->seq < r->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < v->n && v->v[lo]->seq == r->seq)
        return false;
    fusion_rvec_push(v, r);
    memmove(&v->v[lo + 1], &v->v[lo], (v->n - 1 - lo) * sizeof(*v->v));
    v->v[lo] = r;
    return true;
}

static size_t seq_find(const struct fusion_report *const *v, size_t n, int64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo]->seq == seq ? lo : SIZE_MAX;
}

bool fusion_alert_add_evidence(struct fusion_alert *a, const struct fusion_report *r)
{
    return seq_insert(&a->evidence, r);
}

bool fusion_alert_add_trigger(struct fusion_alert *a, const struct fusion_report *r)
{
    bool n = seq_insert(&a->triggers, r);
    return seq_insert(&a->evidence, r) || n;
}

/* Takes r out of v; false when it was not there. */
static bool seq_remove(struct fusion_rvec *v, const struct fusion_report *r)
{
    size_t i = seq_find(v->v, v->n, r->seq);
    if (i >= v->n || v->v[i] != r)
        return false;
    fusion_rvec_remove_at(v, i);
    return true;
}

bool fusion_alert_remove(struct fusion_alert *a, const struct fusion_report *r, vtime_t at)
{
    seq_remove(&a->triggers, r);
    if (!seq_remove(&a->evidence, r))
        return false;
    for (size_t i = 0; i < a->ngone; i++) { /* one per handling: bounded however many go */
        if (store_acl_same(&a->gone[i].acl, &r->acl)) {
            a->gone[i].at = at > a->gone[i].at ? at : a->gone[i].at;
            return true;
        }
    }
    a->gone = xrealloc(a->gone, (a->ngone + 1) * sizeof(*a->gone));
    a->gone[a->ngone++] = (struct fusion_gone){.acl = r->acl, .at = at};
    return true;
}

bool fusion_alert_add_day(struct fusion_alert *a, int64_t day)
{
    size_t i = 0;
    while (i < a->ndays && a->days[i] < day)
        i++;
    if (i < a->ndays && a->days[i] == day)
        return false;
    a->days = xrealloc(a->days, (a->ndays + 1) * sizeof(*a->days));
    memmove(&a->days[i + 1], &a->days[i], (a->ndays - i) * sizeof(*a->days));
    a->days[i] = day;
    a->ndays++;
    return true;
}

bool fusion_alert_remove_day(struct fusion_alert *a, int64_t day)
{
    for (size_t i = 0; i < a->ndays; i++)
        if (a->days[i] == day) {
            memmove(&a->days[i], &a->days[i + 1], (a->ndays - i - 1) * sizeof(*a->days));
            a->ndays--;
            return true;
        }
    return false;
}

bool fusion_alert_open(const struct fusion_alert *a)
{
    return a->status == FUSION_ALERT_NEW || a->status == FUSION_ALERT_ACKNOWLEDGED;
}

/* True when the lifecycle allows from -> to. */
static bool step_allowed(enum fusion_alert_status from, enum fusion_alert_status to)
{
    return (from == FUSION_ALERT_NEW &&
            (to == FUSION_ALERT_ACKNOWLEDGED || to == FUSION_ALERT_FALSE_ALARM)) ||
           (from == FUSION_ALERT_ACKNOWLEDGED &&
            (to == FUSION_ALERT_RESOLVED || to == FUSION_ALERT_FALSE_ALARM));
}

int fusion_alert_transition(struct fusion_alert *a, enum fusion_alert_status seen,
                            enum fusion_alert_status to, const char *who, vtime_t at,
                            const int64_t *on, size_t non)
{
    if (!who || !who[0])
        return VIGIL_EINVAL;
    if (!step_allowed(seen, to))
        return VIGIL_ECONFLICT;
    a->history = xrealloc(a->history, (a->nhistory + 1) * sizeof(*a->history));
    struct fusion_transition *t = &a->history[a->nhistory++];
    *t = (struct fusion_transition){.from = seen, .to = to, .who = xstrdup(who), .at = at};
    t->non = on ? non : a->evidence.n;
    t->on = xmalloc((t->non + 1) * sizeof(*t->on));
    for (size_t i = 0; i < t->non; i++)
        t->on[i] = on ? on[i] : a->evidence.v[i]->seq;
    if (step_allowed(a->status, to))
        a->status = to;
    if (at > a->updated)
        a->updated = at; /* a status change is an update readers are told about */
    return 0;
}

/* ---- views ------------------------------------------------------------------------------ */

static void view_finish(struct fusion_alert_view *out, const struct fusion_rvec *ev)
{
    out->evidence = ev->v;
    out->nevidence = ev->n;
    out->start = out->end = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (i == 0 || ev->v[i]->start < out->start)
            out->start = ev->v[i]->start;
        if (i == 0 || ev->v[i]->end > out->end)
            out->end = ev->v[i]->end;
    }
}

static void view_rule(const struct fusion_alert *a, const struct fusion_report **vis, size_t n,
                      struct fusion_alert_view *out)
{
    size_t *comp = xmalloc((n + 1) * sizeof(*comp));
    bool *used = xcalloc(n + 1, sizeof(*used));
    const struct fusion_report **inc = xmalloc((n + 1) * sizeof(*inc));
    fusion_components(&a->corr, vis, n, comp);
    double slat = 0, slon = 0;
    size_t nloc = 0, nfire = 0;
    bool zone_same = true;
    const char *zone = NULL;
    for (size_t t = 0; t < a->triggers.n; t++) {
        size_t ti = seq_find(vis, n, a->triggers.v[t]->seq);
        if (ti == SIZE_MAX)
            continue;
        const struct fusion_report *trig = vis[ti];
        size_t ninc = 0;
        for (size_t i = 0; i < n; i++)
            if (comp[i] == comp[ti])
                inc[ninc++] = vis[i];
        struct fusion_rvec sup = {0};
        vtime_t at;
        if (!fusion_rule_eval(a->rule, &a->corr, trig, inc, ninc, vis, n, &sup, &at)) {
            fusion_rvec_release(&sup);
            continue;
        }
        if (!out->exists || at < out->fired_at)
            out->fired_at = at;
        out->exists = true;
        for (size_t i = 0; i < n; i++)
            if (comp[i] == comp[ti])
                used[i] = true;
        for (size_t s = 0; s < sup.n; s++)
            used[seq_find(vis, n, sup.v[s]->seq)] = true;
        fusion_rvec_release(&sup);
        if (fusion_report_located(trig)) {
            slat += trig->lat;
            slon += trig->lon;
            nloc++;
        }
        if (nfire++ == 0)
            zone = trig->zone;
        else if (!zone || !trig->zone || strcmp(zone, trig->zone))
            zone_same = false;
    }
    struct fusion_rvec ev = {0};
    for (size_t i = 0; i < n; i++)
        if (used[i])
            fusion_rvec_push(&ev, vis[i]);
    if (out->exists) {
        struct fusion_conf c;
        fusion_confidence(ev.v, ev.n, &c);
        out->confidence = c.confidence;
        out->severity = a->rule->severity;
        out->lat = nloc ? slat / (double)nloc : NAN;
        out->lon = nloc ? slon / (double)nloc : NAN;
        out->zone = zone_same ? zone : NULL;
    }
    view_finish(out, &ev);
    free(comp);
    free(used);
    free(inc);
}

static void view_escalation(const struct fusion_alert *a, const struct fusion_report **vis,
                            size_t n, struct fusion_alert_view *out)
{
    const struct fusion_esc_params *p = &a->esc;
    double best = 0;
    int64_t first = 0, last = 0;
    bool *fires = xcalloc(a->ndays + 1, sizeof(*fires));
    double *stat = xcalloc(a->ndays + 1, sizeof(*stat));
    fusion_esc_stats_of(p, a->esc_zone, a->days, a->ndays, vis, n, stat);
    for (size_t i = 0; i < a->ndays; i++) {
        double st = stat[i];
        if (st < p->threshold)
            continue;
        fires[i] = true;
        if (!out->exists)
            first = a->days[i];
        last = a->days[i];
        out->exists = true;
        if (st > best)
            best = st;
    }
    struct fusion_rvec ev = {0};
    /* the days in the window of a firing day (days[] ascending) */
    int64_t lo = a->ndays ? a->days[0] - p->window_days + 1 : 0;
    size_t span = a->ndays ? (size_t)(a->days[a->ndays - 1] - lo + 1) : 0;
    bool *cover = xcalloc(span + 1, sizeof(*cover));
    for (size_t i = 0; i < a->ndays; i++)
        for (int64_t d = a->days[i] - p->window_days + 1; fires[i] && d <= a->days[i]; d++)
            cover[d - lo] = true;
    for (size_t k = 0; k < n && out->exists; k++) {
        int64_t d = fusion_esc_day(vis[k]);
        bool in = d >= lo && d - lo < (int64_t)span && cover[d - lo];
        if (in && fusion_esc_counts(p, vis[k]) &&
            (!a->esc_zone || (vis[k]->zone && !strcmp(vis[k]->zone, a->esc_zone))))
            fusion_rvec_push(&ev, vis[k]);
    }
    if (out->exists) {
        out->severity = (enum fusion_severity)p->severity;
        out->confidence = fusion_esc_confidence(p, best);
        out->fired_at = (first + 1) * FUSION_DAY_US;
        out->lat = out->lon = NAN;
        out->zone = a->esc_zone;
    }
    view_finish(out, &ev);
    if (out->exists) { /* the window of the alarm days, whatever the evidence */
        out->start = (first - p->window_days + 1) * FUSION_DAY_US;
        out->end = (last + 1) * FUSION_DAY_US - 1;
    }
    free(cover);
    free(stat);
    free(fires);
}

/* The view computed from vis[0..n) (ascending seq) alone: existence and the derived fields. */
static void view_of(const struct fusion_alert *a, const struct fusion_report **vis, size_t n,
                    struct fusion_alert_view *out)
{
    memset(out, 0, sizeof(*out));
    out->lat = out->lon = NAN;
    if (a->kind == FUSION_ALERT_RULE)
        view_rule(a, vis, n, out);
    else
        view_escalation(a, vis, n, out);
}

/* True when the view exists on the reports of vis[0..n) accepted by time t. */
static bool exists_by(const struct fusion_alert *a, const struct fusion_report **vis, size_t n,
                      vtime_t t, const struct fusion_report **sub)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (vis[i]->added <= t)
            sub[m++] = vis[i];
    struct fusion_alert_view v;
    view_of(a, sub, m, &v);
    free(v.evidence);
    return v.exists;
}

/* True when t is seen by a reader of vis[0..n) (ascending seq): the alert existed for them on
 * the evidence it held when t was made. sub has room for n. */
static bool transition_seen(const struct fusion_alert *a, const struct fusion_transition *t,
                            const struct fusion_report **vis, size_t n,
                            const struct fusion_report **sub)
{
    size_t m = 0, j = 0;
    for (size_t i = 0; i < n; i++) {
        while (j < t->non && t->on[j] < vis[i]->seq)
            j++;
        if (j < t->non && t->on[j] == vis[i]->seq)
            sub[m++] = vis[i];
    }
    struct fusion_alert_view v;
    view_of(a, sub, m, &v);
    free(v.evidence);
    return v.exists;
}

/* The status of a reader of vis[0..n): the transitions they see, each applied when allowed
 * from the status reached so far. *last is the time of the last one applied (0: none). */
static enum fusion_alert_status
status_seen(const struct fusion_alert *a, const struct fusion_report **vis, size_t n, vtime_t *last)
{
    enum fusion_alert_status s = FUSION_ALERT_NEW;
    *last = 0;
    const struct fusion_report **sub = xmalloc((n + 1) * sizeof(*sub));
    for (size_t i = 0; i < a->nhistory; i++) {
        const struct fusion_transition *t = &a->history[i];
        if (step_allowed(s, t->to) && transition_seen(a, t, vis, n, sub)) {
            s = t->to;
            *last = t->at;
        }
    }
    free(sub);
    return s;
}

static int cmp_time(const void *x, const void *y)
{
    vtime_t a = *(const vtime_t *)x, b = *(const vtime_t *)y;
    return (a > b) - (a < b);
}

/* When the view on vis[0..n) (which exists) came into being: the earliest acceptance time by
 * which the reports then accepted make it exist (rule conditions are monotone, so a binary
 * search over the distinct acceptance times finds it). */
static vtime_t view_created(const struct fusion_alert *a, const struct fusion_report **vis,
                            size_t n)
{
    vtime_t *times = xmalloc((n + 1) * sizeof(*times));
    const struct fusion_report **sub = xmalloc((n + 1) * sizeof(*sub));
    for (size_t i = 0; i < n; i++)
        times[i] = vis[i]->added;
    qsort(times, n, sizeof(*times), cmp_time);
    size_t lo = 0, hi = n ? n - 1 : 0; /* the view exists by times[hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (exists_by(a, vis, n, times[mid], sub))
            hi = mid;
        else
            lo = mid + 1;
    }
    vtime_t t = n ? times[lo] : 0;
    free(times);
    free(sub);
    return t;
}

bool fusion_alert_view(const struct fusion_alert *a,
                       bool (*visible)(void *ctx, const struct store_acl *acl), void *ctx,
                       struct fusion_alert_view *out)
{
    const struct fusion_report **vis = xmalloc((a->evidence.n + 1) * sizeof(*vis));
    struct fusion_report *masked = NULL; /* handed to out once view_of has filled it */
    size_t n = 0, nmasked = 0;
    for (size_t i = 0; i < a->evidence.n; i++) {
        const struct fusion_report *r = a->evidence.v[i];
        if (visible && !visible(ctx, &r->acl))
            continue;
        bool zone_ok = !visible || !r->zone_acl || visible(ctx, r->zone_acl);
        bool line_ok = !visible || !r->line_acl || visible(ctx, r->line_acl);
        if (zone_ok && line_ok) {
            vis[n++] = r;
            continue;
        }
        if (!masked)
            masked = xmalloc(a->evidence.n * sizeof(*masked));
        struct fusion_report *m = &masked[nmasked++];
        *m = *r;
        if (!zone_ok) {
            m->zone = NULL; /* derived zones only: a report's own area has no zone_acl */
            m->zone_acl = NULL;
            m->zone_since = 0;
        }
        if (!line_ok) {
            m->dist_to_line_m = -1;
            m->side = NULL;
            m->line_acl = NULL;
        }
        vis[n++] = m;
    }
    view_of(a, vis, n, out);
    out->masked = masked;
    if (out->exists) {
        out->created = view_created(a, vis, n);
        if (!out->created) /* acceptance times not known (reports fed without them) */
            out->created = a->created;
        vtime_t changed;
        out->status = status_seen(a, vis, n, &changed);
        out->status_at = changed;
        out->updated = out->created > changed ? out->created : changed;
        for (size_t i = 0; i < out->nevidence; i++)
            if (out->evidence[i]->added > out->updated)
                out->updated = out->evidence[i]->added;
        for (size_t i = 0; i < a->ngone; i++) /* what they could read, taken out */
            if (a->gone[i].at > out->updated && (!visible || visible(ctx, &a->gone[i].acl)))
                out->updated = a->gone[i].at;
    }
    free(vis);
    if (!out->exists) { /* nothing of it may show */
        free(out->evidence);
        free(out->masked);
        memset(out, 0, sizeof(*out));
        out->lat = out->lon = NAN;
    }
    return out->exists;
}

void fusion_alert_view_release(struct fusion_alert_view *v)
{
    free(v->evidence);
    free(v->masked);
    v->evidence = NULL;
    v->masked = NULL;
    v->nevidence = 0;
}

static bool same_double(double x, double y)
{
    return (isnan(x) && isnan(y)) || x == y;
}

bool fusion_alert_refresh(struct fusion_alert *a, vtime_t now)
{
    struct fusion_alert_view v; /* everything visible; no reader's times or status needed */
    view_of(a, a->evidence.v, a->evidence.n, &v);
    bool changed = a->version == 0 || v.severity != a->severity || v.confidence != a->confidence ||
                   v.start != a->start || v.end != a->end || v.fired_at != a->fired_at ||
                   !same_double(v.lat, a->lat) || !same_double(v.lon, a->lon) ||
                   v.zone != a->zone || a->evidence.n != a->refreshed_n ||
                   a->ndays != a->refreshed_days;
    a->refreshed_n = a->evidence.n;
    a->refreshed_days = a->ndays;
    if (v.exists) {
        a->severity = v.severity;
        a->confidence = v.confidence;
        a->start = v.start;
        a->end = v.end;
        a->fired_at = v.fired_at;
        a->lat = v.lat;
        a->lon = v.lon;
        a->zone = v.zone;
    }
    fusion_alert_view_release(&v);
    if (changed) {
        a->version++;
        a->updated = now;
    }
    return changed;
}
