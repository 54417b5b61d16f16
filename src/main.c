/* main.c - the vigil command: global options, then dispatch to a subcommand in cli/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "vigil_version.h"

static const char usage[] =
    "usage: vigil [--data DIR] COMMAND [ARGS...]\n"
    "\n"
    "Vigil: intelligence sharing and early warning for ceasefire monitoring.\n"
    "\n"
    "Global options:\n"
    "  --data DIR     the data directory (default: $VIGIL_DATA)\n"
    "  --help, -h     this help; COMMAND --help shows a command's help\n"
    "  --version      print the version\n"
    "\n"
    "Commands:\n"
    "  init                          create a data directory, its store and an admin\n"
    "  serve [--listen HOST:PORT]    run the server\n"
    "  partner add NAME [--coordinator]\n"
    "  user add PARTNER USER --role admin|analyst|reporter|reader\n"
    "  user passwd USER              set a dashboard password (read from stdin)\n"
    "  token create USER [--read-only] [--expires DAYS]\n"
    "  group add NAME MEMBER... [--owner PARTNER]   a sharing group (MEMBER: partner or "
    "user:NAME)\n"
    "  audit verify | export [--partner NAME]\n"
    "  import FORMAT FILE --as USER [--marking TLP] [--group NAME] [--on-error skip|abort]\n"
    "  export FORMAT --as USER       stix, geojson or csv, filtered for USER\n"
    "  replay --as USER [--rules FILE]   back-test the rules on the stored history\n"
    "  agreement load FILE --as USER | report daily --date D --as USER   ceasefire compliance\n"
    "  store copy --from DIR --to URI   move a hub to another store (SQLite to PostgreSQL)\n";

struct command {
    const char *name;
    int (*fn)(const char *data, int argc, char **argv);
};

static const struct command commands[] = {
    {"init", cli_init},   {"serve", cli_serve}, {"partner", cli_partner}, {"user", cli_user},
    {"token", cli_token}, {"group", cli_group}, {"audit", cli_audit},
    {"import", cli_import}, {"export", cli_export}, {"replay", cli_replay},
    {"agreement", cli_agreement}, {"report", cli_report}, {"store", cli_store},
};

int main(int argc, char **argv)
{
    const char *data = getenv("VIGIL_DATA");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("vigil %s\n", VIGIL_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            data = argv[i] + 7;
        } else {
            fprintf(stderr, "vigil: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
    }
    if (i == argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "vigil: cannot initialise libsodium\n");
        return 1;
    }
    umask(077); /* every file Vigil writes holds partners' data or secrets */
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(argv[i], commands[k].name) != 0)
            continue;
        if (!data && commands[k].fn != cli_store && !cli_wants_help(argc - i, argv + i)) {
            fprintf(stderr, "vigil: no data directory: use --data DIR or set VIGIL_DATA\n");
            return 2;
        }
        return commands[k].fn(data, argc - i, argv + i);
    }
    fprintf(stderr, "vigil: unknown command \"%s\"\n%s", argv[i], usage);
    return 2;
}
