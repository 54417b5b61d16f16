#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"

static char empty_buf[1];

void buf_init(struct buf *b, size_t cap)
{
    b->data = empty_buf;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    if (b->alloc)
        free(b->data);
    buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->alloc)
        b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->alloc ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    buf_init(b, b->cap);
    return p;
}

/* Makes room for n more bytes plus the NUL; VIGIL_ETOOBIG past the cap. */
static int buf_grow(struct buf *b, size_t n)
{
    if (n > b->cap || b->len > b->cap - n)
        return VIGIL_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->alloc)
        return 0;
    size_t a = b->alloc ? b->alloc : 64;
    while (a < need)
        a = a * 2 < a ? need : a * 2;
    if (b->alloc) {
        b->data = xrealloc(b->data, a);
    } else {
        b->data = xmalloc(a);
        b->data[0] = '\0';
    }
    b->alloc = a;
    return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
    /* room already (the common case), or grow */
    int rc = n < b->alloc - b->len && b->len + n <= b->cap ? 0 : buf_grow(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return VIGIL_EINVAL;
    int rc = buf_grow(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
