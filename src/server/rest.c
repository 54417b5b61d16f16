/* rest.c - what the /api/v1/ handlers share. */
#include "server/rest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"

json_t *rest_body(struct app *a, struct http_req *req, struct http_resp *resp,
                  const char *const *fields)
{
    const char *ctype = http_header(req, "Content-Type");
    if (!ctype || strncasecmp(ctype, "application/json", 16) != 0) {
        app_error(req, resp, 415, "unsupported media type", "send the body as application/json");
        return NULL;
    }
    json_t *v;
    char msg[JSON_MSG_SZ];
    if (vjson_parse(req->body, req->body_len, (int)a->cfg->json_max_depth, &v, msg)) {
        app_error(req, resp, 400, "bad request", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        app_error(req, resp, 400, "bad request", "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *val;
    if (!fields)
        return v; /* the caller checks the members itself */
    json_object_foreach (v, key, val) {
        bool known = false;
        for (const char *const *f = fields; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known) {
            char d[160];
            snprintf(d, sizeof d, "unknown field \"%.80s\"", key);
            json_decref(v);
            app_error(req, resp, 400, "bad request", d);
            return NULL;
        }
    }
    return v;
}

void rest_reply(struct http_resp *resp, int status, json_t *v)
{
    app_json(resp, status, "application/json", v);
    json_decref(v);
}

bool rest_can_write(struct http_req *req, struct http_resp *resp)
{
    if (!app_principal(req)->read_only)
        return true;
    app_error(req, resp, 403, "forbidden", "this token is read-only");
    return false;
}

bool rest_reader(struct app *a, struct http_req *req, struct http_resp *resp,
                 struct store_reader **r)
{
    if (store_read_begin(a->store, r) == 0)
        return true;
    app_error(req, resp, 503, "store unavailable", NULL);
    return false;
}
