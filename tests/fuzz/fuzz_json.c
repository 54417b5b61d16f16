/* fuzz_json.c - libFuzzer harness for JSON input and output.
 *
 * Whatever vjson_parse accepts, vjson_dump must write as JSON that parses back to an equal
 * value (the number-preserving serialiser must never change a value).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v;
    char msg[JSON_MSG_SZ];
    if (vjson_parse((const char *)data, size, 32, &v, msg)) {
        if (!memchr(msg, '\0', sizeof msg) || !msg[0])
            abort();
        return 0;
    }
    char *text = vjson_dumps(v);
    json_t *back;
    if (vjson_parse(text, strlen(text), 32, &back, msg) || !json_equal(v, back))
        abort();
    json_decref(back);
    free(text);
    json_decref(v);
    return 0;
}
