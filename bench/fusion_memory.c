/* fusion_memory.c - the memory the fusion engine holds per report (S11 "memory").
 *
 * Feeds an engine with the shipped rules (data/rules/default.rules) N reports shaped like the
 * soak's (bench/soak_client.py: 20 a second from two partners, observed attacks, warnings of
 * attacks and troop movements at random places in a 3 x 4 degree region, times spread over
 * the ten hours before arrival, warnings up to 20 h after), one JSON-free report at a time as
 * the daemon's alert service does, and prints at checkpoints what the allocator reports
 * (mallinfo2, every arena): bytes in use and bytes freed but kept, each per report (the second
 * is fragmentation: memory the process holds and cannot give back), and the engine's own count
 * of its structures' bytes (fusion_memory, which /metrics shows), per report.
 * With a second argument C, it then sends C corrections, as the soak does: a report chosen at
 * random is withdrawn and sent again (same seq) with a new place, time and kind, the number of
 * reports held staying N; the lines then show the corrections made and, per report held, the
 * same figures (they stay put when corrections leave nothing behind).
 * Fixed seed: the figures are reproducible.
 * Usage: fusion_memory [reports (200000)] [corrections (0)].
 */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion/fusion.h"

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Report seq as sent at `now`, shaped like the soak's. */
static void soak_report(struct fusion_report *r, char id[64], int64_t seq, vtime_t now)
{
    const vtime_t minute = 60 * VTIME_US_PER_SEC;
    snprintf(id, 64, "report--%08lx-0000-4000-8000-%012lx", (unsigned long)seq,
             (unsigned long)(rng & 0xffffffffffff));
    double kind = uniform();
    *r = (struct fusion_report){
        .seq = seq,
        .id = id,
        .acl = {.owner = 2 + (seq & 1), .tlp = 1},
        .lat = 47.0 + uniform() * 3,
        .lon = 35.0 + uniform() * 4,
        .precision_m = 1000,
        .reliability = 'C',
        .credibility = 3,
        .dist_to_line_m = -1,
    };
    if (kind < 0.5) {
        snprintf(r->event, sizeof r->event, "ASSAULT");
        snprintf(r->mode, sizeof r->mode, "heavy-weapons");
        r->start = now - (vtime_t)(uniform() * 600) * minute;
    } else if (kind < 0.75) {
        snprintf(r->event, sizeof r->event, "ASSAULT");
        r->future = true;
        r->start = now + (1 + (vtime_t)(uniform() * 20)) * 60 * minute;
    } else {
        snprintf(r->event, sizeof r->event, "MOBILIZE");
        snprintf(r->mode, sizeof r->mode, "troops");
        r->start = now - (vtime_t)(uniform() * 600) * minute;
    }
    r->end = r->start;
}

/* One line of figures: after `done` reports or corrections, with n reports held. */
static void checkpoint(const struct fusion *f, const struct mallinfo2 *m0, long done, long n)
{
    struct mallinfo2 m = mallinfo2();
    double use = (double)(m.uordblks + m.hblkhd) - (double)(m0->uordblks + m0->hblkhd);
    double fr = (double)m.fordblks - (double)m0->fordblks;
    printf("%ld %.0f %.0f %.0f %.1f %.1f %zu\n", done, use / (double)n, fr / (double)n,
           (double)fusion_memory(f) / (double)n, use / 1048576.0, fr / 1048576.0,
           fusion_alert_count(f));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    long corrections = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    struct fusion_rules *rules;
    char msg[FUSION_RULES_MSG_SZ];
    if (n < 1 || corrections < 0 || fusion_rules_load("data/rules/default.rules", &rules, msg)) {
        fprintf(stderr,
                "usage: fusion_memory [reports] [corrections] (from the repository's "
                "root): %s\n",
                msg);
        return 2;
    }
    struct fusion *f;
    fusion_new(NULL, rules, &f);
    fusion_rules_unref(rules);
    struct mallinfo2 m0 = mallinfo2();
    const vtime_t t0 = INT64_C(1760000000) * VTIME_US_PER_SEC, step = VTIME_US_PER_SEC / 20;
    struct fusion_events ev = {0};
    struct fusion_report r;
    char id[64];
    printf("reports in_use_B_per_report free_B_per_report engine_B_per_report in_use_MB free_MB "
           "alerts\n");
    for (long i = 1; i <= n; i++) {
        soak_report(&r, id, i, t0 + i * step);
        ev.n = 0;
        fusion_add(f, &r, &ev);
        if (i % (n / 10 ? n / 10 : 1) == 0 || i == n)
            checkpoint(f, &m0, i, n);
    }
    if (corrections)
        printf("corrections (per report held: the %ld above)\n", n);
    for (long k = 1; k <= corrections; k++) {
        int64_t seq = 1 + (int64_t)(uniform() * (double)n);
        soak_report(&r, id, seq, t0 + (n + k) * step);
        ev.n = 0;
        fusion_withdraw(f, seq, &ev);
        fusion_add(f, &r, &ev);
        if (k % (corrections / 10 ? corrections / 10 : 1) == 0 || k == corrections)
            checkpoint(f, &m0, k, n);
    }
    fusion_events_release(&ev);
    fusion_free(f);
    return 0;
}
