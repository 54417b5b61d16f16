/* buf.h - growable byte buffers with a hard cap.
 *
 * A buf always holds a NUL after its content, so buf.data can be used as a C string when the
 * content has no NUL of its own. A buf refuses to grow past its cap: the append functions then
 * return VIGIL_ETOOBIG and leave the content as it was. The caller owns the struct; buf_init()
 * fills it, buf_release() frees the contents, buf_detach() hands the contents to the caller.
 */
#ifndef VIGIL_BASE_BUF_H
#define VIGIL_BASE_BUF_H

#include <stddef.h>

#define BUF_NOCAP ((size_t)-1)

struct buf {
    char *data; /* never NULL after buf_init; NUL-terminated */
    size_t len; /* content length, not counting the NUL */
    size_t alloc;
    size_t cap; /* maximum len the buffer accepts */
};

void buf_init(struct buf *b, size_t cap);
/* Frees the contents; the buf must be buf_init()ed again before reuse. */
void buf_release(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Returns the contents (NUL-terminated, caller frees) and re-initialises the buf empty. */
char *buf_detach(struct buf *b, size_t *len);

/* Append functions: 0, or VIGIL_ETOOBIG (nothing appended) when the cap would be passed. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One byte: inline, since parsers and serialisers append byte by byte (the CSV reader, JSON). */
static inline int buf_addc(struct buf *b, char c)
{
    if (b->len + 1 < b->alloc && b->len < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_add(b, &c, 1);
}

#endif
