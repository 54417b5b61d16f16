/* test_service.c - the services below HTTP that can be tested without a store: where a webhook
 * may be delivered (service/webhook_target.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "base/err.h"
#include "service/webhook_target.h"

static bool addr_public(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else
        fail_msg("not an address: %s", text);
    return webhook_addr_public((const struct sockaddr *)&ss);
}

static void test_addresses(void **state)
{
    static const char *const refused[] = {
        "0.0.0.0", "0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1",
        "127.255.255.255", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8",
        "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1", "198.19.255.255",
        "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255", "::", "::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
        "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b:1::1", "2002:7f00:1::",
        "2002:c0a8:101::1", "2001::1", "2001:0:4136:e378::1", "2001:db8::1", "fc00::1",
        "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "100::1",
    };
    static const char *const allowed[] = {
        "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.1", "172.15.255.255",
        "172.32.0.1", "192.167.1.1", "193.0.0.1", "223.255.255.254", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1", "2001:4860:4860::8888", "2a00:1450::1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (addr_public(refused[i]))
            fail_msg("%s was judged public", refused[i]);
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!addr_public(allowed[i]))
            fail_msg("%s was refused", allowed[i]);
}

static void test_urls(void **state)
{
    /* Numeric hosts only: no DNS is needed (localhost comes from /etc/hosts). */
    static const char *const refused[] = {
        "http://127.0.0.1/", "http://0x7f000001/", "http://2130706433/",
        "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://[::1]:8080/x",
        "http://[::ffff:7f00:1]/", "https://169.254.169.254/latest/meta-data/",
        "http://localhost:8443/metrics", "http://user:pw@8.8.8.8/", "ftp://8.8.8.8/",
        "http://", "gopher://127.0.0.1/", "http://8.8.8.8/a b", "http://[fe80::1%25eth0]/",
    };
    char msg[WEBHOOK_TARGET_MSG_SZ];
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        msg[0] = '\0';
        if (webhook_target_check(refused[i], false, msg) != VIGIL_EINVAL)
            fail_msg("%s was accepted", refused[i]);
        assert_true(strncmp(msg, "url:", 4) == 0);
    }
    assert_int_equal(webhook_target_check("http://8.8.8.8:8080/hook", false, msg), 0);
    assert_int_equal(webhook_target_check("https://[2001:4860:4860::8888]/h", false, msg), 0);
    /* Allowed by the operator: loopback and private, but still http(s) only. */
    assert_int_equal(webhook_target_check("http://127.0.0.1:9000/hook", true, msg), 0);
    assert_int_equal(webhook_target_check("ftp://127.0.0.1/", true, msg), VIGIL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
