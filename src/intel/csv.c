/* csv.c - bounded RFC 4180 reader (see csv.h). */
#include "intel/csv.h"

#include <stdarg.h>
#include <string.h>

#include "base/err.h"

void csv_init(struct csv_reader *r, FILE *f, char delim, bool quoting)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->delim = delim;
    r->quoting = quoting;
    r->max_field = CSV_MAX_FIELD;
    r->max_record = CSV_MAX_RECORD;
    r->line = 1;
    buf_init(&r->data, BUF_NOCAP);
}

void csv_release(struct csv_reader *r)
{
    buf_release(&r->data);
    r->n_fields = 0;
}

/* The first error seen in a record; later ones are not reported. */
struct rec_err {
    int rc;
    char *msg;
};

static void rec_fail(struct rec_err *e, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rec_fail(struct rec_err *e, int rc, const char *fmt, ...)
{
    if (e->rc)
        return;
    e->rc = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, CSV_MSG_SZ, fmt, ap);
    va_end(ap);
}

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, ST_AFTER };

int csv_next(struct csv_reader *r, char msg[CSV_MSG_SZ])
{
    struct rec_err e = {0, msg};
    size_t field_len = 0;
    int st = ST_START, c;
    bool any = false; /* anything read for this record */
    msg[0] = '\0';
    buf_reset(&r->data);
    r->n_fields = 0;

    if (!r->started) {
        r->started = true;
        int c1 = getc(r->f);
        if (c1 == 0xef) {
            int c2 = getc(r->f), c3 = c2 == 0xbb ? getc(r->f) : EOF;
            if (c2 != 0xbb || c3 != 0xbf) {
                /* not a BOM: a bad first record; let the parser see what it can */
                rec_fail(&e, VIGIL_EINVAL, "starts with a partial byte-order mark");
                if (c3 != EOF)
                    ungetc(c3, r->f);
                else if (c2 != EOF)
                    ungetc(c2, r->f);
            }
        } else if (c1 != EOF) {
            ungetc(c1, r->f);
        }
    }
    r->rec_line = r->line;
    r->off[0] = 0;

    for (;;) {
        c = getc_unlocked(r->f);
        if (c == EOF)
            break;
        if (c == '\n')
            r->line++;
        if (st != ST_QUOTED) {
            bool eol = c == '\n';
            if (c == '\r') {
                int d = getc_unlocked(r->f);
                if (d == '\n') {
                    r->line++;
                    eol = true;
                } else if (d != EOF) {
                    ungetc(d, r->f);
                }
            }
            if (eol) {
                if (!any) {        /* an empty line: skip it */
                    r->rec_line = r->line;
                    continue;
                }
                goto end_record;
            }
        }
        any = true;
        if (c == 0) {
            rec_fail(&e, VIGIL_EINVAL, "NUL byte in field %zu", r->n_fields + 1);
            continue;
        }
        if (st == ST_QUOTE) { /* just saw a quote inside a quoted field */
            if (c == '"') {
                st = ST_QUOTED; /* "" is one quote: store it below */
            } else if (c == r->delim) {
                st = ST_START;
                goto end_field;
            } else {
                rec_fail(&e, VIGIL_EINVAL, "field %zu: unexpected character after the closing "
                         "quote", r->n_fields + 1);
                st = ST_AFTER;
                continue;
            }
        } else if (st == ST_AFTER) {
            if (c == r->delim) {
                st = ST_START;
                goto end_field;
            }
            continue;
        } else if (c == r->delim && st != ST_QUOTED) {
            st = ST_START;
            goto end_field;
        } else if (c == '"' && r->quoting && st == ST_START) {
            st = ST_QUOTED;
            continue;
        } else if (c == '"' && st == ST_QUOTED) {
            st = ST_QUOTE;
            continue;
        } else if (st == ST_START) {
            st = ST_UNQUOTED;
        }
        /* store c */
        if (field_len >= r->max_field) {
            rec_fail(&e, VIGIL_ETOOBIG, "field %zu: longer than %zu bytes", r->n_fields + 1,
                     r->max_field);
            continue;
        }
        if (r->data.len >= r->max_record) {
            rec_fail(&e, VIGIL_ETOOBIG, "record longer than %zu bytes", r->max_record);
            continue;
        }
        if (!e.rc)
            buf_addc(&r->data, (char)c);
        field_len++;
        continue;
    end_field:
        if (r->n_fields + 1 >= CSV_MAX_FIELDS) {
            rec_fail(&e, VIGIL_ETOOBIG, "more than %d fields", CSV_MAX_FIELDS);
            field_len = 0;
            continue;
        }
        if (!e.rc)
            buf_addc(&r->data, '\0');
        r->n_fields++;
        r->off[r->n_fields] = r->data.len;
        field_len = 0;
    }
    if (ferror(r->f)) {
        snprintf(msg, CSV_MSG_SZ, "read error");
        return VIGIL_EIO;
    }
    if (!any && !e.rc)
        return 0;
    if (st == ST_QUOTED)
        rec_fail(&e, VIGIL_EINVAL, "field %zu: quoted field not closed before the end of the "
                 "file", r->n_fields + 1);
end_record:
    if (e.rc) {
        r->n_fields = 0;
        return e.rc;
    }
    buf_addc(&r->data, '\0');
    r->n_fields++;
    for (size_t i = 0; i < r->n_fields; i++)
        r->fields[i] = r->data.data + r->off[i];
    return 1;
}
