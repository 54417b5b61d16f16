/* test_compliance.c - agreements (parse, geometry edge cases, candidates), the workflow table,
 * and tallies in a real store, with a reader that may not read the evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "compliance/compliance.h"

/* A square [0,1]x[0,1] (lon x lat) with a hole [0.4,0.6]^2, a line along lat 0 from lon 2 to
 * lon 3 counted within 1000 m, and a monitoring post at (lat 5, lon 5) within 500 m. */
static const char square_agreement[] =
    "{\"name\": \"Unit\", \"effective\": \"2025-01-01T00:00:00Z\","
    " \"parties\": [{\"name\": \"A\", \"aliases\": [\"alpha\"]}, {\"name\": \"B\"}],"
    " \"phases\": [{\"name\": \"P1\", \"deadline\": \"2025-02-01T00:00:00Z\"}],"
    " \"zones\": ["
    "  {\"name\": \"square\", \"kind\": \"buffer-zone\", \"geometry\": {\"type\": \"Polygon\","
    "   \"coordinates\": [[[0,0],[1,0],[1,1],[0,1],[0,0]],"
    "                     [[0.4,0.4],[0.6,0.4],[0.6,0.6],[0.4,0.6],[0.4,0.4]]]},"
    "   \"terms\": [{\"party\": \"*\", \"prohibited\": [\"ASSAULT\"],"
    "               \"permitted\": [{\"event\": \"ASSAULT\", \"modes\": [\"firearms\"]}]}]},"
    "  {\"name\": \"line\", \"kind\": \"withdrawal-line\", \"distance_m\": 1000,"
    "   \"geometry\": {\"type\": \"LineString\", \"coordinates\": [[2,0],[3,0]]},"
    "   \"terms\": [{\"party\": \"A\", \"prohibited\": [{\"event\": \"MOBILIZE\","
    "               \"modes\": [\"troops\"]}], \"phase\": \"P1\", \"when\": \"after-deadline\"}]},"
    "  {\"name\": \"post\", \"kind\": \"monitoring-post\", \"distance_m\": 500,"
    "   \"geometry\": {\"type\": \"Point\", \"coordinates\": [5,5]},"
    "   \"terms\": [{\"party\": \"B\", \"prohibited\": [\"COERCE\"],"
    "               \"until\": \"2025-06-01T00:00:00Z\"}]}]}";

static void parse_ok(const char *text, struct cmp_agreement *a)
{
    char msg[CMP_MSG_SZ];
    int rc = cmp_agreement_parse_text(text, strlen(text), a, NULL, msg);
    if (rc)
        fail_msg("agreement refused: %s", msg);
}

static vtime_t T(const char *s)
{
    vtime_t t;
    assert_int_equal(ts_parse(s, &t, NULL), 0);
    return t;
}

/* A report by actor at (lat, lon) at time when. */
static void mk(struct event_report *r, const char *actor, const char *event, const char *mode,
               double lat, double lon, const char *when)
{
    report_init(r);
    r->event = plover_event_parse(event);
    r->mode = mode ? plover_mode_lookup(r->event, mode) : NULL;
    r->start = r->end = T(when);
    r->has_point = true;
    r->lat = lat;
    r->lon = lon;
    assert_int_equal(report_add_name(r, false, actor), 0);
}

static int nmatch(const struct cmp_agreement *a, const char *actor, const char *event,
                  const char *mode, double lat, double lon, const char *when)
{
    struct event_report r;
    mk(&r, actor, event, mode, lat, lon, when);
    int n = cmp_agreement_match(a, &r, NULL, NULL);
    report_release(&r);
    return n;
}

static void polygon_boundary_and_hole(void **state)
{
    struct cmp_agreement a;
    parse_ok(square_agreement, &a);
    const char *t = "2025-03-01T00:00:00Z";
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.5, 0.2, t), 1);     /* inside */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.5, 1.0, t), 1);     /* on an edge */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 1.0, 1.0, t), 1);     /* on a vertex */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.5, 0.5, t), 0);     /* in the hole */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.4, 0.5, t), 1);     /* hole's edge */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.5, 1.001, t), 0);   /* outside */
    assert_int_equal(nmatch(&a, "ALPHA", "ASSAULT", "aerial", 0.5, 0.2, t), 1); /* alias */
    assert_int_equal(nmatch(&a, "C", "ASSAULT", "aerial", 0.5, 0.2, t), 0);     /* no party */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "firearms", 0.5, 0.2, t), 0);   /* permitted */
    assert_int_equal(nmatch(&a, "A", "ASSAULT", "aerial", 0.5, 0.2, "2024-12-31T23:59:59Z"),
                     0); /* before effective */
    cmp_agreement_release(&a);
}

static void line_buffer_and_post_radius(void **state)
{
    struct cmp_agreement a;
    parse_ok(square_agreement, &a);
    const char *after = "2025-02-01T00:00:00Z", *before = "2025-01-31T23:59:59Z";
    /* 0.005 degrees of latitude is 556 m; 0.01 is 1112 m */
    assert_int_equal(nmatch(&a, "A", "MOBILIZE", "troops", 0.005, 2.5, after), 1);
    assert_int_equal(nmatch(&a, "A", "MOBILIZE", "troops", 0.01, 2.5, after), 0);
    assert_int_equal(nmatch(&a, "A", "MOBILIZE", "troops", 0.005, 3.005, after), 1); /* end */
    assert_int_equal(nmatch(&a, "A", "MOBILIZE", "troops", 0.005, 2.5, before), 0);
    assert_int_equal(nmatch(&a, "A", "MOBILIZE", "weapons", 0.005, 2.5, after), 0);
    assert_int_equal(nmatch(&a, "B", "MOBILIZE", "troops", 0.005, 2.5, after), 0);
    /* the post: 0.004 degrees of latitude is 445 m */
    assert_int_equal(nmatch(&a, "B", "COERCE", NULL, 5.004, 5, "2025-05-01T00:00:00Z"), 1);
    assert_int_equal(nmatch(&a, "B", "COERCE", NULL, 5.005, 5, "2025-05-01T00:00:00Z"), 0);
    assert_int_equal(nmatch(&a, "B", "COERCE", NULL, 5.004, 5, "2025-06-01T00:00:00Z"), 0);
    cmp_agreement_release(&a);
}

struct seen_match {
    int n;
    struct cmp_match m[4];
};

static int keep_match(void *ctx, const struct cmp_match *m)
{
    struct seen_match *s = ctx;
    if (s->n < 4)
        s->m[s->n] = *m;
    s->n++;
    return 0;
}

/* Roles: targets never violate; two parties among the actors are an exchange. Timing: a
 * window that straddles the effective time, a term's end or a permission is uncertain. */
static void roles_and_timing_edges(void **state)
{
    struct cmp_agreement a;
    parse_ok(square_agreement, &a);
    struct event_report r;
    struct seen_match s = {0};
    /* A strikes B: only A */
    mk(&r, "A", "ASSAULT", "aerial", 0.5, 0.2, "2025-03-01T00:00:00Z");
    assert_int_equal(report_add_name(&r, true, "B"), 0);
    assert_int_equal(cmp_agreement_match(&a, &r, keep_match, &s), 1);
    assert_int_equal(s.m[0].party, 0);
    assert_false(s.m[0].exchange);
    assert_false(s.m[0].uncertain);
    /* named both as actor and target: not the violator */
    assert_int_equal(report_add_name(&r, false, "B"), 0);
    s.n = 0;
    assert_int_equal(cmp_agreement_match(&a, &r, keep_match, &s), 1);
    report_release(&r);
    /* A and B engaged, no target: both, as an exchange */
    mk(&r, "alpha", "ASSAULT", "aerial", 0.5, 0.2, "2025-03-01T00:00:00Z");
    assert_int_equal(report_add_name(&r, false, "B"), 0);
    s.n = 0;
    assert_int_equal(cmp_agreement_match(&a, &r, keep_match, &s), 2);
    assert_true(s.m[0].exchange && s.m[1].exchange);
    report_release(&r);
    /* a day-precision event on the last day before the truce: nothing; a week around the
     * effective time: uncertain, counted from the effective time */
    mk(&r, "A", "ASSAULT", "aerial", 0.5, 0.2, "2024-12-31T00:00:00Z");
    r.end = T("2024-12-31T23:59:59Z");
    assert_int_equal(cmp_agreement_match(&a, &r, NULL, NULL), 0);
    r.end = T("2025-01-03T23:59:59Z");
    s.n = 0;
    assert_int_equal(cmp_agreement_match(&a, &r, keep_match, &s), 1);
    assert_true(s.m[0].uncertain);
    assert_true(s.m[0].time == T("2025-01-01T00:00:00Z"));
    report_release(&r);
    /* a window across the post's term end (2025-06-01): uncertain; wholly after: nothing */
    mk(&r, "B", "COERCE", NULL, 5.004, 5, "2025-05-31T00:00:00Z");
    r.end = T("2025-06-01T23:59:59Z");
    s.n = 0;
    assert_int_equal(cmp_agreement_match(&a, &r, keep_match, &s), 1);
    assert_true(s.m[0].uncertain);
    r.start = T("2025-06-01T00:00:00Z");
    assert_int_equal(cmp_agreement_match(&a, &r, NULL, NULL), 0);
    report_release(&r);
    cmp_agreement_release(&a);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    return buf_detach(&b, NULL);
}

/* The Gaza governorates as zones: the points used by tests/api/test_compliance.py. */
static void gaza_governorates(void **state)
{
    const char *dir = getenv("VIGIL_TEST_DATA");
    char *path = xasprintf("%s/../../data/geo/gaza_governorates.geojson", dir ? dir : "tests/data");
    char *text = read_all(path);
    free(path);
    json_t *fc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(fc);
    static const struct {
        const char *name;
        double lat, lon;
    } pts[] = {{"Rafah", 31.2900, 34.2500},
               {"Khan Yunis", 31.3450, 34.3060},
               {"North Gaza", 31.5400, 34.5000}};
    size_t i;
    json_t *f;
    int found = 0;
    json_array_foreach (json_object_get(fc, "features"), i, f) {
        const char *name =
            json_string_value(json_object_get(json_object_get(f, "properties"), "shapeName"));
        struct geo_geometry g;
        char msg[GEO_MSG_SZ];
        assert_int_equal(geo_parse(f, &g, msg), 0);
        for (size_t k = 0; k < 3; k++) {
            bool in = geo_contains(&g, (struct geo_point){pts[k].lat, pts[k].lon});
            assert_int_equal(in, strcmp(name, pts[k].name) == 0);
            found += in;
        }
        geo_release(&g);
    }
    assert_int_equal(found, 3);
    json_decref(fc);
}

static void refuse(const char *text, const char *where)
{
    struct cmp_agreement a;
    char msg[CMP_MSG_SZ];
    int rc = cmp_agreement_parse_text(text, strlen(text), &a, NULL, msg);
    assert_true(rc < 0);
    if (!strstr(msg, where))
        fail_msg("expected \"%s\" in \"%s\"", where, msg);
    assert_null(a.zones);
}

static char *with(const char *from, const char *to)
{
    const char *p = strstr(square_agreement, from);
    assert_non_null(p);
    return xasprintf("%.*s%s%s", (int)(p - square_agreement), square_agreement, to,
                     p + strlen(from));
}

static void bad_files_name_the_place(void **state)
{
    static const struct {
        const char *from, *to, *where;
    } cases[] = {
        {"[\"ASSAULT\"]", "[\"EXPLODE\"]", "zones[0].terms[0].prohibited[0]: unknown PLOVER"},
        {"[[2,0],[3,0]]", "[[2,0],[3,95]]", "zones[1].geometry.coordinates[1]: latitude"},
        {"[0,1],[0,0]]", "[0,1],[0,0.5]]", "zones[0].geometry.coordinates[0]"},
        {"\"troops\"", "\"boats\"", "zones[1].terms[0].prohibited[0].modes[0]"},
        {"\"distance_m\": 500,", "", "zones[2].distance_m: required"},
        {"\"party\": \"B\"", "\"party\": \"Z\"", "zones[2].terms[0].party"},
        {"\"phase\": \"P1\"", "\"phase\": \"P9\"", "zones[1].terms[0].phase"},
        {"\"kind\": \"buffer-zone\"", "\"kind\": \"zone\"", "zones[0].kind"},
        {"\"name\": \"Unit\"", "\"name\": \"Unit\", \"x\": 1", "unknown member \"x\""},
        {"\"until\": \"2025-06-01T00:00:00Z\"", "\"until\": \"2024-06-01T00:00:00Z\"",
         "zones[2].terms[0]: its time window is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = with(cases[i].from, cases[i].to);
        refuse(text, cases[i].where);
        free(text);
    }
    refuse("[]", "must be a JSON object");
    refuse("{", "not valid JSON");
}

static void workflow_table(void **state)
{
    static const char *const st[] = {"reported", "under_review", "confirmed", "not_confirmed",
                                     "disputed"};
    int allowed = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            allowed += compliance_transition_allowed(st[i], st[j]);
    assert_int_equal(allowed, 5);
    assert_true(compliance_transition_allowed("reported", "under_review"));
    assert_true(compliance_transition_allowed("under_review", "confirmed"));
    assert_true(compliance_transition_allowed("under_review", "not_confirmed"));
    assert_true(compliance_transition_allowed("under_review", "disputed"));
    assert_true(compliance_transition_allowed("disputed", "under_review"));
    assert_false(compliance_transition_allowed("reported", "confirmed"));
    assert_false(compliance_transition_allowed("confirmed", "under_review"));
    assert_false(compliance_status_valid("approved"));
}

/* ---- tallies in a store ---------------------------------------------------------------- */

struct fixture {
    char dir[64];
    struct store *s;
};

static int add_colls(struct store_txn *t, void *arg)
{
    int64_t id;
    return store_txn_collection_add(t, "compliance", "Compliance", "", false, &id);
}

struct load_job {
    const char *text;
    char id[80];
    char msg[CMP_MSG_SZ];
};

static const struct policy_reader cc_reader = {.partner = 1, .user = 1, .coordinator = true};
static const struct policy_reader other_reader = {.partner = 2, .user = 2};

static int load_txn(struct store_txn *t, void *arg)
{
    struct load_job *j = arg;
    struct compliance_actor who = {
        .partner = 1,
        .user = 1,
        .user_name = "admin",
        .role = "admin",
        .coordinator = true,
        .default_tlp = TLP_GREEN,
        .identity_id = "identity--0dfbfc8d-db3f-4849-8f94-b4c2851d01f6",
        .reader = &cc_reader,
    };
    return compliance_load(t, &who, j->text, strlen(j->text), j->id, j->msg);
}

struct eval_job {
    const char *id;
    struct store_acl acl;
    struct event_report r;
};

/* Indexes the report, then evaluates it, as ingest does: a violation exists for readers only
 * while the report it was found in is indexed. */
static int eval_txn(struct store_txn *t, void *arg)
{
    struct eval_job *j = arg;
    struct store_report_in in = {
        .id = j->id,
        .acl = j->acl,
        .event = plover_event_name(j->r.event),
        .mode = j->r.mode ? j->r.mode : "",
        .start = j->r.start,
        .end = j->r.end,
        .has_point = j->r.has_point,
        .lat = j->r.lat,
        .lon = j->r.lon,
        .area = "",
        .reliability = 'B',
        .credibility = 2,
        .source_ref = "",
        .text = "",
        .doc = "{}",
    };
    int rc = store_txn_report_index(t, &in);
    return rc ? rc : compliance_evaluate(t, j->id, &j->acl, &j->r);
}

/* A correction withdraws a report from a violation when it takes readers away from it
 * (compliance keeps what the coordination center verified: docs/COMPLIANCE.md). */
static void audience_kept_by_a_change_of_handling(void **state)
{
    (void)state;
    struct store_acl green = {1, TLP_GREEN, 0}, clear = {1, TLP_CLEAR, 0};
    struct store_acl amber = {1, TLP_AMBER, 0}, amber_g = {1, TLP_AMBER, 7};
    struct store_acl strict_g = {1, TLP_AMBER_STRICT, 7}, amber_h = {1, TLP_AMBER, 8};
    struct store_acl red = {1, TLP_RED, 0}, red_g = {1, TLP_RED, 7};
    assert_true(policy_audience_kept(&green, &clear));
    assert_true(policy_audience_kept(&amber, &green));
    assert_true(policy_audience_kept(&red, &amber_g));
    assert_true(policy_audience_kept(&amber_g, &strict_g));
    assert_true(policy_audience_kept(&red_g, &red_g));
    assert_false(policy_audience_kept(&green, &amber));
    assert_false(policy_audience_kept(&green, &red));
    assert_false(policy_audience_kept(&amber, &amber_g));
    assert_false(policy_audience_kept(&amber_g, &amber));
    assert_false(policy_audience_kept(&amber_g, &amber_h));
    assert_false(policy_audience_kept(&amber_g, &red_g));
    assert_false(policy_audience_kept(&red_g, &red));
    assert_false(policy_audience_kept(&red_g, &amber_g));
}

static void evaluate(struct store *s, int n, const char *when, double lat, double lon, int tlp)
{
    struct eval_job j = {.acl = {.owner = 1, .tlp = tlp}};
    char id[64];
    snprintf(id, sizeof id, "report--00000000-0000-4000-8000-%012d", n);
    j.id = id;
    mk(&j.r, "A", "ASSAULT", "aerial", lat, lon, when);
    assert_int_equal(store_write(s, eval_txn, &j), 0);
    report_release(&j.r);
}

static json_t *tallies(struct store *s, const struct policy_reader *rd, const char *from, int ndays)
{
    struct store_reader *r;
    vtime_t day;
    json_t *out;
    assert_int_equal(compliance_day_parse(from, &day), 0);
    assert_int_equal(store_read_begin(s, &r), 0);
    assert_int_equal(compliance_tallies(r, rd, day, ndays, &out), 0);
    store_read_end(r);
    return out;
}

static long jint(const json_t *o, const char *a, const char *b)
{
    return (long)json_integer_value(json_object_get(json_object_get(o, a), b));
}

static void tallies_by_hand_and_filtered(void **state)
{
    struct fixture f;
    snprintf(f.dir, sizeof f.dir, "/tmp/vigil-cmp-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    char msg[STORE_MSG_SZ];
    assert_int_equal(store_open(f.dir, NULL, &f.s, msg), 0);
    assert_int_equal(store_write(f.s, add_colls, NULL), 0);
    struct load_job lj = {.text = square_agreement};
    int rc = store_write(f.s, load_txn, &lj);
    if (rc)
        fail_msg("load: %s", lj.msg);
    /* 03-01: 2 green; 03-02: 1 green + 1 amber (CC only); 02-28: 1 green (previous day) */
    evaluate(f.s, 1, "2025-03-01T01:00:00Z", 0.2, 0.2, TLP_GREEN);
    evaluate(f.s, 2, "2025-03-01T23:59:59Z", 0.3, 0.3, TLP_GREEN);
    evaluate(f.s, 3, "2025-03-02T00:00:00Z", 0.2, 0.3, TLP_GREEN);
    evaluate(f.s, 4, "2025-03-02T12:00:00Z", 0.8, 0.8, TLP_AMBER);
    evaluate(f.s, 5, "2025-02-28T12:00:00Z", 0.8, 0.2, TLP_GREEN);
    evaluate(f.s, 6, "2025-03-02T12:00:00Z", 0.5, 0.5, TLP_GREEN); /* in the hole: none */

    json_t *t = tallies(f.s, &cc_reader, "2025-03-01", 2);
    assert_int_equal(jint(t, "totals", "all"), 4);
    assert_int_equal(jint(t, "previous", "all"), 1); /* 02-28 .. 02-27 */
    assert_int_equal(jint(t, "change", "all"), 3);
    json_t *d1 = json_array_get(json_object_get(t, "daily"), 1);
    assert_int_equal(json_integer_value(json_object_get(d1, "all")), 2);
    /* 7 days to 03-02: 02-28 (1) + 03-01 (2) + 03-02 (2) = 5 */
    assert_float_equal(json_real_value(json_object_get(d1, "rate7_all")), 0.714, 1e-9);
    json_decref(t);

    t = tallies(f.s, &other_reader, "2025-03-01", 2);
    assert_int_equal(jint(t, "totals", "all"), 3); /* not the AMBER one */
    d1 = json_array_get(json_object_get(t, "daily"), 1);
    assert_int_equal(json_integer_value(json_object_get(d1, "all")), 1);
    assert_float_equal(json_real_value(json_object_get(d1, "rate7_all")), 0.571, 1e-9);
    json_decref(t);

    /* A correction moving report 1 out of the zone drops its candidate (still reported). */
    evaluate(f.s, 1, "2025-03-01T01:00:00Z", 9.0, 9.0, TLP_GREEN);
    t = tallies(f.s, &cc_reader, "2025-03-01", 1);
    assert_int_equal(jint(t, "totals", "all"), 1);
    json_decref(t);

    store_close(f.s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(polygon_boundary_and_hole),
        cmocka_unit_test(line_buffer_and_post_radius),
        cmocka_unit_test(roles_and_timing_edges),
        cmocka_unit_test(gaza_governorates),
        cmocka_unit_test(bad_files_name_the_place),
        cmocka_unit_test(workflow_table),
        cmocka_unit_test(audience_kept_by_a_change_of_handling),
        cmocka_unit_test(tallies_by_hand_and_filtered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
