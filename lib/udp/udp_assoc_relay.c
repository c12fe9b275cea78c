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

/* Datagrams read from the relay per wakeup. */
#define RELAY_READ_BUDGET 64
/* Socket buffers toward the relay: room for bursts at a few 100 Mbit/s. */
#define RELAY_SOCKBUF (4 * 1024 * 1024)
/* pbuf pieces sent in one sendmsg (plus the SOCKS header); a datagram of
 * more pieces (fragments reassembled by lwIP) is copied into one. */
#define RELAY_IOV_MAX 32

void
t2s_udp_assoc_relay_send(struct t2s_udp_assoc *a, const ip_addr_t *dst,
                         uint16_t port, struct pbuf *p)
{
    struct t2s_udp_assocs *as = a->as;
    uint8_t hdr[T2S_SOCKS5_UDP_HDR_MAX];
    struct iovec iov[RELAY_IOV_MAX + 1];
    struct msghdr msg;
    struct t2s_socks5_addr target;
    size_t hlen;
    long entry;
    int n = 1;

    entry = t2s_target_from_ip(as->fakeip, dst, port, &target);
    if (entry == -2) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped); /* stale fake address */
        return;
    }
    t2s_udp_assoc_dst_note(a, entry, dst, port);
    hlen = t2s_socks5_encode_udp_header(hdr, sizeof(hdr), &target);
    iov[0].iov_base = hdr;
    iov[0].iov_len = hlen;
    if (pbuf_clen(p) <= RELAY_IOV_MAX) {
        for (struct pbuf *q = p; q != NULL; q = q->next) {
            iov[n].iov_base = q->payload;
            iov[n].iov_len = q->len;
            n++;
        }
    } else {
        /* Never send a truncated datagram: one copy, the whole of it. */
        iov[1].iov_base = as->buf;
        iov[1].iov_len = pbuf_copy_partial(p, as->buf, p->tot_len, 0);
        n = 2;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    if (sendmsg(a->udp_fd, &msg, MSG_DONTWAIT) !=
        (ssize_t)(hlen + p->tot_len)) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped);
        return;
    }
    T2S_STAT_INC(&as->ctx->stats, udp_pkts_up);
    T2S_STAT_ADD(&as->ctx->stats, udp_bytes_up, p->tot_len);
}

/* One datagram from the relay (n bytes in as->buf) to the app. */
static void
relay_deliver(struct t2s_udp_assoc *a, size_t n)
{
    struct t2s_udp_assocs *as = a->as;
    struct t2s_stats *st = &as->ctx->stats;
    struct t2s_socks5_addr from;
    ip_addr_t src;
    size_t hlen;
    uint8_t frag;
    int rc;

    if (t2s_socks5_decode_udp_header(as->buf, n, &frag, &from, &hlen) !=
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
    t2s_udp_tx_send(as->tx, &a->app, a->app_port, &src, from.port,
                    as->buf + hlen, n - hlen);
}

static void
on_relay_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    ssize_t n;

    (void)loop;
    (void)revents;
    for (int i = 0; i < RELAY_READ_BUDGET; i++) {
        n = recv(a->udp_fd, a->as->buf, ASSOC_BUF_SIZE, MSG_DONTWAIT);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error we ignore */
        relay_deliver(a, (size_t)n);
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
        close(a->udp_fd);
        a->udp_fd = -1;
    }
}
