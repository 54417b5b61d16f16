/* fuzz_http_parse.c - libFuzzer harness for the parsers that run on a request before it is
 * authenticated: the request target's path and query with their percent-decoding
 * (src/server/http_parse.c), and the Basic and cookie credentials (src/access/auth.c).
 *
 * The bytes are used whole (with any NUL in them) for percent-decoding, and up to the first
 * NUL as the header text every other parser sees. Each parser must either refuse or give what
 * it promises: decoded text no longer than its input and free of NULs, as many path segments
 * as the path has '/', a Basic user without ':', a session cookie of its fixed length.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "server/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode(const char *s, size_t n, bool plus)
{
    char *out = NULL;
    if (http_pct_decode(s, n, plus, &out)) {
        if (!memmem(s, n, "%00", 3))
            abort(); /* only an encoded NUL is refused */
        return;
    }
    size_t len = strlen(out);
    if (len > n)
        abort();
    if (!memchr(s, '%', n) && !(plus && memchr(s, '+', n)) && !memchr(s, '\0', n) &&
        (len != n || memcmp(out, s, n) != 0))
        abort(); /* nothing to decode: the text itself */
    free(out);
}

static void check_path(const char *uri)
{
    char **seg = NULL, *path = NULL;
    size_t nseg = 0;
    if (http_path_parse(uri, &seg, &nseg, &path))
        return;
    if (!seg || !path || nseg == 0 || path[0] != '/' || seg[0][0] != '\0')
        abort();
    size_t total = 0;
    for (size_t i = 0; i < nseg; i++)
        total += strlen(seg[i]);
    if (total > strlen(uri))
        abort();
    http_path_free(seg, nseg);
    free(path);
}

static void check_query(const char *uri)
{
    struct http_qarg *args = NULL;
    size_t nargs = 0;
    if (http_query_parse(uri, &args, &nargs)) {
        if (args || nargs)
            abort();
        return;
    }
    const char *q = strchr(uri, '?');
    size_t seps = 1;
    for (const char *p = q; p && *p && *p != '#'; p++)
        seps += *p == '&' || *p == ';';
    if (nargs > seps || (nargs && !q))
        abort();
    for (size_t i = 0; i < nargs; i++)
        if (!args[i].key || !args[i].value || (!args[i].key[0] && !args[i].value[0] &&
                                               !strchr(q, '=')))
            abort();
    http_query_free(args, nargs);
}

static void check_credentials(const char *text)
{
    char user[AUTH_BASIC_MAX];
    const char *password = NULL;
    if (auth_basic_parse(text, user, &password) == 0) {
        if (strchr(user, ':') || !password || password < user ||
            password >= user + AUTH_BASIC_MAX ||
            strlen(user) + 1 + strlen(password) >= AUTH_BASIC_MAX)
            abort();
    }
    char cookie[AUTH_SESSION_LEN + 1];
    if (auth_cookie_value(text, cookie)) {
        if (strlen(cookie) != AUTH_SESSION_LEN || strpbrk(cookie, "; "))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode((const char *)data, size, false);
    check_decode((const char *)data, size, true);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    check_path(text);
    check_query(text);
    check_credentials(text);
    free(text);
    return 0;
}
