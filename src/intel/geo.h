/* geo.h - geography for event reports and zones: distances, containment, GeoJSON geometries.
 *
 * Coordinates are WGS 84 degrees. Distances are metres on a sphere of radius GEO_EARTH_R_M
 * (the mean Earth radius); the spherical model is within 0.5% of the ellipsoid everywhere.
 *
 * Polygons are handled in the plain longitude/latitude plane (as GeoJSON, RFC 7946, says
 * consumers may): an edge is the straight segment between its vertices in lon/lat. Geometries
 * that cross the antimeridian are not supported: split them at +-180 as RFC 7946 section
 * 3.1.9 requires. Containment is therefore exact for the polygon as drawn on a plate carree
 * map, which is how GeoJSON editors draw zones.
 *
 * Boundary rule: polygons are closed sets. A point on an edge or vertex of the outer ring is
 * inside; a point on the edge of a hole is inside too (the hole is open). "On" means within
 * GEO_EDGE_EPS degrees (about 0.1 mm) of the edge, so rounding in the last digit of a
 * coordinate does not flip the answer. A report exactly on a zone's border counts for the zone.
 *
 * Holes are expected inside the outer ring and rings not to cross; checking that would cost
 * O(n^2) on untrusted input, so it is not done. Containment is the even-odd rule over all of
 * a polygon's rings, which is the intended answer for valid polygons and a defined one for
 * invalid ones.
 *
 * Ownership: struct geo_geometry owns its arrays; geo_parse() fills it, geo_release() frees.
 */
#ifndef VIGIL_INTEL_GEO_H
#define VIGIL_INTEL_GEO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GEO_EARTH_R_M 6371008.8
#define GEO_EDGE_EPS 1e-9
#define GEO_MSG_SZ 256
/* Most positions one geometry may hold (a simplified country border has a few thousand). */
#define GEO_MAX_POSITIONS 1000000

struct geo_point {
    double lat, lon;
};

struct geo_bbox {
    double min_lat, min_lon, max_lat, max_lon;
};

struct geo_line {               /* a LineString, or one ring of a polygon */
    struct geo_point *pts;
    size_t n;
};

struct geo_polygon {
    struct geo_line *rings;     /* rings[0] is the outer ring, the rest are holes */
    size_t n_rings;
    struct geo_bbox bbox;       /* of all its rings */
};

enum geo_type {
    GEO_POINT,
    GEO_LINESTRING,
    GEO_MULTILINESTRING,
    GEO_POLYGON,
    GEO_MULTIPOLYGON
};

struct geo_geometry {
    enum geo_type type;
    struct geo_point point;     /* GEO_POINT */
    struct geo_line *lines;     /* GEO_LINESTRING (1), GEO_MULTILINESTRING */
    size_t n_lines;
    struct geo_polygon *polys;  /* GEO_POLYGON (1), GEO_MULTIPOLYGON */
    size_t n_polys;
    struct geo_bbox bbox;       /* of the whole geometry */
};

/* Great-circle distance between a and b in metres (haversine formula; accurate to
 * floating-point rounding at every distance, including antipodes and tiny separations). */
double geo_distance_m(struct geo_point a, struct geo_point b);

/* Distance in metres from p to the nearest point of the polyline pts[0..n) (n >= 1), computed
 * on a local equirectangular projection centred on p. Error: below 0.1% + 1 m when the
 * nearest point is within 100 km and |lat| < 70 degrees (tests/unit/test_geo.c measures it
 * against geo_distance_m); it grows with distance and towards the poles, so use it to test
 * "within a few km", not to measure continents. */
double geo_distance_to_polyline_m(struct geo_point p, const struct geo_point *pts, size_t n);

/* True when p is inside the polygon or on its boundary (see the boundary rule above). */
bool geo_polygon_contains(const struct geo_polygon *poly, struct geo_point p);

/* True when p is inside a Polygon or MultiPolygon (boundary included); false for the other
 * geometry types. */
bool geo_contains(const struct geo_geometry *g, struct geo_point p);

/* Distance in metres from p to g: 0 inside a (Multi)Polygon, else to the nearest edge, line
 * or point. Same accuracy as geo_distance_to_polyline_m (Points use geo_distance_m). */
double geo_distance_to_geometry_m(const struct geo_geometry *g, struct geo_point p);

/* Bounding boxes (no antimeridian wrap). */
void geo_bbox_empty(struct geo_bbox *b);
void geo_bbox_add(struct geo_bbox *b, struct geo_point p);
bool geo_bbox_contains(const struct geo_bbox *b, struct geo_point p);
bool geo_bbox_intersects(const struct geo_bbox *a, const struct geo_bbox *b);
/* The box around p that holds every point within radius_m metres of p (latitude clamped to
 * +-90; longitude spans everything near the poles). */
struct geo_bbox geo_bbox_around(struct geo_point p, double radius_m);

/* Parses a GeoJSON geometry (Point, LineString, MultiLineString, Polygon, MultiPolygon), or a
 * Feature whose geometry is one of them. Validates: positions are arrays of 2 or 3 numbers
 * (altitude ignored) with lon in [-180, 180] and lat in [-90, 90]; a LineString has >= 2
 * positions; a ring has >= 4 positions and ends where it starts; a Polygon has >= 1 ring; at
 * most GEO_MAX_POSITIONS positions in all. Returns 0 and fills g (release with
 * geo_release), or VIGIL_EINVAL / VIGIL_ETOOBIG with a message naming the place, e.g.
 * "coordinates[0][3]: latitude 95 out of range" (g is then empty). */
int geo_parse(const json_t *gj, struct geo_geometry *g, char msg[GEO_MSG_SZ]);

/* Frees g's arrays and leaves it an empty GEO_POINT. */
void geo_release(struct geo_geometry *g);

const char *geo_type_name(enum geo_type t);

#endif
