#include "server/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/xalloc.h"

#define SLOTS 4096
#define PROBES 16

struct bucket {
    int64_t key; /* 0: free */
    double tokens;
    int64_t last_us;
};

struct ratelimit {
    pthread_mutex_t lock;
    double capacity;
    double per_us;
    struct bucket slots[SLOTS];
};

struct ratelimit *ratelimit_new(long per_minute)
{
    struct ratelimit *rl = xcalloc(1, sizeof *rl);
    pthread_mutex_init(&rl->lock, NULL);
    rl->capacity = (double)per_minute;
    rl->per_us = (double)per_minute / 60e6;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

static struct bucket *find(struct ratelimit *rl, int64_t key, int64_t now_us)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    struct bucket *oldest = NULL;
    for (int i = 0; i < PROBES; i++) {
        struct bucket *b = &rl->slots[(h + (uint64_t)i) % SLOTS];
        if (b->key == key)
            return b;
        if (!oldest || b->key == 0 || (oldest->key != 0 && b->last_us < oldest->last_us))
            oldest = b;
    }
    *oldest = (struct bucket){.key = key, .tokens = rl->capacity, .last_us = now_us};
    return oldest;
}

bool ratelimit_take(struct ratelimit *rl, int64_t key, int64_t now_us, int *retry_after_s)
{
    if (rl->capacity <= 0)
        return true;
    pthread_mutex_lock(&rl->lock);
    struct bucket *b = find(rl, key, now_us);
    if (now_us > b->last_us) {
        b->tokens += (double)(now_us - b->last_us) * rl->per_us;
        if (b->tokens > rl->capacity)
            b->tokens = rl->capacity;
        b->last_us = now_us;
    }
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else {
        double wait_us = (1.0 - b->tokens) / rl->per_us;
        *retry_after_s = (int)(wait_us / 1e6) + 1;
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}
