/* compliance.h - ceasefire compliance (S8): agreements in the store, candidate violations found
 * as reports arrive, the verification workflow, tallies and the daily report.
 *
 * Who sees a violation. A violation is found in one report (its trigger: its time, place and
 * act are that report's) under one agreement (its zone, party and term), so it exists for a
 * reader only when the reader may read the agreement AND the trigger report as the report
 * index holds it now (policy_can_read on each): a correction that restricts the report, or
 * its deletion, is followed at once, except by a violation the coordination center has taken
 * up (or that other evidence supports), which is kept as recorded under the handling the
 * report had until then (withdrawn, flagged for re-review). Other evidence, added by
 * partners, is listed to a reader only when they may read it, and is never used to withhold
 * the violation from anyone (a partner cannot hide a violation by attaching evidence others
 * may not read). Everything
 * computed from violations (lists, counts, tallies, daily reports, the map) uses only the
 * violations that pass this test for the reader. Status, history and opinions are the
 * workflow's own statements, shown to whoever sees the violation (docs/COMPLIANCE.md).
 *
 * Writes run on the store's writer thread (functions taking a struct store_txn); reads take a
 * reader. Agreements are parsed once and cached process-wide (keyed by their digests), so
 * evaluating a report costs a few indexed reads and the geometry tests of the zones whose
 * parties the report names.
 */
#ifndef VIGIL_COMPLIANCE_COMPLIANCE_H
#define VIGIL_COMPLIANCE_COMPLIANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/auth.h"
#include "access/policy.h"
#include "base/buf.h"
#include "compliance/agreement.h"
#include "intel/profile.h"
#include "store/store.h"

/* Who acts on compliance data: a user of a partner. */
struct compliance_actor {
    int64_t partner, user;
    const char *user_name;
    const char *role;        /* admin, analyst, reporter, reader */
    bool coordinator;        /* the partner is the coordination center */
    int default_tlp;         /* the partner's default marking */
    const char *identity_id; /* the partner's STIX identity */
    const struct policy_reader *reader;
};

/* The actor who is principal p, of the partner whose STIX identity is identity_id (borrowed,
 * like p's strings). */
struct compliance_actor compliance_actor_of(const struct auth_principal *p,
                                            const char *identity_id);

/* True for the users who load agreements and move violations through the workflow: admins
 * and analysts of the coordination center. */
bool compliance_can_review(const struct compliance_actor *who);

/* Loads an agreement file (text[0..len)) as who, inside t: validates it (VIGIL_EINVAL with
 * msg naming the place in the file; nothing written), stores it (replacing an agreement with
 * the same id), publishes its STIX objects in the `compliance` collection, audits the write,
 * and evaluates the reports already stored since its effective time against it. VIGIL_EPERM
 * when who may not load agreements. Writes the agreement id into id[80]. */
int compliance_load(struct store_txn *t, const struct compliance_actor *who, const char *text,
                    size_t len, char id[80], char msg[CMP_MSG_SZ]);

/* Evaluates report r (stored as report_id, handled as acl) against every agreement, inside
 * the transaction that indexes it: creates the candidate violations it shows (status
 * `reported`), updates those it already had, drops those it no longer shows while they are
 * still `reported` (later ones keep their status, get a note in their history, and take the
 * report's new time, place and act: nothing shows the old version any more), and gives the
 * report's evidence rows its handling. Returns 0 or a store error. */
int compliance_evaluate(struct store_txn *t, const char *report_id, const struct store_acl *acl,
                        const struct event_report *r);

/* Who withdrew a report (deleted it, or restricted it by a correction), for the history of
 * the violations kept without it: a user (0 when unknown), a name to show, and how it was
 * withdrawn (NULL: "deleted" or "restricted", as the function says). */
struct compliance_by {
    int64_t user;
    const char *name;
    const char *how;
};

/* compliance_evaluate for a new version of a report stored by `by` (NULL: unknown). A version
 * whose handling takes readers away from the report (policy_audience_kept false) withdraws it
 * from the violations the coordination center has taken up (any status but `reported`): they
 * are kept as they were, under the handling the report had until then, flagged for re-review
 * (docs/COMPLIANCE.md, "When the evidence is withdrawn"); candidates still `reported` follow
 * the report. A kept violation is never rewritten by a later version. */
int compliance_evaluate_by(struct store_txn *t, const char *report_id, const struct store_acl *acl,
                           const struct event_report *r, const struct compliance_by *by);
/* compliance_evaluate for a report id stored for the first time (a new random id): nothing can
 * refer to it yet, so the look-ups of its existing violations and evidence are skipped (an
 * import evaluates every row). */
int compliance_evaluate_new(struct store_txn *t, const char *report_id,
                            const struct store_acl *acl, const struct event_report *r);

/* After partner owner's versions of report_id were deleted inside t (by `by`, NULL: unknown):
 * when no version of the report is left in the index, it leaves the evidence of every
 * violation; the candidates it was found in that are still `reported` and have no other
 * evidence go with it (history and opinions too); the others (taken up by the coordination
 * center, or supported by other evidence) are kept as recorded, under the handling the report
 * had, flagged for re-review with a history note saying who withdrew it and when. Nothing
 * happens while a version remains. Returns 0 or a store error. */
int compliance_report_deleted(struct store_txn *t, const char *report_id, int64_t owner,
                              const struct compliance_by *by);

/* The workflow: reported -> under_review -> confirmed | not_confirmed | disputed, and
 * disputed -> under_review. */
bool compliance_status_valid(const char *status);
bool compliance_transition_allowed(const char *from, const char *to);

/* Moves violation id to status `to` with a reason, as who. Returns 0 and the violation's new
 * resource in *out (new reference); VIGIL_ENOENT when who cannot see it; VIGIL_EPERM when
 * who is not a reviewer; VIGIL_EINVAL (msg) for an unknown status or an empty reason;
 * VIGIL_ECONFLICT (msg) for a transition the workflow does not allow. */
int compliance_transition(struct store_txn *t, const struct compliance_actor *who, const char *id,
                          const char *to, const char *reason, json_t **out, char msg[CMP_MSG_SZ]);

/* Adds who's opinion (a STIX opinion-enum value: strongly-disagree, disagree, neutral, agree,
 * strongly-agree) with an explanation (may be NULL) about violation id, as a STIX `opinion`
 * object. *out as compliance_transition. VIGIL_ENOENT, VIGIL_EPERM (readers), VIGIL_EINVAL,
 * VIGIL_ETOOBIG (who's partner has given CMP_OPINIONS_PER_PARTNER opinions on it already). */
#define CMP_OPINIONS_PER_PARTNER 20
int compliance_opinion_add(struct store_txn *t, const struct compliance_actor *who, const char *id,
                           const char *opinion, const char *explanation, json_t **out,
                           char msg[CMP_MSG_SZ]);

/* Adds report `report` (which who must be able to read: VIGIL_ENOENT with msg otherwise, as
 * for a report that does not exist) as evidence of violation id. Adding a report twice
 * changes nothing. *out as above: the violation as who sees it. VIGIL_ETOOBIG: who's partner
 * has added CMP_EVIDENCE_PER_PARTNER reports to it already. */
#define CMP_EVIDENCE_PER_PARTNER 100
int compliance_evidence_add(struct store_txn *t, const struct compliance_actor *who, const char *id,
                            const char *report, json_t **out, char msg[CMP_MSG_SZ]);

/* The resource of violation id for reader (history, opinions, and the evidence reader may
 * read), or NULL when it does not exist for the reader (or on a store error). */
json_t *compliance_violation_get(struct store_reader *r, const struct policy_reader *reader,
                                 const char *id);

struct compliance_filter {
    vtime_t since, until; /* event time in [since, until); 0 = unbounded */
    const char *status;   /* NULL = any */
    const char *party;
    const char *zone; /* zone id or name */
    bool needs_review; /* only those flagged for re-review (their evidence was withdrawn) */
};

/* The violations reader may see that match f, oldest event first, as a new JSON array in
 * *out (without history and opinions). */
int compliance_violations_list(struct store_reader *r, const struct policy_reader *reader,
                               const struct compliance_filter *f, json_t **out);

/* The agreements reader may read, as a new JSON array of their documents (with "id",
 * "loaded"). */
int compliance_agreements_list(struct store_reader *r, const struct policy_reader *reader,
                               json_t **out);

/* Tallies for the UTC days [from, from + ndays) (from at 00:00Z, 1 <= ndays <= 366), computed
 * only from violations reader may see: counts by party x zone x day (all and confirmed),
 * totals, per-day counts with rolling 7-day rates (mean per day over the day and the 6 before
 * it), and the change from the previous period of the same length. docs/COMPLIANCE.md shows
 * the shape. Returns 0 and a new object in *out. */
int compliance_tallies(struct store_reader *r, const struct policy_reader *reader, vtime_t from,
                       int ndays, json_t **out);

enum compliance_format { COMPLIANCE_HTML, COMPLIANCE_JSON, COMPLIANCE_CSV };

/* Parses "html", "json", "csv". VIGIL_EINVAL otherwise. */
int compliance_format_parse(const char *s, enum compliance_format *out);

/* Whose view a report is (names borrowed from the caller) and when it was made. */
struct compliance_view {
    const char *user;
    const char *partner;
    vtime_t generated;
};

/* The daily compliance report of the UTC day starting at `day`, for reader, appended to out:
 * summary, change from the previous day, confirmed violations, and (HTML) an inline SVG map of
 * the zones and the day's violations. JSON and CSV carry the same data for machines. HTML and
 * JSON carry its marking (the strictest of the agreements it draws and the violations of the
 * day and the previous day it counts, as reader sees them: a TLP banner at the top and the
 * bottom of the HTML), whose view it is (view) and when it was generated; the HTML prints on
 * A4 with the banner on every page. */
int compliance_daily(struct store_reader *r, const struct policy_reader *reader,
                     const struct compliance_view *view, vtime_t day, enum compliance_format fmt,
                     struct buf *out);

/* Parses "YYYY-MM-DD" (or an RFC 3339 timestamp, truncated) into the start of its UTC day. */
int compliance_day_parse(const char *s, vtime_t *out);

#define COMPLIANCE_DAY_US (INT64_C(86400) * 1000000)

/* Where a point stands relative to the stored agreements' zones, for the fusion rules. Zone
 * names and lines are data under their agreement's marking: each part names the agreement it
 * was taken from, and whatever is derived from it (an alert's area, a
 * zone or near-line rule's firing, a zone's escalation) must exist only for readers who may
 * read that agreement as it is marked now (compliance_agreement_acl; fusion_report's zone_acl
 * and line_acl). */
struct compliance_place {
    char zone[128];          /* the area zone containing the point ("" if none) */
    char zone_agreement[80]; /* the id of zone's agreement */
    vtime_t zone_effective;  /* when zone's agreement took effect (0 if no zone) */
    double dist_to_line_m;   /* distance to the nearest withdrawal line, -1 if there is none */
    char side[8];            /* "left" or "right" of that line's direction, "" if none */
    char line_agreement[80]; /* the id of that line's agreement */
};

/* Fills *out for the point (lat, lon) from every stored agreement: the first zone (in load
 * order) that contains it, and the nearest line. Returns 0 or a store error. */
int compliance_place(struct store_reader *r, double lat, double lon,
                     struct compliance_place *out);

/* The stored agreements as reader r sees them, read once for the places of many points under
 * that reader (compliance_place reads them at each call: a query each on PostgreSQL, which a
 * caller placing thousands of reports pays thousands of times). 0 and *out (the caller frees
 * it with compliance_places_free; it stays valid after r ends, as what r saw), or a store
 * error. */
struct compliance_places;
int compliance_places_get(struct store_reader *r, struct compliance_places **out);
void compliance_places_free(struct compliance_places *p);
/* compliance_place for the point (lat, lon) from the agreements of p. */
void compliance_place_in(const struct compliance_places *p, double lat, double lon,
                         struct compliance_place *out);

/* The handling of agreement id as stored now. VIGIL_ENOENT when there is no such agreement,
 * or a store error. */
int compliance_agreement_acl(struct store_reader *r, const char *id, struct store_acl *out);

#endif
