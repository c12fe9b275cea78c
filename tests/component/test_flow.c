/*
 * Flow control: the app sends while the proxy does not read. lwIP's
 * advertised window must close (what is buffered stays bounded), and once
 * the proxy reads, every byte arrives intact. Also: stopping while the
 * window is closed frees the queued bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "pkt.h"

#define T 3000
#define LIMIT (32u << 20) /* give up: the window never closed */
#define EXTRA 300000      /* sent after the proxy starts reading */

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends pattern bytes until the peer advertises a zero window with all
 * data acknowledged. Returns the bytes sent.
 */
static size_t
fill_until_zero_window(struct tc *c, uint8_t *buf)
{
    size_t sent = 0;
    long long idle_since = now_ms();
    unsigned quiet = 0;

    while (sent < LIMIT) {
        size_t n = tc_send_window(c, buf + sent, LIMIT - sent);
        sent += n;
        tk_drain(c->k);
        if (n > 0)
            idle_since = now_ms();
        if (c->peer_wnd == 0 && c->snd_una == c->snd_nxt)
            break;
        if (c->got_rst || now_ms() - idle_since > T)
            fail_msg("stuck after %zu bytes (window %u)", sent,
                     (unsigned)c->peer_wnd);
        /* no news for 100 ms: probe (our ACK may have been dropped) */
        if (n == 0 && tk_poll(c->k, 5) == 0 && ++quiet % 20 == 0)
            tc_probe(c);
    }
    return sent;
}

static void
window_closes(int stop_while_closed, int wscale)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1), FP(FP_WAIT_GATE),
                                       FP(FP_READ_EOF), FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {.rcvbuf = 4096};
    struct fwd f;
    struct tc c;
    struct t2s_stats st, mid;
    uint8_t *buf = malloc(LIMIT);
    size_t sent, total;
    struct fp_conn pc;

    assert_non_null(buf);
    pattern_fill(buf, 0, LIMIT);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 44000, 80);
    c.our_wscale = wscale;
    assert_int_equal(tc_connect(&c, T), 1);
    sent = fill_until_zero_window(&c, buf);
    /* bounded: lwIP's window (1 MiB) plus what the two sockets hold */
    assert_true(c.zero_wnd_seen);
    assert_true(sent < (8u << 20));
    /* it stays closed while the proxy does not read */
    tk_run_for(&f.k, 100);
    assert_int_equal(c.peer_wnd, 0);
    fwd_stats(&f, &mid);
    assert_true(mid.bytes_up < sent); /* the rest is queued, unacknowledged */
    if (stop_while_closed) {
        fwd_stop(&f, &st); /* the queue is freed (LSan checks) */
        assert_int_equal(st.tcp_active, 0);
        fp_open_gate(&px);
        assert_int_equal(fp_wait_done(&px, 0, T), 0);
        assert_true(fp_get(&px, 0).reset);
        tc_free(&c);
        fp_stop(&px);
        free(buf);
        return;
    }
    /* the proxy reads: the window reopens and everything arrives */
    fp_open_gate(&px);
    total = sent + EXTRA;
    /* The window update must come unasked: this client sends no
     * zero-window probes (a real one backs off up to minutes). */
    assert_int_equal(tc_write(&c, buf + sent, EXTRA, T), 0);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(fp_wait_done(&px, 0, 2 * T), 0);
    pc = fp_get(&px, 0);
    assert_true(pc.eof);
    assert_int_equal(pc.rx_len, total);
    if (memcmp(pc.rx, buf, total) != 0)
        fail_msg("the proxy received corrupted data");
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_false(c.got_rst);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.bytes_up, total);
    assert_int_equal(st.err_resource + st.err_reset_proxy, 0);
    /* (tun_tx_dropped may count ACKs lost to the socketpair's queue
     * limit, net.unix.max_dgram_qlen: harmless, cumulative) */
    tc_free(&c);
    fp_stop(&px);
    free(buf);
}

/* An app with window scaling (as Linux), the usual case. */
static void
test_window_closes_then_everything_arrives(void **state)
{
    (void)state;
    window_closes(0, 7);
}

/* An app without window scaling: lwIP's windows are 16-bit. */
static void
test_window_closes_then_everything_arrives_no_wscale(void **state)
{
    (void)state;
    window_closes(0, -1);
}

static void
test_stop_while_window_closed(void **state)
{
    (void)state;
    window_closes(1, 7);
}

/* The other way: the app does not acknowledge, the proxy keeps sending;
 * the forwarder stops reading the proxy (bounded), then resumes. */
static void
test_app_slow_reader(void **state)
{
    static const struct fp_step s[] = {
        FP_HANDSHAKE(0, 1), FPA(FP_SEND_PATTERN, 6u << 20), FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    const size_t total = 6u << 20;
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats mid, st;
    uint8_t *want = malloc(total);

    (void)state;
    assert_non_null(want);
    pattern_fill(want, 0, total);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 44100, 80);
    c.auto_ack = 0;
    assert_int_equal(tc_connect(&c, T), 1);
    tk_run_for(&f.k, 300);
    fwd_stats(&f, &mid);
    /* lwIP's send buffer is 1 MiB: the forwarder must not have pulled
     * the whole 6 MiB out of the proxy socket */
    assert_true(mid.bytes_down <= (2u << 20));
    assert_true(c.data_len <= 65535);
    c.auto_ack = 1;
    tc_send(&c, TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, 4 * T), 0);
    assert_int_equal(c.data_len, total);
    if (memcmp(c.data, want, total) != 0)
        fail_msg("the app received corrupted data");
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.bytes_down, total);
    tc_free(&c);
    fp_stop(&px);
    free(want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_closes_then_everything_arrives),
        cmocka_unit_test(test_window_closes_then_everything_arrives_no_wscale),
        cmocka_unit_test(test_stop_while_window_closed),
        cmocka_unit_test(test_app_slow_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
