/* rest.h - helpers shared by the /api/v1/ handlers, and their route tables. */
#ifndef VIGIL_SERVER_REST_H
#define VIGIL_SERVER_REST_H

#include <jansson.h>
#include <stdbool.h>

#include "server/app.h"

/* Parses the request body as a JSON object whose members are all in `fields` (a NULL-ended
 * list; NULL: any members, which the caller then checks). Answers 400 (malformed, not an object,
 * unknown field) or 415 (not JSON) itself and returns NULL; else returns a new reference. */
json_t *rest_body(struct app *a, struct http_req *req, struct http_resp *resp,
                  const char *const *fields);
/* Lends a store reader for the request; on failure answers 503 itself and returns false. */
bool rest_reader(struct app *a, struct http_req *req, struct http_resp *resp,
                 struct store_reader **r);
/* Answers with v (consumed) as application/json. */
void rest_reply(struct http_resp *resp, int status, json_t *v);
/* False (403 answered) for read-only tokens. */
bool rest_can_write(struct http_req *req, struct http_resp *resp);

extern const struct http_route rest_admin_routes[];
extern const size_t rest_admin_nroutes;
extern const struct http_route rest_alert_routes[];
extern const size_t rest_alert_nroutes;
extern const struct http_route rest_stream_routes[];
extern const size_t rest_stream_nroutes;
extern const struct http_route rest_report_routes[];
extern const size_t rest_report_nroutes;
extern const struct http_route rest_compliance_routes[];
extern const size_t rest_compliance_nroutes;

#endif
