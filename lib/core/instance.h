/*
 * The instance behind the embedding API, shared by the modules that run in
 * the loop thread (stack, tcp_session, upstream). Not part of the public API.
 */
#ifndef T2S_CORE_H
#define T2S_CORE_H

#include <ev.h>
#include <stdint.h>

#include "lwip/netif.h"

#include "buf/blkq.h"
#include "config/config.h"
#include "core/ctx.h"
#include "core/log.h"
#include "core/stats.h"
#include "tun/tun.h"
#include "tcp_ext.h"

struct t2s_tcp_session;
struct t2s_udp_assoc;
struct t2s_dns_tcp;
struct t2s_fakeip;
struct udp_pcb;
struct pbuf;

/* Proxy -> app reads go through this buffer when the block pool's budget
 * is spent (tcp_write copies then). */
#define T2S_SCRATCH_SIZE (256 * 1024)
/* Proxy bytes lwIP references without a copy (blkq.h): at most this many
 * blocks in use (64 MiB), and this many kept free for reuse (4 MiB). */
#define T2S_BLK_BUDGET 1024
#define T2S_BLK_CACHE 64
/* The largest packet plus the largest virtio-net header we accept. */
#define T2S_TUN_BUF_SIZE (65536 + T2S_VNET_HDR_MAX)

struct t2s_instance {
    struct t2s_ctx ctx;    /* shared with every module; the loop
                              is owned here */
    struct t2s_config cfg; /* copy of the caller's config */
    int tun_fd;            /* raw IP packets */
    int tun_owned;         /* we opened tun_fd and close it */
    int tun_vnet_len;      /* virtio-net header per packet, or 0 */
    struct netif netif;    /* the lwIP side of the TUN */
    struct t2s_tcp_ext_listener listener; /* every SYN */
    ev_io tun_watcher;                    /* TUN readable */
    ev_timer lwip_timer;                  /* next lwIP timeout */
    ev_prepare prepare;               /* per-iteration flush, frees, timers */
    ev_async stop_async;              /* t2s_stop() */
    ev_async stats_async;             /* t2s_request_stats_log() */
    int fatal;                        /* t2s_run() returns -1 */
    unsigned max_conns;               /* effective connection cap */
    struct t2s_tcp_session *sessions; /* registry: every live session */
    struct t2s_tcp_session *dirty;    /* sessions with output to flush */
    struct t2s_tcp_session *dead;     /* closed, freed after the iteration */
    struct t2s_tcp_session *mem_waiters; /* reads paused by the budget */
    ev_tstamp orphan_check_at;           /* next t2s_tcp_ext_orphans() */
    uint8_t *scratch;                    /* T2S_SCRATCH_SIZE bytes */
    struct t2s_blkpool blkpool;          /* blocks for proxy -> app bytes */
    uint8_t *tun_buf;                    /* one packet: T2S_TUN_BUF_SIZE */
    struct pbuf *rx_spare;               /* next TUN read goes here (stack.c) */

    /* UDP and DNS (udp_io.c, udp_assoc.c, dns_tcp.c, dns_local.c) */
    struct udp_pcb *udp_rx;           /* receives every datagram */
    struct udp_pcb *udp_tx;           /* sends replies "from" anywhere */
    struct t2s_udp_assoc **udp_table; /* by app address and port */
    struct t2s_udp_assoc *udp_list;   /* every live association */
    struct t2s_udp_assoc *udp_dead;   /* closed, freed after iteration */
    unsigned udp_count;               /* live associations */
    unsigned max_udp;                 /* effective association cap */
    struct t2s_dns_tcp *dns_tcp_list; /* DNS-over-TCP queries in flight */
    unsigned dns_tcp_count;
    struct t2s_fakeip *fakeip;    /* fake-ip mode only */
    int udp_unsupported;          /* proxy refused UDP ASSOCIATE */
    ev_tstamp udp_unsupported_at; /* when we learnt it (retry later) */
};

#endif
