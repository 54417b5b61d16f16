/* confidence.c - Admiralty grades combined over independent sources. See confidence.h. */
#include "fusion/confidence.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

double fusion_reliability_p(char g)
{
    switch (g) {
    case 'A': return 0.95;
    case 'B': return 0.80;
    case 'C': return 0.60;
    case 'D': return 0.40;
    case 'E': return 0.20;
    default: return 0.50;
    }
}

double fusion_credibility_p(int c)
{
    static const double p[] = {0.50, 0.95, 0.80, 0.60, 0.40, 0.15, 0.50};
    return c >= 1 && c <= 6 ? p[c] : 0.50;
}

int fusion_grade_confidence(char reliability, int credibility)
{
    return (int)lround(100 * fusion_reliability_p(reliability) * fusion_credibility_p(credibility));
}

bool fusion_same_source(const struct fusion_report *a, const struct fusion_report *b)
{
    if (a->source_ref || b->source_ref)
        return a->source_ref && b->source_ref && strcmp(a->source_ref, b->source_ref) == 0;
    return a->acl.owner == b->acl.owner;
}

static size_t grp_find(size_t *g, size_t i)
{
    while (g[i] != i) {
        g[i] = g[g[i]];
        i = g[i];
    }
    return i;
}

size_t fusion_source_groups(const struct fusion_report *const *reps, size_t n, size_t *grp)
{
    for (size_t i = 0; i < n; i++)
        grp[i] = i;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            size_t a = grp_find(grp, i), b = grp_find(grp, j);
            if (a != b && fusion_same_source(reps[i], reps[j])) {
                if (a < b)
                    grp[b] = a;
                else
                    grp[a] = b;
            }
        }
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        grp[i] = grp_find(grp, i);
        if (grp[i] == i)
            groups++;
    }
    return groups;
}

static bool c3_or_better(char rel, int cred)
{
    return rel >= 'A' && rel <= 'C' && cred >= 1 && cred <= 3;
}

void fusion_confidence(const struct fusion_report *const *reps, size_t n, struct fusion_conf *out)
{
    memset(out, 0, sizeof(*out));
    out->reliability = 'F';
    out->credibility = 6;
    if (!n)
        return;
    size_t *grp = xmalloc(n * sizeof(*grp));
    size_t *best = xmalloc(n * sizeof(*best)); /* per group root: index of its best report */
    fusion_source_groups(reps, n, grp);
    for (size_t i = 0; i < n; i++)
        best[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t g = grp[i];
        double p =
            fusion_reliability_p(reps[i]->reliability) * fusion_credibility_p(reps[i]->credibility);
        if (best[g] == SIZE_MAX) {
            best[g] = i;
            continue;
        }
        const struct fusion_report *b = reps[best[g]];
        double pb = fusion_reliability_p(b->reliability) * fusion_credibility_p(b->credibility);
        if (p > pb || (p == pb && reps[i]->seq < b->seq))
            best[g] = i;
    }
    for (size_t g = 0; g < n; g++)
        if (best[g] != SIZE_MAX) {
            out->sources++;
            const struct fusion_report *b = reps[best[g]];
            if (c3_or_better(b->reliability, b->credibility))
                out->good++;
        }
    out->confirmed = out->good >= 2;
    double miss = 1.0;
    for (size_t g = 0; g < n; g++) {
        if (best[g] == SIZE_MAX)
            continue;
        const struct fusion_report *b = reps[best[g]];
        int cred = b->credibility;
        if (out->confirmed && c3_or_better(b->reliability, cred))
            cred = 1;
        miss *= 1 - fusion_reliability_p(b->reliability) * fusion_credibility_p(cred);
        /* best grades for display: A is best; 'F' (cannot be judged) ranks below 'E' here
         * only by letter, which is the conventional reading */
        if (b->reliability < out->reliability)
            out->reliability = b->reliability;
        if (cred < out->credibility)
            out->credibility = cred;
    }
    out->confidence = (int)lround(100 * (1 - miss));
    free(grp);
    free(best);
}
