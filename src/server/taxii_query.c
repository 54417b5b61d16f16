/* taxii_query.c - the query of a TAXII request: filters, paging, cursors. See taxii_query.h. */
#include "server/taxii_query.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "stix/stix.h"
#include "store/store.h"

#define CURSOR_RAW 40 /* 8 date_added + 16 fingerprint + 16 MAC */

void taxii_filters_init(struct taxii_filters *f, unsigned allowed, const unsigned char *key,
                        const char *scope)
{
    memset(f, 0, sizeof *f);
    f->allowed = allowed;
    f->key = key;
    snprintf(f->scope, sizeof f->scope, "%s", scope);
}

void taxii_filters_release(struct taxii_filters *f)
{
    for (int i = 0; i < 4; i++)
        free(f->lists[i]);
}

static void fail(struct taxii_filters *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first problem of a request for its 400 answer. */
static void fail(struct taxii_filters *f, const char *fmt, ...)
{
    if (f->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->badbuf, sizeof f->badbuf, fmt, ap);
    va_end(ap);
    f->bad = f->badbuf;
}

/* Splits a comma-separated value into out (pointing into a copy kept in f). Values are
 * separated by single commas without spaces (3.4): an empty value is malformed. */
static size_t split(struct taxii_filters *f, int slot, const char *value, const char **out,
                    const char *key)
{
    free(f->lists[slot]);
    char *s = f->lists[slot] = xstrdup(value);
    size_t n = 0;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (!*s) {
            fail(f, "%s: empty value in the list", key);
            return 0;
        }
        if (n == TAXII_MATCH_MAX) {
            fail(f, "%s: at most %d values", key, TAXII_MATCH_MAX);
            return n;
        }
        out[n++] = s;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

/* match[version] (3.4.1): last, first, all or timestamps; no value twice; all alone. */
static void parse_versions(struct taxii_filters *f, const char *value, const char *key)
{
    const char *vals[TAXII_MATCH_MAX];
    size_t n = split(f, 2, value, vals, key);
    for (size_t i = 0; i < n; i++) {
        unsigned kw = strcmp(vals[i], "last") == 0    ? STORE_VER_LAST
                      : strcmp(vals[i], "first") == 0 ? STORE_VER_FIRST
                      : strcmp(vals[i], "all") == 0   ? STORE_VER_ALL
                                                      : 0;
        vtime_t v;
        if (kw) {
            if (f->vmatch & kw)
                fail(f, "%s: \"%s\" given twice", key, vals[i]);
            f->vmatch |= kw;
        } else if (ts_parse(vals[i], &v, NULL) == 0) {
            for (size_t j = 0; j < f->nversions; j++)
                if (f->versions[j] == v)
                    fail(f, "%s: \"%.60s\" given twice", key, vals[i]);
            f->versions[f->nversions++] = v;
        } else {
            fail(f, "%s: \"%.60s\" is not first, last, all or a timestamp", key, vals[i]);
        }
    }
    if ((f->vmatch & STORE_VER_ALL) && n > 1)
        fail(f, "%s: \"all\" may not be combined with other values", key);
}

int taxii_filters_param(void *ctx, const char *key, const char *value)
{
    struct taxii_filters *f = ctx;
    value = value ? value : "";
    unsigned flag = 0;
    if (strcmp(key, "added_after") == 0)
        flag = TAXII_F_ADDED_AFTER;
    else if (strcmp(key, "limit") == 0)
        flag = TAXII_F_LIMIT;
    else if (strcmp(key, "next") == 0)
        flag = TAXII_F_NEXT;
    else if (strcmp(key, "match[id]") == 0)
        flag = TAXII_F_ID;
    else if (strcmp(key, "match[type]") == 0)
        flag = TAXII_F_TYPE;
    else if (strcmp(key, "match[version]") == 0)
        flag = TAXII_F_VERSION;
    else if (strcmp(key, "match[spec_version]") == 0)
        flag = TAXII_F_SPEC;
    size_t klen = strlen(key);
    if (!flag && klen > 7 && strncmp(key, "match[", 6) == 0 && key[klen - 1] == ']')
        return 0; /* 3.4: servers MAY ignore match fields they do not understand */
    if (!flag) {
        fail(f, "unknown parameter \"%.60s\"", key);
        return 0;
    }
    if (!(f->allowed & flag)) {
        fail(f, "parameter \"%.60s\" is not supported by this endpoint", key);
        return 0;
    }
    if (f->seen & flag) {
        fail(f, "parameter \"%.60s\" given more than once", key);
        return 0;
    }
    f->seen |= flag;
    if (flag != TAXII_F_LIMIT && flag != TAXII_F_NEXT) {
        /* The fingerprint binds a cursor to these filters (not to limit, which may change
         * from page to page), whatever their order: XOR of one keyed hash per parameter. */
        unsigned char h[TAXII_FP_LEN];
        crypto_generichash_state st;
        crypto_generichash_init(&st, f->key, TAXII_KEY_LEN, TAXII_FP_LEN);
        crypto_generichash_update(&st, (const unsigned char *)key, klen + 1);
        crypto_generichash_update(&st, (const unsigned char *)value, strlen(value) + 1);
        crypto_generichash_final(&st, h, TAXII_FP_LEN);
        for (int i = 0; i < TAXII_FP_LEN; i++)
            f->fpx[i] ^= h[i];
    }
    switch (flag) {
    case TAXII_F_ADDED_AFTER:
        if (ts_parse(value, &f->added_after, NULL) || f->added_after < 0)
            fail(f, "added_after: \"%.60s\" is not a timestamp", value);
        break;
    case TAXII_F_LIMIT: {
        char *end;
        long v = isdigit((unsigned char)value[0]) ? strtol(value, &end, 10) : 0;
        if (v < 1 || *end)
            fail(f, "limit: \"%.60s\" is not a positive integer", value);
        else
            f->limit = (size_t)v;
        break;
    }
    case TAXII_F_NEXT: f->next = value; break;
    case TAXII_F_ID:
        f->nids = split(f, 0, value, f->ids, key);
        for (size_t i = 0; i < f->nids; i++)
            if (!stix_id_valid(f->ids[i]))
                fail(f, "match[id]: \"%.60s\" is not a STIX id", f->ids[i]);
        break;
    case TAXII_F_TYPE: f->ntypes = split(f, 1, value, f->types, key); break;
    case TAXII_F_SPEC: f->nspecs = split(f, 3, value, f->specs, key); break;
    case TAXII_F_VERSION: parse_versions(f, value, key); break;
    }
    return 0;
}

static void fingerprint(const struct taxii_filters *f, unsigned char out[TAXII_FP_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, f->key, TAXII_KEY_LEN, TAXII_FP_LEN);
    crypto_generichash_update(&st, (const unsigned char *)f->scope, strlen(f->scope) + 1);
    crypto_generichash_update(&st, f->fpx, TAXII_FP_LEN);
    crypto_generichash_final(&st, out, TAXII_FP_LEN);
}

void taxii_cursor_make(const struct taxii_filters *f, int64_t after, char out[TAXII_CURSOR_SZ])
{
    unsigned char raw[CURSOR_RAW];
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)((uint64_t)after >> (56 - 8 * i));
    fingerprint(f, raw + 8);
    crypto_generichash(raw + 24, 16, raw, 24, f->key, TAXII_KEY_LEN);
    sodium_bin2base64(out, TAXII_CURSOR_SZ, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool taxii_cursor_open(struct taxii_filters *f)
{
    if (!f->next)
        return true;
    unsigned char raw[CURSOR_RAW], mac[16], fp[TAXII_FP_LEN];
    size_t len = 0;
    bool ok = strlen(f->next) < TAXII_CURSOR_SZ &&
              sodium_base642bin(raw, sizeof raw, f->next, strlen(f->next), NULL, &len, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              len == CURSOR_RAW;
    if (ok) {
        crypto_generichash(mac, 16, raw, 24, f->key, TAXII_KEY_LEN);
        fingerprint(f, fp);
        ok = sodium_memcmp(mac, raw + 24, 16) == 0 && sodium_memcmp(fp, raw + 8, 16) == 0;
    }
    if (!ok)
        return false;
    uint64_t after = 0;
    for (int i = 0; i < 8; i++)
        after = after << 8 | raw[i];
    f->cursor = (int64_t)after;
    if (f->cursor > f->added_after)
        f->added_after = f->cursor;
    return true;
}
