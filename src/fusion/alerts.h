/* alerts.h - alerts: one per situation, their evidence, lifecycle, and per-reader views.
 *
 * An alert is produced by a rule (or by the escalation detector) for a situation. It keeps
 * its FULL evidence: the triggering reports that fire the rule, their incidents and every
 * supporting report, each with its acl. What a reader sees is never the stored fields but a
 * view (fusion_alert_view) that re-evaluates the rule on the evidence that reader may read,
 * and computes existence, severity, confidence, place, time window and evidence from that
 * subset alone (S3: derived products never leak). The stored fields are the view of a reader
 * who may read everything; fusion_alert_refresh recomputes them with the same code.
 *
 * Lifecycle: new -> acknowledged -> resolved | false_alarm, and new -> false_alarm; resolved
 * and false_alarm are final. Every transition keeps who and when. An alert that is resolved
 * or a false alarm takes no more evidence: new evidence for its situation opens a new alert.
 */
#ifndef VIGIL_FUSION_ALERTS_H
#define VIGIL_FUSION_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion/correlate.h"
#include "fusion/escalation.h"
#include "fusion/rules.h"

enum fusion_alert_status {
    FUSION_ALERT_NEW = 0,
    FUSION_ALERT_ACKNOWLEDGED = 1,
    FUSION_ALERT_RESOLVED = 2,
    FUSION_ALERT_FALSE_ALARM = 3,
};

enum fusion_alert_kind {
    FUSION_ALERT_RULE = 0,
    FUSION_ALERT_ESCALATION = 1,
};

struct fusion_transition {
    enum fusion_alert_status from, to;
    char *who; /* owned */
    vtime_t at;
    int64_t *on; /* owned: the seqs of the evidence the alert held then, ascending */
    size_t non;
};

struct fusion_alert {
    int64_t id;
    char *key; /* the situation: "RULE/c:X,Y/t:BUCKET" or "escalation/ZONE|*" + "/d:DAY" */
    char *was; /* the key before a rename not yet taken (fusion_alert_renamed), else NULL */
    uint32_t nth; /* alerts of the same key raised before it by this engine (a resolved one's
                   * situation fired again, a rules reload); with key, what names the alert
                   * across restarts and front-ends (service/alerts.h, alert ids) */
    enum fusion_alert_kind kind;
    struct fusion_rules *rules;     /* reference to the set rule belongs to (NULL: escalation) */
    const struct fusion_rule *rule; /* NULL for escalation alerts */
    char rule_name[FUSION_NAME_SZ];
    char title[FUSION_TITLE_SZ];
    struct fusion_corr_params corr; /* the correlation the rule was evaluated with */
    struct fusion_esc_params esc;   /* escalation alerts: the detector */
    char *esc_zone;                 /* escalation alerts: the zone, NULL = overall */
    int64_t *days;                  /* escalation alerts: alarm days, ascending */
    size_t ndays;
    uint64_t days_at;               /* fusion_alert_days_added when a day last joined it */

    struct fusion_rvec evidence; /* every report (engine-owned), ascending seq */
    struct fusion_gone {
        struct store_acl acl; /* reports taken out of the evidence: a handling, and when last */
        vtime_t at;
    } * gone;
    size_t ngone;
    struct fusion_rvec triggers; /* the reports that fire the rule, ascending seq */

    /* the view of a reader who may read all the evidence */
    enum fusion_severity severity;
    int confidence;     /* 0-100 */
    vtime_t start, end; /* time window of the evidence */
    vtime_t fired_at;   /* event time at which the alert became true */
    double lat, lon;    /* mean of the firing triggers' coordinates; NAN if none */
    const char *zone;   /* the firing triggers' common zone, or NULL */

    enum fusion_alert_status status;
    struct fusion_transition *history;
    size_t nhistory;
    vtime_t created, updated; /* wall clock (the engine's clock) */
    uint32_t version;         /* 1 at creation, +1 on each update */
    size_t refreshed_n;       /* evidence and days at the last refresh */
    size_t refreshed_days;
    bool pending; /* the engine defers its refresh (fusion_defer) */
};

/* The view of one alert for one reader. Everything in it, its times and status included,
 * comes from the evidence that reader may read: it changes only when that evidence does, or
 * when someone changes the status of an alert the reader already saw. */
struct fusion_alert_view {
    bool exists;
    enum fusion_alert_status status; /* the transitions this reader sees, see below */
    vtime_t status_at;               /* when the last of them was made (0: none) */
    vtime_t created; /* when the hub accepted the report that made the view come into being */
    vtime_t updated; /* the latest acceptance of its evidence, or of a transition it sees */
    enum fusion_severity severity;
    int confidence;
    vtime_t start, end, fired_at;
    double lat, lon;
    const char *zone;
    const struct fusion_report **evidence; /* owned by the view; the reports are not */
    size_t nevidence;
    struct fusion_report *masked; /* owned: reports without what the reader may not read
                                   * of their place (zone_acl, line_acl) */
};

/* "new", "acknowledged", "resolved", "false_alarm". */
const char *fusion_alert_status_name(enum fusion_alert_status s);
/* Parses those names; VIGIL_EINVAL for anything else. */
int fusion_alert_status_parse(const char *s, enum fusion_alert_status *out);

/* A new alert for rule (which must belong to rs; a reference to rs is taken) with no
 * evidence yet; status new, created = updated = now, version 0 until the first refresh. */
struct fusion_alert *fusion_alert_new_rule(int64_t id, const char *key, struct fusion_rules *rs,
                                           const struct fusion_rule *rule,
                                           const struct fusion_corr_params *corr, vtime_t now);
/* A new escalation alert for zone (NULL = overall; copied) with the detector p. */
struct fusion_alert *fusion_alert_new_escalation(int64_t id, const char *key,
                                                 const struct fusion_esc_params *p,
                                                 const char *zone, vtime_t now);
/* Frees the alert and drops its rules reference. NULL is a no-op. */
void fusion_alert_free(struct fusion_alert *a);
/* Bytes the alert occupies (the allocator's own overhead not counted). */
size_t fusion_alert_memory(const struct fusion_alert *a);

/* Adds r to the evidence (or to the triggers, which are also evidence). The report is not
 * copied: it must outlive the alert. Returns true when it was not there yet. */
bool fusion_alert_add_evidence(struct fusion_alert *a, const struct fusion_report *r);
bool fusion_alert_add_trigger(struct fusion_alert *a, const struct fusion_report *r);
/* Takes r out of the evidence and the triggers (a withdrawn report) at time `at`, keeping its
 * handling and `at` (readers who could read it see their view updated then; one entry per
 * handling, the latest). Returns true when it was there. The view is computed from what is left, so
 * it may cease to exist. */
bool fusion_alert_remove(struct fusion_alert *a, const struct fusion_report *r, vtime_t at);
/* Adds an alarm day to an escalation alert; true when new. */
bool fusion_alert_add_day(struct fusion_alert *a, int64_t day);
/* Takes an alarm day out of an escalation alert (it no longer alarms); true when it was there. */
bool fusion_alert_remove_day(struct fusion_alert *a, int64_t day);

/* Recomputes the stored fields from the full evidence (fusion_alert_view with everything
 * visible). Returns true, and bumps version and updated = now, when any field or the
 * evidence changed since the last refresh. */
bool fusion_alert_refresh(struct fusion_alert *a, vtime_t now);

/* True while the alert is new or acknowledged. */
bool fusion_alert_open(const struct fusion_alert *a);

/* Records that who (copied) moved the alert to status `to` at `at`, judged from `seen`, the
 * status of who's own view (fusion_alert_view), with the alert's evidence then: on[0..non)
 * (report seqs, ascending; copied), or NULL for the evidence it holds now. Returns 0,
 * VIGIL_EINVAL for a missing who, or VIGIL_ECONFLICT for a transition the lifecycle does not
 * allow from `seen` (the alert is unchanged). The alert's own status (that of a reader who may
 * read all its evidence) moves too when the lifecycle allows it from there.
 *
 * A reader sees a transition when the alert existed for them on the evidence it held then
 * (what they may read of it), and their status is the transitions they see, each applied when
 * the lifecycle allows it from the status reached so far: what was decided about an alert
 * before a reader could see it, from evidence they may not read, stays hidden from them (S3),
 * and their own decisions count for them. */
int fusion_alert_transition(struct fusion_alert *a, enum fusion_alert_status seen,
                            enum fusion_alert_status to, const char *who, vtime_t at,
                            const int64_t *on, size_t non);

/* THE LEAK RULE. Computes the alert as a reader sees it, from the evidence for which
 * visible(ctx, &report->acl) is true, and from nothing else: the rule is re-evaluated on that
 * subset (incidents re-formed within it, sources counted within it; escalation re-run on its
 * counts). A report whose zone (or line distance and side) came from an agreement the reader
 * may not read (visible(ctx, zone_acl or line_acl) false) takes part without them, as if
 * that agreement did not exist: zone and near-line conditions, the area and a zone's
 * escalation then follow the agreement's marking. Returns out->exists: false when the rule
 * does not fire on the visible subset (then the reader must be told nothing, as for an alert
 * that does not exist). out must be released with fusion_alert_view_release in every case. */
bool fusion_alert_view(const struct fusion_alert *a,
                       bool (*visible)(void *ctx, const struct store_acl *acl), void *ctx,
                       struct fusion_alert_view *out);
/* Frees the view's evidence array. */
void fusion_alert_view_release(struct fusion_alert_view *v);

#endif
