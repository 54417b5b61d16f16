/* cli_admin.c - vigil partner add, user add|passwd|disable|enable,
 * group add|add-member|remove-member, token create. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "access/admin.h"
#include "base/err.h"
#include "cli/cli.h"

static const char partner_help[] = "usage: vigil --data DIR partner add NAME [--coordinator]\n"
                                   "\n"
                                   "Adds a partner organisation and prints its STIX identity id.\n";
static const char user_help[] =
    "usage: vigil --data DIR user add PARTNER USER --role admin|analyst|reporter|reader\n"
    "\n"
    "Adds a user to a partner. Give the user a token with vigil token create.\n";
static const char group_help[] =
    "usage: vigil --data DIR group add NAME MEMBER... [--owner PARTNER]\n"
    "       vigil --data DIR group add-member|remove-member GROUP MEMBER... [--owner PARTNER]\n"
    "\n"
    "add creates a sharing group and prints its STIX marking-definition id. A MEMBER is a\n"
    "partner name, or user:NAME for a named user (the members of a RED group are users). The\n"
    "group belongs to the coordination center unless --owner names another partner.\n"
    "add-member and remove-member change a group's members at once, for every read path. GROUP\n"
    "is its marking-definition id, or its name among the groups of --owner (by default the\n"
    "coordination center).\n";
static const char passwd_help[] =
    "usage: vigil --data DIR user passwd USER\n"
    "\n"
    "Reads a new dashboard password (10 or more characters) from the first line of stdin.\n";
static const char disable_help[] =
    "usage: vigil --data DIR user disable|enable USER\n"
    "\n"
    "Disables a user (its tokens, dashboard sessions, streams and webhooks stop; its pending\n"
    "webhook deliveries are given up), or enables it again.\n";
static const char token_help[] =
    "usage: vigil --data DIR token create USER [--read-only] [--expires DAYS]\n"
    "\n"
    "Creates an API token for USER and prints it; it is not shown again.\n";

struct args {
    const char *a, *b, *c;
    int flag;
    long days;
};

static int do_partner(struct store *s, void *arg)
{
    struct args *x = arg;
    char id[64], msg[ADMIN_MSG_SZ];
    if (admin_partner_add(s, NULL, x->a, x->flag, id, msg)) {
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
    return cli_with_store(data, do_partner, &x);
}

static int do_user(struct store *s, void *arg)
{
    struct args *x = arg;
    char msg[ADMIN_MSG_SZ];
    if (admin_user_add(s, NULL, x->a, x->b, x->c, NULL, msg)) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("added user %s to %s as %s\n", x->b, x->a, x->c);
    return 0;
}

static int do_disable(struct store *s, void *arg)
{
    struct args *x = arg;
    char msg[ADMIN_MSG_SZ];
    if (admin_user_set_disabled(s, NULL, x->a, x->flag, msg)) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("%s %s\n", x->flag ? "disabled" : "enabled", x->a);
    return 0;
}

static int do_passwd(struct store *s, void *arg)
{
    struct args *x = arg;
    char line[1100], msg[ADMIN_MSG_SZ];
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "vigil: no password on stdin\n");
        return 1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    int rc = admin_user_password(s, NULL, x->a, line, msg);
    sodium_memzero(line, sizeof line);
    if (rc) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    printf("password set for %s\n", x->a);
    return 0;
}

int cli_user(const char *data, int argc, char **argv)
{
    struct args x = {0};
    if (argc >= 2 && (strcmp(argv[1], "disable") == 0 || strcmp(argv[1], "enable") == 0)) {
        if (cli_wants_help(argc, argv) || argc != 3) {
            fputs(disable_help, argc == 3 ? stdout : stderr);
            return argc == 3 ? 0 : 2;
        }
        x.a = argv[2];
        x.flag = strcmp(argv[1], "disable") == 0;
        return cli_with_store(data, do_disable, &x);
    }
    if (argc >= 2 && strcmp(argv[1], "passwd") == 0) {
        if (cli_wants_help(argc, argv) || argc != 3) {
            fputs(passwd_help, argc == 3 ? stdout : stderr);
            return argc == 3 ? 0 : 2;
        }
        x.a = argv[2];
        return cli_with_store(data, do_passwd, &x);
    }
    if (cli_wants_help(argc, argv)) {
        fputs(user_help, stdout);
        fputs(passwd_help, stdout);
        fputs(disable_help, stdout);
        return 0;
    }
    if (argc != 6 || strcmp(argv[1], "add") != 0 || strcmp(argv[4], "--role") != 0) {
        fputs(user_help, stderr);
        return 2;
    }
    x.a = argv[2];
    x.b = argv[3];
    x.c = argv[5];
    return cli_with_store(data, do_user, &x);
}

static int do_token(struct store *s, void *arg)
{
    struct args *x = arg;
    char token[AUTH_TOKEN_LEN + 1], msg[ADMIN_MSG_SZ];
    if (admin_token_create(s, NULL, x->a, x->flag, (int)x->days, "created by vigil token create",
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
    return cli_with_store(data, do_token, &x);
}

struct group_args {
    const char *verb, *owner, *name;
    const char **members;
    size_t n;
};

static int find_coordinator(void *ctx, const struct store_partner *p)
{
    if (!p->coordinator)
        return 0;
    snprintf(ctx, 128, "%s", p->name);
    return 1;
}

static int do_group(struct store *s, void *arg)
{
    struct group_args *g = arg;
    char owner[128] = "", marking[80], msg[ADMIN_MSG_SZ];
    if (!g->owner) {
        struct store_reader *r;
        if (store_read_begin(s, &r) == 0) {
            store_partners(r, find_coordinator, owner);
            store_read_end(r);
        }
        g->owner = owner;
    }
    bool add = strcmp(g->verb, "add-member") == 0, remove = strcmp(g->verb, "remove-member") == 0;
    int rc = add || remove
                 ? admin_group_members(s, NULL, g->name, g->owner, add ? g->members : NULL,
                                       add ? g->n : 0, remove ? g->members : NULL,
                                       remove ? g->n : 0, msg)
                 : admin_group_add(s, NULL, g->owner, g->name, g->members, g->n, 0, marking, msg);
    if (rc) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    if (!add && !remove)
        printf("%s\n", marking);
    return 0;
}

int cli_group(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(group_help, stdout);
        return 0;
    }
    if (argc < 4 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "add-member") != 0 &&
                     strcmp(argv[1], "remove-member") != 0)) {
        fputs(group_help, stderr);
        return 2;
    }
    const char *members[256];
    struct group_args g = {.verb = argv[1], .name = argv[2], .members = members};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--owner") == 0 && i + 1 < argc)
            g.owner = argv[++i];
        else if (g.n < 256)
            members[g.n++] = argv[i];
    }
    if (g.n == 0) {
        fputs(group_help, stderr);
        return 2;
    }
    return cli_with_store(data, do_group, &g);
}
