/*
 * Closes that outlive lwIP's 2 * MSL timers: every byte and then the FIN
 * still reach the app, and no session touches a pcb lwIP freed (under
 * ASan a use after free fails the test).
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
/* Longer than 2 * TCP_MSL (10 s) plus a slow-timer tick. */
#define PAST_2MSL 12000
/* Longer than lwIP's persist backoff reaches (probes 12 s apart and
 * more): a pause no LAST_ACK timer may end. */
#define LONG_PAUSE 25000

static void
assert_no_errors(const struct t2s_stats *st)
{
    assert_int_equal(st->tcp_active, 0);
    assert_int_equal(st->err_proxy_connect + st->err_proxy_auth +
                         st->err_proxy_reply + st->err_proxy_proto +
                         st->err_timeout_connect + st->err_timeout_idle +
                         st->err_reset_app + st->err_reset_proxy +
                         st->err_resource,
                     0);
}

/*
 * The app sends its request and FIN, then stops reading for longer than
 * 2 * MSL, and than the persist timer's probe interval, while the answer and
 * the proxy's EOF wait in the forwarder. When it reads again it gets every
 * byte, then the FIN.
 */
static void
test_app_pauses_after_half_close(void **state)
{
    enum { N = 768 * 1024 };
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FP(FP_READ_EOF),
                                            FPA(FP_SEND_PATTERN, N),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    uint8_t *want = malloc(N);

    (void)state;
    assert_non_null(want);
    pattern_fill(want, 0, N);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 44000, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    tc_send(&c, TH_ACK | TH_PSH, "GET / HTTP/1.0\r\n\r\n", 18);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_data(&c, 16384, T), 0);
    tc_pause(&c); /* the app stops reading: its window closes */
    /* the whole answer and the EOF are in the forwarder now */
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    tk_run_for(&f.k, LONG_PAUSE);
    assert_false(c.got_rst);
    assert_true(c.data_len < N);
    tc_resume(&c); /* it reads again */
    assert_int_equal(tc_wait_fin(&c, 4 * T), 0);
    assert_int_equal(c.data_len, N);
    assert_memory_equal(c.data, want, N);
    assert_false(c.got_rst);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_no_errors(&st);
    assert_int_equal(st.bytes_down, N);
    tc_free(&c);
    fp_stop(&px);
    free(want);
}

/*
 * The server closes first; the app then sends data and its FIN, so lwIP
 * moves the pcb to TIME_WAIT while the data still waits for a proxy that
 * reads slowly, for longer than 2 * MSL. lwIP frees a TIME_WAIT pcb
 * without telling anyone; the proxy must still get every byte and EOF.
 */
static void
test_app_data_after_server_close_outlives_time_wait(void **state)
{
    enum { MAX = 16 * 1024 * 1024, FULL_WND = 1024 * 1024 };
    static const struct fp_step script[] = {FP_HANDSHAKE(0, 1), FP(FP_SHUT_WR),
                                            FP(FP_WAIT_GATE), FP(FP_READ_EOF),
                                            FP(FP_END)};
    const struct fp_step *scripts[] = {script, NULL};
    struct fake_proxy px = {.rcvbuf = 4096};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;
    uint8_t *data = malloc(MAX);
    size_t sent = 0;

    (void)state;
    assert_non_null(data);
    pattern_fill(data, 0, MAX);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 44100, 80);
    c.our_wscale = 5; /* lwIP's whole 1 MiB window */
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_wait_fin(&c, T), 0); /* the server closed */
    /* Send until the forwarder holds at least 256 KiB the proxy has not
     * taken (its window shrank by that much), leaving room for the FIN. */
    while (sent < MAX && c.peer_wnd + 256 * 1024 > FULL_WND) {
        /* 64 KiB at a time, and the window read only once all of it is
         * acknowledged: under load a stale window let one burst close it
         * entirely (then the FIN would not fit) */
        size_t chunk = MAX - sent < 65536 ? MAX - sent : 65536;
        sent += tc_send_window(&c, data + sent, chunk);
        assert_int_equal(tc_wait_acked(&c, T), 0);
        tk_run_for(&f.k, 20);
    }
    assert_true(sent < MAX);
    assert_true(c.peer_wnd > 0);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_acked(&c, T), 0);
    tk_run_for(&f.k, PAST_2MSL); /* lwIP frees the TIME_WAIT pcb */
    fp_open_gate(&px);
    assert_int_equal(fp_wait_done(&px, 0, 10 * T), 0);
    pc = fp_get(&px, 0);
    assert_true(pc.eof);
    assert_int_equal(pc.rx_len, sent);
    assert_memory_equal(pc.rx, data, sent);
    assert_false(c.got_rst);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_no_errors(&st);
    assert_int_equal(st.bytes_up, sent);
    tc_free(&c);
    fp_stop(&px);
    free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_pauses_after_half_close),
        cmocka_unit_test(test_app_data_after_server_close_outlives_time_wait),
    };
    /* T2S_TEST_FILTER=pattern runs only the matching tests */
    if (getenv("T2S_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("T2S_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
