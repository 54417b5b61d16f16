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
 * Fixed seed: the figures are reproducible. Usage: fusion_memory [reports] (200000).
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

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    struct fusion_rules *rules;
    char msg[FUSION_RULES_MSG_SZ];
    if (n < 1 || fusion_rules_load("data/rules/default.rules", &rules, msg)) {
        fprintf(stderr, "usage: fusion_memory [reports] (from the repository's root): %s\n", msg);
        return 2;
    }
    struct fusion *f;
    fusion_new(NULL, rules, &f);
    fusion_rules_unref(rules);
    struct mallinfo2 m0 = mallinfo2();
    const vtime_t t0 = INT64_C(1760000000) * VTIME_US_PER_SEC, step = VTIME_US_PER_SEC / 20;
    const vtime_t minute = 60 * VTIME_US_PER_SEC;
    struct fusion_events ev = {0};
    size_t alerts = 0;
    printf("reports in_use_B_per_report free_B_per_report engine_B_per_report in_use_MB free_MB "
           "alerts\n");
    for (long i = 1; i <= n; i++) {
        char id[64];
        snprintf(id, sizeof id, "report--%08lx-0000-4000-8000-%012lx", (unsigned long)i,
                 (unsigned long)(rng & 0xffffffffffff));
        vtime_t now = t0 + i * step;
        double kind = uniform();
        struct fusion_report r = {
            .seq = i,
            .id = id,
            .acl = {.owner = 2 + (i & 1), .tlp = 1},
            .lat = 47.0 + uniform() * 3,
            .lon = 35.0 + uniform() * 4,
            .precision_m = 1000,
            .reliability = 'C',
            .credibility = 3,
            .dist_to_line_m = -1,
        };
        if (kind < 0.5) {
            snprintf(r.event, sizeof r.event, "ASSAULT");
            snprintf(r.mode, sizeof r.mode, "heavy-weapons");
            r.start = now - (vtime_t)(uniform() * 600) * minute;
        } else if (kind < 0.75) {
            snprintf(r.event, sizeof r.event, "ASSAULT");
            r.future = true;
            r.start = now + (1 + (vtime_t)(uniform() * 20)) * 60 * minute;
        } else {
            snprintf(r.event, sizeof r.event, "MOBILIZE");
            snprintf(r.mode, sizeof r.mode, "troops");
            r.start = now - (vtime_t)(uniform() * 600) * minute;
        }
        r.end = r.start;
        ev.n = 0;
        fusion_add(f, &r, &ev);
        if (i % (n / 10 ? n / 10 : 1) == 0 || i == n) {
            struct mallinfo2 m = mallinfo2();
            double use = (double)(m.uordblks + m.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
            double fr = (double)m.fordblks - (double)m0.fordblks;
            alerts = fusion_alert_count(f);
            printf("%ld %.0f %.0f %.0f %.1f %.1f %zu\n", i, use / (double)i, fr / (double)i,
                   (double)fusion_memory(f) / (double)i, use / 1048576.0, fr / 1048576.0, alerts);
        }
    }
    fusion_events_release(&ev);
    fusion_free(f);
    return 0;
}
