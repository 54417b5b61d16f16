/* taxii_areas.c - the named areas of the report index (see taxii_areas.h). */
#include "server/taxii_areas.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "intel/profile.h"

/* One area under one handling: the earliest time the hub accepted a report of it. */
struct area_pair {
    char *name;
    struct store_acl acl;
    vtime_t added;
};

struct taxii_areas {
    pthread_mutex_t mu;
    int64_t seq_done, withdrawn_done; /* how far the index has been read */
    struct area_pair *v;
    size_t n, alloc;
    json_t *index; /* "owner/tlp/group/name" -> position in v + 1 */
};

struct taxii_areas *taxii_areas_new(void)
{
    struct taxii_areas *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->index = json_object();
    return t;
}

static void reset(struct taxii_areas *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    t->n = 0;
    t->seq_done = t->withdrawn_done = 0;
    json_object_clear(t->index);
}

void taxii_areas_free(struct taxii_areas *t)
{
    if (!t)
        return;
    reset(t);
    free(t->v);
    json_decref(t->index);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* A legacy row has no accepted time (0): it counts as accepted at the first microsecond. */
static vtime_t row_added(const struct store_report_row *row)
{
    return row->added > 0 ? row->added : 1;
}

static int add_row(void *ctx, const struct store_report_row *row)
{
    struct taxii_areas *t = ctx;
    if (row->has_point || !row->area || !row->area[0])
        return 0;
    char *key = xasprintf("%lld/%d/%lld/%s", (long long)row->acl.owner, row->acl.tlp,
                          (long long)row->acl.group, row->area);
    json_t *at = json_object_get(t->index, key);
    if (at) {
        struct area_pair *p = &t->v[json_integer_value(at) - 1];
        if (row_added(row) < p->added)
            p->added = row_added(row);
    } else {
        if (t->n == t->alloc) {
            t->alloc = t->alloc ? 2 * t->alloc : 64;
            t->v = xrealloc(t->v, t->alloc * sizeof *t->v);
        }
        t->v[t->n] = (struct area_pair){xstrdup(row->area), row->acl, row_added(row)};
        json_object_set_new(t->index, key, json_integer((json_int_t)++t->n));
    }
    free(key);
    return 0;
}

/* Follows the report index: new rows; after any withdrawal, the whole index again (a report
 * corrected or deleted may have been the last to name an area under its handling). */
static int refresh(struct taxii_areas *t, struct store_reader *r)
{
    static const struct policy_reader sys = POLICY_SYSTEM("taxii");
    int64_t seq = 0, withdrawn = 0;
    int rc = store_reports_head(r, &seq, &withdrawn);
    if (rc)
        return rc;
    if (withdrawn != t->withdrawn_done || seq < t->seq_done)
        reset(t);
    if (seq > t->seq_done) {
        rc = store_reports_after(r, t->seq_done, 0, policy_visible, (void *)&sys, add_row, t);
        if (rc) {
            reset(t);
            return rc;
        }
    }
    t->seq_done = seq;
    t->withdrawn_done = withdrawn;
    return 0;
}

/* True when handling a is less restrictive than b: a lower TLP, then no group before a
 * group, then the lower group id (a total order, so every reader's choice is determined). */
static bool looser(const struct store_acl *a, const struct store_acl *b)
{
    enum tlp_level x = (enum tlp_level)a->tlp, y = (enum tlp_level)b->tlp;
    if (x != y)
        return tlp_stricter(x, y) == y;
    if ((a->group != 0) != (b->group != 0))
        return a->group == 0;
    return a->group < b->group;
}

/* What one reader sees of one area. */
struct area_view {
    const char *name;
    struct store_acl acl; /* the loosest handling seen */
    vtime_t modified;
};

int taxii_areas_locations(struct taxii_areas *t, struct store_reader *r,
                          const struct policy_reader *reader, const json_t *group_markings,
                          json_t *out)
{
    pthread_mutex_lock(&t->mu);
    int rc = refresh(t, r);
    struct area_view *views = xcalloc(t->n ? t->n : 1, sizeof *views);
    size_t nv = 0;
    json_t *at = json_object(); /* name -> position in views + 1 */
    for (size_t i = 0; !rc && i < t->n; i++) {
        const struct area_pair *p = &t->v[i];
        if (!policy_visible((void *)reader, &p->acl))
            continue;
        json_t *k = json_object_get(at, p->name);
        if (!k) {
            views[nv] = (struct area_view){p->name, p->acl, p->added};
            json_object_set_new(at, p->name, json_integer((json_int_t)++nv));
            continue;
        }
        struct area_view *v = &views[json_integer_value(k) - 1];
        if (looser(&p->acl, &v->acl)) {
            v->acl = p->acl;
            v->modified = p->added;
        } else if (!looser(&v->acl, &p->acl) && p->added < v->modified) {
            v->modified = p->added; /* the same handling, known earlier (another owner) */
        }
    }
    for (size_t i = 0; i < nv; i++) {
        json_t *marks = json_array();
        const char *tlp = tlp_marking_id((enum tlp_level)views[i].acl.tlp);
        if (tlp)
            json_array_append_new(marks, json_string(tlp));
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)views[i].acl.group);
        json_t *gm = views[i].acl.group ? json_object_get(group_markings, key) : NULL;
        if (gm)
            json_array_append(marks, gm);
        json_array_append_new(out, profile_area_location(views[i].name, views[i].modified,
                                                         marks));
        json_decref(marks);
    }
    json_decref(at);
    free(views);
    pthread_mutex_unlock(&t->mu);
    return rc;
}
