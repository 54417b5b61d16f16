/* import_ucdp.c - UCDP Georeferenced Event Dataset (GED) CSV records as event reports.
 *
 * Columns are found by name in the header (GED has 49). Every GED event is organised lethal
 * violence, so each becomes ASSAULT; type_of_violence says who the sides are (1 state-based,
 * 2 non-state, 3 one-sided: side_b is then the victims and becomes the target). The window is
 * [date_start 00:00:00, date_end 23:59:59]; date_prec 1..5 becomes day, week, week, month,
 * year; where_prec 1..7 becomes a radius (docs/STIX-PROFILE.md).
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
    U_ID,
    U_TYPE,
    U_DYAD_NAME,
    U_CONFLICT_NAME,
    U_SIDE_A,
    U_SIDE_B,
    U_WHERE_PREC,
    U_WHERE_COORDINATES,
    U_WHERE_DESCRIPTION,
    U_ADM_1,
    U_COUNTRY,
    U_LATITUDE,
    U_LONGITUDE,
    U_DATE_PREC,
    U_DATE_START,
    U_DATE_END,
    U_BEST,
    U_DEATHS_CIVILIANS,
    U_SOURCE_HEADLINE,
    U_NCOLS
};

static const struct import_col ucdp_spec[U_NCOLS] = {
    [U_ID] = {"id", true},
    [U_TYPE] = {"type_of_violence", true},
    [U_DYAD_NAME] = {"dyad_name", false},
    [U_CONFLICT_NAME] = {"conflict_name", false},
    [U_SIDE_A] = {"side_a", false},
    [U_SIDE_B] = {"side_b", false},
    [U_WHERE_PREC] = {"where_prec", false},
    [U_WHERE_COORDINATES] = {"where_coordinates", false},
    [U_WHERE_DESCRIPTION] = {"where_description", false},
    [U_ADM_1] = {"adm_1", false},
    [U_COUNTRY] = {"country", false},
    [U_LATITUDE] = {"latitude", true},
    [U_LONGITUDE] = {"longitude", true},
    [U_DATE_PREC] = {"date_prec", false},
    [U_DATE_START] = {"date_start", true},
    [U_DATE_END] = {"date_end", true},
    [U_BEST] = {"best", false},
    [U_DEATHS_CIVILIANS] = {"deaths_civilians", false},
    [U_SOURCE_HEADLINE] = {"source_headline", false},
};

int import_ucdp_map(int type_of_violence, enum plover_event *e, const char **mode)
{
    if (type_of_violence < 1 || type_of_violence > 3)
        return VIGIL_EINVAL;
    /* state-based, non-state and one-sided violence are all PLOVER ASSAULT; GED does not
     * record the weapon, so there is no mode */
    *e = PLOVER_ASSAULT;
    *mode = NULL;
    return 0;
}

int import_ucdp_header(const char *const *f, size_t n, struct import_cols *c,
                       char msg[IMPORT_MSG_SZ])
{
    return import_map_header(ucdp_spec, U_NCOLS, f, n, c, msg);
}

int import_ucdp_row(const struct import_cols *c, const char *const *f, size_t n,
                    struct event_report *r, char msg[IMPORT_MSG_SZ])
{
#define F(col) import_field(c, f, n, (col))
    int rc;
    long type, v;
    report_init(r);
    const char *id = F(U_ID);
    if (text_parse_long(id, 0, 999999999999L, &v) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "id: \"%.40s\" is not a GED event id", id);
        goto out;
    }
    if (text_parse_long(F(U_TYPE), 1, 3, &type) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "type_of_violence: must be 1, 2 or 3");
        goto out;
    }
    import_ucdp_map((int)type, &r->event, &r->mode);
    if (text_parse_iso_datetime(F(U_DATE_START), &r->start) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "date_start: \"%.40s\" is not a date",
                         F(U_DATE_START));
        goto out;
    }
    if (text_parse_iso_datetime(F(U_DATE_END), &r->end) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "date_end: \"%.40s\" is not a date", F(U_DATE_END));
        goto out;
    }
    /* GED dates are days (written with a 00:00:00 time): the window covers the last day */
    r->end += TEXT_US_PER_DAY - VTIME_US_PER_SEC;
    if (r->end < r->start) {
        rc = import_fail(msg, VIGIL_EINVAL, "date_end: earlier than date_start");
        goto out;
    }
    long dp = 1;
    if (*F(U_DATE_PREC) && text_parse_long(F(U_DATE_PREC), 1, 5, &dp) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "date_prec: must be 1 to 5");
        goto out;
    }
    static const enum report_tprec tprec[] = {REPORT_TP_DAY, REPORT_TP_DAY, REPORT_TP_WEEK,
                                              REPORT_TP_WEEK, REPORT_TP_MONTH, REPORT_TP_YEAR};
    r->tprec = tprec[dp];
    rc = import_point(r, F(U_LATITUDE), F(U_LONGITUDE), "latitude", "longitude", msg);
    if (rc)
        goto out;
    long wp = 1;
    if (*F(U_WHERE_PREC) && text_parse_long(F(U_WHERE_PREC), 1, 7, &wp) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "where_prec: must be 1 to 7");
        goto out;
    }
    /* 1 exact place, 2 within 25 km, 3 ADM2, 4 ADM1, 5 between ADM1s or a linear feature,
     * 6 country, 7 international waters or airspace */
    static const long prec_m[] = {0, 1000, 25000, 50000, 150000, 250000, 500000, 500000};
    r->precision_m = prec_m[wp];
    if (*F(U_BEST)) {
        if (text_parse_long(F(U_BEST), 0, REPORT_COUNT_MAX, &v) != 0) {
            rc = import_fail(msg, VIGIL_EINVAL, "best: \"%.40s\" is not a count", F(U_BEST));
            goto out;
        }
        r->fatalities = v;
    }
    /* Roles: in state-based (1) and non-state (2) violence both sides are engaged and GED
     * names no initiator: both are actors. In one-sided violence (3) side_a is the actor and
     * side_b (civilians) the target. A side that lists several groups ("Ahrar al-Sham, HTS")
     * gives one name per group. */
    if ((rc = import_add_names(r, false, F(U_SIDE_A), ", ")) != 0 ||
        (rc = import_add_names(r, type == 3, F(U_SIDE_B), ", ")) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "side_a/side_b: not a valid name");
        goto out;
    }
    /* Civilians struck (the report index's target, which the weighted escalation detector
     * weighs): one-sided violence, or civilians among the dead of the other kinds. */
    long civ = 0;
    if (*F(U_DEATHS_CIVILIANS) &&
        text_parse_long(F(U_DEATHS_CIVILIANS), 0, REPORT_COUNT_MAX, &civ) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "deaths_civilians: \"%.40s\" is not a count",
                         F(U_DEATHS_CIVILIANS));
        goto out;
    }
    if ((type == 3 || civ > 0) && !*report_target_kind(r) &&
        (rc = import_add_name(r, true, "Civilians")) != 0)
        goto out;
    struct buf title;
    buf_init(&title, BUF_NOCAP);
    buf_adds(&title, *F(U_DYAD_NAME) ? F(U_DYAD_NAME) : F(U_CONFLICT_NAME));
    if (*F(U_WHERE_COORDINATES))
        buf_addf(&title, " - %s", F(U_WHERE_COORDINATES));
    if (*F(U_COUNTRY))
        buf_addf(&title, ", %s", F(U_COUNTRY));
    struct buf desc;
    buf_init(&desc, BUF_NOCAP);
    buf_adds(&desc, F(U_WHERE_DESCRIPTION));
    if (*F(U_ADM_1))
        buf_addf(&desc, "%s(%s)", desc.len ? " " : "", F(U_ADM_1));
    if (*F(U_SOURCE_HEADLINE))
        buf_addf(&desc, "%sSources: %s", desc.len ? ". " : "", F(U_SOURCE_HEADLINE));
    rc = import_set_text(&r->title, title.data, REPORT_TITLE_MAX);
    if (rc == 0)
        rc = import_set_text(&r->description, desc.data, REPORT_DESC_MAX);
    buf_release(&title);
    buf_release(&desc);
    if (rc) {
        rc = import_fail(msg, VIGIL_EINVAL, "dyad_name/where_description: not valid UTF-8");
        goto out;
    }
    r->source_ref = xasprintf("ucdp:%s", id);
    /* UCDP: coded by researchers after the fact, each event checked: B2 (docs). */
    r->reliability = 'B';
    r->credibility = 2;
    char cmsg[REPORT_MSG_SZ];
    if ((rc = report_check(r, cmsg)) != 0)
        import_fail(msg, rc, "%s", cmsg);
out:
    if (rc)
        report_release(r);
    return rc;
#undef F
}
