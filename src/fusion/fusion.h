/* fusion.h - the fusion engine: correlation, rules, escalation and alerts behind one facade.
 *
 * One engine instance is single-threaded (the caller serialises calls; the daemon runs it on
 * its writer thread). It owns copies of the reports added that it still holds (see bounded
 * memory, below), the incidents, and the alerts.
 * fusion_add() is the whole pipeline for one report, by event time:
 *   1. correlate it into an incident (correlate.h);
 *   2. for each rule, evaluate it as a trigger, and re-evaluate the triggers around it that it
 *      could change (in its incident, or within the rule's reach) — bounded neighbourhood
 *      queries, never a scan; firings join the open alert of their situation (alerts.h);
 *   3. count it for escalation and turn alarms of completed days into alerts (escalation.h).
 * Because every rule condition is monotone and each firing's evidence is complete, the alerts
 * after a set of reports do not depend on the order in which they arrived (history imports).
 *
 * Situations (one open alert per situation): a firing joins, in this order, (a) the open alert
 * its trigger already fires into, (b) the open alert of the same rule that already holds the
 * trigger or any of its evidence (lowest id), (c) the open alert whose key is the rule, the
 * trigger's grid cell (rule `key` size) and its time bucket; else it opens a new alert.
 * Escalation alarms of a zone join its open escalation alert while the alarm days are at most
 * window_days apart.
 */
#ifndef VIGIL_FUSION_FUSION_H
#define VIGIL_FUSION_FUSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion/alerts.h"
#include "fusion/confidence.h"
#include "fusion/correlate.h"
#include "fusion/escalation.h"
#include "fusion/rules.h"

struct fusion_config {
    struct fusion_corr_params corr;
    size_t max_evidence;         /* per rule alert; further reports are not added (500) */
    size_t max_triggers;         /* per rule alert; further triggers are not added (100) */
    vtime_t (*clock)(void *ctx); /* wall clock for created/updated (ts_now if NULL) */
    void *clock_ctx;
};

/* Fills the defaults (fusion_corr_params_default, 500 and 100, ts_now). */
void fusion_config_default(struct fusion_config *c);

enum fusion_event_kind {
    FUSION_EV_CREATED = 0,
    FUSION_EV_UPDATED = 1, /* evidence or a computed field changed: re-send the alert */
};

struct fusion_event {
    enum fusion_event_kind kind;
    const struct fusion_alert *alert; /* engine-owned, valid until fusion_free */
};

/* What one fusion_add produced: at most one event per alert. */
struct fusion_events {
    struct fusion_event *v;
    size_t n, alloc;
};
/* Frees the array (not the alerts) and empties it. */
void fusion_events_release(struct fusion_events *ev);

struct fusion;
struct buf;

/* Creates an engine with cfg (copied; NULL for the defaults) and rules (the engine takes a
 * reference of its own; the caller keeps theirs). Returns 0 and *out, VIGIL_EINVAL when rules
 * is NULL. Free with fusion_free. */
int fusion_new(const struct fusion_config *cfg, struct fusion_rules *rules, struct fusion **out);
/* Frees the engine, its reports, incidents and alerts. NULL is a no-op. */
void fusion_free(struct fusion *f);

/* Adds one report (copied) and appends the alert events it caused to ev (which the caller
 * initialises to {0} and releases). Returns 0; VIGIL_EINVAL for a report that
 * fusion_report_check refuses, VIGIL_EEXIST for a seq already added (nothing changes). */
int fusion_add(struct fusion *f, const struct fusion_report *r, struct fusion_events *ev);

/* Withdraws the report with this seq (corrected or deleted at its source): it leaves the
 * indexes, its incident splits into what is left of it, escalation stops counting it, and
 * every alert that held it loses it, with an UPDATED event appended to ev when the alert
 * changed (its views are computed from what is left, so an alert may cease to exist for
 * everyone). A corrected report is then added again, under the same seq if the caller
 * likes. Alerts stay grouped as they were (their ids do not change). An alert left with
 * nothing that could make it exist (a rule alert without triggers, an escalation alert
 * without counted reports) is retired: freed, its id answering NULL from now on, with no
 * event (no reader could see it any more); a later firing of its situation raises a new
 * alert (which takes the stored lifecycle of its situation, as after a restart). The report's
 * memory goes back to the engine for later reports. Returns 0, or VIGIL_ENOENT when no report with
 * that seq is held. */
int fusion_withdraw(struct fusion *f, int64_t seq, struct fusion_events *ev);

/* Batch mode (a replay, a rebuild): while on, fusion_add does not refresh the alerts it
 * touches (a refresh re-runs the alert's view) nor report their events; turning it off
 * refreshes each pending alert once and appends its event (CREATED for an alert raised
 * meanwhile, UPDATED otherwise) to ev, which may be NULL. The alerts are then exactly what
 * they would have been. */
void fusion_defer(struct fusion *f, bool on, struct fusion_events *ev);

/* Atomically replaces the rules (the engine takes a reference). Reports added from now on,
 * and the triggers around them, are evaluated with the new set; existing alerts keep the rule
 * they were raised by. When the escalation parameters change, the detector is rebuilt from
 * the stored reports without raising alarms for days already judged. Re-running history
 * under new rules is fusion_replay's job. */
void fusion_reload(struct fusion *f, struct fusion_rules *rules);

/* The current rules (borrowed). */
struct fusion_rules *fusion_rules(const struct fusion *f);

/* Replay: a NEW engine with live's configuration and current rules, fed reps[0..n) (history,
 * in any order), so that rules can be back-tested without touching live's alerts. Reports
 * that fusion_add refuses are skipped and counted in *skipped (may be NULL). Returns 0 and
 * *out (the caller frees it). */
int fusion_replay(const struct fusion *live, const struct fusion_report *reps, size_t n,
                  struct fusion **out, size_t *skipped);

/* ---- bounded memory ----------------------------------------------------------------------
 *
 * The engine may forget (evict) the reports that nothing it does can reach any more: those
 * ending more than keep before the latest event start it was given (the watermark), that no
 * alert holds as evidence and that never fired a rule, with their whole incident. What they
 * counted for escalation stays (the daily values; the days stay judged). Alerts are those of an
 * engine that forgot nothing, as long as the caller gives back what the engine asks for before
 * it looks where forgotten reports were: a late report (one whose reach meets the forgotten
 * past), an escalation alarm on a forgotten day, a withdrawal there, a reload that changes the
 * escalation detector. The engine calls fetch(ctx, q), during the call that needs it, and the
 * fetch answers by fusion_restore for each report of q. docs/FUSION.md ("Memory"). */

/* What fetch is asked for: the reports with seq <= max_seq whose windows meet [t0, t1] and
 * which are none of them longer than longest_us: with a point in the box (has_bbox), or
 * without a point (unlocated), or all of them (neither). */
struct fusion_fetch {
    bool has_bbox, unlocated;
    double min_lat, min_lon, max_lat, max_lon;
    vtime_t t0, t1, longest_us;
    int64_t max_seq;
};

/* Sets the caller's fetch (NULL: none; then nothing may be evicted). */
void fusion_set_fetch(struct fusion *f, void (*fetch)(void *ctx, const struct fusion_fetch *q),
                      void *ctx);

/* Gives back a report that the engine forgot (during a fetch): it is indexed and grouped again
 * as it was, and its escalation counts are not counted twice. Reports the engine holds, or that
 * it was never given (seq above what it was given), are skipped. Returns 0, VIGIL_EEXIST when
 * skipped, VIGIL_EINVAL as fusion_add. */
int fusion_restore(struct fusion *f, const struct fusion_report *r);

/* How far in event time the engine's work on a report can reach: what it must hold behind the
 * watermark for a report that is not late (rules' reach, correlation, the escalation
 * detector's days). */
vtime_t fusion_reach(const struct fusion *f);

/* Forgets the reports ending more than keep_us (at least fusion_reach) before the watermark
 * that may be forgotten (above); returns how many. Without a fetch, forgets nothing. */
size_t fusion_evict(struct fusion *f, vtime_t keep_us);

/* Reports forgotten and given back so far (counters, for the memory figures). */
void fusion_evict_stats(const struct fusion *f, size_t *evicted, size_t *restored);

/* ---- a start from a saved state (docs/FUSION.md, "A start from a saved state") ----------
 *
 * fusion_save writes what an engine that forgot everything but what it holds needs to go on
 * as this one: the escalation tracker's state, the tombstones, the watermark, the floor, the
 * largest seq given, and the seqs of the reports it holds (not the reports, not the alerts).
 * tag names what the state depends on outside the engine (the rules' text, the config): a
 * state is loaded only under the same tag. A new engine loads it (fusion_load), is given
 * back the held reports by fusion_add, in event order (their rules run again, their
 * escalation counts are the loaded ones), then fusion_load_end files the alarm days of the
 * loaded tracker as alerts and puts back the floor, so that what it forgot is fetched as
 * before. The alerts are then those of the engine that saved the state (order independence:
 * every alert's evidence and triggers are held, and an incident is held or forgotten whole);
 * their ids are the load's. */

/* Appends the state to out. 0; VIGIL_EINVAL while loading or deferred; VIGIL_ETOOBIG when
 * out's cap was reached. Host byte order: a cache. */
int fusion_save(const struct fusion *f, const char *tag, struct buf *out);
/* Loads data[0..len) into f, a new engine (nothing added): 0 and the seqs to give back
 * (*seqs, ascending, the caller frees; *nseqs). VIGIL_EINVAL (f unchanged) for a state that is
 * truncated, corrupt, or of another tag or escalation parameters: then rebuild from the
 * reports. */
int fusion_load(struct fusion *f, const char *tag, const void *data, size_t len, int64_t **seqs,
                size_t *nseqs);
/* Ends a load (no-op when none): files the loaded alarm days, appends the events of the alerts
 * it touched to ev (NULL: none; CREATED for a new one), and forgets from now on as before. */
void fusion_load_end(struct fusion *f, struct fusion_events *ev);

/* Alerts, in creation order (ascending id; ids start at 1 and are never given twice, a
 * retired alert's included, see fusion_withdraw): how many there are, the i-th (NULL when
 * i >= count), the one with id (NULL if none), and the rank of id: the number of alerts whose
 * id is below it (where the alert with that id is, or would be). */
size_t fusion_alert_count(const struct fusion *f);
const struct fusion_alert *fusion_alert_at(const struct fusion *f, size_t i);
const struct fusion_alert *fusion_alert_get(const struct fusion *f, int64_t id);
size_t fusion_alert_rank(const struct fusion *f, int64_t id);

/* How many times an alert's key changed (an escalation episode named by its first alarm day
 * got an earlier one): whoever maps keys to alerts maps them again when it grows. */
uint64_t fusion_alert_renames(const struct fusion *f);

/* How many alarm days were added to escalation alerts so far (a day each time it joins an
 * alert: a new alarm, a merge of episodes); the alert a day joined has this count in its
 * days_at. Whoever maps alarm days to alerts maps those of the alerts whose days_at is above
 * the count they last looked at. Days also leave alerts (a cleared alarm), uncounted. */
uint64_t fusion_alert_days_added(const struct fusion *f);

/* The key of an escalation alert of key's series had its first alarm day been day: key with
 * what follows its last '/' replaced by "d:DAY" ("SERIES/d:DAY"; a key without '/' gives
 * "/d:DAY"), into out[0..n). False when it was cut to fit n. */
bool fusion_esc_key(const char *key, int64_t day, char *out, size_t n);

/* The key alert id had before it was renamed, when it was renamed since the last call (the
 * caller frees it), else NULL: whoever keeps things by situation key moves them to its key. */
char *fusion_alert_renamed(struct fusion *f, int64_t id);

/* Lifecycle transition of alert id (alerts.h). VIGIL_ENOENT for no such alert, else as
 * fusion_alert_transition. */
int fusion_alert_set_status(struct fusion *f, int64_t id, enum fusion_alert_status seen,
                            enum fusion_alert_status to, const char *who, vtime_t at,
                            const int64_t *on, size_t non);

/* Forgets alert id's lifecycle (status new, no transitions): before the stored one is put back
 * (another front-end changed it, docs/OPERATIONS.md). VIGIL_ENOENT for no such alert. */
int fusion_alert_status_clear(struct fusion *f, int64_t id);

/* The correlator (incidents, stored reports), read-only. */
const struct fusion_correlator *fusion_correlator(const struct fusion *f);

/* Bytes the engine's structures occupy: reports, indexes, incidents, escalation counts,
 * alerts (the allocator's own overhead not counted). Visits every report and alert. */
size_t fusion_memory(const struct fusion *f);

#endif
