/* The TSO kernel shim of test_tso.c (tso_shim.h). */
#include <errno.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pkt.h"
#include "tso_shim.h"
#include "wire.h"

#define VNET_LEN ((ssize_t)sizeof(struct virtio_net_hdr))
#define PKT_MAX 65535

static void
bad(struct tso_shim *s, const char *why, unsigned a, unsigned b)
{
    if (s->bad++ == 0)
        snprintf(s->why, sizeof(s->why), "%s (%u, %u)", why, a, b);
}

static int
seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* Writes one packet to the tests' kernel; while its queue is full, keeps
 * moving the other way so neither side waits for the other. */
static void pump_to_fwd(struct tso_shim *s, int wait_ms);

static void
to_app(struct tso_shim *s, const uint8_t *p, size_t n)
{
    while (send(s->plain, p, n, MSG_DONTWAIT) < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
            return; /* the test is ending */
        pump_to_fwd(s, 1);
    }
}

/* Cuts a checked GSO segment into gso_size pieces, as the kernel does. */
static void
cut(struct tso_shim *s, const struct seg *g, unsigned gso_size)
{
    static uint8_t out[PKT_MAX];
    size_t pieces = (g->len + gso_size - 1) / gso_size;

    for (size_t i = 0, off = 0; i < pieces; i++, off += gso_size) {
        struct seg piece = *g;
        size_t n;
        int drop;

        piece.seq = g->seq + (uint32_t)off;
        piece.data = g->data + off;
        piece.len = g->len - off < gso_size ? g->len - off : gso_size;
        if (i + 1 < pieces)
            piece.flags &= (uint8_t) ~(TH_FIN | TH_PSH);
        if (i > 0)
            piece.flags &= (uint8_t)~TH_CWR;
        pthread_mutex_lock(&s->mu);
        drop = s->drop_piece != 0 && !s->dropped && pieces > s->drop_piece &&
               i + 1 == s->drop_piece;
        if (drop)
            s->dropped = 1;
        pthread_mutex_unlock(&s->mu);
        if (drop)
            continue;
        n = pkt_build(out, sizeof(out), &piece);
        if (n > 0)
            to_app(s, out, n);
    }
}

/* The checks on one TCP segment from the forwarder; 1 to cut it. */
static int
check_tcp(struct tso_shim *s, const struct virtio_net_hdr *h,
          const struct seg *g, size_t iphl, size_t hdr_len)
{
    unsigned want =
        g->family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;

    if (g->len > 0 && s->seen_data && seq_lt(g->seq, s->hi_seq) &&
        h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        s->gso_rexmit++;
    if (g->len > 0 && (!s->seen_data || seq_lt(s->hi_seq, g->seq + g->len))) {
        s->hi_seq = g->seq + (uint32_t)g->len;
        s->seen_data = 1;
    }
    /* a FIN ends the stream: no byte may follow it */
    if (s->fin_seen && g->len > 0 && seq_lt(s->fin_seq, g->seq + g->len))
        bad(s, "data past a FIN", g->seq + (unsigned)g->len, s->fin_seq);
    if ((g->flags & TH_FIN) && !s->fin_seen) {
        s->fin_seen = 1;
        s->fin_seq = g->seq + (uint32_t)g->len;
    }
    if (g->len > s->max_payload)
        s->max_payload = g->len;
    if (g->len <= s->mss) {
        if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
            bad(s, "GSO on a segment within the MSS", (unsigned)g->len,
                h->gso_type);
        s->plain_segs++;
        return 0;
    }
    s->gso_segs++;
    if (g->flags & TH_FIN)
        s->gso_fin++;
    if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != want)
        bad(s, "gso_type", h->gso_type, want);
    if (!(h->gso_type & VIRTIO_NET_HDR_GSO_ECN) != !(g->flags & TH_CWR))
        bad(s, "ECN marking", h->gso_type, g->flags);
    if (h->gso_size != s->mss)
        bad(s, "gso_size", h->gso_size, s->mss);
    if (h->hdr_len != hdr_len || hdr_len != iphl + 20)
        bad(s, "hdr_len", h->hdr_len, (unsigned)hdr_len);
    return 1;
}

/* One packet from the forwarder. */
static void
from_fwd(struct tso_shim *s, uint8_t *buf, size_t n)
{
    struct virtio_net_hdr h;
    uint8_t *p = buf + VNET_LEN;
    size_t len = n - (size_t)VNET_LEN, iphl;
    int tcp, gso = 0;
    struct seg g;

    memcpy(&h, buf, sizeof(h));
    tcp = len >= 40 &&
          ((p[0] >> 4 == 4 && p[9] == 6) || (p[0] >> 4 == 6 && p[6] == 6));
    if (!tcp) {
        to_app(s, p, len);
        return;
    }
    iphl = p[0] >> 4 == 4 ? (size_t)(p[0] & 15) * 4 : 40;
    pthread_mutex_lock(&s->mu);
    if (h.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM || h.csum_start != iphl ||
        h.csum_offset != 16 || len < iphl + 20) {
        bad(s, "checksum offload fields", h.flags, h.csum_start);
    } else {
        /* the kernel: sum from csum_start (the field holds the
         * pseudo-header sum), the complement into the field */
        wire_put16(p + iphl + 16,
                   wire_fold(wire_sum16(p + iphl, len - iphl, 0)));
        if (pkt_parse(p, len, &g) != 0)
            bad(s, "not a valid TCP segment", (unsigned)len, 0);
        else
            gso = check_tcp(s, &h, &g, iphl,
                            iphl + (size_t)(p[iphl + 12] >> 4) * 4);
    }
    pthread_mutex_unlock(&s->mu);
    if (gso)
        cut(s, &g, s->mss);
    else
        to_app(s, p, len);
}

/* One packet from the tests' kernel toward the forwarder, if any. */
static void
pump_to_fwd(struct tso_shim *s, int wait_ms)
{
    static uint8_t buf[PKT_MAX + 1];
    struct pollfd pfd = {.fd = s->plain, .events = POLLIN};
    struct virtio_net_hdr h;
    struct iovec iov[2] = {{&h, sizeof(h)}, {buf, 0}};
    struct seg g;
    ssize_t n;

    if (poll(&pfd, 1, wait_ms) != 1)
        return;
    n = recv(s->plain, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0)
        return;
    memset(&h, 0, sizeof(h));
    if (s->in_gso > 0 && pkt_parse(buf, (size_t)n, &g) == 0 &&
        g.len > s->in_gso) {
        /* what the kernel hands a TUN with TSO: one super-packet */
        size_t iphl = g.family == 4 ? 20 : 40;
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.gso_type =
            g.family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
        if (g.flags & TH_CWR)
            h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        h.gso_size = (uint16_t)s->in_gso;
        h.hdr_len = (uint16_t)(iphl + (size_t)(buf[iphl + 12] >> 4) * 4);
        h.csum_start = (uint16_t)iphl;
        h.csum_offset = 16;
        pthread_mutex_lock(&s->mu);
        s->in_gso_segs++;
        if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
            s->in_gso_ecn++;
        pthread_mutex_unlock(&s->mu);
    }
    iov[1].iov_len = (size_t)n;
    (void)writev(s->tun[0], iov, 2);
}

static void *
shim_main(void *arg)
{
    static uint8_t buf[VNET_LEN + PKT_MAX + 1];
    struct tso_shim *s = arg;

    for (;;) {
        struct pollfd pfd[3] = {{.fd = s->tun[0], .events = POLLIN},
                                {.fd = s->plain, .events = POLLIN},
                                {.fd = s->stop[0], .events = POLLIN}};
        ssize_t n;

        if (poll(pfd, 3, -1) < 0 && errno != EINTR)
            return NULL;
        if (pfd[2].revents)
            return NULL;
        if (pfd[1].revents & POLLIN)
            pump_to_fwd(s, 0);
        if (!(pfd[0].revents & POLLIN))
            continue;
        n = recv(s->tun[0], buf, sizeof(buf), MSG_DONTWAIT);
        if (n > VNET_LEN)
            from_fwd(s, buf, (size_t)n);
    }
}

void
tso_shim_open(struct tso_shim *s)
{
    int big = 4 << 20;

    s->plain = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s->tun) != 0 ||
        pipe(s->stop) != 0)
        abort();
    for (int i = 0; i < 2; i++) {
        /* room for a few dozen super-packets: drops only cost time */
        if (setsockopt(s->tun[i], SOL_SOCKET, SO_SNDBUFFORCE, &big,
                       sizeof(big)) != 0)
            (void)setsockopt(s->tun[i], SOL_SOCKET, SO_SNDBUF, &big,
                             sizeof(big));
        (void)setsockopt(s->tun[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    }
}

void
tso_shim_run(struct tso_shim *s, int plain)
{
    s->plain = plain;
    if (pthread_create(&s->th, NULL, shim_main, s) != 0)
        abort();
}

void
tso_shim_stop(struct tso_shim *s)
{
    (void)write(s->stop[1], "x", 1);
    pthread_join(s->th, NULL);
    close(s->stop[0]);
    close(s->stop[1]);
    close(s->tun[0]);
    close(s->tun[1]);
    pthread_mutex_destroy(&s->mu);
}

void
tso_shim_get(struct tso_shim *s, struct tso_shim *out)
{
    pthread_mutex_lock(&s->mu);
    *out = *s;
    pthread_mutex_unlock(&s->mu);
}
