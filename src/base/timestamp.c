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

char *ts_format(vtime_t t, int ndigits, char out[TS_BUFSZ])
{
    int64_t secs = t / VTIME_US_PER_SEC;
    int64_t us = t % VTIME_US_PER_SEC;
    if (us < 0) {
        us += VTIME_US_PER_SEC;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    /* Not strftime's %Y: years below 1000 need their four digits to read back. */
    int n = snprintf(out, TS_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    size_t rest = TS_BUFSZ - (size_t)n;
    if (ndigits == 6)
        snprintf(out + n, rest, ".%06dZ", (int)us);
    else if (ndigits == 3)
        snprintf(out + n, rest, ".%03dZ", (int)(us / 1000));
    else
        snprintf(out + n, rest, "Z");
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
