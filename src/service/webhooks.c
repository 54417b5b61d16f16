#include "service/webhooks.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "service/webhook_target.h"
#include "vigil_version.h"

#define BATCH 16

struct webhook_sender {
    struct store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool poked, stopping;
    bool allow_private; /* vigil.conf webhook_allow_private */
};

/* A due delivery, copied out of the reader. */
struct job {
    int64_t id;
    int64_t number; /* what the subscriber is shown: its own count (store.h, STORE_OUTBOX_N) */
    int attempts;
    char *url, *secret, *kind, *body;
};

struct jobs {
    struct job v[BATCH];
    size_t n;
};

static int take(void *ctx, const struct store_delivery *d)
{
    struct jobs *j = ctx;
    struct job *x = &j->v[j->n++];
    x->id = d->id;
    x->attempts = d->attempts;
    x->url = xstrdup(d->url);
    x->secret = xstrdup(d->secret);
    x->kind = xstrdup(d->event.kind);
    /* delivery and seq: this webhook's own number of the delivery, never a hub-wide one (the
     * outbox id or the event's seq count every subscriber's deliveries and every event: S3).
     * A row queued before that numbering keeps the numbers it had (it may have been received
     * already, and a receiver drops duplicates by the delivery id). */
    int64_t n = STORE_OUTBOX_N(d->id);
    x->number = n ? n : d->id;
    x->body = xasprintf("{\"delivery\":%lld,\"event\":\"%s\",\"seq\":%lld,\"data\":%s}",
                        (long long)x->number, d->event.kind, (long long)(n ? n : d->event.seq),
                        d->event.data);
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    return size * n;
}

/* What a connection may reach: libcurl asks before each connect (webhook_target.h). */
struct connect_check {
    bool allow_private;
    bool refused; /* an address was refused */
};

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

/* POSTs one delivery; 0 when the receiver answered 2xx, else an error text in err. */
static int post(const struct job *x, bool allow_private, char err[128])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)x->secret, strlen(x->secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)x->body, strlen(x->body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);

    char h_sig[128], h_id[64], h_event[64];
    snprintf(h_sig, sizeof h_sig, "X-Vigil-Signature: sha256=%s", hex);
    snprintf(h_id, sizeof h_id, "X-Vigil-Delivery: %lld", (long long)x->number);
    snprintf(h_event, sizeof h_event, "X-Vigil-Event: %.40s", x->kind);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, h_sig);
    hdr = curl_slist_append(hdr, h_id);
    hdr = curl_slist_append(hdr, h_event);
    CURL *c = curl_easy_init();
    int rc = -1;
    if (c && hdr) {
        curl_easy_setopt(c, CURLOPT_URL, x->url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        /* The address connected to is the one checked: no proxy from the environment, and
         * every address (after any DNS answer, however late) passes open_checked. */
        struct connect_check check = {.allow_private = allow_private};
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &check);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK && check.refused)
            snprintf(err, 128,
                     "refused: the receiver's address is not public "
                     "(webhook_allow_private)");
        else if (cc != CURLE_OK)
            snprintf(err, 128, "%s", curl_easy_strerror(cc));
        else if (status < 200 || status > 299)
            snprintf(err, 128, "the receiver answered %ld", status);
        else
            rc = 0;
    } else {
        snprintf(err, 128, "cannot set up the request");
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
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

/* Delivers what is due; returns how many were attempted. */
static size_t run_once(struct webhook_sender *w)
{
    struct jobs j = {.n = 0};
    struct store_reader *r;
    if (!store_leads(w->store))
        return 0; /* another front-end of the hub delivers (store_leads) */
    if (store_read_begin(w->store, &r))
        return 0;
    store_outbox_due(r, ts_now(), BATCH, take, &j);
    store_read_end(r);
    for (size_t i = 0; i < j.n; i++) {
        struct job *x = &j.v[i];
        char err[128] = "";
        struct result res = {.id = x->id, .ok = post(x, w->allow_private, err) == 0, .err = err};
        if (!res.ok) {
            int a = x->attempts + 1;
            res.next = a >= WEBHOOK_MAX_ATTEMPTS
                           ? 0
                           : ts_now() + (vtime_t)(a < 11 ? 1 << a : 3600) * VTIME_US_PER_SEC;
            log_warn("webhook delivery %lld to %s failed (attempt %d): %s", (long long)x->id,
                     x->url, a, err);
        }
        if (store_write(w->store, record, &res))
            log_error("webhook: cannot record the result of delivery %lld", (long long)x->id);
        free(x->url);
        free(x->secret);
        free(x->kind);
        free(x->body);
    }
    return j.n;
}

static void *sender_main(void *arg)
{
    struct webhook_sender *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        if (!w->poked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1; /* retries come due without a poke */
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        w->poked = false;
        if (w->stopping)
            break;
        pthread_mutex_unlock(&w->mu);
        size_t n;
        do
            n = run_once(w);
        while (n == BATCH);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
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
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, sender_main, w) != 0) {
        log_error("webhook: cannot start the sender thread");
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
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
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    curl_global_cleanup();
}
