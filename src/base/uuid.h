/* uuid.h - RFC 4122 UUIDs for STIX identifiers. */
#ifndef VIGIL_BASE_UUID_H
#define VIGIL_BASE_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STRLEN 36

/* Writes the UUID of version `version` (4 random, 5 name-based) made of the 16 bytes b (their
 * version and variant bits set) in lowercase into out[UUID_STRLEN + 1]. */
void uuid_from_bytes(const unsigned char b[16], int version, char out[UUID_STRLEN + 1]);
/* Writes a random (version 4) UUID in lowercase into out[UUID_STRLEN + 1]. */
void uuid_v4(char out[UUID_STRLEN + 1]);
/* True when s[0..len) is an RFC 4122 UUID: 8-4-4-4-12 hex, version 1-5, variant 10xx. */
bool uuid_valid(const char *s, size_t len);

#endif
