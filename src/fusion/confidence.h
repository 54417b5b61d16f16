/* confidence.h - Admiralty grades to a confidence 0-100, counting independent sources once.
 *
 * Each report carries an Admiralty grade (STANAG 2511): source reliability A-F and information
 * credibility 1-6. A report's probability of being right is p = P(reliability) x
 * P(credibility) with the tables below (F and 6, "cannot be judged", are neutral 0.5):
 *
 *     reliability  A 0.95  B 0.80  C 0.60  D 0.40  E 0.20  F 0.50
 *     credibility  1 0.95  2 0.80  3 0.60  4 0.40  5 0.15  6 0.50
 *
 * Sources: a report's source is its original source (source_ref) when it cites one, else its
 * partner (acl.owner): a record forwarded by three partners is one source, and a partner's own
 * reports are one source however many it files. Each source counts once, with its best report
 * (highest p). Being a key, not a transitive closure, adding a report never lowers the count.
 * Upgrade: when two or more sources have a best grade of C3 or better (reliability A-C and
 * credibility 1-3), each of those sources' credibility becomes 1, "confirmed by other
 * sources". Confidence = noisy-OR of the per-source p: 100 x (1 - prod(1 - p_s)), rounded.
 * docs/FUSION.md gives the reasoning.
 */
#ifndef VIGIL_FUSION_CONFIDENCE_H
#define VIGIL_FUSION_CONFIDENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "fusion/correlate.h"

struct fusion_conf {
    int confidence;   /* 0-100 */
    size_t sources;   /* independent sources among the reports */
    size_t good;      /* sources graded C3 or better */
    bool confirmed;   /* the C3 upgrade applied: credibility 1 */
    char reliability; /* the best reliability among the sources' best grades ('A'..'F') */
    int credibility;  /* the best credibility after the upgrade (1..6) */
};

/* The probability that reliability g ('A'..'F') is right; 0.5 for anything else. */
double fusion_reliability_p(char g);
/* The probability for credibility c (1..6); 0.5 for anything else. */
double fusion_credibility_p(int c);
/* The confidence 0-100 of one report on its own: round(100 x p). */
int fusion_grade_confidence(char reliability, int credibility);

/* Combines the grades of reps[0..n) as the header says and fills *out. n may be 0 (all zero,
 * reliability 'F', credibility 6). Cost O(n^2) in the worst case for the source grouping and
 * O(n log n) typically; no allocation beyond O(n). */
void fusion_confidence(const struct fusion_report *const *reps, size_t n, struct fusion_conf *out);

/* True when reports a and b have the same source (see above). */
bool fusion_same_source(const struct fusion_report *a, const struct fusion_report *b);

/* Source groups of reps[0..n): grp[i] receives the index of the first report of i's group.
 * Returns the number of groups. */
size_t fusion_source_groups(const struct fusion_report *const *reps, size_t n, size_t *grp);

#endif
