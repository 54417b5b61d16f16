/* pg_schema.c - the PostgreSQL store's schema and its migrations.
 *
 * vigil_schema holds the version. The versions are the SQLite store's (sqlite/schema.c): the
 * first migration here creates at once the schema SQLite reaches at version 10, and each later
 * SQLite migration gets its PostgreSQL counterpart appended here under the same number. The
 * tables and columns are the same; what differs: no R*Tree (a btree on lat, lon), no two-level
 * id index (a unique btree on (coll, stix_id, owner, version)), `user` and `end` quoted,
 * bytea for hashes. Migrations run under the write lock, so two front-ends starting together
 * do not both apply one. A version may take several entries (C's limit on a string's length);
 * all that a store lacks run in one transaction.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "store/pg/pg_int.h"

static const struct {
    int version;
    const char *sql;
} migrations[] = {
    {10,
     "CREATE TABLE collections("
     "  id BIGSERIAL PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  name TEXT NOT NULL UNIQUE,"
     "  title TEXT NOT NULL,"
     "  description TEXT NOT NULL DEFAULT '',"
     "  partner_writable INTEGER NOT NULL);"
     "CREATE TABLE objects("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  coll BIGINT NOT NULL REFERENCES collections(id),"
     "  stix_id TEXT NOT NULL,"
     "  type TEXT NOT NULL,"
     "  spec_version TEXT NOT NULL,"
     "  version BIGINT NOT NULL,"
     "  date_added BIGINT NOT NULL,"
     "  owner BIGINT NOT NULL,"
     "  tlp INTEGER NOT NULL,"
     "  grp BIGINT NOT NULL,"
     "  latest INTEGER NOT NULL,"
     "  first INTEGER NOT NULL,"
     "  json TEXT NOT NULL,"
     "  UNIQUE(coll, stix_id, owner, version));"
     "CREATE INDEX objects_added ON objects(coll, date_added);"
     "CREATE INDEX objects_latest ON objects(coll, date_added) WHERE latest = 1;"
     "CREATE INDEX objects_newest ON objects(date_added);"
     "CREATE TABLE partners("
     "  id BIGSERIAL PRIMARY KEY,"
     "  name TEXT NOT NULL UNIQUE,"
     "  identity_id TEXT NOT NULL UNIQUE,"
     "  coordinator INTEGER NOT NULL,"
     "  default_tlp INTEGER NOT NULL,"
     "  created BIGINT NOT NULL);"
     "CREATE TABLE users("
     "  id BIGSERIAL PRIMARY KEY,"
     "  partner BIGINT NOT NULL REFERENCES partners(id),"
     "  name TEXT NOT NULL UNIQUE,"
     "  role TEXT NOT NULL,"
     "  password_hash TEXT NOT NULL DEFAULT '',"
     "  disabled INTEGER NOT NULL DEFAULT 0,"
     "  created BIGINT NOT NULL);"
     "CREATE TABLE tokens("
     "  id BIGSERIAL PRIMARY KEY,"
     "  \"user\" BIGINT NOT NULL REFERENCES users(id),"
     "  hash BYTEA NOT NULL UNIQUE,"
     "  read_only INTEGER NOT NULL,"
     "  expires BIGINT NOT NULL,"
     "  revoked INTEGER NOT NULL DEFAULT 0,"
     "  label TEXT NOT NULL DEFAULT '',"
     "  created BIGINT NOT NULL);"
     "CREATE TABLE statuses("
     "  id TEXT PRIMARY KEY,"
     "  partner BIGINT NOT NULL,"
     "  created BIGINT NOT NULL,"
     "  json TEXT NOT NULL);"},
    {10,
     "CREATE TABLE groups("
     "  id BIGSERIAL PRIMARY KEY,"
     "  name TEXT NOT NULL UNIQUE,"
     "  marking_id TEXT NOT NULL UNIQUE,"
     "  owner BIGINT NOT NULL REFERENCES partners(id),"
     "  created BIGINT NOT NULL);"
     "CREATE TABLE group_members("
     "  grp BIGINT NOT NULL REFERENCES groups(id),"
     "  partner BIGINT NOT NULL,"
     "  \"user\" BIGINT NOT NULL,"
     "  PRIMARY KEY(grp, partner, \"user\"));"
     "CREATE INDEX group_members_partner ON group_members(partner);"
     "CREATE INDEX group_members_user ON group_members(\"user\");"
     "CREATE TABLE audit("
     "  seq BIGINT PRIMARY KEY,"
     "  time BIGINT NOT NULL,"
     "  partner BIGINT NOT NULL,"
     "  \"user\" BIGINT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  object TEXT NOT NULL,"
     "  detail TEXT NOT NULL,"
     "  prev BYTEA NOT NULL,"
     "  hash BYTEA NOT NULL);"
     "CREATE INDEX audit_partner ON audit(partner, seq);"
     "CREATE TABLE sessions("
     "  hash BYTEA PRIMARY KEY,"
     "  \"user\" BIGINT NOT NULL REFERENCES users(id),"
     "  csrf TEXT NOT NULL,"
     "  expires BIGINT NOT NULL);"
     "CREATE TABLE reports("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  stix_id TEXT NOT NULL,"
     "  owner BIGINT NOT NULL,"
     "  tlp INTEGER NOT NULL,"
     "  grp BIGINT NOT NULL,"
     "  event TEXT NOT NULL,"
     "  mode TEXT NOT NULL,"
     "  future INTEGER NOT NULL,"
     "  start BIGINT NOT NULL,"
     "  \"end\" BIGINT NOT NULL,"
     "  lat DOUBLE PRECISION, lon DOUBLE PRECISION, precision_m DOUBLE PRECISION,"
     "  area TEXT NOT NULL,"
     "  reliability TEXT NOT NULL,"
     "  credibility INTEGER NOT NULL,"
     "  source_ref TEXT NOT NULL,"
     "  text TEXT NOT NULL,"
     "  doc TEXT NOT NULL,"
     "  added BIGINT NOT NULL DEFAULT 0,"
     "  UNIQUE(stix_id, owner));"
     "CREATE INDEX reports_start ON reports(start, seq);"
     "CREATE INDEX reports_event ON reports(event, start);"
     "CREATE INDEX reports_source ON reports(owner, source_ref) WHERE source_ref <> '';"
     "CREATE INDEX reports_place ON reports(lat, lon) WHERE lat IS NOT NULL;"},
    {10,
     "CREATE TABLE agreements("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  stix_id TEXT NOT NULL UNIQUE,"
     "  name TEXT NOT NULL,"
     "  digest TEXT NOT NULL,"
     "  owner BIGINT NOT NULL,"
     "  tlp INTEGER NOT NULL,"
     "  grp BIGINT NOT NULL,"
     "  loaded BIGINT NOT NULL,"
     "  loaded_by BIGINT NOT NULL,"
     "  doc TEXT NOT NULL);"
     "CREATE TABLE violations("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  stix_id TEXT NOT NULL UNIQUE,"
     "  agreement TEXT NOT NULL,"
     "  zone TEXT NOT NULL,"
     "  party TEXT NOT NULL,"
     "  report TEXT NOT NULL,"
     "  report_owner BIGINT NOT NULL,"
     "  event TEXT NOT NULL,"
     "  mode TEXT NOT NULL,"
     "  time BIGINT NOT NULL,"
     "  lat DOUBLE PRECISION, lon DOUBLE PRECISION,"
     "  area TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  created BIGINT NOT NULL,"
     "  updated BIGINT NOT NULL,"
     "  detail TEXT NOT NULL);"
     "CREATE INDEX violations_time ON violations(time, seq);"
     "CREATE INDEX violations_report ON violations(report, report_owner);"
     "CREATE TABLE violation_evidence("
     "  violation BIGINT NOT NULL,"
     "  report TEXT NOT NULL,"
     "  owner BIGINT NOT NULL,"
     "  tlp INTEGER NOT NULL,"
     "  grp BIGINT NOT NULL,"
     "  added BIGINT NOT NULL,"
     "  added_by BIGINT NOT NULL,"
     "  PRIMARY KEY(violation, report, owner));"
     "CREATE INDEX violation_evidence_report ON violation_evidence(report, owner);"
     "CREATE TABLE violation_steps("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  violation BIGINT NOT NULL,"
     "  time BIGINT NOT NULL,"
     "  partner BIGINT NOT NULL,"
     "  \"user\" BIGINT NOT NULL,"
     "  user_name TEXT NOT NULL,"
     "  from_status TEXT NOT NULL,"
     "  to_status TEXT NOT NULL,"
     "  reason TEXT NOT NULL);"
     "CREATE INDEX violation_steps_v ON violation_steps(violation, seq);"
     "CREATE TABLE violation_opinions("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  violation BIGINT NOT NULL,"
     "  time BIGINT NOT NULL,"
     "  partner BIGINT NOT NULL,"
     "  \"user\" BIGINT NOT NULL,"
     "  opinion TEXT NOT NULL,"
     "  json TEXT NOT NULL);"
     "CREATE INDEX violation_opinions_v ON violation_opinions(violation, seq);"},
    {10,
     "CREATE TABLE events("
     "  seq BIGSERIAL PRIMARY KEY,"
     "  time BIGINT NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  owner BIGINT NOT NULL,"
     "  tlp INTEGER NOT NULL,"
     "  grp BIGINT NOT NULL,"
     "  data TEXT NOT NULL,"
     "  subject TEXT,"
     "  gone INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX events_subject ON events(subject, owner) WHERE subject IS NOT NULL;"
     "CREATE TABLE webhooks("
     "  id BIGSERIAL PRIMARY KEY,"
     "  \"user\" BIGINT NOT NULL REFERENCES users(id),"
     "  url TEXT NOT NULL,"
     "  secret TEXT NOT NULL,"
     "  kinds TEXT NOT NULL,"
     "  created BIGINT NOT NULL,"
     "  disabled INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE outbox("
     "  id BIGSERIAL PRIMARY KEY,"
     "  hook BIGINT NOT NULL REFERENCES webhooks(id),"
     "  event BIGINT NOT NULL REFERENCES events(seq),"
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt BIGINT NOT NULL,"
     "  state INTEGER NOT NULL DEFAULT 0,"
     "  last_error TEXT NOT NULL DEFAULT '',"
     "  payload TEXT,"
     "  UNIQUE(hook, event));"
     "CREATE INDEX outbox_due ON outbox(state, next_attempt);"
     "CREATE TABLE alert_states("
     "  key TEXT PRIMARY KEY,"
     "  status TEXT NOT NULL,"
     "  history TEXT NOT NULL);"
     "CREATE TABLE reports_withdrawn("
     "  n BIGSERIAL PRIMARY KEY,"
     "  seq BIGINT NOT NULL);"
     "CREATE TABLE service_marks("
     "  name TEXT PRIMARY KEY,"
     "  value BIGINT NOT NULL);"
     "INSERT INTO service_marks VALUES('alerts.reports', 0), ('alerts.withdrawn', 0);"},
    /* 11 (SQLite's 11): the report rows without a point, by time (store_reports_window) */
    {11, "CREATE INDEX IF NOT EXISTS reports_unlocated ON reports(start, seq) WHERE lat IS NULL;"},
    /* 12 (SQLite's 12): one partner's triage of an alert */
    {12, "CREATE TABLE alert_triage("
         "  key TEXT NOT NULL,"
         "  partner BIGINT NOT NULL,"
         "  assignee TEXT NOT NULL DEFAULT '',"
         "  status_by TEXT NOT NULL DEFAULT '',"
         "  status_at BIGINT NOT NULL DEFAULT 0,"
         "  comments TEXT NOT NULL DEFAULT '[]',"
         "  PRIMARY KEY(key, partner));"},
    /* restart2 (issue #20; renumbered at merge; SQLite's 13): a service's saved state */
    {13, "CREATE TABLE service_states("
         "  name TEXT PRIMARY KEY,"
         "  mark BIGINT NOT NULL,"
         "  data BYTEA NOT NULL);"},
    /* 14 (SQLite's 14; branch warn2, renumbered at merge): who a report's event struck */
    {14, "ALTER TABLE reports ADD COLUMN target TEXT NOT NULL DEFAULT '';"
         "UPDATE reports SET target = 'civilians' WHERE EXISTS (SELECT 1 FROM"
         "  jsonb_array_elements_text(CASE WHEN jsonb_typeof(doc::jsonb->'targets') = 'array'"
         "  THEN doc::jsonb->'targets' ELSE '[]'::jsonb END) t(v)"
         "  WHERE lower(t.v) LIKE '%civilian%');"},
    /* 15 (keepviol; SQLite's 15): a kept violation's withdrawal time and earlier handling */
    {15, "ALTER TABLE violations ADD COLUMN withdrawn BIGINT NOT NULL DEFAULT 0;"
         "ALTER TABLE violations ADD COLUMN kept_tlp INTEGER NOT NULL DEFAULT 0;"
         "ALTER TABLE violations ADD COLUMN kept_grp BIGINT NOT NULL DEFAULT 0;"},
    /* 16 (groupnames; SQLite's 16): group names unique per owner partner, not over the hub */
    {16, "ALTER TABLE groups DROP CONSTRAINT groups_name_key;"
         "ALTER TABLE groups ADD CONSTRAINT groups_name_owner_key UNIQUE(name, owner);"},
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int pg_schema_migrate(struct store *s, char *msg)
{
    struct store_reader *c = &s->wconn;
    struct pg_params p;
    pp_init(&p);
    pp_i64(&p, PG_WRITE_LOCK);
    int rc = pg_exec(c, "BEGIN", NULL, NULL);
    rc = rc ? rc : pg_exec(c, "SELECT pg_advisory_xact_lock($1)", &p, NULL);
    rc = rc ? rc : pg_exec(c, "CREATE TABLE IF NOT EXISTS vigil_schema(version INTEGER NOT NULL)",
                           NULL, NULL);
    pp_release(&p);
    PGresult *r = rc ? NULL : pg_run(c, "SELECT version FROM vigil_schema", NULL);
    int v = r && PQntuples(r) ? gint(r, 0, 0) : 0;
    bool empty = r && !PQntuples(r);
    if (!r)
        rc = VIGIL_ESTORE;
    PQclear(r);
    if (!rc && empty)
        rc = pg_exec(c, "INSERT INTO vigil_schema VALUES(0)", NULL, NULL);
    int newest = migrations[NMIGRATIONS - 1].version;
    if (!rc && v > newest) {
        snprintf(msg, STORE_MSG_SZ,
                 "the store has schema version %d, newer than this vigil knows (%d)", v, newest);
        PQclear(PQexec(c->conn, "ROLLBACK"));
        return VIGIL_ESTORE;
    }
    int from = v;
    for (int i = 0; !rc && i < NMIGRATIONS; i++) {
        if (migrations[i].version <= from)
            continue;
        pp_init(&p);
        pp_i64(&p, migrations[i].version);
        rc = pg_exec(c, migrations[i].sql, NULL, NULL);
        rc = rc ? rc : pg_exec(c, "UPDATE vigil_schema SET version = $1", &p, NULL);
        pp_release(&p);
        if (!rc && (i + 1 == NMIGRATIONS || migrations[i + 1].version != migrations[i].version))
            log_info("store: migrated to schema version %d", migrations[i].version);
        v = rc ? v : migrations[i].version;
    }
    rc = rc ? rc : pg_exec(c, "COMMIT", NULL, NULL);
    if (rc) {
        snprintf(msg, STORE_MSG_SZ, "cannot bring the PostgreSQL schema to version %d: %s",
                 newest, PQerrorMessage(c->conn));
        for (char *nl = strchr(msg, '\n'); nl; nl = strchr(nl, '\n'))
            *nl = ' ';
        PQclear(PQexec(c->conn, "ROLLBACK"));
        return VIGIL_ESTORE;
    }
    c->failed = false;
    s->schema_version = v;
    return 0;
}
