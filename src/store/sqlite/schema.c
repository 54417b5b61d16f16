/* schema.c - the store's schema and its migrations.
 *
 * PRAGMA user_version holds the schema version. Each migration moves the schema one version
 * up inside one transaction, so a store is never left between versions. Add migrations at
 * the end; never edit one that has shipped.
 */
#include <stdio.h>

#include "base/err.h"
#include "base/log.h"
#include "store/sqlite/store_int.h"

static const char *const migrations[] = {
    /* 1: collections, objects, partners, users, tokens */
    "CREATE TABLE collections("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  partner_writable INTEGER NOT NULL);"
    /* One row per object version. latest/first mark the newest/oldest version of an id in
     * its collection, kept by the writer, so that TAXII's default match[version]=last is
     * an index range scan rather than a GROUP BY. */
    "CREATE TABLE objects("
    "  seq INTEGER PRIMARY KEY,"
    "  coll INTEGER NOT NULL REFERENCES collections(id),"
    "  stix_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  date_added INTEGER NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  latest INTEGER NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  UNIQUE(coll, stix_id, owner, version));"
    "CREATE INDEX objects_added ON objects(coll, date_added);"
    "CREATE INDEX objects_latest ON objects(coll, date_added) WHERE latest = 1;"
    "CREATE TABLE partners("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  identity_id TEXT NOT NULL UNIQUE,"
    "  coordinator INTEGER NOT NULL,"
    "  default_tlp INTEGER NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  partner INTEGER NOT NULL REFERENCES partners(id),"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL DEFAULT '',"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE tokens("
    "  id INTEGER PRIMARY KEY,"
    "  user INTEGER NOT NULL REFERENCES users(id),"
    "  hash BLOB NOT NULL UNIQUE,"
    "  read_only INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE statuses("
    "  id TEXT PRIMARY KEY,"
    "  partner INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  json TEXT NOT NULL);",
    /* 2: sharing groups, the audit chain, dashboard sessions */
    "CREATE TABLE groups("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  marking_id TEXT NOT NULL UNIQUE,"
    "  owner INTEGER NOT NULL REFERENCES partners(id),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE group_members("
    "  grp INTEGER NOT NULL REFERENCES groups(id),"
    "  partner INTEGER NOT NULL,"
    "  user INTEGER NOT NULL,"
    "  PRIMARY KEY(grp, partner, user)) WITHOUT ROWID;"
    "CREATE INDEX group_members_partner ON group_members(partner);"
    "CREATE INDEX group_members_user ON group_members(user);"
    "CREATE TABLE audit("
    "  seq INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  partner INTEGER NOT NULL,"
    "  user INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  prev BLOB NOT NULL,"
    "  hash BLOB NOT NULL);"
    "CREATE INDEX audit_partner ON audit(partner, seq);"
    "CREATE TABLE sessions("
    "  hash BLOB PRIMARY KEY,"
    "  user INTEGER NOT NULL REFERENCES users(id),"
    "  csrf TEXT NOT NULL,"
    "  expires INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3: the event report index: time, code and an R*Tree on place */
    "CREATE TABLE reports("
    "  seq INTEGER PRIMARY KEY,"
    "  stix_id TEXT NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  future INTEGER NOT NULL,"
    "  start INTEGER NOT NULL,"
    "  end INTEGER NOT NULL,"
    "  lat REAL, lon REAL, precision_m REAL,"
    "  area TEXT NOT NULL,"
    "  reliability TEXT NOT NULL,"
    "  credibility INTEGER NOT NULL,"
    "  source_ref TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  UNIQUE(stix_id, owner));"
    "CREATE INDEX reports_start ON reports(start, seq);"
    "CREATE INDEX reports_event ON reports(event, start);"
    "CREATE INDEX reports_source ON reports(owner, source_ref) WHERE source_ref != '';"
    "CREATE VIRTUAL TABLE reports_geo USING rtree(seq, min_lat, max_lat, min_lon, max_lon);",
    /* 4: compliance (S8): agreements, violations with their evidence, history and opinions */
    "CREATE TABLE agreements("
    "  seq INTEGER PRIMARY KEY,"
    "  stix_id TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  loaded INTEGER NOT NULL,"
    "  loaded_by INTEGER NOT NULL,"
    "  doc TEXT NOT NULL);"
    "CREATE TABLE violations("
    "  seq INTEGER PRIMARY KEY,"
    "  stix_id TEXT NOT NULL UNIQUE,"
    "  agreement TEXT NOT NULL,"
    "  zone TEXT NOT NULL,"
    "  party TEXT NOT NULL,"
    "  report TEXT NOT NULL,"
    "  report_owner INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  lat REAL, lon REAL,"
    "  area TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE INDEX violations_time ON violations(time, seq);"
    "CREATE INDEX violations_report ON violations(report, report_owner);"
    "CREATE TABLE violation_evidence("
    "  violation INTEGER NOT NULL,"
    "  report TEXT NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  added INTEGER NOT NULL,"
    "  added_by INTEGER NOT NULL,"
    "  PRIMARY KEY(violation, report, owner));"
    "CREATE INDEX violation_evidence_report ON violation_evidence(report, owner);"
    "CREATE TABLE violation_steps("
    "  seq INTEGER PRIMARY KEY,"
    "  violation INTEGER NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  partner INTEGER NOT NULL,"
    "  user INTEGER NOT NULL,"
    "  user_name TEXT NOT NULL,"
    "  from_status TEXT NOT NULL,"
    "  to_status TEXT NOT NULL,"
    "  reason TEXT NOT NULL);"
    "CREATE INDEX violation_steps_v ON violation_steps(violation, seq);"
    "CREATE TABLE violation_opinions("
    "  seq INTEGER PRIMARY KEY,"
    "  violation INTEGER NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  partner INTEGER NOT NULL,"
    "  user INTEGER NOT NULL,"
    "  opinion TEXT NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX violation_opinions_v ON violation_opinions(violation, seq);",
    /* 5: the event log behind the live stream, webhooks and their durable outbox */
    "CREATE TABLE events("
    "  seq INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  data TEXT NOT NULL);"
    "CREATE TABLE webhooks("
    "  id INTEGER PRIMARY KEY,"
    "  user INTEGER NOT NULL REFERENCES users(id),"
    "  url TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  kinds TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE outbox("
    "  id INTEGER PRIMARY KEY,"
    "  hook INTEGER NOT NULL REFERENCES webhooks(id),"
    "  event INTEGER NOT NULL REFERENCES events(seq),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  payload TEXT,"
    "  UNIQUE(hook, event));"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt);"
    "CREATE TABLE alert_states("
    "  key TEXT PRIMARY KEY,"
    "  status TEXT NOT NULL,"
    "  history TEXT NOT NULL) WITHOUT ROWID;",
    /* 6: objects found by id through a two-level index instead of UNIQUE(coll, stix_id,
     * owner, version). STIX ids are random, so every insert into an index keyed by them
     * dirtied its own leaf page, written to the WAL at each commit: that index was most of
     * the cost of an ingest. Now an insert goes to object_ids_new, small enough that a
     * commit dirties few of its pages, and the writer moves it into object_ids in key order
     * when it passes a size (objects.c), touching each page of the big index once per merge.
     * idh is vigil_idh(stix_id), a 64-bit keyed hash (SipHash); a lookup reads both levels
     * and compares stix_id. The writer checks a version is new before inserting it, and adds
     * its id row itself: an insert trigger would make every insert open a statement journal.
     * Deletes, rare, drop their id rows by trigger. */
    "CREATE TABLE objects_v6("
    "  seq INTEGER PRIMARY KEY,"
    "  coll INTEGER NOT NULL REFERENCES collections(id),"
    "  stix_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  spec_version TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  date_added INTEGER NOT NULL,"
    "  owner INTEGER NOT NULL,"
    "  tlp INTEGER NOT NULL,"
    "  grp INTEGER NOT NULL,"
    "  latest INTEGER NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  json TEXT NOT NULL);"
    "INSERT INTO objects_v6 SELECT seq, coll, stix_id, type, spec_version, version,"
    "  date_added, owner, tlp, grp, latest, first, json FROM objects;"
    "DROP TABLE objects;"
    "ALTER TABLE objects_v6 RENAME TO objects;"
    "CREATE INDEX objects_added ON objects(coll, date_added);"
    "CREATE INDEX objects_latest ON objects(coll, date_added) WHERE latest = 1;"
    "CREATE TABLE object_ids("
    "  idh INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY(idh, seq)) WITHOUT ROWID;"
    "CREATE TABLE object_ids_new("
    "  idh INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY(idh, seq)) WITHOUT ROWID;"
    "INSERT INTO object_ids SELECT vigil_idh(stix_id), seq FROM objects ORDER BY 1, 2;"
    "CREATE TRIGGER objects_ids_drop AFTER DELETE ON objects BEGIN"
    "  DELETE FROM object_ids WHERE idh = vigil_idh(old.stix_id) AND seq = old.seq;"
    "  DELETE FROM object_ids_new WHERE idh = vigil_idh(old.stix_id) AND seq = old.seq;"
    "END;",
    /* 7: the reports' R*Tree gains time (hours since the epoch, start to end): a query of a
     * box and a period finds only the reports of both, instead of the box's whole history
     * being read, filtered and sorted. (R*Tree coordinates are 32-bit floats, rounded
     * outwards; the query still compares the exact times.) */
    "DROP TABLE reports_geo;"
    "CREATE VIRTUAL TABLE reports_geo USING rtree(seq, min_lat, max_lat, min_lon, max_lon,"
    "  min_hour, max_hour);"
    "INSERT INTO reports_geo SELECT seq, lat, lat, lon, lon, start / 3600000000.0,"
    "  end / 3600000000.0 FROM reports WHERE lat IS NOT NULL AND lon IS NOT NULL;",
    /* 8: the report index rows whose content went away, in order: replaced by a correction
     * (which keeps the seq) or deleted. Whatever was derived from them (the alert service's
     * engine) withdraws them; nothing else is kept, one row per change. */
    "CREATE TABLE reports_withdrawn("
    "  n INTEGER PRIMARY KEY,"
    "  seq INTEGER NOT NULL);",
    /* 9: a report event names its report (subject), and is withdrawn (gone) with the content
     * it showed when the report is corrected or deleted: the live stream no longer replays
     * it, nor may a webhook deliver it still (events.c). */
    "ALTER TABLE events ADD COLUMN subject TEXT;"
    "ALTER TABLE events ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;"
    "UPDATE events SET subject = json_extract(data, '$.id') WHERE kind = 'report';"
    "UPDATE events SET gone = 1 WHERE kind = 'report' AND NOT EXISTS (SELECT 1 FROM reports r"
    "  WHERE r.stix_id = events.subject AND r.owner = events.owner"
    "  AND r.doc = events.data);"
    "CREATE INDEX events_subject ON events(subject, owner) WHERE subject IS NOT NULL;",
    /* 10: when the hub accepted each report row (a reader's alert view takes its created and
     * updated from the reports that reader may see; existing rows from their objects), and
     * the alert service's durable marks: how far its alert events are published, written
     * in the transaction that publishes them, so a crash neither loses nor repeats one. An
     * existing hub has published everything stored. */
    "ALTER TABLE reports ADD COLUMN added INTEGER NOT NULL DEFAULT 0;"
    "UPDATE reports SET added = COALESCE((SELECT MAX(o.date_added) FROM objects o WHERE"
    "  o.seq IN (SELECT seq FROM object_ids WHERE idh = vigil_idh(reports.stix_id) UNION ALL"
    "  SELECT seq FROM object_ids_new WHERE idh = vigil_idh(reports.stix_id))"
    "  AND o.stix_id = reports.stix_id AND o.owner = reports.owner), 0);"
    "CREATE TABLE service_marks("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO service_marks SELECT 'alerts.reports', COALESCE(MAX(seq), 0) FROM reports;"
    "INSERT INTO service_marks SELECT 'alerts.withdrawn', COALESCE(MAX(n), 0)"
    "  FROM reports_withdrawn;",
    /* (restart) the report rows without a point, by time: the alert service's engine, which
     * holds only what its rules can still reach, takes them back for a late report
     * (store_reports_window) without reading every row of the period. */
    "CREATE INDEX IF NOT EXISTS reports_unlocated ON reports(start, seq) WHERE lat IS NULL;",
    /* 12 (dashB): the triage of an alert, one per partner (docs/ACCESS.md): by the alert's
     * situation key (as alert_states), the partner's assignee, who of the partner last changed
     * the status and when, and the partner's comments (JSON [{"by","at","text"}]). */
    "CREATE TABLE alert_triage("
    "  key TEXT NOT NULL,"
    "  partner INTEGER NOT NULL,"
    "  assignee TEXT NOT NULL DEFAULT '',"
    "  status_by TEXT NOT NULL DEFAULT '',"
    "  status_at INTEGER NOT NULL DEFAULT 0,"
    "  comments TEXT NOT NULL DEFAULT '[]',"
    "  PRIMARY KEY(key, partner)) WITHOUT ROWID;",
    /* restart2 (issue #20; renumbered at merge): a service's saved state at a watermark, the
     * alert engine's (store_txn_service_state_put): a cache, not copied by `vigil store copy` */
    "CREATE TABLE service_states("
    "  name TEXT PRIMARY KEY,"
    "  mark INTEGER NOT NULL,"
    "  data BLOB NOT NULL);",
    /* 14 (branch warn2; renumbered at merge): the category of who a report's event struck
     * ("civilians" or ''), for the weighted escalation detector; existing rows from the
     * targets of their documents, as intel's report_target_kind derives it */
    "ALTER TABLE reports ADD COLUMN target TEXT NOT NULL DEFAULT '';"
    "UPDATE reports SET target = 'civilians' WHERE EXISTS (SELECT 1 FROM"
    "  json_each(reports.doc, '$.targets') WHERE lower(value) LIKE '%civilian%');",
    /* 15 (keepviol; renumbered at merge): a violation the coordination center keeps when the
     * report it was found in is withdrawn (deleted, or restricted by a correction): when (0:
     * not withdrawn), and the handling the report had until then, which the kept violation's
     * audience keeps (docs/COMPLIANCE.md, "When the evidence is withdrawn"). */
    "ALTER TABLE violations ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE violations ADD COLUMN kept_tlp INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE violations ADD COLUMN kept_grp INTEGER NOT NULL DEFAULT 0;",
    /* 16 (groupnames): group names unique per owner partner, not over the hub: a name taken by
     * another partner's group told that it exists (docs/ACCESS.md, "Sharing groups"). SQLite
     * drops no UNIQUE, so the table is rebuilt with its ids; group_members with it, since
     * dropping a table its rows reference fails with foreign keys on (renaming groups_v16
     * rewrites group_members_v16's reference to "groups"). UNIQUE(name, owner) leads with
     * the name, which is how groups are looked up. */
    "CREATE TABLE groups_v16("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  marking_id TEXT NOT NULL UNIQUE,"
    "  owner INTEGER NOT NULL REFERENCES partners(id),"
    "  created INTEGER NOT NULL,"
    "  UNIQUE(name, owner));"
    "INSERT INTO groups_v16 SELECT id, name, marking_id, owner, created FROM groups;"
    "CREATE TABLE group_members_v16("
    "  grp INTEGER NOT NULL REFERENCES groups_v16(id),"
    "  partner INTEGER NOT NULL,"
    "  user INTEGER NOT NULL,"
    "  PRIMARY KEY(grp, partner, user)) WITHOUT ROWID;"
    "INSERT INTO group_members_v16 SELECT grp, partner, user FROM group_members;"
    "DROP TABLE group_members;"
    "DROP TABLE groups;"
    "ALTER TABLE groups_v16 RENAME TO groups;"
    "ALTER TABLE group_members_v16 RENAME TO group_members;"
    "CREATE INDEX group_members_partner ON group_members(partner);"
    "CREATE INDEX group_members_user ON group_members(user);",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int schema_migrate(struct store *s, char *msg)
{
    struct store_reader *c = &s->wconn;
    sqlite3_stmt *st = conn_stmt(c, "PRAGMA user_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        snprintf(msg, STORE_MSG_SZ, "cannot read the schema version: %s", sqlite3_errmsg(c->db));
        return VIGIL_ESTORE;
    }
    int v = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (v > NMIGRATIONS) {
        snprintf(msg, STORE_MSG_SZ,
                 "the store has schema version %d, newer than this vigil knows (%d)", v,
                 NMIGRATIONS);
        return VIGIL_ESTORE;
    }
    for (; v < NMIGRATIONS; v++) {
        char setv[64];
        snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v + 1);
        if (conn_exec(c, "BEGIN IMMEDIATE") || conn_exec(c, migrations[v]) || conn_exec(c, setv) ||
            conn_exec(c, "COMMIT")) {
            snprintf(msg, STORE_MSG_SZ, "migration to schema version %d failed: %s", v + 1,
                     sqlite3_errmsg(c->db));
            conn_exec(c, "ROLLBACK");
            return VIGIL_ESTORE;
        }
        log_info("store: migrated to schema version %d", v + 1);
    }
    s->schema_version = v;
    return 0;
}
