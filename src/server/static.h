/* static.h - the dashboard's files (S9), served from the config key web_root.
 *
 * Public routes (the page and its scripts load without a token; the data they show comes from
 * the authenticated API):
 *   GET /                 web_root/index.html
 *   GET /assets/{file}    web_root/assets/{file}: hashed build output, cached for a year
 *   GET /{name}           web_root/{name} when it is a regular file (favicon.ico, ...); a name
 *                         without a dot is a page of the single-page app: index.html
 * Only regular files directly in web_root or web_root/assets are served: names are limited to
 * [A-Za-z0-9._-], may not start with a dot, and symbolic links are not followed; anything else
 * is 404. Every answer carries a strict Content-Security-Policy (default-src 'self', no inline
 * scripts) and nosniff. The table is registered last in app.c so that every API route wins.
 */
#ifndef VIGIL_SERVER_STATIC_H
#define VIGIL_SERVER_STATIC_H

#include <stddef.h>

#include "server/http.h"

/* The largest file served; bigger files are answered 404 and logged. */
#define STATIC_FILE_MAX (64L << 20)

extern const struct http_route static_routes[];
extern const size_t static_nroutes;

#endif
