/* escalation_eval.c - evaluates the escalation detector (src/fusion/escalation.h) on generated
 * negative-binomial daily counts.
 *
 * 1. Calibration: for several baselines (mean mu0, NB size r), a long stationary series is
 *    generated and the detector's statistic computed for every day; the threshold h giving an
 *    in-control average run length (days between false-alarm episodes, as the engine groups
 *    alarm days into alerts) of ARL_TARGET days is found by bisection.
 * 2. Detection: series with a change point (mu0 -> k mu0 at day CHANGE) for several shift
 *    sizes k, run with the default parameters (threshold from the rules file default): the
 *    detection delay in days and the false alarms per 30 days before the change.
 * 3. The weighted detector (escalation-weighted): daily sums of event weights m (1 + g), where
 *    the events of a day are NB counts as in 1, g = ln(1 + deaths) is gamma with the mean 1.36
 *    and standard deviation 0.86 of the UCDP GED Syria events 2016-2019 (tests/data/real: the
 *    heavier-tailed of the two GED files), and m = weighted_heavy for a share of the events
 *    (0: GED, which records no weapon; 0.5: ACLED-like data with air strikes and shelling),
 *    times weighted_civilians for a share of the events (0, or 0.35: the GED Syria events of
 *    one-sided violence or with civilians among the dead; Donbas: 0.11).
 *    The threshold for the same ARL is found as in 1.
 * Fixed seeds: the figures are reproducible. Usage: escalation_eval [years] [runs].
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/escalation.h"

#define ARL_TARGET 365.0
#define CHANGE 120 /* change day in the detection series */
#define HORIZON 60 /* days after the change that are watched */

static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next64(void)
{
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

static void seed(uint64_t s)
{
    for (int i = 0; i < 4; i++) {
        s += UINT64_C(0x9e3779b97f4a7c15);
        uint64_t z = s;
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        rng_s[i] = z ^ (z >> 31);
    }
}

static double unif(void)
{
    return ((double)(next64() >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* Marsaglia-Tsang gamma(shape, 1). */
static double gamma1(double a)
{
    if (a < 1)
        return gamma1(a + 1) * pow(unif(), 1 / a);
    double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif();
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static int poisson(double lam)
{
    if (lam > 50) {
        double x = floor(lam + sqrt(lam) * normal() + 0.5);
        return x < 0 ? 0 : (int)x;
    }
    double l = exp(-lam), p = 1;
    int k = 0;
    do {
        k++;
        p *= unif();
    } while (p > l);
    return k - 1;
}

/* NB with mean mu and size r (variance mu + mu^2 / r), as a gamma-Poisson mixture. */
static int nb(double mu, double r)
{
    return poisson(gamma1(r) * mu / r);
}

static int episodes(const struct fusion_esc_params *p, const double *s, size_t from, size_t to,
                    double h, long *first);

/* One day of the weighted detector's series: nb(mu, r) events, each of weight m (1 + g). */
static double weighted_day(const struct fusion_esc_params *p, double mu, double r, double heavy,
                           double civ)
{
    static const double g_mean = 1.36, g_sd = 0.86;
    double shape = (g_mean / g_sd) * (g_mean / g_sd), scale = g_sd * g_sd / g_mean;
    int k = nb(mu, r);
    double y = 0;
    for (int i = 0; i < k; i++)
        /* civ 0 draws nothing more: the runs without civilians keep their figures */
        y += (unif() < heavy ? p->weighted_heavy : 1) *
             (civ > 0 && unif() < civ ? p->weighted_civilians : 1) * (1 + gamma1(shape) * scale);
    return y;
}

/* The threshold for an in-control ARL of ARL_TARGET from the statistics s[span..n). */
static double calibrate(const struct fusion_esc_params *p, const double *s, size_t span,
                        size_t n)
{
    double lo = 0.1, hi = 60;
    long first;
    for (int it = 0; it < 40; it++) {
        double mid = (lo + hi) / 2;
        int e = episodes(p, s, span, n, mid, &first);
        double arl = e ? (double)(n - span) / e : 1e9;
        if (arl < ARL_TARGET)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Statistic of every day d >= span - 1 of c[0..n) into s (earlier days: -1). */
static void stats(const struct fusion_esc_params *p, const int *c, size_t n, double *s)
{
    size_t span = (size_t)(p->baseline_days + p->window_days);
    for (size_t d = 0; d < n; d++)
        s[d] = d + 1 >= span ? fusion_esc_stat(p, c + d + 1 - span, span) : -1;
}

/* Alarm episodes (alarm days more than window_days apart start a new one) over days
 * [from, to) with threshold h; *first receives the first alarm day (or -1). */
static int episodes(const struct fusion_esc_params *p, const double *s, size_t from, size_t to,
                    double h, long *first)
{
    int n = 0;
    long last = -1000000;
    *first = -1;
    for (size_t d = from; d < to; d++)
        if (s[d] >= h) {
            if ((long)d - last > p->window_days)
                n++;
            if (*first < 0)
                *first = (long)d;
            last = (long)d;
        }
    return n;
}

int main(int argc, char **argv)
{
    int years = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 300;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 400;
    if (years < 1 || runs < 1)
        return 2;
    struct fusion_esc_params p;
    fusion_esc_params_default(&p);
    size_t span = (size_t)(p.baseline_days + p.window_days);
    size_t n = (size_t)years * 365 + span;
    int *c = malloc(n * sizeof(int));
    double *s = malloc(n * sizeof(double));
    static const double base[][2] = {{0.5, 1}, {1, 0.5}, {2, 1},    {2, 10},
                                     {5, 2},   {10, 5},  {20, 1000}};
    size_t nb_base = sizeof(base) / sizeof(base[0]);

    printf("# NB CUSUM, L=%d W=%d shift=%.1f min_mean=%.2f: threshold h for an in-control "
           "ARL of %.0f days (%d simulated years per baseline)\n",
           p.baseline_days, p.window_days, p.shift, p.min_mean, ARL_TARGET, years);
    printf("%-8s %-8s %-10s %-14s %-14s\n", "mu0", "size", "h", "ARL@default_h", "FA/month");
    double hmax = 0;
    for (size_t b = 0; b < nb_base; b++) {
        seed(1000 + b);
        for (size_t d = 0; d < n; d++)
            c[d] = nb(base[b][0], base[b][1]);
        stats(&p, c, n, s);
        double lo = 0.1, hi = 60;
        long first;
        for (int it = 0; it < 40; it++) {
            double mid = (lo + hi) / 2;
            int e = episodes(&p, s, span, n, mid, &first);
            double arl = e ? (double)(n - span) / e : 1e9;
            if (arl < ARL_TARGET)
                lo = mid;
            else
                hi = mid;
        }
        int e = episodes(&p, s, span, n, p.threshold, &first);
        double arl = e ? (double)(n - span) / e : INFINITY;
        printf("%-8.2f %-8.1f %-10.2f %-14.0f %-14.3f\n", base[b][0], base[b][1], hi, arl,
               30.0 * e / (double)(n - span));
        if (hi > hmax)
            hmax = hi;
    }
    printf("max h over these baselines: %.2f (default threshold: %.2f)\n\n", hmax, p.threshold);

    struct fusion_esc_params w;
    fusion_esc_params_for(&p, FUSION_ESC_WEIGHTED, &w);
    printf("# weighted detector (escalation-weighted), shift=%.1f min_mean=%.2f heavy=%.1f: h for"
           " an in-control ARL of %.0f days\n", w.shift, w.min_mean, w.weighted_heavy,
           ARL_TARGET);
    printf("%-8s %-8s %-7s %-7s %-10s %-14s %-14s\n", "events", "size", "heavy", "civil", "h",
           "ARL@default_h", "FA/month");
    double *y = malloc(n * sizeof(double));
    static const double heavies[] = {0, 0.5}, civils[] = {0, 0.35};
    double wmax = 0;
    for (size_t hc = 0; hc < 4; hc++)
        for (size_t b = 0; b < nb_base; b++) {
            size_t hv = hc % 2, cv = hc / 2;
            seed(3000 + b + 100 * hv + 1000 * cv); /* the seeds of the runs without civilians */
            for (size_t d = 0; d < n; d++)
                y[d] = weighted_day(&w, base[b][0], base[b][1], heavies[hv], civils[cv]);
            for (size_t d = 0; d < n; d++)
                s[d] = d + 1 >= span ? fusion_esc_stat_d(&w, y + d + 1 - span, span) : -1;
            double h = calibrate(&w, s, span, n);
            long first;
            int e = episodes(&w, s, span, n, w.threshold, &first);
            double arl = e ? (double)(n - span) / e : INFINITY;
            printf("%-8.2f %-8.1f %-7.1f %-7.2f %-10.2f %-14.0f %-14.3f\n", base[b][0],
                   base[b][1], heavies[hv], civils[cv], h, arl, 30.0 * e / (double)(n - span));
            if (h > wmax)
                wmax = h;
        }
    free(y);
    printf("max h over these baselines: %.2f (default weighted_threshold: %.2f)\n\n", wmax,
           w.threshold);

    printf("# detection with the default threshold h=%.2f: change at day %d, %d runs each\n",
           p.threshold, CHANGE, runs);
    printf("%-8s %-8s %-6s %-10s %-10s %-10s %-12s\n", "mu0", "size", "k", "detected", "mean_delay",
           "med_delay", "FA/month");
    static const double shifts[] = {1.5, 2, 3, 5};
    size_t len = CHANGE + HORIZON;
    int *delays = malloc((size_t)runs * sizeof(int));
    for (size_t b = 0; b < nb_base; b++)
        for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
            seed(7000 + b * 10 + k);
            int det = 0, fa = 0;
            size_t watched = 0;
            for (int r = 0; r < runs; r++) {
                for (size_t d = 0; d < len; d++)
                    c[d] = nb(d < CHANGE ? base[b][0] : base[b][0] * shifts[k], base[b][1]);
                stats(&p, c, len, s);
                long first;
                fa += episodes(&p, s, span, CHANGE, p.threshold, &first);
                watched += CHANGE - span;
                episodes(&p, s, CHANGE, len, p.threshold, &first);
                if (first >= 0)
                    delays[det++] = (int)(first - CHANGE);
            }
            double mean = 0;
            for (int i = 0; i < det; i++)
                mean += delays[i];
            /* median by counting */
            int med = -1;
            for (int v = 0, acc = 0; v < HORIZON && det; v++) {
                for (int i = 0; i < det; i++)
                    acc += delays[i] == v;
                if (acc * 2 >= det) {
                    med = v;
                    break;
                }
            }
            printf("%-8.2f %-8.1f %-6.1f %-10.2f %-10.1f %-10d %-12.3f\n", base[b][0], base[b][1],
                   shifts[k], (double)det / runs, det ? mean / det : NAN, med,
                   30.0 * fa / (double)watched);
        }
    free(delays);
    free(c);
    free(s);
    return 0;
}
