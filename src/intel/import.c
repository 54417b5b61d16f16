/* import.c - the import driver and helpers shared by the format parsers (see import.h). */
#include "intel/import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "intel/csv.h"
#include "intel/import_int.h"
#include "intel/text.h"

#define MISP_MAX_DEPTH 64

int import_point(struct event_report *r, const char *lat, const char *lon, const char *lat_col,
                 const char *lon_col, char msg[IMPORT_MSG_SZ])
{
    r->has_point = true;
    if (text_parse_double(lat, &r->lat) != 0 || r->lat < -90 || r->lat > 90)
        return import_fail(msg, VIGIL_EINVAL, "%s: \"%.40s\" is not a latitude", lat_col, lat);
    if (text_parse_double(lon, &r->lon) != 0 || r->lon < -180 || r->lon > 180)
        return import_fail(msg, VIGIL_EINVAL, "%s: \"%.40s\" is not a longitude", lon_col,
                           lon);
    return 0;
}

int import_fail(char msg[IMPORT_MSG_SZ], int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, IMPORT_MSG_SZ, fmt, ap);
    va_end(ap);
    return rc;
}

/* Header names compare without surrounding spaces and case (old ACLED files are upper case). */
static bool header_eq(const char *h, const char *name)
{
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    while (n > 0 && h[n - 1] == ' ')
        n--;
    size_t m = strlen(name);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = h[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (x != name[i])
            return false;
    }
    return true;
}

int import_map_header(const struct import_col *spec, size_t n_spec, const char *const *f,
                      size_t n, struct import_cols *c, char msg[IMPORT_MSG_SZ])
{
    c->n_header = n;
    for (size_t k = 0; k < n_spec && k < IMPORT_MAX_COLS; k++) {
        c->idx[k] = -1;
        for (size_t i = 0; i < n; i++)
            if (header_eq(f[i], spec[k].name)) {
                c->idx[k] = (int)i;
                break;
            }
        if (c->idx[k] < 0 && spec[k].required)
            return import_fail(msg, VIGIL_EINVAL, "header: required column %s is missing",
                               spec[k].name);
    }
    return 0;
}

const char *import_field(const struct import_cols *c, const char *const *f, size_t n, int col)
{
    int i = c->idx[col];
    return (i >= 0 && (size_t)i < n) ? f[i] : "";
}

int import_set_text(char **dst, const char *s, size_t max)
{
    size_t n = strlen(s);
    free(*dst);
    *dst = NULL;
    if (!text_utf8_valid(s, n))
        return VIGIL_EINVAL;
    if (n == 0)
        return 0;
    *dst = xstrndup(s, text_utf8_cut(s, n, max));
    return 0;
}

int import_add_name(struct event_report *r, bool is_target, const char *s)
{
    char *copy = NULL;
    int rc;
    if ((rc = import_set_text(&copy, s, REPORT_NAME_MAX)) != 0 || !copy)
        return rc;
    for (char *p = copy; *p; p++) /* tabs and newlines in a name become spaces */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    size_t n = r->n_actors;
    char **v = r->actors;
    if (is_target) {
        n = r->n_targets;
        v = r->targets;
    }
    for (size_t i = 0; i < n; i++) /* the same actor twice adds nothing */
        if (strcmp(v[i], copy) == 0) {
            free(copy);
            return 0;
        }
    rc = report_add_name(r, is_target, copy);
    free(copy);
    return rc;
}

int import_add_names(struct event_report *r, bool is_target, const char *s, const char *sep)
{
    char part[REPORT_NAME_MAX + 1];
    size_t seplen = strlen(sep);
    while (*s) {
        const char *e = strstr(s, sep);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n > 0 && *s == ' ')
            s++, n--;
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (n > REPORT_NAME_MAX)
            n = text_utf8_cut(s, n, REPORT_NAME_MAX);
        memcpy(part, s, n);
        part[n] = '\0';
        int rc = import_add_name(r, is_target, part);
        if (rc == VIGIL_ETOOBIG)
            return 0; /* more than REPORT_LIST_MAX names: keep the first ones */
        if (rc)
            return rc;
        if (!e)
            break;
        s = e + seplen;
    }
    return 0;
}

static const char *const format_names[] = {"acled", "ucdp", "gdelt", "misp"};

int import_format_parse(const char *name, enum import_format *out)
{
    for (int i = 0; name && i <= IMPORT_MISP; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum import_format)i;
            return 0;
        }
    return VIGIL_EINVAL;
}

const char *import_format_name(enum import_format fmt)
{
    return (unsigned)fmt <= IMPORT_MISP ? format_names[fmt] : NULL;
}

/* Hands one parsed record to the caller. */
static int deliver(const struct import_handler *h, struct import_stats *st, size_t line, int rc,
                   struct event_report *r, const char *msg)
{
    int cb;
    if (rc == 0) {
        st->imported++;
        cb = h->report ? h->report(h->ctx, r, line) : 0;
        report_release(r);
    } else {
        st->rejected++;
        cb = h->error ? h->error(h->ctx, line, rc, msg) : 0;
    }
    return cb;
}

int import_csv_records(FILE *f, const struct import_csv_format *fmt,
                       const struct import_handler *h, struct import_stats *st)
{
    struct csv_reader cr;
    struct import_cols cols = {0};
    struct event_report r;
    char msg[IMPORT_MSG_SZ], cmsg[CSV_MSG_SZ];
    bool header = fmt->header != NULL;
    int rc, ret = 0;
    csv_init(&cr, f, fmt->delim, fmt->quoting);
    for (;;) {
        rc = csv_next(&cr, cmsg);
        if (rc == 0)
            break;
        if (rc == VIGIL_EIO) {
            ret = rc;
            goto out;
        }
        if (header) {
            /* the header decides how every row is read: without it nothing can be */
            if (rc == 1)
                rc = fmt->header(fmt->ctx, cr.fields, cr.n_fields, &cols, msg);
            else
                snprintf(msg, sizeof msg, "header: %.200s", cmsg);
            if (rc != 0) {
                if (h->error)
                    h->error(h->ctx, cr.rec_line, VIGIL_EINVAL, msg);
                ret = VIGIL_EINVAL;
                goto out;
            }
            header = false;
            continue;
        }
        st->records++;
        if (rc < 0)
            snprintf(msg, sizeof msg, "%s", cmsg);
        else if (fmt->header && cr.n_fields != cols.n_header)
            rc = import_fail(msg, VIGIL_EINVAL, "record has %zu fields, the header %zu",
                             cr.n_fields, cols.n_header);
        else
            rc = fmt->row(fmt->ctx, &cols, cr.fields, cr.n_fields, &r, msg);
        if ((ret = deliver(h, st, cr.rec_line, rc, &r, msg)) != 0)
            goto out;
    }
    if (header) {
        if (h->error)
            h->error(h->ctx, 1, VIGIL_EINVAL, "header: the file is empty");
        ret = VIGIL_EINVAL;
    }
out:
    csv_release(&cr);
    return ret;
}

static int acled_header(void *ctx, const char *const *f, size_t n, struct import_cols *c,
                        char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    return import_acled_header(f, n, c, msg);
}

static int acled_row(void *ctx, const struct import_cols *c, const char *const *f, size_t n,
                     struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    return import_acled_row(c, f, n, r, msg);
}

static int ucdp_header(void *ctx, const char *const *f, size_t n, struct import_cols *c,
                       char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    return import_ucdp_header(f, n, c, msg);
}

static int ucdp_row(void *ctx, const struct import_cols *c, const char *const *f, size_t n,
                    struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    return import_ucdp_row(c, f, n, r, msg);
}

static int gdelt_row(void *ctx, const struct import_cols *c, const char *const *f, size_t n,
                     struct event_report *r, char msg[IMPORT_MSG_SZ])
{
    (void)ctx;
    (void)c;
    return import_gdelt_row(f, n, r, msg);
}

static int import_csv(enum import_format fmt, FILE *f, const struct import_handler *h,
                      struct import_stats *st)
{
    static const struct import_csv_format acled = {',', true, acled_header, acled_row, NULL},
                                          ucdp = {',', true, ucdp_header, ucdp_row, NULL},
                                          gdelt = {'\t', false, NULL, gdelt_row, NULL};
    return import_csv_records(f, fmt == IMPORT_GDELT ? &gdelt
                                 : fmt == IMPORT_UCDP ? &ucdp
                                                      : &acled,
                              h, st);
}

static int import_misp(FILE *f, const struct import_handler *h, struct import_stats *st)
{
    struct buf b;
    char chunk[65536], msg[IMPORT_MSG_SZ], jmsg[JSON_MSG_SZ];
    size_t n;
    json_t *doc = NULL;
    int ret = 0;
    buf_init(&b, IMPORT_MISP_MAX);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_add(&b, chunk, n) != 0) {
            if (h->error)
                h->error(h->ctx, 1, VIGIL_ETOOBIG, "file: larger than the MISP import limit");
            ret = VIGIL_ETOOBIG;
            goto out;
        }
    }
    if (ferror(f)) {
        ret = VIGIL_EIO;
        goto out;
    }
    if (vjson_parse(b.data, b.len, MISP_MAX_DEPTH, &doc, jmsg) != 0) {
        snprintf(msg, sizeof msg, "file: not JSON: %.200s", jmsg);
        if (h->error)
            h->error(h->ctx, 1, VIGIL_EINVAL, msg);
        ret = VIGIL_EINVAL;
        goto out;
    }
    /* one event, a list of events, or the answer of MISP's /events/restSearch */
    json_t *list = doc;
    if (json_is_object(doc) && json_object_get(doc, "response"))
        list = json_object_get(doc, "response");
    if (json_is_object(list) && json_object_get(list, "Event")) {
        list = json_pack("[O]", list);
    } else if (json_is_array(list)) {
        json_incref(list);
    } else {
        if (h->error)
            h->error(h->ctx, 1, VIGIL_EINVAL,
                     "file: not a MISP event ({\"Event\": ...}) or a list of events");
        ret = VIGIL_EINVAL;
        goto out;
    }
    size_t i;
    json_t *ev;
    json_array_foreach(list, i, ev) {
        struct event_report r;
        st->records++;
        int rc = import_misp_event(ev, &r, msg);
        if ((ret = deliver(h, st, i + 1, rc, &r, msg)) != 0)
            break;
    }
    json_decref(list);
out:
    json_decref(doc);
    buf_release(&b);
    return ret;
}

int import_file(enum import_format fmt, FILE *f, const struct import_handler *h,
                struct import_stats *st)
{
    struct import_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    switch (fmt) {
    case IMPORT_ACLED:
    case IMPORT_UCDP:
    case IMPORT_GDELT:
        return import_csv(fmt, f, h, st);
    case IMPORT_MISP:
        return import_misp(f, h, st);
    }
    return VIGIL_EINVAL;
}

/* ---- gzip input ------------------------------------------------------------------------ */

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
    unsigned n = size > (1u << 30) ? (1u << 30) : (unsigned)size;
    int got = gzread(cookie, buf, n), err = Z_OK;
    if (got == 0)
        gzerror(cookie, &err); /* a truncated stream ends with Z_BUF_ERROR, not Z_OK */
    if (got < 0 || err != Z_OK) {
        errno = EIO;
        return -1;
    }
    return got;
}

/* Only what import needs: rewinding (abort mode reads twice) and asking the position. */
static int gz_seek(void *cookie, off64_t *off, int whence)
{
    if (*off == 0 && whence == SEEK_SET) {
        if (gzrewind(cookie) != 0)
            return -1;
        return 0;
    }
    if (*off == 0 && whence == SEEK_CUR) {
        *off = (off64_t)gzoffset(cookie);
        return 0;
    }
    errno = ESPIPE;
    return -1;
}

static int gz_close(void *cookie)
{
    return gzclose_r(cookie) == Z_OK ? 0 : EOF;
}

FILE *import_open(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    int a = getc(f), b = getc(f);
    if (a != 0x1f || b != 0x8b) {
        rewind(f);
        return f;
    }
    fclose(f);
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        errno = errno ? errno : ENOMEM;
        return NULL;
    }
    gzbuffer(gz, 1 << 17);
    cookie_io_functions_t io = {.read = gz_read, .seek = gz_seek, .close = gz_close};
    FILE *g = fopencookie(gz, "r", io);
    if (!g)
        gzclose_r(gz);
    return g;
}
