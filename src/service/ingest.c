#include "service/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "access/events.h"
#include "access/handling.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "compliance/compliance.h"

/* Ids no partner stores: the marking-definitions STIX 2.1 (7.2.1.4) and OASIS's TLP 2.0
 * predefine, and the hub's own identity and extension-definitions (served by the hub, never
 * stored). A partner storing one would make every reader see its object as the standard's or
 * the hub's, and every other partner's copy of it refused as another partner's id. */
static bool reserved_id(const char *id)
{
    static const char *const ids[] = {
        STIX_TLP1_WHITE,        STIX_TLP1_GREEN,     STIX_TLP1_AMBER, STIX_TLP1_RED,
        STIX_TLP_CLEAR,         STIX_TLP_GREEN,      STIX_TLP_AMBER,  STIX_TLP_AMBER_STRICT,
        STIX_TLP_RED,           PROFILE_IDENTITY_ID, PROFILE_EXT_ID,  PROFILE_ALERT_EXT_ID,
        PROFILE_INCIDENT_EXT_ID};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strcmp(id, ids[i]) == 0)
            return true;
    return false;
}

void ingest_prepare(struct ingest_item *it, json_t *obj, int64_t owner)
{
    memset(it, 0, sizeof *it);
    it->obj = obj;
    struct stix_common sc;
    if (stix_validate(obj, &sc, it->msg)) {
        it->error = it->msg;
        return;
    }
    /* Version 0 is how an observable (no created or modified) is stored, and observables are
     * each partner's own: an object dated 1970-01-01T00:00:00.000Z would pass as one, and be
     * stored under another partner's id. */
    const char *why = reserved_id(sc.id) ? "id: predefined by STIX or by this hub, not stored"
                      : (sc.has_modified && !sc.modified) || (sc.has_created && !sc.created)
                          ? "created, modified: 1970-01-01T00:00:00.000Z is not a version this "
                            "hub stores"
                          : NULL;
    if (why) {
        snprintf(it->msg, sizeof it->msg, "%s", why);
        it->error = it->msg;
        return;
    }
    it->json = vjson_dumps(obj);
    it->in = (struct store_object_in){
        .id = sc.id,
        .type = sc.type,
        .spec_version = sc.spec_version,
        .version = sc.has_modified  ? sc.modified
                   : sc.has_created ? sc.created
                                    : 0,
        .acl = {.owner = owner},
        .json = it->json,
        .json_len = strlen(it->json),
    };
    if (it->in.version)
        ingest_ref(it);
}

const char *ingest_ref(struct ingest_item *it)
{
    vtime_t v = it->in.version ? it->in.version : it->date_added;
    if (!it->ref[0] && v) {
        char ts[TS_BUFSZ];
        snprintf(it->ref, sizeof it->ref, "\"id\":\"%s\",\"version\":\"%s\"", it->in.id,
                 ts_format(v, v % 1000 ? 6 : 3, ts));
    }
    return it->ref;
}

void ingest_item_release(struct ingest_item *it)
{
    free(it->json);
    it->json = NULL;
}

/* The REST document of a report: the S5 resource with its effective marking, its id and
 * partner. */
static json_t *report_doc(const struct event_report *r, const char *id, const char *partner,
                          const struct store_acl *acl)
{
    json_t *doc = report_to_json(r);
    json_object_set_new(doc, "marking", json_string(tlp_name((enum tlp_level)acl->tlp)));
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "partner", json_string(partner ? partner : ""));
    return doc;
}

/* Who a withdrawal is credited to in a violation's history: the user, else the partner. */
static const char *actor_name(const struct ingest_actor *a)
{
    return a->user_name && a->user_name[0] ? a->user_name : a->partner_name;
}

/* Adds or replaces the index row of a report stored under id (fresh: id never stored before). */
static int index_report(struct store_txn *t, const char *id, const struct store_acl *acl,
                        const struct event_report *r, const char *doc, bool fresh,
                        const struct compliance_by *by)
{
    struct buf text;
    buf_init(&text, 1 << 20);
    buf_adds(&text, r->title ? r->title : "");
    buf_addc(&text, '\n');
    buf_adds(&text, r->description ? r->description : "");
    struct store_report_in in = {
        .id = id,
        .acl = *acl,
        .event = plover_event_name(r->event),
        .mode = r->mode ? r->mode : "",
        .future = r->future,
        .start = r->start,
        .end = r->end,
        .has_point = r->has_point,
        .lat = r->lat,
        .lon = r->lon,
        .precision_m = (double)r->precision_m,
        .area = r->area ? r->area : "",
        .reliability = r->reliability,
        .credibility = r->credibility,
        .source_ref = r->source_ref ? r->source_ref : "",
        .target = report_target_kind(r),
        .text = text.data,
        .doc = doc,
    };
    int rc = store_txn_report_index(t, &in);
    /* candidate violations (S8) */
    if (!rc)
        rc = fresh ? compliance_evaluate_new(t, id, acl, r)
                   : compliance_evaluate_by(t, id, acl, r, by);
    buf_release(&text);
    return rc;
}

static int audit_write(struct store_txn *t, const struct ingest_actor *a, struct ingest_item *it)
{
    char detail[INGEST_REF_SZ + 2];
    snprintf(detail, sizeof detail, "{%s}", ingest_ref(it));
    return audit_append(t, a->partner, a->user, "write", it->in.id, detail);
}

/* The audit of one object ingest_report stored: its own entry, or an item of a->audit_into. */
static int audit_one(struct store_txn *t, const struct ingest_actor *a, struct ingest_item *it)
{
    struct ingest_audit *ia = a->audit_into;
    if (!ia)
        return audit_write(t, a, it);
    char item[INGEST_REF_SZ + 2];
    snprintf(item, sizeof item, "{%s}", ingest_ref(it));
    audit_list_add(&ia->list, item);
    ia->first = ia->first ? ia->first : it->date_added;
    ia->last = it->date_added;
    return 0;
}

int ingest_audit_finish(struct store_txn *t, const struct ingest_actor *a, const char *action,
                        const char *object, const char *fields)
{
    struct ingest_audit *ia = a->audit_into;
    char range[128], f[TS_BUFSZ], l[TS_BUFSZ];
    snprintf(range, sizeof range, "\"date_added_first\":\"%s\",\"date_added_last\":\"%s\"",
             ts_format(ia->first, 6, f), ts_format(ia->last, 6, l));
    char *all = xasprintf("%s%s%s", fields, fields[0] ? "," : "", range);
    char *detail = audit_list_detail(&ia->list, all);
    free(all);
    int rc = detail ? audit_append(t, a->partner, a->user, action, object, detail) : 0;
    free(detail);
    return rc;
}

/* What ingest_store does once it->in was put (rc: the put's own result). traced false: nothing
 * names it->in.id as a report of its partner (store_txn_reports_traced), so there is no report
 * to undo. */
static int ingest_stored(struct store_txn *t, const struct ingest_actor *a,
                         struct ingest_item *it, int rc, bool traced)
{
    if (rc == VIGIL_EPERM || rc == VIGIL_ECONFLICT) {
        it->error = rc == VIGIL_EPERM ? INGEST_TAKEN : INGEST_DIFFERS;
        it->date_added = 0;
        return 0;
    }
    if (rc || it->outcome == STORE_PUT_EXISTS)
        return rc;
    /* A report carrying the Vigil extension joins the report index, as its newest version
     * says: a version older than that, arriving late, is kept but changes nothing there. */
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    if (it->outcome != STORE_PUT_ADDED)
        return a->audit_later ? 0 : audit_write(t, a, it);
    if (report_from_stix(it->obj, &r, msg) != 0) {
        /* Not (or no longer) an event report: a report it corrects leaves the index, and
         * the violations found in it follow as for a deletion (S8). */
        if (traced) {
            struct compliance_by by = {a->user, actor_name(a), "withdrawn (no longer a report)"};
            rc = store_txn_report_unindex(t, it->in.id, it->in.acl.owner);
            rc = rc ? rc : compliance_report_deleted(t, it->in.id, it->in.acl.owner, &by);
        }
    } else {
        json_t *doc = report_doc(&r, it->in.id, a->partner_name, &it->in.acl);
        char *text = vjson_dumps(doc);
        struct compliance_by by = {a->user, actor_name(a), NULL};
        rc = index_report(t, it->in.id, &it->in.acl, &r, text, false, &by);
        if (!rc)
            rc = events_publish(t, "report", &it->in.acl, text, NULL);
        free(text);
        json_decref(doc);
        report_release(&r);
        if (rc)
            return rc;
    }
    return rc ? rc : a->audit_later ? 0 : audit_write(t, a, it);
}

static int by_id(const void *x, const void *y)
{
    const struct store_object_in *const *a = x, *const *b = y;
    return strcmp((*a)->id, (*b)->id);
}

int ingest_store(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                 struct ingest_item *it)
{
    return ingest_store_all(t, coll, a, it, 1);
}

/* The partners' STIX identities, read once per batch when an object names one. */
struct identities {
    bool loaded;
    size_t n;
    struct {
        char id[80];
        int64_t partner;
    } * v;
};

static int add_identity(void *ctx, const struct store_partner *p)
{
    struct identities *ids = ctx;
    ids->v = xrealloc(ids->v, (ids->n + 1) * sizeof *ids->v);
    snprintf(ids->v[ids->n].id, sizeof ids->v[ids->n].id, "%s", p->identity_id);
    ids->v[ids->n++].partner = p->id;
    return 0;
}

/* The partner whose STIX identity id is, into *partner (0: none). */
static int identity_partner(struct store_reader *r, struct identities *ids, const char *id,
                            int64_t *partner)
{
    *partner = 0;
    if (strncmp(id, "identity--", 10) != 0)
        return 0;
    if (!ids->loaded) {
        int rc = store_partners(r, add_identity, ids);
        if (rc)
            return rc;
        ids->loaded = true;
    }
    for (size_t i = 0; i < ids->n && !*partner; i++)
        if (strcmp(ids->v[i].id, id) == 0)
            *partner = ids->v[i].partner;
    return 0;
}

/* Refuses it (it->error) when it claims another partner's identity as its id or its creator
 * (or the hub's), or a sharing group's marking-definition as its id. Returns a store error. */
static int claim_refused(struct store_reader *r, struct identities *ids,
                         const struct ingest_actor *a, struct ingest_item *it)
{
    int64_t owner;
    int rc = identity_partner(r, ids, it->in.id, &owner);
    if (!rc && owner && owner != a->partner) {
        it->error = "id: another partner's identity";
        return 0;
    }
    struct store_group g;
    if (!rc && strncmp(it->in.id, "marking-definition--", 20) == 0) {
        rc = store_group_find(r, it->in.id, 0, 0, &g); /* anyone's: a marking id names one */
        if (!rc)
            it->error = "id: a sharing group's marking-definition, defined by this hub";
        if (rc != VIGIL_ENOENT)
            return rc;
        rc = 0;
    }
    const char *by = vjson_str(it->obj, "created_by_ref");
    rc = rc || !by ? rc : identity_partner(r, ids, by, &owner);
    if (!rc && by && (strcmp(by, PROFILE_IDENTITY_ID) == 0 || (owner && owner != a->partner)))
        it->error = "created_by_ref: another partner's identity, or this hub's";
    return rc;
}

int ingest_store_all(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                     struct ingest_item *items, size_t n)
{
    size_t m = 0, cap = n ? n : 1;
    const struct store_object_in **objs = xcalloc(cap, sizeof *objs);
    const struct store_object_in **sorted = xcalloc(cap, sizeof *sorted);
    size_t *at = xcalloc(cap, sizeof *at);
    enum store_put_outcome *outcomes = xcalloc(cap, sizeof *outcomes);
    vtime_t *added = xcalloc(cap, sizeof *added);
    int *rcs = xcalloc(cap, sizeof *rcs);
    const char **ids = xcalloc(cap, sizeof *ids);
    int64_t *owners = xcalloc(cap, sizeof *owners);
    bool *traced = xcalloc(cap, sizeof *traced);
    struct identities known = {0};
    int rc = 0;
    /* The handling of each first: it reads sharing groups, which storing objects leaves as
     * they are. */
    for (size_t i = 0; i < n && !rc; i++) {
        struct ingest_item *it = &items[i];
        rc = it->error ? 0 : claim_refused(store_txn_reader(t), &known, a, it);
        if (rc || it->error)
            continue;
        rc = handling_from_markings(store_txn_reader(t),
                                    json_object_get(it->obj, "object_marking_refs"),
                                    a->default_tlp, a->partner, a->user, &it->in.acl);
        objs[m] = &it->in;
        at[m++] = i;
    }
    /* Then the objects, in one call: one round trip for the envelope's new ids on PostgreSQL,
     * with each object's outcome as if put one by one, in order. */
    rc = rc ? rc : store_txn_objects_put(t, coll, objs, m, outcomes, added, rcs);
    /* What follows for each object, in order, reads and writes the report index, violations,
     * events and the audit, never the objects: as it did after each put. An object that is
     * no event report undoes its report, when there is one: store_txn_reports_traced asks for
     * all at once whether anything names them; one that another object of the envelope
     * shares the id of is taken as named (an earlier one may index it). */
    size_t nids = 0;
    for (size_t k = 0; !rc && k < m; k++)
        if (!rcs[k] && outcomes[k] == STORE_PUT_ADDED) {
            ids[nids] = objs[k]->id;
            owners[nids++] = objs[k]->acl.owner;
        }
    rc = rc ? rc : store_txn_reports_traced(t, ids, owners, nids, traced);
    if (!rc) {
        memcpy(sorted, objs, m * sizeof *objs);
        qsort(sorted, m, sizeof *sorted, by_id);
    }
    for (size_t k = 0, j = 0; !rc && k < m; k++) {
        struct ingest_item *it = &items[at[k]];
        it->outcome = outcomes[k];
        it->date_added = rcs[k] ? 0 : added[k];
        bool named = true;
        if (!rcs[k] && outcomes[k] == STORE_PUT_ADDED) {
            const struct store_object_in *key = objs[k];
            const struct store_object_in **hit = bsearch(&key, sorted, m, sizeof *sorted, by_id);
            bool shared = (hit > sorted && by_id(hit - 1, hit) == 0) ||
                          (hit + 1 < sorted + m && by_id(hit + 1, hit) == 0);
            named = traced[j++] || shared;
        }
        rc = ingest_stored(t, a, it, rcs[k], named);
    }
    free(objs);
    free(sorted);
    free(at);
    free(outcomes);
    free(added);
    free(rcs);
    free(ids);
    free(owners);
    free(traced);
    free(known.v);
    return rc;
}

/* A partner's own record of an id, and nobody else's. */
static bool own_record(void *ctx, const struct store_acl *acl)
{
    return acl->owner == *(const int64_t *)ctx;
}

struct newest {
    json_t *obj;
    struct store_acl acl;
    char *doc; /* the index row's document */
};

static int keep_newest(void *ctx, const struct store_object *o)
{
    struct newest *n = ctx;
    n->obj = json_loadb(o->json, o->json_len, 0, NULL);
    n->acl = o->acl;
    return 1;
}

static int keep_doc(void *ctx, const struct store_report *rep)
{
    struct newest *n = ctx;
    n->doc = xstrdup(rep->doc);
    return 1;
}

int ingest_reindex(struct store_txn *t, int64_t coll, const char *id, int64_t owner,
                   const char *partner_name, int64_t user, const char *user_name)
{
    struct store_reader *rd = store_txn_reader(t);
    struct newest n = {0};
    struct store_query q = {.coll = coll, .ids = &id, .nids = 1, .limit = 1,
                            .visible = own_record, .visible_ctx = &owner};
    struct store_page page;
    int rc = store_objects_query(rd, &q, keep_newest, &n, &page);
    if (rc >= 0)
        rc = store_report_get(rd, id, own_record, &owner, keep_doc, &n);
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    struct compliance_by by = {user, user_name, "withdrawn (no longer a report)"};
    if (rc < 0 || !n.obj || !n.doc || report_from_stix(n.obj, &r, msg) != 0) {
        if (rc >= 0 && n.obj && n.doc) { /* the version now newest is no event report */
            rc = store_txn_report_unindex(t, id, owner);
            rc = rc ? rc : compliance_report_deleted(t, id, owner, &by);
        }
        json_decref(n.obj);
        free(n.doc);
        return rc < 0 ? rc : 0; /* nothing left, or not an indexed report */
    }
    json_t *doc = report_doc(&r, id, partner_name, &n.acl);
    char *text = vjson_dumps(doc);
    rc = 0;
    if (strcmp(text, n.doc) != 0) { /* the newest version went: index the one now newest */
        by.how = NULL;
        rc = index_report(t, id, &n.acl, &r, text, false, &by);
        if (!rc)
            rc = events_publish(t, "report", &n.acl, text, NULL);
    }
    free(text);
    json_decref(doc);
    report_release(&r);
    json_decref(n.obj);
    free(n.doc);
    return rc;
}

int ingest_deleted(struct store_txn *t, const char *id, int64_t owner, int64_t user,
                   const char *user_name)
{
    if (strncmp(id, "report--", 8) != 0)
        return 0;
    /* violations follow their report, but what the coordination center took up stays (S8) */
    struct compliance_by by = {user, user_name, NULL};
    return compliance_report_deleted(t, id, owner, &by);
}

int ingest_audit_batch(struct store_txn *t, const struct ingest_actor *a, struct ingest_item *items,
                       size_t n)
{
    struct audit_list objects;
    audit_list_init(&objects);
    const char *only = NULL;
    vtime_t first = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        struct ingest_item *it = &items[i];
        if (it->error || it->outcome == STORE_PUT_EXISTS)
            continue;
        char item[INGEST_REF_SZ + 2];
        snprintf(item, sizeof item, "{%s}", ingest_ref(it));
        audit_list_add(&objects, item);
        only = it->in.id;
        first = first ? first : it->date_added;
        last = it->date_added;
    }
    /* The objects written are those of the partner with date_added in [first, last]: the
     * writer hands out date_added in order, one job at a time. */
    char fields[128], f[TS_BUFSZ], l[TS_BUFSZ];
    snprintf(fields, sizeof fields, "\"date_added_first\":\"%s\",\"date_added_last\":\"%s\"",
             ts_format(first, 6, f), ts_format(last, 6, l));
    size_t count = objects.count;
    char *detail = audit_list_detail(&objects, fields);
    int rc = detail ? audit_append(t, a->partner, a->user, "write", count == 1 ? only : "objects",
                                   detail)
                    : 0;
    free(detail);
    return rc;
}

void ingest_prebuilt_init(struct ingest_prebuilt *pb)
{
    memset(pb, 0, sizeof *pb);
    buf_init(&pb->text, BUF_NOCAP);
    buf_init(&pb->rep, BUF_NOCAP);
    buf_init(&pb->loc, BUF_NOCAP);
}

void ingest_prebuilt_release(struct ingest_prebuilt *pb)
{
    buf_release(&pb->text);
    buf_release(&pb->rep);
    buf_release(&pb->loc);
}

/* The REST document of r (report_doc's bytes) under id, handled as tlp. */
static int build_doc(const struct event_report *r, const struct ingest_actor *a, int tlp,
                     const char *id, struct buf *text)
{
    buf_reset(text);
    return report_doc_text(r, tlp_name((enum tlp_level)tlp), id,
                           a->partner_name ? a->partner_name : "", text);
}

/* The STIX objects of r (report_to_stix's bytes) under pb->id, created pb->now. */
static int build_stix(const struct event_report *r, const struct ingest_actor *a,
                      struct ingest_prebuilt *pb)
{
    struct report_stix_ctx ctx = {.now = pb->now,
                                  .report_id = pb->id,
                                  .created_by_ref = a->identity_id,
                                  .group_marking_ref = pb->gm[0] ? pb->gm : NULL};
    char rmsg[REPORT_MSG_SZ];
    buf_reset(&pb->rep);
    buf_reset(&pb->loc);
    pb->rc = report_to_stix_text(r, &ctx, &pb->rep, &pb->loc, pb->lid, rmsg);
    if (pb->rc)
        snprintf(pb->msg, sizeof pb->msg, "%s", rmsg);
    return pb->rc;
}

/* created and modified are written to the millisecond: the version is that instant */
static vtime_t now_ms(void)
{
    vtime_t now = ts_now();
    return now - now % 1000;
}

int ingest_prebuild(const struct event_report *r, const struct ingest_actor *a,
                    const struct store_acl *acl, const char *gm, struct ingest_prebuilt *pb)
{
    char uuid[UUID_STRLEN + 1];
    uuid_v4(uuid);
    snprintf(pb->id, sizeof pb->id, "report--%s", uuid);
    pb->acl = *acl;
    snprintf(pb->gm, sizeof pb->gm, "%s", gm ? gm : "");
    pb->now = now_ms();
    pb->msg[0] = '\0';
    if (build_doc(r, a, acl->tlp, pb->id, &pb->text) != 0) {
        snprintf(pb->msg, sizeof pb->msg, "report: larger than its buffer");
        return pb->rc = VIGIL_EINVAL;
    }
    return build_stix(r, a, pb);
}

int ingest_report(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                  const struct event_report *r, enum store_put_outcome *outcome, json_t **doc,
                  char msg[INGEST_MSG_SZ])
{
    return ingest_report_built(t, coll, a, r, NULL, outcome, doc, msg);
}

int ingest_report_built(struct store_txn *t, int64_t coll, const struct ingest_actor *a,
                        const struct event_report *r, struct ingest_prebuilt *pb,
                        enum store_put_outcome *outcome, json_t **doc, char msg[INGEST_MSG_SZ])
{
    if (doc)
        *doc = NULL;
    struct store_reader *rd = store_txn_reader(t);
    struct store_acl acl;
    const char *group_marking = NULL;
    int rc = handling_from_names(rd, report_marking_name(r->marking), r->group, a->default_tlp,
                                 a->partner, a->user, &acl, &group_marking, msg);
    if (rc)
        return rc;
    char gm[80] = "";
    if (group_marking)
        snprintf(gm, sizeof gm, "%s", group_marking); /* rd's next call invalidates it */

    /* The partner's earlier report of the same source record keeps its id (a new version
     * of it); any other report gets a random id. An id derived from public names (the
     * partner and the source_ref) would let another partner take it first, or probe whether
     * this partner holds that record. */
    char id[80];
    const char *old_doc = NULL;
    rc = r->source_ref ? store_report_by_source(rd, a->partner, r->source_ref, id, &old_doc)
                       : VIGIL_ENOENT;
    if (rc && rc != VIGIL_ENOENT)
        return rc;
    bool fresh = rc == VIGIL_ENOENT;
    if (fresh)
        old_doc = NULL;
    /* The documents are written as text (report_doc_text, report_to_stix_text: the same bytes
     * as the trees; an import writes three per row); the tree only for a caller that wants it.
     * Those built ahead (pb, another thread) serve a new report with the handling they assumed:
     * their random id is as good as one drawn here. */
    bool ahead = pb && fresh && handling_same(&pb->acl, &acl) && strcmp(pb->gm, gm) == 0;
    struct ingest_prebuilt own;
    struct ingest_prebuilt *b = ahead ? pb : &own;
    if (!ahead) {
        ingest_prebuilt_init(&own);
        if (fresh) {
            char uuid[UUID_STRLEN + 1];
            uuid_v4(uuid);
            snprintf(own.id, sizeof own.id, "report--%s", uuid);
        } else {
            snprintf(own.id, sizeof own.id, "%s", id);
        }
        own.acl = acl;
        snprintf(own.gm, sizeof own.gm, "%s", gm);
        if (build_doc(r, a, acl.tlp, own.id, &own.text) != 0) {
            snprintf(msg, INGEST_MSG_SZ, "report: larger than its buffer");
            rc = VIGIL_EINVAL;
            goto out;
        }
    }
    rc = 0;

    /* The same source record, unchanged: nothing to store. */
    if (old_doc && strcmp(old_doc, b->text.data) == 0) {
        *outcome = STORE_PUT_EXISTS;
        goto out;
    }
    if (!ahead) {
        own.now = now_ms();
        build_stix(r, a, &own);
    }
    rc = b->rc;
    if (rc)
        snprintf(msg, INGEST_MSG_SZ, "%s", b->msg);
    for (int i = 0; !rc && i < (b->loc.len ? 2 : 1); i++) {
        struct ingest_item it;
        memset(&it, 0, sizeof it);
        it.in = (struct store_object_in){
            .id = i ? b->lid : b->id,
            .type = i ? "location" : "report",
            .spec_version = "2.1",
            .version = b->now,
            .acl = acl,
            .json = i ? b->loc.data : b->rep.data,
            .json_len = i ? b->loc.len : b->rep.len,
        };
        ingest_ref(&it);
        rc = store_txn_object_put(t, coll, &it.in, &it.outcome, &it.date_added);
        if (!rc && it.outcome != STORE_PUT_EXISTS)
            rc = audit_one(t, a, &it);
        if (rc == VIGIL_EPERM || rc == VIGIL_ECONFLICT)
            snprintf(msg, INGEST_MSG_SZ, "%s: %s", it.in.id,
                     rc == VIGIL_EPERM ? INGEST_TAKEN : INGEST_DIFFERS);
    }
    if (!rc)
        rc = index_report(t, b->id, &acl, r, b->text.data, fresh,
                          &(struct compliance_by){a->user, actor_name(a), NULL});
    if (!rc)
        rc = events_publish(t, "report", &acl, b->text.data, NULL);
    if (!rc)
        *outcome = STORE_PUT_ADDED;
out:
    if (!rc && doc)
        *doc = report_doc(r, b->id, a->partner_name, &acl);
    if (!ahead)
        ingest_prebuilt_release(&own);
    return rc;
}
