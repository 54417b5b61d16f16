/* alert_why.c - "why it fired": an alert's rule or detector in words, with its figures.
 *
 * The words come from the rule as parsed (fusion/rules.h) or from the escalation detector's
 * parameters; the figures come only from the reader's view of the alert, never from the
 * alert's full evidence, so that they leak nothing a reader may not read (S3).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "service/alerts_int.h"

static void list_or(struct buf *b, const char (*items)[FUSION_CODE_SZ], size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_addf(b, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", items[i]);
}

static void distance(struct buf *b, double m)
{
    if (m >= 1000)
        buf_addf(b, "%g km", m / 1000);
    else
        buf_addf(b, "%g m", m);
}

static void duration(struct buf *b, vtime_t us)
{
    double h = (double)us / 3600e6;
    if (h >= 48 && fmod(h, 24) == 0)
        buf_addf(b, "%g days", h / 24);
    else
        buf_addf(b, "%g h", h);
}

/* "a warning of ASSAULT (mode troops) in zone X within 2 km of a line, graded C3 or better" */
static void sel_words(struct buf *b, const struct fusion_sel *s)
{
    buf_adds(b, s->future == 1 ? "a warning (future) of " : s->future == 0 ? "an observed " : "a ");
    if (s->nevents)
        list_or(b, s->events, s->nevents);
    else
        buf_adds(b, "event");
    buf_adds(b, s->future == 1 ? "" : " report");
    if (s->nmodes) {
        buf_adds(b, " (mode ");
        list_or(b, s->modes, s->nmodes);
        buf_adds(b, ")");
    }
    if (s->nzones) {
        buf_adds(b, " in zone ");
        for (size_t i = 0; i < s->nzones; i++)
            buf_addf(b, "%s%s", i ? " or " : "", s->zones[i]);
    }
    if (s->near_line_m >= 0) {
        buf_adds(b, " within ");
        distance(b, s->near_line_m);
        buf_adds(b, " of a line");
    }
    if (s->opposite_side)
        buf_adds(b, " on the other side of the line");
    if (s->other_source)
        buf_adds(b, " from another source");
    if (s->min_rel)
        buf_addf(b, ", graded %c%d or better", s->min_rel, s->min_cred ? s->min_cred : 6);
}

static void alt_words(struct buf *b, const struct fusion_rule *r, const struct fusion_alt *a)
{
    if (a->kind == FUSION_ALT_SOURCES) {
        buf_addf(b, "the incident has at least %d independent sources", a->n);
        return;
    }
    if (a->kind == FUSION_ALT_COUNT)
        buf_addf(b, "at least %d reports of ", a->n);
    sel_words(b, a->has_sel ? &a->sel : &r->match);
    buf_adds(b, " within ");
    distance(b, a->within_m);
    buf_adds(b, " and ");
    duration(b, a->within_us);
    buf_adds(b, a->kind == FUSION_ALT_COUNT ? "" : " of it");
}

static void rule_words(struct buf *b, const struct fusion_rule *r)
{
    buf_adds(b, "Fires on ");
    sel_words(b, &r->match);
    for (size_t i = 0; i < r->nreq; i++) {
        buf_adds(b, i ? "; and " : " when ");
        for (size_t j = 0; j < r->req[i].nalt; j++) {
            buf_adds(b, j ? ", or " : "");
            alt_words(b, r, &r->req[i].alt[j]);
        }
    }
    if (r->min_confidence > 0)
        buf_addf(b, "; with a confidence of at least %d%%", r->min_confidence);
    buf_addf(b, ". Severity %s.", fusion_severity_name(r->severity));
}

/* The zone named is the view's (v->zone), never the alert's own: a zone taken from an
 * agreement the reader may not read is not theirs to know (fusion/alerts.h). */
static void esc_words(struct buf *b, const struct fusion_alert *a,
                      const struct fusion_alert_view *v)
{
    const struct fusion_esc_params *p = &a->esc;
    const char *what = p->measure == FUSION_ESC_FATAL ? "fatalities"
                       : p->measure == FUSION_ESC_WEIGHTED
                           ? "weight (more with deaths, injured and remote or area weapons)"
                           : "count";
    buf_addf(b, "Escalation detector (%s): the daily %s of ", fusion_esc_name(p->measure), what);
    for (size_t i = 0; i < p->nevents; i++)
        buf_addf(b, "%s%s", i ? (i + 1 == p->nevents ? " or " : ", ") : "", p->events[i]);
    buf_addf(b, " events %s%s rose above what the previous %d days lead to expect: over a "
                "window of %d days, the evidence for a %g-fold rise passed the threshold %g "
                "(a one-sided CUSUM test).",
             !a->esc_zone ? "in all zones" : v->zone ? "in " : "in its zone",
             a->esc_zone && v->zone ? v->zone : "",
             p->baseline_days, p->window_days, p->shift, p->threshold);
}

json_t *alert_why(const struct fusion_alert *a, const struct fusion_alert_view *v)
{
    struct buf b;
    buf_init(&b, 4096);
    json_t *fig = json_pack("{s:I, s:i}", "evidence", (json_int_t)v->nevidence, "confidence",
                            v->confidence);
    if (a->kind == FUSION_ALERT_RULE && a->rule) {
        rule_words(&b, a->rule);
        json_object_set_new(fig, "min_confidence", json_integer(a->rule->min_confidence));
    } else {
        esc_words(&b, a, v);
        json_object_set_new(fig, "baseline_days", json_integer(a->esc.baseline_days));
        json_object_set_new(fig, "window_days", json_integer(a->esc.window_days));
        json_object_set_new(fig, "threshold", json_real(a->esc.threshold));
        json_object_set_new(fig, "shift", json_real(a->esc.shift));
    }
    size_t partners = 0, warnings = 0;
    for (size_t i = 0; i < v->nevidence; i++) {
        const struct fusion_report *r = v->evidence[i];
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = v->evidence[k]->acl.owner == r->acl.owner;
        partners += !seen;
        warnings += r->future;
    }
    json_object_set_new(fig, "partners", json_integer((json_int_t)partners));
    json_object_set_new(fig, "warnings", json_integer((json_int_t)warnings));
    json_t *o = json_pack("{s:s, s:o}", "text", b.data, "figures", fig);
    buf_release(&b);
    return o;
}
