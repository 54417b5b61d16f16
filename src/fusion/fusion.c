/* fusion.c - the engine facade. See fusion.h. */
#include "fusion/fusion.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"

#define M_PER_DEG (6371008.8 * M_PI / 180.0)
#define KEY_SZ 160

/* The engine's bookkeeping behind each stored report. */
struct fire {
    uint32_t gen, rule;
    int64_t alert; /* its id: the alert may have been retired since */
};

struct recx {
    uint64_t stamp; /* (add number << 9 | rule + 1) when evaluated during that add */
    struct fire *fires;
    size_t nfires;
    struct fusion_alert **in; /* alerts holding the report as evidence */
    size_t nin;
};

struct kentry {
    uint64_t h;
    char *key;
    struct fusion_alert *alert;
    uint32_t count; /* an occurrence entry's (key_occurrence) */
};

struct touched {
    struct fusion_alert *a;
    bool created;
};

struct fusion {
    struct fusion_config cfg;
    struct fusion_rules *rules;
    uint32_t gen;
    struct fusion_correlator *corr;
    struct fusion_esc *esc;
    struct fusion_alert **alerts; /* ascending id; retired ones taken out */
    size_t nalerts, aalerts;
    int64_t last_id;
    uint64_t renames; /* escalation alerts renamed (esc_rename): fusion_alert_renames */
    uint64_t days_added; /* alarm days added to escalation alerts: fusion_alert_days_added */
    struct kentry *keys;
    size_t nkeys, skeys;
    uint64_t addno;
    struct touched *touch;
    size_t ntouch, atouch;
    int64_t esc_last;      /* the latest alarm day filed (INT64_MIN: none) */
    bool deferred;         /* fusion_defer */
    struct touched *pend;  /* the alerts touched while deferred */
    size_t npend, apend;
    /* bounded memory (fusion.h) */
    vtime_t watermark; /* the latest start given (INT64_MIN: none) */
    vtime_t floor;     /* reports ending before it may have been forgotten (INT64_MIN: none) */
    int64_t maxseq;    /* the largest seq given */
    void (*fetch)(void *ctx, const struct fusion_fetch *q);
    void *fetch_ctx;
    int64_t skip_seq; /* during a withdrawal's fetch: the report withdrawn, not to restore */
    struct tomb *tombs; /* forgotten reports that escalation counted: seq -> day and zone */
    size_t ntombs, stombs;
    char **tzones; /* the zones of the tombs */
    size_t ntzones;
    size_t evicted, restored;
    /* fusion_load: the held reports are being given back (their escalation counts are the
     * loaded tracker's); what the saved engine had, applied at fusion_load_end */
    bool loading;
    vtime_t load_watermark, load_floor;
    int64_t load_maxseq;
};

/* A forgotten report that escalation counted: enough to uncount it if it is withdrawn. */
struct tomb {
    int64_t seq; /* 0: empty slot */
    int32_t day;
    int32_t zone; /* index in tzones + 1; 0: none */
};

void fusion_config_default(struct fusion_config *c)
{
    memset(c, 0, sizeof(*c));
    fusion_corr_params_default(&c->corr);
    c->max_evidence = 500;
    c->max_triggers = 100;
}

void fusion_events_release(struct fusion_events *ev)
{
    free(ev->v);
    ev->v = NULL;
    ev->n = ev->alloc = 0;
}

static vtime_t now(const struct fusion *f)
{
    return f->cfg.clock ? f->cfg.clock(f->cfg.clock_ctx) : ts_now();
}

static struct recx *X(const struct fusion_report *r)
{
    return fusion_corr_extra(r);
}

static void around(struct fusion *f, const struct fusion_report *r);
static void fetch_days(struct fusion *f, int64_t d0, int64_t d1);
static void fetch_all(struct fusion *f);
static int uncount_forgotten(struct fusion *f, int64_t seq);
static void settle(struct fusion *f, struct fusion_events *ev);

/* ---- situation keys --------------------------------------------------------------------- */

static uint64_t hash_key(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h ^ (h >> 29);
}

static struct kentry *key_slot(const struct fusion *f, const char *key, uint64_t h)
{
    for (size_t i = h & (f->skeys - 1);; i = (i + 1) & (f->skeys - 1))
        if (!f->keys[i].key || (f->keys[i].h == h && !strcmp(f->keys[i].key, key)))
            return &f->keys[i];
}

static struct fusion_alert *key_get(const struct fusion *f, const char *key)
{
    if (!f->skeys)
        return NULL;
    struct kentry *e = key_slot(f, key, hash_key(key));
    return e->key ? e->alert : NULL;
}

/* Removes key's entry if it names alert a: linear probing's backward shift. */
static void key_del(struct fusion *f, const char *key, const struct fusion_alert *a)
{
    if (!f->skeys)
        return;
    size_t mask = f->skeys - 1;
    struct kentry *e = key_slot(f, key, hash_key(key));
    if (!e->key || e->alert != a)
        return;
    free(e->key);
    size_t i = (size_t)(e - f->keys);
    for (size_t j = (i + 1) & mask; f->keys[j].key; j = (j + 1) & mask) {
        size_t home = f->keys[j].h & mask;
        bool stays = i < j ? home > i && home <= j : home > i || home <= j;
        if (!stays) {
            f->keys[i] = f->keys[j];
            i = j;
        }
    }
    memset(&f->keys[i], 0, sizeof(f->keys[i]));
    f->nkeys--;
}

static void key_put(struct fusion *f, const char *key, struct fusion_alert *a)
{
    if ((f->nkeys + 1) * 2 > f->skeys) {
        struct kentry *old = f->keys;
        size_t osize = f->skeys;
        f->skeys = osize ? osize * 2 : 64;
        f->keys = xcalloc(f->skeys, sizeof(*f->keys));
        for (size_t i = 0; i < osize; i++)
            if (old[i].key)
                *key_slot(f, old[i].key, old[i].h) = old[i];
        free(old);
    }
    uint64_t h = hash_key(key);
    struct kentry *e = key_slot(f, key, h);
    if (!e->key) {
        e->key = xstrdup(key);
        e->h = h;
        f->nkeys++;
    }
    e->alert = a;
}

/* How many alerts of situation key were raised before this one and are still there (0 for
 * the first): counted in the key table under "\1" + key, an entry that no situation is filed
 * under. An alert's key and occurrence name it (struct fusion_alert, nth), so that a restarted
 * engine, which raises the same alerts again, names them alike. */
static uint32_t key_occurrence(struct fusion *f, const char *key)
{
    char ck[KEY_SZ + 2];
    snprintf(ck, sizeof ck, "\1%s", key);
    key_put(f, ck, NULL);
    return key_slot(f, ck, hash_key(ck))->count++;
}

/* A retired alert gives back its occurrence when it is the latest of its key: the situation,
 * raised again, is named as before, as a restarted engine (which never saw the retired one)
 * would name it; the entry goes with the last. */
static void key_unoccur(struct fusion *f, const struct fusion_alert *a)
{
    char ck[KEY_SZ + 2];
    snprintf(ck, sizeof ck, "\1%s", a->key);
    struct kentry *e = f->skeys ? key_slot(f, ck, hash_key(ck)) : NULL;
    if (e && e->key && e->count == a->nth + 1 && --e->count == 0)
        key_del(f, ck, NULL); /* an occurrence entry names no alert */
}

static void rule_key(const struct fusion_rule *rule, const struct fusion_report *trig,
                     char key[KEY_SZ])
{
    int64_t bucket = trig->start / rule->key_us - (trig->start < 0 && trig->start % rule->key_us);
    if (fusion_report_located(trig)) {
        double size = rule->key_m / M_PER_DEG;
        snprintf(key, KEY_SZ, "%s/c:%lld,%lld/t:%lld", rule->name,
                 (long long)floor(trig->lat / size), (long long)floor(trig->lon / size),
                 (long long)bucket);
    } else {
        snprintf(key, KEY_SZ, "%s/z:%.64s/t:%lld", rule->name, trig->zone ? trig->zone : "",
                 (long long)bucket);
    }
}

/* ---- alerts ----------------------------------------------------------------------------- */

/* The index of the first alert whose id is id or more. */
static size_t alert_rank(const struct fusion *f, int64_t id)
{
    size_t lo = 0, hi = f->nalerts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->alerts[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct fusion_alert *alert_by_id(const struct fusion *f, int64_t id)
{
    size_t i = alert_rank(f, id);
    return i < f->nalerts && f->alerts[i]->id == id ? f->alerts[i] : NULL;
}

static struct fusion_alert *alert_push(struct fusion *f, struct fusion_alert *a)
{
    if (f->nalerts == f->aalerts) {
        f->aalerts = f->aalerts ? f->aalerts * 2 : 16;
        f->alerts = xrealloc(f->alerts, f->aalerts * sizeof(*f->alerts));
    }
    f->alerts[f->nalerts++] = a;
    return a;
}

static void touch(struct fusion *f, struct fusion_alert *a, bool created)
{
    for (size_t i = 0; i < f->ntouch; i++)
        if (f->touch[i].a == a)
            return;
    if (f->ntouch == f->atouch) {
        f->atouch = f->atouch ? f->atouch * 2 : 8;
        f->touch = xrealloc(f->touch, f->atouch * sizeof(*f->touch));
    }
    f->touch[f->ntouch].a = a;
    f->touch[f->ntouch].created = created;
    f->ntouch++;
}

static void add_evidence(struct fusion *f, struct fusion_alert *a, const struct fusion_report *r,
                         bool trigger)
{
    /* rule alerts are bounded (their views cost O(evidence^2)); escalation alerts need every
     * counted report of their days and grow by days only */
    if (a->kind == FUSION_ALERT_RULE &&
        (a->evidence.n >= f->cfg.max_evidence || (trigger && a->triggers.n >= f->cfg.max_triggers)))
        return;
    size_t held = a->evidence.n;
    bool added = trigger ? fusion_alert_add_trigger(a, r) : fusion_alert_add_evidence(a, r);
    if (!added || a->evidence.n == held) /* nothing new, or evidence become a trigger */
        return;
    struct recx *x = X(r);
    x->in = xrealloc(x->in, (x->nin + 1) * sizeof(*x->in));
    x->in[x->nin++] = a;
}

static struct fire *fire_of(const struct fusion *f, const struct fusion_report *r, size_t rule)
{
    struct recx *x = X(r);
    for (size_t i = 0; i < x->nfires; i++)
        if (x->fires[i].gen == f->gen && x->fires[i].rule == rule)
            return &x->fires[i];
    return NULL;
}

/* The open alert of rule that holds r as evidence (lowest id), or NULL. */
static struct fusion_alert *holder(const struct fusion *f, const struct fusion_report *r,
                                   const struct fusion_rule *rule, struct fusion_alert *best)
{
    struct recx *x = X(r);
    for (size_t i = 0; i < x->nin; i++) {
        struct fusion_alert *a = x->in[i];
        if (a->rule == rule && a->rules == f->rules && fusion_alert_open(a) &&
            (!best || a->id < best->id))
            best = a;
    }
    return best;
}

static struct fusion_alert *target(struct fusion *f, size_t ri, const struct fusion_report *trig,
                                   const struct fusion_rvec *sup,
                                   const struct fusion_report *const *inc, size_t ninc)
{
    const struct fusion_rule *rule = &f->rules->rule[ri];
    struct fire *fr = fire_of(f, trig, ri);
    struct fusion_alert *a = fr ? alert_by_id(f, fr->alert) : NULL;
    if (a && fusion_alert_open(a))
        return a;
    a = holder(f, trig, rule, NULL);
    for (size_t i = 0; i < sup->n; i++)
        a = holder(f, sup->v[i], rule, a);
    for (size_t i = 0; i < ninc; i++)
        a = holder(f, inc[i], rule, a);
    if (a)
        return a;
    char key[KEY_SZ];
    rule_key(rule, trig, key);
    a = key_get(f, key);
    if (a && fusion_alert_open(a) && a->rules == f->rules)
        return a;
    a = fusion_alert_new_rule(++f->last_id, key, f->rules, rule, &f->cfg.corr, now(f));
    a->nth = key_occurrence(f, key);
    alert_push(f, a);
    key_put(f, key, a);
    touch(f, a, true);
    return a;
}

/* Evaluates trig for rule ri and files a firing into its situation's alert. */
static void evaluate(struct fusion *f, size_t ri, const struct fusion_report *trig)
{
    const struct fusion_rule *rule = &f->rules->rule[ri];
    double reach = fusion_rule_reach_m(rule);
    vtime_t treach = fusion_rule_reach_us(rule);
    struct fusion_rvec pool = {0}, sup = {0};
    /* of the trigger's own partner, the FUSION_NEAR_CAP earliest per cell (docs/FUSION.md) */
    fusion_corr_near_capped(f->corr, trig, reach, trig->start - treach, trig->end + treach,
                            FUSION_NEAR_CAP, &pool);
    size_t ninc;
    const struct fusion_report *const *inc =
        fusion_incident_reports(fusion_corr_incident(trig), &ninc);
    vtime_t at;
    if (fusion_rule_eval(rule, &f->cfg.corr, trig, inc, ninc, pool.v, pool.n, &sup, &at)) {
        struct fusion_alert *a = target(f, ri, trig, &sup, inc, ninc);
        add_evidence(f, a, trig, true);
        for (size_t i = 0; i < ninc; i++)
            add_evidence(f, a, inc[i], false);
        for (size_t i = 0; i < sup.n; i++)
            add_evidence(f, a, sup.v[i], false);
        struct fire *fr = fire_of(f, trig, ri);
        if (!fr) {
            struct recx *x = X(trig);
            x->fires = xrealloc(x->fires, (x->nfires + 1) * sizeof(*x->fires));
            fr = &x->fires[x->nfires++];
            fr->gen = f->gen;
            fr->rule = (uint32_t)ri;
        }
        fr->alert = a->id;
        touch(f, a, false);
    }
    fusion_rvec_release(&pool);
    fusion_rvec_release(&sup);
}

/* Evaluates y for rule ri once per add, when `me` could change its outcome. */
static void consider(struct fusion *f, size_t ri, const struct fusion_report *y,
                     const struct fusion_report *me, bool in_incident)
{
    const struct fusion_rule *rule = &f->rules->rule[ri];
    struct recx *x = X(y);
    uint64_t stamp = f->addno << 9 | (ri + 1);
    if (x->stamp == stamp)
        return;
    if (!fusion_sel_match(&rule->match, NULL, y))
        return;
    if (y != me && !in_incident && !fusion_rule_relevant(rule, &f->cfg.corr, y, me))
        return;
    x->stamp = stamp;
    evaluate(f, ri, y);
}

static bool rule_uses_incident(const struct fusion_rule *rule)
{
    if (rule->min_confidence > 0)
        return true;
    for (size_t i = 0; i < rule->nreq; i++)
        for (size_t j = 0; j < rule->req[i].nalt; j++)
            if (rule->req[i].alt[j].kind == FUSION_ALT_SOURCES)
                return true;
    return false;
}

static void run_rules(struct fusion *f, const struct fusion_report *me)
{
    struct fusion_rvec near = {0};
    for (size_t ri = 0; ri < f->rules->n; ri++) {
        const struct fusion_rule *rule = &f->rules->rule[ri];
        consider(f, ri, me, me, true);
        near.n = 0;
        double reach = fusion_rule_reach_m(rule);
        vtime_t treach = fusion_rule_reach_us(rule);
        fusion_corr_near_capped(f->corr, me, reach, me->start - treach, me->end + treach,
                                FUSION_NEAR_CAP, &near);
        for (size_t i = 0; i < near.n; i++)
            consider(f, ri, near.v[i], me, false);
        if (rule_uses_incident(rule)) {
            size_t ninc;
            const struct fusion_report *const *inc =
                fusion_incident_reports(fusion_corr_incident(me), &ninc);
            /* evaluate() may not add reports, so the incident array stays valid */
            for (size_t i = 0; i < ninc; i++)
                consider(f, ri, inc[i], me, true);
        }
    }
    fusion_rvec_release(&near);
}

/* True when a is an open escalation alert with alarm days, of detector `name` and zone. */
static bool esc_series(const struct fusion_alert *a, const char *name, const char *zone)
{
    if (a->kind != FUSION_ALERT_ESCALATION || !fusion_alert_open(a) || !a->ndays ||
        strcmp(a->rule_name, name) != 0)
        return false;
    return (a->esc_zone == NULL) == (zone == NULL) && (!zone || strcmp(a->esc_zone, zone) == 0);
}

/* True when escalation alert a is open, of detector `name` and zone, and day lies within
 * window_days of its alarm days: the same episode. */
static bool same_episode(const struct fusion_alert *a, const char *name, const char *zone,
                         int64_t day, int window)
{
    return esc_series(a, name, zone) && day >= a->days[0] - window &&
           day <= a->days[a->ndays - 1] + window;
}

/* True when open alert b is of detector `name` and zone and some alarm day of it lies within
 * window days of one of a's: a and b are one episode. The days of each alert form one episode
 * (no gap of more than window), so that is when their spans come within window of each other,
 * on either side (the test must be symmetric: was a's first day against b's span widened by
 * a's length, which merged episodes further apart than window when the later one was the
 * longer, and so only when days came in ascending order). */
static bool episodes_touch(const struct fusion_alert *a, const struct fusion_alert *b,
                           const char *name, const char *zone, int window)
{
    return esc_series(b, name, zone) && a->days[0] <= b->days[b->ndays - 1] + window &&
           b->days[0] <= a->days[a->ndays - 1] + window;
}

static void retire(struct fusion *f, struct fusion_alert *a);
static void untouch(struct fusion *f, const struct fusion_alert *a);

/* Adds alarm day to escalation alert a, counting it (fusion_alert_days_added). */
static void add_day(struct fusion *f, struct fusion_alert *a, int64_t day)
{
    if (fusion_alert_add_day(a, day))
        a->days_at = ++f->days_added;
}

/* The open alert of an episode that alarm day `day` belongs to (the lowest id), with any other
 * alert of the same episode merged into it (days may arrive in any order, and a day can join
 * two episodes): the episodes are those of the alarm days, whatever the order. NULL if none. */
static struct fusion_alert *episode(struct fusion *f, const char *name, const char *zone,
                                    int64_t day, int window)
{
    struct fusion_alert *a = NULL;
    for (size_t i = 0; i < f->nalerts; i++)
        if (same_episode(f->alerts[i], name, zone, day, window)) {
            a = f->alerts[i];
            break;
        }
    if (!a)
        return NULL;
    for (bool merged = true; merged;) {
        merged = false;
        for (size_t i = 0; i < f->nalerts; i++) {
            struct fusion_alert *b = f->alerts[i];
            if (b == a || !episodes_touch(a, b, name, zone, window))
                continue;
            for (size_t k = 0; k < b->ndays; k++)
                add_day(f, a, b->days[k]);
            for (size_t k = 0; k < b->evidence.n; k++)
                add_evidence(f, a, b->evidence.v[k], false);
            if (b->id < a->id) { /* keep the lower id: a's content goes to b */
                struct fusion_alert *t = a;
                a = b;
                b = t;
                for (size_t k = 0; k < b->ndays; k++)
                    add_day(f, a, b->days[k]);
                for (size_t k = 0; k < b->evidence.n; k++)
                    add_evidence(f, a, b->evidence.v[k], false);
            }
            untouch(f, b); /* b goes: its news is a's */
            retire(f, b);
            merged = true;
            break;
        }
    }
    return a;
}

/* A report counted for escalation joins the evidence of the escalation alerts whose alarm days
 * depend on its day (a late or out-of-order report): their views re-run the detector on their
 * evidence, which must hold every counted report of those days, whenever it arrived. */
static void join_alarms(struct fusion *f, const struct fusion_report *me)
{
    int64_t d = fusion_esc_day(me);
    if (d > f->esc_last) /* in order: no alarm day depends on it yet */
        return;
    for (size_t i = 0; i < f->nalerts; i++) {
        struct fusion_alert *a = f->alerts[i];
        if (a->kind != FUSION_ALERT_ESCALATION || !a->ndays || !fusion_esc_counts(&a->esc, me))
            continue;
        if (a->esc_zone && (!me->zone || strcmp(a->esc_zone, me->zone) != 0))
            continue;
        int64_t reach = fusion_esc_reach(&a->esc);
        for (size_t k = 0; k < a->ndays; k++)
            if (a->days[k] >= d && a->days[k] < d + reach) {
                add_evidence(f, a, me, false);
                touch(f, a, false);
                break;
            }
    }
}

/* An escalation alert is named by its series and its first alarm day ("/d:DAY"): the same
 * name whatever the order in which its days came (a restarted engine, fed in another order,
 * names it alike). A day before the first, from a late report or a merge, renames it. */
static void esc_rename(struct fusion *f, struct fusion_alert *a)
{
    char key[KEY_SZ];
    fusion_esc_key(a->key, a->days[0], key, sizeof key);
    if (strcmp(key, a->key) == 0)
        return;
    key_unoccur(f, a);
    if (a->was)
        free(a->key);
    else
        a->was = a->key;
    a->key = xstrdup(key);
    if (strcmp(a->was, a->key) == 0) { /* back to the name it had: nothing to take */
        free(a->was);
        a->was = NULL;
    }
    a->nth = key_occurrence(f, key);
    f->renames++;
}

/* Files the alarm of detector m in zone on day into its episode's alert. */
static void esc_alarm(struct fusion *f, int m, const char *zone, int64_t day)
{
    struct fusion_esc_params q;
    fusion_esc_params_for(&f->rules->esc, m, &q);
    fusion_esc_params_zone(f->esc, zone, &q); /* an agreement's zone: its truce regime */
    const char *name = fusion_esc_name(m);
    char base[KEY_SZ / 2], key[KEY_SZ];
    snprintf(base, sizeof(base), "%s/%.64s", name, zone ? zone : "*");
    struct fusion_alert *a = episode(f, name, zone, day, q.window_days);
    if (!a) {
        snprintf(key, sizeof(key), "%s/d:%lld", base, (long long)day);
        a = fusion_alert_new_escalation(++f->last_id, key, &q, zone, now(f));
        a->nth = key_occurrence(f, key);
        alert_push(f, a);
        key_put(f, base, a);
        touch(f, a, true);
    }
    add_day(f, a, day);
    esc_rename(f, a);
    if (day > f->esc_last)
        f->esc_last = day;
    fetch_days(f, day - fusion_esc_reach(&q) + 1, day);
    struct fusion_rvec ev = {0};
    fusion_esc_reports(f->esc, zone, day - fusion_esc_reach(&q) + 1, day, &ev);
    for (size_t k = 0; k < ev.n; k++)
        add_evidence(f, a, ev.v[k], false);
    fusion_rvec_release(&ev);
    touch(f, a, false);
}

static void untouch(struct fusion *f, const struct fusion_alert *a)
{
    for (size_t k = 0; k < f->ntouch; k++)
        if (f->touch[k].a == a) {
            f->touch[k] = f->touch[--f->ntouch];
            return;
        }
}

/* Day no longer alarms for detector m in zone: it leaves its alert; an alert left without
 * days is retired, and one whose days no longer form one episode (a gap of more than
 * window_days) keeps the first and gives the later days to alerts of their own, so that the
 * alerts are the episodes of the alarm days as they are, whatever the order of arrival. */
static void esc_clear(struct fusion *f, int m, const char *zone, int64_t day)
{
    const char *name = fusion_esc_name(m);
    struct fusion_alert *a = NULL;
    for (size_t i = 0; i < f->nalerts && !a; i++) {
        struct fusion_alert *b = f->alerts[i];
        if (same_episode(b, name, zone, day, 0) && fusion_alert_remove_day(b, day))
            a = b;
    }
    if (!a)
        return;
    if (!a->ndays) {
        untouch(f, a);
        retire(f, a);
        return;
    }
    touch(f, a, false);
    esc_rename(f, a);
    int w = a->esc.window_days;
    for (size_t i = 1; i < a->ndays; i++)
        if (a->days[i] - a->days[i - 1] > w) {
            size_t n = a->ndays - i;
            int64_t *later = xmalloc(n * sizeof(*later));
            memcpy(later, &a->days[i], n * sizeof(*later));
            a->ndays = i;
            for (size_t k = 0; k < n; k++)
                esc_alarm(f, m, zone, later[k]);
            free(later);
            break;
        }
}

static void run_escalation(struct fusion *f, const struct fusion_report *me)
{
    struct fusion_esc_alarm *al = NULL;
    size_t nal = 0;
    fusion_esc_add(f->esc, me, &al, &nal);
    if (f->rules->esc.enabled)
        join_alarms(f, me);
    for (size_t i = 0; i < nal; i++) {
        if (al[i].cleared)
            esc_clear(f, al[i].measure, al[i].zone, al[i].day);
        else
            esc_alarm(f, al[i].measure, al[i].zone, al[i].day);
    }
    free(al);
}

/* ---- bounded memory -------------------------------------------------------------------- */

static double space_reach(const struct fusion *f)
{
    double m = f->cfg.corr.radius_m;
    for (size_t i = 0; i < f->rules->n; i++) {
        double r = fusion_rule_reach_m(&f->rules->rule[i]);
        m = r > m ? r : m;
    }
    return m;
}

vtime_t fusion_reach(const struct fusion *f)
{
    vtime_t rt = 0;
    for (size_t i = 0; i < f->rules->n; i++) {
        vtime_t t = fusion_rule_reach_us(&f->rules->rule[i]);
        rt = t > rt ? t : rt;
    }
    /* a report considers the triggers within a rule's reach, whose own pools reach as far
     * again; correlation adds its tolerance, and windows their length, at each step */
    vtime_t longest = fusion_corr_longest(f->corr);
    vtime_t m = 2 * rt + 2 * f->cfg.corr.tolerance_us + 2 * longest + 3600 * VTIME_US_PER_SEC;
    if (f->rules->esc.enabled) {
        vtime_t e = (fusion_esc_reach(&f->rules->esc) + f->rules->esc.lateness_days + 1) *
                    FUSION_DAY_US;
        m = e > m ? e : m;
    }
    return m;
}

static void fetch(struct fusion *f, struct fusion_fetch *q)
{
    if (!f->fetch || f->maxseq <= 0)
        return;
    q->max_seq = f->maxseq;
    q->longest_us = fusion_corr_longest(f->corr);
    f->fetch(f->fetch_ctx, q);
}

/* Gives back what a report r (late) can reach, when that reaches below the floor: the located
 * reports in the box of two steps of the largest reach, and those without a point (zones);
 * every report of the period when r itself has no point (a zone's reports may be anywhere). */
static void around(struct fusion *f, const struct fusion_report *r)
{
    vtime_t m = fusion_reach(f);
    if (r->start - m >= f->floor)
        return;
    vtime_t dur = r->end - r->start;
    struct fusion_fetch q = {.t0 = r->start - m, .t1 = r->end + m};
    if (!fusion_report_located(r)) {
        fetch(f, &q);
        return;
    }
    double half = 2 * (space_reach(f) + 2 * f->cfg.corr.max_precision_m) + 1000;
    double dlat = half / M_PER_DEG, coslat = cos((fabs(r->lat) + dlat) * M_PI / 180);
    coslat = coslat < 0.05 ? 0.05 : coslat;
    double dlon = dlat / coslat;
    q.has_bbox = true;
    q.min_lat = fmax(r->lat - dlat, -90);
    q.max_lat = fmin(r->lat + dlat, 90);
    q.min_lon = r->lon - dlon < -180 || r->lon + dlon > 180 ? -180 : r->lon - dlon;
    q.max_lon = r->lon - dlon < -180 || r->lon + dlon > 180 ? 180 : r->lon + dlon;
    fetch(f, &q);
    q.has_bbox = false;
    q.unlocated = true;
    fetch(f, &q);
    (void)dur;
}

/* Gives back every report of days [d0, d1] when they reach below the floor (an escalation
 * alarm's evidence, a day counted again). */
static void fetch_days(struct fusion *f, int64_t d0, int64_t d1)
{
    if (f->floor == INT64_MIN || d0 * FUSION_DAY_US >= f->floor)
        return;
    struct fusion_fetch q = {.t0 = d0 * FUSION_DAY_US, .t1 = (d1 + 1) * FUSION_DAY_US - 1};
    fetch(f, &q);
}

static void fetch_all(struct fusion *f)
{
    if (f->floor == INT64_MIN)
        return;
    struct fusion_fetch q = {.t0 = INT64_MIN / 4, .t1 = INT64_MAX / 4};
    fetch(f, &q);
}

static size_t tomb_home(const struct fusion *f, int64_t seq)
{
    return (size_t)((uint64_t)seq * UINT64_C(0x9e3779b97f4a7c15) >> 20) & (f->stombs - 1);
}

/* The slot of seq, or the empty one where it would go. */
static size_t tomb_slot(const struct fusion *f, int64_t seq)
{
    size_t i = tomb_home(f, seq);
    while (f->tombs[i].seq && f->tombs[i].seq != seq)
        i = (i + 1) & (f->stombs - 1);
    return i;
}

/* Files tombstone tb in the open-addressed map, growing it to stay at most half full. */
static void tomb_set(struct fusion *f, struct tomb tb)
{
    if ((f->ntombs + 1) * 2 > f->stombs) {
        struct tomb *old = f->tombs;
        size_t osize = f->stombs;
        f->stombs = osize ? osize * 2 : 1024;
        f->tombs = xcalloc(f->stombs, sizeof(*f->tombs));
        for (size_t i = 0; i < osize; i++)
            if (old[i].seq)
                f->tombs[tomb_slot(f, old[i].seq)] = old[i];
        free(old);
    }
    struct tomb *t = &f->tombs[tomb_slot(f, tb.seq)];
    if (!t->seq)
        f->ntombs++;
    *t = tb;
}

static void tomb_put(struct fusion *f, const struct fusion_report *r)
{
    int32_t zone = 0;
    for (size_t i = 0; r->zone && !zone && i < f->ntzones; i++)
        if (strcmp(f->tzones[i], r->zone) == 0)
            zone = (int32_t)i + 1;
    if (r->zone && !zone) {
        f->tzones = xrealloc(f->tzones, (f->ntzones + 1) * sizeof(*f->tzones));
        f->tzones[f->ntzones++] = xstrdup(r->zone);
        zone = (int32_t)f->ntzones;
    }
    tomb_set(f, (struct tomb){.seq = r->seq, .day = (int32_t)fusion_esc_day(r), .zone = zone});
}

/* A forgotten report is withdrawn: when escalation counted it, its day is counted again
 * from the reports of that day (given back) less it. VIGIL_ENOENT: nothing of it is held. */
static int uncount_forgotten(struct fusion *f, int64_t seq)
{
    if (!f->stombs)
        return VIGIL_ENOENT;
    size_t i = tomb_slot(f, seq);
    if (!f->tombs[i].seq)
        return VIGIL_ENOENT;
    struct tomb t = f->tombs[i];
    /* out of the map: linear probing's backward shift */
    size_t mask = f->stombs - 1;
    for (size_t j = (i + 1) & mask; f->tombs[j].seq; j = (j + 1) & mask) {
        size_t home = tomb_home(f, f->tombs[j].seq);
        bool stays = i < j ? home > i && home <= j : home > i || home <= j;
        if (!stays) {
            f->tombs[i] = f->tombs[j];
            i = j;
        }
    }
    memset(&f->tombs[i], 0, sizeof(f->tombs[i]));
    f->ntombs--;
    fetch_days(f, t.day, t.day);
    /* a stand-in of its day and zone that counts: the day is summed again from its list */
    struct fusion_report ghost = {.seq = seq, .start = t.day * FUSION_DAY_US,
                                  .end = t.day * FUSION_DAY_US,
                                  .zone = t.zone ? f->tzones[t.zone - 1] : NULL};
    snprintf(ghost.event, sizeof(ghost.event), "%s", f->rules->esc.events[0]);
    fusion_esc_remove(f->esc, &ghost);
    return VIGIL_ENOENT;
}

void fusion_set_fetch(struct fusion *f, void (*fn)(void *ctx, const struct fusion_fetch *q),
                      void *ctx)
{
    f->fetch = fn;
    f->fetch_ctx = ctx;
}

int fusion_restore(struct fusion *f, const struct fusion_report *r)
{
    if (r->seq > f->maxseq || r->seq == f->skip_seq || fusion_corr_get(f->corr, r->seq))
        return VIGIL_EEXIST;
    const struct fusion_report *me;
    int rc = fusion_corr_add(f->corr, r, sizeof(struct recx), &me);
    if (rc)
        return rc;
    fusion_esc_restore(f->esc, me);
    f->restored++;
    return 0;
}

/* True when escalation counted r (either detector). */
static bool counted(const struct fusion *f, const struct fusion_report *r)
{
    struct fusion_esc_params q;
    for (int m = 0; f->rules->esc.enabled && m < FUSION_ESC_MEASURES; m++) {
        fusion_esc_params_for(&f->rules->esc, m, &q);
        if (fusion_esc_counts(&q, r)) /* by a detector that may be off: a tombstone more */
            return true;
    }
    return false;
}

/* True when nothing but the indexes refers to r: no alert holds it, it never fired. */
static bool loose(const struct fusion_report *r)
{
    const struct recx *x = X(r);
    return !x->nin && !x->nfires;
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;
    return (x > y) - (x < y);
}

size_t fusion_evict(struct fusion *f, vtime_t keep_us)
{
    if (!f->fetch || f->watermark == INT64_MIN)
        return 0;
    vtime_t m = fusion_reach(f);
    vtime_t before = f->watermark - (keep_us > m ? keep_us : m);
    /* the incidents whose every report ends before `before` and is loose */
    const struct fusion_incident **incs = NULL;
    size_t n = 0, a = 0, it = 0;
    for (const struct fusion_report *r; (r = fusion_corr_next(f->corr, &it));) {
        if (r->end >= before || !loose(r))
            continue;
        if (n == a) {
            a = a ? 2 * a : 256;
            incs = xrealloc(incs, a * sizeof(*incs));
        }
        incs[n++] = fusion_corr_incident(r);
    }
    if (n)
        qsort(incs, n, sizeof(*incs), ptr_cmp);
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && incs[i] == incs[i - 1])
            continue;
        size_t k;
        const struct fusion_report *const *mem = fusion_incident_reports(incs[i], &k);
        bool all = true;
        for (size_t j = 0; j < k && all; j++)
            all = mem[j]->end < before && loose(mem[j]);
        if (!all)
            continue;
        for (size_t j = 0; j < k; j++) {
            struct recx *x = X(mem[j]);
            free(x->fires);
            free(x->in);
            if (counted(f, mem[j]))
                tomb_put(f, mem[j]);
            fusion_esc_forget(f->esc, mem[j]);
        }
        gone += k;
        fusion_corr_forget(f->corr, incs[i]);
    }
    free(incs);
    if (before > f->floor)
        f->floor = before;
    f->evicted += gone;
    return gone;
}

void fusion_evict_stats(const struct fusion *f, size_t *evicted, size_t *restored)
{
    *evicted = f->evicted;
    *restored = f->restored;
}

/* ---- the facade ------------------------------------------------------------------------- */

int fusion_new(const struct fusion_config *cfg, struct fusion_rules *rules, struct fusion **out)
{
    if (!rules)
        return VIGIL_EINVAL;
    struct fusion *f = xcalloc(1, sizeof(*f));
    if (cfg)
        f->cfg = *cfg;
    else
        fusion_config_default(&f->cfg);
    if (!f->cfg.max_evidence)
        f->cfg.max_evidence = 500;
    if (!f->cfg.max_triggers)
        f->cfg.max_triggers = 100;
    f->rules = fusion_rules_ref(rules);
    f->gen = 1;
    f->esc_last = INT64_MIN;
    f->watermark = f->floor = INT64_MIN;
    f->corr = fusion_corr_new(&f->cfg.corr);
    f->esc = fusion_esc_new(&rules->esc);
    *out = f;
    return 0;
}

void fusion_free(struct fusion *f)
{
    if (!f)
        return;
    size_t it = 0;
    for (const struct fusion_report *r; (r = fusion_corr_next(f->corr, &it));) {
        struct recx *x = X(r);
        free(x->fires);
        free(x->in);
    }
    for (size_t i = 0; i < f->nalerts; i++)
        fusion_alert_free(f->alerts[i]);
    free(f->alerts);
    for (size_t i = 0; i < f->skeys; i++)
        free(f->keys[i].key);
    free(f->keys);
    free(f->touch);
    free(f->pend);
    free(f->tombs);
    for (size_t i = 0; i < f->ntzones; i++)
        free(f->tzones[i]);
    free(f->tzones);
    fusion_esc_free(f->esc);
    fusion_corr_free(f->corr);
    fusion_rules_unref(f->rules);
    free(f);
}

static void event_push(struct fusion_events *ev, enum fusion_event_kind kind,
                       const struct fusion_alert *a)
{
    if (ev->n == ev->alloc) {
        ev->alloc = ev->alloc ? ev->alloc * 2 : 4;
        ev->v = xrealloc(ev->v, ev->alloc * sizeof(*ev->v));
    }
    ev->v[ev->n].kind = kind;
    ev->v[ev->n].alert = a;
    ev->n++;
}

int fusion_add(struct fusion *f, const struct fusion_report *r, struct fusion_events *ev)
{
    const struct fusion_report *me;
    if (f->floor != INT64_MIN && !fusion_report_check(r) && !fusion_corr_get(f->corr, r->seq)) {
        f->skip_seq = r->seq; /* the store may have it already: it is being added */
        around(f, r);
        f->skip_seq = 0;
    }
    int rc = fusion_corr_add(f->corr, r, sizeof(struct recx), &me);
    if (rc)
        return rc;
    if (me->start > f->watermark)
        f->watermark = me->start;
    if (me->seq > f->maxseq)
        f->maxseq = me->seq;
    f->addno++;
    f->ntouch = 0;
    run_rules(f, me);
    if (f->loading)
        fusion_esc_restore(f->esc, me); /* counted already: the loaded tracker's */
    else
        run_escalation(f, me);
    settle(f, ev);
    return 0;
}

/* The alerts touched by one call: pending while deferred, else refreshed with their events. */
static void settle(struct fusion *f, struct fusion_events *ev)
{
    if (f->deferred) {
        for (size_t i = 0; i < f->ntouch; i++) {
            struct fusion_alert *a = f->touch[i].a;
            if (a->pending)
                continue;
            a->pending = true;
            if (f->npend == f->apend) {
                f->apend = f->apend ? 2 * f->apend : 64;
                f->pend = xrealloc(f->pend, f->apend * sizeof(*f->pend));
            }
            f->pend[f->npend++] = f->touch[i];
        }
        return;
    }
    vtime_t t = now(f);
    for (size_t i = 0; i < f->ntouch; i++) {
        struct fusion_alert *a = f->touch[i].a;
        bool changed = fusion_alert_refresh(a, t);
        if (!changed && !f->touch[i].created)
            continue;
        if (ev)
            event_push(ev, f->touch[i].created ? FUSION_EV_CREATED : FUSION_EV_UPDATED, a);
    }
}

/* True when what was withdrawn from alert a leaves nothing that could make it exist: a rule
 * alert without triggers, an escalation alert without counted reports. */
static bool spent(const struct fusion_alert *a)
{
    return a->kind == FUSION_ALERT_RULE ? a->triggers.n == 0 : a->evidence.n == 0;
}

/* Frees a spent alert: its evidence forgets it, its situation key too, and its id is not given
 * again (fusion_alert_get answers NULL), as for an alert never raised. */
static void retire(struct fusion *f, struct fusion_alert *a)
{
    for (size_t i = 0; a->pending && i < f->npend; i++)
        if (f->pend[i].a == a) {
            memmove(&f->pend[i], &f->pend[i + 1], (f->npend - i - 1) * sizeof(*f->pend));
            f->npend--;
            break;
        }
    for (size_t i = 0; i < a->evidence.n; i++) {
        struct recx *x = X(a->evidence.v[i]);
        for (size_t k = 0; k < x->nin; k++)
            if (x->in[k] == a) {
                x->in[k] = x->in[--x->nin];
                break;
            }
    }
    const char *day = strrchr(a->key, '/');
    if (a->kind == FUSION_ALERT_RULE || !day) {
        key_del(f, a->key, a);
    } else { /* filed under its zone's key, without the "/d:DAY" */
        char base[KEY_SZ];
        snprintf(base, sizeof(base), "%.*s", (int)(day - a->key), a->key);
        key_del(f, base, a);
    }
    key_unoccur(f, a);
    size_t i = alert_rank(f, a->id);
    memmove(&f->alerts[i], &f->alerts[i + 1], (f->nalerts - i - 1) * sizeof(*f->alerts));
    f->nalerts--;
    fusion_alert_free(a);
}

void fusion_defer(struct fusion *f, bool on, struct fusion_events *ev)
{
    f->deferred = on;
    if (on)
        return;
    vtime_t t = now(f);
    for (size_t i = 0; i < f->npend; i++) {
        struct fusion_alert *a = f->pend[i].a;
        a->pending = false;
        bool changed = fusion_alert_refresh(a, t);
        if (ev && (changed || f->pend[i].created))
            event_push(ev, f->pend[i].created ? FUSION_EV_CREATED : FUSION_EV_UPDATED, a);
    }
    f->npend = 0;
}

int fusion_withdraw(struct fusion *f, int64_t seq, struct fusion_events *ev)
{
    const struct fusion_report *me = fusion_corr_get(f->corr, seq);
    if (f->floor != INT64_MIN) {
        f->skip_seq = seq; /* what the store has under seq now is its correction */
        if (!me) {
            int rc = uncount_forgotten(f, seq);
            f->skip_seq = 0;
            return rc;
        }
        around(f, me);
        int64_t d = fusion_esc_day(me);
        fetch_days(f, d, d); /* its day is counted again from what is left */
        f->skip_seq = 0;
    }
    int rc = fusion_corr_withdraw(f->corr, seq, &me);
    if (rc)
        return rc;
    fusion_esc_remove(f->esc, me);
    struct recx *x = X(me);
    vtime_t t = now(f);
    for (size_t i = 0; i < x->nin; i++) {
        struct fusion_alert *a = x->in[i];
        if (!fusion_alert_remove(a, me, t))
            continue;
        if (spent(a))
            retire(f, a);
        else if (fusion_alert_refresh(a, t))
            event_push(ev, FUSION_EV_UPDATED, a);
    }
    free(x->in);
    free(x->fires);
    fusion_corr_recycle(f->corr, me);
    return 0;
}

void fusion_reload(struct fusion *f, struct fusion_rules *rules)
{
    struct fusion_rules *old = f->rules;
    f->rules = fusion_rules_ref(rules);
    f->gen++;
    if (memcmp(&old->esc, &rules->esc, sizeof(rules->esc)) != 0) {
        fetch_all(f); /* the detector is rebuilt from every report */
        fusion_esc_free(f->esc);
        f->esc = fusion_esc_new(&rules->esc);
        size_t it = 0;
        for (const struct fusion_report *r; (r = fusion_corr_next(f->corr, &it));) {
            struct fusion_esc_alarm *al = NULL;
            size_t nal = 0;
            fusion_esc_add(f->esc, r, &al, &nal);
            free(al);
        }
    }
    fusion_rules_unref(old);
}

struct fusion_rules *fusion_rules(const struct fusion *f)
{
    return f->rules;
}

int fusion_replay(const struct fusion *live, const struct fusion_report *reps, size_t n,
                  struct fusion **out, size_t *skipped)
{
    struct fusion *f;
    int rc = fusion_new(&live->cfg, live->rules, &f);
    if (rc)
        return rc;
    size_t skip = 0;
    struct fusion_events ev = {0};
    fusion_defer(f, true, NULL);
    for (size_t i = 0; i < n; i++) {
        ev.n = 0;
        if (fusion_add(f, &reps[i], &ev))
            skip++;
    }
    fusion_defer(f, false, NULL);
    fusion_events_release(&ev);
    if (skipped)
        *skipped = skip;
    *out = f;
    return 0;
}

size_t fusion_alert_count(const struct fusion *f)
{
    return f->nalerts;
}

uint64_t fusion_alert_renames(const struct fusion *f)
{
    return f->renames;
}

uint64_t fusion_alert_days_added(const struct fusion *f)
{
    return f->days_added;
}

bool fusion_esc_key(const char *key, int64_t day, char *out, size_t n)
{
    const char *d = strrchr(key, '/');
    int len = snprintf(out, n, "%.*s/d:%lld", d ? (int)(d - key) : 0, key, (long long)day);
    return len >= 0 && (size_t)len < n;
}

char *fusion_alert_renamed(struct fusion *f, int64_t id)
{
    struct fusion_alert *a = (struct fusion_alert *)(uintptr_t)fusion_alert_get(f, id);
    char *was = a ? a->was : NULL;
    if (a)
        a->was = NULL;
    return was;
}

const struct fusion_alert *fusion_alert_at(const struct fusion *f, size_t i)
{
    return i < f->nalerts ? f->alerts[i] : NULL;
}

const struct fusion_alert *fusion_alert_get(const struct fusion *f, int64_t id)
{
    return alert_by_id(f, id);
}

size_t fusion_alert_rank(const struct fusion *f, int64_t id)
{
    return alert_rank(f, id);
}

int fusion_alert_set_status(struct fusion *f, int64_t id, enum fusion_alert_status seen,
                            enum fusion_alert_status to, const char *who, vtime_t at,
                            const int64_t *on, size_t non)
{
    struct fusion_alert *a = (struct fusion_alert *)(uintptr_t)fusion_alert_get(f, id);
    if (!a)
        return VIGIL_ENOENT;
    return fusion_alert_transition(a, seen, to, who, at, on, non);
}

int fusion_alert_status_clear(struct fusion *f, int64_t id)
{
    struct fusion_alert *a = (struct fusion_alert *)(uintptr_t)fusion_alert_get(f, id);
    if (!a)
        return VIGIL_ENOENT;
    for (size_t i = 0; i < a->nhistory; i++) {
        free(a->history[i].who);
        free(a->history[i].on);
    }
    free(a->history);
    a->history = NULL;
    a->nhistory = 0;
    a->status = FUSION_ALERT_NEW;
    return 0;
}

const struct fusion_correlator *fusion_correlator(const struct fusion *f)
{
    return f->corr;
}

size_t fusion_memory(const struct fusion *f)
{
    size_t b = sizeof(*f) + fusion_corr_memory(f->corr) + fusion_esc_memory(f->esc) +
               f->aalerts * sizeof(*f->alerts) + f->skeys * sizeof(*f->keys) +
               f->atouch * sizeof(*f->touch);
    for (size_t i = 0; i < f->skeys; i++)
        if (f->keys[i].key)
            b += strlen(f->keys[i].key) + 1;
    for (size_t i = 0; i < f->nalerts; i++)
        b += fusion_alert_memory(f->alerts[i]);
    b += f->stombs * sizeof(*f->tombs) + f->ntzones * sizeof(*f->tzones);
    for (size_t i = 0; i < f->ntzones; i++)
        b += strlen(f->tzones[i]) + 1;
    size_t it = 0;
    for (const struct fusion_report *r; (r = fusion_corr_next(f->corr, &it));) {
        const struct recx *x = X(r);
        b += x->nfires * sizeof(*x->fires) + x->nin * sizeof(*x->in);
    }
    return b;
}

/* ---- the engine's state, saved and loaded (restart2: issue #20, a start without history) --- */

#define STATE_MAGIC "vigil-fusion-state/1"

static void put(struct buf *b, const void *p, size_t n)
{
    buf_add(b, p, n);
}

int fusion_save(const struct fusion *f, const char *tag, struct buf *out)
{
    if (f->loading || f->deferred)
        return VIGIL_EINVAL;
    uint32_t tl = (uint32_t)strlen(tag);
    put(out, STATE_MAGIC, sizeof(STATE_MAGIC));
    put(out, &tl, sizeof(tl));
    put(out, tag, tl);
    put(out, &f->watermark, sizeof(f->watermark));
    put(out, &f->floor, sizeof(f->floor));
    put(out, &f->maxseq, sizeof(f->maxseq));
    uint64_t n = fusion_corr_count(f->corr);
    put(out, &n, sizeof(n));
    size_t it = 0;
    for (const struct fusion_report *r; (r = fusion_corr_next(f->corr, &it));)
        put(out, &r->seq, sizeof(r->seq));
    uint64_t nz = f->ntzones;
    put(out, &nz, sizeof(nz));
    for (size_t i = 0; i < f->ntzones; i++) {
        uint32_t zl = (uint32_t)strlen(f->tzones[i]);
        put(out, &zl, sizeof(zl));
        put(out, f->tzones[i], zl);
    }
    uint64_t nt = f->ntombs;
    put(out, &nt, sizeof(nt));
    for (size_t i = 0; i < f->stombs; i++)
        if (f->tombs[i].seq)
            put(out, &f->tombs[i], sizeof(f->tombs[i]));
    struct buf e;
    buf_init(&e, BUF_NOCAP);
    fusion_esc_save(f->esc, &e);
    uint64_t el = e.len;
    put(out, &el, sizeof(el));
    put(out, e.data, e.len);
    buf_release(&e);
    return out->len < out->cap ? 0 : VIGIL_ETOOBIG;
}

struct sreader {
    const unsigned char *p;
    size_t left;
    bool bad;
};

static const void *take(struct sreader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static void get(struct sreader *r, void *to, size_t n)
{
    const void *p = take(r, n);
    if (p)
        memcpy(to, p, n);
    else
        memset(to, 0, n);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int fusion_load(struct fusion *f, const char *tag, const void *data, size_t len, int64_t **seqs,
                size_t *nseqs)
{
    *seqs = NULL;
    *nseqs = 0;
    if (f->loading || f->maxseq || f->nalerts || fusion_corr_count(f->corr) || f->ntombs)
        return VIGIL_EINVAL;
    struct sreader r = {data, len, false};
    char magic[sizeof(STATE_MAGIC)];
    uint32_t tl;
    get(&r, magic, sizeof(magic));
    get(&r, &tl, sizeof(tl));
    const char *t = take(&r, tl);
    if (r.bad || memcmp(magic, STATE_MAGIC, sizeof(magic)) != 0 || tl != strlen(tag) ||
        memcmp(t, tag, tl) != 0)
        return VIGIL_EINVAL; /* another format, or saved under other rules: stale */
    vtime_t wm, fl;
    int64_t ms;
    uint64_t n, nz, nt, el;
    get(&r, &wm, sizeof(wm));
    get(&r, &fl, sizeof(fl));
    get(&r, &ms, sizeof(ms));
    get(&r, &n, sizeof(n));
    if (r.bad || n > r.left / sizeof(int64_t) || ms < 0)
        return VIGIL_EINVAL;
    int64_t *v = xmalloc((size_t)n * sizeof(*v) + 1);
    get(&r, v, (size_t)n * sizeof(*v));
    get(&r, &nz, sizeof(nz));
    char **zones = NULL;
    size_t nzones = 0;
    bool ok = !r.bad && nz <= r.left;
    if (ok)
        zones = xcalloc((size_t)nz + 1, sizeof(*zones));
    for (; ok && nzones < nz; nzones++) {
        uint32_t zl;
        get(&r, &zl, sizeof(zl));
        const char *z = take(&r, zl);
        ok = z && zl && !memchr(z, '\0', zl);
        if (ok) {
            zones[nzones] = xmalloc((size_t)zl + 1);
            memcpy(zones[nzones], z, zl);
            zones[nzones][zl] = '\0';
        }
    }
    get(&r, &nt, sizeof(nt));
    ok = ok && !r.bad && nt <= r.left / sizeof(struct tomb);
    const struct tomb *tombs = ok ? take(&r, (size_t)nt * sizeof(struct tomb)) : NULL;
    get(&r, &el, sizeof(el));
    const void *esc = ok && !r.bad && el == r.left ? take(&r, (size_t)el) : NULL;
    for (size_t i = 0; ok && i < n; i++) /* ascending, distinct, given ones */
        ok = v[i] > 0 && v[i] <= ms;
    if (ok && n) {
        qsort(v, (size_t)n, sizeof(*v), cmp_i64);
        for (size_t i = 1; ok && i < n; i++)
            ok = v[i] != v[i - 1];
    }
    for (size_t i = 0; ok && i < nt; i++) {
        struct tomb tb;
        memcpy(&tb, (const char *)tombs + i * sizeof(tb), sizeof(tb));
        ok = tb.seq > 0 && tb.seq <= ms && tb.zone >= 0 && (uint64_t)tb.zone <= nz;
    }
    ok = ok && esc && fusion_esc_load(f->esc, esc, (size_t)el) == 0;
    if (!ok) {
        for (size_t i = 0; i < nzones; i++)
            free(zones[i]);
        free(zones);
        free(v);
        return VIGIL_EINVAL;
    }
    f->tzones = zones;
    f->ntzones = nzones;
    for (size_t i = 0; i < nt; i++) {
        struct tomb tb;
        memcpy(&tb, (const char *)tombs + i * sizeof(tb), sizeof(tb));
        tomb_set(f, tb);
    }
    f->loading = true;
    f->load_watermark = wm;
    f->load_floor = fl;
    f->load_maxseq = ms;
    *seqs = v;
    *nseqs = (size_t)n;
    return 0;
}

static void file_alarm(void *ctx, int measure, const char *zone, int64_t day)
{
    esc_alarm(ctx, measure, zone, day);
}

void fusion_load_end(struct fusion *f, struct fusion_events *ev)
{
    if (!f->loading)
        return;
    f->ntouch = 0;
    if (f->rules->esc.enabled)
        fusion_esc_alarm_days(f->esc, file_alarm, f);
    f->loading = false;
    if (f->load_watermark > f->watermark)
        f->watermark = f->load_watermark;
    if (f->load_maxseq > f->maxseq)
        f->maxseq = f->load_maxseq;
    f->floor = f->load_floor;
    settle(f, ev);
}
