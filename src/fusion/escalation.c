/* escalation.c - NB CUSUM over daily counts, per zone and overall. See escalation.h. */
#include "fusion/escalation.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"

/* The weighted detector's h: the largest of bench/escalation_eval's thresholds for an
 * in-control ARL of 365 days over its compound baselines (docs/FUSION.md). */
#define WEIGHTED_H 7.5

/* The series of one zone (or the overall one): days [base, base + len). */
struct series {
    char *zone; /* NULL: overall */
    int64_t base, first;
    size_t len;
    double *val[FUSION_ESC_MEASURES]; /* per day: events, fatalities (each event once) */
    uint8_t *alarm;                   /* per day: bit m set while detector m alarms there */
    struct fusion_rvec *reps;
    /* An agreement's zone: the day its agreement took effect (the latest its reports give),
     * the start of the zone's truce regime; moved: it changed under days already judged. */
    bool has_truce, truce_moved;
    int64_t truce, truce_was; /* truce_was: the earliest start judged under, when moved */
};

struct fusion_esc {
    struct fusion_esc_params p;
    struct fusion_esc_params det[FUSION_ESC_MEASURES]; /* indexed by measure */
    bool on[FUSION_ESC_MEASURES];                       /* the detectors that run */
    struct series overall;
    struct series **zones;
    size_t nzones, azones;
    int64_t watermark; /* the latest start day seen */
    int64_t hi;        /* days <= hi are complete (watermark - lateness_days) */
    bool started;
};

void fusion_esc_params_default(struct fusion_esc_params *p)
{
    memset(p, 0, sizeof(*p));
    p->enabled = true;
    memcpy(p->events[0], "ASSAULT", sizeof("ASSAULT"));
    p->nevents = 1;
    p->baseline_days = 28;
    p->window_days = 14;
    p->lateness_days = 1;
    p->shift = 2.0;
    p->threshold = 6.5;
    p->min_mean = 0.5;
    p->min_size = 0.5;
    p->max_size = 1000;
    p->severity = 1; /* medium */
    p->measure = FUSION_ESC_COUNT;
    p->fatal = true;
    p->fatal_shift = 2.0;
    p->fatal_threshold = 8.0;
    p->fatal_min_mean = 1.0;
    p->fatal_min_size = 0.2;
    p->weighted = true;
    p->weighted_shift = 2.0;
    p->weighted_threshold = WEIGHTED_H;
    p->weighted_min_mean = 1.0;
    p->weighted_heavy = 2.0;
    p->weighted_civilians = 2.0;
    p->truce_level = 0.5;
    p->truce_prior_days = 7;
    p->truce_zones = true;
    fusion_corr_params_default(&p->corr);
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void fusion_esc_set_truces(struct fusion_esc_params *p, const int64_t *days, size_t n)
{
    int64_t *v = xcalloc(n + 1, sizeof(*v));
    if (n)
        memcpy(v, days, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_day);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || v[k - 1] != v[i])
            v[k++] = v[i];
    size_t from = k > FUSION_ESC_TRUCES_MAX ? k - FUSION_ESC_TRUCES_MAX : 0;
    p->ntruces = k - from;
    memset(p->truce, 0, sizeof(p->truce));
    if (p->ntruces)
        memcpy(p->truce, v + from, p->ntruces * sizeof(*v));
    free(v);
}

int64_t fusion_esc_reach(const struct fusion_esc_params *p)
{
    return p->baseline_days + p->window_days + (p->ntruces ? p->baseline_days : 0);
}

/* fusion_esc_stat_at with one more truce start, extra (INT64_MIN: none). */
static double stat_at(const struct fusion_esc_params *p, int64_t extra, const double *c, size_t n,
                      int64_t day, int64_t first)
{
    int64_t L = p->baseline_days, W = p->window_days, R = INT64_MIN;
    for (size_t i = 0; i < p->ntruces; i++)
        if (p->truce[i] <= day && p->truce[i] > R)
            R = p->truce[i];
    if (extra <= day && extra > R)
        R = extra;
    if (R == INT64_MIN || day - R + 1 >= L + W || (size_t)(day - R + 1 + L) > n) {
        if (day - first + 1 < L + W || n < (size_t)(L + W))
            return -1;
        return fusion_esc_stat_d(p, c + n - (size_t)(L + W), (size_t)(L + W));
    }
    if (R - first < 7) /* no war level to start from */
        return -1;
    const double *war = c + n - (size_t)(day - R + 1 + L), *truce = war + L;
    int64_t nwar = R - first < L ? R - first : L;
    double m, r;
    fusion_esc_estimate_d(p, war + (L - nwar), (size_t)nwar, &m, &r);
    double prior = p->truce_level * m, n0 = p->truce_prior_days, sum = 0, st = 0;
    for (int64_t t = 0; t <= day - R; t++) {
        double mu0 = (n0 * prior + sum) / (n0 + (double)t);
        if (mu0 < p->min_mean)
            mu0 = p->min_mean;
        st += fusion_nb_llr(truce[t], mu0, p->shift, r);
        if (st < 0)
            st = 0;
        sum += truce[t];
    }
    return st;
}

double fusion_esc_stat_at(const struct fusion_esc_params *p, const double *c, size_t n,
                          int64_t day, int64_t first)
{
    return stat_at(p, INT64_MIN, c, n, day, first);
}

void fusion_esc_params_for(const struct fusion_esc_params *p, int measure,
                           struct fusion_esc_params *out)
{
    *out = *p;
    out->measure = measure;
    if (measure == FUSION_ESC_FATAL) {
        out->shift = p->fatal_shift;
        out->threshold = p->fatal_threshold;
        out->min_mean = p->fatal_min_mean;
        out->min_size = p->fatal_min_size;
    } else if (measure == FUSION_ESC_WEIGHTED) {
        out->shift = p->weighted_shift;
        out->threshold = p->weighted_threshold;
        out->min_mean = p->weighted_min_mean;
    }
}

const char *fusion_esc_name(int measure)
{
    static const char *const names[FUSION_ESC_MEASURES] = {"escalation", "escalation-fatal",
                                                           "escalation-weighted"};
    return measure >= 0 && measure < FUSION_ESC_MEASURES ? names[measure] : names[0];
}

int64_t fusion_day(vtime_t t)
{
    int64_t d = t / FUSION_DAY_US;
    if (t < 0 && t % FUSION_DAY_US)
        d--;
    return d;
}

void fusion_esc_estimate_d(const struct fusion_esc_params *p, const double *c, size_t n,
                           double *mu, double *size)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += c[i];
    m = n ? m / (double)n : 0;
    for (size_t i = 0; i < n; i++)
        v += (c[i] - m) * (c[i] - m);
    v = n > 1 ? v / (double)(n - 1) : 0;
    *mu = m > p->min_mean ? m : p->min_mean;
    double r = p->max_size;
    if (v > m && m > 0)
        r = m * m / (v - m);
    if (r < p->min_size)
        r = p->min_size;
    if (r > p->max_size)
        r = p->max_size;
    *size = r;
}

void fusion_esc_estimate(const struct fusion_esc_params *p, const int *c, size_t n, double *mu,
                         double *size)
{
    double *d = xcalloc(n + 1, sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = c[i];
    fusion_esc_estimate_d(p, d, n, mu, size);
    free(d);
}

double fusion_nb_llr(double y, double mu0, double shift, double size)
{
    double mu1 = shift * mu0;
    return y * log(mu1 * (size + mu0) / (mu0 * (size + mu1))) +
           size * log((size + mu0) / (size + mu1));
}

double fusion_esc_stat_d(const struct fusion_esc_params *p, const double *c, size_t n)
{
    size_t L = (size_t)p->baseline_days, W = (size_t)p->window_days;
    if (n < L + W)
        return -1;
    c += n - L - W;
    double mu, r;
    fusion_esc_estimate_d(p, c, L, &mu, &r);
    /* llr(y) = a y + b with mu0, shift and r fixed over the window: two logarithms, not 2W */
    double mu1 = p->shift * mu, a = log(mu1 * (r + mu) / (mu * (r + mu1))),
           b = r * log((r + mu) / (r + mu1)), s = 0;
    for (size_t i = L; i < L + W; i++) {
        s += a * c[i] + b;
        if (s < 0)
            s = 0;
    }
    return s;
}

double fusion_esc_stat(const struct fusion_esc_params *p, const int *c, size_t n)
{
    double *d = xcalloc(n + 1, sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = c[i];
    double s = fusion_esc_stat_d(p, d, n);
    free(d);
    return s;
}

bool fusion_esc_alarm(const struct fusion_esc_params *p, const int *c, size_t n)
{
    return fusion_esc_stat(p, c, n) >= p->threshold;
}

int64_t fusion_esc_day(const struct fusion_report *r)
{
    return fusion_day(r->end > r->start ? r->end - 1 : r->start);
}

bool fusion_esc_counts(const struct fusion_esc_params *p, const struct fusion_report *r)
{
    if (r->future || (r->aggregate && p->measure != FUSION_ESC_FATAL))
        return false;
    if (fusion_esc_day(r) - fusion_day(r->start) >= p->window_days)
        return false; /* uncertain timing: more days than the window of the test */
    for (size_t i = 0; i < p->nevents; i++)
        if (strcasecmp(p->events[i], r->event) == 0)
            return true;
    return false;
}

int fusion_esc_confidence(const struct fusion_esc_params *p, double s)
{
    if (s <= 0)
        return 0;
    return (int)lround(100 * (1 - pow(2, -s / p->threshold)));
}

/* ---- events of a day, each counted once ------------------------------------------------- */

/* True when a and b are the same event: both cite the same original source. */
static bool same_event(const struct fusion_report *a, const struct fusion_report *b)
{
    return a->source_ref && b->source_ref && strcmp(a->source_ref, b->source_ref) == 0;
}

/* Remote and area weapons: what a ceasefire's heavy-weapons terms are about. */
static bool heavy_mode(const char *mode)
{
    static const char *const heavy[] = {"aerial", "drone", "heavy-weapons", "explosives",
                                        "suicide-attack", "unconventional", NULL};
    for (size_t i = 0; heavy[i]; i++)
        if (strcmp(mode, heavy[i]) == 0)
            return true;
    return false;
}

double fusion_esc_value(const struct fusion_esc_params *p, int measure,
                        const struct fusion_report *r)
{
    double dead = r->fatalities > 0 ? (double)r->fatalities : 0;
    if (measure == FUSION_ESC_FATAL)
        return dead;
    if (measure != FUSION_ESC_WEIGHTED)
        return 1;
    double hurt = r->injured > 0 ? r->injured : 0;
    double m = heavy_mode(r->mode) ? p->weighted_heavy : 1;
    return m * (r->civilians ? p->weighted_civilians : 1) * (1 + log1p(dead + hurt / 6));
}

static int by_day_seq(const void *x, const void *y)
{
    const struct fusion_report *a = *(const struct fusion_report *const *)x;
    const struct fusion_report *b = *(const struct fusion_report *const *)y;
    int64_t da = fusion_esc_day(a), db = fusion_esc_day(b);
    if (da != db)
        return da < db ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The root of i in the union-find forest up[]. */
static size_t uf_root(size_t *up, size_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

struct ref_at {
    const char *ref;
    size_t i;
};

static int by_ref(const void *x, const void *y)
{
    const struct ref_at *a = x, *b = y;
    return strcmp(a->ref, b->ref);
}

/* The events of one day's reports v[0..n) (sorted by seq): comp[i] receives a representative
 * of i's event. An event is a fused incident, formed by the correlator's own rule
 * (fusion_components: complete linkage, in seq order) on these reports alone, so that k
 * partners reporting one real event count once and a reader's view, which re-runs this on
 * the reports it may read, depends on nothing else; reports that cite the same original
 * source are one event whatever else. One partner's reports with different sources always
 * conflict, so a day of one partner's reports needs no pairwise test. */
static void day_events(const struct fusion_esc_params *p, const struct fusion_report **v, size_t n,
                       size_t *comp)
{
    bool one = true;
    for (size_t i = 1; i < n && one; i++)
        one = v[i]->acl.owner == v[0]->acl.owner;
    if (one || n < 2)
        for (size_t i = 0; i < n; i++)
            comp[i] = i;
    else
        fusion_components(&p->corr, (const struct fusion_report *const *)v, n, comp);
    struct ref_at *ord = xmalloc((n + 1) * sizeof(*ord));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i]->source_ref)
            ord[k++] = (struct ref_at){v[i]->source_ref, i};
    /* a stable order is not needed: equal refs are merged whatever their order */
    qsort(ord, k, sizeof(*ord), by_ref);
    for (size_t i = 1; i < k; i++)
        if (strcmp(ord[i - 1].ref, ord[i].ref) == 0) {
            size_t a = uf_root(comp, ord[i - 1].i), b = uf_root(comp, ord[i].i);
            if (a != b)
                comp[a > b ? a : b] = a < b ? a : b;
        }
    for (size_t i = 0; i < n; i++)
        comp[i] = uf_root(comp, i);
    free(ord);
}

/* Adds the per-day values of the reports in v[0..n) (sorted in place) to out[m][day - d0] for
 * the days [d0, d0 + span): each event (day_events) once, its value the largest its reports
 * give. */
static void sum_events(const struct fusion_esc_params *p, const struct fusion_report **v, size_t n,
                       int64_t d0, int64_t span, double *out[FUSION_ESC_MEASURES])
{
    qsort(v, n, sizeof(*v), by_day_seq);
    struct fusion_esc_params q[FUSION_ESC_MEASURES];
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        fusion_esc_params_for(p, m, &q[m]);
    size_t *comp = xmalloc((n + 1) * sizeof(*comp));
    double *best = xmalloc((n + 1) * sizeof(*best));
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && fusion_esc_day(v[j]) == fusion_esc_day(v[i]))
            j++;
        int64_t d = fusion_esc_day(v[i]) - d0;
        if (d >= 0 && d < span) {
            day_events(p, v + i, j - i, comp);
            for (int m = 0; m < FUSION_ESC_MEASURES; m++) {
                if (!out[m])
                    continue;
                for (size_t k = 0; k < j - i; k++)
                    best[k] = -1;
                for (size_t k = 0; k < j - i; k++)
                    if (fusion_esc_counts(&q[m], v[i + k])) {
                        double x = fusion_esc_value(p, m, v[i + k]);
                        if (x > best[comp[k]])
                            best[comp[k]] = x;
                    }
                for (size_t k = 0; k < j - i; k++)
                    if (best[k] > 0)
                        out[m][d] += best[k];
            }
        }
        i = j;
    }
    free(best);
    free(comp);
}

/* ---- the live tracker ------------------------------------------------------------------- */

struct fusion_esc *fusion_esc_new(const struct fusion_esc_params *p)
{
    struct fusion_esc *e = xcalloc(1, sizeof(*e));
    e->p = *p;
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        fusion_esc_params_for(p, m, &e->det[m]);
    e->on[FUSION_ESC_COUNT] = true;
    e->on[FUSION_ESC_FATAL] = p->fatal;
    e->on[FUSION_ESC_WEIGHTED] = p->weighted;
    return e;
}

static void series_release(struct series *s)
{
    for (size_t i = 0; i < s->len; i++)
        fusion_rvec_release(&s->reps[i]);
    free(s->reps);
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        free(s->val[m]);
    free(s->alarm);
    free(s->zone);
}

void fusion_esc_free(struct fusion_esc *e)
{
    if (!e)
        return;
    series_release(&e->overall);
    for (size_t i = 0; i < e->nzones; i++) {
        series_release(e->zones[i]);
        free(e->zones[i]);
    }
    free(e->zones);
    free(e);
}

static size_t series_memory(const struct series *s)
{
    size_t b = s->len * (FUSION_ESC_MEASURES * sizeof(double) + 1 + sizeof(*s->reps)) +
               (s->zone ? strlen(s->zone) + 1 : 0);
    for (size_t i = 0; i < s->len; i++)
        b += s->reps[i].alloc * sizeof(*s->reps[i].v);
    return b;
}

size_t fusion_esc_memory(const struct fusion_esc *e)
{
    size_t b = sizeof(*e) + series_memory(&e->overall) + e->azones * sizeof(*e->zones);
    for (size_t i = 0; i < e->nzones; i++)
        b += sizeof(*e->zones[i]) + series_memory(e->zones[i]);
    return b;
}

/* Grows array *a of len elements of size sz to nlen, with add zeroed elements in front. */
static void grow(void **a, size_t sz, size_t len, size_t nlen, size_t add)
{
    char *n = xcalloc(nlen, sz);
    if (*a)
        memcpy(n + add * sz, *a, len * sz);
    free(*a);
    *a = n;
}

/* Makes day d addressable in s; returns its index. */
static size_t series_day(struct series *s, int64_t d)
{
    if (!s->len) {
        s->base = s->first = d;
        grow((void **)&s->reps, sizeof(*s->reps), 0, 1, 0);
        grow((void **)&s->alarm, 1, 0, 1, 0);
        for (int m = 0; m < FUSION_ESC_MEASURES; m++)
            grow((void **)&s->val[m], sizeof(double), 0, 1, 0);
        s->len = 1;
        return 0;
    }
    if (d < s->first)
        s->first = d;
    size_t add = 0, nlen = s->len;
    if (d < s->base) {
        add = (size_t)(s->base - d);
        nlen = s->len + add;
    } else if ((size_t)(d - s->base) >= s->len) {
        nlen = (size_t)(d - s->base) + 1;
        if (nlen < s->len * 3 / 2 + 16) /* amortised growth at the end */
            nlen = s->len * 3 / 2 + 16;
    }
    if (nlen != s->len) {
        grow((void **)&s->reps, sizeof(*s->reps), s->len, nlen, add);
        grow((void **)&s->alarm, 1, s->len, nlen, add);
        for (int m = 0; m < FUSION_ESC_MEASURES; m++)
            grow((void **)&s->val[m], sizeof(double), s->len, nlen, add);
        s->len = nlen;
        s->base -= (int64_t)add;
    }
    return (size_t)(d - s->base);
}

static struct series *zone_find(const struct fusion_esc *e, const char *zone)
{
    for (size_t i = 0; i < e->nzones; i++)
        if (strcmp(e->zones[i]->zone, zone) == 0)
            return e->zones[i];
    return NULL;
}

static struct series *zone_series(struct fusion_esc *e, const char *zone)
{
    struct series *s = zone_find(e, zone);
    if (s)
        return s;
    if (e->nzones == e->azones) {
        e->azones = e->azones ? e->azones * 2 : 8;
        e->zones = xrealloc(e->zones, e->azones * sizeof(*e->zones));
    }
    s = xcalloc(1, sizeof(*s));
    s->zone = xstrdup(zone);
    e->zones[e->nzones++] = s;
    return s;
}

#define SPAN_MAX (2 * 365 + 60)

/* The days a day's statistic of s depends on: q's reach, plus L under the zone's truce. */
static int64_t series_reach(const struct fusion_esc_params *q, const struct series *s)
{
    return fusion_esc_reach(q) + (s->has_truce && !q->ntruces ? q->baseline_days : 0);
}

/* The statistic of detector q on day d in s, or -1 when s has too little history there. */
static double series_stat(const struct fusion_esc_params *q, const struct series *s, int64_t d)
{
    int64_t span = series_reach(q, s);
    if (!s->len || span > SPAN_MAX)
        return -1;
    double c[SPAN_MAX];
    for (int64_t i = 0; i < span; i++) {
        int64_t day = d - span + 1 + i;
        c[i] = day >= s->base && day < s->base + (int64_t)s->len ? s->val[q->measure][day - s->base]
                                                                 : 0;
    }
    return stat_at(q, s->has_truce ? s->truce : INT64_MIN, c, (size_t)span, d, s->first);
}

static void push_alarm(struct fusion_esc_alarm **a, size_t *n, int m, const char *zone, int64_t d,
                       double st, bool cleared)
{
    *a = xrealloc(*a, (*n + 1) * sizeof(**a));
    (*a)[*n] = (struct fusion_esc_alarm){
        .measure = m, .zone = zone, .day = d, .stat = st, .cleared = cleared};
    (*n)++;
}

/* Judges day d of s with every detector; alarms that are new are appended. */
static void judge(struct fusion_esc *e, struct series *s, int64_t d,
                  struct fusion_esc_alarm **alarms, size_t *nalarms)
{
    size_t i = series_day(s, d);
    for (int k = 0; k < FUSION_ESC_MEASURES; k++) {
        if (!e->on[k])
            continue;
        const struct fusion_esc_params *q = &e->det[k];
        uint8_t bit = (uint8_t)(1u << q->measure);
        double st = series_stat(q, s, d);
        if (st >= q->threshold) {
            if (!(s->alarm[i] & bit) && alarms)
                push_alarm(alarms, nalarms, q->measure, s->zone, d, st, false);
            s->alarm[i] |= bit;
        } else {
            if ((s->alarm[i] & bit) && alarms)
                push_alarm(alarms, nalarms, q->measure, s->zone, d, st, true);
            s->alarm[i] &= (uint8_t)~bit;
        }
    }
}

/* The zone's truce regime as r gives it (the day its agreement took effect). */
static void series_truce(const struct fusion_esc *e, struct series *s,
                         const struct fusion_report *r)
{
    if (e->p.truce_zones && s->zone && r->zone_since) {
        int64_t t = fusion_day(r->zone_since);
        if (!s->has_truce || t > s->truce) {
            s->truce_was = s->has_truce && !s->truce_moved ? s->truce : t;
            s->has_truce = s->truce_moved = true;
            s->truce = t;
        }
    }
}

/* Adds (sign 1) or takes (-1) r in s, keeping each event once; returns the previous first day
 * of s (d itself when s was empty). */
static int64_t series_count(const struct fusion_esc *e, struct series *s,
                            const struct fusion_report *r, int sign)
{
    int64_t d = fusion_esc_day(r), first = s->len ? s->first : d;
    size_t i = series_day(s, d);
    struct fusion_rvec *v = &s->reps[i];
    /* the day holds another partner's reports: they may be r's event; when r comes last (in
     * seq order) and none of them may be, r is an event of its own (day_events) */
    bool mixed = false, alone = true;
    for (size_t k = 0; sign > 0 && k < v->n && !mixed; k++)
        mixed = v->v[k]->acl.owner != r->acl.owner;
    for (size_t k = 0; mixed && alone && k < v->n; k++) {
        const struct fusion_report *o = v->v[k];
        alone = o->seq < r->seq && !same_event(o, r) &&
                (fusion_reports_conflict(o, r) || !fusion_reports_match(&e->p.corr, o, r));
    }
    if (sign > 0 && (!mixed || alone)) {
        /* each event once: what its other reports of the day already gave stays (one
         * partner's reports are one event only when they cite the same source) */
        double had[FUSION_ESC_MEASURES];
        for (int m = 0; m < FUSION_ESC_MEASURES; m++)
            had[m] = -1;
        for (size_t k = 0; r->source_ref && k < v->n; k++)
            if (same_event(v->v[k], r))
                for (int m = 0; m < FUSION_ESC_MEASURES; m++)
                    if (fusion_esc_counts(&e->det[m], v->v[k])) {
                        double x = fusion_esc_value(&e->p, m, v->v[k]);
                        if (x > had[m])
                            had[m] = x;
                    }
        fusion_rvec_push(v, r);
        series_truce(e, s, r);
        for (int m = 0; m < FUSION_ESC_MEASURES; m++) {
            if (!fusion_esc_counts(&e->det[m], r))
                continue;
            double x = fusion_esc_value(&e->p, m, r);
            double before = had[m] > 0 ? had[m] : 0;
            if (x > before)
                s->val[m][i] += x - before;
        }
        return first;
    }
    if (sign > 0) {
        fusion_rvec_push(v, r);
        series_truce(e, s, r);
    } else {
        for (size_t k = 0; k < v->n; k++)
            if (v->v[k] == r) {
                fusion_rvec_remove_at(v, k);
                break;
            }
    }
    /* the day again from its reports: exact whatever was taken */
    const struct fusion_report **tmp = xmalloc((v->n + 1) * sizeof(*tmp));
    memcpy(tmp, v->v, v->n * sizeof(*tmp));
    double day[FUSION_ESC_MEASURES] = {0};
    double *out[FUSION_ESC_MEASURES];
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        out[m] = &day[m];
    sum_events(&e->p, tmp, v->n, d, 1, out);
    free(tmp);
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        s->val[m][i] = day[m];
    return first;
}

/* Re-judges the complete days of s whose statistic depends on day d. */
static void rejudge(struct fusion_esc *e, struct series *s, int64_t d, int64_t old_first,
                    int64_t hi, struct fusion_esc_alarm **alarms, size_t *nalarms)
{
    int64_t span = series_reach(&e->p, s);
    int64_t upto = (d > old_first ? d : old_first) + span - 1;
    if (upto > hi)
        upto = hi;
    for (int64_t day = d; day <= upto; day++)
        judge(e, s, day, alarms, nalarms);
}

static bool counts_any(const struct fusion_esc *e, const struct fusion_report *r)
{
    for (int k = 0; k < FUSION_ESC_MEASURES; k++)
        if (e->on[k] && fusion_esc_counts(&e->det[k], r))
            return true;
    return false;
}

void fusion_esc_add(struct fusion_esc *e, const struct fusion_report *r,
                    struct fusion_esc_alarm **alarms, size_t *nalarms)
{
    if (!e->p.enabled || !counts_any(e, r))
        return;
    /* r counts on day d, the last of its window; the feed has reached its start, w: a report
     * over several days completes no day after its start (days between are yet to come) */
    int64_t d = fusion_esc_day(r), w = fusion_day(r->start);
    int64_t old_hi = e->hi;
    if (!e->started) {
        e->started = true;
        e->watermark = w;
        old_hi = w - e->p.lateness_days - 1;
    } else if (w > e->watermark) {
        e->watermark = w;
    }
    e->hi = e->watermark - e->p.lateness_days;
    struct series *z = r->zone ? zone_series(e, r->zone) : NULL;
    int64_t f0 = series_count(e, &e->overall, r, 1);
    int64_t f1 = z ? series_count(e, z, r, 1) : 0;
    /* the days already complete that this report changes */
    rejudge(e, &e->overall, d, f0, old_hi, alarms, nalarms);
    if (z)
        rejudge(e, z, d, f1, old_hi, alarms, nalarms);
    if (z && z->truce_moved) { /* the zone's truce regime starts now, or later than it did */
        z->truce_moved = false;
        rejudge(e, z, z->truce_was, z->truce, old_hi, alarms, nalarms);
    }
    /* the days this report completes, in every series */
    for (int64_t day = old_hi + 1; day <= e->hi; day++) {
        judge(e, &e->overall, day, alarms, nalarms);
        for (size_t k = 0; k < e->nzones; k++)
            if (e->zones[k]->len && day >= e->zones[k]->first)
                judge(e, e->zones[k], day, alarms, nalarms);
    }
}

void fusion_esc_remove(struct fusion_esc *e, const struct fusion_report *r)
{
    if (!e->p.enabled || !counts_any(e, r))
        return;
    int64_t d = fusion_esc_day(r);
    struct series *z = r->zone ? zone_find(e, r->zone) : NULL;
    if (e->overall.len) {
        series_count(e, &e->overall, r, -1);
        rejudge(e, &e->overall, d, d, e->hi, NULL, NULL);
    }
    if (z && z->len) {
        series_count(e, z, r, -1);
        rejudge(e, z, d, d, e->hi, NULL, NULL);
    }
}

/* The day list of r in s, or NULL when s does not reach r's day. */
static struct fusion_rvec *day_reps(struct series *s, const struct fusion_report *r)
{
    int64_t d = fusion_esc_day(r);
    if (!s || !s->len || d < s->base || d >= s->base + (int64_t)s->len)
        return NULL;
    return &s->reps[d - s->base];
}

void fusion_esc_forget(struct fusion_esc *e, const struct fusion_report *r)
{
    if (!e->p.enabled || !counts_any(e, r))
        return;
    struct fusion_rvec *vs[2] = {day_reps(&e->overall, r),
                                 r->zone ? day_reps(zone_find(e, r->zone), r) : NULL};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; vs[k] && i < vs[k]->n; i++)
            if (vs[k]->v[i] == r) {
                vs[k]->v[i] = vs[k]->v[--vs[k]->n]; /* the order of a day's list is no matter */
                break;
            }
}

void fusion_esc_restore(struct fusion_esc *e, const struct fusion_report *r)
{
    if (!e->p.enabled || !counts_any(e, r))
        return;
    struct fusion_rvec *vs[2] = {day_reps(&e->overall, r),
                                 r->zone ? day_reps(zone_find(e, r->zone), r) : NULL};
    for (int k = 0; k < 2; k++)
        if (vs[k])
            fusion_rvec_push(vs[k], r);
}

void fusion_esc_reports(const struct fusion_esc *e, const char *zone, int64_t d0, int64_t d1,
                        struct fusion_rvec *out)
{
    const struct series *s = &e->overall;
    if (zone) {
        s = zone_find(e, zone);
        if (!s)
            return;
    }
    for (int64_t d = d0; d <= d1; d++) {
        if (d < s->base || d >= s->base + (int64_t)s->len)
            continue;
        const struct fusion_rvec *v = &s->reps[d - s->base];
        for (size_t i = 0; i < v->n; i++)
            fusion_rvec_push(out, v->v[i]);
    }
}

void fusion_esc_stats_of(const struct fusion_esc_params *p, const char *zone, const int64_t *days,
                         size_t ndays, const struct fusion_report *const *reps, size_t n,
                         double *out)
{
    if (!ndays)
        return;
    int64_t span = fusion_esc_reach(p), lo = days[0], hi = days[0];
    for (size_t i = 1; i < ndays; i++) {
        lo = days[i] < lo ? days[i] : lo;
        hi = days[i] > hi ? days[i] : hi;
    }
    int64_t d0 = lo - span + 1, len = hi - d0 + 1;
    const struct fusion_report **v = xmalloc((n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fusion_report *r = reps[i];
        if (!fusion_esc_counts(p, r))
            continue;
        if (zone && (!r->zone || strcmp(r->zone, zone) != 0))
            continue;
        int64_t d = fusion_esc_day(r);
        if (d >= d0 && d <= hi)
            v[k++] = r;
    }
    double *c = xcalloc((size_t)len, sizeof(double));
    double *sums[FUSION_ESC_MEASURES] = {0};
    sums[p->measure] = c;
    /* p is already the detector's: only its own measure is filled, with p's event list */
    sum_events(p, v, k, d0, len, sums);
    /* the view examines only days the engine judged, so the history is taken as known */
    for (size_t i = 0; i < ndays; i++)
        out[i] = fusion_esc_stat_at(p, c + (days[i] - span + 1 - d0), (size_t)span, days[i],
                                    days[i] - span + 1);
    free(c);
    free(v);
}

double fusion_esc_stat_of(const struct fusion_esc_params *p, const char *zone, int64_t day,
                          const struct fusion_report *const *reps, size_t n)
{
    double st = -1;
    fusion_esc_stats_of(p, zone, &day, 1, reps, n, &st);
    return st;
}

void fusion_esc_params_zone(const struct fusion_esc *e, const char *zone,
                            struct fusion_esc_params *q)
{
    const struct series *s = zone ? zone_find(e, zone) : NULL;
    if (!s || !s->has_truce)
        return;
    int64_t v[FUSION_ESC_TRUCES_MAX + 1];
    memcpy(v, q->truce, q->ntruces * sizeof(*v));
    v[q->ntruces] = s->truce;
    fusion_esc_set_truces(q, v, q->ntruces + 1);
}

/* ---- the tracker's state, saved and loaded (restart2: issue #20, a start without history) -- */

/* 2: reports count on the last day of their window (was: their start) */
#define STATE_MAGIC "vigil-esc-state/2"

/* The parameters a saved state was judged with: it is loaded only under the same ones. */
static void params_bytes(const struct fusion_esc *e, struct buf *b)
{
    const struct fusion_esc_params *p = &e->p;
    char t[96];
    buf_addf(b, "%d %d %d %d %d %d %zu %d|", p->enabled, p->baseline_days, p->window_days,
             p->lateness_days, p->measure, p->truce_zones, p->nevents, p->truce_prior_days);
    for (size_t i = 0; i < p->nevents; i++)
        buf_addf(b, "%s,", p->events[i]);
    for (size_t i = 0; i < p->ntruces; i++)
        buf_addf(b, "%lld,", (long long)p->truce[i]);
    for (int m = 0; m < FUSION_ESC_MEASURES; m++) {
        const struct fusion_esc_params *q = &e->det[m];
        snprintf(t, sizeof(t), "|%d %a %a %a %a %a", e->on[m], q->shift, q->threshold,
                 q->min_mean, q->min_size, q->max_size);
        buf_adds(b, t);
    }
    snprintf(t, sizeof(t), "|%a %a", p->truce_level, p->weighted_heavy);
    buf_adds(b, t);
}

static void put(struct buf *b, const void *p, size_t n)
{
    buf_add(b, p, n);
}

static void series_save(const struct series *s, struct buf *b)
{
    uint32_t zl = s->zone ? (uint32_t)strlen(s->zone) : UINT32_MAX;
    put(b, &zl, sizeof(zl));
    if (s->zone)
        put(b, s->zone, zl);
    uint64_t len = s->len;
    uint8_t fl = (uint8_t)(s->has_truce | s->truce_moved << 1);
    put(b, &s->base, sizeof(s->base));
    put(b, &s->first, sizeof(s->first));
    put(b, &len, sizeof(len));
    put(b, &fl, 1);
    put(b, &s->truce, sizeof(s->truce));
    put(b, &s->truce_was, sizeof(s->truce_was));
    for (int m = 0; m < FUSION_ESC_MEASURES; m++)
        put(b, s->val[m], s->len * sizeof(double));
    put(b, s->alarm, s->len);
}

int fusion_esc_save(const struct fusion_esc *e, struct buf *out)
{
    struct buf pb;
    buf_init(&pb, BUF_NOCAP);
    params_bytes(e, &pb);
    uint32_t pl = (uint32_t)pb.len;
    put(out, STATE_MAGIC, sizeof(STATE_MAGIC));
    put(out, &pl, sizeof(pl));
    put(out, pb.data, pb.len);
    buf_release(&pb);
    uint8_t started = e->started;
    uint64_t nz = e->nzones;
    put(out, &e->watermark, sizeof(e->watermark));
    put(out, &e->hi, sizeof(e->hi));
    put(out, &started, 1);
    put(out, &nz, sizeof(nz));
    series_save(&e->overall, out);
    for (size_t i = 0; i < e->nzones; i++)
        series_save(e->zones[i], out);
    return out->len < out->cap ? 0 : VIGIL_ETOOBIG;
}

struct reader {
    const unsigned char *p;
    size_t left;
    bool bad;
};

static void get(struct reader *r, void *to, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        memset(to, 0, n);
        return;
    }
    memcpy(to, r->p, n);
    r->p += n;
    r->left -= n;
}

/* A series read from r, or false (s half-filled: the caller releases it). */
static bool series_load(struct reader *r, struct series *s, bool zone)
{
    uint32_t zl;
    uint64_t len;
    uint8_t fl;
    get(r, &zl, sizeof(zl));
    if (r->bad || (zone ? zl == UINT32_MAX || zl == 0 || zl > r->left : zl != UINT32_MAX))
        return false;
    if (zone) {
        s->zone = xmalloc((size_t)zl + 1);
        get(r, s->zone, zl);
        s->zone[zl] = '\0';
        if (strlen(s->zone) != zl)
            return false;
    }
    get(r, &s->base, sizeof(s->base));
    get(r, &s->first, sizeof(s->first));
    get(r, &len, sizeof(len));
    get(r, &fl, 1);
    get(r, &s->truce, sizeof(s->truce));
    get(r, &s->truce_was, sizeof(s->truce_was));
    /* each day takes FUSION_ESC_MEASURES doubles and an alarm byte of what is left */
    if (r->bad || fl > 3 || len > r->left / (FUSION_ESC_MEASURES * sizeof(double) + 1) ||
        (len && (s->first < s->base || s->first >= s->base + (int64_t)len)))
        return false;
    s->has_truce = fl & 1;
    s->truce_moved = fl & 2;
    s->reps = xcalloc((size_t)len + 1, sizeof(*s->reps)); /* the reports: given back (restore) */
    s->len = (size_t)len;
    for (int m = 0; m < FUSION_ESC_MEASURES; m++) {
        s->val[m] = xcalloc(s->len + 1, sizeof(double));
        get(r, s->val[m], s->len * sizeof(double));
    }
    s->alarm = xcalloc(s->len + 1, 1);
    get(r, s->alarm, s->len);
    return !r->bad;
}

int fusion_esc_load(struct fusion_esc *e, const void *data, size_t len)
{
    if (e->started || e->overall.len || e->nzones)
        return VIGIL_EINVAL;
    struct reader r = {data, len, false};
    char magic[sizeof(STATE_MAGIC)];
    uint32_t pl;
    get(&r, magic, sizeof(magic));
    get(&r, &pl, sizeof(pl));
    if (r.bad || memcmp(magic, STATE_MAGIC, sizeof(magic)) != 0 || pl > r.left)
        return VIGIL_EINVAL;
    struct buf pb;
    buf_init(&pb, BUF_NOCAP);
    params_bytes(e, &pb);
    bool same = pb.len == pl && memcmp(pb.data, r.p, pl) == 0;
    buf_release(&pb);
    if (!same)
        return VIGIL_EINVAL; /* judged under other parameters: stale */
    r.p += pl;
    r.left -= pl;
    struct fusion_esc *n = fusion_esc_new(&e->p);
    uint8_t started;
    uint64_t nz;
    get(&r, &n->watermark, sizeof(n->watermark));
    get(&r, &n->hi, sizeof(n->hi));
    get(&r, &started, 1);
    get(&r, &nz, sizeof(nz));
    bool ok = !r.bad && started <= 1 && nz <= r.left && series_load(&r, &n->overall, false);
    n->started = started;
    for (uint64_t i = 0; ok && i < nz; i++) {
        struct series *s = xcalloc(1, sizeof(*s));
        ok = series_load(&r, s, true) && !zone_find(n, s->zone);
        if (!ok) {
            series_release(s);
            free(s);
            break;
        }
        if (n->nzones == n->azones) {
            n->azones = n->azones ? n->azones * 2 : 8;
            n->zones = xrealloc(n->zones, n->azones * sizeof(*n->zones));
        }
        n->zones[n->nzones++] = s;
    }
    if (!ok || r.left) {
        fusion_esc_free(n);
        return VIGIL_EINVAL;
    }
    /* e takes n's state; e's parameters are n's */
    struct fusion_esc tmp = *e;
    *e = *n;
    *n = tmp;
    fusion_esc_free(n);
    return 0;
}

static void series_alarms(const struct fusion_esc *e, const struct series *s,
                          void (*fn)(void *ctx, int measure, const char *zone, int64_t day),
                          void *ctx)
{
    for (size_t i = 0; i < s->len; i++)
        for (int m = 0; m < FUSION_ESC_MEASURES; m++)
            if (e->on[m] && (s->alarm[i] & (1u << m)))
                fn(ctx, m, s->zone, s->base + (int64_t)i);
}

void fusion_esc_alarm_days(const struct fusion_esc *e,
                           void (*fn)(void *ctx, int measure, const char *zone, int64_t day),
                           void *ctx)
{
    series_alarms(e, &e->overall, fn, ctx);
    for (size_t i = 0; i < e->nzones; i++)
        series_alarms(e, e->zones[i], fn, ctx);
}
