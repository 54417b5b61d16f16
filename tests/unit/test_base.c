/* test_base.c - buffers, timestamps, ids, JSON and the config file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timestamp.h"
#include "base/uuid.h"

static void buf_cap_refuses_growth(void **state)
{
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_adds(&b, "12345"), 0);
    assert_int_equal(buf_adds(&b, "6789"), VIGIL_ETOOBIG);
    assert_string_equal(b.data, "12345"); /* unchanged on refusal */
    assert_int_equal(buf_addf(&b, "%d", 678), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(buf_addc(&b, 'x'), VIGIL_ETOOBIG);
    size_t len;
    char *p = buf_detach(&b, &len);
    assert_string_equal(p, "12345678");
    assert_int_equal(len, 8);
    free(p);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

static void ts_roundtrip_and_precision(void **state)
{
    vtime_t t;
    int digits;
    char out[TS_BUFSZ];
    assert_int_equal(ts_parse("1970-01-01T00:00:00Z", &t, &digits), 0);
    assert_int_equal(t, 0);
    assert_int_equal(digits, 0);
    assert_int_equal(ts_parse("2016-04-06T20:03:48.123Z", &t, &digits), 0);
    assert_int_equal(digits, 3);
    assert_string_equal(ts_format(t, 3, out), "2016-04-06T20:03:48.123Z");
    assert_int_equal(ts_parse("2016-04-06T20:03:48.123456789Z", &t, &digits), 0);
    assert_int_equal(digits, 9);
    assert_string_equal(ts_format(t, 6, out), "2016-04-06T20:03:48.123456Z");
    assert_int_equal(ts_parse("2024-02-29T23:59:59Z", &t, NULL), 0); /* leap day */
    assert_string_equal(ts_format(t, 0, out), "2024-02-29T23:59:59Z");
    assert_int_equal(ts_parse("0767-03-18T01:02:03Z", &t, NULL), 0); /* years below 1000 */
    assert_string_equal(ts_format(t, 0, out), "0767-03-18T01:02:03Z");
    assert_int_equal(ts_parse("1960-06-01T00:00:00.5Z", &t, NULL), 0);
    assert_string_equal(ts_format(t, 3, out), "1960-06-01T00:00:00.500Z");
}

/* ts_format computes the date itself: it must agree with gmtime_r over years 1 to 9999. */
static void ts_format_agrees_with_gmtime(void **state)
{
    const int64_t lo = -62135596800LL, hi = 253402300799LL; /* 0001-01-01 .. 9999-12-31 */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t secs = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
        int us = (int)((x >> 44) % 1000000);
        vtime_t t = secs * 1000000 + us;
        time_t tt = (time_t)secs;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char want[64], got[TS_BUFSZ];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
        assert_string_equal(ts_format(t, 6, got), want);
    }
}

static void ts_rejects_bad_forms(void **state)
{
    static const char *const bad[] = {
        "2016-04-06T20:03:48",       "2016-04-06 20:03:48Z",
        "2016-04-06T20:03:48+00:00", "2023-02-29T00:00:00Z",
        "2016-13-01T00:00:00Z",      "2016-04-06T24:00:00Z",
        "2016-04-06T20:03:48.Z",     "2016-04-06T20:03:48.1Zx",
        "16-04-06T20:03:48Z",        "",
    };
    vtime_t t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ts_parse(bad[i], &t, NULL), VIGIL_EINVAL);
}

static void uuid_generation_and_checks(void **state)
{
    char u[UUID_STRLEN + 1], v[UUID_STRLEN + 1];
    uuid_v4(u);
    uuid_v4(v);
    assert_true(uuid_valid(u, strlen(u)));
    assert_string_not_equal(u, v);
    assert_int_equal(u[14], '4');
    /* Drawn from a per-thread pool of random bytes, 32 at a time: across several refills,
     * every one valid and none repeated. */
    enum { N = 200 };
    static char many[N][UUID_STRLEN + 1];
    for (int i = 0; i < N; i++) {
        uuid_v4(many[i]);
        assert_true(uuid_valid(many[i], strlen(many[i])));
        for (int k = 0; k < i; k++)
            assert_string_not_equal(many[i], many[k]);
    }
    assert_true(uuid_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36));
    assert_false(uuid_valid("6ba7b810-9dad-01d1-80b4-00c04fd430c8", 36)); /* version 0 */
    assert_false(uuid_valid("6ba7b810-9dad-11d1-c0b4-00c04fd430c8", 36)); /* variant */
    assert_false(uuid_valid("6ba7b810x9dad-11d1-80b4-00c04fd430c8", 36));
    assert_false(uuid_valid("6ba7b810-9dad-11d1-80b4-00c04fd430c", 35));
}

static void json_keeps_numbers_and_order(void **state)
{
    const char *in = "{\"z\":31.51,\"a\":[1,2.5,1e+300,-0.1],\"s\":\"\\u00e9\\n\\\"\",\"n\":null,"
                     "\"t\":true,\"i\":9007199254740993,\"r\":3.0}";
    json_t *v;
    char msg[JSON_MSG_SZ];
    assert_int_equal(vjson_parse(in, strlen(in), 16, &v, msg), 0);
    char *out = vjson_dumps(v);
    assert_string_equal(out, "{\"z\":31.51,\"a\":[1,2.5,1e+300,-0.1],\"s\":\"\xc3\xa9\\n\\\"\","
                             "\"n\":null,\"t\":true,\"i\":9007199254740993,\"r\":3.0}");
    free(out);
    json_decref(v);
}

/* The string writer (8 bytes at a time where nothing needs escaping) against the plain byte
 * loop it replaced, for every byte value at every offset of strings around the word size; and
 * reals written again (from memory) as the first time. */
static void json_strings_and_reals_as_before(void **state)
{
    (void)state;
    static const char hex[] = "0123456789abcdef";
    char s[40];
    struct buf got, want;
    buf_init(&got, BUF_NOCAP);
    buf_init(&want, BUF_NOCAP);
    for (size_t len = 0; len <= 20; len++)
        for (size_t at = 0; at < (len ? len : 1); at++)
            for (int c = 1; c < 256; c++) {
                memset(s, 'a', len);
                if (len)
                    s[at] = (char)c;
                buf_reset(&got);
                buf_reset(&want);
                assert_int_equal(vjson_add_strn(&got, s, len), 0);
                buf_addc(&want, '"');
                for (size_t i = 0; i < len; i++) {
                    unsigned char u = (unsigned char)s[i];
                    if (u == '"' || u == '\\') {
                        buf_addc(&want, '\\');
                        buf_addc(&want, (char)u);
                    } else if (u == '\n') {
                        buf_adds(&want, "\\n");
                    } else if (u == '\r') {
                        buf_adds(&want, "\\r");
                    } else if (u == '\t') {
                        buf_adds(&want, "\\t");
                    } else if (u == '\b') {
                        buf_adds(&want, "\\b");
                    } else if (u == '\f') {
                        buf_adds(&want, "\\f");
                    } else if (u < 0x20) {
                        char e[7] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15], 0};
                        buf_adds(&want, e);
                    } else {
                        buf_addc(&want, (char)u);
                    }
                }
                buf_addc(&want, '"');
                assert_string_equal(got.data, want.data);
            }
    static const double reals[] = {31.51, -0.0, 0.0, 3.0, 1e-7, 0.1 + 0.2, -179.99999999999, 1e300};
    static const char *const texts[] = {"31.51", "-0.0", "0.0", "3.0", "1e-07",
                                        "0.30000000000000004", "-179.99999999999", "1e+300"};
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
            buf_reset(&got);
            assert_int_equal(vjson_add_real(&got, reals[i]), 0);
            assert_string_equal(got.data, texts[i]);
        }
    buf_release(&got);
    buf_release(&want);
}

static void json_refuses_bad_input(void **state)
{
    json_t *v;
    char msg[JSON_MSG_SZ];
    const char dup[] = "{\"a\":1,\"a\":2}";
    assert_int_equal(vjson_parse(dup, strlen(dup), 16, &v, msg), VIGIL_EINVAL);
    assert_null(v);
    const char utf8[] = "{\"a\":\"\xff\"}";
    assert_int_equal(vjson_parse(utf8, strlen(utf8), 16, &v, msg), VIGIL_EINVAL);
    const char trailing[] = "{} x";
    assert_int_equal(vjson_parse(trailing, strlen(trailing), 16, &v, msg), VIGIL_EINVAL);
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(vjson_parse(deep, 200, 64, &v, msg), VIGIL_EINVAL);
    assert_non_null(strstr(msg, "deeper than 64"));
    assert_int_equal(vjson_parse(deep + 40, 120, 64, &v, msg), 0); /* 60 deep is fine */
    json_decref(v);
    const char str[] = "[\"[[[[[\"]"; /* brackets inside strings do not count */
    assert_int_equal(vjson_parse(str, strlen(str), 2, &v, msg), 0);
    json_decref(v);
}

static void config_defaults_load_and_errors(void **state)
{
    struct config c;
    char msg[CONFIG_MSG_SZ];
    config_init(&c);
    assert_int_equal(c.page_max, 1000);
    assert_string_equal(c.listen, "127.0.0.1:8443");

    char path[] = "/tmp/vigil-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    struct buf b;
    buf_init(&b, BUF_NOCAP);
    assert_int_equal(config_write_defaults(&b), 0);
    buf_adds(&b, "page_max = 50\n  listen=127.0.0.1:9999  \n");
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    buf_release(&b);
    assert_int_equal(config_load(&c, path, msg), 0);
    assert_int_equal(c.page_max, 50);
    assert_string_equal(c.listen, "127.0.0.1:9999");

    FILE *f = fopen(path, "w");
    fputs("# comment\n\nthreads = 4\npage_mx = 3\n", f);
    fclose(f);
    assert_int_equal(config_load(&c, path, msg), VIGIL_EINVAL);
    assert_non_null(strstr(msg, ":4: unknown key \"page_mx\""));
    assert_int_equal(config_set(&c, "threads", "0", msg), VIGIL_EINVAL);
    assert_int_equal(config_set(&c, "threads", "12x", msg), VIGIL_EINVAL);
    assert_int_equal(config_set(&c, "log_level", "loud", msg), VIGIL_EINVAL);
    assert_int_equal(c.threads, 4);
    assert_false(c.webhook_allow_private); /* the default: public addresses only */
    assert_int_equal(config_set(&c, "webhook_allow_private", "yes", msg), VIGIL_EINVAL);
    assert_false(c.webhook_allow_private);
    assert_int_equal(config_set(&c, "webhook_allow_private", "true", msg), 0);
    assert_true(c.webhook_allow_private);
    unlink(path);
    assert_int_equal(config_load(&c, path, msg), VIGIL_EIO);
    config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_cap_refuses_growth),
        cmocka_unit_test(ts_roundtrip_and_precision),
        cmocka_unit_test(ts_format_agrees_with_gmtime),
        cmocka_unit_test(ts_rejects_bad_forms),
        cmocka_unit_test(uuid_generation_and_checks),
        cmocka_unit_test(json_keeps_numbers_and_order),
        cmocka_unit_test(json_strings_and_reals_as_before),
        cmocka_unit_test(json_refuses_bad_input),
        cmocka_unit_test(config_defaults_load_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
