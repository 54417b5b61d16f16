/* fuzz_cursor.c - libFuzzer harness for the sealed positions a client sends back: the live
 * stream's Last-Event-ID (and ?since=) and the REST API's paging cursors
 * (rest_cursor_open_for, src/server/rest.c).
 *
 * The bytes are the text as the client sends it. Opening it must never crash, and must fail
 * (nobody but the hub holds the key). Then the first bytes, taken as a position, are sealed
 * for a user (one at a time, and by a stream's rest_sealer): the id must open to that position
 * for that user and endpoint only, and must not open with a character changed, cut short or
 * lengthened.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/rest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Only cursor_key is read. Nothing is ever sealed under the key of `hub`, so nothing
     * may open under it; the ids sealed below are under a's (libFuzzer sees them compared,
     * and would hand them back as input). */
    static struct app hub, a;
    memcpy(hub.cursor_key, "vigil fuzz: the hub's own key 01", APP_KEY_LEN);
    memcpy(a.cursor_key, "vigil fuzz cursor key 0123456789", APP_KEY_LEN);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t v[REST_CURSOR_VALS] = {0};
    if (rest_cursor_open_for(&hub, 7, "stream", text, v, 1) ||
        rest_cursor_open_for(&hub, 7, "reports", text, v, 2))
        abort(); /* a forgery opened */

    int64_t pos = 0;
    memcpy(&pos, data, size < sizeof pos ? size : sizeof pos);
    char id[REST_CURSOR_SZ];
    rest_cursor_seal_for(&a, 7, "stream", &pos, 1, id);
    int64_t got = -1;
    if (!rest_cursor_open_for(&a, 7, "stream", id, &got, 1) || got != pos)
        abort();
    if (rest_cursor_open_for(&a, 8, "stream", id, &got, 1) ||
        rest_cursor_open_for(&a, 7, "reports", id, &got, 1) ||
        rest_cursor_open_for(&a, 7, "stream", id, v, 2))
        abort();               /* another user, endpoint or shape */
    struct rest_sealer sealer; /* the live stream's way: one key, counted nonces */
    rest_sealer_init(&sealer, &a, 7, "stream");
    char id2[REST_CURSOR_SZ];
    rest_sealer_seal(&sealer, &pos, 1, id2);
    rest_sealer_seal(&sealer, &pos, 1, id);
    rest_sealer_release(&sealer);
    if (strcmp(id, id2) == 0 || !rest_cursor_open_for(&a, 7, "stream", id2, &got, 1) ||
        got != pos || !rest_cursor_open_for(&a, 7, "stream", id, &got, 1) || got != pos ||
        rest_cursor_open_for(&a, 8, "stream", id, &got, 1))
        abort(); /* the same position twice: two ids, both open, for that user only */
    size_t n = strlen(id), at = size ? data[size - 1] % n : 0;
    char changed[REST_CURSOR_SZ + 2];
    memcpy(changed, id, n + 1);
    changed[at] = changed[at] == 'A' ? 'B' : 'A';
    if (rest_cursor_open_for(&a, 7, "stream", changed, &got, 1))
        abort();
    changed[at] = id[at];
    changed[n - 1] = '\0';
    if (rest_cursor_open_for(&a, 7, "stream", changed, &got, 1))
        abort();
    memcpy(changed, id, n);
    changed[n] = 'A';
    changed[n + 1] = '\0';
    if (rest_cursor_open_for(&a, 7, "stream", changed, &got, 1))
        abort();
    free(text);
    return 0;
}
