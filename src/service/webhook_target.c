/* webhook_target.c - where a webhook may be delivered. See webhook_target.h. */
#include "service/webhook_target.h"

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

/* x in host byte order. */
static bool v4_public(uint32_t x)
{
    static const struct {
        uint32_t net, mask;
    } deny[] = {
        {0x00000000, 0xff000000}, /* 0/8: "this network" */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10: shared (carrier-grade NAT) */
        {0x7f000000, 0xff000000}, /* 127/8: loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16: link-local, cloud metadata */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24: IETF protocol assignments */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24: documentation */
        {0xc0586300, 0xffffff00}, /* 192.88.99/24: 6to4 relays */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15: benchmarking */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24: documentation */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24: documentation */
        {0xe0000000, 0xe0000000}, /* 224/3: multicast, reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
        if ((x & deny[i].mask) == deny[i].net)
            return false;
    return true;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool v6_public(const unsigned char b[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public(be32(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16, 6to4: the IPv4 address follows */
        return v4_public(be32(b + 2));
    if ((b[0] & 0xe0) != 0x20) /* outside 2000::/3, global unicast: ::, ::1, fc00::/7, ... */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) /* 2001::/23: Teredo, ORCHID, ... */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
        return false;
    return true;
}

bool webhook_addr_public(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)addr;
        return v4_public(ntohl(a->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)addr;
        return v6_public(a->sin6_addr.s6_addr);
    }
    return false;
}

/* Resolves host and judges every address; 0 when all are public. */
static int check_host(const char *host, char msg[WEBHOOK_TARGET_MSG_SZ])
{
    char name[256];
    size_t n = strlen(host);
    if (n >= sizeof name || n == 0) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "url: the host name is empty or too long");
        return VIGIL_EINVAL;
    }
    /* curl gives an IPv6 literal in brackets */
    if (host[0] == '[' && host[n - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)(n - 2), host + 1);
    else
        snprintf(name, sizeof name, "%s", host);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "url: the host \"%.80s\" does not resolve", name);
        return VIGIL_EINVAL;
    }
    int rc = 0;
    for (const struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next)
        if (!webhook_addr_public(ai->ai_addr)) {
            snprintf(msg, WEBHOOK_TARGET_MSG_SZ,
                     "url: \"%.60s\" is not a public address (loopback, private, link-local "
                     "or reserved); webhooks go to partners' public systems",
                     name);
            rc = VIGIL_EINVAL;
        }
    freeaddrinfo(res);
    return rc;
}

int webhook_target_check(const char *url, bool allow_private, char msg[WEBHOOK_TARGET_MSG_SZ])
{
    static const char need[] = "url: an http:// or https:// URL is required";
    if (!url || strlen(url) > 2048 || strpbrk(url, " \t\r\n") ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "%s", need);
        return VIGIL_EINVAL;
    }
    CURLU *u = curl_url();
    char *host = NULL, *user = NULL, *zone = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "%s", need);
        rc = VIGIL_EINVAL;
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "url: no user name or password in the URL "
                                             "(deliveries are signed with the secret)");
        rc = VIGIL_EINVAL;
    } else if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK) {
        snprintf(msg, WEBHOOK_TARGET_MSG_SZ, "url: no IPv6 zone id");
        rc = VIGIL_EINVAL;
    } else if (!allow_private) {
        rc = check_host(host, msg);
    }
    curl_free(host);
    curl_free(user);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}
