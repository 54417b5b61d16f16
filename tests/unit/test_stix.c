/* test_stix.c - STIX 2.1 validation: one valid object of every kind, each required property
 * taken away, and the common-property rules broken one at a time. The vectors are written from
 * the text of the STIX 2.1 specification (OASIS Standard, 2021-06-10). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "stix/stix.h"

/* Version-4 UUIDs (version nibble 4, variant 8). */
#define U(n) "6f1e2d3c-4b5a-4c6d-8e7f-00000000000" #n
#define ID(t, n) "\"" t "--" U(n) "\""
#define TS "\"2016-04-06T20:03:48.000Z\""
#define TS2 "\"2016-04-06T20:03:48.123456Z\""
#define SDO(t) "\"type\":\"" t "\",\"spec_version\":\"2.1\",\"id\":" ID(t, 1) \
               ",\"created\":" TS ",\"modified\":" TS
#define SCO(t) "\"type\":\"" t "\",\"id\":" ID(t, 1)

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("test vector is not JSON (%s): %s", err.text, text);
    return v;
}

/* Validates text and returns the rc; the message lands in msg. */
static int validate_text(const char *text, struct stix_common *out, char msg[STIX_MSG_SZ])
{
    json_t *v = load(text);
    int rc = stix_validate(v, out, msg);
    json_decref(v);
    return rc;
}

/* Asserts that text is refused with a message starting with want. */
static void expect_bad(const char *text, const char *want)
{
    char msg[STIX_MSG_SZ] = "";
    int rc = validate_text(text, NULL, msg);
    if (rc != VIGIL_EINVAL)
        fail_msg("accepted (rc %d), wanted \"%s\": %s", rc, want, text);
    if (strncmp(msg, want, strlen(want)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\" for %s", msg, want, text);
}

static void expect_ok(const char *text)
{
    char msg[STIX_MSG_SZ] = "";
    int rc = validate_text(text, NULL, msg);
    if (rc != 0)
        fail_msg("refused (%s): %s", msg, text);
}

/* ---------------------------------------------------------------------------------------- */
/* One valid object of every type the specification defines.                               */

struct vector {
    const char *type;
    enum stix_kind kind;
    const char *json;
};

static const struct vector VALID[] = {
    {"attack-pattern", STIX_KIND_SDO,
     "{" SDO("attack-pattern") ",\"name\":\"Spear Phishing\",\"kill_chain_phases\":"
     "[{\"kill_chain_name\":\"lockheed-martin-cyber-kill-chain\",\"phase_name\":\"delivery\"}]}"},
    {"campaign", STIX_KIND_SDO,
     "{" SDO("campaign") ",\"name\":\"Green Group Attacks\",\"first_seen\":" TS
     ",\"last_seen\":" TS2 "}"},
    {"course-of-action", STIX_KIND_SDO,
     "{" SDO("course-of-action") ",\"name\":\"Add TCP port 80 filter rule\"}"},
    {"grouping", STIX_KIND_SDO,
     "{" SDO("grouping") ",\"context\":\"suspicious-activity\",\"object_refs\":[" ID(
         "indicator", 2) "," ID("ipv4-addr", 3) "]}"},
    {"identity", STIX_KIND_SDO,
     "{" SDO("identity") ",\"name\":\"ACME Widget, Inc.\",\"identity_class\":\"organization\"}"},
    {"incident", STIX_KIND_SDO, "{" SDO("incident") ",\"name\":\"Breach of the web shop\"}"},
    {"indicator", STIX_KIND_SDO,
     "{" SDO("indicator") ",\"indicator_types\":[\"malicious-activity\"],\"name\":\"Poison "
     "Ivy\",\"pattern\":\"[file:hashes.'SHA-256' = "
     "'4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']\","
     "\"pattern_type\":\"stix\",\"valid_from\":\"2016-01-01T00:00:00Z\","
     "\"valid_until\":\"2017-01-01T00:00:00Z\"}"},
    {"infrastructure", STIX_KIND_SDO,
     "{" SDO("infrastructure") ",\"name\":\"Poison Ivy C2\",\"infrastructure_types\":"
     "[\"command-and-control\"]}"},
    {"intrusion-set", STIX_KIND_SDO, "{" SDO("intrusion-set") ",\"name\":\"Bobcat Breakin\"}"},
    {"location", STIX_KIND_SDO,
     "{" SDO("location") ",\"latitude\":48.8566,\"longitude\":2.3522,\"precision\":1000.0}"},
    {"malware", STIX_KIND_SDO, "{" SDO("malware") ",\"is_family\":false}"},
    {"malware-analysis", STIX_KIND_SDO,
     "{" SDO("malware-analysis") ",\"product\":\"microsoft\",\"result\":\"malicious\","
     "\"sample_ref\":" ID("file", 2) "}"},
    {"note", STIX_KIND_SDO,
     "{" SDO("note") ",\"content\":\"This is a note.\",\"object_refs\":[" ID("campaign", 2)
     "]}"},
    {"observed-data", STIX_KIND_SDO,
     "{" SDO("observed-data") ",\"first_observed\":\"2015-12-21T19:00:00Z\","
     "\"last_observed\":\"2015-12-21T19:00:00Z\",\"number_observed\":50,"
     "\"object_refs\":[" ID("ipv4-addr", 2) "]}"},
    {"opinion", STIX_KIND_SDO,
     "{" SDO("opinion") ",\"opinion\":\"strongly-disagree\",\"object_refs\":[" ID(
         "relationship", 2) "]}"},
    {"report", STIX_KIND_SDO,
     "{" SDO("report") ",\"name\":\"The Black Vine Cyberespionage Group\",\"published\":"
     "\"2016-01-20T17:00:00.000Z\",\"object_refs\":[" ID("indicator", 2) "]}"},
    {"threat-actor", STIX_KIND_SDO, "{" SDO("threat-actor") ",\"name\":\"Evil Org\"}"},
    {"tool", STIX_KIND_SDO, "{" SDO("tool") ",\"name\":\"VNC\"}"},
    {"vulnerability", STIX_KIND_SDO, "{" SDO("vulnerability") ",\"name\":\"CVE-2016-1234\"}"},
    {"relationship", STIX_KIND_SRO,
     "{" SDO("relationship") ",\"relationship_type\":\"indicates\",\"source_ref\":" ID(
         "indicator", 2) ",\"target_ref\":" ID("malware", 3) "}"},
    {"sighting", STIX_KIND_SRO,
     "{" SDO("sighting") ",\"sighting_of_ref\":" ID("indicator", 2) ",\"count\":0,"
     "\"where_sighted_refs\":[" ID("identity", 3) "]}"},
    {"marking-definition", STIX_KIND_META,
     "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":" ID(
         "marking-definition", 1) ",\"created\":" TS ",\"definition_type\":\"statement\","
                                  "\"definition\":{\"statement\":\"Copyright 2019, Example "
                                  "Corp\"}}"},
    {"language-content", STIX_KIND_META,
     "{" SDO("language-content") ",\"object_ref\":" ID("campaign", 2) ",\"object_modified\":" TS
     ",\"contents\":{\"de\":{\"name\":\"Bank Angriff 1\"}}}"},
    {"extension-definition", STIX_KIND_META,
     "{" SDO("extension-definition") ",\"created_by_ref\":" ID("identity", 2) ",\"name\":"
     "\"Extension Foo Bar\",\"schema\":\"https://example.com/schema.json\",\"version\":"
     "\"1.2.1\",\"extension_types\":[\"property-extension\"]}"},
    {"artifact", STIX_KIND_SCO, "{" SCO("artifact") ",\"mime_type\":\"text/plain\","
                                "\"payload_bin\":\"aGVsbG8gd29ybGQ=\"}"},
    {"autonomous-system", STIX_KIND_SCO,
     "{" SCO("autonomous-system") ",\"number\":15139,\"name\":\"Slime Industries\"}"},
    {"directory", STIX_KIND_SCO, "{" SCO("directory") ",\"path\":\"C:\\\\Windows\\\\System32\"}"},
    {"domain-name", STIX_KIND_SCO, "{" SCO("domain-name") ",\"value\":\"example.com\"}"},
    {"email-addr", STIX_KIND_SCO,
     "{" SCO("email-addr") ",\"value\":\"john@example.com\",\"display_name\":\"John Doe\"}"},
    {"email-message", STIX_KIND_SCO,
     "{" SCO("email-message") ",\"is_multipart\":false,\"from_ref\":" ID("email-addr", 2)
     ",\"subject\":\"Saw this cool picture\",\"body\":\"Hi\"}"},
    {"file", STIX_KIND_SCO,
     "{" SCO("file") ",\"hashes\":{\"SHA-256\":\"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915"
     "476f5e4bfbac681db\"},\"size\":25536,\"name\":\"foo.dll\"}"},
    {"ipv4-addr", STIX_KIND_SCO, "{" SCO("ipv4-addr") ",\"value\":\"198.51.100.3\"}"},
    {"ipv6-addr", STIX_KIND_SCO, "{" SCO("ipv6-addr") ",\"value\":\"2001:0db8::/96\"}"},
    {"mac-addr", STIX_KIND_SCO, "{" SCO("mac-addr") ",\"value\":\"d2:fb:49:24:37:18\"}"},
    {"mutex", STIX_KIND_SCO, "{" SCO("mutex") ",\"name\":\"__CLEANSWEEP__\"}"},
    {"network-traffic", STIX_KIND_SCO,
     "{" SCO("network-traffic") ",\"src_ref\":" ID("ipv4-addr", 2) ",\"dst_ref\":" ID(
         "ipv4-addr", 3) ",\"protocols\":[\"ipv4\",\"tcp\"],\"src_port\":24678,"
                         "\"dst_port\":80}"},
    {"process", STIX_KIND_SCO,
     "{" SCO("process") ",\"pid\":1221,\"command_line\":\"./gedit-bin --new-window\","
     "\"image_ref\":" ID("file", 2) "}"},
    {"software", STIX_KIND_SCO,
     "{" SCO("software") ",\"name\":\"Word\",\"cpe\":\"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*"
     ":*:*\",\"vendor\":\"Microsoft\"}"},
    {"url", STIX_KIND_SCO,
     "{" SCO("url") ",\"value\":\"https://example.com/research/index.html\"}"},
    {"user-account", STIX_KIND_SCO,
     "{" SCO("user-account") ",\"user_id\":\"1001\",\"account_login\":\"jdoe\","
     "\"is_privileged\":false}"},
    {"windows-registry-key", STIX_KIND_SCO,
     "{" SCO("windows-registry-key") ",\"key\":\"hkey_local_machine\\\\system\\\\bar\\\\foo\"}"},
    {"x509-certificate", STIX_KIND_SCO,
     "{" SCO("x509-certificate") ",\"issuer\":\"C=ZA, ST=Western Cape\",\"validity_not_before\":"
     "\"2016-03-12T12:00:00Z\",\"validity_not_after\":\"2016-08-21T12:00:00Z\","
     "\"serial_number\":\"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06\"}"},
};

#define NVALID (sizeof VALID / sizeof VALID[0])

static void test_valid_every_type(void **state)
{
    (void)state;
    assert_int_equal(NVALID, 42); /* 19 SDOs, 2 SROs, 3 meta objects, 18 SCOs */
    for (size_t i = 0; i < NVALID; i++) {
        char msg[STIX_MSG_SZ] = "";
        struct stix_common c;
        json_t *o = load(VALID[i].json); /* c borrows from o: keep it alive */
        int rc = stix_validate(o, &c, msg);
        if (rc)
            fail_msg("%s refused: %s", VALID[i].type, msg);
        assert_string_equal(c.type, VALID[i].type);
        assert_int_equal(c.kind, VALID[i].kind);
        assert_int_equal(stix_kind_of(VALID[i].type), VALID[i].kind);
        assert_string_equal(c.spec_version, "2.1");
        assert_true(strncmp(c.id, VALID[i].type, strlen(VALID[i].type)) == 0);
        bool versioned = VALID[i].kind != STIX_KIND_SCO;
        assert_int_equal(c.has_created, versioned);
        assert_int_equal(c.has_modified,
                         versioned && strcmp(VALID[i].type, "marking-definition") != 0);
        json_decref(o);
    }
}

static void test_more_valid(void **state)
{
    (void)state;
    /* location by region or country alone */
    expect_ok("{" SDO("location") ",\"region\":\"northern-america\"}");
    expect_ok("{" SDO("location") ",\"country\":\"ca\",\"city\":\"Toronto\"}");
    expect_ok("{" SDO("location") ",\"latitude\":-90,\"longitude\":180}");
    /* malware family with a name */
    expect_ok("{" SDO("malware") ",\"is_family\":true,\"name\":\"Cryptolocker\","
              "\"malware_types\":[\"ransomware\"]}");
    /* observed-data with the deprecated embedded objects instead of object_refs */
    expect_ok("{" SDO("observed-data") ",\"first_observed\":" TS ",\"last_observed\":" TS
              ",\"number_observed\":1,\"objects\":{\"0\":{\"type\":\"ipv4-addr\","
              "\"value\":\"10.0.0.1\"}}}");
    /* the TLP 2.0 markings are defined through an extension, without definition_type */
    expect_ok("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" STIX_TLP_RED
              "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"TLP:RED\",\"extensions\":"
              "{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
              "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"red\"}}}");
    /* TLP 1.0 marking */
    expect_ok("{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":"
              "\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\",\"created\":"
              "\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":\"TLP:AMBER\","
              "\"definition\":{\"tlp\":\"amber\"}}");
    /* SCO with spec_version, markings, defanged and a predefined extension */
    expect_ok("{" SCO("file") ",\"spec_version\":\"2.1\",\"name\":\"a.exe\",\"defanged\":true,"
              "\"object_marking_refs\":[\"" STIX_TLP_GREEN "\"],\"extensions\":"
              "{\"windows-pebinary-ext\":{\"pe_type\":\"exe\"}}}");
    /* all common properties at once, with granular markings of both forms */
    expect_ok("{" SDO("indicator") ",\"created_by_ref\":" ID("identity", 2)
              ",\"revoked\":false,\"labels\":[\"heartbleed\"],\"confidence\":100,"
              "\"lang\":\"en\",\"external_references\":[{\"source_name\":\"capec\","
              "\"external_id\":\"CAPEC-163\"},{\"source_name\":\"ACME\",\"url\":"
              "\"https://example.com/a\",\"hashes\":{\"SHA-256\":\"abcd\"}}],"
              "\"object_marking_refs\":[\"" STIX_TLP_AMBER "\",\"" STIX_TLP_AMBER_STRICT "\"],"
              "\"granular_markings\":[{\"marking_ref\":\"" STIX_TLP_CLEAR "\",\"selectors\":"
              "[\"description\",\"external_references.[1].url\"]},{\"lang\":\"en\","
              "\"selectors\":[\"name\"]}],\"name\":\"x\",\"description\":\"y\","
              "\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\",\"pattern_type\":\"stix\","
              "\"valid_from\":\"2016-01-01T00:00:00Z\",\"x_acme_score\":7,"
              "\"extensions\":{\"extension-definition--" U(5) "\":{\"extension_type\":"
              "\"property-extension\",\"rank\":5}}}");
    /* more than millisecond precision is allowed; created == modified too */
    expect_ok("{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
              ",\"created\":\"2016-04-06T20:03:48.123456789Z\","
              "\"modified\":\"2016-04-06T20:03:48.123456789Z\",\"name\":\"nc\"}");
    /* uppercase hex in the UUID is RFC 4122 "case insensitive on input" */
    expect_ok("{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":"
              "\"tool--6F1E2D3C-4B5A-4C6D-8E7F-000000000001\",\"created\":" TS
              ",\"modified\":" TS ",\"name\":\"nc\"}");
    /* relationship to an SCO, sighting of a custom object */
    expect_ok("{" SDO("relationship") ",\"relationship_type\":\"related-to\",\"source_ref\":" ID(
        "malware", 2) ",\"target_ref\":" ID("domain-name", 3) ",\"start_time\":" TS
                      ",\"stop_time\":" TS2 "}");
    expect_ok("{" SDO("sighting") ",\"sighting_of_ref\":" ID("x-acme-widget", 2)
              ",\"count\":999999999,\"summary\":true,\"observed_data_refs\":[" ID(
                  "observed-data", 3) "]}");
    /* artifact by url with hashes; email multipart; network traffic still active */
    expect_ok("{" SCO("artifact") ",\"url\":\"https://example.com/a.zip\",\"hashes\":"
              "{\"MD5\":\"6cc6f1d3a2c4b4d8a4f1e1a7b0b1b2c3\"}}");
    expect_ok("{" SCO("email-message") ",\"is_multipart\":true,\"body_multipart\":"
              "[{\"content_type\":\"text/plain\",\"body\":\"hi\"}]}");
    expect_ok("{" SCO("network-traffic") ",\"dst_ref\":" ID("domain-name", 2)
              ",\"protocols\":[\"dns\"],\"is_active\":true,\"start\":" TS "}");
}

/* ---------------------------------------------------------------------------------------- */
/* Required properties, removed one at a time                                               */

struct required {
    const char *type; /* index into VALID by type */
    const char *prop;
    const char *want;
};

static const struct required REQUIRED[] = {
    {"attack-pattern", "name", "attack-pattern: missing required property name"},
    {"campaign", "name", "campaign: missing required property name"},
    {"course-of-action", "name", "course-of-action: missing required property name"},
    {"grouping", "context", "grouping: missing required property context"},
    {"grouping", "object_refs", "grouping: missing required property object_refs"},
    {"identity", "name", "identity: missing required property name"},
    {"incident", "name", "incident: missing required property name"},
    {"indicator", "pattern", "indicator: missing required property pattern"},
    {"indicator", "pattern_type", "indicator: missing required property pattern_type"},
    {"indicator", "valid_from", "indicator: missing required property valid_from"},
    {"infrastructure", "name", "infrastructure: missing required property name"},
    {"intrusion-set", "name", "intrusion-set: missing required property name"},
    {"malware", "is_family", "malware: missing required property is_family"},
    {"malware-analysis", "product", "malware-analysis: missing required property product"},
    {"malware-analysis", "result", "malware-analysis: needs at least one of result and "},
    {"note", "content", "note: missing required property content"},
    {"note", "object_refs", "note: missing required property object_refs"},
    {"observed-data", "first_observed", "observed-data: missing required property first_obs"},
    {"observed-data", "last_observed", "observed-data: missing required property last_obs"},
    {"observed-data", "number_observed", "observed-data: missing required property number_"},
    {"observed-data", "object_refs", "observed-data: must have exactly one of object_refs"},
    {"opinion", "opinion", "opinion: missing required property opinion"},
    {"opinion", "object_refs", "opinion: missing required property object_refs"},
    {"report", "name", "report: missing required property name"},
    {"report", "published", "report: missing required property published"},
    {"report", "object_refs", "report: missing required property object_refs"},
    {"threat-actor", "name", "threat-actor: missing required property name"},
    {"tool", "name", "tool: missing required property name"},
    {"vulnerability", "name", "vulnerability: missing required property name"},
    {"relationship", "relationship_type", "relationship: missing required property relation"},
    {"relationship", "source_ref", "relationship: missing required property source_ref"},
    {"relationship", "target_ref", "relationship: missing required property target_ref"},
    {"sighting", "sighting_of_ref", "sighting: missing required property sighting_of_ref"},
    {"marking-definition", "created", "marking-definition: missing required property created"},
    {"marking-definition", "definition", "marking-definition: missing required property defin"},
    {"marking-definition", "definition_type", "marking-definition: missing required property d"},
    {"language-content", "object_ref", "language-content: missing required property object_r"},
    {"language-content", "contents", "language-content: missing required property contents"},
    {"language-content", "modified", "language-content: missing required property modified"},
    {"extension-definition", "created_by_ref", "extension-definition: missing required prope"},
    {"extension-definition", "name", "extension-definition: missing required property name"},
    {"extension-definition", "schema", "extension-definition: missing required property sch"},
    {"extension-definition", "version", "extension-definition: missing required property ver"},
    {"extension-definition", "extension_types", "extension-definition: missing required prop"},
    {"extension-definition", "modified", "extension-definition: missing required property mo"},
    {"artifact", "payload_bin", "artifact: needs one of payload_bin and url"},
    {"autonomous-system", "number", "autonomous-system: missing required property number"},
    {"directory", "path", "directory: missing required property path"},
    {"domain-name", "value", "domain-name: missing required property value"},
    {"email-addr", "value", "email-addr: missing required property value"},
    {"email-message", "is_multipart", "email-message: missing required property is_multipart"},
    {"ipv4-addr", "value", "ipv4-addr: missing required property value"},
    {"ipv6-addr", "value", "ipv6-addr: missing required property value"},
    {"mac-addr", "value", "mac-addr: missing required property value"},
    {"mutex", "name", "mutex: missing required property name"},
    {"network-traffic", "protocols", "network-traffic: missing required property protocols"},
    {"software", "name", "software: missing required property name"},
    {"url", "value", "url: missing required property value"},
    /* common properties */
    {"indicator", "id", "indicator: missing required property id"},
    {"indicator", "created", "indicator: missing required property created"},
    {"indicator", "modified", "indicator: missing required property modified"},
    {"relationship", "modified", "relationship: missing required property modified"},
    {"report", "spec_version", "report: missing required property spec_version"},
    {"marking-definition", "spec_version", "marking-definition: missing required property sp"},
    {"file", "id", "file: missing required property id"},
    {"indicator", "type", "type: missing required property"},
};

static const struct vector *valid_of(const char *type)
{
    for (size_t i = 0; i < NVALID; i++)
        if (strcmp(VALID[i].type, type) == 0)
            return &VALID[i];
    fail_msg("no valid vector for %s", type);
    return NULL;
}

static void test_required_properties(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REQUIRED / sizeof REQUIRED[0]; i++) {
        const struct required *r = &REQUIRED[i];
        json_t *o = load(valid_of(r->type)->json);
        assert_int_equal(json_object_del(o, r->prop), 0);
        char msg[STIX_MSG_SZ] = "";
        assert_int_equal(stix_validate(o, NULL, msg), VIGIL_EINVAL);
        if (strncmp(msg, r->want, strlen(r->want)) != 0)
            fail_msg("without %s.%s: \"%s\", wanted \"%s\"", r->type, r->prop, msg, r->want);
        json_decref(o);
    }
}

/* Removing an optional SCO property must not break a valid object (spec_version defaults). */
static void test_sco_spec_version_default(void **state)
{
    (void)state;
    struct stix_common c;
    char msg[STIX_MSG_SZ];
    assert_int_equal(validate_text("{" SCO("ipv4-addr") ",\"value\":\"10.0.0.1\"}", &c, msg), 0);
    assert_string_equal(c.spec_version, "2.1"); /* a static default: outlives the object */
    assert_false(c.has_created);
    assert_null(c.object_marking_refs);
    expect_bad("{" SCO("ipv4-addr") ",\"spec_version\":\"2.0\",\"value\":\"10.0.0.1\"}",
               "spec_version: \"2.0\" is not supported");
}

/* ---------------------------------------------------------------------------------------- */
/* Common properties                                                                        */

static void test_common_output(void **state)
{
    (void)state;
    struct stix_common c;
    char msg[STIX_MSG_SZ];
    int rc = validate_text("{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":" ID(
                               "malware", 7) ",\"created\":\"1970-01-01T00:00:01.000Z\","
                                             "\"modified\":\"1970-01-01T00:00:02.5Z\","
                                             "\"revoked\":true,\"is_family\":false,"
                                             "\"object_marking_refs\":[\"" STIX_TLP_RED "\"]}",
                           &c, msg);
    /* modified has one fraction digit: refused before anything else is looked at */
    assert_int_equal(rc, VIGIL_EINVAL);
    assert_string_equal(msg, "modified: must be precise to at least the millisecond "
                             "(three fraction digits, like 2016-05-12T08:17:27.000Z)");

    json_t *o = load("{\"type\":\"malware\",\"spec_version\":\"2.1\",\"id\":" ID("malware", 7)
                     ",\"created\":\"1970-01-01T00:00:01.000Z\","
                     "\"modified\":\"1970-01-01T00:00:02.500Z\",\"revoked\":true,"
                     "\"is_family\":false,\"object_marking_refs\":[\"" STIX_TLP_RED "\"]}");
    assert_int_equal(stix_validate(o, &c, msg), 0);
    assert_string_equal(c.type, "malware");
    assert_string_equal(c.id, "malware--" U(7));
    assert_int_equal(c.kind, STIX_KIND_SDO);
    assert_true(c.has_created && c.has_modified);
    assert_int_equal(c.created, 1000000);
    assert_int_equal(c.modified, 2500000);
    assert_true(c.revoked);
    assert_ptr_equal(c.object_marking_refs, json_object_get(o, "object_marking_refs"));
    /* out and msg may be NULL */
    assert_int_equal(stix_validate(o, NULL, NULL), 0);
    json_object_set_new(o, "confidence", json_integer(101));
    assert_int_equal(stix_validate(o, NULL, NULL), VIGIL_EINVAL);
    json_decref(o);
}

struct bad {
    const char *json;
    const char *want;
};

static const struct bad BAD_COMMON[] = {
    /* not an object, type */
    {"[1,2]", "object: a STIX object must be a JSON object"},
    {"{\"type\":5}", "type: must be a string"},
    {"{\"type\":\"ab\",\"id\":\"ab--" U(1) "\"}", "type: \"ab\" is not a valid type name"},
    {"{\"type\":\"Indicator\"}", "type: \"Indicator\" is not a valid type name"},
    {"{\"type\":\"x--foo\"}", "type: \"x--foo\" is not a valid type name"},
    {"{\"type\":\"-foo\"}", "type: \"-foo\" is not a valid type name"},
    {"{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\"}", "bundle: a bundle is an envelope"},
    /* spec_version and STIX 2.0 */
    {"{\"type\":\"indicator\",\"id\":" ID("indicator", 1) ",\"created\":" TS ",\"modified\":" TS
     ",\"labels\":[\"malicious-activity\"],\"pattern\":\"[url:value = 'http://x.com/']\","
     "\"valid_from\":" TS "}",
     "indicator: missing required property spec_version (STIX 2.0 objects"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.0\",\"id\":" ID("tool", 1) ",\"created\":" TS
     ",\"modified\":" TS ",\"name\":\"nc\"}",
     "spec_version: \"2.0\" is not supported; only STIX 2.1 is accepted"},
    {"{\"type\":\"tool\",\"spec_version\":2.1,\"id\":" ID("tool", 1) ",\"created\":" TS
     ",\"modified\":" TS ",\"name\":\"nc\"}",
     "spec_version: must be the string \"2.1\""},
    /* identifiers */
    {"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":" ID("malware", 1) "}",
     "id: type prefix \"malware\" does not match type \"indicator\""},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool--1234\"}",
     "id: \"tool--1234\" is not a STIX identifier"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":\"tool-" U(1) "\"}",
     "id: \"tool-6f1e2d3c"},
    /* version nibble 0 is not RFC 4122 */
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":"
     "\"tool--6f1e2d3c-4b5a-0c6d-8e7f-000000000001\"}",
     "id: \"tool--6f1e2d3c-4b5a-0c6d-8e7f-000000000001\" is not a STIX identifier"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":42}", "id: must be a string"},
    /* timestamps */
    {"{" SDO("tool") ",\"name\":\"nc\",\"created\":\"2016-04-06T20:03:48Z\"}",
     "created: must be precise to at least the millisecond"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
     ",\"created\":\"2016-04-06T20:03:48.1Z\",\"modified\":" TS ",\"name\":\"nc\"}",
     "created: must be precise to at least the millisecond"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
     ",\"created\":\"2016-04-06 20:03:48.000Z\",\"modified\":" TS ",\"name\":\"nc\"}",
     "created: must be an RFC 3339 timestamp"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
     ",\"created\":\"2016-04-06T20:03:48.000+00:00\",\"modified\":" TS ",\"name\":\"nc\"}",
     "created: must be an RFC 3339 timestamp"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
     ",\"created\":\"2016-02-30T20:03:48.000Z\",\"modified\":" TS ",\"name\":\"nc\"}",
     "created: must be an RFC 3339 timestamp"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1)
     ",\"created\":" TS ",\"modified\":1459973028,\"name\":\"nc\"}",
     "modified: must be an RFC 3339 timestamp"},
    {"{\"type\":\"tool\",\"spec_version\":\"2.1\",\"id\":" ID("tool", 1) ",\"created\":" TS2
     ",\"modified\":" TS ",\"name\":\"nc\"}",
     "modified: must not be earlier than created"},
    /* created_by_ref, revoked, labels, confidence, lang */
    {"{" SDO("tool") ",\"name\":\"nc\",\"created_by_ref\":" ID("malware", 2) "}",
     "created_by_ref: must be the identifier of an identity, not \"malware--"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"created_by_ref\":\"ACME\"}",
     "created_by_ref: \"ACME\" is not a STIX identifier"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"revoked\":\"no\"}", "revoked: must be true or false"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"labels\":[]}", "labels: must be a non-empty list"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"labels\":[\"a\",\"\"]}",
     "labels[1]: must be a non-empty string"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"labels\":\"a\"}", "labels: must be a non-empty list"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"confidence\":101}",
     "confidence: must be an integer from 0 to 100"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"confidence\":-1}",
     "confidence: must be an integer from 0 to 100"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"confidence\":50.5}",
     "confidence: must be an integer from 0 to 100"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"lang\":[\"en\"]}", "lang: must be a string"},
    /* external_references */
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[]}",
     "external_references: must be a non-empty list"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[\"cve\"]}",
     "external_references[0]: must be an object"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[{\"url\":\"https://x\"}]}",
     "external_references[0]: source_name must be a non-empty string"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[{\"source_name\":\"cve\","
     "\"external_id\":\"CVE-2016-1\"},{\"source_name\":\"x\"}]}",
     "external_references[1]: needs at least one of description, url or external_id"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[{\"source_name\":\"x\","
     "\"url\":7}]}",
     "external_references[0]: url must be a string"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"external_references\":[{\"source_name\":\"x\","
     "\"url\":\"https://x\",\"hashes\":{}}]}",
     "external_references[0].hashes: must be a non-empty dictionary"},
    /* object_marking_refs */
    {"{" SDO("tool") ",\"name\":\"nc\",\"object_marking_refs\":[" ID("identity", 2) "]}",
     "object_marking_refs[0]: must be the identifier of a marking-definition"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"object_marking_refs\":\"" STIX_TLP_RED "\"}",
     "object_marking_refs: must be a non-empty list"},
    /* granular_markings */
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"selectors\":[\"name\"]}]}",
     "granular_markings[0]: must have exactly one of marking_ref and lang"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"selectors\":[\"name\"],"
     "\"lang\":\"en\",\"marking_ref\":\"" STIX_TLP_RED "\"}]}",
     "granular_markings[0]: must have exactly one of marking_ref and lang"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"marking_ref\":\"" STIX_TLP_RED
     "\"}]}",
     "granular_markings[0]: selectors must be a non-empty list"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"selectors\":[\"a..b\"],"
     "\"marking_ref\":\"" STIX_TLP_RED "\"}]}",
     "granular_markings[0]: selectors[0] is not a valid selector"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"selectors\":[\"x.[a]\"],"
     "\"marking_ref\":\"" STIX_TLP_RED "\"}]}",
     "granular_markings[0]: selectors[0] is not a valid selector"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"granular_markings\":[{\"selectors\":[\"name\"],"
     "\"marking_ref\":" ID("tool", 3) "}]}",
     "granular_markings[0]: marking_ref must be a marking-definition identifier"},
    /* extensions */
    {"{" SDO("tool") ",\"name\":\"nc\",\"extensions\":{\"acme\":{}}}",
     "extensions: key \"acme\" is neither an extension-definition identifier"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"extensions\":{\"x-acme-ext\":5}}",
     "extensions: value of \"x-acme-ext\" must be an object"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"extensions\":{" ID("tool", 4) ":{}}}",
     "extensions: key \"tool--"},
    /* property names */
    {"{" SDO("tool") ",\"name\":\"nc\",\"_private\":1}", "_private: property names must"},
    {"{" SDO("tool") ",\"name\":\"nc\",\"x-acme\":1}", "x-acme: property names must"},
    /* SCO-specific common property */
    {"{" SCO("url") ",\"value\":\"http://x\",\"defanged\":\"yes\"}",
     "defanged: must be true or false"},
};

static void test_bad_common(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD_COMMON / sizeof BAD_COMMON[0]; i++)
        expect_bad(BAD_COMMON[i].json, BAD_COMMON[i].want);
}

/* ---------------------------------------------------------------------------------------- */
/* Type-specific constraints                                                                */

static const struct bad BAD_TYPES[] = {
    {"{" SDO("indicator") ",\"pattern\":\"[x:y = 1]\",\"pattern_type\":\"stix\",\"valid_from\":"
     TS ",\"valid_until\":" TS "}",
     "valid_until: must be later than valid_from"},
    {"{" SDO("indicator") ",\"pattern\":\"\",\"pattern_type\":\"stix\",\"valid_from\":" TS "}",
     "pattern: must be a non-empty string"},
    {"{" SDO("indicator") ",\"pattern\":\"[x:y = 1]\",\"pattern_type\":\"stix\","
     "\"valid_from\":\"yesterday\"}",
     "valid_from: must be an RFC 3339 timestamp"},
    {"{" SDO("indicator") ",\"pattern\":\"[x:y = 1]\",\"pattern_type\":\"stix\",\"valid_from\":"
     TS ",\"kill_chain_phases\":[{\"kill_chain_name\":\"lmco\"}]}",
     "kill_chain_phases[0]: phase_name must be a non-empty string"},
    {"{" SDO("location") ",\"latitude\":91,\"longitude\":0}",
     "latitude: must be a number from -90 to 90"},
    {"{" SDO("location") ",\"latitude\":0,\"longitude\":-180.5}",
     "longitude: must be a number from -180 to 180"},
    {"{" SDO("location") ",\"latitude\":\"10\",\"longitude\":0}",
     "latitude: must be a number from -90 to 90"},
    {"{" SDO("location") ",\"latitude\":10}", "latitude: requires longitude as well"},
    {"{" SDO("location") ",\"region\":\"europe\",\"precision\":10}",
     "precision: requires latitude and longitude"},
    {"{" SDO("location") ",\"latitude\":1,\"longitude\":1,\"precision\":-1}",
     "precision: must be a non-negative number"},
    {"{" SDO("location") ",\"city\":\"Paris\"}",
     "location: needs region, country, or latitude and longitude"},
    {"{" SDO("opinion") ",\"opinion\":\"maybe\",\"object_refs\":[" ID("report", 2) "]}",
     "opinion: must be one of strongly-disagree, disagree, neutral, agree, strongly-agree"},
    {"{" SDO("note") ",\"content\":\"x\",\"object_refs\":[]}",
     "object_refs: must be a non-empty list of STIX identifiers"},
    {"{" SDO("note") ",\"content\":\"x\",\"object_refs\":[\"campaign-1\"]}",
     "object_refs[0]: \"campaign-1\" is not a STIX identifier"},
    {"{" SDO("report") ",\"name\":\"r\",\"published\":\"2016\",\"object_refs\":[" ID("tool", 2)
     "]}",
     "published: must be an RFC 3339 timestamp"},
    {"{" SDO("grouping") ",\"context\":\"\",\"object_refs\":[" ID("tool", 2) "]}",
     "context: must be a non-empty string"},
    {"{" SDO("malware") ",\"is_family\":true}", "malware: name is required when is_family"},
    {"{" SDO("malware") ",\"is_family\":\"true\",\"name\":\"x\"}",
     "is_family: must be true or false"},
    {"{" SDO("malware") ",\"is_family\":false,\"sample_refs\":[" ID("url", 2) "]}",
     "sample_refs[0]: must be the identifier of a file or artifact"},
    {"{" SDO("malware") ",\"is_family\":false,\"first_seen\":" TS2 ",\"last_seen\":" TS "}",
     "last_seen: must not be earlier than first_seen"},
    {"{" SDO("malware-analysis") ",\"product\":\"av\",\"result\":\"malicious\","
     "\"host_vm_ref\":" ID("file", 2) "}",
     "host_vm_ref: must be the identifier of a software object"},
    {"{" SDO("observed-data") ",\"first_observed\":" TS ",\"last_observed\":" TS
     ",\"number_observed\":0,\"object_refs\":[" ID("file", 2) "]}",
     "number_observed: must be an integer from 1 to 999999999"},
    {"{" SDO("observed-data") ",\"first_observed\":" TS2 ",\"last_observed\":" TS
     ",\"number_observed\":1,\"object_refs\":[" ID("file", 2) "]}",
     "last_observed: must not be earlier than first_observed"},
    {"{" SDO("observed-data") ",\"first_observed\":" TS ",\"last_observed\":" TS
     ",\"number_observed\":1,\"object_refs\":[" ID("file", 2) "],\"objects\":{}}",
     "observed-data: must have exactly one of object_refs and objects"},
    {"{" SDO("campaign") ",\"name\":\"c\",\"aliases\":[7]}", "aliases[0]: must be a non-empty"},
    {"{" SDO("identity") ",\"name\":7}", "name: must be a string"},
    /* SROs */
    {"{" SDO("relationship") ",\"relationship_type\":\"Indicates\",\"source_ref\":" ID(
         "indicator", 2) ",\"target_ref\":" ID("malware", 3) "}",
     "relationship_type: must be a non-empty string of a-z, 0-9 and -"},
    {"{" SDO("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":" ID(
         "relationship", 2) ",\"target_ref\":" ID("malware", 3) "}",
     "source_ref: must be the identifier of an SDO, SCO or custom object"},
    {"{" SDO("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":" ID(
         "malware", 2) ",\"target_ref\":" ID("marking-definition", 3) "}",
     "target_ref: must be the identifier of an SDO, SCO or custom object"},
    {"{" SDO("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":" ID(
         "malware", 2) ",\"target_ref\":\"malware\"}",
     "target_ref: \"malware\" is not a STIX identifier"},
    {"{" SDO("relationship") ",\"relationship_type\":\"uses\",\"source_ref\":" ID(
         "malware", 2) ",\"target_ref\":" ID("tool", 3) ",\"start_time\":" TS
     ",\"stop_time\":" TS "}",
     "stop_time: must be later than start_time"},
    {"{" SDO("sighting") ",\"sighting_of_ref\":" ID("indicator", 2) ",\"count\":1000000000}",
     "count: must be an integer from 0 to 999999999"},
    {"{" SDO("sighting") ",\"sighting_of_ref\":" ID("indicator", 2) ",\"count\":-1}",
     "count: must be an integer from 0 to 999999999"},
    {"{" SDO("sighting") ",\"sighting_of_ref\":" ID("file", 2) "}",
     "sighting_of_ref: must be the identifier of an SDO or custom object"},
    {"{" SDO("sighting") ",\"sighting_of_ref\":" ID("indicator", 2) ",\"where_sighted_refs\":["
     ID("malware", 3) "]}",
     "where_sighted_refs[0]: must be the identifier of an identity or location"},
    {"{" SDO("sighting") ",\"sighting_of_ref\":" ID("indicator", 2) ",\"observed_data_refs\":["
     ID("indicator", 3) "]}",
     "observed_data_refs[0]: must be the identifier of an observed-data"},
    /* meta objects */
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":" ID(
         "marking-definition", 1) ",\"created\":" TS ",\"definition_type\":\"tlp\","
                                  "\"definition\":{\"tlp\":\"purple\"}}",
     "definition: tlp must be one of white, green, amber, red"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":" ID(
         "marking-definition", 1) ",\"created\":" TS "}",
     "marking-definition: needs definition_type and definition, or extensions"},
    {"{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":" ID(
         "marking-definition", 1) ",\"created\":" TS ",\"definition_type\":\"statement\","
                                  "\"definition\":\"Copyright\"}",
     "definition: must be an object"},
    {"{" SDO("extension-definition") ",\"created_by_ref\":" ID("identity", 2)
     ",\"name\":\"e\",\"schema\":\"s\",\"version\":\"1\",\"extension_types\":[\"new-thing\"]}",
     "extension_types[0]: \"new-thing\" is not one of"},
    {"{" SDO("extension-definition") ",\"created_by_ref\":" ID("identity", 2)
     ",\"name\":\"e\",\"schema\":\"s\",\"version\":\"1\",\"extension_types\":[\"new-sdo\"],"
     "\"extension_properties\":[\"x_a\"]}",
     "extension_properties: only allowed with toplevel-property-extension"},
    {"{" SDO("language-content") ",\"object_ref\":" ID("campaign", 2) ",\"contents\":{\"de\":"
     "\"Bank\"}}",
     "contents: value of \"de\" must be a dictionary"},
    /* SCOs */
    {"{" SCO("artifact") ",\"payload_bin\":\"aGVsbG8=\",\"url\":\"https://x/a\","
     "\"hashes\":{\"MD5\":\"00\"}}",
     "artifact: payload_bin and url must not both be present"},
    {"{" SCO("artifact") ",\"url\":\"https://x/a\"}", "artifact: missing required property hashes"},
    {"{" SCO("artifact") ",\"payload_bin\":\"not base64!\"}",
     "payload_bin: must be base64 text"},
    {"{" SCO("artifact") ",\"payload_bin\":\"aGVsbG8====\"}", "payload_bin: must be base64 text"},
    {"{" SCO("artifact") ",\"payload_bin\":\"aGV=sbG8\"}", "payload_bin: must be base64 text"},
    {"{" SCO("artifact") ",\"payload_bin\":\"aGVsbG8\"}", "payload_bin: must be base64 text"},
    {"{" SCO("artifact") ",\"payload_bin\":\"aGVsbG8=\",\"decryption_key\":\"k\"}",
     "decryption_key: must not be present without encryption_algorithm"},
    {"{" SCO("autonomous-system") ",\"number\":-5}", "number: must be an integer from 0 to"},
    {"{" SCO("email-message") ",\"is_multipart\":true,\"body\":\"x\"}",
     "body: must not be present when is_multipart is true"},
    {"{" SCO("email-message") ",\"is_multipart\":false,\"body_multipart\":[{}]}",
     "body_multipart: must not be present when is_multipart is false"},
    {"{" SCO("email-message") ",\"is_multipart\":false,\"to_refs\":[" ID("user-account", 2)
     "]}",
     "to_refs[0]: must be the identifier of an email-addr"},
    {"{" SCO("file") ",\"size\":1}", "file: needs at least one of hashes and name"},
    {"{" SCO("file") ",\"name\":\"a\",\"size\":-1}", "size: must be a non-negative integer"},
    {"{" SCO("file") ",\"hashes\":{\"MD5\":5}}", "hashes: value of \"MD5\" must be a non-empty"},
    {"{" SCO("file") ",\"name\":\"a\",\"parent_directory_ref\":" ID("file", 2) "}",
     "parent_directory_ref: must be the identifier of a directory"},
    {"{" SCO("mac-addr") ",\"value\":\"D2:FB:49:24:37:18\"}",
     "value: must be a lowercase, colon-delimited MAC-48 address"},
    {"{" SCO("mac-addr") ",\"value\":\"d2-fb-49-24-37-18\"}",
     "value: must be a lowercase, colon-delimited MAC-48 address"},
    {"{" SCO("network-traffic") ",\"protocols\":[\"tcp\"]}",
     "network-traffic: needs at least one of src_ref and dst_ref"},
    {"{" SCO("network-traffic") ",\"protocols\":[\"tcp\"],\"src_ref\":" ID("ipv4-addr", 2)
     ",\"src_port\":65536}",
     "src_port: must be an integer from 0 to 65535"},
    {"{" SCO("network-traffic") ",\"protocols\":[\"tcp\"],\"src_ref\":" ID("ipv4-addr", 2)
     ",\"is_active\":true,\"end\":" TS "}",
     "end: must not be present when is_active is true"},
    {"{" SCO("network-traffic") ",\"protocols\":[\"tcp\"],\"src_ref\":" ID("file", 2) "}",
     "src_ref: must be the identifier of an ipv4-addr, ipv6-addr, mac-addr or domain-name"},
    {"{" SCO("process") "}", "process: must have at least one property besides the common"},
    {"{" SCO("process") ",\"spec_version\":\"2.1\",\"defanged\":false}",
     "process: must have at least one property besides the common"},
    {"{" SCO("process") ",\"image_ref\":" ID("artifact", 2) "}",
     "image_ref: must be the identifier of a file"},
    {"{" SCO("user-account") "}", "user-account: must have at least one property"},
    {"{" SCO("user-account") ",\"is_disabled\":1}", "is_disabled: must be true or false"},
    {"{" SCO("windows-registry-key") "}", "windows-registry-key: must have at least one"},
    {"{" SCO("x509-certificate") "}", "x509-certificate: must have at least one property"},
    {"{" SCO("x509-certificate") ",\"validity_not_before\":" TS2 ",\"validity_not_after\":" TS
     "}",
     "validity_not_after: must not be earlier than validity_not_before"},
    {"{" SCO("domain-name") ",\"value\":\"example.com\",\"resolves_to_refs\":[" ID("url", 2)
     "]}",
     "resolves_to_refs[0]: must be the identifier of an ipv4-addr, ipv6-addr or domain-name"},
    {"{" SCO("ipv4-addr") ",\"value\":\"10.0.0.1\",\"belongs_to_refs\":[" ID("ipv6-addr", 2)
     "]}",
     "belongs_to_refs[0]: must be the identifier of an autonomous-system"},
};

static void test_bad_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD_TYPES / sizeof BAD_TYPES[0]; i++)
        expect_bad(BAD_TYPES[i].json, BAD_TYPES[i].want);
}

/* ---------------------------------------------------------------------------------------- */
/* Custom objects (section 11.2)                                                            */

static void test_custom_objects(void **state)
{
    (void)state;
    struct stix_common c;
    char msg[STIX_MSG_SZ];
    /* SDO-like: created and modified present, so spec_version is required */
    assert_int_equal(validate_text("{" SDO("x-acme-widget") ",\"x_colour\":\"red\"}", &c, msg),
                     0);
    assert_int_equal(c.kind, STIX_KIND_CUSTOM);
    assert_true(c.has_created && c.has_modified);
    /* a custom type need not begin with x- in STIX 2.1 */
    expect_ok("{" SDO("acme-widget") "}");
    /* SCO-like: no created/modified, spec_version optional */
    assert_int_equal(validate_text("{" SCO("x-acme-sensor") ",\"value\":\"7\"}", &c, msg), 0);
    assert_int_equal(c.kind, STIX_KIND_CUSTOM);
    assert_false(c.has_created);
    assert_string_equal(c.spec_version, "2.1");

    expect_bad("{\"type\":\"x-acme-widget\",\"id\":" ID("x-acme-widget", 1) ",\"created\":" TS
               ",\"modified\":" TS "}",
               "x-acme-widget: missing required property spec_version");
    expect_bad("{\"type\":\"x-acme-widget\",\"spec_version\":\"2.1\",\"id\":" ID(
                   "x-acme-widget", 1) ",\"created\":" TS "}",
               "x-acme-widget: missing required property modified");
    expect_bad("{\"type\":\"x-acme-widget\",\"spec_version\":\"2.1\",\"id\":" ID(
                   "x-acme-widget", 1) ",\"modified\":" TS "}",
               "x-acme-widget: missing required property created");
    expect_bad("{" SDO("x-acme-widget") ",\"confidence\":200}", "confidence: must be an integer");
    expect_bad("{\"type\":\"x-acme-widget\",\"id\":" ID("x-acme-gadget", 1) "}",
               "id: type prefix \"x-acme-gadget\" does not match type \"x-acme-widget\"");
    expect_bad("{\"type\":\"x-acme-widget\"}", "x-acme-widget: missing required property id");
}

/* ---------------------------------------------------------------------------------------- */
/* stix_kind_of, stix_id_valid, stix_bundle_check                                           */

static void test_kind_of(void **state)
{
    (void)state;
    assert_int_equal(stix_kind_of("indicator"), STIX_KIND_SDO);
    assert_int_equal(stix_kind_of("malware-analysis"), STIX_KIND_SDO);
    assert_int_equal(stix_kind_of("relationship"), STIX_KIND_SRO);
    assert_int_equal(stix_kind_of("sighting"), STIX_KIND_SRO);
    assert_int_equal(stix_kind_of("x509-certificate"), STIX_KIND_SCO);
    assert_int_equal(stix_kind_of("artifact"), STIX_KIND_SCO);
    assert_int_equal(stix_kind_of("marking-definition"), STIX_KIND_META);
    assert_int_equal(stix_kind_of("language-content"), STIX_KIND_META);
    assert_int_equal(stix_kind_of("extension-definition"), STIX_KIND_META);
    assert_int_equal(stix_kind_of("x-acme"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of("malwar"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of("malware-"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of("Indicator"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of("bundle"), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of(""), STIX_KIND_CUSTOM);
    assert_int_equal(stix_kind_of(NULL), STIX_KIND_CUSTOM);
}

static void test_id_valid(void **state)
{
    (void)state;
    assert_true(stix_id_valid("indicator--" U(1)));
    assert_true(stix_id_valid(STIX_TLP_CLEAR));
    assert_true(stix_id_valid("x-acme--" U(1)));
    /* deterministic SCO ids are UUIDv5 */
    assert_true(stix_id_valid("ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"));
    assert_false(stix_id_valid(NULL));
    assert_false(stix_id_valid(""));
    assert_false(stix_id_valid("indicator--"));
    assert_false(stix_id_valid("--" U(1)));
    assert_false(stix_id_valid("ab--" U(1)));                /* type too short */
    assert_false(stix_id_valid("indicator-" U(1)));          /* single hyphen */
    assert_false(stix_id_valid("indicator---" U(1)));        /* type ends in a hyphen */
    assert_false(stix_id_valid("Indicator--" U(1)));         /* uppercase type */
    assert_false(stix_id_valid("x--y--" U(1)));              /* double hyphen in type */
    assert_false(stix_id_valid("indicator--" U(1) "0"));     /* UUID too long */
    assert_false(stix_id_valid("indicator--6f1e2d3c4b5a4c6d8e7f000000000001"));
    assert_false(stix_id_valid("indicator--6f1e2d3c-4b5a-4c6d-7e7f-000000000001")); /* variant */
    assert_false(stix_id_valid("indicator--6f1e2d3c-4b5a-4c6d-8e7f-00000000000g"));
}

static int bundle_text(const char *text, char msg[STIX_MSG_SZ])
{
    json_t *v = load(text);
    int rc = stix_bundle_check(v, msg);
    json_decref(v);
    return rc;
}

static void test_bundle(void **state)
{
    (void)state;
    char msg[STIX_MSG_SZ];
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\",\"objects\":"
                                 "[{\"type\":\"anything\"},{}]}",
                                 msg),
                     0);
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\"}", msg), 0);
    assert_int_equal(bundle_text("[]", msg), VIGIL_EINVAL);
    assert_string_equal(msg, "bundle: must be a JSON object");
    assert_int_equal(bundle_text("{\"type\":\"indicator\",\"id\":\"bundle--" U(1) "\"}", msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "type: \"indicator\" is not \"bundle\"");
    assert_int_equal(bundle_text("{\"id\":\"bundle--" U(1) "\"}", msg), VIGIL_EINVAL);
    assert_string_equal(msg, "type: missing; a bundle has type \"bundle\"");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"objects\":[]}", msg), VIGIL_EINVAL);
    assert_string_equal(msg, "bundle: missing required property id");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"report--" U(1) "\"}", msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "id: must be \"bundle--<UUID>\"");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--1\"}", msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "id: must be \"bundle--<UUID>\"");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\","
                                 "\"spec_version\":\"2.0\",\"objects\":[{}]}",
                                 msg),
                     VIGIL_EINVAL);
    assert_true(strncmp(msg, "spec_version: a STIX 2.1 bundle has none", 40) == 0);
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\","
                                 "\"objects\":[]}",
                                 msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "objects: must be a non-empty list of STIX objects");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\","
                                 "\"objects\":{}}",
                                 msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "objects: must be a non-empty list of STIX objects");
    assert_int_equal(bundle_text("{\"type\":\"bundle\",\"id\":\"bundle--" U(1) "\","
                                 "\"objects\":[{},\"indicator\"]}",
                                 msg),
                     VIGIL_EINVAL);
    assert_string_equal(msg, "objects[1]: must be a JSON object");
    assert_int_equal(stix_bundle_check(NULL, NULL), VIGIL_EINVAL);
}

/* A long id inside a message is cut, not overflowed. */
static void test_message_bounds(void **state)
{
    (void)state;
    char big[2048];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:s}", "type", "tool", "spec_version", "2.1", "id", big);
    char msg[STIX_MSG_SZ + 8];
    memset(msg, 0x5a, sizeof msg);
    assert_int_equal(stix_validate(o, NULL, msg), VIGIL_EINVAL);
    assert_true(strlen(msg) < STIX_MSG_SZ);
    assert_int_equal((unsigned char)msg[STIX_MSG_SZ + 4], 0x5a);
    json_decref(o);
    assert_int_equal(stix_validate(NULL, NULL, NULL), VIGIL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_every_type),
        cmocka_unit_test(test_more_valid),
        cmocka_unit_test(test_required_properties),
        cmocka_unit_test(test_sco_spec_version_default),
        cmocka_unit_test(test_common_output),
        cmocka_unit_test(test_bad_common),
        cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_custom_objects),
        cmocka_unit_test(test_kind_of),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_message_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
