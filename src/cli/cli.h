/* cli.h - the vigil command's subcommands.
 *
 * Each takes the data directory and the arguments after its own name (argv[0] is the
 * subcommand's name) and returns the process exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef VIGIL_CLI_CLI_H
#define VIGIL_CLI_CLI_H

#include "base/config.h"
#include "store/store.h"

int cli_init(const char *data, int argc, char **argv);
int cli_serve(const char *data, int argc, char **argv);
int cli_partner(const char *data, int argc, char **argv);
int cli_user(const char *data, int argc, char **argv);
int cli_token(const char *data, int argc, char **argv);
int cli_group(const char *data, int argc, char **argv);
int cli_audit(const char *data, int argc, char **argv);
int cli_import(const char *data, int argc, char **argv);
int cli_export(const char *data, int argc, char **argv);
int cli_replay(const char *data, int argc, char **argv);
int cli_agreement(const char *data, int argc, char **argv);
int cli_report(const char *data, int argc, char **argv);
/* vigil store copy: needs no --data (data may be NULL). */
int cli_store(const char *data, int argc, char **argv);

/* Shared by the subcommands: loads DIR/vigil.conf into cfg (initialised by the caller) and
 * opens the store. Prints the reason and returns nonzero on failure. */
int cli_open(const char *data, struct config *cfg, struct store **s);
/* Opens the data directory's store, runs fn, closes it; returns fn's exit status (1 when the
 * store cannot be opened). */
int cli_with_store(const char *data, int (*fn)(struct store *s, void *arg), void *arg);
/* cli_with_store for one large write (a large import): the store opened with bulk_load
 * (store.h, struct store_options). */
int cli_with_store_bulk(const char *data, int (*fn)(struct store *s, void *arg), void *arg);
/* True when argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
