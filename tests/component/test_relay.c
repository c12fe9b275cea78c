/*
 * Relaying through the real lwIP stack and a scripted SOCKS5 server: IPv4
 * and IPv6 apps, proxies on 127.0.0.1 and ::1, handshake replies split
 * into single bytes with every BND.ADDR form, data both ways, half-closes
 * from either side, a server that speaks first, bulk echo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "pkt.h"

#define T 3000 /* ms: generous upper bound for any single wait */

static const uint8_t DST4[4] = {198, 19, 0, 10};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x10};

/* Session gone, nothing left over, no error counted. */
static void
assert_clean_end(struct fwd *f, struct t2s_stats *st)
{
    assert_int_equal(FWD_WAIT_STAT(f, tcp_active, 0, T), 0);
    fwd_stop(f, st);
    assert_int_equal(st->tcp_active, 0);
    assert_int_equal(st->err_proxy_connect + st->err_proxy_auth +
                         st->err_proxy_reply + st->err_proxy_proto +
                         st->err_timeout_connect + st->err_timeout_idle +
                         st->err_reset_app + st->err_reset_proxy +
                         st->err_resource,
                     0);
    assert_int_equal(st->tun_tx_dropped, 0);
}

static void
echo_roundtrip(int app_family, int proxy_family, unsigned bnd_atyp)
{
    const struct fp_step script[] = {FP_HANDSHAKE(0, bnd_atyp), FP(FP_ECHO),
                                     FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;
    uint8_t msg[3000];

    fp_start(&px, proxy_family, 1, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, app_family, 40000, 8080);
    assert_int_equal(tc_connect(&c, T), 1);
    /* the SYN|ACK came only after the CONNECT was granted */
    pc = fp_get(&px, 0);
    assert_true(pc.requested);
    assert_int_equal(pc.nmethods, 1);
    assert_int_equal(pc.methods[0], 0);
    assert_int_equal(pc.req_cmd, 1);
    assert_int_equal(pc.req_port, 8080);
    if (app_family == 4) {
        assert_int_equal(pc.req_atyp, 1);
        assert_memory_equal(pc.req_addr, DST4, 4);
    } else {
        assert_int_equal(pc.req_atyp, 4);
        assert_memory_equal(pc.req_addr, DST6, 16);
    }
    /* data both ways, several segments */
    pattern_fill(msg, 0, sizeof(msg));
    assert_int_equal(tc_write(&c, msg, sizeof(msg), T), 0);
    assert_int_equal(tc_wait_data(&c, sizeof(msg), T), 0);
    assert_int_equal(c.data_len, sizeof(msg));
    assert_memory_equal(c.data, msg, sizeof(msg));
    /* app half-closes; the echo server sees EOF and closes too */
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    pc = fp_get(&px, 0);
    assert_true(pc.eof);
    assert_false(pc.reset);
    assert_int_equal(pc.rx_len, sizeof(msg));
    assert_false(c.got_rst);
    assert_int_equal(tc_wait_acked(&c, T), 0); /* our FIN acknowledged */
    assert_int_equal(f.k.bad, 0);
    assert_clean_end(&f, &st);
    assert_int_equal(st.tcp_total, 1);
    assert_int_equal(st.bytes_up, sizeof(msg));
    assert_int_equal(st.bytes_down, sizeof(msg));
    tc_free(&c);
    fp_stop(&px);
}

static void
test_ipv4_bnd_ipv4(void **state)
{
    (void)state;
    echo_roundtrip(4, 4, 1);
}

static void
test_ipv4_bnd_ipv6(void **state)
{
    (void)state;
    echo_roundtrip(4, 4, 4);
}

static void
test_ipv4_bnd_domain(void **state)
{
    (void)state;
    echo_roundtrip(4, 4, 3);
}

static void
test_ipv6_bnd_ipv4_proxy_ipv6(void **state)
{
    (void)state;
    echo_roundtrip(6, 6, 1);
}

static void
test_ipv6_bnd_ipv6(void **state)
{
    (void)state;
    echo_roundtrip(6, 4, 4);
}

static void
test_ipv6_bnd_domain(void **state)
{
    (void)state;
    echo_roundtrip(6, 6, 3);
}

/* The reply and the server's first bytes in one segment. */
static void
test_server_speaks_first(void **state)
{
    static const uint8_t first[] = {5, 0,  0,   1,   127, 0,   0,   1,
                                    4, 56, 'b', 'a', 'n', 'n', 'e', 'r'};
    static const struct fp_step script[] = {
        FP(FP_GREETING), FPA(FP_METHOD, 0),
        FP(FP_REQUEST),  FPD(FP_RAW, first, sizeof(first)),
        FP(FP_READ_EOF), FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40100, 25);
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_wait_data(&c, 6, T), 0);
    assert_int_equal(c.data_len, 6);
    assert_memory_equal(c.data, "banner", 6);
    tc_send(&c, TH_ACK | TH_PSH, "HELO x\r\n", 8);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_int_equal(fp_get(&px, 0).rx_len, 8);
    assert_memory_equal(fp_get(&px, 0).rx, "HELO x\r\n", 8);
    assert_false(c.got_rst);
    assert_clean_end(&f, &st);
    assert_int_equal(st.bytes_down, 6);
    assert_int_equal(st.bytes_up, 8);
    tc_free(&c);
    fp_stop(&px);
}

/* App sends its request and FIN; the response still reaches it. */
static void
test_app_half_close_response_arrives(void **state)
{
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FP(FP_READ_EOF),
                                            FPA(FP_SEND_PATTERN, 200000),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *want = malloc(200000);

    (void)state;
    assert_non_null(want);
    pattern_fill(want, 0, 200000);
    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40200, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    tc_send(&c, TH_ACK | TH_PSH, "GET / HTTP/1.0\r\n\r\n", 18);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    /* the proxy sees the request, then EOF, before it answers */
    assert_int_equal(tc_wait_fin(&c, 2 * T), 0);
    assert_int_equal(c.data_len, 200000);
    assert_memory_equal(c.data, want, 200000);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_true(fp_get(&px, 0).eof);
    assert_int_equal(fp_get(&px, 0).rx_len, 18);
    assert_false(c.got_rst);
    assert_clean_end(&f, &st);
    assert_int_equal(st.bytes_down, 200000);
    tc_free(&c);
    fp_stop(&px);
    free(want);
}

/* The proxy sends data and FIN while the app is slow to acknowledge: the
 * FIN comes after every byte, and the app can still send afterwards. */
static void
test_proxy_fin_after_pending_data(void **state)
{
    static const struct fp_step script[] = {
        FP_HANDSHAKE(0, 1), FPA(FP_SEND_PATTERN, 300000), FP(FP_SHUT_WR),
        FP(FP_READ_EOF), FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *want = malloc(300000);

    (void)state;
    assert_non_null(want);
    pattern_fill(want, 0, 300000);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40300, 443);
    assert_int_equal(tc_connect(&c, T), 1);
    /* do not acknowledge for a while: lwIP fills our 64 KiB window and
     * holds the rest, the proxy's FIN arrives meanwhile */
    c.auto_ack = 0;
    tk_run_for(&f.k, 200);
    assert_true(c.data_len <= 65535);
    assert_false(c.got_fin);
    c.auto_ack = 1;
    tc_send(&c, TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, 2 * T), 0);
    /* an in-order FIN: every byte came first */
    assert_int_equal(c.data_len, 300000);
    assert_memory_equal(c.data, want, 300000);
    /* half-closed: the app still talks */
    tc_send(&c, TH_ACK | TH_PSH, "thanks", 6);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_true(fp_get(&px, 0).eof);
    assert_int_equal(fp_get(&px, 0).rx_len, 6);
    assert_memory_equal(fp_get(&px, 0).rx, "thanks", 6);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    assert_false(c.got_rst);
    assert_clean_end(&f, &st);
    assert_int_equal(st.bytes_down, 300000);
    assert_int_equal(st.bytes_up, 6);
    tc_free(&c);
    fp_stop(&px);
    free(want);
}

/*
 * The proxy's EOF arrives before the app acknowledged the SYN|ACK: the
 * data and the FIN must still be delivered once it does.
 */
static void
test_proxy_eof_before_app_handshake_ack(void **state)
{
    static const uint8_t first[] = {5, 0, 0, 1, 127, 0, 0, 1, 4, 56, 'h', 'i'};
    static const struct fp_step script[] = {
        FP(FP_GREETING), FPA(FP_METHOD, 0), FP(FP_REQUEST),
        FPD(FP_RAW, first, sizeof(first)), FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40400, 7);
    tc_syn(&c);
    assert_int_equal(tc_wait_answer(&c, T), 0);
    assert_true(c.got_synack);
    assert_int_equal(fp_wait_done(&px, 0, T), 0); /* proxy closed */
    tk_run_for(&f.k, 50);
    tc_send(&c, TH_ACK, NULL, 0); /* now complete the handshake */
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_int_equal(c.data_len, 2);
    assert_memory_equal(c.data, "hi", 2);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    assert_false(c.got_rst);
    assert_clean_end(&f, &st);
    tc_free(&c);
    fp_stop(&px);
}

/* A megabyte each way at once through an echo server. */
static void
test_bulk_echo_both_ways(void **state)
{
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    const size_t n = 1 << 20;
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *msg = malloc(n);

    (void)state;
    assert_non_null(msg);
    pattern_fill(msg, 0, n);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40500, 9);
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_write(&c, msg, n, T), 0);
    assert_int_equal(tc_wait_data(&c, n, 3 * T), 0);
    assert_int_equal(c.data_len, n);
    assert_memory_equal(c.data, msg, n);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_false(c.got_rst);
    assert_int_equal(f.k.bad, 0);
    assert_clean_end(&f, &st);
    assert_int_equal(st.bytes_up, n);
    assert_int_equal(st.bytes_down, n);
    tc_free(&c);
    fp_stop(&px);
    free(msg);
}

/* An app that offers a 256-byte window: lwIP cuts 128-byte segments, and
 * the forwarder must not queue more of them than lwIP can hold (it would
 * fail tcp_write() and drop the connection). */
static void
test_tiny_app_window(void **state)
{
    static const struct fp_step script[] = {
        FP_HANDSHAKE(0, 1), FPA(FP_SEND_PATTERN, 600000), FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    const size_t n = 600000;
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *want = malloc(n);

    (void)state;
    assert_non_null(want);
    pattern_fill(want, 0, n);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 40600, 80);
    c.wnd = 256;
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_wait_fin(&c, 10 * T), 0);
    assert_int_equal(c.data_len, n);
    assert_memory_equal(c.data, want, n);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    assert_false(c.got_rst);
    assert_clean_end(&f, &st);
    assert_int_equal(st.bytes_down, n);
    tc_free(&c);
    fp_stop(&px);
    free(want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_bnd_ipv4),
        cmocka_unit_test(test_ipv4_bnd_ipv6),
        cmocka_unit_test(test_ipv4_bnd_domain),
        cmocka_unit_test(test_ipv6_bnd_ipv4_proxy_ipv6),
        cmocka_unit_test(test_ipv6_bnd_ipv6),
        cmocka_unit_test(test_ipv6_bnd_domain),
        cmocka_unit_test(test_server_speaks_first),
        cmocka_unit_test(test_app_half_close_response_arrives),
        cmocka_unit_test(test_proxy_fin_after_pending_data),
        cmocka_unit_test(test_proxy_eof_before_app_handshake_ack),
        cmocka_unit_test(test_bulk_echo_both_ways),
        cmocka_unit_test(test_tiny_app_window),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
