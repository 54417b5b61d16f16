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

/* The query parameters that select reports, shared by every endpoint that lists them: bbox,
 * since, until, event and future. Fills q from key=value and returns true when key is one of
 * them (then *bad is a message for a 400 when value is malformed, else untouched); false for
 * any other key. value borrows from the request. */
bool rest_report_filter(struct store_report_query *q, const char *key, const char *value,
                        const char **bad);

/* Paging cursors of the REST API (`next`, sent back as `cursor`): opaque to the reader. The
 * position (up to REST_CURSOR_VALS integers, such as a report's event time and index
 * sequence, which count every partner's reports) is encrypted and authenticated with a key
 * derived from the server key (XChaCha20-Poly1305), bound to the endpoint `what` and to the
 * reading user: a cursor cannot be read, forged, altered, or used by another user. */
#define REST_CURSOR_VALS 2
#define REST_CURSOR_SZ 96
void rest_cursor_seal(const struct app *a, const struct http_req *req, const char *what,
                      const int64_t *v, size_t n, char out[REST_CURSOR_SZ]);
/* Opens a cursor made by rest_cursor_seal for the same endpoint, user and n; false when it
 * was not. */
bool rest_cursor_open(const struct app *a, const struct http_req *req, const char *what,
                      const char *text, int64_t *v, size_t n);
/* The same for a given user (the live stream's event ids, checked without the request's). */
void rest_cursor_seal_for(const struct app *a, int64_t user, const char *what, const int64_t *v,
                          size_t n, char out[REST_CURSOR_SZ]);
bool rest_cursor_open_for(const struct app *a, int64_t user, const char *what, const char *text,
                          int64_t *v, size_t n);
/* Seals many cursors for one user and endpoint (a live stream's event ids), opened by
 * rest_cursor_open_for: the subkey is derived once, and each nonce is a random prefix drawn
 * once and a counter, where rest_cursor_seal draws a random nonce each time (a system call,
 * most of its cost). The caller owns the struct; rest_sealer_release wipes the key. */
struct rest_sealer {
    unsigned char key[32];
    unsigned char nonce[24]; /* 16 random bytes, then the counter */
    uint64_t count;
    char ad[96];
    size_t adlen;
};
void rest_sealer_init(struct rest_sealer *s, const struct app *a, int64_t user, const char *what);
void rest_sealer_seal(struct rest_sealer *s, const int64_t *v, size_t n, char out[REST_CURSOR_SZ]);
void rest_sealer_release(struct rest_sealer *s);

extern const struct http_route rest_admin_routes[];
extern const size_t rest_admin_nroutes;
extern const struct http_route rest_alert_routes[];
extern const size_t rest_alert_nroutes;
extern const struct http_route rest_stream_routes[];
extern const size_t rest_stream_nroutes;
extern const struct http_route rest_report_routes[];
extern const size_t rest_report_nroutes;
/* The incident (the JSON of GET /api/v1/incidents) that report report_id belongs to, formed
 * from the reports around it that reader may read; NULL when reader may not read the report
 * or its neighbourhood holds more than the endpoint's limit. A new reference. */
json_t *incident_around(struct store_reader *r, const struct policy_reader *reader,
                        const char *report_id);

/* The incidents of two or more reports that reader may read among the newest 20,000 rows of
 * the report index (the reports the hub accepted last), each as a STIX grouping of those
 * reports with the Vigil incident extension (docs/STIX-PROFILE.md, "Incidents"). Its modified
 * has millisecond precision: the TAXII alerts collection gives it its microseconds (one
 * content per version). A new array, empty when the store cannot be read. */
json_t *incidents_stix(struct store_reader *r, const struct policy_reader *reader);
extern const struct http_route rest_incident_routes[];
extern const size_t rest_incident_nroutes;
extern const struct http_route rest_compliance_routes[];
extern const size_t rest_compliance_nroutes;

#endif
