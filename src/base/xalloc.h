/* xalloc.h - allocation that never returns NULL.
 *
 * Out of memory is not recoverable in a daemon that must not half-apply a write, so these
 * wrappers print a message and abort(). Inputs from the network or files are bounded before
 * they reach an allocation (see buf.h), so exhaustion means a bug or a starved machine.
 */
#ifndef VIGIL_BASE_XALLOC_H
#define VIGIL_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copies a NUL-terminated string; the caller frees it. xstrdup(NULL) returns NULL. */
char *xstrdup(const char *s);
/* Copies at most n bytes of s and terminates the copy; the caller frees it. */
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated string formatted like printf; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
