/* cli_common.c - what the subcommands share: opening a data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "cli/cli.h"

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int open_store(const char *data, struct config *cfg, struct store **s, bool bulk)
{
    char msg[STORE_MSG_SZ > CONFIG_MSG_SZ ? STORE_MSG_SZ : CONFIG_MSG_SZ];
    char *path = xasprintf("%s/vigil.conf", data);
    int rc = config_load(cfg, path, msg);
    free(path);
    if (rc) {
        fprintf(stderr, "vigil: %s%s\n", msg,
                rc == VIGIL_EIO ? " (is this a data directory? see vigil init)" : "");
        return 1;
    }
    struct store_options so = {.read_connections = 2, .bulk_load = bulk};
    if (store_open(config_store(cfg, data), &so, s, msg)) {
        fprintf(stderr, "vigil: cannot open the store: %s\n", msg);
        return 1;
    }
    return 0;
}

int cli_open(const char *data, struct config *cfg, struct store **s)
{
    return open_store(data, cfg, s, false);
}

static int with_store(const char *data, int (*fn)(struct store *s, void *arg), void *arg,
                      bool bulk)
{
    struct config cfg;
    config_init(&cfg);
    struct store *s = NULL;
    int rc = open_store(data, &cfg, &s, bulk) ? 1 : fn(s, arg);
    store_close(s);
    config_release(&cfg);
    return rc;
}

int cli_with_store(const char *data, int (*fn)(struct store *s, void *arg), void *arg)
{
    return with_store(data, fn, arg, false);
}

int cli_with_store_bulk(const char *data, int (*fn)(struct store *s, void *arg), void *arg)
{
    return with_store(data, fn, arg, true);
}
