/*
 * Fault injection (built only with -DT2S_FAULT_INJECTION=ON, see
 * lib/core/fault.h): allocations failing one at a time or all together,
 * socket() failing with EMFILE, TUN writes failing with EAGAIN/ENOBUFS.
 * Whatever fails, the forwarder must not crash or leak (ASan/LSan), its
 * counters must return to zero and its memory to the baseline, and new
 * connections must work once the fault clears.
 *
 * The proxy here is our own echo server (not the scripted fake proxy,
 * whose i-th connection runs the i-th script: under faults the order of
 * connections is not known): CONNECT echoes until EOF, CONNECT to port 53
 * answers one DNS-over-TCP query with the query itself (QR set), UDP
 * ASSOCIATE names a relay that sends every datagram back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/fault.h"
#include "core/log.h"
#include "core/mem.h"
#include "fwd.h"
#include "pkt.h"
#include "udp_pkt.h"

#define XFER (64 * 1024)

/* The app (as pkt.c's flows), an echo destination and a resolver. */
static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t DST4[4] = {198, 19, 0, 10};
static const uint8_t DNS4[4] = {198, 19, 0, 53};
static const uint8_t APP6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                 0,    0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x10};
static const uint8_t DNS6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x53};

/* The address family of the flows the rounds open: 4 or 6. */
static int family = 4;

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the echo proxy ---- */

struct eproxy {
    int lfd, relay;
    uint16_t port, relay_port;
    int stop[2]; /* readable once the proxy stops */
    pthread_t acceptor, relayer;
    int live; /* connection threads running (atomic) */
};

struct econn {
    struct eproxy *px;
    int fd;
};

/* Waits until fd is readable; -1 when the proxy stops. */
static int
ep_wait(struct eproxy *px, int fd)
{
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                          {.fd = px->stop[0], .events = POLLIN}};

    while (poll(p, 2, -1) < 0)
        if (errno != EINTR)
            return -1;
    return (p[1].revents != 0) ? -1 : 0;
}

/* Reads exactly n bytes; -1 on EOF, error or stop. */
static int
ep_read(struct eproxy *px, int fd, void *buf, size_t n)
{
    uint8_t *b = buf;

    while (n > 0) {
        ssize_t r;

        if (ep_wait(px, fd) < 0)
            return -1;
        r = recv(fd, b, n, 0);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static int
ep_write(int fd, const void *buf, size_t n)
{
    return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* The request after the greeting: command and destination port. */
static int
ep_handshake(struct eproxy *px, int fd, uint8_t *cmd, uint16_t *port)
{
    uint8_t b[262];
    size_t alen;

    if (ep_read(px, fd, b, 2) < 0 || ep_read(px, fd, b + 2, b[1]) < 0 ||
        ep_write(fd, "\x05\x00", 2) < 0 || ep_read(px, fd, b, 4) < 0)
        return -1;
    *cmd = b[1];
    if (b[3] == 1)
        alen = 4;
    else if (b[3] == 4)
        alen = 16;
    else if (ep_read(px, fd, b + 4, 1) == 0)
        alen = b[4];
    else
        return -1;
    if (ep_read(px, fd, b, alen + 2) < 0)
        return -1;
    *port = (uint16_t)(b[alen] << 8 | b[alen + 1]);
    return 0;
}

static void
ep_echo(struct eproxy *px, int fd)
{
    uint8_t buf[16384];

    for (;;) {
        ssize_t r;

        if (ep_wait(px, fd) < 0)
            return;
        r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0 || ep_write(fd, buf, (size_t)r) < 0)
            return;
    }
}

/* One DNS-over-TCP query answered with itself, QR set. */
static void
ep_dns(struct eproxy *px, int fd)
{
    uint8_t buf[2 + 65535];
    size_t n;

    if (ep_read(px, fd, buf, 2) < 0)
        return;
    n = (size_t)buf[0] << 8 | buf[1];
    if (n < 3 || ep_read(px, fd, buf + 2, n) < 0)
        return;
    buf[4] |= 0x80;
    if (ep_write(fd, buf, 2 + n) == 0)
        ep_echo(px, fd); /* until the forwarder closes */
}

static void *
ep_conn(void *arg)
{
    struct econn *c = arg;
    struct eproxy *px = c->px;
    uint8_t cmd, rep[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    uint16_t port;

    if (ep_handshake(px, c->fd, &cmd, &port) == 0) {
        if (cmd == 3) { /* UDP ASSOCIATE: BND is our relay */
            rep[4] = 127;
            rep[7] = 1;
            rep[8] = (uint8_t)(px->relay_port >> 8);
            rep[9] = (uint8_t)px->relay_port;
        }
        if (ep_write(c->fd, rep, sizeof(rep)) == 0) {
            if (cmd == 1 && port == 53)
                ep_dns(px, c->fd);
            else
                ep_echo(px, c->fd); /* for UDP: the control connection */
        }
    }
    close(c->fd);
    free(c);
    __atomic_sub_fetch(&px->live, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *
ep_accept(void *arg)
{
    struct eproxy *px = arg;

    while (ep_wait(px, px->lfd) == 0) {
        int fd = accept(px->lfd, NULL, NULL);
        struct econn *c;
        pthread_t th;
        pthread_attr_t at;

        if (fd < 0)
            continue;
        c = malloc(sizeof(*c));
        assert_non_null(c);
        c->px = px;
        c->fd = fd;
        __atomic_add_fetch(&px->live, 1, __ATOMIC_SEQ_CST);
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, ep_conn, c) != 0) {
            close(fd);
            free(c);
            __atomic_sub_fetch(&px->live, 1, __ATOMIC_SEQ_CST);
        }
        pthread_attr_destroy(&at);
    }
    return NULL;
}

/* The relay sends each datagram back as it came: its SOCKS5 header names
 * the destination, which is the source the reply must carry. */
static void *
ep_relay(void *arg)
{
    struct eproxy *px = arg;
    uint8_t buf[65536];

    while (ep_wait(px, px->relay) == 0) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(px->relay, buf, sizeof(buf), MSG_DONTWAIT,
                             (struct sockaddr *)&from, &fl);

        if (n > 0)
            sendto(px->relay, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static void
ep_start(struct eproxy *px)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);

    memset(px, 0, sizeof(*px));
    assert_int_equal(pipe(px->stop), 0);
    px->relay = relay_open(&px->relay_port);
    px->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(px->lfd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(px->lfd, 512), 0);
    assert_int_equal(getsockname(px->lfd, (struct sockaddr *)&sa, &sl), 0);
    px->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&px->acceptor, NULL, ep_accept, px), 0);
    assert_int_equal(pthread_create(&px->relayer, NULL, ep_relay, px), 0);
}

static void
ep_stop(struct eproxy *px)
{
    assert_int_equal(write(px->stop[1], "x", 1), 1);
    pthread_join(px->acceptor, NULL);
    pthread_join(px->relayer, NULL);
    while (__atomic_load_n(&px->live, __ATOMIC_SEQ_CST) > 0)
        usleep(1000);
    close(px->lfd);
    close(px->relay);
    close(px->stop[0]);
    close(px->stop[1]);
}

/* ---- the forwarder ---- */

static void
cfg_faults(struct t2s_config *c)
{
    c->dns_mode = T2S_DNS_TCP;
    c->dns_timeout_ms = 1000;
    c->udp_timeout_ms = 100; /* associations go soon after each round */
}

static void
start(struct fwd *f, struct eproxy *px)
{
    struct fake_proxy fp = {.family = 4}; /* only its address is used */
    struct fwd_opts o = {.connect_timeout_ms = 1000, .config = cfg_faults};

    ep_start(px);
    fp.port = px->port;
    fwd_start(f, &fp, &o);
}

static void
print_stats(const char *when, const struct t2s_stats *st)
{
    print_message(
        "%s: tcp_active %llu orphans %llu udp_active %llu mem_used "
        "%llu err_resource %llu tun_tx_dropped %llu\n",
        when, (unsigned long long)st->tcp_active,
        (unsigned long long)st->tcp_orphans, (unsigned long long)st->udp_active,
        (unsigned long long)st->mem_used, (unsigned long long)st->err_resource,
        (unsigned long long)st->tun_tx_dropped);
}

/* Nothing open, and memory back to base (0: not checked). 0 or -1. */
static int
wait_quiet(struct fwd *f, uint64_t base, int timeout_ms)
{
    struct t2s_stats st;
    long long end = now_ms() + timeout_ms;

    do {
        fwd_stats(f, &st);
        if (st.tcp_active == 0 && st.tcp_orphans == 0 && st.udp_active == 0 &&
            (base == 0 || st.mem_used == base))
            return 0;
        tk_poll(&f->k, 10);
    } while (now_ms() < end);
    print_stats("not quiet", &st);
    return -1;
}

/* ---- the app side ---- */

/*
 * Sends len bytes of the pattern and waits for them to come back, like a
 * kernel would: unlike tc_write it resends from the first unacknowledged
 * byte after a quiet moment (the forwarder drops what it cannot allocate)
 * and acknowledges again (our ACKs may be dropped too). 0, or -1 after
 * timeout_ms without progress.
 */
static int
echo_xfer_from(struct tc *c, uint32_t base, const uint8_t *data, size_t len,
               int timeout_ms)
{
    long long last = now_ms();
    uint32_t una = c->snd_una;
    size_t got = c->data_len;
    int quiet = 0;

    while (c->data_len < len || c->snd_una != base + (uint32_t)len) {
        size_t off = c->snd_nxt - base;

        if (c->got_rst || c->got_fin)
            return -1;
        if (off < len && tc_send_window(c, data + off, len - off) > 0) {
            tk_drain(c->k);
            continue;
        }
        if (tk_poll(c->k, 10) == 0 && ++quiet % 5 == 0) {
            c->snd_nxt = c->snd_una; /* go back */
            if (c->snd_nxt == base + (uint32_t)len)
                tc_send(c, TH_ACK, NULL, 0);
        }
        if (c->snd_una != una || c->data_len != got) {
            una = c->snd_una;
            got = c->data_len;
            last = now_ms();
        } else if (now_ms() - last > timeout_ms) {
            return -1;
        }
    }
    return memcmp(c->data, data, len) == 0 ? 0 : -2;
}

static int
echo_xfer(struct tc *c, const uint8_t *data, size_t len, int timeout_ms)
{
    return echo_xfer_from(c, c->snd_nxt, data, len, timeout_ms);
}

/* Our FIN (resent until acknowledged), then the forwarder's. 0 or -1. */
static int
half_close(struct tc *c, int timeout_ms)
{
    uint32_t fin = c->snd_nxt;
    long long end = now_ms() + timeout_ms, resend = 0;

    while (now_ms() < end && !c->got_rst) {
        if (c->snd_una == fin + 1 && c->got_fin)
            return 0;
        if (now_ms() >= resend) {
            if (c->snd_una != fin + 1) {
                c->snd_nxt = fin;
                tc_send(c, TH_FIN | TH_ACK, NULL, 0);
            } else {
                tc_send(c, TH_ACK, NULL, 0);
            }
            resend = now_ms() + 50;
        }
        tk_poll(c->k, 10);
    }
    return -1;
}

/*
 * The last few flows stay known to the kernel after their round, as a
 * kernel keeps a closed socket in TIME_WAIT: if our last ACK was dropped,
 * the forwarder's FIN comes again and must be acknowledged, else its pcb
 * waits in LAST_ACK (up to 2 * MSL).
 */
#define KEPT 4
static struct tc kept[KEPT];
static unsigned kept_next;
/* The flow of the last TCP round, and whether it completed. */
static struct tc *last_flow;
static int last_ok;

static struct tc *
flow_new(struct fwd *f, uint16_t sport)
{
    struct tc *c = &kept[kept_next++ % KEPT];

    if (c->k != NULL)
        tc_free(c);
    if (c == last_flow)
        last_flow = NULL;
    tc_init(c, &f->k, family, sport, 80);
    return c;
}

static void
flows_free(void)
{
    for (int i = 0; i < KEPT; i++) {
        if (kept[i].k != NULL)
            tc_free(&kept[i]);
        kept[i].k = NULL;
    }
    last_flow = NULL;
}

/* The app gives up: a RST, with the ACK only once the SYN|ACK came (an
 * RST in SYN_RCVD is taken at the sequence number of our SYN + 1). */
static void
flow_give_up(struct tc *c)
{
    tc_send(c, c->got_synack ? TH_RST | TH_ACK : TH_RST, NULL, 0);
}

/* TCP: connect, XFER bytes each way through the echo, half-close, close.
 * On failure the flow is reset (as the app's kernel would, eventually). */
static int
tcp_round(struct fwd *f, uint16_t sport, const uint8_t *data, int timeout_ms)
{
    struct tc *c = flow_new(f, sport);
    int rc = -1;

    if (tc_connect(c, timeout_ms) == 1 &&
        echo_xfer(c, data, XFER, timeout_ms) == 0 &&
        half_close(c, 2 * timeout_ms) == 0)
        rc = 0;
    last_flow = c;
    last_ok = rc == 0;
    if (rc != 0)
        flow_give_up(c);
    return rc;
}

/*
 * Once the fault is gone, what the app's kernel would do next, sent again
 * in case the fault dropped it: the last ACK of a flow that closed (else
 * the forwarder's pcb waits in LAST_ACK for it), the RST of one given up
 * (else the forwarder retransmits a SYN|ACK or data into the void).
 */
static void
settle_last_flow(void)
{
    if (last_flow == NULL)
        return;
    if (last_ok)
        tc_send(last_flow, TH_ACK, NULL, 0);
    else
        flow_give_up(last_flow);
    last_flow = NULL;
}

/* The next datagram to the app's port sport; 0 or -1. */
static int
app_recv(struct fwd *f, uint16_t sport, uint8_t *buf, size_t cap, size_t *len,
         int timeout_ms)
{
    struct udp_dgram d;
    long long end = now_ms() + timeout_ms;

    while (now_ms() < end) {
        if (ku_recv(f->k.fd, &d, buf, cap, (int)(end - now_ms()), NULL) != 0)
            return -1;
        if (d.dport == sport) {
            *len = d.len;
            return 0;
        }
    }
    return -1;
}

/* One datagram to the echo (dns 0, port 7000) or to the resolver (dns 1,
 * port 53) and its answer back. 0 or -1. */
static int
udp_round(struct fwd *f, uint16_t sport, int dns, const uint8_t *msg,
          size_t len, int timeout_ms)
{
    struct udp_dgram d = {.family = family, .sport = sport};
    size_t alen = family == 4 ? 4 : 16;
    uint8_t buf[2048];
    size_t n;

    d.dport = dns ? 53 : 7000;
    memcpy(d.src, family == 4 ? APP4 : APP6, alen);
    if (dns)
        memcpy(d.dst, family == 4 ? DNS4 : DNS6, alen);
    else
        memcpy(d.dst, family == 4 ? DST4 : DST6, alen);
    d.data = msg;
    d.len = len;
    if (ku_send(f->k.fd, &d, 1500) != 0 ||
        app_recv(f, sport, buf, sizeof(buf), &n, timeout_ms) != 0)
        return -1;
    if (dns) /* the resolver answers with the query, QR set */
        buf[2] &= 0x7f;
    return n == len && memcmp(buf, msg, len) == 0 ? 0 : -2;
}

/* A DNS query for "a.example" (A), id i. */
static size_t
dns_query(uint8_t *q, unsigned i)
{
    static const uint8_t tail[] = {0x01, 0x00, 0,   1, 0,   0,   0,   0,   0,
                                   0,    1,    'a', 7, 'e', 'x', 'a', 'm', 'p',
                                   'l',  'e',  0,   0, 1,   0,   1};

    q[0] = (uint8_t)(i >> 8);
    q[1] = (uint8_t)i;
    memcpy(q + 2, tail, sizeof(tail));
    return 2 + sizeof(tail);
}

static uint8_t *data64k;

/* The whole scenario, round i (its ports, distinct for i < 10000): a
 * bitmask of what failed. */
static int
scenario(struct fwd *f, unsigned i, int timeout_ms)
{
    uint8_t q[64];
    size_t qn = dns_query(q, i);
    int failed = 0;

    if (tcp_round(f, (uint16_t)(10000 + i % 20000), data64k, timeout_ms) != 0)
        failed |= 1;
    if (udp_round(f, (uint16_t)(30000 + i % 10000), 0,
                  (const uint8_t *)"datagram", 8, timeout_ms) != 0)
        failed |= 2;
    if (udp_round(f, (uint16_t)(40000 + i % 10000), 1, q, qn, timeout_ms) != 0)
        failed |= 4;
    return failed;
}

static uint64_t
mem_used(struct fwd *f)
{
    struct t2s_stats st;

    fwd_stats(f, &st);
    return st.mem_used;
}

/*
 * After a fault: a new round without fault works end to end. Every
 * CHECK_EVERY rounds (and after the last), nothing is left open and
 * memory is back at base: a session or a byte the faults left behind
 * stays, so it shows at the next check. (Waiting for quiet each round
 * would double the run time: the UDP association idles out, lwIP's TCP
 * timer stops a tick after the last pcb.)
 */
#define CHECK_EVERY 8

static void
assert_recovered(struct fwd *f, uint64_t base, long n, int check)
{
    /* its own ports: N stays below 5000 */
    int rc = scenario(f, (unsigned)n + 5000, 3000);

    if (rc != 0)
        fail_msg("N=%ld: no fault, and yet the next round failed (%d)", n, rc);
    if (check && wait_quiet(f, base, 5000) != 0)
        fail_msg("N=%ld (or up to %d before): sessions left open or memory "
                 "not back to %llu bytes",
                 n, CHECK_EVERY - 1, (unsigned long long)base);
}

/* ---- the tests ---- */

/* How long a round under a fault waits without progress before it counts
 * as failed (cleanly: the flow is reset, the datagram given up). */
#define FAULT_ROUND_MS 200

static void
setup_data(void)
{
    if (data64k == NULL) {
        data64k = malloc(XFER);
        assert_non_null(data64k);
        pattern_fill(data64k, 0, XFER);
    }
}

/*
 * (a) The Nth allocation fails, for every N the scenario makes (M of
 * them; every stride-th N, T2S_FAULT_STRIDE overriding): the round may
 * fail, cleanly; then everything is back to zero and the next round works.
 */
static void
every_nth_allocation_fails(int fam, long default_stride)
{
    struct eproxy px;
    struct fwd f;
    struct t2s_stats st;
    uint64_t base;
    long m, c0, stride, rounds = 0, failed_rounds = 0, injected = 0;
    long failed_part[3] = {0, 0, 0}; /* TCP, UDP, DNS */
    long long t0 = now_ms();
    const char *s = getenv("T2S_FAULT_STRIDE");
    const char *first = getenv("T2S_FAULT_FIRST");

    family = fam;
    setup_data();
    start(&f, &px);
    /* warm up (lwIP's timers, the spare receive buffer), then count */
    assert_int_equal(scenario(&f, 0, 3000), 0);
    assert_int_equal(wait_quiet(&f, 0, 5000), 0);
    /* lwIP's TCP timer stops a tick after the last pcb */
    tk_run_for(&f.k, 600);
    base = mem_used(&f);
    c0 = t2s_fault_alloc_count();
    assert_int_equal(scenario(&f, 1, 3000), 0);
    m = t2s_fault_alloc_count() - c0;
    assert_in_range(m, 1, 4999);
    assert_int_equal(wait_quiet(&f, base, 5000), 0);
    stride = s != NULL ? atol(s) : default_stride;
    if (stride < 1)
        stride = 1;
    print_message("IPv%d scenario: %ld allocations (M), base %llu bytes; N = "
                  "1..%ld stride %ld\n",
                  fam, m, (unsigned long long)base, m, stride);
    for (long n = first != NULL ? atol(first) : 1; n <= m; n += stride) {
        long before = t2s_fault_alloc_failed();
        int rc;

        t2s_fault_alloc_fail_after(n);
        rc = scenario(&f, (unsigned)(2 + n), FAULT_ROUND_MS);
        t2s_fault_alloc_fail_after(0);
        settle_last_flow();
        injected += t2s_fault_alloc_failed() - before;
        if (rc != 0)
            failed_rounds++;
        for (int part = 0; part < 3; part++)
            if (rc & (1 << part))
                failed_part[part]++;
        if (getenv("T2S_FAULT_VERBOSE") != NULL)
            print_message("N=%ld: rc %d\n", n, rc);
        assert_recovered(&f, base, n,
                         ++rounds % CHECK_EVERY == 0 || n + stride > m);
    }
    flows_free();
    fwd_stop(&f, &st);
    ep_stop(&px);
    print_message("%ld rounds, %ld faults injected, %ld rounds failed "
                  "cleanly (TCP %ld, UDP %ld, DNS %ld); err_resource %llu; "
                  "%lld ms\n",
                  rounds, injected, failed_rounds, failed_part[0],
                  failed_part[1], failed_part[2],
                  (unsigned long long)st.err_resource, now_ms() - t0);
    assert_true(injected > 0);
    assert_int_equal(st.tcp_active, 0);
    assert_int_equal(st.udp_active, 0);
    family = 4;
}

static void
test_every_nth_allocation_fails(void **state)
{
    (void)state;
    every_nth_allocation_fails(4, 1);
}

/* The same over IPv6 (lwIP's other input and output paths): every other
 * N, to keep the run short. */
static void
test_every_nth_allocation_fails_v6(void **state)
{
    (void)state;
    every_nth_allocation_fails(6, 2);
}

/* The baseline: after a round without fault and lwIP's TCP timer gone. */
static uint64_t
settle(struct fwd *f)
{
    assert_int_equal(scenario(f, 0, 3000), 0);
    assert_int_equal(wait_quiet(f, 0, 5000), 0);
    tk_run_for(&f->k, 600);
    return mem_used(f);
}

/*
 * (b) lwIP "pool exhaustion": every allocation fails for about a second
 * in the middle of a transfer, while a datagram, a DNS query and a SYN
 * arrive (lwIP's timers fire meanwhile: this aborted in sys_timeout()
 * before they were exempt, see mem.h). The transfer may die (cleanly) or
 * resume; afterwards everything returns and new connections work.
 */
static void
test_all_allocations_fail_for_a_while(void **state)
{
    struct eproxy px;
    struct fwd f;
    struct tc c, syn;
    struct t2s_stats st;
    uint64_t base;
    uint32_t iss;
    uint8_t q[64];
    size_t qn = dns_query(q, 7);
    long before;
    int rc;

    (void)state;
    setup_data();
    start(&f, &px);
    base = settle(&f);
    tc_init(&c, &f.k, 4, 11000, 80);
    assert_int_equal(tc_connect(&c, 3000), 1);
    iss = c.snd_nxt;
    assert_int_equal(echo_xfer_from(&c, iss, data64k, 8192, 3000), 0);
    before = t2s_fault_alloc_failed();
    t2s_fault_alloc_fail_all(1);
    /* no progress while nothing can be allocated */
    assert_int_not_equal(echo_xfer_from(&c, iss, data64k, XFER, 300), 0);
    assert_int_not_equal(
        udp_round(&f, 31000, 0, (const uint8_t *)"datagram", 8, 300), 0);
    assert_int_not_equal(udp_round(&f, 41000, 1, q, qn, 300), 0);
    /* a new connection gets no SYN|ACK (its SYN could not even be read) */
    tc_init(&syn, &f.k, 4, 11001, 80);
    assert_int_not_equal(tc_connect(&syn, 300), 1);
    t2s_fault_alloc_fail_all(0);
    flow_give_up(&syn); /* the app's connect() gives up */
    tc_free(&syn);
    print_message("%ld allocations failed\n",
                  t2s_fault_alloc_failed() - before);
    assert_true(t2s_fault_alloc_failed() - before > 0);
    /* the transfer resumes (lwIP kept the pcb) or ended cleanly */
    rc = c.got_rst ? -1 : echo_xfer_from(&c, iss, data64k, XFER, 5000);
    print_message("the transfer %s\n", rc == 0 ? "completed" : "was reset");
    if (rc == 0)
        assert_int_equal(half_close(&c, 3000), 0);
    else
        assert_true(c.got_rst);
    tc_free(&c);
    assert_int_equal(wait_quiet(&f, 0, 5000), 0);
    assert_int_equal(scenario(&f, 2, 3000), 0);
    assert_int_equal(wait_quiet(&f, base, 5000), 0);
    flows_free();
    fwd_stop(&f, &st);
    ep_stop(&px);
    print_stats("after", &st);
}

static FILE *log_file;
static int saved_stderr = -1;

/* stderr (the forwarder's log) into a file, and back. */
static void
log_capture(void)
{
    log_file = tmpfile();
    assert_non_null(log_file);
    saved_stderr = dup(2);
    assert_true(saved_stderr >= 0);
    assert_int_equal(dup2(fileno(log_file), 2), 2);
}

/* What was logged meanwhile (the end of it if long), also shown again. */
static const char *
log_release(void)
{
    static char text[16384];
    long n;
    size_t got;

    fflush(stderr);
    assert_int_equal(dup2(saved_stderr, 2), 2);
    close(saved_stderr);
    n = ftell(log_file);
    assert_true(n >= 0);
    if ((size_t)n >= sizeof(text))
        fseek(log_file, n - (long)sizeof(text) + 1, SEEK_SET);
    else
        rewind(log_file);
    got = fread(text, 1, sizeof(text) - 1, log_file);
    text[got] = '\0';
    fclose(log_file);
    fputs(text, stderr);
    return text;
}

static void
cfg_warn(struct t2s_config *c)
{
    cfg_faults(c);
    c->loglevel = T2S_LOG_WARN;
}

/*
 * (c) Out of descriptors: socket() fails with EMFILE while a SYN, a
 * datagram and a DNS query arrive. Each is refused cleanly (RST for TCP;
 * UDP and DNS dropped and counted), err_resource counts the three, the
 * log says why; once descriptors are back all three work.
 */
static void
test_emfile_tcp_udp_dns(void **state)
{
    struct eproxy px;
    struct fwd f;
    struct fake_proxy fp = {.family = 4};
    struct fwd_opts o = {.connect_timeout_ms = 1000, .config = cfg_warn};
    struct tc c;
    struct t2s_stats st0, st;
    struct rlimit rl0, rl;
    uint64_t base;
    uint8_t q[64];
    size_t qn = dns_query(q, 9);
    int lowest;
    const char *log;

    (void)state;
    setup_data();
    ep_start(&px);
    fp.port = px.port;
    fwd_start(&f, &fp, &o);
    base = settle(&f);
    fwd_stats(&f, &st0);
    log_capture();
    /* every descriptor below the lowest free one is taken: a limit
     * there makes the next socket() fail */
    lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(lowest >= 0);
    close(lowest);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl0), 0);
    rl = rl0;
    rl.rlim_cur = (rlim_t)lowest;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    tc_init(&c, &f.k, 4, 12000, 80);
    assert_int_equal(tc_connect(&c, 3000), 0); /* RST */
    tc_free(&c);
    assert_int_not_equal(
        udp_round(&f, 32000, 0, (const uint8_t *)"datagram", 8, 300), 0);
    assert_int_not_equal(udp_round(&f, 42000, 1, q, qn, 300), 0);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl0), 0);
    log = log_release();
    fwd_stats(&f, &st);
    print_stats("while out of descriptors", &st);
    assert_int_equal(st.err_resource - st0.err_resource, 3);
    assert_int_equal(st.udp_dropped - st0.udp_dropped, 1);
    assert_int_equal(st.dns_tcp_failed - st0.dns_tcp_failed, 1);
    assert_non_null(strstr(log, "refusing a connection: Too many open files"));
    assert_non_null(
        strstr(log, "no UDP association for 198.18.0.1:32000: Too many"));
    assert_non_null(
        strstr(log, "DNS over TCP: dropping a query: Too many open"));
    assert_int_equal(wait_quiet(&f, 0, 5000), 0);
    /* descriptors are back: all three work */
    assert_int_equal(scenario(&f, 3, 3000), 0);
    assert_int_equal(wait_quiet(&f, base, 5000), 0);
    flows_free();
    fwd_stop(&f, &st);
    ep_stop(&px);
}

/*
 * (d) The TUN refuses writes (a full queue: EAGAIN; no buffer space:
 * ENOBUFS) for a while during a transfer: the packets are dropped and
 * counted, TCP retransmits, and every byte arrives in order. A UDP reply
 * refused so is lost, and counted too.
 */
static void
tun_write_fails(int err)
{
    enum { K = 40 };
    struct eproxy px;
    struct fwd f;
    struct tc c;
    struct t2s_stats st0, st;
    uint64_t base;
    uint32_t iss;

    setup_data();
    start(&f, &px);
    base = settle(&f);
    fwd_stats(&f, &st0);
    tc_init(&c, &f.k, 4, 13000, 80);
    assert_int_equal(tc_connect(&c, 3000), 1);
    iss = c.snd_nxt;
    assert_int_equal(echo_xfer_from(&c, iss, data64k, 4096, 3000), 0);
    t2s_fault_tun_write_fail(err, K);
    assert_int_equal(echo_xfer_from(&c, iss, data64k, XFER, 10000), 0);
    t2s_fault_tun_write_fail(0, 0);
    assert_int_equal(half_close(&c, 3000), 0);
    tc_free(&c);
    fwd_stats(&f, &st);
    print_stats("after", &st);
    assert_int_equal(st.tun_tx_dropped - st0.tun_tx_dropped, K);
    assert_int_equal(wait_quiet(&f, base, 5000), 0);
    /* a UDP reply that cannot be written is dropped, and counted */
    t2s_fault_tun_write_fail(err, 1);
    assert_int_not_equal(
        udp_round(&f, 33000, 0, (const uint8_t *)"datagram", 8, 300), 0);
    t2s_fault_tun_write_fail(0, 0);
    fwd_stats(&f, &st);
    assert_int_equal(st.tun_tx_dropped - st0.tun_tx_dropped, K + 1);
    assert_int_equal(scenario(&f, 4, 3000), 0);
    flows_free();
    fwd_stop(&f, &st);
    ep_stop(&px);
}

static void
test_tun_write_eagain(void **state)
{
    (void)state;
    tun_write_fails(EAGAIN);
}

static void
test_tun_write_enobufs(void **state)
{
    (void)state;
    tun_write_fails(ENOBUFS);
}

/*
 * Creating an instance while the Nth allocation fails, for every N it
 * makes: t2s_create() fails with a message, or the instance works; either
 * way nothing leaks (LeakSanitizer) and the budget returns to where it was.
 */
static void
test_create_while_nth_allocation_fails(void **state)
{
    struct eproxy px;
    struct fake_proxy fp = {.family = 4};
    struct t2s_config cfg;
    char url[320], err[256];
    int sv[2];
    long n, failed = 0;
    size_t used0 = 0;

    (void)state;
    ep_start(&px);
    fp.port = px.port;
    fp_url(&fp, NULL, url, sizeof(url));
    /* n = 0: no fault, and the baseline after lwIP's one-time setup (its
     * cyclic timers stay for the process) */
    for (n = 0;; n++) {
        struct t2s_instance *t;
        long before = t2s_fault_alloc_failed();

        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
                         0);
        t2s_config_init(&cfg);
        cfg.tun_fd = sv[1];
        cfg.mtu = 1500;
        cfg.loglevel = 0;
        cfg_faults(&cfg);
        assert_int_equal(t2s_proxy_url_parse(url, &cfg.proxy, err, sizeof(err)),
                         0);
        assert_int_equal(t2s_proxy_addr_resolve(&cfg.proxy, err, sizeof(err)),
                         0);
        err[0] = '\0';
        t2s_fault_alloc_fail_after(n);
        t = t2s_create(&cfg, err, sizeof(err));
        t2s_fault_alloc_fail_after(0);
        if (t == NULL) {
            assert_true(err[0] != '\0');
            failed++;
        } else {
            t2s_destroy(t);
        }
        close(sv[0]);
        close(sv[1]);
        if (n == 0) {
            assert_non_null(t);
            used0 = t2s_mem_used();
            continue;
        }
        assert_int_equal(t2s_mem_used(), used0);
        if (t2s_fault_alloc_failed() == before)
            break; /* the Nth allocation never came: all N covered */
    }
    print_message("creation makes %ld allocations; %ld failed cleanly\n", n - 1,
                  failed);
    assert_true(failed > 0);
    ep_stop(&px);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_nth_allocation_fails),
        cmocka_unit_test(test_every_nth_allocation_fails_v6),
        cmocka_unit_test(test_all_allocations_fail_for_a_while),
        cmocka_unit_test(test_emfile_tcp_udp_dns),
        cmocka_unit_test(test_tun_write_eagain),
        cmocka_unit_test(test_tun_write_enobufs),
        cmocka_unit_test(test_create_while_nth_allocation_fails),
    };
    if (getenv("T2S_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("T2S_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
