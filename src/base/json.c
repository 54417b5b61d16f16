#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"

/* Rejects nesting deeper than max_depth before jansson (whose own limit is 2048) builds it. */
static int check_depth(const char *p, size_t len, int max_depth, char msg[JSON_MSG_SZ])
{
    int depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                snprintf(msg, JSON_MSG_SZ, "JSON nested deeper than %d levels at byte %zu",
                         max_depth, i);
                return VIGIL_EINVAL;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int vjson_parse(const char *data, size_t len, int max_depth, json_t **out, char msg[JSON_MSG_SZ])
{
    *out = NULL;
    msg[0] = '\0';
    int rc = check_depth(data, len, max_depth, msg);
    if (rc)
        return rc;
    json_error_t err;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!v) {
        snprintf(msg, JSON_MSG_SZ, "invalid JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        return VIGIL_EINVAL;
    }
    *out = v;
    return 0;
}

/* How many bytes from the start of s need no escape: eight at a time while none of them is a
 * control character, '"' or '\\' (bit tricks on a 64-bit word; a false alarm only ends the
 * fast part), then byte by byte. */
static size_t plain_run(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v, q, e;
        memcpy(&v, s + i, 8);
        q = v ^ (ones * '"');
        e = v ^ (ones * '\\');
        if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((e - ones) & ~e)) & highs)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
    }
    return i;
}

static int dump_string(const char *s, size_t n, struct buf *b)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_addc(b, '"');
    size_t i = 0;
    while (!rc) {
        size_t run = plain_run(s + i, n - i);
        rc = buf_add(b, s + i, run);
        i += run;
        if (rc || i == n)
            break;
        unsigned char c = (unsigned char)s[i++];
        switch (c) {
        case '"': rc = buf_add(b, "\\\"", 2); break;
        case '\\': rc = buf_add(b, "\\\\", 2); break;
        case '\n': rc = buf_add(b, "\\n", 2); break;
        case '\r': rc = buf_add(b, "\\r", 2); break;
        case '\t': rc = buf_add(b, "\\t", 2); break;
        case '\b': rc = buf_add(b, "\\b", 2); break;
        case '\f': rc = buf_add(b, "\\f", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = buf_add(b, e, 6);
        }
        }
    }
    if (!rc)
        rc = buf_addc(b, '"');
    return rc;
}

/* The shortest of %.15g, %.16g, %.17g that reads back to d (three printf and strtod calls),
 * remembered for the last few values: a report writes each coordinate several times. */
#define REAL_MEMO 8
static _Thread_local struct {
    double d;
    char text[40];
} real_memo[REAL_MEMO];
static _Thread_local unsigned real_memo_next;

static int dump_real(double d, struct buf *b)
{
    char tmp[40];
    if (!isfinite(d))
        return buf_adds(b, "null");
    for (int i = 0; i < REAL_MEMO; i++)
        if (real_memo[i].text[0] && memcmp(&real_memo[i].d, &d, sizeof d) == 0)
            return buf_adds(b, real_memo[i].text);
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* Keep it a real on the way back in: "3" would read back as an integer. */
    if (!strpbrk(tmp, ".eEn")) {
        size_t n = strlen(tmp);
        memcpy(tmp + n, ".0", 3);
    }
    unsigned k = real_memo_next++ % REAL_MEMO;
    real_memo[k].d = d;
    memcpy(real_memo[k].text, tmp, sizeof tmp);
    return buf_adds(b, tmp);
}

/* An integer in decimal, as printf's %lld writes it, without printf's cost. */
static int dump_integer(json_int_t v, struct buf *b)
{
    char tmp[24], *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

int vjson_dump(const json_t *v, struct buf *b)
{
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        rc = buf_addc(b, '{');
        json_object_foreach ((json_t *)v, key, val) {
            if (!rc && !first)
                rc = buf_addc(b, ',');
            first = 0;
            if (!rc)
                rc = dump_string(key, strlen(key), b);
            if (!rc)
                rc = buf_addc(b, ':');
            if (!rc)
                rc = vjson_dump(val, b);
            if (rc)
                return rc;
        }
        return buf_addc(b, '}');
    }
    case JSON_ARRAY: {
        rc = buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(v) && !rc; i++) {
            if (i)
                rc = buf_addc(b, ',');
            if (!rc)
                rc = vjson_dump(json_array_get(v, i), b);
        }
        return rc ? rc : buf_addc(b, ']');
    }
    case JSON_STRING: return dump_string(json_string_value(v), json_string_length(v), b);
    case JSON_INTEGER: return dump_integer(json_integer_value(v), b);
    case JSON_REAL: return dump_real(json_real_value(v), b);
    case JSON_TRUE: return buf_adds(b, "true");
    case JSON_FALSE: return buf_adds(b, "false");
    case JSON_NULL: return buf_adds(b, "null");
    }
    return VIGIL_EINVAL;
}

int vjson_key(struct buf *b, bool *first, const char *key)
{
    int rc = *first ? 0 : buf_addc(b, ',');
    *first = false;
    rc = rc ? rc : dump_string(key, strlen(key), b);
    return rc ? rc : buf_addc(b, ':');
}

int vjson_add_str(struct buf *b, const char *s)
{
    return dump_string(s, strlen(s), b);
}

int vjson_add_strn(struct buf *b, const char *s, size_t n)
{
    return dump_string(s, n, b);
}

int vjson_add_int(struct buf *b, json_int_t v)
{
    return dump_integer(v, b);
}

int vjson_add_real(struct buf *b, double d)
{
    return dump_real(d, b);
}

char *vjson_dumps(const json_t *v)
{
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    vjson_dump(v, &b);
    return buf_detach(&b, NULL);
}

const char *vjson_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

json_int_t vjson_int(const json_t *obj, const char *key, json_int_t fallback)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}
