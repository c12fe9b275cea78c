/*
 * UDP associations in one process: datagrams from the "kernel" side of the
 * TUN, the scripted SOCKS server for UDP ASSOCIATE, and a relay socket of
 * our own that the association's datagrams reach. Covers the fake-ip
 * references an association holds, datagrams of many fragments, which
 * source a reply carries back to the app, odd ASSOCIATE replies and the
 * fake-ip pool's recycling rule.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/instance.h"
#include "upstream/fakeip.h"
#include "fwd.h"
#include "udp_pkt.h"

static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t APP6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                 0,    0, 0, 0, 0, 0, 0, 1};
static const uint8_t REAL4[4] = {192, 0, 2, 9};
static const uint8_t REAL6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                  0,    0,    0,    0,    0, 0, 0, 9};

/* The ASSOCIATE reply names our relay; filled before the proxy starts. */
static uint8_t assoc_reply[10];

static const struct fp_step s_assoc[] = {
    FP(FP_GREETING), FPA(FP_METHOD, 0),
    FP(FP_REQUEST),  FPD(FP_SEND, assoc_reply, sizeof(assoc_reply)),
    FP(FP_STALL),    FP(FP_END)};
static const struct fp_step *const assoc_scripts[] = {s_assoc, NULL};

struct rig {
    struct fake_proxy px;
    struct fwd f;
    int relay;
    struct sockaddr_storage assoc; /* tun2socks's relay socket */
    unsigned assoc_len;
};

/* The rig of the running test, stopped by teardown() if the test fails. */
static struct rig *live;

static void
rig_start(struct rig *r, const struct fp_step *const *scripts,
          void (*config)(struct t2s_config *))
{
    struct fwd_opts o = {.config = config};
    uint16_t port;

    memset(r, 0, sizeof(*r));
    r->relay = relay_open(&port);
    relay_reply(assoc_reply, port);
    fp_start(&r->px, 4, 0, scripts != NULL ? scripts : assoc_scripts);
    fwd_start(&r->f, &r->px, &o);
    live = r;
}

static void
rig_stop(struct rig *r, struct t2s_stats *st)
{
    live = NULL;
    fwd_stop(&r->f, st);
    fp_stop(&r->px);
    close(r->relay);
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

/* One datagram from the app (sport) to dst:dport (family from alen). */
static void
app_send(struct rig *r, int family, uint16_t sport, const uint8_t *dst,
         uint16_t dport, const void *data, size_t len, size_t mtu)
{
    struct udp_dgram d = {.family = family, .sport = sport, .dport = dport};

    memcpy(d.src, family == 4 ? APP4 : APP6, family == 4 ? 4 : 16);
    memcpy(d.dst, dst, family == 4 ? 4 : 16);
    d.data = data;
    d.len = len;
    assert_int_equal(ku_send(r->f.k.fd, &d, mtu), 0);
}

/* The relay's next datagram; its destination in *to. */
static size_t
relay_get(struct rig *r, struct t2s_socks5_addr *to, uint8_t *buf, size_t cap)
{
    size_t len = 0;

    if (relay_recv(r->relay, to, buf, cap, &len, &r->assoc, &r->assoc_len,
                   5000) != 0)
        fail_msg("the relay received nothing");
    return len;
}

static void
relay_put4(struct rig *r, const uint8_t *src, uint16_t port, const char *msg)
{
    struct t2s_socks5_addr a = {.atyp = T2S_SOCKS5_ATYP_IPV4, .port = port};

    memcpy(a.u.v4, src, 4);
    assert_int_equal(
        relay_send(r->relay, &r->assoc, r->assoc_len, &a, msg, strlen(msg)), 0);
}

/* The app's next datagram to sport: its source address into src. */
static void
app_expect(struct rig *r, uint16_t sport, uint8_t *src, uint16_t sport_want,
           const char *msg)
{
    uint8_t buf[2048];
    struct udp_dgram d;

    do {
        if (ku_recv(r->f.k.fd, &d, buf, sizeof(buf), 5000, NULL) != 0)
            fail_msg("no reply reached the app (%s)", msg);
    } while (d.dport != sport);
    assert_int_equal(d.sport, sport_want);
    assert_int_equal(d.len, strlen(msg));
    assert_memory_equal(d.data, msg, d.len);
    memcpy(src, d.src, d.family == 4 ? 4 : 16);
}

static int
is_name(const struct t2s_socks5_addr *a, const char *name)
{
    return a->atyp == T2S_SOCKS5_ATYP_DOMAIN && a->name_len == strlen(name) &&
           memcmp(a->u.name, name, a->name_len) == 0;
}

static void
cfg_fakeip(struct t2s_config *c)
{
    c->dns_mode = T2S_DNS_FAKEIP;
    c->udp_timeout_ms = 1000;
}

/* Sum of every entry's references (read while the loop is idle). */
static uint64_t
fake_refs(struct rig *r)
{
    const struct t2s_fakeip *p = r->f.t->fakeip;
    uint64_t sum = 0;

    for (size_t i = 0; i < t2s_fakeip_used(p); i++)
        sum += t2s_fakeip_refs(p, (long)i);
    return sum;
}

/*
 * Defect 3: one app socket talking to a dozen fake destinations holds at
 * most one reference per destination it remembers, and none once its
 * association ended (a leaked reference pins an entry forever; a missing
 * one lets an entry in use be recycled).
 */
static void
test_fake_refs_many_destinations(void **state)
{
    enum { N = 12 };
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    uint8_t fake[N][4], buf[256];
    char name[N][32];
    struct t2s_socks5_addr to;

    (void)state;
    rig_start(&r, NULL, cfg_fakeip);
    for (int i = 0; i < N; i++) {
        snprintf(name[i], sizeof(name[i]), "n%d.example", i);
        assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, name[i], fake[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        char msg[16];

        snprintf(msg, sizeof(msg), "to %d", i);
        app_send(&r, 4, 40000, fake[i], 7000, msg, strlen(msg), 1500);
        assert_int_equal(relay_get(&r, &to, buf, sizeof(buf)), strlen(msg));
        assert_true(is_name(&to, name[i]));
        assert_int_equal(to.port, 7000);
    }
    /* the loop is idle now: each entry is held at most once */
    for (int i = 0; i < N; i++)
        assert_in_range(t2s_fakeip_refs(r.f.t->fakeip, (long)i), 0, 1);
    assert_in_range(fake_refs(&r), 1, N);
    /* the association idles out (1 s): every reference is returned */
    assert_int_equal(FWD_WAIT_STAT(&r.f, udp_active, 0, 5000), 0);
    assert_int_equal(fake_refs(&r), 0);
    rig_stop(&r, &st);
    assert_int_equal(st.udp_pkts_up, N);
}

/* Defect 4: a datagram of many fragments reaches the relay whole. */
static void
big_datagram(int family, size_t len, size_t mtu)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t *out = malloc(len), *in = malloc(65536);

    assert_non_null(out);
    assert_non_null(in);
    pattern_fill(out, 0, len);
    rig_start(&r, NULL, NULL);
    app_send(&r, family, 40001, family == 4 ? REAL4 : REAL6, 7001, out, len,
             mtu);
    assert_int_equal(relay_get(&r, &to, in, 65536), len);
    assert_memory_equal(in, out, len);
    assert_int_equal(to.atyp,
                     family == 4 ? T2S_SOCKS5_ATYP_IPV4 : T2S_SOCKS5_ATYP_IPV6);
    rig_stop(&r, &st);
    assert_int_equal(st.udp_pkts_up, 1);
    assert_int_equal(st.udp_bytes_up, len);
    assert_int_equal(st.udp_dropped, 0);
    free(out);
    free(in);
}

static void
test_big_datagram_v4(void **state)
{
    (void)state;
    big_datagram(4, 50000, 1500); /* 35 fragments */
}

static void
test_big_datagram_v6(void **state)
{
    (void)state;
    big_datagram(6, 50000, 1500); /* 35 fragments */
}

static void
test_largest_datagrams(void **state)
{
    (void)state;
    /* the largest that fits the relay over IPv4 after the SOCKS header */
    big_datagram(4, 65507 - 10, 576); /* 119 fragments */
    big_datagram(6, 65507 - 22, 1280);
}

/*
 * Defect 10: a reply from a real address the app sent to keeps that
 * address; a reply from what the proxy resolved a fake name to carries the
 * fake address of that name, also when two names share a port.
 */
static void
test_reply_from_real_address(void **state)
{
    static const uint8_t elsewhere[4] = {203, 0, 113, 5};
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t fake[4], src[16], buf[64];

    (void)state;
    rig_start(&r, NULL, cfg_fakeip);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "a.example", fake), 0);
    app_send(&r, 4, 41000, fake, 7000, "one", 3, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    assert_true(is_name(&to, "a.example"));
    app_send(&r, 4, 41000, REAL4, 7000, "two", 3, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    assert_int_equal(to.atyp, T2S_SOCKS5_ATYP_IPV4);

    relay_put4(&r, REAL4, 7000, "from the real one");
    app_expect(&r, 41000, src, 7000, "from the real one");
    assert_memory_equal(src, REAL4, 4);
    relay_put4(&r, elsewhere, 7000, "from a.example");
    app_expect(&r, 41000, src, 7000, "from a.example");
    assert_memory_equal(src, fake, 4);
    rig_stop(&r, &st);
}

static void
test_reply_two_names_same_port(void **state)
{
    static const uint8_t addr_a[4] = {203, 0, 113, 1};
    static const uint8_t addr_b[4] = {203, 0, 113, 2};
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t fa[4], fb[4], src[16], buf[64];

    (void)state;
    rig_start(&r, NULL, cfg_fakeip);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "a.example", fa), 0);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "b.example", fb), 0);
    app_send(&r, 4, 41001, fa, 7000, "to a", 4, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    relay_put4(&r, addr_a, 7000, "a1");
    app_expect(&r, 41001, src, 7000, "a1");
    assert_memory_equal(src, fa, 4);

    app_send(&r, 4, 41001, fb, 7000, "to b", 4, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    assert_true(is_name(&to, "b.example"));
    relay_put4(&r, addr_b, 7000, "b1");
    app_expect(&r, 41001, src, 7000, "b1");
    assert_memory_equal(src, fb, 4);
    /* a.example answers again: not b.example, the last name on port 7000 */
    relay_put4(&r, addr_a, 7000, "a2");
    app_expect(&r, 41001, src, 7000, "a2");
    assert_memory_equal(src, fa, 4);
    relay_put4(&r, addr_b, 7000, "b2");
    app_expect(&r, 41001, src, 7000, "b2");
    assert_memory_equal(src, fb, 4);
    rig_stop(&r, &st);
}

/* Two names waiting on one port: a reply from an address neither has
 * answered from could be either's: dropped and counted, never guessed. A
 * reply that names its sender is always attributed. */
static void
test_reply_ambiguous_dropped(void **state)
{
    static const uint8_t addr_x[4] = {203, 0, 113, 9};
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to,
        named = {.atyp = T2S_SOCKS5_ATYP_DOMAIN, .port = 7000};
    uint8_t fc[4], fd[4], src[16], buf[64];
    struct udp_dgram d;

    (void)state;
    rig_start(&r, NULL, cfg_fakeip);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "c.example", fc), 0);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "d.example", fd), 0);
    app_send(&r, 4, 41002, fc, 7000, "to c", 4, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    app_send(&r, 4, 41002, fd, 7000, "to d", 4, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    relay_put4(&r, addr_x, 7000, "who?");
    assert_int_equal(FWD_WAIT_STAT(&r.f, udp_ambiguous, 1, 5000), 0);
    named.name_len = 9;
    memcpy(named.u.name, "d.example", 9);
    assert_int_equal(
        relay_send(r.relay, &r.assoc, r.assoc_len, &named, "d!", 2), 0);
    app_expect(&r, 41002, src, 7000, "d!");
    assert_memory_equal(src, fd, 4);
    assert_int_equal(ku_recv(r.f.k.fd, &d, buf, sizeof(buf), 200, NULL), -1);
    rig_stop(&r, &st);
    assert_int_equal(st.udp_ambiguous, 1);
    assert_int_equal(st.udp_pkts_down, 1);
}

/*
 * Defect 12: a malformed ASSOCIATE reply fails that association only; the
 * next app socket asks the proxy again and its datagrams go through.
 */
static const uint8_t bad_reply[] = {5, 0, 0, 9, 1, 2, 3, 4, 0, 1};
static const struct fp_step s_bad[] = {
    FP(FP_GREETING), FPA(FP_METHOD, 0), FP(FP_REQUEST),
    FPD(FP_SEND, bad_reply, sizeof(bad_reply)), FP(FP_END)};
static const struct fp_step *const odd_scripts[] = {s_bad, s_assoc, NULL};

static void
test_odd_reply_keeps_udp(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t buf[64];

    (void)state;
    rig_start(&r, odd_scripts, NULL);
    app_send(&r, 4, 42000, REAL4, 7001, "first", 5, 1500);
    assert_int_equal(FWD_WAIT_STAT(&r.f, err_udp_assoc, 1, 5000), 0);
    app_send(&r, 4, 42001, REAL4, 7001, "second", 6, 1500);
    assert_int_equal(fp_wait_conns(&r.px, 2, 5000), 0);
    assert_int_equal(relay_get(&r, &to, buf, sizeof(buf)), 6);
    assert_memory_equal(buf, "second", 6);
    rig_stop(&r, &st);
    assert_int_equal(st.udp_unsupported, 0);
    assert_int_equal(st.err_udp_assoc, 1);
}

/*
 * Defect 11: a name answered a moment ago keeps its fake address: a full
 * pool of young entries answers SERVFAIL (counted) rather than recycle one.
 */
static void
cfg_small_pool(struct t2s_config *c)
{
    char err[128];

    cfg_fakeip(c);
    assert_int_equal(
        t2s_config_set(c, "fake-ip-pool", "198.18.128.0/29", err, sizeof(err)),
        0);
}

static void
test_young_entries_not_recycled(void **state)
{
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t fake[7][4], buf[64];
    char name[16];

    (void)state;
    rig_start(&r, NULL, cfg_small_pool);
    for (int i = 0; i < 6; i++) { /* /29: six entries */
        snprintf(name, sizeof(name), "y%d.example", i);
        assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, name, fake[i]), 0);
    }
    assert_int_equal(ku_dns_ask(r.f.k.fd, 4, 5300, "late.example", fake[6]),
                     2 /* SERVFAIL */);
    /* the first answer still means y0.example */
    app_send(&r, 4, 43000, fake[0], 7000, "hi", 2, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    assert_true(is_name(&to, "y0.example"));
    rig_stop(&r, &st);
    assert_int_equal(st.dns_fakeip_full, 1);
}

/* Defaults: an IPv6 pool of any prefix, here a /64, answers and maps back. */
static void
cfg_pool64(struct t2s_config *c)
{
    char err[128];

    cfg_fakeip(c);
    assert_int_equal(
        t2s_config_set(c, "fake-ip-pool6", "fd00:fa4e::/64", err, sizeof(err)),
        0);
}

static void
test_pool6_prefix64(void **state)
{
    static const uint8_t net[8] = {0xfd, 0, 0xfa, 0x4e, 0, 0, 0, 0};
    static struct rig r; /* outlives a failed test for teardown() */
    struct t2s_stats st;
    struct t2s_socks5_addr to;
    uint8_t fake[16], buf[64];

    (void)state;
    rig_start(&r, NULL, cfg_pool64);
    assert_int_equal(ku_dns_ask(r.f.k.fd, 6, 5300, "six.example", fake), 0);
    assert_memory_equal(fake, net, 8);
    app_send(&r, 6, 44000, fake, 7000, "v6", 2, 1500);
    relay_get(&r, &to, buf, sizeof(buf));
    assert_true(is_name(&to, "six.example"));
    rig_stop(&r, &st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fake_refs_many_destinations, teardown),
        cmocka_unit_test_teardown(test_big_datagram_v4, teardown),
        cmocka_unit_test_teardown(test_big_datagram_v6, teardown),
        cmocka_unit_test_teardown(test_largest_datagrams, teardown),
        cmocka_unit_test_teardown(test_reply_from_real_address, teardown),
        cmocka_unit_test_teardown(test_reply_two_names_same_port, teardown),
        cmocka_unit_test_teardown(test_reply_ambiguous_dropped, teardown),
        cmocka_unit_test_teardown(test_odd_reply_keeps_udp, teardown),
        cmocka_unit_test_teardown(test_young_entries_not_recycled, teardown),
        cmocka_unit_test_teardown(test_pool6_prefix64, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
