/* import_gdelt.c - GDELT 2.0 event records (61 tab-separated columns, no header).
 *
 * The CAMEO event code becomes a PLOVER event and mode (CAMEO2PLOVER-2021 of the PLOVER
 * project, with the refinements listed in cameo_table); ActionGeo gives the place, its type
 * the precision; SQLDATE the day. Records without ActionGeo coordinates, and CAMEO 01 (public
 * statements) and 02 (appeals), which PLOVER does not code, are refused with VIGIL_ENOENT.
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
    G_GLOBALEVENTID = 0,
    G_SQLDATE = 1,
    G_ACTOR1NAME = 6,
    G_ACTOR2NAME = 16,
    G_EVENTCODE = 26,
    G_EVENTBASECODE = 27,
    G_EVENTROOTCODE = 28,
    G_NUMSOURCES = 32,
    G_ACTIONGEO_TYPE = 51,
    G_ACTIONGEO_FULLNAME = 52,
    G_ACTIONGEO_LAT = 56,
    G_ACTIONGEO_LONG = 57,
    G_SOURCEURL = 60
};

/* CAMEO code -> PLOVER. Two-digit entries are the root codes; longer ones refine them and the
 * longest matching prefix wins. "Vigil" marks mappings finer than CAMEO2PLOVER-2021. */
static const struct cameo_map {
    const char *code;
    enum plover_event event; /* PLOVER_NONE: not coded in PLOVER */
    const char *mode;
} cameo_table[] = {
    {"01", PLOVER_NONE, NULL},      /* make public statement */
    {"02", PLOVER_NONE, NULL},      /* appeal */
    {"03", PLOVER_AGREE, NULL},     /* express intent to cooperate */
    {"04", PLOVER_CONSULT, NULL},
    {"041", PLOVER_CONSULT, "phone"},
    {"042", PLOVER_CONSULT, "visit"},
    {"043", PLOVER_CONSULT, "host"},
    {"044", PLOVER_CONSULT, "third-party"},
    {"05", PLOVER_SUPPORT, NULL},   /* engage in diplomatic cooperation */
    {"06", PLOVER_COOPERATE, NULL}, /* engage in material cooperation */
    {"07", PLOVER_AID, NULL},
    {"071", PLOVER_AID, "economic"},
    {"072", PLOVER_AID, "military"},
    {"073", PLOVER_AID, "humanitarian"},
    {"075", PLOVER_AID, "asylum"},
    {"08", PLOVER_CONCEDE, NULL},   /* yield: 080-083 verbal */
    {"0813", PLOVER_RETREAT, "ease"},
    {"0814", PLOVER_RETREAT, "ease"},
    {"084", PLOVER_RETREAT, NULL},  /* 084-087 material */
    {"0841", PLOVER_RETREAT, "release"},
    {"0842", PLOVER_RETREAT, "return"},
    {"085", PLOVER_RETREAT, "ease"},
    {"086", PLOVER_RETREAT, "access"},
    {"087", PLOVER_RETREAT, "disarm"},
    {"0871", PLOVER_RETREAT, "ceasefire"},
    {"0872", PLOVER_RETREAT, "withdraw"},
    {"09", PLOVER_ACCUSE, "investigate"},
    {"10", PLOVER_DEMAND, NULL},
    {"101", PLOVER_DEMAND, "assist"},
    {"102", PLOVER_DEMAND, "assist"},
    {"103", PLOVER_DEMAND, "assist"},
    {"104", PLOVER_DEMAND, "change"},
    {"105", PLOVER_DEMAND, "yield"},
    {"106", PLOVER_DEMAND, "meet"},
    {"107", PLOVER_DEMAND, "meet"},
    {"108", PLOVER_DEMAND, "meet"},
    {"11", PLOVER_ACCUSE, "disapprove"},
    {"12", PLOVER_REJECT, NULL},
    {"121", PLOVER_REJECT, "assist"},
    {"122", PLOVER_REJECT, "assist"},
    {"123", PLOVER_REJECT, "change"},
    {"124", PLOVER_REJECT, "change"},
    {"1243", PLOVER_REJECT, "yield"},
    {"1244", PLOVER_REJECT, "yield"},
    {"1245", PLOVER_REJECT, "yield"},
    {"1246", PLOVER_REJECT, "yield"},
    {"125", PLOVER_REJECT, "meet"},
    {"126", PLOVER_REJECT, "meet"},
    {"127", PLOVER_REJECT, "meet"},
    {"128", PLOVER_REJECT, "yield"},
    {"129", PLOVER_REJECT, "yield"},
    {"13", PLOVER_THREATEN, NULL},
    {"1311", PLOVER_THREATEN, "relations"},
    {"1312", PLOVER_THREATEN, "restrict"},
    {"1313", PLOVER_THREATEN, "relations"},
    {"132", PLOVER_THREATEN, "ban"},
    {"1321", PLOVER_THREATEN, "political"},
    {"1323", PLOVER_THREATEN, "restrict"},
    {"1324", PLOVER_THREATEN, "restrict"},
    {"133", PLOVER_THREATEN, "relations"},
    {"134", PLOVER_THREATEN, "relations"},
    {"135", PLOVER_THREATEN, "relations"},
    {"136", PLOVER_THREATEN, "expel"},
    {"137", PLOVER_THREATEN, "violence"},
    {"138", PLOVER_THREATEN, "violence"},
    {"1381", PLOVER_THREATEN, "restrict"},
    {"1382", PLOVER_THREATEN, "territory"},
    {"139", PLOVER_THREATEN, "relations"},
    {"14", PLOVER_PROTEST, NULL},
    {"141", PLOVER_PROTEST, "demo"},
    {"142", PLOVER_PROTEST, "strike-hun"},
    {"143", PLOVER_PROTEST, "boycott"},
    {"144", PLOVER_PROTEST, "obstruct"},
    {"145", PLOVER_PROTEST, "riot"},
    {"15", PLOVER_MOBILIZE, NULL},  /* exhibit force posture */
    {"151", PLOVER_MOBILIZE, "police"},
    {"152", PLOVER_MOBILIZE, "troops"},
    {"153", PLOVER_MOBILIZE, "police"},
    {"154", PLOVER_MOBILIZE, "troops"},
    {"16", PLOVER_SANCTION, NULL},  /* reduce relations */
    {"161", PLOVER_SANCTION, "withdraw"},
    {"162", PLOVER_SANCTION, "discontinue"},
    {"163", PLOVER_COERCE, "restrict"}, /* embargo, boycott, sanctions */
    {"164", PLOVER_SANCTION, "withdraw"},
    {"165", PLOVER_SANCTION, "withdraw"},
    {"166", PLOVER_SANCTION, "expel"},
    {"17", PLOVER_COERCE, NULL},
    {"171", PLOVER_COERCE, "confiscate"},
    {"1712", PLOVER_ASSAULT, "destroy"},
    {"172", PLOVER_COERCE, "restrict"},
    {"1722", PLOVER_COERCE, "ban"},
    {"1723", PLOVER_COERCE, "curfew"},
    {"1724", PLOVER_COERCE, "martial-law"},
    {"173", PLOVER_COERCE, "arrest"},
    {"174", PLOVER_COERCE, "deport"},
    {"175", PLOVER_ASSAULT, NULL},  /* violent repression */
    {"18", PLOVER_ASSAULT, NULL},   /* assault */
    {"181", PLOVER_ASSAULT, "abduct"},
    {"182", PLOVER_ASSAULT, "beat"},
    {"1821", PLOVER_ASSAULT, "sexual"},
    {"1822", PLOVER_ASSAULT, "torture"},
    {"183", PLOVER_ASSAULT, "suicide-attack"},
    {"1832", PLOVER_ASSAULT, "explosives"},
    {"1833", PLOVER_ASSAULT, "explosives"},
    {"184", PLOVER_ASSAULT, "abduct"},
    {"185", PLOVER_ASSAULT, "assassinate"},
    {"186", PLOVER_ASSAULT, "assassinate"},
    {"19", PLOVER_ASSAULT, NULL},   /* fight */
    {"191", PLOVER_COERCE, "restrict"},   /* blockade */
    {"192", PLOVER_COERCE, "confiscate"}, /* occupy territory */
    {"193", PLOVER_ASSAULT, "firearms"},
    {"194", PLOVER_ASSAULT, "heavy-weapons"},
    {"195", PLOVER_ASSAULT, "aerial"},    /* Vigil; PLOVER: heavy-weapons */
    {"1952", PLOVER_ASSAULT, "drone"},    /* Vigil: remotely piloted aerial munitions */
    {"20", PLOVER_ASSAULT, NULL},   /* unconventional mass violence */
    {"201", PLOVER_ASSAULT, "cleansing"},
    {"202", PLOVER_ASSAULT, "cleansing"},
    {"203", PLOVER_ASSAULT, "cleansing"},
    {"204", PLOVER_ASSAULT, "unconventional"},
};

int import_cameo_map(const char *code, enum plover_event *e, const char **mode)
{
    size_t n = strlen(code);
    if (n < 2 || n > 4)
        return VIGIL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (code[i] < '0' || code[i] > '9')
            return VIGIL_EINVAL;
    int root = (code[0] - '0') * 10 + (code[1] - '0');
    if (root < 1 || root > 20)
        return VIGIL_EINVAL;
    const struct cameo_map *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof cameo_table / sizeof cameo_table[0]; i++) {
        size_t k = strlen(cameo_table[i].code);
        if (k <= n && k > best_len && strncmp(code, cameo_table[i].code, k) == 0) {
            best = &cameo_table[i];
            best_len = k;
        }
    }
    if (!best)
        return VIGIL_EINVAL;
    if (best->event == PLOVER_NONE)
        return VIGIL_ENOENT;
    *e = best->event;
    *mode = plover_mode_lookup(best->event, best->mode);
    return 0;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int import_gdelt_row(const char *const *f, size_t n, struct event_report *r,
                     char msg[IMPORT_MSG_SZ])
{
    int rc;
    long v;
    report_init(r);
    if (n != GDELT_NCOLS) {
        rc = import_fail(msg, VIGIL_EINVAL, "record has %zu fields, GDELT 2.0 events have %d",
                         n, GDELT_NCOLS);
        goto out;
    }
    if (!all_digits(f[G_GLOBALEVENTID], 1, 19)) {
        rc = import_fail(msg, VIGIL_EINVAL, "GLOBALEVENTID: \"%.30s\" is not a number",
                         f[G_GLOBALEVENTID]);
        goto out;
    }
    const char *code = f[G_EVENTCODE], *root = f[G_EVENTROOTCODE];
    if (!all_digits(root, 2, 2) || strncmp(code, root, 2) != 0 ||
        strncmp(f[G_EVENTBASECODE], root, 2) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "EventRootCode: \"%.10s\" does not match EventCode "
                         "\"%.10s\"", root, code);
        goto out;
    }
    rc = import_cameo_map(code, &r->event, &r->mode);
    if (rc == VIGIL_ENOENT) {
        import_fail(msg, rc, "EventCode: CAMEO %.10s (root %s) is not coded in PLOVER", code,
                    root);
        goto out;
    }
    if (rc) {
        import_fail(msg, rc, "EventCode: \"%.10s\" is not a CAMEO code", code);
        goto out;
    }
    const char *d = f[G_SQLDATE];
    if (!all_digits(d, 8, 8) || text_parse_long(d, 0, 99999999L, &v) != 0 ||
        text_date((int)(v / 10000), (int)(v / 100 % 100), (int)(v % 100), &r->start) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "SQLDATE: \"%.20s\" is not a date YYYYMMDD", d);
        goto out;
    }
    r->end = r->start + TEXT_US_PER_DAY - VTIME_US_PER_SEC;
    r->tprec = REPORT_TP_DAY;
    long gt = 0;
    if (*f[G_ACTIONGEO_TYPE] && text_parse_long(f[G_ACTIONGEO_TYPE], 0, 5, &gt) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "ActionGeo_Type: must be 0 to 5");
        goto out;
    }
    if (gt == 0 || !*f[G_ACTIONGEO_LAT] || !*f[G_ACTIONGEO_LONG]) {
        rc = import_fail(msg, VIGIL_ENOENT, "ActionGeo_Lat/ActionGeo_Long: the event has no "
                         "location");
        goto out;
    }
    rc = import_point(r, f[G_ACTIONGEO_LAT], f[G_ACTIONGEO_LONG], "ActionGeo_Lat",
                      "ActionGeo_Long", msg);
    if (rc)
        goto out;
    /* 1 country, 2 US state, 3 US city, 4 world city, 5 world state (ADM1) */
    static const long prec_m[] = {0, 500000, 200000, 5000, 5000, 100000};
    r->precision_m = prec_m[gt];
    if (*f[G_NUMSOURCES] && text_parse_long(f[G_NUMSOURCES], 0, 1000000000L, &v) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "NumSources: \"%.20s\" is not a count",
                         f[G_NUMSOURCES]);
        goto out;
    }
    if (import_add_name(r, false, f[G_ACTOR1NAME]) != 0 ||
        import_add_name(r, true, f[G_ACTOR2NAME]) != 0) {
        rc = import_fail(msg, VIGIL_EINVAL, "Actor1Name/Actor2Name: not valid UTF-8");
        goto out;
    }
    struct buf t;
    buf_init(&t, BUF_NOCAP);
    buf_addf(&t, "CAMEO %s", code);
    if (*f[G_ACTOR1NAME])
        buf_addf(&t, " %s", f[G_ACTOR1NAME]);
    if (*f[G_ACTOR2NAME])
        buf_addf(&t, " -> %s", f[G_ACTOR2NAME]);
    if (*f[G_ACTIONGEO_FULLNAME])
        buf_addf(&t, " (%s)", f[G_ACTIONGEO_FULLNAME]);
    rc = import_set_text(&r->title, t.data, REPORT_TITLE_MAX);
    buf_reset(&t);
    if (*f[G_SOURCEURL])
        buf_addf(&t, "Source: %s", f[G_SOURCEURL]);
    if (rc == 0)
        rc = import_set_text(&r->description, t.data, REPORT_DESC_MAX);
    buf_release(&t);
    if (rc) {
        rc = import_fail(msg, VIGIL_EINVAL, "ActionGeo_FullName/SOURCEURL: not valid UTF-8");
        goto out;
    }
    r->source_ref = xasprintf("gdelt:%s", f[G_GLOBALEVENTID]);
    /* GDELT is coded by machine from news text: the truth of one record cannot be judged. */
    r->reliability = 'F';
    r->credibility = 6;
    char cmsg[REPORT_MSG_SZ];
    if ((rc = report_check(r, cmsg)) != 0)
        import_fail(msg, rc, "%s", cmsg);
out:
    if (rc)
        report_release(r);
    return rc;
}
