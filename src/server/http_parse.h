/* http_parse.h - the parsers of a request target, without HTTP: the path, split into decoded
 * segments, and the query string, split into decoded arguments. They run on every request
 * before it is authenticated, so they are fuzzed on their own (tests/fuzz/fuzz_http_parse.c).
 *
 * Percent-decoding: "%XY" with two hex digits becomes that byte; a '%' not followed by two hex
 * digits is kept as is; in the query, '+' becomes ' '. An encoded NUL ("%00") is refused, as
 * it would silently cut the text short.
 */
#ifndef VIGIL_SERVER_HTTP_PARSE_H
#define VIGIL_SERVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* A query argument, decoded; value is "" when the argument has no '='. */
struct http_qarg {
    char *key;
    char *value;
};

/* Percent-decodes s[0..n) into a new string (and '+' into ' ' when plus is set). Returns 0,
 * or VIGIL_EINVAL for an encoded NUL (then *out is untouched). */
int http_pct_decode(const char *s, size_t n, bool plus, char **out);

/* Splits the path of a raw request target at '/' and decodes each segment (an encoded '/'
 * stays in its segment) and the whole path. An absolute-form target ("http://host/p") is
 * read from its path. Returns 0 with *seg (*nseg strings; free with http_path_free) and *path
 * (free it), or VIGIL_EINVAL (nothing to free) for a path that does not start with '/' or
 * holds an encoded NUL. */
int http_path_parse(const char *raw_uri, char ***seg, size_t *nseg, char **path);
void http_path_free(char **seg, size_t nseg);

/* Splits the query of a raw request target (after the first '?', up to any '#') at '&' and
 * ';' into decoded arguments, in order; empty ones are skipped. Returns 0 with *args (*nargs
 * of them; free with http_query_free), or VIGIL_EINVAL (nothing to free) for an encoded NUL. */
int http_query_parse(const char *raw_uri, struct http_qarg **args, size_t *nargs);
void http_query_free(struct http_qarg *args, size_t nargs);

#endif
