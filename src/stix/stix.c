/* stix.c - STIX 2.1 object validation.
 *
 * One pass over an object: the common properties first (section 3.2 of the specification),
 * then the rules of its type, found by binary search in a sorted table. Nothing here
 * allocates or copies: properties are looked up in jansson's hash table and strings are
 * checked in place, so validation costs a few microseconds per object. Messages are only
 * formatted on the failure path. See docs/internals/stix.md for the decisions taken where the
 * specification leaves room.
 */
#include "stix/stix.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/uuid.h"

#define TYPE_MIN 3
#define TYPE_MAX 250
#define PROP_MAX 250
#define MAX_9 INT64_C(999999999) /* upper bound of count and number_observed */

/* Kind masks for references whose target is constrained by kind rather than by type. */
#define K_SDO (1u << STIX_KIND_SDO)
#define K_SRO (1u << STIX_KIND_SRO)
#define K_SCO (1u << STIX_KIND_SCO)
#define K_META (1u << STIX_KIND_META)
#define K_CUSTOM (1u << STIX_KIND_CUSTOM)

/* The state of one validation: the object, its type name, and where the message goes. */
struct vctx {
    const json_t *o;
    const char *type;
    char *msg;
};

typedef int (*type_check_fn)(struct vctx *c);

struct type_entry {
    const char *name;
    enum stix_kind kind;
    type_check_fn check;
};

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                 */

__attribute__((format(printf, 2, 3))) static int fail(struct vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, STIX_MSG_SZ, fmt, ap);
    va_end(ap);
    return VIGIL_EINVAL;
}

static int missing(struct vctx *c, const char *prop)
{
    return fail(c, "%s: missing required property %s", c->type, prop);
}

/* ---------------------------------------------------------------------------------------- */
/* Names and identifiers                                                                    */

/* A type name: 3-250 characters of [a-z0-9-], no hyphen at either end, no double hyphen. */
static bool type_name_valid(const char *s, size_t len)
{
    if (len < TYPE_MIN || len > TYPE_MAX || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '-') {
            if (s[i + 1] == '-')
                return false;
        } else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) {
            return false;
        }
    }
    return true;
}

bool stix_id_valid(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    if (len < TYPE_MIN + 2 + UUID_STRLEN)
        return false;
    size_t tlen = len - UUID_STRLEN - 2;
    if (s[tlen] != '-' || s[tlen + 1] != '-')
        return false;
    return type_name_valid(s, tlen) && uuid_valid(s + tlen + 2, UUID_STRLEN);
}

/* Length of the type part of an identifier already known to be valid. */
static size_t id_type_len(const char *id)
{
    return strlen(id) - UUID_STRLEN - 2;
}

/* ---------------------------------------------------------------------------------------- */
/* The type table                                                                           */

static int chk_artifact(struct vctx *c);
static int chk_attack_pattern(struct vctx *c);
static int chk_autonomous_system(struct vctx *c);
static int chk_campaign(struct vctx *c);
static int chk_directory(struct vctx *c);
static int chk_domain_name(struct vctx *c);
static int chk_email_addr(struct vctx *c);
static int chk_email_message(struct vctx *c);
static int chk_extension_definition(struct vctx *c);
static int chk_file(struct vctx *c);
static int chk_grouping(struct vctx *c);
static int chk_identity(struct vctx *c);
static int chk_incident(struct vctx *c);
static int chk_indicator(struct vctx *c);
static int chk_infrastructure(struct vctx *c);
static int chk_intrusion_set(struct vctx *c);
static int chk_ip_addr(struct vctx *c);
static int chk_language_content(struct vctx *c);
static int chk_location(struct vctx *c);
static int chk_mac_addr(struct vctx *c);
static int chk_malware(struct vctx *c);
static int chk_malware_analysis(struct vctx *c);
static int chk_marking_definition(struct vctx *c);
static int chk_mutex(struct vctx *c);
static int chk_named(struct vctx *c);
static int chk_network_traffic(struct vctx *c);
static int chk_note(struct vctx *c);
static int chk_observed_data(struct vctx *c);
static int chk_opinion(struct vctx *c);
static int chk_process(struct vctx *c);
static int chk_relationship(struct vctx *c);
static int chk_report(struct vctx *c);
static int chk_sighting(struct vctx *c);
static int chk_software(struct vctx *c);
static int chk_threat_actor(struct vctx *c);
static int chk_tool(struct vctx *c);
static int chk_url(struct vctx *c);
static int chk_user_account(struct vctx *c);
static int chk_windows_registry_key(struct vctx *c);
static int chk_x509_certificate(struct vctx *c);

/* Sorted by strcmp() order: looked up by binary search. */
static const struct type_entry TYPES[] = {
    {"artifact", STIX_KIND_SCO, chk_artifact},
    {"attack-pattern", STIX_KIND_SDO, chk_attack_pattern},
    {"autonomous-system", STIX_KIND_SCO, chk_autonomous_system},
    {"campaign", STIX_KIND_SDO, chk_campaign},
    {"course-of-action", STIX_KIND_SDO, chk_named},
    {"directory", STIX_KIND_SCO, chk_directory},
    {"domain-name", STIX_KIND_SCO, chk_domain_name},
    {"email-addr", STIX_KIND_SCO, chk_email_addr},
    {"email-message", STIX_KIND_SCO, chk_email_message},
    {"extension-definition", STIX_KIND_META, chk_extension_definition},
    {"file", STIX_KIND_SCO, chk_file},
    {"grouping", STIX_KIND_SDO, chk_grouping},
    {"identity", STIX_KIND_SDO, chk_identity},
    {"incident", STIX_KIND_SDO, chk_incident},
    {"indicator", STIX_KIND_SDO, chk_indicator},
    {"infrastructure", STIX_KIND_SDO, chk_infrastructure},
    {"intrusion-set", STIX_KIND_SDO, chk_intrusion_set},
    {"ipv4-addr", STIX_KIND_SCO, chk_ip_addr},
    {"ipv6-addr", STIX_KIND_SCO, chk_ip_addr},
    {"language-content", STIX_KIND_META, chk_language_content},
    {"location", STIX_KIND_SDO, chk_location},
    {"mac-addr", STIX_KIND_SCO, chk_mac_addr},
    {"malware", STIX_KIND_SDO, chk_malware},
    {"malware-analysis", STIX_KIND_SDO, chk_malware_analysis},
    {"marking-definition", STIX_KIND_META, chk_marking_definition},
    {"mutex", STIX_KIND_SCO, chk_mutex},
    {"network-traffic", STIX_KIND_SCO, chk_network_traffic},
    {"note", STIX_KIND_SDO, chk_note},
    {"observed-data", STIX_KIND_SDO, chk_observed_data},
    {"opinion", STIX_KIND_SDO, chk_opinion},
    {"process", STIX_KIND_SCO, chk_process},
    {"relationship", STIX_KIND_SRO, chk_relationship},
    {"report", STIX_KIND_SDO, chk_report},
    {"sighting", STIX_KIND_SRO, chk_sighting},
    {"software", STIX_KIND_SCO, chk_software},
    {"threat-actor", STIX_KIND_SDO, chk_threat_actor},
    {"tool", STIX_KIND_SDO, chk_tool},
    {"url", STIX_KIND_SCO, chk_url},
    {"user-account", STIX_KIND_SCO, chk_user_account},
    {"vulnerability", STIX_KIND_SDO, chk_named},
    {"windows-registry-key", STIX_KIND_SCO, chk_windows_registry_key},
    {"x509-certificate", STIX_KIND_SCO, chk_x509_certificate},
};

#define NTYPES (sizeof TYPES / sizeof TYPES[0])

/* Compares the first len bytes of s (a name without NUL at len) with the NUL-terminated name. */
static int name_cmp(const char *s, size_t len, const char *name)
{
    int r = strncmp(s, name, len);
    if (r)
        return r;
    return name[len] ? -1 : 0;
}

static const struct type_entry *type_find(const char *s, size_t len)
{
    size_t lo = 0, hi = NTYPES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = name_cmp(s, len, TYPES[mid].name);
        if (r == 0)
            return &TYPES[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

enum stix_kind stix_kind_of(const char *type)
{
    if (!type)
        return STIX_KIND_CUSTOM;
    const struct type_entry *e = type_find(type, strlen(type));
    return e ? e->kind : STIX_KIND_CUSTOM;
}

static enum stix_kind kind_of_n(const char *s, size_t len)
{
    const struct type_entry *e = type_find(s, len);
    return e ? e->kind : STIX_KIND_CUSTOM;
}

/* ---------------------------------------------------------------------------------------- */
/* Property checks. Each returns 0 or fails with a message naming the property.             */

/* Target types of references (NULL-terminated lists). */
static const char *const T_IDENTITY[] = {"identity", NULL};
static const char *const T_MARKING[] = {"marking-definition", NULL};
static const char *const T_EXTDEF[] = {"extension-definition", NULL};
static const char *const T_FILE[] = {"file", NULL};
static const char *const T_SOFTWARE[] = {"software", NULL};
static const char *const T_FILE_ARTIFACT[] = {"file", "artifact", NULL};
static const char *const T_SAMPLE[] = {"file", "network-traffic", "artifact", NULL};
static const char *const T_OBSERVED[] = {"observed-data", NULL};
static const char *const T_WHERE[] = {"identity", "location", NULL};
static const char *const T_FILE_DIR[] = {"file", "directory", NULL};
static const char *const T_DIRECTORY[] = {"directory", NULL};
static const char *const T_ARTIFACT[] = {"artifact", NULL};
static const char *const T_RESOLVES[] = {"ipv4-addr", "ipv6-addr", "domain-name", NULL};
static const char *const T_USER[] = {"user-account", NULL};
static const char *const T_EMAIL_ADDR[] = {"email-addr", NULL};
static const char *const T_MAC[] = {"mac-addr", NULL};
static const char *const T_AS[] = {"autonomous-system", NULL};
static const char *const T_ENDPOINT[] = {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name",
                                         NULL};
static const char *const T_TRAFFIC[] = {"network-traffic", NULL};
static const char *const T_PROCESS[] = {"process", NULL};

/* What a reference may point at: a list of types, or a mask of kinds (or neither: any id). */
struct refspec {
    const char *const *types;
    unsigned kinds;
    const char *what; /* for messages: "an identity", "a file or artifact" */
};

static const struct refspec R_ANY = {NULL, 0, "any STIX object"};
static const struct refspec R_IDENTITY = {T_IDENTITY, 0, "an identity"};
static const struct refspec R_MARKING = {T_MARKING, 0, "a marking-definition"};
static const struct refspec R_EXTDEF = {T_EXTDEF, 0, "an extension-definition"};

static bool ref_matches(const char *id, const struct refspec *r)
{
    size_t tlen = id_type_len(id);
    if (r->types) {
        for (const char *const *t = r->types; *t; t++)
            if (name_cmp(id, tlen, *t) == 0)
                return true;
        return false;
    }
    if (r->kinds) /* a bundle is no object: it falls under no kind */
        return name_cmp(id, tlen, "bundle") != 0 && ((r->kinds >> kind_of_n(id, tlen)) & 1u);
    return true;
}

/* Checks one reference value v; label is the property name, index its position or -1. */
static int check_ref_value(struct vctx *c, const char *prop, long index, const json_t *v,
                           const struct refspec *r)
{
    const char *s = json_string_value(v);
    char label[PROP_MAX + 24];
    if (index >= 0)
        snprintf(label, sizeof label, "%s[%ld]", prop, index);
    else
        snprintf(label, sizeof label, "%s", prop);
    if (!s)
        return fail(c, "%s: must be a string holding a STIX identifier", label);
    if (!stix_id_valid(s))
        return fail(c, "%s: \"%.80s\" is not a STIX identifier (<type>--<UUID>)", label, s);
    if (!ref_matches(s, r))
        return fail(c, "%s: must be the identifier of %s, not \"%.80s\"", label, r->what, s);
    return 0;
}

static int chk_ref(struct vctx *c, const char *prop, bool required, const struct refspec *r)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    return check_ref_value(c, prop, -1, v, r);
}

static int chk_refs(struct vctx *c, const char *prop, bool required, const struct refspec *r)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of STIX identifiers", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        int rc = check_ref_value(c, prop, (long)i, e, r);
        if (rc)
            return rc;
    }
    return 0;
}

static int chk_str(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_string(v))
        return fail(c, "%s: must be a string", prop);
    return 0;
}

/* A string that must hold something: identifiers of vocabularies, names of hashes. */
static int chk_nonempty_str(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    const char *s = json_string_value(v);
    if (!s || !*s)
        return fail(c, "%s: must be a non-empty string", prop);
    return 0;
}

static int chk_bool(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_boolean(v))
        return fail(c, "%s: must be true or false", prop);
    return 0;
}

static int chk_int(struct vctx *c, const char *prop, bool required, json_int_t lo, json_int_t hi)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(c, "%s: must be an integer from %" JSON_INTEGER_FORMAT
                       " to %" JSON_INTEGER_FORMAT,
                    prop, lo, hi);
    return 0;
}

/* Non-negative integer without a stated upper bound (sizes, counts). */
static int chk_uint(struct vctx *c, const char *prop)
{
    const json_t *v = json_object_get(c->o, prop);
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
        return fail(c, "%s: must be a non-negative integer", prop);
    return 0;
}

static int chk_dict(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_object(v))
        return fail(c, "%s: must be a dictionary (JSON object)", prop);
    return 0;
}

/* A list of strings; lists in STIX are never empty (section 2.8). */
static int chk_str_list(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of strings", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        const char *s = json_string_value(e);
        if (!s || !*s)
            return fail(c, "%s[%zu]: must be a non-empty string", prop, i);
    }
    return 0;
}

/* A list whose members are JSON objects (values of embedded types). */
static int chk_obj_list(struct vctx *c, const char *prop)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of objects", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_object(e))
            return fail(c, "%s[%zu]: must be an object", prop, i);
    }
    return 0;
}

/* Parses the timestamp property prop if present. *present says whether it was. */
static int get_ts(struct vctx *c, const char *prop, bool required, bool *present, vtime_t *t,
                  int *digits)
{
    const json_t *v = json_object_get(c->o, prop);
    *present = false;
    if (!v)
        return required ? missing(c, prop) : 0;
    const char *s = json_string_value(v);
    if (!s || ts_parsen(s, json_string_length(v), t, digits) != 0)
        return fail(c, "%s: must be an RFC 3339 timestamp in UTC ending in Z, "
                       "like 2016-05-12T08:17:27.000Z",
                    prop);
    *present = true;
    return 0;
}

static int chk_ts(struct vctx *c, const char *prop, bool required)
{
    bool p;
    vtime_t t;
    return get_ts(c, prop, required, &p, &t, NULL);
}

/* Checks two optional timestamps and their order: later >= earlier, or > when strict. */
static int chk_ts_pair(struct vctx *c, const char *earlier, bool req_earlier, const char *later,
                       bool req_later, bool strict)
{
    bool p1, p2;
    vtime_t t1 = 0, t2 = 0;
    int rc = get_ts(c, earlier, req_earlier, &p1, &t1, NULL);
    if (!rc)
        rc = get_ts(c, later, req_later, &p2, &t2, NULL);
    if (rc)
        return rc;
    if (p1 && p2) {
        if (strict && t2 <= t1)
            return fail(c, "%s: must be later than %s", later, earlier);
        if (!strict && t2 < t1)
            return fail(c, "%s: must not be earlier than %s", later, earlier);
    }
    return 0;
}

/* Hashes (section 2.7): a non-empty dictionary of hash algorithm name to string value. */
static int check_hashes_value(struct vctx *c, const char *label, const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(c, "%s: must be a non-empty dictionary of hash values", label);
    const char *k;
    const json_t *h;
    json_object_foreach((json_t *)v, k, h) {
        const char *s = json_string_value(h);
        if (!*k || strlen(k) > PROP_MAX)
            return fail(c, "%s: hash algorithm names must be 1 to 250 characters", label);
        if (!s || !*s)
            return fail(c, "%s: value of \"%.64s\" must be a non-empty string", label, k);
    }
    return 0;
}

static int chk_hashes(struct vctx *c, const char *prop, bool required)
{
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return required ? missing(c, prop) : 0;
    return check_hashes_value(c, prop, v);
}

/* kill_chain_phases (section 2.11): objects with kill_chain_name and phase_name. */
static int chk_kill_chain_phases(struct vctx *c)
{
    static const char prop[] = "kill_chain_phases";
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of kill-chain-phase objects", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_object(e))
            return fail(c, "%s[%zu]: must be an object", prop, i);
        const char *kc = json_string_value(json_object_get(e, "kill_chain_name"));
        const char *ph = json_string_value(json_object_get(e, "phase_name"));
        if (!kc || !*kc)
            return fail(c, "%s[%zu]: kill_chain_name must be a non-empty string", prop, i);
        if (!ph || !*ph)
            return fail(c, "%s[%zu]: phase_name must be a non-empty string", prop, i);
    }
    return 0;
}

/* Checks that an SCO carries at least one property of its own: the spec says so for objects
 * whose properties are all optional (process, user-account, windows-registry-key,
 * x509-certificate). */
static int chk_some_property(struct vctx *c)
{
    static const char *const common[] = {"type", "id", "spec_version", "object_marking_refs",
                                         "granular_markings", "defanged", NULL};
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)c->o, k, v) {
        const char *const *p = common;
        while (*p && strcmp(*p, k) != 0)
            p++;
        if (!*p)
            return 0;
    }
    return fail(c, "%s: must have at least one property besides the common ones", c->type);
}

/* ---------------------------------------------------------------------------------------- */
/* Common properties (section 3.2)                                                          */

/* Property names (section 3.1): ASCII letters, digits and underscore, starting with a letter,
 * at most 250 characters. */
static int chk_property_names(struct vctx *c)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)c->o, k, v) {
        size_t n = 0;
        bool ok = (k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z');
        for (; ok && k[n]; n++) {
            char ch = k[n];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || ch == '_';
        }
        if (!ok || n > PROP_MAX)
            return fail(c, "%.80s: property names must be at most 250 characters of a-z, A-Z, "
                           "0-9 and _, starting with a letter",
                        k);
    }
    return 0;
}

static int chk_external_references(struct vctx *c)
{
    static const char prop[] = "external_references";
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of external-reference objects", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_object(e))
            return fail(c, "%s[%zu]: must be an object", prop, i);
        const char *src = json_string_value(json_object_get(e, "source_name"));
        if (!src || !*src)
            return fail(c, "%s[%zu]: source_name must be a non-empty string", prop, i);
        static const char *const opt[] = {"description", "url", "external_id"};
        bool any = false;
        for (size_t k = 0; k < 3; k++) {
            const json_t *f = json_object_get(e, opt[k]);
            if (!f)
                continue;
            if (!json_is_string(f))
                return fail(c, "%s[%zu]: %s must be a string", prop, i, opt[k]);
            any = true;
        }
        if (!any)
            return fail(c, "%s[%zu]: needs at least one of description, url or external_id",
                        prop, i);
        const json_t *h = json_object_get(e, "hashes");
        if (h) {
            char label[64];
            snprintf(label, sizeof label, "%s[%zu].hashes", prop, i);
            int rc = check_hashes_value(c, label, h);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* A selector (section 7.2.3.1): property names and [index] steps joined by dots. */
static bool selector_valid(const char *s)
{
    if (!*s)
        return false;
    while (*s) {
        const char *seg = s;
        if (*s == '[') {
            s++;
            if (*s < '0' || *s > '9')
                return false;
            while (*s >= '0' && *s <= '9')
                s++;
            if (*s++ != ']')
                return false;
        } else {
            while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
                s++;
            if (s == seg)
                return false;
        }
        if (*s == '.') {
            s++;
            if (!*s)
                return false;
        } else if (*s) {
            return false;
        }
    }
    return true;
}

static int chk_granular_markings(struct vctx *c)
{
    static const char prop[] = "granular_markings";
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "%s: must be a non-empty list of granular-marking objects", prop);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_object(e))
            return fail(c, "%s[%zu]: must be an object", prop, i);
        const json_t *sel = json_object_get(e, "selectors");
        if (!json_is_array(sel) || json_array_size(sel) == 0)
            return fail(c, "%s[%zu]: selectors must be a non-empty list of strings", prop, i);
        size_t j;
        const json_t *s;
        json_array_foreach(sel, j, s) {
            const char *str = json_string_value(s);
            if (!str || !selector_valid(str))
                return fail(c, "%s[%zu]: selectors[%zu] is not a valid selector", prop, i, j);
        }
        const json_t *mref = json_object_get(e, "marking_ref");
        const json_t *lang = json_object_get(e, "lang");
        if ((mref != NULL) == (lang != NULL))
            return fail(c, "%s[%zu]: must have exactly one of marking_ref and lang", prop, i);
        if (lang && !json_is_string(lang))
            return fail(c, "%s[%zu]: lang must be a string", prop, i);
        if (mref) {
            const char *id = json_string_value(mref);
            if (!id || !stix_id_valid(id) || !ref_matches(id, &R_MARKING))
                return fail(c, "%s[%zu]: marking_ref must be a marking-definition identifier",
                            prop, i);
        }
    }
    return 0;
}

/* extensions (section 3.2, 7.3): keys are extension-definition ids or predefined names ending
 * in "-ext"; values are objects. */
static int chk_extensions(struct vctx *c)
{
    static const char prop[] = "extensions";
    const json_t *v = json_object_get(c->o, prop);
    if (!v)
        return 0;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(c, "%s: must be a non-empty dictionary", prop);
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        size_t n = strlen(k);
        bool by_id = stix_id_valid(k) && ref_matches(k, &R_EXTDEF);
        bool by_name = n > 4 && n <= PROP_MAX && strcmp(k + n - 4, "-ext") == 0;
        if (!by_id && !by_name)
            return fail(c, "%s: key \"%.80s\" is neither an extension-definition identifier "
                           "nor a name ending in -ext",
                        prop, k);
        if (!json_is_object(e))
            return fail(c, "%s: value of \"%.80s\" must be an object", prop, k);
    }
    return 0;
}

static const char SPEC_21[] = "2.1";

static int chk_common(struct vctx *c, enum stix_kind kind, struct stix_common *out)
{
    const json_t *o = c->o;
    int rc = chk_property_names(c);
    if (rc)
        return rc;

    /* spec_version: required but on SCOs; custom objects are SDO-like when they carry
     * created or modified, SCO-like otherwise (see docs/internals/stix.md). */
    bool sdo_like = kind != STIX_KIND_SCO;
    if (kind == STIX_KIND_CUSTOM)
        sdo_like = json_object_get(o, "created") || json_object_get(o, "modified");
    const json_t *sv = json_object_get(o, "spec_version");
    if (!sv) {
        if (sdo_like)
            return fail(c, "%s: missing required property spec_version (STIX 2.0 objects, "
                           "which lack it, are not accepted)",
                        c->type);
        out->spec_version = SPEC_21;
    } else {
        const char *s = json_string_value(sv);
        if (!s)
            return fail(c, "spec_version: must be the string \"2.1\"");
        if (strcmp(s, SPEC_21) != 0)
            return fail(c, "spec_version: \"%.32s\" is not supported; only STIX 2.1 is accepted",
                        s);
        out->spec_version = s;
    }

    /* id */
    const json_t *idv = json_object_get(o, "id");
    if (!idv)
        return missing(c, "id");
    const char *id = json_string_value(idv);
    if (!id)
        return fail(c, "id: must be a string");
    if (!stix_id_valid(id))
        return fail(c, "id: \"%.80s\" is not a STIX identifier (<type>--<UUID>)", id);
    size_t tlen = id_type_len(id);
    if (name_cmp(id, tlen, c->type) != 0)
        return fail(c, "id: type prefix \"%.*s\" does not match type \"%s\"", (int)tlen, id,
                    c->type);
    out->id = id;

    /* created / modified */
    bool need_created = sdo_like;
    bool need_modified = sdo_like && kind != STIX_KIND_META;
    if (kind == STIX_KIND_META && strcmp(c->type, "marking-definition") != 0)
        need_modified = true; /* language-content and extension-definition are versioned */
    if (sdo_like) {
        int digits = 0;
        rc = get_ts(c, "created", need_created, &out->has_created, &out->created, &digits);
        if (rc)
            return rc;
        if (out->has_created && digits < 3)
            return fail(c, "created: must be precise to at least the millisecond "
                           "(three fraction digits, like 2016-05-12T08:17:27.000Z)");
        rc = get_ts(c, "modified", need_modified, &out->has_modified, &out->modified, &digits);
        if (rc)
            return rc;
        if (out->has_modified && digits < 3)
            return fail(c, "modified: must be precise to at least the millisecond "
                           "(three fraction digits, like 2016-05-12T08:17:27.000Z)");
        if (out->has_created && out->has_modified && out->modified < out->created)
            return fail(c, "modified: must not be earlier than created");
    }

    /* Properties common to SDOs, SROs and the meta objects; SCOs do not define them. */
    if (kind != STIX_KIND_SCO) {
        if ((rc = chk_ref(c, "created_by_ref", false, &R_IDENTITY)) ||
            (rc = chk_bool(c, "revoked", false)) || (rc = chk_str_list(c, "labels", false)) ||
            (rc = chk_int(c, "confidence", false, 0, 100)) ||
            (rc = chk_str(c, "lang", false)) || (rc = chk_external_references(c)))
            return rc;
        out->revoked = json_is_true(json_object_get(o, "revoked"));
    } else if ((rc = chk_bool(c, "defanged", false))) {
        return rc;
    }

    if ((rc = chk_refs(c, "object_marking_refs", false, &R_MARKING)) ||
        (rc = chk_granular_markings(c)) || (rc = chk_extensions(c)))
        return rc;
    out->object_marking_refs = json_object_get(o, "object_marking_refs");
    return 0;
}

int stix_validate(const json_t *obj, struct stix_common *out, char msg[STIX_MSG_SZ])
{
    char scratch[STIX_MSG_SZ];
    struct stix_common local;
    struct vctx c = {obj, "object", msg ? msg : scratch};
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    c.msg[0] = '\0';

    if (!json_is_object(obj))
        return fail(&c, "object: a STIX object must be a JSON object");
    const json_t *tv = json_object_get(obj, "type");
    if (!tv)
        return fail(&c, "type: missing required property");
    const char *type = json_string_value(tv);
    if (!type)
        return fail(&c, "type: must be a string");
    size_t tlen = json_string_length(tv);
    if (!type_name_valid(type, tlen))
        return fail(&c, "type: \"%.80s\" is not a valid type name (3-250 characters of a-z, "
                        "0-9 and single hyphens inside)",
                    type);
    c.type = type;
    if (strcmp(type, "bundle") == 0)
        return fail(&c, "bundle: a bundle is an envelope, not a STIX object");

    const struct type_entry *e = type_find(type, tlen);
    out->type = type;
    out->kind = e ? e->kind : STIX_KIND_CUSTOM;
    int rc = chk_common(&c, out->kind, out);
    if (!rc && e)
        rc = e->check(&c);
    return rc;
}

int stix_bundle_check(const json_t *bundle, char msg[STIX_MSG_SZ])
{
    char scratch[STIX_MSG_SZ];
    struct vctx c = {bundle, "bundle", msg ? msg : scratch};
    c.msg[0] = '\0';
    if (!json_is_object(bundle))
        return fail(&c, "bundle: must be a JSON object");
    const char *type = json_string_value(json_object_get(bundle, "type"));
    if (!type)
        return fail(&c, "type: missing; a bundle has type \"bundle\"");
    if (strcmp(type, "bundle") != 0)
        return fail(&c, "type: \"%.80s\" is not \"bundle\"", type);
    const json_t *idv = json_object_get(bundle, "id");
    if (!idv)
        return missing(&c, "id");
    const char *id = json_string_value(idv);
    if (!id || !stix_id_valid(id) || strncmp(id, "bundle--", 8) != 0)
        return fail(&c, "id: must be \"bundle--<UUID>\"");
    const json_t *sv = json_object_get(bundle, "spec_version");
    if (sv) {
        const char *s = json_string_value(sv);
        return fail(&c, "spec_version: a STIX 2.1 bundle has none; \"%.32s\" marks a STIX 2.0 "
                        "bundle, which is not accepted",
                    s ? s : "(not a string)");
    }
    const json_t *objs = json_object_get(bundle, "objects");
    if (!objs)
        return 0;
    if (!json_is_array(objs) || json_array_size(objs) == 0)
        return fail(&c, "objects: must be a non-empty list of STIX objects");
    size_t i;
    const json_t *o;
    json_array_foreach(objs, i, o) {
        if (!json_is_object(o))
            return fail(&c, "objects[%zu]: must be a JSON object", i);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* STIX Domain Objects (section 4)                                                          */

static const struct refspec R_SOFTWARE = {T_SOFTWARE, 0, "a software object"};

/* attack-pattern, campaign, course-of-action, identity, ...: a required name. */
static int chk_named(struct vctx *c)
{
    return chk_str(c, "name", true);
}

static int chk_attack_pattern(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "aliases", false)) ||
        (rc = chk_kill_chain_phases(c)))
        return rc;
    return 0;
}

static int chk_campaign(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "aliases", false)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)) ||
        (rc = chk_str(c, "objective", false)))
        return rc;
    return 0;
}

static int chk_grouping(struct vctx *c)
{
    int rc;
    if ((rc = chk_nonempty_str(c, "context", true)) ||
        (rc = chk_refs(c, "object_refs", true, &R_ANY)))
        return rc;
    return 0;
}

static int chk_identity(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str(c, "identity_class", false)) ||
        (rc = chk_str_list(c, "sectors", false)) || (rc = chk_str_list(c, "roles", false)))
        return rc;
    return 0;
}

static int chk_incident(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_kill_chain_phases(c)))
        return rc;
    return 0;
}

static int chk_indicator(struct vctx *c)
{
    int rc;
    if ((rc = chk_nonempty_str(c, "pattern", true)) ||
        (rc = chk_nonempty_str(c, "pattern_type", true)) ||
        (rc = chk_str(c, "pattern_version", false)) ||
        (rc = chk_ts_pair(c, "valid_from", true, "valid_until", false, true)) ||
        (rc = chk_str_list(c, "indicator_types", false)) || (rc = chk_kill_chain_phases(c)))
        return rc;
    return 0;
}

static int chk_infrastructure(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "infrastructure_types", false)) ||
        (rc = chk_str_list(c, "aliases", false)) || (rc = chk_kill_chain_phases(c)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)))
        return rc;
    return 0;
}

static int chk_intrusion_set(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "aliases", false)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)) ||
        (rc = chk_str_list(c, "goals", false)))
        return rc;
    return 0;
}

/* A number (integer or real) within [lo, hi]; *present tells whether the property exists. */
static int chk_coord(struct vctx *c, const char *prop, double lo, double hi, bool *present)
{
    const json_t *v = json_object_get(c->o, prop);
    *present = v != NULL;
    if (!v)
        return 0;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi)) {
        if (hi == HUGE_VAL)
            return fail(c, "%s: must be a non-negative number", prop);
        return fail(c, "%s: must be a number from %g to %g", prop, lo, hi);
    }
    return 0;
}

static int chk_location(struct vctx *c)
{
    bool has_lat, has_lon, has_prec;
    int rc;
    if ((rc = chk_coord(c, "latitude", -90.0, 90.0, &has_lat)) ||
        (rc = chk_coord(c, "longitude", -180.0, 180.0, &has_lon)) ||
        (rc = chk_coord(c, "precision", 0.0, HUGE_VAL, &has_prec)))
        return rc;
    if (has_lat != has_lon)
        return fail(c, "%s: requires %s as well", has_lat ? "latitude" : "longitude",
                    has_lat ? "longitude" : "latitude");
    if (has_prec && !has_lat)
        return fail(c, "precision: requires latitude and longitude");
    if ((rc = chk_nonempty_str(c, "region", false)) ||
        (rc = chk_nonempty_str(c, "country", false)))
        return rc;
    if (!has_lat && !json_object_get(c->o, "region") && !json_object_get(c->o, "country"))
        return fail(c, "location: needs region, country, or latitude and longitude");
    static const char *const strs[] = {"name", "description", "administrative_area", "city",
                                       "street_address", "postal_code"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if ((rc = chk_str(c, strs[i], false)))
            return rc;
    return 0;
}

static int chk_malware(struct vctx *c)
{
    static const struct refspec samples = {T_FILE_ARTIFACT, 0, "a file or artifact"};
    int rc;
    if ((rc = chk_bool(c, "is_family", true)))
        return rc;
    if (json_is_true(json_object_get(c->o, "is_family")) && !json_object_get(c->o, "name"))
        return fail(c, "malware: name is required when is_family is true");
    if ((rc = chk_str(c, "name", false)) || (rc = chk_str_list(c, "malware_types", false)) ||
        (rc = chk_str_list(c, "aliases", false)) || (rc = chk_kill_chain_phases(c)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)) ||
        (rc = chk_refs(c, "operating_system_refs", false, &R_SOFTWARE)) ||
        (rc = chk_refs(c, "sample_refs", false, &samples)) ||
        (rc = chk_str_list(c, "architecture_execution_envs", false)) ||
        (rc = chk_str_list(c, "implementation_languages", false)) ||
        (rc = chk_str_list(c, "capabilities", false)))
        return rc;
    return 0;
}

static int chk_malware_analysis(struct vctx *c)
{
    static const struct refspec sample = {T_SAMPLE, 0, "a file, network-traffic or artifact"};
    static const struct refspec scos = {NULL, K_SCO | K_CUSTOM, "a STIX Cyber-observable"};
    int rc;
    if ((rc = chk_nonempty_str(c, "product", true)) || (rc = chk_str(c, "version", false)) ||
        (rc = chk_ref(c, "host_vm_ref", false, &R_SOFTWARE)) ||
        (rc = chk_ref(c, "operating_system_ref", false, &R_SOFTWARE)) ||
        (rc = chk_refs(c, "installed_software_refs", false, &R_SOFTWARE)) ||
        (rc = chk_ts(c, "submitted", false)) ||
        (rc = chk_ts_pair(c, "analysis_started", false, "analysis_ended", false, false)) ||
        (rc = chk_str(c, "result_name", false)) || (rc = chk_str(c, "result", false)) ||
        (rc = chk_refs(c, "analysis_sco_refs", false, &scos)) ||
        (rc = chk_ref(c, "sample_ref", false, &sample)))
        return rc;
    if (!json_object_get(c->o, "result") && !json_object_get(c->o, "analysis_sco_refs"))
        return fail(c, "malware-analysis: needs at least one of result and analysis_sco_refs");
    return 0;
}

static int chk_note(struct vctx *c)
{
    int rc;
    if ((rc = chk_str(c, "abstract", false)) || (rc = chk_str(c, "content", true)) ||
        (rc = chk_str_list(c, "authors", false)) ||
        (rc = chk_refs(c, "object_refs", true, &R_ANY)))
        return rc;
    return 0;
}

static int chk_observed_data(struct vctx *c)
{
    int rc;
    if ((rc = chk_ts_pair(c, "first_observed", true, "last_observed", true, false)) ||
        (rc = chk_int(c, "number_observed", true, 1, MAX_9)) ||
        (rc = chk_refs(c, "object_refs", false, &R_ANY)) || (rc = chk_dict(c, "objects", false)))
        return rc;
    bool refs = json_object_get(c->o, "object_refs") != NULL;
    bool objs = json_object_get(c->o, "objects") != NULL;
    if (refs == objs)
        return fail(c, "observed-data: must have exactly one of object_refs and objects "
                       "(deprecated)");
    return 0;
}

static int chk_opinion(struct vctx *c)
{
    static const char *const values[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                         "strongly-agree"};
    const json_t *v = json_object_get(c->o, "opinion");
    if (!v)
        return missing(c, "opinion");
    const char *s = json_string_value(v);
    size_t i = 0;
    while (s && i < sizeof values / sizeof values[0] && strcmp(s, values[i]) != 0)
        i++;
    if (!s || i == sizeof values / sizeof values[0])
        return fail(c, "opinion: must be one of strongly-disagree, disagree, neutral, agree, "
                       "strongly-agree");
    int rc;
    if ((rc = chk_str(c, "explanation", false)) || (rc = chk_str_list(c, "authors", false)) ||
        (rc = chk_refs(c, "object_refs", true, &R_ANY)))
        return rc;
    return 0;
}

static int chk_report(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "report_types", false)) ||
        (rc = chk_ts(c, "published", true)) || (rc = chk_refs(c, "object_refs", true, &R_ANY)))
        return rc;
    return 0;
}

static int chk_threat_actor(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "threat_actor_types", false)) ||
        (rc = chk_str_list(c, "aliases", false)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)) ||
        (rc = chk_str_list(c, "roles", false)) || (rc = chk_str_list(c, "goals", false)) ||
        (rc = chk_str_list(c, "secondary_motivations", false)) ||
        (rc = chk_str_list(c, "personal_motivations", false)))
        return rc;
    return 0;
}

static int chk_tool(struct vctx *c)
{
    int rc;
    if ((rc = chk_named(c)) || (rc = chk_str_list(c, "tool_types", false)) ||
        (rc = chk_str_list(c, "aliases", false)) || (rc = chk_kill_chain_phases(c)) ||
        (rc = chk_str(c, "tool_version", false)))
        return rc;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* STIX Relationship Objects (section 5)                                                    */

static int chk_relationship(struct vctx *c)
{
    static const struct refspec ends = {NULL, K_SDO | K_SCO | K_CUSTOM,
                                        "an SDO, SCO or custom object"};
    const json_t *v = json_object_get(c->o, "relationship_type");
    if (!v)
        return missing(c, "relationship_type");
    const char *s = json_string_value(v);
    bool ok = s && *s;
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
    if (!ok)
        return fail(c, "relationship_type: must be a non-empty string of a-z, 0-9 and -");
    int rc;
    if ((rc = chk_ref(c, "source_ref", true, &ends)) ||
        (rc = chk_ref(c, "target_ref", true, &ends)) ||
        (rc = chk_ts_pair(c, "start_time", false, "stop_time", false, true)))
        return rc;
    return 0;
}

static int chk_sighting(struct vctx *c)
{
    static const struct refspec of = {NULL, K_SDO | K_CUSTOM, "an SDO or custom object"};
    static const struct refspec obs = {T_OBSERVED, 0, "an observed-data"};
    static const struct refspec where = {T_WHERE, 0, "an identity or location"};
    int rc;
    if ((rc = chk_ref(c, "sighting_of_ref", true, &of)) ||
        (rc = chk_ts_pair(c, "first_seen", false, "last_seen", false, false)) ||
        (rc = chk_int(c, "count", false, 0, MAX_9)) ||
        (rc = chk_refs(c, "observed_data_refs", false, &obs)) ||
        (rc = chk_refs(c, "where_sighted_refs", false, &where)) ||
        (rc = chk_bool(c, "summary", false)))
        return rc;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Meta objects (section 7)                                                                 */

static int chk_marking_definition(struct vctx *c)
{
    const json_t *dt = json_object_get(c->o, "definition_type");
    const json_t *def = json_object_get(c->o, "definition");
    int rc;
    if ((rc = chk_str(c, "name", false)))
        return rc;
    if (!dt && !def) {
        /* A marking defined through an extension (like TLP 2.0) has neither. */
        if (!json_object_get(c->o, "extensions"))
            return fail(c, "marking-definition: needs definition_type and definition, or "
                           "extensions");
        return 0;
    }
    if (!dt)
        return missing(c, "definition_type");
    if (!def)
        return missing(c, "definition");
    const char *type = json_string_value(dt);
    if (!type || !*type)
        return fail(c, "definition_type: must be a non-empty string");
    if (!json_is_object(def))
        return fail(c, "definition: must be an object");
    if (strcmp(type, "tlp") == 0) {
        const char *tlp = json_string_value(json_object_get(def, "tlp"));
        if (!tlp || (strcmp(tlp, "white") != 0 && strcmp(tlp, "green") != 0 &&
                     strcmp(tlp, "amber") != 0 && strcmp(tlp, "red") != 0))
            return fail(c, "definition: tlp must be one of white, green, amber, red");
    } else if (strcmp(type, "statement") == 0) {
        if (!json_is_string(json_object_get(def, "statement")))
            return fail(c, "definition: statement must be a string");
    }
    return 0;
}

static int chk_language_content(struct vctx *c)
{
    int rc;
    if ((rc = chk_ref(c, "object_ref", true, &R_ANY)) ||
        (rc = chk_ts(c, "object_modified", false)))
        return rc;
    const json_t *v = json_object_get(c->o, "contents");
    if (!v)
        return missing(c, "contents");
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(c, "contents: must be a non-empty dictionary keyed by language code");
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        if (!json_is_object(e))
            return fail(c, "contents: value of \"%.32s\" must be a dictionary", k);
    }
    return 0;
}

static int chk_extension_definition(struct vctx *c)
{
    static const char *const ext_types[] = {"new-sdo", "new-sco", "new-sro",
                                            "property-extension",
                                            "toplevel-property-extension"};
    int rc;
    if ((rc = chk_ref(c, "created_by_ref", true, &R_IDENTITY)) ||
        (rc = chk_nonempty_str(c, "name", true)) || (rc = chk_str(c, "description", false)) ||
        (rc = chk_nonempty_str(c, "schema", true)) ||
        (rc = chk_nonempty_str(c, "version", true)) ||
        (rc = chk_str_list(c, "extension_types", true)) ||
        (rc = chk_str_list(c, "extension_properties", false)))
        return rc;
    bool toplevel = false;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(c->o, "extension_types"), i, e) {
        const char *s = json_string_value(e);
        size_t k = 0;
        while (k < 5 && strcmp(s, ext_types[k]) != 0)
            k++;
        if (k == 5)
            return fail(c, "extension_types[%zu]: \"%.64s\" is not one of new-sdo, new-sco, "
                           "new-sro, property-extension, toplevel-property-extension",
                        i, s);
        toplevel |= k == 4;
    }
    if (!toplevel && json_object_get(c->o, "extension_properties"))
        return fail(c, "extension_properties: only allowed with toplevel-property-extension");
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* STIX Cyber-observable Objects (section 6)                                                */

static bool base64_valid(const char *s, size_t len)
{
    if (len % 4)
        return false;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '=') {
            pad++;
            continue;
        }
        if (pad || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return false;
    }
    return pad <= 2;
}

static int chk_artifact(struct vctx *c)
{
    const json_t *bin = json_object_get(c->o, "payload_bin");
    const json_t *url = json_object_get(c->o, "url");
    if (bin && url)
        return fail(c, "artifact: payload_bin and url must not both be present");
    if (!bin && !url)
        return fail(c, "artifact: needs one of payload_bin and url");
    if (bin && (!json_is_string(bin) ||
                !base64_valid(json_string_value(bin), json_string_length(bin))))
        return fail(c, "payload_bin: must be base64 text (RFC 4648)");
    int rc;
    if ((rc = chk_str(c, "url", false)) || (rc = chk_hashes(c, "hashes", url != NULL)) ||
        (rc = chk_str(c, "mime_type", false)) ||
        (rc = chk_str(c, "encryption_algorithm", false)) ||
        (rc = chk_str(c, "decryption_key", false)))
        return rc;
    if (json_object_get(c->o, "decryption_key") &&
        !json_object_get(c->o, "encryption_algorithm"))
        return fail(c, "decryption_key: must not be present without encryption_algorithm");
    return 0;
}

static int chk_autonomous_system(struct vctx *c)
{
    int rc;
    if ((rc = chk_int(c, "number", true, 0, INT64_C(4294967295))) ||
        (rc = chk_str(c, "name", false)) || (rc = chk_str(c, "rir", false)))
        return rc;
    return 0;
}

static int chk_file_times(struct vctx *c)
{
    int rc;
    if ((rc = chk_ts(c, "ctime", false)) || (rc = chk_ts(c, "mtime", false)) ||
        (rc = chk_ts(c, "atime", false)))
        return rc;
    return 0;
}

static int chk_directory(struct vctx *c)
{
    static const struct refspec contains = {T_FILE_DIR, 0, "a file or directory"};
    int rc;
    if ((rc = chk_str(c, "path", true)) || (rc = chk_str(c, "path_enc", false)) ||
        (rc = chk_file_times(c)) || (rc = chk_refs(c, "contains_refs", false, &contains)))
        return rc;
    return 0;
}

static int chk_domain_name(struct vctx *c)
{
    static const struct refspec resolves = {T_RESOLVES, 0, "an ipv4-addr, ipv6-addr or "
                                                           "domain-name"};
    int rc;
    if ((rc = chk_nonempty_str(c, "value", true)) ||
        (rc = chk_refs(c, "resolves_to_refs", false, &resolves)))
        return rc;
    return 0;
}

static int chk_email_addr(struct vctx *c)
{
    static const struct refspec user = {T_USER, 0, "a user-account"};
    int rc;
    if ((rc = chk_nonempty_str(c, "value", true)) || (rc = chk_str(c, "display_name", false)) ||
        (rc = chk_ref(c, "belongs_to_ref", false, &user)))
        return rc;
    return 0;
}

static int chk_email_message(struct vctx *c)
{
    static const struct refspec addr = {T_EMAIL_ADDR, 0, "an email-addr"};
    static const struct refspec raw = {T_ARTIFACT, 0, "an artifact"};
    int rc;
    if ((rc = chk_bool(c, "is_multipart", true)))
        return rc;
    bool multi = json_is_true(json_object_get(c->o, "is_multipart"));
    if (multi && json_object_get(c->o, "body"))
        return fail(c, "body: must not be present when is_multipart is true");
    if (!multi && json_object_get(c->o, "body_multipart"))
        return fail(c, "body_multipart: must not be present when is_multipart is false");
    if ((rc = chk_ts(c, "date", false)) || (rc = chk_str(c, "content_type", false)) ||
        (rc = chk_ref(c, "from_ref", false, &addr)) ||
        (rc = chk_ref(c, "sender_ref", false, &addr)) ||
        (rc = chk_refs(c, "to_refs", false, &addr)) ||
        (rc = chk_refs(c, "cc_refs", false, &addr)) ||
        (rc = chk_refs(c, "bcc_refs", false, &addr)) ||
        (rc = chk_str(c, "subject", false)) || (rc = chk_str(c, "body", false)) ||
        (rc = chk_obj_list(c, "body_multipart")) ||
        (rc = chk_ref(c, "raw_email_ref", false, &raw)))
        return rc;
    return 0;
}

static int chk_file(struct vctx *c)
{
    static const struct refspec parent = {T_DIRECTORY, 0, "a directory"};
    static const struct refspec content = {T_ARTIFACT, 0, "an artifact"};
    int rc;
    if (!json_object_get(c->o, "hashes") && !json_object_get(c->o, "name"))
        return fail(c, "file: needs at least one of hashes and name");
    if ((rc = chk_hashes(c, "hashes", false)) || (rc = chk_str(c, "name", false)) ||
        (rc = chk_uint(c, "size")) || (rc = chk_str(c, "name_enc", false)) ||
        (rc = chk_str(c, "mime_type", false)) || (rc = chk_file_times(c)) ||
        (rc = chk_ref(c, "parent_directory_ref", false, &parent)) ||
        (rc = chk_refs(c, "contains_refs", false, &R_ANY)) ||
        (rc = chk_ref(c, "content_ref", false, &content)))
        return rc;
    return 0;
}

static int chk_ip_addr(struct vctx *c)
{
    static const struct refspec mac = {T_MAC, 0, "a mac-addr"};
    static const struct refspec as = {T_AS, 0, "an autonomous-system"};
    int rc;
    if ((rc = chk_nonempty_str(c, "value", true)) ||
        (rc = chk_refs(c, "resolves_to_refs", false, &mac)) ||
        (rc = chk_refs(c, "belongs_to_refs", false, &as)))
        return rc;
    return 0;
}

/* mac-addr value: colon-delimited, lowercase MAC-48 with leading zeros (section 6.9). */
static int chk_mac_addr(struct vctx *c)
{
    const json_t *v = json_object_get(c->o, "value");
    if (!v)
        return missing(c, "value");
    const char *s = json_string_value(v);
    bool ok = s && json_string_length(v) == 17;
    for (size_t i = 0; ok && i < 17; i++) {
        char ch = s[i];
        ok = i % 3 == 2 ? ch == ':' : ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
    }
    if (!ok)
        return fail(c, "value: must be a lowercase, colon-delimited MAC-48 address "
                       "like 00:1a:2b:3c:4d:5e");
    return 0;
}

static int chk_mutex(struct vctx *c)
{
    return chk_str(c, "name", true);
}

static int chk_network_traffic(struct vctx *c)
{
    static const struct refspec end = {T_ENDPOINT, 0,
                                       "an ipv4-addr, ipv6-addr, mac-addr or domain-name"};
    static const struct refspec traffic = {T_TRAFFIC, 0, "a network-traffic"};
    static const struct refspec artifact = {T_ARTIFACT, 0, "an artifact"};
    int rc;
    if ((rc = chk_str_list(c, "protocols", true)) ||
        (rc = chk_ts_pair(c, "start", false, "end", false, false)) ||
        (rc = chk_bool(c, "is_active", false)) || (rc = chk_ref(c, "src_ref", false, &end)) ||
        (rc = chk_ref(c, "dst_ref", false, &end)) ||
        (rc = chk_int(c, "src_port", false, 0, 65535)) ||
        (rc = chk_int(c, "dst_port", false, 0, 65535)) || (rc = chk_uint(c, "src_byte_count")) ||
        (rc = chk_uint(c, "dst_byte_count")) || (rc = chk_uint(c, "src_packets")) ||
        (rc = chk_uint(c, "dst_packets")) || (rc = chk_dict(c, "ipfix", false)) ||
        (rc = chk_ref(c, "src_payload_ref", false, &artifact)) ||
        (rc = chk_ref(c, "dst_payload_ref", false, &artifact)) ||
        (rc = chk_refs(c, "encapsulates_refs", false, &traffic)) ||
        (rc = chk_ref(c, "encapsulated_by_ref", false, &traffic)))
        return rc;
    if (!json_object_get(c->o, "src_ref") && !json_object_get(c->o, "dst_ref"))
        return fail(c, "network-traffic: needs at least one of src_ref and dst_ref");
    if (json_is_true(json_object_get(c->o, "is_active")) && json_object_get(c->o, "end"))
        return fail(c, "end: must not be present when is_active is true");
    return 0;
}

static int chk_process(struct vctx *c)
{
    static const struct refspec proc = {T_PROCESS, 0, "a process"};
    static const struct refspec file = {T_FILE, 0, "a file"};
    static const struct refspec conn = {T_TRAFFIC, 0, "a network-traffic"};
    static const struct refspec user = {T_USER, 0, "a user-account"};
    int rc;
    if ((rc = chk_some_property(c)) || (rc = chk_bool(c, "is_hidden", false)) ||
        (rc = chk_int(c, "pid", false, 0, INT64_C(4294967295))) ||
        (rc = chk_ts(c, "created_time", false)) || (rc = chk_str(c, "cwd", false)) ||
        (rc = chk_str(c, "command_line", false)) ||
        (rc = chk_dict(c, "environment_variables", false)) ||
        (rc = chk_refs(c, "opened_connection_refs", false, &conn)) ||
        (rc = chk_ref(c, "creator_user_ref", false, &user)) ||
        (rc = chk_ref(c, "image_ref", false, &file)) ||
        (rc = chk_ref(c, "parent_ref", false, &proc)) ||
        (rc = chk_refs(c, "child_refs", false, &proc)))
        return rc;
    return 0;
}

static int chk_software(struct vctx *c)
{
    int rc;
    if ((rc = chk_str(c, "name", true)) || (rc = chk_str(c, "cpe", false)) ||
        (rc = chk_str(c, "swid", false)) || (rc = chk_str_list(c, "languages", false)) ||
        (rc = chk_str(c, "vendor", false)) || (rc = chk_str(c, "version", false)))
        return rc;
    return 0;
}

static int chk_url(struct vctx *c)
{
    return chk_nonempty_str(c, "value", true);
}

static int chk_user_account(struct vctx *c)
{
    static const char *const bools[] = {"is_service_account", "is_privileged", "can_escalate_privs",
                                        "is_disabled"};
    static const char *const times[] = {"account_created", "account_expires",
                                        "credential_last_changed", "account_first_login",
                                        "account_last_login"};
    int rc = chk_some_property(c);
    for (size_t i = 0; !rc && i < sizeof bools / sizeof bools[0]; i++)
        rc = chk_bool(c, bools[i], false);
    for (size_t i = 0; !rc && i < sizeof times / sizeof times[0]; i++)
        rc = chk_ts(c, times[i], false);
    return rc;
}

static int chk_windows_registry_key(struct vctx *c)
{
    static const struct refspec user = {T_USER, 0, "a user-account"};
    int rc;
    if ((rc = chk_some_property(c)) || (rc = chk_str(c, "key", false)) ||
        (rc = chk_obj_list(c, "values")) || (rc = chk_ts(c, "modified_time", false)) ||
        (rc = chk_ref(c, "creator_user_ref", false, &user)) ||
        (rc = chk_uint(c, "number_of_subkeys")))
        return rc;
    return 0;
}

static int chk_x509_certificate(struct vctx *c)
{
    int rc;
    if ((rc = chk_some_property(c)) || (rc = chk_bool(c, "is_self_signed", false)) ||
        (rc = chk_hashes(c, "hashes", false)) ||
        (rc = chk_ts_pair(c, "validity_not_before", false, "validity_not_after", false,
                          false)) ||
        (rc = chk_uint(c, "subject_public_key_exponent")))
        return rc;
    return 0;
}
