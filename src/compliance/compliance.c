/* compliance.c - agreements in the store, candidate violations, the workflow, visibility. */
#include "compliance/compliance.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/audit.h"
#include "access/events.h"
#include "access/handling.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "compliance/compliance_int.h"
#include "stix/stix.h"

/* ---- the agreement cache --------------------------------------------------------------- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmp_set *cache; /* guarded by cache_lock */

static int add_key(void *ctx, const struct store_agreement *a)
{
    return buf_addf(ctx, "%" PRId64 ":%s:%" PRId64 ":%d:%" PRId64 ";", a->seq, a->digest,
                    a->acl.owner, a->acl.tlp, a->acl.group);
}

static int add_entry(void *ctx, const struct store_agreement *sa)
{
    struct cmp_set *set = ctx;
    char msg[CMP_MSG_SZ];
    set->v = xrealloc(set->v, (set->n + 1) * sizeof *set->v);
    struct cmp_entry *e = &set->v[set->n];
    if (cmp_agreement_parse_text(sa->doc, strlen(sa->doc), &e->a, NULL, msg)) {
        log_error("compliance: stored agreement %s does not parse: %s", sa->id, msg);
        return 0;
    }
    e->acl = sa->acl;
    e->loaded = sa->loaded;
    set->n++;
    return 0;
}

static void set_free(struct cmp_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        cmp_agreement_release(&set->v[i].a);
    free(set->v);
    free(set->key);
    free(set);
}

void cmp_set_put(struct cmp_set *set)
{
    if (!set)
        return;
    pthread_mutex_lock(&cache_lock);
    bool last = --set->refs == 0;
    pthread_mutex_unlock(&cache_lock);
    if (last)
        set_free(set);
}

int cmp_set_get(struct store_reader *r, struct cmp_set **out)
{
    *out = NULL;
    struct buf key;
    buf_init(&key, BUF_NOCAP);
    int rc = store_agreements(r, false, add_key, &key);
    if (rc) {
        buf_release(&key);
        return rc;
    }
    pthread_mutex_lock(&cache_lock);
    if (cache && strcmp(cache->key, key.data) == 0) {
        cache->refs++;
        *out = cache;
        pthread_mutex_unlock(&cache_lock);
        buf_release(&key);
        return 0;
    }
    pthread_mutex_unlock(&cache_lock);
    struct cmp_set *set = xcalloc(1, sizeof *set);
    set->key = buf_detach(&key, NULL);
    set->refs = 1;
    rc = store_agreements(r, true, add_entry, set);
    if (rc) {
        set_free(set);
        return rc;
    }
    pthread_mutex_lock(&cache_lock);
    struct cmp_set *old = cache;
    cache = set;
    set->refs++; /* the cache's reference */
    bool free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&cache_lock);
    if (free_old)
        set_free(old);
    *out = set;
    return 0;
}

const struct cmp_entry *cmp_set_find(const struct cmp_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->v[i].a.id, id) == 0)
            return &set->v[i];
    return NULL;
}

const struct cmp_zone *cmp_entry_zone(const struct cmp_entry *e, const char *zone_id)
{
    for (size_t i = 0; e && i < e->a.nzones; i++)
        if (strcmp(e->a.zones[i].id, zone_id) == 0)
            return &e->a.zones[i];
    return NULL;
}

/* ---- visibility ------------------------------------------------------------------------ */

struct report_now {
    int64_t owner;
    bool found;
    struct store_acl acl;
};

/* Compliance evaluation reads the report index as the hub; what it derives is cut to each
 * reader's view (cmp_visible). */
static const struct policy_reader evaluator = POLICY_SYSTEM("compliance");

static int match_owner(void *ctx, const struct store_report *rep)
{
    struct report_now *n = ctx;
    if (rep->acl.owner != n->owner)
        return 0;
    n->found = true;
    n->acl = rep->acl;
    return 1;
}

/* The handling of partner owner's report id as the report index holds it now; false when that
 * report is not indexed (deleted, or not a report). The index, not a copy taken when the
 * evidence was added, so that a correction or a deletion is followed at once. */
static bool report_acl_now(struct store_reader *r, const char *id, int64_t owner,
                           struct store_acl *acl)
{
    struct report_now n = {.owner = owner};
    if (store_report_get(r, id, policy_visible, (void *)&evaluator, match_owner, &n) < 0)
        return false;
    *acl = n.acl;
    return n.found;
}

bool cmp_visible(struct store_reader *r, const struct cmp_set *set,
                 const struct policy_reader *reader, const struct store_violation *v)
{
    const struct cmp_entry *e = cmp_set_find(set, v->agreement);
    if (!e || !policy_can_read(reader, &e->acl))
        return false;
    if (v->withdrawn) /* kept: the audience its report had until it was withdrawn */
        return policy_can_read(reader, &v->kept);
    struct store_acl acl;
    return report_acl_now(r, v->report, v->report_owner, &acl) && policy_can_read(reader, &acl);
}

/* Flagged for re-review: its report was withdrawn and no reviewer has moved it since. */
static bool needs_review(const struct store_violation *v)
{
    return v->withdrawn && v->updated <= v->withdrawn;
}

/* ---- resources ------------------------------------------------------------------------- */

static json_t *ts_json(vtime_t t)
{
    char ts[TS_BUFSZ];
    return json_string(ts_format(t, t % 1000 ? 6 : 3, ts));
}

struct ev_list {
    struct store_reader *r;
    const struct policy_reader *reader;
    const struct store_violation *v;
    json_t *ids;
    enum tlp_level marking; /* the strictest marking of what is listed */
};

/* Lists one piece of evidence when the reader may read the report as it is now (the trigger
 * report is readable: cmp_visible said so). Evidence the reader may not read is left out of
 * what they see, and nothing else changes because of it. */
static int add_evidence_id(void *ctx, const struct store_evidence *e)
{
    struct ev_list *l = ctx;
    /* The trigger report is readable (cmp_visible said so), unless it was withdrawn: then it
     * is listed only to those who may read what is left of it now (nothing, once deleted). */
    bool trigger = !l->v->withdrawn && strcmp(e->report, l->v->report) == 0 &&
                   e->acl.owner == l->v->report_owner;
    struct store_acl acl;
    bool now = report_acl_now(l->r, e->report, e->acl.owner, &acl);
    if (trigger || (now && (!l->reader || policy_can_read(l->reader, &acl)))) {
        json_array_append_new(l->ids, json_string(e->report));
        l->marking = tlp_stricter(l->marking, (enum tlp_level)(now ? acl.tlp : e->acl.tlp));
    }
    return 0;
}

static int add_step(void *ctx, const struct store_violation_step *s)
{
    json_t *st = json_pack("{s:s?, s:s, s:o, s:s, s:s}", "from", s->from[0] ? s->from : NULL, "to",
                           s->to, "at", ts_json(s->time), "by",
                           s->user_name[0] ? s->user_name : "vigil", "reason", s->reason);
    if (strcmp(s->from, s->to) == 0)
        json_object_set_new(st, "note", json_true());
    json_array_append_new(ctx, st);
    return 0;
}

static int add_opinion(void *ctx, const struct store_opinion *o)
{
    json_t *v = json_loads(o->json, 0, NULL);
    if (v)
        json_array_append_new(ctx, v);
    return 0;
}

json_t *cmp_violation_json(struct store_reader *r, const struct cmp_set *set,
                           const struct policy_reader *reader, const struct store_violation *v,
                           bool full)
{
    const struct cmp_entry *e = cmp_set_find(set, v->agreement);
    const struct cmp_zone *z = cmp_entry_zone(e, v->zone);
    json_t *o = json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s}", "id", v->id, "agreement", "id",
        v->agreement, "name", e ? e->a.name : "", "zone", "id", v->zone, "name", z ? z->name : "",
        "kind", z ? cmp_zone_kind_name(z->kind) : "", "party", v->party, "event", v->event);
    if (v->mode[0])
        json_object_set_new(o, "mode", json_string(v->mode));
    json_object_set_new(o, "time", ts_json(v->time));
    json_object_set_new(o, "location",
                        v->has_point ? json_pack("{s:f, s:f}", "lat", v->lat, "lon", v->lon)
                                     : json_pack("{s:s}", "area", v->area));
    json_object_set_new(o, "status", json_string(v->status));
    json_object_set_new(o, "report", json_string(v->report));
    struct ev_list l = {r, reader, v, json_array(), e ? (enum tlp_level)e->acl.tlp : TLP_CLEAR};
    struct store_acl trig;
    if (v->withdrawn)
        l.marking = tlp_stricter(l.marking, (enum tlp_level)v->kept.tlp);
    else if (report_acl_now(r, v->report, v->report_owner, &trig))
        l.marking = tlp_stricter(l.marking, (enum tlp_level)trig.tlp);
    store_evidence(r, v->seq, add_evidence_id, &l);
    json_object_set_new(o, "evidence", l.ids);
    /* The strictest marking of what it is made from, as this reader sees it: its agreement,
     * the report it was found in and the evidence listed (a product that shows it carries at
     * least this marking: the daily report's banner). */
    json_object_set_new(o, "marking", json_string(tlp_name(l.marking)));
    json_t *detail = json_loads(v->detail, 0, NULL);
    static const char *const lifted[][2] = {{"timing", "certain"}, {"attribution", "actor"}};
    for (size_t i = 0; detail && i < 2; i++) {
        const char *x = json_string_value(json_object_get(detail, lifted[i][0]));
        json_object_set_new(o, lifted[i][0], json_string(x ? x : lifted[i][1]));
        json_object_del(detail, lifted[i][0]);
    }
    if (detail)
        json_object_set_new(o, "term", detail);
    json_object_set_new(o, "created", ts_json(v->created));
    json_object_set_new(o, "updated", ts_json(v->updated));
    json_object_set_new(o, "withdrawn", v->withdrawn ? ts_json(v->withdrawn) : json_null());
    json_object_set_new(o, "needs_review", json_boolean(needs_review(v)));
    if (full) {
        json_t *h = json_array(), *op = json_array();
        store_violation_steps(r, v->seq, add_step, h);
        store_opinions(r, v->seq, add_opinion, op);
        json_object_set_new(o, "history", h);
        json_object_set_new(o, "opinions", op);
    }
    return o;
}

json_t *compliance_violation_get(struct store_reader *r, const struct policy_reader *reader,
                                 const char *id)
{
    struct cmp_set *set;
    if (cmp_set_get(r, &set))
        return NULL;
    struct store_violation v;
    json_t *out = NULL;
    if (store_violation_get(r, id, &v) == 0 && cmp_visible(r, set, reader, &v))
        out = cmp_violation_json(r, set, reader, &v, true);
    cmp_set_put(set);
    return out;
}

/* Copies of the fields of a violation that outlive the statement that read it. */
struct list_ctx {
    struct store_reader *r;
    const struct cmp_set *set;
    const struct policy_reader *reader;
    const struct compliance_filter *f;
    json_t *out;
};

/* A zone filter names a zone by id, or by name (ignoring case). Tested on violations the
 * reader sees, whose agreement they may read: a zone name of an agreement they may not read
 * never changes the answer. */
static bool zone_matches(const struct cmp_set *set, const struct store_violation *v,
                         const char *zone)
{
    if (strcmp(v->zone, zone) == 0)
        return true;
    const struct cmp_zone *z = cmp_entry_zone(cmp_set_find(set, v->agreement), v->zone);
    return z && strcasecmp(z->name, zone) == 0;
}

static int list_one(void *ctx, const struct store_violation *v)
{
    struct list_ctx *c = ctx;
    if (!cmp_visible(c->r, c->set, c->reader, v))
        return 0;
    if (c->f->zone && !zone_matches(c->set, v, c->f->zone))
        return 0;
    if (c->f->needs_review && !needs_review(v))
        return 0;
    json_array_append_new(c->out, cmp_violation_json(c->r, c->set, c->reader, v, false));
    return 0;
}

int compliance_violations_list(struct store_reader *r, const struct policy_reader *reader,
                               const struct compliance_filter *f, json_t **out)
{
    struct cmp_set *set;
    *out = NULL;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    struct store_violation_query q = {
        .since = f->since,
        .until = f->until,
        .status = f->status,
        .party = f->party,
    };
    struct list_ctx c = {r, set, reader, f, json_array()};
    rc = store_violations_query(r, &q, list_one, &c);
    cmp_set_put(set);
    if (rc)
        json_decref(c.out);
    else
        *out = c.out;
    return rc;
}

int compliance_agreements_list(struct store_reader *r, const struct policy_reader *reader,
                               json_t **out)
{
    struct cmp_set *set;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < set->n; i++) {
        const struct cmp_entry *e = &set->v[i];
        if (!policy_can_read(reader, &e->acl))
            continue;
        const struct cmp_agreement *a = &e->a;
        json_t *zones = json_array(), *parties = json_array(), *phases = json_array();
        for (size_t j = 0; j < a->nzones; j++)
            json_array_append_new(zones, json_pack("{s:s, s:s, s:s, s:f, s:O}", "id",
                                                   a->zones[j].id, "name", a->zones[j].name, "kind",
                                                   cmp_zone_kind_name(a->zones[j].kind),
                                                   "distance_m", a->zones[j].distance_m, "geometry",
                                                   a->zones[j].geometry));
        for (size_t j = 0; j < a->nparties; j++) {
            json_t *al = json_array();
            for (size_t k = 0; k < a->parties[j].naliases; k++)
                json_array_append_new(al, json_string(a->parties[j].aliases[k]));
            json_array_append_new(parties,
                                  json_pack("{s:s, s:s, s:o}", "name", a->parties[j].name,
                                            "identity", a->parties[j].identity, "aliases", al));
        }
        for (size_t j = 0; j < a->nphases; j++)
            json_array_append_new(phases, json_pack("{s:s, s:o, s:o}", "name", a->phases[j].name,
                                                    "start", ts_json(a->phases[j].start),
                                                    "deadline", ts_json(a->phases[j].deadline)));
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "id", a->id, "name",
                              a->name, "effective", ts_json(a->effective), "ends",
                              a->ends == CMP_TIME_OPEN ? json_null() : ts_json(a->ends), "marking",
                              tlp_name((enum tlp_level)e->acl.tlp), "loaded", ts_json(e->loaded),
                              "parties", parties, "phases", phases, "zones", zones);
        if (a->description)
            json_object_set_new(o, "description", json_string(a->description));
        json_array_append_new(arr, o);
    }
    cmp_set_put(set);
    *out = arr;
    return 0;
}

/* ---- evaluation ------------------------------------------------------------------------ */

struct existing {
    int64_t seq;
    char *id, *status, *agreement, *zone, *party, *detail;
    vtime_t created, withdrawn;
    bool seen;
};

struct eval_ctx {
    struct store_txn *t;
    const char *report_id;
    const struct store_acl *acl;
    const struct event_report *r;
    const struct cmp_agreement *a;
    struct existing *ex;
    size_t nex;
    vtime_t now;
    const struct compliance_by *by;
};

static int collect_existing(void *ctx, const struct store_violation *v)
{
    struct eval_ctx *c = ctx;
    c->ex = xrealloc(c->ex, (c->nex + 1) * sizeof *c->ex);
    c->ex[c->nex++] = (struct existing){
        .seq = v->seq,
        .id = xstrdup(v->id),
        .status = xstrdup(v->status),
        .agreement = xstrdup(v->agreement),
        .zone = xstrdup(v->zone),
        .party = xstrdup(v->party),
        .detail = xstrdup(v->detail),
        .created = v->created,
        .withdrawn = v->withdrawn,
    };
    return 0;
}

static void existing_free(struct eval_ctx *c)
{
    for (size_t i = 0; i < c->nex; i++) {
        free(c->ex[i].id);
        free(c->ex[i].status);
        free(c->ex[i].agreement);
        free(c->ex[i].zone);
        free(c->ex[i].party);
        free(c->ex[i].detail);
    }
    free(c->ex);
}

/* A violation's evidence row of its trigger report (the handling that report had as last
 * indexed), and whether other evidence supports the violation. */
struct trigger_row {
    const char *report;
    int64_t owner;
    bool found;
    struct store_acl acl;
    size_t others;
};

static int find_trigger(void *ctx, const struct store_evidence *e)
{
    struct trigger_row *tr = ctx;
    if (strcmp(e->report, tr->report) == 0 && e->acl.owner == tr->owner) {
        tr->found = true;
        tr->acl = e->acl;
    } else {
        tr->others++;
    }
    return 0;
}

/* Nobody reads a violation event as such: each stream reader gets the violation as they may
 * see it when the event is sent, or nothing (server/stream.c). */
static const struct store_acl nobody = {.owner = 0, .tlp = TLP_RED, .group = 0};

/* Adds step s to the history of violation seq (id) and tells the live stream of it: a
 * "violation" event naming it and its status (SPEC S5: violation status changes). */
static int step_add(struct store_txn *t, int64_t seq, const char *id,
                    const struct store_violation_step *s)
{
    int rc = store_txn_violation_step_add(t, seq, s);
    if (rc)
        return rc;
    json_t *d = json_pack("{s:s, s:s}", "id", id, "status", s->to);
    char *text = vjson_dumps(d);
    json_decref(d);
    rc = events_publish(t, "violation", &nobody, text, NULL);
    free(text);
    return rc;
}

/* Keeps violation seq (status `status`) although its report was withdrawn (`how`: deleted or
 * restricted) by partner owner (by: who, when known): it keeps its record, under the
 * handling `kept` the report had until now, flagged for re-review, with a history note. */
static int keep_withdrawn(struct store_txn *t, int64_t seq, const char *id, const char *status,
                          const char *report_id, const struct store_acl *kept, const char *how,
                          int64_t owner, const struct compliance_by *by, vtime_t now)
{
    int rc = store_txn_violation_withdraw(t, seq, now, kept);
    char *why = xasprintf("evidence withdrawn: the report it was found in (%s) was %s by its"
                          " partner; the violation is kept as it was recorded, under the"
                          " handling the report had (marking %s), for re-review",
                          report_id, how, tlp_name((enum tlp_level)kept->tlp));
    struct store_violation_step s = {
        .time = now,
        .partner = owner,
        .user = by ? by->user : 0,
        .user_name = by && by->name && by->name[0] ? by->name : "(the report's partner)",
        .from = status,
        .to = status,
        .reason = why,
    };
    rc = rc ? rc : step_add(t, seq, id, &s);
    free(why);
    return rc;
}

static json_t *act_json(const struct cmp_act *act)
{
    json_t *o = json_pack("{s:s}", "event", plover_event_name(act->event));
    if (act->nmodes) {
        json_t *m = json_array();
        for (size_t i = 0; i < act->nmodes; i++)
            json_array_append_new(m, json_string(act->modes[i]));
        json_object_set_new(o, "modes", m);
    }
    return o;
}

static int on_match(void *ctx, const struct cmp_match *m)
{
    struct eval_ctx *c = ctx;
    const struct cmp_agreement *a = c->a;
    const char *party = a->parties[m->party].name;
    char *key = xasprintf("violation:%s|%s|%s|%s|%" PRId64, a->id, m->zone->id, party, c->report_id,
                          c->acl->owner);
    char uuid[37], id[64];
    profile_uuid5(PROFILE_UUID_NS, key, strlen(key), uuid);
    free(key);
    snprintf(id, sizeof id, "x-vigil-violation--%s", uuid);
    for (size_t i = 0; i < c->nex; i++) {
        if (c->ex[i].withdrawn && strcmp(c->ex[i].id, id) == 0) {
            c->ex[i].seen = true; /* kept as verified: the report no longer speaks for it */
            return 0;
        }
    }
    char ts[TS_BUFSZ];
    json_t *detail =
        json_pack("{s:o, s:o, s:o}", "prohibited", act_json(m->act), "from",
                  json_string(ts_format(m->term->from, 3, ts)), "until",
                  m->term->until == CMP_TIME_OPEN ? json_null()
                                                  : json_string(ts_format(m->term->until, 3, ts)));
    /* docs/COMPLIANCE.md, "Attribution and timing": shown and counted apart by tally.c */
    json_object_set_new(detail, "timing", json_string(m->uncertain ? "uncertain" : "certain"));
    json_object_set_new(detail, "attribution", json_string(m->exchange ? "exchange" : "actor"));
    char *dtext = vjson_dumps(detail);
    json_decref(detail);
    struct store_violation v = {
        .id = id,
        .agreement = a->id,
        .zone = m->zone->id,
        .party = party,
        .report = c->report_id,
        .report_owner = c->acl->owner,
        .event = plover_event_name(c->r->event),
        .mode = c->r->mode ? c->r->mode : "",
        .time = m->time,
        .has_point = c->r->has_point,
        .lat = c->r->lat,
        .lon = c->r->lon,
        .area = c->r->area ? c->r->area : "",
        .status = "reported",
        .created = c->now,
        .updated = c->now,
        .detail = dtext,
    };
    int64_t seq;
    bool created;
    int rc = store_txn_violation_put(c->t, &v, &seq, &created);
    free(dtext);
    for (size_t i = 0; i < c->nex; i++)
        if (c->ex[i].seq == seq)
            c->ex[i].seen = true;
    if (rc || !created)
        return rc;
    struct store_evidence e = {.report = c->report_id, .acl = *c->acl, .added = c->now};
    rc = store_txn_evidence_add(c->t, seq, &e);
    if (rc)
        return rc;
    char *why = xasprintf("candidate: %s by %s in %s (%s) of %s", plover_event_name(c->r->event),
                          party, m->zone->name, cmp_zone_kind_name(m->zone->kind), a->name);
    struct store_violation_step s = {.time = c->now, .to = "reported", .reason = why};
    rc = step_add(c->t, seq, id, &s);
    free(why);
    return rc;
}

/* fresh: report_id was never stored before, so nothing refers to it yet (no evidence rows, no
 * violations) and the two look-ups are skipped. */
static int evaluate(struct store_txn *t, const char *report_id, const struct store_acl *acl,
                    const struct event_report *r, bool fresh, const struct compliance_by *by)
{
    struct store_reader *rd = store_txn_reader(t);
    struct eval_ctx c = {
        .t = t, .report_id = report_id, .acl = acl, .r = r, .now = ts_now(), .by = by};
    struct store_violation_query q = {.report = report_id, .report_owner = acl->owner};
    int rc = fresh ? 0 : store_violations_query(rd, &q, collect_existing, &c);
    /* A correction that restricts the report withdraws it from some of its readers: what
     * the coordination center took up is kept as it was verified, under the handling the
     * report had until now (its trigger evidence row, before it takes the new handling). */
    for (size_t i = 0; !rc && i < c.nex; i++) {
        struct existing *x = &c.ex[i];
        struct trigger_row tr = {.report = report_id, .owner = acl->owner};
        if (x->withdrawn || strcmp(x->status, "reported") == 0)
            continue;
        rc = store_evidence(rd, x->seq, find_trigger, &tr);
        if (rc || !tr.found || policy_audience_kept(&tr.acl, acl))
            continue;
        rc = keep_withdrawn(t, x->seq, x->id, x->status, report_id, &tr.acl, "restricted",
                            acl->owner, by, c.now);
        x->withdrawn = c.now;
    }
    rc = rc || fresh ? rc : store_txn_evidence_set_acl(t, report_id, acl);
    struct cmp_set *set = NULL;
    if (!rc)
        rc = cmp_set_get(rd, &set);
    for (size_t i = 0; !rc && i < set->n; i++) {
        c.a = &set->v[i].a;
        int n = cmp_agreement_match(c.a, r, on_match, &c);
        rc = n < 0 ? n : 0;
    }
    /* What the corrected report no longer shows: a candidate goes; one the coordination
     * center has taken up keeps its status and history for the analyst, with a note, but
     * shows what the report says now (its time, place and act), never the old content. */
    for (size_t i = 0; !rc && i < c.nex; i++) {
        const struct existing *x = &c.ex[i];
        if (x->seen || x->withdrawn)
            continue;
        if (strcmp(x->status, "reported") == 0) {
            rc = store_txn_violation_delete(t, x->seq);
            continue;
        }
        struct store_violation v = {
            .id = x->id,
            .agreement = x->agreement,
            .zone = x->zone,
            .party = x->party,
            .report = report_id,
            .report_owner = acl->owner,
            .event = plover_event_name(r->event),
            .mode = r->mode ? r->mode : "",
            .time = r->start,
            .has_point = r->has_point,
            .lat = r->lat,
            .lon = r->lon,
            .area = r->area ? r->area : "",
            .status = x->status,
            .created = x->created,
            .updated = c.now,
            .detail = x->detail,
        };
        int64_t seq;
        bool created;
        rc = store_txn_violation_put(t, &v, &seq, &created);
        struct store_violation_step s = {
            .time = c.now,
            .from = x->status,
            .to = x->status,
            .reason = "the report was corrected and no longer shows this violation",
        };
        rc = rc ? rc : step_add(t, x->seq, x->id, &s);
    }
    existing_free(&c);
    cmp_set_put(set);
    return rc;
}

int compliance_evaluate(struct store_txn *t, const char *report_id, const struct store_acl *acl,
                        const struct event_report *r)
{
    return evaluate(t, report_id, acl, r, false, NULL);
}

int compliance_evaluate_by(struct store_txn *t, const char *report_id, const struct store_acl *acl,
                           const struct event_report *r, const struct compliance_by *by)
{
    return evaluate(t, report_id, acl, r, false, by);
}

int compliance_evaluate_new(struct store_txn *t, const char *report_id,
                            const struct store_acl *acl, const struct event_report *r)
{
    return evaluate(t, report_id, acl, r, true, NULL);
}

int compliance_report_deleted(struct store_txn *t, const char *report_id, int64_t owner,
                              const struct compliance_by *by)
{
    struct store_reader *rd = store_txn_reader(t);
    struct store_acl acl;
    if (report_acl_now(rd, report_id, owner, &acl))
        return 0; /* versions of it remain: the index holds what it says now */
    struct eval_ctx c = {.t = t};
    struct store_violation_query q = {.report = report_id, .report_owner = owner};
    int rc = store_violations_query(rd, &q, collect_existing, &c);
    vtime_t now = ts_now();
    for (size_t i = 0; !rc && i < c.nex; i++) {
        const struct existing *x = &c.ex[i];
        if (x->withdrawn)
            continue; /* kept already; it loses the evidence row below */
        struct trigger_row tr = {.report = report_id, .owner = owner};
        rc = store_evidence(rd, x->seq, find_trigger, &tr);
        if (rc)
            break;
        /* An unreviewed candidate whose only evidence this was goes with it; what the
         * coordination center took up, or what other evidence still supports, stays. */
        if (strcmp(x->status, "reported") == 0 && !tr.others) {
            rc = store_txn_violation_delete(t, x->seq);
            continue;
        }
        if (!tr.found) /* no handling on record: keep it for the report's owner only */
            tr.acl = (struct store_acl){.owner = owner, .tlp = TLP_RED};
        rc = keep_withdrawn(t, x->seq, x->id, x->status, report_id, &tr.acl,
                            by && by->how ? by->how : "deleted", owner, by, now);
    }
    existing_free(&c);
    return rc ? rc : store_txn_evidence_remove(t, report_id, owner);
}

/* ---- loading --------------------------------------------------------------------------- */

struct compliance_actor compliance_actor_of(const struct auth_principal *p,
                                            const char *identity_id)
{
    return (struct compliance_actor){
        .partner = p->partner,
        .user = p->user,
        .user_name = p->user_name,
        .role = p->role,
        .coordinator = p->coordinator,
        .default_tlp = p->default_tlp,
        .identity_id = identity_id,
        .reader = &p->reader,
    };
}

bool compliance_can_review(const struct compliance_actor *who)
{
    return who->coordinator &&
           (strcmp(who->role, "admin") == 0 || strcmp(who->role, "analyst") == 0);
}

/* Reports already stored, re-read to evaluate them against a new agreement. */
struct backlog {
    struct bl_item {
        char *id;
        struct store_acl acl;
        char *doc;
    } * v;
    size_t n;
};

static int collect_report(void *ctx, const struct store_report *rep)
{
    struct backlog *b = ctx;
    b->v = xrealloc(b->v, (b->n + 1) * sizeof *b->v);
    b->v[b->n++] = (struct bl_item){xstrdup(rep->id), rep->acl, xstrdup(rep->doc)};
    return 0;
}

/* Evaluates one indexed report document (the REST form, with id/partner/marking). */
static int evaluate_doc(struct store_txn *t, const struct bl_item *it)
{
    json_t *doc = json_loads(it->doc, 0, NULL);
    if (!doc)
        return 0;
    static const char *const extra[] = {"id", "partner", "marking", "group"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        json_object_del(doc, extra[i]);
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    int rc = report_from_json(doc, &r, msg);
    json_decref(doc);
    if (rc)
        return 0; /* not a report this version understands: nothing to evaluate */
    rc = compliance_evaluate(t, it->id, &it->acl, &r);
    report_release(&r);
    return rc;
}

static char *digest_hex(const char *text)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    char *hex = xmalloc(2 * sizeof h + 1);
    sodium_bin2hex(hex, 2 * sizeof h + 1, h, sizeof h);
    return hex;
}

int compliance_load(struct store_txn *t, const struct compliance_actor *who, const char *text,
                    size_t len, char id[80], char msg[CMP_MSG_SZ])
{
    id[0] = '\0';
    if (!compliance_can_review(who)) {
        snprintf(msg, CMP_MSG_SZ,
                 "only admins and analysts of the coordination center load"
                 " agreements");
        return VIGIL_EPERM;
    }
    struct cmp_agreement a;
    json_t *doc;
    int rc = cmp_agreement_parse_text(text, len, &a, &doc, msg);
    if (rc)
        return rc;
    struct store_reader *rd = store_txn_reader(t);
    struct store_acl acl;
    const char *gm = NULL;
    char hmsg[HANDLING_MSG_SZ];
    rc = handling_from_names(rd, a.marking ? a.marking : "green", a.group, who->default_tlp,
                             who->partner, who->user, &acl, &gm, hmsg);
    if (rc) {
        snprintf(msg, CMP_MSG_SZ, "%s: %s", a.group ? "group" : "marking", hmsg);
        goto out;
    }
    json_t *refs = json_pack("[s]", tlp_marking_id((enum tlp_level)acl.tlp));
    if (gm)
        json_array_append_new(refs, json_string(gm));
    struct store_collection coll;
    rc = store_collection_find(rd, "compliance", &coll);
    json_t *objs = rc ? NULL : cmp_agreement_to_stix(&a, ts_now(), who->identity_id, refs);
    json_decref(refs);
    for (size_t i = 0; !rc && i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        struct stix_common sc;
        char smsg[STIX_MSG_SZ];
        if (stix_validate(o, &sc, smsg)) {
            snprintf(msg, CMP_MSG_SZ, "cannot publish the agreement over STIX: %s", smsg);
            rc = VIGIL_EINVAL;
            break;
        }
        char *json = vjson_dumps(o);
        bool extdef = strcmp(sc.type, "extension-definition") == 0;
        struct store_object_in in = {
            .id = sc.id,
            .type = sc.type,
            .spec_version = sc.spec_version,
            .version = sc.has_modified ? sc.modified : sc.created,
            .acl = extdef ? (struct store_acl){.owner = who->partner, .tlp = TLP_CLEAR} : acl,
            .json = json,
            .json_len = strlen(json),
        };
        enum store_put_outcome outcome;
        vtime_t added;
        rc = store_txn_object_put(t, coll.id, &in, &outcome, &added);
        if (rc == VIGIL_EPERM && extdef)
            rc = 0; /* published already, by another partner's load */
        else if (rc == VIGIL_EPERM)
            snprintf(msg, CMP_MSG_SZ, "%s belongs to another partner", sc.id);
        free(json);
    }
    json_decref(objs);
    if (rc)
        goto out;
    char *text_doc = vjson_dumps(doc);
    char *digest = digest_hex(text_doc);
    struct store_agreement sa = {
        .id = a.id,
        .name = a.name,
        .digest = digest,
        .acl = acl,
        .loaded = ts_now(),
        .loaded_by = who->user,
        .doc = text_doc,
    };
    rc = store_txn_agreement_put(t, &sa);
    free(text_doc);
    free(digest);
    if (!rc) {
        char *detail = xasprintf("{\"agreement\":\"%s\"}", a.id);
        rc = audit_append(t, who->partner, who->user, "write", a.id, detail);
        free(detail);
    }
    /* Reports stored before the agreement was loaded. */
    struct backlog b = {0};
    struct store_report_query q = {
        .since = a.effective,
        .until = a.ends == CMP_TIME_OPEN ? 0 : a.ends,
        .future = 0,
        .visible = policy_visible, /* evaluation sees every report; readers see less */
        .visible_ctx = (void *)&evaluator,
    };
    bool more;
    if (!rc)
        rc = store_reports_query(rd, &q, collect_report, &b, &more);
    for (size_t i = 0; i < b.n; i++) {
        if (!rc)
            rc = evaluate_doc(t, &b.v[i]);
        free(b.v[i].id);
        free(b.v[i].doc);
    }
    free(b.v);
    if (!rc)
        snprintf(id, 80, "%s", a.id);
    else if (!msg[0])
        snprintf(msg, CMP_MSG_SZ, "the store refused the agreement (%s)", vigil_strerror(rc));
out:
    json_decref(doc);
    cmp_agreement_release(&a);
    return rc;
}

/* ---- the workflow ---------------------------------------------------------------------- */

static const char *const statuses[] = {"reported", "under_review", "confirmed", "not_confirmed",
                                       "disputed"};

bool compliance_status_valid(const char *status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (strcmp(statuses[i], status) == 0)
            return true;
    return false;
}

bool compliance_transition_allowed(const char *from, const char *to)
{
    static const char *const edges[][2] = {
        {"reported", "under_review"},      {"under_review", "confirmed"},
        {"under_review", "not_confirmed"}, {"under_review", "disputed"},
        {"disputed", "under_review"},
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (strcmp(edges[i][0], from) == 0 && strcmp(edges[i][1], to) == 0)
            return true;
    return false;
}

/* Finds violation id for who inside t: VIGIL_ENOENT when it does not exist for them. The
 * caller releases *set. Copies seq and status. */
static int find_for(struct store_txn *t, const struct compliance_actor *who, const char *id,
                    struct cmp_set **set, int64_t *seq, char status[32], bool *review)
{
    struct store_reader *rd = store_txn_reader(t);
    int rc = cmp_set_get(rd, set);
    if (rc)
        return rc;
    struct store_violation v;
    rc = store_violation_get(rd, id, &v);
    if (!rc && !cmp_visible(rd, *set, who->reader, &v))
        rc = VIGIL_ENOENT;
    if (!rc) {
        *seq = v.seq;
        snprintf(status, 32, "%s", v.status);
        if (review)
            *review = needs_review(&v);
    }
    return rc;
}

/* The violation as who sees it after a change. */
static json_t *reload(struct store_txn *t, const struct cmp_set *set,
                      const struct compliance_actor *who, const char *id)
{
    struct store_reader *rd = store_txn_reader(t);
    struct store_violation v;
    if (store_violation_get(rd, id, &v))
        return NULL;
    return cmp_violation_json(rd, set, who->reader, &v, true);
}

static int audit_violation(struct store_txn *t, const struct compliance_actor *who, const char *id,
                           const char *what, const char *value)
{
    json_t *d = json_pack("{s:s}", what, value);
    char *detail = vjson_dumps(d);
    json_decref(d);
    int rc = audit_append(t, who->partner, who->user, "write", id, detail);
    free(detail);
    return rc;
}

int compliance_transition(struct store_txn *t, const struct compliance_actor *who, const char *id,
                          const char *to, const char *reason, json_t **out, char msg[CMP_MSG_SZ])
{
    *out = NULL;
    struct cmp_set *set = NULL;
    int64_t seq;
    char from[32];
    bool review = false;
    int rc = find_for(t, who, id, &set, &seq, from, &review);
    if (rc)
        goto out;
    if (!compliance_can_review(who)) {
        snprintf(msg, CMP_MSG_SZ,
                 "only analysts and admins of the coordination center review"
                 " violations");
        rc = VIGIL_EPERM;
    } else if (!to || !compliance_status_valid(to)) {
        snprintf(msg, CMP_MSG_SZ,
                 "to: one of reported, under_review, confirmed, not_confirmed,"
                 " disputed");
        rc = VIGIL_EINVAL;
    } else if (!reason || !reason[strspn(reason, " \t\r\n")] || strlen(reason) > 4096) {
        /* A decision is explained: an empty or blank reason changes nothing. */
        snprintf(msg, CMP_MSG_SZ, "reason: say why (1 to 4096 bytes, not only spaces)");
        rc = VIGIL_EINVAL;
    } else if (!compliance_transition_allowed(from, to) &&
               !(review && strcmp(to, "under_review") == 0 && strcmp(from, to) != 0)) {
        /* a violation flagged for re-review (its evidence was withdrawn) may be reopened */
        snprintf(msg, CMP_MSG_SZ, "a violation cannot go from %s to %s", from, to);
        rc = VIGIL_ECONFLICT;
    }
    if (rc)
        goto out;
    vtime_t now = ts_now();
    struct store_violation_step s = {now,  who->partner, who->user, who->user_name,
                                     from, to,           reason};
    rc = store_txn_violation_status(t, seq, to, now);
    rc = rc ? rc : step_add(t, seq, id, &s);
    rc = rc ? rc : audit_violation(t, who, id, "status", to);
    if (!rc)
        *out = reload(t, set, who, id);
out:
    cmp_set_put(set);
    return rc;
}

struct partner_opinions {
    int64_t partner;
    size_t n;
};

static int count_opinion(void *ctx, const struct store_opinion *o)
{
    struct partner_opinions *c = ctx;
    c->n += o->partner == c->partner;
    return 0;
}

int compliance_opinion_add(struct store_txn *t, const struct compliance_actor *who, const char *id,
                           const char *opinion, const char *explanation, json_t **out,
                           char msg[CMP_MSG_SZ])
{
    static const char *const values[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                         "strongly-agree"};
    *out = NULL;
    struct cmp_set *set = NULL;
    int64_t seq;
    char status[32];
    int rc = find_for(t, who, id, &set, &seq, status, NULL);
    if (rc)
        goto out;
    bool ok = false;
    for (size_t i = 0; opinion && i < 5 && !ok; i++)
        ok = strcmp(values[i], opinion) == 0;
    if (strcmp(who->role, "reader") == 0) {
        snprintf(msg, CMP_MSG_SZ, "readers do not add opinions");
        rc = VIGIL_EPERM;
    } else if (!ok) {
        snprintf(msg, CMP_MSG_SZ,
                 "opinion: strongly-disagree, disagree, neutral, agree or"
                 " strongly-agree");
        rc = VIGIL_EINVAL;
    } else if (explanation && strlen(explanation) > 16384) {
        snprintf(msg, CMP_MSG_SZ, "explanation: at most 16384 bytes");
        rc = VIGIL_EINVAL;
    }
    /* Every reader of the violation gets its opinions with it, on every read and with every
     * step on the live stream: one partner's opinions on it are bounded. */
    struct partner_opinions mine = {who->partner, 0};
    rc = rc ? rc : store_opinions(store_txn_reader(t), seq, count_opinion, &mine);
    if (!rc && mine.n >= CMP_OPINIONS_PER_PARTNER) {
        snprintf(msg, CMP_MSG_SZ,
                 "your partner has given %d opinions on this violation, the most one partner "
                 "may",
                 CMP_OPINIONS_PER_PARTNER);
        rc = VIGIL_ETOOBIG;
    }
    if (rc)
        goto out;
    vtime_t now = ts_now();
    char uuid[UUID_STRLEN + 1], oid[64], ts[TS_BUFSZ];
    uuid_v4(uuid);
    snprintf(oid, sizeof oid, "opinion--%s", uuid);
    ts_format(now, 3, ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}", "type", "opinion",
                          "spec_version", "2.1", "id", oid, "created", ts, "modified", ts,
                          "created_by_ref", who->identity_id, "opinion", opinion, "authors",
                          who->user_name, "object_refs", id);
    if (explanation && explanation[0])
        json_object_set_new(o, "explanation", json_string(explanation));
    char *json = vjson_dumps(o);
    json_decref(o);
    struct store_opinion so = {now, who->partner, who->user, opinion, json};
    rc = store_txn_opinion_add(t, seq, &so);
    free(json);
    rc = rc ? rc : audit_violation(t, who, id, "opinion", oid);
    if (!rc)
        *out = reload(t, set, who, id);
out:
    cmp_set_put(set);
    return rc;
}

struct first_report {
    bool found;
    struct store_acl acl;
};

static int first_visible(void *ctx, const struct store_report *rep)
{
    struct first_report *f = ctx;
    f->found = true;
    f->acl = rep->acl;
    return 1;
}

struct partner_evidence {
    struct store_reader *r;
    int64_t partner;
    size_t n;
};

static int count_evidence(void *ctx, const struct store_evidence *e)
{
    struct partner_evidence *c = ctx;
    struct store_user u;
    c->n += e->added_by && store_user_get(c->r, e->added_by, &u) == 0 && u.partner == c->partner;
    return 0;
}

int compliance_evidence_add(struct store_txn *t, const struct compliance_actor *who, const char *id,
                            const char *report, json_t **out, char msg[CMP_MSG_SZ])
{
    *out = NULL;
    struct cmp_set *set = NULL;
    int64_t seq;
    char status[32];
    int rc = find_for(t, who, id, &set, &seq, status, NULL);
    if (rc)
        goto out;
    if (strcmp(who->role, "reader") == 0) {
        snprintf(msg, CMP_MSG_SZ, "readers do not add evidence");
        rc = VIGIL_EPERM;
        goto out;
    }
    struct first_report f = {0};
    if (!report || !stix_id_valid(report) || strncmp(report, "report--", 8) != 0)
        rc = VIGIL_EINVAL;
    else
        rc = store_report_get(store_txn_reader(t), report, policy_visible, (void *)who->reader,
                              first_visible, &f);
    if (rc == VIGIL_EINVAL || (rc >= 0 && !f.found)) {
        snprintf(msg, CMP_MSG_SZ, "report: no such report");
        rc = VIGIL_ENOENT;
    }
    /* As opinions (compliance_opinion_add): one partner's additions to a violation every
     * reader gets are bounded. */
    struct partner_evidence mine = {store_txn_reader(t), who->partner, 0};
    rc = rc < 0 ? rc : store_evidence(mine.r, seq, count_evidence, &mine);
    if (!rc && mine.n >= CMP_EVIDENCE_PER_PARTNER) {
        snprintf(msg, CMP_MSG_SZ,
                 "your partner has added %d reports as evidence of this violation, the most one "
                 "partner may",
                 CMP_EVIDENCE_PER_PARTNER);
        rc = VIGIL_ETOOBIG;
    }
    if (rc < 0)
        goto out;
    struct store_evidence e = {
        .report = report, .acl = f.acl, .added = ts_now(), .added_by = who->user};
    rc = store_txn_evidence_add(t, seq, &e);
    if (rc == VIGIL_EEXIST) {
        rc = 0; /* already there: nothing changes */
    } else if (!rc) {
        rc = audit_violation(t, who, id, "evidence", report);
    }
    if (!rc)
        *out = reload(t, set, who, id);
out:
    cmp_set_put(set);
    return rc;
}

/* Which side of segment a->b the point p lies on (equirectangular, fine at line scale). */
static const char *side_of(struct geo_point a, struct geo_point b, struct geo_point p)
{
    double k = cos(p.lat * M_PI / 180.0);
    double cross = (b.lon - a.lon) * k * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon) * k;
    return cross > 0 ? "left" : "right";
}

struct compliance_places {
    struct cmp_set *set;
};

int compliance_places_get(struct store_reader *r, struct compliance_places **out)
{
    struct cmp_set *set = NULL;
    int rc = cmp_set_get(r, &set);
    *out = NULL;
    if (rc)
        return rc;
    *out = xmalloc(sizeof **out);
    (*out)->set = set;
    return 0;
}

void compliance_places_free(struct compliance_places *p)
{
    if (!p)
        return;
    cmp_set_put(p->set);
    free(p);
}

static void place_in(const struct cmp_set *set, double lat, double lon,
                     struct compliance_place *out)
{
    memset(out, 0, sizeof *out);
    out->dist_to_line_m = -1;
    struct geo_point p = {lat, lon};
    for (size_t i = 0; set && i < set->n; i++) {
        const struct cmp_agreement *a = &set->v[i].a;
        for (size_t z = 0; z < a->nzones; z++) {
            const struct cmp_zone *zone = &a->zones[z];
            const struct geo_geometry *g = &zone->geom;
            if (zone->kind == CMP_WITHDRAWAL_LINE) {
                for (size_t l = 0; l < g->n_lines; l++) {
                    const struct geo_line *line = &g->lines[l];
                    for (size_t k = 0; k + 1 < line->n; k++) {
                        double d = geo_distance_to_polyline_m(p, &line->pts[k], 2);
                        if (out->dist_to_line_m < 0 || d < out->dist_to_line_m) {
                            out->dist_to_line_m = d;
                            snprintf(out->side, sizeof out->side, "%s",
                                     side_of(line->pts[k], line->pts[k + 1], p));
                            snprintf(out->line_agreement, sizeof out->line_agreement, "%s",
                                     a->id);
                        }
                    }
                }
            } else if (!out->zone[0] && g->n_polys && geo_contains(g, p)) {
                snprintf(out->zone, sizeof out->zone, "%s", zone->name);
                snprintf(out->zone_agreement, sizeof out->zone_agreement, "%s", a->id);
                out->zone_effective = a->effective;
            }
        }
    }
}

void compliance_place_in(const struct compliance_places *p, double lat, double lon,
                         struct compliance_place *out)
{
    place_in(p->set, lat, lon, out);
}

int compliance_place(struct store_reader *r, double lat, double lon, struct compliance_place *out)
{
    memset(out, 0, sizeof *out);
    out->dist_to_line_m = -1;
    struct cmp_set *set = NULL;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    place_in(set, lat, lon, out);
    cmp_set_put(set);
    return 0;
}

int compliance_agreement_acl(struct store_reader *r, const char *id, struct store_acl *out)
{
    struct cmp_set *set;
    int rc = cmp_set_get(r, &set);
    if (rc)
        return rc;
    const struct cmp_entry *e = cmp_set_find(set, id);
    if (e)
        *out = e->acl;
    cmp_set_put(set);
    return e ? 0 : VIGIL_ENOENT;
}
