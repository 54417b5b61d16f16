/* cli_admin.c - vigil partner add, user add, token create. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/admin.h"
#include "base/err.h"
#include "cli/cli.h"

static const char partner_help[] =
    "usage: vigil --data DIR partner add NAME [--coordinator]\n"
    "\n"
    "Adds a partner organisation and prints its STIX identity id.\n";
static const char user_help[] =
    "usage: vigil --data DIR user add PARTNER USER --role admin|analyst|reporter|reader\n"
    "\n"
    "Adds a user to a partner. Give the user a token with vigil token create.\n";
static const char token_help[] =
    "usage: vigil --data DIR token create USER [--read-only] [--expires DAYS]\n"
    "\n"
    "Creates an API token for USER and prints it; it is not shown again.\n";

/* Runs fn against an opened store; returns the exit status. */
static int with_store(const char *data, int (*fn)(struct store *s, void *arg), void *arg)
{
    struct config cfg;
    config_init(&cfg);
    struct store *s = NULL;
    int rc = cli_open(data, &cfg, &s) ? 1 : fn(s, arg);
    store_close(s);
    config_release(&cfg);
    return rc;
}

struct args {
    const char *a, *b, *c;
    int flag;
    long days;
};

static int do_partner(struct store *s, void *arg)
{
    struct args *x = arg;
    char id[64], msg[ADMIN_MSG_SZ];
    if (admin_partner_add(s, x->a, x->flag, id, msg)) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("%s\n", id);
    return 0;
}

int cli_partner(const char *data, int argc, char **argv)
{
    struct args x = {0};
    if (cli_wants_help(argc, argv)) {
        fputs(partner_help, stdout);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "add") != 0) {
        fputs(partner_help, stderr);
        return 2;
    }
    x.a = argv[2];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--coordinator") == 0) {
            x.flag = 1;
        } else {
            fputs(partner_help, stderr);
            return 2;
        }
    }
    return with_store(data, do_partner, &x);
}

static int do_user(struct store *s, void *arg)
{
    struct args *x = arg;
    char msg[ADMIN_MSG_SZ];
    if (admin_user_add(s, x->a, x->b, x->c, NULL, msg)) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("added user %s to %s as %s\n", x->b, x->a, x->c);
    return 0;
}

int cli_user(const char *data, int argc, char **argv)
{
    struct args x = {0};
    if (cli_wants_help(argc, argv)) {
        fputs(user_help, stdout);
        return 0;
    }
    if (argc != 6 || strcmp(argv[1], "add") != 0 || strcmp(argv[4], "--role") != 0) {
        fputs(user_help, stderr);
        return 2;
    }
    x.a = argv[2];
    x.b = argv[3];
    x.c = argv[5];
    return with_store(data, do_user, &x);
}

static int do_token(struct store *s, void *arg)
{
    struct args *x = arg;
    char token[AUTH_TOKEN_LEN + 1], msg[ADMIN_MSG_SZ];
    if (admin_token_create(s, x->a, x->flag, (int)x->days, "created by vigil token create",
                           token, msg)) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("%s\n", token);
    return 0;
}

int cli_token(const char *data, int argc, char **argv)
{
    struct args x = {0};
    if (cli_wants_help(argc, argv)) {
        fputs(token_help, stdout);
        return 0;
    }
    if (argc < 3 || strcmp(argv[1], "create") != 0) {
        fputs(token_help, stderr);
        return 2;
    }
    x.a = argv[2];
    for (int i = 3; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--read-only") == 0) {
            x.flag = 1;
        } else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc) {
            x.days = strtol(argv[++i], &end, 10);
            if (*end || x.days < 1) {
                fprintf(stderr, "vigil: --expires takes a number of days\n");
                return 2;
            }
        } else {
            fputs(token_help, stderr);
            return 2;
        }
    }
    return with_store(data, do_token, &x);
}
