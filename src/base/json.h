/* json.h - JSON input with limits, and compact output that keeps numbers as written.
 *
 * Jansson holds the tree. These helpers add what untrusted input needs (a nesting limit,
 * duplicate keys refused, a message naming the position) and a serialiser that writes each
 * real number in the shortest form that reads back to the same double, so "31.51" stays
 * "31.51" instead of jansson's "31.510000000000002".
 */
#ifndef VIGIL_BASE_JSON_H
#define VIGIL_BASE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#define JSON_MSG_SZ 256

/* Parses data[0..len) as one JSON value nested at most max_depth deep. Returns 0 and a new
 * reference in *out, or VIGIL_EINVAL with a message in msg (position and reason) and *out
 * NULL. Invalid UTF-8, duplicate object keys and trailing garbage are refused. */
int vjson_parse(const char *data, size_t len, int max_depth, json_t **out, char msg[JSON_MSG_SZ]);

/* Appends the compact serialisation of v (object keys in insertion order) to b.
 * Returns 0 or VIGIL_ETOOBIG when b's cap would be passed (b's content is then undefined). */
int vjson_dump(const json_t *v, struct buf *b);
/* Returns a newly allocated compact serialisation of v; the caller frees it. */
char *vjson_dumps(const json_t *v);

/* Writing JSON text without building a json_t, byte for byte as vjson_dump writes the same
 * value (for hot paths: an import writes three documents per row). *first is true before an
 * object's first member; vjson_key writes the separator, the quoted key and the colon. s must
 * be valid UTF-8 (json_string's own condition). Each returns 0 or VIGIL_ETOOBIG (b's cap). */
int vjson_key(struct buf *b, bool *first, const char *key);
int vjson_add_str(struct buf *b, const char *s);
int vjson_add_strn(struct buf *b, const char *s, size_t n);
int vjson_add_int(struct buf *b, json_int_t v);
int vjson_add_real(struct buf *b, double d);

/* Typed getters: the member's value, or NULL/the fallback when absent or of another type. */
const char *vjson_str(const json_t *obj, const char *key);
json_int_t vjson_int(const json_t *obj, const char *key, json_int_t fallback);

#endif
