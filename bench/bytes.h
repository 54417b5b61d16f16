/* bytes.h - a growable byte buffer for the benchmark programs (header-only, one copy per
 * program). The includer defines `die(const char *what)`, which does not return. */
#ifndef VIGIL_BENCH_BYTES_H
#define VIGIL_BENCH_BYTES_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct bytes {
    char *p;
    size_t len, cap;
};

static void b_reserve(struct bytes *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p)
        die("out of memory");
    b->cap = cap;
}

static void b_printf(struct bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void b_printf(struct bytes *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("vsnprintf");
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b_reserve(b, (size_t)n + 1);
    }
}

#endif
