/* UDP datagrams, fragments, fake-ip DNS queries and a SOCKS5 UDP relay. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"
#include "pkt.h"
#include "udp_pkt.h"

#define IP_MAXPACKET_ 65535

static const uint8_t APP4[4] = {198, 18, 0, 1};
static const uint8_t APP6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                 0,    0, 0, 0, 0, 0, 0, 1};
static const uint8_t DNS4[4] = {198, 18, 0, 2};
static const uint8_t DNS6[16] = {0xfd, 0, 0, 0x18, 0, 0, 0, 0,
                                 0,    0, 0, 0,    0, 0, 0, 2};

static uint32_t
pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t len)
{
    size_t alen = family == 4 ? 4 : 16;
    uint32_t sum = wire_sum16(src, alen, 0);

    sum = wire_sum16(dst, alen, sum);
    return sum + 17 + (uint32_t)len;
}

/* The UDP header and payload with its checksum, into out (8 + len). */
static void
build_udp(uint8_t *out, const struct udp_dgram *d)
{
    size_t n = 8 + d->len;
    uint16_t ck;

    wire_put16(out, d->sport);
    wire_put16(out + 2, d->dport);
    wire_put16(out + 4, (uint16_t)n);
    wire_put16(out + 6, 0);
    memcpy(out + 8, d->data, d->len);
    ck =
        wire_fold(wire_sum16(out, n, pseudo_sum(d->family, d->src, d->dst, n)));
    wire_put16(out + 6, ck == 0 ? 0xffff : ck);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    for (;;) {
        ssize_t w = send(fd, p, n, 0);
        if (w == (ssize_t)n)
            return 0;
        if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        return -1;
    }
}

/* One IPv4 packet: payload (a piece of the UDP datagram) at byte offset
 * off, more fragments to follow when mf. */
static int
send4(int fd, const struct udp_dgram *d, const uint8_t *piece, size_t n,
      size_t off, int mf, uint16_t id)
{
    uint8_t pkt[IP_MAXPACKET_];

    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    wire_put16(pkt + 2, (uint16_t)(20 + n));
    wire_put16(pkt + 4, id);
    wire_put16(pkt + 6, (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
    pkt[8] = 64;
    pkt[9] = 17;
    memcpy(pkt + 12, d->src, 4);
    memcpy(pkt + 16, d->dst, 4);
    wire_put16(pkt + 10, wire_fold(wire_sum16(pkt, 20, 0)));
    memcpy(pkt + 20, piece, n);
    return write_all(fd, pkt, 20 + n);
}

/* One IPv6 packet; a fragment header unless whole. */
static int
send6(int fd, const struct udp_dgram *d, const uint8_t *piece, size_t n,
      size_t off, int mf, int whole, uint32_t id)
{
    uint8_t pkt[IP_MAXPACKET_ + 48];
    size_t h = whole ? 40 : 48;

    memset(pkt, 0, h);
    pkt[0] = 0x60;
    wire_put16(pkt + 4, (uint16_t)(h - 40 + n));
    pkt[6] = whole ? 17 : 44;
    pkt[7] = 64;
    memcpy(pkt + 8, d->src, 16);
    memcpy(pkt + 24, d->dst, 16);
    if (!whole) {
        pkt[40] = 17;
        wire_put16(pkt + 42, (uint16_t)(off | (mf ? 1 : 0)));
        wire_put16(pkt + 44, (uint16_t)(id >> 16));
        wire_put16(pkt + 46, (uint16_t)id);
    }
    memcpy(pkt + h, piece, n);
    return write_all(fd, pkt, h + n);
}

int
ku_send(int fd, const struct udp_dgram *d, size_t mtu)
{
    static uint32_t next_id = 0x1234;
    size_t total = 8 + d->len, iphl = d->family == 4 ? 20 : 40;
    size_t room, off = 0;
    uint8_t *u;
    int rc = 0;

    if (total > IP_MAXPACKET_ || (d->family == 4 && total + 20 > IP_MAXPACKET_))
        return -1;
    u = malloc(total);
    if (u == NULL)
        return -1;
    build_udp(u, d);
    next_id++;
    if (iphl + total <= mtu) {
        rc = d->family == 4 ? send4(fd, d, u, total, 0, 0, (uint16_t)next_id)
                            : send6(fd, d, u, total, 0, 0, 1, next_id);
        free(u);
        return rc;
    }
    /* Fragment payloads are multiples of 8 bytes, except the last. */
    room = (mtu - iphl - (d->family == 4 ? 0 : 8)) & ~(size_t)7;
    while (rc == 0 && off < total) {
        size_t n = total - off < room ? total - off : room;
        int mf = off + n < total;

        rc = d->family == 4
                 ? send4(fd, d, u + off, n, off, mf, (uint16_t)next_id)
                 : send6(fd, d, u + off, n, off, mf, 0, next_id);
        off += n;
    }
    free(u);
    return rc;
}

/* 0 for a whole UDP datagram with a good checksum (filled in d), 1 for
 * anything else. */
static int
parse_udp(const uint8_t *p, size_t n, struct udp_dgram *d)
{
    size_t iphl, ulen;
    const uint8_t *u;

    memset(d, 0, sizeof(*d));
    if (n >= 20 && (p[0] >> 4) == 4) {
        iphl = (size_t)(p[0] & 15) * 4;
        if (p[9] != 17 || wire_get16(p + 2) != n ||
            (wire_get16(p + 6) & 0x3fff) != 0)
            return 1;
        d->family = 4;
        memcpy(d->src, p + 12, 4);
        memcpy(d->dst, p + 16, 4);
    } else if (n >= 40 && (p[0] >> 4) == 6) {
        iphl = 40;
        if (p[6] != 17 || (size_t)wire_get16(p + 4) + 40 != n)
            return 1;
        d->family = 6;
        memcpy(d->src, p + 8, 16);
        memcpy(d->dst, p + 24, 16);
    } else {
        return 1;
    }
    u = p + iphl;
    ulen = n - iphl;
    if (ulen < 8 || wire_get16(u + 4) != ulen)
        return 1;
    if (wire_fold(wire_sum16(u, ulen,
                             pseudo_sum(d->family, d->src, d->dst, ulen))) != 0)
        return 1;
    d->sport = wire_get16(u);
    d->dport = wire_get16(u + 2);
    d->data = u + 8;
    d->len = ulen - 8;
    return 0;
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int
ku_recv(int fd, struct udp_dgram *d, uint8_t *buf, size_t cap, int timeout_ms,
        unsigned *skipped)
{
    static uint8_t pkt[IP_MAXPACKET_ + 1];
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        long left = timeout_ms - ms_since(&t0);
        ssize_t n;

        if (left < 0 || poll(&pf, 1, (int)left) <= 0)
            return -1;
        n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
        if (n <= 0)
            continue;
        if (parse_udp(pkt, (size_t)n, d) != 0 || d->len > cap) {
            if (skipped != NULL)
                (*skipped)++;
            continue;
        }
        memcpy(buf, d->data, d->len);
        d->data = buf;
        return 0;
    }
}

/* Query for name: header, one question. Returns its length. */
static size_t
build_query(uint8_t *q, uint16_t id, const char *name, uint16_t qtype)
{
    size_t n = 12;
    const char *s = name;

    memset(q, 0, 12);
    wire_put16(q, id);
    wire_put16(q + 2, 0x0100); /* RD */
    wire_put16(q + 4, 1);
    while (*s != '\0') {
        const char *dot = strchr(s, '.');
        size_t l = dot != NULL ? (size_t)(dot - s) : strlen(s);

        q[n++] = (uint8_t)l;
        memcpy(q + n, s, l);
        n += l;
        s += l;
        if (*s == '.')
            s++;
    }
    q[n++] = 0;
    wire_put16(q + n, qtype);
    wire_put16(q + n + 2, 1);
    return n + 4;
}

int
ku_dns_ask(int fd, int family, uint16_t sport, const char *name, uint8_t *addr)
{
    static uint16_t id = 100;
    uint8_t q[300], ans[1024];
    size_t alen = family == 4 ? 4 : 16;
    struct udp_dgram d = {.family = family, .sport = sport, .dport = 53};

    memcpy(d.src, family == 4 ? APP4 : APP6, alen);
    memcpy(d.dst, family == 4 ? DNS4 : DNS6, alen);
    d.data = q;
    d.len = build_query(q, ++id, name, family == 4 ? 1 : 28);
    if (ku_send(fd, &d, 1500) < 0)
        return -1;
    for (;;) {
        if (ku_recv(fd, &d, ans, sizeof(ans), 3000, NULL) < 0)
            return -1;
        if (d.sport == 53 && d.dport == sport && d.len >= 12 &&
            wire_get16(ans) == id)
            break;
    }
    if ((ans[3] & 15) != 0)
        return ans[3] & 15;
    /* one answer, the last record: its RDATA ends the message */
    if (wire_get16(ans + 6) != 1 || d.len < 12 + alen)
        return -1;
    memcpy(addr, ans + d.len - alen, alen);
    return 0;
}

int
relay_open(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int sz = 4 << 20;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        abort();
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    *port = ntohs(sa.sin_port);
    return fd;
}

int
relay_recv(int fd, struct t2s_socks5_addr *to, uint8_t *buf, size_t cap,
           size_t *len, void *from_ss, unsigned *from_len, int timeout_ms)
{
    static uint8_t dgram[IP_MAXPACKET_ + 1];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    socklen_t sl = sizeof(struct sockaddr_storage);
    size_t hlen;
    uint8_t frag;
    ssize_t n;

    if (poll(&pf, 1, timeout_ms) <= 0)
        return -1;
    n = recvfrom(fd, dgram, sizeof(dgram), MSG_DONTWAIT,
                 (struct sockaddr *)from_ss, &sl);
    if (n < 0 || t2s_socks5_decode_udp_header(dgram, (size_t)n, &frag, to,
                                              &hlen) != T2S_SOCKS5_OK)
        return -1;
    *from_len = (unsigned)sl;
    *len = (size_t)n - hlen;
    if (*len > cap)
        return -1;
    memcpy(buf, dgram + hlen, *len);
    return 0;
}

int
relay_send(int fd, const void *from_ss, unsigned from_len,
           const struct t2s_socks5_addr *src, const void *data, size_t len)
{
    static uint8_t dgram[IP_MAXPACKET_ + T2S_SOCKS5_UDP_HDR_MAX];
    size_t hlen = t2s_socks5_encode_udp_header(dgram, sizeof(dgram), src);

    if (hlen == 0 || hlen + len > sizeof(dgram))
        return -1;
    memcpy(dgram + hlen, data, len);
    return sendto(fd, dgram, hlen + len, 0, (const struct sockaddr *)from_ss,
                  (socklen_t)from_len) == (ssize_t)(hlen + len)
               ? 0
               : -1;
}

void
relay_reply(uint8_t out[10], uint16_t port)
{
    static const uint8_t head[8] = {5, 0, 0, 1, 127, 0, 0, 1};

    memcpy(out, head, 8);
    wire_put16(out + 8, port);
}
