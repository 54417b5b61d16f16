/* test_intel.c - the Vigil STIX profile (PLOVER codes, the REST resource, STIX in and out,
 * Admiralty grading, the extension-definition), the CSV reader, and the ACLED, UCDP, GDELT and
 * MISP importers on the files of tests/data (see tests/data/README.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <zlib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "intel/csv.h"
#include "intel/import.h"
#include "intel/import_int.h"
#include "intel/profile.h"
#include "stix/stix.h"

#define SPEC_EXAMPLE                                                                        \
    "{\"event\": \"ASSAULT\", \"mode\": \"aerial\", \"future\": false,"                       \
    " \"start\": \"2025-03-18T02:00:00Z\", \"end\": \"2025-03-18T03:00:00Z\","                \
    " \"location\": {\"lat\": 31.51, \"lon\": 34.46, \"precision_m\": 500},"                  \
    " \"actors\": [\"Air force\"], \"targets\": [\"civilians\"], \"fatalities\": 17,"         \
    " \"injured\": 20, \"reliability\": \"B\", \"credibility\": 2, \"marking\": \"amber\","   \
    " \"group\": \"NAME\", \"title\": \"Strike on a school\", \"description\": \"Seen.\","     \
    " \"source_ref\": \"acled:PSE12345\"}"
#define REPORT_ID "report--6f1e2d3c-4b5a-4c6d-8e7f-000000000001"
#define PARTNER "identity--6f1e2d3c-4b5a-4c6d-8e7f-000000000002"
#define GROUP_MD "marking-definition--6f1e2d3c-4b5a-4c6d-8e7f-000000000003"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("test vector is not JSON (%s): %s", err.text, text);
    return v;
}

static int from_text(const char *text, struct event_report *r, char msg[REPORT_MSG_SZ])
{
    json_t *v = load(text);
    int rc = report_from_json(v, r, msg);
    json_decref(v);
    return rc;
}

static vtime_t T(const char *s)
{
    vtime_t t;
    if (ts_parse(s, &t, NULL) != 0)
        fail_msg("bad test timestamp %s", s);
    return t;
}

static const char *data_path(const char *name)
{
    static char path[1024];
    const char *dir = getenv("VIGIL_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    return path;
}

/* ---- PLOVER ----------------------------------------------------------------------------- */

static void test_plover_codes(void **state)
{
    (void)state;
    static const char *const all[] = {"AGREE",    "CONSULT", "SUPPORT", "CONCEDE",
                                      "COOPERATE", "AID",    "RETREAT", "DEMAND",
                                      "ACCUSE",   "REJECT",  "THREATEN", "PROTEST",
                                      "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"};
    for (size_t i = 0; i < 16; i++) {
        enum plover_event e = plover_event_parse(all[i]);
        assert_int_not_equal(e, PLOVER_NONE);
        assert_string_equal(plover_event_name(e), all[i]);
    }
    assert_int_equal(plover_event_parse("DISAPPROVE"), PLOVER_ACCUSE);
    assert_int_equal(plover_event_parse("INVESTIGATE"), PLOVER_ACCUSE);
    assert_int_equal(plover_event_parse("assault"), PLOVER_NONE);
    assert_int_equal(plover_event_parse("FIGHT"), PLOVER_NONE);
    assert_int_equal(plover_event_parse(NULL), PLOVER_NONE);
    assert_null(plover_event_name(PLOVER_NONE));
    assert_null(plover_event_name(PLOVER_EVENT_COUNT));
    /* the modes the profile promises */
    static const char *const assault[] = {"aerial", "drone", "heavy-weapons", "firearms",
                                          "explosives", "suicide-attack", "abduct"};
    for (size_t i = 0; i < sizeof assault / sizeof assault[0]; i++)
        assert_non_null(plover_mode_lookup(PLOVER_ASSAULT, assault[i]));
    assert_non_null(plover_mode_lookup(PLOVER_MOBILIZE, "troops"));
    assert_non_null(plover_mode_lookup(PLOVER_MOBILIZE, "weapons"));
    assert_non_null(plover_mode_lookup(PLOVER_COERCE, "curfew"));
    assert_non_null(plover_mode_lookup(PLOVER_THREATEN, "violence"));
    assert_non_null(plover_mode_lookup(PLOVER_RETREAT, "ceasefire"));
    assert_non_null(plover_mode_lookup(PLOVER_RETREAT, "withdraw"));
    assert_null(plover_mode_lookup(PLOVER_ASSAULT, "troops"));
    assert_null(plover_mode_lookup(PLOVER_THREATEN, "aerial"));
    assert_null(plover_mode_lookup(PLOVER_AGREE, "visit"));
    assert_null(plover_mode_lookup(PLOVER_ASSAULT, "Aerial"));
    assert_null(plover_modes(PLOVER_AGREE)[0]);
    /* a looked-up mode is the table's own pointer, so reports can keep it */
    assert_ptr_equal(plover_mode_lookup(PLOVER_ASSAULT, "drone"),
                     plover_mode_lookup(PLOVER_ASSAULT, "drone"));
}

static void test_admiralty_confidence(void **state)
{
    (void)state;
    /* STIX 2.1 Appendix A, Admiralty Credibility: 1..5 -> 90, 70, 50, 30, 10; 6 -> none */
    static const int conf[] = {-1, 90, 70, 50, 30, 10, -1};
    for (int c = 0; c <= 6; c++)
        assert_int_equal(profile_credibility_to_confidence(c), conf[c]);
    for (int c = 1; c <= 5; c++)
        assert_int_equal(profile_confidence_to_credibility(conf[c]), c);
    assert_int_equal(profile_confidence_to_credibility(100), 1);
    assert_int_equal(profile_confidence_to_credibility(80), 1);
    assert_int_equal(profile_confidence_to_credibility(79), 2);
    assert_int_equal(profile_confidence_to_credibility(60), 2);
    assert_int_equal(profile_confidence_to_credibility(40), 3);
    assert_int_equal(profile_confidence_to_credibility(20), 4);
    assert_int_equal(profile_confidence_to_credibility(19), 5);
    assert_int_equal(profile_confidence_to_credibility(0), 5);
    assert_int_equal(profile_confidence_to_credibility(-1), 6);
    assert_int_equal(profile_confidence_to_credibility(101), 6);
}

static void test_uuid5(void **state)
{
    (void)state;
    char out[37], id[64];
    /* RFC 4122 appendix-style vector, as Python's uuid.uuid5(NAMESPACE_DNS, "python.org") */
    assert_int_equal(profile_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org", 10,
                                   out), 0);
    assert_string_equal(out, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    assert_int_equal(profile_uuid5("not-a-uuid", "x", 1, out), VIGIL_EINVAL);
    assert_string_equal(profile_area_location_id("North Gaza", id),
                        "location--9d89ca4c-9d41-5447-a364-1b47cfc21de2");
    assert_true(stix_id_valid(id));
}

/* ---- the REST resource ------------------------------------------------------------------ */

static void test_from_json_spec_example(void **state)
{
    (void)state;
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    assert_int_equal(from_text(SPEC_EXAMPLE, &r, msg), 0);
    assert_int_equal(r.event, PLOVER_ASSAULT);
    assert_string_equal(r.mode, "aerial");
    assert_false(r.future);
    assert_true(r.start == T("2025-03-18T02:00:00Z"));
    assert_true(r.end == T("2025-03-18T03:00:00Z"));
    assert_int_equal(r.tprec, REPORT_TP_SECOND);
    assert_true(r.has_point);
    assert_true(r.lat == 31.51 && r.lon == 34.46);
    assert_int_equal(r.precision_m, 500);
    assert_int_equal(r.n_actors, 1);
    assert_string_equal(r.actors[0], "Air force");
    assert_int_equal(r.n_targets, 1);
    assert_string_equal(r.targets[0], "civilians");
    assert_int_equal(r.fatalities, 17);
    assert_int_equal(r.injured, 20);
    assert_int_equal(r.reliability, 'B');
    assert_int_equal(r.credibility, 2);
    assert_int_equal(r.marking, REPORT_MARKING_AMBER);
    assert_string_equal(r.group, "NAME");
    assert_string_equal(r.title, "Strike on a school");
    assert_string_equal(r.description, "Seen.");
    assert_string_equal(r.source_ref, "acled:PSE12345");
    assert_int_equal(report_confidence(&r), 70);
    report_release(&r);
}

static void test_from_json_defaults(void **state)
{
    (void)state;
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    assert_int_equal(from_text("{\"event\":\"MOBILIZE\",\"start\":\"2025-03-18T02:00:00.5Z\","
                               "\"location\":{\"area\":\"North Gaza\"},\"future\":true,"
                               "\"time_precision\":\"hour\",\"fatalities\":null}", &r, msg),
                     0);
    assert_int_equal(r.event, PLOVER_MOBILIZE);
    assert_null(r.mode);
    assert_true(r.future);
    assert_true(r.end == r.start); /* end defaults to start */
    assert_int_equal(r.tprec, REPORT_TP_HOUR);
    assert_false(r.has_point);
    assert_string_equal(r.area, "North Gaza");
    assert_int_equal(r.fatalities, -1);
    assert_int_equal(r.injured, -1);
    assert_int_equal(r.reliability, 'F');
    assert_int_equal(r.credibility, 6);
    assert_int_equal(report_confidence(&r), -1);
    assert_int_equal(r.marking, REPORT_MARKING_DEFAULT);
    assert_null(r.group);
    assert_null(r.title);
    assert_null(r.source_ref);
    report_release(&r);
    /* a point without precision_m is taken as exact */
    assert_int_equal(from_text("{\"event\":\"PROTEST\",\"start\":\"2025-03-18T02:00:00Z\","
                               "\"location\":{\"lat\":-90,\"lon\":180}}", &r, msg), 0);
    assert_int_equal(r.precision_m, 0);
    report_release(&r);
}

/* Each vector breaks one rule; the message must start with the field's name. */
static void test_from_json_errors(void **state)
{
    (void)state;
#define BASE "\"event\":\"ASSAULT\",\"start\":\"2025-03-18T02:00:00Z\","
#define LOC "\"location\":{\"lat\":31.5,\"lon\":34.4}"
    static const struct {
        const char *json, *prefix;
    } v[] = {
        {"[]", "report: must be a JSON object"},
        {"{\"start\":\"2025-03-18T02:00:00Z\"," LOC "}", "event: required"},
        {"{\"event\":\"FIGHT\",\"start\":\"2025-03-18T02:00:00Z\"," LOC "}",
         "event: unknown PLOVER event type \"FIGHT\""},
        {"{\"event\":18,\"start\":\"2025-03-18T02:00:00Z\"," LOC "}", "event: must be a string"},
        {"{" BASE LOC ",\"mode\":\"troops\"}", "mode: \"troops\" is not a mode of ASSAULT"},
        {"{" BASE LOC ",\"mode\":1}", "mode: must be a string or null"},
        {"{" BASE LOC ",\"future\":\"no\"}", "future: must be true or false"},
        {"{\"event\":\"ASSAULT\"," LOC "}", "start: required"},
        {"{\"event\":\"ASSAULT\",\"start\":\"2025-03-18 02:00\"," LOC "}",
         "start: not an RFC 3339"},
        {"{\"event\":\"ASSAULT\",\"start\":\"2025-02-30T02:00:00Z\"," LOC "}",
         "start: not an RFC 3339"},
        {"{" BASE LOC ",\"end\":\"2025-03-18T01:00:00Z\"}", "end: earlier than start"},
        {"{\"event\":\"ASSAULT\",\"start\":\"0999-12-31T23:59:59Z\"," LOC "}",
         "start: outside the years 1000 to 9999"},
        {"{" BASE LOC ",\"time_precision\":\"fortnight\"}", "time_precision: must be one of"},
        {"{" BASE "\"x\":1," LOC "}", "x: unknown field"},
        {"{" BASE "\"id\":\"report--1\"," LOC "}", "id: unknown field"},
        {"{" BASE "\"actors\":[]}", "location: required"},
        {"{" BASE "\"location\":[31.5,34.4]}", "location: must be an object"},
        {"{" BASE "\"location\":{\"lat\":31.5}}", "location.lon: required"},
        {"{" BASE "\"location\":{\"lon\":31.5}}", "location.lat: required"},
        {"{" BASE "\"location\":{\"lat\":91,\"lon\":34}}", "location.lat: must be a number "
                                                          "between -90 and 90"},
        {"{" BASE "\"location\":{\"lat\":\"31\",\"lon\":34}}", "location.lat: must be a number"},
        {"{" BASE "\"location\":{\"lat\":31,\"lon\":-180.5}}", "location.lon: must be a number"},
        {"{" BASE "\"location\":{\"lat\":31,\"lon\":34,\"precision_m\":-1}}",
         "location.precision_m: must be an integer"},
        {"{" BASE "\"location\":{\"lat\":31,\"lon\":34,\"precision_m\":2.5}}",
         "location.precision_m: must be an integer"},
        {"{" BASE "\"location\":{\"lat\":31,\"lon\":34,\"alt\":3}}",
         "location.alt: unknown field"},
        {"{" BASE "\"location\":{\"area\":\"Gaza\",\"lat\":31}}",
         "location: area excludes lat"},
        {"{" BASE "\"location\":{\"area\":\"\"}}", "location.area: must be a name"},
        {"{" BASE LOC ",\"actors\":\"me\"}", "actors: must be an array of strings"},
        {"{" BASE LOC ",\"actors\":[\"a\",\"\"]}", "actors[1]: must be a string"},
        {"{" BASE LOC ",\"targets\":[7]}", "targets[0]: must be a string"},
        {"{" BASE LOC ",\"targets\":[\"a\\nb\"]}", "targets[0]: must be a string"},
        {"{" BASE LOC ",\"fatalities\":-1}", "fatalities: must be an integer"},
        {"{" BASE LOC ",\"fatalities\":\"17\"}", "fatalities: must be an integer"},
        {"{" BASE LOC ",\"injured\":1.5}", "injured: must be an integer"},
        {"{" BASE LOC ",\"reliability\":\"G\"}", "reliability: must be one of"},
        {"{" BASE LOC ",\"reliability\":\"b\"}", "reliability: must be one of"},
        {"{" BASE LOC ",\"reliability\":\"AB\"}", "reliability: must be one of"},
        {"{" BASE LOC ",\"credibility\":0}", "credibility: must be an integer from 1 to 6"},
        {"{" BASE LOC ",\"credibility\":7}", "credibility: must be an integer from 1 to 6"},
        {"{" BASE LOC ",\"credibility\":\"2\"}", "credibility: must be an integer"},
        {"{" BASE LOC ",\"marking\":\"purple\"}", "marking: must be one of clear"},
        {"{" BASE LOC ",\"marking\":\"AMBER\"}", "marking: must be one of clear"},
        {"{" BASE LOC ",\"group\":\"\"}", "group: must be a name"},
        {"{" BASE LOC ",\"title\":5}", "title: must be a string"},
        {"{" BASE LOC ",\"source_ref\":\"ACLED:1\"}", "source_ref: must be"},
        {"{" BASE LOC ",\"source_ref\":\"acled:\"}", "source_ref: must be"},
        {"{" BASE LOC ",\"source_ref\":\"acled 1\"}", "source_ref: must be"},
        {"{" BASE LOC ",\"source_ref\":\"acled:a b\"}", "source_ref: must be"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct event_report r;
        char msg[REPORT_MSG_SZ];
        int rc = from_text(v[i].json, &r, msg);
        if (rc != VIGIL_EINVAL || strncmp(msg, v[i].prefix, strlen(v[i].prefix)) != 0)
            fail_msg("vector %zu %s: rc %d, msg \"%s\", expected \"%s\"", i, v[i].json, rc, msg,
                     v[i].prefix);
        /* the report is left empty on failure */
        assert_int_equal(r.event, PLOVER_NONE);
        assert_null(r.actors);
        assert_null(r.area);
    }
#undef BASE
#undef LOC
}

static void test_limits(void **state)
{
    (void)state;
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    json_t *o = load("{\"event\":\"ASSAULT\",\"start\":\"2025-03-18T02:00:00Z\","
                     "\"location\":{\"lat\":31.5,\"lon\":34.4}}");
    json_t *names = json_array();
    for (int i = 0; i < REPORT_LIST_MAX; i++)
        json_array_append_new(names, json_sprintf("actor %d", i));
    json_object_set(o, "actors", names);
    assert_int_equal(report_from_json(o, &r, msg), 0);
    assert_int_equal(r.n_actors, REPORT_LIST_MAX);
    report_release(&r);
    json_array_append_new(names, json_string("one too many"));
    assert_int_equal(report_from_json(o, &r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "actors: more than 32 entries");
    json_decref(names);
    json_object_del(o, "actors");
    char *big = calloc(1, REPORT_TITLE_MAX + 2);
    memset(big, 'x', REPORT_TITLE_MAX + 1);
    json_object_set_new(o, "title", json_string(big));
    assert_int_equal(report_from_json(o, &r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "title: longer than 512 bytes");
    big[REPORT_TITLE_MAX] = '\0';
    json_object_set_new(o, "title", json_string(big));
    assert_int_equal(report_from_json(o, &r, msg), 0);
    report_release(&r);
    free(big);
    json_decref(o);
    /* report_check catches what a C caller may build by hand */
    report_init(&r);
    r.event = PLOVER_ASSAULT;
    r.has_point = true;
    assert_int_equal(report_check(&r, msg), 0);
    r.title = strdup("bad \xff utf-8");
    assert_int_equal(report_check(&r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "title: not valid UTF-8");
    r.mode = "troops"; /* a mode, but of another event type */
    assert_int_equal(report_check(&r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "mode: not a mode of ASSAULT");
    r.mode = NULL;
    free(r.title);
    r.title = NULL;
    r.start = 10;
    r.end = 5;
    assert_int_equal(report_check(&r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "end: earlier than start");
    r.end = 10;
    assert_int_equal(report_add_name(&r, false, ""), VIGIL_EINVAL);
    assert_int_equal(report_add_name(&r, true, "ok"), 0);
    assert_int_equal(report_check(&r, msg), 0);
    report_release(&r);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    struct event_report r, back;
    char msg[REPORT_MSG_SZ];
    assert_int_equal(from_text(SPEC_EXAMPLE, &r, msg), 0);
    json_t *j = report_to_json(&r);
    char *s = vjson_dumps(j);
    assert_non_null(strstr(s, "\"lat\":31.51,\"lon\":34.46,\"precision_m\":500"));
    assert_non_null(strstr(s, "\"start\":\"2025-03-18T02:00:00Z\""));
    assert_int_equal(report_from_json(j, &back, msg), 0);
    json_t *j2 = report_to_json(&back);
    char *s2 = vjson_dumps(j2);
    assert_string_equal(s, s2);
    free(s);
    free(s2);
    json_decref(j);
    json_decref(j2);
    report_release(&r);
    report_release(&back);
}

/* ---- STIX ------------------------------------------------------------------------------- */

static void assert_valid_stix(const json_t *o)
{
    char msg[STIX_MSG_SZ];
    if (stix_validate(o, NULL, msg) != 0) {
        char *s = vjson_dumps(o);
        fail_msg("invalid STIX (%s): %s", msg, s);
    }
}

static void test_to_stix(void **state)
{
    (void)state;
    struct event_report r, back;
    char msg[REPORT_MSG_SZ];
    json_t *arr;
    assert_int_equal(from_text(SPEC_EXAMPLE, &r, msg), 0);
    struct report_stix_ctx ctx = {T("2025-03-18T04:00:00Z"), REPORT_ID, PARTNER, GROUP_MD};
    assert_int_equal(report_to_stix(&r, &ctx, &arr, msg), 0);
    assert_int_equal(json_array_size(arr), 2);
    json_t *rep = json_array_get(arr, 0), *loc = json_array_get(arr, 1);
    assert_valid_stix(rep);
    assert_valid_stix(loc);
    assert_string_equal(vjson_str(rep, "type"), "report");
    assert_string_equal(vjson_str(rep, "id"), REPORT_ID);
    assert_string_equal(vjson_str(rep, "created_by_ref"), PARTNER);
    assert_string_equal(vjson_str(rep, "published"), "2025-03-18T04:00:00.000Z");
    assert_string_equal(vjson_str(rep, "name"), "Strike on a school");
    assert_int_equal(vjson_int(rep, "confidence", -1), 70);
    /* the location id derives from the report id */
    assert_string_equal(vjson_str(loc, "id"),
                        "location--93462278-4e0f-5057-a4a5-91707128caab");
    assert_string_equal(json_string_value(json_array_get(json_object_get(rep, "object_refs"),
                                                         0)), vjson_str(loc, "id"));
    json_t *ext = json_object_get(json_object_get(rep, "extensions"), PROFILE_EXT_ID);
    assert_string_equal(vjson_str(ext, "extension_type"), "property-extension");
    assert_string_equal(vjson_str(ext, "event"), "ASSAULT");
    assert_string_equal(vjson_str(ext, "mode"), "aerial");
    assert_string_equal(vjson_str(ext, "reliability"), "B");
    json_t *xref = json_array_get(json_object_get(rep, "external_references"), 0);
    assert_string_equal(vjson_str(xref, "source_name"), "acled");
    assert_string_equal(vjson_str(xref, "external_id"), "PSE12345");
    json_t *mk = json_object_get(rep, "object_marking_refs");
    assert_int_equal(json_array_size(mk), 2);
    assert_string_equal(json_string_value(json_array_get(mk, 0)), STIX_TLP_AMBER);
    assert_string_equal(json_string_value(json_array_get(mk, 1)), GROUP_MD);
    assert_true(json_equal(mk, json_object_get(loc, "object_marking_refs")));
    assert_true(json_number_value(json_object_get(loc, "latitude")) == 31.51);
    assert_true(json_number_value(json_object_get(loc, "precision")) == 500.0);
    /* and back: everything but the group (a marking the server resolves) survives */
    assert_int_equal(report_from_stix(rep, &back, msg), 0);
    json_t *a = report_to_json(&r), *b = report_to_json(&back);
    json_object_del(a, "group");
    if (!json_equal(a, b))
        fail_msg("round trip differs: %s vs %s", vjson_dumps(a), vjson_dumps(b));
    json_decref(a);
    json_decref(b);
    report_release(&back);
    json_decref(arr);
    /* same input, same ids */
    assert_int_equal(report_to_stix(&r, &ctx, &arr, msg), 0);
    assert_string_equal(vjson_str(json_array_get(arr, 1), "id"),
                        "location--93462278-4e0f-5057-a4a5-91707128caab");
    json_decref(arr);
    /* a random report id when none is given */
    struct report_stix_ctx ctx2 = {T("2025-03-18T04:00:00Z"), NULL, NULL, NULL};
    assert_int_equal(report_to_stix(&r, &ctx2, &arr, msg), 0);
    assert_true(stix_id_valid(vjson_str(json_array_get(arr, 0), "id")));
    assert_string_not_equal(vjson_str(json_array_get(arr, 0), "id"), REPORT_ID);
    json_decref(arr);
    /* bad ids in the context are refused */
    struct report_stix_ctx bad = {0, "indicator--6f1e2d3c-4b5a-4c6d-8e7f-000000000001", NULL,
                                  NULL};
    assert_int_equal(report_to_stix(&r, &bad, &arr, msg), VIGIL_EINVAL);
    assert_null(arr);
    report_release(&r);
}

/* The text writers (report_doc_text, report_to_stix_text) against the trees they stand in for:
 * the same bytes, for reports that exercise every optional member, escapes and number forms. */
static const char *const text_cases[] = {
    SPEC_EXAMPLE,
    "{\"event\":\"PROTEST\",\"start\":\"2024-01-02T03:04:05.123Z\",\"location\":"
    "{\"area\":\"Gaza \\\"north\\\" \\u00e9\"},\"description\":\"ctl \\u0001\\u001f\"}",
    "{\"event\":\"ASSAULT\",\"future\":true,\"start\":\"2024-01-02T03:04:05.123456Z\","
    "\"end\":\"2024-02-02T00:00:00Z\",\"location\":{\"lat\":-3,\"lon\":0.1,\"precision_m\":0},"
    "\"targets\":[\"a\\\\b\",\"c/d\"],\"injured\":0,\"reliability\":\"F\",\"credibility\":6}",
    "{\"event\":\"MOBILIZE\",\"mode\":\"troops\",\"start\":\"2025-03-18T02:00:00Z\","
    "\"time_precision\":\"week\",\"location\":{\"lat\":48.5868,\"lon\":39.0939,"
    "\"precision_m\":25000},\"actors\":[\"x\",\"y \\\"z\\\"\"],\"fatalities\":0,"
    "\"marking\":\"red\",\"title\":\"\\u2603 t\\tab\",\"description\":\"line\\r\\nnext\","
    "\"source_ref\":\"ucdp:123:4\"}",
    "{\"event\":\"ASSAULT\",\"start\":\"2025-03-18T02:00:00Z\",\"location\":{\"lat\":1e-7,"
    "\"lon\":-179.99999999999,\"precision_m\":1},\"marking\":\"clear\",\"group\":\"g\","
    "\"description\":\"only a description\"}",
};

static void expect_same(const char *what, const char *text, json_t *tree)
{
    char *want = vjson_dumps(tree);
    if (strcmp(text, want) != 0)
        fail_msg("%s differs:\n  text %s\n  tree %s", what, text, want);
    free(want);
    json_t *back = load(text); /* and it is JSON */
    json_decref(back);
}

static void test_text_matches_trees(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
        struct event_report r;
        char msg[REPORT_MSG_SZ];
        if (from_text(text_cases[i], &r, msg) != 0)
            fail_msg("case %zu: %s", i, msg);
        struct buf b;
        buf_init(&b, BUF_NOCAP);
        json_t *doc = report_to_json(&r);
        assert_int_equal(report_doc_text(&r, NULL, NULL, NULL, &b), 0);
        expect_same("report_to_json", b.data, doc);
        /* ingest's REST document: the effective marking, the id, the partner */
        json_object_set_new(doc, "marking", json_string("amber+strict"));
        json_object_set_new(doc, "id", json_string(REPORT_ID));
        json_object_set_new(doc, "partner", json_string("P \"1\""));
        buf_reset(&b);
        assert_int_equal(report_doc_text(&r, "amber+strict", REPORT_ID, "P \"1\"", &b), 0);
        expect_same("the REST document", b.data, doc);
        json_decref(doc);
        for (int k = 0; k < 4; k++) {
            struct report_stix_ctx ctx = {T("2025-03-18T04:00:00.250Z"), REPORT_ID,
                                          k & 1 ? PARTNER : NULL, k & 2 ? GROUP_MD : NULL};
            json_t *arr;
            assert_int_equal(report_to_stix(&r, &ctx, &arr, msg), 0);
            struct buf rep, loc;
            buf_init(&rep, BUF_NOCAP);
            buf_init(&loc, BUF_NOCAP);
            char lid[64];
            assert_int_equal(report_to_stix_text(&r, &ctx, &rep, &loc, lid, msg), 0);
            expect_same("the report SDO", rep.data, json_array_get(arr, 0));
            json_t *sdo = load(rep.data);
            assert_valid_stix(sdo);
            json_decref(sdo);
            assert_int_equal(loc.len > 0, json_array_size(arr) == 2);
            if (loc.len)
                expect_same("the location SDO", loc.data, json_array_get(arr, 1));
            assert_string_equal(lid, json_string_value(json_array_get(
                                         json_object_get(json_array_get(arr, 0), "object_refs"),
                                         0)));
            json_decref(arr);
            buf_release(&rep);
            buf_release(&loc);
        }
        /* no report id: the text writer needs one */
        struct report_stix_ctx none = {0, NULL, NULL, NULL};
        struct buf rep, loc;
        buf_init(&rep, BUF_NOCAP);
        buf_init(&loc, BUF_NOCAP);
        char lid[64];
        assert_int_equal(report_to_stix_text(&r, &none, &rep, &loc, lid, msg), VIGIL_EINVAL);
        buf_release(&rep);
        buf_release(&loc);
        buf_release(&b);
        report_release(&r);
    }
}

static void test_to_stix_area(void **state)
{
    (void)state;
    struct event_report r, back;
    char msg[REPORT_MSG_SZ], id[64];
    json_t *arr;
    assert_int_equal(from_text("{\"event\":\"MOBILIZE\",\"mode\":\"troops\",\"future\":true,"
                               "\"start\":\"2025-03-18T02:00:00Z\",\"location\":{\"area\":"
                               "\"North Gaza\"},\"credibility\":6}", &r, msg), 0);
    struct report_stix_ctx ctx = {T("2025-03-18T04:00:00Z"), REPORT_ID, NULL, NULL};
    assert_int_equal(report_to_stix(&r, &ctx, &arr, msg), 0);
    assert_int_equal(json_array_size(arr), 1); /* the area's location is the server's */
    json_t *rep = json_array_get(arr, 0);
    assert_valid_stix(rep);
    assert_string_equal(json_string_value(json_array_get(json_object_get(rep, "object_refs"),
                                                         0)),
                        profile_area_location_id("North Gaza", id));
    assert_null(json_object_get(rep, "confidence"));          /* credibility 6 */
    assert_null(json_object_get(rep, "object_marking_refs")); /* default marking */
    assert_string_equal(vjson_str(rep, "name"), "MOBILIZE/troops (planned) in North Gaza");
    assert_int_equal(report_from_stix(rep, &back, msg), 0);
    assert_string_equal(back.area, "North Gaza");
    assert_true(back.future);
    assert_int_equal(back.credibility, 6);
    report_release(&back);
    json_decref(arr);
    report_release(&r);
}

static void test_from_stix(void **state)
{
    (void)state;
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    /* a partner's system put the extension on an incident, with a TLP and a confidence */
    json_t *o = load("{\"type\":\"incident\",\"spec_version\":\"2.1\",\"id\":"
                     "\"incident--6f1e2d3c-4b5a-4c6d-8e7f-000000000009\",\"created\":"
                     "\"2025-03-18T04:00:00.000Z\",\"modified\":\"2025-03-18T04:00:00.000Z\","
                     "\"name\":\"Shelling\",\"confidence\":55,\"object_marking_refs\":[\""
                     STIX_TLP_GREEN "\"],\"extensions\":{\"" PROFILE_EXT_ID "\":{"
                     "\"extension_type\":\"property-extension\",\"event\":\"ASSAULT\","
                     "\"mode\":\"heavy-weapons\",\"start\":\"2025-03-18T02:00:00Z\","
                     "\"location\":{\"lat\":31.3,\"lon\":34.3,\"precision_m\":1000},"
                     "\"reliability\":\"C\"}}}");
    assert_valid_stix(o);
    assert_int_equal(report_from_stix(o, &r, msg), 0);
    assert_string_equal(r.title, "Shelling");
    assert_string_equal(r.mode, "heavy-weapons");
    assert_int_equal(r.credibility, 3); /* from confidence 55 */
    assert_int_equal(r.reliability, 'C');
    assert_int_equal(r.marking, REPORT_MARKING_GREEN);
    report_release(&r);
    json_t *ext = json_object_get(json_object_get(o, "extensions"), PROFILE_EXT_ID);
    json_object_set_new(ext, "event", json_string("BOMB"));
    assert_int_equal(report_from_stix(o, &r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "extension.event: unknown PLOVER event type \"BOMB\"");
    json_object_set_new(ext, "event", json_string("ASSAULT"));
    json_object_set_new(ext, "marking", json_string("red")); /* markings are STIX's job */
    assert_int_equal(report_from_stix(o, &r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "extension.marking: unknown field");
    json_object_del(ext, "marking");
    json_object_set_new(ext, "extension_type", json_string("new-sdo"));
    assert_int_equal(report_from_stix(o, &r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "extension.extension_type: must be \"property-extension\"");
    json_object_del(o, "extensions");
    assert_int_equal(report_from_stix(o, &r, msg), VIGIL_ENOENT);
    json_decref(o);
}

/* A named area's location is valid STIX (4.11: a country is enough) and says no more than the
 * name; its created is the same whatever the version. */
static void test_area_location(void **state)
{
    (void)state;
    char id[64];
    json_t *marks = json_pack("[s]", STIX_TLP_AMBER);
    json_t *o = profile_area_location("North Gaza", T("2026-01-02T03:04:05Z") + 123, marks);
    assert_valid_stix(o);
    assert_string_equal(vjson_str(o, "id"), profile_area_location_id("North Gaza", id));
    assert_string_equal(vjson_str(o, "name"), "North Gaza");
    assert_string_equal(vjson_str(o, "country"), "ZZ");
    assert_string_equal(vjson_str(o, "created"), "2025-01-01T00:00:00.000Z");
    assert_string_equal(vjson_str(o, "modified"), "2026-01-02T03:04:05.000123Z");
    assert_null(json_object_get(o, "latitude"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(o,
                                                         "object_marking_refs"), 0)),
                        STIX_TLP_AMBER);
    json_decref(o);
    o = profile_area_location("North Gaza", T("2026-01-02T03:04:05Z"), NULL);
    assert_valid_stix(o);
    assert_null(json_object_get(o, "object_marking_refs")); /* no empty list */
    json_decref(o);
    json_decref(marks);
    json_t *def = profile_incident_extension_definition(), *schema = profile_incident_schema();
    assert_valid_stix(def);
    assert_string_equal(vjson_str(def, "schema"), PROFILE_INCIDENT_SCHEMA_URL);
    assert_non_null(json_object_get(json_object_get(schema, "properties"), "corroborated"));
    json_decref(def);
    json_decref(schema);
}

static void test_extension_definition(void **state)
{
    (void)state;
    json_t *def = profile_extension_definition(), *idn = profile_identity();
    assert_valid_stix(def);
    assert_valid_stix(idn);
    assert_string_equal(vjson_str(def, "id"), PROFILE_EXT_ID);
    assert_string_equal(vjson_str(def, "created_by_ref"), vjson_str(idn, "id"));
    /* the schema is a URL the hub serves the JSON Schema at */
    assert_string_equal(vjson_str(def, "schema"), PROFILE_SCHEMA_URL);
    json_t *schema = profile_extension_schema();
    json_t *adef = profile_alert_extension_definition();
    assert_valid_stix(adef);
    assert_string_equal(vjson_str(adef, "id"), PROFILE_ALERT_EXT_ID);
    assert_string_equal(vjson_str(adef, "schema"), PROFILE_ALERT_SCHEMA_URL);
    json_decref(adef);
    json_t *props = json_object_get(schema, "properties");
    assert_int_equal(json_array_size(json_object_get(json_object_get(props, "event"), "enum")),
                     17); /* PLOVER's 16 and Vigil's OTHER */
    json_t *modes = json_object_get(json_object_get(props, "mode"), "x-vigil-modes");
    assert_true(json_array_size(json_object_get(modes, "ASSAULT")) >= 14);
    /* every property the extension writes is in the schema, and nothing else */
    struct event_report r;
    char msg[REPORT_MSG_SZ];
    json_t *arr;
    assert_int_equal(from_text(SPEC_EXAMPLE, &r, msg), 0);
    struct report_stix_ctx ctx = {T("2025-03-18T04:00:00Z"), REPORT_ID, NULL, NULL};
    assert_int_equal(report_to_stix(&r, &ctx, &arr, msg), 0);
    json_t *ext = json_object_get(json_object_get(json_array_get(arr, 0), "extensions"),
                                  PROFILE_EXT_ID);
    const char *k;
    json_t *v;
    json_object_foreach(ext, k, v) {
        if (!json_object_get(props, k))
            fail_msg("extension property %s is not in the schema", k);
    }
    json_decref(arr);
    report_release(&r);
    json_decref(schema);
    json_decref(def);
    json_decref(idn);
}

/* ---- CSV -------------------------------------------------------------------------------- */

static FILE *mem(const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    return f;
}

static void test_csv(void **state)
{
    (void)state;
    char msg[CSV_MSG_SZ];
    struct csv_reader r;
    FILE *f = mem("\xef\xbb\xbf" "a,\"b,1\",\"say \"\"hi\"\"\"\r\n"
                  "\n"
                  "\"multi\nline\",,5\" shells\n"
                  "x,\"y\"z,w\n"
                  "last,row");
    csv_init(&r, f, ',', true);
    assert_int_equal(csv_next(&r, msg), 1);
    assert_int_equal(r.rec_line, 1);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(r.fields[0], "a"); /* the BOM is gone */
    assert_string_equal(r.fields[1], "b,1");
    assert_string_equal(r.fields[2], "say \"hi\"");
    assert_int_equal(csv_next(&r, msg), 1);
    assert_int_equal(r.rec_line, 3); /* the empty line was skipped */
    assert_string_equal(r.fields[0], "multi\nline");
    assert_string_equal(r.fields[1], "");
    assert_string_equal(r.fields[2], "5\" shells"); /* a quote inside an unquoted field */
    assert_int_equal(csv_next(&r, msg), VIGIL_EINVAL);
    assert_int_equal(r.rec_line, 5);
    assert_string_equal(msg, "field 2: unexpected character after the closing quote");
    assert_int_equal(csv_next(&r, msg), 1); /* recovered at the next record */
    assert_int_equal(r.rec_line, 6);
    assert_int_equal(r.n_fields, 2);
    assert_string_equal(r.fields[1], "row");
    assert_int_equal(csv_next(&r, msg), 0);
    assert_int_equal(csv_next(&r, msg), 0);
    csv_release(&r);
    fclose(f);

    /* limits: a long field, too many fields, a NUL; each record is skipped whole */
    static char text[4096];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "short,%0100d\n", 7);
    for (int i = 0; i < CSV_MAX_FIELDS + 1; i++)
        text[n++] = ',';
    text[n++] = '\n';
    memcpy(text + n, "ok,1\nn\0l,2\nend,3\n", 17);
    n += 17;
    f = fmemopen(text, n, "r");
    csv_init(&r, f, ',', true);
    r.max_field = 50;
    assert_int_equal(csv_next(&r, msg), VIGIL_ETOOBIG);
    assert_string_equal(msg, "field 2: longer than 50 bytes");
    assert_int_equal(csv_next(&r, msg), VIGIL_ETOOBIG);
    assert_string_equal(msg, "more than 128 fields");
    assert_int_equal(csv_next(&r, msg), 1);
    assert_string_equal(r.fields[0], "ok");
    assert_int_equal(csv_next(&r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "NUL byte in field 1");
    assert_int_equal(csv_next(&r, msg), 1);
    assert_string_equal(r.fields[0], "end");
    assert_int_equal(r.rec_line, 5);
    assert_int_equal(csv_next(&r, msg), 0);
    csv_release(&r);
    fclose(f);

    /* unterminated quote; tab-separated without quoting */
    f = mem("a,\"open\nmore\n");
    csv_init(&r, f, ',', true);
    assert_int_equal(csv_next(&r, msg), VIGIL_EINVAL);
    assert_string_equal(msg, "field 2: quoted field not closed before the end of the file");
    assert_int_equal(csv_next(&r, msg), 0);
    csv_release(&r);
    fclose(f);
    f = mem("\"a\"\tb,c\t\n1\t2\t3\n");
    csv_init(&r, f, '\t', false);
    assert_int_equal(csv_next(&r, msg), 1);
    assert_int_equal(r.n_fields, 3);
    assert_string_equal(r.fields[0], "\"a\"");
    assert_string_equal(r.fields[1], "b,c");
    assert_string_equal(r.fields[2], "");
    assert_int_equal(csv_next(&r, msg), 1);
    assert_int_equal(csv_next(&r, msg), 0);
    csv_release(&r);
    fclose(f);
}

/* ---- importers -------------------------------------------------------------------------- */

#define MAX_SEEN 64

struct seen {
    struct event_report r[MAX_SEEN];
    size_t line[MAX_SEEN], n;
    size_t err_line[MAX_SEEN], n_err;
    int err_rc[MAX_SEEN];
    char err_msg[MAX_SEEN][IMPORT_MSG_SZ];
    int stop_on_error; /* returned by on_error */
};

/* Keeps a deep copy through the JSON form, which also checks report_to_json/from_json. */
static int on_report(void *ctx, const struct event_report *r, size_t line)
{
    struct seen *s = ctx;
    char msg[REPORT_MSG_SZ];
    assert_true(s->n < MAX_SEEN);
    json_t *j = report_to_json(r);
    if (report_from_json(j, &s->r[s->n], msg) != 0)
        fail_msg("line %zu: imported report does not read back: %s", line, msg);
    json_decref(j);
    s->line[s->n++] = line;
    return 0;
}

static int on_error(void *ctx, size_t line, int rc, const char *msg)
{
    struct seen *s = ctx;
    assert_true(s->n_err < MAX_SEEN);
    assert_true(rc < 0);
    assert_true(msg[0] != '\0');
    s->err_line[s->n_err] = line;
    s->err_rc[s->n_err] = rc;
    snprintf(s->err_msg[s->n_err], IMPORT_MSG_SZ, "%s", msg);
    s->n_err++;
    return s->stop_on_error;
}

static int run_import(enum import_format fmt, const char *file, struct seen *s,
                      struct import_stats *st)
{
    FILE *f = fopen(data_path(file), "rb");
    if (!f)
        fail_msg("cannot open %s", data_path(file));
    struct import_handler h = {on_report, on_error, s};
    int rc = import_file(fmt, f, &h, st);
    fclose(f);
    return rc;
}

static void seen_release(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        report_release(&s->r[i]);
}

static void expect_err(struct seen *s, size_t i, size_t line, int rc, const char *needle)
{
    if (i >= s->n_err || s->err_line[i] != line || s->err_rc[i] != rc ||
        !strstr(s->err_msg[i], needle))
        fail_msg("error %zu: expected line %zu rc %d \"%s\", got line %zu rc %d \"%s\"", i,
                 line, rc, needle, i < s->n_err ? s->err_line[i] : 0,
                 i < s->n_err ? s->err_rc[i] : 0, i < s->n_err ? s->err_msg[i] : "(none)");
}

static void test_import_acled(void **state)
{
    (void)state;
    static struct seen s;
    struct import_stats st;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_ACLED, "acled_sample.csv", &s, &st), 0);
    /* every valid ACLED row imports (ACLED "Other" and "Change to group/activity" too) */
    assert_int_equal(st.records, 10);
    assert_int_equal(st.imported, 10);
    assert_int_equal(st.rejected, 0);
    /* PSE1001: air strike, day precision, exact place, civilians targeted */
    struct event_report *r = &s.r[0];
    assert_int_equal(s.line[0], 2);
    assert_int_equal(r->event, PLOVER_ASSAULT);
    assert_string_equal(r->mode, "aerial");
    assert_true(r->start == T("2025-06-06T00:00:00Z"));
    assert_true(r->end == T("2025-06-06T23:59:59Z"));
    assert_int_equal(r->tprec, REPORT_TP_DAY);
    assert_true(r->lat == 31.5017 && r->lon == 34.4668);
    assert_int_equal(r->precision_m, 2000);
    assert_int_equal(r->fatalities, 3);
    assert_int_equal(r->injured, -1);
    assert_int_equal(r->n_actors, 1);
    assert_string_equal(r->actors[0], "Military Forces of Israel (2022-)");
    assert_int_equal(r->n_targets, 1);
    assert_string_equal(r->targets[0], "Civilians (Palestine)");
    assert_string_equal(r->source_ref, "acled:PSE1001");
    assert_string_equal(r->title, "Air/drone strike: Gaza City, Gaza Strip, Palestine");
    assert_non_null(strstr(r->description, "injuring \"several\" others"));
    assert_int_equal(r->reliability, 'B');
    assert_int_equal(r->credibility, 3);
    /* PSE1002: ISO date, week precision, the notes say drone */
    r = &s.r[1];
    assert_string_equal(r->mode, "drone");
    assert_true(r->start == T("2025-06-04T00:00:00Z"));
    assert_true(r->end == T("2025-06-10T23:59:59Z"));
    assert_int_equal(r->tprec, REPORT_TP_WEEK);
    assert_int_equal(r->precision_m, 25000);
    assert_int_equal(r->fatalities, 0);
    /* PSE1003: a battle: both sides and the associated actors are actors */
    r = &s.r[2];
    assert_string_equal(r->mode, "firearms");
    assert_int_equal(r->n_actors, 4);
    assert_string_equal(r->actors[3], "Palestinian Islamic Jihad");
    assert_int_equal(r->n_targets, 0);
    /* PSE1004: four-digit year, month precision, unknown fatalities */
    r = &s.r[3];
    assert_string_equal(r->mode, "heavy-weapons");
    assert_true(r->start == T("2025-05-31T00:00:00Z"));
    assert_true(r->end == T("2025-06-30T23:59:59Z"));
    assert_int_equal(r->tprec, REPORT_TP_MONTH);
    assert_int_equal(r->precision_m, 100000);
    assert_int_equal(r->fatalities, -1);
    /* PSE1005: "10 June 2025"; PSE1006: disrupted weapons use */
    assert_int_equal(s.r[4].event, PLOVER_PROTEST);
    assert_true(s.r[4].start == T("2025-06-10T00:00:00Z"));
    assert_int_equal(s.r[5].event, PLOVER_COERCE);
    assert_string_equal(s.r[5].mode, "confiscate");
    /* PSE1007: "Other" is Vigil's OTHER, without a mode */
    assert_int_equal(s.r[6].event, PLOVER_OTHER);
    assert_null(s.r[6].mode);
    /* PSE1008: abduction; actor 2 and its associates are the targets */
    r = &s.r[7];
    assert_int_equal(s.line[7], 9);
    assert_string_equal(r->mode, "abduct");
    assert_int_equal(r->n_targets, 3);
    assert_string_equal(r->targets[2], "Health Workers (Palestine)");
    /* PSE1009: an air strike on an armed group: the group struck is a target, not an actor */
    r = &s.r[8];
    assert_int_equal(r->n_actors, 1);
    assert_string_equal(r->actors[0], "Military Forces of Israel (2022-)");
    assert_int_equal(r->n_targets, 2);
    assert_string_equal(r->targets[0], "Hamas Movement");
    assert_string_equal(r->targets[1], "Al Qassam Brigades");
    /* PSE1010: change to group/activity */
    assert_int_equal(s.r[9].event, PLOVER_OTHER);
    assert_string_equal(s.r[9].mode, "group-change");
    assert_string_equal(s.r[9].actors[0], "Hamas Movement");
    seen_release(&s);
}

/* UCDP roles: sides listing several groups give one actor each; one-sided: side_b targets.
 * And a gzip-compressed file reads like the plain one (import_open). */
static void test_import_ucdp_roles_and_gzip(void **state)
{
    (void)state;
    static const char csv[] =
        "id,type_of_violence,side_a,side_b,latitude,longitude,date_start,date_end,date_prec\n"
        "1,2,\"Ahrar al-Sham, HTS\",IS,35.0,36.0,2016-01-01,2016-01-01,1\n"
        "2,3,IS,Civilians,35.0,36.0,2016-01-01,2016-01-07,2\n";
    char path[] = "/tmp/vigil-test-ucdp-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, csv, sizeof csv - 1), (int)(sizeof csv - 1));
    assert_int_equal(gzclose(gz), Z_OK);
    static struct seen s;
    memset(&s, 0, sizeof s);
    FILE *f = import_open(path);
    assert_non_null(f);
    struct import_handler h = {on_report, on_error, &s};
    struct import_stats st;
    assert_int_equal(import_file(IMPORT_UCDP, f, &h, &st), 0);
    rewind(f); /* --on-error abort reads the file twice */
    assert_int_equal(import_file(IMPORT_UCDP, f, &h, &st), 0);
    fclose(f);
    /* a truncated stream is a read error, not a shorter file */
    f = fopen(path, "rb");
    char bytes[512];
    size_t nb = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    f = fopen(path, "wb");
    assert_int_equal(fwrite(bytes, 1, nb - 12, f), nb - 12);
    fclose(f);
    f = import_open(path);
    struct seen *none = calloc(1, sizeof *none);
    struct import_handler h2 = {on_report, on_error, none};
    assert_int_equal(import_file(IMPORT_UCDP, f, &h2, NULL), VIGIL_EIO);
    seen_release(none);
    free(none);
    fclose(f);
    unlink(path);
    assert_int_equal(st.imported, 2);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.r[0].n_actors, 3);
    assert_string_equal(s.r[0].actors[0], "Ahrar al-Sham");
    assert_string_equal(s.r[0].actors[1], "HTS");
    assert_string_equal(s.r[0].actors[2], "IS");
    assert_int_equal(s.r[0].n_targets, 0);
    assert_int_equal(s.r[1].n_actors, 1);
    assert_int_equal(s.r[1].n_targets, 1);
    assert_string_equal(s.r[1].targets[0], "Civilians");
    assert_int_equal(s.r[3].tprec, REPORT_TP_WEEK);
    seen_release(&s);
}

static void test_import_acled_bad(void **state)
{
    (void)state;
    static struct seen s;
    struct import_stats st;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_ACLED, "acled_bad.csv", &s, &st), 0);
    assert_int_equal(st.records, 8);
    assert_int_equal(st.imported, 1);
    assert_int_equal(s.line[0], 8);
    expect_err(&s, 0, 2, VIGIL_EINVAL, "event_date: \"31-Feb-25\" is not a date");
    expect_err(&s, 1, 3, VIGIL_EINVAL, "latitude: \"91.5\" is not a latitude");
    expect_err(&s, 2, 4, VIGIL_EINVAL, "\"Armed clash\" is not an ACLED sub-event type of "
                                       "\"Protests\"");
    expect_err(&s, 3, 5, VIGIL_EINVAL, "fatalities: \"-4\" is not a count");
    expect_err(&s, 4, 6, VIGIL_EINVAL, "time_precision: must be 1, 2 or 3");
    expect_err(&s, 5, 7, VIGIL_EINVAL, "record has 30 fields, the header 31");
    expect_err(&s, 6, 9, VIGIL_EINVAL, "quoted field not closed");
    assert_int_equal(s.n_err, 7);
    seen_release(&s);
    /* the caller may abort at the first bad record: import_file returns its value */
    memset(&s, 0, sizeof s);
    s.stop_on_error = 42;
    assert_int_equal(run_import(IMPORT_ACLED, "acled_bad.csv", &s, &st), 42);
    assert_int_equal(s.n_err, 1);
    assert_int_equal(st.imported, 0);
    seen_release(&s);
    /* without an error callback bad records are skipped */
    FILE *f = fopen(data_path("acled_bad.csv"), "rb");
    struct import_handler h = {NULL, NULL, NULL};
    assert_int_equal(import_file(IMPORT_ACLED, f, &h, &st), 0);
    assert_int_equal(st.imported, 1);
    fclose(f);
    /* a header without a required column makes the file unreadable */
    memset(&s, 0, sizeof s);
    f = mem("event_id_cnty,event_date,event_type,sub_event_type,longitude\n"
            "PSE1,6-Jun-25,Battles,Armed clash,34\n");
    struct import_handler h2 = {on_report, on_error, &s};
    assert_int_equal(import_file(IMPORT_ACLED, f, &h2, &st), VIGIL_EINVAL);
    expect_err(&s, 0, 1, VIGIL_EINVAL, "header: required column latitude is missing");
    assert_int_equal(s.n, 0);
    fclose(f);
    memset(&s, 0, sizeof s);
    f = mem("");
    assert_int_equal(import_file(IMPORT_UCDP, f, &h2, &st), VIGIL_EINVAL);
    expect_err(&s, 0, 1, VIGIL_EINVAL, "the file is empty");
    fclose(f);
    /* an upper-case header (older ACLED files) with a minimal set of columns */
    memset(&s, 0, sizeof s);
    f = mem("EVENT_ID_CNTY,EVENT_DATE,EVENT_TYPE,SUB_EVENT_TYPE,LATITUDE,LONGITUDE\n"
            "SYR7,06-June-1999,Riots,Mob violence,35.1,36.7\n");
    assert_int_equal(import_file(IMPORT_ACLED, f, &h2, &st), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.r[0].mode, "primitive");
    assert_true(s.r[0].start == T("1999-06-06T00:00:00Z"));
    fclose(f);
    seen_release(&s);
}

static void test_import_ucdp(void **state)
{
    (void)state;
    static struct seen s;
    struct import_stats st;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_UCDP, "ucdp_slice.csv", &s, &st), 0);
    assert_int_equal(st.records, 20);
    assert_int_equal(st.imported, 20);
    assert_int_equal(s.n_err, 0);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.line[i], i + 2);
        assert_int_equal(s.r[i].event, PLOVER_ASSAULT);
        assert_int_equal(s.r[i].reliability, 'B');
        assert_int_equal(s.r[i].credibility, 2);
    }
    /* id 300380: Syria, 3 January 2013, exact place, 2 dead */
    struct event_report *r = &s.r[0];
    assert_string_equal(r->source_ref, "ucdp:300380");
    assert_true(r->start == T("2013-01-03T00:00:00Z"));
    assert_true(r->end == T("2013-01-03T23:59:59Z"));
    assert_int_equal(r->tprec, REPORT_TP_DAY);
    assert_true(r->lat == 35.763369 && r->lon == 36.558974);
    assert_int_equal(r->precision_m, 1000);
    assert_int_equal(r->fatalities, 2);
    assert_int_equal(r->n_actors, 2);
    assert_string_equal(r->actors[0], "Government of Syria");
    assert_string_equal(r->actors[1], "Syrian insurgents");
    assert_string_equal(r->title, "Government of Syria - Syrian insurgents - Rami village, "
                                  "Syria");
    /* id 21300: Angola 1989, a week-long window, province-level place */
    r = &s.r[1];
    assert_true(r->start == T("1989-05-10T00:00:00Z"));
    assert_true(r->end == T("1989-05-16T23:59:59Z"));
    assert_int_equal(r->tprec, REPORT_TP_WEEK);
    assert_int_equal(r->precision_m, 150000);
    assert_int_equal(r->fatalities, 14);
    /* id 180975: one-sided violence: the civilians are the target */
    r = &s.r[17];
    assert_string_equal(r->source_ref, "ucdp:180975");
    assert_int_equal(r->n_actors, 1);
    assert_int_equal(r->n_targets, 1);
    assert_string_equal(r->targets[0], "Civilians");
    seen_release(&s);
}

static void test_import_gdelt(void **state)
{
    (void)state;
    static struct seen s;
    struct import_stats st;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_GDELT, "gdelt_sample.tsv", &s, &st), 0);
    assert_int_equal(st.records, 6);
    assert_int_equal(st.imported, 4);
    expect_err(&s, 0, 3, VIGIL_ENOENT, "CAMEO 010 (root 01) is not coded in PLOVER");
    expect_err(&s, 1, 6, VIGIL_ENOENT, "the event has no location");
    struct event_report *r = &s.r[0];
    assert_int_equal(s.line[0], 1); /* no header: line 1 is a record */
    assert_int_equal(r->event, PLOVER_ASSAULT);
    assert_string_equal(r->mode, "aerial");
    assert_true(r->start == T("2025-06-06T00:00:00Z"));
    assert_int_equal(r->precision_m, 5000);
    assert_string_equal(r->actors[0], "ISRAEL");
    assert_string_equal(r->targets[0], "GAZA");
    assert_string_equal(r->source_ref, "gdelt:1200000001");
    assert_string_equal(r->title, "CAMEO 195 ISRAEL -> GAZA (Gaza, Gaza Strip (general), Gaza "
                                  "Strip)");
    assert_string_equal(r->description, "Source: https://news.example.org/1200000001.html");
    assert_int_equal(r->reliability, 'F');
    assert_int_equal(r->credibility, 6);
    assert_int_equal(s.r[1].event, PLOVER_RETREAT);
    assert_string_equal(s.r[1].mode, "ceasefire");
    assert_int_equal(s.r[2].event, PLOVER_MOBILIZE);
    assert_string_equal(s.r[2].mode, "troops");
    assert_int_equal(s.r[3].event, PLOVER_THREATEN);
    assert_string_equal(s.r[3].mode, "violence");
    assert_int_equal(s.r[3].precision_m, 500000); /* a country-level place */
    seen_release(&s);

    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_GDELT, "gdelt_bad.tsv", &s, &st), 0);
    assert_int_equal(st.imported, 0);
    expect_err(&s, 0, 1, VIGIL_EINVAL, "SQLDATE: \"20250231\" is not a date");
    expect_err(&s, 1, 2, VIGIL_EINVAL, "EventRootCode: \"18\" does not match EventCode "
                                       "\"190\"");
    expect_err(&s, 2, 3, VIGIL_EINVAL, "ActionGeo_Lat: \"abc\" is not a latitude");
    expect_err(&s, 3, 4, VIGIL_EINVAL, "record has 60 fields, GDELT 2.0 events have 61");
    expect_err(&s, 4, 5, VIGIL_EINVAL, "GLOBALEVENTID: \"12000001X5\" is not a number");
    expect_err(&s, 5, 6, VIGIL_EINVAL, "EventCode: \"999\" is not a CAMEO code");
    seen_release(&s);
}

static void test_import_misp(void **state)
{
    (void)state;
    static struct seen s;
    struct import_stats st;
    memset(&s, 0, sizeof s);
    assert_int_equal(run_import(IMPORT_MISP, "misp_events.json", &s, &st), 0);
    assert_int_equal(st.records, 4);
    assert_int_equal(st.imported, 2);
    expect_err(&s, 0, 2, VIGIL_ENOENT, "no vigil:event tag");
    expect_err(&s, 1, 4, VIGIL_EINVAL, "Event.uuid: missing or not a UUID");
    struct event_report *r = &s.r[0];
    assert_int_equal(r->event, PLOVER_ASSAULT);
    assert_string_equal(r->mode, "drone"); /* the mode tag came before the event tag */
    assert_true(r->future);
    assert_int_equal(r->marking, REPORT_MARKING_AMBER);
    assert_int_equal(r->reliability, 'B');
    assert_int_equal(r->credibility, 3);
    assert_true(r->lat == 31.2461 && r->lon == 34.2586);
    assert_int_equal(r->precision_m, 2500);
    assert_string_equal(r->actors[0], "Example Armed Group");
    assert_string_equal(r->targets[0], "Civilians");
    assert_string_equal(r->title, "Planned drone attack on the Rafah crossing (HUMINT)");
    assert_non_null(strstr(r->description, "preparations for a drone attack"));
    assert_string_equal(r->source_ref, "misp:5f1d3c2a-8b4e-4a6f-9c7d-2e1f0a9b8c7d");
    assert_true(r->start == T("2025-06-20T00:00:00Z"));
    r = &s.r[1];
    assert_int_equal(s.line[1], 3);
    assert_int_equal(r->event, PLOVER_MOBILIZE);
    assert_false(r->has_point);
    assert_string_equal(r->area, "North Gaza");
    assert_int_equal(r->marking, REPORT_MARKING_CLEAR);
    seen_release(&s);
    /* not JSON, and JSON that is no MISP event */
    memset(&s, 0, sizeof s);
    FILE *f = mem("{\"Event\": ");
    struct import_handler h = {on_report, on_error, &s};
    assert_int_equal(import_file(IMPORT_MISP, f, &h, &st), VIGIL_EINVAL);
    expect_err(&s, 0, 1, VIGIL_EINVAL, "file: not JSON");
    fclose(f);
    f = mem("{\"name\": \"x\"}");
    assert_int_equal(import_file(IMPORT_MISP, f, &h, &st), VIGIL_EINVAL);
    expect_err(&s, 1, 1, VIGIL_EINVAL, "not a MISP event");
    fclose(f);
}

static void test_mapping_tables(void **state)
{
    (void)state;
    enum plover_event e;
    const char *mode;
    /* every CAMEO root code: 01 and 02 have no PLOVER equivalent, the rest map */
    static const enum plover_event roots[21] = {
        PLOVER_NONE,     PLOVER_NONE,     PLOVER_NONE,    PLOVER_AGREE,    PLOVER_CONSULT,
        PLOVER_SUPPORT,  PLOVER_COOPERATE, PLOVER_AID,    PLOVER_CONCEDE,  PLOVER_ACCUSE,
        PLOVER_DEMAND,   PLOVER_ACCUSE,   PLOVER_REJECT,  PLOVER_THREATEN, PLOVER_PROTEST,
        PLOVER_MOBILIZE, PLOVER_SANCTION, PLOVER_COERCE,  PLOVER_ASSAULT,  PLOVER_ASSAULT,
        PLOVER_ASSAULT};
    for (int root = 1; root <= 20; root++) {
        char code[3] = {(char)('0' + root / 10), (char)('0' + root % 10), '\0'};
        int rc = import_cameo_map(code, &e, &mode);
        if (roots[root] == PLOVER_NONE) {
            assert_int_equal(rc, VIGIL_ENOENT);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(e, roots[root]);
        }
    }
    assert_int_equal(import_cameo_map("1952", &e, &mode), 0);
    assert_string_equal(mode, "drone");
    assert_int_equal(import_cameo_map("1951", &e, &mode), 0);
    assert_string_equal(mode, "aerial"); /* falls back to 195 */
    assert_int_equal(import_cameo_map("1712", &e, &mode), 0);
    assert_int_equal(e, PLOVER_ASSAULT);
    assert_int_equal(import_cameo_map("163", &e, &mode), 0);
    assert_int_equal(e, PLOVER_COERCE);
    assert_int_equal(import_cameo_map("084", &e, &mode), 0);
    assert_int_equal(e, PLOVER_RETREAT);
    assert_int_equal(import_cameo_map("21", &e, &mode), VIGIL_EINVAL);
    assert_int_equal(import_cameo_map("00", &e, &mode), VIGIL_EINVAL);
    assert_int_equal(import_cameo_map("1", &e, &mode), VIGIL_EINVAL);
    assert_int_equal(import_cameo_map("19a", &e, &mode), VIGIL_EINVAL);
    assert_int_equal(import_cameo_map("19555", &e, &mode), VIGIL_EINVAL);
    /* ACLED */
    assert_int_equal(import_acled_map("Battles", "Armed clash", "", &e, &mode), 0);
    assert_int_equal(e, PLOVER_ASSAULT);
    assert_int_equal(import_acled_map("RIOTS", "violent demonstration", NULL, &e, &mode), 0);
    assert_int_equal(e, PLOVER_PROTEST);
    assert_string_equal(mode, "riot");
    assert_int_equal(import_acled_map("Protests", "Excessive force against protestors", NULL,
                                      &e, &mode), 0);
    assert_int_equal(e, PLOVER_ASSAULT);
    assert_int_equal(import_acled_map("Strategic developments", "Agreement", NULL, &e, &mode),
                     0);
    assert_int_equal(e, PLOVER_AGREE);
    assert_int_equal(import_acled_map("Strategic developments", "Change to group/activity",
                                      NULL, &e, &mode), 0);
    assert_int_equal(e, PLOVER_OTHER);
    assert_string_equal(mode, "group-change");
    assert_int_equal(import_acled_map("Strategic developments", "Other", NULL, &e, &mode), 0);
    assert_int_equal(e, PLOVER_OTHER);
    assert_int_equal(import_acled_map("Battles", "Air strike", NULL, &e, &mode), VIGIL_EINVAL);
    /* UCDP */
    for (int t = 1; t <= 3; t++) {
        assert_int_equal(import_ucdp_map(t, &e, &mode), 0);
        assert_int_equal(e, PLOVER_ASSAULT);
    }
    assert_int_equal(import_ucdp_map(4, &e, &mode), VIGIL_EINVAL);
    enum import_format fmt;
    assert_int_equal(import_format_parse("gdelt", &fmt), 0);
    assert_int_equal(fmt, IMPORT_GDELT);
    assert_string_equal(import_format_name(IMPORT_MISP), "misp");
    assert_int_equal(import_format_parse("csv", &fmt), VIGIL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plover_codes),
        cmocka_unit_test(test_admiralty_confidence),
        cmocka_unit_test(test_uuid5),
        cmocka_unit_test(test_from_json_spec_example),
        cmocka_unit_test(test_from_json_defaults),
        cmocka_unit_test(test_from_json_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_to_stix),
        cmocka_unit_test(test_to_stix_area),
        cmocka_unit_test(test_text_matches_trees),
        cmocka_unit_test(test_from_stix),
        cmocka_unit_test(test_extension_definition),
        cmocka_unit_test(test_area_location),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_import_acled),
        cmocka_unit_test(test_import_ucdp_roles_and_gzip),
        cmocka_unit_test(test_import_acled_bad),
        cmocka_unit_test(test_import_ucdp),
        cmocka_unit_test(test_import_gdelt),
        cmocka_unit_test(test_import_misp),
        cmocka_unit_test(test_mapping_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
