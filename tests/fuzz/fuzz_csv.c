/* fuzz_csv.c - libFuzzer harness for the dataset importers (ACLED, UCDP, GDELT, MISP).
 *
 * The first byte picks the format (0 ACLED, 1 UCDP, 2 GDELT, 3 MISP); the rest is the file,
 * read through fmemopen by import_file() as the CLI reads a real one, so the CSV reader, the
 * header mapping and the row parsers all see it. Every report handed out must pass
 * report_check(), turn into valid STIX, and read back from that STIX; every refusal must carry
 * a NUL-terminated message and a line number within the input.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/base,
 * src/stix and src/intel with jansson, libsodium and libm; run on a copy of
 * tests/fuzz/corpus/csv.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/import.h"
#include "intel/profile.h"
#include "stix/stix.h"

struct fctx {
    size_t lines; /* newlines in the input + 1: no line number may exceed it */
};

static int on_report(void *ctx, const struct event_report *r, size_t line)
{
    struct fctx *c = ctx;
    char msg[REPORT_MSG_SZ], smsg[STIX_MSG_SZ];
    if (line == 0 || line > c->lines)
        abort();
    if (report_check(r, msg) != 0)
        abort();
    struct report_stix_ctx sc = {0, NULL, NULL, NULL};
    json_t *arr;
    if (report_to_stix(r, &sc, &arr, msg) != 0)
        abort();
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        if (stix_validate(o, NULL, smsg) != 0)
            abort();
    }
    struct event_report back;
    if (report_from_stix(json_array_get(arr, 0), &back, msg) != 0)
        abort();
    if (back.event != r->event || back.start != r->start || back.end != r->end ||
        back.fatalities != r->fatalities || back.n_actors != r->n_actors)
        abort();
    report_release(&back);
    json_decref(arr);
    return 0;
}

static int on_error(void *ctx, size_t line, int rc, const char *msg)
{
    struct fctx *c = ctx;
    if (rc >= 0 || !msg || msg[0] == '\0' || strlen(msg) >= IMPORT_MSG_SZ)
        abort();
    if (line == 0 || line > c->lines)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum import_format fmt = (enum import_format)(data[0] % 4);
    struct fctx c = {1};
    for (size_t i = 1; i < size; i++)
        c.lines += data[i] == '\n';
    if (fmt == IMPORT_MISP)
        c.lines = size + 1; /* MISP numbers events, not lines */
    FILE *f = fmemopen((void *)(data + 1), size - 1, "r");
    if (!f)
        return 0;
    struct import_handler h = {on_report, on_error, &c};
    struct import_stats st;
    int rc = import_file(fmt, f, &h, &st);
    if (rc > 0 || st.imported + st.rejected > st.records + 1)
        abort();
    fclose(f);
    return 0;
}
