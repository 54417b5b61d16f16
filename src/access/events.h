/* events.h - publishing events: the durable log behind the live stream (SSE) and webhooks.
 *
 * A write that others should hear about (a new report, an alert created or updated, a
 * violation's status change) publishes an event in its own transaction: the event is durable
 * exactly when the write is. Each event carries the handling of what it tells about, so the
 * read policy decides who hears of it, the same way it decides who may read the object.
 * Publishing also queues one delivery per webhook whose owner may read the event and that the
 * egress gate lets leave the hub (policy_may_leave: never TLP:AMBER+STRICT, RED or unknown).
 */
#ifndef VIGIL_ACCESS_EVENTS_H
#define VIGIL_ACCESS_EVENTS_H

#include <stdbool.h>

#include "store/store.h"

/* Publishes an event of `kind` about something handled as acl; data is JSON text. Returns 0
 * or a store error (the caller's transaction then rolls back). *seq may be NULL. */
int events_publish(struct store_txn *t, const char *kind, const struct store_acl *acl,
                   const char *data, int64_t *seq);

/* Whether what is handled as acl may go to the webhook of user, now: the user is not disabled,
 * may read it (with the sharing groups it is in now), and it may leave the hub (the egress
 * gate). Asked when a delivery is queued and again before each attempt (webhooks.c). */
int events_may_deliver(struct store_reader *r, int64_t user, const struct store_acl *acl, bool *ok);

/* True when a webhook's kinds (a comma-separated list, "" for every kind) hold kind. */
bool events_wants(const char *kinds, const char *kind);
/* True when kinds names only what webhooks deliver ("report", "alert"; "" for both): a
 * subscription to anything else would receive nothing. */
bool events_webhook_kinds_valid(const char *kinds);

#endif
