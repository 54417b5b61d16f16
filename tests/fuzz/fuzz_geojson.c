/* fuzz_geojson.c - libFuzzer harness for the GeoJSON geometry parser and the geometry tests.
 *
 * The bytes are parsed as JSON (vjson_parse, depth limited) and then as a geometry. A refusal
 * must say why; an accepted geometry must have the shape it claims (rings closed and of at
 * least 4 positions, coordinates in range, a bounding box holding every vertex) and survive
 * containment and distance queries at its vertices and at fixed points.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined, linking the sources of src/base and
 * src/intel with jansson, libsodium and libm; run on a copy of tests/fuzz/corpus/geojson.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "intel/geo.h"

#define FUZZ_MAX_DEPTH 64

static void check_line(const struct geo_geometry *g, const struct geo_line *l, bool ring)
{
    if (l->n < (ring ? 4u : 2u))
        abort();
    if (ring && (l->pts[0].lat != l->pts[l->n - 1].lat || l->pts[0].lon != l->pts[l->n - 1].lon))
        abort();
    for (size_t i = 0; i < l->n; i++) {
        struct geo_point p = l->pts[i];
        if (!(p.lat >= -90 && p.lat <= 90 && p.lon >= -180 && p.lon <= 180))
            abort();
        if (!geo_bbox_contains(&g->bbox, p))
            abort();
        if (!(geo_distance_to_geometry_m(g, p) < 1.0)) /* a vertex is on the geometry */
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL;
    char jmsg[JSON_MSG_SZ], msg[GEO_MSG_SZ];
    struct geo_geometry g;
    if (vjson_parse((const char *)data, size, FUZZ_MAX_DEPTH, &v, jmsg) != 0)
        return 0;
    int rc = geo_parse(v, &g, msg);
    if (rc != 0) {
        if (rc > 0 || memchr(msg, '\0', GEO_MSG_SZ) == NULL || msg[0] == '\0')
            abort();
        if (g.n_lines || g.n_polys || g.lines || g.polys)
            abort();
    } else {
        for (size_t i = 0; i < g.n_lines; i++)
            check_line(&g, &g.lines[i], false);
        for (size_t i = 0; i < g.n_polys; i++) {
            if (g.polys[i].n_rings == 0)
                abort();
            for (size_t r = 0; r < g.polys[i].n_rings; r++)
                check_line(&g, &g.polys[i].rings[r], true);
            /* a polygon contains its own outer vertices (closed set) */
            if (!geo_contains(&g, g.polys[i].rings[0].pts[0]))
                abort();
        }
        static const struct geo_point probe[] = {{0, 0}, {31.5, 34.4}, {-89.9, 179.9}};
        for (size_t i = 0; i < 3; i++) {
            double d = geo_distance_to_geometry_m(&g, probe[i]);
            if (!(d >= 0) || d > M_PI * GEO_EARTH_R_M + 1)
                abort();
            if (geo_contains(&g, probe[i]) && d != 0)
                abort();
        }
        geo_release(&g);
    }
    json_decref(v);
    return 0;
}
