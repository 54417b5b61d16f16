/* fusion_real.c - fusion measured on real multi-source events (S11): a UCDP GED CSV (.gz or
 * not) split into one report per cited source, each source a partner of its own
 * (tests/unit/real_split.h). Prints the time to correlate every report (in file order, then
 * reversed: every report out of order), the pairwise precision and recall of "same incident"
 * against "same GED id", and the time per report of a burst of co-located reports from one
 * partner against the same number spread out.
 *
 *   bench/fusion_real [FILE] [BURST]   (defaults: tests/data/real/ucdp_ged_syria_2016_2019.csv.gz,
 *                                       2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fusion/fusion.h"
#include "fusion/rules.h"
#include "real_split.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double fuse(const struct split *sp, bool reversed, int64_t *inc)
{
    struct fusion_corr_params p;
    fusion_corr_params_default(&p);
    struct fusion_correlator *c = fusion_corr_new(&p);
    const struct fusion_report *out;
    double t0 = now_s();
    for (size_t k = 0; k < sp->n; k++) {
        size_t i = reversed ? sp->n - 1 - k : k;
        if (fusion_corr_add(c, &sp->r[i], 0, &out) != 0) {
            fprintf(stderr, "fusion_real: report %zu refused\n", i);
            exit(1);
        }
    }
    double dt = now_s() - t0;
    if (inc)
        for (size_t i = 0; i < sp->n; i++)
            inc[i] = fusion_incident_id(fusion_corr_incident(fusion_corr_get(c, sp->r[i].seq)));
    fusion_corr_free(c);
    return dt;
}

static struct fusion_report warning(int64_t seq, int64_t owner, size_t i, bool colocated)
{
    struct fusion_report r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    r.acl.owner = owner;
        snprintf(r.event, sizeof r.event, "ASSAULT");
        snprintf(r.mode, sizeof r.mode, "aerial");
        r.future = true;
        r.start = INT64_C(1740787200) * VTIME_US_PER_SEC;
        r.end = r.start + 3600 * VTIME_US_PER_SEC;
    r.lat = 36.2 + (colocated ? 0 : (double)(i % 100) * 0.1);
    r.lon = 37.1 + (colocated ? 0 : (double)(i / 100 % 100) * 0.12);
    r.precision_m = 100;
    r.reliability = 'C';
    r.credibility = 3;
    r.dist_to_line_m = -1;
    return r;
}

/* n warnings of one partner at one place and hour, or n spread over a 1,000 km grid:
 * correlator alone, seconds per report. */
static double burst(size_t n, bool colocated)
{
    struct fusion_corr_params p;
    fusion_corr_params_default(&p);
    struct fusion_correlator *c = fusion_corr_new(&p);
    const struct fusion_report *out;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct fusion_report r = warning((int64_t)i + 1, 1, i, colocated);
        fusion_corr_add(c, &r, 0, &out);
    }
    double dt = now_s() - t0;
    fusion_corr_free(c);
    return dt;
}

/* The attack of issue #18: the whole engine with the shipped rules, n warnings from one
 * partner, then the same warning from two other partners (corroborated: an alert). Prints the
 * time of the burst and of the pair. */
static void burst_engine(size_t n, bool colocated)
{
    struct fusion_rules *rules;
    char msg[FUSION_RULES_MSG_SZ];
    if (fusion_rules_load("data/rules/default.rules", &rules, msg)) {
        printf("engine burst: %s (run from the repository's root)\n", msg);
        return;
    }
    struct fusion *f;
    fusion_new(NULL, rules, &f);
    fusion_rules_unref(rules);
    struct fusion_events ev = {0};
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct fusion_report r = warning((int64_t)i + 1, 1, i, colocated);
        ev.n = 0;
        fusion_add(f, &r, &ev);
    }
    double t1 = now_s();
    size_t alerts = 0;
    for (int64_t k = 0; k < 2; k++) {
        struct fusion_report r = warning((int64_t)n + 1 + k, 2 + k, 0, true);
        ev.n = 0;
        fusion_add(f, &r, &ev);
        alerts += ev.n;
    }
    double t2 = now_s();
    printf("engine, burst of %zu, one partner, %s: %.1f us/report; then two other partners' "
           "warning: %.3f ms, %zu alert event(s)\n",
           n, colocated ? "co-located" : "spread out", (t1 - t0) * 1e6 / (double)n,
           (t2 - t1) * 1e3, alerts);
    fusion_events_release(&ev);
    fusion_free(f);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/real/ucdp_ged_syria_2016_2019.csv.gz";
    size_t nb = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 2000;
    struct split sp;
    if (split_load(path, &sp) != 0) {
        fprintf(stderr, "fusion_real: cannot read %s (a UCDP GED CSV)\n", path);
        return 1;
    }
    int64_t *inc = xmalloc(sp.n * sizeof(*inc));
    double t_in = fuse(&sp, false, inc);
    struct pair_counts pc = split_pairs(&sp, inc);
    double t_rev = fuse(&sp, true, NULL);
    printf("file                 %s\n", path);
    printf("reports              %zu (partners %zu)\n", sp.n, sp.npartners);
    printf("fuse, file order     %.3f s (%.1f us/report)\n", t_in, t_in * 1e6 / (double)sp.n);
    printf("fuse, reversed       %.3f s (%.1f us/report)\n", t_rev, t_rev * 1e6 / (double)sp.n);
    printf("pairs same incident  %.0f, same id %.0f, both %.0f\n", pc.same_incident,
           pc.same_truth, pc.same_both);
    printf("pairwise precision   %.4f\n", pc.same_both / pc.same_incident);
    printf("pairwise recall      %.4f\n", pc.same_both / pc.same_truth);
    double tb = burst(nb, true), ts = burst(nb, false);
    printf("burst of %zu, one partner, co-located  %.1f us/report\n", nb, tb * 1e6 / (double)nb);
    printf("burst of %zu, one partner, spread out  %.1f us/report\n", nb, ts * 1e6 / (double)nb);
    burst_engine(nb, true);
    burst_engine(nb, false);
    free(inc);
    split_free(&sp);
    return 0;
}
