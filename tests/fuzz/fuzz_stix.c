/* fuzz_stix.c - libFuzzer harness for STIX validation.
 *
 * The bytes are parsed as JSON the way the server parses a request body (vjson_parse, depth
 * limited), then validated as one object; when the value looks like a bundle its envelope is
 * checked and each member validated. Every message must be NUL-terminated inside its buffer,
 * and a successful validation must report what it was given back.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/base and
 * src/stix with jansson, libsodium and libm; run on a copy of tests/fuzz/corpus/stix.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "stix/stix.h"

#define FUZZ_MAX_DEPTH 64

static void check_msg(int rc, const char msg[STIX_MSG_SZ])
{
    if (rc != 0 && memchr(msg, '\0', STIX_MSG_SZ) == NULL)
        abort();
    if (rc != 0 && msg[0] == '\0')
        abort(); /* every refusal says why */
}

static void validate_one(const json_t *v)
{
    struct stix_common c;
    char msg[STIX_MSG_SZ];
    int rc = stix_validate(v, &c, msg);
    check_msg(rc, msg);
    if (rc == 0) {
        /* what was accepted is an object whose type and id are what out says */
        if (!json_is_object(v) || !c.type || !c.id || !c.spec_version)
            abort();
        if (strcmp(json_string_value(json_object_get(v, "type")), c.type) != 0)
            abort();
        if (!stix_id_valid(c.id) || stix_kind_of(c.type) != c.kind)
            abort();
        if (c.has_created && c.has_modified && c.modified < c.created)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    char jmsg[JSON_MSG_SZ];
    if (vjson_parse((const char *)data, size, FUZZ_MAX_DEPTH, &v, jmsg) != 0)
        return 0;
    validate_one(v);
    const json_t *objs = json_is_object(v) ? json_object_get(v, "objects") : NULL;
    if (json_is_array(objs)) {
        char msg[STIX_MSG_SZ];
        check_msg(stix_bundle_check(v, msg), msg);
        size_t i;
        const json_t *o;
        json_array_foreach(objs, i, o) {
            validate_one(o);
        }
    }
    json_decref(v);
    return 0;
}
