/* webhook_target.h - where a webhook may be delivered: not into the hub's own network.
 *
 * A partner chooses a webhook's URL, and the hub then makes HTTP requests to it: without a
 * check that is a server-side request forgery (SSRF) into whatever the hub can reach
 * (loopback services, the cloud metadata address 169.254.169.254, the private network).
 * Unless the operator allows it (vigil.conf: webhook_allow_private = true), a webhook goes
 * only to public unicast addresses. The check is made twice:
 *  - at registration, on the URL: http or https, a host, and every address the host resolves
 *    to public (numeric hosts in any form, 0x7f000001, 2130706433, 0177.0.0.1, [::ffff:7f00:1],
 *    resolve to what they mean and are judged by that);
 *  - at each delivery, on the address libcurl is about to connect to (its open-socket
 *    callback), so a name that resolves elsewhere later (DNS rebinding) is refused too.
 */
#ifndef VIGIL_SERVICE_WEBHOOK_TARGET_H
#define VIGIL_SERVICE_WEBHOOK_TARGET_H

#include <stdbool.h>
#include <sys/socket.h>

#define WEBHOOK_TARGET_MSG_SZ 256

/* True when addr (AF_INET or AF_INET6) is a public unicast address: not loopback,
 * unspecified, link-local, private (RFC 1918, unique local), shared (100.64/10), multicast,
 * broadcast, reserved or documentation; IPv4 embedded in IPv6 (mapped, compatible, NAT64,
 * 6to4, Teredo) is judged as the IPv4 address, or refused. */
bool webhook_addr_public(const struct sockaddr *addr);

/* Checks a webhook URL for registration: an http:// or https:// URL with a host, no user
 * information, and (unless allow_private) only public addresses for that host. Returns 0,
 * or VIGIL_EINVAL with the reason in msg. Resolves the host name (may block on DNS). */
int webhook_target_check(const char *url, bool allow_private, char msg[WEBHOOK_TARGET_MSG_SZ]);

#endif
