/* fuzz_taxii_query.c - libFuzzer harness for a TAXII request's query: its parameters
 * (filters and paging, 3.4) and the sealed cursors of `next` (src/server/taxii_query.c).
 *
 * The bytes are a query string after percent-decoding (what the HTTP layer hands over):
 * parameters separated by '&', a key and its value by the first '='. Every endpoint's set of
 * parameters is allowed. A refusal must carry a message; an accepted query must hold what the
 * parser promises (bounded lists of non-empty values, STIX ids in match[id], a positive
 * limit). Any `next` it gives is opened (a forgery must fail, never crash). Then a cursor made
 * for these filters must open to what it says, and neither a cursor with a character changed
 * nor the same cursor for another scope may open.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/taxii_query.h"
#include "stix/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[TAXII_KEY_LEN] = "vigil fuzz cursor key 0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *q = malloc(size + 1);
    memcpy(q, data, size);
    q[size] = '\0';
    struct taxii_filters f;
    taxii_filters_init(&f, 0x7f, key, "objects/coll/user");
    for (char *p = q, *amp; p; p = amp ? amp + 1 : NULL) {
        amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        taxii_filters_param(&f, p, eq ? eq + 1 : NULL);
    }
    if (f.bad) {
        if (!memchr(f.badbuf, '\0', sizeof f.badbuf) || !f.bad[0])
            abort();
    } else {
        if (f.nids > TAXII_MATCH_MAX || f.ntypes > TAXII_MATCH_MAX || f.nspecs > TAXII_MATCH_MAX ||
            f.nversions > TAXII_MATCH_MAX)
            abort();
        for (size_t i = 0; i < f.nids; i++)
            if (!stix_id_valid(f.ids[i]))
                abort();
        for (size_t i = 0; i < f.ntypes; i++)
            if (!f.types[i][0])
                abort();
        if ((f.seen & TAXII_F_LIMIT) && f.limit < 1)
            abort();
        taxii_cursor_open(&f); /* whatever next says: opened or refused */
    }

    int64_t after = f.added_after ^ (int64_t)size;
    char cur[TAXII_CURSOR_SZ];
    taxii_cursor_make(&f, after, cur);
    f.next = cur;
    f.cursor = 0;
    if (!taxii_cursor_open(&f) || f.cursor != after)
        abort();
    struct taxii_filters other = f;
    memcpy(other.scope, "objects/coll/else", sizeof "objects/coll/else");
    if (taxii_cursor_open(&other))
        abort(); /* sealed for another scope */
    cur[0] = cur[0] == 'A' ? 'B' : 'A';
    f.cursor = 0;
    if (taxii_cursor_open(&f))
        abort(); /* altered */
    taxii_filters_release(&f);
    free(q);
    return 0;
}
