#include "base/uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"

/* Random bytes drawn 32 uuids at a time, per thread: randombytes_buf is a system call
 * (getrandom) each, one per row of an import otherwise (docs/BENCHMARKS.md). Each byte is
 * used once and wiped; a child of fork() (none in Vigil) drops its copy of the pool. */
#define POOL_UUIDS 32
static _Thread_local struct {
    unsigned char b[16 * POOL_UUIDS];
    size_t used; /* bytes taken; the pool is empty when used == sizeof b */
    bool ready;
} pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_drop(void)
{
    sodium_memzero(&pool, sizeof pool);
}

static void pool_init(void)
{
    pthread_atfork(NULL, NULL, pool_drop);
}

static void random16(unsigned char b[16])
{
    pthread_once(&pool_once, pool_init);
    if (!pool.ready || pool.used == sizeof pool.b) {
        randombytes_buf(pool.b, sizeof pool.b);
        pool.used = 0;
        pool.ready = true;
    }
    memcpy(b, pool.b + pool.used, 16);
    sodium_memzero(pool.b + pool.used, 16);
    pool.used += 16;
}

void uuid_from_bytes(const unsigned char b[16], int version, char out[UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out; /* what "%02x" per byte with dashes after bytes 4, 6, 8 and 10 writes */
    for (int i = 0; i < 16; i++) {
        unsigned char c = b[i];
        if (i == 6)
            c = (unsigned char)((c & 0x0f) | version << 4);
        else if (i == 8)
            c = (unsigned char)((c & 0x3f) | 0x80);
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    *p = '\0';
}

void uuid_v4(char out[UUID_STRLEN + 1])
{
    unsigned char b[16];
    random16(b);
    uuid_from_bytes(b, 4, out);
    sodium_memzero(b, sizeof b);
}

bool uuid_valid(const char *s, size_t len)
{
    if (len != UUID_STRLEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (hex_value(s[i]) < 0) {
            return false;
        }
    }
    if (s[14] < '1' || s[14] > '5')
        return false;
    char v = s[19];
    return v == '8' || v == '9' || v == 'a' || v == 'b' || v == 'A' || v == 'B';
}
