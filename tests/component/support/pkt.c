/* Packet building/parsing and the minimal TCP client of the tests. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"
#include "pkt.h"

static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t DST4[4] = {198, 19, 0, 10};
static const uint8_t APP6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                 0,    0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 0x10};

/* Pseudo-header sum for the TCP checksum. */
static uint32_t
pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t tcplen)
{
    size_t alen = family == 4 ? 4 : 16;
    uint32_t sum = wire_sum16(src, alen, 0);

    sum = wire_sum16(dst, alen, sum);
    sum += 6;
    sum += (uint32_t)(tcplen >> 16);
    sum += (uint32_t)(tcplen & 0xffff);
    return sum;
}

size_t
pkt_build(uint8_t *buf, size_t cap, const struct seg *s)
{
    size_t iphl = s->family == 4 ? 20 : 40;
    size_t optlen = 0, tcplen, total;
    uint8_t *tcp;

    if (s->mss >= 0)
        optlen += 4;
    if (s->wscale >= 0)
        optlen += 4;
    if (s->sack_perm)
        optlen += 4;
    tcplen = 20 + optlen + s->len;
    total = iphl + tcplen;
    if (total > cap || total > 65535)
        return 0;
    memset(buf, 0, iphl + 20 + optlen);
    if (s->family == 4) {
        uint16_t ck;
        buf[0] = 0x45;
        wire_put16(buf + 2, (uint16_t)total);
        buf[8] = 64;
        buf[9] = 6;
        memcpy(buf + 12, s->src, 4);
        memcpy(buf + 16, s->dst, 4);
        ck = wire_fold(wire_sum16(buf, 20, 0));
        wire_put16(buf + 10, ck);
    } else {
        buf[0] = 0x60;
        wire_put16(buf + 4, (uint16_t)tcplen);
        buf[6] = 6;
        buf[7] = 64;
        memcpy(buf + 8, s->src, 16);
        memcpy(buf + 24, s->dst, 16);
    }
    tcp = buf + iphl;
    wire_put16(tcp, s->sport);
    wire_put16(tcp + 2, s->dport);
    wire_put32(tcp + 4, s->seq);
    wire_put32(tcp + 8, s->ack);
    tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    tcp[13] = s->flags;
    wire_put16(tcp + 14, s->wnd);
    {
        uint8_t *o = tcp + 20;
        if (s->mss >= 0) {
            o[0] = 2;
            o[1] = 4;
            wire_put16(o + 2, (uint16_t)s->mss);
            o += 4;
        }
        if (s->wscale >= 0) {
            o[0] = 1; /* NOP */
            o[1] = 3;
            o[2] = 3;
            o[3] = (uint8_t)s->wscale;
            o += 4;
        }
        if (s->sack_perm) {
            o[0] = o[1] = 1; /* NOP NOP */
            o[2] = 4;
            o[3] = 2;
        }
    }
    if (s->len > 0)
        memcpy(tcp + 20 + optlen, s->data, s->len);
    wire_put16(tcp + 16, wire_fold(wire_sum16(
                             tcp, tcplen,
                             pseudo_sum(s->family, s->src, s->dst, tcplen))));
    return total;
}

/* The blocks of a SACK option (kind 5): 8 bytes each, at most 4. */
static void
parse_sack(const uint8_t *b, size_t n, struct seg *s)
{
    s->nsack = 0;
    for (size_t i = 0; i + 8 <= n && s->nsack < 4; i += 8, s->nsack++) {
        s->sack[s->nsack][0] = wire_get32(b + i);
        s->sack[s->nsack][1] = wire_get32(b + i + 4);
    }
}

static void
parse_options(const uint8_t *o, size_t n, struct seg *s)
{
    size_t i = 0;

    while (i < n) {
        uint8_t kind = o[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
            break;
        if (kind == 2 && o[i + 1] == 4)
            s->mss = wire_get16(o + i + 2);
        else if (kind == 3 && o[i + 1] == 3)
            s->wscale = o[i + 2];
        else if (kind == 4 && o[i + 1] == 2)
            s->sack_perm = 1;
        else if (kind == 5)
            parse_sack(o + i + 2, o[i + 1] - 2u, s);
        i += o[i + 1];
    }
}

int
pkt_parse(const uint8_t *p, size_t n, struct seg *s)
{
    size_t iphl, tcplen, doff;
    const uint8_t *tcp;

    memset(s, 0, sizeof(*s));
    s->mss = s->wscale = -1;
    if (n < 1)
        return -1;
    if ((p[0] >> 4) == 4) {
        iphl = (size_t)(p[0] & 15) * 4;
        if (n < 20 || iphl < 20 || n < iphl || wire_get16(p + 2) != n)
            return -1;
        if (wire_fold(wire_sum16(p, iphl, 0)) != 0)
            return -1;
        if (p[9] != 6)
            return 1;
        s->family = 4;
        memcpy(s->src, p + 12, 4);
        memcpy(s->dst, p + 16, 4);
    } else if ((p[0] >> 4) == 6) {
        if (n < 40 || (size_t)wire_get16(p + 4) + 40 != n)
            return -1;
        if (p[6] != 6)
            return 1;
        iphl = 40;
        s->family = 6;
        memcpy(s->src, p + 8, 16);
        memcpy(s->dst, p + 24, 16);
    } else {
        return -1;
    }
    tcp = p + iphl;
    tcplen = n - iphl;
    if (tcplen < 20)
        return -1;
    doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > tcplen)
        return -1;
    if (wire_fold(wire_sum16(
            tcp, tcplen, pseudo_sum(s->family, s->src, s->dst, tcplen))) != 0)
        return -1;
    s->sport = wire_get16(tcp);
    s->dport = wire_get16(tcp + 2);
    s->seq = wire_get32(tcp + 4);
    s->ack = wire_get32(tcp + 8);
    s->flags = tcp[13];
    s->wnd = wire_get16(tcp + 14);
    parse_options(tcp + 20, doff - 20, s);
    s->data = tcp + doff;
    s->len = tcplen - doff;
    return 0;
}

/* ---- the client ---- */

static int
seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

void
tk_init(struct tk *k, int fd)
{
    memset(k, 0, sizeof(*k));
    k->fd = fd;
}

void
tc_init(struct tc *c, struct tk *k, int family, uint16_t sport, uint16_t dport)
{
    memset(c, 0, sizeof(*c));
    c->k = k;
    c->family = family;
    memcpy(c->src, family == 4 ? APP4 : APP6, family == 4 ? 4 : 16);
    memcpy(c->dst, family == 4 ? DST4 : DST6, family == 4 ? 4 : 16);
    c->sport = sport;
    c->dport = dport;
    c->iss = 0x10000000u + (uint32_t)sport * 7919u;
    c->snd_nxt = c->snd_una = c->iss;
    c->our_wscale = -1;
    c->mss = 1400;
    c->wnd = 65535;
    c->auto_ack = 1;
    if (k->nconns < TK_MAX_CONNS)
        k->conns[k->nconns++] = c;
}

void
tc_free(struct tc *c)
{
    struct tk *k = c->k;

    for (size_t i = 0; i < k->nconns; i++) {
        if (k->conns[i] == c) {
            k->conns[i] = k->conns[--k->nconns];
            break;
        }
    }
    free(c->data);
    c->data = NULL;
}

static int
wscale_of(const struct tc *c)
{
    return c->our_wscale > 0 ? c->our_wscale : 0;
}

/* The window field of our next segment. */
static uint16_t
advertised_wnd(const struct tc *c)
{
    uint32_t left;

    if (!c->paused)
        return c->wnd;
    left = (c->rcv_edge - c->rcv_nxt) >> wscale_of(c);
    return left > 65535 ? 65535 : (uint16_t)left;
}

void
tc_pause(struct tc *c)
{
    c->rcv_edge = c->rcv_nxt + ((uint32_t)c->wnd << wscale_of(c));
    c->paused = 1;
}

void
tc_resume(struct tc *c)
{
    c->paused = 0;
    tc_send(c, TH_ACK, NULL, 0);
}

void
tc_send(struct tc *c, uint8_t flags, const void *data, size_t len)
{
    static uint8_t buf[65600];
    struct seg s;
    size_t n;
    ssize_t w;

    memset(&s, 0, sizeof(s));
    s.family = c->family;
    memcpy(s.src, c->src, 16);
    memcpy(s.dst, c->dst, 16);
    s.sport = c->sport;
    s.dport = c->dport;
    s.seq = c->snd_nxt;
    s.ack = (flags & TH_ACK) ? c->rcv_nxt : 0;
    s.flags = flags;
    s.wnd = advertised_wnd(c);
    s.mss = (flags & TH_SYN) ? c->mss : -1;
    s.wscale = (flags & TH_SYN) ? c->our_wscale : -1;
    s.sack_perm = (flags & TH_SYN) ? c->sack_perm : 0;
    s.data = data;
    s.len = len;
    n = pkt_build(buf, sizeof(buf), &s);
    if (n == 0)
        abort();
    do {
        w = write(c->k->fd, buf, n);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n)
        abort(); /* the datagram socketpair never writes short */
    c->snd_nxt += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
}

void
tc_probe(struct tc *c)
{
    c->snd_nxt--;
    tc_send(c, TH_ACK, NULL, 0);
    c->snd_nxt++;
}

void
tc_syn(struct tc *c)
{
    c->snd_nxt = c->snd_una = c->iss;
    tc_send(c, TH_SYN, NULL, 0);
}

static void
append_data(struct tc *c, const uint8_t *d, size_t n)
{
    if (c->data_len + n > c->data_cap) {
        size_t cap = c->data_cap ? c->data_cap : 4096;
        while (cap < c->data_len + n)
            cap *= 2;
        c->data = realloc(c->data, cap);
        if (c->data == NULL)
            abort();
        c->data_cap = cap;
    }
    memcpy(c->data + c->data_len, d, n);
    c->data_len += n;
}

static void
tc_input(struct tc *c, const struct seg *s)
{
    int ack_needed = 0;

    c->segs++;
    if (s->flags & TH_RST) {
        c->got_rst = 1;
        return;
    }
    if (s->flags & TH_SYN) {
        if (c->got_rst)
            c->synack_after_rst = 1;
        if (!(s->flags & TH_ACK) || s->ack != c->iss + 1)
            return;
        c->got_synack = 1;
        c->peer_sack_perm = s->sack_perm;
        c->rcv_nxt = s->seq + 1;
        c->peer_wscale = (c->our_wscale >= 0 && s->wscale >= 0) ? s->wscale : 0;
        c->snd_una = s->ack;
        c->peer_wnd = s->wnd; /* never scaled in a SYN */
        if (s->mss > 0 && s->mss < c->mss)
            c->mss = (uint16_t)s->mss;
        return;
    }
    if (!c->got_synack)
        return;
    memcpy(c->sack, s->sack, sizeof(c->sack));
    c->nsack = s->nsack;
    if (s->nsack > 0)
        c->sack_segs++;
    if (s->flags & TH_ACK) {
        if (seq_lt(c->snd_una, s->ack) && !seq_lt(c->snd_nxt, s->ack))
            c->snd_una = s->ack;
        c->peer_wnd = (uint32_t)s->wnd << c->peer_wscale;
        if (c->peer_wnd == 0)
            c->zero_wnd_seen = 1;
    }
    if (s->len > 0) {
        if (s->seq == c->rcv_nxt) {
            size_t take = s->len;
            if (c->paused && take > c->rcv_edge - c->rcv_nxt)
                take = c->rcv_edge - c->rcv_nxt;
            append_data(c, s->data, take);
            c->rcv_nxt += (uint32_t)take;
        } else {
            c->dup_data++;
        }
        ack_needed = 1;
    }
    if ((s->flags & TH_FIN) && !c->got_fin &&
        s->seq + (uint32_t)s->len == c->rcv_nxt) {
        c->got_fin = 1;
        c->rcv_nxt += 1;
        ack_needed = 1;
    } else if (s->flags & TH_FIN) {
        ack_needed = 1;
    }
    if (ack_needed && c->auto_ack)
        tc_send(c, TH_ACK, NULL, 0);
}

static void
dispatch(struct tk *k, const uint8_t *p, size_t n)
{
    struct seg s;
    int rc = pkt_parse(p, n, &s);

    if (rc < 0) {
        k->bad++;
        return;
    }
    if (rc > 0)
        return;
    for (size_t i = 0; i < k->nconns; i++) {
        struct tc *c = k->conns[i];
        size_t alen = c->family == 4 ? 4 : 16;
        if (c->family == s.family && c->sport == s.dport &&
            c->dport == s.sport && memcmp(c->src, s.dst, alen) == 0 &&
            memcmp(c->dst, s.src, alen) == 0) {
            tc_input(c, &s);
            return;
        }
    }
    k->unmatched++;
}

int
tk_poll(struct tk *k, int timeout_ms)
{
    static uint8_t buf[65600];
    struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) != 1)
        return 0;
    n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0)
        return 0;
    dispatch(k, buf, (size_t)n);
    return 1;
}

void
tk_drain(struct tk *k)
{
    while (tk_poll(k, 0))
        ;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tk_run_for(struct tk *k, int ms)
{
    long long end = now_ms() + ms;
    long long left;

    while ((left = end - now_ms()) > 0)
        tk_poll(k, (int)left);
}

/* Waits until pred(c, arg) holds; 0, or -1 at the deadline. */
static int
tc_wait(struct tc *c, int (*pred)(const struct tc *, size_t), size_t arg,
        int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    long long left;

    while (!pred(c, arg)) {
        left = end - now_ms();
        if (left <= 0)
            return -1;
        tk_poll(c->k, (int)left);
    }
    return 0;
}

static int
p_answer(const struct tc *c, size_t arg)
{
    (void)arg;
    return c->got_synack || c->got_rst;
}

static int
p_data(const struct tc *c, size_t arg)
{
    return c->data_len >= arg || c->got_rst;
}

static int
p_fin(const struct tc *c, size_t arg)
{
    (void)arg;
    return c->got_fin || c->got_rst;
}

static int
p_rst(const struct tc *c, size_t arg)
{
    (void)arg;
    return c->got_rst;
}

static int
p_acked(const struct tc *c, size_t arg)
{
    (void)arg;
    return c->snd_una == c->snd_nxt || c->got_rst;
}

int
tc_wait_answer(struct tc *c, int timeout_ms)
{
    return tc_wait(c, p_answer, 0, timeout_ms);
}

int
tc_wait_data(struct tc *c, size_t n, int timeout_ms)
{
    return tc_wait(c, p_data, n, timeout_ms) == 0 && c->data_len >= n ? 0 : -1;
}

int
tc_wait_fin(struct tc *c, int timeout_ms)
{
    return tc_wait(c, p_fin, 0, timeout_ms) == 0 && c->got_fin ? 0 : -1;
}

int
tc_wait_rst(struct tc *c, int timeout_ms)
{
    return tc_wait(c, p_rst, 0, timeout_ms);
}

int
tc_wait_acked(struct tc *c, int timeout_ms)
{
    return tc_wait(c, p_acked, 0, timeout_ms) == 0 && c->snd_una == c->snd_nxt
               ? 0
               : -1;
}

int
tc_connect(struct tc *c, int timeout_ms)
{
    tc_syn(c);
    if (tc_wait_answer(c, timeout_ms) < 0)
        return -1;
    if (c->got_rst)
        return 0;
    tc_send(c, TH_ACK, NULL, 0);
    return 1;
}

size_t
tc_send_window(struct tc *c, const uint8_t *data, size_t len)
{
    size_t sent = 0;

    while (sent < len) {
        uint32_t inflight = c->snd_nxt - c->snd_una;
        size_t room, n;

        if (inflight >= c->peer_wnd)
            break;
        room = c->peer_wnd - inflight;
        n = len - sent;
        if (n > c->mss)
            n = c->mss;
        if (n > room)
            n = room;
        tc_send(c, TH_ACK | TH_PSH, data + sent, n);
        sent += n;
        if (c->snd_nxt - c->snd_una > c->max_unacked)
            c->max_unacked = c->snd_nxt - c->snd_una;
    }
    return sent;
}

int
tc_write(struct tc *c, const void *data, size_t len, int timeout_ms)
{
    const uint8_t *d = data;
    size_t off = 0;
    long long deadline = now_ms() + timeout_ms;
    unsigned quiet = 0;

    while (off < len) {
        size_t n = tc_send_window(c, d + off, len - off);
        if (c->got_rst)
            return -1;
        if (n > 0) {
            off += n;
            deadline = now_ms() + timeout_ms;
            tk_drain(c->k);
            continue;
        }
        if (now_ms() >= deadline)
            return -1;
        if (tk_poll(c->k, 20) == 0 && ++quiet % 5 == 0)
            tc_probe(c);
    }
    return 0;
}

uint8_t
pattern_byte(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 9) * 7u + 3u);
}

void
pattern_fill(uint8_t *buf, size_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern_byte(off + i);
}
