/* csv.h - a bounded RFC 4180 reader for importers (ACLED, UCDP) and tab-separated files (GDELT).
 *
 * Records are read one at a time from a FILE*. With quoting on, a field may be enclosed in
 * double quotes, inside which the delimiter, CR and LF are data and "" is one quote; a quote
 * inside an unquoted field is taken literally (real exports contain 5" shells), but after a
 * closing quote only a delimiter or the end of the line may follow. Lines end in LF or CRLF.
 * A UTF-8 byte-order mark at the start of the file is skipped; empty lines are skipped.
 *
 * Limits (csv_init sets the defaults below; a caller may lower them before reading): bytes in
 * one field, bytes in one record, fields in one record. A record that breaks a limit or the
 * syntax is read to its end and then refused, so the next call starts at the next record and
 * the caller can decide to skip or abort.
 */
#ifndef VIGIL_INTEL_CSV_H
#define VIGIL_INTEL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"

#define CSV_MAX_FIELD (64 * 1024)
#define CSV_MAX_RECORD (1024 * 1024)
#define CSV_MAX_FIELDS 128
#define CSV_MSG_SZ 256

struct csv_reader {
    FILE *f;                            /* not owned */
    char delim;
    bool quoting;
    size_t max_field, max_record;
    size_t line;                        /* physical line the next byte is on (1-based) */
    size_t rec_line;                    /* line on which the last record read began */
    struct buf data;                    /* the record's fields, each NUL-terminated */
    size_t off[CSV_MAX_FIELDS];
    const char *fields[CSV_MAX_FIELDS]; /* valid until the next csv_next / csv_release */
    size_t n_fields;
    bool started;
};

/* Prepares r to read f with delimiter delim (',' or '\t'); quoting selects RFC 4180 quotes. */
void csv_init(struct csv_reader *r, FILE *f, char delim, bool quoting);
void csv_release(struct csv_reader *r);

/* Reads the next record into r->fields[0..r->n_fields). Returns 1 when a record was read,
 * 0 at the end of the input, VIGIL_EINVAL (bad syntax, NUL byte), VIGIL_ETOOBIG (a limit) with
 * a message in msg for a refused record (r->rec_line says where it began), or VIGIL_EIO when
 * the file cannot be read. */
int csv_next(struct csv_reader *r, char msg[CSV_MSG_SZ]);

#endif
