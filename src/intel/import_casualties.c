/* import_casualties.c - daily casualty series of an area as daily-aggregate reports.
 *
 * A casualty series (e.g. a ministry of health's daily figures, as compiled by
 * TechForPalestine) is not a list of events but one figure per day for a whole area. Each row
 * becomes ONE report typed as a daily aggregate: event ASSAULT, located by the area named on
 * the command line (no point), window the period the row covers, fatalities and injured the
 * row's daily figures, grading F6 (the importer cannot judge the compiler), and the source
 * reference "casualties:AREA:YYYY-MM-DD", by which fusion knows it for an aggregate (it feeds
 * the fatality detector, never the event counts, docs/FUSION.md). See import.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "intel/csv.h"
#include "intel/import.h"
#include "intel/import_int.h"
#include "intel/text.h"

enum { C_DATE, C_PERIOD, C_KILLED, C_EXT_KILLED, C_VKILLED, C_INJURED, C_EXT_INJURED,
       C_VINJURED, C_NCOLS };

static const struct import_col cas_spec[C_NCOLS] = {
    [C_DATE] = {"report_date", true},         [C_PERIOD] = {"report_period", false},
    [C_KILLED] = {"killed", false},           [C_EXT_KILLED] = {"ext_killed", false},
    [C_VKILLED] = {"verified_killed", false}, [C_INJURED] = {"injured", false},
    [C_EXT_INJURED] = {"ext_injured", false}, [C_VINJURED] = {"verified_injured", false},
};

/* The first non-empty of the columns a, b, c as a count; -1 when all are empty. */
static int count_of(const struct import_cols *c, const char *const *f, size_t n, int a, int b,
                    int d, long *out, char msg[IMPORT_MSG_SZ])
{
    int cols[3] = {a, b, d};
    *out = -1;
    for (int i = 0; i < 3; i++) {
        const char *v = import_field(c, f, n, cols[i]);
        if (!*v)
            continue;
        double x;
        if (text_parse_double(v, &x) != 0 || x < 0 || x > REPORT_COUNT_MAX)
            return import_fail(msg, VIGIL_EINVAL, "%s: \"%.40s\" is not a count",
                               cas_spec[cols[i]].name, v);
        *out = (long)(x + 0.5);
        return 0;
    }
    return 0;
}

/* Writes "casualties:AREA" into buf, the area percent-encoded so that any name (spaces,
 * non-ASCII) makes a valid source_ref and two names never make the same one; returns its
 * length, which may exceed sz - 1 (then buf holds a truncated prefix). */
static size_t source_ref_prefix(const char *area, char *buf, size_t sz)
{
    size_t k = (size_t)snprintf(buf, sz, "casualties:");
    for (const unsigned char *s = (const unsigned char *)area; *s; s++) {
        bool plain = *s >= 0x21 && *s <= 0x7e && *s != '%';
        if (k + 4 <= sz)
            snprintf(buf + k, sz - k, plain ? "%c" : "%%%02X", *s);
        k += plain ? 1 : 3;
    }
    return k;
}

int import_casualties_row(const struct import_cols *c, const char *const *f, size_t n,
                          const char *area, struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    report_init(r);
    int rc;
    const char *date = import_field(c, f, n, C_DATE);
    vtime_t day;
    if (strlen(date) != 10 || text_parse_iso_datetime(date, &day) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "report_date: \"%.40s\" is not a date", date);
        goto out;
    }
    long hours = 24;
    const char *per = import_field(c, f, n, C_PERIOD);
    if (*per && text_parse_long(per, 0, 24L * 366 * 10, &hours) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "report_period: \"%.40s\" is not hours", per);
        goto out;
    }
    if (hours == 0) { /* the compiler's mark of a day without a report */
        rc = import_fail(msg, VIGIL_ENOENT, "report_period 0: no report for this day");
        goto out;
    }
    if ((rc = count_of(c, f, n, C_KILLED, C_EXT_KILLED, C_VKILLED, &r->fatalities, msg)) ||
        (rc = count_of(c, f, n, C_INJURED, C_EXT_INJURED, C_VINJURED, &r->injured, msg)))
        goto out;
    if (r->fatalities < 0 && r->injured < 0) {
        rc = import_fail(msg, VIGIL_ENOENT, "no daily figure (killed, injured) in this row");
        goto out;
    }
    /* the row covers the `hours` before the end of its report day */
    long days = (hours + 23) / 24;
    r->event = PLOVER_ASSAULT;
    r->start = day - (days - 1) * (INT64_C(86400) * VTIME_US_PER_SEC);
    r->end = day + INT64_C(86400) * VTIME_US_PER_SEC - 1;
    r->tprec = REPORT_TP_DAY;
    r->has_point = false;
    r->area = xstrdup(area);
    r->reliability = 'F';
    r->credibility = 6;
    char buf[REPORT_SOURCE_REF_MAX + 1];
    size_t k = source_ref_prefix(area, buf, sizeof buf);
    snprintf(buf + k, sizeof buf - k, ":%s", date);
    r->source_ref = xstrdup(buf);
    char title[256];
    snprintf(title, sizeof title, "Daily casualty aggregate, %.100s, %s: %ld killed, %ld injured",
             area, date, r->fatalities < 0 ? 0 : r->fatalities, r->injured < 0 ? 0 : r->injured);
    r->title = xstrdup(title);
    r->description = xstrdup("A daily aggregate of an area's casualty figures, not one event.");
    char cmsg[REPORT_MSG_SZ];
    if (report_check(r, cmsg) != 0)
        rc = import_fail(msg, VIGIL_EINVAL, "%s", cmsg);
out:
    if (rc)
        report_release(r);
    return rc;
}

static int cas_header(void *ctx, const char *const *f, size_t n, struct import_cols *c,
                      char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    int rc = import_map_header(cas_spec, C_NCOLS, f, n, c, msg);
    if (rc == 0 && c->idx[C_KILLED] < 0 && c->idx[C_EXT_KILLED] < 0 && c->idx[C_VKILLED] < 0)
        rc = import_fail(msg, VIGIL_EINVAL, "header: no killed column");
    return rc;
}

static int cas_row(void *ctx, const struct import_cols *c, const char *const *f, size_t n,
                   struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    return import_casualties_row(c, f, n, ctx, r, msg);
}

int import_casualties(FILE *f, const char *area, const struct import_handler *h,
                      struct import_stats *st)
{
    struct import_stats dummy = {0};
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof(*st));
    char ref[REPORT_SOURCE_REF_MAX + 1];
    if (!area || !*area || strlen(area) > 80 ||
        source_ref_prefix(area, ref, sizeof ref) + sizeof ":YYYY-MM-DD" - 1 >
            REPORT_SOURCE_REF_MAX) {
        if (h->error)
            h->error(h->ctx, 0, VIGIL_EINVAL,
                     "--area: a name of 1 to 80 bytes is required (at most 106 once spaces "
                     "and non-ASCII bytes are percent-encoded)");
        return VIGIL_EINVAL;
    }
    struct import_csv_format fmt = {',', true, cas_header, cas_row, (void *)area};
    return import_csv_records(f, &fmt, h, st);
}
