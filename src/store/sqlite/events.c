/* events.c - the event log, webhooks and their outbox. */
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "store/sqlite/store_int.h"

int store_txn_event_add(struct store_txn *t, const char *kind, const struct store_acl *acl,
                        const char *data, int64_t *seq)
{
    /* A report event names its report (subject), so that it goes with it (events_withdraw).
     * When it shows the document of the index row this job has just written, that row holds
     * its data: it is stored as '' and read from the row (EVENT_DATA; 0.65 KB less per
     * imported row). The row cannot change while the event is live: a correction or deletion
     * withdraws the event (gone = 1) in the same transaction, and gone events are never read. */
    bool from_row = strcmp(kind, "report") == 0 && t->last_report.set &&
                    t->last_report.owner == acl->owner &&
                    strcmp(t->last_report.doc.data, data) == 0;
    t->last_report.set = false;
    sqlite3_stmt *st =
        from_row ? conn_stmt(t->conn, "INSERT INTO events(time, kind, owner, tlp, grp, data,"
                                      " subject) VALUES(?1,?2,?3,?4,?5,'',?7)")
                 : conn_stmt(t->conn, "INSERT INTO events(time, kind, owner, tlp, grp, data,"
                                      " subject) VALUES(?1,?2,?3,?4,?5,?6, CASE WHEN"
                                      " ?2 = 'report' THEN json_extract(?6, '$.id') END)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, ts_now());
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, acl->owner);
    sqlite3_bind_int(st, 4, acl->tlp);
    sqlite3_bind_int64(st, 5, acl->group);
    if (from_row)
        sqlite3_bind_text(st, 7, t->last_report.id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 6, data, -1, SQLITE_STATIC);
    return step_insert(t->conn, st, seq);
}

int events_withdraw(struct store_reader *c, const char *id, int64_t owner)
{
    static const char *const sql[] = {
        "UPDATE outbox SET state = 2, next_attempt = 0,"
        " last_error = 'withdrawn: the report was corrected or deleted'"
        " WHERE state = 0 AND event IN (SELECT seq FROM events WHERE subject = ?1"
        " AND owner = ?2 AND kind = 'report' AND gone = 0)",
        "UPDATE events SET gone = 1 WHERE subject = ?1 AND owner = ?2 AND kind = 'report'"
        " AND gone = 0"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = conn_stmt(c, sql[i]);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, owner);
        if (step_done(c, st))
            return VIGIL_ESTORE;
    }
    return 0;
}

/* An event's data, from the reports row when stored as '' (store_txn_event_add); with
 * EVENT_JOIN after "FROM events e". */
#define EVENT_DATA                                                                                 \
    "CASE WHEN e.data = '' AND e.kind = 'report' THEN COALESCE(r.doc, '') ELSE e.data END"
#define EVENT_JOIN                                                                                 \
    " LEFT JOIN reports r ON e.data = '' AND r.stix_id = e.subject AND r.owner = e.owner"

static void read_event(sqlite3_stmt *st, int i, struct store_event *e)
{
    e->seq = sqlite3_column_int64(st, i);
    e->time = sqlite3_column_int64(st, i + 1);
    e->kind = col_text(st, i + 2);
    e->acl.owner = sqlite3_column_int64(st, i + 3);
    e->acl.tlp = sqlite3_column_int(st, i + 4);
    e->acl.group = sqlite3_column_int64(st, i + 5);
    e->data = col_text(st, i + 6);
}

int store_events(struct store_reader *r, int64_t after, size_t limit,
                 int (*fn)(void *ctx, const struct store_event *e), void *ctx)
{
    sqlite3_stmt *st = conn_stmt_after(r,
                                       "SELECT e.seq, e.time, e.kind, e.owner, e.tlp, e.grp, "
                                       EVENT_DATA " FROM events e" EVENT_JOIN
                                       " WHERE e.seq > ? AND e.gone = 0 ORDER BY e.seq LIMIT ?",
                                       after, limit);
    if (!st)
        return VIGIL_ESTORE;
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_event e;
        read_event(st, 0, &e);
        rc = fn(ctx, &e);
    }
    sqlite3_reset(st);
    return rc;
}

int store_event_head(struct store_reader *r, int64_t *seq)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT COALESCE(MAX(seq), 0) FROM events");
    if (!st)
        return VIGIL_ESTORE;
    int rc = step_row(r, st);
    *seq = rc ? 0 : sqlite3_column_int64(st, 0);
    return rc;
}

int store_txn_webhook_add(struct store_txn *t, int64_t user, const char *url,
                          const char *secret, const char *kinds, int64_t *id)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT INTO webhooks(user, url, secret, kinds,"
                                          " created) VALUES(?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kinds ? kinds : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ts_now());
    return step_insert(t->conn, st, id);
}

int store_txn_webhook_disable(struct store_txn *t, int64_t id, int64_t user)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE webhooks SET disabled = 1 WHERE id = ?1"
                                          " AND (?2 = 0 OR user = ?2) AND disabled = 0");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, user);
    int rc = step_done(t->conn, st);
    return rc ? rc : sqlite3_changes(t->conn->db) ? 0 : VIGIL_ENOENT;
}

int store_webhooks(struct store_reader *r, int64_t user,
                   int (*fn)(void *ctx, const struct store_webhook *w), void *ctx)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT id, user, url, secret, kinds, disabled, created"
                                    " FROM webhooks WHERE disabled = 0 AND (?1 = 0 OR user = ?1)"
                                    " ORDER BY id");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, user);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_webhook w = {
            .id = sqlite3_column_int64(st, 0),
            .user = sqlite3_column_int64(st, 1),
            .url = col_text(st, 2),
            .secret = col_text(st, 3),
            .kinds = col_text(st, 4),
            .disabled = sqlite3_column_int(st, 5),
            .created = sqlite3_column_int64(st, 6),
        };
        rc = fn(ctx, &w);
    }
    sqlite3_reset(st);
    return rc;
}

int store_webhooks_of_partner(struct store_reader *r, int64_t partner, int64_t *n)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT COUNT(*) FROM webhooks w JOIN users u ON u.id = w.user"
                                    " WHERE w.disabled = 0 AND u.partner = ?");
    *n = 0;
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, partner);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : VIGIL_ESTORE;
    if (!rc)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

int store_txn_outbox_add(struct store_txn *t, int64_t hook, int64_t event, vtime_t when,
                         const char *payload)
{
    /* The id is the hook's next number (store.h, STORE_OUTBOX_ID): the last row of its
     * range by the primary key, one step of the b-tree. */
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT OR IGNORE INTO outbox(id, hook, event,"
                                          " next_attempt, payload) VALUES(COALESCE((SELECT id"
                                          " FROM outbox WHERE id > ?1 * 4294967296 AND id <"
                                          " (?1 + 1) * 4294967296 ORDER BY id DESC LIMIT 1),"
                                          " ?1 * 4294967296) + 1, ?1, ?2, ?3, ?4)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, hook);
    sqlite3_bind_int64(st, 2, event);
    sqlite3_bind_int64(st, 3, when);
    if (payload)
        sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
    return step_insert(t->conn, st, NULL);
}

int store_outbox_due(struct store_reader *r, vtime_t now, size_t limit, size_t per_partner,
                     int (*fn)(void *ctx, const struct store_delivery *d), void *ctx)
{
    /* d: each webhook's oldest due delivery; p: of those, each partner's oldest per_partner */
    sqlite3_stmt *st = conn_stmt(
        r, "SELECT o.id, o.attempts, w.url, w.secret, e.seq, e.time, e.kind, e.owner, e.tlp,"
           " e.grp, COALESCE(o.payload, " EVENT_DATA "), o.hook, p.partner, w.user,"
           " o.payload IS NOT NULL FROM (SELECT o.id, u.partner, ROW_NUMBER() OVER"
           " (PARTITION BY u.partner ORDER BY o.next_attempt, o.id)"
           " AS nth FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY hook ORDER BY next_attempt,"
           " id) AS nth FROM outbox WHERE state = 0 AND next_attempt <= ?1) d JOIN outbox o"
           " ON o.id = d.id JOIN webhooks w ON w.id = o.hook JOIN users u ON u.id = w.user"
           " WHERE d.nth = 1 AND w.disabled = 0 AND u.disabled = 0) p JOIN outbox o"
           " ON o.id = p.id"
           " JOIN webhooks w ON w.id = o.hook JOIN events e ON e.seq = o.event" EVENT_JOIN
           " WHERE p.nth <= ?3 ORDER BY o.next_attempt, o.id LIMIT ?2");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (int64_t)limit);
    sqlite3_bind_int64(st, 3, (int64_t)per_partner);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        struct store_delivery d = {
            .id = sqlite3_column_int64(st, 0),
            .hook = sqlite3_column_int64(st, 11),
            .partner = sqlite3_column_int64(st, 12),
            .user = sqlite3_column_int64(st, 13),
            .view = sqlite3_column_int(st, 14) != 0,
            .attempts = sqlite3_column_int(st, 1),
            .url = col_text(st, 2),
            .secret = col_text(st, 3),
        };
        read_event(st, 4, &d.event);
        rc = fn(ctx, &d);
    }
    sqlite3_reset(st);
    return rc;
}

int store_txn_outbox_result(struct store_txn *t, int64_t id, bool delivered, const char *error,
                            vtime_t next)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "UPDATE outbox SET attempts = attempts + 1,"
                                          " state = ?2, last_error = ?3, next_attempt = ?4"
                                          " WHERE id = ?1");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, delivered ? OUTBOX_DELIVERED : next ? OUTBOX_PENDING : OUTBOX_FAILED);
    sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, next);
    return step_done(t->conn, st);
}

int store_txn_alert_state(struct store_txn *t, const char *key, const char *status,
                          const char *history)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT OR REPLACE INTO alert_states(key, status,"
                                          " history) VALUES(?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, history, -1, SQLITE_STATIC);
    return step_done(t->conn, st);
}

int store_alert_state(struct store_reader *r, const char *key, const char **status,
                      const char **history)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT status, history FROM alert_states WHERE key = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc) {
        *status = col_text(st, 0);
        *history = col_text(st, 1);
    }
    return rc;
}

int store_txn_alert_triage_put(struct store_txn *t, const char *key, int64_t partner,
                               const struct store_alert_triage *tr)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "INSERT OR REPLACE INTO alert_triage(key, partner,"
                                          " assignee, status_by, status_at, comments)"
                                          " VALUES(?,?,?,?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partner);
    sqlite3_bind_text(st, 3, tr->assignee ? tr->assignee : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, tr->status_by ? tr->status_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, tr->status_at);
    sqlite3_bind_text(st, 6, tr->comments ? tr->comments : "[]", -1, SQLITE_STATIC);
    return step_done(t->conn, st);
}

int store_alert_triage(struct store_reader *r, const char *key, int64_t partner,
                       struct store_alert_triage *out)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT assignee, status_by, status_at, comments"
                                    " FROM alert_triage WHERE key = ? AND partner = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, partner);
    int rc = step_row(r, st);
    if (!rc) {
        out->assignee = col_text(st, 0);
        out->status_by = col_text(st, 1);
        out->status_at = sqlite3_column_int64(st, 2);
        out->comments = col_text(st, 3);
    }
    return rc;
}

int store_txn_alert_rekey(struct store_txn *t, const char *from, const char *to)
{
    static const char *const sql[] = {
        "UPDATE OR IGNORE alert_states SET key = ?2 WHERE key = ?1",
        "DELETE FROM alert_states WHERE key = ?1",
        "UPDATE OR IGNORE alert_triage SET key = ?2 WHERE key = ?1",
        "DELETE FROM alert_triage WHERE key = ?1",
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof sql / sizeof *sql && !rc; i++) {
        sqlite3_stmt *st = conn_stmt(t->conn, sql[i]);
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
        if (i % 2 == 0)
            sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
        rc = step_done(t->conn, st);
    }
    return rc;
}

int store_txn_mark_set(struct store_txn *t, const char *name, int64_t value)
{
    sqlite3_stmt *st =
        conn_stmt(t->conn, "INSERT OR REPLACE INTO service_marks(name, value) VALUES(?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return step_done(t->conn, st);
}

int store_mark_get(struct store_reader *r, const char *name, int64_t *value)
{
    sqlite3_stmt *st = conn_stmt(r, "SELECT value FROM service_marks WHERE name = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    *value = rc ? 0 : sqlite3_column_int64(st, 0);
    return rc;
}

int store_txn_service_state_put(struct store_txn *t, const char *name, int64_t mark,
                                const void *data, size_t len)
{
    sqlite3_stmt *st = conn_stmt(
        t->conn, "INSERT OR REPLACE INTO service_states(name, mark, data) VALUES(?,?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, mark);
    sqlite3_bind_blob64(st, 3, len ? data : "", (sqlite3_uint64)len, SQLITE_STATIC);
    return step_done(t->conn, st);
}

int store_txn_service_state_drop(struct store_txn *t, const char *name)
{
    sqlite3_stmt *st = conn_stmt(t->conn, "DELETE FROM service_states WHERE name = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return step_done(t->conn, st);
}

int store_service_state(struct store_reader *r, const char *name, int64_t *mark, void **data,
                        size_t *len)
{
    *data = NULL;
    *len = 0;
    *mark = 0;
    sqlite3_stmt *st = conn_stmt(r, "SELECT mark, data FROM service_states WHERE name = ?");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = step_row(r, st);
    if (!rc) {
        *mark = sqlite3_column_int64(st, 0);
        const void *b = sqlite3_column_blob(st, 1);
        *len = (size_t)sqlite3_column_bytes(st, 1);
        char *copy = xmalloc(*len + 1);
        if (*len)
            memcpy(copy, b, *len);
        copy[*len] = '\0';
        *data = copy;
    }
    return rc;
}
