/* fuzz_alert_id.c - libFuzzer harness for the alert ids a client sends in a path
 * (/api/v1/alerts/{id}: alerts_id_parse, src/service/alerts.c).
 *
 * The bytes are the text as the client sends it. Parsing must never crash; it accepts only
 * what uuid_valid accepts, 36 characters in lowercase, and its 64 bits are the text's first
 * 16 hex digits. An id the hub makes (a UUIDv5 of the bytes) must be accepted, with its own
 * first 64 bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/uuid.h"
#include "intel/profile.h"
#include "service/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first 64 bits of a lowercase UUID text, read another way than the parser does. */
static uint64_t first64(const char *s)
{
    char hex[17];
    size_t n = 0;
    for (size_t i = 0; n < 16; i++)
        if (s[i] != '-')
            hex[n++] = s[i];
    hex[16] = '\0';
    return strtoull(hex, NULL, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    uint64_t h = 0;
    if (alerts_id_parse(text, &h)) {
        if (strlen(text) != UUID_STRLEN || !uuid_valid(text, UUID_STRLEN) || h != first64(text))
            abort();
        for (const char *c = text; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                abort(); /* the ids given are lowercase: another case names nothing */
    }
    char id[UUID_STRLEN + 1];
    if (profile_uuid5(PROFILE_UUID_NS, text, size, id) ||
        !alerts_id_parse(id, &h) || h != first64(id))
        abort();
    free(text);
    return 0;
}
