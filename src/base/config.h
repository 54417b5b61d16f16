/* config.h - the data directory's config file (DIR/vigil.conf).
 *
 * Plain "key = value" lines; '#' starts a comment line; blank lines are ignored. Every key has
 * a default, so an empty file is a valid configuration. Unknown keys and bad values are
 * refused with the line number, so a typo never silently falls back to a default.
 */
#ifndef VIGIL_BASE_CONFIG_H
#define VIGIL_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#define CONFIG_MSG_SZ 256

struct config {
    char *listen;            /* address:port the server binds */
    char *log_level;         /* debug, info, warn, error */
    long threads;            /* HTTP worker threads */
    long max_content_length; /* bytes accepted in one request body (TAXII max_content_length) */
    long page_max;           /* largest TAXII/REST page size a client may ask for */
    long max_response_length; /* bytes of objects after which a TAXII page ends early */
    long json_max_depth;     /* deepest JSON nesting accepted */
    long max_objects_per_request;
    long connection_limit; /* concurrent connections, all clients */
    long per_ip_connection_limit;
    long request_timeout;  /* seconds a connection may stay idle before it is cut */
    long request_deadline; /* seconds to receive one whole request */
    long sse_heartbeat;    /* seconds between heartbeats on a quiet live stream */
    long stream_limit;     /* live streams in all (at most half of connection_limit) */
    long stream_limit_per_credential; /* live streams of one token or session user */
    long login_rate_limit;            /* login attempts per minute per account; 0 = off */
    long login_rate_limit_address;    /* login attempts per minute per address; 0 = off */
    long login_concurrency;           /* password checks running at once */
    long stream_limit_per_partner;    /* live streams of one partner's credentials together */
    char *rules_file;      /* fusion rules; relative to the data directory */
    long rate_limit;       /* requests per minute per token; 0 = no limit */
    long rate_limit_per_partner; /* requests per minute of one partner's credentials; 0: none */
    char *store;           /* "" (SQLite in the data directory) or a postgresql:// URI */
    long read_connections; /* read-only store connections */
    char *tls_cert;        /* PEM certificate file; empty = plain HTTP */
    char *tls_key;         /* PEM key file (mode 0600) */
    char *web_root;        /* directory of the built dashboard (index.html, assets/) */
    bool webhook_allow_private; /* webhooks may go to loopback/private addresses */
    long webhooks_per_partner;  /* active webhooks of one partner's users together */
    long groups_per_partner;    /* sharing groups one partner may create through the API */
};

/* Fills c with every key's default. Release with config_release(). */
void config_init(struct config *c);
void config_release(struct config *c);
/* Applies one "key = value" setting; VIGIL_EINVAL with a message for an unknown key or a
 * bad value (c unchanged). */
int config_set(struct config *c, const char *key, const char *value, char msg[CONFIG_MSG_SZ]);
/* Reads a config file over the current values. VIGIL_EIO when it cannot be read,
 * VIGIL_EINVAL with "path:line: reason" in msg for a bad line (c may be partly applied). */
int config_load(struct config *c, const char *path, char msg[CONFIG_MSG_SZ]);
/* Appends a complete, commented config file with every key at its default to b. */
int config_write_defaults(struct buf *b);
/* Appends a complete, commented config file with every key at its value in c to b. */
int config_write(const struct config *c, struct buf *b);
/* Where the store of data directory dir is: c->store when set, else dir. */
const char *config_store(const struct config *c, const char *dir);

#endif
