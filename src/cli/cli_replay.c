/* cli_replay.c - vigil replay: back-test the rules on the stored history (S7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "service/alerts.h"

static const char help[] =
    "usage: vigil --data DIR replay --as USER [--rules FILE]\n"
    "\n"
    "Re-runs fusion over every stored report, by event time, with the current rules (or those\n"
    "of FILE), and prints the alerts USER would see, one JSON object per line, as they would\n"
    "have fired at the time. Live alerts and their status are not touched: use it to\n"
    "back-test a rule change on past crises before reloading the server's rules.\n";

struct replay_args {
    const char *data, *user, *rules;
};

static int run(struct store *s, void *arg)
{
    struct replay_args *x = arg;
    struct auth_principal p;
    if (auth_principal_for_user(s, x->user, &p)) {
        fprintf(stderr, "vigil: no user named \"%s\"\n", x->user);
        return 1;
    }
    char *path = x->rules ? xstrdup(x->rules) : xasprintf("%s/rules.conf", x->data);
    json_t *list = NULL;
    char msg[256];
    int rc = alerts_replay(s, path, &p.reader, &list, msg);
    free(path);
    auth_principal_release(&p);
    if (rc) {
        fprintf(stderr, "vigil: %s\n", msg);
        return 1;
    }
    size_t i;
    json_t *a;
    json_array_foreach (list, i, a) {
        char *line = vjson_dumps(a);
        printf("%s\n", line);
        free(line);
    }
    fprintf(stderr, "%zu alert(s)\n", json_array_size(list));
    json_decref(list);
    return 0;
}

int cli_replay(const char *data, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(help, stdout);
        return 0;
    }
    struct replay_args x = {.data = data};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--as") == 0 && i + 1 < argc)
            x.user = argv[++i];
        else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            x.rules = argv[++i];
        else {
            fputs(help, stderr);
            return 2;
        }
    }
    if (!x.user) {
        fputs(help, stderr);
        return 2;
    }
    return cli_with_store(data, run, &x);
}
