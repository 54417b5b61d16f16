/* agreement.c - the agreement file: parse, validate, STIX, and the candidate test. */
#include "compliance/agreement.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/json.h"
#include "base/uuid.h"
#include "base/xalloc.h"

static const char *const kind_names[] = {"buffer-zone", "withdrawal-line", "no-fire-area",
                                         "humanitarian-corridor", "monitoring-post"};

const char *cmp_zone_kind_name(enum cmp_zone_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

/* ---- parsing --------------------------------------------------------------------------- */

struct pctx {
    char *msg;
};

__attribute__((format(printf, 2, 3))) static int fail(struct pctx *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, CMP_MSG_SZ, fmt, ap);
    va_end(ap);
    return VIGIL_EINVAL;
}

/* Refuses members of obj not in fields. */
static int only(struct pctx *p, const json_t *obj, const char *where, const char *const *fields)
{
    const char *key;
    json_t *val;
    json_object_foreach ((json_t *)obj, key, val) {
        bool known = false;
        for (const char *const *f = fields; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known)
            return fail(p, "%s%sunknown member \"%.60s\"", where, where[0] ? ": " : "", key);
    }
    return 0;
}

/* A required (or optional, when !req) string member of limited length; *out borrowed. */
static int get_str(struct pctx *p, const json_t *obj, const char *where, const char *key, bool req,
                   size_t max, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (req)
            return fail(p, "%s%s%s: required", where, where[0] ? "." : "", key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return fail(p, "%s%s%s: must be a non-empty string of at most %zu bytes", where,
                    where[0] ? "." : "", key, max);
    *out = json_string_value(v);
    return 0;
}

static int get_time(struct pctx *p, const json_t *obj, const char *where, const char *key, bool req,
                    vtime_t *out, bool *present)
{
    const char *s;
    int rc = get_str(p, obj, where, key, req, 64, &s);
    if (present)
        *present = s != NULL;
    if (rc || !s)
        return rc;
    if (ts_parse(s, out, NULL) || *out < REPORT_TIME_MIN || *out > REPORT_TIME_MAX)
        return fail(p, "%s%s%s: \"%s\" is not an RFC 3339 UTC timestamp", where,
                    where[0] ? "." : "", key, s);
    return 0;
}

static int get_array(struct pctx *p, const json_t *obj, const char *where, const char *key,
                     bool req, size_t max, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = v;
    if (!v && !req)
        return 0;
    if (!v)
        return fail(p, "%s%s%s: required", where, where[0] ? "." : "", key);
    if (!json_is_array(v) || (req && json_array_size(v) == 0))
        return fail(p, "%s%s%s: must be a%s array", where, where[0] ? "." : "", key,
                    req ? " non-empty" : "n");
    if (json_array_size(v) > max)
        return fail(p, "%s%s%s: at most %zu entries", where, where[0] ? "." : "", key, max);
    return 0;
}

/* A derived id "<type>--<uuid5(ns, name)>". */
static char *derived_id(const char *type, const char *name)
{
    char uuid[37];
    if (profile_uuid5(PROFILE_UUID_NS, name, strlen(name), uuid))
        abort(); /* the namespace is a constant UUID */
    return xasprintf("%s--%s", type, uuid);
}

static int get_id(struct pctx *p, const json_t *obj, const char *where, const char *type,
                  const char **out)
{
    int rc = get_str(p, obj, where, "id", false, 128, out);
    if (rc || !*out)
        return rc;
    size_t tl = strlen(type);
    if (strncmp(*out, type, tl) != 0 || strncmp(*out + tl, "--", 2) != 0 ||
        strlen(*out + tl + 2) != 36 || !uuid_valid(*out + tl + 2, 36))
        return fail(p, "%s%sid: must be \"%s--\" and a UUID", where, where[0] ? "." : "", type);
    return 0;
}

static int parse_act(struct pctx *p, const json_t *v, const char *where, struct cmp_act *act)
{
    const char *ev = NULL;
    json_t *modes = NULL;
    memset(act, 0, sizeof *act);
    if (json_is_string(v)) {
        ev = json_string_value(v);
    } else if (json_is_object(v)) {
        static const char *const f[] = {"event", "modes", NULL};
        int rc = only(p, v, where, f);
        rc = rc ? rc : get_str(p, v, where, "event", true, 32, &ev);
        rc = rc ? rc : get_array(p, v, where, "modes", false, CMP_MAX_MODES, &modes);
        if (rc)
            return rc;
    } else {
        return fail(p, "%s: a PLOVER event type, or {\"event\": ..., \"modes\": [...]}", where);
    }
    act->event = plover_event_parse(ev);
    if (act->event == PLOVER_NONE)
        return fail(p, "%s%s: unknown PLOVER event type \"%.40s\"", where,
                    json_is_object(v) ? ".event" : "", ev);
    for (size_t i = 0; i < json_array_size(modes); i++) {
        json_t *m = json_array_get(modes, i);
        const char *mode =
            json_is_string(m) ? plover_mode_lookup(act->event, json_string_value(m)) : NULL;
        if (!mode)
            return fail(p, "%s.modes[%zu]: not a PLOVER mode of %s", where, i,
                        plover_event_name(act->event));
        act->modes[act->nmodes++] = mode;
    }
    return 0;
}

static int parse_acts(struct pctx *p, const json_t *term, const char *where, const char *key,
                      struct cmp_act **out, size_t *n)
{
    json_t *arr;
    int rc = get_array(p, term, where, key, false, CMP_MAX_ACTS, &arr);
    if (rc || !arr)
        return rc;
    *out = xcalloc(json_array_size(arr) + 1, sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char w[200];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        rc = parse_act(p, json_array_get(arr, i), w, &(*out)[i]);
        if (rc)
            return rc;
        (*n)++;
    }
    return 0;
}

static long find_party(const struct cmp_agreement *a, const char *name)
{
    for (size_t i = 0; i < a->nparties; i++)
        if (strcmp(a->parties[i].name, name) == 0)
            return (long)i;
    return -2;
}

static const struct cmp_phase *find_phase(const struct cmp_agreement *a, const char *name)
{
    for (size_t i = 0; i < a->nphases; i++)
        if (strcmp(a->phases[i].name, name) == 0)
            return &a->phases[i];
    return NULL;
}

static vtime_t max_t(vtime_t x, vtime_t y)
{
    return x > y ? x : y;
}

static vtime_t min_t(vtime_t x, vtime_t y)
{
    return x < y ? x : y;
}

static int parse_term(struct pctx *p, const struct cmp_agreement *a, const json_t *v,
                      const char *where, struct cmp_term *t)
{
    static const char *const f[] = {"party", "prohibited", "permitted", "from",
                                    "until", "phase",      "when",      NULL};
    if (!json_is_object(v))
        return fail(p, "%s: must be an object", where);
    const char *party, *phase, *when;
    int rc = only(p, v, where, f);
    rc = rc ? rc : get_str(p, v, where, "party", true, CMP_NAME_MAX, &party);
    if (rc)
        return rc;
    t->party = strcmp(party, "*") == 0 ? -1 : find_party(a, party);
    if (t->party == -2)
        return fail(p, "%s.party: \"%.60s\" is not one of the agreement's parties", where, party);
    rc = parse_acts(p, v, where, "prohibited", &t->prohibited, &t->nprohibited);
    rc = rc ? rc : parse_acts(p, v, where, "permitted", &t->permitted, &t->npermitted);
    if (rc)
        return rc;
    if (!t->nprohibited && !t->npermitted)
        return fail(p, "%s: needs prohibited or permitted acts", where);
    vtime_t from = a->effective, until = a->ends, x;
    bool has;
    rc = get_time(p, v, where, "from", false, &x, &has);
    if (!rc && has)
        from = max_t(from, x);
    rc = rc ? rc : get_time(p, v, where, "until", false, &x, &has);
    if (!rc && has)
        until = min_t(until, x);
    rc = rc ? rc : get_str(p, v, where, "phase", false, CMP_NAME_MAX, &phase);
    rc = rc ? rc : get_str(p, v, where, "when", false, 32, &when);
    if (rc)
        return rc;
    if (when && !phase)
        return fail(p, "%s.when: only with a phase", where);
    if (phase) {
        const struct cmp_phase *ph = find_phase(a, phase);
        if (!ph)
            return fail(p, "%s.phase: \"%.60s\" is not one of the agreement's phases", where,
                        phase);
        if (!when || strcmp(when, "during") == 0) {
            from = max_t(from, ph->start);
            until = min_t(until, ph->deadline);
        } else if (strcmp(when, "after-deadline") == 0) {
            from = max_t(from, ph->deadline);
        } else {
            return fail(p, "%s.when: \"during\" or \"after-deadline\"", where);
        }
    }
    t->from = from;
    t->until = until;
    if (from >= until)
        return fail(p,
                    "%s: its time window is empty (check from, until, phase and the"
                    " agreement's effective and ends)",
                    where);
    return 0;
}

static int parse_zone(struct pctx *p, struct cmp_agreement *a, const json_t *v, size_t zi,
                      struct cmp_zone *z)
{
    static const char *const f[] = {"id", "name", "kind", "geometry", "distance_m", "terms", NULL};
    char where[64];
    snprintf(where, sizeof where, "zones[%zu]", zi);
    if (!json_is_object(v))
        return fail(p, "%s: must be an object", where);
    const char *id, *name, *kind;
    int rc = only(p, v, where, f);
    rc = rc ? rc : get_id(p, v, where, "location", &id);
    rc = rc ? rc : get_str(p, v, where, "name", true, CMP_NAME_MAX, &name);
    rc = rc ? rc : get_str(p, v, where, "kind", true, 32, &kind);
    if (rc)
        return rc;
    z->name = xstrdup(name);
    for (size_t i = 0; i < a->nzones; i++)
        if (strcmp(a->zones[i].name, name) == 0)
            return fail(p, "%s.name: \"%.60s\" is used by zones[%zu] too", where, name, i);
    size_t k = 0;
    for (; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (strcmp(kind_names[k], kind) == 0)
            break;
    if (k == sizeof kind_names / sizeof kind_names[0])
        return fail(p,
                    "%s.kind: \"%.40s\" is not buffer-zone, withdrawal-line, no-fire-area,"
                    " humanitarian-corridor or monitoring-post",
                    where, kind);
    z->kind = (enum cmp_zone_kind)k;
    json_t *g = json_object_get(v, "geometry");
    if (!g)
        return fail(p, "%s.geometry: required", where);
    char gmsg[GEO_MSG_SZ];
    if (geo_parse(g, &z->geom, gmsg))
        return fail(p, "%s.%s%s", where, strncmp(gmsg, "geometry:", 9) ? "geometry." : "", gmsg);
    /* A Feature keeps only its geometry. */
    json_t *inner = json_object_get(g, "geometry");
    z->geometry = json_incref(json_is_object(inner) ? inner : (json_t *)g);
    bool areal = z->geom.type == GEO_POLYGON || z->geom.type == GEO_MULTIPOLYGON;
    json_t *d = json_object_get(v, "distance_m");
    if (d && (!json_is_number(d) || json_number_value(d) < 0 ||
              json_number_value(d) > CMP_MAX_DISTANCE_M))
        return fail(p, "%s.distance_m: a number of metres from 0 to %.0f", where,
                    CMP_MAX_DISTANCE_M);
    z->distance_m = d ? json_number_value(d) : 0;
    if (!areal && !(z->distance_m > 0))
        return fail(p, "%s.distance_m: required (above 0) for a %s geometry", where,
                    geo_type_name(z->geom.type));
    char *zid = id ? xstrdup(id) : NULL;
    if (!zid) {
        char *key = xasprintf("zone:%s|%s", a->id, name);
        zid = derived_id("location", key);
        free(key);
    }
    z->id = zid;
    json_t *terms;
    rc = get_array(p, v, where, "terms", true, CMP_MAX_TERMS, &terms);
    if (rc)
        return rc;
    z->terms = xcalloc(json_array_size(terms), sizeof *z->terms);
    for (size_t i = 0; i < json_array_size(terms); i++) {
        char w[96];
        snprintf(w, sizeof w, "%s.terms[%zu]", where, i);
        rc = parse_term(p, a, json_array_get(terms, i), w, &z->terms[i]);
        z->nterms++;
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_party(struct pctx *p, struct cmp_agreement *a, const json_t *v, size_t pi)
{
    static const char *const f[] = {"name", "aliases", "identity", NULL};
    char where[64];
    snprintf(where, sizeof where, "parties[%zu]", pi);
    if (!json_is_object(v))
        return fail(p, "%s: must be an object", where);
    const char *name, *identity;
    json_t *aliases;
    int rc = only(p, v, where, f);
    rc = rc ? rc : get_str(p, v, where, "name", true, CMP_NAME_MAX, &name);
    rc = rc ? rc : get_array(p, v, where, "aliases", false, CMP_MAX_ALIASES, &aliases);
    rc = rc ? rc : get_str(p, v, where, "identity", false, 128, &identity);
    if (rc)
        return rc;
    if (strcmp(name, "*") == 0)
        return fail(p, "%s.name: \"*\" is reserved (it means every party in terms)", where);
    if (find_party(a, name) >= 0)
        return fail(p, "%s.name: \"%.60s\" is listed twice", where, name);
    if (identity && (strncmp(identity, "identity--", 10) != 0 || strlen(identity) != 46 ||
                     !uuid_valid(identity + 10, 36)))
        return fail(p, "%s.identity: must be \"identity--\" and a UUID", where);
    struct cmp_party *pt = &a->parties[a->nparties++];
    pt->name = xstrdup(name);
    pt->identity_given = identity != NULL;
    if (identity) {
        pt->identity = xstrdup(identity);
    } else {
        char *key = xasprintf("party:%s|%s", a->id, name);
        pt->identity = derived_id("identity", key);
        free(key);
    }
    pt->aliases = xcalloc(json_array_size(aliases) + 1, sizeof *pt->aliases);
    for (size_t i = 0; i < json_array_size(aliases); i++) {
        json_t *s = json_array_get(aliases, i);
        if (!json_is_string(s) || json_string_length(s) == 0 ||
            json_string_length(s) > CMP_NAME_MAX ||
            strlen(json_string_value(s)) != json_string_length(s))
            return fail(p, "%s.aliases[%zu]: must be a non-empty string", where, i);
        pt->aliases[pt->naliases++] = xstrdup(json_string_value(s));
    }
    return 0;
}

static int parse_phase(struct pctx *p, struct cmp_agreement *a, const json_t *v, size_t pi)
{
    static const char *const f[] = {"name", "start", "deadline", NULL};
    char where[64];
    snprintf(where, sizeof where, "phases[%zu]", pi);
    if (!json_is_object(v))
        return fail(p, "%s: must be an object", where);
    const char *name;
    vtime_t start = a->effective, deadline;
    int rc = only(p, v, where, f);
    rc = rc ? rc : get_str(p, v, where, "name", true, CMP_NAME_MAX, &name);
    rc = rc ? rc : get_time(p, v, where, "start", false, &start, NULL);
    rc = rc ? rc : get_time(p, v, where, "deadline", true, &deadline, NULL);
    if (rc)
        return rc;
    if (find_phase(a, name))
        return fail(p, "%s.name: \"%.60s\" is listed twice", where, name);
    if (deadline <= start)
        return fail(p, "%s.deadline: must be after the phase's start", where);
    struct cmp_phase *ph = &a->phases[a->nphases++];
    ph->name = xstrdup(name);
    ph->start = start;
    ph->deadline = deadline;
    return 0;
}

int cmp_agreement_parse(const json_t *v, struct cmp_agreement *a, char msg[CMP_MSG_SZ])
{
    static const char *const f[] = {"name",   "id",      "description", "effective",
                                    "ends",   "marking", "group",       "parties",
                                    "phases", "zones",   NULL};
    struct pctx p = {msg};
    memset(a, 0, sizeof *a);
    msg[0] = '\0';
    if (!json_is_object(v))
        return fail(&p, "the agreement must be a JSON object");
    const char *name, *id, *desc, *marking, *group;
    bool has_ends;
    json_t *parties, *phases, *zones;
    int rc = only(&p, v, "", f);
    rc = rc ? rc : get_str(&p, v, "", "name", true, CMP_NAME_MAX, &name);
    rc = rc ? rc : get_id(&p, v, "", "grouping", &id);
    rc = rc ? rc : get_str(&p, v, "", "description", false, CMP_DESC_MAX, &desc);
    rc = rc ? rc : get_time(&p, v, "", "effective", true, &a->effective, NULL);
    rc = rc ? rc : get_time(&p, v, "", "ends", false, &a->ends, &has_ends);
    rc = rc ? rc : get_str(&p, v, "", "marking", false, 32, &marking);
    rc = rc ? rc : get_str(&p, v, "", "group", false, CMP_NAME_MAX, &group);
    rc = rc ? rc : get_array(&p, v, "", "parties", true, CMP_MAX_PARTIES, &parties);
    rc = rc ? rc : get_array(&p, v, "", "phases", false, CMP_MAX_PHASES, &phases);
    rc = rc ? rc : get_array(&p, v, "", "zones", true, CMP_MAX_ZONES, &zones);
    if (rc)
        goto out;
    static const char *const markings[] = {"clear", "green", "amber", "amber+strict", "red"};
    bool mk = !marking;
    for (size_t i = 0; i < 5 && !mk; i++)
        mk = strcmp(marking, markings[i]) == 0;
    if (!mk) {
        rc = fail(&p, "marking: clear, green, amber, amber+strict or red");
        goto out;
    }
    if (!has_ends)
        a->ends = CMP_TIME_OPEN;
    else if (a->ends <= a->effective) {
        rc = fail(&p, "ends: must be after effective");
        goto out;
    }
    a->name = xstrdup(name);
    a->description = xstrdup(desc);
    a->marking = xstrdup(marking);
    a->group = xstrdup(group);
    if (id) {
        a->id = xstrdup(id);
    } else {
        char *key = xasprintf("agreement:%s", name);
        a->id = derived_id("grouping", key);
        free(key);
    }
    a->parties = xcalloc(json_array_size(parties), sizeof *a->parties);
    for (size_t i = 0; i < json_array_size(parties) && !rc; i++)
        rc = parse_party(&p, a, json_array_get(parties, i), i);
    a->phases = xcalloc(json_array_size(phases) + 1, sizeof *a->phases);
    for (size_t i = 0; i < json_array_size(phases) && !rc; i++)
        rc = parse_phase(&p, a, json_array_get(phases, i), i);
    a->zones = xcalloc(json_array_size(zones), sizeof *a->zones);
    for (size_t i = 0; i < json_array_size(zones) && !rc; i++) {
        rc = parse_zone(&p, a, json_array_get(zones, i), i, &a->zones[a->nzones]);
        a->nzones++;
    }
out:
    if (rc)
        cmp_agreement_release(a);
    return rc;
}

int cmp_agreement_parse_text(const char *text, size_t len, struct cmp_agreement *a, json_t **doc,
                             char msg[CMP_MSG_SZ])
{
    memset(a, 0, sizeof *a);
    if (doc)
        *doc = NULL;
    if (len > CMP_MAX_FILE) {
        snprintf(msg, CMP_MSG_SZ, "the file is larger than %d bytes", CMP_MAX_FILE);
        return VIGIL_ETOOBIG;
    }
    json_t *v;
    char jmsg[JSON_MSG_SZ];
    if (vjson_parse(text, len, CMP_MAX_DEPTH, &v, jmsg)) {
        snprintf(msg, CMP_MSG_SZ, "not valid JSON: %s", jmsg);
        return VIGIL_EINVAL;
    }
    int rc = cmp_agreement_parse(v, a, msg);
    if (rc || !doc)
        json_decref(v);
    else
        *doc = v;
    return rc;
}

void cmp_agreement_release(struct cmp_agreement *a)
{
    for (size_t i = 0; i < a->nparties; i++) {
        free(a->parties[i].name);
        free(a->parties[i].identity);
        for (size_t j = 0; j < a->parties[i].naliases; j++)
            free(a->parties[i].aliases[j]);
        free(a->parties[i].aliases);
    }
    free(a->parties);
    for (size_t i = 0; i < a->nphases; i++)
        free(a->phases[i].name);
    free(a->phases);
    for (size_t i = 0; i < a->nzones; i++) {
        struct cmp_zone *z = &a->zones[i];
        free(z->id);
        free(z->name);
        geo_release(&z->geom);
        json_decref(z->geometry);
        for (size_t j = 0; j < z->nterms; j++) {
            free(z->terms[j].prohibited);
            free(z->terms[j].permitted);
        }
        free(z->terms);
    }
    free(a->zones);
    free(a->id);
    free(a->name);
    free(a->description);
    free(a->marking);
    free(a->group);
    memset(a, 0, sizeof *a);
}

/* ---- STIX ------------------------------------------------------------------------------ */

static json_t *time_json(vtime_t t)
{
    char ts[TS_BUFSZ];
    return t == CMP_TIME_OPEN || t == 0 ? json_null() : json_string(ts_format(t, 3, ts));
}

static json_t *acts_json(const struct cmp_act *acts, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s}", "event", plover_event_name(acts[i].event));
        if (acts[i].nmodes) {
            json_t *m = json_array();
            for (size_t j = 0; j < acts[i].nmodes; j++)
                json_array_append_new(m, json_string(acts[i].modes[j]));
            json_object_set_new(o, "modes", m);
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *common(const char *type, const char *id, vtime_t now, const char *created_by,
                      const json_t *marking_refs)
{
    char ts[TS_BUFSZ];
    ts_format(now, 3, ts);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "spec_version", "2.1", "id",
                          id, "created", ts, "modified", ts);
    if (created_by)
        json_object_set_new(o, "created_by_ref", json_string(created_by));
    if (marking_refs && json_array_size(marking_refs))
        json_object_set_new(o, "object_marking_refs", json_deep_copy(marking_refs));
    return o;
}

static json_t *ext(json_t *body)
{
    json_object_set_new(body, "extension_type", json_string("property-extension"));
    return json_pack("{s:o}", CMP_EXT_ID, body);
}

/* Drops, in v and everything it holds, the properties whose value is null or an empty list:
 * STIX 2.1 (3.1) forbids both, an optional property without a value is absent. */
static void prune(json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x)
            prune(x);
        return;
    }
    const char *key;
    json_t *x;
    void *tmp;
    json_object_foreach_safe (v, tmp, key, x) {
        prune(x);
        if (json_is_null(x) || (json_is_array(x) && json_array_size(x) == 0))
            json_object_del(v, key);
    }
}

json_t *cmp_agreement_to_stix(const struct cmp_agreement *a, vtime_t now, const char *created_by,
                              const json_t *marking_refs)
{
    json_t *out = json_array();
    json_t *refs = json_array();
    json_t *parties = json_array();
    for (size_t i = 0; i < a->nparties; i++) {
        const struct cmp_party *p = &a->parties[i];
        json_t *al = json_array();
        for (size_t j = 0; j < p->naliases; j++)
            json_array_append_new(al, json_string(p->aliases[j]));
        json_array_append_new(parties, json_pack("{s:s, s:o, s:s}", "name", p->name, "aliases", al,
                                                 "identity_ref", p->identity));
        json_array_append_new(refs, json_string(p->identity));
        if (p->identity_given)
            continue;
        json_t *id = common("identity", p->identity, now, created_by, marking_refs);
        json_object_set_new(id, "name", json_string(p->name));
        json_object_set_new(id, "identity_class", json_string("organization"));
        json_object_set_new(id, "roles", json_pack("[s]", "ceasefire-party"));
        json_array_append_new(out, id);
    }
    for (size_t i = 0; i < a->nzones; i++) {
        const struct cmp_zone *z = &a->zones[i];
        json_t *loc = common("location", z->id, now, created_by, marking_refs);
        json_object_set_new(loc, "name", json_string(z->name));
        json_object_set_new(loc, "description", json_string(cmp_zone_kind_name(z->kind)));
        json_object_set_new(loc, "latitude",
                            json_real((z->geom.bbox.min_lat + z->geom.bbox.max_lat) / 2));
        json_object_set_new(loc, "longitude",
                            json_real((z->geom.bbox.min_lon + z->geom.bbox.max_lon) / 2));
        json_t *terms = json_array();
        for (size_t j = 0; j < z->nterms; j++) {
            const struct cmp_term *t = &z->terms[j];
            json_array_append_new(
                terms, json_pack("{s:s, s:o, s:o, s:o, s:o}", "party",
                                 t->party < 0 ? "*" : a->parties[t->party].name, "prohibited",
                                 acts_json(t->prohibited, t->nprohibited), "permitted",
                                 acts_json(t->permitted, t->npermitted), "from", time_json(t->from),
                                 "until", time_json(t->until)));
        }
        json_object_set_new(
            loc, "extensions",
            ext(json_pack("{s:s, s:s, s:O, s:f, s:o}", "agreement_ref", a->id, "zone_kind",
                          cmp_zone_kind_name(z->kind), "geometry", z->geometry, "distance_m",
                          z->distance_m, "terms", terms)));
        json_array_append_new(out, loc);
        json_array_append_new(refs, json_string(z->id));
    }
    json_t *phases = json_array();
    for (size_t i = 0; i < a->nphases; i++)
        json_array_append_new(phases, json_pack("{s:s, s:o, s:o}", "name", a->phases[i].name,
                                                "start", time_json(a->phases[i].start), "deadline",
                                                time_json(a->phases[i].deadline)));
    json_t *g = common("grouping", a->id, now, created_by, marking_refs);
    json_object_set_new(g, "name", json_string(a->name));
    if (a->description)
        json_object_set_new(g, "description", json_string(a->description));
    json_object_set_new(g, "context", json_string("ceasefire-agreement"));
    json_object_set_new(g, "object_refs", refs);
    json_object_set_new(
        g, "extensions",
        ext(json_pack("{s:o, s:o, s:o, s:o}", "effective", time_json(a->effective), "ends",
                      time_json(a->ends), "parties", parties, "phases", phases)));
    json_array_insert_new(out, 0, g);
    json_array_append_new(out, cmp_extension_definition());
    prune(out);
    return out;
}

json_t *cmp_extension_definition(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
                     "extension-definition", "spec_version", "2.1", "id", CMP_EXT_ID,
                     "created_by_ref", PROFILE_IDENTITY_ID, "created", PROFILE_DEFINED,
                     "modified", CMP_EXT_MODIFIED, "name", "Vigil ceasefire compliance",
                     "description",
                     "Agreements (on grouping) and zones (on location): see Vigil's"
                     " docs/COMPLIANCE.md",
                     "schema", CMP_SCHEMA_URL, "version", "1.0", "extension_types",
                     "property-extension");
}

static json_t *date_time(void)
{
    return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
}

static json_t *strings(void)
{
    return json_pack("{s:s, s:{s:s, s:i}}", "type", "array", "items", "type", "string",
                     "minLength", 1);
}

/* An object schema: closed, with the required properties req (NULL-terminated). */
static json_t *closed(json_t *props, const char *const *req)
{
    json_t *r = json_array();
    for (size_t i = 0; req[i]; i++)
        json_array_append_new(r, json_string(req[i]));
    return json_pack("{s:s, s:o, s:b, s:o}", "type", "object", "required", r,
                     "additionalProperties", 0, "properties", props);
}

json_t *cmp_extension_schema(void)
{
    json_t *kinds = json_array();
    for (int k = CMP_BUFFER_ZONE; k <= CMP_MONITORING_POST; k++)
        json_array_append_new(kinds, json_string(cmp_zone_kind_name((enum cmp_zone_kind)k)));
    json_t *ext_type = json_pack("{s:s}", "const", "property-extension");
    json_t *act = closed(json_pack("{s:{s:s}, s:o}", "event", "type", "string", "modes",
                                   strings()),
                         (const char *const[]){"event", NULL});
    json_t *term = closed(
        json_pack("{s:{s:s}, s:{s:s, s:O}, s:{s:s, s:O}, s:o, s:o}", "party", "type", "string",
                  "prohibited", "type", "array", "items", act, "permitted", "type", "array",
                  "items", act, "from", date_time(), "until", date_time()),
        (const char *const[]){"party", "prohibited", NULL});
    json_decref(act);
    json_t *party = closed(json_pack("{s:{s:s}, s:o, s:{s:s, s:s}}", "name", "type", "string",
                                     "aliases", strings(), "identity_ref", "type", "string",
                                     "pattern", "^identity--"),
                           (const char *const[]){"name", "identity_ref", NULL});
    json_t *phase = closed(json_pack("{s:{s:s}, s:o, s:o}", "name", "type", "string", "start",
                                     date_time(), "deadline", date_time()),
                           (const char *const[]){"name", NULL});
    json_t *agreement = closed(
        json_pack("{s:O, s:o, s:o, s:{s:s, s:o}, s:{s:s, s:o}}", "extension_type", ext_type,
                  "effective", date_time(), "ends", date_time(), "parties", "type", "array",
                  "items", party, "phases", "type", "array", "items", phase),
        (const char *const[]){"extension_type", "effective", "parties", NULL});
    json_t *zone = closed(
        json_pack("{s:O, s:{s:s, s:s}, s:{s:o}, s:{s:s, s:[s]}, s:{s:s, s:i}, s:{s:s, s:o}}",
                  "extension_type", ext_type, "agreement_ref", "type", "string", "pattern",
                  "^grouping--", "zone_kind", "enum", kinds, "geometry", "type", "object",
                  "required", "type", "distance_m", "type", "number", "minimum", 0, "terms",
                  "type", "array", "items", term),
        (const char *const[]){"extension_type", "agreement_ref", "zone_kind", "geometry",
                              "distance_m", NULL});
    json_decref(ext_type);
    return json_pack("{s:s, s:s, s:s, s:s, s:[o, o]}", "$schema",
                     "https://json-schema.org/draft/2020-12/schema", "$id",
                     "urn:vigil:stix-extension:compliance:1.0", "title",
                     "Vigil ceasefire compliance property extension: an agreement (on a "
                     "grouping) or a zone (on a location)",
                     "description", "docs/COMPLIANCE.md of Vigil", "oneOf", agreement, zone);
}

/* ---- candidates ------------------------------------------------------------------------ */

static bool names_in(const struct cmp_party *p, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *who = names[i];
        if (strcasecmp(who, p->name) == 0 || strcasecmp(who, p->identity) == 0)
            return true;
        for (size_t j = 0; j < p->naliases; j++)
            if (strcasecmp(who, p->aliases[j]) == 0)
                return true;
    }
    return false;
}

/* The party acted in r: an actor names it and no target does. */
static bool names_party(const struct cmp_party *p, const struct event_report *r)
{
    return names_in(p, r->actors, r->n_actors) && !names_in(p, r->targets, r->n_targets);
}

static bool in_zone(const struct cmp_zone *z, const struct event_report *r)
{
    if (!r->has_point)
        return r->area && strcasecmp(r->area, z->name) == 0;
    struct geo_point pt = {r->lat, r->lon};
    struct geo_bbox near = geo_bbox_around(pt, z->distance_m + 1);
    if (!geo_bbox_intersects(&near, &z->geom.bbox))
        return false;
    if (geo_contains(&z->geom, pt))
        return true;
    return geo_distance_to_geometry_m(&z->geom, pt) <= z->distance_m;
}

static bool act_matches(const struct cmp_act *act, const struct event_report *r)
{
    if (act->event != r->event)
        return false;
    if (!act->nmodes)
        return true;
    for (size_t i = 0; i < act->nmodes; i++)
        if (r->mode && strcmp(act->modes[i], r->mode) == 0)
            return true;
    return false;
}

/* The term is the party's and its window [from, until) meets [start, end]. */
static bool term_meets(const struct cmp_term *t, long party, vtime_t start, vtime_t end)
{
    return (t->party < 0 || t->party == party) && t->from <= end && start < t->until;
}

/* [start, end] lies wholly inside [from, until). */
static bool covers(vtime_t from, vtime_t until, vtime_t start, vtime_t end)
{
    return from <= start && end < until;
}

int cmp_agreement_match(const struct cmp_agreement *a, const struct event_report *r,
                        int (*fn)(void *ctx, const struct cmp_match *m), void *ctx)
{
    vtime_t start = r->start, end = r->end < r->start ? r->start : r->end;
    if (r->future || end < a->effective || start >= a->ends)
        return 0;
    bool in_force = covers(a->effective, a->ends, start, end);
    size_t engaged = 0;
    for (size_t pi = 0; pi < a->nparties; pi++)
        engaged += names_party(&a->parties[pi], r);
    int n = 0;
    for (size_t pi = 0; pi < a->nparties; pi++) {
        if (!names_party(&a->parties[pi], r))
            continue;
        for (size_t zi = 0; zi < a->nzones; zi++) {
            const struct cmp_zone *z = &a->zones[zi];
            if (!in_zone(z, r))
                continue;
            const struct cmp_term *hit = NULL, *hit_full = NULL;
            const struct cmp_act *hit_act = NULL, *full_act = NULL;
            bool permitted = false, partly_permitted = false;
            for (size_t ti = 0; ti < z->nterms && !permitted; ti++) {
                const struct cmp_term *t = &z->terms[ti];
                if (!term_meets(t, (long)pi, start, end))
                    continue;
                bool full = covers(t->from, t->until, start, end);
                for (size_t k = 0; k < t->npermitted && !permitted; k++)
                    if (act_matches(&t->permitted[k], r)) {
                        permitted = full;
                        partly_permitted = true;
                    }
                for (size_t k = 0; k < t->nprohibited; k++)
                    if (act_matches(&t->prohibited[k], r)) {
                        if (!hit)
                            hit = t, hit_act = &t->prohibited[k];
                        if (full && !hit_full)
                            hit_full = t, full_act = &t->prohibited[k];
                    }
            }
            if (!hit || permitted)
                continue;
            if (hit_full)
                hit = hit_full, hit_act = full_act;
            vtime_t when = start;
            if (when < a->effective)
                when = a->effective;
            if (when < hit->from)
                when = hit->from;
            struct cmp_match m = {z, pi, hit, hit_act, when,
                                  !in_force || !hit_full || partly_permitted, engaged > 1};
            int rc = fn ? fn(ctx, &m) : 0;
            if (rc)
                return rc;
            n++;
        }
    }
    return n;
}
