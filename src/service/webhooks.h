/* webhooks.h - delivering events to partners' own systems (S5).
 *
 * A partner subscribes a URL (POST /api/v1/webhooks). Each event its user may read is queued
 * in the durable outbox when it is published (access/events.h); this sender delivers the queue
 * in order of due time, up to 64 deliveries side by side but one per webhook at a time (a
 * receiver that never answers holds back only its own queue, for at most 10 s a delivery): an
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

#include "store/store.h"

#define WEBHOOK_MAX_ATTEMPTS 12

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
