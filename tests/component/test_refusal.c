/*
 * Refusals: every REP code, method and username/password rejections,
 * malformed replies, a proxy that closes or is down, and the connection
 * cap. The app's SYN is answered with RST and never with SYN|ACK, and the
 * matching counter moves.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "pkt.h"

#define T 3000

/* SYN -> RST without a SYN|ACK before or after. */
static void
assert_refused(struct tc *c)
{
    assert_int_equal(tc_connect(c, T), 0);
    assert_true(c->got_rst);
    assert_false(c->got_synack);
    tk_run_for(c->k, 30);
    assert_false(c->got_synack);
    assert_false(c->synack_after_rst);
}

static void
test_every_rep_code(void **state)
{
    static const unsigned reps[] = {1, 2, 3, 4, 5, 6, 7, 8, 0x42};
    enum { N = sizeof(reps) / sizeof(reps[0]) };
    struct fp_step scripts_buf[N][5];
    const struct fp_step *scripts[N + 1];
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c[N];
    struct t2s_stats st;

    (void)state;
    for (size_t i = 0; i < N; i++) {
        const struct fp_step s[5] = {FP_HANDSHAKE(reps[i], i % 2 ? 3 : 1)};
        memcpy(scripts_buf[i], s, sizeof(s)); /* s[4] is FP_END */
        scripts[i] = scripts_buf[i];
    }
    scripts[N] = NULL;
    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, NULL);
    for (size_t i = 0; i < N; i++) {
        tc_init(&c[i], &f.k, 4, (uint16_t)(41000 + i), 80);
        assert_refused(&c[i]);
        assert_int_equal(fp_wait_done(&px, i, T), 0);
        assert_true(fp_get(&px, i).requested);
        assert_int_equal(FWD_WAIT_STAT(&f, err_proxy_reply, i + 1, T), 0);
        assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    }
    fwd_stop(&f, &st);
    assert_int_equal(st.err_proxy_reply, N);
    assert_int_equal(st.tcp_total, N);
    assert_int_equal(st.err_proxy_proto + st.err_proxy_auth, 0);
    assert_int_equal(st.bytes_up + st.bytes_down, 0);
    assert_int_equal(f.k.bad, 0);
    for (size_t i = 0; i < N; i++)
        tc_free(&c[i]);
    fp_stop(&px);
}

/* One refused connection with the given script and proxy credentials;
 * returns the final counters. */
static void
refused_once(const struct fp_step *script, const char *userinfo, int app_v6,
             struct t2s_stats *st)
{
    const struct fp_step *scripts[] = {script, NULL};
    struct fwd_opts o = {.userinfo = userinfo};
    struct fake_proxy px = {0};
    struct fwd f;
    struct tc c;

    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, app_v6 ? 6 : 4, 42000, 443);
    assert_refused(&c);
    assert_int_equal(fp_wait_done(&px, 0, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, st);
    assert_int_equal(st->tcp_total, 1);
    tc_free(&c);
    fp_stop(&px);
}

static void
test_no_acceptable_method(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 0xff),
                                       FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, NULL, 0, &st);
    assert_int_equal(st.err_proxy_auth, 1);
    assert_int_equal(st.err_proxy_proto + st.err_proxy_reply, 0);
}

static void
test_userpass_rejected(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 2),
                                       FP(FP_AUTH), FPA(FP_AUTH_REPLY, 1),
                                       FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, "alice:wrong", 1, &st);
    assert_int_equal(st.err_proxy_auth, 1);
    assert_int_equal(st.err_proxy_proto + st.err_proxy_reply, 0);
}

/* The server wants username/password but we have none. */
static void
test_userpass_demanded_without_credentials(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 2),
                                       FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, NULL, 0, &st);
    assert_int_equal(st.err_proxy_auth, 1);
}

static void
test_malformed_reply_version(void **state)
{
    static const uint8_t bad[] = {4, 0, 0, 1, 127, 0, 0, 1, 4, 56};
    static const struct fp_step s[] = {
        FP(FP_GREETING), FPA(FP_METHOD, 0), FP(FP_REQUEST),
        FPD(FP_SEND, bad, sizeof(bad)), FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, NULL, 0, &st);
    assert_int_equal(st.err_proxy_proto, 1);
    assert_int_equal(st.err_proxy_reply, 0);
}

static void
test_proxy_closes_during_handshake(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, NULL, 1, &st);
    assert_int_equal(st.err_proxy_proto, 1);
}

static void
test_proxy_resets_during_handshake(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 0),
                                       FP(FP_REQUEST), FP(FP_RESET),
                                       FP(FP_END)};
    struct t2s_stats st;

    (void)state;
    refused_once(s, NULL, 0, &st);
    /* a reset socket during the handshake: I/O error, not a reply */
    assert_int_equal(st.err_proxy_reply + st.err_proxy_auth, 0);
    assert_int_equal(st.err_proxy_proto, 1);
}

/* Nobody listens on the proxy port. */
static void
test_proxy_down(void **state)
{
    struct fake_proxy px = {.family = 4};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct fwd f;
    struct tc c;
    struct t2s_stats st;

    (void)state;
    /* a port that was just free and has no listener */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    px.port = ntohs(sa.sin_port);
    fwd_start(&f, &px, NULL);
    tc_init(&c, &f.k, 4, 42100, 80);
    assert_refused(&c);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    close(fd);
    assert_int_equal(st.err_proxy_connect, 1);
    tc_free(&c);
}

static void
test_userpass_accepted(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING), FPA(FP_METHOD, 2),
                                       FP(FP_AUTH),     FPA(FP_AUTH_REPLY, 0),
                                       FP(FP_REQUEST),  FPA2(FP_REPLY, 0, 1),
                                       FP(FP_ECHO),     FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct fwd_opts o = {.userinfo = "alice:s%3Acret"};
    struct tc c;
    struct t2s_stats st;
    struct fp_conn pc;

    (void)state;
    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, 4, 42200, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    pc = fp_get(&px, 0);
    assert_true(pc.authed);
    assert_string_equal(pc.user, "alice");
    assert_string_equal(pc.pass, "s:cret");
    assert_non_null(memchr(pc.methods, 2, pc.nmethods));
    tc_send(&c, TH_ACK | TH_PSH, "x", 1);
    assert_int_equal(tc_wait_data(&c, 1, T), 0);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_proxy_auth, 0);
    tc_free(&c);
    fp_stop(&px);
}

/* Pipelined greeting and request: the server reads both before replying. */
static void
test_pipelined_handshake(void **state)
{
    static const struct fp_step s[] = {FP(FP_GREETING),   FP(FP_REQUEST),
                                       FPA(FP_METHOD, 0), FPA2(FP_REPLY, 0, 4),
                                       FP(FP_ECHO),       FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct fwd_opts o = {.pipeline = 1};
    struct tc c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 1, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, 6, 42300, 80);
    assert_int_equal(tc_connect(&c, T), 1);
    assert_int_equal(fp_get(&px, 0).req_atyp, 4);
    tc_send(&c, TH_ACK | TH_PSH, "pipe", 4);
    assert_int_equal(tc_wait_data(&c, 4, T), 0);
    assert_memory_equal(c.data, "pipe", 4);
    tc_send(&c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&c, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    fwd_stop(&f, &st);
    tc_free(&c);
    fp_stop(&px);
}

/* --max-conns 1: the second SYN is refused while the first lives, and the
 * slot is free again once it ended. */
static void
test_connection_cap(void **state)
{
    static const struct fp_step s[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                       FP(FP_END)};
    const struct fp_step *scripts[] = {s, NULL};
    struct fake_proxy px = {0};
    struct fwd f;
    struct fwd_opts o = {.max_conns = 1};
    struct tc a, b, c;
    struct t2s_stats st;

    (void)state;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&a, &f.k, 4, 42401, 80);
    tc_init(&b, &f.k, 4, 42402, 80);
    tc_init(&c, &f.k, 6, 42403, 80);
    assert_int_equal(tc_connect(&a, T), 1);
    assert_refused(&b);
    fwd_stats(&f, &st);
    assert_int_equal(st.tcp_refused_limit, 1);
    assert_int_equal(st.tcp_active, 1);
    /* the refused SYN never reached the proxy */
    assert_int_equal(fp_wait_conns(&px, 2, 100), -1);
    tc_send(&a, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(tc_wait_fin(&a, T), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, tcp_active, 0, T), 0);
    assert_int_equal(tc_connect(&c, T), 1);
    tc_send(&c, TH_ACK | TH_PSH, "again", 5);
    assert_int_equal(tc_wait_data(&c, 5, T), 0);
    fwd_stop(&f, &st); /* c still open: closed by the stop */
    assert_int_equal(st.tcp_refused_limit, 1);
    assert_int_equal(st.tcp_total, 2);
    assert_int_equal(st.tcp_active, 0);
    tc_free(&a);
    tc_free(&b);
    tc_free(&c);
    fp_stop(&px);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rep_code),
        cmocka_unit_test(test_no_acceptable_method),
        cmocka_unit_test(test_userpass_rejected),
        cmocka_unit_test(test_userpass_demanded_without_credentials),
        cmocka_unit_test(test_malformed_reply_version),
        cmocka_unit_test(test_proxy_closes_during_handshake),
        cmocka_unit_test(test_proxy_resets_during_handshake),
        cmocka_unit_test(test_proxy_down),
        cmocka_unit_test(test_userpass_accepted),
        cmocka_unit_test(test_pipelined_handshake),
        cmocka_unit_test(test_connection_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
