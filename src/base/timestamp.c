#include "base/timestamp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int ts_parsen(const char *s, size_t len, vtime_t *out, int *fraction_digits)
{
    int y, mo, d, h, mi, se, frac = 0, nfrac = 0;
    if (len < 20)
        return VIGIL_EINVAL;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return VIGIL_EINVAL;
    size_t i = 19;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nfrac < 6) {
                frac = frac * 10 + (s[i] - '0');
                nfrac++;
            }
            i++;
        }
        if (i == start)
            return VIGIL_EINVAL;
        if (fraction_digits)
            *fraction_digits = (int)(i - start);
        for (int k = nfrac; k < 6; k++)
            frac *= 10;
    } else if (fraction_digits) {
        *fraction_digits = 0;
    }
    if (i + 1 != len || s[i] != 'Z')
        return VIGIL_EINVAL;
    /* Leap seconds (ss = 60) are allowed by RFC 3339; they fold onto the next second. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return VIGIL_EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *out = secs * VTIME_US_PER_SEC + frac;
    return 0;
}

int ts_parse(const char *s, vtime_t *out, int *fraction_digits)
{
    return ts_parsen(s, strlen(s), out, fraction_digits);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days-to-civil). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *put_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Without gmtime_r and snprintf: TAXII pages format two timestamps per object. */
char *ts_format(vtime_t t, int ndigits, char out[TS_BUFSZ])
{
    int64_t secs = t / VTIME_US_PER_SEC;
    int64_t us = t % VTIME_US_PER_SEC;
    if (us < 0) {
        us += VTIME_US_PER_SEC;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* not RFC 3339; kept readable */
        snprintf(out, TS_BUFSZ, "%lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
                 (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
        return out;
    }
    /* Four digits even below year 1000, so that the text reads back. */
    char *p = put_digits(out, (unsigned)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)(sod % 60), 2);
    if (ndigits == 6 || ndigits == 3) {
        *p++ = '.';
        p = ndigits == 6 ? put_digits(p, (unsigned)us, 6) : put_digits(p, (unsigned)(us / 1000), 3);
    }
    *p++ = 'Z';
    *p = '\0';
    return out;
}

vtime_t ts_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (vtime_t)ts.tv_sec * VTIME_US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t ts_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
