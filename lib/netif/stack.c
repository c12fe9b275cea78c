/*
 * lwIP <-> TUN. Packets are read until EAGAIN (bounded per wakeup); large
 * ones straight into the pbuf lwIP gets, small ones joined per TCP flow
 * (gro.h) or copied into an exact-size pbuf. Output goes through tun_tx.h
 * (small packets batched until the end of the iteration). With a
 * virtio-net header on the TUN the kernel completes our TCP checksums. lwIP
 * timeouts, the output flush and the TUN batch run once per loop iteration
 * from an ev_prepare watcher.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

#include "core/mem.h"
#include "netif/gro.h"
#include "netif/stack.h"
#include "netif/tun_tx.h"
#include "session/session.h"
#include "tcp/tcp_relay.h"

/* Packets handled per TUN wakeup before other watchers get a turn. */
#define TUN_READ_BUDGET 256
/* Packets at least this big go to lwIP in the 64 KiB pbuf they were read
 * into (no copy); smaller ones are copied so that a segment lwIP holds
 * (out of order, or waiting for the proxy) does not pin a 64 KiB block. */
#define TUN_ZEROCOPY_MIN 16384
/* The largest IP packet, the size of every read. */
#define TUN_PKT_MAX 0xffff
static err_t
netif_output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)dst;
    t2s_tun_tx_write(&((struct t2s_stack *)netif->state)->tx, p);
    return ERR_OK;
}

static err_t
netif_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)dst;
    t2s_tun_tx_write(&((struct t2s_stack *)netif->state)->tx, p);
    return ERR_OK;
}

static err_t
netif_init_cb(struct netif *netif)
{
    struct t2s_stack *st = netif->state;

    netif->name[0] = 't';
    netif->name[1] = 'n';
    netif->output = netif_output4;
    netif->output_ip6 = netif_output6;
    netif->mtu = (u16_t)st->ctx->cfg->mtu;
    netif->flags = NETIF_FLAG_ACCEPT_ANY;
    return ERR_OK;
}

/* The pbuf the next packet is read into: a whole one, kept across reads
 * until a large packet takes it; NULL when memory is short. */
static struct pbuf *
rx_pbuf(struct t2s_stack *st)
{
    if (st->rx_spare == NULL)
        st->rx_spare = pbuf_alloc(PBUF_RAW, TUN_PKT_MAX, PBUF_RAM);
    return st->rx_spare;
}

/*
 * Whether a packet could make lwIP keep memory: anything but an
 * unfragmented TCP segment without payload (ACK, SYN, FIN, RST). Over the
 * memory budget only those get in: they are what returns memory (an ACK
 * frees what the app acknowledges, a RST a whole connection).
 */
static int
carries_data(const uint8_t *p, size_t n)
{
    size_t ip_len, hdr, doff;

    if (n >= 20 && (p[0] >> 4) == 4) {
        hdr = (size_t)(p[0] & 0x0f) * 4;
        ip_len = (size_t)p[2] << 8 | p[3];
        /* fragments (MF or an offset) go to reassembly */
        if (p[9] != 6 || ((p[6] & 0x3f) | p[7]) != 0)
            return 1;
    } else if (n >= 40 && (p[0] >> 4) == 6) {
        hdr = 40;
        ip_len = 40 + ((size_t)p[4] << 8 | p[5]);
        if (p[6] != 6) /* extension headers: not worth parsing here */
            return 1;
    } else {
        return 1;
    }
    if (hdr < 20 || ip_len > n || ip_len < hdr + 20)
        return 1;
    doff = (size_t)(p[hdr + 12] >> 4) * 4;
    return doff < 20 || ip_len != hdr + doff;
}

/* The packet at pkt (n bytes) in an exact-size pbuf; NULL when memory is
 * short. */
static struct pbuf *
copy_packet(struct t2s_stack *st, const uint8_t *pkt, size_t n)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);

    if (p == NULL) {
        T2S_STAT_INC(&st->ctx->stats, err_resource);
        return NULL;
    }
    memcpy(p->payload, pkt, n);
    return p;
}

static void
input(struct t2s_stack *st, struct pbuf *p)
{
    if (st->netif.input(p, &st->netif) != ERR_OK)
        pbuf_free(p);
}

/* GRO's batch buffer: a whole pbuf, reused while batches stay small. */
static void *
gro_alloc(void *arg, uint8_t **data)
{
    struct t2s_stack *st = arg;
    struct pbuf *p;

    if (st->gro_nspare > 0)
        p = st->gro_spare[--st->gro_nspare];
    else
        p = pbuf_alloc(PBUF_RAW, T2S_GRO_MAX, PBUF_RAM);
    if (p != NULL)
        *data = p->payload;
    return p;
}

/* A joined segment: large ones go to lwIP in their batch pbuf, small ones
 * are copied (the reason of TUN_ZEROCOPY_MIN). */
static void
gro_deliver(void *arg, void *buf, uint8_t *data, size_t len)
{
    struct t2s_stack *st = arg;
    struct pbuf *big = buf, *p;

    if (len >= TUN_ZEROCOPY_MIN) {
        pbuf_realloc(big, (u16_t)len);
        input(st, big);
        return;
    }
    p = copy_packet(st, data, len);
    if (st->gro_nspare < T2S_GRO_FLOWS)
        st->gro_spare[st->gro_nspare++] = big;
    else
        pbuf_free(big);
    if (p != NULL)
        input(st, p);
}

/* One packet from the TUN: 1 with *out set (NULL for a packet dropped or
 * joined to a GRO batch), 0 when the queue is empty, -1 when the TUN is
 * gone. */
static int
read_packet(struct t2s_stack *st, struct pbuf **out)
{
    struct pbuf *big = rx_pbuf(st);
    uint8_t *dst = big != NULL ? big->payload : st->tun_buf + T2S_VNET_HDR_MAX;
    /* The virtio-net header only says the checksum is partial, and lwIP
     * checks none (CHECKSUM_CHECK_* are off): read and ignore it. */
    struct iovec iov[2] = {{st->tun_buf, (size_t)st->vnet_len},
                           {dst, TUN_PKT_MAX}};
    ssize_t n;

    /* Reading into tun_buf, which TUN writes use: nothing may reach lwIP
     * between the read and this packet's input. */
    if (big == NULL)
        t2s_gro_flush(&st->gro);
    n = readv(st->tun_fd, iov, 2);
    *out = NULL;
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        t2s_err("TUN read failed: %s",
                n == 0 ? "end of file" : strerror(errno));
        return -1;
    }
    T2S_STAT_INC(&st->ctx->stats, tun_rx_packets);
    n -= st->vnet_len;
    if (n <= 0)
        return 1;
    if (t2s_mem_over() && carries_data(dst, (size_t)n)) {
        T2S_STAT_INC(&st->ctx->stats, mem_shed);
        return 1;
    }
    if (big != NULL && t2s_gro_add(&st->gro, dst, (size_t)n))
        return 1;
    if (big != NULL && n >= TUN_ZEROCOPY_MIN) {
        pbuf_realloc(big, (u16_t)n);
        st->rx_spare = NULL;
        *out = big;
        return 1;
    }
    *out = copy_packet(st, dst, (size_t)n);
    return 1;
}

/* Reads a burst; GRO batches are delivered at its end, whatever ends it. */
static void
on_tun_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_stack *st = w->data;
    struct pbuf *p;
    int rc = 1;

    (void)revents;
    for (int i = 0; i < TUN_READ_BUDGET && rc > 0; i++) {
        rc = read_packet(st, &p);
        if (rc < 0) {
            st->failed = 1;
            ev_break(loop, EVBREAK_ALL);
        }
        if (p != NULL)
            input(st, p);
    }
    t2s_gro_flush(&st->gro);
}

static void
on_lwip_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    /* the work happens in on_prepare, which runs before the next block */
}

static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct t2s_stack *st = w->data;
    u32_t sleep_ms;

    (void)revents;
    sys_check_timeouts();
    t2s_tcp_relay_flush(st->tcp);
    t2s_session_reap(st->ctx);
    /* everything this iteration produced, in one batch */
    t2s_tun_tx_flush(&st->tx);
    sleep_ms = sys_timeouts_sleeptime();
    ev_timer_stop(loop, &st->lwip_timer);
    if (sleep_ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
        ev_timer_set(&st->lwip_timer, sleep_ms / 1000.0, 0.);
        ev_timer_start(loop, &st->lwip_timer);
    }
}

static int lwip_initialised;

static int
add_netif(struct t2s_stack *st)
{
    ip4_addr_t addr, mask, gw;
    ip6_addr_t addr6;

    /* lwIP needs some IPv4 address to route; it never shows on the wire
     * unless an app connects to it, and then it is proxied like any. */
    IP4_ADDR(&addr, 198, 18, 255, 254);
    IP4_ADDR(&mask, 255, 255, 255, 255);
    ip4_addr_set_zero(&gw);
    if (netif_add(&st->netif, &addr, &mask, &gw, st, netif_init_cb, ip_input) ==
        NULL)
        return -1;
    IP6_ADDR(&addr6, PP_HTONL(0xfd00ffffUL), 0, 0, PP_HTONL(0xfffeUL));
    netif_ip6_addr_set(&st->netif, 0, &addr6);
    netif_ip6_addr_set_state(&st->netif, 0, IP6_ADDR_PREFERRED);
    /* With a virtio-net header the kernel completes TCP checksums
     * (t2s_vnet_tcp_out()); lwIP still sums everything else. */
    if (st->vnet_len > 0)
        NETIF_SET_CHECKSUM_CTRL(&st->netif, NETIF_CHECKSUM_ENABLE_ALL &
                                                ~NETIF_CHECKSUM_GEN_TCP);
    netif_set_default(&st->netif);
    netif_set_link_up(&st->netif);
    netif_set_up(&st->netif);
    return 0;
}

int
t2s_stack_init(struct t2s_stack *st, struct t2s_ctx *ctx,
               struct t2s_tcp_relay *tcp, int tun_fd, int vnet_len, char *err,
               size_t errlen)
{
    st->ctx = ctx;
    st->tcp = tcp;
    st->tun_fd = tun_fd;
    st->vnet_len = vnet_len;
    st->tun_buf = t2s_mem_alloc(T2S_TUN_BUF_SIZE);
    if (st->tun_buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (t2s_tun_tx_init(&st->tx, ctx, tun_fd, vnet_len, st->tun_buf) < 0) {
        snprintf(err, errlen, "out of memory");
        t2s_stack_shutdown(st);
        return -1;
    }
    if (!lwip_initialised) {
        lwip_init();
        lwip_initialised = 1;
    }
    if (add_netif(st) < 0) {
        snprintf(err, errlen, "cannot set up the lwIP stack");
        t2s_stack_shutdown(st);
        return -1;
    }
    t2s_gro_init(&st->gro, &(struct t2s_gro_ops){gro_alloc, gro_deliver, st},
                 TUN_ZEROCOPY_MIN);
    ev_io_init(&st->tun_watcher, on_tun_readable, st->tun_fd, EV_READ);
    st->tun_watcher.data = st;
    ev_io_start(st->ctx->loop, &st->tun_watcher);
    ev_init(&st->lwip_timer, on_lwip_timer);
    ev_prepare_init(&st->prepare, on_prepare);
    st->prepare.data = st;
    ev_prepare_start(st->ctx->loop, &st->prepare);
    return 0;
}

void
t2s_stack_shutdown(struct t2s_stack *st)
{
    if (st->ctx == NULL)
        return;
    ev_io_stop(st->ctx->loop, &st->tun_watcher);
    ev_timer_stop(st->ctx->loop, &st->lwip_timer);
    ev_prepare_stop(st->ctx->loop, &st->prepare);
    if (st->rx_spare != NULL) {
        pbuf_free(st->rx_spare);
        st->rx_spare = NULL;
    }
    while (st->gro_nspare > 0)
        pbuf_free(st->gro_spare[--st->gro_nspare]);
    if (st->netif.state == st) {
        netif_remove(&st->netif);
        st->netif.state = NULL;
    }
    t2s_tun_tx_close(&st->tx);
    t2s_mem_free(st->tun_buf);
    st->tun_buf = NULL;
    st->ctx = NULL;
}

void
t2s_stack_flush(struct t2s_stack *st)
{
    t2s_tun_tx_flush(&st->tx);
}

void
t2s_stack_start(struct t2s_stack *st)
{
    t2s_tun_tx_start(&st->tx);
}

int
t2s_stack_failed(const struct t2s_stack *st)
{
    return st->failed;
}

struct netif *
t2s_stack_netif(struct t2s_stack *st)
{
    return &st->netif;
}
