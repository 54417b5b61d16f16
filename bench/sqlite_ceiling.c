/* sqlite_ceiling.c - the storage ceiling of the benchmarks (S11): a raw batched insert.
 *
 * Opens a store in DIR through store_open (so the schema is exactly Vigil's, migrations
 * applied), closes it, then inserts N generated STIX objects (the same rows loadgen POSTs:
 * bench/stixgen.h) with plain sqlite3: WAL, synchronous=FULL, the writer's cache_size, BATCH
 * rows per transaction. Each row is what the store's writer writes for an object: the row of
 * the objects table and its row in the id index's new level, moved into the main level every
 * IDS_MERGE_ROWS rows (schema.c, migration 6; objects.c). No JSON parsing, no validation, no
 * HTTP, no audit or status: the most this machine and SQLite can do with these tables.
 *
 *   sqlite_ceiling DIR N [BATCH]   prints "rows=N seconds=S rows_per_s=R batch=B"
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "sqlite_ceiling: %s\n", what);
    exit(2);
}

#include "bytes.h"
#include "stixgen.h"

#define IDS_MERGE_ROWS 8192 /* as the store's writer (objects.c) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, err ? err : "?");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        die("usage: sqlite_ceiling DIR N [BATCH]");
    const char *dir = argv[1];
    long n = strtol(argv[2], NULL, 10), batch = argc > 3 ? strtol(argv[3], NULL, 10) : 10000;
    if (n < 1 || batch < 1)
        die("N and BATCH must be positive");

    char msg[STORE_MSG_SZ];
    struct store *s;
    if (store_open(dir, NULL, &s, msg))
        die(msg);
    store_close(s);

    char path[4096];
    snprintf(path, sizeof path, "%s/vigil.db", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("cannot open the store");
    exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
             "PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;"
             "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;");
    exec(db, "INSERT OR IGNORE INTO collections(id, uuid, name, title, partner_writable)"
             " VALUES(1, 'bench', 'bench', 'Bench', 1)");
    sqlite3_stmt *st, *ids;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO objects(coll, stix_id, type, spec_version, version,"
                           " date_added, owner, tlp, grp, latest, first, json)"
                           " VALUES(1,?,?,'2.1',?,?,1,2,0,1,1,?)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO object_ids_new VALUES(?, last_insert_rowid())", -1,
                           &ids, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(db));
    static const char *const types[] = {"indicator", "location", "note"};
    struct bytes js = {0};
    int64_t added = (int64_t)time(NULL) * 1000000;
    const int64_t version = 1710727200000000; /* 2024-03-18T02:00:00Z */
    double t0 = now_s();
    for (long i = 0; i < n; i += batch) {
        exec(db, "BEGIN IMMEDIATE");
        for (long k = i; k < i + batch && k < n; k++) {
            char id[64], uuid[37];
            uuid_of(1000003, (uint64_t)k, uuid);
            snprintf(id, sizeof id, "%s--%s", types[k % 3], uuid);
            js.len = 0;
            object_json(&js, 1000003, (uint64_t)k, 0);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, types[k % 3], -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, version);
            sqlite3_bind_int64(st, 4, ++added);
            sqlite3_bind_text(st, 5, js.p, (int)js.len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                die(sqlite3_errmsg(db));
            sqlite3_reset(st);
            /* The id's key: a 64-bit hash, as vigil_idh() (store_sqlite.c) but unkeyed. */
            unsigned char h[crypto_generichash_BYTES_MIN];
            crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id), NULL, 0);
            int64_t key;
            memcpy(&key, h, sizeof key);
            sqlite3_bind_int64(ids, 1, key);
            if (sqlite3_step(ids) != SQLITE_DONE)
                die(sqlite3_errmsg(db));
            sqlite3_reset(ids);
            if ((k + 1) % IDS_MERGE_ROWS == 0)
                exec(db, "INSERT INTO object_ids SELECT idh, seq FROM object_ids_new;"
                         "DELETE FROM object_ids_new;");
        }
        exec(db, "COMMIT");
    }
    double secs = now_s() - t0;
    printf("rows=%ld seconds=%.3f rows_per_s=%.1f batch=%ld\n", n, secs, (double)n / secs, batch);
    sqlite3_finalize(st);
    sqlite3_finalize(ids);
    sqlite3_close(db);
    free(js.p);
    return 0;
}
