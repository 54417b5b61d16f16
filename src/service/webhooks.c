#include "service/webhooks.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "access/events.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "service/webhook_target.h"
#include "vigil_version.h"

/* Deliveries in progress at once, each to a different webhook: a receiver that is slow or
 * never answers holds one of them for up to its timeout, never the others' deliveries. The
 * webhooks of one partner's users hold at most PER_PARTNER of them together, so that a
 * partner's silent receivers leave the other partners places (docs/ACCESS.md, "Limits"). */
#define IN_FLIGHT 64
#define PER_PARTNER 8
#define TIMEOUT_S 10L
#define CONNECT_TIMEOUT_S 5L
/* The last error of a delivery given up because its subscriber may no longer read it. */
#define UNSHARED "given up: no longer shared with its subscriber"

/* What a connection may reach: libcurl asks before each connect (webhook_target.h). */
struct connect_check {
    bool allow_private;
    bool refused; /* an address was refused */
};

/* A delivery in progress (c NULL: a free slot). */
struct flight {
    CURL *c;
    struct curl_slist *hdr;
    struct connect_check check;
    int64_t id, hook, partner;
    int attempts;
    char *url, *body;
};

struct webhook_sender {
    struct store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool poked, stopping;
    bool allow_private; /* vigil.conf webhook_allow_private */
    /* the sender thread's own */
    CURLM *multi;
    struct flight fl[IN_FLIGHT];
    size_t busy;
    struct store_reader *r;      /* refill's, while it lists what is due */
    int64_t unshared[IN_FLIGHT]; /* due deliveries their subscribers may no longer read */
    size_t nunshared;
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    return size * n;
}

static curl_socket_t open_checked(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct connect_check *cc = ctx;
    if (purpose != CURLSOCKTYPE_IPCXN ||
        (!cc->allow_private && !webhook_addr_public(&a->addr))) {
        cc->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Whether d's webhook has a delivery in progress, or d's partner PER_PARTNER. */
static bool held_back(const struct webhook_sender *w, const struct store_delivery *d)
{
    int partner = 0;
    for (size_t i = 0; i < IN_FLIGHT; i++) {
        if (!w->fl[i].c)
            continue;
        if (w->fl[i].hook == d->hook)
            return true;
        partner += w->fl[i].partner == d->partner;
    }
    return partner >= PER_PARTNER;
}

static void flight_end(struct webhook_sender *w, struct flight *f)
{
    curl_multi_remove_handle(w->multi, f->c);
    curl_easy_cleanup(f->c);
    curl_slist_free_all(f->hdr);
    free(f->url);
    free(f->body);
    memset(f, 0, sizeof *f);
    w->busy--;
}

/* Starts the POST of a due delivery (store_outbox_due gives the oldest due delivery of each
 * webhook) in a free slot, unless held back. */
static int start(void *ctx, const struct store_delivery *d)
{
    struct webhook_sender *w = ctx;
    if (w->busy == IN_FLIGHT)
        return 1;
    if (held_back(w, d))
        return 0;
    /* Asked again before each attempt: a retry comes up to an hour later, and meanwhile the
     * subscriber may have left the object's sharing group. (An alert's delivery carries the
     * subscriber's own view, made when it was queued, under the handling of no one: its
     * evidence was judged then, docs/ACCESS.md.) */
    bool ok = d->view;
    if (!ok && events_may_deliver(w->r, d->user, &d->event.acl, &ok))
        return 0; /* the store cannot tell now: asked again on the next refill */
    if (!ok) {
        if (w->nunshared < IN_FLIGHT)
            w->unshared[w->nunshared++] = d->id;
        return 0;
    }
    struct flight *f = w->fl;
    while (f->c)
        f++;
    /* delivery and seq: this webhook's own number of the delivery, never a hub-wide one (the
     * outbox id or the event's seq count every subscriber's deliveries and every event: S3).
     * A row queued before that numbering keeps the numbers it had (it may have been received
     * already, and a receiver drops duplicates by the delivery id). */
    int64_t n = STORE_OUTBOX_N(d->id), number = n ? n : d->id;
    char *body = xasprintf("{\"delivery\":%lld,\"event\":\"%s\",\"seq\":%lld,\"data\":%s}",
                           (long long)number, d->event.kind, (long long)(n ? n : d->event.seq),
                           d->event.data);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)d->secret, strlen(d->secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    char h_sig[128], h_id[64], h_event[64];
    snprintf(h_sig, sizeof h_sig, "X-Vigil-Signature: sha256=%s", hex);
    snprintf(h_id, sizeof h_id, "X-Vigil-Delivery: %lld", (long long)number);
    snprintf(h_event, sizeof h_event, "X-Vigil-Event: %.40s", d->event.kind);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = hdr ? curl_slist_append(hdr, h_sig) : NULL;
    hdr = hdr ? curl_slist_append(hdr, h_id) : NULL;
    hdr = hdr ? curl_slist_append(hdr, h_event) : NULL;
    CURL *c = hdr ? curl_easy_init() : NULL;
    if (!c) {
        log_error("webhook: cannot set up delivery %lld", (long long)d->id);
        curl_slist_free_all(hdr);
        free(body);
        return 1;
    }
    *f = (struct flight){.c = c,
                         .hdr = hdr,
                         .check = {.allow_private = w->allow_private},
                         .id = d->id,
                         .hook = d->hook,
                         .partner = d->partner,
                         .attempts = d->attempts,
                         .url = xstrdup(d->url),
                         .body = body};
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, f->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PRIVATE, f);
    /* The address connected to is the one checked: no proxy from the environment, and every
     * address (after any DNS answer, however late) passes open_checked. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &f->check);
    w->busy++;
    if (curl_multi_add_handle(w->multi, c) != CURLM_OK) {
        log_error("webhook: cannot start delivery %lld", (long long)d->id);
        flight_end(w, f);
        return 1;
    }
    return 0;
}

struct result {
    int64_t id;
    bool ok;
    const char *err;
    vtime_t next;
};

static int record(struct store_txn *t, void *arg)
{
    struct result *r = arg;
    return store_txn_outbox_result(t, r->id, r->ok, r->err, r->next);
}

/* Records the outcome of a finished delivery (cc: libcurl's) and frees its slot. */
static void finish(struct webhook_sender *w, struct flight *f, CURLcode cc)
{
    long status = 0;
    char err[128] = "";
    curl_easy_getinfo(f->c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK && f->check.refused)
        snprintf(err, sizeof err,
                 "refused: the receiver's address is not public "
                 "(webhook_allow_private)");
    else if (cc != CURLE_OK)
        snprintf(err, sizeof err, "%s", curl_easy_strerror(cc));
    else if (status < 200 || status > 299)
        snprintf(err, sizeof err, "the receiver answered %ld", status);
    struct result res = {.id = f->id, .ok = !err[0], .err = err};
    if (!res.ok) {
        int a = f->attempts + 1;
        res.next = a >= WEBHOOK_MAX_ATTEMPTS
                       ? 0
                       : ts_now() + (vtime_t)(a < 11 ? 1 << a : 3600) * VTIME_US_PER_SEC;
        log_warn("webhook delivery %lld to %s failed (attempt %d): %s", (long long)f->id, f->url, a,
                 err);
    }
    if (store_write(w->store, record, &res))
        log_error("webhook: cannot record the result of delivery %lld", (long long)f->id);
    flight_end(w, f);
}

/* Starts what is due, in the slots that are free. */
static void refill(struct webhook_sender *w)
{
    struct store_reader *r;
    if (w->busy == IN_FLIGHT || !store_leads(w->store))
        return; /* another front-end of the hub delivers (store_leads) */
    if (store_read_begin(w->store, &r))
        return;
    /* the webhooks of the deliveries in progress are among those listed: IN_FLIGHT rows leave
     * at least IN_FLIGHT - busy to start when there are that many */
    w->r = r;
    w->nunshared = 0;
    store_outbox_due(r, ts_now(), IN_FLIGHT, PER_PARTNER, start, w);
    w->r = NULL;
    store_read_end(r);
    for (size_t i = 0; i < w->nunshared; i++) {
        struct result res = {w->unshared[i], false, UNSHARED, 0};
        if (store_write(w->store, record, &res))
            log_error("webhook: cannot give up delivery %lld", (long long)res.id);
    }
}

/* Moves the transfers on; true when one finished. */
static bool progress(struct webhook_sender *w)
{
    int running, left;
    bool done = false;
    curl_multi_perform(w->multi, &running);
    for (CURLMsg *m; (m = curl_multi_info_read(w->multi, &left));) {
        struct flight *f = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        finish(w, f, m->data.result);
        done = true;
    }
    return done;
}

/* The sender's loop: starts due deliveries (on a poke, when a slot frees, and each second for
 * retries that come due), and moves those in progress on, waking at least every 100 ms. At
 * stop, deliveries in progress are abandoned unrecorded: they are made again after a restart
 * (receivers drop duplicates by their delivery id). */
static void *sender_main(void *arg)
{
    struct webhook_sender *w = arg;
    int64_t refilled = 0;
    bool freed = false;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        /* freed: more may be due (recording a result also pokes, through the commit hook) */
        if (!w->busy && !freed && !w->poked && !w->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* retries come due without a poke */
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        bool poked = w->poked, stopping = w->stopping;
        w->poked = false;
        pthread_mutex_unlock(&w->mu);
        if (stopping)
            break;
        int64_t now = ts_monotonic_us();
        if (poked || freed || !w->busy || now - refilled >= 1000000) {
            refill(w);
            refilled = now;
        }
        freed = w->busy && progress(w);
        if (w->busy && !freed)
            curl_multi_poll(w->multi, NULL, 0, 100, NULL);
    }
    for (size_t i = 0; i < IN_FLIGHT; i++)
        if (w->fl[i].c)
            flight_end(w, &w->fl[i]);
    return NULL;
}

struct webhook_sender *webhook_sender_start(struct store *s, bool allow_private)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("webhook: cannot initialise libcurl");
        return NULL;
    }
    struct webhook_sender *w = xcalloc(1, sizeof *w);
    w->store = s;
    w->allow_private = allow_private;
    w->multi = curl_multi_init();
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (!w->multi || pthread_create(&w->thread, NULL, sender_main, w) != 0) {
        log_error("webhook: cannot start the sender thread");
        curl_multi_cleanup(w->multi);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        curl_global_cleanup();
        return NULL;
    }
    return w;
}

void webhook_sender_poke(struct webhook_sender *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->poked = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void webhook_sender_stop(struct webhook_sender *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    curl_multi_cleanup(w->multi);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    curl_global_cleanup();
}

/* ---- subscriptions ---------------------------------------------------------------------- */

struct subscribe {
    const struct auth_principal *actor;
    long max;
    struct webhook_subscription *sub;
};

static int subscribe_txn(struct store_txn *t, void *arg)
{
    struct subscribe *x = arg;
    struct webhook_subscription *sub = x->sub;
    int64_t held;
    int rc = store_webhooks_of_partner(store_txn_reader(t), x->actor->partner, &held);
    if (!rc && held >= x->max)
        return VIGIL_ETOOBIG;
    rc = rc ? rc
            : store_txn_webhook_add(t, x->actor->user, sub->url, sub->secret, sub->kinds, &sub->id);
    return rc ? rc
              : audit_append(t, x->actor->partner, x->actor->user, "admin", sub->url,
                             "{\"op\":\"webhook add\"}");
}

int webhook_subscribe(struct store *s, const struct auth_principal *actor, bool allow_private,
                      long max, struct webhook_subscription *sub, char msg[WEBHOOK_MSG_SZ])
{
    msg[0] = '\0';
    if (!sub->kinds)
        sub->kinds = "";
    if (!sub->secret) {
        unsigned char raw[32];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(sub->drawn, sizeof sub->drawn, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sub->secret = sub->drawn;
    }
    char target[WEBHOOK_TARGET_MSG_SZ];
    if (webhook_target_check(sub->url, allow_private, target)) {
        snprintf(msg, WEBHOOK_MSG_SZ, "%s", target);
        return VIGIL_EINVAL;
    }
    if (strlen(sub->secret) < 16 || strlen(sub->secret) > 256) {
        snprintf(msg, WEBHOOK_MSG_SZ, "secret: 16 to 256 characters (or leave it out to get one)");
        return VIGIL_EINVAL;
    }
    if (strlen(sub->kinds) > 100 || !events_webhook_kinds_valid(sub->kinds)) {
        snprintf(msg, WEBHOOK_MSG_SZ,
                 "kinds: report, alert or report,alert (empty: both); violations are on the live "
                 "stream only (docs/ACCESS.md)");
        return VIGIL_EINVAL;
    }
    struct subscribe x = {actor, max, sub};
    int rc = store_write(s, subscribe_txn, &x);
    if (rc == VIGIL_ETOOBIG)
        snprintf(msg, WEBHOOK_MSG_SZ,
                 "your partner's users hold %ld webhooks, the most this hub allows "
                 "(webhooks_per_partner): remove one first",
                 max);
    return rc;
}

struct unsubscribe {
    const struct auth_principal *actor;
    int64_t id;
};

static int unsubscribe_txn(struct store_txn *t, void *arg)
{
    struct unsubscribe *x = arg;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)x->id);
    int rc = store_txn_webhook_disable(t, x->id, x->actor->user);
    return rc ? rc
              : audit_append(t, x->actor->partner, x->actor->user, "admin", id,
                             "{\"op\":\"webhook remove\"}");
}

int webhook_unsubscribe(struct store *s, const struct auth_principal *actor, int64_t id)
{
    struct unsubscribe x = {actor, id};
    return id > 0 ? store_write(s, unsubscribe_txn, &x) : VIGIL_ENOENT;
}
