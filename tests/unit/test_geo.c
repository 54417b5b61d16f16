/* test_geo.c - distances, containment (boundaries, holes, multipolygons), bounding boxes, the
 * GeoJSON parser's validation, and the Gaza governorates of data/geo (geoBoundaries). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "intel/geo.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    if (!v)
        fail_msg("test vector is not JSON (%s): %s", err.text, text);
    return v;
}

static int parse_text(const char *text, struct geo_geometry *g, char msg[GEO_MSG_SZ])
{
    json_t *v = load(text);
    int rc = geo_parse(v, g, msg);
    json_decref(v);
    return rc;
}

static struct geo_point P(double lat, double lon)
{
    struct geo_point p = {lat, lon};
    return p;
}

static void test_haversine(void **state)
{
    (void)state;
    /* reference values from the same formula in Python (R = 6371008.8 m) */
    assert_true(fabs(geo_distance_m(P(31.52, 34.45), P(31.28, 34.25)) - 32749.14) < 0.5);
    assert_true(fabs(geo_distance_m(P(51.5074, -0.1278), P(48.8566, 2.3522)) - 343556.53) < 1);
    /* one degree of latitude, zero, symmetry, antipodes */
    assert_true(fabs(geo_distance_m(P(0, 0), P(1, 0)) - GEO_EARTH_R_M * M_PI / 180) < 1e-6);
    assert_true(geo_distance_m(P(31.5, 34.4), P(31.5, 34.4)) == 0.0);
    assert_true(geo_distance_m(P(10, 20), P(-30, 40)) == geo_distance_m(P(-30, 40), P(10, 20)));
    assert_true(fabs(geo_distance_m(P(0, 0), P(0, 180)) - GEO_EARTH_R_M * M_PI) < 1e-3);
    assert_true(fabs(geo_distance_m(P(90, 0), P(-90, 0)) - GEO_EARTH_R_M * M_PI) < 1e-3);
    /* a millimetre-scale separation does not vanish in rounding */
    double d = geo_distance_m(P(31.5, 34.4), P(31.5 + 1e-8, 34.4));
    assert_true(d > 0.0010 && d < 0.0012);
}

#define SQUARE_WITH_HOLE                                                                   \
    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]],"          \
    "[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"

static void test_polygon_hole_and_boundary(void **state)
{
    (void)state;
    struct geo_geometry g;
    char msg[GEO_MSG_SZ];
    assert_int_equal(parse_text(SQUARE_WITH_HOLE, &g, msg), 0);
    assert_int_equal(g.type, GEO_POLYGON);
    assert_int_equal(g.polys[0].n_rings, 2);
    /* points are (lat, lon); the square spans lon 0..10, lat 0..10 */
    assert_true(geo_contains(&g, P(2, 2)));
    assert_true(geo_contains(&g, P(8, 5)));
    assert_false(geo_contains(&g, P(5, 5)));         /* in the hole */
    assert_false(geo_contains(&g, P(4.5, 5.5)));     /* in the hole */
    assert_true(geo_contains(&g, P(5, 4)));          /* on the hole's edge: closed set */
    assert_true(geo_contains(&g, P(6, 6)));          /* on a hole vertex */
    assert_true(geo_contains(&g, P(5, 0)));          /* on the outer edge */
    assert_true(geo_contains(&g, P(10, 10)));        /* on an outer vertex */
    assert_true(geo_contains(&g, P(0, 0)));          /* on the first vertex */
    assert_true(geo_contains(&g, P(10 + 1e-10, 5))); /* within GEO_EDGE_EPS */
    assert_false(geo_contains(&g, P(10 + 1e-7, 5))); /* just outside */
    assert_false(geo_contains(&g, P(5, -0.001)));
    assert_false(geo_contains(&g, P(11, 5)));
    assert_false(geo_contains(&g, P(-1, -1)));
    /* distance: 0 inside, to the nearest edge outside and in the hole */
    assert_true(geo_distance_to_geometry_m(&g, P(2, 2)) == 0.0);
    double in_hole = geo_distance_to_geometry_m(&g, P(5, 5));
    assert_true(fabs(in_hole - geo_distance_m(P(5, 5), P(5, 6))) < 0.01 * in_hole);
    geo_release(&g);
}

static void test_concave_and_vertex_rays(void **state)
{
    (void)state;
    struct geo_geometry g;
    char msg[GEO_MSG_SZ];
    /* a U shape: the ray from points level with the inner vertices passes through vertices */
    assert_int_equal(parse_text("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[3,0],[3,3],"
                                "[2,3],[2,1],[1,1],[1,3],[0,3],[0,0]]]}", &g, msg), 0);
    assert_true(geo_contains(&g, P(2, 0.5)));   /* left arm */
    assert_true(geo_contains(&g, P(2, 2.5)));   /* right arm */
    assert_false(geo_contains(&g, P(2, 1.5)));  /* in the notch */
    assert_true(geo_contains(&g, P(1, 1.5)));   /* on the notch's bottom edge */
    assert_true(geo_contains(&g, P(1, 0.5)));   /* level with the bottom vertices, inside */
    assert_false(geo_contains(&g, P(3, 1.5)));  /* the open top of the notch: the ray runs
                                                   through two vertices at the same latitude */
    assert_true(geo_contains(&g, P(3, 0.5)));   /* on the top edge of the left arm */
    assert_false(geo_contains(&g, P(2, -0.5))); /* left of everything: four crossings */
    assert_false(geo_contains(&g, P(1, -0.5))); /* level with two vertices, outside */
    assert_true(geo_contains(&g, P(0.5, 1.5))); /* below the notch */
    assert_true(geo_contains(&g, P(3, 1.5)) == false);
    geo_release(&g);
}

static void test_multipolygon(void **state)
{
    (void)state;
    struct geo_geometry g;
    char msg[GEO_MSG_SZ];
    assert_int_equal(parse_text("{\"type\":\"MultiPolygon\",\"coordinates\":["
                                "[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"
                                "[[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}", &g, msg), 0);
    assert_int_equal(g.type, GEO_MULTIPOLYGON);
    assert_int_equal(g.n_polys, 2);
    assert_true(geo_contains(&g, P(0.5, 0.5)));
    assert_true(geo_contains(&g, P(5.5, 5.5)));
    assert_false(geo_contains(&g, P(3, 3)));
    assert_true(g.bbox.min_lat == 0 && g.bbox.max_lat == 6 && g.bbox.max_lon == 6);
    geo_release(&g);
    /* lines and points contain nothing */
    assert_int_equal(parse_text("{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}", &g,
                                msg), 0);
    assert_false(geo_contains(&g, P(0.5, 0.5)));
    geo_release(&g);
}

static void test_polyline_distance(void **state)
{
    (void)state;
    /* a line along latitude 31.5 from lon 34.3 to 34.5 */
    struct geo_point line[] = {{31.5, 34.3}, {31.5, 34.5}};
    double d = geo_distance_to_polyline_m(P(31.51, 34.4), line, 2);
    assert_true(fabs(d - geo_distance_m(P(31.51, 34.4), P(31.5, 34.4))) < 1.0);
    /* beyond the end the nearest point is the end vertex */
    d = geo_distance_to_polyline_m(P(31.5, 34.6), line, 2);
    assert_true(fabs(d - geo_distance_m(P(31.5, 34.6), P(31.5, 34.5))) < 1e-6);
    /* a point on the line */
    assert_true(geo_distance_to_polyline_m(P(31.5, 34.35), line, 2) < 0.01);
    /* one vertex: plain distance */
    assert_true(geo_distance_to_polyline_m(P(31.6, 34.3), line, 1) ==
                geo_distance_m(P(31.6, 34.3), line[0]));
}

/* The documented accuracy: within 0.1% + 1 m of the true distance (found by sampling the
 * segment densely on the sphere) for points within 100 km, |lat| < 70. */
/* A small deterministic generator: uniform in [0, 1). */
static double rnd(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) / (double)(1u << 24);
}

static void test_polyline_accuracy(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    double worst = 0;
    for (int k = 0; k < 300; k++) {
        double lat0 = -69 + 138 * rnd(&seed);
        double lon0 = -170 + 340 * rnd(&seed);
        double dlat = (rnd(&seed) - 0.5) * 0.8;
        double dlon = (rnd(&seed) - 0.5) * 0.8;
        struct geo_point seg[2] = {{lat0, lon0}, {lat0 + dlat, lon0 + dlon}};
        if (fabs(seg[1].lat) >= 70)
            continue;
        double plat = (rnd(&seed) - 0.5) * 1.2;
        double plon = (rnd(&seed) - 0.5) * 1.2;
        struct geo_point p = {lat0 + plat, lon0 + plon};
        double truth = INFINITY;
        for (int i = 0; i <= 20000; i++) {
            double t = i / 20000.0;
            struct geo_point q = {seg[0].lat + t * (seg[1].lat - seg[0].lat),
                                  seg[0].lon + t * (seg[1].lon - seg[0].lon)};
            double dd = geo_distance_m(p, q);
            if (dd < truth)
                truth = dd;
        }
        if (truth > 100000)
            continue;
        double got = geo_distance_to_polyline_m(p, seg, 2);
        double err = fabs(got - truth) - 1.0;
        if (err / truth > worst)
            worst = err / truth;
        if (err > 0.001 * truth)
            fail_msg("p=(%f,%f) truth=%f got=%f", p.lat, p.lon, truth, got);
    }
    print_message("polyline distance: worst relative error beyond 1 m %.6f\n", worst);
}

static void test_bbox(void **state)
{
    (void)state;
    struct geo_bbox b = geo_bbox_around(P(31.5, 34.4), 5000);
    /* every point 5 km away in any direction is inside the box */
    for (int deg = 0; deg < 360; deg += 15) {
        double a = deg * M_PI / 180, r = 5000.0 / GEO_EARTH_R_M * 180 / M_PI;
        struct geo_point q = {31.5 + r * cos(a), 34.4 + r * sin(a) / cos(31.5 * M_PI / 180)};
        assert_true(geo_distance_m(P(31.5, 34.4), q) > 4990);
        assert_true(geo_bbox_contains(&b, q));
    }
    assert_false(geo_bbox_contains(&b, P(31.6, 34.4)));
    struct geo_bbox polar = geo_bbox_around(P(89.99, 0), 5000);
    assert_true(polar.min_lon == -180 && polar.max_lon == 180 && polar.max_lat == 90);
    struct geo_bbox e, f;
    geo_bbox_empty(&e);
    assert_false(geo_bbox_contains(&e, P(0, 0)));
    geo_bbox_add(&e, P(0, 0));
    geo_bbox_add(&e, P(1, 2));
    geo_bbox_empty(&f);
    geo_bbox_add(&f, P(1, 2));
    geo_bbox_add(&f, P(3, 3));
    assert_true(geo_bbox_intersects(&e, &f)); /* they share a corner */
    geo_bbox_empty(&f);
    geo_bbox_add(&f, P(1.5, 2.5));
    assert_false(geo_bbox_intersects(&e, &f));
}

static void expect_error(const char *text, int rc, const char *needle)
{
    struct geo_geometry g;
    char msg[GEO_MSG_SZ];
    int got = parse_text(text, &g, msg);
    if (got != rc || !strstr(msg, needle))
        fail_msg("%s: rc %d msg \"%s\", expected %d with \"%s\"", text, got, msg, rc, needle);
    assert_int_equal(g.n_polys + g.n_lines, 0); /* nothing left behind */
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("[1,2]", VIGIL_EINVAL, "must be a JSON object");
    expect_error("{\"coordinates\":[1,2]}", VIGIL_EINVAL, "type: required");
    expect_error("{\"type\":\"GeometryCollection\",\"geometries\":[]}", VIGIL_EINVAL,
                 "not a supported geometry");
    expect_error("{\"type\":\"Point\"}", VIGIL_EINVAL, "coordinates: required");
    expect_error("{\"type\":\"Point\",\"coordinates\":[1]}", VIGIL_EINVAL, "[lon, lat]");
    expect_error("{\"type\":\"Point\",\"coordinates\":[1,2,3,4]}", VIGIL_EINVAL, "[lon, lat]");
    expect_error("{\"type\":\"Point\",\"coordinates\":[1,\"2\"]}", VIGIL_EINVAL,
                 "coordinates[1]: must be a number");
    expect_error("{\"type\":\"Point\",\"coordinates\":[181,2]}", VIGIL_EINVAL,
                 "longitude 181 out of range");
    expect_error("{\"type\":\"Point\",\"coordinates\":[1,-90.5]}", VIGIL_EINVAL,
                 "latitude -90.5 out of range");
    expect_error("{\"type\":\"LineString\",\"coordinates\":[[0,0]]}", VIGIL_EINVAL,
                 "at least 2 positions");
    expect_error("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", VIGIL_EINVAL,
                 "coordinates[0]: a linear ring needs at least 4 positions, has 3");
    expect_error("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}",
                 VIGIL_EINVAL, "coordinates[0]: ring is not closed");
    expect_error("{\"type\":\"Polygon\",\"coordinates\":[]}", VIGIL_EINVAL,
                 "non-empty array of rings");
    expect_error("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]],"
                 "[[0.1,0.1],[0.2,0.1],[0.2,95],[0.1,0.1]]]}", VIGIL_EINVAL,
                 "coordinates[1][2]: latitude 95 out of range");
    expect_error("{\"type\":\"MultiPolygon\",\"coordinates\":[]}", VIGIL_EINVAL,
                 "non-empty array");
    expect_error("{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]],[[0,0]]]}",
                 VIGIL_EINVAL, "coordinates[1]: a line needs at least 2 positions");
    expect_error("{\"type\":\"Feature\",\"properties\":{}}", VIGIL_EINVAL,
                 "Feature must have a geometry");
    expect_error("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Feature\",\"geometry\":"
                 "{\"type\":\"Point\",\"coordinates\":[0,0]}}}", VIGIL_EINVAL,
                 "not a supported geometry");
}

static void test_parse_ok(void **state)
{
    (void)state;
    struct geo_geometry g;
    char msg[GEO_MSG_SZ];
    assert_int_equal(parse_text("{\"type\":\"Point\",\"coordinates\":[34.46,31.51,12.5]}", &g,
                                msg), 0);
    assert_int_equal(g.type, GEO_POINT);
    assert_true(g.point.lat == 31.51 && g.point.lon == 34.46); /* GeoJSON order is lon, lat */
    assert_true(geo_distance_to_geometry_m(&g, P(31.51, 34.46)) == 0);
    geo_release(&g);
    assert_int_equal(parse_text("{\"type\":\"Feature\",\"properties\":{\"name\":\"x\"},"
                                "\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":"
                                "[[[34.3,31.5],[34.5,31.5]],[[34.3,31.6],[34.5,31.6]]]}}",
                                &g, msg), 0);
    assert_int_equal(g.type, GEO_MULTILINESTRING);
    assert_int_equal(g.n_lines, 2);
    assert_string_equal(geo_type_name(g.type), "MultiLineString");
    double d = geo_distance_to_geometry_m(&g, P(31.59, 34.4));
    assert_true(fabs(d - geo_distance_m(P(31.59, 34.4), P(31.6, 34.4))) < 1.0);
    geo_release(&g);
    geo_release(&g); /* releasing twice is harmless */
}

/* ---- the Gaza governorates (geoBoundaries PSE ADM2, CC BY 4.0) -------------------------- */

struct gov {
    char name[64];
    struct geo_geometry g;
};

static int load_govs(struct gov govs[8], size_t *n)
{
    const char *dir = getenv("VIGIL_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/../../data/geo/gaza_governorates.geojson",
             dir ? dir : "tests/data");
    json_error_t err;
    json_t *fc = json_load_file(path, 0, &err);
    if (!fc)
        fail_msg("cannot read %s: %s", path, err.text);
    json_t *feats = json_object_get(fc, "features");
    size_t i;
    json_t *f;
    *n = 0;
    json_array_foreach(feats, i, f) {
        char msg[GEO_MSG_SZ];
        if (*n >= 8)
            break;
        snprintf(govs[*n].name, sizeof govs[*n].name, "%s",
                 json_string_value(json_object_get(json_object_get(f, "properties"),
                                                   "shapeName")));
        if (geo_parse(f, &govs[*n].g, msg) != 0)
            fail_msg("feature %zu: %s", i, msg);
        (*n)++;
    }
    json_decref(fc);
    return 0;
}

static const char *which(struct gov *govs, size_t n, struct geo_point p)
{
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (geo_contains(&govs[i].g, p)) {
            if (found)
                return "(more than one)";
            found = govs[i].name;
        }
    return found ? found : "(none)";
}

static void test_gaza_governorates(void **state)
{
    (void)state;
    struct gov govs[8];
    size_t n;
    load_govs(govs, &n);
    assert_int_equal(n, 5);
    assert_string_equal(which(govs, n, P(31.52, 34.45)), "Gaza");          /* Gaza City */
    assert_string_equal(which(govs, n, P(31.28, 34.25)), "Rafah");
    assert_string_equal(which(govs, n, P(31.34, 34.30)), "Khan Yunis");
    assert_string_equal(which(govs, n, P(31.53, 34.49)), "North Gaza");    /* Jabalia */
    assert_string_equal(which(govs, n, P(31.55, 34.50)), "North Gaza");    /* Beit Lahia */
    assert_string_equal(which(govs, n, P(31.42, 34.35)), "Deir Al Balah");
    assert_string_equal(which(govs, n, P(31.45, 34.39)), "Deir Al Balah"); /* Nuseirat */
    assert_string_equal(which(govs, n, P(32.08, 34.78)), "(none)");        /* Tel Aviv */
    assert_string_equal(which(govs, n, P(31.50, 34.20)), "(none)");        /* at sea */
    /* a vertex and an edge midpoint of Rafah's boundary belong to Rafah */
    struct gov *rafah = &govs[4];
    assert_string_equal(rafah->name, "Rafah");
    struct geo_point v0 = rafah->g.polys[0].rings[0].pts[0];
    struct geo_point v1 = rafah->g.polys[0].rings[0].pts[1];
    assert_true(geo_contains(&rafah->g, v0));
    assert_true(geo_contains(&rafah->g, P((v0.lat + v1.lat) / 2, (v0.lon + v1.lon) / 2)));
    /* Gaza City is some km from Rafah's border, and inside its own governorate */
    double d = geo_distance_to_geometry_m(&rafah->g, P(31.52, 34.45));
    assert_true(d > 15000 && d < 40000);
    assert_true(geo_distance_to_geometry_m(&govs[1].g, P(31.52, 34.45)) == 0);
    for (size_t i = 0; i < n; i++)
        geo_release(&govs[i].g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haversine),
        cmocka_unit_test(test_polygon_hole_and_boundary),
        cmocka_unit_test(test_concave_and_vertex_rays),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_polyline_distance),
        cmocka_unit_test(test_polyline_accuracy),
        cmocka_unit_test(test_bbox),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_gaza_governorates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
