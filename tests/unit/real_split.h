/* real_split.h - real multi-source events split into one report per source, for measuring
 * fusion against ground truth (tests/unit/test_fusion.c and bench/fusion_real.c).
 *
 * A UCDP GED CSV (optionally gzip-compressed: read through `gzip -dc`) becomes one report per
 * entry of `source_office` (the sources, separated by ';'; an event without sources gives one
 * report). Each source is a partner of its own, named after the source (case-folded); an
 * event citing one source twice (two SOHR articles) gives its second report to partner
 * "SOHR#2", so that an event's reports always come from different partners. Reports carry
 * the event's fields as the UCDP importer reads them (window [date_start, date_end 23:59:59],
 * point, where_prec as a radius, `best` deaths) and no source_ref (each is the partner's own
 * report: same source_ref would make fusion trivial). seq is the order in the file. The truth
 * is the GED `id`.
 */
#ifndef VIGIL_TESTS_REAL_SPLIT_H
#define VIGIL_TESTS_REAL_SPLIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "fusion/correlate.h"
#include "intel/csv.h"
#include "intel/text.h"

struct split {
    struct fusion_report *r; /* r[i].seq = i + 1 */
    int64_t *truth;          /* GED id of r[i] */
    size_t n;
    char **partners; /* partner k has acl.owner k + 1 */
    size_t npartners;
};

static int64_t split_partner(struct split *s, const char *name)
{
    for (size_t k = s->npartners; k-- > 0;)
        if (strcmp(s->partners[k], name) == 0)
            return (int64_t)k + 1;
    s->partners = xrealloc(s->partners, (s->npartners + 1) * sizeof(*s->partners));
    s->partners[s->npartners++] = xstrdup(name);
    return (int64_t)s->npartners;
}

static int split_col(const struct csv_reader *cr, const char *name)
{
    for (size_t i = 0; i < cr->n_fields; i++)
        if (strcmp(cr->fields[i], name) == 0)
            return (int)i;
    return -1;
}

/* Reads path into *s. Returns 0, or -1 when the file cannot be read or lacks a column. */
static int split_load(const char *path, struct split *s)
{
    memset(s, 0, sizeof(*s));
    size_t plen = strlen(path);
    FILE *f;
    bool gz = plen > 3 && strcmp(path + plen - 3, ".gz") == 0;
    if (gz) {
        char *cmd = xasprintf("gzip -dc '%s'", path);
        f = popen(cmd, "r");
        free(cmd);
    } else {
        f = fopen(path, "r");
    }
    if (!f)
        return -1;
    struct csv_reader cr;
    csv_init(&cr, f, ',', true);
    char msg[CSV_MSG_SZ];
    int rc = -1;
    if (csv_next(&cr, msg) != 1)
        goto out;
    int c_id = split_col(&cr, "id"), c_src = split_col(&cr, "source_office");
    int c_ds = split_col(&cr, "date_start"), c_de = split_col(&cr, "date_end");
    int c_lat = split_col(&cr, "latitude"), c_lon = split_col(&cr, "longitude");
    int c_wp = split_col(&cr, "where_prec"), c_best = split_col(&cr, "best");
    if (c_id < 0 || c_src < 0 || c_ds < 0 || c_de < 0 || c_lat < 0 || c_lon < 0 || c_wp < 0 ||
        c_best < 0)
        goto out;
    size_t alloc = 0;
    static const double prec_m[] = {0, 1000, 25000, 50000, 150000, 250000, 500000, 500000};
    while (csv_next(&cr, msg) == 1) {
        const char *const *fl = cr.fields;
        long id, wp = 1, best;
        vtime_t start, end;
        if (text_parse_long(fl[c_id], 0, 999999999999L, &id) ||
            text_parse_iso_datetime(fl[c_ds], &start) ||
            text_parse_iso_datetime(fl[c_de], &end))
            continue;
        if (*fl[c_wp] && text_parse_long(fl[c_wp], 1, 7, &wp))
            continue;
        bool has_best = *fl[c_best] && !text_parse_long(fl[c_best], 0, 100000000, &best);
        char *srcs = xstrdup(fl[c_src]);
        char *names[64];
        size_t nn = 0;
        for (char *p = srcs, *tok; nn < 64 && (tok = strsep(&p, ";"));)
            names[nn++] = tok;
        for (size_t k = 0; k < nn; k++) {
            char name[128];
            size_t dup = 1;
            for (size_t j = 0; j < k; j++)
                dup += strcasecmp(names[j], names[k]) == 0;
            snprintf(name, sizeof name, "%s", names[k]);
            for (char *q = name; *q; q++)
                *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
            if (dup > 1) {
                size_t l = strlen(name);
                snprintf(name + l, sizeof name - l, "#%zu", dup);
            }
            if (s->n == alloc) {
                alloc = alloc ? alloc * 2 : 1024;
                s->r = xrealloc(s->r, alloc * sizeof(*s->r));
                s->truth = xrealloc(s->truth, alloc * sizeof(*s->truth));
            }
            struct fusion_report *r = &s->r[s->n];
            memset(r, 0, sizeof(*r));
            r->seq = (int64_t)s->n + 1;
            r->acl.owner = split_partner(s, name);
            r->acl.tlp = 1;
            snprintf(r->event, sizeof r->event, "ASSAULT");
            r->start = start;
            r->end = end + TEXT_US_PER_DAY - VTIME_US_PER_SEC;
            r->lat = strtod(fl[c_lat], NULL);
            r->lon = strtod(fl[c_lon], NULL);
            r->precision_m = prec_m[wp];
            r->reliability = 'B';
            r->credibility = 2;
            r->dist_to_line_m = -1;
            r->has_fatalities = has_best;
            r->fatalities = has_best ? best : 0;
            s->truth[s->n++] = id;
        }
        free(srcs);
    }
    rc = s->n ? 0 : -1;
out:
    csv_release(&cr);
    if (gz)
        pclose(f);
    else
        fclose(f);
    return rc;
}

static void split_free(struct split *s)
{
    for (size_t k = 0; k < s->npartners; k++)
        free(s->partners[k]);
    free(s->partners);
    free(s->r);
    free(s->truth);
}

struct pair_counts {
    double same_both, same_incident, same_truth; /* pairs */
};

static int split_cmp2(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Pairs of reports in one incident (inc[i]), of one truth, and both, by sorting. */
static struct pair_counts split_pairs(const struct split *s, const int64_t *inc)
{
    struct pair_counts pc = {0, 0, 0};
    int64_t *k = xmalloc(s->n * 2 * sizeof(*k));
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < s->n; i++) {
            k[2 * i] = pass == 1 ? s->truth[i] : inc[i];
            k[2 * i + 1] = pass == 0 ? s->truth[i] : 0;
        }
        qsort(k, s->n, 2 * sizeof(*k), split_cmp2);
        double tot = 0;
        for (size_t i = 0, j; i < s->n; i = j) {
            for (j = i; j < s->n && k[2 * j] == k[2 * i] && k[2 * j + 1] == k[2 * i + 1]; j++)
                ;
            tot += (double)(j - i) * (double)(j - i - 1) / 2;
        }
        *(pass == 0 ? &pc.same_both : pass == 1 ? &pc.same_truth : &pc.same_incident) = tot;
    }
    free(k);
    return pc;
}

#endif
