/* cli_data.c - vigil import and vigil export (S6). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/audit.h"
#include "access/auth.h"
#include "access/handling.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/uuid.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "intel/import.h"
#include "service/ingest.h"

static const char import_help[] =
    "usage: vigil --data DIR import FORMAT FILE --as USER [--marking TLP] [--group NAME]\n"
    "                                [--on-error skip|abort] [--area NAME]\n"
    "\n"
    "Imports event reports as USER's partner. FORMAT: acled, ucdp, gdelt, misp (event\n"
    "reports), stix (a STIX 2.1 bundle) or casualties (a daily casualty series of the area\n"
    "--area NAME: one daily-aggregate report per day, docs/FUSION.md). Bad records are\n"
    "reported as FILE:LINE: reason.\n"
    "--on-error skip (default) imports the good ones; abort writes nothing at all when any\n"
    "record is bad. --marking (clear, green, amber, amber+strict, red) and --group set the\n"
    "handling of every imported report; otherwise the partner's default applies. Records\n"
    "already imported (same source id) are not stored twice. One import is one transaction;\n"
    "one of reports (not stix) is one audit entry: the file, the count, a digest of the objects.\n"
    "A gzip-compressed FILE (e.g. ged.csv.gz) is read decompressed.\n"
    "Progress (rows/s, percent, ETA) is shown when stderr is a terminal.\n";

static const char export_help[] =
    "usage: vigil --data DIR export FORMAT --as USER\n"
    "\n"
    "Writes what USER may read and may leave the hub to stdout. FORMAT: stix (a bundle of\n"
    "the reports collection), geojson (event reports as a FeatureCollection), csv (event\n"
    "reports, one per row). TLP:AMBER+STRICT, TLP:RED and unknown markings never leave the\n"
    "hub: they are not exported, even to the partner that owns them.\n";

/* The writer's page cache during an import (store_txn_cache_kib): at a million ACLED rows
 * 512 MiB took 12% less CPU time than the default 32 MiB (peak RSS 585 MB instead of 64 MB;
 * docs/BENCHMARKS.md). It grows only as far as the import needs. */
#define IMPORT_CACHE_KIB (512 * 1024)

/* An import's store grows by about this many bytes per byte of its CSV file (a store of 360 MB
 * after 40 MB of ACLED rows), which its writer's cache holds up to IMPORT_CACHE_KIB; below
 * IMPORT_POOL_MIN_KIB of it the caches stay on malloc. */
#define IMPORT_STORE_PER_FILE_BYTE 10
#define IMPORT_POOL_MIN_KIB (32 * 1024)

/* The fewest bytes a row of a CSV file takes, about (ACLED's and UCDP's take 300-500): the
 * file's size over this is the most rows it may hold, which decides a bulk load. A gzip file
 * has no size here (fstat of the stream), so it is never loaded in bulk. */
#define IMPORT_ROW_BYTES 256

struct import_job {
    const char *path;
    enum import_format fmt;
    bool stix;
    const char *area; /* casualties: the area of the series */
    bool abort_on_error;
    bool write; /* false: a validation pass that stores nothing */
    const char *marking;
    const char *group;
    int64_t coll;
    struct ingest_actor actor;
    size_t added, existing, bad, total;
    off_t size;
    FILE *f;
    int64_t started, last_progress;
    bool tty; /* stderr is a terminal: asked once, not per row (a system call each) */
};

static void progress(struct import_job *j, bool done)
{
    if (!j->tty)
        return;
    int64_t now = ts_monotonic_us();
    if (!done && now - j->last_progress < 250000)
        return;
    j->last_progress = now;
    double secs = (double)(now - j->started) / 1e6;
    double rate = secs > 0 ? (double)j->total / secs : 0;
    long pos = ftell(j->f);
    double pct = j->size > 0 && pos >= 0 ? 100.0 * (double)pos / (double)j->size : 0;
    double eta = pct > 0 ? secs * (100.0 - pct) / pct : 0;
    fprintf(stderr, "\r%s %zu rows  %.0f rows/s  %5.1f%%  ETA %.0fs   ",
            j->write ? "importing" : "checking", j->total, rate, pct, eta);
    if (done)
        fputc('\n', stderr);
}

struct txn_ctx {
    struct import_job *j;
    struct store_txn *t; /* NULL in the checking pass */
};

static int on_bad(void *ctx, size_t line, int rc, const char *msg)
{
    struct import_job *j = ((struct txn_ctx *)ctx)->j;
    j->bad++;
    j->total++;
    if (!j->write || !j->abort_on_error)
        fprintf(stderr, "%s%s:%zu: %s\n", j->tty ? "\r" : "", j->path, line, msg);
    return j->write && j->abort_on_error ? rc : 0;
}

/* The report as stored: the handling given on the command line replaces its own. */
static int with_handling(const struct import_job *j, const struct event_report *r,
                         struct event_report *copy)
{
    *copy = *r; /* shallow: only the handling fields change */
    if (j->marking && report_marking_parse(j->marking, &copy->marking))
        return VIGIL_EINVAL;
    if (j->group)
        copy->group = (char *)j->group;
    return 0;
}

/* One valid record; pb: its documents built ahead, or NULL. */
static int on_report_built(struct txn_ctx *c, const struct event_report *r, size_t line,
                           struct ingest_prebuilt *pb)
{
    struct import_job *j = c->j;
    j->total++;
    progress(j, false);
    if (!j->write)
        return 0;
    struct event_report copy;
    if (with_handling(j, r, &copy))
        return VIGIL_EINVAL;
    enum store_put_outcome outcome;
    char msg[INGEST_MSG_SZ];
    int rc = ingest_report_built(c->t, j->coll, &j->actor, &copy, pb, &outcome, NULL, msg);
    if (rc == VIGIL_EINVAL || rc == VIGIL_EPERM || rc == VIGIL_ECONFLICT) {
        fprintf(stderr, "%s:%zu: %s\n", j->path, line, msg);
        j->bad++;
        return j->abort_on_error ? rc : 0;
    }
    if (!rc)
        *(outcome == STORE_PUT_ADDED ? &j->added : &j->existing) += 1;
    return rc;
}

static int on_report(void *ctx, const struct event_report *r, size_t line)
{
    return on_report_built(ctx, r, line, NULL);
}

/* ---- two threads ------------------------------------------------------------------------
 * A file of records (import_file) is imported by two threads: a parser reads the records
 * and builds each report's documents (ingest_prebuild: JSON text, ids), while the writer
 * stores the previous ones, in the file's order. The parser touches neither the store nor
 * the job's counters; each record, good or bad, goes through the same on_report/on_bad as
 * in one thread, so the outcome, the messages and their order are the same. The documents
 * assume the handling the import gives every report without a marking of its own; the writer
 * uses them only when the handling it resolves is that one and the report is new
 * (ingest_report_built), and builds its own otherwise. */
#define PIPE_SLOTS 256
/* The side that waits sleeps until a batch is ready, not one slot: the parser until this many
 * slots are free, the writer until this many are filled (or the parser is done). A wake-up per
 * slot was a futex system call and a context switch per row on each side. */
#define PIPE_BATCH 64

struct pipe_slot {
    bool is_report;
    struct event_report r; /* a deep copy, owned */
    size_t line;
    int rc; /* a bad record's */
    char msg[IMPORT_MSG_SZ];
    bool built; /* pb holds r's documents */
    struct ingest_prebuilt pb;
};

struct pipe {
    const struct import_job *j;
    bool guess; /* acl and gm: the handling of a report whose marking is `marking` */
    enum report_marking marking;
    struct store_acl acl;
    char gm[80];
    struct pipe_slot *slot; /* PIPE_SLOTS, used as a ring */
    pthread_mutex_t lock;
    pthread_cond_t more, room;
    size_t head, tail; /* the writer takes slot[head], the parser fills slot[tail] */
    bool done, stop;   /* done: the parser ended with rc; stop: the writer wants no more */
    int rc;
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static char **dup_list(char **v, size_t n)
{
    char **w = n ? xmalloc(n * sizeof *w) : NULL;
    for (size_t i = 0; i < n; i++)
        w[i] = xstrdup(v[i]);
    return w;
}

static void report_copy(struct event_report *dst, const struct event_report *src)
{
    *dst = *src;
    dst->area = dup_or_null(src->area);
    dst->actors = dup_list(src->actors, src->n_actors);
    dst->targets = dup_list(src->targets, src->n_targets);
    dst->group = dup_or_null(src->group);
    dst->title = dup_or_null(src->title);
    dst->description = dup_or_null(src->description);
    dst->source_ref = dup_or_null(src->source_ref);
}

/* The next free slot for the parser, or NULL when the writer stopped. */
static struct pipe_slot *pipe_claim(struct pipe *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->tail - p->head == PIPE_SLOTS)
        while (p->tail - p->head > PIPE_SLOTS - PIPE_BATCH && !p->stop)
            pthread_cond_wait(&p->room, &p->lock);
    struct pipe_slot *s = p->stop ? NULL : &p->slot[p->tail % PIPE_SLOTS];
    pthread_mutex_unlock(&p->lock);
    return s;
}

static void pipe_publish(struct pipe *p)
{
    pthread_mutex_lock(&p->lock);
    p->tail++;
    if (p->tail - p->head >= PIPE_BATCH)
        pthread_cond_signal(&p->more);
    pthread_mutex_unlock(&p->lock);
}

static int pipe_report(void *ctx, const struct event_report *r, size_t line)
{
    struct pipe *p = ctx;
    struct pipe_slot *s = pipe_claim(p);
    if (!s)
        return VIGIL_ESHUTDOWN;
    s->is_report = true;
    report_copy(&s->r, r);
    s->line = line;
    struct event_report copy;
    s->built = p->guess && with_handling(p->j, r, &copy) == 0 &&
               copy.marking == p->marking &&
               ingest_prebuild(&copy, &p->j->actor, &p->acl, p->gm, &s->pb) == 0;
    pipe_publish(p);
    return 0;
}

static int pipe_bad(void *ctx, size_t line, int rc, const char *msg)
{
    struct pipe *p = ctx;
    struct pipe_slot *s = pipe_claim(p);
    if (!s)
        return VIGIL_ESHUTDOWN;
    s->is_report = false;
    s->line = line;
    s->rc = rc;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    pipe_publish(p);
    return 0;
}

static void *pipe_parser(void *arg)
{
    struct pipe *p = arg;
    struct import_handler h = {.report = pipe_report, .error = pipe_bad, .ctx = p};
    int rc = import_file(p->j->fmt, p->j->f, &h, NULL);
    pthread_mutex_lock(&p->lock);
    p->done = true;
    p->rc = rc;
    pthread_cond_signal(&p->more);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* import_file through the parser thread, each record handed to on_report/on_bad on this
 * one. The same return value as import_file with those handlers. */
static int import_piped(struct txn_ctx *c)
{
    struct import_job *j = c->j;
    struct pipe p = {.j = j};
    /* The handling of a report without a marking of its own, as ingest_report resolves it;
     * if that fails, every report fails the same way on the writer, with its message. */
    struct event_report plain, copy;
    report_init(&plain);
    const char *gm = NULL;
    char hmsg[HANDLING_MSG_SZ];
    p.guess = with_handling(j, &plain, &copy) == 0 &&
              handling_from_names(store_txn_reader(c->t), report_marking_name(copy.marking),
                                  copy.group, j->actor.default_tlp, j->actor.partner,
                                  j->actor.user, &p.acl, &gm, hmsg) == 0;
    snprintf(p.gm, sizeof p.gm, "%s", p.guess && gm ? gm : "");
    p.marking = copy.marking;
    p.slot = xcalloc(PIPE_SLOTS, sizeof *p.slot);
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        ingest_prebuilt_init(&p.slot[i].pb);
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.more, NULL);
    pthread_cond_init(&p.room, NULL);
    pthread_t parser;
    int rc = 0;
    bool threaded = pthread_create(&parser, NULL, pipe_parser, &p) == 0;
    if (!threaded) { /* one thread, as before */
        struct import_handler h = {.report = on_report, .error = on_bad, .ctx = c};
        rc = import_file(j->fmt, j->f, &h, NULL);
    }
    for (;;) {
        if (!threaded)
            break;
        pthread_mutex_lock(&p.lock);
        if (p.head == p.tail)
            while (p.tail - p.head < PIPE_BATCH && !p.done)
                pthread_cond_wait(&p.more, &p.lock);
        bool empty = p.head == p.tail;
        pthread_mutex_unlock(&p.lock);
        if (empty)
            break; /* the parser is done and everything it sent was taken */
        struct pipe_slot *s = &p.slot[p.head % PIPE_SLOTS];
        if (!rc)
            rc = s->is_report ? on_report_built(c, &s->r, s->line, s->built ? &s->pb : NULL)
                              : on_bad(c, s->line, s->rc, s->msg);
        if (s->is_report)
            report_release(&s->r);
        pthread_mutex_lock(&p.lock);
        p.head++;
        if (rc)
            p.stop = true; /* what is left is only released */
        if (rc || p.tail - p.head <= PIPE_SLOTS - PIPE_BATCH)
            pthread_cond_signal(&p.room);
        pthread_mutex_unlock(&p.lock);
    }
    if (threaded) {
        pthread_join(parser, NULL);
        if (!rc)
            rc = p.rc;
    }
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        ingest_prebuilt_release(&p.slot[i].pb);
    free(p.slot);
    pthread_cond_destroy(&p.room);
    pthread_cond_destroy(&p.more);
    pthread_mutex_destroy(&p.lock);
    return rc;
}

/* A STIX bundle: every object through the same path as TAXII. */
static int import_stix(struct import_job *j, struct store_txn *t)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 31);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, j->f)) > 0)
        if (buf_add(&b, chunk, n)) {
            fprintf(stderr, "%s: larger than 2 GiB\n", j->path);
            buf_release(&b);
            return VIGIL_ETOOBIG;
        }
    json_t *bundle;
    char msg[JSON_MSG_SZ];
    int rc = vjson_parse(b.data, b.len, 256, &bundle, msg);
    buf_release(&b);
    char smsg[STIX_MSG_SZ];
    if (!rc && stix_bundle_check(bundle, smsg)) {
        snprintf(msg, sizeof msg, "%s", smsg);
        rc = VIGIL_EINVAL;
    }
    if (rc) {
        fprintf(stderr, "%s: %s\n", j->path, msg);
        if (!rc)
            json_decref(bundle);
        return VIGIL_EINVAL;
    }
    json_t *objs = json_object_get(bundle, "objects");
    for (size_t i = 0; i < json_array_size(objs) && !rc; i++) {
        struct ingest_item it;
        ingest_prepare(&it, json_array_get(objs, i), j->actor.partner);
        j->total++;
        if (j->write)
            rc = ingest_store(t, j->coll, &j->actor, &it);
        if (!rc && it.error) {
            fprintf(stderr, "%s: object %zu: %s\n", j->path, i + 1, it.error);
            j->bad++;
            if (j->abort_on_error)
                rc = VIGIL_EINVAL;
        } else if (!rc && j->write) {
            *(it.outcome != STORE_PUT_EXISTS ? &j->added : &j->existing) += 1;
        }
        ingest_item_release(&it);
    }
    json_decref(bundle);
    return rc;
}

static int import_txn(struct store_txn *t, void *arg)
{
    struct import_job *j = arg;
    j->added = j->existing = j->bad = j->total = 0;
    rewind(j->f);
    j->started = ts_monotonic_us();
    if (j->stix)
        return import_stix(j, t);
    struct txn_ctx c = {j, t};
    struct import_handler h = {.report = on_report, .error = on_bad, .ctx = &c};
    struct import_stats st;
    /* The whole import is one audit entry (docs/ACCESS.md): the file, its format, and the
     * objects stored as a write's list (count, digest, the first ten, date_added range). */
    struct ingest_audit ia = {0};
    audit_list_init(&ia.list);
    j->actor.audit_into = &ia;
    store_txn_cache_kib(t, IMPORT_CACHE_KIB); /* a failure only makes it slower */
    /* A large file into a store not much larger: the report index's secondary indexes and
     * R*Tree are built once at the end, in this transaction (store_txn_reports_bulk_begin). */
    int rc = store_txn_reports_bulk_begin(t, (size_t)(j->size / IMPORT_ROW_BYTES));
    if (!rc)
        rc = j->area ? import_casualties(j->f, j->area, &h, &st) : import_piped(&c);
    if (!rc)
        rc = store_txn_reports_bulk_end(t);
    store_txn_cache_kib(t, 0);
    progress(j, true);
    if (rc) {
        j->actor.audit_into = NULL;
        free(audit_list_detail(&ia.list, ""));
        return rc;
    }
    json_t *file = json_string(j->path);
    char *fname = file ? json_dumps(file, JSON_ENCODE_ANY) : NULL;
    json_decref(file);
    char *fields =
        xasprintf("\"file\":%s,\"format\":\"%s\",\"records\":%zu,\"reports_added\":%zu",
                  fname ? fname : "\"?\"", j->area ? "casualties" : import_format_name(j->fmt),
                  j->total, j->added);
    free(fname);
    rc = ingest_audit_finish(t, &j->actor, "import", "objects", fields);
    j->actor.audit_into = NULL;
    free(fields);
    return rc;
}

struct import_args {
    struct import_job job;
    const char *user;
};

static int import_run(struct store *s, struct import_job *j);

static int run_import(struct store *s, void *arg)
{
    struct import_args *x = arg;
    struct import_job *j = &x->job;
    struct auth_principal p;
    if (auth_principal_for_user(s, x->user, &p)) {
        fprintf(stderr, "vigil: no user named \"%s\"\n", x->user);
        return 1;
    }
    char identity[80] = "", partner[128] = "";
    struct store_reader *r;
    struct store_partner sp;
    struct store_collection c;
    int rc = store_read_begin(s, &r);
    if (!rc) {
        rc = store_partner_get(r, p.partner, &sp);
        if (!rc) {
            snprintf(identity, sizeof identity, "%s", sp.identity_id);
            snprintf(partner, sizeof partner, "%s", sp.name);
            rc = store_collection_find(r, "reports", &c);
        }
        store_read_end(r);
    }
    if (rc) {
        auth_principal_release(&p);
        fprintf(stderr, "vigil: cannot read the store\n");
        return 1;
    }
    j->coll = c.id;
    j->actor = (struct ingest_actor){.partner = p.partner,
                                     .user = p.user,
                                     .default_tlp = p.default_tlp,
                                     .identity_id = identity,
                                     .partner_name = partner};
    if (p.read_only || strcmp(p.role, "reader") == 0) {
        auth_principal_release(&p);
        fprintf(stderr, "vigil: %s may not submit reports\n", x->user);
        return 1;
    }
    rc = import_run(s, j);
    auth_principal_release(&p);
    return rc;
}

/* Checks (abort mode) and imports a prepared job in one transaction; the exit status. */
static int import_run(struct store *s, struct import_job *j)
{
    int rc;
    if (j->abort_on_error) {
        /* Check everything first, so that every bad record is listed. */
        j->write = false;
        struct txn_ctx c0 = {j, NULL};
        struct import_handler h0 = {on_report, on_bad, &c0};
        rc = j->stix   ? import_stix(j, NULL)
             : j->area ? import_casualties(j->f, j->area, &h0, NULL)
                       : import_file(j->fmt, j->f, &h0, NULL);
        if (rc || j->bad) {
            fprintf(stderr, "vigil: %zu bad record(s); nothing was imported\n", j->bad);
            return 1;
        }
    }
    j->write = true;
    rc = store_write(s, import_txn, j);
    if (rc) {
        fprintf(stderr, "vigil: import failed (%s); nothing was imported\n", vigil_strerror(rc));
        return 1;
    }
    printf("imported %zu report(s), %zu already present, %zu bad record(s) skipped\n", j->added,
           j->existing, j->bad);
    return 0;
}

int cli_import(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(import_help, stdout);
        return 0;
    }
    struct import_args x = {0};
    if (argc < 3) {
        fputs(import_help, stderr);
        return 2;
    }
    x.job.path = argv[2];
    x.job.stix = strcmp(argv[1], "stix") == 0;
    bool casualties = strcmp(argv[1], "casualties") == 0;
    if (!x.job.stix && !casualties && import_format_parse(argv[1], &x.job.fmt)) {
        fprintf(stderr, "vigil: unknown format \"%s\" (acled, ucdp, gdelt, misp, stix, "
                        "casualties)\n", argv[1]);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--as") == 0 && v)
            x.user = argv[++i];
        else if (strcmp(argv[i], "--marking") == 0 && v)
            x.job.marking = argv[++i];
        else if (strcmp(argv[i], "--group") == 0 && v)
            x.job.group = argv[++i];
        else if (strcmp(argv[i], "--area") == 0 && v && casualties)
            x.job.area = argv[++i];
        else if (strcmp(argv[i], "--on-error") == 0 && v &&
                 (strcmp(v, "skip") == 0 || strcmp(v, "abort") == 0))
            x.job.abort_on_error = strcmp(argv[++i], "abort") == 0;
        else {
            fputs(import_help, stderr);
            return 2;
        }
    }
    if (casualties && (!x.job.area || !*x.job.area || strlen(x.job.area) > 80)) {
        fputs("vigil: casualties: --area NAME (1 to 80 bytes) is required\n", stderr);
        return 2;
    }
    enum report_marking m;
    if (!x.user || (x.job.marking && report_marking_parse(x.job.marking, &m))) {
        fputs(x.user ? "vigil: --marking: clear, green, amber, amber+strict or red\n" : import_help,
              stderr);
        return 2;
    }
    x.job.tty = isatty(STDERR_FILENO);
    x.job.f = import_open(x.job.path);
    if (!x.job.f) {
        fprintf(stderr, "vigil: %s: %s\n", x.job.path, strerror(errno));
        return 1;
    }
    struct stat sb;
    x.job.size = fstat(fileno(x.job.f), &sb) == 0 ? sb.st_size : 0;
    /* A large file: the writer's cache takes its pages from one pool of the size the import
     * will fill (store_page_pool), not one malloc each: through malloc each new page of the
     * writer's thread grew its arena by a page (an mprotect each), 15% of the CPU time of an
     * import of 20,000 rows (perf, docs/BENCHMARKS.md). */
    int64_t need = (int64_t)(x.job.size / 1024) * IMPORT_STORE_PER_FILE_BYTE;
    bool large = need > IMPORT_POOL_MIN_KIB;
    if (large)
        store_page_pool((need < IMPORT_CACHE_KIB ? need : IMPORT_CACHE_KIB) + 8192);
    /* The same large file: its pages written once, in a rollback journal, when no other
     * process has the store open (store_options.bulk_load). */
    int rc = (large ? cli_with_store_bulk : cli_with_store)(data, run_import, &x);
    fclose(x.job.f);
    return rc;
}

/* ---- export -------------------------------------------------------------------------- */

enum export_format { EXPORT_STIX, EXPORT_GEOJSON, EXPORT_CSV };

struct export_args {
    enum export_format fmt;
    const char *user;
    size_t n;
};

static int put_object(void *ctx, const struct store_object *o)
{
    struct export_args *x = ctx;
    fputs(x->n++ ? ",\n" : "\n", stdout);
    fwrite(o->json, 1, o->json_len, stdout);
    return 0;
}

/* A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). Text that a
 * spreadsheet would run as a formula (a first character of =, +, -, @, tab or carriage
 * return: a partner's title such as =HYPERLINK(...)) gets a leading apostrophe, which
 * spreadsheets show as text; numbers (number) are written as they are. */
static void csv_cell(const char *s, bool number, bool last)
{
    bool formula = !number && s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', stdout);
    if (formula)
        fputc('\'', stdout);
    for (; *s; s++) {
        if (quote && *s == '"')
            fputc('"', stdout);
        fputc(*s, stdout);
    }
    if (quote)
        fputc('"', stdout);
    fputc(last ? '\n' : ',', stdout);
}

static void csv_field(const char *s, bool last)
{
    csv_cell(s, false, last);
}

static const char *const csv_cols[] = {
    "id",      "partner",     "event",       "mode",    "future", "start",       "end",
    "lat",     "lon",         "precision_m", "area",    "actors", "targets",     "fatalities",
    "injured", "reliability", "credibility", "marking", "title",  "description", "source_ref"};
#define NCOLS (sizeof csv_cols / sizeof csv_cols[0])

/* A document member as CSV text: lists joined with "; ". */
static void csv_value(const json_t *doc, const char *key, bool last)
{
    json_t *loc = json_object_get(doc, "location");
    json_t *v = strcmp(key, "lat") == 0 || strcmp(key, "lon") == 0 ||
                        strcmp(key, "precision_m") == 0 || strcmp(key, "area") == 0
                    ? json_object_get(loc, key)
                    : json_object_get(doc, key);
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    bool number = json_is_number(v);
    if (json_is_string(v)) {
        buf_adds(&b, json_string_value(v));
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            buf_addf(&b, "%s%s", i ? "; " : "", json_string_value(json_array_get(v, i)));
    } else if (v && !json_is_null(v)) {
        char *t = vjson_dumps(v);
        buf_adds(&b, t);
        free(t);
    }
    csv_cell(b.data, number, last);
    buf_release(&b);
}

static int put_report(void *ctx, const struct store_report *rep)
{
    struct export_args *x = ctx;
    json_t *doc = json_loads(rep->doc, 0, NULL);
    if (!doc)
        return VIGIL_ESTORE;
    if (x->fmt == EXPORT_CSV) {
        for (size_t i = 0; i < NCOLS; i++)
            csv_value(doc, csv_cols[i], i + 1 == NCOLS);
    } else {
        json_t *loc = json_object_get(doc, "location");
        json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
        json_t *f = json_pack(
            "{s:s, s:O, s:o, s:O}", "type", "Feature", "id", json_object_get(doc, "id"), "geometry",
            lat && lon ? json_pack("{s:s, s:[O, O]}", "type", "Point", "coordinates", lon, lat)
                       : json_null(),
            "properties", doc);
        char *t = vjson_dumps(f);
        printf("%s%s", x->n ? ",\n" : "\n", t);
        free(t);
        json_decref(f);
    }
    x->n++;
    json_decref(doc);
    return 0;
}

static int run_export(struct store *s, void *arg)
{
    struct export_args *x = arg;
    struct auth_principal p;
    if (auth_principal_for_user(s, x->user, &p)) {
        fprintf(stderr, "vigil: no user named \"%s\"\n", x->user);
        return 1;
    }
    /* An export leaves the hub: the read policy and the egress gate decide together. */
    struct policy_recipient to = {&p.reader, EGRESS_EXPORT};
    struct store_reader *r;
    int rc = store_read_begin(s, &r);
    if (rc) {
        auth_principal_release(&p);
        return 1;
    }
    if (x->fmt == EXPORT_STIX) {
        struct store_collection c;
        rc = store_collection_find(r, "reports", &c);
        char bid[UUID_STRLEN + 1];
        uuid_v4(bid);
        printf("{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", bid);
        struct store_query q = {.coll = c.id,
                                .version_match = STORE_VER_ALL,
                                .visible = policy_egress_visible,
                                .visible_ctx = &to};
        struct store_page page;
        if (!rc)
            rc = store_objects_query(r, &q, put_object, x, &page);
        printf("\n]}\n");
    } else {
        if (x->fmt == EXPORT_CSV)
            for (size_t i = 0; i < NCOLS; i++)
                csv_field(csv_cols[i], i + 1 == NCOLS);
        else
            printf("{\"type\":\"FeatureCollection\",\"features\":[");
        struct store_report_query q = {
            .future = -1, .visible = policy_egress_visible, .visible_ctx = &to};
        bool more;
        rc = store_reports_query(r, &q, put_report, x, &more);
        if (x->fmt == EXPORT_GEOJSON)
            printf("\n]}\n");
    }
    store_read_end(r);
    auth_principal_release(&p);
    if (fflush(stdout) || rc) {
        fprintf(stderr, "vigil: export failed\n");
        return 1;
    }
    fprintf(stderr, "exported %zu record(s)\n", x->n);
    return 0;
}

int cli_export(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(export_help, stdout);
        return 0;
    }
    struct export_args x = {0};
    if (argc != 4 || strcmp(argv[2], "--as") != 0) {
        fputs(export_help, stderr);
        return 2;
    }
    x.user = argv[3];
    if (strcmp(argv[1], "stix") == 0)
        x.fmt = EXPORT_STIX;
    else if (strcmp(argv[1], "geojson") == 0)
        x.fmt = EXPORT_GEOJSON;
    else if (strcmp(argv[1], "csv") == 0)
        x.fmt = EXPORT_CSV;
    else {
        fprintf(stderr, "vigil: unknown format \"%s\" (stix, geojson, csv)\n", argv[1]);
        return 2;
    }
    return cli_with_store(data, run_export, &x);
}
