/* ratelimit.h - per-credential request rate limits (token buckets).
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

#endif
