/* escalation.c - NB CUSUM over daily counts, per zone and overall. See escalation.h. */
#include "fusion/escalation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"

/* The series of one zone (or the overall one): days [base, base + len). */
struct series {
    char *zone; /* NULL: overall */
    int64_t base, first;
    size_t len;
    int *count;
    struct fusion_rvec *reps;
};

struct fusion_esc {
    struct fusion_esc_params p;
    struct series overall;
    struct series **zones;
    size_t nzones, azones;
    int64_t watermark; /* the latest day seen */
    int64_t judged;    /* every day <= judged has been judged */
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
}

int64_t fusion_day(vtime_t t)
{
    int64_t d = t / FUSION_DAY_US;
    if (t < 0 && t % FUSION_DAY_US)
        d--;
    return d;
}

void fusion_esc_estimate(const struct fusion_esc_params *p, const int *c, size_t n, double *mu,
                         double *size)
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

double fusion_nb_llr(int y, double mu0, double shift, double size)
{
    double mu1 = shift * mu0;
    return y * log(mu1 * (size + mu0) / (mu0 * (size + mu1))) +
           size * log((size + mu0) / (size + mu1));
}

double fusion_esc_stat(const struct fusion_esc_params *p, const int *c, size_t n)
{
    size_t L = (size_t)p->baseline_days, W = (size_t)p->window_days;
    if (n < L + W)
        return -1;
    c += n - L - W;
    double mu, r;
    fusion_esc_estimate(p, c, L, &mu, &r);
    double s = 0;
    for (size_t i = L; i < L + W; i++) {
        s += fusion_nb_llr(c[i], mu, p->shift, r);
        if (s < 0)
            s = 0;
    }
    return s;
}

bool fusion_esc_alarm(const struct fusion_esc_params *p, const int *c, size_t n)
{
    return fusion_esc_stat(p, c, n) >= p->threshold;
}

bool fusion_esc_counts(const struct fusion_esc_params *p, const struct fusion_report *r)
{
    if (r->future)
        return false;
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

struct fusion_esc *fusion_esc_new(const struct fusion_esc_params *p)
{
    struct fusion_esc *e = xcalloc(1, sizeof(*e));
    e->p = *p;
    return e;
}

static void series_release(struct series *s)
{
    for (size_t i = 0; i < s->len; i++)
        fusion_rvec_release(&s->reps[i]);
    free(s->reps);
    free(s->count);
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
    size_t b =
        s->len * (sizeof(*s->count) + sizeof(*s->reps)) + (s->zone ? strlen(s->zone) + 1 : 0);
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

/* Makes day d addressable in s; returns its index. */
static size_t series_day(struct series *s, int64_t d)
{
    if (!s->len) {
        s->base = s->first = d;
        s->len = 1;
        s->count = xcalloc(1, sizeof(int));
        s->reps = xcalloc(1, sizeof(struct fusion_rvec));
        return 0;
    }
    if (d < s->first)
        s->first = d;
    if (d < s->base) {
        size_t add = (size_t)(s->base - d);
        int *c = xcalloc(s->len + add, sizeof(int));
        struct fusion_rvec *r = xcalloc(s->len + add, sizeof(*r));
        memcpy(c + add, s->count, s->len * sizeof(int));
        memcpy(r + add, s->reps, s->len * sizeof(*r));
        free(s->count);
        free(s->reps);
        s->count = c;
        s->reps = r;
        s->base = d;
        s->len += add;
    } else if ((size_t)(d - s->base) >= s->len) {
        size_t nlen = (size_t)(d - s->base) + 1;
        s->count = xrealloc(s->count, nlen * sizeof(int));
        s->reps = xrealloc(s->reps, nlen * sizeof(*s->reps));
        memset(s->count + s->len, 0, (nlen - s->len) * sizeof(int));
        memset(s->reps + s->len, 0, (nlen - s->len) * sizeof(*s->reps));
        s->len = nlen;
    }
    return (size_t)(d - s->base);
}

static struct series *zone_series(struct fusion_esc *e, const char *zone)
{
    for (size_t i = 0; i < e->nzones; i++)
        if (strcmp(e->zones[i]->zone, zone) == 0)
            return e->zones[i];
    if (e->nzones == e->azones) {
        e->azones = e->azones ? e->azones * 2 : 8;
        e->zones = xrealloc(e->zones, e->azones * sizeof(*e->zones));
    }
    struct series *s = xcalloc(1, sizeof(*s));
    s->zone = xstrdup(zone);
    e->zones[e->nzones++] = s;
    return s;
}

/* The statistic of day d in s, or -1 when s has less than L + W days of history there. */
static double series_stat(const struct fusion_esc_params *p, const struct series *s, int64_t d)
{
    int64_t span = p->baseline_days + p->window_days;
    if (!s->len || d - s->first + 1 < span)
        return -1;
    int *c = xcalloc((size_t)span, sizeof(int));
    for (int64_t i = 0; i < span; i++) {
        int64_t day = d - span + 1 + i;
        if (day >= s->base && day < s->base + (int64_t)s->len)
            c[i] = s->count[day - s->base];
    }
    double st = fusion_esc_stat(p, c, (size_t)span);
    free(c);
    return st;
}

static void push_alarm(struct fusion_esc_alarm **a, size_t *n, const char *zone, int64_t d,
                       double st)
{
    *a = xrealloc(*a, (*n + 1) * sizeof(**a));
    (*a)[*n].zone = zone;
    (*a)[*n].day = d;
    (*a)[*n].stat = st;
    (*n)++;
}

void fusion_esc_add(struct fusion_esc *e, const struct fusion_report *r,
                    struct fusion_esc_alarm **alarms, size_t *nalarms)
{
    if (!e->p.enabled || !fusion_esc_counts(&e->p, r))
        return;
    int64_t d = fusion_day(r->start);
    size_t i = series_day(&e->overall, d);
    e->overall.count[i]++;
    fusion_rvec_push(&e->overall.reps[i], r);
    if (r->zone) {
        struct series *s = zone_series(e, r->zone);
        i = series_day(s, d);
        s->count[i]++;
        fusion_rvec_push(&s->reps[i], r);
    }
    if (!e->started) {
        e->started = true;
        e->watermark = d;
        e->judged = d - 1;
        return;
    }
    if (d > e->watermark)
        e->watermark = d;
    while (e->judged < e->watermark - e->p.lateness_days) {
        int64_t day = ++e->judged;
        double st = series_stat(&e->p, &e->overall, day);
        if (st >= e->p.threshold)
            push_alarm(alarms, nalarms, NULL, day, st);
        for (size_t z = 0; z < e->nzones; z++) {
            st = series_stat(&e->p, e->zones[z], day);
            if (st >= e->p.threshold)
                push_alarm(alarms, nalarms, e->zones[z]->zone, day, st);
        }
    }
}

/* Takes r out of its day in s (the day stays judged). */
static void series_remove(struct series *s, const struct fusion_report *r)
{
    int64_t d = fusion_day(r->start);
    if (!s->len || d < s->base || d >= s->base + (int64_t)s->len)
        return;
    struct fusion_rvec *v = &s->reps[d - s->base];
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == r) {
            fusion_rvec_remove_at(v, i);
            s->count[d - s->base]--;
            return;
        }
}

void fusion_esc_remove(struct fusion_esc *e, const struct fusion_report *r)
{
    if (!e->p.enabled || !fusion_esc_counts(&e->p, r))
        return;
    series_remove(&e->overall, r);
    for (size_t z = 0; r->zone && z < e->nzones; z++)
        if (strcmp(e->zones[z]->zone, r->zone) == 0)
            series_remove(e->zones[z], r);
}

void fusion_esc_reports(const struct fusion_esc *e, const char *zone, int64_t d0, int64_t d1,
                        struct fusion_rvec *out)
{
    const struct series *s = &e->overall;
    if (zone) {
        s = NULL;
        for (size_t i = 0; i < e->nzones; i++)
            if (strcmp(e->zones[i]->zone, zone) == 0)
                s = e->zones[i];
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

double fusion_esc_stat_of(const struct fusion_esc_params *p, const char *zone, int64_t day,
                          const struct fusion_report *const *reps, size_t n)
{
    int64_t span = p->baseline_days + p->window_days;
    int64_t d0 = day - span + 1;
    int *c = xcalloc((size_t)span, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        const struct fusion_report *r = reps[i];
        if (!fusion_esc_counts(p, r))
            continue;
        if (zone && (!r->zone || strcmp(r->zone, zone) != 0))
            continue;
        int64_t d = fusion_day(r->start);
        if (d >= d0 && d <= day)
            c[d - d0]++;
    }
    double st = fusion_esc_stat(p, c, (size_t)span);
    free(c);
    return st;
}
