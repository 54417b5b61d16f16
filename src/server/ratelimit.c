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

int64_t ratelimit_key(const char *text)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    int64_t k = (int64_t)(h >> 1);
    return k ? k : 1;
}

/* ---- slots ------------------------------------------------------------------------------- */

#define HOLDERS_MAX 4096

struct holder {
    int64_t key;
    long n;
};

struct slots {
    pthread_mutex_t lock;
    long per_key, total, held;
    size_t cap; /* entries of holders */
    size_t nholders;
    struct holder *holders; /* the keys holding at least one slot, unordered */
};

struct slots *slots_new(long per_key, long total)
{
    struct slots *sl = xcalloc(1, sizeof *sl);
    pthread_mutex_init(&sl->lock, NULL);
    sl->per_key = per_key;
    sl->total = total;
    sl->cap = total > 0 && total < HOLDERS_MAX ? (size_t)total : HOLDERS_MAX;
    sl->holders = xcalloc(sl->cap, sizeof *sl->holders);
    return sl;
}

void slots_free(struct slots *sl)
{
    if (!sl)
        return;
    pthread_mutex_destroy(&sl->lock);
    free(sl->holders);
    free(sl);
}

static struct holder *holder_find(struct slots *sl, int64_t key)
{
    for (size_t i = 0; i < sl->nholders; i++)
        if (sl->holders[i].key == key)
            return &sl->holders[i];
    return NULL;
}

enum slots_result slots_take(struct slots *sl, int64_t key)
{
    enum slots_result r = SLOTS_OK;
    pthread_mutex_lock(&sl->lock);
    struct holder *h = holder_find(sl, key);
    if (sl->total > 0 && sl->held >= sl->total)
        r = SLOTS_ALL_FULL;
    else if (h && sl->per_key > 0 && h->n >= sl->per_key)
        r = SLOTS_KEY_FULL;
    else if (!h && sl->nholders == sl->cap)
        r = SLOTS_ALL_FULL;
    if (r == SLOTS_OK) {
        if (!h) {
            h = &sl->holders[sl->nholders++];
            *h = (struct holder){.key = key};
        }
        h->n++;
        sl->held++;
    }
    pthread_mutex_unlock(&sl->lock);
    return r;
}

void slots_give(struct slots *sl, int64_t key)
{
    pthread_mutex_lock(&sl->lock);
    struct holder *h = holder_find(sl, key);
    if (h) {
        sl->held--;
        if (--h->n == 0)
            *h = sl->holders[--sl->nholders];
    }
    pthread_mutex_unlock(&sl->lock);
}

long slots_held(struct slots *sl)
{
    pthread_mutex_lock(&sl->lock);
    long n = sl->held;
    pthread_mutex_unlock(&sl->lock);
    return n;
}
