#include "service/alerts.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/audit.h"
#include "access/auth.h"
#include "access/events.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/log.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "compliance/compliance.h"
#include "fusion/fusion.h"
#include "intel/profile.h"
#include "service/alerts_int.h"
#include "store/store.h"
#include "vigil_version.h"

#define BATCH 1000
#define ALERT_EXT "extension-definition--7a0f1c2e-4b8d-4e51-9c3a-6f2d8e1b5a90"

extern const char vigil_default_rules[]; /* data/rules/default.rules, compiled in */

/* An open-addressing table of (h, alert, day) by h (docs/ACCESS.md, "Alert ids"): the ids a
 * live alert may be seen under, by their first 64 bits (day PID_ENGINE: the engine's id,
 * alert_pid; else the id of that alarm day, day_pid), and the alarm days mapped so (h: a mix
 * of alert and day). Slots of retired alerts are left out when it grows; id 0: empty. */
struct pid_slot {
    uint64_t h;
    int64_t id, day;
};
struct pid_table {
    struct pid_slot *v;
    size_t n, size;
};
#define PID_ENGINE INT64_MIN

struct alert_service {
    struct store *store;
    char *rules_path;
    pthread_mutex_t mu; /* guards f, and nothing else; never held while writing the store */
    pthread_mutex_t smu; /* one status change at a time in this process (alerts_set_status);
                          * taken before mu and held while writing the store */
    struct fusion *f;
    pthread_t thread;
    pthread_mutex_t tmu; /* guards the fields below */
    pthread_cond_t tcv;
    bool poked, stopping;
    bool replay;            /* a back-test: no stored lifecycles, nothing published */
    bool leading;           /* this process publishes (store_leads; feeding thread only) */
    uint64_t wanted, done;  /* settle generations */
    int64_t fed;            /* highest report seq fed (feeding thread only) */
    int64_t withdrawn;      /* highest report withdrawal handled (feeding thread only) */
    int64_t history;        /* highest report seq whose alert events were published */
    int64_t withdrawn_mark; /* the highest withdrawal accounted for when the service started */
    int64_t states;         /* highest event looked at for lifecycles set elsewhere (feeding) */
    int64_t *renew;         /* reports corrected since then: news when rebuilt (ascending) */
    size_t nrenew;
    struct agreement_acl **agr; /* the list: feeding thread only; the values: under mu */
    size_t nagr;
    struct store_reader *fetch_r; /* under mu: the reader the engine's fetch reads with */
    /* the engine's saved state (restart2, issue #20; feeding thread only, but tag: under mu) */
    char tag[64];         /* what the state depends on: the rules' text (rules_tag) */
    bool ready;           /* the engine is whole (rebuilt or loaded): its state may be saved */
    int64_t saved_fed;    /* the marks of the last state saved (-1: none) */
    int64_t saved_withdrawn;
    vtime_t saved_at;     /* when (ts_now) */
    /* alert ids (alerts.h): their namespace, and the engine's alerts by id (under mu) */
    char ns[UUID_STRLEN + 1];
    struct pid_table pids;   /* every id a live alert may be seen under, by its first 64 bits */
    struct pid_table mapped; /* the alarm days (alert, day) that have their id in pids */
    int64_t pids_upto;       /* the engine's alerts up to this number are in pids */
    uint64_t pids_renames;   /* fusion_alert_renames when pids was filled */
    uint64_t pids_days;      /* fusion_alert_days_added when pids was last brought up to date */
    bool unpublished;     /* the last publication failed: a save moves no published mark */
};

/* ---- alert ids ----------------------------------------------------------------------------
 *
 * What a reader sees as an alert's id is a UUIDv5 whose namespace is secret (a subkey of
 * secret.key, app.c) and whose name is the alert's situation key and occurrence (struct
 * fusion_alert, nth): the same for every reader, front-end and restart, and, without the
 * key, neither computable from a situation nor ordered or counted (docs/ACCESS.md). An
 * escalation alert's is named by the first alarm day of the reader's own view (view_pid). */

/* Alert ids computed (named_pid) by every alert service of the process: /metrics, which shows
 * that finding an alert by its id costs a bounded number of them. */
static _Atomic uint64_t ids_computed;

uint64_t alerts_ids_computed(void)
{
    return atomic_load_explicit(&ids_computed, memory_order_relaxed);
}

/* The id named by a situation key and its occurrence. */
static void named_pid(const struct alert_service *svc, const char *key, uint32_t nth,
                      char out[UUID_STRLEN + 1])
{
    char name[256];
    int n = nth ? snprintf(name, sizeof name, "%s#%u", key, (unsigned)nth)
                : snprintf(name, sizeof name, "%s", key);
    profile_uuid5(svc->ns, name, (size_t)n < sizeof name ? (size_t)n : sizeof name - 1, out);
    atomic_fetch_add_explicit(&ids_computed, 1, memory_order_relaxed);
}

/* The id of alert a, by the engine's situation key: what names it inside the hub (stored
 * events, the id table). */
static void alert_pid(const struct alert_service *svc, const struct fusion_alert *a,
                      char out[UUID_STRLEN + 1])
{
    named_pid(svc, a->key, a->nth, out);
}

/* The id of escalation alert a had its first alarm day been day ("SERIES/d:DAY"). */
static void day_pid(const struct alert_service *svc, const struct fusion_alert *a, int64_t day,
                    char out[UUID_STRLEN + 1])
{
    char key[256];
    fusion_esc_key(a->key, day, key, sizeof key);
    named_pid(svc, key, a->nth, out);
}

/* The id of alert a as a reader whose view is v sees it. An escalation alert is named by its
 * first alarm day, and the engine's first day may be one only reports the reader may not read
 * make: the reader's id is named by the first alarm day of their own view, so that what they
 * may not read never renames what they see (docs/ACCESS.md, "Alert ids"). Whoever sees the
 * engine's first day (every reader of all the evidence) gets alert_pid. */
static void view_pid(const struct alert_service *svc, const struct fusion_alert *a,
                     const struct fusion_alert_view *v, char out[UUID_STRLEN + 1])
{
    if (a->kind == FUSION_ALERT_ESCALATION && v->exists && a->ndays)
        day_pid(svc, a, fusion_day(v->fired_at - 1), out); /* fired_at: the day's end */
    else
        alert_pid(svc, a, out);
}

bool alerts_id_parse(const char *id, uint64_t *h)
{
    if (!id || strlen(id) != UUID_STRLEN || !uuid_valid(id, UUID_STRLEN))
        return false;
    uint64_t v = 0;
    for (const char *c = id; *c; c++) {
        if (*c == '-')
            continue;
        if (*c >= 'A' && *c <= 'F')
            return false; /* the ids given are lowercase */
        if (c < id + 18) /* the first 16 digits: 8, "-", 4, "-", 4 */
            v = v << 4 | (uint64_t)hex_value(*c);
    }
    *h = v;
    return true;
}

/* Where alarm day `day` of alert id is in the table of mapped days. */
static uint64_t day_hash(int64_t id, int64_t day)
{
    uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)day;
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    return h ^ h >> 29;
}

/* Puts s into t (f: the engine whose alerts are live). */
static void table_put(const struct fusion *f, struct pid_table *t, struct pid_slot s)
{
    if ((t->n + 1) * 2 > t->size) { /* grow, leaving out the retired alerts */
        struct pid_slot *old = t->v;
        size_t osize = t->size;
        t->size = osize ? osize * 2 : 64;
        t->v = xcalloc(t->size, sizeof *t->v);
        t->n = 0;
        for (size_t i = 0; i < osize; i++)
            if (old[i].id && fusion_alert_get(f, old[i].id))
                table_put(f, t, old[i]);
        free(old);
    }
    size_t i = s.h & (t->size - 1);
    while (t->v[i].id)
        i = (i + 1) & (t->size - 1);
    t->v[i] = s;
    t->n++;
}

/* The slots of t whose h is h, one a call: *i is SIZE_MAX before the first; NULL after the
 * last. */
static const struct pid_slot *table_next(const struct pid_table *t, uint64_t h, size_t *i)
{
    if (!t->size)
        return NULL;
    *i = *i == SIZE_MAX ? h & (t->size - 1) : (*i + 1) & (t->size - 1);
    for (; t->v[*i].id; *i = (*i + 1) & (t->size - 1))
        if (t->v[*i].h == h)
            return &t->v[*i];
    return NULL;
}

static void table_release(struct pid_table *t)
{
    free(t->v);
    *t = (struct pid_table){0};
}

/* Forgets the ids of an engine that is being replaced. Called with mu held. */
static void pids_reset(struct alert_service *svc)
{
    table_release(&svc->pids);
    table_release(&svc->mapped);
    svc->pids_upto = 0;
    svc->pids_days = 0;
}

/* True when alarm day `day` of alert id has its id in pids. */
static bool day_mapped(const struct alert_service *svc, int64_t id, int64_t day)
{
    size_t i = SIZE_MAX;
    for (const struct pid_slot *s; (s = table_next(&svc->mapped, day_hash(id, day), &i));)
        if (s->id == id && s->day == day)
            return true;
    return false;
}

/* Brings pids up to date with the engine: the engine's id of each alert raised since the last
 * look, and the id of each alarm day that joined an escalation alert since (days_at,
 * fusion_alert_days_added); all of them again after a rename (names and occurrences moved).
 * Each id is computed once, when it comes. Called with mu held. */
static void pids_update(struct alert_service *svc)
{
    const struct fusion *f = svc->f;
    if (svc->pids_renames != fusion_alert_renames(f)) { /* ids changed: map them again */
        pids_reset(svc);
        svc->pids_renames = fusion_alert_renames(f);
    }
    uint64_t days = fusion_alert_days_added(f);
    size_t i = days != svc->pids_days ? 0 : fusion_alert_rank(f, svc->pids_upto + 1);
    for (; i < fusion_alert_count(f); i++) {
        const struct fusion_alert *a = fusion_alert_at(f, i);
        bool fresh = a->id > svc->pids_upto;
        char p[UUID_STRLEN + 1];
        uint64_t h = 0;
        if (fresh) {
            alert_pid(svc, a, p);
            alerts_id_parse(p, &h);
            table_put(f, &svc->pids, (struct pid_slot){h, a->id, PID_ENGINE});
            svc->pids_upto = a->id;
        }
        if (a->kind != FUSION_ALERT_ESCALATION || (!fresh && a->days_at <= svc->pids_days))
            continue;
        for (size_t k = 0; k < a->ndays; k++) {
            int64_t d = a->days[k];
            if (day_mapped(svc, a->id, d))
                continue;
            day_pid(svc, a, d, p);
            alerts_id_parse(p, &h);
            table_put(f, &svc->pids, (struct pid_slot){h, a->id, d});
            table_put(f, &svc->mapped, (struct pid_slot){day_hash(a->id, d), a->id, d});
        }
    }
    svc->pids_days = days;
}

/* True when day is an alarm day of a (days[] ascending). */
static bool has_day(const struct fusion_alert *a, int64_t day)
{
    size_t lo = 0, hi = a->ndays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->ndays && a->days[lo] == day;
}

/* The live alert of slot s when id (whose first 64 bits are s's) is truly the id s maps (the
 * engine's id, or that of an alarm day it still has), else NULL: one id computed. */
static const struct fusion_alert *slot_alert(const struct alert_service *svc,
                                             const struct pid_slot *s, const char *id)
{
    const struct fusion_alert *a = fusion_alert_get(svc->f, s->id);
    char p[UUID_STRLEN + 1];
    if (a && s->day == PID_ENGINE)
        alert_pid(svc, a, p);
    else if (a && a->kind == FUSION_ALERT_ESCALATION && has_day(a, s->day))
        day_pid(svc, a, s->day, p);
    else
        return NULL;
    return strcmp(p, id) == 0 ? a : NULL;
}

/* The engine's number of the alert whose id is id, 0 when there is none (a malformed id
 * included). Called with mu held. */
static int64_t alert_by_pid(struct alert_service *svc, const char *id)
{
    uint64_t h;
    if (!alerts_id_parse(id, &h))
        return 0;
    pids_update(svc);
    size_t i = SIZE_MAX;
    for (const struct pid_slot *s; (s = table_next(&svc->pids, h, &i));) {
        const struct fusion_alert *a = s->day == PID_ENGINE ? slot_alert(svc, s, id) : NULL;
        if (a)
            return a->id;
    }
    return 0;
}

static int int64_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Sorts v[0..n) and drops its duplicates; returns how many are left. */
static size_t ids_unique(int64_t *v, size_t n)
{
    if (n)
        qsort(v, n, sizeof *v, int64_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || v[m - 1] != v[i])
            v[m++] = v[i];
    return m;
}

/* Appends to (*v)[0..*n) the alerts id may be the id of for some reader: whose engine id it is,
 * or escalation alerts one of whose alarm days names it (view_pid). Only the slots whose first
 * 64 bits are id's are looked at, one id computed each: O(1) expected, however many alerts
 * and days there are. Called with mu held. */
static void alerts_named(struct alert_service *svc, const char *id, int64_t **v, size_t *n)
{
    uint64_t h;
    if (!alerts_id_parse(id, &h))
        return;
    pids_update(svc);
    size_t i = SIZE_MAX;
    for (const struct pid_slot *s; (s = table_next(&svc->pids, h, &i));) {
        if (!slot_alert(svc, s, id))
            continue;
        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        (*v)[(*n)++] = s->id;
    }
}

/* True when reader sees alert a (NULL: none) under id. Called with mu held. */
static bool seen_as(const struct alert_service *svc, const struct fusion_alert *a,
                    const struct policy_reader *reader, const char *id)
{
    struct fusion_alert_view v;
    bool ok = false;
    if (a && fusion_alert_view(a, policy_visible, (void *)reader, &v)) {
        char p[UUID_STRLEN + 1];
        view_pid(svc, a, &v, p);
        ok = strcmp(p, id) == 0;
    }
    if (a)
        fusion_alert_view_release(&v);
    return ok;
}

/* The engine's number of the alert reader sees under id (view_pid), 0 when there is none,
 * as for an alert reader may not see: the alert whose engine id it is, else the first
 * escalation alert one of whose alarm days names it that reader sees under it. Called with mu
 * held. */
static int64_t alert_for(struct alert_service *svc, const struct policy_reader *reader,
                         const char *id)
{
    int64_t eid = alert_by_pid(svc, id);
    if (eid && seen_as(svc, fusion_alert_get(svc->f, eid), reader, id))
        return eid;
    int64_t *c = NULL, found = 0;
    size_t n = 0;
    alerts_named(svc, id, &c, &n);
    n = ids_unique(c, n);
    for (size_t i = 0; i < n && !found; i++) { /* named by a day of its view */
        const struct fusion_alert *a = fusion_alert_get(svc->f, c[i]);
        if (a->kind == FUSION_ALERT_ESCALATION && a->id != eid && seen_as(svc, a, reader, id))
            found = a->id;
    }
    free(c);
    return found;
}

/* The engine's state in the store (store_service_state): "alerts.engine". */
#define STATE_NAME "alerts.engine"
#define STATE_MAGIC "vigil-alerts-state/1"
#define STATE_EVERY_US (INT64_C(60) * VTIME_US_PER_SEC) /* at most once a minute, and at stop */

/* The durable marks of what the alert events published so far account for (store.h). */
#define MARK_REPORTS "alerts.reports"
#define MARK_WITHDRAWN "alerts.withdrawn"

/* The alert as S5 shows it, from a view. */
static json_t *view_json(const struct alert_service *svc, const struct fusion_alert *a,
                         const struct fusion_alert_view *v)
{
    char s[TS_BUFSZ], e[TS_BUFSZ], c[TS_BUFSZ], u[TS_BUFSZ], id[UUID_STRLEN + 1];
    view_pid(svc, a, v, id);
    json_t *ev = json_array();
    for (size_t i = 0; i < v->nevidence; i++)
        if (v->evidence[i]->id)
            json_array_append_new(ev, json_string(v->evidence[i]->id));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:s}", "id", id, "rule",
        a->rule_name, "severity", fusion_severity_name(v->severity), "status",
        fusion_alert_status_name(v->status), "title", a->title, "start", ts_format(v->start, 0, s),
        "end", ts_format(v->end, 0, e), "confidence", v->confidence, "evidence", ev, "created",
        ts_format(v->created, 3, c), "updated", ts_format(v->updated, 3, u));
    char fa[TS_BUFSZ]; /* the event time at which the warning became possible */
    json_object_set_new(o, "fired_at", json_string(ts_format(v->fired_at, 0, fa)));
    if (!isnan(v->lat) && !isnan(v->lon))
        json_object_set_new(o, "location", json_pack("{s:f, s:f}", "lat", v->lat, "lon", v->lon));
    if (v->zone)
        json_object_set_new(o, "area", json_string(v->zone));
    char sa[TS_BUFSZ]; /* when the status the reader sees was set (by a transition they see) */
    if (v->status_at)
        json_object_set_new(o, "status_at", json_string(ts_format(v->status_at, 3, sa)));
    /* what a status change carries to say which status it was decided on (alerts_set_status) */
    json_object_set_new(o, "status_version", json_integer((json_int_t)v->status_at));
    /* the marking of the evidence the view rests on: its most restrictive */
    enum tlp_level tlp = TLP_CLEAR;
    for (size_t i = 0; i < v->nevidence; i++)
        tlp = tlp_strictest(tlp, &v->evidence[i]->acl);
    if (v->nevidence)
        json_object_set_new(o, "marking", json_string(tlp_name(tlp)));
    json_object_set_new(o, "why", alert_why(a, v));
    return o;
}

/* The view of alert a through visible(ctx) as JSON, or NULL when it does not exist so. */
static json_t *view_through(const struct alert_service *svc, const struct fusion_alert *a,
                            bool (*visible)(void *ctx, const struct store_acl *acl), void *ctx)
{
    struct fusion_alert_view v;
    json_t *o = NULL;
    if (fusion_alert_view(a, visible, ctx, &v))
        o = view_json(svc, a, &v);
    fusion_alert_view_release(&v);
    return o;
}

/* The view of alert a for reader, as JSON, or NULL when it does not exist for them. */
static json_t *view_for(const struct alert_service *svc, const struct fusion_alert *a,
                        const struct policy_reader *reader)
{
    return view_through(svc, a, policy_visible, (void *)reader);
}

/* low 0, medium 1, high 2, critical 3; -1 for anything else. */
static int severity_rank(const char *name)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* The view of a as JSON when it passes f, else NULL. */
static json_t *listed(const struct alert_service *svc, const struct fusion_alert *a,
                      const struct policy_reader *reader, const struct alert_filter *f,
                      int min_sev)
{
    json_t *o = view_for(svc, a, reader);
    if (!o)
        return NULL;
    if (f->status && strcmp(f->status, json_string_value(json_object_get(o, "status"))) != 0) {
        json_decref(o); /* the status the reader sees, which is theirs (fusion/alerts.h) */
        return NULL;
    }
    const char *sev = json_string_value(json_object_get(o, "severity"));
    vtime_t st = 0, en = 0;
    ts_parse(json_string_value(json_object_get(o, "start")), &st, NULL);
    ts_parse(json_string_value(json_object_get(o, "end")), &en, NULL);
    if ((min_sev >= 0 && severity_rank(sev) < min_sev) || (f->since && en < f->since) ||
        (f->until && st > f->until)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- triage: one partner's assignee, comments and who of them changed the status ------- */

#define TRIAGE_COMMENTS_MAX 200
#define TRIAGE_COMMENT_MAX 2000
#define TRIAGE_NAME_MAX 64

/* The triage of a partner as JSON ({"assignee", "status_by", "status_at", "comments"}). */
static json_t *triage_json(const struct store_alert_triage *tr)
{
    char at[TS_BUFSZ];
    json_t *c = json_loads(tr->comments ? tr->comments : "[]", 0, NULL);
    json_t *o = json_pack("{s:s, s:o}", "assignee", tr->assignee ? tr->assignee : "", "comments",
                          json_is_array(c) ? c : json_array());
    if (c && !json_is_array(c))
        json_decref(c);
    if (tr->status_by && tr->status_by[0]) {
        json_object_set_new(o, "status_by", json_string(tr->status_by));
        json_object_set_new(o, "status_at", json_string(ts_format(tr->status_at, 3, at)));
    }
    return o;
}

/* Adds to each alert of arr (the views of reader) the triage of reader's partner, read from
 * the store: keys[i] is the situation key of arr[i]. Frees keys. A system reader (no
 * partner) and a back-test get none: the triage is a partner's own (docs/ACCESS.md). */
static void with_triage(struct alert_service *svc, const struct policy_reader *reader, json_t *arr,
                        char **keys)
{
    size_t n = json_array_size(arr);
    struct store_reader *r = NULL;
    if (n && !svc->replay && !reader->system && reader->partner > 0 &&
        store_read_begin(svc->store, &r) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct store_alert_triage tr = {0};
            if (store_alert_triage(r, keys[i], reader->partner, &tr))
                tr = (struct store_alert_triage){"", "", 0, "[]"};
            json_object_set_new(json_array_get(arr, i), "triage", triage_json(&tr));
        }
        store_read_end(r);
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

struct triage_job {
    const struct auth_principal *who;
    char *key;
    char id[UUID_STRLEN + 1]; /* the alert's (alerts.h) */
    const char *assignee, *comment; /* NULL: unchanged / none */
    bool status;                    /* a status change: who and when go into the triage */
    int rc;
};

static int triage_txn(struct store_txn *t, void *arg)
{
    struct triage_job *j = arg;
    struct store_alert_triage tr = {"", "", 0, "[]"};
    int rc = store_alert_triage(store_txn_reader(t), j->key, j->who->partner, &tr);
    if (rc && rc != VIGIL_ENOENT)
        return rc;
    char *assignee = xstrdup(j->assignee ? j->assignee : tr.assignee);
    char *by = xstrdup(j->status ? j->who->user_name : tr.status_by);
    vtime_t at = j->status ? ts_now() : tr.status_at;
    json_t *c = json_loads(tr.comments, 0, NULL);
    if (!json_is_array(c)) {
        json_decref(c);
        c = json_array();
    }
    rc = 0;
    if (j->comment) {
        char ts[TS_BUFSZ];
        if (json_array_size(c) >= TRIAGE_COMMENTS_MAX)
            rc = VIGIL_ETOOBIG;
        else
            json_array_append_new(c, json_pack("{s:s, s:s, s:s}", "by", j->who->user_name, "at",
                                               ts_format(ts_now(), 3, ts), "text", j->comment));
    }
    char *comments = vjson_dumps(c);
    json_decref(c);
    struct store_alert_triage nt = {assignee, by, at, comments};
    if (!rc)
        rc = store_txn_alert_triage_put(t, j->key, j->who->partner, &nt);
    if (!rc && !j->status) {
        char detail[96];
        snprintf(detail, sizeof detail, "{\"alert\":\"%s\",\"op\":\"%s\"}", j->id,
                 j->comment ? "comment" : "assign");
        /* the object is the id who saw, never the situation key: the engine's key may name
         * a place or day only reports who may not read make (view_pid) */
        rc = audit_append(t, j->who->partner, j->who->user, "alert", j->id, detail);
    }
    free(assignee);
    free(by);
    free(comments);
    return rc;
}

/* True when name is a user of partner (the assignee of a partner's triage is one of theirs). */
static bool user_of(struct store *s, const char *name, int64_t partner)
{
    struct store_reader *r;
    struct store_user u;
    if (store_read_begin(s, &r))
        return false;
    bool ok = store_user_find(r, name, &u) == 0 && u.partner == partner;
    store_read_end(r);
    return ok;
}

int alerts_triage(struct alert_service *svc, const struct auth_principal *who, const char *id,
                  const char *assignee, const char *comment)
{
    if ((!assignee && !comment) ||
        (comment && (!comment[0] || strlen(comment) > TRIAGE_COMMENT_MAX)) ||
        (assignee && strlen(assignee) > TRIAGE_NAME_MAX))
        return VIGIL_EINVAL;
    if (assignee && assignee[0] && !user_of(svc->store, assignee, who->partner))
        return VIGIL_EINVAL;
    struct triage_job j = {.who = who, .assignee = assignee, .comment = comment};
    pthread_mutex_lock(&svc->mu);
    const struct fusion_alert *a = fusion_alert_get(svc->f, alert_for(svc, &who->reader, id));
    json_t *o = a ? view_for(svc, a, &who->reader) : NULL;
    if (o) {
        j.key = xstrdup(a->key);
        snprintf(j.id, sizeof j.id, "%s", id); /* the id who sees it under */
    }
    pthread_mutex_unlock(&svc->mu);
    json_decref(o);
    if (!j.key)
        return VIGIL_ENOENT;
    int rc = store_write(svc->store, triage_txn, &j);
    free(j.key);
    return rc;
}

json_t *alerts_list(struct alert_service *svc, const struct policy_reader *reader,
                    const struct alert_filter *f, size_t limit, int64_t before, int64_t *next)
{
    json_t *arr = json_array();
    int min_sev = f->severity ? severity_rank(f->severity) : -1;
    char **keys = NULL; /* the situation key of each alert listed, for its triage */
    int64_t last = 0;
    *next = 0;
    pthread_mutex_lock(&svc->mu);
    size_t i = fusion_alert_count(svc->f); /* ascending id */
    if (before > 0)
        i = fusion_alert_rank(svc->f, before);
    while (i-- > 0) {
        const struct fusion_alert *a = fusion_alert_at(svc->f, i);
        json_t *o = listed(svc, a, reader, f, min_sev);
        if (!o)
            continue;
        if (json_array_size(arr) == limit) { /* one more exists: the page is not the last */
            json_decref(o);
            *next = last; /* the engine's number, sealed in the cursor (rest_alerts.c) */
            break;
        }
        last = a->id;
        json_array_append_new(arr, o);
        keys = xrealloc(keys, json_array_size(arr) * sizeof *keys);
        keys[json_array_size(arr) - 1] = xstrdup(a->key);
    }
    pthread_mutex_unlock(&svc->mu);
    with_triage(svc, reader, arr, keys);
    return arr;
}

void alerts_memory(struct alert_service *svc, size_t *reports, size_t *bytes)
{
    pthread_mutex_lock(&svc->mu);
    *reports = fusion_corr_count(fusion_correlator(svc->f));
    *bytes = fusion_memory(svc->f);
    pthread_mutex_unlock(&svc->mu);
}

/* alerts_get by the engine's number of the alert (0 when there is none): id NULL; by the id
 * reader sees it under; or (named) by its engine id (alert_pid, a stored event's). */
static json_t *get_alert(struct alert_service *svc, const struct policy_reader *reader,
                         int64_t eid, const char *id, bool named)
{
    pthread_mutex_lock(&svc->mu);
    if (id)
        eid = named ? alert_by_pid(svc, id) : alert_for(svc, reader, id);
    const struct fusion_alert *a = fusion_alert_get(svc->f, eid);
    json_t *o = a ? view_for(svc, a, reader) : NULL;
    char **key = NULL;
    if (o) {
        key = xmalloc(sizeof *key);
        key[0] = xstrdup(a->key);
    }
    pthread_mutex_unlock(&svc->mu);
    if (o) {
        json_t *one = json_pack("[O]", o);
        with_triage(svc, reader, one, key);
        json_decref(one);
    }
    return o;
}

json_t *alerts_get(struct alert_service *svc, const struct policy_reader *reader, const char *id)
{
    return get_alert(svc, reader, 0, id ? id : "", false);
}

#define GROUPING_ID_SZ 64

/* The STIX id of a view o: a grouping whose UUID is the alert's id as its reader sees it. */
static void grouping_id(const json_t *o, char id[GROUPING_ID_SZ])
{
    snprintf(id, GROUPING_ID_SZ, "grouping--%s", json_string_value(json_object_get(o, "id")));
}

/* The STIX form of a view: a grouping of the evidence the reader may see, with the alert's
 * fields in a Vigil property extension. */
static json_t *view_stix(const json_t *o)
{
    char id[GROUPING_ID_SZ];
    grouping_id(o, id);
    json_t *ext = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "extension_type",
                            "property-extension", "rule", json_object_get(o, "rule"), "severity",
                            json_object_get(o, "severity"), "status", json_object_get(o, "status"),
                            "start", json_object_get(o, "start"), "end", json_object_get(o, "end"));
    json_object_set(ext, "fired_at", json_object_get(o, "fired_at"));
    /* modified is the reader's view's, like everything else in it; created is one for every
     * version of the id (STIX 2.1 3.6), and the view's own would differ between readers */
    return json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:O, s:O, s:{s:o}}", "type", "grouping",
                     "spec_version", "2.1", "id", id, "created", PROFILE_DEFINED, "modified",
                     json_object_get(o, "updated"), "name", json_object_get(o, "title"), "context",
                     "suspicious-activity", "object_refs", json_object_get(o, "evidence"),
                     "confidence", json_object_get(o, "confidence"), "extensions", ALERT_EXT, ext);
}

/* True when one of ids[0..n) is the STIX id of view o. */
static bool stix_id_in(const json_t *o, const char *const *ids, size_t n)
{
    char id[GROUPING_ID_SZ];
    grouping_id(o, id);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

json_t *alerts_stix(struct alert_service *svc, const struct policy_reader *reader,
                    const char *const *ids, size_t nids, size_t limit, int64_t after, int64_t *next)
{
    json_t *arr = json_array();
    int64_t last = 0;
    *next = 0;
    pthread_mutex_lock(&svc->mu);
    int64_t *only = NULL; /* with ids: the alerts one of them may name (alerts_named) */
    size_t nonly = 0, i = 0, end = fusion_alert_count(svc->f);
    if (nids) {
        for (size_t k = 0; k < nids; k++)
            if (strncmp(ids[k], "grouping--", 10) == 0)
                alerts_named(svc, ids[k] + 10, &only, &nonly);
        end = nonly = ids_unique(only, nonly);
        while (i < nonly && only[i] <= after)
            i++;
    } else if (after > 0) {
        i = fusion_alert_rank(svc->f, after + 1);
    }
    for (; i < end; i++) {
        const struct fusion_alert *a =
            nids ? fusion_alert_get(svc->f, only[i]) : fusion_alert_at(svc->f, i);
        json_t *o = view_for(svc, a, reader);
        if (o && nids && !stix_id_in(o, ids, nids)) {
            json_decref(o);
            continue;
        }
        if (o && json_array_size(json_object_get(o, "evidence"))) {
            if (json_array_size(arr) == limit) { /* one more exists */
                json_decref(o);
                *next = last;
                break;
            }
            json_array_append_new(arr, view_stix(o));
            last = a->id;
        }
        json_decref(o);
    }
    free(only);
    pthread_mutex_unlock(&svc->mu);
    return arr;
}

/* Webhooks that want alerts, copied out of the reader. */
struct webhook_views {
    struct {
        int64_t id, user;
        char *kinds;
    } * v;
    size_t n, cap;
};

static int collect_hook(void *ctx, const struct store_webhook *w)
{
    struct webhook_views *wv = ctx;
    if (!events_wants(w->kinds, "alert"))
        return 0;
    if (wv->n == wv->cap) {
        wv->cap = wv->cap ? 2 * wv->cap : 8;
        wv->v = xrealloc(wv->v, wv->cap * sizeof *wv->v);
    }
    wv->v[wv->n].id = w->id;
    wv->v[wv->n].user = w->user;
    wv->v[wv->n].kinds = xstrdup(w->kinds);
    wv->n++;
    return 0;
}

/* ---- publishing ------------------------------------------------------------------------- */

/* Why an alert changed: the handling of each report added to or taken from its evidence, or
 * `all` for a status change (told to every reader the alert exists for). A reader hears of
 * the change only when it may read one of the causes: a view is computed from the evidence
 * the reader may read alone, so a change made of evidence it may not read leaves its view as
 * it was, and telling it anything would say that such evidence exists (S3). */
struct change {
    int64_t id;                /* the engine's number of the alert */
    char pid[UUID_STRLEN + 1]; /* in an event: the alert's id (alert_pid), "" when none */
    bool named;                /* the event names its alert by pid (older ones by id) */
    bool all;
    const char *key; /* a status change: the situation, for the other front-ends (sync_states) */
    char *was, *now; /* a renamed alert (publish): its situation key before and after */
    struct store_acl *causes;
    size_t n, cap;
};

struct changed {
    struct change *v;
    size_t n, cap;
};

/* Notes that alert id changed because of a report handled as cause (NULL: a status change). */
static void changed_add(struct changed *c, int64_t id, const struct store_acl *cause)
{
    struct change *ch = NULL;
    for (size_t i = 0; i < c->n && !ch; i++)
        if (c->v[i].id == id)
            ch = &c->v[i];
    if (!ch) {
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 16;
            c->v = xrealloc(c->v, c->cap * sizeof *c->v);
        }
        ch = &c->v[c->n++];
        *ch = (struct change){.id = id};
    }
    if (!cause) {
        ch->all = true;
        return;
    }
    for (size_t i = 0; i < ch->n; i++)
        if (store_acl_same(&ch->causes[i], cause))
            return;
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? 2 * ch->cap : 4;
        ch->causes = xrealloc(ch->causes, ch->cap * sizeof *ch->causes);
    }
    ch->causes[ch->n++] = *cause;
}

static void changed_release(struct changed *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].causes);
        free(c->v[i].was);
        free(c->v[i].now);
    }
    free(c->v);
    *c = (struct changed){0};
}

/* True when a reader judged by visible(ctx) may be told of the change. */
static bool change_reaches(const struct change *ch,
                           bool (*visible)(void *ctx, const struct store_acl *acl), void *ctx)
{
    if (ch->all)
        return true;
    for (size_t i = 0; i < ch->n; i++)
        if (visible(ctx, &ch->causes[i]))
            return true;
    return false;
}

/* The event's data: the alert and the causes, for the stream to judge each reader by. Nobody
 * reads it as such (the stream sends each reader its view instead). The alert is named by its
 * id, pid, which every front-end and restart gives it alike (the engine's number does not). */
static char *change_json(const struct change *ch, const char *pid)
{
    json_t *causes = ch->all ? json_string("all") : json_array();
    for (size_t i = 0; !ch->all && i < ch->n; i++)
        json_array_append_new(causes,
                              json_pack("[I, i, I]", (json_int_t)ch->causes[i].owner,
                                        ch->causes[i].tlp, (json_int_t)ch->causes[i].group));
    json_t *d = json_pack("{s:I, s:o}", "alert", (json_int_t)ch->id, "causes", causes);
    if (ch->key)
        json_object_set_new(d, "key", json_string(ch->key));
    json_object_set_new(d, "id", json_string(pid)); /* "": the alert went before it */
    char *text = vjson_dumps(d);
    json_decref(d);
    return text;
}

/* The change an event's data describes (change_json); false when it is not one. */
static bool change_parse(const char *data, struct change *ch)
{
    *ch = (struct change){0};
    json_t *d = json_loads(data, 0, NULL);
    json_t *causes = json_object_get(d, "causes");
    ch->id = vjson_int(d, "alert", 0);
    const char *pid = json_string_value(json_object_get(d, "id"));
    ch->named = pid != NULL;
    if (pid && strlen(pid) == UUID_STRLEN)
        memcpy(ch->pid, pid, UUID_STRLEN + 1);
    ch->all = json_is_string(causes) && strcmp(json_string_value(causes), "all") == 0;
    size_t i;
    json_t *c;
    json_array_foreach (causes, i, c) {
        struct store_acl acl = {.owner = json_integer_value(json_array_get(c, 0)),
                                .tlp = (int)json_integer_value(json_array_get(c, 1)),
                                .group = json_integer_value(json_array_get(c, 2))};
        if (ch->n == ch->cap) {
            ch->cap = ch->cap ? 2 * ch->cap : 4;
            ch->causes = xrealloc(ch->causes, ch->cap * sizeof *ch->causes);
        }
        ch->causes[ch->n++] = acl;
    }
    bool ok = d && ch->id > 0 && (ch->all || json_is_array(causes));
    json_decref(d);
    return ok;
}

json_t *alerts_event_view(struct alert_service *svc, const struct policy_reader *reader,
                          const char *data)
{
    struct change ch;
    json_t *o = NULL;
    if (change_parse(data, &ch) && change_reaches(&ch, policy_visible, (void *)reader))
        o = ch.named ? get_alert(svc, reader, 0, ch.pid, true)
                     : get_alert(svc, reader, ch.id, NULL, false);
    free(ch.causes);
    return o;
}

/* Nobody reads an alert event row as such: each reader gets the alert's view instead (the
 * stream computes it; webhooks get one payload per subscriber). */
static const struct store_acl nobody = {.owner = 0, .tlp = TLP_RED, .group = 0};

/* Inside a write transaction: the "alert" event of a change, and one delivery per webhook
 * whose owner is told of it (change_reaches) and sees the alert, carrying that owner's view
 * built from the evidence that may leave the hub (the egress gate, access/policy.h): a
 * TLP:AMBER+STRICT report is neither named in the payload nor counted in what it shows. */
static int publish_alert(struct store_txn *t, struct alert_service *svc, const struct change *ch)
{
    if (ch->was) {
        int rc = store_txn_alert_rekey(t, ch->was, ch->now);
        if (rc)
            return rc;
    }
    char pid[UUID_STRLEN + 1] = "";
    pthread_mutex_lock(&svc->mu);
    const struct fusion_alert *named = fusion_alert_get(svc->f, ch->id);
    if (named)
        alert_pid(svc, named, pid);
    pthread_mutex_unlock(&svc->mu);
    char *data = change_json(ch, pid);
    int64_t seq;
    int rc = events_publish(t, "alert", &nobody, data, &seq);
    free(data);
    if (rc)
        return rc;
    struct webhook_views wv = {0};
    struct store_reader *r = store_txn_reader(t);
    rc = store_webhooks(r, 0, collect_hook, &wv);
    for (size_t i = 0; i < wv.n && !rc; i++) {
        struct auth_principal p;
        if (auth_principal_load(r, wv.v[i].user, &p))
            continue;
        struct policy_recipient to = {&p.reader, EGRESS_WEBHOOK};
        json_t *v = NULL;
        if (change_reaches(ch, policy_egress_visible, &to)) {
            pthread_mutex_lock(&svc->mu);
            const struct fusion_alert *a = fusion_alert_get(svc->f, ch->id);
            v = a ? view_through(svc, a, policy_egress_visible, &to) : NULL;
            pthread_mutex_unlock(&svc->mu);
        }
        auth_principal_release(&p);
        if (!v)
            continue;
        char *text = vjson_dumps(v);
        json_decref(v);
        rc = store_txn_outbox_add(t, wv.v[i].id, seq, ts_now(), text);
        free(text);
    }
    for (size_t i = 0; i < wv.n; i++)
        free(wv.v[i].kinds);
    free(wv.v);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static json_t *history_json(const struct fusion_alert *a)
{
    json_t *h = json_array();
    for (size_t i = 0; i < a->nhistory; i++) {
        char at[TS_BUFSZ];
        const struct fusion_transition *t = &a->history[i];
        json_t *on = json_array(); /* the evidence then: who saw the step (fusion/alerts.h) */
        for (size_t k = 0; k < t->non; k++)
            json_array_append_new(on, json_integer(t->on[k]));
        json_array_append_new(h, json_pack("{s:s, s:s, s:s, s:s, s:o}", "from",
                                           fusion_alert_status_name(t->from), "to",
                                           fusion_alert_status_name(t->to), "who", t->who, "at",
                                           ts_format(t->at, 6, at), "evidence", on));
    }
    return h;
}

struct state_job {
    struct alert_service *svc;
    char *key, *status, *history;
    const struct auth_principal *who;
    int64_t id;                  /* the engine's number of the alert */
    char pid[UUID_STRLEN + 1];   /* its id (alerts.h) */
    size_t steps; /* the steps of the stored lifecycle the change was judged on */
};

/* The steps of the lifecycle stored for key as r sees it (0: none). */
static size_t stored_steps(struct store_reader *r, const char *key)
{
    const char *status, *history;
    if (store_alert_state(r, key, &status, &history))
        return 0;
    json_t *h = json_loads(history, 0, NULL);
    size_t n = json_array_size(h);
    json_decref(h);
    return n;
}

/* The compare-and-set of a status change: the writer's transactions are serial (on PostgreSQL
 * across front-ends too, store.h), so the lifecycle read here is the latest; when it has more
 * steps than the one the change was judged on, another change (another front-end's, or a
 * concurrent one) came first, and this one is refused with VIGIL_ECONFLICT. */
static int state_txn(struct store_txn *t, void *arg)
{
    struct state_job *j = arg;
    if (stored_steps(store_txn_reader(t), j->key) != j->steps)
        return VIGIL_ECONFLICT;
    int rc = store_txn_alert_state(t, j->key, j->status, j->history);
    char detail[96];
    snprintf(detail, sizeof detail, "{\"alert\":\"%s\",\"status\":\"%s\"}", j->pid,
             j->status);
    if (!rc)
        rc = audit_append(t, j->who->partner, j->who->user, "alert", j->pid, detail);
    struct triage_job tj = {.who = j->who, .key = j->key, .status = true};
    memcpy(tj.id, j->pid, sizeof tj.id);
    if (!rc)
        rc = triage_txn(t, &tj); /* who of the partner changed it, and when: theirs only */
    struct change all = {.id = j->id, .all = true, .key = j->key};
    if (!rc)
        rc = publish_alert(t, j->svc, &all);
    return rc;
}

static void restore_state(struct alert_service *svc, struct store_reader *r,
                          const struct fusion_alert *a);

/* Gives alert id the lifecycle stored now (another front-end may have changed it), as
 * sync_states does; *steps its steps. Called with mu held. */
static void take_stored(struct alert_service *svc, struct store_reader *r, int64_t id,
                        size_t *steps)
{
    const struct fusion_alert *a = fusion_alert_get(svc->f, id);
    *steps = 0;
    if (!a || svc->replay || !(*steps = stored_steps(r, a->key)))
        return;
    fusion_alert_status_clear(svc->f, id);
    restore_state(svc, r, a);
}

/* One try of alerts_set_status: judged on the lifecycle stored now, written if it is still
 * the one stored when the writer's turn comes. *seen: the status_version the change was
 * decided on (set to who's view's when -1). *raced: another change was stored in between (the
 * engine has the stored lifecycle back), a try again may judge on it. */
static int try_status(struct alert_service *svc, const struct auth_principal *who, int64_t id,
                      const char *status, int64_t *seen, char msg[ALERTS_MSG_SZ], bool *raced)
{
    const struct policy_reader *reader = &who->reader;
    enum fusion_alert_status to;
    *raced = false;
    if (fusion_alert_status_parse(status, &to) || to == FUSION_ALERT_NEW)
        return VIGIL_EINVAL;
    struct store_reader *r;
    int rc = store_read_begin(svc->store, &r);
    if (rc)
        return rc;
    struct state_job j = {.svc = svc, .id = id, .who = who};
    pthread_mutex_lock(&svc->mu);
    take_stored(svc, r, id, &j.steps);
    const struct fusion_alert *a = fusion_alert_get(svc->f, id);
    struct fusion_alert_view v = {0};
    rc = a && fusion_alert_view(a, policy_visible, (void *)reader, &v) ? 0 : VIGIL_ENOENT;
    if (!rc && *seen < 0)
        *seen = v.status_at;
    if (!rc && *seen != v.status_at) {
        snprintf(msg, ALERTS_MSG_SZ, "the alert's status changed since you read it (it is %s "
                 "now): read it again and decide on what it is now",
                 fusion_alert_status_name(v.status));
        rc = VIGIL_ECONFLICT;
    }
    /* judged from the status who sees, which is the only one they know of */
    if (!rc) {
        rc = fusion_alert_set_status(svc->f, id, v.status, to, who->user_name, ts_now(), NULL, 0);
        if (rc == VIGIL_ECONFLICT)
            snprintf(msg, ALERTS_MSG_SZ, "the alert's lifecycle does not allow %s from %s",
                     status, fusion_alert_status_name(v.status));
    }
    if (!rc)
        view_pid(svc, a, &v, j.pid); /* the id who sees it under */
    fusion_alert_view_release(&v);
    if (!rc) {
        json_t *h = history_json(a);
        j.history = vjson_dumps(h);
        json_decref(h);
        j.key = xstrdup(a->key);
        j.status = xstrdup(status);
    }
    pthread_mutex_unlock(&svc->mu);
    store_read_end(r);
    if (!rc)
        rc = store_write(svc->store, state_txn, &j);
    if (j.key && rc && !store_read_begin(svc->store, &r)) {
        /* not stored: the engine takes back the lifecycle stored */
        size_t steps;
        pthread_mutex_lock(&svc->mu);
        fusion_alert_status_clear(svc->f, id);
        take_stored(svc, r, id, &steps);
        pthread_mutex_unlock(&svc->mu);
        store_read_end(r);
        *raced = rc == VIGIL_ECONFLICT;
    }
    free(j.key);
    free(j.status);
    free(j.history);
    return rc;
}

int alerts_set_status(struct alert_service *svc, const struct auth_principal *who,
                      const char *pid, const char *status, int64_t seen,
                      char msg[ALERTS_MSG_SZ])
{
    pthread_mutex_lock(&svc->mu);
    /* the engine's numbers are never reused */
    int64_t id = alert_for(svc, &who->reader, pid ? pid : "");
    pthread_mutex_unlock(&svc->mu);
    if (!id)
        return VIGIL_ENOENT;
    /* A change stored in between may be one who may not see (made on evidence they may not
     * read): it must not show as a 409 (docs/FUSION.md, status). So the change is judged
     * again on the lifecycle stored now, and refused only when who's own view changed. */
    bool raced = true;
    int rc = 0;
    pthread_mutex_lock(&svc->smu);
    for (int i = 0; raced && i < 8; i++) {
        msg[0] = '\0';
        rc = try_status(svc, who, id, status, &seen, msg, &raced);
    }
    pthread_mutex_unlock(&svc->smu);
    if (raced)
        snprintf(msg, ALERTS_MSG_SZ, "the alert's status was being changed by others at the "
                 "same time: read it again and decide on what it is now");
    return rc;
}

/* Puts back the stored lifecycle of a newly (re)created alert, or of one whose lifecycle
 * was just cleared (sync_states). Called with mu held. */
static void restore_state(struct alert_service *svc, struct store_reader *r,
                          const struct fusion_alert *a)
{
    const char *status, *history;
    if (store_alert_state(r, a->key, &status, &history))
        return;
    json_t *h = json_loads(history, 0, NULL);
    size_t i;
    json_t *step;
    json_array_foreach (h, i, step) {
        enum fusion_alert_status from, to;
        vtime_t at = 0;
        const char *who = vjson_str(step, "who");
        if (fusion_alert_status_parse(vjson_str(step, "to") ? vjson_str(step, "to") : "", &to) ||
            fusion_alert_status_parse(vjson_str(step, "from") ? vjson_str(step, "from") : "",
                                      &from) ||
            !who)
            continue;
        ts_parse(vjson_str(step, "at") ? vjson_str(step, "at") : "", &at, NULL);
        /* the evidence the step was taken on (NULL, before it was kept: the alert's now) */
        json_t *on = json_object_get(step, "evidence");
        size_t non = json_array_size(on);
        int64_t *seqs = xmalloc((non + 1) * sizeof *seqs);
        for (size_t k = 0; k < non; k++)
            seqs[k] = json_integer_value(json_array_get(on, k));
        fusion_alert_set_status(svc->f, a->id, from, to, who, at, json_is_array(on) ? seqs : NULL,
                                non);
        free(seqs);
    }
    json_decref(h);
}

/* ---- agreements' handlings -------------------------------------------------------------- */

/* A zone or line that a report takes from an agreement is under that agreement's marking
 * (S3): the report in the engine points at its agreement's handling here (zone_acl,
 * line_acl), which refresh_agreements() keeps as the agreement is marked now, so that a
 * re-marked or removed agreement is followed by every view at once. */
struct agreement_acl {
    char id[80];
    struct store_acl acl;
};

/* The handling of agreement id as stored (nobody's when it is gone or unreadable: fail closed),
 * read outside mu: no lock is held while SQL runs. */
static struct store_acl agreement_acl_now(struct store_reader *r, const char *id)
{
    struct store_acl acl = nobody;
    if (id[0] && compliance_agreement_acl(r, id, &acl))
        acl = nobody;
    return acl;
}

/* The engine's handling of agreement id, or NULL when it has none yet. */
static struct store_acl *agreement_find(struct alert_service *svc, const char *id)
{
    for (size_t i = 0; i < svc->nagr; i++)
        if (strcmp(svc->agr[i]->id, id) == 0)
            return &svc->agr[i]->acl;
    return NULL;
}

/* The engine's handling of agreement id, created as `now` when new (NULL for no agreement).
 * Called with mu held. */
static const struct store_acl *agreement_acl(struct alert_service *svc, const char *id,
                                             const struct store_acl *now)
{
    if (!id[0])
        return NULL;
    struct store_acl *known = agreement_find(svc, id);
    if (known)
        return known;
    struct agreement_acl *a = xcalloc(1, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->acl = *now;
    svc->agr = xrealloc(svc->agr, (svc->nagr + 1) * sizeof *svc->agr);
    svc->agr[svc->nagr++] = a;
    return &a->acl;
}

/* Brings every agreement's handling up to date (an agreement may have been loaded again with
 * another marking). Only the feeding thread adds agreements, so the list read without mu
 * stays valid; the values change under mu. */
static void refresh_agreements(struct alert_service *svc, struct store_reader *r)
{
    for (size_t i = 0; i < svc->nagr; i++) {
        struct store_acl acl = agreement_acl_now(r, svc->agr[i]->id);
        pthread_mutex_lock(&svc->mu);
        svc->agr[i]->acl = acl;
        pthread_mutex_unlock(&svc->mu);
    }
}

static void free_agreements(struct alert_service *svc)
{
    for (size_t i = 0; i < svc->nagr; i++)
        free(svc->agr[i]);
    free(svc->agr);
}

/* ---- feeding ------------------------------------------------------------------------------ */

struct feed {
    struct alert_service *svc;
    struct store_reader *r;
    struct changed changed;
    size_t n;
    struct compliance_places *places; /* the agreements as r sees them, read at the first point */
};

/* The strings a report built from an index row points to (row_fusion). */
struct owned {
    char *zone, *id, *src;
    char side[8];
    struct compliance_place place;
};

static void owned_release(struct owned *o)
{
    free(o->zone);
    free(o->id);
    free(o->src);
}

/* What a feed holds, released once its reader ended. */
static void feed_release(struct feed *fd)
{
    changed_release(&fd->changed);
    compliance_places_free(fd->places);
    fd->places = NULL;
}

/* The report the engine takes for an index row: where it stands relative to the agreements'
 * zones and lines (places: the agreements as the caller's reader sees them, NULL when they
 * could not be read); its handlings of agreements are the caller's to set. */
static void row_fusion(const struct compliance_places *places,
                       const struct store_report_row *row, struct fusion_report *fr,
                       struct owned *o)
{
    *o = (struct owned){.place = {.zone_agreement = "", .line_agreement = ""}};
    fusion_report_of_row(row, fr);
    fr->zone = NULL; /* an agreement's zone first, else the report's own area (below) */
    fr->id = o->id = xstrdup(row->id);
    fr->source_ref = o->src = row->source_ref[0] ? xstrdup(row->source_ref) : NULL;
    struct compliance_place *place = &o->place;
    if (row->has_point && places) {
        compliance_place_in(places, row->lat, row->lon, place);
        if (!row->area[0] && place->zone[0]) {
            fr->zone = o->zone = xstrdup(place->zone);
            fr->zone_since = place->zone_effective; /* the zone's truce regime */
        } else
            place->zone_agreement[0] = '\0'; /* the report's own area, or none */
        fr->dist_to_line_m = place->dist_to_line_m;
        snprintf(o->side, sizeof o->side, "%s", place->side);
        fr->side = o->side[0] ? o->side : NULL;
    }
    if (!fr->zone && row->area[0])
        fr->zone = o->zone = xstrdup(row->area);
}

/* Adds one index row to the engine; its alert events are news unless it belongs to the
 * history rebuilt at start. */
static void feed_report(struct feed *fd, const struct store_report_row *row, bool news)
{
    struct alert_service *svc = fd->svc;
    struct fusion_report fr;
    struct owned o;
    if (row->has_point && !fd->places) /* once per reader, not once per report */
        compliance_places_get(fd->r, &fd->places);
    row_fusion(fd->places, row, &fr, &o);
    /* refresh_agreements() keeps the known ones; only a new one is read here */
    struct store_acl zone_now = nobody, line_now = nobody;
    if (o.place.zone_agreement[0] && !agreement_find(svc, o.place.zone_agreement))
        zone_now = agreement_acl_now(fd->r, o.place.zone_agreement);
    if (o.place.line_agreement[0] && !agreement_find(svc, o.place.line_agreement))
        line_now = agreement_acl_now(fd->r, o.place.line_agreement);
    struct fusion_events ev = {0};
    pthread_mutex_lock(&svc->mu);
    fr.zone_acl = agreement_acl(svc, o.place.zone_agreement, &zone_now);
    fr.line_acl = agreement_acl(svc, o.place.line_agreement, &line_now);
    int rc = fusion_add(svc->f, &fr, &ev);
    for (size_t i = 0; !rc && i < ev.n; i++) {
        if (ev.v[i].kind == FUSION_EV_CREATED && !svc->replay)
            restore_state(svc, fd->r, ev.v[i].alert);
        if (news)
            changed_add(&fd->changed, ev.v[i].alert->id, &row->acl);
    }
    pthread_mutex_unlock(&svc->mu);
    fusion_events_release(&ev);
    owned_release(&o);
    if (rc && rc != VIGIL_EEXIST)
        log_debug("alerts: report %s not fused: %s", row->id, vigil_strerror(rc));
}

static bool renewed(const struct alert_service *svc, int64_t seq)
{
    size_t lo = 0, hi = svc->nrenew;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (svc->renew[mid] == seq)
            return true;
        if (svc->renew[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int feed_one(void *ctx, const struct store_report_row *row)
{
    struct feed *fd = ctx;
    fd->svc->fed = row->seq;
    fd->n++;
    /* News: not yet accounted for by a published alert event (a report corrected since is
     * fed as it is now, so its correction is news too). */
    feed_report(fd, row, row->seq > fd->svc->history || renewed(fd->svc, row->seq));
    return 0;
}

/* A report corrected (now is its new content) or deleted (now is NULL): the engine forgets
 * what it had, and learns what there is now. One not fed yet will be, as it is now. */
static int withdraw_one(void *ctx, int64_t n, int64_t seq, const struct store_report_row *now)
{
    struct feed *fd = ctx;
    struct alert_service *svc = fd->svc;
    svc->withdrawn = n;
    fd->n++;
    if (seq > svc->fed)
        return 0;
    struct fusion_events ev = {0};
    pthread_mutex_lock(&svc->mu);
    const struct fusion_report *old = fusion_corr_get(fusion_correlator(svc->f), seq);
    struct store_acl was = old ? old->acl : nobody;
    if (fusion_withdraw(svc->f, seq, &ev) == 0)
        for (size_t i = 0; i < ev.n; i++)
            changed_add(&fd->changed, ev.v[i].alert->id, &was);
    pthread_mutex_unlock(&svc->mu);
    fusion_events_release(&ev);
    if (now)
        feed_report(fd, now, true);
    return 0;
}

struct publish_job {
    struct alert_service *svc;
    struct changed *c;
};

/* The alert events of what was fed, and the marks saying so, in one transaction: after a
 * crash the reports are news again exactly when their events were not published. */
static int publish_txn(struct store_txn *t, void *arg)
{
    struct publish_job *p = arg;
    int rc = 0;
    for (size_t i = 0; i < p->c->n && !rc; i++)
        rc = publish_alert(t, p->svc, &p->c->v[i]);
    if (!rc)
        rc = store_txn_mark_set(t, MARK_REPORTS, p->svc->fed);
    /* The rebuild at start skips the withdrawals; they are accounted for once the reports
     * they corrected have been fed again. */
    struct alert_service *svc = p->svc;
    bool renewing = svc->nrenew && svc->fed < svc->renew[svc->nrenew - 1];
    if (!rc)
        rc = store_txn_mark_set(t, MARK_WITHDRAWN, renewing ? svc->withdrawn_mark : svc->withdrawn);
    return rc;
}

/* Publishes the changes c, in one transaction. A renamed alert's old key is taken first
 * (fusion_alert_renamed), outside the transaction, which may run more than once: what is kept
 * under the old key (its lifecycle, the partners' triage) moves to the new one with it. */
static void publish(struct alert_service *svc, struct changed *c)
{
    pthread_mutex_lock(&svc->mu);
    for (size_t i = 0; i < c->n; i++) {
        struct change *ch = &c->v[i];
        ch->was = fusion_alert_renamed(svc->f, ch->id);
        if (ch->was)
            ch->now = xstrdup(fusion_alert_get(svc->f, ch->id)->key);
    }
    pthread_mutex_unlock(&svc->mu);
    struct publish_job p = {svc, c};
    svc->unpublished = store_write(svc->store, publish_txn, &p) != 0;
    if (svc->unpublished)
        log_error("alerts: cannot publish %zu alert event(s)", c->n);
}

/* The engine sees every report; what each reader gets of an alert is cut to what that
 * reader may read (view_for). */
static const struct policy_reader engine_reader = POLICY_SYSTEM("alerts");

/* ---- what the engine forgot ------------------------------------------------------------- */

/* The engine holds what its rules and detectors can still reach from the latest event time
 * (fusion.h): a report ending more than twice that reach before it is forgotten, unless an
 * alert holds it, and given back from the store when a late report (or an alarm, or a
 * withdrawal) reaches where it was. */
static vtime_t keep_of(const struct fusion *f)
{
    return 2 * fusion_reach(f);
}

struct restore {
    struct alert_service *svc;
    struct compliance_places *places; /* as in struct feed */
};

/* fusion_restore for one row of a fetch. Called with mu held, on the thread that holds
 * svc->fetch_r. */
static int restore_row(void *ctx, const struct store_report_row *row)
{
    struct restore *rs = ctx;
    struct alert_service *svc = rs->svc;
    struct fusion_report fr;
    struct owned o;
    if (row->has_point && !rs->places)
        compliance_places_get(svc->fetch_r, &rs->places);
    row_fusion(rs->places, row, &fr, &o);
    struct store_acl zone_now = nobody, line_now = nobody;
    if (o.place.zone_agreement[0] && !agreement_find(svc, o.place.zone_agreement))
        zone_now = agreement_acl_now(svc->fetch_r, o.place.zone_agreement);
    if (o.place.line_agreement[0] && !agreement_find(svc, o.place.line_agreement))
        line_now = agreement_acl_now(svc->fetch_r, o.place.line_agreement);
    fr.zone_acl = agreement_acl(svc, o.place.zone_agreement, &zone_now);
    fr.line_acl = agreement_acl(svc, o.place.line_agreement, &line_now);
    fusion_restore(svc->f, &fr);
    owned_release(&o);
    return 0;
}

/* The engine's fetch: the rows it asks for, read with the reader of the feed (or of the reload)
 * that is calling it; SQL then runs with mu held (bounded queries, for late reports only). */
static void fetch_rows(void *ctx, const struct fusion_fetch *q)
{
    struct alert_service *svc = ctx;
    if (!svc->fetch_r) {
        log_error("alerts: the engine asked for reports with no reader open");
        return;
    }
    struct store_report_window w = {
        .has_bbox = q->has_bbox,
        .unlocated = q->unlocated,
        .min_lat = q->min_lat,
        .min_lon = q->min_lon,
        .max_lat = q->max_lat,
        .max_lon = q->max_lon,
        .t0 = q->t0,
        .t1 = q->t1,
        .longest_us = q->longest_us,
        .max_seq = q->max_seq,
    };
    struct restore rs = {svc, NULL};
    if (store_reports_window(svc->fetch_r, &w, policy_visible, (void *)&engine_reader, restore_row,
                             &rs))
        log_error("alerts: cannot read back the reports a late report reaches");
    compliance_places_free(rs.places);
}

/* Opens (r) or closes (NULL) the engine's way to the store, and forgets what it can when
 * closing. */
static void engine_reader_set(struct alert_service *svc, struct store_reader *r)
{
    pthread_mutex_lock(&svc->mu);
    if (!r && svc->fetch_r && !svc->replay)
        fusion_evict(svc->f, keep_of(svc->f));
    svc->fetch_r = r;
    pthread_mutex_unlock(&svc->mu);
}

static int load_rules(const char *path, struct fusion_rules **out, char msg[256], char *tag);
static int published_marks(struct alert_service *svc, struct store_reader *r);
static bool rebuild_history(struct alert_service *svc);
static bool load_state(struct alert_service *svc);

/* This front-end takes over publishing from another (store_leads; PostgreSQL): the engine is
 * started again as at a start, from the published marks: from the state the one before saved
 * when it fits (load_state), else rebuilt from the reports; what the one before left
 * unpublished is published now (sync_reports feeds it as news) and nothing it published is
 * published again (fed as history up to the published mark). */
static void take_over(struct alert_service *svc)
{
    char msg[256], tag[64];
    struct fusion_rules *rules;
    struct fusion *f = NULL;
    struct store_reader *r;
    int64_t history = 0, withdrawn_mark = 0;
    if (svc->ready && store_read_begin(svc->store, &r) == 0) {
        int rc = store_mark_get(r, MARK_REPORTS, &history);
        if (!rc || rc == VIGIL_ENOENT)
            rc = store_mark_get(r, MARK_WITHDRAWN, &withdrawn_mark);
        store_read_end(r);
        if ((!rc || rc == VIGIL_ENOENT) && svc->fed <= history &&
            svc->withdrawn == withdrawn_mark) {
            /* The engine was fed nothing the marks do not account for (a start that came to
             * lead after its engine was whole, or a follower not ahead of the holder's last
             * publication), and handled the withdrawals the marks account for: it is the engine
             * a start would make. The reports it was not fed yet are history up to the mark,
             * as at a start; the withdrawals after the mark are news. */
            svc->history = history;
            svc->withdrawn_mark = withdrawn_mark;
            free(svc->renew);
            svc->renew = NULL;
            svc->nrenew = 0;
            svc->leading = true;
            log_info("alerts: this front-end publishes the alert events now (its engine is "
                     "current at report %lld)", (long long)svc->fed);
            return;
        }
    }
    if (load_rules(svc->rules_path, &rules, msg, tag)) {
        log_error("alerts: cannot take over publishing: %s", msg);
        return;
    }
    int rc = fusion_new(NULL, rules, &f);
    fusion_rules_unref(rules);
    if (!rc)
        fusion_set_fetch(f, fetch_rows, svc);
    if (!rc && (rc = store_read_begin(svc->store, &r)) == 0) {
        free(svc->renew);
        svc->renew = NULL;
        svc->nrenew = 0;
        svc->fed = 0;
        rc = published_marks(svc, r);
        store_read_end(r);
    }
    if (rc) {
        log_error("alerts: cannot take over publishing: %s", vigil_strerror(rc));
        fusion_free(f);
        return;
    }
    pthread_mutex_lock(&svc->mu);
    struct fusion *old = svc->f;
    svc->f = f;
    pids_reset(svc);
    memcpy(svc->tag, tag, sizeof tag); /* the rules the engine runs now */
    pthread_mutex_unlock(&svc->mu);
    fusion_free(old);
    svc->leading = true;
    svc->saved_fed = svc->saved_withdrawn = -1;
    svc->saved_at = 0;
    log_info("alerts: this front-end publishes the alert events now");
    svc->ready = false; /* as at a start; sync_reports then feeds what came since */
    svc->ready = load_state(svc) || rebuild_history(svc);
}

/* The situation keys of the status changes among events, and how far they were read. */
struct state_keys {
    char **v;
    size_t n, read;
    int64_t last;
};

static int state_key_one(void *ctx, const struct store_event *e)
{
    struct state_keys *sk = ctx;
    sk->last = e->seq;
    sk->read++;
    if (strcmp(e->kind, "alert") != 0)
        return 0;
    json_t *d = json_loads(e->data, 0, NULL);
    const char *key = json_string_value(json_object_get(d, "key"));
    if (key) {
        sk->v = xrealloc(sk->v, (sk->n + 1) * sizeof *sk->v);
        sk->v[sk->n++] = xstrdup(key);
    }
    json_decref(d);
    return 0;
}

/* Takes up the lifecycles set since the last look, by this process or another serving the
 * same store (PostgreSQL, docs/OPERATIONS.md): each status change commits its alert event
 * with the alert's situation key; every alert of that key gets the stored lifecycle in place
 * of its own, as a restart would give it. Nothing is published: the change's event was, once,
 * by the front-end that made it. One's own change comes back unchanged. */
static void sync_states(struct alert_service *svc)
{
    for (;;) {
        struct store_reader *r;
        if (store_read_begin(svc->store, &r))
            return;
        struct state_keys sk = {.last = svc->states};
        int rc = store_events(r, svc->states, BATCH, state_key_one, &sk);
        if (!rc) {
            pthread_mutex_lock(&svc->mu);
            for (size_t k = 0; k < sk.n; k++)
                for (size_t i = 0; i < fusion_alert_count(svc->f); i++) {
                    const struct fusion_alert *a = fusion_alert_at(svc->f, i);
                    const char *st, *hist;
                    if (strcmp(a->key, sk.v[k]) != 0 || store_alert_state(r, a->key, &st, &hist))
                        continue; /* unreadable: the alert keeps what it has */
                    fusion_alert_status_clear(svc->f, a->id);
                    restore_state(svc, r, a);
                }
            pthread_mutex_unlock(&svc->mu);
            svc->states = sk.last;
        }
        store_read_end(r);
        for (size_t k = 0; k < sk.n; k++)
            free(sk.v[k]);
        free(sk.v);
        if (rc || sk.read < BATCH)
            return;
    }
}

/* Feeds every report added since the last call, then the corrections and deletions. */
static void sync_reports(struct alert_service *svc)
{
    bool leads = store_leads(svc->store);
    if (leads && !svc->leading && !svc->replay)
        take_over(svc);
    else if (!leads)
        svc->leading = false;
    if (!svc->replay)
        sync_states(svc);
    for (bool added = true;;) {
        struct feed fd = {.svc = svc};
        if (store_read_begin(svc->store, &fd.r))
            return;
        engine_reader_set(svc, fd.r);
        refresh_agreements(svc, fd.r);
        if (added)
            store_reports_after(fd.r, svc->fed, BATCH, policy_visible, (void *)&engine_reader,
                                feed_one, &fd);
        else
            store_reports_withdrawn_after(fd.r, svc->withdrawn, BATCH, policy_visible,
                                          (void *)&engine_reader, withdraw_one, &fd);
        engine_reader_set(svc, NULL);
        store_read_end(fd.r);
        if (!svc->replay && svc->leading && fd.changed.n)
            publish(svc, &fd.changed);
        feed_release(&fd);
        if (fd.n < BATCH) {
            if (!added)
                return;
            added = false;
        }
    }
}

/* ---- the start -------------------------------------------------------------------------- */

struct history {
    struct feed fd;
    vtime_t start; /* the last row fed, in (start, seq) order */
    int64_t seq;
};

static int history_one(void *ctx, const struct store_report_row *row)
{
    struct history *h = ctx;
    h->fd.n++;
    h->start = row->start;
    h->seq = row->seq;
    if (!renewed(h->fd.svc, row->seq)) /* corrected since: fed as news, below */
        feed_report(&h->fd, row, false);
    return 0;
}

static int renewed_one(void *ctx, const struct store_report_row *row)
{
    struct history *h = ctx;
    if (row->seq == h->seq)
        feed_report(&h->fd, row, true);
    return 0;
}

/* Rebuilds the engine from the reports the published marks account for (nothing of them is
 * news), in event-time order: every report then comes in time, the engine forgets behind it
 * what its rules and detectors can no longer reach, and never has to take anything back, so
 * that the start holds no more than the running engine does. The alerts are those of any
 * other order (fusion.h). Then the reports corrected since the marks are fed as news; the
 * reports added since follow in store order (sync_reports). */
static bool rebuild_history(struct alert_service *svc)
{
    struct history h = {.start = INT64_MIN};
    for (;;) {
        h.fd = (struct feed){.svc = svc};
        if (store_read_begin(svc->store, &h.fd.r))
            return true;
        engine_reader_set(svc, h.fd.r);
        refresh_agreements(svc, h.fd.r);
        store_reports_by_time(h.fd.r, h.start, h.seq, svc->history, BATCH, policy_visible,
                              (void *)&engine_reader, history_one, &h);
        engine_reader_set(svc, NULL);
        store_read_end(h.fd.r);
        feed_release(&h.fd);
        pthread_mutex_lock(&svc->tmu);
        bool stopping = svc->stopping;
        pthread_mutex_unlock(&svc->tmu);
        if (stopping)
            return false; /* stopped during the start: nothing is published, nothing lost */
        if (h.fd.n < BATCH)
            break;
    }
    svc->fed = svc->history;
    h.fd = (struct feed){.svc = svc};
    if (!svc->nrenew || store_read_begin(svc->store, &h.fd.r))
        return true;
    engine_reader_set(svc, h.fd.r);
    for (size_t i = 0; i < svc->nrenew; i++) {
        if (svc->renew[i] > svc->history)
            break; /* a report added since: fed in store order */
        h.seq = svc->renew[i];
        store_reports_after(h.fd.r, h.seq - 1, 1, policy_visible, (void *)&engine_reader,
                            renewed_one, &h);
    }
    engine_reader_set(svc, NULL);
    store_read_end(h.fd.r);
    if (h.fd.changed.n)
        publish(svc, &h.fd.changed);
    feed_release(&h.fd);
    return true;
}

/* ---- the engine's saved state (restart2, issue #20; docs/FUSION.md, "A start from a saved
 * state") ----------------------------------------------------------------------------------- */

struct state_put {
    struct alert_service *svc;
    int64_t mark;
    struct buf *b;
};

/* Sets the mark name to value unless it is there already or further (a front-end that lost
 * the lead without knowing it yet never moves the marks back). */
static int mark_advance(struct store_txn *t, const char *name, int64_t value)
{
    int64_t now;
    int rc = store_mark_get(store_txn_reader(t), name, &now);
    if (rc == VIGIL_ENOENT)
        rc = 0;
    else if (!rc && now >= value)
        return 0;
    return rc ? rc : store_txn_mark_set(t, name, value);
}

/* The state, and the published marks brought up to what it was fed: every report fed was
 * published before the save (sync_reports publishes each batch's events before the next), but
 * a batch with no alert event moves no mark, and a state ahead of the marks is not loaded. */
static int state_put_txn(struct store_txn *t, void *arg)
{
    struct state_put *p = arg;
    struct alert_service *svc = p->svc;
    int rc = store_txn_service_state_put(t, STATE_NAME, p->mark, p->b->data, p->b->len);
    bool renewing = svc->nrenew && svc->fed < svc->renew[svc->nrenew - 1];
    if (svc->unpublished)
        return rc; /* the state is ahead of the marks then, and not loaded: a rebuild */
    if (!rc)
        rc = mark_advance(t, MARK_REPORTS, svc->fed);
    if (!rc)
        rc = mark_advance(t, MARK_WITHDRAWN, renewing ? svc->withdrawn_mark : svc->withdrawn);
    return rc;
}

/* Saves the engine's state with the marks of what it was fed (feeding thread): when it is whole,
 * this process publishes, something was fed since the last save, and force or a minute went. */
static void save_state(struct alert_service *svc, bool force)
{
    if (!svc->ready || !svc->leading || svc->replay ||
        (svc->fed == svc->saved_fed && svc->withdrawn == svc->saved_withdrawn) ||
        (!force && ts_now() - svc->saved_at < STATE_EVERY_US))
        return;
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    buf_add(&b, STATE_MAGIC, sizeof STATE_MAGIC);
    buf_add(&b, &svc->fed, sizeof svc->fed);
    buf_add(&b, &svc->withdrawn, sizeof svc->withdrawn);
    pthread_mutex_lock(&svc->mu);
    int rc = fusion_save(svc->f, svc->tag, &b);
    pthread_mutex_unlock(&svc->mu);
    struct state_put p = {svc, svc->fed, &b};
    if (!rc)
        rc = store_write(svc->store, state_put_txn, &p);
    if (rc)
        log_error("alerts: cannot save the engine's state: %s", vigil_strerror(rc));
    else {
        svc->saved_fed = svc->fed;
        svc->saved_withdrawn = svc->withdrawn;
        log_debug("alerts: engine state saved at report %lld (%zu bytes)", (long long)svc->fed,
                  b.len);
    }
    svc->saved_at = ts_now();
    buf_release(&b);
}

/* A held report: its event time, for the order it is given back in. */
struct held {
    vtime_t start;
    int64_t seq;
};

static int cmp_seq(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

struct held_read {
    struct held *v;
    size_t n, cap;
    struct feed *fd;
};

static int held_start(void *ctx, const struct store_report_row *row)
{
    struct held_read *h = ctx;
    if (h->n < h->cap)
        h->v[h->n++] = (struct held){row->start, row->seq};
    return 0;
}

static int held_feed(void *ctx, const struct store_report_row *row)
{
    struct held_read *h = ctx;
    h->n++;
    feed_report(h->fd, row, false);
    return 0;
}

static int cmp_held(const void *x, const void *y)
{
    const struct held *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Starts the engine from its saved state (fusion.h): true when it did, and then the reports
 * after the state's mark are fed by sync_reports as after a rebuild. False (the engine left new:
 * rebuild) when there is none or it does not fit: another format or rules, marks ahead of what
 * was published, a correction or deletion since (the state counted the report as it was), a
 * held report missing. */
static bool load_state(struct alert_service *svc)
{
    struct store_reader *r;
    if (svc->replay || store_read_begin(svc->store, &r))
        return false;
    int64_t mark, fed = 0, withdrawn = 0, head, head_withdrawn;
    void *data = NULL;
    size_t len = 0;
    const char *why = NULL;
    int rc = store_service_state(r, STATE_NAME, &mark, &data, &len);
    if (rc == 0 && store_reports_head(r, &head, &head_withdrawn))
        rc = VIGIL_ESTORE;
    const unsigned char *p = data;
    size_t hl = sizeof STATE_MAGIC + 2 * sizeof(int64_t);
    if (rc)
        why = rc == VIGIL_ENOENT ? NULL : "unreadable";
    else if (len < hl || memcmp(p, STATE_MAGIC, sizeof STATE_MAGIC) != 0)
        why = "not of this format";
    else {
        memcpy(&fed, p + sizeof STATE_MAGIC, sizeof fed);
        memcpy(&withdrawn, p + sizeof STATE_MAGIC + sizeof fed, sizeof withdrawn);
        if (fed != mark || fed > svc->history || fed > head || withdrawn > svc->withdrawn_mark)
            why = "ahead of the published marks";
        else if (withdrawn != head_withdrawn)
            why = "reports corrected or deleted since";
    }
    int64_t *seqs = NULL;
    size_t nseqs = 0;
    bool loaded = false;
    if (!rc && !why) {
        pthread_mutex_lock(&svc->mu);
        rc = fusion_load(svc->f, svc->tag, p + hl, len - hl, &seqs, &nseqs);
        pthread_mutex_unlock(&svc->mu);
        if (rc)
            why = "stale (other rules or detectors) or corrupt";
        loaded = !rc;
    }
    free(data);
    /* The held reports, given back in event order. Their seqs are read in slices of BATCH,
     * each slice one query (store_reports_by_seqs; a round trip each on PostgreSQL, where one
     * query per report made the take-over wait on thousands of them): first for their event
     * times, every one of them there; then in slices of that order, which the store gives
     * back in that order, to feed them. */
    if (nseqs) {
        qsort(seqs, nseqs, sizeof *seqs, cmp_seq);
        size_t k = 1;
        for (size_t i = 1; i < nseqs; i++)
            if (seqs[i] != seqs[k - 1])
                seqs[k++] = seqs[i];
        nseqs = k;
    }
    struct held_read h = {.v = xmalloc((nseqs + 1) * sizeof *h.v), .cap = nseqs};
    for (size_t i = 0; loaded && !why && i < nseqs; i += BATCH)
        if (store_reports_by_seqs(r, seqs + i, nseqs - i < BATCH ? nseqs - i : BATCH,
                                  policy_visible, (void *)&engine_reader, held_start, &h))
            why = "unreadable";
    if (loaded && !why && h.n != nseqs)
        why = "a report it holds is gone";
    qsort(h.v, h.n, sizeof *h.v, cmp_held);
    struct feed fd = {.svc = svc, .r = r};
    h.fd = &fd;
    if (loaded && !why) {
        pthread_mutex_lock(&svc->mu);
        svc->fetch_r = r;
        fusion_defer(svc->f, true, NULL); /* each alert refreshed once, at the end */
        pthread_mutex_unlock(&svc->mu);
        refresh_agreements(svc, r);
        for (size_t i = 0; i < h.n; i++)
            seqs[i] = h.v[i].seq; /* in event order now */
        size_t held = h.n;
        h.n = 0;
        for (size_t i = 0; i < held; i += BATCH)
            store_reports_by_seqs(r, seqs + i, held - i < BATCH ? held - i : BATCH,
                                  policy_visible, (void *)&engine_reader, held_feed, &h);
        if (h.n != held)
            why = "a report it holds is gone"; /* the engine took part of it: a new one */
        struct fusion_events ev = {0};
        pthread_mutex_lock(&svc->mu);
        fusion_load_end(svc->f, &ev);
        fusion_defer(svc->f, false, &ev);
        for (size_t i = 0; i < ev.n; i++)
            if (ev.v[i].kind == FUSION_EV_CREATED) /* its lifecycle, as after a rebuild */
                restore_state(svc, r, ev.v[i].alert);
        pthread_mutex_unlock(&svc->mu);
        fusion_events_release(&ev);
        engine_reader_set(svc, NULL); /* forgets what it may, as the rebuild does */
    }
    feed_release(&fd);
    free(h.v);
    free(seqs);
    store_read_end(r);
    if (why) {
        log_info("alerts: the engine's saved state is not used (%s): rebuilding from the reports",
                 why);
        if (loaded) { /* the engine took part of it: a new one */
            struct fusion *f = NULL;
            struct fusion_rules *rules = fusion_rules_ref(fusion_rules(svc->f));
            fusion_new(NULL, rules, &f);
            fusion_rules_unref(rules);
            fusion_set_fetch(f, fetch_rows, svc);
            pthread_mutex_lock(&svc->mu);
            struct fusion *old = svc->f;
            svc->f = f;
            pids_reset(svc);
            svc->fetch_r = NULL;
            pthread_mutex_unlock(&svc->mu);
            fusion_free(old);
            free_agreements(svc);
            svc->agr = NULL;
            svc->nagr = 0;
        }
        return false;
    }
    if (!loaded)
        return false;
    svc->fed = fed;
    svc->withdrawn = withdrawn;
    svc->saved_fed = fed; /* the store has this state already */
    svc->saved_withdrawn = withdrawn;
    svc->saved_at = ts_now();
    log_info("alerts: engine started from its saved state at report %lld (%zu reports held)",
             (long long)fed, nseqs);
    return true;
}

static void *feeder_main(void *arg)
{
    struct alert_service *svc = arg;
    bool whole = load_state(svc) || rebuild_history(svc);
    pthread_mutex_lock(&svc->tmu);
    whole = whole && !svc->stopping;
    pthread_mutex_unlock(&svc->tmu);
    if (whole) {
        sync_reports(svc); /* publishes what was not published yet */
        svc->ready = true;
        save_state(svc, false);
    }
    pthread_mutex_lock(&svc->tmu);
    while (!svc->stopping) {
        if (!svc->poked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* imports by another process show up without a poke */
            pthread_cond_timedwait(&svc->tcv, &svc->tmu, &ts);
        }
        if (svc->stopping)
            break;
        svc->poked = false;
        uint64_t gen = svc->wanted;
        pthread_mutex_unlock(&svc->tmu);
        sync_reports(svc);
        save_state(svc, false);
        pthread_mutex_lock(&svc->tmu);
        svc->done = gen;
        pthread_cond_broadcast(&svc->tcv);
    }
    pthread_mutex_unlock(&svc->tmu);
    return NULL;
}

void alerts_poke(struct alert_service *svc)
{
    if (!svc)
        return;
    pthread_mutex_lock(&svc->tmu);
    svc->poked = true;
    svc->wanted++;
    pthread_cond_broadcast(&svc->tcv);
    pthread_mutex_unlock(&svc->tmu);
}

void alerts_settle(struct alert_service *svc)
{
    pthread_mutex_lock(&svc->tmu);
    svc->poked = true;
    uint64_t gen = ++svc->wanted;
    pthread_cond_broadcast(&svc->tcv);
    while (!svc->stopping && svc->done < gen)
        pthread_cond_wait(&svc->tcv, &svc->tmu);
    pthread_mutex_unlock(&svc->tmu);
}

/* The tag of a saved engine state under the rules of text[0..len): a state is loaded only
 * under the rules it was saved with (FNV-1a of their text; the engine's defaults are
 * compiled in, so the binary's version is part of it too). */
static void rules_tag(const char *text, size_t len, char tag[64])
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * UINT64_C(0x100000001b3);
    snprintf(tag, 64, "rules %016llx %s", (unsigned long long)h, VIGIL_VERSION);
}

/* Reads the rules: the file, or the built-in defaults when it does not exist; tag (may be
 * NULL) gets their rules_tag. */
static int load_rules(const char *path, struct fusion_rules **out, char msg[256], char *tag)
{
    char m[FUSION_RULES_MSG_SZ];
    int rc;
    if (access(path, F_OK) != 0) {
        rc = fusion_rules_parse(vigil_default_rules, strlen(vigil_default_rules), out, m);
        if (!rc && tag)
            rules_tag(vigil_default_rules, strlen(vigil_default_rules), tag);
    } else {
        FILE *fp = fopen(path, "rb");
        char *data = xmalloc(FUSION_RULES_MAX_BYTES + 1);
        size_t n = fp ? fread(data, 1, FUSION_RULES_MAX_BYTES + 1, fp) : 0;
        if (!fp || ferror(fp)) {
            snprintf(m, sizeof m, "cannot read the file");
            rc = VIGIL_EIO;
        } else {
            rc = fusion_rules_parse(data, n, out, m);
        }
        if (fp)
            fclose(fp);
        if (!rc && tag)
            rules_tag(data, n, tag);
        free(data);
    }
    if (rc)
        snprintf(msg, 256, "%.60s: %.190s", path, m);
    return rc;
}

int alerts_reload(struct alert_service *svc, char msg[256])
{
    struct fusion_rules *rules;
    char tag[64];
    int rc = load_rules(svc->rules_path, &rules, msg, tag);
    if (rc)
        return rc;
    struct store_reader *r = NULL;
    if (store_read_begin(svc->store, &r)) /* the engine may ask for what it forgot */
        r = NULL;
    pthread_mutex_lock(&svc->mu);
    struct store_reader *was = svc->fetch_r;
    if (r)
        svc->fetch_r = r;
    fusion_reload(svc->f, rules);
    memcpy(svc->tag, tag, sizeof tag); /* the state saved from now on is of these rules */
    svc->fetch_r = was;
    pthread_mutex_unlock(&svc->mu);
    store_read_end(r);
    fusion_rules_unref(rules);
    log_info("alerts: rules reloaded from %s", svc->rules_path);
    return 0;
}

static int collect_renewed(void *ctx, int64_t n, int64_t seq, const struct store_report_row *now)
{
    struct alert_service *svc = ctx;
    if (!now)
        return 0; /* deleted: nothing of it is fed again */
    svc->renew = xrealloc(svc->renew, (svc->nrenew + 1) * sizeof *svc->renew);
    svc->renew[svc->nrenew++] = seq;
    return 0;
}

/* Where publishing stands at start. The engine is rebuilt from the reports as they are now
 * (no earlier correction is gone through again), and a report is news, its alert events
 * published, unless the published marks account for it: added after the reports mark, or
 * corrected after the withdrawals mark (a crash came before their events were published). */
static int published_marks(struct alert_service *svc, struct store_reader *r)
{
    int64_t head;
    int rc = store_reports_head(r, &head, &svc->withdrawn);
    if (!rc && (rc = store_mark_get(r, MARK_REPORTS, &svc->history)) == VIGIL_ENOENT)
        rc = 0;
    if (!rc && (rc = store_mark_get(r, MARK_WITHDRAWN, &svc->withdrawn_mark)) == VIGIL_ENOENT)
        rc = 0;
    if (!rc && svc->withdrawn_mark < svc->withdrawn)
        rc = store_reports_withdrawn_after(r, svc->withdrawn_mark, 0, policy_visible,
                                           (void *)&engine_reader, collect_renewed, svc);
    if (!rc && svc->nrenew)
        qsort(svc->renew, svc->nrenew, sizeof *svc->renew, cmp_seq);
    return rc;
}

int alerts_start(struct store *s, const char *rules_path, const char *id_ns,
                 struct alert_service **out, char msg[256])
{
    *out = NULL;
    struct fusion_rules *rules;
    char tag[64];
    int rc = load_rules(rules_path, &rules, msg, tag);
    if (rc)
        return rc;
    struct alert_service *svc = xcalloc(1, sizeof *svc);
    memcpy(svc->tag, tag, sizeof tag);
    snprintf(svc->ns, sizeof svc->ns, "%s", id_ns);
    svc->saved_fed = svc->saved_withdrawn = -1;
    svc->store = s;
    svc->rules_path = xstrdup(rules_path);
    svc->leading = store_leads(s); /* else the engine is rebuilt when it comes to lead */
    pthread_mutex_init(&svc->mu, NULL);
    pthread_mutex_init(&svc->smu, NULL);
    pthread_mutex_init(&svc->tmu, NULL);
    pthread_cond_init(&svc->tcv, NULL);
    rc = fusion_new(NULL, rules, &svc->f);
    fusion_rules_unref(rules);
    if (!rc)
        fusion_set_fetch(svc->f, fetch_rows, svc);
    struct store_reader *r;
    if (!rc && (rc = store_read_begin(s, &r)) == 0) {
        rc = published_marks(svc, r);
        if (!rc) /* the lifecycles stored by then come back with their alerts */
            rc = store_event_head(r, &svc->states);
        store_read_end(r);
    }
    if (!rc && pthread_create(&svc->thread, NULL, feeder_main, svc) != 0)
        rc = VIGIL_EINTERNAL;
    if (rc) {
        snprintf(msg, 256, "cannot start the alert service");
        fusion_free(svc->f);
        free(svc->renew);
        free(svc->rules_path);
        free(svc);
        return rc;
    }
    *out = svc;
    return 0;
}

void alerts_stop(struct alert_service *svc)
{
    if (!svc)
        return;
    pthread_mutex_lock(&svc->tmu);
    svc->stopping = true;
    pthread_cond_broadcast(&svc->tcv);
    pthread_mutex_unlock(&svc->tmu);
    pthread_join(svc->thread, NULL);
    save_state(svc, true); /* a clean stop: the next start reads no history */
    fusion_free(svc->f);
    pids_reset(svc);
    free_agreements(svc);
    pthread_mutex_destroy(&svc->mu);
    pthread_mutex_destroy(&svc->smu);
    pthread_mutex_destroy(&svc->tmu);
    pthread_cond_destroy(&svc->tcv);
    free(svc->renew);
    free(svc->rules_path);
    free(svc);
}

int alerts_replay(struct store *s, const char *rules_path, const int64_t *truces, size_t ntruces,
                  const struct policy_reader *reader, json_t **out, char msg[256])
{
    *out = NULL;
    struct fusion_rules *rules;
    int rc = load_rules(rules_path, &rules, msg, NULL);
    if (rc)
        return rc;
    fusion_esc_set_truces(&rules->esc, truces, ntruces);
    struct alert_service svc = {.store = s, .replay = true, .ns = PROFILE_UUID_NS};
    pthread_mutex_init(&svc.mu, NULL);
    pthread_mutex_init(&svc.tmu, NULL);
    rc = fusion_new(NULL, rules, &svc.f);
    fusion_rules_unref(rules);
    struct store_reader *r;
    int64_t head;
    if (!rc && (rc = store_read_begin(s, &r)) == 0) {
        /* the reports as they are now: no past correction to go through again */
        rc = store_reports_head(r, &head, &svc.withdrawn);
        store_read_end(r);
    }
    if (!rc) {
        fusion_defer(svc.f, true, NULL); /* each alert refreshed once, at the end */
        sync_reports(&svc);              /* a replay publishes nothing */
        fusion_defer(svc.f, false, NULL);
        struct alert_filter all = {0};
        int64_t next;
        *out = alerts_list(&svc, reader, &all, SIZE_MAX, 0, &next); /* one page: all */
    }
    fusion_free(svc.f);
    pids_reset(&svc);
    free_agreements(&svc);
    pthread_mutex_destroy(&svc.mu);
    pthread_mutex_destroy(&svc.tmu);
    return rc;
}
