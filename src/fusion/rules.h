/* rules.h - indicators and warnings: the declarative rules file, its parser and evaluation.
 *
 * The format is described in docs/RULES.md; data/rules/default.rules is the shipped set.
 * In short: blocks `[rule NAME]` with `severity`, `match = SELECTOR` (which reports trigger
 * the rule), any number of `require = ALT | ALT ...` lines (all must hold; one of each line's
 * alternatives must), `min_confidence`, `title` and `key`; and one optional `[escalation]`
 * block with the detector's parameters (escalation.h).
 *
 * Every condition is monotone: adding reports can make a rule fire, never stop it firing.
 * That is what makes alerts independent of arrival order and lets a reader's view be
 * recomputed from the alert's evidence alone (alerts.h).
 *
 * A parsed rule set is immutable and reference-counted: the engine swaps sets atomically on
 * reload, and each alert keeps a reference to the set its rule came from.
 */
#ifndef VIGIL_FUSION_RULES_H
#define VIGIL_FUSION_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusion/correlate.h"
#include "fusion/escalation.h"

#define FUSION_RULES_MSG_SZ 256
#define FUSION_RULES_MAX_BYTES (1024 * 1024) /* a longer file is refused */
#define FUSION_RULES_MAX_LINE 1024
#define FUSION_RULES_MAX 256
#define FUSION_LIST_MAX 8   /* items in one event:/mode:/zone: list */
#define FUSION_ZONE_SZ 64   /* zone names in rules, with their NUL */
#define FUSION_NAME_SZ 64   /* rule names, with their NUL */
#define FUSION_TITLE_SZ 160 /* rule titles, with their NUL */
#define FUSION_REQ_MAX 4    /* require lines per rule */
#define FUSION_ALT_MAX 4    /* alternatives per require line */

enum fusion_severity {
    FUSION_SEV_LOW = 0,
    FUSION_SEV_MEDIUM = 1,
    FUSION_SEV_HIGH = 2,
    FUSION_SEV_CRITICAL = 3,
};

/* "low", "medium", "high", "critical". */
const char *fusion_severity_name(enum fusion_severity s);

/* Which reports a selector accepts. Empty lists accept anything. */
struct fusion_sel {
    char events[FUSION_LIST_MAX][FUSION_CODE_SZ];
    size_t nevents;
    char modes[FUSION_LIST_MAX][FUSION_CODE_SZ];
    size_t nmodes;
    char zones[FUSION_LIST_MAX][FUSION_ZONE_SZ];
    size_t nzones;
    int future;         /* -1 any, 0 observations only (`observed`), 1 warnings (`future`) */
    double near_line_m; /* < 0: no condition; else 0 <= dist_to_line_m <= this */
    char min_rel;       /* `grade:C3`: reliability at least C ... ; 0: none */
    int min_cred;       /* ... and credibility at least 3; 0: none */
    bool opposite_side; /* relative: the trigger and the report name different sides */
    bool other_source;  /* relative: the report's source is not the trigger's */
};

enum fusion_alt_kind {
    FUSION_ALT_SOURCES, /* sources>=N: the trigger's incident has N independent sources */
    FUSION_ALT_COUNT,   /* count>=N SEL within D T: N reports (distinct records) around */
    FUSION_ALT_NEAR,    /* SEL within D T: another report around */
};

struct fusion_alt {
    enum fusion_alt_kind kind;
    int n;
    bool has_sel; /* false for count>=N without terms: the rule's match selector */
    struct fusion_sel sel;
    double within_m;   /* D: distance from the trigger (precisions added) */
    vtime_t within_us; /* T: time windows within T of the trigger's */
};

struct fusion_require {
    struct fusion_alt alt[FUSION_ALT_MAX];
    size_t nalt;
};

struct fusion_rule {
    char name[FUSION_NAME_SZ];
    char title[FUSION_TITLE_SZ];
    enum fusion_severity severity;
    struct fusion_sel match;
    struct fusion_require req[FUSION_REQ_MAX];
    size_t nreq;
    int min_confidence; /* 0-100 over the trigger's incident and the supporting reports */
    double key_m;       /* situation key: grid cell size (default 20 km) */
    vtime_t key_us;     /* ... and time bucket (default 24 h) */
    int line;           /* line of the [rule] header */
};

struct fusion_rules {
    int refs;
    struct fusion_rule *rule;
    size_t n;
    struct fusion_esc_params esc; /* esc.enabled only when the file has [escalation] */
};

/* Parses a rules file held in text[0..len) (need not be NUL-terminated). Returns 0 and a new
 * set in *out (one reference, the caller's), or VIGIL_EINVAL / VIGIL_ETOOBIG with "line N:
 * reason" in msg and *out untouched: a caller that swaps only on success keeps its rules. */
int fusion_rules_parse(const char *text, size_t len, struct fusion_rules **out,
                       char msg[FUSION_RULES_MSG_SZ]);

/* Reads and parses a file; VIGIL_EIO (message says why) when it cannot be read. */
int fusion_rules_load(const char *path, struct fusion_rules **out, char msg[FUSION_RULES_MSG_SZ]);

/* Takes a reference; returns rs. */
struct fusion_rules *fusion_rules_ref(struct fusion_rules *rs);
/* Drops a reference; the set is freed with the last one. NULL is a no-op. */
void fusion_rules_unref(struct fusion_rules *rs);

/* The rule named name, or NULL. */
const struct fusion_rule *fusion_rules_find(const struct fusion_rules *rs, const char *name);

/* True when r passes the selector; trig is the trigger for the relative terms (NULL: the
 * relative terms fail). */
bool fusion_sel_match(const struct fusion_sel *s, const struct fusion_report *trig,
                      const struct fusion_report *r);

/* The farthest distance and time any of the rule's alternatives look from a trigger. */
double fusion_rule_reach_m(const struct fusion_rule *rule);
vtime_t fusion_rule_reach_us(const struct fusion_rule *rule);

/* Evaluates rule for trigger trig (which must pass rule->match; false otherwise):
 *  - incident[0..ninc): the reports of trig's incident, trig included (for sources>=N);
 *  - pool[0..npool): the candidate reports around trig (a superset is fine: each alternative
 *    applies its own distance and time test; trig itself may be in it).
 * Returns true when every require line has a satisfied alternative and the confidence of the
 * incident plus the supporting reports reaches min_confidence. When support is not NULL,
 * every report that satisfies an alternative of a satisfied line (trig excluded) is appended,
 * so the evidence of a firing is complete. *fired_at (may be NULL) receives the earliest event
 * time at which the firing was possible: max(trig start, per line the earliest satisfied
 * alternative's completion). */
bool fusion_rule_eval(const struct fusion_rule *rule, const struct fusion_corr_params *p,
                      const struct fusion_report *trig, const struct fusion_report *const *incident,
                      size_t ninc, const struct fusion_report *const *pool, size_t npool,
                      struct fusion_rvec *support, vtime_t *fired_at);

/* True when r could change the outcome of rule for trigger trig: r passes some alternative's
 * selector within its distance and time of trig. A cheap test before a full evaluation. */
bool fusion_rule_relevant(const struct fusion_rule *rule, const struct fusion_corr_params *p,
                          const struct fusion_report *trig, const struct fusion_report *r);

#endif
