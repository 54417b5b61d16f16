/* stream.c - the live stream: Server-Sent Events at /api/v1/stream (S5).
 *
 * Each connection replays the event log from where the client left off (the Last-Event-ID
 * header, or ?since=ID; 0 for the start of the log; by default only new events), then follows
 * it. Every event passes the read policy for this reader before it is sent; events it may not
 * read are skipped silently. An event's id is not the log's sequence number (that counts every
 * partner's events, so two ids would tell a reader how many it did not see: S3) but that
 * number sealed for this user (rest_sealer_seal: XChaCha20-Poly1305 under a subkey of
 * secret.key, a new nonce each time, the user as associated data): opaque, unforgeable, good
 * for resuming only by the user it was sent to, on any front-end of the hub. Anything else in
 * Last-Event-ID or since is refused (400), as a number other than 0 is (bisecting ?since=N
 * over numbers would find each visible event's place in the log). A comment line every
 * sse_heartbeat seconds keeps proxies and clients from timing out. The connection sleeps
 * between events (no worker thread is held).
 *
 * Limits (docs/ACCESS.md): a credential (an API token, or a user's dashboard sessions) holds
 * at most stream_limit_per_credential streams and all together at most stream_limit (never
 * more than half of connection_limit); beyond, 429. Every STREAM_RECHECK_US a stream checks
 * that its credential still holds (auth_recheck) and ends when it does not: a revoked token,
 * a logout, a new password or a disabled user closes the streams they opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "base/err.h"
#include "base/json.h"
#include "base/xalloc.h"
#include "compliance/compliance.h"
#include "service/alerts.h"
#include "server/app.h"
#include "server/ratelimit.h"
#include "server/rest.h"

/* A batch (what one wake of a stream reads and buffers) ends after this many events or once
 * it holds this many bytes: a client replaying the whole log holds one batch at a time. */
#define STREAM_BATCH 200
#define STREAM_BATCH_BYTES (16 * 1024)
/* How often a stream checks that its credential still holds. */
#define STREAM_RECHECK_US 1000000

struct sse {
    struct app *a;
    struct rest_sealer ids;      /* seals event ids for the user (rest.h) */
    struct policy_reader reader; /* its groups are read again with each batch */
    char kinds[128];             /* ?kinds=report,alert ("" = all) */
    int64_t last_seq;
    int64_t last_sent_us;
    bool greeted;
    struct auth_credential cred; /* what opened the stream, checked again while it lasts */
    int64_t checked_us;          /* when cred was last checked */
    int64_t slot_key;            /* the key of its slot in a->streams */
    int64_t partner;             /* the key of its slot in a->partner_streams */
};

static void sse_free(void *ctx)
{
    struct sse *s = ctx;
    slots_give(s->a->streams, s->slot_key);
    slots_give(s->a->partner_streams, s->partner);
    rest_sealer_release(&s->ids);
    auth_reader_release(&s->reader);
    free(s);
}

static bool wanted(const struct sse *s, const char *kind)
{
    if (!s->kinds[0])
        return true;
    size_t n = strlen(kind);
    for (const char *p = s->kinds; p; p = strchr(p, ',')) {
        p += *p == ',';
        if (strncmp(p, kind, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

struct batch {
    struct sse *s;
    struct store_reader *r;
    struct buf *out;
    char **reports; /* ids of the reports sent, for their incidents (?kinds=incident) */
    size_t nreports;
};

/* True when the client named kind in ?kinds= (opt-in kinds: not sent by default). */
static bool asked(const struct sse *s, const char *kind)
{
    return s->kinds[0] && wanted(s, kind);
}

static int send_event(void *ctx, const struct store_event *e)
{
    struct batch *b = ctx;
    b->s->last_seq = e->seq;
    bool incident = strcmp(e->kind, "report") == 0 && asked(b->s, "incident");
    if (!wanted(b->s, e->kind) && !incident)
        return 0;
    char *view = NULL;
    if (strcmp(e->kind, "alert") == 0) {
        /* An alert is sent as this reader's view of it, computed now, when what changed it
         * is something this reader may read; otherwise not at all. */
        json_t *v = alerts_event_view(b->s->a->alerts, &b->s->reader, e->data);
        if (!v)
            return 0;
        view = vjson_dumps(v);
        json_decref(v);
    } else if (strcmp(e->kind, "violation") == 0) {
        /* A violation's status changed: sent as this reader's view of it now (as GET
         * /api/v1/violations/{id} gives it), or not at all when they may not see it. */
        json_t *d = json_loads(e->data, 0, NULL);
        const char *id = json_string_value(json_object_get(d, "id"));
        json_t *v = id ? compliance_violation_get(b->r, &b->s->reader, id) : NULL;
        json_decref(d);
        if (!v)
            return 0;
        view = vjson_dumps(v);
        json_decref(v);
    } else if (!policy_can_read(&b->s->reader, &e->acl)) {
        return 0;
    } else if (incident) {
        json_t *d = json_loads(e->data, 0, NULL);
        const char *id = json_string_value(json_object_get(d, "id"));
        if (id) {
            b->reports = xrealloc(b->reports, (b->nreports + 1) * sizeof(*b->reports));
            b->reports[b->nreports++] = xstrdup(id);
        }
        json_decref(d);
        if (!wanted(b->s, "report"))
            return 0;
    }
    char id[REST_CURSOR_SZ];
    rest_sealer_seal(&b->s->ids, &e->seq, 1, id);
    int rc =
        buf_addf(b->out, "id: %s\nevent: %s\ndata: %s\n\n", id, e->kind, view ? view : e->data);
    free(view);
    return rc ? rc : b->out->len >= STREAM_BATCH_BYTES; /* non-zero: the batch is full */
}

static int sse_next(void *ctx, struct buf *out)
{
    struct sse *s = ctx;
    int64_t t = ts_monotonic_us();
    if (t - s->checked_us >= STREAM_RECHECK_US) {
        /* A store that cannot answer now is asked again on the next wake. */
        if (auth_recheck(s->a->store, &s->cred) == VIGIL_EAUTH)
            return -1;
        s->checked_us = t;
    }
    if (!s->greeted) {
        buf_adds(out, "retry: 3000\n: connected\n\n");
        s->greeted = true;
    }
    struct store_reader *r;
    if (store_read_begin(s->a->store, &r))
        return 0; /* try again on the next wake */
    /* The reader's sharing groups as they are in this batch's snapshot: a partner or user
     * taken out of a group gets none of its objects from the next batch on. */
    if (auth_load_groups(r, &s->reader)) {
        store_read_end(r);
        return 0;
    }
    struct batch b = {s, r, out, NULL, 0};
    store_events(r, s->last_seq, STREAM_BATCH, send_event, &b);
    /* Each report's incident as this reader may see it now, after the batch's events (no id:
     * a reconnection does not replay them, the next report event of the incident does). */
    for (size_t i = 0; i < b.nreports; i++) {
        json_t *inc = incident_around(r, &s->reader, b.reports[i]);
        if (inc) {
            char *text = vjson_dumps(inc);
            buf_addf(out, "event: incident\ndata: %s\n\n", text);
            free(text);
            json_decref(inc);
        }
        free(b.reports[i]);
    }
    free(b.reports);
    store_read_end(r);
    int64_t now = ts_monotonic_us();
    if (out->len)
        s->last_sent_us = now;
    else if (now - s->last_sent_us >= s->a->cfg->sse_heartbeat * 1000000L) {
        buf_adds(out, ": heartbeat\n\n");
        s->last_sent_us = now;
    }
    return 0;
}

static void h_stream(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const struct auth_principal *p = app_principal(req);
    const char *last = http_header(req, "Last-Event-ID");
    const char *since = http_query(req, "since");
    const char *kinds = http_query(req, "kinds");
    const char *from = last ? last : since;
    int64_t start = 0;
    if (from) {
        if (strcmp(from, "0") != 0 &&
            (!rest_cursor_open(a, req, "stream", from, &start, 1) || start < 0)) {
            app_error(req, resp, 400, "bad request",
                      "Last-Event-ID (or since) takes the id of an event this stream sent to "
                      "you, or 0 for the start; send none for new events only");
            return;
        }
    } else {
        struct store_reader *r;
        if (store_read_begin(a->store, &r) || store_event_head(r, &start)) {
            app_error(req, resp, 503, "store unavailable", NULL);
            return;
        }
        store_read_end(r);
    }
    if (kinds && strlen(kinds) >= sizeof((struct sse *)0)->kinds) {
        app_error(req, resp, 400, "bad request", "kinds: too long");
        return;
    }
    /* Sessions have no token id: their slots are the user's, keyed by the id negated. */
    int64_t key = p->token ? p->token : -p->user;
    /* A partner's admin mints tokens at will: the partner's credentials together hold at
     * most stream_limit_per_partner, so that one partner cannot take every stream. */
    enum slots_result taken = slots_take(a->streams, key), own = SLOTS_OK;
    if (taken == SLOTS_OK && (own = slots_take(a->partner_streams, p->partner)) != SLOTS_OK)
        slots_give(a->streams, key);
    if (taken != SLOTS_OK || own != SLOTS_OK) {
        app_error(req, resp, 429, "too many live streams",
                  taken == SLOTS_KEY_FULL ? "this credential holds as many live streams as it "
                                            "may; close one first"
                  : own != SLOTS_OK       ? "your partner's credentials hold as many live streams "
                                            "as they may together; close one first"
                                          : "the hub serves as many live streams as it may");
        http_resp_header(resp, "Retry-After", "5");
        return;
    }
    struct sse *s = xcalloc(1, sizeof *s);
    s->a = a;
    rest_sealer_init(&s->ids, a, p->user, "stream");
    s->slot_key = key;
    s->partner = p->partner;
    s->cred = p->cred;
    s->checked_us = ts_monotonic_us();
    s->reader = p->reader;
    s->reader.groups = s->reader.user_groups = NULL; /* loaded with each batch (sse_next) */
    s->reader.ngroups = s->reader.nuser_groups = 0;
    snprintf(s->kinds, sizeof s->kinds, "%s", kinds ? kinds : "");
    s->last_seq = start;
    s->last_sent_us = ts_monotonic_us();
    resp->status = 200;
    resp->content_type = "text/event-stream";
    http_resp_header(resp, "Cache-Control", "no-cache");
    http_resp_header(resp, "X-Accel-Buffering", "no");
    http_resp_stream(resp, sse_next, s, sse_free);
}

const struct http_route rest_stream_routes[] = {
    {"GET", "/api/v1/stream", h_stream, "stream", false},
};
const size_t rest_stream_nroutes = sizeof rest_stream_routes / sizeof rest_stream_routes[0];
