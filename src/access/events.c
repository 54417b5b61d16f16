#include "access/events.h"

#include <stdlib.h>
#include <string.h>

#include "access/auth.h"
#include "access/policy.h"
#include "base/err.h"
#include "base/xalloc.h"

bool events_wants(const char *kinds, const char *kind)
{
    size_t n = strlen(kind);
    if (!kinds[0])
        return true;
    for (const char *p = kinds; p; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, kind, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

bool events_webhook_kinds_valid(const char *kinds)
{
    for (const char *p = kinds; *p;) {
        size_t n = strcspn(p, ",");
        if (!((n == 6 && !strncmp(p, "report", n)) || (n == 5 && !strncmp(p, "alert", n))))
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

int events_may_deliver(struct store_reader *r, int64_t user, const struct store_acl *acl, bool *ok)
{
    *ok = false;
    struct store_user u;
    struct store_partner p;
    int rc = store_user_get(r, user, &u);
    if (!rc)
        rc = store_partner_get(r, u.partner, &p);
    if (rc)
        return rc == VIGIL_ENOENT ? 0 : rc;
    if (u.disabled)
        return 0;
    struct policy_reader reader = {.partner = p.id, .user = user, .coordinator = p.coordinator};
    rc = auth_load_groups(r, &reader);
    struct policy_recipient to = {&reader, EGRESS_WEBHOOK};
    if (!rc)
        *ok = policy_egress_visible(&to, acl);
    auth_reader_release(&reader);
    return rc;
}

/* The active webhooks, copied out of the reader so that other reads can follow. */
struct hooks {
    struct hook {
        int64_t id, user;
        char *kinds;
    } *v;
    size_t n, cap;
};

static int collect(void *ctx, const struct store_webhook *w)
{
    struct hooks *h = ctx;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 8;
        h->v = xrealloc(h->v, h->cap * sizeof *h->v);
    }
    h->v[h->n++] = (struct hook){w->id, w->user, xstrdup(w->kinds)};
    return 0;
}

int events_publish(struct store_txn *t, const char *kind, const struct store_acl *acl,
                   const char *data, int64_t *seq)
{
    int64_t ev;
    int rc = store_txn_event_add(t, kind, acl, data, &ev);
    if (rc)
        return rc;
    if (seq)
        *seq = ev;
    if (!policy_may_leave(acl, EGRESS_WEBHOOK))
        return 0; /* spares looking at the subscribers: nobody could receive it */
    struct hooks h = {0};
    struct store_reader *r = store_txn_reader(t);
    rc = store_webhooks(r, 0, collect, &h);
    for (size_t i = 0; i < h.n && !rc; i++) {
        bool ok = false;
        if (events_wants(h.v[i].kinds, kind))
            rc = events_may_deliver(r, h.v[i].user, acl, &ok);
        if (!rc && ok)
            rc = store_txn_outbox_add(t, h.v[i].id, ev, ts_now(), NULL);
    }
    for (size_t i = 0; i < h.n; i++)
        free(h.v[i].kinds);
    free(h.v);
    return rc;
}
