/*
 * lwIP glue: the TUN netif, packet I/O between the TUN fd and lwIP, lwIP
 * timers on the libev loop, and the work of every loop iteration (lwIP
 * timeouts, the TCP relay's flush, the reaps). The stack owns its state;
 * the instance embeds it and calls only the functions below. Loop thread
 * only.
 */
#ifndef T2S_STACK_H
#define T2S_STACK_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"

#include "netif/gro.h"
#include "netif/tun_tx.h"
#include "session/ctx.h"
#include "tun/tun.h"

struct t2s_tcp_relay;
struct pbuf;

/* The largest packet plus the largest virtio-net header we accept. */
#define T2S_TUN_BUF_SIZE (65536 + T2S_VNET_HDR_MAX)

struct t2s_stack {
    struct t2s_ctx *ctx;       /* shared; NULL until init */
    struct t2s_tcp_relay *tcp; /* flushed every iteration */
    int tun_fd;                /* raw IP packets; the instance's */
    int vnet_len;              /* virtio-net header per packet, or 0 */
    int failed;                /* the TUN is gone: the loop was stopped */
    struct netif netif;        /* the lwIP side of the TUN */
    ev_io tun_watcher;         /* TUN readable */
    ev_timer lwip_timer;       /* next lwIP timeout */
    ev_prepare prepare;        /* per-iteration flush, frees, timers */
    uint8_t *tun_buf;          /* one packet: T2S_TUN_BUF_SIZE */
    struct pbuf *rx_spare;     /* next TUN read goes here */
    struct t2s_tun_tx tx;      /* lwIP's output, batched */
    struct t2s_gro gro;        /* joins a burst's TCP segments */
    struct pbuf *gro_spare[T2S_GRO_FLOWS]; /* GRO buffers to reuse */
    int gro_nspare;                        /* in gro_spare */
};

/*
 * Initialises lwIP (once per process), the netif on tun_fd (vnet_len:
 * its virtio-net header size) and the watchers. tcp is flushed once per
 * iteration (it may be
 * initialised later, before the loop runs). st is zeroed before. Returns
 * 0, or -1 with one line in err.
 */
int t2s_stack_init(struct t2s_stack *st, struct t2s_ctx *ctx,
                   struct t2s_tcp_relay *tcp, int tun_fd, int vnet_len,
                   char *err, size_t errlen);

/* Stops the watchers and removes the netif. Idempotent. */
void t2s_stack_shutdown(struct t2s_stack *st);

/* Writes the packets lwIP produced since the last loop iteration's
 * flush (the loop is about to stop: no ev_prepare will). */
void t2s_stack_flush(struct t2s_stack *st);

/* In the loop's thread, before the loop runs (t2s_run()): what must
 * belong to that thread, the TUN writer's io_uring ring. */
void t2s_stack_start(struct t2s_stack *st);

/* Nonzero once reading the TUN failed (t2s_run() returns -1). */
int t2s_stack_failed(const struct t2s_stack *st);

/* The netif, for sending UDP replies with udp_sendto_if_src(). */
struct netif *t2s_stack_netif(struct t2s_stack *st);

#endif
