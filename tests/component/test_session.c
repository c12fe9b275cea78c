/*
 * Component tests: the whole library in one process, no root. The TUN is
 * one end of a datagram socketpair; this test plays the kernel, crafting
 * IPv4 TCP segments and reading what lwIP sends back. A scripted SOCKS5
 * server on 127.0.0.1 plays the proxy: it answers byte by byte, rejects
 * with each REP code, resets mid-stream or stalls. Every way a session
 * ends is exercised; under ASan any leak or use-after-free fails the run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/log.h"
#include "t2s.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

enum proxy_mode {
    PX_ECHO,       /* grant CONNECT (reply byte by byte), then echo */
    PX_REJECT,     /* answer CONNECT with REP = px_rep */
    PX_RESET,      /* grant, read some data, then reset */
    PX_STALL,      /* accept and never answer */
    PX_SEND_CLOSE, /* grant, send "hello from server", then FIN */
};

/* ---- the fake proxy ---- */

struct proxy {
    int lfd;
    uint16_t port;
    enum proxy_mode mode;
    uint8_t rep;
    uint8_t bnd_atyp;
    pthread_t thread;
    int got_request; /* a CONNECT request arrived */
    uint8_t req_atyp;
    uint16_t req_port;
    int saw_eof;        /* the client half-closed */
    char received[256]; /* data the client sent */
    size_t received_len;
};

static int
read_exact(int fd, void *buf, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t r = read(fd, (char *)buf + off, n - off);
        if (r <= 0)
            return -1;
        off += (size_t)r;
    }
    return 0;
}

static void
send_bytewise(int fd, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (write(fd, b + i, 1) != 1)
            return;
        usleep(1000); /* separate segments: the client sees 1 byte at a time */
    }
}

static void *
proxy_main(void *arg)
{
    struct proxy *px = arg;
    uint8_t b[512];
    int fd = accept(px->lfd, NULL, NULL);

    if (fd < 0)
        return NULL;
    if (px->mode == PX_STALL) {
        while (read(fd, b, sizeof(b)) > 0)
            ;
        close(fd);
        return NULL;
    }
    /* greeting: VER NMETHODS METHODS */
    if (read_exact(fd, b, 2) < 0 || read_exact(fd, b + 2, b[1]) < 0)
        goto out;
    send_bytewise(fd, (const uint8_t[]){5, 0}, 2);
    /* request: VER CMD RSV ATYP ADDR PORT */
    if (read_exact(fd, b, 4) < 0)
        goto out;
    px->req_atyp = b[3];
    if (read_exact(fd, b + 4, b[3] == 1 ? 6 : b[3] == 4 ? 18 : 0) < 0)
        goto out;
    px->req_port =
        (uint16_t)((b[b[3] == 1 ? 8 : 20] << 8) | b[b[3] == 1 ? 9 : 21]);
    px->got_request = 1;
    if (px->mode == PX_REJECT) {
        send_bytewise(fd, (const uint8_t[]){5, px->rep, 0, 1, 0, 0, 0, 0, 0, 0},
                      10);
        goto out;
    }
    if (px->bnd_atyp == 3) {
        static const uint8_t r[] = {5,   0,   0,   3,   9,   'p', 'r',  'o',
                                    'x', 'y', '.', 't', 's', 't', 0x04, 0x38};
        send_bytewise(fd, r, sizeof(r));
    } else if (px->bnd_atyp == 4) {
        uint8_t r[22] = {5, 0, 0, 4};
        r[19] = 1;
        r[20] = 0x04;
        r[21] = 0x38;
        send_bytewise(fd, r, sizeof(r));
    } else {
        send_bytewise(fd, (const uint8_t[]){5, 0, 0, 1, 127, 0, 0, 1, 4, 56},
                      10);
    }
    if (px->mode == PX_SEND_CLOSE) {
        static const char msg[] = "hello from server";
        if (write(fd, msg, sizeof(msg) - 1) < 0)
            goto out;
        shutdown(fd, SHUT_WR);
    }
    for (;;) {
        ssize_t n = read(fd, b, sizeof(b));
        if (n <= 0) {
            px->saw_eof = n == 0;
            break;
        }
        if (px->received_len + (size_t)n <= sizeof(px->received)) {
            memcpy(px->received + px->received_len, b, (size_t)n);
            px->received_len += (size_t)n;
        }
        if (px->mode == PX_RESET) {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            break;
        }
        if (px->mode == PX_ECHO && write(fd, b, (size_t)n) != n)
            break;
    }
out:
    close(fd);
    return NULL;
}

static void
proxy_start(struct proxy *px, enum proxy_mode mode)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    px->mode = mode;
    px->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(px->lfd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(px->lfd, 8), 0);
    assert_int_equal(getsockname(px->lfd, (struct sockaddr *)&sa, &len), 0);
    px->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void
proxy_join(struct proxy *px)
{
    shutdown(px->lfd, SHUT_RDWR); /* wakes accept() if nobody came */
    pthread_join(px->thread, NULL);
    close(px->lfd);
}

/* ---- the forwarder under test ---- */

struct fwd {
    struct t2s_instance *t;
    pthread_t thread;
    int kernel_fd; /* our end of the "TUN" */
    int tun_fd;    /* the forwarder's end; t2s does not close adopted fds */
};

static void *
fwd_main(void *arg)
{
    t2s_run(arg);
    return NULL;
}

static void
fwd_start(struct fwd *f, const struct proxy *px, unsigned max_conns)
{
    struct t2s_config cfg;
    char url[64], err[256];
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    t2s_config_init(&cfg);
    cfg.tun_fd = sv[1];
    cfg.mtu = 1500;
    cfg.connect_timeout_ms = 1000;
    cfg.max_conns = max_conns;
    cfg.loglevel = 1;
    snprintf(url, sizeof(url), "socks5://127.0.0.1:%u", px->port);
    assert_int_equal(t2s_proxy_url_parse(url, &cfg.proxy, err, sizeof(err)), 0);
    f->t = t2s_create(&cfg, err, sizeof(err));
    if (f->t == NULL)
        fail_msg("t2s_create: %s", err);
    f->kernel_fd = sv[0];
    f->tun_fd = sv[1];
    assert_int_equal(pthread_create(&f->thread, NULL, fwd_main, f->t), 0);
}

static void
fwd_stop(struct fwd *f, struct t2s_stats *st)
{
    t2s_stop(f->t);
    pthread_join(f->thread, NULL);
    t2s_get_stats(f->t, st);
    t2s_destroy(f->t);
    close(f->kernel_fd);
    close(f->tun_fd);
}

/* ---- the "kernel": one IPv4 TCP client ---- */

struct conn {
    int fd;
    uint16_t sport, dport;
    uint32_t snd_nxt; /* our next sequence number */
    uint32_t rcv_nxt; /* next byte we expect */
    uint8_t data[4096];
    size_t data_len; /* payload received so far */
    int got_fin;
    int got_rst;
};

static uint16_t
csum(const uint8_t *b, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1)
        sum += (uint32_t)(b[n - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static const uint8_t APP_IP[4] = {198, 18, 0, 1};
static const uint8_t DST_IP[4] = {198, 19, 0, 10};

static void
send_seg(struct conn *c, uint8_t flags, const void *payload, size_t len)
{
    uint8_t p[20 + 20 + 1500];
    uint8_t *tcp = p + 20;
    uint8_t pseudo[12];
    uint32_t sum = 0;
    uint16_t ck;
    size_t tl = 20 + len;

    memset(p, 0, 40);
    p[0] = 0x45;
    p[2] = (uint8_t)((20 + tl) >> 8);
    p[3] = (uint8_t)(20 + tl);
    p[8] = 64;
    p[9] = 6;
    memcpy(p + 12, APP_IP, 4);
    memcpy(p + 16, DST_IP, 4);
    ck = csum(p, 20, 0);
    p[10] = (uint8_t)(ck >> 8);
    p[11] = (uint8_t)ck;
    tcp[0] = (uint8_t)(c->sport >> 8);
    tcp[1] = (uint8_t)c->sport;
    tcp[2] = (uint8_t)(c->dport >> 8);
    tcp[3] = (uint8_t)c->dport;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = (uint8_t)(c->snd_nxt >> (24 - 8 * i));
        tcp[8 + i] = (uint8_t)(c->rcv_nxt >> (24 - 8 * i));
    }
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    tcp[14] = 0xff; /* window 65535 */
    tcp[15] = 0xff;
    if (len > 0)
        memcpy(tcp + 20, payload, len);
    memcpy(pseudo, APP_IP, 4);
    memcpy(pseudo + 4, DST_IP, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)(tl >> 8);
    pseudo[11] = (uint8_t)tl;
    for (size_t i = 0; i < 12; i += 2)
        sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    ck = csum(tcp, tl, sum);
    tcp[16] = (uint8_t)(ck >> 8);
    tcp[17] = (uint8_t)ck;
    assert_int_equal(write(c->fd, p, 20 + tl), (ssize_t)(20 + tl));
    c->snd_nxt += (uint32_t)len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

static uint32_t
be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

/*
 * Reads packets for c until one has any of the wanted flags (or, with
 * want 0, until payload arrives), or timeout. Acknowledges data and FIN.
 * Returns the flags of that segment, or -1 on timeout.
 */
static int
recv_until(struct conn *c, int want, int timeout_ms)
{
    uint8_t p[65536];
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

    while (poll(&pfd, 1, timeout_ms) == 1) {
        ssize_t n = read(c->fd, p, sizeof(p));
        const uint8_t *tcp;
        size_t ihl, off, plen;
        uint8_t fl;

        if (n < 40 || (p[0] >> 4) != 4 || p[9] != 6)
            continue;
        ihl = (size_t)(p[0] & 15) * 4;
        tcp = p + ihl;
        if ((uint16_t)(tcp[2] << 8 | tcp[3]) != c->sport)
            continue;
        fl = tcp[13];
        off = (size_t)(tcp[12] >> 4) * 4;
        plen = (size_t)n - ihl - off;
        if (fl & F_RST) {
            c->got_rst = 1;
            return fl;
        }
        if (fl & F_SYN)
            c->rcv_nxt = be32(tcp + 4) + 1;
        if (plen > 0 && be32(tcp + 4) == c->rcv_nxt) {
            if (c->data_len + plen <= sizeof(c->data)) {
                memcpy(c->data + c->data_len, tcp + off, plen);
                c->data_len += plen;
            }
            c->rcv_nxt += (uint32_t)plen;
        }
        if (fl & F_FIN) {
            c->got_fin = 1;
            c->rcv_nxt += 1;
        }
        if ((plen > 0 || (fl & F_FIN)) && !(fl & F_SYN))
            send_seg(c, F_ACK, NULL, 0);
        if ((want == 0 && plen > 0) || (fl & want))
            return fl;
    }
    return -1;
}

static void
conn_init(struct conn *c, int fd, uint16_t sport)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->sport = sport;
    c->dport = 8080;
    c->snd_nxt = 1000;
}

/* SYN; returns the flags of the answer (SYN|ACK or RST) or -1. */
static int
open_conn(struct conn *c, int timeout_ms)
{
    int fl;

    send_seg(c, F_SYN, NULL, 0);
    fl = recv_until(c, F_SYN | F_RST, timeout_ms);
    if (fl > 0 && (fl & F_SYN))
        send_seg(c, F_ACK, NULL, 0);
    return fl;
}

/* ---- scenarios ---- */

static void
happy_path(uint8_t bnd_atyp)
{
    struct proxy px = {.bnd_atyp = bnd_atyp};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    proxy_start(&px, PX_ECHO);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 40001);
    assert_int_equal(open_conn(&c, 3000) & (F_SYN | F_ACK), F_SYN | F_ACK);
    assert_true(px.got_request);
    assert_int_equal(px.req_atyp, 1);
    assert_int_equal(px.req_port, 8080);
    send_seg(&c, F_ACK | F_PSH, "ping-pong", 9);
    assert_true(recv_until(&c, 0, 3000) >= 0);
    while (c.data_len < 9 && recv_until(&c, 0, 3000) >= 0)
        ;
    assert_int_equal(c.data_len, 9);
    assert_memory_equal(c.data, "ping-pong", 9);
    send_seg(&c, F_FIN | F_ACK, NULL, 0);          /* app half-closes */
    assert_true(recv_until(&c, F_FIN, 3000) >= 0); /* echo server closes */
    assert_true(c.got_fin);
    assert_false(c.got_rst);
    proxy_join(&px);
    assert_true(px.saw_eof);
    fwd_stop(&f, &st);
    assert_int_equal(st.tcp_total, 1);
    assert_int_equal(st.tcp_active, 0);
    assert_int_equal(st.bytes_up, 9);
    assert_int_equal(st.bytes_down, 9);
}

static void
test_happy_bnd_ipv4(void **state)
{
    (void)state;
    happy_path(1);
}

static void
test_happy_bnd_ipv6(void **state)
{
    (void)state;
    happy_path(4);
}

static void
test_happy_bnd_domain(void **state)
{
    (void)state;
    happy_path(3);
}

static void
test_every_rep_code_resets_the_syn(void **state)
{
    static const uint8_t reps[] = {1, 2, 3, 4, 5, 6, 7, 8, 0x42};

    (void)state;
    for (size_t i = 0; i < sizeof(reps); i++) {
        struct proxy px = {.rep = reps[i]};
        struct fwd f;
        struct conn c;
        struct t2s_stats st;

        proxy_start(&px, PX_REJECT);
        fwd_start(&f, &px, 0);
        conn_init(&c, f.kernel_fd, (uint16_t)(41000 + i));
        if (open_conn(&c, 3000) < 0 || !c.got_rst)
            fail_msg("REP %u: the app's SYN was not reset", reps[i]);
        proxy_join(&px);
        fwd_stop(&f, &st);
        assert_int_equal(st.err_proxy_reply, 1);
        assert_int_equal(st.tcp_active, 0);
    }
}

static void
test_proxy_reset_midstream(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_RESET);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 42001);
    assert_true(open_conn(&c, 3000) & F_SYN);
    send_seg(&c, F_ACK | F_PSH, "data", 4);
    assert_true(recv_until(&c, F_RST, 3000) >= 0);
    assert_true(c.got_rst);
    proxy_join(&px);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_reset_proxy, 1);
    assert_int_equal(st.tcp_active, 0);
}

static void
test_app_reset_midstream(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_ECHO);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 42101);
    assert_true(open_conn(&c, 3000) & F_SYN);
    send_seg(&c, F_RST | F_ACK, NULL, 0);
    proxy_join(&px); /* returns once the proxy socket is closed */
    assert_false(px.saw_eof && px.received_len > 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.err_reset_app, 1);
    assert_int_equal(st.tcp_active, 0);
}

static void
test_server_fin_reaches_app_after_data(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_SEND_CLOSE);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 42201);
    assert_true(open_conn(&c, 3000) & F_SYN);
    while (!c.got_fin && recv_until(&c, F_FIN, 3000) >= 0)
        ;
    assert_true(c.got_fin);
    assert_int_equal(c.data_len, 17);
    assert_memory_equal(c.data, "hello from server", 17);
    /* the app can still send after the server's FIN */
    send_seg(&c, F_ACK | F_PSH, "late", 4);
    send_seg(&c, F_FIN | F_ACK, NULL, 0);
    proxy_join(&px);
    assert_int_equal(px.received_len, 4);
    assert_memory_equal(px.received, "late", 4);
    assert_true(px.saw_eof);
    fwd_stop(&f, &st);
    assert_int_equal(st.tcp_active, 0);
}

static void
test_stalled_proxy_times_out(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_STALL);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 42301);
    /* connect timeout is 1 s: the RST must come, not a SYN|ACK */
    assert_true(open_conn(&c, 4000) >= 0);
    assert_true(c.got_rst);
    fwd_stop(&f, &st);
    proxy_join(&px);
    assert_int_equal(st.err_timeout_connect, 1);
    assert_int_equal(st.tcp_active, 0);
}

static void
test_connection_cap(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn a, b;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_ECHO);
    fwd_start(&f, &px, 1);
    conn_init(&a, f.kernel_fd, 42401);
    conn_init(&b, f.kernel_fd, 42402);
    assert_true(open_conn(&a, 3000) & F_SYN);
    assert_true(open_conn(&b, 3000) >= 0);
    assert_true(b.got_rst);
    fwd_stop(&f, &st); /* stop with a session open: no leak */
    proxy_join(&px);
    assert_int_equal(st.tcp_refused_limit, 1);
    assert_int_equal(st.tcp_total, 1);
    assert_int_equal(st.tcp_active, 0);
}

static void
test_stop_while_connecting(void **state)
{
    struct proxy px = {0};
    struct fwd f;
    struct conn c;
    struct t2s_stats st;

    (void)state;
    proxy_start(&px, PX_STALL);
    fwd_start(&f, &px, 0);
    conn_init(&c, f.kernel_fd, 42501);
    send_seg(&c, F_SYN, NULL, 0);
    usleep(100 * 1000);
    fwd_stop(&f, &st);
    proxy_join(&px);
    assert_int_equal(st.tcp_total, 1);
    assert_int_equal(st.tcp_active, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_bnd_ipv4),
        cmocka_unit_test(test_happy_bnd_ipv6),
        cmocka_unit_test(test_happy_bnd_domain),
        cmocka_unit_test(test_every_rep_code_resets_the_syn),
        cmocka_unit_test(test_proxy_reset_midstream),
        cmocka_unit_test(test_app_reset_midstream),
        cmocka_unit_test(test_server_fin_reaches_app_after_data),
        cmocka_unit_test(test_stalled_proxy_times_out),
        cmocka_unit_test(test_connection_cap),
        cmocka_unit_test(test_stop_while_connecting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
