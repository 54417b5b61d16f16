/* store.c - chooses the backend of a store by its location (store.h, store_open).
 *
 * Every other store.h function goes to the backend of its first argument (store_gen.c).
 */
#include <string.h>

#include "store/store_ops.h"

int store_page_pool(int64_t kib)
{
    return store_sqlite_ops.page_pool(kib);
}

int store_open(const char *location, const struct store_options *opt, struct store **out,
               char msg[STORE_MSG_SZ])
{
    bool pg = strncmp(location, "postgresql://", 13) == 0 ||
              strncmp(location, "postgres://", 11) == 0;
    return (pg ? &store_pg_ops : &store_sqlite_ops)->open(location, opt, out, msg);
}

const char *const *store_copy_tables(void)
{
    static const char *const tables[] = {
        "collections", "partners", "users", "tokens", "statuses", "groups", "group_members",
        "audit", "sessions", "objects", "reports", "reports_withdrawn", "agreements",
        "violations", "violation_evidence", "violation_steps", "violation_opinions", "events",
        "webhooks", "outbox", "alert_states", "alert_triage", "service_marks", NULL};
    return tables;
}
