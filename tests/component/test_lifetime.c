/*
 * Every way a session ends: resets from either side (also while the
 * handshake runs), connect and idle timeouts, and t2s_stop() with sessions
 * in every state. Under ASan/LSan any leak or use-after-free fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "pkt.h"

#define T 3000

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The proxy resets after reading 4 bytes: the app gets RST. */
static void
test_proxy_reset_midstream(void **state)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1), FPA(FP_READ, 4),
                                       FP(FP_RESET), FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 43000, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    tc_send(&c, TH_ACK | TH_PSH, "data", 4);
    assert_int_equal(tc_wait_rst(&c, T), 0);
    assert_false(c.got_fin);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_reset_proxy, 1);
    assert_int_equal(st.err_reset_app, 0);
    tc_free(&c);
    fp_stop(&px);
}

/* The proxy sends data, then resets while the app has not read it all. */
static void
test_proxy_reset_with_data_in_flight(void **state)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1),
                                       FPA(FP_SEND_PATTERN, 100000),
                                       FP(FP_RESET), FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 6, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 6, 43050, 80);
    c.auto_ack = 0; /* data piles up in lwIP */
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(tc_wait_rst(&c, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_reset_proxy, 1);
    tc_free(&c);
    fp_stop(&px);
}

/* The app resets mid-stream: the proxy's socket is reset too. */
static void
test_app_reset_midstream(void **state)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1), FP(FP_READ_EOF),
                                       FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 43100, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    tc_send(&c, TH_ACK | TH_PSH, "abc", 3);
    assert_int_equal(fp_wait_rx(&px, 0, 3, T), 0);
    tc_send(&c, TH_RST | TH_ACK, NULL, 0);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    pc = fp_get(&px, 0);
    assert_true(pc.reset);
    assert_false(pc.eof);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_reset_app, 1);
    assert_int_equal(st.err_reset_proxy, 0);
    assert_int_equal(st.bytes_up, 3);
    tc_free(&c);
    fp_stop(&px);
}

/* The app gives up (RST) while the SOCKS handshake is still running. */
static void
test_app_reset_during_handshake(void **state)
{
    static const struct fp_step s[] = {
        FP(FP_GREETING), FP(FP_WAIT_GATE),     FPA(FP_METHOD, 0),
        FP(FP_REQUEST),  FPA2(FP_REPLY, 0, 1), FP(FP_READ_EOF),
        FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 43200, 80);
    tc_syn(&c);
    assert_int_equal(fp_wait_conns(&px, 1, T), 0);
    for (long long end = now_ms() + T; !fp_get(&px, 0).greeted;)
        assert_true(now_ms() < end && tk_poll(&f.k, 5) >= 0);
    tc_send(&c, TH_RST, NULL, 0);
    assert_int_equal(FWD_WAIT_STAT(&f, err_reset_app, 1, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fp_open_gate(&px);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    pc = fp_get(&px, 0);
    assert_true(pc.reset || pc.aborted);
    assert_false(pc.requested);
    tk_run_for(&f.k, 30);
    assert_false(c.got_synack);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_timeout_connect, 0);
    tc_free(&c);
    fp_stop(&px);
}

/* The proxy accepts and never answers: connect timeout, RST. */
static void
stall_timeout(const struct fp_step *s)
{
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct fwd_opts o = {.connect_timeout_ms = 300};
    struct tc c;
    struct t2s_stats st;
    long long t0;

    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, 4, 43300, 80);
    t0 = now_ms();
    tc_syn(&c);
    assert_int_equal(tc_wait_answer(&c, T), 0);
    assert_true(c.got_rst);
    assert_false(c.got_synack);
    assert_true(now_ms() - t0 >= 250); /* not before the timeout */
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_true(fp_get(&px, 0).reset);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_timeout_connect, 1);
    assert_int_equal(st.err_proxy_proto + st.err_proxy_reply, 0);
    tc_free(&c);
    fp_stop(&px);
}

static void
test_stall_before_method(void **state)
{
    static const struct fp_step s[] = {FP(FP_STALL), FP(FP_END)};

    (void)state;
    stall_timeout(s);
}

static void
test_stall_before_reply(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 0),
                                       FP(FP_REQUEST), FP(FP_STALL),
                                       FP(FP_END)};

    (void)state;
    stall_timeout(s);
}

/* Idle timeout: activity keeps the session alive, silence ends it. */
static void
test_idle_timeout(void **state)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                       FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct fwd_opts o = {.idle_timeout_ms = 400};
    struct tc c;
    struct t2s_stats st;
    long long quiet;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, 4, 43400, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    /* 6 x 150 ms of activity: longer than the idle timeout in total */
    for (size_t i = 0; i < 6; i++) {
        tc_send(&c, TH_ACK | TH_PSH, "k", 1);
        assert_int_equal(tc_wait_data(&c, i + 1, T), 0);
        tk_run_for(&f.k, 150);
        assert_false(c.got_rst);
    }
    quiet = now_ms();
    assert_int_equal(tc_wait_rst(&c, T), 0);
    assert_true(now_ms() - quiet >= 200);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_true(fp_get(&px, 0).reset);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_timeout_idle, 1);
    assert_int_equal(st.bytes_up, 6);
    tc_free(&c);
    fp_stop(&px);
}

/*
 * t2s_stop() with one session in each state: connecting (handshake
 * stalled), SYN|ACK sent but not acknowledged, established, app
 * half-closed, proxy half-closed, and one gracefully finished (lwIP pcb
 * lingering in TIME_WAIT). Every open one is reset on both sides.
 */
static void
test_stop_in_every_state(void **state)
{
    static const struct fp_step connecting[] = {FP(FP_GREETING), FP(FP_STALL),
                                                FP(FP_END)};
    static const struct fp_step syn_rcvd[] = {FP_HANDSHAKE(0, 1), FP(FP_STALL),
                                              FP(FP_END)};
    static const struct fp_step established[] = {FP_HANDSHAKE(0, 1),
                                                 FP(FP_ECHO), FP(FP_END)};
    static const struct fp_step app_half[] = {
        FP_HANDSHAKE(0, 1), FP(FP_READ_EOF), FP(FP_WAIT_GATE), FP(FP_END)};
    static const struct fp_step proxy_half[] = {
        FP_HANDSHAKE(0, 1), FPD(FP_RAW, "bye", 3), FP(FP_SHUT_WR), FP(FP_STALL),
        FP(FP_END)};
    static const struct fp_step finished[] = {
        FP_HANDSHAKE(0, 1), FP(FP_SHUT_WR), FP(FP_READ_EOF), FP(FP_END)};
    const struct fp_step *scripts[] = {connecting, syn_rcvd,   established,
                                       app_half,   proxy_half, finished,
                                       NULL};
    enum { N = 6 };
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c[N];
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    for (size_t i = 0; i < N; i++)
        tc_init(&c[i], &f.k, i % 2 ? 6 : 4, (uint16_t)(43500 + i), 80);
    /* connecting */
    tc_syn(&c[0]);
    assert_int_equal(fp_wait_conns(&px, 1, T), 0);
    /* SYN|ACK not acknowledged */
    tc_syn(&c[1]);
    assert_int_equal(tc_wait_answer(&c[1], T), 0);
    assert_true(c[1].got_synack);
    /* established, with data through */
    assert_int_equal(tc_connect(&c[2], T), 1);
    tc_send(&c[2], TH_ACK | TH_PSH, "hello", 5);
    assert_int_equal(tc_wait_data(&c[2], 5, T), 0);
    /* app half-closed */
    assert_int_equal(tc_connect(&c[3], T), 1);
    tc_send(&c[3], TH_ACK | TH_PSH, "req", 3);
    tc_send(&c[3], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_acked(&c[3], T), 0);
    /* proxy half-closed */
    assert_int_equal(tc_connect(&c[4], T), 1);
    assert_int_equal(tc_wait_fin(&c[4], T), 0);
    assert_int_equal(c[4].data_len, 3);
    /* finished gracefully: proxy closes first, lwIP ends in TIME_WAIT */
    assert_int_equal(tc_connect(&c[5], T), 1);
    assert_int_equal(tc_wait_fin(&c[5], T), 0);
    tc_send(&c[5], TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_acked(&c[5], T), 0);
    assert_int_equal(fp_wait_done(&px, 5, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, N - 1, T), 0);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(fp_wait_conns(&px, i + 1, 0), 0);
    assert_int_equal(fp_wait_rx(&px, 3, 3, T), 0);

    fwd_halt(&f);
    tk_drain(&f.k);
    /* the app side of every open session was reset */
    for (size_t i = 0; i < N - 1; i++)
        if (!c[i].got_rst)
            fail_msg("session %zu: no RST to the app on stop", i);
    assert_false(c[5].got_rst);
    /* and the proxy side too */
    for (size_t i = 0; i < N - 1; i++) {
        struct fp_conn pc;
        if (i == 3)
            fp_open_gate(&px); /* app_half waits after its EOF */
        assert_int_equal(fp_wait_done(&px, i, T), 0);
        pc = fp_get(&px, i);
        if (i != 3 && !pc.reset)
            fail_msg("session %zu: proxy socket not reset on stop", i);
    }
    fwd_stop(&f, &st);
    assert_int_equal(st.tcp_total, N);
    assert_int_equal(st.tcp_active, 0);
    assert_int_equal(st.err_timeout_connect + st.err_timeout_idle, 0);
    for (size_t i = 0; i < N; i++)
        tc_free(&c[i]);
    fp_stop(&px);
}

/* A SYN arriving while the loop is stopping is refused, not leaked:
 * several instances in a row, each stopped with a SYN just sent. */
/*
 * An app that reconnects from the same port right after a close meets the
 * TIME_WAIT pcb the previous connection left in lwIP: the new SYN (with a
 * new initial sequence number) is answered with SYN|ACK, not RST, and gets
 * a proxy connection of its own; over IPv4 and IPv6, while two other
 * sessions stay open in lwIP's connection table and keep working.
 */
static void
test_reconnect_same_port(void **state)
{
    static const struct fp_step echo[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                          FP(FP_END)};
    static const struct fp_step finished[] = {
        FP_HANDSHAKE(0, 1), FPD(FP_SEND, "one", 3), FP(FP_SHUT_WR),
        FP(FP_READ_EOF), FP(FP_END)};
    /* proxy connections: the two others, then per family the finished
     * one and its successor */
    const struct fp_step *scripts[] = {echo,     echo, finished, echo,
                                       finished, echo, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc other[2];
    struct t2s_stats st;
    size_t conn = 0;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, NULL);
    for (int i = 0; i < 2; i++) {
        tc_init(&other[i], &f.k, i ? 6 : 4, (uint16_t)(43700 + i), 80);
        assert_int_equal(tc_connect(&other[i], T), 1);
        assert_int_equal(fp_wait_conns(&px, ++conn, T), 0);
    }
    for (int fam = 4; fam <= 6; fam += 2) {
        struct tc c, again;
        uint32_t iss;

        tc_init(&c, &f.k, fam, 43710, 80);
        assert_int_equal(tc_connect(&c, T), 1);
        assert_int_equal(fp_wait_conns(&px, ++conn, T), 0);
        assert_int_equal(tc_wait_fin(&c, T), 0);
        assert_int_equal(c.data_len, 3);
        /* the proxy closed first: lwIP is left in TIME_WAIT */
        tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
        assert_int_equal(tc_wait_acked(&c, T), 0);
        assert_int_equal(fp_wait_done(&px, conn - 1, T), 0);
        iss = c.iss;
        tc_free(&c);

        tc_init(&again, &f.k, fam, 43710, 80);
        again.iss = iss + 0x01000000u;
        again.snd_nxt = again.snd_una = again.iss;
        assert_int_equal(tc_connect(&again, T), 1);
        assert_false(again.got_rst);
        assert_int_equal(fp_wait_conns(&px, ++conn, T), 0);
        tc_send(&again, TH_ACK | TH_PSH, "two", 3);
        assert_int_equal(tc_wait_data(&again, 3, T), 0);
        assert_memory_equal(again.data, "two", 3);
        tc_free(&again);
    }
    for (int i = 0; i < 2; i++) {
        tc_send(&other[i], TH_ACK | TH_PSH, "ab", 2);
        assert_int_equal(tc_wait_data(&other[i], 2, T), 0);
        assert_memory_equal(other[i].data, "ab", 2);
    }
    fwd_stop(&f, &st);
    assert_int_equal(st.tcp_total, 6);
    for (int i = 0; i < 2; i++)
        tc_free(&other[i]);
    fp_stop(&px);
}

static void
test_create_destroy_repeatedly(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FP(FP_STALL),
                                       FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};

    (void)state;
    for (int round = 0; round < 5; round++) {
        struct fake_proxy px = {0};
        struct fwd f;
        struct tc c;
        struct t2s_stats st;

        fp_start(&px, 4, 0, scripts);
        fwd_start(&f, &px, NULL);
        tc_init(&c, &f.k, 4, (uint16_t)(43600 + round), 80);
        tc_syn(&c);
        if (round % 2)
            assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 1, T), 0);
        fwd_stop(&f, &st);
        assert_int_equal(st.tcp_active, 0);
        tc_free(&c);
        fp_stop(&px);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_reset_midstream),
        cmocka_unit_test(test_proxy_reset_with_data_in_flight),
        cmocka_unit_test(test_app_reset_midstream),
        cmocka_unit_test(test_app_reset_during_handshake),
        cmocka_unit_test(test_stall_before_method),
        cmocka_unit_test(test_stall_before_reply),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_stop_in_every_state),
        cmocka_unit_test(test_reconnect_same_port),
        cmocka_unit_test(test_create_destroy_repeatedly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
