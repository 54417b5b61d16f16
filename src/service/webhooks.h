/* webhooks.h - delivering events to partners' own systems (S5).
 *
 * A partner subscribes a URL (POST /api/v1/webhooks). Each event its user may read is queued
 * in the durable outbox when it is published (access/events.h); this sender delivers the queue
 * in order of due time, up to 64 deliveries side by side but one per webhook at a time and 8
 * for the webhooks of one partner's users (a receiver that never answers holds back only its
 * own queue, for at most 10 s a delivery): an
 * HTTP POST of {"delivery", "event", "seq", "data"} signed with
 * HMAC-SHA256 under the subscription's secret (header X-Vigil-Signature: sha256=HEX of the
 * body), with the delivery id in X-Vigil-Delivery (the same on every retry, so receivers can
 * drop duplicates). The delivery id and seq are both this webhook's own number of the
 * delivery (1, 2, ... in the order queued; store.h, STORE_OUTBOX_N): a hub-wide number would
 * count other subscribers' deliveries and events the subscriber may not read (S3). A failure
 * (no answer, or not 2xx) is retried with exponential backoff (2 s, 4 s, ... up to an hour)
 * and given up after WEBHOOK_MAX_ATTEMPTS. The outbox survives
 * restarts: what was queued is delivered after one. A delivery whose receiver is not at a public
 * address (webhook_target.h) fails like an unreachable receiver, unless allowed.
 */
#ifndef VIGIL_SERVER_WEBHOOKS_H
#define VIGIL_SERVER_WEBHOOKS_H

#include "access/auth.h"
#include "store/store.h"

#define WEBHOOK_MAX_ATTEMPTS 12
#define WEBHOOK_MSG_SZ 256

/* A subscription asked for, and what the hub made of it. */
struct webhook_subscription {
    const char *url;
    const char *secret; /* 16 to 256 characters; NULL: one is drawn (pointing at drawn) */
    const char *kinds;  /* "report", "alert", "report,alert"; NULL or "": both */
    char drawn[44];
    int64_t id; /* the webhook's, once subscribed */
};

/* Subscribes actor's user, with an audit entry. Nothing is written when it is refused:
 * VIGIL_EINVAL (msg says why) for a URL that is not a permitted target (webhook_target_check
 * with allow_private), a bad secret or kinds; VIGIL_ETOOBIG when the users of actor's partner
 * hold max active webhooks together. Every report and alert is offered to every webhook of
 * the hub in the transaction that stores it, so without that limit one analyst's thousand
 * subscriptions would slow every partner's writes (docs/ACCESS.md, "Limits"); it is counted
 * in the writing transaction, so that concurrent subscriptions cannot pass it together. */
int webhook_subscribe(struct store *s, const struct auth_principal *actor, bool allow_private,
                      long max, struct webhook_subscription *sub, char msg[WEBHOOK_MSG_SZ]);
/* Removes actor's user's webhook id, with an audit entry. VIGIL_ENOENT when that user has no
 * active webhook id. */
int webhook_unsubscribe(struct store *s, const struct auth_principal *actor, int64_t id);

struct webhook_sender;

/* Starts the sender thread. Deliveries connect only to public addresses unless allow_private
 * (service/webhook_target.h). Returns NULL (logged) when it cannot start. */
struct webhook_sender *webhook_sender_start(struct store *s, bool allow_private);
/* Tells the sender that new deliveries may be due (from the store's commit hook). */
void webhook_sender_poke(struct webhook_sender *w);
/* Stops the thread and frees it. Deliveries in progress are abandoned unrecorded: they are
 * made again after a restart (receivers drop duplicates by delivery id). NULL is a no-op. */
void webhook_sender_stop(struct webhook_sender *w);

#endif
