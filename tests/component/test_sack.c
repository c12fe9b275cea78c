/*
 * Selective acknowledgements (RFC 2018, LWIP_TCP_SACK_OUT) through the real
 * stack: an app that offered SACK_PERM in its SYN and sends segments with
 * gaps gets ACKs naming what lwIP holds out of order, newest block first,
 * until the gaps are filled; one that did not offer it never sees the
 * option. The bytes reach the proxy exactly, IPv4 and IPv6.
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
/* segments A B C E D: A, C and D first, then B, then E */
#define N (5 * SEG)

/* Sends bytes [off, off + len) of msg at their own sequence numbers,
 * leaving snd_nxt at the highest byte sent so far. */
static void
send_at(struct tc *c, const uint8_t *msg, size_t off, size_t len)
{
    uint32_t nxt = c->snd_nxt;

    c->snd_nxt = c->iss + 1 + (uint32_t)off;
    tc_send(c, TH_ACK, msg + off, len);
    if ((int32_t)(nxt - c->snd_nxt) > 0)
        c->snd_nxt = nxt;
}

/* Waits for an ACK up to byte off of the stream carrying nsack blocks. */
static int
wait_ack(struct tc *c, size_t off, int nsack)
{
    uint32_t want = c->iss + 1 + (uint32_t)off;

    for (int i = 0; i < T / 10; i++) {
        if (c->snd_una == want && c->nsack == nsack)
            return 0;
        tk_poll(c->k, 10);
    }
    print_error("ack %u nsack %d, want %u and %d\n",
                (unsigned)(c->snd_una - c->iss - 1), c->nsack, (unsigned)off,
                nsack);
    return -1;
}

/* Block i of the last ACK covers bytes [from, to) of the stream. */
static void
assert_block(const struct tc *c, int i, size_t from, size_t to)
{
    assert_int_equal(c->sack[i][0] - c->iss - 1, from);
    assert_int_equal(c->sack[i][1] - c->iss - 1, to);
}

static void
flow(int family, int sack)
{
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FPA(FP_READ, N),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;
    uint8_t msg[N];

    pattern_fill(msg, 0, N);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, family, 42000, 80);
    c.sack_perm = sack;
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(c.peer_sack_perm, sack);
    send_at(&c, msg, 0, SEG);       /* A */
    send_at(&c, msg, 2 * SEG, SEG); /* C */
    assert_int_equal(wait_ack(&c, SEG, sack), 0);
    if (sack)
        assert_block(&c, 0, 2 * SEG, 3 * SEG);
    send_at(&c, msg, 4 * SEG, SEG); /* D, after a second gap */
    assert_int_equal(wait_ack(&c, SEG, 2 * sack), 0);
    if (sack) {
        assert_block(&c, 0, 4 * SEG, 5 * SEG);
        assert_block(&c, 1, 2 * SEG, 3 * SEG);
    }
    send_at(&c, msg, SEG, SEG); /* B: through C, D still held */
    assert_int_equal(wait_ack(&c, 3 * SEG, sack), 0);
    if (sack)
        assert_block(&c, 0, 4 * SEG, 5 * SEG);
    send_at(&c, msg, 3 * SEG, SEG); /* E: nothing held any more */
    assert_int_equal(wait_ack(&c, N, 0), 0);
    assert_int_equal(fp_wait_rx(&px, 0, N, T), 0);
    pc = fp_get(&px, 0);
    assert_int_equal(pc.rx_len, N);
    assert_memory_equal(pc.rx, msg, N);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_false(c.got_rst);
    assert_int_equal(f.k.bad, 0);
    if (!sack)
        assert_int_equal(c.sack_segs, 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.bytes_up, N);
    tc_free(&c);
    fp_stop(&px);
}

static void
test_sack_ipv4(void **state)
{
    (void)state;
    flow(4, 1);
}

static void
test_sack_ipv6(void **state)
{
    (void)state;
    flow(6, 1);
}

static void
test_no_sack_perm_ipv4(void **state)
{
    (void)state;
    flow(4, 0);
}

static void
test_no_sack_perm_ipv6(void **state)
{
    (void)state;
    flow(6, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sack_ipv4),
        cmocka_unit_test(test_sack_ipv6),
        cmocka_unit_test(test_no_sack_perm_ipv4),
        cmocka_unit_test(test_no_sack_perm_ipv6),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
