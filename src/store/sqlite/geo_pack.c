/* geo_pack.c - the reports' R*Tree (reports_geo) packed at the end of a bulk load.
 *
 * SQLite's R*Tree has no bulk load: each INSERT descends the tree, rewrites a node blob and
 * often its ancestors through SQL, whatever the order of the rows (docs/BENCHMARKS.md). At the
 * end of a bulk load (store_txn_reports_bulk_end) the tree is instead written whole, sorted
 * tile by tile (sort-tile-recursive), straight into its three tables, in the format SQLite
 * documents for them (https://sqlite.org/rtree.html, "Integrity Check" and the comments of
 * ext/rtree/rtree.c):
 *   reports_geo_node(nodeno, data): node 1 is the root; a node's blob is its size exactly
 *     (the length of the root's, fixed when the table was created): 2 bytes of depth (the
 *     root's; 0 when it is a leaf, zero in other nodes), 2 bytes of cell count, then the
 *     cells, each an 8-byte id (a row's id in a leaf, a child's node number above) and one
 *     4-byte float per coordinate (min and max of each dimension in the declared order), all
 *     big-endian;
 *   reports_geo_rowid(rowid, nodeno): the leaf of each row;
 *   reports_geo_parent(nodeno, parentnode): the parent of each node but the root.
 * A 32-bit coordinate is rounded outwards, as the R*Tree rounds what it is given (the lower
 * bound down, the upper up), so each box is the one a row-by-row insert stores; the import's
 * test compares them row for row and runs rtreecheck(). The whole tree is rebuilt, the rows
 * already in it read back first: a bulk load happens only when the import is at least as
 * large as the store. All of it runs in the import's transaction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/sqlite/store_int.h"

#define DIMS 3 /* lat, lon, hour */
#define COORDS (2 * DIMS)
#define CELL_BYTES (8 + 4 * COORDS)
#define HOUR_US 3600000000.0 /* as reports.c */

struct cell {
    int64_t id;
    float c[COORDS]; /* min, max of each dimension */
};

/* The R*Tree's rounding of a bound to a 32-bit float: never inside the value given. A float
 * conversion that lands on the wrong side is moved by one part in 2^23 of the value. */
static float round_down(double d)
{
    float f = (float)d;
    if ((double)f > d)
        f = (float)(d * (d < 0 ? 1.0 + 1.0 / 8388608.0 : 1.0 - 1.0 / 8388608.0));
    return f;
}

static float round_up(double d)
{
    float f = (float)d;
    if ((double)f < d)
        f = (float)(d * (d < 0 ? 1.0 - 1.0 / 8388608.0 : 1.0 + 1.0 / 8388608.0));
    return f;
}

#define BY_DIM(k)                                                                              \
    static int by_dim##k(const void *a, const void *b)                                         \
    {                                                                                          \
        const struct cell *x = a, *y = b;                                                      \
        double u = (double)x->c[2 * k] + x->c[2 * k + 1];                                      \
        double v = (double)y->c[2 * k] + y->c[2 * k + 1];                                      \
        return u < v ? -1 : u > v ? 1 : (x->id > y->id) - (x->id < y->id);                    \
    }
BY_DIM(0)
BY_DIM(1)
BY_DIM(2)
static int (*const by_dim[DIMS])(const void *, const void *) = {by_dim0, by_dim1, by_dim2};

/* Sorts v[0..n) into runs of `per` cells, each a node to be: sort-tile-recursive, the
 * dimensions in turn, each slab holding whole runs of the next. */
static void str_sort(struct cell *v, size_t n, size_t per, int dim)
{
    qsort(v, n, sizeof *v, by_dim[dim]);
    if (dim == DIMS - 1)
        return;
    size_t runs = (n + per - 1) / per;
    /* slabs along this dimension: the (DIMS - dim)-th root of the runs */
    size_t slabs = (size_t)ceil(pow((double)runs, 1.0 / (DIMS - dim)));
    if (slabs < 1)
        slabs = 1;
    size_t slab = ((runs + slabs - 1) / slabs) * per;
    for (size_t i = 0; i < n; i += slab)
        str_sort(v + i, n - i < slab ? n - i : slab, per, dim + 1);
}

static void put_be(unsigned char *p, uint64_t x, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, x >>= 8)
        p[i] = (unsigned char)(x & 0xff);
}

static void put_cell(unsigned char *p, const struct cell *c)
{
    put_be(p, (uint64_t)c->id, 8);
    for (int k = 0; k < COORDS; k++) {
        uint32_t bits;
        memcpy(&bits, &c->c[k], 4);
        put_be(p + 8 + 4 * k, bits, 4);
    }
}

struct packer {
    struct store_reader *c;
    size_t node_bytes, per; /* a node's blob, its cells */
    unsigned char *blob;
    int64_t next_node; /* the next free node number (1 is the root's) */
    struct leaf_of {
        int64_t row, node;
    } *leaf; /* each row's leaf, written in row order at the end */
    size_t n_leaf;
};

static int write_node(struct packer *p, int64_t nodeno, int depth, const struct cell *v,
                      size_t n, bool leaf)
{
    memset(p->blob, 0, p->node_bytes);
    put_be(p->blob, (uint64_t)depth, 2);
    put_be(p->blob + 2, n, 2);
    for (size_t i = 0; i < n; i++)
        put_cell(p->blob + 4 + i * CELL_BYTES, &v[i]);
    sqlite3_stmt *st = conn_stmt(p->c, "INSERT INTO reports_geo_node(nodeno, data) VALUES(?,?)");
    if (!st)
        return VIGIL_ESTORE;
    sqlite3_bind_int64(st, 1, nodeno);
    sqlite3_bind_blob(st, 2, p->blob, (int)p->node_bytes, SQLITE_STATIC);
    if (step_done(p->c, st))
        return VIGIL_ESTORE;
    for (size_t i = 0; i < n; i++) {
        if (leaf) {
            p->leaf[p->n_leaf++] = (struct leaf_of){v[i].id, nodeno};
            continue;
        }
        st = conn_stmt(p->c, "INSERT INTO reports_geo_parent(nodeno, parentnode) VALUES(?,?)");
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, v[i].id);
        sqlite3_bind_int64(st, 2, nodeno);
        if (step_done(p->c, st))
            return VIGIL_ESTORE;
    }
    return 0;
}

static int by_row(const void *a, const void *b)
{
    const struct leaf_of *x = a, *y = b;
    return (x->row > y->row) - (x->row < y->row);
}

/* Writes the tree over v[0..n) (the rows' boxes), level by level from the leaves. */
static int pack(struct packer *p, struct cell *v, size_t n)
{
    int depth = 0, rc = 0;
    while (!rc && n > p->per) {
        str_sort(v, n, p->per, 0);
        size_t m = 0; /* the nodes of this level become the cells of the next, in place */
        for (size_t i = 0; i < n && !rc; i += p->per, m++) {
            size_t k = n - i < p->per ? n - i : p->per;
            struct cell box = v[i];
            for (size_t j = i + 1; j < i + k; j++)
                for (int d = 0; d < DIMS; d++) {
                    box.c[2 * d] = fminf(box.c[2 * d], v[j].c[2 * d]);
                    box.c[2 * d + 1] = fmaxf(box.c[2 * d + 1], v[j].c[2 * d + 1]);
                }
            box.id = p->next_node++;
            rc = write_node(p, box.id, 0, v + i, k, depth == 0);
            v[m] = box; /* m <= i: nothing unread is overwritten */
        }
        n = m;
        depth++;
    }
    if (!rc)
        rc = write_node(p, 1, depth, v, n, depth == 0);
    if (rc)
        return rc;
    qsort(p->leaf, p->n_leaf, sizeof *p->leaf, by_row);
    for (size_t i = 0; i < p->n_leaf; i++) {
        sqlite3_stmt *st =
            conn_stmt(p->c, "INSERT INTO reports_geo_rowid(rowid, nodeno) VALUES(?,?)");
        if (!st)
            return VIGIL_ESTORE;
        sqlite3_bind_int64(st, 1, p->leaf[i].row);
        sqlite3_bind_int64(st, 2, p->leaf[i].node);
        if (step_done(p->c, st))
            return VIGIL_ESTORE;
    }
    return 0;
}

static int add(struct cell **v, size_t *n, size_t *cap, const struct cell *c)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 4096;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = *c;
    return 0;
}

int reports_geo_pack(struct store_reader *c, int64_t mark)
{
    sqlite3_stmt *st = conn_stmt(c, "SELECT length(data) FROM reports_geo_node WHERE nodeno = 1");
    if (!st || step_row(c, st))
        return VIGIL_ESTORE;
    int64_t node_bytes = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (node_bytes < 4 + 2 * CELL_BYTES || node_bytes > 65536) {
        log_error("store: reports_geo: a root node of %lld bytes", (long long)node_bytes);
        return VIGIL_ESTORE;
    }
    struct cell *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    /* The rows the tree holds (their boxes already rounded), then the load's own. */
    st = conn_stmt(c, "SELECT seq, min_lat, max_lat, min_lon, max_lon, min_hour, max_hour"
                      " FROM reports_geo");
    if (!st)
        return VIGIL_ESTORE;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct cell x = {.id = sqlite3_column_int64(st, 0)};
        for (int k = 0; k < COORDS; k++)
            x.c[k] = (float)sqlite3_column_double(st, 1 + k); /* exact: a float's value */
        add(&v, &n, &cap, &x);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = VIGIL_ESTORE;
    st = rc ? NULL
            : conn_stmt(c, "SELECT seq, lat, lon, start, end FROM reports WHERE seq > ?"
                           " AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY seq");
    if (!rc && !st)
        rc = VIGIL_ESTORE;
    if (!rc) {
        sqlite3_bind_int64(st, 1, mark);
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            double lat = sqlite3_column_double(st, 1), lon = sqlite3_column_double(st, 2);
            /* the same values as the per-row insert (reports.c) */
            double h0 = (double)sqlite3_column_int64(st, 3) / HOUR_US;
            double h1 = (double)sqlite3_column_int64(st, 4) / HOUR_US;
            struct cell x = {.id = sqlite3_column_int64(st, 0),
                             .c = {round_down(lat), round_up(lat), round_down(lon),
                                   round_up(lon), round_down(h0), round_up(h1)}};
            if (x.c[4] > x.c[5]) { /* the R*Tree refuses such a row: so does this */
                log_error("store: reports_geo: report %lld ends before it starts",
                          (long long)x.id);
                rc = VIGIL_ESTORE;
                break;
            }
            add(&v, &n, &cap, &x);
        }
        sqlite3_reset(st);
        if (!rc && step != SQLITE_DONE)
            rc = VIGIL_ESTORE;
    }
    conn_reset_all(c); /* nothing may still read the tree while its tables change */
    static const char *const clear[] = {"DELETE FROM reports_geo_node",
                                        "DELETE FROM reports_geo_rowid",
                                        "DELETE FROM reports_geo_parent"};
    for (int i = 0; i < 3 && !rc; i++)
        rc = conn_exec(c, clear[i]);
    struct packer p = {.c = c,
                       .node_bytes = (size_t)node_bytes,
                       .per = ((size_t)node_bytes - 4) / CELL_BYTES,
                       .blob = xmalloc((size_t)node_bytes),
                       .next_node = 2,
                       .leaf = xmalloc((n ? n : 1) * sizeof *p.leaf)};
    if (!rc)
        rc = pack(&p, v, n);
    free(p.leaf);
    free(p.blob);
    free(v);
    return rc;
}
