/* profile.h - the Vigil STIX profile: event reports, PLOVER codes, Admiralty grading.
 *
 * An event report says what happened (or, with `future`, what is expected to happen), when,
 * where, who did it to whom, and how far its source and content can be trusted. It travels in
 * three shapes, all handled here:
 *  - the REST resource of SPEC S5 (report_from_json / report_to_json);
 *  - STIX 2.1 objects (report_to_stix / report_from_stix): a STIX `report` SDO carrying the
 *    Vigil property extension (PROFILE_EXT_ID) plus, for a point location, a `location` SDO;
 *  - struct event_report, which the store, fusion and importers work on.
 * docs/STIX-PROFILE.md is the normative description; this header is the C interface.
 *
 * Ownership: a struct event_report owns every string it points to, except `mode`, which
 * points into this module's static PLOVER tables. report_init() fills an empty report,
 * report_release() frees its contents.
 */
#ifndef VIGIL_INTEL_PROFILE_H
#define VIGIL_INTEL_PROFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/timestamp.h"

#define REPORT_MSG_SZ 256

/* The Vigil property extension and the identity that defines it (fixed for all installs). */
#define PROFILE_EXT_ID "extension-definition--be8a5059-3b81-42f3-91f3-60b9db4ffdb0"
#define PROFILE_IDENTITY_ID "identity--0dfbfc8d-db3f-4849-8f94-b4c2851d01f6"
/* The alerts' property extension (on grouping; service/alerts.c writes it). */
#define PROFILE_ALERT_EXT_ID "extension-definition--7a0f1c2e-4b8d-4e51-9c3a-6f2d8e1b5a90"
/* The fused incidents' property extension (on grouping; server/rest_incidents.c writes it). */
#define PROFILE_INCIDENT_EXT_ID "extension-definition--aea918a2-7077-4022-9640-2e6758a82086"
/* Where the hub serves the extensions' JSON Schemas (server/taxii.c). */
#define PROFILE_SCHEMA_URL "/stix/schemas/vigil-event-report-1.0.json"
#define PROFILE_ALERT_SCHEMA_URL "/stix/schemas/vigil-alert-1.0.json"
#define PROFILE_INCIDENT_SCHEMA_URL "/stix/schemas/vigil-incident-1.0.json"
/* Namespace of the name-based (version 5) UUIDs this profile derives. */
#define PROFILE_UUID_NS "43b4d670-2806-444e-8df2-7bcc5e7dcd21"

/* Limits on one report (bytes of UTF-8 unless said otherwise). */
#define REPORT_TITLE_MAX 512
#define REPORT_DESC_MAX 65536
#define REPORT_NAME_MAX 256    /* one actor, target, area or group name */
#define REPORT_LIST_MAX 32     /* actors, targets: entries */
#define REPORT_SOURCE_REF_MAX 128
#define REPORT_PRECISION_MAX 20000000 /* metres: half the Earth's circumference */
#define REPORT_COUNT_MAX 100000000L   /* fatalities, injured */
/* Event times lie in the years 1000-9999 (four-digit years, as RFC 3339 writes them). */
#define REPORT_TIME_MIN INT64_C(-30610224000000000)  /* 1000-01-01T00:00:00Z */
#define REPORT_TIME_MAX INT64_C(253402300799999999)  /* 9999-12-31T23:59:59.999999Z */

/* PLOVER event types (PLOVER manual, draft 0.8, 2021). Order is stable: it is stored. */
enum plover_event {
    PLOVER_NONE = 0,
    PLOVER_AGREE,
    PLOVER_CONSULT,
    PLOVER_SUPPORT,
    PLOVER_CONCEDE,
    PLOVER_COOPERATE,
    PLOVER_AID,
    PLOVER_RETREAT,
    PLOVER_DEMAND,
    PLOVER_ACCUSE,
    PLOVER_REJECT,
    PLOVER_THREATEN,
    PLOVER_PROTEST,
    PLOVER_SANCTION,
    PLOVER_MOBILIZE,
    PLOVER_COERCE,
    PLOVER_ASSAULT,
    /* Vigil, not PLOVER: a well-formed record that PLOVER does not code (ACLED "Change to
     * group/activity" and "Other"). Never violence: no rule or detector counts it unless an
     * agreement names it. */
    PLOVER_OTHER,
    PLOVER_EVENT_COUNT
};

/* How precisely start/end are known; a window [start, end] always bounds the event. */
enum report_tprec {
    REPORT_TP_SECOND = 0,
    REPORT_TP_MINUTE,
    REPORT_TP_HOUR,
    REPORT_TP_DAY,
    REPORT_TP_WEEK,
    REPORT_TP_MONTH,
    REPORT_TP_YEAR
};

/* Handling marking (SPEC S3). DEFAULT = not given: the server applies the partner default. */
enum report_marking {
    REPORT_MARKING_DEFAULT = 0,
    REPORT_MARKING_CLEAR,
    REPORT_MARKING_GREEN,
    REPORT_MARKING_AMBER,
    REPORT_MARKING_AMBER_STRICT,
    REPORT_MARKING_RED
};

struct event_report {
    enum plover_event event;
    const char *mode;       /* static PLOVER mode name valid for event, or NULL */
    bool future;            /* a warning of something planned (PLOVER context "future") */
    vtime_t start, end;     /* the event lies within [start, end]; start <= end */
    enum report_tprec tprec;
    bool has_point;         /* true: lat/lon/precision_m; false: area */
    double lat, lon;        /* WGS 84 degrees */
    long precision_m;       /* radius of uncertainty around lat/lon, metres (0 = exact) */
    char *area;             /* name of a known zone or admin area when !has_point */
    char **actors;          /* who acted; n_actors entries */
    size_t n_actors;
    char **targets;         /* who or what was acted on */
    size_t n_targets;
    long fatalities;        /* -1 = unknown */
    long injured;           /* -1 = unknown */
    char reliability;       /* Admiralty source reliability 'A'..'F' ('F' = cannot be judged) */
    int credibility;        /* Admiralty information credibility 1..6 (6 = cannot be judged) */
    enum report_marking marking;
    char *group;            /* sharing group name, or NULL */
    char *title;            /* may be NULL */
    char *description;      /* may be NULL */
    char *source_ref;       /* "<source>:<id>", e.g. "acled:PSE12345", or NULL */
};

/* What report_to_stix() needs beyond the report itself. */
struct report_stix_ctx {
    vtime_t now;                     /* created, modified and published */
    const char *report_id;           /* "report--<uuid>" to use, or NULL for a new random one */
    const char *created_by_ref;      /* the submitting partner's identity id, or NULL */
    const char *group_marking_ref;   /* the sharing group's marking-definition id, or NULL */
};

/* Empties r: no event, window 0, unknown counts, grading F6, no strings. */
void report_init(struct event_report *r);
/* Frees r's strings; r must be report_init()ed again before reuse. */
void report_release(struct event_report *r);
/* Appends a copy of name to r's actors (is_target false) or targets. Returns 0, VIGIL_ETOOBIG
 * past REPORT_LIST_MAX entries, or VIGIL_EINVAL for an empty name or one over the limit. */
int report_add_name(struct event_report *r, bool is_target, const char *name);

/* Checks every invariant of a report (codes, window within REPORT_TIME_MIN..MAX, coordinates,
 * limits, UTF-8 of every string, source_ref syntax). Returns 0 or VIGIL_EINVAL with a message
 * naming the field. */
int report_check(const struct event_report *r, char msg[REPORT_MSG_SZ]);

/* The category of who r's event struck, for the report index: "civilians" when one of its
 * targets names civilians (a word beginning "civilian", any case: ACLED's "Civilians
 * (Syria)", UCDP's "Civilians"), else "" (none known). */
const char *report_target_kind(const struct event_report *r);

/* Parses the REST resource (SPEC S5). `event`, `start` and `location` are required; `end`
 * defaults to `start`; unknown fields are refused. Extra optional field: `time_precision`
 * (second|minute|hour|day|week|month|year, default second). On success returns 0 and r holds
 * the report (release with report_release); on failure returns VIGIL_EINVAL with a message
 * that starts with the field's name (e.g. "location.lat: must be between -90 and 90") and r is
 * left initialised and empty. r need not be initialised on entry. */
int report_from_json(const json_t *obj, struct event_report *r, char msg[REPORT_MSG_SZ]);

/* Builds the REST resource of r (fields in the order of SPEC S5; absent values omitted).
 * Returns a new reference. r must satisfy report_check(). */
json_t *report_to_json(const struct event_report *r);

/* Builds the STIX objects for r: a JSON array whose first member is the `report` SDO carrying
 * the Vigil extension, followed by a `location` SDO when r has a point. For a named area the
 * report's object_refs holds profile_area_location_id(area), the location the server publishes
 * for that area. Returns 0 and a new array in *out, or VIGIL_EINVAL (report_check failed, or a
 * bad id in ctx) with a message. */
int report_to_stix(const struct event_report *r, const struct report_stix_ctx *ctx, json_t **out,
                   char msg[REPORT_MSG_SZ]);

/* The same documents written as JSON text, for hot paths (an import: three per row), byte for
 * byte what vjson_dump writes for the trees built above.
 * report_doc_text appends to b the REST resource (report_to_json(r)) with "marking" set to
 * marking (in place when r has its own, else after the others), then "id" and "partner" (each
 * omitted when NULL). report_to_stix_text appends the report SDO to rep and, when r has a
 * point, the location SDO to loc, and sets lid to the location's id; ctx->report_id is
 * required. Both return 0, or VIGIL_EINVAL with a message (report_check failed, a bad id in
 * ctx, or a buffer's cap). */
int report_doc_text(const struct event_report *r, const char *marking, const char *id,
                    const char *partner, struct buf *b);
int report_to_stix_text(const struct event_report *r, const struct report_stix_ctx *ctx,
                        struct buf *rep, struct buf *loc, char lid[64], char msg[REPORT_MSG_SZ]);

/* Reads a report back from one STIX SDO carrying the Vigil extension (any SDO type, so that
 * partners' systems may attach it to e.g. an `incident` or a `note`). Title and description
 * come from the SDO's name and description; the marking from its TLP object_marking_refs;
 * missing credibility from `confidence` (see profile_confidence_to_credibility). Returns 0 and
 * fills r, VIGIL_ENOENT when the object has no Vigil extension or is revoked (its creator
 * withdrew it: no report, as after a deletion), or VIGIL_EINVAL with a message naming the
 * property (r is then initialised and empty). */
int report_from_stix(const json_t *sdo, struct event_report *r, char msg[REPORT_MSG_SZ]);

/* The extension-definition objects the server publishes (the event report's, and the alert's
 * and the fused incident's of the TAXII alerts collection), whose `schema` is the URL,
 * relative to the hub, at which the hub serves the JSON Schema of the extension
 * (profile_extension_schema(), profile_alert_schema(), profile_incident_schema()); and the
 * identity that creates them. New references each call. */
json_t *profile_extension_definition(void);
json_t *profile_alert_extension_definition(void);
json_t *profile_incident_extension_definition(void);
json_t *profile_extension_schema(void);
json_t *profile_alert_schema(void);
json_t *profile_incident_schema(void);
json_t *profile_identity(void);

/* When the profile defined its fixed objects and the ids of named areas' locations: the
 * `created` of every object the hub derives per reader (an area's location, an alert's view),
 * which STIX 2.1 (3.6) requires to be the same in every version of one id. */
#define PROFILE_DEFINED "2025-01-01T00:00:00.000Z"

/* Writes "location--<uuid5(PROFILE_UUID_NS, "area:" + name)>" into out; the id under which
 * the server publishes a named area. Returns out. */
char *profile_area_location_id(const char *name, char out[64]);
/* The location the hub publishes for the named area `name` (id profile_area_location_id):
 * its name, and country "ZZ" (the ISO 3166-1 user-assigned code for an unknown territory),
 * since STIX requires a region, a country or coordinates and the hub knows only the name; by
 * the Vigil identity, created when the profile defined the ids of areas (2025-01-01, the
 * same in every version), with modified (microseconds) and the marking-definition ids of
 * marks (borrowed; NULL or empty: none). New reference. */
json_t *profile_area_location(const char *name, vtime_t modified, const json_t *marks);
/* Writes the name-based (version 5, SHA-1) UUID of name in namespace ns (a UUID string) into
 * out[37]. Returns 0, or VIGIL_EINVAL when ns is not a UUID. */
int profile_uuid5(const char *ns, const char *name, size_t len, char out[37]);

/* PLOVER codes. Names are upper case for events, lower case for modes, as in the manual. */
const char *plover_event_name(enum plover_event e);           /* NULL for PLOVER_NONE */
/* Accepts the 16 event names, Vigil's OTHER, and the legacy names DISAPPROVE and INVESTIGATE
 * (now ACCUSE). Returns PLOVER_NONE for anything else. Case-sensitive. */
enum plover_event plover_event_parse(const char *name);
/* The static mode name equal to name when it is a mode of e, else NULL. */
const char *plover_mode_lookup(enum plover_event e, const char *name);
/* The modes of e as a NULL-terminated static list (an empty list when e has none). */
const char *const *plover_modes(enum plover_event e);

/* Admiralty grading and STIX confidence (STIX 2.1 Appendix A, Admiralty Credibility scale):
 * credibility 1..5 -> 90, 70, 50, 30, 10; 6 -> -1 (no confidence property). */
int profile_credibility_to_confidence(int credibility);
/* The reverse, by the same appendix's ranges: 80-100 -> 1, 60-79 -> 2, 40-59 -> 3, 20-39 -> 4,
 * 0-19 -> 5; anything else (absent) -> 6. */
int profile_confidence_to_credibility(int confidence);
/* The STIX confidence of r (-1 when none); see profile_credibility_to_confidence. */
int report_confidence(const struct event_report *r);

const char *report_tprec_name(enum report_tprec p);
int report_tprec_parse(const char *s, enum report_tprec *out);
const char *report_marking_name(enum report_marking m);  /* NULL for DEFAULT */
int report_marking_parse(const char *s, enum report_marking *out);
/* The official TLP 2.0 marking-definition id of m, NULL for DEFAULT. */
const char *report_marking_ref(enum report_marking m);

#endif
