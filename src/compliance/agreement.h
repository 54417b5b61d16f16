/* agreement.h - ceasefire agreements (S8): the file format, its validation, its STIX form, and
 * the test that makes an event report a candidate violation.
 *
 * docs/COMPLIANCE.md describes the file format. An agreement names its parties (with aliases
 * as reports' actors write them), its effective time, its phases, and its zones: GeoJSON
 * geometries of a kind (buffer-zone, withdrawal-line, no-fire-area, humanitarian-corridor,
 * monitoring-post) with, per party, prohibited and permitted acts (PLOVER event types,
 * optionally modes) in time windows. A line or a point counts everything within distance_m.
 *
 * Ownership: cmp_agreement_parse() fills a struct cmp_agreement that owns all its memory;
 * cmp_agreement_release() frees it. Mode names point into intel/profile.c's static tables.
 */
#ifndef VIGIL_COMPLIANCE_AGREEMENT_H
#define VIGIL_COMPLIANCE_AGREEMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/timestamp.h"
#include "intel/geo.h"
#include "intel/profile.h"

#define CMP_MSG_SZ 320
/* Limits on one agreement file. */
#define CMP_MAX_FILE (16 << 20)
#define CMP_MAX_DEPTH 64
#define CMP_MAX_PARTIES 64
#define CMP_MAX_ALIASES 32
#define CMP_MAX_PHASES 32
#define CMP_MAX_ZONES 256
#define CMP_MAX_TERMS 64
#define CMP_MAX_ACTS 32
#define CMP_MAX_MODES 16
#define CMP_NAME_MAX 256
#define CMP_DESC_MAX 8192
#define CMP_MAX_DISTANCE_M 100000.0
#define CMP_TIME_OPEN INT64_MAX /* an open end of a window */

/* The STIX extension that carries agreements and zones (docs/COMPLIANCE.md). */
#define CMP_EXT_ID "extension-definition--3f0f8d0e-5a55-4b7e-9a4c-2f6d1b9e7c41"
/* Its version: the one whose schema is CMP_SCHEMA_URL (the first named no real schema). */
#define CMP_EXT_MODIFIED "2026-12-05T00:00:00.000Z"
/* Where the hub serves the extension's JSON Schema (relative to the hub, as PROFILE_SCHEMA_URL) */
#define CMP_SCHEMA_URL "/stix/schemas/vigil-compliance-1.0.json"

enum cmp_zone_kind {
    CMP_BUFFER_ZONE = 0,
    CMP_WITHDRAWAL_LINE,
    CMP_NO_FIRE_AREA,
    CMP_HUMANITARIAN_CORRIDOR,
    CMP_MONITORING_POST,
};

struct cmp_act {
    enum plover_event event;
    const char *modes[CMP_MAX_MODES]; /* static PLOVER mode names; none = any mode */
    size_t nmodes;
};

struct cmp_term {
    long party; /* index into parties, or -1: every party */
    struct cmp_act *prohibited;
    size_t nprohibited;
    struct cmp_act *permitted; /* exceptions to prohibitions that apply at the same time */
    size_t npermitted;
    vtime_t from, until; /* the term applies to events with from <= time < until */
};

struct cmp_zone {
    char *id; /* location--UUID */
    char *name;
    enum cmp_zone_kind kind;
    struct geo_geometry geom;
    json_t *geometry;  /* the GeoJSON geometry as given */
    double distance_m; /* events within this distance count (0 for polygons by default) */
    struct cmp_term *terms;
    size_t nterms;
};

struct cmp_party {
    char *name;
    char **aliases;
    size_t naliases;
    char *identity; /* identity--UUID (given or derived) */
    bool identity_given;
};

struct cmp_phase {
    char *name;
    vtime_t start, deadline;
};

struct cmp_agreement {
    char *id; /* grouping--UUID */
    char *name;
    char *description;       /* may be NULL */
    vtime_t effective, ends; /* ends CMP_TIME_OPEN when open */
    char *marking;           /* NULL: green */
    char *group;             /* sharing group name, or NULL */
    struct cmp_party *parties;
    size_t nparties;
    struct cmp_phase *phases;
    size_t nphases;
    struct cmp_zone *zones;
    size_t nzones;
};

/* Parses and validates an agreement file's JSON. Unknown members are refused. Returns 0 and
 * fills a (release with cmp_agreement_release), or VIGIL_EINVAL / VIGIL_ETOOBIG with a message
 * naming the place in the file, e.g. "zones[1].terms[0].prohibited[2]: unknown PLOVER event
 * type \"EXPLODE\"" (a is then empty). */
int cmp_agreement_parse(const json_t *v, struct cmp_agreement *a, char msg[CMP_MSG_SZ]);
/* Parses the text of a file (JSON with depth and size limits) like cmp_agreement_parse; on
 * success also returns the parsed JSON in *doc (new reference) when doc is not NULL. */
int cmp_agreement_parse_text(const char *text, size_t len, struct cmp_agreement *a, json_t **doc,
                             char msg[CMP_MSG_SZ]);
/* Frees a's contents; a is left empty. */
void cmp_agreement_release(struct cmp_agreement *a);

/* "buffer-zone", ... */
const char *cmp_zone_kind_name(enum cmp_zone_kind k);

/* Builds the STIX objects of a: the grouping (the agreement, with the extension), a location
 * per zone (geometry and terms in the extension), an identity per party without a given one,
 * and the extension-definition. created_by and marking_refs (array, borrowed) are set on
 * every object but the extension-definition. Returns a new array. */
json_t *cmp_agreement_to_stix(const struct cmp_agreement *a, vtime_t now, const char *created_by,
                              const json_t *marking_refs);
/* The extension-definition of CMP_EXT_ID (also in the TAXII definitions collection), and the
 * JSON Schema (draft 2020-12) of its property extension, served at CMP_SCHEMA_URL. New
 * references. */
json_t *cmp_extension_definition(void);
json_t *cmp_extension_schema(void);

/* One way a report is a candidate violation. */
struct cmp_match {
    const struct cmp_zone *zone;
    size_t party;
    const struct cmp_term *term;
    const struct cmp_act *act; /* the prohibition it breaks */
    vtime_t time;              /* when it counts: the report's start, or the start of the
                                * agreement's or term's window when the report began before */
    bool uncertain;            /* the report's time window straddles an edge of the window in
                                * which the act is prohibited: it may have fallen outside */
    bool exchange;             /* the report names two or more parties among its actors and no
                                * initiator: each engaged party gets the violation */
};

/* Calls fn for every (zone, party) of a for which r is a candidate violation: r is not a
 * warning (future), one of its actors names the party (name, alias or identity id, ignoring
 * ASCII case) and none of its targets does (a party struck is never the violator), its place
 * is in the zone (a point within distance_m of the geometry, boundary included; a named area
 * equal to the zone's name), and its time window [start, end] meets the agreement's window
 * and a term of the party that prohibits the act, and no term permits the act over the whole
 * window. When the window is not wholly inside both (or a permission covers part of it) the
 * match is `uncertain`. Returns the number of matches, or fn's first
 * nonzero result (negative) which stops the walk. */
int cmp_agreement_match(const struct cmp_agreement *a, const struct event_report *r,
                        int (*fn)(void *ctx, const struct cmp_match *m), void *ctx);

#endif
