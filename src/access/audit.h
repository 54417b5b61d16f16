/* audit.h - the append-only, hash-chained audit log (S3).
 *
 * Every write, and every read of objects by a partner, appends an entry. Entry n holds the
 * hash of entry n-1; its own hash covers that and all its fields:
 *   hash(n) = SHA-256(prev || seq || time || partner || user || action || object || detail)
 * with integers as 8-byte little-endian and strings NUL-terminated. Changing, removing or
 * reordering any entry breaks the chain from there on, which audit_verify() reports.
 * Removing the newest entries leaves a shorter valid chain, and whoever can write the store can
 * also recompute every hash after an entry they altered ("re-chain" it). Signed checkpoints
 * catch both: audit_checkpoint() signs the head (seq and hash) with the hub's Ed25519 audit
 * key; the operator keeps the line elsewhere, and audit_verify_checkpoint() later checks that
 * the chain still holds that very entry (so nothing up to it was altered, removed or
 * re-chained) and that the line was signed by this hub's key.
 */
#ifndef VIGIL_ACCESS_AUDIT_H
#define VIGIL_ACCESS_AUDIT_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "store/store.h"

#define AUDIT_MSG_SZ 256

/* Appends an entry inside a write transaction, so that it is durable with the write it
 * records. Strings are copied; detail is JSON text ("{}" when NULL). */
int audit_append(struct store_txn *t, int64_t partner, int64_t user, const char *action,
                 const char *object, const char *detail);
/* Queues an entry without waiting for the commit (for reads). Copies its arguments. */
void audit_append_async(struct store *s, int64_t partner, int64_t user, const char *action,
                        const char *object, const char *detail);
/* The items of one audit entry that concerns many (a page read, an envelope written), kept
 * small however many there are: how many, a BLAKE2b-256 digest of them all, and the first
 * AUDIT_LISTED by name. (An entry for one object names it; for a hundred, an auditor re-runs
 * the read, or looks up the objects written in the recorded date_added range, and compares
 * the digest.) The digest covers every item's text, each followed by a NUL byte (BLAKE2b:
 * pages are hashed as they are served, and SHA-256 cost a tenth of a page's time). */
#define AUDIT_LISTED 10
#define AUDIT_DIGEST_LEN 32
struct audit_list {
    struct buf listed; /* the first items, comma-separated */
    size_t count;
    crypto_generichash_state digest;
};
void audit_list_init(struct audit_list *l);
/* Adds an item: JSON text (a string, or an object of id and version). */
void audit_list_add(struct audit_list *l, const char *item);
/* Releases l and returns the entry's detail, {fields,"count":N,"digest":"hex","items":[…]},
 * to free(); NULL when l is empty. fields: JSON object members describing the entry, or "". */
char *audit_list_detail(struct audit_list *l, const char *fields);

/* Checks the whole chain. Returns 0 with *count entries and the head hash in hex (65 bytes),
 * or VIGIL_ECONFLICT with msg naming the first entry that does not verify. */
int audit_verify(struct store *s, int64_t *count, char head_hex[65], char msg[AUDIT_MSG_SZ]);
/* A checkpoint: one line of text,
 *   vigil-audit-checkpoint v1 seq=N head=HEX time=RFC3339 key=HEX sig=HEX
 * where sig is the Ed25519 signature (by the key whose public half is key) of the line up to
 * and without " sig=". */
#define AUDIT_CHECKPOINT_SZ 512
/* Verifies the chain and writes a signed checkpoint of its head into out. The signing key is
 * DIR/audit.key (made on first use, mode 0600). Returns 0, VIGIL_ECONFLICT when the chain does
 * not verify, or VIGIL_EIO (msg says why). */
int audit_checkpoint(struct store *s, const char *dir, char out[AUDIT_CHECKPOINT_SZ],
                     char msg[AUDIT_MSG_SZ]);
/* Verifies the chain (audit_verify) and a checkpoint line against it: its signature, that it
 * was signed with this hub's audit key, and that the chain's entry seq still has the recorded
 * hash. Returns 0 with *count and head_hex as audit_verify; VIGIL_ECONFLICT (msg says what
 * does not hold) or VIGIL_EINVAL (not a checkpoint). */
int audit_verify_checkpoint(struct store *s, const char *dir, const char *checkpoint,
                            int64_t *count, char head_hex[65], char msg[AUDIT_MSG_SZ]);
/* Writes the entries of one partner (0: all) as JSON lines to out. */
int audit_export(struct store *s, int64_t partner, FILE *out);

#endif
