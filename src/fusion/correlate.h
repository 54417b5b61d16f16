/* correlate.h - the report fusion works on, and correlation of reports into incidents.
 *
 * Fusion is a pure library: it sees reports as struct fusion_report (built by the caller from
 * the store's event reports) and keeps its own copies. Correlation groups reports that
 * describe the same real event into incidents (docs/FUSION.md): two reports match when their
 * codes are compatible (fusion_events_compatible), their windows overlap (tolerance_us only
 * for windows shorter than it), their centres are within radius_m + the sharper precision
 * (capped at max_precision_m) or they name the same area, and their death tolls agree; one
 * partner's two reports conflict. In seq order, each report joins the nearest incident whose
 * every report it matches and none it conflicts with, else starts its own: complete linkage,
 * so incidents cannot chain, and the incidents of a set of reports do not depend on the order
 * in which they arrived.
 *
 * Indexes: a hash map of grid cells (cell_m square in latitude degrees, narrower in metres
 * east-west away from the equator) and a hash map of area names, each holding an array of
 * reports sorted by event start. Adding a report costs a hash lookup and a binary search
 * (plus a memmove inside one cell); a neighbourhood query visits the cells the radius covers
 * and binary-searches each for the time window. Nothing scans the whole store.
 */
#ifndef VIGIL_FUSION_CORRELATE_H
#define VIGIL_FUSION_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/timestamp.h"
#include "store/store.h"

#define FUSION_CODE_SZ 16 /* event and mode codes, with their NUL */

/* One event report as fusion sees it. Strings are borrowed from the caller during the call
 * that receives the struct; the engine copies what it keeps. */
struct fusion_report {
    int64_t seq;                /* caller's unique, stable number (the store's seq) */
    const char *id;             /* report id (STIX id); may be NULL */
    struct store_acl acl;       /* handling; acl.owner is the submitting partner */
    const char *source_ref;     /* original source ("acled:PSE12345"), NULL if the partner's own */
    char event[FUSION_CODE_SZ]; /* PLOVER event type: ASSAULT, MOBILIZE, THREATEN, ... */
    char mode[FUSION_CODE_SZ];  /* PLOVER mode: aerial, drone, troops, ...; "" if unknown */
    bool future;                /* a warning of something planned, not an observation */
    vtime_t start, end;         /* event time window (end >= start) */
    double lat, lon;            /* degrees; NAN when located only by zone */
    double precision_m;         /* location precision radius in metres (>= 0) */
    char reliability;           /* Admiralty source reliability 'A'..'F' */
    int credibility;            /* Admiralty information credibility 1..6 */
    const char *zone;           /* zone or area name, or NULL */
    double dist_to_line_m;      /* distance to the nearest agreement line, or -1 */
    const char *side;           /* which side of that line, or NULL */
    /* Where zone, or dist_to_line_m and side, were derived from an agreement, the handling of
     * that agreement (NULL: the report's own data, or unrestricted). A view for a reader who
     * may not read it sees the report without them (alerts.h). Unlike the strings, these are
     * not copied: they must stay valid while the engine holds the report, and the caller may
     * change the handling they point to (an agreement re-marked) between engine calls. */
    const struct store_acl *zone_acl;
    const struct store_acl *line_acl;
    vtime_t zone_since; /* when the agreement that gives zone took effect (0: none): its truce */
    bool has_fatalities; /* the report gives a death toll ... */
    int64_t fatalities;  /* ... of this many (>= 0); 0 when it gives none */
    int injured;         /* count; -1 when unknown */
    bool aggregate;      /* a daily aggregate of an area (casualty series), not one event */
    bool civilians;      /* its targets name civilians (the index row's target) */
    vtime_t added;       /* when the hub accepted it (wall clock; 0: not known) */
};

/* Correlation parameters. */
struct fusion_corr_params {
    double radius_m;        /* R: centres this close (plus precisions) may be one event */
    vtime_t tolerance_us;   /* T: time windows may be this far apart */
    double max_precision_m; /* precisions above this count as this much */
    double cell_m;          /* grid cell size of the spatial index */
};

/* The defaults: R = 2 km, T = 1 h, precision cap 10 km, cells of 5 km. */
void fusion_corr_params_default(struct fusion_corr_params *p);

/* Great-circle distance in metres (haversine, mean Earth radius 6371008.8 m). */
double fusion_distance_m(double lat1, double lon1, double lat2, double lon2);

/* The report the engine takes for an index row, its strings (id, source_ref, the area as its
 * zone) borrowed from row; no line (dist_to_line_m -1), no handlings of agreements. */
void fusion_report_of_row(const struct store_report_row *row, struct fusion_report *fr);

/* True when r has usable coordinates (finite, |lat| <= 90, |lon| <= 180). */
bool fusion_report_located(const struct fusion_report *r);

/* True when two reports' event codes may describe the same real event: the same `future`
 * flag (a warning and an observation are different things), the same PLOVER event type, and
 * modes that are equal, unknown on either side, or in one family ({aerial, drone},
 * {heavy-weapons, explosives}, {troops, weapons}). */
bool fusion_events_compatible(const struct fusion_report *a, const struct fusion_report *b);

/* True when a and b are within dist_m of each other once their precisions (capped) are added,
 * or, when either has no coordinates, when both name the same zone. */
bool fusion_reports_near(const struct fusion_corr_params *p, const struct fusion_report *a,
                         const struct fusion_report *b, double dist_m);

/* True when the time windows of a and b overlap once widened by tol_us on each side. */
bool fusion_reports_overlap(const struct fusion_report *a, const struct fusion_report *b,
                            vtime_t tol_us);

/* The correlation test of docs/FUSION.md: compatible codes, overlapping windows (tolerance_us
 * for windows shorter than it), centres within radius_m + the sharper precision, tolls that
 * agree (or the same source_ref). */
bool fusion_reports_match(const struct fusion_corr_params *p, const struct fusion_report *a,
                          const struct fusion_report *b);

/* True when a and b may not be in one incident: one partner's two reports (unless they cite
 * the same source_ref, i.e. forward the same record) are two events by that partner's own
 * account. */
bool fusion_reports_conflict(const struct fusion_report *a, const struct fusion_report *b);

/* Checks a report before fusion accepts it: codes NUL-terminated and non-empty event, start <=
 * end, grades in range, precision >= 0. Returns 0 or VIGIL_EINVAL. */
int fusion_report_check(const struct fusion_report *r);

/* ---- the correlator --------------------------------------------------------------------- */

struct fusion_incident;
struct fusion_correlator;

/* Creates an empty correlator. The caller frees it with fusion_corr_free(). */
struct fusion_correlator *fusion_corr_new(const struct fusion_corr_params *p);
/* Frees the correlator, its copies of the reports and its incidents. NULL is a no-op. */
void fusion_corr_free(struct fusion_correlator *c);

/* Copies r into the correlator, indexes it and merges it into the incidents it matches.
 * `extra` bytes of zeroed, caller-usable space follow the report copy (see fusion_corr_extra).
 * Returns 0 and the stored copy in *out (owned by the correlator, stable until it is freed),
 * VIGIL_EINVAL for a report fusion_report_check refuses, VIGIL_EEXIST for a seq already
 * stored; nothing changes on error. */
int fusion_corr_add(struct fusion_correlator *c, const struct fusion_report *r, size_t extra,
                    const struct fusion_report **out);

/* Withdraws the stored report with this seq (its report was corrected or deleted): it leaves
 * the seq index and the grid and zone indexes, and its incident is split into the components
 * of what is left, so that incidents are as if it had never been added. The record itself
 * stays valid, marked (fusion_corr_withdrawn), until the caller recycles it; *out receives
 * it. Its seq may be added again. Returns 0 or VIGIL_ENOENT. */
int fusion_corr_withdraw(struct fusion_correlator *c, int64_t seq,
                         const struct fusion_report **out);

/* Forgets a whole incident (an engine that holds only what its rules can still reach drops
 * what they cannot): its reports leave the seq, grid and zone indexes, the incident leaves the
 * list, and their records go back for reuse. The caller must hold no pointer to them or to
 * their extra space any more. A report forgotten may be added again later (restored). */
void fusion_corr_forget(struct fusion_correlator *c, const struct fusion_incident *inc);

/* The longest window (end - start) of any report ever added. */
vtime_t fusion_corr_longest(const struct fusion_correlator *c);

/* True when a stored report was withdrawn (and not yet recycled). */
bool fusion_corr_withdrawn(const struct fusion_report *stored);

/* Gives the memory of a withdrawn report back to the correlator, for a later add to reuse: the
 * caller must hold no pointer to it or to its extra space any more, and recycles it once (as
 * with free). A report that is not withdrawn is left alone. */
void fusion_corr_recycle(struct fusion_correlator *c, const struct fusion_report *withdrawn);

/* The caller's extra space of a report stored by fusion_corr_add (zeroed at add time). */
void *fusion_corr_extra(const struct fusion_report *stored);

/* The stored report with this seq, or NULL. */
const struct fusion_report *fusion_corr_get(const struct fusion_correlator *c, int64_t seq);

/* The stored reports in arrival order, withdrawn ones skipped: start with *i = 0; each call
 * returns the next one and moves *i past it, NULL after the last. Adding, withdrawing or
 * recycling during the walk is not allowed. */
const struct fusion_report *fusion_corr_next(const struct fusion_correlator *c, size_t *i);

/* Number of reports stored (withdrawn ones not counted). */
size_t fusion_corr_count(const struct fusion_correlator *c);

/* Bytes the correlator's structures occupy, recycled records waiting for reuse included (the
 * allocator's own overhead not counted). */
size_t fusion_corr_memory(const struct fusion_correlator *c);

/* The incident a stored report belongs to now (incidents merge as reports arrive). */
const struct fusion_incident *fusion_corr_incident(const struct fusion_report *stored);
/* An incident's id: the smallest seq among its reports (order-independent). */
int64_t fusion_incident_id(const struct fusion_incident *inc);
/* An incident's reports, in no particular order; *n receives their number. Valid until the
 * next fusion_corr_add. */
const struct fusion_report *const *fusion_incident_reports(const struct fusion_incident *inc,
                                                           size_t *n);
/* Number of incidents now. */
size_t fusion_corr_incidents(const struct fusion_correlator *c);

/* A growable array of report pointers. */
struct fusion_rvec {
    const struct fusion_report **v;
    size_t n, alloc;
};
void fusion_rvec_push(struct fusion_rvec *v, const struct fusion_report *r);
/* Removes the i-th report (i < v->n), keeping the order of the others. */
void fusion_rvec_remove_at(struct fusion_rvec *v, size_t i);
/* Frees the array (not the reports) and empties the vector. */
void fusion_rvec_release(struct fusion_rvec *v);

/* Appends to out the stored reports that may be within dist_m of `at` (precisions included;
 * the caller applies the exact test) and whose windows meet [t0, t1]: reports in the grid
 * cells the distance covers and, when `at` names a zone, reports of that zone without
 * coordinates (every report of that zone when `at` has no coordinates). Bounded by the
 * reports in that neighbourhood, never the whole store. */
void fusion_corr_near(const struct fusion_correlator *c, const struct fusion_report *at,
                      double dist_m, vtime_t t0, vtime_t t1, struct fusion_rvec *out);

/* The most a bounded query takes from the querying report's own partner, per grid cell or
 * zone. */
#define FUSION_NEAR_CAP 64

/* fusion_corr_near, taking from the reports of at's own partner (acl.owner) in each grid cell
 * or zone only the own_cap earliest-starting ones whose windows meet [t0, t1] (0: none;
 * SIZE_MAX: all): a partner's burst of co-located reports then costs each of its reports a
 * bounded query. */
void fusion_corr_near_capped(const struct fusion_correlator *c, const struct fusion_report *at,
                             double dist_m, vtime_t t0, vtime_t t1, size_t own_cap,
                             struct fusion_rvec *out);

/* The incidents the correlator would form from reps[0..n) alone (the same rule, in seq
 * order): comp[i] receives the index of the first report (by seq) of i's incident. O(n^2) and
 * more: for small sets such as the visible evidence of one alert. */
void fusion_components(const struct fusion_corr_params *p, const struct fusion_report *const *reps,
                       size_t n, size_t *comp);

#endif
