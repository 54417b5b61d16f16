/* cli_compliance.c - vigil agreement and vigil report (S8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "base/err.h"
#include "base/json.h"
#include "cli/cli.h"
#include "compliance/compliance.h"

static const char agreement_help[] =
    "usage: vigil --data DIR agreement load FILE --as USER\n"
    "       vigil --data DIR agreement list --as USER\n"
    "\n"
    "load: validates a ceasefire agreement file (JSON with GeoJSON zones, see\n"
    "docs/COMPLIANCE.md) and stores it, replacing an agreement with the same id; its STIX\n"
    "objects join the compliance collection, and reports already stored are evaluated\n"
    "against it. An invalid file is refused with the place of the error and nothing is\n"
    "written. USER must be an admin or analyst of the coordination center.\n"
    "list: prints the agreements USER may read as JSON.\n";

static const char report_help[] =
    "usage: vigil --data DIR report daily --date YYYY-MM-DD --as USER [--format html|json|csv]\n"
    "\n"
    "Writes the daily compliance report of the UTC day to stdout, computed only from what\n"
    "USER may read: summary, change from the previous day, confirmed violations and (HTML) a\n"
    "map of zones and violations. Default format: html.\n";

struct job {
    const char *user;
    const char *file;
    char *text;
    size_t len;
    bool list;
    vtime_t day;
    enum compliance_format fmt;
    struct compliance_actor who;
    char identity[80];
    char id[80];
    char msg[CMP_MSG_SZ];
};

static int load_txn(struct store_txn *t, void *arg)
{
    struct job *j = arg;
    return compliance_load(t, &j->who, j->text, j->len, j->id, j->msg);
}

/* Fills j->who for j->user; prints why not and returns nonzero on failure. */
static int actor(struct store *s, struct job *j, struct auth_principal *p)
{
    if (auth_principal_for_user(s, j->user, p)) {
        fprintf(stderr, "vigil: no user named \"%s\"\n", j->user);
        return 1;
    }
    struct store_reader *r;
    struct store_partner sp;
    int rc = store_read_begin(s, &r);
    if (!rc) {
        rc = store_partner_get(r, p->partner, &sp);
        if (!rc)
            snprintf(j->identity, sizeof j->identity, "%s", sp.identity_id);
        store_read_end(r);
    }
    if (rc) {
        auth_principal_release(p);
        fprintf(stderr, "vigil: cannot read the store\n");
        return 1;
    }
    j->who = compliance_actor_of(p, j->identity);
    return 0;
}

static int run_agreement(struct store *s, void *arg)
{
    struct job *j = arg;
    struct auth_principal p;
    if (actor(s, j, &p))
        return 1;
    int rc;
    if (j->list) {
        struct store_reader *r;
        json_t *list = NULL;
        rc = store_read_begin(s, &r);
        if (!rc) {
            rc = compliance_agreements_list(r, j->who.reader, &list);
            store_read_end(r);
        }
        if (!rc) {
            char *text = json_dumps(list, JSON_INDENT(2));
            puts(text);
            free(text);
        }
        json_decref(list);
    } else {
        rc = store_write(s, load_txn, j);
        if (rc)
            fprintf(stderr, "vigil: %s: %s\n", j->file, j->msg[0] ? j->msg : vigil_strerror(rc));
        else
            printf("%s\n", j->id);
    }
    auth_principal_release(&p);
    return rc ? 1 : 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vigil: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b, (size_t)CMP_MAX_FILE + 1);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_add(&b, chunk, n);
    fclose(f);
    if (rc) {
        fprintf(stderr, "vigil: %s: larger than %d bytes\n", path, CMP_MAX_FILE);
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, len);
}

int cli_agreement(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(agreement_help, stdout);
        return 0;
    }
    struct job j = {0};
    int i = 2;
    if (argc >= 3 && strcmp(argv[1], "load") == 0) {
        j.file = argv[2];
        i = 3;
    } else if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        j.list = true;
    } else {
        fputs(agreement_help, stderr);
        return 2;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc) {
            j.user = argv[++i];
        } else {
            fputs(agreement_help, stderr);
            return 2;
        }
    }
    if (!j.user) {
        fputs(agreement_help, stderr);
        return 2;
    }
    if (j.file && !(j.text = slurp(j.file, &j.len)))
        return 1;
    int rc = cli_with_store(data, run_agreement, &j);
    free(j.text);
    return rc;
}

static int run_report(struct store *s, void *arg)
{
    struct job *j = arg;
    struct auth_principal p;
    if (actor(s, j, &p))
        return 1;
    struct store_reader *r;
    struct buf out;
    buf_init(&out, BUF_NOCAP);
    int rc = store_read_begin(s, &r);
    if (!rc) {
        struct store_partner sp;
        rc = store_partner_get(r, p.partner, &sp);
        struct compliance_view view = {p.user_name, rc ? "" : sp.name, ts_now()};
        if (!rc)
            rc = compliance_daily(r, j->who.reader, &view, j->day, j->fmt, &out);
        store_read_end(r);
    }
    if (rc)
        fprintf(stderr, "vigil: cannot build the report: %s\n", vigil_strerror(rc));
    else
        fwrite(out.data, 1, out.len, stdout);
    buf_release(&out);
    auth_principal_release(&p);
    return rc ? 1 : 0;
}

int cli_report(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(report_help, stdout);
        return 0;
    }
    struct job j = {.fmt = COMPLIANCE_HTML};
    bool has_day = false;
    if (argc < 2 || strcmp(argv[1], "daily") != 0) {
        fputs(report_help, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--as") == 0 && v) {
            j.user = argv[++i];
        } else if (strcmp(argv[i], "--date") == 0 && v) {
            if (compliance_day_parse(argv[++i], &j.day)) {
                fprintf(stderr, "vigil: --date: a date YYYY-MM-DD\n");
                return 2;
            }
            has_day = true;
        } else if (strcmp(argv[i], "--format") == 0 && v) {
            if (compliance_format_parse(argv[++i], &j.fmt)) {
                fprintf(stderr, "vigil: --format: html, json or csv\n");
                return 2;
            }
        } else {
            fputs(report_help, stderr);
            return 2;
        }
    }
    if (!j.user || !has_day) {
        fputs(report_help, stderr);
        return 2;
    }
    return cli_with_store(data, run_report, &j);
}
