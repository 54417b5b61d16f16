/* timestamp.h - RFC 3339 timestamps as STIX and TAXII write them.
 *
 * Time inside Vigil is an int64 count of microseconds since 1970-01-01T00:00:00Z (vtime_t).
 * STIX timestamps are "YYYY-MM-DDTHH:MM:SS[.fraction]Z": always UTC, 'Z' suffix, any number
 * of fraction digits. Digits beyond microseconds are accepted and truncated.
 */
#ifndef VIGIL_BASE_TIMESTAMP_H
#define VIGIL_BASE_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t vtime_t;

#define VTIME_US_PER_SEC INT64_C(1000000)
/* Longest text ts_format() writes, with its NUL. */
#define TS_BUFSZ 32

/* Parses a STIX timestamp. Returns 0 and sets *out, or VIGIL_EINVAL. When fraction_digits is
 * not NULL it receives the number of fraction digits written (0 if none). */
int ts_parse(const char *s, vtime_t *out, int *fraction_digits);
/* Like ts_parse for a string of length len (not NUL-terminated). */
int ts_parsen(const char *s, size_t len, vtime_t *out, int *fraction_digits);
/* Writes t with `digits` fraction digits (0, 3 or 6) into out[TS_BUFSZ]; returns out. */
char *ts_format(vtime_t t, int digits, char out[TS_BUFSZ]);
/* The current wall-clock time. */
vtime_t ts_now(void);
/* Microseconds from an arbitrary fixed point, never going backwards (for durations). */
int64_t ts_monotonic_us(void);

#endif
