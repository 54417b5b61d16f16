/* ratelimit.h - per-credential request rate limits (token buckets), and counted slots for
 * what a credential may hold at once (live streams, password checks in progress).
 *
 * Each key (an API token or a session's user) has a bucket holding up to `per_minute`
 * requests, refilled continuously at per_minute/60 per second. A request takes one; an empty
 * bucket refuses it with the seconds until the next one. Buckets live in a fixed table, so
 * memory is bounded whatever the number of keys; a full table recycles its least recently
 * used bucket (which can only make a limit more lenient, never stricter).
 */
#ifndef VIGIL_SERVER_RATELIMIT_H
#define VIGIL_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit;

/* per_minute 0 turns limiting off. Returns a new limiter (ratelimit_free() it). */
struct ratelimit *ratelimit_new(long per_minute);
void ratelimit_free(struct ratelimit *rl);
/* Takes one request for key at time now_us. Returns true when allowed; else false with
 * *retry_after_s set (at least 1). */
bool ratelimit_take(struct ratelimit *rl, int64_t key, int64_t now_us, int *retry_after_s);

/* A 64-bit key of a text (a user name, a client address) for ratelimit_take; never 0. */
int64_t ratelimit_key(const char *text);

/* Slots: at most per_key held by one key and total by all together (0: no limit). Memory is
 * bounded by total (each held slot is one entry); with total 0, per_key applies to the keys of
 * at most 4096 holders at once and a further key is refused. */
struct slots;

enum slots_result { SLOTS_OK, SLOTS_KEY_FULL, SLOTS_ALL_FULL };

struct slots *slots_new(long per_key, long total);
void slots_free(struct slots *sl);
/* Takes a slot for key (never 0); SLOTS_OK, or why not (nothing taken). */
enum slots_result slots_take(struct slots *sl, int64_t key);
/* Gives back a slot that slots_take gave key. */
void slots_give(struct slots *sl, int64_t key);
/* Slots now held, by all keys. */
long slots_held(struct slots *sl);

#endif
