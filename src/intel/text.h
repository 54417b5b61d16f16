/* text.h - strict text helpers shared by the intel module (profile, importers).
 *
 * Input from files is untrusted: numbers must be whole fields (no trailing junk, no silent
 * overflow as with atoi), strings must be valid UTF-8 before they reach jansson, and dates are
 * checked against the calendar.
 */
#ifndef VIGIL_INTEL_TEXT_H
#define VIGIL_INTEL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/timestamp.h"

/* True when s[0..len) is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) and holds no NUL byte. */
bool text_utf8_valid(const char *s, size_t len);

/* The largest n <= max such that s[0..n) ends on a UTF-8 character boundary (s valid UTF-8
 * of length len). */
size_t text_utf8_cut(const char *s, size_t len, size_t max);

/* Parses all of s as a decimal integer in [min, max]. Returns 0 or VIGIL_EINVAL. */
int text_parse_long(const char *s, long min, long max, long *out);

/* Parses all of s as a finite decimal number. Returns 0 or VIGIL_EINVAL. */
int text_parse_double(const char *s, double *out);

/* The vtime_t of 00:00:00Z on a calendar date, or VIGIL_EINVAL when the date does not exist
 * or the year is outside 1-9999. */
int text_date(int year, int month, int day, vtime_t *out);

/* Parses a date "YYYY-MM-DD", optionally followed by " HH:MM:SS" or "THH:MM:SS[Z]" (UTC).
 * Returns 0 or VIGIL_EINVAL. */
int text_parse_iso_datetime(const char *s, vtime_t *out);

/* ASCII case-insensitive equality. */
bool text_ieq(const char *a, const char *b);

#define TEXT_US_PER_DAY (INT64_C(86400) * VTIME_US_PER_SEC)

#endif
