/* escalation.h - daily series of violent events watched by a negative-binomial CUSUM.
 *
 * Per zone and overall, Vigil sums the observed (not `future`) reports whose event type is
 * in the configured list, per UTC day (fusion_esc_day: the last of the report's window), each
 * event (a fused incident of the day's reports, however many partners report it) once, three
 * ways (one detector each): the events, their deaths, and their weights (harm and weapon: see
 * fusion_esc_value). For day d, the detector is a function of
 * the counts of days [d - W - L + 1, d] only (W = window_days, L = baseline_days):
 *  - baseline: the L days before the window give mu0 and the NB size r by the method of
 *    moments: m = mean, v = sample variance, mu0 = max(m, min_mean); r = m^2 / (v - m) when
 *    v > m, clamped to [min_size, max_size]; r = max_size when v <= m (near-Poisson);
 *  - window: S starts at 0 on day d - W + 1 and S_t = max(0, S_{t-1} + llr(c_t)), with the
 *    NB log-likelihood ratio of mean mu1 = shift x mu0 against mu0 at fixed size r:
 *        llr(y) = y ln[mu1 (r + mu0) / (mu0 (r + mu1))] + r ln[(r + mu0) / (r + mu1)];
 *  - alarm on day d when S_d >= threshold.
 * A detector of bounded memory makes the alarm on a day reproducible from that day's evidence
 * alone, which the leak rule needs (a reader's view re-runs it on the counts they may read).
 * bench/escalation_eval measures the threshold for an in-control ARL of about a year. A truce
 * (an agreement's zone, or given for the whole series) changes the baseline for L + W days
 * after it took effect (the truce regime, below).
 */
#ifndef VIGIL_FUSION_ESCALATION_H
#define VIGIL_FUSION_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion/correlate.h"

#define FUSION_ESC_EVENTS_MAX 8
#define FUSION_ESC_TRUCES_MAX 64
#define FUSION_DAY_US (INT64_C(86400) * VTIME_US_PER_SEC)

struct fusion_esc_params {
    bool enabled;
    char events[FUSION_ESC_EVENTS_MAX][FUSION_CODE_SZ]; /* counted event types */
    size_t nevents;
    int baseline_days; /* L (default 28) */
    int window_days;   /* W (default 14) */
    int lateness_days; /* a day is judged once a report this many days later arrived (1) */
    double shift;      /* mu1 / mu0 (default 2) */
    double threshold;  /* h (default from bench/escalation_eval) */
    double min_mean;   /* floor of mu0 per day (default 0.5) */
    double min_size;   /* clamp of the NB size r (default 0.5 .. 1000) */
    double max_size;
    int severity; /* enum fusion_severity of the alerts (default medium) */
    /* What a detector sums per day and zone, each event counted once (a fused incident of the
     * day's reports, see corr below; reports citing the same original source_ref are one
     * event): FUSION_ESC_COUNT, the events; FUSION_ESC_FATAL, their
     * fatalities (the largest figure its reports give) plus daily aggregates' fatalities;
     * FUSION_ESC_WEIGHTED, their weights (the largest its reports give; no aggregates). */
    int measure;
    bool fatal;             /* the tracker also runs the fatality detector (default true) */
    double fatal_shift;     /* its mu1 / mu0 (default 2) */
    double fatal_threshold; /* its h (default 8) */
    double fatal_min_mean;  /* its floor of mu0 per day (default 1 death) */
    double fatal_min_size;  /* its clamp of r (default 0.2: deaths are very over-dispersed) */
    /* FUSION_ESC_WEIGHTED: each event weighs m c (1 + ln(1 + deaths + injured / 6)), m =
     * weighted_heavy for remote and area weapons (modes aerial, drone, heavy-weapons,
     * explosives, suicide-attack, unconventional), else 1; c = weighted_civilians when its
     * targets are civilians (fusion_report.civilians), else 1 (docs/FUSION.md). */
    bool weighted;             /* the tracker also runs the weighted detector (default true) */
    double weighted_shift;     /* its mu1 / mu0 (default 2) */
    double weighted_threshold; /* its h (default from bench/escalation_eval) */
    double weighted_min_mean;  /* its floor of mu0 per day (default 1: one event) */
    double weighted_heavy;     /* m of remote and area weapons (default 2) */
    double weighted_civilians; /* a further factor when civilians were struck (default 2) */
    /* Truces (the detection regime of an agreement in force): the days a truce took effect,
     * ascending. For a day d within L + W days of the latest truce start R <= d, the baseline
     * of the days before would be the war, so instead: each day t in [R, d] is compared with
     * the truce's own level, mu0_t = (n0 x rho x m_war + sum of the truce days before t) /
     * (n0 + t - R), a self-starting estimate that begins at the level the truce promises
     * (rho = truce_level times the mean m_war of the L days before R, weighted as n0 =
     * truce_prior_days days) and learns the truce's real quiet level as days pass; the NB
     * size is the war's; S_t = max(0, S_{t-1} + llr(y_t)) from R. */
    int64_t truce[FUSION_ESC_TRUCES_MAX];
    size_t ntruces;
    double truce_level;   /* rho (default 0.5: is violence back at the level before the truce?) */
    int truce_prior_days; /* n0 (default 7) */
    /* The zone of an agreement has the truce regime of that agreement: from the day it took
     * effect (the reports' zone_since), the zone's series is judged as above (default true). */
    bool truce_zones;
    /* Events, not reports: a day's reports are fused into incidents with these correlation
     * parameters (the correlator's defaults), each incident counted once (docs/FUSION.md). */
    struct fusion_corr_params corr;
};

/* Sets p's truce starts to days[0..n) (sorted, duplicates dropped, at most
 * FUSION_ESC_TRUCES_MAX: the latest kept). */
void fusion_esc_set_truces(struct fusion_esc_params *p, const int64_t *days, size_t n);

/* The days [d - reach + 1, d] a day's statistic depends on (L + W, plus L with truces). */
int64_t fusion_esc_reach(const struct fusion_esc_params *p);

/* The statistic of day `day` from c[0..n), the values of days [day - n + 1, day], n =
 * fusion_esc_reach(p); first is the first day of the series (history before it is unknown).
 * -1 when the series is too short. */
double fusion_esc_stat_at(const struct fusion_esc_params *p, const double *c, size_t n,
                          int64_t day, int64_t first);

enum {
    FUSION_ESC_COUNT = 0,
    FUSION_ESC_FATAL = 1,
    FUSION_ESC_WEIGHTED = 2,
    FUSION_ESC_MEASURES = 3
};

/* The parameters of detector `measure` derived from the tracker's p (the fatality detector
 * takes the fatal_* values as its shift, threshold, min_mean and min_size; the weighted one
 * the weighted_* values). */
void fusion_esc_params_for(const struct fusion_esc_params *p, int measure,
                           struct fusion_esc_params *out);

/* The name of a detector: "escalation", "escalation-fatal" or "escalation-weighted". */
const char *fusion_esc_name(int measure);

/* Fills the defaults listed above (enabled, events = ASSAULT). */
void fusion_esc_params_default(struct fusion_esc_params *p);

/* The day number (days since 1970-01-01 UTC, floor) of t. */
int64_t fusion_day(vtime_t t);

/* Method-of-moments estimate over c[0..n): *mu and *size with the floors of p. */
void fusion_esc_estimate(const struct fusion_esc_params *p, const int *c, size_t n, double *mu,
                         double *size);
void fusion_esc_estimate_d(const struct fusion_esc_params *p, const double *c, size_t n,
                           double *mu, double *size);

/* The NB CUSUM increment for count y (see the header comment). */
double fusion_nb_llr(double y, double mu0, double shift, double size);

/* fusion_esc_stat on a series of real values (fatalities). */
double fusion_esc_stat_d(const struct fusion_esc_params *p, const double *c, size_t n);

/* The statistic S on the last day of c[0..n), where n = baseline_days + window_days and
 * c[n-1] is the day judged; returns -1 when n is shorter than that. */
double fusion_esc_stat(const struct fusion_esc_params *p, const int *c, size_t n);

/* True when fusion_esc_stat(p, c, n) >= p->threshold. */
bool fusion_esc_alarm(const struct fusion_esc_params *p, const int *c, size_t n);

/* The day report r counts on: the last day its window covers (the day by which the event is
 * known to have happened; a window that ends at midnight ends the day before), or its start's
 * day when the window is empty. docs/FUSION.md, "Events over several days". */
int64_t fusion_esc_day(const struct fusion_report *r);

/* True when report r counts for escalation under p (observed, counted event type; daily
 * aggregates only for the fatality detector; a window over at most window_days days: one of
 * uncertain timing, longer than the detector's window, is left out). */
bool fusion_esc_counts(const struct fusion_esc_params *p, const struct fusion_report *r);

/* What report r adds to the day of detector `measure` (p gives weighted_heavy and
 * weighted_civilians): 1 event, its deaths, or its weight m c (1 + ln(1 + deaths + injured /
 * 6)). */
double fusion_esc_value(const struct fusion_esc_params *p, int measure,
                        const struct fusion_report *r);

/* The confidence 0-100 shown for an alarm with statistic s: 100 (1 - 2^(-s / threshold)),
 * so 50 at the threshold, 75 at twice it. */
int fusion_esc_confidence(const struct fusion_esc_params *p, double s);

/* ---- the live tracker ------------------------------------------------------------------- */

struct fusion_esc;

/* An alarm produced by fusion_esc_add: detector, zone (NULL = overall) and day. */
struct fusion_esc_alarm {
    int measure;
    const char *zone; /* owned by the tracker */
    int64_t day;
    double stat;
    bool cleared; /* the day alarmed and no longer does (counts changed under it) */
};

/* A new tracker for p (copied). Free with fusion_esc_free(). */
struct fusion_esc *fusion_esc_new(const struct fusion_esc_params *p);
void fusion_esc_free(struct fusion_esc *e);
/* Bytes the tracker's structures occupy (the allocator's own overhead not counted). */
size_t fusion_esc_memory(const struct fusion_esc *e);

/* Counts r (a stored report: the tracker keeps the pointer) when fusion_esc_counts says so,
 * in its zone and overall, on its day (fusion_esc_day). Days are judged in event time,
 * whatever the order of arrival: a day is complete once a counted report starting at least
 * lateness_days later has arrived (its start: days within a report's window are yet to come
 * when it arrives in event order); then, and again each
 * time a report changes its counts or those of the L + W days it depends on (a late or
 * out-of-order report), it is judged on the counts as they are. Alarms of days that were not
 * alarming before are appended to *alarms (*nalarms grows; the caller frees *alarms), and so
 * are days that alarmed and no longer do (cleared). The set of alarm days is thus a function
 * of the reports held, not of their order. */
void fusion_esc_add(struct fusion_esc *e, const struct fusion_report *r,
                    struct fusion_esc_alarm **alarms, size_t *nalarms);

/* Adds to q's truce starts the zone's own (the day its agreement took effect, as its reports
 * give it), if it has one: the parameters with which that zone's alarms are judged again. */
void fusion_esc_params_zone(const struct fusion_esc *e, const char *zone,
                            struct fusion_esc_params *q);

/* Uncounts r (a report fusion_esc_add counted): its days stay judged; the alarms already
 * raised are the alerts' business (their views re-run the detector on what is left). */
void fusion_esc_remove(struct fusion_esc *e, const struct fusion_report *r);

/* Forgets the pointer kept to r (a counted report the engine evicts), its counts staying;
 * fusion_esc_restore takes it back (restored) without counting it again. */
void fusion_esc_forget(struct fusion_esc *e, const struct fusion_report *r);
void fusion_esc_restore(struct fusion_esc *e, const struct fusion_report *r);

/* Appends to out the counted reports of zone (NULL = overall) on days [d0, d1]. */
void fusion_esc_reports(const struct fusion_esc *e, const char *zone, int64_t d0, int64_t d1,
                        struct fusion_rvec *out);

/* The statistic of a zone's day from the reports in reps[0..n) alone (those outside the zone,
 * the day's span or the counted events are ignored): what a reader who sees only reps gets. */
double fusion_esc_stat_of(const struct fusion_esc_params *p, const char *zone, int64_t day,
                          const struct fusion_report *const *reps, size_t n);

/* fusion_esc_stat_of for days[0..ndays) at once, into out[0..ndays): one pass over reps. */
void fusion_esc_stats_of(const struct fusion_esc_params *p, const char *zone, const int64_t *days,
                         size_t ndays, const struct fusion_report *const *reps, size_t n,
                         double *out);

/* ---- the tracker's state (a start that does not read the history, docs/FUSION.md) ------- */

struct buf;

/* Appends to out the tracker's state: its parameters, and per series (overall and each zone)
 * the days' values and alarms, the truce regime and how far days are judged; not the reports
 * (a loaded tracker is as one that forgot them all: fusion_esc_forget). 0, or VIGIL_ETOOBIG
 * when out's cap was reached. The bytes are this build's (host byte order): a cache of what
 * the reports give, which a tracker fed the reports again rebuilds. */
int fusion_esc_save(const struct fusion_esc *e, struct buf *out);

/* Loads data[0..len) (fusion_esc_save's) into e, a tracker that has counted nothing yet and
 * was made with the parameters of the saved one. 0; VIGIL_EINVAL for data that is not a state
 * of these parameters (truncated, corrupt, or judged under other ones: stale), e unchanged.
 * Counted reports are then given back with fusion_esc_restore as the engine holds them. */
int fusion_esc_load(struct fusion_esc *e, const void *data, size_t len);

/* Calls fn for every day that alarms now, per detector and series (zone NULL: overall), in
 * series order and day order within a series: what a loaded tracker's alerts are made of. */
void fusion_esc_alarm_days(const struct fusion_esc *e,
                           void (*fn)(void *ctx, int measure, const char *zone, int64_t day),
                           void *ctx);

#endif
