/* rules.c - the rules file parser and rule evaluation. See rules.h and docs/RULES.md. */
#include "fusion/rules.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "fusion/confidence.h"

#define MAX_TOKENS 64

static const char *const sev_names[] = {"low", "medium", "high", "critical"};

const char *fusion_severity_name(enum fusion_severity s)
{
    return (unsigned)s < 4 ? sev_names[s] : "unknown";
}

/* ---- parser ----------------------------------------------------------------------------- */

struct parser {
    int line;
    char *msg;
    struct fusion_rules *rs;
    struct fusion_rule *cur; /* the rule block being read, or NULL */
    bool in_esc, seen_esc;
    unsigned seen; /* keys seen in the current block (bit per key) */
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
    int n = snprintf(ps->msg, FUSION_RULES_MSG_SZ, "line %d: ", ps->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->msg + n, FUSION_RULES_MSG_SZ - (size_t)n, fmt, ap);
    va_end(ap);
    return VIGIL_EINVAL;
}

/* A token: text[0..len) of the line, quotes still in. */
struct tok {
    const char *s;
    size_t len;
};

static bool tok_is(const struct tok *t, const char *word)
{
    return strlen(word) == t->len && strncmp(t->s, word, t->len) == 0;
}

/* Splits s[0..len) at unquoted whitespace. Returns the count, or -1 for an unclosed quote,
 * -2 for too many tokens. */
static int tokenize(const char *s, size_t len, struct tok *out, int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        bool q = false;
        while (i < len && (q || !isspace((unsigned char)s[i]))) {
            if (s[i] == '"')
                q = !q;
            i++;
        }
        if (q)
            return -1;
        if (n == max)
            return -2;
        out[n].s = s + start;
        out[n].len = i - start;
        n++;
    }
    return n;
}

/* Parses a decimal number s[0..len) followed by one of the units; *out = number x factor. */
static bool parse_unit(const char *s, size_t len, const char *const *units, const double *factor,
                       double *out)
{
    char tmp[48];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end == tmp || errno || !isfinite(v) || v < 0 || !isdigit((unsigned char)tmp[0]))
        return false;
    for (size_t i = 0; units[i]; i++)
        if (strcmp(end, units[i]) == 0) {
            *out = v * factor[i];
            return true;
        }
    return false;
}

static bool parse_dist(const struct tok *t, double *m)
{
    static const char *const u[] = {"km", "m", NULL};
    static const double f[] = {1000, 1};
    return parse_unit(t->s, t->len, u, f, m) && *m <= 1e7;
}

static bool parse_dur(const struct tok *t, vtime_t *us)
{
    static const char *const u[] = {"min", "h", "d", NULL};
    static const double f[] = {60, 3600, 86400};
    double secs;
    if (!parse_unit(t->s, t->len, u, f, &secs) || secs > 366.0 * 86400)
        return false;
    *us = (vtime_t)llround(secs * (double)VTIME_US_PER_SEC);
    return true;
}

static bool parse_int(const char *s, size_t len, long lo, long hi, long *out)
{
    char tmp[24];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)tmp[i]))
            return false;
    errno = 0;
    long v = strtol(tmp, NULL, 10);
    if (errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool code_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Parses a comma list (items optionally quoted) into rows of `width` bytes. */
static int parse_list(struct parser *ps, const char *what, const char *s, size_t len, char *rows,
                      size_t width, size_t *n, bool codes)
{
    size_t i = 0;
    *n = 0;
    if (len == 0)
        return fail(ps, "empty %s list", what);
    while (i <= len) {
        const char *item;
        size_t ilen;
        if (i < len && s[i] == '"') {
            const char *close = memchr(s + i + 1, '"', len - i - 1);
            if (!close)
                return fail(ps, "unclosed quote in %s list", what);
            item = s + i + 1;
            ilen = (size_t)(close - item);
            i = (size_t)(close - s) + 1;
            if (i < len && s[i] != ',')
                return fail(ps, "expected ',' after a quoted %s", what);
        } else {
            const char *comma = memchr(s + i, ',', len - i);
            item = s + i;
            ilen = comma ? (size_t)(comma - item) : len - i;
            i += ilen;
        }
        if (ilen == 0)
            return fail(ps, "empty item in %s list", what);
        if (ilen >= width)
            return fail(ps, "%s longer than %zu characters", what, width - 1);
        for (size_t k = 0; k < ilen; k++) {
            unsigned char c = (unsigned char)item[k];
            if (codes ? !code_char((char)c) : (c < 0x20 || c == 0x7f || c == '"'))
                return fail(ps, "bad character in %s '%.*s'", what, (int)ilen, item);
        }
        if (*n == FUSION_LIST_MAX)
            return fail(ps, "more than %d items in %s list", FUSION_LIST_MAX, what);
        memcpy(rows + *n * width, item, ilen);
        rows[*n * width + ilen] = '\0';
        (*n)++;
        i++; /* the comma, or past the end */
    }
    return 0;
}

static void sel_init(struct fusion_sel *s)
{
    memset(s, 0, sizeof(*s));
    s->future = -1;
    s->near_line_m = -1;
}

/* Parses selector terms t[0..n); relative terms only when `relative`. */
static int parse_sel(struct parser *ps, const struct tok *t, int n, bool relative,
                     struct fusion_sel *s)
{
    for (int i = 0; i < n; i++) {
        const char *colon = memchr(t[i].s, ':', t[i].len);
        size_t klen = colon ? (size_t)(colon - t[i].s) : t[i].len;
        const char *v = colon ? colon + 1 : NULL;
        size_t vlen = colon ? t[i].len - klen - 1 : 0;
        int rc = 0;
#define KEY_IS(w) (klen == strlen(w) && strncmp(t[i].s, (w), klen) == 0)
        if (!colon && (tok_is(&t[i], "future") || tok_is(&t[i], "observed"))) {
            int want = tok_is(&t[i], "future");
            if (s->future != -1 && s->future != want)
                return fail(ps, "both 'future' and 'observed'");
            s->future = want;
        } else if (colon && KEY_IS("event")) {
            rc = parse_list(ps, "event", v, vlen, &s->events[0][0], FUSION_CODE_SZ, &s->nevents,
                            true);
        } else if (colon && KEY_IS("mode")) {
            rc = parse_list(ps, "mode", v, vlen, &s->modes[0][0], FUSION_CODE_SZ, &s->nmodes, true);
        } else if (colon && KEY_IS("zone")) {
            rc =
                parse_list(ps, "zone", v, vlen, &s->zones[0][0], FUSION_ZONE_SZ, &s->nzones, false);
        } else if (colon && KEY_IS("near_line")) {
            struct tok d = {v, vlen};
            if (!parse_dist(&d, &s->near_line_m))
                return fail(ps, "near_line needs a distance like 2km or 500m");
        } else if (colon && KEY_IS("grade")) {
            if (vlen != 2 || v[0] < 'A' || v[0] > 'F' || v[1] < '1' || v[1] > '6')
                return fail(ps, "grade needs a grade like C3");
            s->min_rel = v[0];
            s->min_cred = v[1] - '0';
        } else if (colon && KEY_IS("side") && vlen == 8 && strncmp(v, "opposite", 8) == 0) {
            if (!relative)
                return fail(ps, "side:opposite is only meaningful in require");
            s->opposite_side = true;
        } else if (colon && KEY_IS("source") && vlen == 5 && strncmp(v, "other", 5) == 0) {
            if (!relative)
                return fail(ps, "source:other is only meaningful in require");
            s->other_source = true;
        } else {
            return fail(ps, "unknown term '%.*s'", (int)t[i].len, t[i].s);
        }
#undef KEY_IS
        if (rc)
            return rc;
    }
    return 0;
}

/* "N" after a prefix such as "sources>=". */
static bool parse_ge(const struct tok *t, const char *prefix, long *n)
{
    size_t pl = strlen(prefix);
    return t->len > pl && strncmp(t->s, prefix, pl) == 0 &&
           parse_int(t->s + pl, t->len - pl, 1, 1000, n);
}

static int parse_alt(struct parser *ps, const char *s, size_t len, struct fusion_alt *a)
{
    struct tok t[MAX_TOKENS];
    int n = tokenize(s, len, t, MAX_TOKENS);
    if (n == -1)
        return fail(ps, "unclosed quote");
    if (n < 0)
        return fail(ps, "more than %d words in one alternative", MAX_TOKENS);
    if (n == 0)
        return fail(ps, "empty alternative in require");
    memset(a, 0, sizeof(*a));
    sel_init(&a->sel);
    long v;
    int first = 0;
    if (tok_is(&t[0], "second_source") || parse_ge(&t[0], "sources>=", &v)) {
        a->kind = FUSION_ALT_SOURCES;
        a->n = tok_is(&t[0], "second_source") ? 2 : (int)v;
        if (n > 1)
            return fail(ps, "nothing may follow '%.*s'", (int)t[0].len, t[0].s);
        return 0;
    }
    if (t[0].len >= 6 && strncmp(t[0].s, "count>", 6) == 0) {
        if (!parse_ge(&t[0], "count>=", &v))
            return fail(ps, "count needs the form count>=N with N in 1..1000");
        a->kind = FUSION_ALT_COUNT;
        a->n = (int)v;
        first = 1;
    } else if (t[0].len >= 7 && strncmp(t[0].s, "sources", 7) == 0) {
        return fail(ps, "sources needs the form sources>=N with N in 1..1000");
    } else {
        a->kind = FUSION_ALT_NEAR;
        a->n = 1;
    }
    int w = first;
    while (w < n && !tok_is(&t[w], "within"))
        w++;
    if (w == n)
        return fail(ps, "alternative needs 'within DISTANCE DURATION'");
    if (w + 3 != n)
        return fail(ps, "'within' takes a distance and a duration, then nothing");
    if (!parse_dist(&t[w + 1], &a->within_m))
        return fail(ps, "bad distance '%.*s' (like 5km or 500m)", (int)t[w + 1].len, t[w + 1].s);
    if (!parse_dur(&t[w + 2], &a->within_us))
        return fail(ps, "bad duration '%.*s' (like 30min, 24h or 2d)", (int)t[w + 2].len,
                    t[w + 2].s);
    a->has_sel = w > first;
    return parse_sel(ps, t + first, w - first, true, &a->sel);
}

static int parse_require(struct parser *ps, const char *v, size_t vlen, struct fusion_rule *r)
{
    if (r->nreq == FUSION_REQ_MAX)
        return fail(ps, "more than %d require lines", FUSION_REQ_MAX);
    struct fusion_require *q = &r->req[r->nreq];
    memset(q, 0, sizeof(*q));
    size_t i = 0;
    while (i <= vlen) {
        size_t j = i;
        bool quoted = false;
        while (j < vlen && (quoted || v[j] != '|')) {
            if (v[j] == '"')
                quoted = !quoted;
            j++;
        }
        if (q->nalt == FUSION_ALT_MAX)
            return fail(ps, "more than %d alternatives", FUSION_ALT_MAX);
        int rc = parse_alt(ps, v + i, j - i, &q->alt[q->nalt]);
        if (rc)
            return rc;
        q->nalt++;
        i = j + 1;
    }
    r->nreq++;
    return 0;
}

static int finish_block(struct parser *ps)
{
    if (ps->cur) {
        struct fusion_rule *r = ps->cur;
        int line = ps->line;
        ps->line = r->line;
        int rc = 0;
        if (!(ps->seen & 1u << 1))
            rc = fail(ps, "rule %s has no 'match'", r->name);
        else if (!(ps->seen & 1u << 0))
            rc = fail(ps, "rule %s has no 'severity'", r->name);
        ps->line = line;
        if (rc)
            return rc;
        if (!r->title[0])
            snprintf(r->title, sizeof(r->title), "%s", r->name);
    }
    ps->cur = NULL;
    ps->in_esc = false;
    ps->seen = 0;
    return 0;
}

static int parse_header(struct parser *ps, const char *s, size_t len)
{
    int rc = finish_block(ps);
    if (rc)
        return rc;
    if (len < 2 || s[len - 1] != ']')
        return fail(ps, "a section header ends with ']'");
    s++;
    len -= 2;
    struct tok t[3];
    int n = tokenize(s, len, t, 3);
    if (n == 1 && tok_is(&t[0], "escalation")) {
        if (ps->seen_esc)
            return fail(ps, "a second [escalation] section");
        ps->seen_esc = ps->in_esc = true;
        ps->rs->esc.enabled = true;
        return 0;
    }
    if (n != 2 || !tok_is(&t[0], "rule"))
        return fail(ps, "expected [rule NAME] or [escalation]");
    if (t[1].len >= FUSION_NAME_SZ)
        return fail(ps, "rule name longer than %d characters", FUSION_NAME_SZ - 1);
    for (size_t i = 0; i < t[1].len; i++)
        if (!code_char(t[1].s[i]))
            return fail(ps, "a rule name has letters, digits, '-' and '_' only");
    if (!strncmp(t[1].s, "escalation", t[1].len) && t[1].len == 10)
        return fail(ps, "the rule name 'escalation' is reserved");
    for (size_t i = 0; i < ps->rs->n; i++)
        if (strlen(ps->rs->rule[i].name) == t[1].len &&
            !strncmp(ps->rs->rule[i].name, t[1].s, t[1].len))
            return fail(ps, "a second rule named %.*s (first on line %d)", (int)t[1].len, t[1].s,
                        ps->rs->rule[i].line);
    if (ps->rs->n == FUSION_RULES_MAX)
        return fail(ps, "more than %d rules", FUSION_RULES_MAX);
    ps->rs->rule = xrealloc(ps->rs->rule, (ps->rs->n + 1) * sizeof(*ps->rs->rule));
    struct fusion_rule *r = &ps->rs->rule[ps->rs->n++];
    memset(r, 0, sizeof(*r));
    memcpy(r->name, t[1].s, t[1].len);
    sel_init(&r->match);
    r->line = ps->line;
    r->key_m = 20000;
    r->key_us = 24 * 3600 * VTIME_US_PER_SEC;
    ps->cur = r;
    return 0;
}

/* Marks key bit b seen; refuses a repeat. */
static int once(struct parser *ps, unsigned b, const char *key)
{
    if (ps->seen & 1u << b)
        return fail(ps, "'%s' given twice", key);
    ps->seen |= 1u << b;
    return 0;
}

static int parse_rule_kv(struct parser *ps, const char *k, const char *v, size_t vlen)
{
    struct fusion_rule *r = ps->cur;
    int rc;
    long n;
    if (!strcmp(k, "severity")) {
        if ((rc = once(ps, 0, k)))
            return rc;
        for (int i = 0; i < 4; i++)
            if (vlen == strlen(sev_names[i]) && !strncmp(v, sev_names[i], vlen)) {
                r->severity = (enum fusion_severity)i;
                return 0;
            }
        return fail(ps, "severity is low, medium, high or critical");
    }
    if (!strcmp(k, "match")) {
        if ((rc = once(ps, 1, k)))
            return rc;
        struct tok t[MAX_TOKENS];
        int nt = tokenize(v, vlen, t, MAX_TOKENS);
        if (nt == -1)
            return fail(ps, "unclosed quote");
        if (nt < 0)
            return fail(ps, "more than %d terms", MAX_TOKENS);
        if (nt == 0)
            return fail(ps, "match needs at least one term");
        return parse_sel(ps, t, nt, false, &r->match);
    }
    if (!strcmp(k, "require"))
        return parse_require(ps, v, vlen, r);
    if (!strcmp(k, "min_confidence")) {
        if ((rc = once(ps, 2, k)))
            return rc;
        if (!parse_int(v, vlen, 0, 100, &n))
            return fail(ps, "min_confidence is a whole number 0..100");
        r->min_confidence = (int)n;
        return 0;
    }
    if (!strcmp(k, "title")) {
        if ((rc = once(ps, 3, k)))
            return rc;
        if (vlen >= FUSION_TITLE_SZ)
            return fail(ps, "title longer than %d characters", FUSION_TITLE_SZ - 1);
        for (size_t i = 0; i < vlen; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return fail(ps, "control character in title");
        memcpy(r->title, v, vlen);
        r->title[vlen] = '\0';
        return 0;
    }
    if (!strcmp(k, "key")) {
        if ((rc = once(ps, 4, k)))
            return rc;
        struct tok t[3];
        int nt = tokenize(v, vlen, t, 3);
        if (nt != 2 || !parse_dist(&t[0], &r->key_m) || !parse_dur(&t[1], &r->key_us) ||
            r->key_m < 100 || r->key_us < 60 * VTIME_US_PER_SEC)
            return fail(ps, "key is a cell size (>= 100m) and a time bucket (>= 1min)");
        return 0;
    }
    return fail(ps, "unknown key '%s' in a rule", k);
}

static int parse_real(struct parser *ps, const char *k, const char *v, size_t vlen, double lo,
                      double hi, double *out)
{
    char tmp[48];
    char *end;
    if (vlen == 0 || vlen >= sizeof(tmp))
        return fail(ps, "%s needs a number", k);
    memcpy(tmp, v, vlen);
    tmp[vlen] = '\0';
    errno = 0;
    double d = strtod(tmp, &end);
    if (end == tmp || *end || errno || !isfinite(d) || d < lo || d > hi)
        return fail(ps, "%s needs a number in %g..%g", k, lo, hi);
    *out = d;
    return 0;
}

static int parse_esc_kv(struct parser *ps, const char *k, const char *v, size_t vlen)
{
    struct fusion_esc_params *e = &ps->rs->esc;
    static const char *const keys[] = {
        "events",    "baseline_days", "window_days", "lateness_days", "shift",
        "threshold", "min_mean",      "severity",    "max_size",      "fatal",
        "fatal_shift", "fatal_threshold", "fatal_min_mean", "truce_level", "weighted",
        "weighted_shift", "weighted_threshold", "weighted_min_mean", "weighted_heavy",
        "truce_zones", "weighted_civilians", NULL};
    long n;
    int rc;
    size_t b = 0;
    while (keys[b] && strcmp(keys[b], k))
        b++;
    if (!keys[b])
        return fail(ps, "unknown key '%s' in [escalation]", k);
    if ((rc = once(ps, (unsigned)b, k)))
        return rc;
    switch (b) {
    case 0:
        return parse_list(ps, "event", v, vlen, &e->events[0][0], FUSION_CODE_SZ, &e->nevents,
                          true);
    case 1:
        if (!parse_int(v, vlen, 7, 365, &n))
            return fail(ps, "baseline_days is a whole number 7..365");
        e->baseline_days = (int)n;
        return 0;
    case 2:
        if (!parse_int(v, vlen, 1, 60, &n))
            return fail(ps, "window_days is a whole number 1..60");
        e->window_days = (int)n;
        return 0;
    case 3:
        if (!parse_int(v, vlen, 0, 30, &n))
            return fail(ps, "lateness_days is a whole number 0..30");
        e->lateness_days = (int)n;
        return 0;
    case 4: return parse_real(ps, k, v, vlen, 1.05, 20, &e->shift);
    case 5: return parse_real(ps, k, v, vlen, 0.1, 1000, &e->threshold);
    case 6: return parse_real(ps, k, v, vlen, 0.01, 1e6, &e->min_mean);
    case 8: return parse_real(ps, k, v, vlen, 1, 1e9, &e->max_size);
    case 9:
        if (vlen == 2 && !strncmp(v, "on", 2))
            e->fatal = true;
        else if (vlen == 3 && !strncmp(v, "off", 3))
            e->fatal = false;
        else
            return fail(ps, "fatal is on or off");
        return 0;
    case 10: return parse_real(ps, k, v, vlen, 1.05, 20, &e->fatal_shift);
    case 11: return parse_real(ps, k, v, vlen, 0.1, 1000, &e->fatal_threshold);
    case 12: return parse_real(ps, k, v, vlen, 0.01, 1e6, &e->fatal_min_mean);
    case 13: return parse_real(ps, k, v, vlen, 0.01, 1, &e->truce_level);
    case 14:
        if (vlen == 2 && !strncmp(v, "on", 2))
            e->weighted = true;
        else if (vlen == 3 && !strncmp(v, "off", 3))
            e->weighted = false;
        else
            return fail(ps, "weighted is on or off");
        return 0;
    case 15: return parse_real(ps, k, v, vlen, 1.05, 20, &e->weighted_shift);
    case 16: return parse_real(ps, k, v, vlen, 0.1, 1000, &e->weighted_threshold);
    case 17: return parse_real(ps, k, v, vlen, 0.01, 1e6, &e->weighted_min_mean);
    case 18: return parse_real(ps, k, v, vlen, 1, 10, &e->weighted_heavy);
    case 19:
        if (vlen == 2 && !strncmp(v, "on", 2))
            e->truce_zones = true;
        else if (vlen == 3 && !strncmp(v, "off", 3))
            e->truce_zones = false;
        else
            return fail(ps, "truce_zones is on or off");
        return 0;
    case 20: return parse_real(ps, k, v, vlen, 1, 10, &e->weighted_civilians);
    default:
        for (int i = 0; i < 4; i++)
            if (vlen == strlen(sev_names[i]) && !strncmp(v, sev_names[i], vlen)) {
                e->severity = i;
                return 0;
            }
        return fail(ps, "severity is low, medium, high or critical");
    }
}

static const char *trim(const char *s, size_t *len)
{
    while (*len && isspace((unsigned char)s[0])) {
        s++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)s[*len - 1]))
        (*len)--;
    return s;
}

static int parse_line(struct parser *ps, const char *s, size_t len)
{
    s = trim(s, &len);
    if (len == 0 || s[0] == '#' || s[0] == ';')
        return 0;
    if (s[0] == '[')
        return parse_header(ps, s, len);
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return fail(ps, "expected 'key = value' or a [section]");
    size_t klen = (size_t)(eq - s);
    const char *k = trim(s, &klen);
    size_t vlen = len - (size_t)(eq - s) - 1;
    const char *v = trim(eq + 1, &vlen);
    char key[32];
    if (klen == 0 || klen >= sizeof(key))
        return fail(ps, "bad key");
    memcpy(key, k, klen);
    key[klen] = '\0';
    if (vlen == 0)
        return fail(ps, "'%s' has no value", key);
    if (ps->cur)
        return parse_rule_kv(ps, key, v, vlen);
    if (ps->in_esc)
        return parse_esc_kv(ps, key, v, vlen);
    return fail(ps, "'%s' outside a section", key);
}

static void rules_free(struct fusion_rules *rs)
{
    free(rs->rule);
    free(rs);
}

int fusion_rules_parse(const char *text, size_t len, struct fusion_rules **out,
                       char msg[FUSION_RULES_MSG_SZ])
{
    struct parser ps = {0};
    ps.msg = msg;
    msg[0] = '\0';
    if (len > FUSION_RULES_MAX_BYTES) {
        snprintf(msg, FUSION_RULES_MSG_SZ, "line 1: the file is larger than %d bytes",
                 FUSION_RULES_MAX_BYTES);
        return VIGIL_ETOOBIG;
    }
    ps.rs = xcalloc(1, sizeof(*ps.rs));
    ps.rs->refs = 1;
    fusion_esc_params_default(&ps.rs->esc);
    ps.rs->esc.enabled = false;
    int rc = 0;
    size_t i = 0;
    while (i < len && !rc) {
        ps.line++;
        const char *nl = memchr(text + i, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - (text + i)) : len - i;
        if (ll > FUSION_RULES_MAX_LINE)
            rc = fail(&ps, "longer than %d bytes", FUSION_RULES_MAX_LINE);
        else if (memchr(text + i, '\0', ll))
            rc = fail(&ps, "NUL byte");
        else
            rc = parse_line(&ps, text + i, ll);
        i += ll + 1;
    }
    if (!rc) {
        ps.line++;
        rc = finish_block(&ps);
    }
    if (rc) {
        rules_free(ps.rs);
        return rc;
    }
    *out = ps.rs;
    return 0;
}

int fusion_rules_load(const char *path, struct fusion_rules **out, char msg[FUSION_RULES_MSG_SZ])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, FUSION_RULES_MSG_SZ, "%s: %s", path, strerror(errno));
        return VIGIL_EIO;
    }
    char *data = xmalloc(FUSION_RULES_MAX_BYTES + 1);
    size_t n = fread(data, 1, FUSION_RULES_MAX_BYTES + 1, f);
    int err = ferror(f);
    fclose(f);
    int rc;
    if (err) {
        snprintf(msg, FUSION_RULES_MSG_SZ, "%s: read error", path);
        rc = VIGIL_EIO;
    } else {
        rc = fusion_rules_parse(data, n, out, msg);
    }
    free(data);
    return rc;
}

struct fusion_rules *fusion_rules_ref(struct fusion_rules *rs)
{
    rs->refs++;
    return rs;
}

void fusion_rules_unref(struct fusion_rules *rs)
{
    if (rs && --rs->refs == 0)
        rules_free(rs);
}

const struct fusion_rule *fusion_rules_find(const struct fusion_rules *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->rule[i].name, name))
            return &rs->rule[i];
    return NULL;
}

/* ---- evaluation ------------------------------------------------------------------------- */

static bool in_codes(const char (*list)[FUSION_CODE_SZ], size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(list[i], v))
            return true;
    return false;
}

bool fusion_sel_match(const struct fusion_sel *s, const struct fusion_report *trig,
                      const struct fusion_report *r)
{
    if (s->nevents && !in_codes(s->events, s->nevents, r->event))
        return false;
    if (s->nmodes && !in_codes(s->modes, s->nmodes, r->mode))
        return false;
    if (s->future >= 0 && r->future != (s->future == 1))
        return false;
    if (s->nzones) {
        bool ok = false;
        for (size_t i = 0; i < s->nzones && !ok; i++)
            ok = r->zone && !strcmp(r->zone, s->zones[i]);
        if (!ok)
            return false;
    }
    if (s->near_line_m >= 0 && !(r->dist_to_line_m >= 0 && r->dist_to_line_m <= s->near_line_m))
        return false;
    if (s->min_rel && (r->reliability > s->min_rel || r->credibility > s->min_cred))
        return false;
    if (s->opposite_side && (!trig || !trig->side || !r->side || !strcmp(trig->side, r->side)))
        return false;
    if (s->other_source && (!trig || fusion_same_source(trig, r)))
        return false;
    return true;
}

double fusion_rule_reach_m(const struct fusion_rule *rule)
{
    double m = 0;
    for (size_t i = 0; i < rule->nreq; i++)
        for (size_t j = 0; j < rule->req[i].nalt; j++)
            if (rule->req[i].alt[j].within_m > m)
                m = rule->req[i].alt[j].within_m;
    return m;
}

vtime_t fusion_rule_reach_us(const struct fusion_rule *rule)
{
    vtime_t t = 0;
    for (size_t i = 0; i < rule->nreq; i++)
        for (size_t j = 0; j < rule->req[i].nalt; j++)
            if (rule->req[i].alt[j].within_us > t)
                t = rule->req[i].alt[j].within_us;
    return t;
}

static int by_start(const void *a, const void *b)
{
    const struct fusion_report *x = *(const struct fusion_report *const *)a;
    const struct fusion_report *y = *(const struct fusion_report *const *)b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;
    return x < y ? -1 : x > y;
}

/* Walking reps sorted by start, the start at which n distinct items (by same()) are seen;
 * INT64_MAX when there are fewer. */
static vtime_t nth_distinct(const struct fusion_report **reps, size_t cnt, int n,
                            bool (*same)(const struct fusion_report *,
                                         const struct fusion_report *),
                            int *distinct)
{
    if (cnt)
        qsort(reps, cnt, sizeof(*reps), by_start);
    int d = 0;
    vtime_t at = INT64_MAX;
    for (size_t i = 0; i < cnt; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = same(reps[i], reps[j]);
        if (!seen && ++d == n)
            at = reps[i]->start;
    }
    *distinct = d;
    return at;
}

/* Two reports are the same record for counting when they cite the same original source. */
static bool same_record(const struct fusion_report *a, const struct fusion_report *b)
{
    return a == b || (a->source_ref && b->source_ref && !strcmp(a->source_ref, b->source_ref));
}

static bool alt_around(const struct fusion_alt *a, const struct fusion_corr_params *p,
                       const struct fusion_sel *sel, const struct fusion_report *trig,
                       const struct fusion_report *r)
{
    return fusion_sel_match(sel, trig, r) && fusion_reports_overlap(trig, r, a->within_us) &&
           fusion_reports_near(p, trig, r, a->within_m);
}

/* Evaluates one alternative; appends its supporting reports to sup; *at its completion. */
static bool alt_eval(const struct fusion_rule *rule, const struct fusion_alt *a,
                     const struct fusion_corr_params *p, const struct fusion_report *trig,
                     const struct fusion_report *const *inc, size_t ninc,
                     const struct fusion_report *const *pool, size_t npool, struct fusion_rvec *sup,
                     vtime_t *at)
{
    int distinct = 0;
    if (a->kind == FUSION_ALT_SOURCES) {
        const struct fusion_report **tmp = xmalloc((ninc + 1) * sizeof(*tmp));
        if (ninc)
            memcpy(tmp, inc, ninc * sizeof(*tmp));
        *at = nth_distinct(tmp, ninc, a->n, fusion_same_source, &distinct);
        free(tmp);
        return distinct >= a->n;
    }
    const struct fusion_sel *sel = a->has_sel ? &a->sel : &rule->match;
    size_t before = sup->n;
    for (size_t i = 0; i < npool; i++)
        if (pool[i] != trig && alt_around(a, p, sel, trig, pool[i]))
            fusion_rvec_push(sup, pool[i]);
    size_t found = sup->n - before;
    if (a->kind == FUSION_ALT_NEAR) {
        *at = INT64_MAX;
        for (size_t i = before; i < sup->n; i++)
            if (sup->v[i]->start < *at)
                *at = sup->v[i]->start;
        return found > 0;
    }
    /* count: the trigger counts when it passes the selector too */
    const struct fusion_report **tmp = xmalloc((found + 1) * sizeof(*tmp));
    if (found)
        memcpy(tmp, sup->v + before, found * sizeof(*tmp));
    if (fusion_sel_match(sel, trig, trig))
        tmp[found++] = trig;
    *at = nth_distinct(tmp, found, a->n, same_record, &distinct);
    free(tmp);
    return distinct >= a->n;
}

bool fusion_rule_eval(const struct fusion_rule *rule, const struct fusion_corr_params *p,
                      const struct fusion_report *trig, const struct fusion_report *const *incident,
                      size_t ninc, const struct fusion_report *const *pool, size_t npool,
                      struct fusion_rvec *support, vtime_t *fired_at)
{
    if (!fusion_sel_match(&rule->match, NULL, trig))
        return false;
    struct fusion_rvec sup = {0};
    vtime_t when = trig->start;
    bool ok = true;
    for (size_t i = 0; i < rule->nreq && ok; i++) {
        const struct fusion_require *q = &rule->req[i];
        vtime_t best = INT64_MAX;
        bool any = false;
        for (size_t j = 0; j < q->nalt; j++) {
            size_t before = sup.n;
            vtime_t at;
            if (alt_eval(rule, &q->alt[j], p, trig, incident, ninc, pool, npool, &sup, &at)) {
                any = true;
                if (at < best)
                    best = at;
            } else {
                sup.n = before;
            }
        }
        ok = any;
        if (any && best > when && best != INT64_MAX)
            when = best;
    }
    if (ok && sup.n) {
        qsort(sup.v, sup.n, sizeof(*sup.v), by_ptr);
        size_t k = 0;
        for (size_t i = 0; i < sup.n; i++)
            if (!k || sup.v[k - 1] != sup.v[i])
                sup.v[k++] = sup.v[i];
        sup.n = k;
    }
    if (ok && rule->min_confidence > 0) {
        struct fusion_rvec all = {0};
        for (size_t i = 0; i < ninc; i++)
            fusion_rvec_push(&all, incident[i]);
        for (size_t i = 0; i < sup.n; i++) {
            bool dup = false;
            for (size_t j = 0; j < ninc && !dup; j++)
                dup = incident[j] == sup.v[i];
            if (!dup)
                fusion_rvec_push(&all, sup.v[i]);
        }
        struct fusion_conf c;
        fusion_confidence(all.v, all.n, &c);
        ok = c.confidence >= rule->min_confidence;
        fusion_rvec_release(&all);
    }
    if (ok && support)
        for (size_t i = 0; i < sup.n; i++)
            fusion_rvec_push(support, sup.v[i]);
    if (ok && fired_at)
        *fired_at = when;
    fusion_rvec_release(&sup);
    return ok;
}

bool fusion_rule_relevant(const struct fusion_rule *rule, const struct fusion_corr_params *p,
                          const struct fusion_report *trig, const struct fusion_report *r)
{
    for (size_t i = 0; i < rule->nreq; i++)
        for (size_t j = 0; j < rule->req[i].nalt; j++) {
            const struct fusion_alt *a = &rule->req[i].alt[j];
            if (a->kind == FUSION_ALT_SOURCES)
                continue;
            if (alt_around(a, p, a->has_sel ? &a->sel : &rule->match, trig, r))
                return true;
        }
    return false;
}
