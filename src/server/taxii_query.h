/* taxii_query.h - the query of a TAXII 2.1 request (3.4): its filters and paging, and the
 * sealed cursors of `next`.
 *
 * Pure parsing, no HTTP: taxii.c feeds it a request's parameters (http_query_foreach), and
 * tests/fuzz/fuzz_taxii_query.c feeds it bytes. A cursor is the date_added of the last object
 * served (or, on the alerts collection, the last alert id) with a fingerprint of the request's
 * scope and filters, sealed with a keyed BLAKE2b MAC (docs/internals/taxii.md): it cannot be
 * forged, altered, or replayed with other filters.
 */
#ifndef VIGIL_SERVER_TAXII_QUERY_H
#define VIGIL_SERVER_TAXII_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/timestamp.h"

#define TAXII_KEY_LEN 32    /* the server key of cursors */
#define TAXII_MATCH_MAX 100 /* values per match[...] parameter */
#define TAXII_SCOPE_LEN 320 /* endpoint, collection, object and user a cursor is for */
#define TAXII_CURSOR_SZ 64  /* a cursor as text, with its NUL */
#define TAXII_FP_LEN 16

/* The parameters, as flags: what an endpoint allows, and what a request gave. */
enum {
    TAXII_F_ADDED_AFTER = 1,
    TAXII_F_LIMIT = 2,
    TAXII_F_NEXT = 4,
    TAXII_F_ID = 8,
    TAXII_F_TYPE = 16,
    TAXII_F_VERSION = 32,
    TAXII_F_SPEC = 64,
};

/* A parsed request: filters, paging and the fingerprint of the filters. */
struct taxii_filters {
    unsigned allowed;
    unsigned seen;   /* TAXII_F_* given so far: each at most once (3.4) */
    const char *bad; /* first problem, for the 400 answer; NULL while there is none */
    char badbuf[200];
    vtime_t added_after;
    size_t limit;     /* 0 when not given */
    const char *next; /* borrowed from the caller's value */
    int64_t cursor;   /* what next says: a date_added, or an alert id (alerts) */
    char *lists[4];   /* copies of match[id|type|version|spec_version] values */
    const char *ids[TAXII_MATCH_MAX];
    size_t nids;
    const char *types[TAXII_MATCH_MAX];
    size_t ntypes;
    const char *specs[TAXII_MATCH_MAX];
    size_t nspecs;
    unsigned vmatch; /* STORE_VER_* keywords of match[version] */
    vtime_t versions[TAXII_MATCH_MAX];
    size_t nversions;
    const unsigned char *key;        /* the server key, TAXII_KEY_LEN bytes (borrowed) */
    char scope[TAXII_SCOPE_LEN];     /* what a cursor is for */
    unsigned char fpx[TAXII_FP_LEN]; /* XOR of the keyed hashes of the filter parameters */
};

/* Starts f for an endpoint that allows the TAXII_F_* flags `allowed`, with the server key and
 * the cursor scope (copied, truncated to TAXII_SCOPE_LEN - 1). */
void taxii_filters_init(struct taxii_filters *f, unsigned allowed, const unsigned char *key,
                        const char *scope);
/* Takes one parameter of the query (value NULL for a key without one), in the signature of
 * http_query_foreach's callback (ctx is f; always returns 0). A problem is kept in f->bad
 * (the first one only): unknown or unsupported parameters, one given twice, malformed values
 * (3.4). Unknown match[...] fields are ignored, as 3.4 allows. */
int taxii_filters_param(void *ctx, const char *key, const char *value);
/* Frees what f holds (the copies of the lists). */
void taxii_filters_release(struct taxii_filters *f);

/* Seals a cursor saying "continue after `after`" for f's scope and filters into out. */
void taxii_cursor_make(const struct taxii_filters *f, int64_t after, char out[TAXII_CURSOR_SZ]);
/* Opens f->next, if any, into f->cursor (and f->added_after when it is later). False when the
 * cursor is forged, damaged, or was made for another scope or other filters. */
bool taxii_cursor_open(struct taxii_filters *f);

#endif
