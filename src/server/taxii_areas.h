/* taxii_areas.h - the named areas of the report index, for the TAXII definitions collection.
 *
 * A report located by a named area refers to the area's location (profile_area_location_id);
 * the hub publishes that location to the readers who may see a report referring to it, and
 * to no one else (S3). This module keeps, in memory, which areas the stored reports name and
 * under which handling, following the report index (new rows by seq; any withdrawal makes it
 * read the index again on the next request).
 */
#ifndef VIGIL_SERVER_TAXII_AREAS_H
#define VIGIL_SERVER_TAXII_AREAS_H

#include <jansson.h>

#include "access/policy.h"
#include "store/store.h"

struct taxii_areas;

struct taxii_areas *taxii_areas_new(void);
void taxii_areas_free(struct taxii_areas *t); /* NULL is a no-op */

/* Appends to out (an array) the location of every named area that a report reader may read
 * refers to (profile_area_location), as that reader sees it: marked with the least
 * restrictive handling among those reports (its TLP marking, and the marking-definition of
 * its sharing group, found in group_markings: group id as text -> marking id), modified when
 * the first of them with that handling was accepted by the hub (its microseconds are set by
 * the caller). r reads the report index. Returns 0
 * or a store error (out then holds what was appended). */
int taxii_areas_locations(struct taxii_areas *t, struct store_reader *r,
                          const struct policy_reader *reader, const json_t *group_markings,
                          json_t *out);

#endif
