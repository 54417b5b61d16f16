/* stixgen.h - the STIX objects the benchmarks store: realistic (~500 bytes), unique ids.
 *
 * Shared by loadgen (what it POSTs) and sqlite_ceiling (what it inserts), so that the
 * ceiling and Vigil store the same rows. Needs struct bytes and b_printf (bench/bytes.h), and
 * <time.h>.
 */
#ifndef VIGIL_BENCH_STIXGEN_H
#define VIGIL_BENCH_STIXGEN_H

/* ---- generated STIX objects ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A version 4 UUID determined by (seed, n): unique per object of a run. */
static void uuid_of(uint64_t seed, uint64_t n, char out[37])
{
    uint64_t x = seed * 0x100000001b3ull ^ n * 0x9e3779b97f4a7c15ull;
    uint64_t a = splitmix(&x), b = splitmix(&x);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffull));
}

/* Object n of seed, in its version `version`: modified = created + version seconds, so that
 * posting the same (seed, n) with a higher version stores a new version of the same object. */
static void object_json(struct bytes *b, uint64_t seed, uint64_t n, unsigned long version)
{
    char id[37], ref[37], modified[32];
    time_t t = (time_t)(1710727200 + version); /* created: 2024-03-18T02:00:00Z */
    struct tm tm;
    strftime(modified, sizeof modified, "%Y-%m-%dT%H:%M:%S.000Z", gmtime_r(&t, &tm));
    uuid_of(seed, n, id);
    switch (n % 3) {
    case 0:
        b_printf(b,
                 "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                 "\"created\":\"2024-03-18T02:00:00.000Z\","
                 "\"modified\":\"%s\","
                 "\"name\":\"Planned strike %llu\",\"description\":\"Reported preparation of a "
                 "strike near checkpoint %llu; source graded B2 by the partner desk.\","
                 "\"indicator_types\":[\"malicious-activity\"],"
                 "\"pattern\":\"[ipv4-addr:value = '198.51.%u.%u']\",\"pattern_type\":\"stix\","
                 "\"valid_from\":\"2024-03-18T02:00:00Z\",\"labels\":[\"ceasefire\",\"gaza\"]}",
                 id, modified, (unsigned long long)n, (unsigned long long)n % 997,
                 (unsigned)(n / 250) % 250, (unsigned)n % 250);
        break;
    case 1:
        b_printf(b,
                 "{\"type\":\"location\",\"spec_version\":\"2.1\",\"id\":\"location--%s\","
                 "\"created\":\"2024-03-18T02:00:00.000Z\","
                 "\"modified\":\"%s\","
                 "\"name\":\"Observation post %llu\",\"description\":\"Position reported by a "
                 "field team; coordinates checked against the governorate boundary.\","
                 "\"latitude\":%.5f,\"longitude\":%.5f,\"precision\":500.0,"
                 "\"region\":\"western-asia\",\"country\":\"PS\",\"city\":\"Khan Younis\"}",
                 id, modified, (unsigned long long)n, 31.2 + (double)(n % 5000) / 10000.0,
                 34.2 + (double)(n % 3000) / 10000.0);
        break;
    default:
        uuid_of(seed, n - 2, ref);
        b_printf(b,
                 "{\"type\":\"note\",\"spec_version\":\"2.1\",\"id\":\"note--%s\","
                 "\"created\":\"2024-03-18T02:00:00.000Z\","
                 "\"modified\":\"%s\","
                 "\"abstract\":\"Corroboration %llu\",\"content\":\"Two independent partners "
                 "reported the same movement within the hour; confidence raised, analyst "
                 "review requested before escalation.\",\"authors\":[\"Coordination desk\"],"
                 "\"object_refs\":[\"indicator--%s\"]}",
                 id, modified, (unsigned long long)n, ref);
        break;
    }
}

#endif
