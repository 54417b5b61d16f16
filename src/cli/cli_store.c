/* cli_store.c - vigil store copy: a hub moved to another store (SQLite to PostgreSQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "cli/cli.h"

static const char help[] =
    "usage: vigil store copy --from DIR --to URI\n"
    "\n"
    "Copies the hub whose data directory is DIR (its store, wherever vigil.conf says it is)\n"
    "into the empty store at URI: a postgresql:// URI (or another data directory), every row\n"
    "with its numbers, times and hashes, so the audit chain stays intact. Stop the server\n"
    "first. Then point the front-ends at it: store = URI in their vigil.conf, with DIR's\n"
    "secret.key (docs/OPERATIONS.md).\n";

struct copy {
    struct store *from;
    const char *table;
    struct store_txn *t;
    long rows, total;
    char msg[STORE_MSG_SZ];
};

static int put_row(void *ctx, size_t ncols, const char *const *cols, const struct store_value *v)
{
    struct copy *c = ctx;
    int rc = store_txn_table_put(c->t, c->table, ncols, cols, v);
    if (rc)
        snprintf(c->msg, sizeof c->msg, "cannot copy a row of %s: %s", c->table,
                 vigil_strerror(rc));
    c->rows++;
    return rc;
}

static int copy_txn(struct store_txn *t, void *arg)
{
    struct copy *c = arg;
    struct store_reader *r;
    c->t = t;
    int rc = store_read_begin(c->from, &r);
    for (const char *const *tab = store_copy_tables(); *tab && !rc; tab++) {
        c->table = *tab;
        c->rows = 0;
        rc = store_table_scan(r, *tab, put_row, c);
        if (!rc)
            printf("%-20s %ld rows\n", *tab, c->rows);
        c->total += c->rows;
    }
    store_read_end(r);
    return rc ? rc : store_txn_numbers_reset(t);
}

/* Whether the store has its collections already. */
static int holds_hub(struct store *s)
{
    struct store_reader *r;
    struct store_collection coll;
    if (store_read_begin(s, &r))
        return 1;
    int yes = store_collection_find(r, "reports", &coll) != VIGIL_ENOENT;
    store_read_end(r);
    return yes;
}

int cli_store(const char *data, int argc, char **argv)
{
    (void)data;
    const char *from = NULL, *to = NULL;
    if (argc < 2 || strcmp(argv[1], "copy") != 0 || cli_wants_help(argc, argv)) {
        fputs(help, cli_wants_help(argc, argv) ? stdout : stderr);
        return cli_wants_help(argc, argv) ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else {
            fprintf(stderr, "vigil store: unexpected argument %s\n%s", argv[i], help);
            return 2;
        }
    }
    if (!from || !to) {
        fprintf(stderr, "vigil store copy: --from DIR and --to URI are needed\n%s", help);
        return 2;
    }
    struct config cfg;
    config_init(&cfg);
    struct copy c = {0};
    struct store *dst = NULL;
    char msg[STORE_MSG_SZ];
    struct store_options so = {.read_connections = 1};
    int rc = cli_open(from, &cfg, &c.from);
    if (!rc && store_open(to, &so, &dst, msg)) {
        fprintf(stderr, "vigil: cannot open the store to copy to: %s\n", msg);
        rc = 1;
    }
    if (!rc && holds_hub(dst)) {
        fprintf(stderr, "vigil: the store to copy to is not empty: it holds a hub\n");
        rc = 1;
    }
    if (!rc && store_write(dst, copy_txn, &c)) {
        fprintf(stderr, "vigil: copy failed, nothing was kept: %s\n",
                c.msg[0] ? c.msg : "the store refused it");
        rc = 1;
    }
    if (!rc)
        printf("copied %ld rows; check with: vigil --data DIR audit verify (DIR's vigil.conf "
               "saying store = URI)\n", c.total);
    store_close(dst);
    store_close(c.from);
    config_release(&cfg);
    return rc ? 1 : 0;
}
