/* stix.h - STIX 2.1 objects: validation, the common properties Vigil indexes, and the
 * identifiers of the markings Vigil knows.
 *
 * Vigil stores every object exactly as received (re-serialised compactly by vjson_dump, which
 * keeps property order and number text), so this module never rewrites an object: it checks
 * that the object is valid STIX 2.1 and extracts what the store and the access policy need.
 *
 * Validation follows the STIX 2.1 specification (OASIS Standard, 2021-06-10):
 *  - common properties (section 3.2): type (3-250 chars, [a-z0-9-], no leading/trailing or
 *    double hyphen), spec_version "2.1" (required on SDOs, SROs, marking and language objects;
 *    optional on SCOs), id "<type>--<RFC 4122 UUID>" whose prefix equals type, created and
 *    modified timestamps (millisecond precision at least, created <= modified), revoked
 *    (boolean), labels (list of non-empty strings), confidence (integer 0-100), lang (string),
 *    external_references (list of objects each with source_name and at least one of
 *    description, url, external_id), object_marking_refs (list of marking-definition ids),
 *    granular_markings (list of objects with selectors and exactly one of marking_ref / lang),
 *    extensions (object whose keys are extension-definition ids or names ending in "-ext"),
 *    created_by_ref (identity id);
 *  - the required properties of every SDO (section 4), SRO (section 5), marking-definition,
 *    language-content and extension-definition, and of the SCOs (section 6) where the spec
 *    sets some;
 *  - custom object types (names not in the spec) are accepted when their common properties
 *    are valid (spec section 11.2).
 */
#ifndef VIGIL_STIX_STIX_H
#define VIGIL_STIX_STIX_H

#include <jansson.h>
#include <stdbool.h>

#include "base/timestamp.h"

#define STIX_MSG_SZ 256

/* The official TLP 2.0 marking-definition ids (STIX 2.1 TLP 2.0 extension). */
#define STIX_TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define STIX_TLP_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define STIX_TLP_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define STIX_TLP_AMBER_STRICT "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define STIX_TLP_RED "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
/* The TLP 1.0 ones, which STIX 2.1 predefines (7.2.1.4): the hub reads no TLP 1.0 marking, but
 * their ids are STIX's, never a partner's object. */
#define STIX_TLP1_WHITE "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define STIX_TLP1_GREEN "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define STIX_TLP1_AMBER "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define STIX_TLP1_RED "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

enum stix_kind {
    STIX_KIND_SDO,
    STIX_KIND_SRO,
    STIX_KIND_SCO,
    STIX_KIND_META,   /* marking-definition, language-content, extension-definition */
    STIX_KIND_CUSTOM, /* a type the specification does not define */
};

/* What Vigil needs of an object. Strings borrow from the json_t they came from. */
struct stix_common {
    const char *type;
    const char *id;
    const char *spec_version;  /* "2.1"; SCOs without the property get "2.1" */
    enum stix_kind kind;
    bool has_created, has_modified;
    vtime_t created, modified;
    bool revoked;
    const json_t *object_marking_refs; /* the array, or NULL when absent */
};

/* Validates one STIX 2.1 object and fills *out. Returns 0, or VIGIL_EINVAL with a message that
 * names the offending property first, e.g. "modified: must not be earlier than created" or
 * "indicator: missing required property pattern". out may be NULL. */
int stix_validate(const json_t *obj, struct stix_common *out, char msg[STIX_MSG_SZ]);

/* Validates a bundle's envelope ({"type":"bundle","id":"bundle--UUID","objects":[...]}) without
 * validating the objects themselves. Returns 0 or VIGIL_EINVAL with a message. */
int stix_bundle_check(const json_t *bundle, char msg[STIX_MSG_SZ]);

/* The kind of a type name (STIX_KIND_CUSTOM for types the specification does not define). */
enum stix_kind stix_kind_of(const char *type);

/* True when s is a syntactically valid STIX identifier "<type>--<uuid>". */
bool stix_id_valid(const char *s);

#endif
