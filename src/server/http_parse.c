/* http_parse.c - the request target's path and query (see http_parse.h). */
#include "server/http_parse.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "base/xalloc.h"

int http_pct_decode(const char *s, size_t n, bool plus, char **out)
{
    char *d = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            char c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            if (c == '\0') {
                free(d);
                return VIGIL_EINVAL;
            }
            d[j++] = c;
            i += 2;
        } else if (plus && s[i] == '+') {
            d[j++] = ' ';
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    return 0;
}

void http_path_free(char **seg, size_t nseg)
{
    for (size_t i = 0; seg && i < nseg; i++)
        free(seg[i]);
    free(seg);
}

int http_path_parse(const char *raw_uri, char ***seg_out, size_t *nseg_out, char **path)
{
    const char *raw = raw_uri;
    /* absolute-form request target: skip "scheme://authority" */
    const char *p = strstr(raw, "://");
    if (p && raw[0] != '/' && (size_t)(p - raw) < 8) {
        p = strchr(p + 3, '/');
        raw = p ? p : "/";
    }
    size_t plen = strcspn(raw, "?#");
    if (raw[0] != '/')
        return VIGIL_EINVAL;
    size_t nseg = 1;
    for (size_t i = 0; i < plen; i++)
        nseg += raw[i] == '/';
    char **seg = xcalloc(nseg, sizeof *seg);
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= plen; i++) {
        if (i == plen || raw[i] == '/') {
            if (http_pct_decode(raw + start, i - start, false, &seg[k++])) {
                http_path_free(seg, nseg);
                return VIGIL_EINVAL;
            }
            start = i + 1;
        }
    }
    if (http_pct_decode(raw, plen, false, path)) {
        http_path_free(seg, nseg);
        return VIGIL_EINVAL;
    }
    *seg_out = seg;
    *nseg_out = nseg;
    return 0;
}

void http_query_free(struct http_qarg *args, size_t nargs)
{
    for (size_t i = 0; i < nargs; i++) {
        free(args[i].key);
        free(args[i].value);
    }
    free(args);
}

int http_query_parse(const char *raw_uri, struct http_qarg **args_out, size_t *nargs_out)
{
    *args_out = NULL;
    *nargs_out = 0;
    const char *q = strchr(raw_uri, '?');
    if (!q)
        return 0;
    q++;
    size_t qlen = strcspn(q, "#");
    struct http_qarg *args = NULL;
    size_t nargs = 0, alloc = 0;
    while (qlen > 0) {
        size_t n = 0;
        while (n < qlen && q[n] != '&' && q[n] != ';')
            n++;
        if (n > 0) {
            const char *eq = memchr(q, '=', n);
            size_t klen = eq ? (size_t)(eq - q) : n;
            struct http_qarg a = {0};
            int rc = http_pct_decode(q, klen, true, &a.key);
            if (!rc && eq)
                rc = http_pct_decode(eq + 1, n - klen - 1, true, &a.value);
            else if (!rc)
                a.value = xstrdup("");
            if (rc) {
                free(a.key);
                http_query_free(args, nargs);
                return rc;
            }
            if (nargs == alloc) {
                alloc = alloc ? alloc * 2 : 8;
                args = xrealloc(args, alloc * sizeof *args);
            }
            args[nargs++] = a;
        }
        if (n < qlen)
            n++;
        q += n;
        qlen -= n;
    }
    *args_out = args;
    *nargs_out = nargs;
    return 0;
}
