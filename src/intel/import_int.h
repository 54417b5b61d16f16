/* import_int.h - the importers' private interface: header mapping and one parser per record.
 *
 * import.c drives these from import_file(); the unit tests and fuzz harnesses call them
 * directly. Each *_row / *_event function initialises r itself; it returns 0 with r holding a
 * report that passed report_check(), or a negative VIGIL_E* code with a message (r is then
 * released and empty).
 */
#ifndef VIGIL_INTEL_IMPORT_INT_H
#define VIGIL_INTEL_IMPORT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "intel/import.h"
#include "intel/profile.h"

#define IMPORT_MAX_COLS 64
#define GDELT_NCOLS 61

struct import_col {
    const char *name;
    bool required;
};

/* Where each of a format's columns sits in the file (-1: absent), from its header row. */
struct import_cols {
    int idx[IMPORT_MAX_COLS];
    size_t n_header;
};

/* Maps header names (ASCII case-insensitive, surrounding spaces ignored) onto spec. Returns 0,
 * or VIGIL_EINVAL naming the first required column that is missing. */
int import_map_header(const struct import_col *spec, size_t n_spec, const char *const *f,
                      size_t n, struct import_cols *c, char msg[IMPORT_MSG_SZ]);
/* The value of column col in the record, "" when the file has no such column. */
const char *import_field(const struct import_cols *c, const char *const *f, size_t n, int col);
/* Formats msg and returns rc. */
int import_fail(char msg[IMPORT_MSG_SZ], int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets r's point from the text of its latitude and longitude columns (named lat_col and
 * lon_col in messages). Returns 0, or VIGIL_EINVAL with a message naming the bad column. */
int import_point(struct event_report *r, const char *lat, const char *lon, const char *lat_col,
                 const char *lon_col, char msg[IMPORT_MSG_SZ]);
/* Sets *dst to a copy of s cut to at most max bytes on a character boundary (NULL when s is
 * empty). Returns 0, or VIGIL_EINVAL when s is not valid UTF-8. */
int import_set_text(char **dst, const char *s, size_t max);
/* Adds s as an actor or target unless empty; names over the limit are cut. 0 or VIGIL_E*. */
int import_add_name(struct event_report *r, bool is_target, const char *s);
/* Adds each name of the list s, whose names are separated by sep (such as "; " or ", "; spaces
 * around a name are trimmed), as import_add_name does; past REPORT_LIST_MAX names the rest are
 * dropped. 0 or VIGIL_E*. */
int import_add_names(struct event_report *r, bool is_target, const char *s, const char *sep);

/* One delimited-text format for import_csv_records: its delimiter and quoting (csv_init),
 * whether a header comes first and how it is read (NULL: no header, and records are not
 * checked against its field count), and how a record becomes a report. ctx is handed to both. */
struct import_csv_format {
    char delim;
    bool quoting;
    int (*header)(void *ctx, const char *const *f, size_t n, struct import_cols *c,
                  char msg[IMPORT_MSG_SZ]);
    int (*row)(void *ctx, const struct import_cols *c, const char *const *f, size_t n,
               struct event_report *r, char msg[IMPORT_MSG_SZ]);
    void *ctx;
};
/* Reads every record of f in format fmt and hands each to h, as import_file does (st filled,
 * the same return values); the one record loop of every CSV importer. */
int import_csv_records(FILE *f, const struct import_csv_format *fmt,
                       const struct import_handler *h, struct import_stats *st);

int import_acled_header(const char *const *f, size_t n, struct import_cols *c,
                        char msg[IMPORT_MSG_SZ]);
int import_acled_row(const struct import_cols *c, const char *const *f, size_t n,
                     struct event_report *r, char msg[IMPORT_MSG_SZ]);

int import_ucdp_header(const char *const *f, size_t n, struct import_cols *c,
                       char msg[IMPORT_MSG_SZ]);
int import_ucdp_row(const struct import_cols *c, const char *const *f, size_t n,
                    struct event_report *r, char msg[IMPORT_MSG_SZ]);

int import_casualties_row(const struct import_cols *c, const char *const *f, size_t n,
                          const char *area, struct event_report *r, char msg[IMPORT_MSG_SZ]);

int import_gdelt_row(const char *const *f, size_t n, struct event_report *r,
                     char msg[IMPORT_MSG_SZ]);

int import_misp_event(const json_t *ev, struct event_report *r, char msg[IMPORT_MSG_SZ]);

/* Mapping tables, exposed for tests and docs. Each returns 0 and sets *e and *mode (a static
 * PLOVER mode or NULL), VIGIL_ENOENT for a code without a PLOVER equivalent, or VIGIL_EINVAL
 * for an unknown code. */
int import_acled_map(const char *event_type, const char *sub_event_type, const char *notes,
                     enum plover_event *e, const char **mode);
int import_cameo_map(const char *code, enum plover_event *e, const char **mode);
int import_ucdp_map(int type_of_violence, enum plover_event *e, const char **mode);

#endif
