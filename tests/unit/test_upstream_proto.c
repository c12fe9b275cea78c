/*
 * The handshake driver for socks4, socks4a and http proxies over a
 * socketpair, the proxy played by the test: the requests on the wire, the
 * replies and refusals, the tunnel bytes behind an HTTP header kept for
 * the app, the one-line failure texts (never the password).
 */
#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "upstream/upstream.h"

#define PASS "hunter2-Pa55"
#define PASS_B64 "YWxpY2U6aHVudGVyMi1QYTU1" /* alice:hunter2-Pa55 */

static struct t2s_proxy proxy;
static struct t2s_upstream up;
static int fds[2]; /* [0] the driver's, [1] the proxy's */
static char why[256];

static int
setup(void **state)
{
    (void)state;
    memset(&proxy, 0, sizeof(proxy));
    strcpy(proxy.host, "198.18.0.1");
    proxy.port = 3128;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds),
                     0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    close(fds[0]);
    close(fds[1]);
    return 0;
}

static void
start(unsigned scheme, const struct t2s_socks5_addr *dst)
{
    int want;

    proxy.scheme = (uint8_t)scheme;
    memset(&up, 0xAA, sizeof(up)); /* as malloc might leave it */
    t2s_upstream_init(&up, &proxy, T2S_SOCKS5_CMD_CONNECT, dst, 1, &want);
    assert_int_equal(want, EV_WRITE);
}

static void
dst_v4(struct t2s_socks5_addr *d)
{
    memset(d, 0, sizeof(*d));
    d->atyp = T2S_SOCKS5_ATYP_IPV4;
    memcpy(d->u.v4, "\xc6\x12\x00\x02", 4); /* 198.18.0.2 */
    d->port = 80;
}

static void
dst_name(struct t2s_socks5_addr *d, const char *name)
{
    memset(d, 0, sizeof(*d));
    d->atyp = T2S_SOCKS5_ATYP_DOMAIN;
    d->name_len = (uint8_t)strlen(name);
    memcpy(d->u.name, name, d->name_len);
    d->port = 443;
}

static void
with_credentials(void)
{
    strcpy(proxy.user, "alice");
    proxy.user_len = 5;
    strcpy(proxy.pass, PASS);
    proxy.pass_len = strlen(PASS);
}

/* The driver sends its request; the proxy reads exactly want. */
static void
expect_request(const void *want, size_t n)
{
    uint8_t buf[2048];
    int w;

    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_AGAIN);
    assert_int_equal(w, EV_READ);
    assert_int_equal(recv(fds[1], buf, sizeof(buf), 0), (ssize_t)n);
    assert_memory_equal(buf, want, n);
}

static int
reply(const void *buf, size_t n)
{
    int w;

    assert_int_equal(send(fds[1], buf, n, 0), (ssize_t)n);
    return t2s_upstream_io(&up, fds[0], &w);
}

static int
holds(const char *s)
{
    return memmem(&up, sizeof(up), s, strlen(s)) != NULL;
}

static void
test_socks4_granted_keeps_tunnel_bytes(void **state)
{
    static const uint8_t req[] = {4, 1, 0, 80, 198, 18, 0, 2, 'b', 'o', 'b', 0};
    struct t2s_socks5_addr d;

    (void)state;
    strcpy(proxy.user, "bob");
    proxy.user_len = 3;
    dst_v4(&d);
    start(T2S_PROXY_SOCKS4, &d);
    expect_request(req, sizeof(req));
    /* the reply in two pieces, the server's banner right behind it */
    assert_int_equal(reply("\x00\x5a\x00", 3), T2S_UP_AGAIN);
    assert_int_equal(reply("\x00\x00\x00\x00\x00SSH-", 9), T2S_UP_DONE);
    assert_int_equal(up.in_len, 4);
    assert_memory_equal(up.in, "SSH-", 4);
}

static void
test_socks4a_name_rejected(void **state)
{
    static const uint8_t req[] = {4, 1,   1,   0xBB, 0,   0,   0,   1,
                                  0, 'e', 'x', '.',  'o', 'r', 'g', 0};
    struct t2s_socks5_addr d;

    (void)state;
    dst_name(&d, "ex.org");
    start(T2S_PROXY_SOCKS4A, &d);
    expect_request(req, sizeof(req));
    assert_int_equal(reply("\x00\x5b\x00\x00\x00\x00\x00\x00", 8), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_REPLY);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "connection refused by upstream: request "
                             "rejected or failed");
}

static void
test_socks4_bad_version(void **state)
{
    struct t2s_socks5_addr d;

    (void)state;
    dst_v4(&d);
    start(T2S_PROXY_SOCKS4, &d);
    expect_request("\x04\x01\x00\x50\xc6\x12\x00\x02\x00", 9);
    assert_int_equal(reply("\x05\x00", 2), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_PROTO);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "proxy protocol error: bad SOCKS4 reply version");
}

/* A short reply, then EOF. */
static void
test_socks4_truncated(void **state)
{
    struct t2s_socks5_addr d;
    int w;

    (void)state;
    dst_v4(&d);
    start(T2S_PROXY_SOCKS4, &d);
    expect_request("\x04\x01\x00\x50\xc6\x12\x00\x02\x00", 9);
    assert_int_equal(reply("\x00\x5a\x00", 3), T2S_UP_AGAIN);
    shutdown(fds[1], SHUT_WR);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_FAIL);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_non_null(strstr(why, "connection closed"));
}

static void
test_http_granted_with_auth(void **state)
{
    static const char req[] = "CONNECT ex.org:443 HTTP/1.1\r\n"
                              "Host: ex.org:443\r\n"
                              "Proxy-Authorization: Basic " PASS_B64 "\r\n"
                              "\r\n";
    struct t2s_socks5_addr d;

    (void)state;
    with_credentials();
    dst_name(&d, "ex.org");
    start(T2S_PROXY_HTTP, &d);
    expect_request(req, sizeof(req) - 1);
    assert_false(holds(PASS_B64));
    assert_false(holds(PASS));
    assert_int_equal(reply("HTTP/1.1 200 Connection established\r\nVia: x", 43),
                     T2S_UP_AGAIN);
    /* the tunnel's first bytes arrive with the end of the header */
    assert_int_equal(reply("\r\n\r\nSSH-2.0-x\r\n", 15), T2S_UP_DONE);
    assert_int_equal(up.in_len, 11);
    assert_memory_equal(up.in, "SSH-2.0-x\r\n", 11);
}

static void
test_http_ipv6_literal(void **state)
{
    static const char req[] = "CONNECT [fd00::2]:22 HTTP/1.1\r\n"
                              "Host: [fd00::2]:22\r\n\r\n";
    struct t2s_socks5_addr d;

    (void)state;
    memset(&d, 0, sizeof(d));
    d.atyp = T2S_SOCKS5_ATYP_IPV6;
    d.u.v6[0] = 0xfd;
    d.u.v6[15] = 2;
    d.port = 22;
    start(T2S_PROXY_HTTP, &d);
    expect_request(req, sizeof(req) - 1);
    assert_int_equal(reply("HTTP/1.0 200 OK\r\n\r\n", 19), T2S_UP_DONE);
    assert_int_equal(up.in_len, 0);
}

static void
test_http_407(void **state)
{
    static const char resp[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
                               "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n";
    struct t2s_socks5_addr d;
    uint8_t buf[2048];
    int w;

    (void)state;
    with_credentials();
    dst_v4(&d);
    start(T2S_PROXY_HTTP, &d);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_AGAIN);
    assert_true(recv(fds[1], buf, sizeof(buf), 0) > 0);
    assert_int_equal(reply(resp, sizeof(resp) - 1), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_AUTH);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "proxy authentication required (HTTP 407): "
                             "credentials refused");
    assert_false(holds(PASS_B64));
    assert_false(holds(PASS));
}

static void
test_http_403(void **state)
{
    struct t2s_socks5_addr d;

    (void)state;
    dst_v4(&d);
    start(T2S_PROXY_HTTP, &d);
    expect_request("CONNECT 198.18.0.2:80 HTTP/1.1\r\nHost: 198.18.0.2:80\r\n"
                   "\r\n",
                   55);
    assert_int_equal(reply("HTTP/1.1 403 Forbidden\r\n\r\n", 26), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_REPLY);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "connection refused by upstream: HTTP 403");
}

/* A header that never ends: refused past T2S_HTTP_HDR_MAX. */
static void
test_http_oversized(void **state)
{
    static char junk[T2S_HTTP_HDR_MAX];
    struct t2s_socks5_addr d;
    uint8_t buf[2048];
    int w;

    (void)state;
    dst_v4(&d);
    start(T2S_PROXY_HTTP, &d);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_AGAIN);
    assert_true(recv(fds[1], buf, sizeof(buf), 0) > 0);
    assert_int_equal(reply("HTTP/1.1 200 OK\r\nX: ", 20), T2S_UP_AGAIN);
    memset(junk, 'a', sizeof(junk));
    assert_int_equal(reply(junk, sizeof(junk)), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_PROTO);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "proxy protocol error: response header too long");
}

static void
test_http_no_blank_line(void **state)
{
    struct t2s_socks5_addr d;
    uint8_t buf[2048];
    int w;

    (void)state;
    dst_v4(&d);
    start(T2S_PROXY_HTTP, &d);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_AGAIN);
    assert_true(recv(fds[1], buf, sizeof(buf), 0) > 0);
    assert_int_equal(reply("HTTP/1.1 200 OK\r\nX: y\r\n", 23), T2S_UP_AGAIN);
    shutdown(fds[1], SHUT_WR);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_PROTO);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_string_equal(why, "proxy protocol error: connection closed inside "
                             "the response header");
}

/* What each scheme cannot carry is known before any socket. */
static void
test_refusal(void **state)
{
    struct t2s_socks5_addr v4, v6, name, odd;

    (void)state;
    dst_v4(&v4);
    memset(&v6, 0, sizeof(v6));
    v6.atyp = T2S_SOCKS5_ATYP_IPV6;
    dst_name(&name, "example.org");
    dst_name(&odd, "a b\r\nX: y");
    proxy.scheme = T2S_PROXY_SOCKS4;
    assert_null(t2s_upstream_refusal(&proxy, &v4));
    assert_non_null(strstr(t2s_upstream_refusal(&proxy, &v6), "IPv6"));
    assert_non_null(strstr(t2s_upstream_refusal(&proxy, &name), "host name"));
    proxy.scheme = T2S_PROXY_SOCKS4A;
    assert_null(t2s_upstream_refusal(&proxy, &v4));
    assert_null(t2s_upstream_refusal(&proxy, &name));
    assert_non_null(t2s_upstream_refusal(&proxy, &v6));
    proxy.scheme = T2S_PROXY_HTTP;
    assert_null(t2s_upstream_refusal(&proxy, &v6));
    assert_null(t2s_upstream_refusal(&proxy, &name));
    assert_non_null(t2s_upstream_refusal(&proxy, &odd));
    for (unsigned s = T2S_PROXY_SOCKS5; s <= T2S_PROXY_SOCKS5H; s++) {
        proxy.scheme = (uint8_t)s;
        assert_null(t2s_upstream_refusal(&proxy, &v6));
        assert_null(t2s_upstream_refusal(&proxy, &odd));
    }
}

/* Should a refused destination reach the driver anyway, it fails at once
 * instead of waiting for a reply to nothing. */
static void
test_unsendable_fails(void **state)
{
    struct t2s_socks5_addr odd;
    int w;

    (void)state;
    dst_name(&odd, "a b");
    start(T2S_PROXY_HTTP, &odd);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &w), T2S_UP_FAIL);
    t2s_upstream_describe(&up, why, sizeof(why));
    assert_non_null(strstr(why, "cannot be written in a http request"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_socks4_granted_keeps_tunnel_bytes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_socks4a_name_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_socks4_bad_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_socks4_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_granted_with_auth, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_ipv6_literal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_407, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_403, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_no_blank_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsendable_fails, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
