/* objects.c - STIX object versions: put, delete, and the paged query behind TAXII reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

/* "seq IN (...)": the rows of the STIX id bound at parameter P, through both levels of the id
 * index (schema.c, migration 6). Callers also compare stix_id: idh may collide. The other
 * terms are written "+coll": a unary plus keeps SQLite from scanning a collection's whole
 * objects_added index instead of looking the few rows up by seq. */
#define ROWS_OF_ID(p)                                                                              \
    "seq IN (SELECT seq FROM object_ids WHERE idh = vigil_idh(" p ") UNION ALL"                    \
    " SELECT seq FROM object_ids_new WHERE idh = vigil_idh(" p "))"

/* The rows of (coll ?1, id ?2, owner ?3). */
#define OWN_ROWS ROWS_OF_ID("?2") " AND +coll = ?1 AND stix_id = ?2 AND owner = ?3"

/* Moves object_ids_new into object_ids once it holds this many rows: large enough that a
 * merge touches each page of object_ids for many rows, small enough that a commit's inserts
 * into object_ids_new share pages (2,048 to 16,384 measured alike, docs/BENCHMARKS.md). */
#define IDS_MERGE_ROWS 8192

/* ---- the id rows held during a bulk load (store_txn.held) ----------------------------------
 * A bulk load stores about two objects a row, and each one's id row, a random key, went into
 * object_ids_new: a B-tree of two million rows by the end of a million-row import (its merge
 * into object_ids runs only between transactions), 15% of the import's CPU. During a bulk
 * load the rows are held here instead and written into object_ids in key order at its end
 * (objects_held_end, from store_txn_reports_bulk_end). What reads the id index meanwhile:
 * a put's look-up of the id's versions and the flags it clears read the held rows too (below);
 * anything else that reads it by SQL on the writer (a delete, a query on the writer's
 * connection, the numbering reset) first writes the held rows out (objects_held_flush). */

void objects_hold_ids(struct store_txn *t)
{
    t->held.on = true;
}

void objects_held_drop(struct store_txn *t)
{
    free(t->held.rows);
    free(t->held.heads);
    memset(&t->held, 0, sizeof t->held);
}

static size_t held_bucket(const struct store_txn *t, int64_t idh)
{
    return (size_t)((uint64_t)idh & (t->held.nbuckets - 1));
}

/* The chains again for twice as many buckets (at least 4096). */
static int held_rehash(struct store_txn *t)
{
    size_t nb = t->held.nbuckets ? t->held.nbuckets * 2 : 4096;
    int32_t *heads = malloc(nb * sizeof *heads);
    if (!heads)
        return VIGIL_ETOOBIG;
    memset(heads, 0xff, nb * sizeof *heads); /* -1 */
    free(t->held.heads);
    t->held.heads = heads;
    t->held.nbuckets = nb;
    for (size_t i = 0; i < t->held.n; i++) {
        size_t b = held_bucket(t, t->held.rows[i].idh);
        t->held.rows[i].next = heads[b];
        heads[b] = (int32_t)i;
    }
    return 0;
}

/* Holds (idh, seq); nonzero when it cannot (no memory), and then the caller stores it by SQL. */
static int held_add(struct store_txn *t, int64_t idh, int64_t seq)
{
    if (t->held.n == t->held.cap) {
        size_t cap = t->held.cap ? t->held.cap * 2 : 65536;
        struct held_id *rows = cap < INT32_MAX ? realloc(t->held.rows, cap * sizeof *rows) : NULL;
        if (!rows)
            return VIGIL_ETOOBIG;
        t->held.rows = rows;
        t->held.cap = cap;
    }
    if (t->held.n >= t->held.nbuckets && held_rehash(t))
        return VIGIL_ETOOBIG;
    size_t b = held_bucket(t, idh);
    t->held.rows[t->held.n] = (struct held_id){idh, seq, t->held.heads[b]};
    t->held.heads[b] = (int32_t)t->held.n++;
    return 0;
}

/* The held rows of idh: i = held_next(t, idh, -2) first, then held_next(t, idh, i); -1 ends. */
static int32_t held_next(const struct store_txn *t, int64_t idh, int32_t i)
{
    if (!t->held.n)
        return -1;
    i = i == -2 ? t->held.heads[held_bucket(t, idh)] : t->held.rows[i].next;
    while (i >= 0 && t->held.rows[i].idh != idh)
        i = t->held.rows[i].next;
    return i;
}

static int held_cmp(const void *a, const void *b)
{
    const struct held_id *x = a, *y = b;
    if (x->idh != y->idh)
        return x->idh < y->idh ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the held rows by (idh, seq). They were added in seq order, so a stable sort by idh
 * does: a radix sort, 16 bits of the key a pass (qsort took 1.5 s at a million rows). */
static void held_sort(struct store_txn *t)
{
    size_t n = t->held.n;
    struct held_id *a = t->held.rows, *b = malloc(n * sizeof *b);
    size_t *count = malloc(65536 * sizeof *count);
    if (!b || !count) {
        free(b);
        free(count);
        qsort(a, n, sizeof *a, held_cmp);
        return;
    }
    for (int shift = 0; shift < 64; shift += 16) { /* four passes: the rows end in a */
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((uint64_t)a[i].idh ^ 1ull << 63) >> shift & 0xffff]++;
        for (size_t k = 0, at = 0; k < 65536; k++) {
            size_t c = count[k];
            count[k] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[((uint64_t)a[i].idh ^ 1ull << 63) >> shift & 0xffff]++] = a[i];
        struct held_id *x = a;
        a = b;
        b = x;
    }
    free(b);
    free(count);
}

int objects_held_flush(struct store_txn *t)
{
    if (!t->held.n)
        return 0;
    struct store_reader *c = t->conn;
    held_sort(t);
    /* OR FAIL, at the top of the job's savepoint: as the merge, no statement journal. */
    sqlite3_stmt *st = conn_stmt(c, "INSERT OR FAIL INTO object_ids VALUES(?, ?)");
    if (!st)
        return VIGIL_ESTORE;
    for (size_t i = 0; i < t->held.n; i++) {
        sqlite3_bind_int64(st, 1, t->held.rows[i].idh);
        sqlite3_bind_int64(st, 2, t->held.rows[i].seq);
        if (step_done(c, st)) {
            log_error("store: the id index's held rows not written: %s", sqlite3_errmsg(c->db));
            return VIGIL_ESTORE;
        }
    }
    bool on = t->held.on;
    objects_held_drop(t);
    t->held.on = on;
    return 0;
}

int objects_held_end(struct store_txn *t)
{
    int rc = objects_held_flush(t);
    objects_held_drop(t);
    return rc;
}

/* Before SQL that reads the id index on the writer's connection: the held rows written. */
static int held_out(struct store_reader *c)
{
    struct store *s = c->owner;
    return s && c == &s->wconn ? objects_held_flush(&s->txn) : 0;
}

/* Clears a version flag (latest or first) on the other versions of (coll, id, owner). */
static int clear_flag(struct store_txn *t, const char *flag, int64_t coll, const char *id,
                      int64_t key, int64_t owner)
{
    struct store_reader *c = t->conn;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE objects SET %s = 0 WHERE " OWN_ROWS " AND %s = 1", flag,
             flag);
    sqlite3_stmt *st = conn_stmt(c, sql);
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    if (step_done(c, st))
        return VIGIL_ESTORE;
    /* and on the held rows of the id (a bulk load) */
    snprintf(sql, sizeof sql,
             "UPDATE objects SET %s = 0 WHERE seq = ?4 AND coll = ?1 AND stix_id = ?2"
             " AND owner = ?3 AND %s = 1",
             flag, flag);
    for (int32_t i = held_next(t, key, -2); i >= 0; i = held_next(t, key, i)) {
        st = conn_stmt(c, sql);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, owner);
        sqlite3_bind_int64(st, 4, t->held.rows[i].seq);
        if (step_done(c, st))
            return VIGIL_ESTORE;
    }
    return 0;
}

/* The writer's Bloom filter of the ids stored: most objects posted are new, and a new id
 * needs no lookup of its versions when the filter has never seen its key. 12 bits and 7
 * probes per key (fewer than 1% false positives, which only cost the lookup); rebuilt twice
 * as large when full of distinct keys, and built at the first put after start (a scan of the
 * id index, sized for its rows: one per version, so at least one per id). */
#define IDF_BITS_PER_KEY 12
#define IDF_PROBES 7

static uint64_t idf_probe(uint64_t key, int i, uint64_t nbits)
{
    uint64_t h2 = (key >> 32 | key << 32) | 1; /* double hashing (Kirsch-Mitzenmacher) */
    return (key + (uint64_t)i * h2) & (nbits - 1);
}

/* Adds key; it counts towards the filter's load only when it was not in already, so that
 * new versions of stored objects (the same id again) do not make it grow. */
static void idf_add(struct store *s, int64_t key)
{
    bool fresh = false;
    for (int i = 0; i < IDF_PROBES; i++) {
        uint64_t b = idf_probe((uint64_t)key, i, s->idf.nbits);
        fresh |= !(s->idf.bits[b / 64] & 1ull << (b % 64));
        s->idf.bits[b / 64] |= 1ull << (b % 64);
    }
    s->idf.keys += fresh;
}

static bool idf_maybe(const struct store *s, int64_t key)
{
    if (!s->idf.bits)
        return true;
    for (int i = 0; i < IDF_PROBES; i++) {
        uint64_t b = idf_probe((uint64_t)key, i, s->idf.nbits);
        if (!(s->idf.bits[b / 64] & 1ull << (b % 64)))
            return false;
    }
    return true;
}

void idf_drop(struct store *s)
{
    free(s->idf.bits);
    s->idf.bits = NULL;
    atomic_store(&s->idf.bytes, 0);
}

/* (Re)builds the filter for at least `keys` keys from the id index. On failure the filter is
 * left unbuilt, and every put looks its id up. */
static int idf_build(struct store *s, struct store_reader *c, long keys)
{
    idf_drop(s);
    s->idf.keys = 0;
    uint64_t nbits = 1u << 20;
    while (nbits < (uint64_t)keys * 2 * IDF_BITS_PER_KEY)
        nbits *= 2;
    sqlite3_stmt *st =
        conn_stmt(c, "SELECT idh FROM object_ids UNION ALL SELECT idh FROM object_ids_new");
    uint64_t *bits = calloc(nbits / 64, sizeof *bits);
    if (!st || !bits) {
        free(bits);
        return VIGIL_ESTORE;
    }
    s->idf.bits = bits;
    s->idf.nbits = nbits;
    atomic_store(&s->idf.bytes, (int64_t)(nbits / 8));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        idf_add(s, sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        idf_drop(s);
        return VIGIL_ESTORE;
    }
    for (size_t i = 0; i < s->txn.held.n; i++) /* a bulk load's, not in the tables yet */
        idf_add(s, s->txn.held.rows[i].idh);
    return 0;
}

/* Builds the filter at the first put, and again twice as large once it is full. */
static void idf_keep(struct store *s, struct store_reader *c)
{
    if (s->idf.failed || (s->idf.bits && (uint64_t)s->idf.keys * IDF_BITS_PER_KEY < s->idf.nbits))
        return;
    sqlite3_stmt *n = conn_stmt(c, "SELECT (SELECT COUNT(*) FROM object_ids) +"
                                   " (SELECT COUNT(*) FROM object_ids_new)");
    if (!n || sqlite3_step(n) != SQLITE_ROW ||
        idf_build(s, c, (long)sqlite3_column_int64(n, 0) + (long)s->txn.held.n + 1) != 0) {
        log_warn("store: no filter of the stored ids; every put looks its id up");
        s->idf.failed = true;
    }
}

/* Whether two serialisations of an object are the same JSON (key order aside). */
static bool same_json(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    json_t *x = json_loadb(a, alen, 0, NULL), *y = json_loadb(b, blen, 0, NULL);
    bool eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

/* What the stored versions of an id tell of a put (store_txn_object_put). */
struct versions {
    bool any, same, differs, foreign;
    vtime_t vmax, vmin;
};

/* One stored version of o's id, the row (owner, version, json) st is on. */
static void version_seen(struct versions *vs, const struct store_object_in *o, sqlite3_stmt *st)
{
    int64_t owner = sqlite3_column_int64(st, 0);
    vtime_t v = sqlite3_column_int64(st, 1);
    if (owner != o->acl.owner) {
        vs->foreign |= o->version != 0; /* observables (version 0) are each partner's own */
        return;
    }
    if (v == o->version && o->version != 0)
        vs->differs |= !same_json((const char *)sqlite3_column_text(st, 2),
                                  (size_t)sqlite3_column_bytes(st, 2), o->json, o->json_len);
    vs->vmax = vs->any && vs->vmax > v ? vs->vmax : v;
    vs->vmin = vs->any && vs->vmin < v ? vs->vmin : v;
    vs->same |= v == o->version;
    vs->any = true;
}

int store_txn_object_put(struct store_txn *t, int64_t coll, const struct store_object_in *o,
                         enum store_put_outcome *outcome, vtime_t *date_added)
{
    struct store_reader *c = t->conn;
    struct store *s = t->s;
    int64_t key = store_idh(o->id, strlen(o->id));
    idf_keep(s, c);
    /* Every stored version of the id, whoever submitted it: few rows, by the id index (a
     * join per level rather than ROWS_OF_ID, which would build a temporary table each time).
     * json last: SQLite reads it (overflow pages and all) only for the row that needs it. */
#define VERSIONS_IN(level)                                                                         \
    "SELECT o.owner, o.version, o.json FROM " level " i, objects o"                                \
    " WHERE i.idh = ?3 AND o.seq = i.seq AND o.coll = ?1 AND o.stix_id = ?2"
    sqlite3_stmt *st =
        conn_stmt(c, VERSIONS_IN("object_ids") " UNION ALL " VERSIONS_IN("object_ids_new"));
#undef VERSIONS_IN
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, key);
    struct versions vs = {0};
    bool seen = idf_maybe(s, key); /* false: this id was never stored */
    while (seen && sqlite3_step(st) == SQLITE_ROW)
        version_seen(&vs, o, st);
    sqlite3_reset(st);
    /* and the versions among the id rows a bulk load holds */
    for (int32_t i = seen ? held_next(t, key, -2) : -1; i >= 0; i = held_next(t, key, i)) {
        st = conn_stmt(c, "SELECT owner, version, json FROM objects"
                          " WHERE seq = ?3 AND coll = ?1 AND stix_id = ?2");
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, t->held.rows[i].seq);
        if (sqlite3_step(st) == SQLITE_ROW)
            version_seen(&vs, o, st);
        sqlite3_reset(st);
    }
    bool any = vs.any, same = vs.same, differs = vs.differs, foreign = vs.foreign;
    vtime_t vmax = vs.vmax, vmin = vs.vmin;

    /* Another partner's object, readable by the submitter or not: adding a version to it
     * would forge it, and storing a second object under its id would make one id stand for
     * two. The same refusal either way, which tells only that the id is taken. */
    if (foreign)
        return VIGIL_EPERM;
    if (differs)
        return VIGIL_ECONFLICT;
    if (same) {
        *outcome = STORE_PUT_EXISTS;
        return 0;
    }
    bool latest = !any || o->version > vmax;
    bool first = !any || o->version < vmin;
    int rc = 0;
    if (any && latest)
        rc = clear_flag(t, "latest", coll, o->id, key, o->acl.owner);
    if (!rc && any && first)
        rc = clear_flag(t, "first", coll, o->id, key, o->acl.owner);
    if (rc)
        return rc;

    /* date_added strictly increases across the whole store, so within each collection too,
     * even if the wall clock steps back. */
    vtime_t now = ts_now();
    vtime_t added = now > t->s->last_added ? now : t->s->last_added + 1;
    st = conn_stmt(c, "INSERT INTO objects(coll, stix_id, type, spec_version, version,"
                      " date_added, owner, tlp, grp, latest, first, json)"
                      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->spec_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, o->version);
    sqlite3_bind_int64(st, 6, added);
    sqlite3_bind_int64(st, 7, o->acl.owner);
    sqlite3_bind_int(st, 8, o->acl.tlp);
    sqlite3_bind_int64(st, 9, o->acl.group);
    sqlite3_bind_int(st, 10, latest);
    sqlite3_bind_int(st, 11, first);
    sqlite3_bind_text(st, 12, o->json, (int)o->json_len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store: object insert failed: %s", sqlite3_errmsg(c->db));
        return VIGIL_ESTORE;
    }
    if (!t->held.on || held_add(t, key, sqlite3_last_insert_rowid(c->db))) {
        st = conn_stmt(c, "INSERT INTO object_ids_new VALUES(?, last_insert_rowid())");
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, key);
        if (step_done(c, st))
            return VIGIL_ESTORE;
        t->s->ids_new++;
    }
    if (s->idf.bits)
        idf_add(s, key);
    t->s->last_added = added;
    *outcome = latest ? STORE_PUT_ADDED : STORE_PUT_ADDED_OLDER;
    if (date_added)
        *date_added = added;
    return 0;
}

int store_txn_objects_put(struct store_txn *t, int64_t coll,
                          const struct store_object_in *const *objs, size_t n,
                          enum store_put_outcome *outcomes, vtime_t *date_added, int *rcs)
{
    /* Each put costs no round trip here: one by one, as the single put. */
    for (size_t i = 0; i < n; i++) {
        date_added[i] = 0;
        int rc = store_txn_object_put(t, coll, objs[i], &outcomes[i], &date_added[i]);
        if (rc && rc != VIGIL_EPERM && rc != VIGIL_ECONFLICT)
            return rc;
        rcs[i] = rc;
    }
    return 0;
}

int store_txn_reports_traced(struct store_txn *t, const char *const *ids, const int64_t *owners,
                             size_t n, bool *found)
{
    (void)t, (void)ids, (void)owners;
    for (size_t i = 0; i < n; i++)
        found[i] = true;
    return 0;
}

int objects_merge_ids(struct store *s, struct store_reader *c)
{
    if (s->ids_new < IDS_MERGE_ROWS)
        return 0;
    /* Not in a savepoint: SQLite keeps the original of every page a savepoint changes in a
     * sub-journal (in memory on the writer), and a merge changes pages all over object_ids, so
     * that journal grew with the index (18 MB at a million ids, taken and freed at every
     * merge: the soak's growing peaks). At the top of the transaction it needs none, and OR
     * FAIL cannot abort a statement halfway, so SQLite opens no statement journal either. */
    int rc = conn_exec(c, "INSERT OR FAIL INTO object_ids SELECT idh, seq FROM object_ids_new;"
                          "DELETE FROM object_ids_new;");
    if (!rc)
        s->ids_new = 0;
    return rc;
}

/* Re-marks the newest and oldest remaining versions of (coll, id, owner) after a delete. */
static int refresh_flags(struct store_reader *c, int64_t coll, const char *id, int64_t owner)
{
    sqlite3_stmt *st =
        conn_stmt(c, "UPDATE objects SET"
                     " latest = (version = (SELECT MAX(version) FROM objects WHERE " OWN_ROWS ")),"
                     " first = (version = (SELECT MIN(version) FROM objects WHERE " OWN_ROWS "))"
                     " WHERE " OWN_ROWS);
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : VIGIL_ESTORE;
}

/* Drops the report index row of (id, owner) once no version of the report is left. */
static int drop_report_row(struct store_reader *c, int64_t coll, const char *id, int64_t owner)
{
    sqlite3_stmt *st = conn_stmt(c, "SELECT 1 FROM objects WHERE " OWN_ROWS " LIMIT 1");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    int rc = step_row(c, st);
    if (rc != VIGIL_ENOENT)
        return rc; /* versions remain (0), or an error */
    return reports_unindex(c, id, owner);
}

int store_txn_object_delete(struct store_txn *t, int64_t coll, const char *id, int64_t owner,
                            const vtime_t *versions, size_t nversions, size_t *deleted)
{
    struct store_reader *c = t->conn;
    *deleted = 0;
    if (objects_held_flush(t)) /* the delete trigger drops the id rows by SQL */
        return VIGIL_ESTORE;
    size_t n = nversions ? nversions : 1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st =
            nversions ? conn_stmt(c, "DELETE FROM objects WHERE " OWN_ROWS " AND version = ?4")
                      : conn_stmt(c, "DELETE FROM objects WHERE " OWN_ROWS);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, coll);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, owner);
        if (nversions)
            sqlite3_bind_int64(st, 4, versions[i]);
        if (step_done(c, st))
            return VIGIL_ESTORE;
        *deleted += (size_t)sqlite3_changes(c->db);
    }
    if (!*deleted)
        return 0;
    int rc = refresh_flags(c, coll, id, owner);
    return rc ? rc : drop_report_row(c, coll, id, owner);
}

/* Appends " AND col IN (?,?,...)" for n values. */
static int add_in(struct buf *sql, const char *col, size_t n)
{
    int rc = buf_addf(sql, " AND %s IN (", col);
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_adds(sql, i ? ",?" : "?");
    return rc ? rc : buf_addc(sql, ')');
}

/* The handling of the newest version of (coll, id, owner): 0, or VIGIL_ENOENT. */
static int newest_acl(struct store_reader *r, int64_t coll, const char *id, int64_t owner,
                      struct store_acl *out)
{
#define NEWEST_IN(level)                                                                           \
    "SELECT o.tlp, o.grp FROM " level " i, objects o WHERE i.idh = vigil_idh(?2)"                  \
    " AND o.seq = i.seq AND o.coll = ?1 AND o.stix_id = ?2 AND o.owner = ?3 AND o.latest = 1"
    sqlite3_stmt *st = conn_stmt(r, NEWEST_IN("object_ids") " UNION ALL "
                                        NEWEST_IN("object_ids_new") " LIMIT 1");
#undef NEWEST_IN
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    int rc = step_row(r, st);
    if (!rc)
        *out = (struct store_acl){.owner = owner,
                                  .tlp = sqlite3_column_int(st, 0),
                                  .group = sqlite3_column_int64(st, 1)};
    sqlite3_reset(st);
    return rc;
}

/* Whether q's reader may see row o (latest: whether it is its owner's newest version). An
 * earlier version needs the reader to be allowed the newest one too: a correction to a
 * stricter marking withdraws what came before it from whoever may not read the correction. */
static bool row_visible(struct store_reader *r, const struct store_query *q,
                        const struct store_object *o, bool latest)
{
    if (!q->visible || !q->visible(q->visible_ctx, &o->acl))
        return false;
    if (latest)
        return true;
    struct store_acl now;
    return newest_acl(r, q->coll, o->id, o->acl.owner, &now) == 0 &&
           q->visible(q->visible_ctx, &now);
}

int store_objects_query(struct store_reader *r, const struct store_query *q,
                        int (*emit)(void *ctx, const struct store_object *o), void *ctx,
                        struct store_page *page)
{
    memset(page, 0, sizeof *page);
    if (!q->visible)
        return 0; /* a read that names no reader sees nothing */
    if (held_out(r))
        return VIGIL_ESTORE;
    struct buf sql;
    buf_init(&sql, 64 * 1024);
    unsigned vm = q->version_match ? q->version_match : (q->nversions ? 0 : STORE_VER_LAST);
    /* With match[id], the rows come from the id index (ROWS_OF_ID): "+" as there. */
    int rc = buf_addf(&sql,
                      "SELECT stix_id, type, spec_version, version, date_added, owner, tlp, grp,"
                      " json, latest FROM objects WHERE %s",
                      q->nids ? "+coll = ? AND +date_added > ?" : "coll = ? AND date_added > ?");
    if (!rc && !(vm & STORE_VER_ALL)) {
        /* latest = 1 literally, so SQLite can use the partial index objects_latest. */
        const char *sep = " AND (";
        if (vm & STORE_VER_LAST) {
            rc = rc ? rc : buf_addf(&sql, "%slatest = 1", sep);
            sep = " OR ";
        }
        if (vm & STORE_VER_FIRST) {
            rc = rc ? rc : buf_addf(&sql, "%sfirst = 1", sep);
            sep = " OR ";
        }
        if (q->nversions) {
            rc = rc ? rc : buf_addf(&sql, "%sversion IN (", sep);
            for (size_t i = 0; i < q->nversions && !rc; i++)
                rc = buf_adds(&sql, i ? ",?" : "?");
            rc = rc ? rc : buf_addc(&sql, ')');
        }
        rc = rc ? rc : buf_addc(&sql, ')');
    }
    if (!rc && q->nids) {
        /* seq IN (both levels of the id index), then stix_id IN: the ids are bound twice. */
        for (int level = 0; level < 2 && !rc; level++) {
            rc = buf_addf(&sql, level ? " UNION ALL SELECT seq FROM object_ids_new WHERE idh IN ("
                                      : " AND seq IN (SELECT seq FROM object_ids WHERE idh IN (");
            for (size_t i = 0; i < q->nids && !rc; i++)
                rc = buf_adds(&sql, i ? ",vigil_idh(?)" : "vigil_idh(?)");
            rc = rc ? rc : buf_addc(&sql, ')');
        }
        rc = rc ? rc : buf_addc(&sql, ')');
        rc = rc ? rc : add_in(&sql, "stix_id", q->nids);
    }
    if (!rc && q->ntypes)
        rc = add_in(&sql, "type", q->ntypes);
    if (!rc && q->nspec_versions)
        rc = add_in(&sql, "spec_version", q->nspec_versions);
    rc = rc ? rc : buf_adds(&sql, " ORDER BY date_added");
    if (rc) {
        buf_release(&sql);
        return VIGIL_ETOOBIG;
    }

    sqlite3_stmt *st = conn_stmt(r, sql.data);
    buf_release(&sql);
    if (!st)
        return VIGIL_ESTORE;
    int k = 1;
    sqlite3_bind_int64(st, k++, q->coll);
    sqlite3_bind_int64(st, k++, q->added_after);
    if (!(vm & STORE_VER_ALL))
        for (size_t i = 0; i < q->nversions; i++)
            sqlite3_bind_int64(st, k++, q->versions[i]);
    for (size_t i = 0; i < 3 * q->nids; i++) /* object_ids, object_ids_new, stix_id */
        sqlite3_bind_text(st, k++, q->ids[i % q->nids], -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->ntypes; i++)
        sqlite3_bind_text(st, k++, q->types[i], -1, SQLITE_STATIC);
    for (size_t i = 0; i < q->nspec_versions; i++)
        sqlite3_bind_text(st, k++, q->spec_versions[i], -1, SQLITE_STATIC);

    rc = 0;
    int step;
    size_t bytes = 0; /* of the JSON emitted */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_object o = {
            .id = (const char *)sqlite3_column_text(st, 0),
            .type = (const char *)sqlite3_column_text(st, 1),
            .spec_version = (const char *)sqlite3_column_text(st, 2),
            .version = sqlite3_column_int64(st, 3),
            .date_added = sqlite3_column_int64(st, 4),
            .acl = {.owner = sqlite3_column_int64(st, 5),
                    .tlp = sqlite3_column_int(st, 6),
                    .group = sqlite3_column_int64(st, 7)},
        };
        if (!row_visible(r, q, &o, sqlite3_column_int(st, 9) != 0))
            continue;
        if ((q->limit && page->count == q->limit) || (q->max_bytes && bytes >= q->max_bytes)) {
            page->more = true;
            break;
        }
        o.json = (const char *)sqlite3_column_text(st, 8);
        o.json_len = (size_t)sqlite3_column_bytes(st, 8);
        bytes += o.json_len;
        if (page->count == 0)
            page->first_added = o.date_added;
        page->last_added = o.date_added;
        page->count++;
        rc = emit(ctx, &o);
        if (rc)
            break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        log_error("store: query failed: %s", sqlite3_errmsg(r->db));
        rc = VIGIL_ESTORE;
    }
    sqlite3_reset(st);
    return rc;
}
