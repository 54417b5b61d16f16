/* cli_audit.c - vigil audit verify | export. */
#include <stdio.h>
#include <string.h>

#include "access/audit.h"
#include "base/err.h"
#include "cli/cli.h"

static const char help[] =
    "usage: vigil --data DIR audit verify\n"
    "       vigil --data DIR audit export [--partner NAME]\n"
    "\n"
    "verify checks the hash chain of the audit log and prints the number of entries and the\n"
    "head hash (keep it elsewhere to detect a truncated log later); it exits 1 and names the\n"
    "first bad entry when an entry was altered, removed or reordered.\n"
    "export writes the entries (of one partner) as JSON lines to stdout.\n";

struct audit_args {
    const char *cmd, *partner;
};

static int run(struct store *s, void *arg)
{
    struct audit_args *a = arg;
    if (strcmp(a->cmd, "verify") == 0) {
        int64_t n;
        char head[65], msg[AUDIT_MSG_SZ];
        if (audit_verify(s, &n, head, msg)) {
            fprintf(stderr, "vigil: audit chain BROKEN: %s\n", msg);
            return 1;
        }
        printf("audit chain ok: %lld entries, head %s\n", (long long)n, head);
        return 0;
    }
    int64_t partner = 0;
    if (a->partner) {
        struct store_reader *r;
        struct store_partner p;
        int rc = store_read_begin(s, &r);
        if (!rc) {
            rc = store_partner_find(r, a->partner, &p);
            partner = p.id;
            store_read_end(r);
        }
        if (rc) {
            fprintf(stderr, "vigil: no partner named \"%s\"\n", a->partner);
            return 1;
        }
    }
    return audit_export(s, partner, stdout) ? 1 : 0;
}

int cli_audit(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    struct audit_args a = {0};
    if (argc == 2 && strcmp(argv[1], "verify") == 0)
        a.cmd = "verify";
    else if ((argc == 2 || (argc == 4 && strcmp(argv[2], "--partner") == 0)) &&
             strcmp(argv[1], "export") == 0)
        a = (struct audit_args){"export", argc == 4 ? argv[3] : NULL};
    if (!a.cmd) {
        fputs(help, stderr);
        return 2;
    }
    return cli_with_store(data, run, &a);
}
