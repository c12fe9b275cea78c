/* Unit tests for the relay address taken from a UDP ASSOCIATE reply. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "upstream/relay_addr.h"

/* The proxy at addr:1080 (IPv4 or IPv6 text). */
static socklen_t
proxy_at(const char *addr, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(addr, ':') == NULL) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(1080);
        assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
        return sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(1080);
        s6->sin6_scope_id = 7;
        assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
        return sizeof(*s6);
    }
}

static struct t2s_socks5_addr
bnd(const char *addr, uint16_t port)
{
    struct t2s_socks5_addr a = {.port = port};

    if (strchr(addr, ':') == NULL) {
        a.atyp = T2S_SOCKS5_ATYP_IPV4;
        assert_int_equal(inet_pton(AF_INET, addr, a.u.v4), 1);
    } else {
        a.atyp = T2S_SOCKS5_ATYP_IPV6;
        assert_int_equal(inet_pton(AF_INET6, addr, a.u.v6), 1);
    }
    return a;
}

/* Relay address for BND addr:5000 with the proxy at proxy; "" when
 * refused, else the address as text. */
static const char *
relay(const char *proxy, const char *addr, uint16_t *port)
{
    static char out[INET6_ADDRSTRLEN];
    struct sockaddr_storage px, ss;
    socklen_t plen = proxy_at(proxy, &px), len = 0;
    struct t2s_socks5_addr b = bnd(addr, 5000);

    if (t2s_relay_addr_pick(&b, &px, plen, &ss, &len) != 0)
        return "";
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

        assert_int_equal(len, sizeof(*s4));
        *port = ntohs(s4->sin_port);
        inet_ntop(AF_INET, &s4->sin_addr, out, sizeof(out));
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

        assert_int_equal(len, sizeof(*s6));
        *port = ntohs(s6->sin6_port);
        inet_ntop(AF_INET6, &s6->sin6_addr, out, sizeof(out));
    }
    return out;
}

static void
test_ordinary_addresses(void **state)
{
    uint16_t port = 0;

    (void)state;
    assert_string_equal(relay("198.51.100.1", "198.51.100.2", &port),
                        "198.51.100.2");
    assert_int_equal(port, 5000);
    assert_string_equal(relay("198.51.100.1", "2001:db8::2", &port),
                        "2001:db8::2");
    assert_string_equal(relay("2001:db8::1", "198.51.100.2", &port),
                        "198.51.100.2");
}

/* 0.0.0.0 / :: mean the proxy's own address, with BND's port. */
static void
test_unspecified_is_the_proxy(void **state)
{
    uint16_t port = 0;

    (void)state;
    assert_string_equal(relay("198.51.100.1", "0.0.0.0", &port),
                        "198.51.100.1");
    assert_int_equal(port, 5000);
    assert_string_equal(relay("198.51.100.1", "::", &port), "198.51.100.1");
    assert_string_equal(relay("2001:db8::1", "0.0.0.0", &port), "2001:db8::1");
    assert_string_equal(relay("127.0.0.1", "::", &port), "127.0.0.1");
}

/* Loopback and link-local relays only for a proxy that lives there. */
static void
test_loopback_and_link_local(void **state)
{
    uint16_t port = 0;

    (void)state;
    assert_string_equal(relay("198.51.100.1", "127.0.0.1", &port), "");
    assert_string_equal(relay("198.51.100.1", "127.1.2.3", &port), "");
    assert_string_equal(relay("198.51.100.1", "::1", &port), "");
    assert_string_equal(relay("198.51.100.1", "::ffff:127.0.0.1", &port), "");
    assert_string_equal(relay("2001:db8::1", "::1", &port), "");
    assert_string_equal(relay("198.51.100.1", "169.254.1.1", &port), "");
    assert_string_equal(relay("2001:db8::1", "fe80::1", &port), "");
    assert_string_equal(relay("127.0.0.1", "169.254.1.1", &port), "");
    assert_string_equal(relay("127.0.0.1", "127.0.0.1", &port), "127.0.0.1");
    assert_string_equal(relay("::1", "127.0.0.1", &port), "127.0.0.1");
    assert_string_equal(relay("127.0.0.1", "::1", &port), "::1");
    assert_string_equal(relay("169.254.9.9", "169.254.1.1", &port),
                        "169.254.1.1");
    assert_string_equal(relay("fe80::9", "fe80::1", &port), "fe80::1");
}

static void
test_link_local_takes_the_proxy_scope(void **state)
{
    struct sockaddr_storage px, ss;
    socklen_t plen = proxy_at("fe80::9", &px), len;
    struct t2s_socks5_addr b = bnd("fe80::1", 5000);

    (void)state;
    assert_int_equal(t2s_relay_addr_pick(&b, &px, plen, &ss, &len), 0);
    assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 7);
}

static void
test_refused(void **state)
{
    struct sockaddr_storage px, ss;
    socklen_t plen = proxy_at("198.51.100.1", &px), len;
    struct t2s_socks5_addr name = {.atyp = T2S_SOCKS5_ATYP_DOMAIN,
                                   .port = 5000};
    struct t2s_socks5_addr zero_port = bnd("198.51.100.2", 0);
    uint16_t port;

    (void)state;
    name.name_len = 9;
    memcpy(name.u.name, "relay.test", 9);
    assert_int_equal(t2s_relay_addr_pick(&name, &px, plen, &ss, &len), -1);
    assert_int_equal(t2s_relay_addr_pick(&zero_port, &px, plen, &ss, &len), -1);
    assert_string_equal(relay("198.51.100.1", "224.0.0.1", &port), "");
    assert_string_equal(relay("198.51.100.1", "255.255.255.255", &port), "");
    assert_string_equal(relay("198.51.100.1", "ff02::1", &port), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_addresses),
        cmocka_unit_test(test_unspecified_is_the_proxy),
        cmocka_unit_test(test_loopback_and_link_local),
        cmocka_unit_test(test_link_local_takes_the_proxy_scope),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
