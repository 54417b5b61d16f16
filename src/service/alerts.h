/* alerts.h - the daemon's alert service: the fusion engine fed from the store (S7).
 *
 * One thread owns the engine's feeding: after every commit (and once a second) it reads the
 * report index rows added since it last looked — whoever wrote them: the REST API, TAXII, or a
 * `vigil import` in another process — and adds them to the engine by event time. Alerts the
 * engine creates or updates are published as "alert" events (SSE, and webhooks with each
 * subscriber's own view), to the readers who may read what changed it. At start the engine is
 * rebuilt from every stored report, and the alerts' lifecycles (kept by situation key in the
 * store) are put back; the reports whose alert events were not published yet (durable marks
 * written with the events, so a crash neither loses nor repeats them) are news.
 *
 * Readers never see the engine's alerts themselves, only views (fusion_alert_view) computed
 * from the evidence they may read: an alert whose rule does not fire on that evidence does not
 * exist for them. One mutex guards the engine; it is never held while writing to the store.
 */
#ifndef VIGIL_SERVER_ALERTS_H
#define VIGIL_SERVER_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/auth.h"
#include "access/policy.h"
#include "store/store.h"

struct alert_service;

/* Starts the service with the rules of rules_path (built-in defaults when the file does not
 * exist) and id_ns, the secret namespace (a UUID) of its alert ids (below). VIGIL_EINVAL with
 * "path: line N: reason" in msg for a bad rules file. */
int alerts_start(struct store *s, const char *rules_path, const char *id_ns,
                 struct alert_service **out, char msg[256]);
/* Stops the thread and frees the engine. NULL is a no-op. */
void alerts_stop(struct alert_service *svc);
/* Something was committed: look for new reports soon. NULL is a no-op. */
void alerts_poke(struct alert_service *svc);
/* Waits until every report committed before the call has been fed (for tests and the CLI). */
void alerts_settle(struct alert_service *svc);
/* The reports the engine holds and the bytes its structures occupy (fusion_memory). */
void alerts_memory(struct alert_service *svc, size_t *reports, size_t *bytes);
/* Alert ids computed (UUIDv5s) so far by every alert service of the process (/metrics): finding
 * an alert by its id computes O(1) of them, however many alerts and alarm days there are. */
uint64_t alerts_ids_computed(void);
/* Re-reads the rules file. On a bad file returns VIGIL_EINVAL with the line and reason in msg
 * and the old rules stay in force. */
int alerts_reload(struct alert_service *svc, char msg[256]);

struct alert_filter {
    const char *status;   /* NULL: any */
    const char *severity; /* NULL: any; else this or higher */
    vtime_t since, until; /* evidence window overlaps; 0: unbounded */
};

/* One page of the alerts reader may see, as JSON (the S5 alert resource), newest first: at
 * most limit (>= 1) alerts whose engine number is below `before` (0: from the newest), in a
 * new array. *next receives the number to pass as `before` for the following page, 0 when this
 * is the last (the REST cursor seals it: an engine's number is never shown). */
json_t *alerts_list(struct alert_service *svc, const struct policy_reader *reader,
                    const struct alert_filter *f, size_t limit, int64_t before, int64_t *next);
/* What an "alert" event (its data) tells reader: the alert as reader sees it now, or NULL
 * when the change it records is not one reader may hear of (it was made only of evidence
 * reader may not read, so their view did not change) or the alert does not exist for them. */
json_t *alerts_event_view(struct alert_service *svc, const struct policy_reader *reader,
                          const char *data);
/* Alert ids (the "id" of the S5 alert resource; the UUID of its STIX grouping): a UUIDv5
 * under the secret namespace id_ns, named by the alert's situation key and occurrence (struct
 * fusion_alert, key and nth). Every reader, front-end and restart gives an alert the same id
 * (as long as the engine raises it again for the same situation), but for an escalation alert,
 * named by the first alarm day of the reader's own view (so that reports a reader may not
 * read rename nothing that reader sees: readers whose views start on different days see the
 * alert under different ids, each under their own only); without id_ns one can
 * neither compute an id from a situation nor tell from ids how many alerts there are or in
 * what order they came (docs/ACCESS.md, "Side channels"). An id that is not one of a live
 * alert, or that the reader may not see, is answered like one that never was (NULL,
 * VIGIL_ENOENT). A back-test (alerts_replay) names its alerts under PROFILE_UUID_NS. */
#define ALERTS_ID_SZ 37 /* a UUID and its NUL */
/* True when id has the form of an alert id (36 characters, a lowercase UUID), with its first
 * 64 bits in *h (how the service finds it). Any text may be given (fuzz_alert_id). */
bool alerts_id_parse(const char *id, uint64_t *h);
/* One alert as reader sees it, or NULL (also when it does not exist for reader). */
json_t *alerts_get(struct alert_service *svc, const struct policy_reader *reader, const char *id);
#define ALERTS_MSG_SZ 160
/* Moves alert id to status (acknowledged, resolved, false_alarm) on behalf of who, keeping
 * the history in the store: a compare-and-set on who's view. The change is judged on the
 * lifecycle stored now (another front-end may have changed it), and refused when seen (the
 * view's "status_version" it was decided on; -1: the one it is first judged on) is not who's
 * view's now. It is written only if the stored lifecycle is still the one it was judged on;
 * else it is judged again on the new one (a change who may not see never shows as a 409).
 * VIGIL_ENOENT (no such alert for reader), VIGIL_EINVAL (unknown status), VIGIL_ECONFLICT
 * (the lifecycle does not allow it, or who's view's status changed since seen: msg says
 * which). */
int alerts_set_status(struct alert_service *svc, const struct auth_principal *who, const char *id,
                      const char *status, int64_t seen, char msg[ALERTS_MSG_SZ]);
/* The triage of alert id by who's partner (docs/ACCESS.md: a partner's own, never shown to
 * another partner): assignee (a user of who's partner, "" for none; NULL: unchanged) and/or a
 * comment to add (NULL: none). Audited. VIGIL_ENOENT (no such alert for who), VIGIL_EINVAL
 * (nothing asked, an empty or too long comment, an assignee who is not a user of who's
 * partner), VIGIL_ETOOBIG (the alert has too many comments already). Every alert view of a
 * partner's reader carries that partner's triage as "triage". */
int alerts_triage(struct alert_service *svc, const struct auth_principal *who, const char *id,
                  const char *assignee, const char *comment);
/* One page of the alerts reader may see as STIX objects (the TAXII alerts collection), oldest
 * first: at most limit (>= 1) whose engine number is above `after` and, when nids > 0, whose
 * STIX id is one of ids; *next as for alerts_list (the number to pass as `after`, 0 on the last
 * page). */
json_t *alerts_stix(struct alert_service *svc, const struct policy_reader *reader,
                    const char *const *ids, size_t nids, size_t limit, int64_t after,
                    int64_t *next);

/* Replay (S7): runs a NEW engine with the rules of rules_path over every stored report, by
 * event time, and returns the alerts reader would see as JSON — as they would have fired at
 * the time — without touching the live alerts or their lifecycle. VIGIL_EINVAL with msg for a
 * bad rules file. *out is a new array. truces[0..ntruces) (days, may be NULL) are the truce
 * starts the escalation detectors judge against the truce's own level (escalation.h). */
int alerts_replay(struct store *s, const char *rules_path, const int64_t *truces, size_t ntruces,
                  const struct policy_reader *reader,
                  json_t **out, char msg[256]);

#endif
