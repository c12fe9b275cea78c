/*
 * Userspace GRO in the real stack: a plain descriptor (no virtio-net
 * header) at MTU 1500, window scaling off, bursts of segments written
 * before the forwarder reads them, so they reach lwIP joined. Every byte
 * must arrive once and in order, both ways, IPv4 and IPv6, also when a
 * retransmission straddles segments already joined.
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

#define T 3000
#define SEG 1000

/* Sends bytes [off, off + len) of msg at their own sequence numbers,
 * whatever was sent before (a retransmission when below snd_nxt). */
static void
send_at(struct tc *c, const uint8_t *msg, size_t off, size_t len)
{
    uint32_t nxt = c->snd_nxt, at = c->iss + 1 + (uint32_t)off;

    c->snd_nxt = at;
    tc_send(c, TH_ACK, msg + off, len);
    if ((int32_t)(nxt - c->snd_nxt) > 0)
        c->snd_nxt = nxt;
}

static void
straddle(int family)
{
    const size_t n = 64 * SEG;
    const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FPA(FP_READ, n),
                                     FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;
    uint8_t *msg = malloc(n);

    assert_non_null(msg);
    pattern_fill(msg, 0, n);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, family, 41000, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    /* one burst: 20 segments, a retransmission over segments 3 to 5
     * starting mid-segment, a gap (segment 24 late), more segments */
    for (size_t i = 0; i < 20; i++)
        send_at(&c, msg, i * SEG, SEG);
    send_at(&c, msg, 3 * SEG + SEG / 2, 2 * SEG);
    send_at(&c, msg, 5 * SEG + SEG / 2, SEG);
    for (size_t i = 20; i < 24; i++)
        send_at(&c, msg, i * SEG, SEG);
    for (size_t i = 25; i < 32; i++)
        send_at(&c, msg, i * SEG, SEG);
    send_at(&c, msg, 24 * SEG, SEG);
    send_at(&c, msg, 31 * SEG + SEG / 2, SEG / 2); /* the tail again */
    assert_int_equal(tc_write(&c, msg + 32 * SEG, n - 32 * SEG, T), 0);
    assert_int_equal(fp_wait_rx(&px, 0, n, T), 0);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    pc = fp_get(&px, 0);
    assert_int_equal(pc.rx_len, n);
    assert_memory_equal(pc.rx, msg, n);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_false(c.got_rst);
    assert_int_equal(f.k.bad, 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.bytes_up, n);
    assert_int_equal(st.tun_tx_dropped, 0);
    tc_free(&c);
    fp_stop(&px);
    free(msg);
}

static void
test_straddle_ipv4(void **state)
{
    (void)state;
    straddle(4);
}

static void
test_straddle_ipv6(void **state)
{
    (void)state;
    straddle(6);
}

/* Two megabytes each way at MSS 1460 through an echo server. */
static void
bulk(int family)
{
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    const size_t n = 2 << 20;
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *msg = malloc(n);

    assert_non_null(msg);
    pattern_fill(msg, 0, n);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, family, 41100, 9);
    c.mss = family == 4 ? 1460 : 1440;
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_write(&c, msg, n, T), 0);
    assert_int_equal(tc_wait_data(&c, n, 3 * T), 0);
    assert_int_equal(c.data_len, n);
    assert_memory_equal(c.data, msg, n);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_false(c.got_rst);
    assert_int_equal(f.k.bad, 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.bytes_up, n);
    assert_int_equal(st.bytes_down, n);
    tc_free(&c);
    fp_stop(&px);
    free(msg);
}

static void
test_bulk_ipv4(void **state)
{
    (void)state;
    bulk(4);
}

static void
test_bulk_ipv6(void **state)
{
    (void)state;
    bulk(6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_straddle_ipv4),
        cmocka_unit_test(test_straddle_ipv6),
        cmocka_unit_test(test_bulk_ipv4),
        cmocka_unit_test(test_bulk_ipv6),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
