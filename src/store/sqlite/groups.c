/* groups.c - sharing groups and their members. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "store/sqlite/store_int.h"

int store_txn_group_add(struct store_txn *t, const char *name, const char *marking_id,
                        int64_t owner, int64_t *id)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO groups(name, marking_id, owner, created)"
                                          " VALUES(?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, marking_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, owner);
    sqlite3_bind_int64(st, 4, ts_now());
    return step_insert(t->conn, st, id);
}

int store_txn_group_member(struct store_txn *t, int64_t group, int64_t partner, int64_t user,
                           bool in)
{
    sqlite3_stmt *st = conn_stmt(t->conn, in ? "INSERT OR IGNORE INTO group_members(grp, partner,"
                                               " user) VALUES(?,?,?)"
                                             : "DELETE FROM group_members WHERE grp = ? AND"
                                               " partner = ? AND user = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, group);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_int64(st, 3, user);
    return in ? step_insert(t->conn, st, NULL) : step_done(t->conn, st);
}

#define GROUP_COLS "id, name, marking_id, owner, created"

static void read_group(sqlite3_stmt *st, struct store_group *g)
{
    g->id = sqlite3_column_int64(st, 0);
    g->name = col_text(st, 1);
    g->marking_id = col_text(st, 2);
    g->owner = sqlite3_column_int64(st, 3);
    g->created = sqlite3_column_int64(st, 4);
}

/* The groups ?1 may name for partner ?2 or its user ?3 (store_group_find): the group of that
 * marking id, and the groups of that name that partner owns or either is a member of; the
 * marking id's first, then partner's own. The last column counts them all. */
#define GROUP_NAMED                                                                                \
    "SELECT " GROUP_COLS ", count(*) OVER () FROM groups g WHERE marking_id = ?1"                  \
    " OR (name = ?1 AND ((owner = ?2 AND ?2 != 0) OR EXISTS(SELECT 1 FROM group_members"           \
    " WHERE grp = g.id AND ((partner = ?2 AND ?2 != 0) OR (user = ?3 AND ?3 != 0)))))"             \
    " ORDER BY marking_id = ?1 DESC, owner = ?2 DESC, id LIMIT 1"

int store_group_find(struct store_reader *r, const char *key, int64_t partner, int64_t user,
                     struct store_group *out)
{
    sqlite3_stmt *st = conn_stmt(r, GROUP_NAMED);
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_int64(st, 3, user);
    int rc = step_row(r, st);
    if (!rc)
        read_group(st, out);
    if (!rc && strcmp(out->marking_id, key) != 0 && out->owner != partner &&
        sqlite3_column_int64(st, 5) > 1)
        rc = VIGIL_ECONFLICT;
    return rc;
}

int store_groups(struct store_reader *r, int (*fn)(void *ctx, const struct store_group *g),
                 void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT " GROUP_COLS " FROM groups ORDER BY id");
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_group g;
        read_group(st, &g);
        rc = fn(ctx, &g);
    }
    sqlite3_reset(st);
    return rc;
}

int store_group_may_use(struct store_reader *r, int64_t group, int64_t partner, int64_t user)
{
    sqlite3_stmt *st =
        conn_stmt(r, "SELECT 1 FROM groups WHERE id = ?1 AND (owner = ?2"
                     " OR EXISTS(SELECT 1 FROM group_members WHERE grp = ?1"
                     " AND ((partner = ?2 AND ?2 != 0) OR (user = ?3 AND ?3 != 0))))");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, group);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_int64(st, 3, user);
    int rc = step_row(r, st);
    sqlite3_reset(st);
    return rc == 0 ? 1 : rc == VIGIL_ENOENT ? 0 : rc;
}

int store_group_members(struct store_reader *r, int64_t group,
                        int (*fn)(void *ctx, int64_t partner, int64_t user), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT partner, user FROM group_members WHERE grp = ?"
                                    " ORDER BY partner, user");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, group);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc;
}

/* Collects the first column of st's rows into a new array. */
static int collect_ids(sqlite3_stmt *st, int64_t **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return 0;
}

int store_groups_of(struct store_reader *r, int64_t partner, int64_t user, int64_t **by_partner,
                    size_t *np, int64_t **by_user, size_t *nu)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT DISTINCT grp FROM group_members WHERE partner = ?"
                                    " AND partner != 0 ORDER BY grp");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, partner);
    collect_ids(st, by_partner, np);
    st = conn_stmt(r, "SELECT DISTINCT grp FROM group_members WHERE user = ? AND user != 0"
                      " ORDER BY grp");
    if (!st) {
        free(*by_partner);
        *by_partner = NULL;
        *np = 0;
        return VIGIL_ESTORE;
    }
    sqlite3_bind_int64(st, 1, user);
    return collect_ids(st, by_user, nu);
}
