/* import_misp.c - MISP events ({"Event": {...}}) as event reports.
 *
 * MISP has no event-data vocabulary of its own, so the PLOVER code travels in machine tags
 * (docs/STIX-PROFILE.md): vigil:event="ASSAULT", vigil:mode="aerial", vigil:future="true",
 * vigil:area="NAME", vigil:fatalities="17", vigil:injured="20". What MISP does have maps as
 * one would expect: Event.uuid -> source_ref "misp:<uuid>", Event.info -> title,
 * Event.date -> the day of the event, tlp:* tags -> marking, the admiralty-scale taxonomy ->
 * grading, misp-galaxy:threat-actor tags -> actors, misp-galaxy:sector tags -> targets, the
 * first "geolocation" object -> point (accuracy-radius in km -> precision), the first
 * attribute of type "text" -> description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "intel/import_int.h"
#include "intel/text.h"

#define TAG_VALUE_MAX 512

/* When tag is `key="value"` (key e.g. "vigil:event"), copies value into out and returns true. */
static bool machine_tag(const char *tag, const char *key, char out[TAG_VALUE_MAX])
{
    size_t k = strlen(key), n = strlen(tag);
    if (n < k + 3 || strncmp(tag, key, k) != 0 || tag[k] != '=' || tag[k + 1] != '"' ||
        tag[n - 1] != '"' || n - k - 3 >= TAG_VALUE_MAX)
        return false;
    memcpy(out, tag + k + 2, n - k - 3);
    out[n - k - 3] = '\0';
    return true;
}

/* Reads the relations of a geolocation object. */
static int read_geolocation(const json_t *obj, struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    const json_t *attrs = json_object_get(obj, "Attribute");
    size_t i;
    const json_t *a;
    bool have_lat = false, have_lon = false;
    double km = 0;
    json_array_foreach(attrs, i, a) {
        const char *rel = json_string_value(json_object_get(a, "object_relation"));
        const char *val = json_string_value(json_object_get(a, "value"));
        if (!rel || !val)
            continue;
        if (strcmp(rel, "latitude") == 0) {
            if (text_parse_double(val, &r->lat) != 0 || r->lat < -90 || r->lat > 90)
                return import_fail(msg, VIGIL_EINVAL, "geolocation.latitude: \"%.30s\" is not "
                                   "a latitude", val);
            have_lat = true;
        } else if (strcmp(rel, "longitude") == 0) {
            if (text_parse_double(val, &r->lon) != 0 || r->lon < -180 || r->lon > 180)
                return import_fail(msg, VIGIL_EINVAL, "geolocation.longitude: \"%.30s\" is "
                                   "not a longitude", val);
            have_lon = true;
        } else if (strcmp(rel, "accuracy-radius") == 0) {
            if (text_parse_double(val, &km) != 0 || km < 0 || km > REPORT_PRECISION_MAX / 1000)
                return import_fail(msg, VIGIL_EINVAL, "geolocation.accuracy-radius: \"%.30s\" "
                                   "is not a radius in km", val);
        }
    }
    if (have_lat != have_lon)
        return import_fail(msg, VIGIL_EINVAL, "geolocation: needs both latitude and longitude");
    r->has_point = have_lat;
    r->precision_m = (long)(km * 1000.0 + 0.5);
    return 0;
}

static int read_tags(const json_t *tags, struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    static const struct {
        const char *tag;
        enum report_marking m;
    } tlp[] = {{"tlp:clear", REPORT_MARKING_CLEAR}, {"tlp:white", REPORT_MARKING_CLEAR},
               {"tlp:green", REPORT_MARKING_GREEN}, {"tlp:amber", REPORT_MARKING_AMBER},
               {"tlp:amber+strict", REPORT_MARKING_AMBER_STRICT},
               {"tlp:red", REPORT_MARKING_RED}};
    char v[TAG_VALUE_MAX];
    size_t i;
    const json_t *t;
    long n;
    json_array_foreach(tags, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (!name)
            continue;
        for (size_t k = 0; k < sizeof tlp / sizeof tlp[0]; k++)
            if (text_ieq(name, tlp[k].tag))
                r->marking = tlp[k].m;
        if (machine_tag(name, "vigil:event", v)) {
            if ((r->event = plover_event_parse(v)) == PLOVER_NONE)
                return import_fail(msg, VIGIL_EINVAL, "tag vigil:event: \"%.40s\" is not a "
                                   "PLOVER event type", v);
        } else if (machine_tag(name, "vigil:future", v)) {
            r->future = strcmp(v, "true") == 0;
        } else if (machine_tag(name, "vigil:area", v)) {
            if (import_set_text(&r->area, v, REPORT_NAME_MAX) != 0)
                return import_fail(msg, VIGIL_EINVAL, "tag vigil:area: not valid UTF-8");
        } else if (machine_tag(name, "vigil:fatalities", v) ||
                   machine_tag(name, "vigil:injured", v)) {
            if (text_parse_long(v, 0, REPORT_COUNT_MAX, &n) != 0)
                return import_fail(msg, VIGIL_EINVAL, "tag %.20s: \"%.20s\" is not a count",
                                   name, v);
            if (name[6] == 'f')
                r->fatalities = n;
            else
                r->injured = n;
        } else if (machine_tag(name, "admiralty-scale:source-reliability", v)) {
            if (strlen(v) != 1 || ((v[0] | 0x20) < 'a' || (v[0] | 0x20) > 'f'))
                return import_fail(msg, VIGIL_EINVAL, "tag admiralty-scale:source-reliability: "
                                   "must be a to f");
            r->reliability = (char)((v[0] | 0x20) - 'a' + 'A');
        } else if (machine_tag(name, "admiralty-scale:information-credibility", v)) {
            if (text_parse_long(v, 1, 6, &n) != 0)
                return import_fail(msg, VIGIL_EINVAL, "tag admiralty-scale:"
                                   "information-credibility: must be 1 to 6");
            r->credibility = (int)n;
        } else if (machine_tag(name, "misp-galaxy:threat-actor", v)) {
            if (import_add_name(r, false, v) == VIGIL_EINVAL)
                return import_fail(msg, VIGIL_EINVAL, "tag misp-galaxy:threat-actor: bad name");
        } else if (machine_tag(name, "misp-galaxy:sector", v)) {
            if (import_add_name(r, true, v) == VIGIL_EINVAL)
                return import_fail(msg, VIGIL_EINVAL, "tag misp-galaxy:sector: bad name");
        }
    }
    /* the mode is read after the event whatever the tag order */
    json_array_foreach(tags, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (name && machine_tag(name, "vigil:mode", v) &&
            !(r->mode = plover_mode_lookup(r->event, v)))
            return import_fail(msg, VIGIL_EINVAL, "tag vigil:mode: \"%.40s\" is not a mode of "
                               "%s", v, r->event ? plover_event_name(r->event) : "the event");
    }
    return 0;
}

int import_misp_event(const json_t *item, struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    int rc;
    size_t i;
    const json_t *o;
    report_init(r);
    const json_t *ev = json_object_get(item, "Event");
    if (!json_is_object(ev)) {
        rc = import_fail(msg, VIGIL_EINVAL, "Event: missing (expected {\"Event\": {...}})");
        goto out;
    }
    const char *uuid = json_string_value(json_object_get(ev, "uuid"));
    if (!uuid || strlen(uuid) != UUID_STRLEN || !uuid_valid(uuid, UUID_STRLEN)) {
        rc = import_fail(msg, VIGIL_EINVAL, "Event.uuid: missing or not a UUID");
        goto out;
    }
    const char *date = json_string_value(json_object_get(ev, "date"));
    if (!date || strlen(date) != 10 || text_parse_iso_datetime(date, &r->start) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "Event.date: missing or not YYYY-MM-DD");
        goto out;
    }
    r->end = r->start + TEXT_US_PER_DAY - VTIME_US_PER_SEC;
    r->tprec = REPORT_TP_DAY;
    if ((rc = read_tags(json_object_get(ev, "Tag"), r, msg)) != 0)
        goto out;
    if (r->event == PLOVER_NONE) {
        rc = import_fail(msg, VIGIL_ENOENT, "Event.Tag: no vigil:event tag (not an event "
                         "report)");
        goto out;
    }
    json_array_foreach(json_object_get(ev, "Object"), i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && strcmp(name, "geolocation") == 0) {
            if ((rc = read_geolocation(o, r, msg)) != 0)
                goto out;
            if (r->has_point)
                break;
        }
    }
    if (r->has_point) {
        free(r->area); /* a point is more precise than a named area */
        r->area = NULL;
    } else if (!r->area) {
        rc = import_fail(msg, VIGIL_ENOENT, "Event.Object: no geolocation object and no "
                         "vigil:area tag");
        goto out;
    }
    const char *info = json_string_value(json_object_get(ev, "info"));
    if (info && import_set_text(&r->title, info, REPORT_TITLE_MAX) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "Event.info: not valid UTF-8");
        goto out;
    }
    json_array_foreach(json_object_get(ev, "Attribute"), i, o) {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *val = json_string_value(json_object_get(o, "value"));
        if (type && val && strcmp(type, "text") == 0) {
            import_set_text(&r->description, val, REPORT_DESC_MAX);
            break;
        }
    }
    r->source_ref = xasprintf("misp:%s", uuid);
    char cmsg[REPORT_MSG_SZ];
    if ((rc = report_check(r, cmsg)) != 0)
        import_fail(msg, rc, "%s", cmsg);
out:
    if (rc)
        report_release(r);
    return rc;
}
