/* cli_audit.c - vigil audit verify | export. */
#include <stdio.h>
#include <string.h>

#include "access/audit.h"
#include "base/err.h"
#include "cli/cli.h"

static const char help[] =
    "usage: vigil --data DIR audit verify [--checkpoint FILE]\n"
    "       vigil --data DIR audit checkpoint\n"
    "       vigil --data DIR audit export [--partner NAME]\n"
    "\n"
    "verify checks the hash chain of the audit log and prints the number of entries and the\n"
    "head hash; it exits 1 and names the first bad entry when an entry was altered, removed or\n"
    "reordered. With --checkpoint FILE it also checks a line that checkpoint printed: signed by\n"
    "this hub's audit key, and the log still holds that entry unchanged (nothing up to it was\n"
    "altered and re-chained, nothing after it removed).\n"
    "checkpoint verifies the chain and prints its head, signed with the hub's audit key\n"
    "(DIR/audit.key, made on first use): keep the line somewhere else, away from the hub.\n"
    "export writes the entries (of one partner) as JSON lines to stdout.\n";

struct audit_args {
    const char *cmd, *partner, *checkpoint, *data;
};

/* Reads the first line of a checkpoint file into out. */
static int read_checkpoint(const char *path, char out[AUDIT_CHECKPOINT_SZ])
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "vigil: %s: cannot open\n", path);
        return 1;
    }
    int rc = fgets(out, AUDIT_CHECKPOINT_SZ, f) ? 0 : 1;
    if (f != stdin)
        fclose(f);
    if (rc)
        fprintf(stderr, "vigil: %s: empty\n", path);
    return rc;
}

static int run(struct store *s, void *arg)
{
    struct audit_args *a = arg;
    if (strcmp(a->cmd, "verify") == 0) {
        int64_t n;
        char head[65], msg[AUDIT_MSG_SZ], cp[AUDIT_CHECKPOINT_SZ];
        if (a->checkpoint && read_checkpoint(a->checkpoint, cp))
            return 1;
        int rc = a->checkpoint ? audit_verify_checkpoint(s, a->data, cp, &n, head, msg)
                               : audit_verify(s, &n, head, msg);
        if (rc) {
            fprintf(stderr, "vigil: audit chain BROKEN: %s\n", msg);
            return 1;
        }
        printf("audit chain ok: %lld entries, head %s%s\n", (long long)n, head,
               a->checkpoint ? "; the checkpoint holds" : "");
        return 0;
    }
    if (strcmp(a->cmd, "checkpoint") == 0) {
        char cp[AUDIT_CHECKPOINT_SZ], msg[AUDIT_MSG_SZ];
        if (audit_checkpoint(s, a->data, cp, msg)) {
            fprintf(stderr, "vigil: no checkpoint: %s\n", msg);
            return 1;
        }
        printf("%s\n", cp);
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
    else if (argc == 4 && strcmp(argv[1], "verify") == 0 &&
             strcmp(argv[2], "--checkpoint") == 0)
        a = (struct audit_args){.cmd = "verify", .checkpoint = argv[3]};
    else if (argc == 2 && strcmp(argv[1], "checkpoint") == 0)
        a.cmd = "checkpoint";
    else if ((argc == 2 || (argc == 4 && strcmp(argv[2], "--partner") == 0)) &&
             strcmp(argv[1], "export") == 0)
        a = (struct audit_args){.cmd = "export", .partner = argc == 4 ? argv[3] : NULL};
    if (!a.cmd) {
        fputs(help, stderr);
        return 2;
    }
    a.data = data;
    return cli_with_store(data, run, &a);
}
