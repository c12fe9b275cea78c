/*
 * DNS over TCP in one process: a query the app sends to port 53 (--dns
 * tcp) goes to the scripted SOCKS server as a CONNECT to the address the
 * app asked, framed (RFC 7766); the framed answer comes back to the app as
 * a datagram from that address. A query the proxy refuses or never
 * answers ends counted as failed. Every query ends through the session
 * close path and is freed after the loop iteration (ASan watches).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/instance.h"
#include "fwd.h"
#include "udp_pkt.h"

static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t RESOLVER4[4] = {192, 0, 2, 53};

/* Not real DNS: the relay only frames them (at least 12 bytes each). */
#define QUERY "query-0123456789"
#define ANSWER "answer-0123456789"

static const uint8_t answer_framed[] = "\x00\x11" ANSWER;

static const struct fp_step s_answer[] = {
    FP_HANDSHAKE(0, 1), FPA(FP_READ, 2 + sizeof(QUERY) - 1),
    FPD(FP_SEND, answer_framed, sizeof(answer_framed) - 1), FP(FP_END)};
static const struct fp_step *const answer_scripts[] = {s_answer, NULL};

static const struct fp_step s_refused[] = {FP_HANDSHAKE(5, 1), FP(FP_END)};
static const struct fp_step *const refused_scripts[] = {s_refused, NULL};

static const struct fp_step s_silent[] = {FP_HANDSHAKE(0, 1),
                                          FPA(FP_READ, 2 + sizeof(QUERY) - 1),
                                          FP(FP_STALL), FP(FP_END)};
static const struct fp_step *const silent_scripts[] = {s_silent, NULL};

struct rig {
    struct fake_proxy px;
    struct fwd f;
};

/* The rig of the running test, stopped by teardown() if the test fails. */
static struct rig *live;

static void
cfg_dns_tcp(struct t2s_config *c)
{
    c->dns_mode = T2S_DNS_TCP;
    c->dns_timeout_ms = 1000;
}

static void
rig_start(struct rig *r, const struct fp_step *const *scripts)
{
    struct fwd_opts o = {.config = cfg_dns_tcp};

    memset(r, 0, sizeof(*r));
    fp_start(&r->px, 4, 0, scripts);
    fwd_start(&r->f, &r->px, &o);
    live = r;
}

static void
rig_stop(struct rig *r, struct t2s_stats *st)
{
    live = NULL;
    fwd_stop(&r->f, st);
    fp_stop(&r->px);
}

static int
teardown(void **state)
{
    struct t2s_stats st;

    (void)state;
    if (live != NULL)
        rig_stop(live, &st);
    return 0;
}

static void
ask(struct rig *r, uint16_t sport)
{
    struct udp_dgram d = {.family = 4, .sport = sport, .dport = 53};

    memcpy(d.src, APP4, 4);
    memcpy(d.dst, RESOLVER4, 4);
    d.data = (const uint8_t *)QUERY;
    d.len = sizeof(QUERY) - 1;
    assert_int_equal(ku_send(r->f.k.fd, &d, 1500), 0);
}

static void
test_answer_comes_back_as_datagram(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct fp_conn c;
    struct udp_dgram d;
    uint8_t buf[256];

    (void)state;
    rig_start(&r, answer_scripts);
    ask(&r, 40001);
    do {
        if (ku_recv(r.f.k.fd, &d, buf, sizeof(buf), 5000, NULL) != 0)
            fail_msg("no answer reached the app");
    } while (d.dport != 40001);
    assert_memory_equal(d.src, RESOLVER4, 4);
    assert_int_equal(d.sport, 53);
    assert_int_equal(d.len, sizeof(ANSWER) - 1);
    assert_memory_equal(d.data, ANSWER, d.len);
    c = fp_get(&r.px, 0);
    assert_int_equal(c.req_cmd, T2S_SOCKS5_CMD_CONNECT);
    assert_memory_equal(c.req_addr, RESOLVER4, 4);
    assert_int_equal(c.req_port, 53);
    assert_int_equal(c.rx_len, 2 + sizeof(QUERY) - 1);
    assert_int_equal(c.rx[0], 0);
    assert_int_equal(c.rx[1], sizeof(QUERY) - 1);
    assert_memory_equal(c.rx + 2, QUERY, sizeof(QUERY) - 1);
    rig_stop(&r, &st);
    assert_int_equal(st.dns_tcp, 1);
    assert_int_equal(st.dns_tcp_failed, 0);
}

static void
test_refused_query_fails(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;

    (void)state;
    rig_start(&r, refused_scripts);
    ask(&r, 40002);
    assert_int_equal(FWD_WAIT_STAT(&r.f, dns_tcp_failed, 1, 5000), 0);
    rig_stop(&r, &st);
    assert_int_equal(st.dns_tcp, 1);
    assert_int_equal(st.dns_tcp_failed, 1);
}

static void
test_unanswered_query_times_out(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;

    (void)state;
    rig_start(&r, silent_scripts);
    ask(&r, 40003);
    assert_int_equal(fp_wait_rx(&r.px, 0, 2 + sizeof(QUERY) - 1, 5000), 0);
    assert_int_equal(FWD_WAIT_STAT(&r.f, dns_tcp_failed, 1, 5000), 0);
    rig_stop(&r, &st);
    assert_int_equal(st.dns_tcp, 1);
    assert_int_equal(st.dns_tcp_failed, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_answer_comes_back_as_datagram, teardown),
        cmocka_unit_test_teardown(test_refused_query_fails, teardown),
        cmocka_unit_test_teardown(test_unanswered_query_times_out, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
