/* rest.c - what the /api/v1/ handlers share. */
#include "server/rest.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/timestamp.h"
#include "intel/profile.h"

json_t *rest_body(struct app *a, struct http_req *req, struct http_resp *resp,
                  const char *const *fields)
{
    const char *ctype = http_header(req, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16) != 0) {
        app_error(req, resp, 415, "unsupported media type", "send the body as application/json");
        return NULL;
    }
    json_t *v;
    char msg[JSON_MSG_SZ];
    if (vjson_parse(req->body, req->body_len, (int)a->cfg->json_max_depth, &v, msg)) {
        app_error(req, resp, 400, "bad request", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        app_error(req, resp, 400, "bad request", "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *val;
    if (!fields)
        return v; /* the caller checks the members itself */
    json_object_foreach (v, key, val) {
        bool known = false;
        for (const char *const *f = fields; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known) {
            char d[160];
            snprintf(d, sizeof d, "unknown field \"%.80s\"", key);
            json_decref(v);
            app_error(req, resp, 400, "bad request", d);
            return NULL;
        }
    }
    return v;
}

void rest_reply(struct http_resp *resp, int status, json_t *v)
{
    app_json(resp, status, "application/json", v);
    json_decref(v);
}

bool rest_can_write(struct http_req *req, struct http_resp *resp)
{
    if (!app_principal(req)->read_only)
        return true;
    app_error(req, resp, 403, "forbidden", "this token is read-only");
    return false;
}

bool rest_reader(struct app *a, struct http_req *req, struct http_resp *resp,
                 struct store_reader **r)
{
    if (store_read_begin(a->store, r) == 0)
        return true;
    app_error(req, resp, 503, "store unavailable", NULL);
    return false;
}

/* ---- cursors ------------------------------------------------------------------------- */

#define CUR_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CUR_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CUR_RAW_MAX (CUR_NONCE + 8 * REST_CURSOR_VALS + CUR_TAG)
_Static_assert(REST_CURSOR_SZ > (CUR_RAW_MAX + 2) / 3 * 4, "room for a cursor's base64");

/* The key of REST cursors (a subkey of the server key) and the associated data: the
 * endpoint and the user. */
static void cursor_key(const struct app *a, unsigned char key[32])
{
    _Static_assert(APP_KEY_LEN == crypto_kdf_KEYBYTES, "the server key is a KDF key");
    crypto_kdf_derive_from_key(key, 32, 1, "vigilrcu", a->cursor_key);
}

static size_t cursor_ad(int64_t user, const char *what, char ad[96])
{
    int n = snprintf(ad, 96, "%s|%lld", what, (long long)user);
    return n < 0 ? 0 : (size_t)n < 96 ? (size_t)n : 95;
}

void rest_cursor_seal(const struct app *a, const struct http_req *req, const char *what,
                      const int64_t *v, size_t n, char out[REST_CURSOR_SZ])
{
    rest_cursor_seal_for(a, app_principal(req)->user, what, v, n, out);
}

bool rest_cursor_open(const struct app *a, const struct http_req *req, const char *what,
                      const char *text, int64_t *v, size_t n)
{
    return rest_cursor_open_for(a, app_principal(req)->user, what, text, v, n);
}

/* Encrypts n values under key with the nonce in raw[0..CUR_NONCE) into out. */
static void seal_with(const unsigned char key[32], unsigned char raw[CUR_RAW_MAX], const char *ad,
                      size_t adlen, const int64_t *v, size_t n, char out[REST_CURSOR_SZ])
{
    unsigned char plain[8 * REST_CURSOR_VALS];
    n = n > REST_CURSOR_VALS ? REST_CURSOR_VALS : n;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            plain[8 * i + (size_t)b] = (unsigned char)((uint64_t)v[i] >> (56 - 8 * b));
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(raw + CUR_NONCE, &clen, plain, 8 * n,
                                               (const unsigned char *)ad, adlen, NULL, raw, key);
    sodium_bin2base64(out, REST_CURSOR_SZ, raw, CUR_NONCE + (size_t)clen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void rest_cursor_seal_for(const struct app *a, int64_t user, const char *what, const int64_t *v,
                          size_t n, char out[REST_CURSOR_SZ])
{
    unsigned char key[32], raw[CUR_RAW_MAX];
    char ad[96];
    size_t adlen = cursor_ad(user, what, ad);
    cursor_key(a, key);
    randombytes_buf(raw, CUR_NONCE);
    seal_with(key, raw, ad, adlen, v, n, out);
    sodium_memzero(key, sizeof key);
}

void rest_sealer_init(struct rest_sealer *s, const struct app *a, int64_t user, const char *what)
{
    _Static_assert(sizeof s->nonce == CUR_NONCE, "a sealer's nonce is the AEAD's");
    cursor_key(a, s->key);
    randombytes_buf(s->nonce, 16);
    s->count = 0;
    s->adlen = cursor_ad(user, what, s->ad);
}

void rest_sealer_seal(struct rest_sealer *s, const int64_t *v, size_t n, char out[REST_CURSOR_SZ])
{
    unsigned char raw[CUR_RAW_MAX];
    uint64_t c = ++s->count;
    for (int b = 0; b < 8; b++)
        s->nonce[16 + b] = (unsigned char)(c >> (8 * b));
    memcpy(raw, s->nonce, CUR_NONCE);
    seal_with(s->key, raw, s->ad, s->adlen, v, n, out);
}

void rest_sealer_release(struct rest_sealer *s)
{
    sodium_memzero(s->key, sizeof s->key);
}

bool rest_cursor_open_for(const struct app *a, int64_t user, const char *what, const char *text,
                          int64_t *v, size_t n)
{
    unsigned char key[32], raw[CUR_RAW_MAX], plain[8 * REST_CURSOR_VALS];
    char ad[96];
    size_t len = 0, adlen = cursor_ad(user, what, ad);
    unsigned long long plen = 0;
    if (n > REST_CURSOR_VALS || strlen(text) >= REST_CURSOR_SZ ||
        sodium_base642bin(raw, sizeof raw, text, strlen(text), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != CUR_NONCE + 8 * n + CUR_TAG)
        return false;
    cursor_key(a, key);
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        plain, &plen, NULL, raw + CUR_NONCE, len - CUR_NONCE, (const unsigned char *)ad, adlen,
        raw, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0 || plen != 8 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        for (int b = 0; b < 8; b++)
            x = x << 8 | plain[8 * i + (size_t)b];
        v[i] = (int64_t)x;
    }
    return true;
}

bool rest_report_filter(struct store_report_query *q, const char *key, const char *value,
                        const char **bad)
{
    if (strcmp(key, "bbox") == 0) {
        double v[4];
        const char *s = value;
        char *end;
        int n = 0;
        for (; n < 4; n++) {
            v[n] = strtod(s, &end);
            if (end == s || (n < 3 && *end != ',') || (n == 3 && *end))
                break;
            s = end + 1;
        }
        if (n != 4 || v[0] > v[2] || v[1] > v[3] || v[1] < -90 || v[3] > 90 || v[0] < -180 ||
            v[2] > 180)
            *bad = "bbox: expected min_lon,min_lat,max_lon,max_lat";
        q->has_bbox = true;
        q->min_lon = v[0], q->min_lat = v[1], q->max_lon = v[2], q->max_lat = v[3];
    } else if (strcmp(key, "since") == 0) {
        if (ts_parse(value, &q->since, NULL) != 0)
            *bad = "since: expected an RFC 3339 UTC timestamp";
    } else if (strcmp(key, "until") == 0) {
        if (ts_parse(value, &q->until, NULL) != 0)
            *bad = "until: expected an RFC 3339 UTC timestamp";
    } else if (strcmp(key, "event") == 0) {
        if (plover_event_parse(value) == PLOVER_NONE)
            *bad = "event: not a PLOVER event type";
        q->event = value;
    } else if (strcmp(key, "future") == 0) {
        q->future = strcmp(value, "true") == 0 ? 1 : strcmp(value, "false") == 0 ? 0 : -2;
        if (q->future == -2)
            *bad = "future: true or false";
    } else {
        return false;
    }
    return true;
}
