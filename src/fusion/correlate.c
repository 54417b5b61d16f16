/* correlate.c - reports into incidents: compatibility, distance, grid and zone indexes,
 * union of incidents. See correlate.h. */
#include "fusion/correlate.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"

/* Under AddressSanitizer a recycled record is poisoned until reused, so that a pointer kept to
 * a withdrawn report is caught as a use after free. */
#if defined(__SANITIZE_ADDRESS__)
#define CORR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORR_ASAN 1
#endif
#endif
#ifdef CORR_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define EARTH_R_M 6371008.8
#define M_PER_DEG (EARTH_R_M * M_PI / 180.0)
#define MIN_COSLAT 0.05 /* beyond ~87 degrees the grid is searched as if at 87 degrees */

struct fusion_incident {
    int64_t id;
    const struct fusion_report **m; /* &one while it has one member */
    const struct fusion_report *one;
    size_t n, alloc;
    size_t pos;     /* index in the correlator's incident array */
    int64_t maxseq; /* the largest seq among its reports */
    uint64_t mark;  /* the correlator's stamp when last collected */
};

/* A stored report: the copy, its incident, the incident it started (which lives on in its
 * record when a merge empties it), then the caller's extra space, then the copies of its
 * strings. Records are carved out of slabs (packed, and apart from the short-lived allocations
 * of each add); a withdrawn record, once recycled, waits on the spare list of its size for the
 * next add of that size. Records larger than SPARE_MAX are allocated and freed one by one. */
struct crec {
    struct fusion_report r;      /* first: a report pointer is a crec pointer */
    struct fusion_incident *inc; /* NULL once withdrawn */
    struct fusion_incident own;
    size_t pos;    /* index in the arrival order (recs) */
    size_t size;   /* bytes of the record, strings included (a multiple of ALIGN) */
    uint64_t mark; /* the correlator's stamp when last visited */
    alignas(max_align_t) unsigned char extra[];
};

#define SLAB_BYTES (256 * 1024)
#define ALIGN alignof(max_align_t)
#define SPARE_MAX 4096 /* records up to this size are recycled, larger ones freed */
#define SPARE_CLASSES (SPARE_MAX / ALIGN + 1)

/* The recycled records of one size. */
struct spares {
    struct crec **v;
    size_t n, alloc;
};

struct slab {
    struct slab *next;
    size_t used, size;
    alignas(max_align_t) unsigned char mem[];
};

/* The stored reports by seq: open addressing over record pointers, at most half full. */
struct seqmap {
    struct crec **v;
    size_t n, size;
};

/* A time-sorted array of one partner's reports in one grid cell or one zone. */
struct bucket {
    const struct fusion_report **v;
    size_t n, alloc;
    vtime_t max_dur; /* the longest end - start in the bucket: bounds the binary search */
    int64_t owner;
    struct bucket *next; /* the next partner's, in the same slot */
};

/* One grid cell or zone: a bucket per partner, so that a query can bound what it takes from
 * each (a burst of one partner's reports cannot make every query long). */
struct slot {
    struct bucket *first;
    char *name; /* zone name (zone slots) */
};

struct mentry {
    uint64_t h;
    int64_t a, b;
    const char *s;
    void *val;
};

/* Open-addressing hash map, linear probing, power-of-two size, at most half full. */
struct map {
    struct mentry *e;
    size_t n, size;
};

struct fusion_correlator {
    struct fusion_corr_params p;
    struct seqmap seqs;
    struct map cells, zones;
    struct slab *slabs; /* the newest first */
    struct spares spare[SPARE_CLASSES];
    size_t big_bytes;   /* records larger than SPARE_MAX, allocated one by one */
    struct crec **recs; /* arrival order; NULL where a record was recycled */
    size_t nrecs, arecs, holes, live;
    struct fusion_incident **incs;
    size_t nincs, aincs;
    uint64_t stamp;  /* marks of one walk (records, incidents) */
    vtime_t longest; /* the longest window ever added */
};

/* ---- small helpers ---------------------------------------------------------------------- */

void fusion_rvec_push(struct fusion_rvec *v, const struct fusion_report *r)
{
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 16;
        v->v = xrealloc(v->v, v->alloc * sizeof(*v->v));
    }
    v->v[v->n++] = r;
}

void fusion_rvec_remove_at(struct fusion_rvec *v, size_t i)
{
    memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(*v->v));
    v->n--;
}

void fusion_rvec_release(struct fusion_rvec *v)
{
    free(v->v);
    v->v = NULL;
    v->n = v->alloc = 0;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return mix64(h);
}

static uint64_t hash_ab(int64_t a, int64_t b)
{
    return mix64((uint64_t)a * UINT64_C(0x9e3779b97f4a7c15) ^ mix64((uint64_t)b));
}

static bool mentry_eq(const struct mentry *e, uint64_t h, int64_t a, int64_t b, const char *s)
{
    if (e->h != h || e->a != a || e->b != b)
        return false;
    if (!s || !e->s)
        return s == e->s;
    return strcmp(s, e->s) == 0;
}

static struct mentry *map_find(const struct map *m, uint64_t h, int64_t a, int64_t b, const char *s)
{
    if (!m->size)
        return NULL;
    for (size_t i = h & (m->size - 1);; i = (i + 1) & (m->size - 1)) {
        struct mentry *e = &m->e[i];
        if (!e->val)
            return NULL;
        if (mentry_eq(e, h, a, b, s))
            return e;
    }
}

static void map_put_raw(struct map *m, struct mentry ent)
{
    size_t i = ent.h & (m->size - 1);
    while (m->e[i].val)
        i = (i + 1) & (m->size - 1);
    m->e[i] = ent;
    m->n++;
}

/* True when the entry at j, whose home slot is home, may stay where it is when slot i (before
 * j in its probe chain) is emptied: linear probing's backward shift. */
static bool probe_stays(size_t home, size_t i, size_t j)
{
    return i < j ? home > i && home <= j : home > i || home <= j;
}

/* Removes entry e, mending the probe chains after it. */
static void map_del(struct map *m, struct mentry *e)
{
    size_t mask = m->size - 1, i = (size_t)(e - m->e);
    for (size_t j = (i + 1) & mask; m->e[j].val; j = (j + 1) & mask)
        if (!probe_stays(m->e[j].h & mask, i, j)) {
            m->e[i] = m->e[j];
            i = j;
        }
    memset(&m->e[i], 0, sizeof(m->e[i]));
    m->n--;
}

/* Inserts a new entry (the key must be absent). */
static void map_put(struct map *m, uint64_t h, int64_t a, int64_t b, const char *s, void *val)
{
    if ((m->n + 1) * 2 > m->size) {
        struct map old = *m;
        m->size = old.size ? old.size * 2 : 64;
        m->e = xcalloc(m->size, sizeof(*m->e));
        m->n = 0;
        for (size_t i = 0; i < old.size; i++)
            if (old.e[i].val)
                map_put_raw(m, old.e[i]);
        free(old.e);
    }
    struct mentry ent = {h, a, b, s, val};
    map_put_raw(m, ent);
}

static struct crec *seq_find(const struct seqmap *m, int64_t seq)
{
    if (!m->size)
        return NULL;
    for (size_t i = mix64((uint64_t)seq) & (m->size - 1);; i = (i + 1) & (m->size - 1))
        if (!m->v[i] || m->v[i]->r.seq == seq)
            return m->v[i];
}

static void seq_put_raw(struct seqmap *m, struct crec *cr)
{
    size_t i = mix64((uint64_t)cr->r.seq) & (m->size - 1);
    while (m->v[i])
        i = (i + 1) & (m->size - 1);
    m->v[i] = cr;
    m->n++;
}

/* Inserts a record whose seq is absent. */
static void seq_put(struct seqmap *m, struct crec *cr)
{
    if ((m->n + 1) * 2 > m->size) {
        struct seqmap old = *m;
        m->size = old.size ? old.size * 2 : 256;
        m->v = xcalloc(m->size, sizeof(*m->v));
        m->n = 0;
        for (size_t i = 0; i < old.size; i++)
            if (old.v[i])
                seq_put_raw(m, old.v[i]);
        free(old.v);
    }
    seq_put_raw(m, cr);
}

/* Removes a stored record: linear probing's backward shift, so that no probe chain breaks. */
static void seq_del(struct seqmap *m, const struct crec *cr)
{
    size_t mask = m->size - 1, i = mix64((uint64_t)cr->r.seq) & mask;
    while (m->v[i] != cr)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; m->v[j]; j = (j + 1) & mask)
        if (!probe_stays(mix64((uint64_t)m->v[j]->r.seq) & mask, i, j)) {
            m->v[i] = m->v[j];
            i = j;
        }
    m->v[i] = NULL;
    m->n--;
}

/* n rounded up to the alignment of anything. */
static size_t aligned(size_t n)
{
    return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/* n zeroed bytes, aligned for anything, that live as long as the correlator. */
static void *slab_alloc(struct fusion_correlator *c, size_t n)
{
    n = aligned(n);
    struct slab *sl = c->slabs;
    if (!sl || sl->size - sl->used < n) {
        size_t size = n > SLAB_BYTES - sizeof(*sl) ? n : SLAB_BYTES - sizeof(*sl);
        sl = xmalloc(sizeof(*sl) + size);
        sl->used = 0;
        sl->size = size;
        sl->next = c->slabs;
        c->slabs = sl;
    }
    void *p = sl->mem + sl->used;
    sl->used += n;
    return memset(p, 0, n);
}

/* A zeroed record of n bytes: a spare one of that size, or new. */
static struct crec *rec_alloc(struct fusion_correlator *c, size_t n)
{
    n = aligned(n);
    struct crec *cr;
    struct spares *sp = n <= SPARE_MAX ? &c->spare[n / ALIGN] : NULL;
    if (sp && sp->n) {
        cr = sp->v[--sp->n];
        UNPOISON(cr, n);
        memset(cr, 0, n);
    } else if (sp) {
        cr = slab_alloc(c, n);
    } else {
        cr = xcalloc(1, n);
        c->big_bytes += n;
    }
    cr->size = n;
    return cr;
}

/* Puts a record no one refers to any more on the spare list of its size (or frees it). */
static void rec_recycle(struct fusion_correlator *c, struct crec *cr)
{
    size_t n = cr->size;
    if (n > SPARE_MAX) {
        c->big_bytes -= n;
        free(cr);
        return;
    }
    struct spares *sp = &c->spare[n / ALIGN];
    if (sp->n == sp->alloc) {
        sp->alloc = sp->alloc ? sp->alloc * 2 : 16;
        sp->v = xrealloc(sp->v, sp->alloc * sizeof(*sp->v));
    }
    sp->v[sp->n++] = cr;
    POISON(cr, n);
}

/* Copies s (may be NULL) to *at, which moves past it. */
static const char *copy_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*at, s, n);
    *at += n;
    return d;
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* ---- geometry and compatibility --------------------------------------------------------- */

void fusion_corr_params_default(struct fusion_corr_params *p)
{
    p->radius_m = 2000;
    p->tolerance_us = 3600 * VTIME_US_PER_SEC;
    p->max_precision_m = 10000;
    p->cell_m = 5000;
}

double fusion_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
    double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
    double a = s1 * s1 + cos(lat1 * r) * cos(lat2 * r) * s2 * s2;
    if (a > 1)
        a = 1;
    return 2 * EARTH_R_M * asin(sqrt(a));
}

void fusion_report_of_row(const struct store_report_row *row, struct fusion_report *fr)
{
    *fr = (struct fusion_report){
        .seq = row->seq,
        .id = row->id,
        .acl = row->acl,
        .source_ref = row->source_ref[0] ? row->source_ref : NULL,
        .future = row->future,
        .start = row->start,
        .end = row->end,
        .lat = row->has_point ? row->lat : NAN,
        .lon = row->has_point ? row->lon : NAN,
        .precision_m = row->precision_m,
        .reliability = row->reliability ? row->reliability : 'F',
        .credibility = row->credibility ? row->credibility : 6,
        .zone = row->area[0] ? row->area : NULL,
        .dist_to_line_m = -1,
        .has_fatalities = row->fatalities >= 0,
        .fatalities = row->fatalities > 0 ? row->fatalities : 0,
        .injured = row->injured,
        .aggregate = strncmp(row->source_ref, "casualties:", 11) == 0,
        .civilians = row->target && strcmp(row->target, "civilians") == 0,
        .added = row->added,
    };
    snprintf(fr->event, sizeof fr->event, "%s", row->event);
    snprintf(fr->mode, sizeof fr->mode, "%s", row->mode);
}

bool fusion_report_located(const struct fusion_report *r)
{
    return isfinite(r->lat) && isfinite(r->lon) && fabs(r->lat) <= 90 && fabs(r->lon) <= 180;
}

static const char *const mode_families[][3] = {
    {"aerial", "drone", NULL},
    {"heavy-weapons", "explosives", NULL},
    {"troops", "weapons", NULL},
};

/* Equality of two codes ignoring ASCII case: strcasecmp in the C locale without the cost of
 * its locale (this is the correlator's innermost test). */
static bool code_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned x = (unsigned char)*a, y = (unsigned char)*b;
        x += x - 'A' < 26u ? 32 : 0;
        y += y - 'A' < 26u ? 32 : 0;
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

static int mode_family(const char *m)
{
    for (size_t f = 0; f < sizeof(mode_families) / sizeof(mode_families[0]); f++)
        for (size_t i = 0; mode_families[f][i]; i++)
            if (code_eq(m, mode_families[f][i]))
                return (int)f;
    return -1;
}

bool fusion_events_compatible(const struct fusion_report *a, const struct fusion_report *b)
{
    if (a->future != b->future)
        return false;
    if (!code_eq(a->event, b->event))
        return false;
    if (!a->mode[0] || !b->mode[0] || code_eq(a->mode, b->mode))
        return true;
    int fa = mode_family(a->mode);
    return fa >= 0 && fa == mode_family(b->mode);
}

static double capped(const struct fusion_corr_params *p, double prec)
{
    return prec < p->max_precision_m ? prec : p->max_precision_m;
}

bool fusion_reports_near(const struct fusion_corr_params *p, const struct fusion_report *a,
                         const struct fusion_report *b, double dist_m)
{
    if (fusion_report_located(a) && fusion_report_located(b)) {
        double lim = dist_m + capped(p, a->precision_m) + capped(p, b->precision_m);
        /* Two points are at least their difference of latitude apart (the meridian is the
         * shortest way to the other's parallel): most candidates fail without the haversine. */
        if (fabs(a->lat - b->lat) * M_PER_DEG > lim)
            return false;
        return fusion_distance_m(a->lat, a->lon, b->lat, b->lon) <= lim;
    }
    return a->zone && b->zone && strcmp(a->zone, b->zone) == 0;
}

bool fusion_reports_overlap(const struct fusion_report *a, const struct fusion_report *b,
                            vtime_t tol_us)
{
    return a->start <= b->end + tol_us && b->start <= a->end + tol_us;
}

static bool same_ref(const struct fusion_report *a, const struct fusion_report *b)
{
    return a->source_ref && b->source_ref && strcmp(a->source_ref, b->source_ref) == 0;
}

/* Place: centres within R plus the sharper of the two precisions (capped). A vague report is
 * tied only to what lies where it points, never to everything within its own radius. */
static bool same_place(const struct fusion_corr_params *p, const struct fusion_report *a,
                       const struct fusion_report *b)
{
    if (fusion_report_located(a) && fusion_report_located(b)) {
        double pa = capped(p, a->precision_m), pb = capped(p, b->precision_m);
        double lim = p->radius_m + (pa < pb ? pa : pb);
        if (fabs(a->lat - b->lat) * M_PER_DEG > lim)
            return false;
        return fusion_distance_m(a->lat, a->lon, b->lat, b->lon) <= lim;
    }
    return a->zone && b->zone && strcmp(a->zone, b->zone) == 0;
}

/* Time: reports timed to within T (both windows shorter than T) overlap once widened by T.
 * Longer windows (a day, a week, a month: the sources' own time precision) are not widened,
 * and must share more than half of the longer one: a day-precision event is its day, not the
 * next one; a month-precision report is not the same as every event of its month; "3 March"
 * and "3-4 March" are ambiguous (the second may be the 4th), so they stay apart. */
static bool same_time(const struct fusion_corr_params *p, const struct fusion_report *a,
                      const struct fusion_report *b)
{
    vtime_t tol = p->tolerance_us, da = a->end - a->start, db = b->end - b->start;
    if (da < tol && db < tol)
        return fusion_reports_overlap(a, b, tol);
    vtime_t lo = a->start > b->start ? a->start : b->start;
    vtime_t hi = a->end < b->end ? a->end : b->end;
    /* windows end on their last second (an importer's day is 00:00:00 to 23:59:59) */
    vtime_t longer = (da > db ? da : db) + VTIME_US_PER_SEC;
    return hi >= lo && 2 * (hi - lo + VTIME_US_PER_SEC) > longer;
}

/* Death tolls: unknown on either side, or within 2 or half the larger of each other. */
static bool same_toll(const struct fusion_report *a, const struct fusion_report *b)
{
    if (!a->has_fatalities || !b->has_fatalities)
        return true;
    int64_t hi = a->fatalities > b->fatalities ? a->fatalities : b->fatalities;
    int64_t lo = a->fatalities > b->fatalities ? b->fatalities : a->fatalities;
    int64_t tol = hi / 2 > 2 ? hi / 2 : 2;
    return hi - lo <= tol;
}

bool fusion_reports_match(const struct fusion_corr_params *p, const struct fusion_report *a,
                          const struct fusion_report *b)
{
    return fusion_events_compatible(a, b) && same_time(p, a, b) && same_place(p, a, b) &&
           (same_ref(a, b) || same_toll(a, b));
}

bool fusion_reports_conflict(const struct fusion_report *a, const struct fusion_report *b)
{
    return a->acl.owner == b->acl.owner && !same_ref(a, b);
}

static bool code_ok(const char *c, bool empty_ok)
{
    const char *nul = memchr(c, '\0', FUSION_CODE_SZ);
    return nul && (empty_ok || nul != c);
}

int fusion_report_check(const struct fusion_report *r)
{
    if (!r || !code_ok(r->event, false) || !code_ok(r->mode, true))
        return VIGIL_EINVAL;
    if (r->start > r->end)
        return VIGIL_EINVAL;
    if (r->reliability < 'A' || r->reliability > 'F' || r->credibility < 1 || r->credibility > 6)
        return VIGIL_EINVAL;
    if (!(r->precision_m >= 0) || !isfinite(r->precision_m))
        return VIGIL_EINVAL;
    if (isnan(r->dist_to_line_m))
        return VIGIL_EINVAL;
    return 0;
}

/* ---- buckets ---------------------------------------------------------------------------- */

static int rep_cmp(const struct fusion_report *a, const struct fusion_report *b)
{
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* First index whose start >= t. */
static size_t bucket_lower(const struct bucket *bk, vtime_t t)
{
    size_t lo = 0, hi = bk->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (bk->v[mid]->start < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index not before r in (start, seq) order: a binary search, since one partner's burst
 * may put thousands of reports at one start. */
static size_t bucket_at(const struct bucket *bk, const struct fusion_report *r)
{
    size_t lo = 0, hi = bk->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rep_cmp(bk->v[mid], r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void bucket_insert(struct bucket *bk, const struct fusion_report *r)
{
    if (bk->n == bk->alloc) {
        bk->alloc = bk->alloc ? bk->alloc * 2 : 8;
        bk->v = xrealloc(bk->v, bk->alloc * sizeof(*bk->v));
    }
    size_t i = bucket_at(bk, r);
    memmove(&bk->v[i + 1], &bk->v[i], (bk->n - i) * sizeof(*bk->v));
    bk->v[i] = r;
    bk->n++;
    if (r->end - r->start > bk->max_dur)
        bk->max_dur = r->end - r->start;
}

/* Files r in its partner's bucket of slot sl. */
static void slot_insert(struct slot *sl, const struct fusion_report *r)
{
    struct bucket *bk = sl->first;
    while (bk && bk->owner != r->acl.owner)
        bk = bk->next;
    if (!bk) {
        bk = xcalloc(1, sizeof(*bk));
        bk->owner = r->acl.owner;
        bk->next = sl->first;
        sl->first = bk;
    }
    bucket_insert(bk, r);
}

/* Takes r out of the slot of map entry e, and drops its bucket, then the slot, once empty: the
 * indexes keep the cells and zones that hold reports, not every place ever reported. */
static void bucket_remove(struct map *m, struct mentry *e, const struct fusion_report *r)
{
    struct slot *sl = e->val;
    struct bucket **link = &sl->first;
    while (*link && (*link)->owner != r->acl.owner)
        link = &(*link)->next;
    struct bucket *bk = *link;
    if (!bk)
        return;
    size_t i = bucket_at(bk, r);
    if (i == bk->n || bk->v[i] != r)
        return;
    memmove(&bk->v[i], &bk->v[i + 1], (bk->n - i - 1) * sizeof(*bk->v));
    bk->n--; /* max_dur stays: still a bound */
    if (bk->n)
        return;
    *link = bk->next;
    free(bk->v);
    free(bk);
    if (sl->first)
        return;
    map_del(m, e);
    free(sl->name);
    free(sl);
}

static double cell_deg(const struct fusion_correlator *c)
{
    return c->p.cell_m / M_PER_DEG;
}

static int64_t cell_of(double deg, double size)
{
    return (int64_t)floor(deg / size);
}

static struct slot *cell_slot(struct fusion_correlator *c, int64_t cx, int64_t cy)
{
    uint64_t h = hash_ab(cx, cy);
    struct mentry *e = map_find(&c->cells, h, cx, cy, NULL);
    if (e)
        return e->val;
    struct slot *sl = xcalloc(1, sizeof(*sl));
    map_put(&c->cells, h, cx, cy, NULL, sl);
    return sl;
}

static struct slot *zone_slot(struct fusion_correlator *c, const char *zone, bool create)
{
    uint64_t h = hash_str(zone);
    struct mentry *e = map_find(&c->zones, h, 0, 0, zone);
    if (e || !create)
        return e ? e->val : NULL;
    struct slot *sl = xcalloc(1, sizeof(*sl));
    sl->name = xstrdup(zone);
    map_put(&c->zones, h, 0, 0, sl->name, sl);
    return sl;
}

/* ---- incidents -------------------------------------------------------------------------- */

static void inc_push(struct fusion_incident *inc, const struct fusion_report *r)
{
    if (inc->n == inc->alloc) {
        inc->alloc *= 4;
        const struct fusion_report **m = xmalloc(inc->alloc * sizeof(*m));
        memcpy(m, inc->m, inc->n * sizeof(*m));
        if (inc->m != &inc->one)
            free(inc->m);
        inc->m = m;
    }
    inc->m[inc->n++] = r;
    if (r->seq < inc->id)
        inc->id = r->seq;
    if (r->seq > inc->maxseq)
        inc->maxseq = r->seq;
}

/* Starts the incident of the new record cr, with cr alone in it. */
static void inc_new(struct fusion_correlator *c, struct crec *cr)
{
    struct fusion_incident *inc = &cr->own;
    inc->id = inc->maxseq = cr->r.seq;
    inc->one = &cr->r;
    inc->m = &inc->one;
    inc->n = inc->alloc = 1;
    if (c->nincs == c->aincs) {
        c->aincs = c->aincs ? c->aincs * 2 : 64;
        c->incs = xrealloc(c->incs, c->aincs * sizeof(*c->incs));
    }
    inc->pos = c->nincs;
    c->incs[c->nincs++] = inc;
    cr->inc = inc;
}

/* Removes an incident emptied by a merge (its struct stays in the record that started it). */
static void inc_drop(struct fusion_correlator *c, struct fusion_incident *inc)
{
    struct fusion_incident *last = c->incs[--c->nincs];
    c->incs[inc->pos] = last;
    last->pos = inc->pos;
    if (inc->m != &inc->one)
        free(inc->m);
    inc->m = NULL;
    inc->n = inc->alloc = 0;
}

/* ---- the correlator --------------------------------------------------------------------- */

struct fusion_correlator *fusion_corr_new(const struct fusion_corr_params *p)
{
    struct fusion_correlator *c = xcalloc(1, sizeof(*c));
    c->p = *p;
    if (!(c->p.cell_m >= 100))
        c->p.cell_m = 100;
    return c;
}

static void map_free_buckets(struct map *m)
{
    for (size_t i = 0; i < m->size; i++) {
        struct slot *sl = m->e[i].val;
        if (!sl)
            continue;
        for (struct bucket *bk = sl->first, *next; bk; bk = next) {
            next = bk->next;
            free(bk->v);
            free(bk);
        }
        free(sl->name);
        free(sl);
    }
    free(m->e);
}

void fusion_corr_free(struct fusion_correlator *c)
{
    if (!c)
        return;
    map_free_buckets(&c->cells);
    map_free_buckets(&c->zones);
    free(c->seqs.v);
    for (size_t i = 0; i < c->nincs; i++)
        if (c->incs[i]->m != &c->incs[i]->one)
            free(c->incs[i]->m);
    free(c->incs);
    for (size_t i = 0; i < c->nrecs; i++)
        if (c->recs[i] && c->recs[i]->size > SPARE_MAX)
            free(c->recs[i]);
    free(c->recs);
    for (size_t k = 0; k < SPARE_CLASSES; k++) {
        for (size_t i = 0; i < c->spare[k].n; i++)
            UNPOISON(c->spare[k].v[i], k * ALIGN);
        free(c->spare[k].v);
    }
    for (struct slab *sl = c->slabs, *next; sl; sl = next) {
        next = sl->next;
        free(sl);
    }
    free(c);
}

void *fusion_corr_extra(const struct fusion_report *stored)
{
    return ((struct crec *)(uintptr_t)stored)->extra;
}

const struct fusion_report *fusion_corr_get(const struct fusion_correlator *c, int64_t seq)
{
    struct crec *cr = seq_find(&c->seqs, seq);
    return cr ? &cr->r : NULL;
}

const struct fusion_report *fusion_corr_next(const struct fusion_correlator *c, size_t *i)
{
    for (; *i < c->nrecs; (*i)++) {
        const struct crec *cr = c->recs[*i];
        if (cr && cr->inc) {
            (*i)++;
            return &cr->r;
        }
    }
    return NULL;
}

size_t fusion_corr_count(const struct fusion_correlator *c)
{
    return c->live;
}

static size_t map_memory(const struct map *m)
{
    size_t b = m->size * sizeof(*m->e);
    for (size_t i = 0; i < m->size; i++) {
        const struct slot *sl = m->e[i].val;
        if (!sl)
            continue;
        b += sizeof(*sl) + str_size(sl->name);
        for (const struct bucket *bk = sl->first; bk; bk = bk->next)
            b += sizeof(*bk) + bk->alloc * sizeof(*bk->v);
    }
    return b;
}

size_t fusion_corr_memory(const struct fusion_correlator *c)
{
    size_t b = sizeof(*c) + c->seqs.size * sizeof(*c->seqs.v) + c->arecs * sizeof(*c->recs) +
               c->aincs * sizeof(*c->incs) + map_memory(&c->cells) + map_memory(&c->zones) +
               c->big_bytes;
    for (size_t k = 0; k < SPARE_CLASSES; k++)
        b += c->spare[k].alloc * sizeof(*c->spare[k].v);
    for (const struct slab *sl = c->slabs; sl; sl = sl->next)
        b += sizeof(*sl) + sl->size;
    for (size_t i = 0; i < c->nincs; i++)
        if (c->incs[i]->m != &c->incs[i]->one)
            b += c->incs[i]->alloc * sizeof(*c->incs[i]->m);
    return b;
}

size_t fusion_corr_incidents(const struct fusion_correlator *c)
{
    return c->nincs;
}

const struct fusion_incident *fusion_corr_incident(const struct fusion_report *stored)
{
    return ((const struct crec *)stored)->inc;
}

int64_t fusion_incident_id(const struct fusion_incident *inc)
{
    return inc->id;
}

const struct fusion_report *const *fusion_incident_reports(const struct fusion_incident *inc,
                                                           size_t *n)
{
    *n = inc->n;
    return inc->m;
}

/* The query of fusion_corr_near_capped over one slot: from each partner's bucket, the reports
 * whose windows meet [t0, t1] (from at's own partner, only the own_cap earliest) that are near
 * enough. */
static void near_slot(const struct fusion_correlator *c, const struct slot *sl,
                      const struct fusion_report *at, double dist_m, vtime_t t0, vtime_t t1,
                      size_t own_cap, bool need_located, bool need_unlocated,
                      struct fusion_rvec *out)
{
    for (const struct bucket *bk = sl->first; bk; bk = bk->next) {
        size_t seen = 0, cap = bk->owner == at->acl.owner ? own_cap : SIZE_MAX;
        if (!cap)
            continue;
        for (size_t i = bucket_lower(bk, t0 - bk->max_dur); i < bk->n; i++) {
            const struct fusion_report *r = bk->v[i];
            if (r->start > t1 || seen == cap)
                break;
            if (r->end < t0)
                continue;
            seen++;
            bool loc = fusion_report_located(r);
            if ((need_located && !loc) || (need_unlocated && loc))
                continue;
            if (fusion_reports_near(&c->p, at, r, dist_m))
                fusion_rvec_push(out, r);
        }
    }
}

void fusion_corr_near(const struct fusion_correlator *c, const struct fusion_report *at,
                      double dist_m, vtime_t t0, vtime_t t1, struct fusion_rvec *out)
{
    fusion_corr_near_capped(c, at, dist_m, t0, t1, SIZE_MAX, out);
}

void fusion_corr_near_capped(const struct fusion_correlator *c, const struct fusion_report *at,
                             double dist_m, vtime_t t0, vtime_t t1, size_t own_cap,
                             struct fusion_rvec *out)
{
    if (fusion_report_located(at)) {
        double size = cell_deg(c);
        double reach = dist_m + capped(&c->p, at->precision_m) + c->p.max_precision_m;
        double rdeg = reach / M_PER_DEG;
        double maxlat = fabs(at->lat) + rdeg;
        double coslat = maxlat >= 90 ? 0 : cos(maxlat * M_PI / 180);
        if (coslat < MIN_COSLAT)
            coslat = MIN_COSLAT;
        int64_t ny = (int64_t)ceil(rdeg / size), nx = (int64_t)ceil(rdeg / coslat / size);
        int64_t cx = cell_of(at->lon, size), cy = cell_of(at->lat, size);
        for (int64_t y = cy - ny; y <= cy + ny; y++)
            for (int64_t x = cx - nx; x <= cx + nx; x++) {
                struct mentry *e = map_find(&c->cells, hash_ab(x, y), x, y, NULL);
                if (e)
                    near_slot(c, e->val, at, dist_m, t0, t1, own_cap, true, false, out);
            }
    }
    if (at->zone) {
        struct slot *sl = zone_slot((struct fusion_correlator *)(uintptr_t)c, at->zone, false);
        if (sl)
            near_slot(c, sl, at, dist_m, t0, t1, own_cap, false, fusion_report_located(at), out);
    }
}

/* Indexes a stored report in its grid cell and its zone. */
static void index_put(struct fusion_correlator *c, const struct fusion_report *me)
{
    if (fusion_report_located(me)) {
        double size = cell_deg(c);
        slot_insert(cell_slot(c, cell_of(me->lon, size), cell_of(me->lat, size)), me);
    }
    if (me->zone)
        slot_insert(zone_slot(c, me->zone, true), me);
}

/* The stored reports (grouped into incidents) that match r, r itself left out, and of r's own
 * partner only those citing r's source_ref (the others conflict with r: they can neither share
 * its incident nor be moved by it, see regroup), among the FUSION_NEAR_CAP earliest. */
static void near_matches(const struct fusion_correlator *c, const struct fusion_report *r,
                         struct fusion_rvec *out)
{
    struct fusion_rvec cand = {0};
    fusion_corr_near_capped(c, r, c->p.radius_m, r->start - c->p.tolerance_us,
                            r->end + c->p.tolerance_us, r->source_ref ? FUSION_NEAR_CAP : 0, &cand);
    for (size_t i = 0; i < cand.n; i++) {
        const struct crec *o = (const struct crec *)cand.v[i];
        if (&o->r != r && o->inc && fusion_reports_match(&c->p, r, &o->r))
            fusion_rvec_push(out, &o->r);
    }
    fusion_rvec_release(&cand);
}

/* How far apart two matching reports are: km between centres + hours between the starts and
 * between the ends + the relative difference of death tolls. */
static double apart(const struct fusion_report *a, const struct fusion_report *b)
{
    double d = 0;
    if (fusion_report_located(a) && fusion_report_located(b))
        d += fusion_distance_m(a->lat, a->lon, b->lat, b->lon) / 1000;
    d +=
        (double)(llabs(a->start - b->start) + llabs(a->end - b->end)) / (3600.0 * VTIME_US_PER_SEC);
    if (a->has_fatalities && b->has_fatalities) {
        int64_t hi = a->fatalities > b->fatalities ? a->fatalities : b->fatalities;
        d += (double)llabs(a->fatalities - b->fatalities) / (double)(hi + 1);
    }
    return d;
}

/* How far r is from inc (its farthest report), or -1 when inc does not admit r: r must match
 * every report of inc and conflict with none. */
static double inc_apart(const struct fusion_corr_params *p, const struct fusion_incident *inc,
                        const struct fusion_report *r)
{
    double worst = 0;
    for (size_t i = 0; i < inc->n; i++) {
        if (fusion_reports_conflict(inc->m[i], r) || !fusion_reports_match(p, inc->m[i], r))
            return -1;
        double d = apart(inc->m[i], r);
        worst = d > worst ? d : worst;
    }
    return worst;
}

/* The rule of docs/FUSION.md: among the incidents of its matches (already grouped, all with
 * smaller seqs) that admit it, cr joins the nearest (ties: the smallest id); else it starts
 * its own. */
static void assign(struct fusion_correlator *c, struct crec *cr, const struct fusion_rvec *m)
{
    uint64_t stamp = ++c->stamp;
    struct fusion_incident **incs = NULL;
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct fusion_incident *inc = ((const struct crec *)m->v[i])->inc;
        if (!inc || inc->mark == stamp || fusion_reports_conflict(m->v[i], &cr->r))
            continue;
        inc->mark = stamp;
        incs = xrealloc(incs, (n + 1) * sizeof(*incs));
        incs[n++] = inc;
    }
    struct fusion_incident *to = NULL;
    double best = 0;
    for (size_t i = 0; i < n; i++) {
        double d = inc_apart(&c->p, incs[i], &cr->r);
        if (d >= 0 && (!to || d < best || (d == best && incs[i]->id < to->id))) {
            to = incs[i];
            best = d;
        }
    }
    free(incs);
    if (to) {
        inc_push(to, &cr->r);
        cr->inc = to;
    } else {
        inc_new(c, cr);
    }
}

static int rep_seq_cmp(const void *x, const void *y)
{
    int64_t a = (*(const struct fusion_report *const *)x)->seq;
    int64_t b = (*(const struct fusion_report *const *)y)->seq;
    return a < b ? -1 : a > b;
}

/* Forms again the incidents of the component of `from` under the match relation (the reports
 * reachable from it by matches), as if its reports had arrived in seq order: after `from`
 * came out of order, or (gone) after `from` was withdrawn (it is already out of the indexes,
 * and is left out). */
static void regroup(struct fusion_correlator *c, struct crec *from, bool gone)
{
    uint64_t stamp = ++c->stamp;
    struct fusion_rvec comp = {0}, m = {0};
    from->mark = stamp;
    fusion_rvec_push(&comp, &from->r);
    for (size_t k = 0; k < comp.n; k++) {
        m.n = 0;
        near_matches(c, comp.v[k], &m);
        for (size_t i = 0; i < m.n; i++) {
            struct crec *o = (struct crec *)(uintptr_t)m.v[i];
            if (o->mark != stamp) {
                o->mark = stamp;
                fusion_rvec_push(&comp, &o->r);
            }
        }
    }
    for (size_t k = 0; k < comp.n; k++) {
        struct fusion_incident *inc = ((struct crec *)(uintptr_t)comp.v[k])->inc;
        if (inc && inc->m)
            inc_drop(c, inc);
    }
    for (size_t k = 0; k < comp.n; k++)
        ((struct crec *)(uintptr_t)comp.v[k])->inc = NULL;
    if (gone)
        fusion_rvec_remove_at(&comp, 0);
    qsort(comp.v, comp.n, sizeof(*comp.v), rep_seq_cmp);
    for (size_t k = 0; k < comp.n; k++) {
        m.n = 0;
        near_matches(c, comp.v[k], &m); /* only the ones already regrouped have an incident */
        assign(c, (struct crec *)(uintptr_t)comp.v[k], &m);
    }
    fusion_rvec_release(&comp);
    fusion_rvec_release(&m);
}

int fusion_corr_add(struct fusion_correlator *c, const struct fusion_report *r, size_t extra,
                    const struct fusion_report **out)
{
    int rc = fusion_report_check(r);
    if (rc)
        return rc;
    if (fusion_corr_get(c, r->seq))
        return VIGIL_EEXIST;
    size_t head = aligned(sizeof(struct crec) + extra);
    struct crec *cr = rec_alloc(c, head + str_size(r->id) + str_size(r->source_ref) +
                                       str_size(r->zone) + str_size(r->side));
    char *at = (char *)cr + head;
    cr->r = *r;
    cr->r.id = copy_str(&at, r->id);
    cr->r.source_ref = copy_str(&at, r->source_ref);
    cr->r.zone = copy_str(&at, r->zone);
    cr->r.side = copy_str(&at, r->side);
    const struct fusion_report *me = &cr->r;

    if (c->nrecs == c->arecs) {
        c->arecs = c->arecs ? c->arecs * 2 : 256;
        c->recs = xrealloc(c->recs, c->arecs * sizeof(*c->recs));
    }
    cr->pos = c->nrecs;
    c->recs[c->nrecs++] = cr;
    c->live++;
    if (r->end - r->start > c->longest)
        c->longest = r->end - r->start;
    seq_put(&c->seqs, cr);
    index_put(c, me);

    struct fusion_rvec cand = {0};
    near_matches(c, me, &cand);
    bool in_order = true;
    for (size_t i = 0; i < cand.n && in_order; i++) {
        const struct crec *o = (const struct crec *)cand.v[i];
        in_order = o->r.seq < me->seq && o->inc->maxseq < me->seq;
    }
    if (in_order)
        assign(c, cr, &cand);
    else
        regroup(c, cr, false);
    fusion_rvec_release(&cand);
    *out = me;
    return 0;
}

/* Takes a stored report out of the seq, grid and zone indexes. */
static void unindex(struct fusion_correlator *c, struct crec *cr)
{
    seq_del(&c->seqs, cr);
    const struct fusion_report *me = &cr->r;
    if (fusion_report_located(me)) {
        double size = cell_deg(c);
        int64_t cx = cell_of(me->lon, size), cy = cell_of(me->lat, size);
        bucket_remove(&c->cells, map_find(&c->cells, hash_ab(cx, cy), cx, cy, NULL), me);
    }
    if (me->zone)
        bucket_remove(&c->zones, map_find(&c->zones, hash_str(me->zone), 0, 0, me->zone), me);
}

int fusion_corr_withdraw(struct fusion_correlator *c, int64_t seq, const struct fusion_report **out)
{
    struct crec *cr = seq_find(&c->seqs, seq);
    if (!cr)
        return VIGIL_ENOENT;
    unindex(c, cr);
    const struct fusion_report *me = &cr->r;
    regroup(c, cr, true);
    cr->inc = NULL; /* the mark of a withdrawn record */
    c->live--;
    *out = me;
    return 0;
}

void fusion_corr_recycle(struct fusion_correlator *c, const struct fusion_report *withdrawn)
{
    struct crec *cr = (struct crec *)(uintptr_t)withdrawn;
    if (cr->inc)
        return; /* not withdrawn */
    c->recs[cr->pos] = NULL;
    rec_recycle(c, cr);
    /* Close the holes of the arrival order once they are half of it. */
    if (++c->holes * 2 > c->nrecs) {
        size_t j = 0;
        for (size_t i = 0; i < c->nrecs; i++)
            if (c->recs[i]) {
                c->recs[j] = c->recs[i];
                c->recs[j]->pos = j;
                j++;
            }
        c->nrecs = j;
        c->holes = 0;
    }
}

void fusion_corr_forget(struct fusion_correlator *c, const struct fusion_incident *inc)
{
    size_t n = inc->n;
    struct crec **v = xmalloc((n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = (struct crec *)(uintptr_t)inc->m[i];
    /* the incident's struct lives in the record of the report that started it: drop it first */
    inc_drop(c, (struct fusion_incident *)(uintptr_t)inc);
    for (size_t i = 0; i < n; i++) {
        unindex(c, v[i]);
        v[i]->inc = NULL;
        c->live--;
        fusion_corr_recycle(c, &v[i]->r);
    }
    free(v);
}

vtime_t fusion_corr_longest(const struct fusion_correlator *c)
{
    return c->longest;
}

bool fusion_corr_withdrawn(const struct fusion_report *stored)
{
    return !((const struct crec *)stored)->inc;
}

void fusion_components(const struct fusion_corr_params *p, const struct fusion_report *const *reps,
                       size_t n, size_t *comp)
{
    /* The correlator's rule on this set: in seq order, each report joins the first group
     * (groups in order of their first report) that it matches entirely and conflicts with
     * nowhere, else starts one. */
    size_t *ord = xmalloc((n + 1) * sizeof(*ord));
    for (size_t i = 0; i < n; i++)
        ord[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort by seq: evidence sets are small */
        for (size_t j = i; j > 0 && reps[ord[j - 1]]->seq > reps[ord[j]]->seq; j--) {
            size_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    /* per group (by its head's index): its size, and for the report being placed the stamp
     * of the last visit, whether a member refuses it, how many admit it, the farthest */
    size_t *size = xcalloc(n + 1, sizeof(*size)), *stamp = xcalloc(n + 1, sizeof(*stamp));
    size_t *cnt = xcalloc(n + 1, sizeof(*cnt)), *pos = xcalloc(n + 1, sizeof(*pos));
    size_t *touched = xmalloc((n + 1) * sizeof(*touched));
    double *worst = xcalloc(n + 1, sizeof(*worst));
    bool *bad = xcalloc(n + 1, sizeof(*bad));
    for (size_t k = 0; k < n; k++) {
        size_t i = ord[k], to = i, nt = 0;
        double best = 0;
        pos[i] = k;
        for (size_t h = 0; h < k; h++) { /* one pass over the reports placed before */
            const struct fusion_report *o = reps[ord[h]];
            size_t g = comp[ord[h]];
            if (stamp[g] != k + 1) {
                stamp[g] = k + 1;
                cnt[g] = 0;
                worst[g] = 0;
                bad[g] = false;
                touched[nt++] = g;
            }
            if (bad[g])
                continue;
            if (!fusion_reports_match(p, o, reps[i]) || fusion_reports_conflict(o, reps[i])) {
                bad[g] = true;
                continue;
            }
            cnt[g]++;
            if (apart(o, reps[i]) > worst[g])
                worst[g] = apart(o, reps[i]);
        }
        for (size_t t = 0; t < nt; t++) { /* groups in seq order of their heads: ties first */
            size_t g = touched[t];
            if (bad[g] || cnt[g] != size[g])
                continue;
            if (to == i || worst[g] < best || (worst[g] == best && pos[g] < pos[to])) {
                to = g;
                best = worst[g];
            }
        }
        comp[i] = to;
        size[to]++;
    }
    free(size);
    free(stamp);
    free(cnt);
    free(pos);
    free(touched);
    free(worst);
    free(bad);
    free(ord);
}
