/* geo.c - distances, containment and GeoJSON geometries (see geo.h). */
#include "intel/geo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"

#define DEG (M_PI / 180.0)

double geo_distance_m(struct geo_point a, struct geo_point b)
{
    double dlat = (b.lat - a.lat) * DEG, dlon = (b.lon - a.lon) * DEG;
    double s1 = sin(dlat / 2), s2 = sin(dlon / 2);
    double h = s1 * s1 + cos(a.lat * DEG) * cos(b.lat * DEG) * s2 * s2;
    if (h > 1.0)
        h = 1.0;
    return 2.0 * GEO_EARTH_R_M * asin(sqrt(h));
}

/* The nearest point to p on segment a-b, found on the equirectangular plane centred on p; its
 * distance is then measured on the sphere, so only the choice of the point is approximate (and
 * the distance is stationary at the true nearest point, which makes the error second-order). */
static double segment_distance(struct geo_point p, struct geo_point a, struct geo_point b,
                               double kx)
{
    double ax = (a.lon - p.lon) * kx, ay = a.lat - p.lat;
    double bx = (b.lon - p.lon) * kx, by = b.lat - p.lat;
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0.0;
    if (t < 0)
        t = 0;
    else if (t > 1)
        t = 1;
    struct geo_point q = {a.lat + t * (b.lat - a.lat), a.lon + t * (b.lon - a.lon)};
    return geo_distance_m(p, q);
}

double geo_distance_to_polyline_m(struct geo_point p, const struct geo_point *pts, size_t n)
{
    if (n == 0)
        return INFINITY;
    if (n == 1)
        return geo_distance_m(p, pts[0]);
    double kx = cos(p.lat * DEG), best = INFINITY;
    for (size_t i = 0; i + 1 < n; i++) {
        double d = segment_distance(p, pts[i], pts[i + 1], kx);
        if (d < best)
            best = d;
    }
    return best;
}

/* True when p lies on segment a-b within GEO_EDGE_EPS degrees (lon/lat plane). */
static bool on_segment(struct geo_point p, struct geo_point a, struct geo_point b)
{
    double dx = b.lon - a.lon, dy = b.lat - a.lat;
    double px = p.lon - a.lon, py = p.lat - a.lat;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0.0;
    if (t < 0)
        t = 0;
    else if (t > 1)
        t = 1;
    double ex = px - t * dx, ey = py - t * dy;
    return ex * ex + ey * ey <= GEO_EDGE_EPS * GEO_EDGE_EPS;
}

bool geo_polygon_contains(const struct geo_polygon *poly, struct geo_point p)
{
    if (poly->n_rings == 0 || !geo_bbox_contains(&poly->bbox, p))
        return false;
    bool inside = false;
    for (size_t r = 0; r < poly->n_rings; r++) {
        const struct geo_line *ring = &poly->rings[r];
        for (size_t i = 0, j = ring->n - 1; i < ring->n; j = i++) {
            struct geo_point a = ring->pts[i], b = ring->pts[j];
            if (on_segment(p, a, b))
                return true; /* boundary of the outer ring or of a hole: closed set */
            /* even-odd ray cast towards +lon; half-open in lat so a vertex counts once */
            if ((a.lat > p.lat) != (b.lat > p.lat)) {
                double x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
                if (p.lon < x)
                    inside = !inside;
            }
        }
    }
    return inside;
}

bool geo_contains(const struct geo_geometry *g, struct geo_point p)
{
    if (g->type != GEO_POLYGON && g->type != GEO_MULTIPOLYGON)
        return false;
    if (!geo_bbox_contains(&g->bbox, p))
        return false;
    for (size_t i = 0; i < g->n_polys; i++)
        if (geo_polygon_contains(&g->polys[i], p))
            return true;
    return false;
}

double geo_distance_to_geometry_m(const struct geo_geometry *g, struct geo_point p)
{
    double best = INFINITY, d;
    switch (g->type) {
    case GEO_POINT:
        return geo_distance_m(p, g->point);
    case GEO_LINESTRING:
    case GEO_MULTILINESTRING:
        for (size_t i = 0; i < g->n_lines; i++)
            if ((d = geo_distance_to_polyline_m(p, g->lines[i].pts, g->lines[i].n)) < best)
                best = d;
        return best;
    case GEO_POLYGON:
    case GEO_MULTIPOLYGON:
        if (geo_contains(g, p))
            return 0.0;
        for (size_t i = 0; i < g->n_polys; i++)
            for (size_t r = 0; r < g->polys[i].n_rings; r++) {
                const struct geo_line *ring = &g->polys[i].rings[r];
                if ((d = geo_distance_to_polyline_m(p, ring->pts, ring->n)) < best)
                    best = d;
            }
        return best;
    }
    return best;
}

/* ---- bounding boxes --------------------------------------------------------------------- */

void geo_bbox_empty(struct geo_bbox *b)
{
    b->min_lat = b->min_lon = INFINITY;
    b->max_lat = b->max_lon = -INFINITY;
}

void geo_bbox_add(struct geo_bbox *b, struct geo_point p)
{
    if (p.lat < b->min_lat)
        b->min_lat = p.lat;
    if (p.lat > b->max_lat)
        b->max_lat = p.lat;
    if (p.lon < b->min_lon)
        b->min_lon = p.lon;
    if (p.lon > b->max_lon)
        b->max_lon = p.lon;
}

bool geo_bbox_contains(const struct geo_bbox *b, struct geo_point p)
{
    /* widened by the edge tolerance so boundary points reach the exact test */
    return p.lat >= b->min_lat - GEO_EDGE_EPS && p.lat <= b->max_lat + GEO_EDGE_EPS &&
           p.lon >= b->min_lon - GEO_EDGE_EPS && p.lon <= b->max_lon + GEO_EDGE_EPS;
}

bool geo_bbox_intersects(const struct geo_bbox *a, const struct geo_bbox *b)
{
    return a->min_lat <= b->max_lat && b->min_lat <= a->max_lat && a->min_lon <= b->max_lon &&
           b->min_lon <= a->max_lon;
}

struct geo_bbox geo_bbox_around(struct geo_point p, double radius_m)
{
    struct geo_bbox b;
    double dlat = radius_m / GEO_EARTH_R_M / DEG;
    b.min_lat = fmax(-90.0, p.lat - dlat);
    b.max_lat = fmin(90.0, p.lat + dlat);
    double far = fabs(p.lat) + dlat; /* the latitude where a degree of longitude is shortest */
    if (far >= 89.999 || dlat >= 90.0) {
        b.min_lon = -180.0;
        b.max_lon = 180.0;
    } else {
        double dlon = dlat / cos(far * DEG);
        b.min_lon = fmax(-180.0, p.lon - dlon);
        b.max_lon = fmin(180.0, p.lon + dlon);
    }
    return b;
}

/* ---- GeoJSON ---------------------------------------------------------------------------- */

struct gctx {
    char *msg;
    size_t positions; /* counted against GEO_MAX_POSITIONS */
};

static int gfail(struct gctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int gfail(struct gctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, GEO_MSG_SZ, fmt, ap);
    va_end(ap);
    return rc;
}

static int parse_position(struct gctx *c, const json_t *v, const char *path,
                          struct geo_point *out)
{
    if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > 3)
        return gfail(c, VIGIL_EINVAL, "%s: a position must be [lon, lat] or [lon, lat, alt]",
                     path);
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_number(json_array_get(v, i)))
            return gfail(c, VIGIL_EINVAL, "%s[%zu]: must be a number", path, i);
    double lon = json_number_value(json_array_get(v, 0));
    double lat = json_number_value(json_array_get(v, 1));
    if (!(lon >= -180.0 && lon <= 180.0))
        return gfail(c, VIGIL_EINVAL, "%s: longitude %g out of range [-180, 180]", path, lon);
    if (!(lat >= -90.0 && lat <= 90.0))
        return gfail(c, VIGIL_EINVAL, "%s: latitude %g out of range [-90, 90]", path, lat);
    out->lat = lat;
    out->lon = lon;
    return 0;
}

static int parse_line(struct gctx *c, const json_t *v, const char *path, bool ring,
                      struct geo_line *out)
{
    char sub[128];
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_array(v))
        return gfail(c, VIGIL_EINVAL, "%s: must be an array of positions", path);
    if (ring && n < 4)
        return gfail(c, VIGIL_EINVAL, "%s: a linear ring needs at least 4 positions, has %zu",
                     path, n);
    if (!ring && n < 2)
        return gfail(c, VIGIL_EINVAL, "%s: a line needs at least 2 positions, has %zu", path,
                     n);
    if (n > GEO_MAX_POSITIONS - c->positions)
        return gfail(c, VIGIL_ETOOBIG, "%s: more than %d positions in the geometry", path,
                     GEO_MAX_POSITIONS);
    c->positions += n;
    out->pts = xmalloc(n * sizeof *out->pts);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        int rc = parse_position(c, json_array_get(v, i), sub, &out->pts[i]);
        if (rc)
            return rc;
    }
    if (ring && (out->pts[0].lat != out->pts[n - 1].lat ||
                 out->pts[0].lon != out->pts[n - 1].lon))
        return gfail(c, VIGIL_EINVAL, "%s: ring is not closed (last position must equal the "
                     "first)", path);
    return 0;
}

static int parse_polygon(struct gctx *c, const json_t *v, const char *path,
                         struct geo_polygon *out)
{
    char sub[128];
    if (!json_is_array(v) || json_array_size(v) == 0)
        return gfail(c, VIGIL_EINVAL, "%s: a polygon must be a non-empty array of rings", path);
    size_t n = json_array_size(v);
    out->rings = xcalloc(n, sizeof *out->rings);
    out->n_rings = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        int rc = parse_line(c, json_array_get(v, i), sub, true, &out->rings[i]);
        if (rc)
            return rc;
    }
    geo_bbox_empty(&out->bbox);
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < out->rings[r].n; i++)
            geo_bbox_add(&out->bbox, out->rings[r].pts[i]);
    return 0;
}

const char *geo_type_name(enum geo_type t)
{
    static const char *const names[] = {"Point", "LineString", "MultiLineString", "Polygon",
                                        "MultiPolygon"};
    return (unsigned)t <= GEO_MULTIPOLYGON ? names[t] : "?";
}

static void free_line(struct geo_line *l)
{
    free(l->pts);
}

void geo_release(struct geo_geometry *g)
{
    for (size_t i = 0; g->lines && i < g->n_lines; i++)
        free_line(&g->lines[i]);
    free(g->lines);
    for (size_t i = 0; g->polys && i < g->n_polys; i++) {
        for (size_t r = 0; g->polys[i].rings && r < g->polys[i].n_rings; r++)
            free_line(&g->polys[i].rings[r]);
        free(g->polys[i].rings);
    }
    free(g->polys);
    memset(g, 0, sizeof *g);
    g->type = GEO_POINT;
    geo_bbox_empty(&g->bbox);
}

static int parse_geometry(struct gctx *c, const json_t *gj, struct geo_geometry *g)
{
    char sub[128];
    int rc = 0;
    const char *type = json_string_value(json_object_get(gj, "type"));
    const json_t *co = json_object_get(gj, "coordinates");
    if (!type)
        return gfail(c, VIGIL_EINVAL, "type: required (a GeoJSON geometry type)");
    if (strcmp(type, "Point") == 0) {
        g->type = GEO_POINT;
        if (!co)
            return gfail(c, VIGIL_EINVAL, "coordinates: required");
        rc = parse_position(c, co, "coordinates", &g->point);
        if (rc == 0)
            geo_bbox_add(&g->bbox, g->point);
        return rc;
    }
    if (strcmp(type, "LineString") == 0 || strcmp(type, "Polygon") == 0) {
        bool line = type[0] == 'L';
        g->type = line ? GEO_LINESTRING : GEO_POLYGON;
        if (!co)
            return gfail(c, VIGIL_EINVAL, "coordinates: required");
        if (line) {
            g->lines = xcalloc(1, sizeof *g->lines);
            g->n_lines = 1;
            rc = parse_line(c, co, "coordinates", false, g->lines);
        } else {
            g->polys = xcalloc(1, sizeof *g->polys);
            g->n_polys = 1;
            rc = parse_polygon(c, co, "coordinates", g->polys);
        }
    } else if (strcmp(type, "MultiLineString") == 0 || strcmp(type, "MultiPolygon") == 0) {
        bool line = type[5] == 'L';
        g->type = line ? GEO_MULTILINESTRING : GEO_MULTIPOLYGON;
        if (!json_is_array(co) || json_array_size(co) == 0)
            return gfail(c, VIGIL_EINVAL, "coordinates: must be a non-empty array");
        size_t n = json_array_size(co);
        if (line) {
            g->lines = xcalloc(n, sizeof *g->lines);
            g->n_lines = n;
        } else {
            g->polys = xcalloc(n, sizeof *g->polys);
            g->n_polys = n;
        }
        for (size_t i = 0; i < n && rc == 0; i++) {
            snprintf(sub, sizeof sub, "coordinates[%zu]", i);
            rc = line ? parse_line(c, json_array_get(co, i), sub, false, &g->lines[i])
                      : parse_polygon(c, json_array_get(co, i), sub, &g->polys[i]);
        }
    } else {
        return gfail(c, VIGIL_EINVAL, "type: \"%.40s\" is not a supported geometry (Point, "
                     "LineString, MultiLineString, Polygon, MultiPolygon)", type);
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < g->n_lines; i++)
        for (size_t k = 0; k < g->lines[i].n; k++)
            geo_bbox_add(&g->bbox, g->lines[i].pts[k]);
    for (size_t i = 0; i < g->n_polys; i++) {
        struct geo_point lo = {g->polys[i].bbox.min_lat, g->polys[i].bbox.min_lon};
        struct geo_point hi = {g->polys[i].bbox.max_lat, g->polys[i].bbox.max_lon};
        geo_bbox_add(&g->bbox, lo);
        geo_bbox_add(&g->bbox, hi);
    }
    return 0;
}

int geo_parse(const json_t *gj, struct geo_geometry *g, char msg[GEO_MSG_SZ])
{
    struct gctx c = {msg, 0};
    memset(g, 0, sizeof *g);
    geo_release(g);
    msg[0] = '\0';
    if (!json_is_object(gj))
        return gfail(&c, VIGIL_EINVAL, "geometry: must be a JSON object");
    const char *type = json_string_value(json_object_get(gj, "type"));
    if (type && strcmp(type, "Feature") == 0) {
        gj = json_object_get(gj, "geometry");
        if (!json_is_object(gj))
            return gfail(&c, VIGIL_EINVAL, "geometry: a Feature must have a geometry object");
    }
    int rc = parse_geometry(&c, gj, g);
    if (rc)
        geo_release(g);
    return rc;
}
