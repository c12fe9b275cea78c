/*
 * An association's UDP socket to the relay the proxy named: datagrams of
 * the app go out with a SOCKS UDP header, replies come back to the app
 * from the source it expects. This socket is the association's own (the
 * session holds the control connection).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "udp/udp_assoc_impl.h"
#include "upstream/relay_addr.h"
#include "upstream/target.h"
#include "upstream/upstream.h"

/* recvmmsg(2) calls per wakeup (each up to ASSOC_RX_SLOTS datagrams). */
#define RELAY_READ_BUDGET 8
/* Socket buffers toward the relay: room for bursts at a few 100 Mbit/s. */
#define RELAY_SOCKBUF (4 * 1024 * 1024)

/* Into the batch (udp_batch.h): header and payload copied, sent after the
 * TUN burst with the datagrams around it. */
void
t2s_udp_assoc_relay_send(struct t2s_udp_assoc *a, const ip_addr_t *dst,
                         uint16_t port, struct pbuf *p)
{
    struct t2s_udp_assocs *as = a->as;
    uint8_t hdr[T2S_SOCKS5_UDP_HDR_MAX], *room;
    struct t2s_socks5_addr target;
    size_t hlen;
    long entry;

    entry = t2s_target_from_ip(as->fakeip, dst, port, &target);
    if (entry == -2) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped); /* stale fake address */
        return;
    }
    t2s_udp_assoc_dst_note(a, entry, dst, port);
    hlen = t2s_socks5_encode_udp_header(hdr, sizeof(hdr), &target);
    room = t2s_udp_batch_reserve(&as->batch, hlen + p->tot_len);
    if (room == NULL) { /* cannot happen: a datagram is below 64 KiB */
        T2S_STAT_INC(&as->ctx->stats, udp_dropped);
        return;
    }
    memcpy(room, hdr, hlen);
    pbuf_copy_partial(p, room + hlen, p->tot_len, 0);
    t2s_udp_batch_commit(&as->batch, a->udp_fd, hlen + p->tot_len, p->tot_len);
}

/* One datagram from the relay (n bytes in buf) to the app. */
static void
relay_deliver(struct t2s_udp_assoc *a, const uint8_t *buf, size_t n)
{
    struct t2s_udp_assocs *as = a->as;
    struct t2s_stats *st = &as->ctx->stats;
    struct t2s_socks5_addr from;
    ip_addr_t src;
    size_t hlen;
    uint8_t frag;
    int rc;

    if (t2s_socks5_decode_udp_header(buf, n, &frag, &from, &hlen) !=
        T2S_SOCKS5_OK) {
        T2S_STAT_INC(st, udp_bad);
        return;
    }
    if (frag != 0) {
        T2S_STAT_INC(st, udp_frag_dropped);
        return;
    }
    rc = t2s_udp_assoc_dst_reply_source(a, &from, &src);
    if (rc < 0) {
        if (rc == -2)
            T2S_STAT_INC(st, udp_ambiguous);
        else
            T2S_STAT_INC(st, udp_bad);
        return;
    }
    a->replied = 1;
    t2s_session_touch(&a->s);
    T2S_STAT_INC(st, udp_pkts_down);
    T2S_STAT_ADD(st, udp_bytes_down, n - hlen);
    t2s_udp_tx_send(as->tx, &a->app, a->app_port, &src, from.port, buf + hlen,
                    n - hlen);
}

static void
on_relay_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    struct mmsghdr v[ASSOC_RX_SLOTS];
    struct iovec iov[ASSOC_RX_SLOTS];
    int n;

    (void)loop;
    (void)revents;
    memset(v, 0, sizeof(v));
    for (int k = 0; k < ASSOC_RX_SLOTS; k++) {
        iov[k].iov_base = a->as->buf + (size_t)k * ASSOC_BUF_SIZE;
        iov[k].iov_len = ASSOC_BUF_SIZE;
        v[k].msg_hdr.msg_iov = &iov[k];
        v[k].msg_hdr.msg_iovlen = 1;
    }
    for (int i = 0; i < RELAY_READ_BUDGET; i++) {
        n = recvmmsg(a->udp_fd, v, ASSOC_RX_SLOTS, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return; /* EAGAIN, or an ICMP error we ignore */
        /* a reply may close the association (a->closed): not read on */
        for (int k = 0; k < n && a->udp_fd >= 0; k++)
            relay_deliver(a, iov[k].iov_base, v[k].msg_len);
        if (n < ASSOC_RX_SLOTS || a->udp_fd < 0)
            return;
    }
}

int
t2s_udp_assoc_relay_open(struct t2s_udp_assoc *a,
                         const struct t2s_socks5_addr *bnd)
{
    const struct t2s_config *c = a->as->ctx->cfg;
    const struct t2s_proxy *p = a->s.proxy; /* the association's own */
    struct sockaddr_storage ss;
    socklen_t len;
    int sz = RELAY_SOCKBUF;

    if (t2s_relay_addr_pick(bnd, &p->addr, p->addr_len, &ss, &len) < 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    a->udp_fd =
        socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->udp_fd < 0)
        return -1;
    setsockopt(a->udp_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(a->udp_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    /* The one place the relay socket is readied like every socket to the
     * proxy (fwmark, bind interface, the embedder's socket hook). */
    if (t2s_upstream_prepare(a->udp_fd, c, &a->as->ctx->stats) < 0 ||
        connect(a->udp_fd, (struct sockaddr *)&ss, len) < 0)
        return -1;
    ev_io_init(&a->udp_io, on_relay_readable, a->udp_fd, EV_READ);
    a->udp_io.data = a;
    ev_io_start(a->as->ctx->loop, &a->udp_io);
    return 0;
}

void
t2s_udp_assoc_relay_close(struct t2s_udp_assoc *a)
{
    ev_io_stop(a->as->ctx->loop, &a->udp_io);
    if (a->udp_fd >= 0) {
        /* what is queued for this socket leaves before it closes */
        t2s_udp_batch_flush(&a->as->batch);
        close(a->udp_fd);
        a->udp_fd = -1;
    }
}
