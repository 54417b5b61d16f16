/* profile.c - the Vigil STIX profile (see profile.h and docs/STIX-PROFILE.md). */
#include "intel/profile.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "intel/text.h"
#include "stix/stix.h"

/* ---- PLOVER tables ---------------------------------------------------------------------- */

static const char *const event_names[PLOVER_EVENT_COUNT] = {
    NULL,      "AGREE",   "CONSULT",  "SUPPORT",  "CONCEDE", "COOPERATE",
    "AID",     "RETREAT", "DEMAND",   "ACCUSE",   "REJECT",  "THREATEN",
    "PROTEST", "SANCTION", "MOBILIZE", "COERCE",  "ASSAULT", "OTHER", /* Vigil */
};

/* Modes from the PLOVER manual's tables and CAMEO2PLOVER-2021; the ones marked "Vigil" are
 * this profile's additions (ceasefire monitoring must tell an air strike from a drone strike,
 * which PLOVER folds into heavy-weapons). */
static const char *const modes_none[] = {NULL};
static const char *const modes_consult[] = {"visit", "host", "third-party", "multilateral",
                                            "phone", NULL};
static const char *const modes_aid[] = {"economic", "military", "humanitarian", "asylum", NULL};
static const char *const modes_retreat[] = {"withdraw", "release", "return", "disarm",
                                            "ceasefire", "access", "resign", "ease", NULL};
static const char *const modes_demand[] = {"assist", "change", "yield", "meet", NULL};
static const char *const modes_accuse[] = {"disapprove", "investigate", NULL};
static const char *const modes_threaten[] = {"restrict", "ban", "arrest", "relations", "expel",
                                             "territory", "violence", "political", NULL};
static const char *const modes_protest[] = {"demo", "riot", "strike-gen", "strike-lim",
                                            "strike-hun", "boycott", "obstruct", NULL};
static const char *const modes_sanction[] = {"convict", "cancel", "expel", "withdraw", "sever",
                                             "discontinue", NULL};
static const char *const modes_mobilize[] = {"troops", "weapons", "police",
                                             "aerial", "drone", /* Vigil */ NULL};
static const char *const modes_other[] = {"group-change", /* Vigil */ NULL};
static const char *const modes_coerce[] = {"confiscate", "restrict", "ban", "censor", "curfew",
                                           "martial-law", "arrest", "deport", "withhold", NULL};
static const char *const modes_assault[] = {
    "abduct", "beat", "torture", "execute", "sexual", "assassinate", "destroy", "primitive",
    "firearms", "explosives", "suicide-attack", "heavy-weapons", "unconventional", "cleansing",
    "aerial", "drone", /* Vigil */ NULL};

static const char *const *const event_modes[PLOVER_EVENT_COUNT] = {
    [PLOVER_NONE] = modes_none,         [PLOVER_AGREE] = modes_none,
    [PLOVER_CONSULT] = modes_consult,   [PLOVER_SUPPORT] = modes_none,
    [PLOVER_CONCEDE] = modes_none,      [PLOVER_COOPERATE] = modes_none,
    [PLOVER_AID] = modes_aid,           [PLOVER_RETREAT] = modes_retreat,
    [PLOVER_DEMAND] = modes_demand,     [PLOVER_ACCUSE] = modes_accuse,
    [PLOVER_REJECT] = modes_demand,     [PLOVER_THREATEN] = modes_threaten,
    [PLOVER_PROTEST] = modes_protest,   [PLOVER_SANCTION] = modes_sanction,
    [PLOVER_MOBILIZE] = modes_mobilize, [PLOVER_COERCE] = modes_coerce,
    [PLOVER_ASSAULT] = modes_assault,   [PLOVER_OTHER] = modes_other,
};

const char *plover_event_name(enum plover_event e)
{
    return (e > PLOVER_NONE && e < PLOVER_EVENT_COUNT) ? event_names[e] : NULL;
}

enum plover_event plover_event_parse(const char *name)
{
    if (!name)
        return PLOVER_NONE;
    for (int i = 1; i < PLOVER_EVENT_COUNT; i++)
        if (strcmp(name, event_names[i]) == 0)
            return (enum plover_event)i;
    /* PLOVER drafts before 0.7 had these; they were merged into ACCUSE. */
    if (strcmp(name, "DISAPPROVE") == 0 || strcmp(name, "INVESTIGATE") == 0)
        return PLOVER_ACCUSE;
    return PLOVER_NONE;
}

const char *const *plover_modes(enum plover_event e)
{
    return (e > PLOVER_NONE && e < PLOVER_EVENT_COUNT) ? event_modes[e] : modes_none;
}

const char *plover_mode_lookup(enum plover_event e, const char *name)
{
    if (!name)
        return NULL;
    for (const char *const *m = plover_modes(e); *m; m++)
        if (strcmp(*m, name) == 0)
            return *m;
    return NULL;
}

/* ---- small vocabularies ----------------------------------------------------------------- */

static const char *const tprec_names[] = {"second", "minute", "hour", "day",
                                          "week",   "month",  "year"};

const char *report_tprec_name(enum report_tprec p)
{
    return ((unsigned)p <= REPORT_TP_YEAR) ? tprec_names[p] : NULL;
}

int report_tprec_parse(const char *s, enum report_tprec *out)
{
    for (int i = 0; s && i <= REPORT_TP_YEAR; i++)
        if (strcmp(s, tprec_names[i]) == 0) {
            *out = (enum report_tprec)i;
            return 0;
        }
    return VIGIL_EINVAL;
}

static const char *const marking_names[] = {NULL, "clear", "green", "amber", "amber+strict",
                                            "red"};
static const char *const marking_refs[] = {NULL, STIX_TLP_CLEAR, STIX_TLP_GREEN, STIX_TLP_AMBER,
                                           STIX_TLP_AMBER_STRICT, STIX_TLP_RED};

const char *report_marking_name(enum report_marking m)
{
    return ((unsigned)m <= REPORT_MARKING_RED) ? marking_names[m] : NULL;
}

const char *report_marking_ref(enum report_marking m)
{
    return ((unsigned)m <= REPORT_MARKING_RED) ? marking_refs[m] : NULL;
}

int report_marking_parse(const char *s, enum report_marking *out)
{
    for (int i = 1; s && i <= REPORT_MARKING_RED; i++)
        if (strcmp(s, marking_names[i]) == 0) {
            *out = (enum report_marking)i;
            return 0;
        }
    return VIGIL_EINVAL;
}

/* ---- Admiralty grading ------------------------------------------------------------------ */

int profile_credibility_to_confidence(int credibility)
{
    static const int conf[] = {0, 90, 70, 50, 30, 10};
    return (credibility >= 1 && credibility <= 5) ? conf[credibility] : -1;
}

int profile_confidence_to_credibility(int confidence)
{
    if (confidence < 0 || confidence > 100)
        return 6;
    if (confidence >= 80)
        return 1;
    if (confidence >= 60)
        return 2;
    if (confidence >= 40)
        return 3;
    if (confidence >= 20)
        return 4;
    return 5;
}

int report_confidence(const struct event_report *r)
{
    return profile_credibility_to_confidence(r->credibility);
}

/* ---- SHA-1 and name-based UUIDs --------------------------------------------------------- */

struct sha1 {
    uint32_t h[5];
    uint64_t len;
    unsigned char blk[64];
    size_t n;
};

static uint32_t rol32(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static void sha1_block(struct sha1 *s, const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
    static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->n = 0;
}

static void sha1_add(struct sha1 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->len += len;
    while (len > 0) {
        size_t k = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->blk + s->n, p, k);
        s->n += k;
        p += k;
        len -= k;
        if (s->n == 64) {
            sha1_block(s, s->blk);
            s->n = 0;
        }
    }
}

static void sha1_final(struct sha1 *s, unsigned char out[20])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, lenb[8];
    sha1_add(s, &pad, 1);
    while (s->n != 56)
        sha1_add(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_add(s, lenb, 8);
    for (int i = 0; i < 20; i++)
        out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

int profile_uuid5(const char *ns, const char *name, size_t len, char out[37])
{
    unsigned char nsb[16], h[20];
    if (!ns || strlen(ns) != UUID_STRLEN || !uuid_valid(ns, UUID_STRLEN))
        return VIGIL_EINVAL;
    for (int i = 0, j = 0; i < 16; j++) {
        if (ns[j] == '-')
            continue;
        nsb[i++] = (unsigned char)(hex_value(ns[j]) << 4 | hex_value(ns[j + 1]));
        j++;
    }
    struct sha1 s;
    sha1_init(&s);
    sha1_add(&s, nsb, sizeof nsb);
    sha1_add(&s, name, len);
    sha1_final(&s, h);
    uuid_from_bytes(h, 5, out);
    return 0;
}

char *profile_area_location_id(const char *name, char out[64])
{
    char u[UUID_STRLEN + 1];
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    buf_adds(&b, "area:");
    buf_adds(&b, name ? name : "");
    profile_uuid5(PROFILE_UUID_NS, b.data, b.len, u);
    buf_release(&b);
    snprintf(out, 64, "location--%s", u);
    return out;
}

json_t *profile_area_location(const char *name, vtime_t modified, const json_t *marks)
{
    char id[64], m[TS_BUFSZ];
    profile_area_location_id(name, id);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "location", "spec_version",
        "2.1", "id", id, "created_by_ref", PROFILE_IDENTITY_ID, "created", PROFILE_DEFINED,
        "modified", ts_format(modified, modified % 1000 ? 6 : 3, m), "name", name ? name : "",
        "description",
        "A named area of partners' event reports (location.area of the Vigil event report "
        "extension). The hub knows its name only: country ZZ is ISO 3166-1's code for an "
        "unknown territory.",
        "country", "ZZ");
    if (json_array_size(marks))
        json_object_set_new(o, "object_marking_refs", json_deep_copy(marks));
    return o;
}

/* ---- lifecycle and invariants ----------------------------------------------------------- */

void report_init(struct event_report *r)
{
    memset(r, 0, sizeof *r);
    r->event = PLOVER_NONE;
    r->tprec = REPORT_TP_SECOND;
    r->fatalities = -1;
    r->injured = -1;
    r->reliability = 'F';
    r->credibility = 6;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void report_release(struct event_report *r)
{
    free(r->area);
    free_list(r->actors, r->n_actors);
    free_list(r->targets, r->n_targets);
    free(r->group);
    free(r->title);
    free(r->description);
    free(r->source_ref);
    report_init(r);
}

/* A name: non-empty, at most REPORT_NAME_MAX bytes, UTF-8, no control characters. */
static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > REPORT_NAME_MAX || !text_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int report_add_name(struct event_report *r, bool is_target, const char *name)
{
    char ***v = is_target ? &r->targets : &r->actors;
    size_t *n = is_target ? &r->n_targets : &r->n_actors;
    if (!name_ok(name))
        return VIGIL_EINVAL;
    if (*n >= REPORT_LIST_MAX)
        return VIGIL_ETOOBIG;
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = xstrdup(name);
    return 0;
}

static int fail(char msg[REPORT_MSG_SZ], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(char msg[REPORT_MSG_SZ], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, REPORT_MSG_SZ, fmt, ap);
    va_end(ap);
    return VIGIL_EINVAL;
}

/* "<source>:<id>": source [a-z0-9][a-z0-9-]*, id printable ASCII without spaces. */
static bool source_ref_ok(const char *s)
{
    size_t n = strlen(s);
    const char *colon = strchr(s, ':');
    if (n > REPORT_SOURCE_REF_MAX || !colon || colon == s || colon[1] == '\0')
        return false;
    for (const char *p = s; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p == '-' && p != s)))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return false;
    return true;
}

static int check_text(const char *field, const char *s, size_t max, char msg[REPORT_MSG_SZ])
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n > max)
        return fail(msg, "%s: longer than %zu bytes", field, max);
    if (!text_utf8_valid(s, n))
        return fail(msg, "%s: not valid UTF-8", field);
    return 0;
}

const char *report_target_kind(const struct event_report *r)
{
    static const char word[] = "civilian";
    for (size_t i = 0; i < r->n_targets; i++) {
        const char *t = r->targets[i];
        for (size_t k = 0; t && t[k]; k++) {
            bool start = k == 0 || !((t[k - 1] >= 'a' && t[k - 1] <= 'z') ||
                                     (t[k - 1] >= 'A' && t[k - 1] <= 'Z'));
            size_t j = 0;
            while (start && word[j] && t[k + j] && (t[k + j] | 0x20) == word[j])
                j++;
            if (start && !word[j])
                return "civilians";
        }
    }
    return "";
}

int report_check(const struct event_report *r, char msg[REPORT_MSG_SZ])
{
    int rc;
    msg[0] = '\0';
    if (!plover_event_name(r->event))
        return fail(msg, "event: missing or not a PLOVER event type");
    if (r->mode && !plover_mode_lookup(r->event, r->mode))
        return fail(msg, "mode: not a mode of %s", plover_event_name(r->event));
    if (r->start < REPORT_TIME_MIN || r->start > REPORT_TIME_MAX)
        return fail(msg, "start: outside the years 1000 to 9999");
    if (r->end < REPORT_TIME_MIN || r->end > REPORT_TIME_MAX)
        return fail(msg, "end: outside the years 1000 to 9999");
    if (r->end < r->start)
        return fail(msg, "end: earlier than start");
    if (!report_tprec_name(r->tprec))
        return fail(msg, "time_precision: unknown value");
    if (r->has_point) {
        if (!isfinite(r->lat) || r->lat < -90.0 || r->lat > 90.0)
            return fail(msg, "location.lat: must be between -90 and 90");
        if (!isfinite(r->lon) || r->lon < -180.0 || r->lon > 180.0)
            return fail(msg, "location.lon: must be between -180 and 180");
        if (r->precision_m < 0 || r->precision_m > REPORT_PRECISION_MAX)
            return fail(msg, "location.precision_m: must be between 0 and %d",
                        REPORT_PRECISION_MAX);
        if (r->area)
            return fail(msg, "location: has both a point and an area");
    } else if (!name_ok(r->area)) {
        return fail(msg, "location.area: must be a name of 1 to %d bytes", REPORT_NAME_MAX);
    }
    for (int t = 0; t < 2; t++) {
        char **v = t ? r->targets : r->actors;
        size_t n = t ? r->n_targets : r->n_actors;
        const char *f = t ? "targets" : "actors";
        if (n > REPORT_LIST_MAX)
            return fail(msg, "%s: more than %d entries", f, REPORT_LIST_MAX);
        for (size_t i = 0; i < n; i++)
            if (!name_ok(v[i]))
                return fail(msg, "%s[%zu]: must be a name of 1 to %d bytes", f, i,
                            REPORT_NAME_MAX);
    }
    if (r->fatalities < -1 || r->fatalities > REPORT_COUNT_MAX)
        return fail(msg, "fatalities: out of range");
    if (r->injured < -1 || r->injured > REPORT_COUNT_MAX)
        return fail(msg, "injured: out of range");
    if (r->reliability < 'A' || r->reliability > 'F')
        return fail(msg, "reliability: must be one of A-F");
    if (r->credibility < 1 || r->credibility > 6)
        return fail(msg, "credibility: must be 1-6");
    if ((unsigned)r->marking > REPORT_MARKING_RED)
        return fail(msg, "marking: unknown value");
    if (r->group && !name_ok(r->group))
        return fail(msg, "group: must be a name of 1 to %d bytes", REPORT_NAME_MAX);
    if ((rc = check_text("title", r->title, REPORT_TITLE_MAX, msg)) != 0)
        return rc;
    if ((rc = check_text("description", r->description, REPORT_DESC_MAX, msg)) != 0)
        return rc;
    if (r->source_ref && !source_ref_ok(r->source_ref))
        return fail(msg, "source_ref: must be \"<source>:<id>\" (source lower-case "
                         "letters, digits, '-'; id printable ASCII)");
    return 0;
}

/* ---- JSON in ---------------------------------------------------------------------------- */

enum shape { SHAPE_REST, SHAPE_EXT };

static const char *const rest_fields[] = {
    "event",  "mode",    "future",     "start",       "end",         "time_precision",
    "location", "actors", "targets",   "fatalities",  "injured",     "reliability",
    "credibility", "marking", "group", "title",       "description", "source_ref",
    NULL};
static const char *const ext_fields[] = {
    "extension_type", "event",      "mode",    "future",      "start",       "end",
    "time_precision", "location",   "actors",  "targets",     "fatalities",  "injured",
    "reliability",    "credibility", "source_ref", NULL};

static bool in_list(const char *const *list, const char *k)
{
    for (; *list; list++)
        if (strcmp(*list, k) == 0)
            return true;
    return false;
}

/* A JSON string member, or NULL; sets *bad when present but not a string. */
static const char *get_str(const json_t *o, const char *k, const char *p, char msg[], int *rc)
{
    json_t *v = json_object_get(o, k);
    if (!v || *rc)
        return NULL;
    if (!json_is_string(v)) {
        *rc = fail(msg, "%s%s: must be a string", p, k);
        return NULL;
    }
    return json_string_value(v);
}

static int parse_time(const json_t *o, const char *k, const char *p, vtime_t *out, bool *present,
                      char msg[REPORT_MSG_SZ])
{
    int rc = 0;
    const char *s = get_str(o, k, p, msg, &rc);
    *present = s != NULL;
    if (rc || !s)
        return rc;
    if (ts_parse(s, out, NULL) != 0)
        return fail(msg, "%s%s: not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.frac]Z)",
                    p, k);
    return 0;
}

static int parse_count(const json_t *o, const char *k, const char *p, long *out,
                       char msg[REPORT_MSG_SZ])
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > REPORT_COUNT_MAX)
        return fail(msg, "%s%s: must be an integer between 0 and %ld, or null", p, k,
                    REPORT_COUNT_MAX);
    *out = (long)json_integer_value(v);
    return 0;
}

static int parse_names(const json_t *o, const char *k, const char *p, struct event_report *r,
                       bool is_target, char msg[REPORT_MSG_SZ])
{
    json_t *v = json_object_get(o, k);
    size_t i;
    json_t *e;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(msg, "%s%s: must be an array of strings", p, k);
    if (json_array_size(v) > REPORT_LIST_MAX)
        return fail(msg, "%s%s: more than %d entries", p, k, REPORT_LIST_MAX);
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || report_add_name(r, is_target, json_string_value(e)) != 0)
            return fail(msg, "%s%s[%zu]: must be a string of 1 to %d bytes without control "
                             "characters", p, k, i, REPORT_NAME_MAX);
    }
    return 0;
}

static int parse_location(const json_t *o, const char *p, struct event_report *r,
                          char msg[REPORT_MSG_SZ])
{
    json_t *loc = json_object_get(o, "location");
    const char *k;
    json_t *v;
    if (!loc)
        return fail(msg, "%slocation: required", p);
    if (!json_is_object(loc))
        return fail(msg, "%slocation: must be an object {lat, lon, precision_m} or {area}", p);
    json_object_foreach(loc, k, v) {
        if (strcmp(k, "lat") && strcmp(k, "lon") && strcmp(k, "precision_m") &&
            strcmp(k, "area"))
            return fail(msg, "%slocation.%.40s: unknown field", p, k);
    }
    json_t *area = json_object_get(loc, "area");
    if (area) {
        if (json_object_size(loc) != 1)
            return fail(msg, "%slocation: area excludes lat, lon and precision_m", p);
        if (!json_is_string(area) || !name_ok(json_string_value(area)))
            return fail(msg, "%slocation.area: must be a name of 1 to %d bytes", p,
                        REPORT_NAME_MAX);
        r->has_point = false;
        r->area = xstrdup(json_string_value(area));
        return 0;
    }
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    json_t *pr = json_object_get(loc, "precision_m");
    if (!lat)
        return fail(msg, "%slocation.lat: required (or give location.area)", p);
    if (!lon)
        return fail(msg, "%slocation.lon: required (or give location.area)", p);
    if (!json_is_number(lat) || json_number_value(lat) < -90.0 ||
        json_number_value(lat) > 90.0)
        return fail(msg, "%slocation.lat: must be a number between -90 and 90", p);
    if (!json_is_number(lon) || json_number_value(lon) < -180.0 ||
        json_number_value(lon) > 180.0)
        return fail(msg, "%slocation.lon: must be a number between -180 and 180", p);
    if (pr && (!json_is_integer(pr) || json_integer_value(pr) < 0 ||
               json_integer_value(pr) > REPORT_PRECISION_MAX))
        return fail(msg, "%slocation.precision_m: must be an integer between 0 and %d", p,
                    REPORT_PRECISION_MAX);
    r->has_point = true;
    r->lat = json_number_value(lat);
    r->lon = json_number_value(lon);
    r->precision_m = pr ? (long)json_integer_value(pr) : 0;
    return 0;
}

/* Parses the fields shared by the REST resource and the STIX extension; p prefixes field
 * names in messages. */
static int parse_fields(const json_t *o, enum shape shape, const char *p,
                        struct event_report *r, char msg[REPORT_MSG_SZ])
{
    const char *k, *s;
    json_t *v;
    int rc = 0;
    bool present;
    if (!json_is_object(o))
        return fail(msg, "%s: must be a JSON object", shape == SHAPE_REST ? "report" : p);
    json_object_foreach((json_t *)o, k, v) {
        if (!in_list(shape == SHAPE_REST ? rest_fields : ext_fields, k))
            return fail(msg, "%s%.40s: unknown field", p, k);
    }
    if (shape == SHAPE_EXT) {
        s = get_str(o, "extension_type", p, msg, &rc);
        if (rc)
            return rc;
        if (!s || strcmp(s, "property-extension") != 0)
            return fail(msg, "%sextension_type: must be \"property-extension\"", p);
    }
    s = get_str(o, "event", p, msg, &rc);
    if (rc)
        return rc;
    if (!s)
        return fail(msg, "%sevent: required", p);
    if ((r->event = plover_event_parse(s)) == PLOVER_NONE)
        return fail(msg, "%sevent: unknown PLOVER event type \"%.40s\"", p, s);
    v = json_object_get(o, "mode");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return fail(msg, "%smode: must be a string or null", p);
        s = json_string_value(v);
        if (!(r->mode = plover_mode_lookup(r->event, s)))
            return fail(msg, "%smode: \"%.40s\" is not a mode of %s", p, s,
                        plover_event_name(r->event));
    }
    v = json_object_get(o, "future");
    if (v) {
        if (!json_is_boolean(v))
            return fail(msg, "%sfuture: must be true or false", p);
        r->future = json_is_true(v);
    }
    if ((rc = parse_time(o, "start", p, &r->start, &present, msg)) != 0)
        return rc;
    if (!present)
        return fail(msg, "%sstart: required", p);
    if ((rc = parse_time(o, "end", p, &r->end, &present, msg)) != 0)
        return rc;
    if (!present)
        r->end = r->start;
    if (r->end < r->start)
        return fail(msg, "%send: earlier than start", p);
    s = get_str(o, "time_precision", p, msg, &rc);
    if (rc)
        return rc;
    if (s && report_tprec_parse(s, &r->tprec) != 0)
        return fail(msg, "%stime_precision: must be one of second, minute, hour, day, week, "
                         "month, year", p);
    if ((rc = parse_location(o, p, r, msg)) != 0)
        return rc;
    if ((rc = parse_names(o, "actors", p, r, false, msg)) != 0 ||
        (rc = parse_names(o, "targets", p, r, true, msg)) != 0 ||
        (rc = parse_count(o, "fatalities", p, &r->fatalities, msg)) != 0 ||
        (rc = parse_count(o, "injured", p, &r->injured, msg)) != 0)
        return rc;
    s = get_str(o, "reliability", p, msg, &rc);
    if (rc)
        return rc;
    if (s) {
        if (strlen(s) != 1 || s[0] < 'A' || s[0] > 'F')
            return fail(msg, "%sreliability: must be one of \"A\" to \"F\"", p);
        r->reliability = s[0];
    }
    v = json_object_get(o, "credibility");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 6)
            return fail(msg, "%scredibility: must be an integer from 1 to 6", p);
        r->credibility = (int)json_integer_value(v);
    }
    if (shape == SHAPE_REST) {
        s = get_str(o, "marking", p, msg, &rc);
        if (rc)
            return rc;
        if (s && report_marking_parse(s, &r->marking) != 0)
            return fail(msg, "marking: must be one of clear, green, amber, amber+strict, red");
        s = get_str(o, "group", p, msg, &rc);
        if (rc)
            return rc;
        if (s && !name_ok(s))
            return fail(msg, "group: must be a name of 1 to %d bytes", REPORT_NAME_MAX);
        r->group = xstrdup(s);
        s = get_str(o, "title", p, msg, &rc);
        if (rc || (rc = check_text("title", s, REPORT_TITLE_MAX, msg)) != 0)
            return rc;
        r->title = xstrdup(s);
        s = get_str(o, "description", p, msg, &rc);
        if (rc || (rc = check_text("description", s, REPORT_DESC_MAX, msg)) != 0)
            return rc;
        r->description = xstrdup(s);
    }
    s = get_str(o, "source_ref", p, msg, &rc);
    if (rc)
        return rc;
    if (s && !source_ref_ok(s))
        return fail(msg, "%ssource_ref: must be \"<source>:<id>\", e.g. \"acled:PSE12345\"", p);
    r->source_ref = xstrdup(s);
    return 0;
}

int report_from_json(const json_t *obj, struct event_report *r, char msg[REPORT_MSG_SZ])
{
    report_init(r);
    msg[0] = '\0';
    int rc = parse_fields(obj, SHAPE_REST, "", r, msg);
    if (rc == 0)
        rc = report_check(r, msg);
    if (rc != 0)
        report_release(r);
    return rc;
}

/* ---- JSON out --------------------------------------------------------------------------- */

/* Shortest faithful form: no fraction for whole seconds, else milliseconds or microseconds. */
static json_t *time_json(vtime_t t)
{
    char b[TS_BUFSZ];
    int64_t us = t % VTIME_US_PER_SEC;
    int digits = us == 0 ? 0 : (us % 1000 == 0 ? 3 : 6);
    return json_string(ts_format(t, digits, b));
}

static json_t *names_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *location_json(const struct event_report *r)
{
    if (!r->has_point)
        return json_pack("{s:s}", "area", r->area);
    return json_pack("{s:f,s:f,s:I}", "lat", r->lat, "lon", r->lon, "precision_m",
                     (json_int_t)r->precision_m);
}

/* The members shared by the REST resource and the extension, appended to o. */
static void add_common(json_t *o, const struct event_report *r)
{
    json_object_set_new(o, "event", json_string(plover_event_name(r->event)));
    if (r->mode)
        json_object_set_new(o, "mode", json_string(r->mode));
    json_object_set_new(o, "future", json_boolean(r->future));
    json_object_set_new(o, "start", time_json(r->start));
    json_object_set_new(o, "end", time_json(r->end));
    json_object_set_new(o, "time_precision", json_string(report_tprec_name(r->tprec)));
    json_object_set_new(o, "location", location_json(r));
    if (r->n_actors)
        json_object_set_new(o, "actors", names_json(r->actors, r->n_actors));
    if (r->n_targets)
        json_object_set_new(o, "targets", names_json(r->targets, r->n_targets));
    if (r->fatalities >= 0)
        json_object_set_new(o, "fatalities", json_integer(r->fatalities));
    if (r->injured >= 0)
        json_object_set_new(o, "injured", json_integer(r->injured));
    char rel[2] = {r->reliability, '\0'};
    json_object_set_new(o, "reliability", json_string(rel));
    json_object_set_new(o, "credibility", json_integer(r->credibility));
}

json_t *report_to_json(const struct event_report *r)
{
    json_t *o = json_object();
    add_common(o, r);
    if (r->marking != REPORT_MARKING_DEFAULT)
        json_object_set_new(o, "marking", json_string(report_marking_name(r->marking)));
    if (r->group)
        json_object_set_new(o, "group", json_string(r->group));
    if (r->title)
        json_object_set_new(o, "title", json_string(r->title));
    if (r->description)
        json_object_set_new(o, "description", json_string(r->description));
    if (r->source_ref)
        json_object_set_new(o, "source_ref", json_string(r->source_ref));
    return o;
}

/* ---- STIX ------------------------------------------------------------------------------- */

static json_t *stix_time(vtime_t t)
{
    char b[TS_BUFSZ];
    return json_string(ts_format(t, 3, b));
}

static bool id_of_type(const char *id, const char *type)
{
    size_t n = strlen(type);
    return id && stix_id_valid(id) && strncmp(id, type, n) == 0 && id[n] == '-';
}

/* "ASSAULT/aerial (planned) at 31.51000,34.46000" or "... in AREA". */
static char *default_name(const struct event_report *r)
{
    struct buf b;
    buf_init(&b, REPORT_TITLE_MAX);
    buf_adds(&b, plover_event_name(r->event));
    if (r->mode)
        buf_addf(&b, "/%s", r->mode);
    if (r->future)
        buf_adds(&b, " (planned)");
    if (r->has_point)
        buf_addf(&b, " at %.5f,%.5f", r->lat, r->lon);
    else if (buf_addf(&b, " in %s", r->area) != 0)
        buf_adds(&b, " in a named area");
    return buf_detach(&b, NULL);
}

int report_to_stix(const struct event_report *r, const struct report_stix_ctx *ctx, json_t **out,
                   char msg[REPORT_MSG_SZ])
{
    char rid[80], lid[64], u[UUID_STRLEN + 1];
    int rc;
    *out = NULL;
    if ((rc = report_check(r, msg)) != 0)
        return rc;
    if (ctx->report_id && !id_of_type(ctx->report_id, "report"))
        return fail(msg, "report_id: not a report identifier");
    if (ctx->created_by_ref && !id_of_type(ctx->created_by_ref, "identity"))
        return fail(msg, "created_by_ref: not an identity identifier");
    if (ctx->group_marking_ref && !id_of_type(ctx->group_marking_ref, "marking-definition"))
        return fail(msg, "group_marking_ref: not a marking-definition identifier");
    if (ctx->report_id) {
        snprintf(rid, sizeof rid, "%s", ctx->report_id);
    } else {
        uuid_v4(u);
        snprintf(rid, sizeof rid, "report--%s", u);
    }
    if (r->has_point) {
        /* derived from the report id, so one report always yields the same location id */
        profile_uuid5(PROFILE_UUID_NS, rid, strlen(rid), u);
        snprintf(lid, sizeof lid, "location--%s", u);
    } else {
        profile_area_location_id(r->area, lid);
    }
    json_t *markings = NULL;
    if (r->marking != REPORT_MARKING_DEFAULT || ctx->group_marking_ref) {
        markings = json_array();
        if (r->marking != REPORT_MARKING_DEFAULT)
            json_array_append_new(markings, json_string(report_marking_ref(r->marking)));
        if (ctx->group_marking_ref)
            json_array_append_new(markings, json_string(ctx->group_marking_ref));
    }

    json_t *rep = json_object();
    json_object_set_new(rep, "type", json_string("report"));
    json_object_set_new(rep, "spec_version", json_string("2.1"));
    json_object_set_new(rep, "id", json_string(rid));
    if (ctx->created_by_ref)
        json_object_set_new(rep, "created_by_ref", json_string(ctx->created_by_ref));
    json_object_set_new(rep, "created", stix_time(ctx->now));
    json_object_set_new(rep, "modified", stix_time(ctx->now));
    if (r->title) {
        json_object_set_new(rep, "name", json_string(r->title));
    } else {
        char *n = default_name(r);
        json_object_set_new(rep, "name", json_string(n));
        free(n);
    }
    if (r->description)
        json_object_set_new(rep, "description", json_string(r->description));
    json_object_set_new(rep, "report_types", json_pack("[s]", "event-report"));
    json_object_set_new(rep, "published", stix_time(ctx->now));
    json_object_set_new(rep, "object_refs", json_pack("[s]", lid));
    int conf = report_confidence(r);
    if (conf >= 0)
        json_object_set_new(rep, "confidence", json_integer(conf));
    if (r->source_ref) {
        const char *colon = strchr(r->source_ref, ':');
        json_t *ref = json_object();
        json_object_set_new(ref, "source_name",
                            json_stringn(r->source_ref, (size_t)(colon - r->source_ref)));
        json_object_set_new(ref, "external_id", json_string(colon + 1));
        json_object_set_new(rep, "external_references", json_pack("[o]", ref));
    }
    if (markings)
        json_object_set(rep, "object_marking_refs", markings);
    json_t *ext = json_object();
    json_object_set_new(ext, "extension_type", json_string("property-extension"));
    add_common(ext, r);
    if (r->source_ref)
        json_object_set_new(ext, "source_ref", json_string(r->source_ref));
    json_object_set_new(rep, "extensions", json_pack("{s:o}", PROFILE_EXT_ID, ext));

    json_t *arr = json_array();
    json_array_append_new(arr, rep);
    if (r->has_point) {
        json_t *loc = json_object();
        json_object_set_new(loc, "type", json_string("location"));
        json_object_set_new(loc, "spec_version", json_string("2.1"));
        json_object_set_new(loc, "id", json_string(lid));
        if (ctx->created_by_ref)
            json_object_set_new(loc, "created_by_ref", json_string(ctx->created_by_ref));
        json_object_set_new(loc, "created", stix_time(ctx->now));
        json_object_set_new(loc, "modified", stix_time(ctx->now));
        json_object_set_new(loc, "latitude", json_real(r->lat));
        json_object_set_new(loc, "longitude", json_real(r->lon));
        json_object_set_new(loc, "precision", json_real((double)r->precision_m));
        if (markings)
            json_object_set(loc, "object_marking_refs", markings);
        json_array_append_new(arr, loc);
    }
    json_decref(markings);
    *out = arr;
    return 0;
}

/* ---- the same documents as text --------------------------------------------------------
 * What report_to_json, ingest's REST document and report_to_stix build, written straight into
 * a buffer: an import writes three documents per row, and building them as jansson trees
 * (then serialising and freeing them) was a third of its time. Member for member and byte for
 * byte what vjson_dump writes for the trees above (tests/unit/test_intel.c compares them). */

static int time_text(struct buf *b, vtime_t t)
{
    char ts[TS_BUFSZ];
    int64_t us = t % VTIME_US_PER_SEC;
    int digits = us == 0 ? 0 : (us % 1000 == 0 ? 3 : 6);
    return vjson_add_str(b, ts_format(t, digits, ts));
}

static int names_text(struct buf *b, char **v, size_t n)
{
    int rc = buf_addc(b, '[');
    for (size_t i = 0; i < n && !rc; i++) {
        rc = i ? buf_addc(b, ',') : 0;
        rc = rc ? rc : vjson_add_str(b, v[i]);
    }
    return rc ? rc : buf_addc(b, ']');
}

static int str_member(struct buf *b, bool *first, const char *key, const char *v)
{
    int rc = vjson_key(b, first, key);
    return rc ? rc : vjson_add_str(b, v);
}

/* add_common, as text; with marking non-NULL, a "marking" member is written where
 * report_to_json puts r's own (the REST document's marking replaces it in place). */
static int common_text(struct buf *b, bool *first, const struct event_report *r)
{
    int rc = str_member(b, first, "event", plover_event_name(r->event));
    if (!rc && r->mode)
        rc = str_member(b, first, "mode", r->mode);
    rc = rc ? rc : vjson_key(b, first, "future");
    rc = rc ? rc : buf_adds(b, r->future ? "true" : "false");
    rc = rc ? rc : vjson_key(b, first, "start");
    rc = rc ? rc : time_text(b, r->start);
    rc = rc ? rc : vjson_key(b, first, "end");
    rc = rc ? rc : time_text(b, r->end);
    rc = rc ? rc : str_member(b, first, "time_precision", report_tprec_name(r->tprec));
    rc = rc ? rc : vjson_key(b, first, "location");
    if (!rc && r->has_point) {
        rc = buf_adds(b, "{\"lat\":");
        rc = rc ? rc : vjson_add_real(b, r->lat);
        rc = rc ? rc : buf_adds(b, ",\"lon\":");
        rc = rc ? rc : vjson_add_real(b, r->lon);
        rc = rc ? rc : buf_adds(b, ",\"precision_m\":");
        rc = rc ? rc : vjson_add_int(b, (json_int_t)r->precision_m);
        rc = rc ? rc : buf_addc(b, '}');
    } else if (!rc) {
        rc = buf_adds(b, "{\"area\":");
        rc = rc ? rc : vjson_add_str(b, r->area);
        rc = rc ? rc : buf_addc(b, '}');
    }
    if (!rc && r->n_actors) {
        rc = vjson_key(b, first, "actors");
        rc = rc ? rc : names_text(b, r->actors, r->n_actors);
    }
    if (!rc && r->n_targets) {
        rc = vjson_key(b, first, "targets");
        rc = rc ? rc : names_text(b, r->targets, r->n_targets);
    }
    if (!rc && r->fatalities >= 0) {
        rc = vjson_key(b, first, "fatalities");
        rc = rc ? rc : vjson_add_int(b, r->fatalities);
    }
    if (!rc && r->injured >= 0) {
        rc = vjson_key(b, first, "injured");
        rc = rc ? rc : vjson_add_int(b, r->injured);
    }
    char rel[2] = {r->reliability, '\0'};
    rc = rc ? rc : str_member(b, first, "reliability", rel);
    rc = rc ? rc : vjson_key(b, first, "credibility");
    return rc ? rc : vjson_add_int(b, r->credibility);
}

int report_doc_text(const struct event_report *r, const char *marking, const char *id,
                    const char *partner, struct buf *b)
{
    bool first = true;
    int rc = buf_addc(b, '{');
    rc = rc ? rc : common_text(b, &first, r);
    if (!rc && r->marking != REPORT_MARKING_DEFAULT)
        rc = str_member(b, &first, "marking", marking ? marking : report_marking_name(r->marking));
    if (!rc && r->group)
        rc = str_member(b, &first, "group", r->group);
    if (!rc && r->title)
        rc = str_member(b, &first, "title", r->title);
    if (!rc && r->description)
        rc = str_member(b, &first, "description", r->description);
    if (!rc && r->source_ref)
        rc = str_member(b, &first, "source_ref", r->source_ref);
    if (!rc && marking && r->marking == REPORT_MARKING_DEFAULT)
        rc = str_member(b, &first, "marking", marking);
    if (!rc && id)
        rc = str_member(b, &first, "id", id);
    if (!rc && partner)
        rc = str_member(b, &first, "partner", partner);
    return rc ? rc : buf_addc(b, '}');
}

/* "created_by_ref", "created", "modified" of both SDOs. */
static int sdo_head(struct buf *b, bool *first, const char *type, const char *id,
                    const struct report_stix_ctx *ctx, const char *now)
{
    int rc = str_member(b, first, "type", type);
    rc = rc ? rc : str_member(b, first, "spec_version", "2.1");
    rc = rc ? rc : str_member(b, first, "id", id);
    if (!rc && ctx->created_by_ref)
        rc = str_member(b, first, "created_by_ref", ctx->created_by_ref);
    rc = rc ? rc : str_member(b, first, "created", now);
    return rc ? rc : str_member(b, first, "modified", now);
}

static int markings_text(struct buf *b, bool *first, const struct event_report *r,
                         const struct report_stix_ctx *ctx)
{
    if (r->marking == REPORT_MARKING_DEFAULT && !ctx->group_marking_ref)
        return 0;
    int rc = vjson_key(b, first, "object_marking_refs");
    rc = rc ? rc : buf_addc(b, '[');
    if (!rc && r->marking != REPORT_MARKING_DEFAULT)
        rc = vjson_add_str(b, report_marking_ref(r->marking));
    if (!rc && r->marking != REPORT_MARKING_DEFAULT && ctx->group_marking_ref)
        rc = buf_addc(b, ',');
    if (!rc && ctx->group_marking_ref)
        rc = vjson_add_str(b, ctx->group_marking_ref);
    return rc ? rc : buf_addc(b, ']');
}

int report_to_stix_text(const struct event_report *r, const struct report_stix_ctx *ctx,
                        struct buf *rep, struct buf *loc, char lid[64], char msg[REPORT_MSG_SZ])
{
    char u[UUID_STRLEN + 1], now[TS_BUFSZ];
    int rc;
    if ((rc = report_check(r, msg)) != 0)
        return rc;
    if (!id_of_type(ctx->report_id, "report"))
        return fail(msg, "report_id: not a report identifier");
    if (ctx->created_by_ref && !id_of_type(ctx->created_by_ref, "identity"))
        return fail(msg, "created_by_ref: not an identity identifier");
    if (ctx->group_marking_ref && !id_of_type(ctx->group_marking_ref, "marking-definition"))
        return fail(msg, "group_marking_ref: not a marking-definition identifier");
    const char *rid = ctx->report_id;
    if (r->has_point) {
        profile_uuid5(PROFILE_UUID_NS, rid, strlen(rid), u);
        snprintf(lid, 64, "location--%s", u);
    } else {
        profile_area_location_id(r->area, lid);
    }
    ts_format(ctx->now, 3, now);

    bool first = true;
    rc = buf_addc(rep, '{');
    rc = rc ? rc : sdo_head(rep, &first, "report", rid, ctx, now);
    if (!rc && r->title) {
        rc = str_member(rep, &first, "name", r->title);
    } else if (!rc) {
        char *n = default_name(r);
        rc = str_member(rep, &first, "name", n);
        free(n);
    }
    if (!rc && r->description)
        rc = str_member(rep, &first, "description", r->description);
    rc = rc ? rc : vjson_key(rep, &first, "report_types");
    rc = rc ? rc : buf_adds(rep, "[\"event-report\"]");
    rc = rc ? rc : str_member(rep, &first, "published", now);
    rc = rc ? rc : vjson_key(rep, &first, "object_refs");
    rc = rc ? rc : buf_addc(rep, '[');
    rc = rc ? rc : vjson_add_str(rep, lid);
    rc = rc ? rc : buf_addc(rep, ']');
    int conf = report_confidence(r);
    if (!rc && conf >= 0) {
        rc = vjson_key(rep, &first, "confidence");
        rc = rc ? rc : vjson_add_int(rep, conf);
    }
    if (!rc && r->source_ref) {
        const char *colon = strchr(r->source_ref, ':');
        rc = vjson_key(rep, &first, "external_references");
        rc = rc ? rc : buf_adds(rep, "[{\"source_name\":");
        rc = rc ? rc : vjson_add_strn(rep, r->source_ref, (size_t)(colon - r->source_ref));
        rc = rc ? rc : buf_adds(rep, ",\"external_id\":");
        rc = rc ? rc : vjson_add_str(rep, colon + 1);
        rc = rc ? rc : buf_adds(rep, "}]");
    }
    rc = rc ? rc : markings_text(rep, &first, r, ctx);
    rc = rc ? rc : buf_adds(rep, ",\"extensions\":{\"" PROFILE_EXT_ID "\":{");
    bool efirst = true;
    rc = rc ? rc : str_member(rep, &efirst, "extension_type", "property-extension");
    rc = rc ? rc : common_text(rep, &efirst, r);
    if (!rc && r->source_ref)
        rc = str_member(rep, &efirst, "source_ref", r->source_ref);
    rc = rc ? rc : buf_adds(rep, "}}}");
    if (!rc && r->has_point) {
        first = true;
        rc = buf_addc(loc, '{');
        rc = rc ? rc : sdo_head(loc, &first, "location", lid, ctx, now);
        rc = rc ? rc : buf_adds(loc, ",\"latitude\":");
        rc = rc ? rc : vjson_add_real(loc, r->lat);
        rc = rc ? rc : buf_adds(loc, ",\"longitude\":");
        rc = rc ? rc : vjson_add_real(loc, r->lon);
        rc = rc ? rc : buf_adds(loc, ",\"precision\":");
        rc = rc ? rc : vjson_add_real(loc, (double)r->precision_m);
        rc = rc ? rc : markings_text(loc, &first, r, ctx);
        rc = rc ? rc : buf_addc(loc, '}');
    }
    return rc ? fail(msg, "report: larger than its buffer") : 0;
}

#define EXT_PREFIX "extension."

int report_from_stix(const json_t *sdo, struct event_report *r, char msg[REPORT_MSG_SZ])
{
    int rc;
    report_init(r);
    msg[0] = '\0';
    if (!json_is_object(sdo))
        return fail(msg, "object: must be a JSON object");
    if (json_is_true(json_object_get(sdo, "revoked"))) { /* its creator withdrew it (STIX) */
        snprintf(msg, REPORT_MSG_SZ, "revoked: the report is withdrawn by its creator");
        return VIGIL_ENOENT;
    }
    json_t *exts = json_object_get(sdo, "extensions");
    json_t *ext = json_is_object(exts) ? json_object_get(exts, PROFILE_EXT_ID) : NULL;
    if (!ext) {
        snprintf(msg, REPORT_MSG_SZ, "extensions: no %s", PROFILE_EXT_ID);
        return VIGIL_ENOENT;
    }
    if ((rc = parse_fields(ext, SHAPE_EXT, EXT_PREFIX, r, msg)) != 0)
        goto out;
    json_t *name = json_object_get(sdo, "name"), *desc = json_object_get(sdo, "description");
    if (name && (!json_is_string(name) ||
                 check_text("name", json_string_value(name), REPORT_TITLE_MAX, msg))) {
        rc = fail(msg, "name: must be a string of at most %d bytes", REPORT_TITLE_MAX);
        goto out;
    }
    if (desc && (!json_is_string(desc) ||
                 check_text("description", json_string_value(desc), REPORT_DESC_MAX, msg))) {
        rc = fail(msg, "description: must be a string of at most %d bytes", REPORT_DESC_MAX);
        goto out;
    }
    r->title = xstrdup(json_string_value(name));
    r->description = xstrdup(json_string_value(desc));
    if (!json_object_get(ext, "credibility")) {
        json_t *c = json_object_get(sdo, "confidence");
        r->credibility = profile_confidence_to_credibility(
            json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 100
                ? (int)json_integer_value(c) : -1);
    }
    json_t *mrefs = json_object_get(sdo, "object_marking_refs");
    size_t i;
    json_t *m;
    json_array_foreach(mrefs, i, m) {
        for (int k = REPORT_MARKING_CLEAR; k <= REPORT_MARKING_RED; k++)
            if (json_is_string(m) && strcmp(json_string_value(m), marking_refs[k]) == 0)
                r->marking = (enum report_marking)k;
    }
    rc = report_check(r, msg);
out:
    if (rc != 0)
        report_release(r);
    return rc;
}

/* ---- the extension-definition ----------------------------------------------------------- */


static json_t *string_enum(const char *const *v, int from, int to)
{
    json_t *a = json_array();
    for (int i = from; i <= to; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *extension_schema(void)
{
    json_t *names = json_pack("{s:s,s:i,s:{s:s,s:i,s:i}}", "type", "array", "maxItems",
                              REPORT_LIST_MAX, "items", "type", "string", "minLength", 1,
                              "maxLength", REPORT_NAME_MAX);
    json_t *count = json_pack("{s:[s,s],s:i}", "type", "integer", "null", "minimum", 0);
    json_t *point = json_pack(
        "{s:s,s:[s,s],s:b,s:{s:{s:s,s:i,s:i},s:{s:s,s:i,s:i},s:{s:s,s:i,s:i}}}", "type",
        "object", "required", "lat", "lon", "additionalProperties", 0, "properties", "lat",
        "type", "number", "minimum", -90, "maximum", 90, "lon", "type", "number", "minimum",
        -180, "maximum", 180, "precision_m", "type", "integer", "minimum", 0, "maximum",
        REPORT_PRECISION_MAX);
    json_t *area = json_pack("{s:s,s:[s],s:b,s:{s:{s:s,s:i,s:i}}}", "type", "object",
                             "required", "area", "additionalProperties", 0, "properties",
                             "area", "type", "string", "minLength", 1, "maxLength",
                             REPORT_NAME_MAX);
    json_t *modes = json_object();
    for (int e = 1; e < PLOVER_EVENT_COUNT; e++) {
        json_t *a = json_array();
        for (const char *const *m = event_modes[e]; *m; m++)
            json_array_append_new(a, json_string(*m));
        json_object_set_new(modes, event_names[e], a);
    }
    json_t *props = json_object();
    json_object_set_new(props, "extension_type", json_pack("{s:s}", "const",
                                                           "property-extension"));
    json_object_set_new(props, "event", json_pack("{s:o}", "enum",
                                                  string_enum(event_names, 1,
                                                              PLOVER_EVENT_COUNT - 1)));
    json_object_set_new(props, "mode", json_pack("{s:[s,s],s:s,s:o}", "type", "string", "null",
                                                 "description",
                                                 "a PLOVER mode of the event type: "
                                                 "x-vigil-modes lists them",
                                                 "x-vigil-modes", modes));
    json_object_set_new(props, "future", json_pack("{s:s}", "type", "boolean"));
    json_object_set_new(props, "start", json_pack("{s:s,s:s}", "type", "string", "format",
                                                  "date-time"));
    json_object_set_new(props, "end", json_pack("{s:s,s:s}", "type", "string", "format",
                                                "date-time"));
    json_object_set_new(props, "time_precision",
                        json_pack("{s:o}", "enum", string_enum(tprec_names, 0, REPORT_TP_YEAR)));
    json_object_set_new(props, "location", json_pack("{s:[o,o]}", "oneOf", point, area));
    json_object_set_new(props, "actors", names);
    json_object_set(props, "targets", names);
    json_object_set_new(props, "fatalities", count);
    json_object_set(props, "injured", count);
    json_object_set_new(props, "reliability",
                        json_pack("{s:[s,s,s,s,s,s]}", "enum", "A", "B", "C", "D", "E", "F"));
    json_object_set_new(props, "credibility", json_pack("{s:s,s:i,s:i}", "type", "integer",
                                                        "minimum", 1, "maximum", 6));
    json_object_set_new(props, "source_ref",
                        json_pack("{s:s,s:s,s:i}", "type", "string", "pattern",
                                  "^[a-z0-9][a-z0-9-]*:[!-~]+$", "maxLength",
                                  REPORT_SOURCE_REF_MAX));
    return json_pack("{s:s,s:s,s:s,s:s,s:[s,s,s,s],s:b,s:o}",
                     "$schema", "https://json-schema.org/draft/2020-12/schema",
                     "$id", "urn:vigil:stix-extension:event-report:1.0",
                     "title", "Vigil event report property extension",
                     "type", "object",
                     "required", "extension_type", "event", "start", "location",
                     "additionalProperties", 0, "properties", props);
}

json_t *profile_extension_schema(void)
{
    return extension_schema();
}

json_t *profile_alert_schema(void)
{
    json_t *props = json_object();
    json_object_set_new(props, "extension_type", json_pack("{s:s}", "const",
                                                           "property-extension"));
    json_object_set_new(props, "rule", json_pack("{s:s,s:i}", "type", "string", "minLength", 1));
    json_object_set_new(props, "severity",
                        json_pack("{s:[s,s,s,s]}", "enum", "low", "medium", "high", "critical"));
    json_object_set_new(props, "status",
                        json_pack("{s:[s,s,s,s]}", "enum", "new", "acknowledged", "resolved",
                                  "false_alarm"));
    json_object_set_new(props, "start", json_pack("{s:s,s:s}", "type", "string", "format",
                                                  "date-time"));
    json_object_set_new(props, "end", json_pack("{s:s,s:s}", "type", "string", "format",
                                                "date-time"));
    json_object_set_new(props, "fired_at", json_pack("{s:s,s:s}", "type", "string", "format",
                                                     "date-time"));
    return json_pack("{s:s,s:s,s:s,s:s,s:[s,s,s,s,s,s],s:b,s:o}",
                     "$schema", "https://json-schema.org/draft/2020-12/schema",
                     "$id", "urn:vigil:stix-extension:alert:1.0",
                     "title", "Vigil alert property extension",
                     "type", "object",
                     "required", "extension_type", "rule", "severity", "status", "start", "end",
                     "additionalProperties", 0, "properties", props);
}

json_t *profile_alert_extension_definition(void)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", PROFILE_ALERT_EXT_ID, "created_by_ref", PROFILE_IDENTITY_ID,
        "created", PROFILE_DEFINED, "modified", PROFILE_DEFINED, "name", "Vigil alert",
        "description",
        "An early-warning alert of the Vigil hub on a grouping of the event reports that raise "
        "it: the rule that fired, its severity, the reader's status of it and the time window "
        "of the evidence. See docs/STIX-PROFILE.md of Vigil.",
        "schema", PROFILE_ALERT_SCHEMA_URL, "version", "1.0", "extension_types",
        "property-extension");
}

json_t *profile_incident_schema(void)
{
    json_t *ts = json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
    json_t *point = json_pack("{s:s,s:[s,s],s:b,s:{s:{s:s,s:i,s:i},s:{s:s,s:i,s:i}}}", "type",
                              "object", "required", "lat", "lon", "additionalProperties", 0,
                              "properties", "lat", "type", "number", "minimum", -90, "maximum",
                              90, "lon", "type", "number", "minimum", -180, "maximum", 180);
    json_t *area = json_pack("{s:s,s:[s],s:b,s:{s:{s:s,s:i}}}", "type", "object", "required",
                             "area", "additionalProperties", 0, "properties", "area", "type",
                             "string", "minLength", 1);
    json_t *props = json_pack(
        "{s:{s:s},s:{s:s,s:i},s:{s:s},s:O,s:O,s:{s:[o,o]},s:{s:s,s:i},s:{s:s}}",
        "extension_type", "const", "property-extension", "event", "type", "string", "minLength",
        1, "future", "type", "boolean", "start", ts, "end", ts, "place", "oneOf", point, area,
        "sources", "type", "integer", "minimum", 1, "corroborated", "type", "boolean");
    json_decref(ts);
    return json_pack("{s:s,s:s,s:s,s:s,s:[s,s,s,s,s,s,s,s],s:b,s:o}",
                     "$schema", "https://json-schema.org/draft/2020-12/schema",
                     "$id", "urn:vigil:stix-extension:incident:1.0",
                     "title", "Vigil fused incident property extension",
                     "type", "object",
                     "required", "extension_type", "event", "future", "start", "end", "place",
                     "sources", "corroborated",
                     "additionalProperties", 0, "properties", props);
}

json_t *profile_incident_extension_definition(void)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", PROFILE_INCIDENT_EXT_ID, "created_by_ref",
        PROFILE_IDENTITY_ID, "created", PROFILE_DEFINED, "modified", PROFILE_DEFINED, "name",
        "Vigil fused incident",
        "description",
        "One real event as the Vigil hub's fusion sees it in the event reports a reader may "
        "read, on a grouping of those reports: the event type, the time window and place they "
        "agree on, and how many independent sources report it. See docs/STIX-PROFILE.md of "
        "Vigil.",
        "schema", PROFILE_INCIDENT_SCHEMA_URL, "version", "1.0", "extension_types",
        "property-extension");
}

json_t *profile_extension_definition(void)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s]}", "type", "extension-definition",
        "spec_version", "2.1", "id", PROFILE_EXT_ID, "created_by_ref", PROFILE_IDENTITY_ID,
        "created", PROFILE_DEFINED, "modified", PROFILE_DEFINED, "name",
        "Vigil event report",
        "description",
        "What happened or is expected to happen, when, where, who acted on whom, and the "
        "Admiralty grading of source and information: PLOVER event type and mode, an event "
        "time window with its precision, a point with a precision radius or a named area, "
        "actors, targets, fatalities and injured. See docs/STIX-PROFILE.md of Vigil.",
        "schema", PROFILE_SCHEMA_URL, "version", "1.0", "extension_types",
        "property-extension");
    return o;
}

json_t *profile_identity(void)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "identity", "spec_version",
                     "2.1", "id", PROFILE_IDENTITY_ID, "created", PROFILE_DEFINED, "modified",
                     PROFILE_DEFINED, "name", "Vigil", "description",
                     "The Vigil ceasefire-monitoring hub software: defines the Vigil STIX "
                     "profile's extensions.",
                     "identity_class", "system");
}
