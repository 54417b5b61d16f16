/* import_acled.c - ACLED CSV records as event reports.
 *
 * Columns are found by name in the header (the 2023+ layout has 31; older files with extra or
 * upper-case columns work as long as the required ones are there). Dates: "6-Jun-25",
 * "06-June-2025", "2025-06-06" and "06 June 2025"; two-digit years 00-69 are 20xx, 70-99 19xx
 * (ACLED begins in 1997). time_precision 1/2/3 (day, week, month) widens the window around
 * event_date by 0, 3 or 15 days either side; geo_precision 1/2/3 becomes 2, 25 or 100 km.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "intel/import_int.h"
#include "intel/text.h"

enum {
    A_EVENT_ID,
    A_EVENT_DATE,
    A_TIME_PRECISION,
    A_EVENT_TYPE,
    A_SUB_EVENT_TYPE,
    A_ACTOR1,
    A_ASSOC_ACTOR_1,
    A_ACTOR2,
    A_ASSOC_ACTOR_2,
    A_CIVILIAN_TARGETING,
    A_COUNTRY,
    A_ADMIN1,
    A_LOCATION,
    A_LATITUDE,
    A_LONGITUDE,
    A_GEO_PRECISION,
    A_NOTES,
    A_FATALITIES,
    A_NCOLS
};

static const struct import_col acled_spec[A_NCOLS] = {
    [A_EVENT_ID] = {"event_id_cnty", true},
    [A_EVENT_DATE] = {"event_date", true},
    [A_TIME_PRECISION] = {"time_precision", false},
    [A_EVENT_TYPE] = {"event_type", true},
    [A_SUB_EVENT_TYPE] = {"sub_event_type", true},
    [A_ACTOR1] = {"actor1", false},
    [A_ASSOC_ACTOR_1] = {"assoc_actor_1", false},
    [A_ACTOR2] = {"actor2", false},
    [A_ASSOC_ACTOR_2] = {"assoc_actor_2", false},
    [A_CIVILIAN_TARGETING] = {"civilian_targeting", false},
    [A_COUNTRY] = {"country", false},
    [A_ADMIN1] = {"admin1", false},
    [A_LOCATION] = {"location", false},
    [A_LATITUDE] = {"latitude", true},
    [A_LONGITUDE] = {"longitude", true},
    [A_GEO_PRECISION] = {"geo_precision", false},
    [A_NOTES] = {"notes", false},
    [A_FATALITIES] = {"fatalities", false},
};

/* ACLED event type / sub-event type -> PLOVER, and what actor2 (with assoc_actor_2) is
 * (docs/STIX-PROFILE.md has the same table). ACLED's actor1 is always an actor. Its actor2 is
 * the party struck in remote violence, violence against civilians and the other one-sided
 * sub-event types (A2_TARGET); in battles both sides are engaged and ACLED's order names no
 * initiator, and in the non-violent types actor2 takes part (A2_ACTOR). */
enum acled_role { A2_ACTOR, A2_TARGET };

static const struct acled_map {
    const char *type, *sub;
    enum plover_event event;
    const char *mode;
    enum acled_role actor2;
} acled_table[] = {
    {"Battles", "Armed clash", PLOVER_ASSAULT, "firearms", A2_ACTOR},
    {"Battles", "Government regains territory", PLOVER_ASSAULT, NULL, A2_ACTOR},
    {"Battles", "Non-state actor overtakes territory", PLOVER_ASSAULT, NULL, A2_ACTOR},
    {"Explosions/Remote violence", "Air/drone strike", PLOVER_ASSAULT, "aerial", A2_TARGET},
    {"Explosions/Remote violence", "Shelling/artillery/missile attack", PLOVER_ASSAULT,
     "heavy-weapons", A2_TARGET},
    {"Explosions/Remote violence", "Remote explosive/landmine/IED", PLOVER_ASSAULT,
     "explosives", A2_TARGET},
    {"Explosions/Remote violence", "Grenade", PLOVER_ASSAULT, "explosives", A2_TARGET},
    {"Explosions/Remote violence", "Suicide bomb", PLOVER_ASSAULT, "suicide-attack", A2_TARGET},
    {"Explosions/Remote violence", "Chemical weapon", PLOVER_ASSAULT, "unconventional",
     A2_TARGET},
    {"Violence against civilians", "Attack", PLOVER_ASSAULT, NULL, A2_TARGET},
    {"Violence against civilians", "Abduction/forced disappearance", PLOVER_ASSAULT, "abduct",
     A2_TARGET},
    {"Violence against civilians", "Sexual violence", PLOVER_ASSAULT, "sexual", A2_TARGET},
    {"Protests", "Peaceful protest", PLOVER_PROTEST, "demo", A2_ACTOR},
    {"Protests", "Protest with intervention", PLOVER_PROTEST, "demo", A2_ACTOR},
    {"Protests", "Excessive force against protesters", PLOVER_ASSAULT, NULL, A2_TARGET},
    {"Riots", "Violent demonstration", PLOVER_PROTEST, "riot", A2_ACTOR},
    {"Riots", "Mob violence", PLOVER_ASSAULT, "primitive", A2_TARGET},
    {"Strategic developments", "Agreement", PLOVER_AGREE, NULL, A2_ACTOR},
    {"Strategic developments", "Arrests", PLOVER_COERCE, "arrest", A2_TARGET},
    {"Strategic developments", "Change to group/activity", PLOVER_OTHER, "group-change",
     A2_ACTOR},
    {"Strategic developments", "Disrupted weapons use", PLOVER_COERCE, "confiscate", A2_TARGET},
    {"Strategic developments", "Headquarters or base established", PLOVER_MOBILIZE, "troops",
     A2_ACTOR},
    {"Strategic developments", "Looting/property destruction", PLOVER_ASSAULT, "destroy",
     A2_TARGET},
    {"Strategic developments", "Non-violent transfer of territory", PLOVER_RETREAT,
     "withdraw", A2_ACTOR},
    {"Strategic developments", "Other", PLOVER_OTHER, NULL, A2_ACTOR},
};

/* Case-insensitive substring test for ASCII needles. */
static bool contains_word(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i]) {
            char x = hay[i];
            if (x >= 'A' && x <= 'Z')
                x = (char)(x - 'A' + 'a');
            if (x != needle[i])
                break;
            i++;
        }
        if (i == n)
            return true;
    }
    return false;
}

/* The table's row for the pair; NULL when the sub-event type is unknown or under another
 * event type. */
static const struct acled_map *acled_find(const char *event_type, const char *sub_event_type)
{
    /* older spelling */
    if (text_ieq(sub_event_type, "Excessive force against protestors"))
        sub_event_type = "Excessive force against protesters";
    for (size_t i = 0; i < sizeof acled_table / sizeof acled_table[0]; i++) {
        const struct acled_map *m = &acled_table[i];
        if (text_ieq(sub_event_type, m->sub))
            return text_ieq(event_type, m->type) ? m : NULL;
    }
    return NULL;
}

int import_acled_map(const char *event_type, const char *sub_event_type, const char *notes,
                     enum plover_event *e, const char **mode)
{
    const struct acled_map *m = acled_find(event_type, sub_event_type);
    if (m) {
        *e = m->event;
        *mode = plover_mode_lookup(m->event, m->mode);
        /* ACLED folds drones into air strikes; the notes usually say which it was */
        if (m->mode && strcmp(m->mode, "aerial") == 0 && notes && contains_word(notes, "drone"))
            *mode = plover_mode_lookup(m->event, "drone");
        return 0;
    }
    return VIGIL_EINVAL;
}

int import_acled_header(const char *const *f, size_t n, struct import_cols *c,
                        char msg[IMPORT_MSG_SZ])
{
    return import_map_header(acled_spec, A_NCOLS, f, n, c, msg);
}

static int month_of(const char *s, size_t n)
{
    static const char *const months[] = {"january", "february", "march",     "april",
                                         "may",     "june",     "july",      "august",
                                         "september", "october", "november", "december"};
    if (n < 3)
        return 0;
    for (int m = 0; m < 12; m++) {
        size_t len = strlen(months[m]);
        if (n != 3 && n != len)
            continue;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            char x = s[i];
            if (x >= 'A' && x <= 'Z')
                x = (char)(x - 'A' + 'a');
            ok = x == months[m][i];
        }
        if (ok)
            return m + 1;
    }
    return 0;
}

static bool num(const char *s, size_t n, int *out)
{
    int v = 0;
    if (n == 0 || n > 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "6-Jun-25", "06-June-2025", "6 June 2025", or ISO "2025-06-06". */
static int acled_date(const char *s, vtime_t *out)
{
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-')
        return text_parse_iso_datetime(s, out);
    char sep = strchr(s, '-') ? '-' : ' ';
    const char *a = strchr(s, sep);
    const char *b = a ? strchr(a + 1, sep) : NULL;
    int d, m, y;
    if (!a || !b || !num(s, (size_t)(a - s), &d) || !(m = month_of(a + 1, (size_t)(b - a - 1))))
        return VIGIL_EINVAL;
    size_t ylen = strlen(b + 1);
    if ((ylen != 2 && ylen != 4) || !num(b + 1, ylen, &y))
        return VIGIL_EINVAL;
    if (ylen == 2)
        y += y < 70 ? 2000 : 1900;
    return text_date(y, m, d, out);
}

int import_acled_row(const struct import_cols *c, const char *const *f, size_t n,
                     struct event_report *r, char msg[IMPORT_MSG_SZ])
{
#define F(col) import_field(c, f, n, (col))
    int rc;
    long v;
    vtime_t day;
    report_init(r);
    const char *id = F(A_EVENT_ID), *type = F(A_EVENT_TYPE), *sub = F(A_SUB_EVENT_TYPE);
    if (!*id) {
        rc = import_fail(msg, VIGIL_EINVAL, "event_id_cnty: empty");
        goto out;
    }
    rc = import_acled_map(type, sub, F(A_NOTES), &r->event, &r->mode);
    if (rc) {
        import_fail(msg, rc, "sub_event_type: \"%.60s\" is not an ACLED sub-event type of "
                    "\"%.60s\"", sub, type);
        goto out;
    }
    if (acled_date(F(A_EVENT_DATE), &day) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "event_date: \"%.40s\" is not a date (6-Jun-25 or "
                         "2025-06-06)", F(A_EVENT_DATE));
        goto out;
    }
    long tp = 1;
    if (*F(A_TIME_PRECISION) && text_parse_long(F(A_TIME_PRECISION), 1, 3, &tp) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "time_precision: must be 1, 2 or 3");
        goto out;
    }
    static const int64_t widen[] = {0, 0, 3, 15};
    static const enum report_tprec tprec[] = {REPORT_TP_DAY, REPORT_TP_DAY, REPORT_TP_WEEK,
                                              REPORT_TP_MONTH};
    r->start = day - widen[tp] * TEXT_US_PER_DAY;
    r->end = day + (widen[tp] + 1) * TEXT_US_PER_DAY - VTIME_US_PER_SEC;
    r->tprec = tprec[tp];
    rc = import_point(r, F(A_LATITUDE), F(A_LONGITUDE), "latitude", "longitude", msg);
    if (rc)
        goto out;
    long gp = 1;
    if (*F(A_GEO_PRECISION) && text_parse_long(F(A_GEO_PRECISION), 1, 3, &gp) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "geo_precision: must be 1, 2 or 3");
        goto out;
    }
    static const long prec_m[] = {0, 2000, 25000, 100000};
    r->precision_m = prec_m[gp];
    if (*F(A_FATALITIES)) {
        if (text_parse_long(F(A_FATALITIES), 0, REPORT_COUNT_MAX, &v) != 0) {
            rc = import_fail(msg, VIGIL_EINVAL, "fatalities: \"%.40s\" is not a count",
                             F(A_FATALITIES));
            goto out;
        }
        r->fatalities = v;
    }
    /* Actor 2 is the party struck in one-sided types (the table), and whenever ACLED marks
     * the event as civilian targeting; otherwise both sides are actors. */
    bool one_sided = acled_find(type, sub)->actor2 == A2_TARGET ||
                     *F(A_CIVILIAN_TARGETING) != '\0';
    if ((rc = import_add_name(r, false, F(A_ACTOR1))) != 0 ||
        (rc = import_add_names(r, false, F(A_ASSOC_ACTOR_1), ";")) != 0 ||
        (rc = import_add_name(r, one_sided, F(A_ACTOR2))) != 0 ||
        (rc = import_add_names(r, one_sided, F(A_ASSOC_ACTOR_2), ";")) != 0) {
        import_fail(msg, VIGIL_EINVAL, "actor1/actor2: not valid UTF-8");
        rc = VIGIL_EINVAL;
        goto out;
    }
    /* Civilians struck (the report index's target, which the weighted escalation detector
     * weighs): violence against civilians, or any event ACLED marks as civilian targeting. */
    if ((strcmp(type, "Violence against civilians") == 0 || *F(A_CIVILIAN_TARGETING)) &&
        !*report_target_kind(r) && (rc = import_add_name(r, true, "Civilians")) != 0)
        goto out;
    char ref[REPORT_SOURCE_REF_MAX + 1];
    if ((size_t)snprintf(ref, sizeof ref, "acled:%s", id) >= sizeof ref) {
        rc = import_fail(msg, VIGIL_EINVAL, "event_id_cnty: too long");
        goto out;
    }
    struct buf title;
    buf_init(&title, BUF_NOCAP);
    buf_addf(&title, "%s: %s%s%s%s%s", sub, F(A_LOCATION), *F(A_ADMIN1) ? ", " : "",
             F(A_ADMIN1), *F(A_COUNTRY) ? ", " : "", F(A_COUNTRY));
    rc = import_set_text(&r->title, title.data, REPORT_TITLE_MAX);
    buf_release(&title);
    if (rc != 0 || import_set_text(&r->description, F(A_NOTES), REPORT_DESC_MAX) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "notes/location: not valid UTF-8");
        goto out;
    }
    r->source_ref = xstrdup(ref);
    /* ACLED: researched by analysts from several sources, near real time: B3 (docs). */
    r->reliability = 'B';
    r->credibility = 3;
    char cmsg[REPORT_MSG_SZ];
    if ((rc = report_check(r, cmsg)) != 0)
        import_fail(msg, rc, "%s", cmsg);
out:
    if (rc)
        report_release(r);
    return rc;
#undef F
}
