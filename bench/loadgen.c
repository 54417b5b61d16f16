/* loadgen.c - the HTTP load generator of Vigil's benchmarks (S11).
 *
 * Keep-alive HTTP/1.1 over raw sockets: T threads, each driving its share of C connections
 * with epoll, one request in flight per connection (closed loop). Latency of every request is
 * kept (sorted arrays, exact percentiles). Prints one "key=value ..." result line on stdout.
 *
 *   loadgen post --port P --path PATH --token-file F --objects N [--per 100] [--conns 4]
 *                [--threads 2] [--seed S] [--version V]
 *       POSTs TAXII envelopes of --per generated STIX objects (indicator / location / note,
 *       about 500 bytes each, unique ids from --seed) until N objects were accepted; with
 *       --version V, each object's version V (modified V seconds after created; default 0).
 *       Prints objects/s overall and per tenth of the run (to show it is sustained).
 *   --connect-gap MS opens the connections one at a time, MS apart (default: all at once).
 *   loadgen get --port P --path PATH [--token-file F] [--conns 32] [--threads 2]
 *               [--duration S] [--warmup S] [--limit 100] [--after T0:T1]
 *       GETs PATH for S seconds. With --after (microseconds since the epoch), each request
 *       asks for ?limit=L&added_after=<uniform random time in [T0,T1]>, so pages are spread
 *       through the collection. Prints requests/s and p50/p90/p99/max latency.
 *       With --paths-file F, each request GETs a line of F (request paths with their query
 *       strings, e.g. from acledgen queries) chosen uniformly at random, instead of PATH.
 *
 * The program uses only what it needs from libc; it is not part of the vigil binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RESP_MAX (64u << 20)

enum mode { M_GET, M_POST };

static struct {
    enum mode mode;
    int port;
    const char *path;
    char token[256];
    long conns, threads;
    double duration, warmup;
    long limit;
    int64_t after0, after1;
    long objects, per;
    unsigned long long seed;
    unsigned long version;
    long connect_gap_ms;
    char **paths;        /* --paths-file: request paths, one per line */
    size_t npaths;
} opt = {.conns = 32, .threads = 2, .duration = 10, .warmup = 1, .limit = 100, .per = 100,
         .seed = 1};

static atomic_long next_batch;   /* post: next envelope number to send */
static long nbatches;
static atomic_long objects_done; /* post: objects in 2xx answers */
static double t_start;           /* seconds, CLOCK_MONOTONIC */
static double *decile_t;         /* post: time at which each tenth of the objects was done */
static pthread_mutex_t decile_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "loadgen: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

#include "bytes.h"
#include "stixgen.h"

/* ---- connections ----------------------------------------------------------------------- */

struct conn {
    int fd;
    struct bytes req;    /* the request being sent */
    size_t sent;
    struct bytes resp;   /* what has arrived of the answer */
    size_t body_at;      /* offset of the body, 0 while the headers are incomplete */
    size_t content_len;
    int status;
    long batch;          /* post: envelope in flight */
    double t0;
    uint64_t rng;
    bool busy;
};

struct worker {
    pthread_t th;
    int id;
    struct conn *conns;
    int nconns;
    double *lat;         /* latencies (ms) of measured requests */
    size_t nlat, caplat;
    long ok, errors, bytes_in;
    int last_bad_status;
};

static pthread_mutex_t connect_lock = PTHREAD_MUTEX_INITIALIZER;

/* Connects to the server; with --connect-gap, connections open one at a time, that far
 * apart, as independent clients would, rather than in one burst. */
static int connect_one(void)
{
    if (opt.connect_gap_ms) {
        pthread_mutex_lock(&connect_lock);
        usleep((useconds_t)opt.connect_gap_ms * 1000);
        pthread_mutex_unlock(&connect_lock);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        die("fcntl");
    return fd;
}

static void fmt_rfc3339(int64_t us, char out[64])
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000 + 1000000) % 1000000);
}

/* Builds the next request on c; false when there is nothing more to send. */
static bool build_request(struct conn *c)
{
    c->req.len = 0;
    c->sent = 0;
    char auth[300] = "";
    if (opt.token[0])
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", opt.token);
    if (opt.mode == M_GET && opt.npaths) {
        b_printf(&c->req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sAccept: application/json\r\n\r\n",
                 opt.paths[splitmix(&c->rng) % opt.npaths], auth);
        return true;
    }
    if (opt.mode == M_GET) {
        char q[128] = "";
        if (opt.after1 > opt.after0) {
            char ts[64];
            int64_t span = opt.after1 - opt.after0;
            int64_t t = opt.after0 + (int64_t)(splitmix(&c->rng) % (uint64_t)span);
            fmt_rfc3339(t, ts);
            snprintf(q, sizeof q, "?limit=%ld&added_after=%s", opt.limit, ts);
        } else if (opt.limit > 0 && strstr(opt.path, "/objects/")) {
            snprintf(q, sizeof q, "?limit=%ld", opt.limit);
        }
        b_printf(&c->req,
                 "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                 "Accept: application/taxii+json;version=2.1\r\n\r\n",
                 opt.path, q, auth);
        return true;
    }
    long batch = atomic_fetch_add(&next_batch, 1);
    if (batch >= nbatches)
        return false;
    c->batch = batch;
    static _Thread_local struct bytes body;
    body.len = 0;
    b_printf(&body, "{\"objects\":[");
    long first = batch * opt.per;
    long n = opt.per;
    if (first + n > opt.objects)
        n = opt.objects - first;
    for (long i = 0; i < n; i++) {
        if (i)
            b_printf(&body, ",");
        object_json(&body, opt.seed, (uint64_t)(first + i), opt.version);
    }
    b_printf(&body, "]}");
    b_printf(&c->req,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
             "Accept: application/taxii+json;version=2.1\r\n"
             "Content-Type: application/taxii+json;version=2.1\r\n"
             "Content-Length: %zu\r\n\r\n",
             opt.path, auth, body.len);
    b_reserve(&c->req, body.len);
    memcpy(c->req.p + c->req.len, body.p, body.len);
    c->req.len += body.len;
    return true;
}

static void record(struct worker *w, double ms)
{
    if (w->nlat == w->caplat) {
        w->caplat = w->caplat ? w->caplat * 2 : 1 << 16;
        w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
        if (!w->lat)
            die("out of memory");
    }
    w->lat[w->nlat++] = ms;
}

/* Parses the status line and Content-Length once the headers are complete. */
static bool parse_head(struct conn *c)
{
    c->resp.p[c->resp.len] = '\0';
    char *end = strstr(c->resp.p, "\r\n\r\n");
    if (!end)
        return false;
    c->body_at = (size_t)(end - c->resp.p) + 4;
    c->status = 0;
    if (strncmp(c->resp.p, "HTTP/1.", 7) == 0)
        c->status = (int)strtol(c->resp.p + 9, NULL, 10);
    c->content_len = 0;
    for (char *h = strstr(c->resp.p, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            c->content_len = strtoul(h + 17, NULL, 10);
        if (strncasecmp(h + 2, "Transfer-Encoding: chunked", 26) == 0) {
            fprintf(stderr, "loadgen: chunked answers are not supported\n");
            exit(2);
        }
    }
    return true;
}

/* Sends what remains of c's request; returns false on a fatal error. */
static void pump_send(struct conn *c)
{
    while (c->sent < c->req.len) {
        ssize_t n = send(c->fd, c->req.p + c->sent, c->req.len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            die("send");
        }
        c->sent += (size_t)n;
    }
}

static void start_request(struct worker *w, struct conn *c)
{
    if (!build_request(c)) {
        c->busy = false;
        return;
    }
    c->busy = true;
    c->resp.len = 0;
    c->body_at = 0;
    c->t0 = now_s();
    pump_send(c);
}

static void post_progress(long n_before, long n_after)
{
    long tenth = opt.objects / 10;
    if (tenth <= 0)
        return;
    pthread_mutex_lock(&decile_lock);
    for (long d = n_before / tenth + 1; d <= n_after / tenth && d <= 10; d++)
        decile_t[d] = now_s();
    pthread_mutex_unlock(&decile_lock);
}

static void complete(struct worker *w, struct conn *c)
{
    double t = now_s();
    bool measured = opt.mode == M_POST || t - t_start >= opt.warmup;
    if (c->status >= 200 && c->status < 300) {
        if (measured) {
            w->ok++;
            record(w, (t - c->t0) * 1000.0);
            w->bytes_in += (long)c->content_len;
        }
        if (opt.mode == M_POST) {
            long n = opt.per;
            if ((c->batch + 1) * opt.per > opt.objects)
                n = opt.objects - c->batch * opt.per;
            long before = atomic_fetch_add(&objects_done, n);
            post_progress(before, before + n);
        }
    } else {
        w->errors++;
        if (w->last_bad_status != c->status && w->errors < 5) {
            fprintf(stderr, "loadgen: HTTP %d: %.300s\n", c->status, c->resp.p + c->body_at);
        }
        w->last_bad_status = c->status;
        if (opt.mode == M_POST) {
            fprintf(stderr, "loadgen: an envelope was refused; stopping\n");
            exit(1);
        }
    }
    c->resp.len = 0;
    c->body_at = 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        c->fd = connect_one();
        c->rng = opt.seed * 7919 + (uint64_t)w->id * 104729 + (uint64_t)i;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            die("epoll_ctl");
    }
    for (int i = 0; i < w->nconns; i++)
        start_request(w, &w->conns[i]);
    double end = t_start + opt.warmup + opt.duration;
    for (;;) {
        int active = 0;
        for (int i = 0; i < w->nconns; i++)
            active += w->conns[i].busy;
        if (!active)
            break;
        if (opt.mode == M_GET && now_s() >= end)
            break;
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int k = 0; k < n; k++) {
            struct conn *c = evs[k].data.ptr;
            if (!c->busy)
                continue;
            if (evs[k].events & EPOLLOUT)
                pump_send(c);
            if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            for (;;) {
                b_reserve(&c->resp, 65536);
                ssize_t r = recv(c->fd, c->resp.p + c->resp.len, c->resp.cap - c->resp.len - 1,
                                 0);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        break;
                    die("recv");
                }
                if (r == 0) {
                    fprintf(stderr, "loadgen: the server closed a connection\n");
                    exit(1);
                }
                c->resp.len += (size_t)r;
                if (c->resp.len > RESP_MAX) {
                    fprintf(stderr, "loadgen: answer too large\n");
                    exit(1);
                }
                if (!c->body_at && !parse_head(c))
                    continue;
                if (c->resp.len - c->body_at >= c->content_len) {
                    complete(w, c);
                    if (opt.mode == M_GET && now_s() >= end) {
                        c->busy = false;
                        break;
                    }
                    /* the answer was read whole (one request in flight): the next one
                     * raises a new edge; go serve the other connections meanwhile */
                    start_request(w, c);
                    break;
                }
            }
        }
    }
    close(ep);
    for (int i = 0; i < w->nconns; i++)
        close(w->conns[i].fd);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)n);
    return v[i >= n ? n - 1 : i];
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen get|post --port P --path PATH [--token-file F] [--conns C]\n"
                    "       [--threads T] [--duration S] [--warmup S] [--limit L] [--after T0:T1]\n"
                    "       [--objects N] [--per K] [--seed S] [--version V] [--connect-gap MS]\n"
                    "       [--paths-file F]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "get") == 0)
        opt.mode = M_GET;
    else if (strcmp(argv[1], "post") == 0)
        opt.mode = M_POST, opt.conns = 4;
    else
        usage();
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(k, "--port"))
            opt.port = (int)strtol(v, NULL, 10);
        else if (!strcmp(k, "--path"))
            opt.path = v;
        else if (!strcmp(k, "--token-file")) {
            FILE *f = fopen(v, "r");
            if (!f || !fgets(opt.token, sizeof opt.token, f))
                die(v);
            fclose(f);
            opt.token[strcspn(opt.token, "\r\n")] = '\0';
        } else if (!strcmp(k, "--conns"))
            opt.conns = strtol(v, NULL, 10);
        else if (!strcmp(k, "--threads"))
            opt.threads = strtol(v, NULL, 10);
        else if (!strcmp(k, "--duration"))
            opt.duration = strtod(v, NULL);
        else if (!strcmp(k, "--warmup"))
            opt.warmup = strtod(v, NULL);
        else if (!strcmp(k, "--limit"))
            opt.limit = strtol(v, NULL, 10);
        else if (!strcmp(k, "--after")) {
            char *e;
            opt.after0 = strtoll(v, &e, 10);
            opt.after1 = *e == ':' ? strtoll(e + 1, NULL, 10) : 0;
        } else if (!strcmp(k, "--objects"))
            opt.objects = strtol(v, NULL, 10);
        else if (!strcmp(k, "--per"))
            opt.per = strtol(v, NULL, 10);
        else if (!strcmp(k, "--connect-gap"))
            opt.connect_gap_ms = strtol(v, NULL, 10);
        else if (!strcmp(k, "--paths-file")) {
            FILE *f = fopen(v, "r");
            if (!f)
                die(v);
            char line[4096];
            while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0])
                    continue;
                opt.paths = realloc(opt.paths, (opt.npaths + 1) * sizeof *opt.paths);
                if (!opt.paths || !(opt.paths[opt.npaths++] = strdup(line)))
                    die("out of memory");
            }
            fclose(f);
            if (!opt.npaths)
                usage();
            if (!opt.path)
                opt.path = opt.paths[0];
        } else if (!strcmp(k, "--seed"))
            opt.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--version"))
            opt.version = strtoul(v, NULL, 10);
        else
            usage();
    }
    if (!opt.port || !opt.path || opt.conns < 1 || opt.conns > MAX_CONNS || opt.threads < 1 ||
        opt.per < 1 || (opt.mode == M_POST && opt.objects < 1))
        usage();
    if (opt.threads > opt.conns)
        opt.threads = opt.conns;
    if (opt.mode == M_POST) {
        nbatches = (opt.objects + opt.per - 1) / opt.per;
        decile_t = calloc(11, sizeof *decile_t);
        opt.warmup = 0;
    }

    struct worker *ws = calloc((size_t)opt.threads, sizeof *ws);
    struct conn *cs = calloc((size_t)opt.conns, sizeof *cs);
    if (!ws || !cs)
        die("out of memory");
    long given = 0;
    for (long t = 0; t < opt.threads; t++) {
        long n = opt.conns / opt.threads + (t < opt.conns % opt.threads);
        ws[t].id = (int)t;
        ws[t].conns = cs + given;
        ws[t].nconns = (int)n;
        given += n;
    }
    double cpu0 = cpu_s();
    t_start = now_s();
    if (decile_t)
        decile_t[0] = t_start;
    for (long t = 0; t < opt.threads; t++)
        if (pthread_create(&ws[t].th, NULL, worker_main, &ws[t]) != 0)
            die("pthread_create");
    for (long t = 0; t < opt.threads; t++)
        pthread_join(ws[t].th, NULL);
    double t_end = now_s();
    double cpu = cpu_s() - cpu0;

    size_t nlat = 0;
    long ok = 0, errors = 0, bytes = 0;
    for (long t = 0; t < opt.threads; t++) {
        nlat += ws[t].nlat;
        ok += ws[t].ok;
        errors += ws[t].errors;
        bytes += ws[t].bytes_in;
    }
    double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t at = 0;
    for (long t = 0; t < opt.threads; t++) {
        memcpy(lat + at, ws[t].lat, ws[t].nlat * sizeof *lat);
        at += ws[t].nlat;
    }
    qsort(lat, nlat, sizeof *lat, cmp_double);
    double secs = opt.mode == M_GET ? t_end - t_start - opt.warmup : t_end - t_start;
    if (secs <= 0)
        secs = 1e-9;
    printf("requests=%ld errors=%ld seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f client_cpu_pct=%.1f bytes_per_resp=%.0f",
           ok, errors, secs, (double)ok / secs, pct(lat, nlat, 50), pct(lat, nlat, 90),
           pct(lat, nlat, 99), nlat ? lat[nlat - 1] : 0.0, 100.0 * cpu / (t_end - t_start),
           ok ? (double)bytes / (double)ok : 0.0);
    if (opt.mode == M_POST) {
        long done = atomic_load(&objects_done);
        printf(" objects=%ld objects_per_s=%.1f", done, (double)done / secs);
        double lo = 0, hi = 0;
        printf(" tenths_per_s=");
        for (int d = 1; d <= 10; d++) {
            double dt = decile_t[d] - decile_t[d - 1];
            double r = decile_t[d] > 0 && dt > 0 ? (double)(opt.objects / 10) / dt : 0;
            if (d == 1 || r < lo)
                lo = r;
            if (r > hi)
                hi = r;
            printf("%s%.0f", d > 1 ? "," : "", r);
        }
        printf(" min_tenth_per_s=%.0f", lo);
    }
    printf("\n");
    return errors ? 1 : 0;
}
