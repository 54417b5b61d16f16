/* fuzz_report.c - libFuzzer harness for the event report resource and the STIX profile.
 *
 * The bytes are parsed as JSON the way the server parses a request body (vjson_parse, depth
 * limited), then read as the REST resource (report_from_json) and as a STIX object carrying
 * the Vigil extension (report_from_stix). A refusal must say why; an accepted report must pass
 * report_check(), serialise to JSON that reads back to the same serialisation, and become
 * valid STIX objects that read back.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/base,
 * src/stix and src/intel with jansson, libsodium and libm; run on a copy of
 * tests/fuzz/corpus/report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/err.h"
#include "intel/profile.h"
#include "stix/stix.h"

#define FUZZ_MAX_DEPTH 64

static void check_msg(int rc, const char msg[REPORT_MSG_SZ])
{
    if (rc != 0 && (memchr(msg, '\0', REPORT_MSG_SZ) == NULL || msg[0] == '\0'))
        abort();
}

static void exercise(const struct event_report *r)
{
    char msg[REPORT_MSG_SZ], smsg[STIX_MSG_SZ];
    if (report_check(r, msg) != 0)
        abort();
    json_t *j = report_to_json(r);
    struct event_report back;
    if (report_from_json(j, &back, msg) != 0)
        abort();
    json_t *j2 = report_to_json(&back);
    char *a = vjson_dumps(j), *b = vjson_dumps(j2);
    if (strcmp(a, b) != 0)
        abort();
    free(a);
    free(b);
    json_decref(j);
    json_decref(j2);
    report_release(&back);
    struct report_stix_ctx ctx = {1700000000000000, NULL, NULL, NULL};
    json_t *arr;
    if (report_to_stix(r, &ctx, &arr, msg) != 0)
        abort();
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        if (stix_validate(o, NULL, smsg) != 0)
            abort();
    }
    if (report_from_stix(json_array_get(arr, 0), &back, msg) != 0)
        abort();
    if (back.event != r->event || back.mode != r->mode || back.credibility != r->credibility)
        abort();
    report_release(&back);
    json_decref(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    char jmsg[JSON_MSG_SZ], msg[REPORT_MSG_SZ];
    struct event_report r;
    if (vjson_parse((const char *)data, size, FUZZ_MAX_DEPTH, &v, jmsg) != 0)
        return 0;
    int rc = report_from_json(v, &r, msg);
    check_msg(rc, msg);
    if (rc == 0) {
        exercise(&r);
        report_release(&r);
    } else if (r.event != PLOVER_NONE || r.actors || r.title) {
        abort(); /* a refused report is left empty */
    }
    rc = report_from_stix(v, &r, msg);
    if (rc != 0 && rc != VIGIL_ENOENT && rc != VIGIL_EINVAL)
        abort();
    check_msg(rc, msg);
    if (rc == 0) {
        exercise(&r);
        report_release(&r);
    }
    json_decref(v);
    return 0;
}
