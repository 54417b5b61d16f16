/* cli_init.c - vigil init: a new data directory with its store, config, key and admin. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/admin.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "server/app.h"

extern const char vigil_default_rules[]; /* data/rules/default.rules, compiled in */

static const char help[] =
    "usage: vigil --data DIR init [--name PARTNER] [--store URI]\n"
    "\n"
    "Creates DIR (mode 0700) with the store, a config file (vigil.conf, every key at its\n"
    "default), the rules file (rules.conf: the default warning rules), the server key, the\n"
    "coordination-center partner (default name\n"
    "\"Coordination Center\") and a user named admin whose API token is written to\n"
    "DIR/admin.token (mode 0600). Refuses a directory that already holds a store.\n"
    "\n"
    "--store URI keeps the store in PostgreSQL instead of DIR/vigil.db: a libpq URI\n"
    "postgresql://USER@HOST:PORT/DB (?host=/path for a unix socket) of an existing, empty\n"
    "database, written to vigil.conf as store = URI; the schema is created there. Other\n"
    "front-ends serve the same hub from copies of DIR (docs/OPERATIONS.md).\n";

/* Writes len bytes to a new file (mode 0600); fails if it exists. */
static int write_new(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
        fprintf(stderr, "vigil: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int add_collections(struct store_txn *t, void *arg)
{
    int rc = store_txn_collection_add(
        t, "reports", "Reports", "Event reports and intelligence shared by partners", true, NULL);
    if (!rc)
        rc = store_txn_collection_add(
            t, "alerts", "Alerts", "Warnings produced by the hub's fusion of reports", false, NULL);
    if (!rc)
        rc = store_txn_collection_add(t, "compliance", "Compliance",
                                      "Ceasefire agreements, zones, violations and tallies", false,
                                      NULL);
    return rc;
}

/* Whether the store has its collections already: a PostgreSQL database another hub uses. */
static bool holds_hub(struct store *s)
{
    struct store_reader *r;
    struct store_collection c;
    if (store_read_begin(s, &r))
        return true;
    bool yes = store_collection_find(r, "reports", &c) != VIGIL_ENOENT;
    store_read_end(r);
    return yes;
}

int cli_init(const char *data, int argc, char **argv)
{
    const char *name = "Coordination Center";
    struct config cfg;
    config_init(&cfg);
    char cmsg[CONFIG_MSG_SZ];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            config_release(&cfg);
            return 0;
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            if (config_set(&cfg, "store", argv[++i], cmsg)) {
                fprintf(stderr, "vigil init: %s\n", cmsg);
                config_release(&cfg);
                return 2;
            }
        } else {
            fprintf(stderr, "vigil init: unexpected argument %s\n%s", argv[i], help);
            config_release(&cfg);
            return 2;
        }
    }
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "vigil: cannot create %s: %s\n", data, strerror(errno));
        config_release(&cfg);
        return 1;
    }
    /* A data directory has vigil.conf; its SQLite store vigil.db. */
    char *db = xasprintf("%s/vigil.db", data), *conf_path = xasprintf("%s/vigil.conf", data);
    int exists = access(db, F_OK) == 0 || access(conf_path, F_OK) == 0;
    free(db);
    free(conf_path);
    if (exists) {
        fprintf(stderr, "vigil: %s already holds a Vigil store\n", data);
        config_release(&cfg);
        return 1;
    }
    struct buf conf;
    buf_init(&conf, BUF_NOCAP);
    config_write(&cfg, &conf);
    config_release(&cfg);
    int rc = write_new(data, "vigil.conf", conf.data, conf.len);
    buf_release(&conf);
    unsigned char key[APP_KEY_LEN];
    randombytes_buf(key, sizeof key);
    if (!rc)
        rc = write_new(data, "secret.key", key, sizeof key);
    /* The default indicators-and-warnings rules, to edit in place (docs/RULES.md). */
    if (!rc)
        rc = write_new(data, "rules.conf", vigil_default_rules, strlen(vigil_default_rules));
    sodium_memzero(key, sizeof key);
    if (rc)
        return 1;

    config_init(&cfg);
    struct store *s = NULL;
    rc = cli_open(data, &cfg, &s);
    char msg[ADMIN_MSG_SZ] = "";
    char identity[64], token[AUTH_TOKEN_LEN + 1];
    if (!rc && holds_hub(s)) {
        snprintf(msg, sizeof msg, "the store (%s) already holds a Vigil hub",
                 cfg.store[0] ? "store in vigil.conf" : "vigil.db");
        rc = 1;
    } else if (!rc && store_write(s, add_collections, NULL)) {
        snprintf(msg, sizeof msg, "cannot create the collections");
        rc = 1;
    }
    if (!rc)
        rc = admin_partner_add(s, NULL, name, true, identity, msg) ||
             admin_user_add(s, NULL, name, "admin", "admin", NULL, msg) ||
             admin_token_create(s, NULL, "admin", false, 0, "created by init", token, msg);
    if (!rc) {
        char line[AUTH_TOKEN_LEN + 2];
        snprintf(line, sizeof line, "%s\n", token);
        rc = write_new(data, "admin.token", line, strlen(line));
        sodium_memzero(line, sizeof line);
        sodium_memzero(token, sizeof token);
    } else if (msg[0]) {
        fprintf(stderr, "vigil: %s\n", msg);
    }
    store_close(s);
    config_release(&cfg);
    if (rc)
        return 1;
    printf("initialised %s\n"
           "coordination center: %s (%s)\n"
           "admin token: %s/admin.token\n",
           data, name, identity, data);
    return 0;
}
