/*
 * The handshake driver over a socketpair, the proxy played by the test:
 * the RFC 1929 message that carried the password does not stay in the
 * driver's buffers once sent, nor after a failure.
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

static struct t2s_proxy proxy;
static struct t2s_upstream up;
static int fds[2]; /* [0] the driver's, [1] the proxy's */

static int
setup(void **state)
{
    struct t2s_socks5_addr dst;
    int want;

    (void)state;
    memset(&proxy, 0, sizeof(proxy));
    strcpy(proxy.user, "alice");
    proxy.user_len = 5;
    strcpy(proxy.pass, PASS);
    proxy.pass_len = strlen(PASS);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds),
                     0);
    memset(&dst, 0, sizeof(dst));
    dst.atyp = T2S_SOCKS5_ATYP_IPV4;
    dst.port = 80;
    memset(&up, 0xAA, sizeof(up)); /* as malloc might leave it */
    t2s_upstream_init(&up, &proxy, T2S_SOCKS5_CMD_CONNECT, &dst, 0, &want);
    assert_int_equal(want, EV_WRITE);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return 0;
}

static int
holds_password(void)
{
    return memmem(&up, sizeof(up), PASS, strlen(PASS)) != NULL;
}

/* Reads what the driver sent; returns its length. */
static size_t
proxy_read(uint8_t *buf, size_t cap)
{
    ssize_t n = recv(fds[1], buf, cap, 0);

    assert_true(n > 0);
    return (size_t)n;
}

static void
proxy_send(const void *buf, size_t n)
{
    assert_int_equal(send(fds[1], buf, n, 0), (ssize_t)n);
}

/* Greeting and method choice; the driver then has sent the auth message. */
static void
to_auth_sent(void)
{
    uint8_t buf[600];
    int want;

    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    assert_int_equal(proxy_read(buf, sizeof(buf)), 4); /* 05 02 00 02 */
    proxy_send("\x05\x02", 2);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    assert_int_equal(want, EV_READ);
    /* it did go out, with the password */
    assert_int_equal(proxy_read(buf, sizeof(buf)), 3 + 5 + strlen(PASS));
    assert_non_null(memmem(buf, sizeof(buf), PASS, strlen(PASS)));
}

static void
test_auth_cleared_once_sent(void **state)
{
    uint8_t buf[600];
    int want;

    (void)state;
    to_auth_sent();
    assert_false(holds_password());
    proxy_send("\x01\x00", 2);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    assert_true(proxy_read(buf, sizeof(buf)) >= 10); /* the CONNECT */
    proxy_send("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_DONE);
    assert_false(holds_password());
}

/* Pipelined: auth and request leave in one write. */
static void
test_auth_cleared_pipelined(void **state)
{
    struct t2s_socks5_addr dst;
    uint8_t buf[600];
    int want;

    (void)state;
    memset(&dst, 0, sizeof(dst));
    dst.atyp = T2S_SOCKS5_ATYP_IPV4;
    dst.port = 80;
    t2s_upstream_init(&up, &proxy, T2S_SOCKS5_CMD_CONNECT, &dst, 1, &want);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    (void)proxy_read(buf, sizeof(buf));
    proxy_send("\x05\x02", 2);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    assert_non_null(
        memmem(buf, proxy_read(buf, sizeof(buf)), PASS, strlen(PASS)));
    assert_false(holds_password());
}

/* The proxy rejects the credentials. */
static void
test_auth_cleared_after_reject(void **state)
{
    int want;

    (void)state;
    to_auth_sent();
    proxy_send("\x01\x01", 2);
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_AUTH);
    assert_false(holds_password());
}

/* The auth message cannot be sent: the socket is gone. */
static void
test_auth_cleared_after_send_error(void **state)
{
    uint8_t buf[16];
    int want;

    (void)state;
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_AGAIN);
    (void)proxy_read(buf, sizeof(buf));
    proxy_send("\x05\x02", 2);
    shutdown(fds[0], SHUT_WR); /* the next send fails with EPIPE */
    assert_int_equal(t2s_upstream_io(&up, fds[0], &want), T2S_UP_FAIL);
    assert_int_equal(up.fail_kind, T2S_UP_FAIL_IO);
    assert_false(holds_password());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth_cleared_once_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_cleared_pipelined, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_cleared_after_reject, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_auth_cleared_after_send_error,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
