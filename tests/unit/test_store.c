/* test_store.c - the SQLite store: object versions, paging, policy hook, durability. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *s;
    int64_t coll;
};

static int add_coll(struct store_txn *t, void *arg)
{
    return store_txn_collection_add(t, "reports", "Reports", "", true, arg);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vigil-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char msg[STORE_MSG_SZ];
    if (store_open(f->dir, NULL, &f->s, msg))
        return -1;
    if (store_write(f->s, add_coll, &f->coll))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

struct put {
    int64_t coll;
    struct store_object_in in;
    enum store_put_outcome outcome;
};

static int put_txn(struct store_txn *t, void *arg)
{
    struct put *p = arg;
    return store_txn_object_put(t, p->coll, &p->in, &p->outcome, NULL);
}

static bool see_all(void *ctx, const struct store_acl *acl)
{
    return true;
}

/* Puts a note whose JSON holds its version and `extra` (other content). */
static int put_json(struct fixture *f, const char *id, vtime_t version, int64_t owner, int tlp,
                    const char *extra, enum store_put_outcome *outcome)
{
    char json[160];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"v\":%lld%s}", id, (long long)version, extra);
    struct put p = {.coll = f->coll,
                    .in = {.id = id, .type = "note", .spec_version = "2.1", .version = version,
                           .acl = {.owner = owner, .tlp = tlp}, .json = json,
                           .json_len = strlen(json)}};
    int rc = store_write(f->s, put_txn, &p);
    if (outcome)
        *outcome = p.outcome;
    return rc;
}

static int put(struct fixture *f, const char *id, vtime_t version, int64_t owner, int tlp,
               enum store_put_outcome *outcome)
{
    return put_json(f, id, version, owner, tlp, "", outcome);
}

struct seen {
    char ids[64][64];
    vtime_t versions[64];
    vtime_t added[64];
    int n;
};

static int collect(void *ctx, const struct store_object *o)
{
    struct seen *s = ctx;
    snprintf(s->ids[s->n], 64, "%s", o->id);
    s->versions[s->n] = o->version;
    s->added[s->n] = o->date_added;
    s->n++;
    return 0;
}

static int query(struct fixture *f, struct store_query *q, struct seen *seen,
                 struct store_page *page)
{
    memset(seen, 0, sizeof *seen);
    q->coll = f->coll;
    if (!q->visible)
        q->visible = see_all;
    struct store_reader *r;
    int rc = store_read_begin(f->s, &r);
    if (!rc)
        rc = store_objects_query(r, q, collect, seen, page);
    store_read_end(r);
    return rc;
}

/* The versions of one id that a query with version_match (0: last) returns. */
static int versions_of(struct fixture *f, const char *id, unsigned version_match, struct seen *seen)
{
    struct store_query q = {.ids = &id, .nids = 1, .version_match = version_match};
    struct store_page page;
    assert_int_equal(query(f, &q, seen, &page), 0);
    return seen->n;
}

static void versions_and_flags(void **state)
{
    struct fixture *f = *state;
    enum store_put_outcome out;
    assert_int_equal(put(f, "note--1", 200, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_ADDED);
    assert_int_equal(put(f, "note--1", 200, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_EXISTS);
    assert_int_equal(put(f, "note--1", 300, 1, 1, &out), 0);
    assert_int_equal(put(f, "note--1", 100, 1, 1, &out), 0); /* an older version, late */
    assert_int_equal(out, STORE_PUT_ADDED_OLDER);
    assert_int_equal(put(f, "note--2", 50, 1, 1, &out), 0);
    /* Another partner may not add to note--1, whether it may read it or not (STIX 2.1 3.6:
     * only the creator versions an object), nor store its own object under that id... */
    assert_int_equal(put(f, "note--1", 400, 2, 1, &out), VIGIL_EPERM);
    assert_int_equal(put(f, "note--1", 300, 2, 4, &out), VIGIL_EPERM);
    /* ...and the creator may not change a version without a new modified. */
    assert_int_equal(put_json(f, "note--1", 300, 1, 1, ",\"x\":1", &out), VIGIL_ECONFLICT);
    assert_int_equal(put_json(f, "note--1", 300, 1, 1, " ", &out), 0); /* the same JSON */
    assert_int_equal(out, STORE_PUT_EXISTS);

    struct store_query q = {0};
    struct seen seen;
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0); /* default: last */
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "note--1");
    assert_int_equal(seen.versions[0], 300);
    assert_string_equal(seen.ids[1], "note--2");

    q.version_match = STORE_VER_FIRST;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 2);
    /* note--1's first version (100) arrived after its others, but before note--2. */
    assert_string_equal(seen.ids[0], "note--1");
    assert_int_equal(seen.versions[0], 100);
    assert_string_equal(seen.ids[1], "note--2");
    q.version_match = STORE_VER_ALL;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 4);
    for (int i = 1; i < seen.n; i++)
        assert_true(seen.added[i] > seen.added[i - 1]);

    /* Observables (no version: ids derived from their value) are each partner's own. */
    struct put sco = {.coll = f->coll,
                      .in = {.id = "ipv4-addr--1", .type = "ipv4-addr", .spec_version = "2.1",
                             .acl = {.owner = 1, .tlp = 1}, .json = "{}", .json_len = 2}};
    assert_int_equal(store_write(f->s, put_txn, &sco), 0);
    assert_int_equal(sco.outcome, STORE_PUT_ADDED);
    sco.in.acl.owner = 2;
    assert_int_equal(store_write(f->s, put_txn, &sco), 0);
    assert_int_equal(sco.outcome, STORE_PUT_ADDED);
    q.version_match = 0;
    const char *sco_id = "ipv4-addr--1";
    q.ids = &sco_id;
    q.nids = 1;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 2);
    q.ids = NULL;
    q.nids = 0;

    vtime_t want = 200;
    q.version_match = 0;
    q.versions = &want;
    q.nversions = 1;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.versions[0], 200);
}

static bool only_tlp_green(void *ctx, const struct store_acl *acl)
{
    return acl->tlp == 1;
}

/* A stricter correction withdraws the earlier versions from whoever may not read it. */
static void earlier_versions_follow_the_newest(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put(f, "note--c", 100, 1, 1, NULL), 0); /* green */
    assert_int_equal(put(f, "note--c", 200, 1, 4, NULL), 0); /* corrected: red */
    assert_int_equal(put(f, "note--c", 50, 1, 1, NULL), 0);  /* an older green one, late */
    struct seen seen;
    struct store_page page;
    struct store_query q = {.version_match = STORE_VER_ALL, .visible = only_tlp_green};
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 0);
    q.version_match = STORE_VER_FIRST;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 0);
    q.visible = NULL; /* query() makes it see_all */
    q.version_match = STORE_VER_ALL;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 3);
    /* Corrected back to green: the earlier versions show again as what they were. */
    assert_int_equal(put(f, "note--c", 300, 1, 1, NULL), 0);
    q.visible = only_tlp_green;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 3); /* not the red one */
    assert_int_equal(seen.versions[0], 100);
    assert_int_equal(seen.versions[1], 50);
    assert_int_equal(seen.versions[2], 300);
}

static int emit_none(void *ctx, const struct store_object *o)
{
    (*(int *)ctx)++;
    return 0;
}

static int emit_report(void *ctx, const struct store_report *rep)
{
    (*(int *)ctx)++;
    return 0;
}

/* A read that names no reader sees nothing. */
static void a_read_without_a_reader_sees_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put(f, "note--n", 1, 1, 0, NULL), 0); /* clear */
    struct store_reader *r;
    assert_int_equal(store_read_begin(f->s, &r), 0);
    int n = 0;
    struct store_query q = {.coll = f->coll, .version_match = STORE_VER_ALL};
    struct store_page page;
    assert_int_equal(store_objects_query(r, &q, emit_none, &n, &page), 0);
    assert_int_equal(n, 0);
    assert_int_equal(page.count, 0);
    struct store_report_query rq = {.future = -1};
    bool more = true;
    assert_int_equal(store_reports_query(r, &rq, emit_report, &n, &more), 0);
    assert_false(more);
    assert_int_equal(store_report_get(r, "report--x", NULL, NULL, emit_report, &n), 0);
    assert_int_equal(n, 0);
    store_read_end(r);
}

static void paging_skips_invisible_rows(void **state)
{
    struct fixture *f = *state;
    char id[32];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "note--%d", i);
        assert_int_equal(put(f, id, 1, 1, i % 2, NULL), 0); /* odd ones are green */
    }
    struct store_query q = {.limit = 2, .visible = only_tlp_green};
    struct seen seen;
    struct store_page page;
    int total = 0;
    for (;;) {
        assert_int_equal(query(f, &q, &seen, &page), 0);
        for (int i = 0; i < seen.n; i++) {
            int k = seen.ids[i][6] - '0';
            assert_int_equal(k % 2, 1);
            assert_int_equal(k, 2 * total + 1);
            total++;
        }
        if (!page.more)
            break;
        assert_int_equal(page.count, 2);
        q.added_after = page.last_added;
    }
    assert_int_equal(total, 5);
    /* The last page is exactly full: more must be false because no VISIBLE row follows. */
    q.added_after = 0;
    q.limit = 5;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(page.count, 5);
    assert_false(page.more);
}

static void filters_by_id_and_type(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put(f, "note--a", 1, 1, 1, NULL), 0);
    assert_int_equal(put(f, "note--a", 2, 1, 1, NULL), 0);
    assert_int_equal(put(f, "note--b", 1, 1, 1, NULL), 0);
    const char *ids[] = {"note--a"};
    struct store_query q = {.ids = ids, .nids = 1, .version_match = STORE_VER_ALL};
    struct seen seen;
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 2);
    const char *types[] = {"indicator"};
    struct store_query q2 = {.types = types, .ntypes = 1};
    assert_int_equal(query(f, &q2, &seen, &page), 0);
    assert_int_equal(seen.n, 0);
}

struct del_args {
    int64_t coll;
    const char *id;
    vtime_t v;
    size_t nv;
    size_t deleted;
};

static int del_txn(struct store_txn *t, void *arg)
{
    struct del_args *d = arg;
    return store_txn_object_delete(t, d->coll, d->id, 1, &d->v, d->nv, &d->deleted);
}

static void delete_keeps_flags_right(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put(f, "note--a", 1, 1, 1, NULL), 0);
    assert_int_equal(put(f, "note--a", 2, 1, 1, NULL), 0);
    struct del_args d = {f->coll, "note--a", 2, 1, 0};
    assert_int_equal(store_write(f->s, del_txn, &d), 0);
    assert_int_equal(d.deleted, 1);
    struct store_query q = {0};
    struct seen seen;
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.versions[0], 1);
    d.nv = 0;
    assert_int_equal(store_write(f->s, del_txn, &d), 0);
    assert_int_equal(d.deleted, 1);
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 0);
}

static int failing_txn(struct store_txn *t, void *arg)
{
    struct put *p = arg;
    int rc = store_txn_object_put(t, p->coll, &p->in, &p->outcome, NULL);
    return rc ? rc : VIGIL_EINVAL; /* wrote, then failed: must leave nothing */
}

static void failed_job_leaves_nothing_and_data_survives_reopen(void **state)
{
    struct fixture *f = *state;
    const char *json = "{}";
    struct put p = {.coll = f->coll,
                    .in = {.id = "note--x", .type = "note", .spec_version = "2.1",
                           .version = 5, .acl = {.owner = 1}, .json = json, .json_len = 2}};
    assert_int_equal(store_write(f->s, failing_txn, &p), VIGIL_EINVAL);
    assert_int_equal(put(f, "note--y", 5, 1, 1, NULL), 0);
    store_close(f->s);
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &f->s, msg), 0);
    assert_int_equal(store_check(f->s, msg), 0);
    assert_string_equal(msg, "ok");
    struct store_query q = {0};
    struct seen seen;
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.ids[0], "note--y");
    /* date_added keeps increasing across a reopen. */
    vtime_t before = seen.added[0];
    assert_int_equal(put(f, "note--z", 5, 1, 1, NULL), 0);
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_true(seen.added[1] > before);
}

/* A single-row read leaves its statement on the row; ending the read must still let the next
 * read on the same connection see newer commits. */
static void reader_sees_new_commits_on_a_reused_connection(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char msg[STORE_MSG_SZ];
    struct store_options one = {.read_connections = 1};
    assert_int_equal(store_open(f->dir, &one, &f->s, msg), 0);
    struct store_reader *r;
    struct store_collection c;
    assert_int_equal(store_read_begin(f->s, &r), 0);
    assert_int_equal(store_collection_find(r, "reports", &c), 0);
    assert_int_equal(store_collection_find(r, "nope", &c), VIGIL_ENOENT);
    store_read_end(r);
    assert_int_equal(put(f, "note--new", 1, 1, 1, NULL), 0);
    struct store_query q = {0};
    struct seen seen;
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_int_equal(seen.n, 1);
}

struct many {
    int64_t coll;
    int from, to; /* note--<k> for k in [from, to) */
    int versions; /* each in versions 1..versions (0: just 1) */
};

static int put_many_txn(struct store_txn *t, void *arg)
{
    struct many *m = arg;
    for (int v = 1; v <= m->versions || v == 1; v++)
        for (int k = m->from; k < m->to; k++) {
            char id[32], json[64];
            snprintf(id, sizeof id, "note--%d", k);
            snprintf(json, sizeof json, "{\"id\":\"%s\",\"v\":%d}", id, v);
            struct store_object_in in = {.id = id,
                                         .type = "note",
                                         .spec_version = "2.1",
                                         .version = v,
                                         .acl = {.owner = 1, .tlp = 1},
                                         .json = json,
                                         .json_len = strlen(json)};
            enum store_put_outcome out;
            int rc = store_txn_object_put(t, m->coll, &in, &out, NULL);
            if (rc || out != STORE_PUT_ADDED)
                return rc ? rc : VIGIL_EINTERNAL;
        }
    return 0;
}

/* The filter of the stored ids grows with the ids, not with their versions: 90,000 versions of
 * 30,000 objects leave it at its first size (room for 87,381 ids), 90,000 new ids double it. */
static void id_filter_counts_ids(void **state)
{
    struct fixture *f = *state;
    int64_t bytes0, bytes;
    assert_int_equal(put(f, "note--00000000-0000-4000-8000-999999999999", 1, 1, 1, NULL), 0);
    store_memory_used(f->s, &bytes0);
    assert_int_equal(bytes0, 1 << 17);
    struct many m = {.coll = f->coll, .from = 0, .to = 30000, .versions = 3};
    assert_int_equal(store_write(f->s, put_many_txn, &m), 0);
    store_memory_used(f->s, &bytes);
    assert_int_equal(bytes, bytes0);
    m = (struct many){.coll = f->coll, .from = 30000, .to = 120000};
    assert_int_equal(store_write(f->s, put_many_txn, &m), 0);
    store_memory_used(f->s, &bytes);
    assert_true(bytes >= 2 * bytes0);
}

static int put_version_txn(struct store_txn *t, void *arg)
{
    struct many *m = arg;
    for (int k = m->from; k < m->to; k++) {
        char id[32], json[64];
        snprintf(id, sizeof id, "note--%d", k);
        snprintf(json, sizeof json, "{\"id\":\"%s\",\"v\":%d}", id, m->versions);
        struct store_object_in in = {.id = id,
                                     .type = "note",
                                     .spec_version = "2.1",
                                     .version = m->versions,
                                     .acl = {.owner = 1, .tlp = 1},
                                     .json = json,
                                     .json_len = strlen(json)};
        enum store_put_outcome out;
        int rc = store_txn_object_put(t, m->coll, &in, &out, NULL);
        if (rc || out != STORE_PUT_ADDED)
            return rc ? rc : VIGIL_EINTERNAL;
    }
    return 0;
}

/* A large job over a large store (an import into it) does not keep a copy of every stored page
 * it changes. Run in a savepoint, it did: SQLite's sub-journal, in memory, grew with every page
 * of the existing B-trees the job touched, and each statement journal's release walked it from
 * its start, so such an import became quadratic (20,000 rows into a 200,000-report store did not
 * finish in 11 minutes; docs/BENCHMARKS.md). A lone job runs without one: each statement's
 * journal is freed when the statement ends. Here: a new version of 20,000 stored objects (each
 * clears the `latest` flag of the stored one, a statement with a journal). */
static void a_lone_job_keeps_no_copy_of_the_pages_it_changes(void **state)
{
    struct fixture *f = *state;
    struct many m = {.coll = f->coll, .from = 0, .to = 20000};
    assert_int_equal(store_write(f->s, put_many_txn, &m), 0);
    sqlite3_int64 now = 0, most = 0;
    assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &now, &most, 1), SQLITE_OK);
    sqlite3_int64 before = now; /* the peak starts again from here */
    m.versions = 2;
    assert_int_equal(store_write(f->s, put_version_txn, &m), 0);
    assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &now, &most, 0), SQLITE_OK);
    /* In a savepoint the job's peak was 5.2 MB above the start (the objects' pages); the
     * caches take their pages from the page pool, not from this count. */
    assert_true(most - before < 1024 * 1024);
}

/* What store_page_pool(0) answered in main(), before any store was opened. */
static int page_pool_rc = 1;

/* With the page pool (set up in main, as `vigil serve` does), SQLite's page caches take their
 * pages from it: the lines in use show in SQLite's status and in the store's memory. Once
 * SQLite has started, a pool can no longer be set up. */
static void caches_draw_from_the_page_pool(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(page_pool_rc, 0);
    assert_int_equal(store_page_pool(0), VIGIL_ESTORE);
    struct many m = {.coll = f->coll, .from = 0, .to = 5000};
    assert_int_equal(store_write(f->s, put_many_txn, &m), 0);
    sqlite3_int64 lines = 0, most = 0;
    assert_int_equal(sqlite3_status64(SQLITE_STATUS_PAGECACHE_USED, &lines, &most, 0), SQLITE_OK);
    assert_true(lines > 100); /* the writer's cache holds the pages it wrote */
    assert_true(store_memory_used(f->s, NULL) >= lines * 4096);
}

/* Objects are found by id whether their id row is still in the index's new level or was
 * merged into the main one (schema.c, migration 6): enough objects for several merges. */
static void ids_found_across_the_index_merge(void **state)
{
    struct fixture *f = *state;
    struct many m = {.coll = f->coll, .from = 0, .to = 20000};
    for (m.from = 0; m.from < 20000; m.from += 1000) {
        m.to = m.from + 1000;
        assert_int_equal(store_write(f->s, put_many_txn, &m), 0);
    }
    /* The merges ran (each first in a batch's transaction): most id rows are in the main
     * level, fewer than one merge's worth are left in the new one. */
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT COUNT(*) FROM object_ids),"
                                        " (SELECT COUNT(*) FROM object_ids_new)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int64(st, 0) >= 16384);
    assert_true(sqlite3_column_int64(st, 1) < 8192);
    assert_int_equal(sqlite3_column_int64(st, 0) + sqlite3_column_int64(st, 1), 20000);
    sqlite3_finalize(st);
    sqlite3_close(db);

    enum store_put_outcome out;
    struct seen seen;
    /* The oldest (merged long ago), one from the middle and the newest. */
    static const char *const ids[] = {"note--0", "note--9000", "note--19999"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(put(f, ids[i], 1, 1, 1, &out), 0);
        assert_int_equal(out, STORE_PUT_EXISTS);
        assert_int_equal(put(f, ids[i], 2, 1, 1, &out), 0);
        assert_int_equal(out, STORE_PUT_ADDED);
        assert_int_equal(versions_of(f, ids[i], STORE_VER_ALL, &seen), 2);
        assert_string_equal(seen.ids[0], ids[i]);
        assert_int_equal(versions_of(f, ids[i], 0, &seen), 1); /* last */
        assert_int_equal(seen.versions[0], 2);
    }
    struct del_args d = {f->coll, "note--0", 0, 0, 0}; /* every version */
    assert_int_equal(store_write(f->s, del_txn, &d), 0);
    assert_int_equal(d.deleted, 2);
    assert_int_equal(versions_of(f, "note--0", STORE_VER_ALL, &seen), 0);
    struct store_query q = {.limit = 1};
    struct store_page page;
    assert_int_equal(query(f, &q, &seen, &page), 0);
    assert_string_equal(seen.ids[0], "note--1");
}

/* Another process writing to the store (`vigil import` beside a running server) is noticed:
 * an object it stored is not taken for a new one by the server's writer. */
static void writes_by_another_process_are_seen(void **state)
{
    struct fixture *f = *state;
    enum store_put_outcome out;
    assert_int_equal(put(f, "note--x", 1, 1, 1, &out), 0); /* the writer's state is loaded */
    struct store *other;
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &other, msg), 0);
    struct put p = {.coll = f->coll,
                    .in = {.id = "note--y",
                           .type = "note",
                           .spec_version = "2.1",
                           .version = 1,
                           .acl = {.owner = 1, .tlp = 1},
                           .json = "{\"id\":\"note--y\",\"v\":1}",
                           .json_len = 22}};
    assert_int_equal(store_write(other, put_txn, &p), 0);
    assert_int_equal(p.outcome, STORE_PUT_ADDED);
    store_close(other);
    assert_int_equal(put(f, "note--y", 1, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_EXISTS);
    struct seen seen;
    assert_int_equal(versions_of(f, "note--y", STORE_VER_ALL, &seen), 1);
}

static void sql(sqlite3 *db, const char *text)
{
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", text, err);
}

/* What undoes each migration's tables and columns (src/store/sqlite/schema.c), by the version
 * it moved to; "" where nothing needs undoing for these tests (7 rebuilt the R*Tree, 11 is an
 * index created IF NOT EXISTS). A new migration adds its line here. */
static const char *const undo_migration[] = {
    [6] = "DROP TRIGGER objects_ids_drop; DROP TABLE object_ids; DROP TABLE object_ids_new;",
    [7] = "",
    [8] = "DROP TABLE reports_withdrawn;",
    [9] = "DROP INDEX events_subject; ALTER TABLE events DROP COLUMN gone;"
          "ALTER TABLE events DROP COLUMN subject;",
    [10] = "DROP TABLE service_marks; ALTER TABLE reports DROP COLUMN added;",
    [11] = "",
    [12] = "DROP TABLE alert_triage;",
    [13] = "DROP TABLE service_states;",
    [14] = "ALTER TABLE reports DROP COLUMN target;",
    [15] = "ALTER TABLE violations DROP COLUMN withdrawn;"
           "ALTER TABLE violations DROP COLUMN kept_tlp;"
           "ALTER TABLE violations DROP COLUMN kept_grp;",
    [16] = "CREATE TABLE groups_v2(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
           "  marking_id TEXT NOT NULL UNIQUE, owner INTEGER NOT NULL REFERENCES partners(id),"
           "  created INTEGER NOT NULL);"
           "INSERT INTO groups_v2 SELECT * FROM groups; DROP TABLE groups;"
           "ALTER TABLE groups_v2 RENAME TO groups;",
};
#define NUNDO ((int)(sizeof undo_migration / sizeof undo_migration[0]))

/* Takes the store at `path` back to schema `version`, newest migration first, then runs `then`
 * (rows or tables of that old schema) in the same transaction: a store as that version left it. */
static void downgrade(const char *path, int version, const char *then)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), NUNDO - 1); /* a new migration has its undo */
    sqlite3_finalize(st);
    sql(db, "BEGIN");
    for (int v = NUNDO - 1; v > version; v--)
        sql(db, undo_migration[v]);
    sql(db, then);
    char setv[64];
    snprintf(setv, sizeof setv, "PRAGMA user_version = %d; COMMIT;", version);
    sql(db, setv);
    sqlite3_close(db);
}

static int count_event(void *ctx, const struct store_event *e)
{
    snprintf((char *)ctx + strlen(ctx), 64, "%s;", e->data);
    return 0;
}

/* A store of schema 8 moves to 9 with the report events of corrected or deleted reports
 * withdrawn: only the event that shows a report as it is now is replayed. */
static void schema_9_withdraws_the_events_of_earlier_content(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    downgrade(path, 8,
              "INSERT INTO reports(stix_id, owner, tlp, grp, event, mode, future, start, end,"
              "  area, reliability, credibility, source_ref, text, doc) VALUES('report--1', 1, 1,"
              "  0, 'ASSAULT', '', 0, 0, 0, '', 'B', 2, '', '', '{\"id\":\"report--1\",\"v\":2}');"
              "INSERT INTO events(time, kind, owner, tlp, grp, data) VALUES"
              "  (1, 'report', 1, 1, 0, '{\"id\":\"report--1\",\"v\":1}'),"
              "  (2, 'report', 1, 1, 0, '{\"id\":\"report--1\",\"v\":2}'),"
              "  (3, 'report', 1, 1, 0, '{\"id\":\"report--gone\"}'),"
              "  (4, 'alert', 0, 4, 0, '{\"alert\":1}');");
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &f->s, msg), 0);
    struct store_reader *r;
    assert_int_equal(store_read_begin(f->s, &r), 0);
    char seen[256] = "";
    assert_int_equal(store_events(r, 0, 0, count_event, seen), 0);
    store_read_end(r);
    assert_string_equal(seen, "{\"id\":\"report--1\",\"v\":2};{\"alert\":1};");
}

static int target_txn(struct store_txn *t, void *arg)
{
    (void)arg;
    struct store_report_in in = {.id = "report--1", .acl = {.owner = 1, .tlp = 1},
                                 .event = "ASSAULT", .area = "a", .reliability = 'B',
                                 .credibility = 2, .text = "", .target = "civilians",
                                 .doc = "{\"id\":\"report--1\",\"targets\":[\"Civilians\"]}"};
    int rc = store_txn_report_index(t, &in);
    in.id = "report--2";
    in.target = "";
    in.doc = "{\"id\":\"report--2\",\"targets\":[\"Army\"]}";
    return rc ? rc : store_txn_report_index(t, &in);
}

static int row_target(void *ctx, const struct store_report_row *row)
{
    snprintf((char *)ctx + strlen(ctx), 64, "%s=%s;", row->id, row->target);
    return 0;
}

/* The index row keeps who the event struck; a store from before the column (schema 13) takes
 * it from the targets of its documents. */
static void report_index_keeps_the_target(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_write(f->s, target_txn, NULL), 0);
    struct store_reader *r;
    char seen[256] = "";
    assert_int_equal(store_read_begin(f->s, &r), 0);
    assert_int_equal(store_reports_after(r, 0, 0, see_all, NULL, row_target, seen), 0);
    store_read_end(r);
    assert_string_equal(seen, "report--1=civilians;report--2=;");
    store_close(f->s);
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    downgrade(path, 13, "");
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &f->s, msg), 0);
    seen[0] = '\0';
    assert_int_equal(store_read_begin(f->s, &r), 0);
    assert_int_equal(store_reports_after(r, 0, 0, see_all, NULL, row_target, seen), 0);
    store_read_end(r);
    assert_string_equal(seen, "report--1=civilians;report--2=;");
}

struct report_event {
    const char *doc, *data; /* the index row's document; the event's data */
};

static int report_event_txn(struct store_txn *t, void *arg)
{
    const struct report_event *x = arg;
    struct store_report_in in = {.id = "report--1", .acl = {.owner = 1, .tlp = 1},
                                 .event = "ASSAULT", .area = "a", .reliability = 'B',
                                 .credibility = 2, .text = "", .doc = x->doc};
    int rc = store_txn_report_index(t, &in);
    return rc ? rc : store_txn_event_add(t, "report", &in.acl, x->data, NULL);
}

/* A report event whose data is its index row's document is stored without it (read from the
 * row); any other event keeps its data. Both read back the same. */
static void report_events_read_their_document_from_the_index(void **state)
{
    struct fixture *f = *state;
    struct report_event same = {"{\"id\":\"report--1\",\"v\":1}", "{\"id\":\"report--1\",\"v\":1}"};
    assert_int_equal(store_write(f->s, report_event_txn, &same), 0);
    struct report_event other = {"{\"id\":\"report--1\",\"v\":2}", "{\"id\":\"report--1\",\"x\":0}"};
    assert_int_equal(store_write(f->s, report_event_txn, &other), 0);
    struct store_reader *r;
    assert_int_equal(store_read_begin(f->s, &r), 0);
    char seen[256] = "";
    assert_int_equal(store_events(r, 0, 0, count_event, seen), 0);
    store_read_end(r);
    /* the first event went with the correction (gone); the second kept its own data */
    assert_string_equal(seen, "{\"id\":\"report--1\",\"x\":0};");
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(length(data)) FROM"
                                            " (SELECT data FROM events ORDER BY seq)", -1, &st,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "0,24");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* a third version whose event shows it: read from the row */
    struct report_event third = {"{\"id\":\"report--1\",\"v\":3}", "{\"id\":\"report--1\",\"v\":3}"};
    assert_int_equal(store_write(f->s, report_event_txn, &third), 0);
    assert_int_equal(store_read_begin(f->s, &r), 0);
    seen[0] = '\0';
    assert_int_equal(store_events(r, 0, 0, count_event, seen), 0);
    store_read_end(r);
    assert_string_equal(seen, "{\"id\":\"report--1\",\"v\":3};");
}

/* A store written by the schema of version 5 (objects unique by (coll, id, owner, version))
 * moves to version 6 with every object still found by id. */
static void schema_6_migrates_a_version_5_store(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(put(f, "note--a", 1, 1, 1, NULL), 0);
    assert_int_equal(put(f, "note--a", 2, 1, 1, NULL), 0);
    assert_int_equal(put(f, "note--b", 1, 2, 1, NULL), 0);
    store_close(f->s);
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    downgrade(path, 5,
              "CREATE TABLE objects_v5(seq INTEGER PRIMARY KEY, coll INTEGER NOT NULL"
              "  REFERENCES collections(id), stix_id TEXT NOT NULL, type TEXT NOT NULL,"
              "  spec_version TEXT NOT NULL, version INTEGER NOT NULL, date_added INTEGER NOT NULL,"
              "  owner INTEGER NOT NULL, tlp INTEGER NOT NULL, grp INTEGER NOT NULL,"
              "  latest INTEGER NOT NULL, first INTEGER NOT NULL, json TEXT NOT NULL,"
              "  UNIQUE(coll, stix_id, owner, version));"
              "INSERT INTO objects_v5 SELECT * FROM objects; DROP TABLE objects;"
              "ALTER TABLE objects_v5 RENAME TO objects;"
              "CREATE INDEX objects_added ON objects(coll, date_added);"
              "CREATE INDEX objects_latest ON objects(coll, date_added) WHERE latest = 1;");

    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &f->s, msg), 0);
    enum store_put_outcome out;
    assert_int_equal(put(f, "note--a", 2, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_EXISTS);
    assert_int_equal(put(f, "note--a", 3, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_ADDED);
    struct seen seen;
    assert_int_equal(versions_of(f, "note--a", STORE_VER_ALL, &seen), 3);
    assert_int_equal(versions_of(f, "note--a", 0, &seen), 1);
    assert_int_equal(seen.versions[0], 3);
}

struct group_add {
    const char *name, *marking_id;
    int64_t owner;
};

static int member_add_txn(struct store_txn *t, void *arg)
{
    return store_txn_group_member(t, *(const int64_t *)arg, 0, 9, true);
}

static int group_add_txn(struct store_txn *t, void *arg)
{
    const struct group_add *g = arg;
    int64_t id;
    return store_txn_group_add(t, g->name, g->marking_id, g->owner, &id);
}

static int count_member(void *ctx, int64_t partner, int64_t user)
{
    snprintf((char *)ctx + strlen(ctx), 32, "%lld/%lld;", (long long)partner, (long long)user);
    return 0;
}

/* A store of schema 15 (group names unique over the hub) moves to 16 with its groups, their
 * ids and members: then another partner may take a name, the same partner may not, and a name
 * is resolved for the partner asking (store_group_find). */
static void schema_16_makes_group_names_unique_per_owner(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    downgrade(path, 15,
              "INSERT INTO partners VALUES(1, 'A', 'identity--a', 0, 2, 0),"
              "  (2, 'B', 'identity--b', 0, 2, 0), (3, 'C', 'identity--c', 0, 2, 0);"
              "INSERT INTO groups VALUES(7, 'Ops North', 'marking-definition--b', 2, 0);"
              "INSERT INTO group_members VALUES(7, 2, 0), (7, 3, 0), (7, 0, 9);");
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f->dir, NULL, &f->s, msg), 0);
    assert_int_equal(store_schema_version(f->s), NUNDO - 1);

    struct group_add mine = {"Ops North", "marking-definition--a", 1};
    assert_int_equal(store_write(f->s, group_add_txn, &mine), 0);
    struct group_add again = {"Ops North", "marking-definition--a2", 1};
    assert_int_equal(store_write(f->s, group_add_txn, &again), VIGIL_EEXIST);
    struct group_add same_marking = {"Ops South", "marking-definition--b", 1};
    assert_int_equal(store_write(f->s, group_add_txn, &same_marking), VIGIL_EEXIST);

    struct store_reader *r;
    assert_int_equal(store_read_begin(f->s, &r), 0);
    struct store_group g;
    assert_int_equal(store_group_find(r, "Ops North", 2, 0, &g), 0); /* B: its own */
    assert_int_equal(g.id, 7);
    assert_string_equal(g.marking_id, "marking-definition--b");
    assert_int_equal(store_group_find(r, "Ops North", 1, 0, &g), 0); /* A: its own */
    assert_string_equal(g.marking_id, "marking-definition--a");
    assert_int_equal(store_group_find(r, "Ops North", 3, 0, &g), 0); /* C: B's, its member */
    assert_int_equal(g.id, 7);
    assert_int_equal(store_group_find(r, "Ops North", 4, 0, &g), VIGIL_ENOENT);
    assert_int_equal(store_group_find(r, "Ops North", 0, 0, &g), VIGIL_ENOENT);
    /* a marking id names its group whoever asks (the caller checks store_group_may_use) */
    assert_int_equal(store_group_find(r, "marking-definition--b", 4, 0, &g), 0);
    assert_int_equal(g.id, 7);
    char members[64] = "";
    assert_int_equal(store_group_members(r, 7, count_member, members), 0);
    assert_string_equal(members, "0/9;2/0;3/0;");
    store_read_end(r);

    /* user 9 (of partner 3) named in a second group of that name, A's: the name is ambiguous
     * for that user, not for partner 3's other users (B's only) */
    assert_int_equal(store_read_begin(f->s, &r), 0);
    assert_int_equal(store_group_find(r, "Ops North", 1, 0, &g), 0);
    int64_t of_a = g.id;
    store_read_end(r);
    assert_int_equal(store_write(f->s, member_add_txn, &of_a), 0);
    assert_int_equal(store_read_begin(f->s, &r), 0);
    assert_int_equal(store_group_find(r, "Ops North", 3, 9, &g), VIGIL_ECONFLICT);
    assert_int_equal(store_group_find(r, "Ops North", 3, 8, &g), 0);
    assert_int_equal(g.id, 7);
    assert_int_equal(store_group_find(r, "marking-definition--a", 3, 9, &g), 0);
    assert_int_equal(g.id, of_a);
    store_read_end(r);
}

struct state_put {
    const char *name;
    int64_t mark;
    const void *data;
    size_t len;
    bool drop;
};

static int state_put_txn(struct store_txn *t, void *arg)
{
    struct state_put *p = arg;
    return p->drop ? store_txn_service_state_drop(t, p->name)
                   : store_txn_service_state_put(t, p->name, p->mark, p->data, p->len);
}

/* The bytes of name's saved state as a string "MARK:LEN:HEX", or "none". */
static void state_of(struct store *s, const char *name, char *out, size_t cap)
{
    struct store_reader *r;
    assert_int_equal(store_read_begin(s, &r), 0);
    int64_t mark;
    void *data;
    size_t len;
    int rc = store_service_state(r, name, &mark, &data, &len);
    if (rc) {
        assert_int_equal(rc, VIGIL_ENOENT);
        assert_null(data);
        snprintf(out, cap, "none");
    } else {
        size_t n = (size_t)snprintf(out, cap, "%lld:%zu:", (long long)mark, len);
        for (size_t i = 0; i < len && n + 3 < cap; i++)
            n += (size_t)snprintf(out + n, cap - n, "%02x", ((unsigned char *)data)[i]);
    }
    free(data);
    store_read_end(r);
}

/* A service's saved state (restart2, issue #20): bytes kept as given, NULs included, replaced
 * whole, dropped; one service's state is not another's. */
static void service_state_in(struct store *s, const char *tag)
{
    (void)tag; /* on PostgreSQL it runs on a database of its own */
    char got[256];
    state_of(s, "alerts.engine", got, sizeof got);
    assert_string_equal(got, "none");
    static const unsigned char bytes[] = {0x00, 0xff, 0x10, 0x00, 'a'};
    struct state_put p = {"alerts.engine", 42, bytes, sizeof bytes, false};
    assert_int_equal(store_write(s, state_put_txn, &p), 0);
    state_of(s, "alerts.engine", got, sizeof got);
    assert_string_equal(got, "42:5:00ff100061");
    state_of(s, "other", got, sizeof got);
    assert_string_equal(got, "none");
    p = (struct state_put){"alerts.engine", 43, "", 0, false};
    assert_int_equal(store_write(s, state_put_txn, &p), 0);
    state_of(s, "alerts.engine", got, sizeof got);
    assert_string_equal(got, "43:0:");
    p.drop = true;
    assert_int_equal(store_write(s, state_put_txn, &p), 0);
    state_of(s, "alerts.engine", got, sizeof got);
    assert_string_equal(got, "none");
}

static void service_state_round_trip(void **state)
{
    struct fixture *f = *state;
    service_state_in(f->s, "");
}

/* Runs body on the PostgreSQL database VIGIL_TEST_PG names (a libpq URI; skipped without one),
 * with a tag unique to the run for the keys it writes (the database may be reused). */
static void on_pg(void (*body)(struct store *s, const char *tag))
{
    const char *uri = getenv("VIGIL_TEST_PG");
    if (!uri || !uri[0])
        skip();
    struct store *s;
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(uri, NULL, &s, msg), 0);
    char tag[32];
    snprintf(tag, sizeof tag, "t%lld", (long long)ts_now());
    body(s, tag);
    store_close(s);
}

static void service_state_round_trip_pg(void **state)
{
    (void)state;
    on_pg(service_state_in);
}

struct rekey_job {
    const char *a, *b;
    bool rekey;
};

/* Lifecycle at a; triage of partners 1 and 2 at a, of partner 2 at b. Or a's rekeyed to b. */
static int rekey_txn(struct store_txn *t, void *arg)
{
    const struct rekey_job *j = arg;
    if (j->rekey)
        return store_txn_alert_rekey(t, j->a, j->b);
    struct store_alert_triage x = {"x", "", 0, "[]"}, y = {"y", "", 0, "[]"},
                              z = {"z", "", 0, "[]"};
    int rc = store_txn_alert_state(t, j->a, "acknowledged", "[1]");
    rc = rc ? rc : store_txn_alert_triage_put(t, j->a, 1, &x);
    rc = rc ? rc : store_txn_alert_triage_put(t, j->a, 2, &y);
    return rc ? rc : store_txn_alert_triage_put(t, j->b, 2, &z);
}

/* "STATUS/assignee of 1/assignee of 2" kept under key, "-" for none. */
static void kept_at(struct store *s, const char *key, char *out, size_t cap)
{
    struct store_reader *r;
    assert_int_equal(store_read_begin(s, &r), 0);
    const char *status, *history;
    size_t n = (size_t)snprintf(out, cap, "%s",
                                store_alert_state(r, key, &status, &history) ? "-" : status);
    for (int64_t partner = 1; partner <= 2; partner++) { /* each read reuses the last's */
        struct store_alert_triage t;
        n += (size_t)snprintf(out + n, cap - n, "/%s",
                              store_alert_triage(r, key, partner, &t) ? "-" : t.assignee);
    }
    store_read_end(r);
}

/* A renamed alert (store_txn_alert_rekey): its lifecycle and triage move to the new key, but
 * for what the new key has (partner 2's triage there stays); nothing stays at the old key; a
 * second rekey changes nothing. */
static void alert_rekey_in(struct store *s, const char *tag)
{
    char a[64], b[64], got[128];
    snprintf(a, sizeof a, "escalation/*/d:%s1", tag);
    snprintf(b, sizeof b, "escalation/*/d:%s0", tag);
    struct rekey_job j = {a, b, false};
    assert_int_equal(store_write(s, rekey_txn, &j), 0);
    kept_at(s, a, got, sizeof got);
    assert_string_equal(got, "acknowledged/x/y");
    j.rekey = true;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_write(s, rekey_txn, &j), 0);
        kept_at(s, b, got, sizeof got);
        assert_string_equal(got, "acknowledged/x/z");
        kept_at(s, a, got, sizeof got);
        assert_string_equal(got, "-/-/-");
    }
}

static void alert_rekey(void **state)
{
    struct fixture *f = *state;
    alert_rekey_in(f->s, "1");
}

static void alert_rekey_pg(void **state)
{
    (void)state;
    on_pg(alert_rekey_in);
}

/* Four index rows of ids "report--<tag>-a" .. "-d" (tag: unique in a reused store): a, c and
 * d of partner 1, green; b of partner 2, amber; starts 300, 100, 200, 100 (so that event
 * order, b d c a, is not seq order). */
struct by_seqs_rows {
    const char *tag;
};

static int by_seqs_txn(struct store_txn *t, void *arg)
{
    const struct by_seqs_rows *x = arg;
    static const vtime_t starts[] = {300, 100, 200, 100};
    int rc = 0;
    for (int i = 0; i < 4 && !rc; i++) {
        char id[64];
        snprintf(id, sizeof id, "report--%s-%c", x->tag, 'a' + i);
        struct store_report_in in = {.id = id, .acl = {.owner = i == 1 ? 2 : 1,
                                                       .tlp = i == 1 ? 3 : 1},
                                     .event = "ASSAULT", .mode = "", .start = starts[i],
                                     .end = starts[i] + 10, .area = "a", .reliability = 'B',
                                     .credibility = 2, .source_ref = "", .target = "",
                                     .text = "", .doc = "{}"};
        rc = store_txn_report_index(t, &in);
    }
    return rc;
}

struct by_seqs_seen {
    char s[256];
    int64_t base; /* the head before the rows: a row is named by its letter, seq - base */
    int stop_after; /* fn returns 7 at this row (0: never) */
    int n;
};

static int by_seqs_one(void *ctx, const struct store_report_row *row)
{
    struct by_seqs_seen *x = ctx;
    size_t len = strlen(x->s);
    snprintf(x->s + len, sizeof x->s - len, "%c%lld;", (char)('a' + row->seq - x->base - 1),
             (long long)row->start);
    return ++x->n == x->stop_after ? 7 : 0;
}

static bool only_owner_1(void *ctx, const struct store_acl *acl)
{
    return acl->owner == 1;
}

/* The rows of seqs, read with visible: "" when none; letter and start of each. */
static int by_seqs(struct store *s, struct by_seqs_seen *x, const int64_t *seqs, size_t n,
                   bool (*visible)(void *ctx, const struct store_acl *acl))
{
    x->s[0] = '\0';
    x->n = 0;
    struct store_reader *r;
    assert_int_equal(store_read_begin(s, &r), 0);
    int rc = store_reports_by_seqs(r, seqs, n, visible, NULL, by_seqs_one, x);
    store_read_end(r);
    return rc;
}

/* store_reports_by_seqs: the rows of the seqs given and no other, each once, in event order
 * (start, seq), a seq without a row skipped; only what the reader may see, nothing for no
 * reader; fn's result stops it. */
static void reports_by_seqs_in(struct store *s, const char *tag)
{
    struct store_reader *r;
    struct by_seqs_seen x = {0};
    int64_t withdrawn;
    assert_int_equal(store_read_begin(s, &r), 0);
    assert_int_equal(store_reports_head(r, &x.base, &withdrawn), 0);
    store_read_end(r);
    struct by_seqs_rows rows = {tag};
    assert_int_equal(store_write(s, by_seqs_txn, &rows), 0);
    int64_t a = x.base + 1, b = a + 1, c = a + 2, d = a + 3, none = a + 1000;
    /* in any order, with a duplicate and a seq of no row */
    int64_t all[] = {c, none, a, d, b, c};
    assert_int_equal(by_seqs(s, &x, all, 6, see_all), 0);
    assert_string_equal(x.s, "b100;d100;c200;a300;");
    /* only those asked for (the row before and after them are not) */
    int64_t some[] = {d, b};
    assert_int_equal(by_seqs(s, &x, some, 2, see_all), 0);
    assert_string_equal(x.s, "b100;d100;");
    int64_t one[] = {c};
    assert_int_equal(by_seqs(s, &x, one, 1, see_all), 0);
    assert_string_equal(x.s, "c200;");
    /* partner 2's amber row is not there for a reader that may not see it */
    assert_int_equal(by_seqs(s, &x, all, 6, only_owner_1), 0);
    assert_string_equal(x.s, "d100;c200;a300;");
    assert_int_equal(by_seqs(s, &x, some, 2, only_owner_1), 0);
    assert_string_equal(x.s, "d100;");
    /* no reader sees nothing */
    assert_int_equal(by_seqs(s, &x, all, 6, NULL), 0);
    assert_string_equal(x.s, "");
    /* nothing asked for, nothing given */
    assert_int_equal(by_seqs(s, &x, all, 0, see_all), 0);
    assert_string_equal(x.s, "");
    /* fn's nonzero result stops the read and is returned */
    x.stop_after = 2;
    assert_int_equal(by_seqs(s, &x, all, 6, see_all), 7);
    assert_string_equal(x.s, "b100;d100;");
}

static void reports_by_seqs(void **state)
{
    struct fixture *f = *state;
    reports_by_seqs_in(f->s, "t");
}

static void reports_by_seqs_pg(void **state)
{
    (void)state;
    on_pg(reports_by_seqs_in);
}


struct seen_versions {
    char s[256];
    bool differs; /* a version whose JSON is not {"v":version} */
};

/* Adds a version a query gives to sv->s, "v1,v2,..." in ascending order (the query gives them
 * by date_added), and notes a content other than put_many's own. */
static int note_version(void *ctx, const struct store_object *o)
{
    struct seen_versions *sv = ctx;
    char json[64];
    snprintf(json, sizeof json, "{\"v\":%lld}", (long long)o->version);
    sv->differs |= o->json_len != strlen(json) || memcmp(o->json, json, o->json_len) != 0;
    /* insert o->version in ascending order into the comma list */
    vtime_t vs[32];
    int n = 0;
    for (char *q = sv->s; *q && n < 32;) {
        vs[n++] = strtoll(q, &q, 10);
        q += *q == ',';
    }
    vs[n++] = o->version;
    for (int i = n - 1; i > 0 && vs[i] < vs[i - 1]; i--) {
        vtime_t x = vs[i];
        vs[i] = vs[i - 1];
        vs[i - 1] = x;
    }
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(sv->s + len, sizeof sv->s - len, "%lld,", (long long)vs[i]);
    return 0;
}

/* ---- an envelope at once (store_txn_objects_put) --------------------------------------- */

#define MANY_NEW 300 /* more than STORE_PUT_BATCH: the pipeline goes in two chunks */
#define MANY (9 + MANY_NEW + 1)

struct env {
    const char *tag;
    int64_t coll;
    char ids[MANY][48];
    char json[MANY][96];
    struct store_object_in in[MANY];
    const struct store_object_in *objs[MANY];
    enum store_put_outcome out[MANY];
    vtime_t added[MANY];
    int rcs[MANY];
    int rc;
};

static int env_coll_txn(struct store_txn *t, void *arg)
{
    struct env *m = arg;
    char name[48];
    snprintf(name, sizeof name, "env-%s", m->tag);
    return store_txn_collection_add(t, name, name, "", true, &m->coll);
}

static int env_txn(struct store_txn *t, void *arg)
{
    struct env *m = arg;
    m->rc = store_txn_objects_put(t, m->coll, m->objs, MANY, m->out, m->added, m->rcs);
    return m->rc;
}

static void env_obj(struct env *m, int i, const char *id, vtime_t version, int64_t owner,
                     const char *extra)
{
    snprintf(m->ids[i], sizeof m->ids[i], "note--%s-%s", m->tag, id);
    snprintf(m->json[i], sizeof m->json[i], "{\"v\":%lld%s}", (long long)version, extra);
    m->in[i] = (struct store_object_in){.id = m->ids[i], .type = "note", .spec_version = "2.1",
                                        .version = version, .acl = {.owner = owner, .tlp = 1},
                                        .json = m->json[i], .json_len = strlen(m->json[i])};
    m->objs[i] = &m->in[i];
}

/* One call for objects that depend on each other and on what is stored: each gets the outcome
 * that putting them one by one in order gives, date_added in their order, and the store holds
 * what it would. On either store (the PostgreSQL one pipelines the new ids). */
static void objects_put_in_order_in(struct store *s, const char *tag)
{
    struct env *m = xcalloc(1, sizeof *m);
    m->tag = tag;
    assert_int_equal(store_write(s, env_coll_txn, m), 0);
    /* stored before: a at 20 (partner 1), b at 5 (partner 2) */
    env_obj(m, 0, "a", 20, 1, "");
    env_obj(m, 1, "b", 5, 2, "");
    struct put p = {.coll = m->coll, .in = m->in[0]};
    assert_int_equal(store_write(s, put_txn, &p), 0);
    p.in = m->in[1];
    assert_int_equal(store_write(s, put_txn, &p), 0);
    env_obj(m, 0, "n", 1, 1, "");         /* new */
    env_obj(m, 1, "a", 10, 1, "");        /* older than stored */
    env_obj(m, 2, "a", 30, 1, "");        /* newer */
    env_obj(m, 3, "a", 30, 1, "");        /* again: exists */
    env_obj(m, 4, "a", 30, 1, ",\"x\":1"); /* other content: conflict */
    env_obj(m, 5, "b", 6, 1, "");         /* partner 2's id */
    env_obj(m, 6, "c", 7, 1, "");         /* new, then */
    env_obj(m, 7, "c", 3, 1, "");         /* an older version of it */
    env_obj(m, 8, "c", 7, 1, "");         /* and the first again */
    for (int i = 0; i < MANY_NEW; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        env_obj(m, 9 + i, id, 1, 1, "");
    }
    env_obj(m, 9 + MANY_NEW, "m0", 2, 1, ""); /* a new id's next version, a chunk later */
    assert_int_equal(store_write(s, env_txn, m), 0);
    static const int rcs[9] = {0, 0, 0, 0, VIGIL_ECONFLICT, VIGIL_EPERM, 0, 0, 0};
    static const enum store_put_outcome outs[9] = {
        STORE_PUT_ADDED, STORE_PUT_ADDED_OLDER, STORE_PUT_ADDED, STORE_PUT_EXISTS, 0, 0,
        STORE_PUT_ADDED, STORE_PUT_ADDED_OLDER, STORE_PUT_EXISTS};
    vtime_t last = 0;
    for (int i = 0; i < MANY; i++) {
        int want_rc = i < 9 ? rcs[i] : 0;
        assert_int_equal(m->rcs[i], want_rc);
        if (want_rc)
            continue;
        assert_int_equal(m->out[i], i < 9 ? outs[i] : STORE_PUT_ADDED);
        if (m->out[i] == STORE_PUT_EXISTS) {
            assert_int_equal(m->added[i], 0);
            continue;
        }
        assert_true(m->added[i] > last); /* in the order of the objects */
        last = m->added[i];
    }
    /* what is stored: a at 10, 20, 30 (30 the newest), its first content; c at 3 and 7; m0 at
     * 1 and 2; b partner 2's alone */
    struct store_reader *r;
    assert_int_equal(store_read_begin(s, &r), 0);
    static const char *const want[][2] = {{"a", "10,20,30,"}, {"c", "3,7,"}, {"m0", "1,2,"},
                                          {"b", "5,"}, {"n", "1,"}, {"m299", "1,"}};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        char id[48];
        snprintf(id, sizeof id, "note--%s-%s", tag, want[k][0]);
        const char *ids[] = {id};
        struct seen_versions sv = {0};
        struct store_query q = {.coll = m->coll, .ids = ids, .nids = 1,
                                .version_match = STORE_VER_ALL, .limit = 100,
                                .visible = see_all};
        struct store_page page;
        assert_true(store_objects_query(r, &q, note_version, &sv, &page) >= 0);
        assert_string_equal(sv.s, want[k][1]);
        if (k == 0)
            assert_false(sv.differs);
    }
    store_read_end(r);
    free(m);
}

static void objects_put_in_order(void **state)
{
    struct fixture *f = *state;
    objects_put_in_order_in(f->s, "t");
}

static void objects_put_in_order_pg(void **state)
{
    (void)state;
    on_pg(objects_put_in_order_in);
}

/* Two webhooks of one partner: the first with three due deliveries and one not due yet, the
 * second with one due; a third webhook, another partner's, with one due. The queue is read as
 * each webhook's oldest due delivery, and of those at most per_partner a partner: a webhook's
 * backlog never hides another's, nor one partner's webhooks another partner's
 * (src/service/webhooks.c sends one delivery per webhook at a time). */
struct due_env {
    const char *tag;
    int64_t partners[2], hooks[3], ids[16]; /* (hook, its number of the delivery) of each */
    int64_t partner_of[8];                  /* the partner of each listed */
    size_t n;
};

static int due_setup_txn(struct store_txn *t, void *arg)
{
    struct due_env *e = arg;
    char name[64], ident[96];
    int64_t user[2], ev;
    int rc = 0;
    for (int p = 0; p < 2 && !rc; p++) {
        snprintf(name, sizeof name, "%s-due%d", e->tag, p);
        snprintf(ident, sizeof ident, "identity--%s", name);
        rc = store_txn_partner_add(t, name, ident, false, 1, &e->partners[p]); /* 1: GREEN */
        rc = rc ? rc : store_txn_user_add(t, e->partners[p], name, "analyst", "", &user[p]);
    }
    for (int i = 0; i < 3 && !rc; i++)
        rc = store_txn_webhook_add(t, user[i < 2 ? 0 : 1], "http://192.0.2.1/", "0123456789abcdef",
                                   "", &e->hooks[i]);
    struct store_acl acl = {.owner = e->partners[0], .tlp = 1};
    /* hook 0: events 1-3 due at 100-300, event 4 due later; hook 1: event 5 due at 150; hook 2
     * (the second partner's): event 6 due at 400 */
    static const vtime_t when[6] = {100, 200, 300, 1000000, 150, 400};
    static const int hook[6] = {0, 0, 0, 0, 1, 2};
    for (int i = 0; i < 6 && !rc; i++) {
        rc = store_txn_event_add(t, "report", &acl, "{}", &ev);
        rc = rc ? rc : store_txn_outbox_add(t, e->hooks[hook[i]], ev, when[i], NULL);
    }
    return rc;
}

static int due_one(void *ctx, const struct store_delivery *d)
{
    struct due_env *e = ctx;
    if (e->n == sizeof e->ids / sizeof e->ids[0])
        return 1;
    e->partner_of[e->n / 2] = d->partner;
    e->ids[e->n++] = d->hook;
    e->ids[e->n++] = STORE_OUTBOX_N(d->id);
    return 0;
}

/* The queue at 500, per_partner at most of a partner, into e. */
static void due_at_500(struct store *s, struct due_env *e, size_t per_partner)
{
    struct store_reader *r;
    e->n = 0;
    assert_int_equal(store_read_begin(s, &r), 0);
    assert_int_equal(store_outbox_due(r, 500, 10, per_partner, due_one, e), 0);
    store_read_end(r);
}

static void outbox_due_gives_each_webhooks_oldest_in(struct store *s, const char *tag)
{
    struct due_env e = {.tag = tag};
    assert_int_equal(store_write(s, due_setup_txn, &e), 0);
    /* hook 0's first (due 100), hook 1's (due 150), hook 2's (due 400); none other of hook 0's */
    due_at_500(s, &e, 10);
    static const int64_t all[6] = {0, 1, 1, 1, 2, 1};
    assert_int_equal(e.n, 6);
    for (size_t i = 0; i < 6; i += 2) {
        assert_int_equal(e.ids[i], e.hooks[all[i]]);
        assert_int_equal(e.ids[i + 1], all[i + 1]);
        assert_int_equal(e.partner_of[i / 2], e.partners[all[i] < 2 ? 0 : 1]);
    }
    /* one a partner: hook 1's, due after hook 0's, waits; the other partner's does not */
    due_at_500(s, &e, 1);
    assert_int_equal(e.n, 4);
    assert_int_equal(e.ids[0], e.hooks[0]);
    assert_int_equal(e.ids[1], 1);
    assert_int_equal(e.ids[2], e.hooks[2]);
    assert_int_equal(e.ids[3], 1);
}

static void outbox_due_gives_each_webhooks_oldest(void **state)
{
    struct fixture *f = *state;
    outbox_due_gives_each_webhooks_oldest_in(f->s, "t");
}

static void outbox_due_gives_each_webhooks_oldest_pg(void **state)
{
    (void)state;
    on_pg(outbox_due_gives_each_webhooks_oldest_in);
}

/* The id index's rows counted in the store's file: (object_ids, object_ids_new, objects). */
static void id_rows(struct fixture *f, int64_t n[3])
{
    char path[128];
    snprintf(path, sizeof path, "%s/vigil.db", f->dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT COUNT(*) FROM object_ids),"
                                        " (SELECT COUNT(*) FROM object_ids_new),"
                                        " (SELECT COUNT(*) FROM objects)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    for (int i = 0; i < 3; i++)
        n[i] = sqlite3_column_int64(st, i);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* What a bulk load's job saw of its own objects, by id, before its end. */
struct bulk {
    int64_t coll;
    int end;                            /* 1: store_txn_reports_bulk_end; 0: not; -1: fail */
    enum store_put_outcome again, next; /* note--0 v1 again, v2 (a correction) */
    enum store_put_outcome late;        /* note--99999 v2, after the filter was rebuilt */
    int differs;                        /* note--1 v1 with other content */
    int seen;                           /* note--100050's, queried on the writer */
    size_t deleted;                     /* versions of note--7 deleted */
};

static int bulk_put(struct store_txn *t, int64_t coll, const char *id, int v, const char *extra,
                    enum store_put_outcome *out)
{
    char json[96];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"v\":%d%s}", id, v, extra);
    struct store_object_in in = {.id = id,
                                 .type = "note",
                                 .spec_version = "2.1",
                                 .version = v,
                                 .acl = {.owner = 1, .tlp = 1},
                                 .json = json,
                                 .json_len = strlen(json)};
    return store_txn_object_put(t, coll, &in, out, NULL);
}

static int bulk_txn(struct store_txn *t, void *arg)
{
    struct bulk *b = arg;
    int rc = store_txn_reports_bulk_begin(t, 200000);
    /* 100,000 ids: past the filter's first size (87,381), rebuilt during the load */
    struct many m = {.coll = b->coll, .from = 0, .to = 100000};
    rc = rc ? rc : put_many_txn(t, &m);
    rc = rc ? rc : bulk_put(t, b->coll, "note--0", 1, "", &b->again);
    rc = rc ? rc : bulk_put(t, b->coll, "note--0", 2, "", &b->next);
    rc = rc ? rc : bulk_put(t, b->coll, "note--99999", 2, "", &b->late);
    enum store_put_outcome out;
    b->differs = rc ? 0 : bulk_put(t, b->coll, "note--1", 1, ",\"x\":1", &out);
    rc = rc ? rc : store_txn_object_delete(t, b->coll, "note--7", 1, NULL, 0, &b->deleted);
    m = (struct many){.coll = b->coll, .from = 100000, .to = 100100}; /* held after the delete */
    rc = rc ? rc : put_many_txn(t, &m);
    if (!rc) {
        const char *id = "note--100050";
        struct store_query q = {.coll = b->coll, .ids = &id, .nids = 1,
                                .version_match = STORE_VER_ALL, .visible = see_all};
        struct seen seen = {0};
        struct store_page page;
        rc = store_objects_query(store_txn_reader(t), &q, collect, &seen, &page);
        b->seen = seen.n;
    }
    m = (struct many){.coll = b->coll, .from = 100100, .to = 100200}; /* held after the query */
    rc = rc ? rc : put_many_txn(t, &m);
    if (!rc && b->end == 1)
        rc = store_txn_reports_bulk_end(t);
    return rc ? rc : b->end < 0 ? VIGIL_EINVAL : 0;
}

/* During a bulk load the objects' id rows are held in memory and written into the index in key
 * order at its end (objects.c): every look-up by id meanwhile still finds the load's own
 * objects (a version again, a correction, a correction after the filter of ids was rebuilt, a
 * query and a delete on the writer), and at the end each object has its one id row. */
static void a_bulk_load_finds_its_own_objects_by_id(void **state)
{
    struct fixture *f = *state;
    for (int end = 1; end >= 0; end--) { /* ended by bulk_end, or by the job's end */
        if (end == 0) {
            teardown(state);
            assert_int_equal(setup(state), 0);
            f = *state;
        }
        struct bulk b = {.coll = f->coll, .end = end};
        assert_int_equal(store_write(f->s, bulk_txn, &b), 0);
        assert_int_equal(b.again, STORE_PUT_EXISTS);
        assert_int_equal(b.next, STORE_PUT_ADDED);
        assert_int_equal(b.late, STORE_PUT_ADDED);
        assert_int_equal(b.differs, VIGIL_ECONFLICT);
        assert_int_equal(b.seen, 1);
        assert_int_equal(b.deleted, 1);
        struct seen seen;
        assert_int_equal(versions_of(f, "note--0", 0, &seen), 1); /* one latest: v2 */
        assert_int_equal(seen.versions[0], 2);
        assert_int_equal(versions_of(f, "note--0", STORE_VER_FIRST, &seen), 1);
        assert_int_equal(seen.versions[0], 1);
        assert_int_equal(versions_of(f, "note--99999", 0, &seen), 1);
        assert_int_equal(seen.versions[0], 2);
        assert_int_equal(versions_of(f, "note--99999", STORE_VER_ALL, &seen), 2);
        assert_int_equal(versions_of(f, "note--7", STORE_VER_ALL, &seen), 0);
        assert_int_equal(versions_of(f, "note--100199", STORE_VER_ALL, &seen), 1);
        int64_t n[3];
        id_rows(f, n);
        assert_int_equal(n[2], 100000 + 2 + 200 - 1);
        assert_int_equal(n[0] + n[1], n[2]); /* one id row per object */
        assert_true(n[1] < 100);             /* not through object_ids_new */
        /* and after the load, a put finds them as ever */
        enum store_put_outcome out;
        assert_int_equal(put(f, "note--50000", 2, 1, 1, &out), 0);
        assert_int_equal(out, STORE_PUT_ADDED);
        assert_int_equal(versions_of(f, "note--50000", 0, &seen), 1);
    }
}

/* A bulk load's job that fails leaves no object and no id row, nor anything held for the next. */
static void a_failed_bulk_load_leaves_no_id_rows(void **state)
{
    struct fixture *f = *state;
    enum store_put_outcome out;
    assert_int_equal(put(f, "note--300000", 1, 1, 1, &out), 0);
    int64_t before[3], after[3];
    id_rows(f, before);
    struct bulk b = {.coll = f->coll, .end = -1};
    assert_int_equal(store_write(f->s, bulk_txn, &b), VIGIL_EINVAL);
    id_rows(f, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(put(f, "note--0", 1, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_ADDED);
    assert_int_equal(put(f, "note--300000", 2, 1, 1, &out), 0);
    assert_int_equal(out, STORE_PUT_ADDED);
    struct seen seen;
    assert_int_equal(versions_of(f, "note--300000", STORE_VER_ALL, &seen), 2);
    id_rows(f, after);
    assert_int_equal(after[2], 3);
    assert_int_equal(after[0] + after[1], 3);
}

int main(void)
{
    page_pool_rc = store_page_pool(0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(caches_draw_from_the_page_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(versions_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(service_state_round_trip, setup, teardown),
        cmocka_unit_test(service_state_round_trip_pg),
        cmocka_unit_test_setup_teardown(reports_by_seqs, setup, teardown),
        cmocka_unit_test(reports_by_seqs_pg),
        cmocka_unit_test_setup_teardown(alert_rekey, setup, teardown),
        cmocka_unit_test(alert_rekey_pg),
        cmocka_unit_test_setup_teardown(objects_put_in_order, setup, teardown),
        cmocka_unit_test(objects_put_in_order_pg),
        cmocka_unit_test_setup_teardown(outbox_due_gives_each_webhooks_oldest, setup, teardown),
        cmocka_unit_test(outbox_due_gives_each_webhooks_oldest_pg),
        cmocka_unit_test_setup_teardown(paging_skips_invisible_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(earlier_versions_follow_the_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(a_read_without_a_reader_sees_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(filters_by_id_and_type, setup, teardown),
        cmocka_unit_test_setup_teardown(id_filter_counts_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_keeps_flags_right, setup, teardown),
        cmocka_unit_test_setup_teardown(reader_sees_new_commits_on_a_reused_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failed_job_leaves_nothing_and_data_survives_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ids_found_across_the_index_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(a_bulk_load_finds_its_own_objects_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_bulk_load_leaves_no_id_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(a_lone_job_keeps_no_copy_of_the_pages_it_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(schema_6_migrates_a_version_5_store, setup, teardown),
        cmocka_unit_test_setup_teardown(schema_9_withdraws_the_events_of_earlier_content, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(schema_16_makes_group_names_unique_per_owner, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(writes_by_another_process_are_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(report_index_keeps_the_target, setup, teardown),
        cmocka_unit_test_setup_teardown(report_events_read_their_document_from_the_index, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
