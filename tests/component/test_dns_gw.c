/*
 * The DNS gateway (--dns-gateway) in one process: a query the app sends
 * to port 53 goes from a plain UDP socket straight to the gateway (a
 * socket of this test on loopback), not through the proxy; the gateway's
 * answer comes back to the app as a datagram from the address the app
 * asked. Later queries of the same app socket use the same flow; a
 * datagram that is no query is dropped, counted; the socket hook sees the
 * gateway's sockets and may refuse them; at the cap of flows the oldest
 * makes room. Flows end through the session
 * close path and are freed after the loop iteration (ASan watches).
 */
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/instance.h"
#include "fwd.h"
#include "udp_pkt.h"

static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t ASKED4[4] = {192, 0, 2, 53};

/* Not real DNS: the gateway path only checks the header's QR bit. */
static const uint8_t QUERY[] = {0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,
                                0,    0,    0,    0,    'q', 'u', 'e', 'r'};
static const uint8_t ANSWER[] = {0x12, 0x34, 0x81, 0x80, 0,   1,
                                 0,    1,    0,    0,    0,   0,
                                 'a',  'n',  's',  'w',  'e', 'r'};

static const struct fp_step *const no_scripts[] = {NULL};

struct rig {
    struct fake_proxy px;
    struct fwd f;
    int gw;         /* the gateway: a UDP socket on 127.0.0.1 */
    uint16_t port;  /* its port */
    int hook_calls; /* socket hook calls */
    int hook_says;  /* what the hook returns */
};

/* The rig of the running test, stopped by teardown() if the test fails. */
static struct rig *live;

static int
on_socket(int fd, void *user)
{
    struct rig *r = user;

    (void)fd;
    __atomic_add_fetch(&r->hook_calls, 1, __ATOMIC_SEQ_CST);
    return r->hook_says;
}

static void
cfg_gateway(struct t2s_config *c)
{
    char v[32], err[128];

    snprintf(v, sizeof(v), "127.0.0.1:%u", (unsigned)live->port);
    assert_int_equal(t2s_config_set(c, "dns-gateway", v, err, sizeof(err)), 0);
    c->dns_timeout_ms = 1000;
    t2s_config_set_socket_hook(c, on_socket, live);
}

static void
rig_start(struct rig *r, int hook_says)
{
    struct fwd_opts o = {.config = cfg_gateway};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    memset(r, 0, sizeof(*r));
    r->hook_says = hook_says;
    r->gw = socket(AF_INET, SOCK_DGRAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(r->gw, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(r->gw, (struct sockaddr *)&sin, &len), 0);
    r->port = ntohs(sin.sin_port);
    live = r;
    fp_start(&r->px, 4, 0, no_scripts);
    fwd_start(&r->f, &r->px, &o);
}

static void
rig_stop(struct rig *r, struct t2s_stats *st)
{
    live = NULL;
    fwd_stop(&r->f, st);
    fp_stop(&r->px);
    close(r->gw);
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
ask(struct rig *r, uint16_t sport, const uint8_t *data, size_t len)
{
    struct udp_dgram d = {.family = 4, .sport = sport, .dport = 53};

    memcpy(d.src, APP4, 4);
    memcpy(d.dst, ASKED4, 4);
    d.data = data;
    d.len = len;
    assert_int_equal(ku_send(r->f.k.fd, &d, 1500), 0);
}

/* One datagram at the gateway within timeout_ms: its length, or -1. */
static ssize_t
gw_recv(struct rig *r, uint8_t *buf, size_t cap, struct sockaddr_in *from,
        int timeout_ms)
{
    struct pollfd p = {.fd = r->gw, .events = POLLIN};
    socklen_t len = sizeof(*from);

    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    return recvfrom(r->gw, buf, cap, 0, (struct sockaddr *)from, &len);
}

/* The app's next datagram to sport: 0, or -1 on timeout. */
static int
app_recv(struct rig *r, uint16_t sport, struct udp_dgram *d, uint8_t *buf,
         size_t cap)
{
    do {
        if (ku_recv(r->f.k.fd, d, buf, cap, 5000, NULL) != 0)
            return -1;
    } while (d->dport != sport);
    return 0;
}

static void
test_query_goes_straight_to_the_gateway(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct sockaddr_in from, from2;
    struct t2s_stats st;
    struct udp_dgram d;
    uint8_t buf[256];
    ssize_t n;

    (void)state;
    rig_start(&r, 0);
    ask(&r, 40001, QUERY, sizeof(QUERY));
    n = gw_recv(&r, buf, sizeof(buf), &from, 5000);
    assert_int_equal(n, sizeof(QUERY));
    assert_memory_equal(buf, QUERY, sizeof(QUERY));
    assert_int_equal(sendto(r.gw, ANSWER, sizeof(ANSWER), 0,
                            (struct sockaddr *)&from, sizeof(from)),
                     sizeof(ANSWER));
    if (app_recv(&r, 40001, &d, buf, sizeof(buf)) != 0)
        fail_msg("no answer reached the app");
    assert_memory_equal(d.src, ASKED4, 4);
    assert_int_equal(d.sport, 53);
    assert_int_equal(d.len, sizeof(ANSWER));
    assert_memory_equal(d.data, ANSWER, d.len);
    /* the same app socket again: the same flow, the same gateway socket */
    ask(&r, 40001, QUERY, sizeof(QUERY));
    assert_int_equal(gw_recv(&r, buf, sizeof(buf), &from2, 5000),
                     sizeof(QUERY));
    assert_int_equal(from2.sin_port, from.sin_port);
    rig_stop(&r, &st);
    assert_int_equal(r.px.nconns, 0); /* never through the proxy */
    assert_int_equal(r.hook_calls, 1);
    assert_int_equal(st.dns_gw, 2);
    assert_int_equal(st.dns_gw_failed, 0);
    assert_int_equal(st.udp_total, 0);
    assert_int_equal(st.dns_tcp, 0);
}

static void
test_not_a_query_is_dropped(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct sockaddr_in from;
    struct t2s_stats st;
    uint8_t buf[256];

    (void)state;
    rig_start(&r, 0);
    ask(&r, 40002, ANSWER, sizeof(ANSWER)); /* QR set: an answer */
    ask(&r, 40002, QUERY, 8);               /* shorter than a header */
    assert_int_equal(FWD_WAIT_STAT(&r.f, dns_gw_failed, 2, 5000), 0);
    assert_int_equal(gw_recv(&r, buf, sizeof(buf), &from, 300), -1);
    rig_stop(&r, &st);
    assert_int_equal(st.dns_gw, 2);
    assert_int_equal(st.dns_gw_failed, 2);
    assert_int_equal(r.hook_calls, 0);
}

static void
test_socket_hook_refuses_the_gateway_socket(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct sockaddr_in from;
    struct t2s_stats st;
    uint8_t buf[256];

    (void)state;
    rig_start(&r, -1);
    ask(&r, 40003, QUERY, sizeof(QUERY));
    assert_int_equal(FWD_WAIT_STAT(&r.f, dns_gw_failed, 1, 5000), 0);
    assert_int_equal(gw_recv(&r, buf, sizeof(buf), &from, 300), -1);
    rig_stop(&r, &st);
    assert_int_equal(r.hook_calls, 1);
    assert_int_equal(st.socket_hook_refused, 1);
    assert_int_equal(st.err_resource, 0);
}

static void
test_idle_flow_ends(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct sockaddr_in from;
    struct t2s_stats st;
    uint8_t buf[256];

    (void)state;
    rig_start(&r, 0);
    ask(&r, 40004, QUERY, sizeof(QUERY));
    assert_int_equal(gw_recv(&r, buf, sizeof(buf), &from, 5000), sizeof(QUERY));
    usleep(1600 * 1000); /* dns-timeout is 1 s */
    ask(&r, 40004, QUERY, sizeof(QUERY));
    assert_int_equal(gw_recv(&r, buf, sizeof(buf), &from, 5000), sizeof(QUERY));
    rig_stop(&r, &st);
    assert_int_equal(r.hook_calls, 2); /* a new flow, a new socket */
    assert_int_equal(st.dns_gw, 2);
}

/* More app sockets than the cap (256): the oldest flows make room, no
 * query is dropped. */
static void
test_cap_evicts_the_oldest_flow(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct sockaddr_in from;
    struct t2s_stats st;
    uint8_t buf[256];

    (void)state;
    rig_start(&r, 0);
    for (uint16_t i = 0; i < 300; i++) {
        ask(&r, (uint16_t)(41000 + i), QUERY, sizeof(QUERY));
        if (gw_recv(&r, buf, sizeof(buf), &from, 5000) != sizeof(QUERY))
            fail_msg("query %u did not reach the gateway", (unsigned)i);
    }
    rig_stop(&r, &st);
    assert_int_equal(r.hook_calls, 300);
    assert_int_equal(st.dns_gw, 300);
    assert_int_equal(st.dns_gw_failed, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_query_goes_straight_to_the_gateway,
                                  teardown),
        cmocka_unit_test_teardown(test_not_a_query_is_dropped, teardown),
        cmocka_unit_test_teardown(test_socket_hook_refuses_the_gateway_socket,
                                  teardown),
        cmocka_unit_test_teardown(test_idle_flow_ends, teardown),
        cmocka_unit_test_teardown(test_cap_evicts_the_oldest_flow, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
