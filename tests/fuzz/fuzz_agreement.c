/* fuzz_agreement.c - libFuzzer harness for the ceasefire agreement file parser (S8).
 *
 * The bytes are an agreement file. A refusal must say why and leave the struct empty; an
 * accepted agreement must hold what the format promises (ids, zones with geometries and
 * non-empty time windows, distances for lines and points), produce STIX objects that
 * stix_validate() accepts, and survive the candidate test on probe reports.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/base,
 * src/stix, src/intel and src/compliance/agreement.c with jansson, libsodium and libm; run on a
 * copy of tests/fuzz/corpus/agreement.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/agreement.h"
#include "stix/stix.h"

static void probe(const struct cmp_agreement *a, double lat, double lon, vtime_t t)
{
    struct event_report r;
    report_init(&r);
    r.event = PLOVER_ASSAULT;
    r.start = r.end = t;
    r.has_point = true;
    r.lat = lat;
    r.lon = lon;
    for (size_t i = 0; i < a->nparties && i < 4; i++)
        report_add_name(&r, false, a->parties[i].name);
    if (cmp_agreement_match(a, &r, NULL, NULL) < 0)
        abort();
    report_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmp_agreement a;
    char msg[CMP_MSG_SZ];
    int rc = cmp_agreement_parse_text((const char *)data, size, &a, NULL, msg);
    if (rc) {
        if (rc > 0 || !memchr(msg, '\0', sizeof msg) || !msg[0] || a.zones || a.parties)
            abort();
        return 0;
    }
    if (!a.id || !a.name || !a.nparties || !a.nzones || a.effective >= a.ends)
        abort();
    for (size_t i = 0; i < a.nzones; i++) {
        const struct cmp_zone *z = &a.zones[i];
        bool areal = z->geom.type == GEO_POLYGON || z->geom.type == GEO_MULTIPOLYGON;
        if (!z->id || !z->name || !z->nterms || (!areal && !(z->distance_m > 0)))
            abort();
        for (size_t j = 0; j < z->nterms; j++)
            if (z->terms[j].from >= z->terms[j].until || z->terms[j].party >= (long)a.nparties ||
                z->terms[j].party < -1)
                abort();
        probe(&a, (z->geom.bbox.min_lat + z->geom.bbox.max_lat) / 2,
              (z->geom.bbox.min_lon + z->geom.bbox.max_lon) / 2, a.effective);
    }
    probe(&a, 31.5, 34.45, a.effective + 1);
    json_t *objs = cmp_agreement_to_stix(&a, 1700000000000000, NULL, NULL);
    for (size_t i = 0; i < json_array_size(objs); i++) {
        char smsg[STIX_MSG_SZ];
        if (stix_validate(json_array_get(objs, i), NULL, smsg))
            abort();
    }
    json_decref(objs);
    cmp_agreement_release(&a);
    return 0;
}
