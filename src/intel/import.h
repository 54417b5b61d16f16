/* import.h - reading event datasets (ACLED, UCDP GED, GDELT 2.0, MISP) as event reports.
 *
 * import_file() reads a whole file and hands each record to the caller as a struct
 * event_report, or reports why it could not: the caller decides whether a bad record is
 * skipped or aborts the import (SPEC S6), so nothing here writes anything. How each format
 * maps onto the profile (PLOVER codes, precision, grading) is in docs/STIX-PROFILE.md.
 *
 * Line numbers: for the CSV formats, the physical line (1-based) on which the record starts,
 * so the header is line 1; for MISP, the 1-based position of the event in the file.
 */
#ifndef VIGIL_INTEL_IMPORT_H
#define VIGIL_INTEL_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "intel/profile.h"

#define IMPORT_MSG_SZ 256
/* Largest MISP file import_file() reads (it is parsed as one JSON document). */
#define IMPORT_MISP_MAX (64 * 1024 * 1024)

enum import_format {
    IMPORT_ACLED, /* CSV with a header row (31 columns in the 2023+ layout) */
    IMPORT_UCDP,  /* UCDP GED CSV with a header row (49 columns) */
    IMPORT_GDELT, /* GDELT 2.0 events: 61 tab-separated columns, no header */
    IMPORT_MISP   /* MISP event JSON: {"Event":{...}}, [{"Event":...}, ...] or {"response":[...]} */
};

struct import_handler {
    /* Called with each record that became a valid report (r is only borrowed: copy what you
     * keep). Return 0 to go on; any other value stops the import and import_file returns it. */
    int (*report)(void *ctx, const struct event_report *r, size_t line);
    /* Called with each record that did not: rc is VIGIL_EINVAL (malformed), VIGIL_ETOOBIG (over
     * a limit) or VIGIL_ENOENT (well-formed but outside the profile, e.g. a CAMEO "make public
     * statement"); msg names the field. Return 0 to skip the record and go
     * on; any other value stops the import and import_file returns it. May be NULL: bad
     * records are then skipped. */
    int (*error)(void *ctx, size_t line, int rc, const char *msg);
    void *ctx;
};

struct import_stats {
    size_t records;  /* data records seen (header excluded) */
    size_t imported; /* handed to report() */
    size_t rejected; /* handed to error() */
};

/* Reads f to its end in the given format. Returns 0 when the input was read to its end; the
 * non-zero value a callback returned to stop; VIGIL_EINVAL when the file as a whole cannot be
 * read in this format (no header, a required column missing, not JSON) after telling error()
 * why; VIGIL_ETOOBIG for a MISP file over IMPORT_MISP_MAX; VIGIL_EIO on a read error. st may
 * be NULL. */
int import_file(enum import_format fmt, FILE *f, const struct import_handler *h,
                struct import_stats *st);

/* Opens path for import_file(): a plain file, or a gzip-compressed one (recognised by its
 * first two bytes, whatever its name), read decompressed. Returns NULL with errno set. The
 * stream can be rewound; ftell() gives the compressed bytes read so far (for progress). */
FILE *import_open(const char *path);

/* Reads a daily casualty series of one area (CSV with report_date and killed/ext_killed/
 * verified_killed, optionally injured and report_period in hours): one daily-aggregate report
 * per row, source_ref "casualties:AREA:DATE" (import_casualties.c). Returns as import_file. */
int import_casualties(FILE *f, const char *area, const struct import_handler *h,
                      struct import_stats *st);

/* "acled", "ucdp", "gdelt", "misp" -> format. Returns 0 or VIGIL_EINVAL. */
int import_format_parse(const char *name, enum import_format *out);
const char *import_format_name(enum import_format fmt);

#endif
