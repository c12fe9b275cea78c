/*
 * The instance behind the embedding API: it owns the shared context, the
 * stack (netif/stack.h) and the TCP relay (tcp/tcp_relay.h), which keep
 * their own state, and the UDP and DNS state below. Not part of the
 * public API.
 */
#ifndef T2S_CORE_H
#define T2S_CORE_H

#include <ev.h>
#include <stdint.h>

#include "config/config.h"
#include "session/ctx.h"
#include "core/log.h"
#include "core/stats.h"
#include "netif/stack.h"
#include "tcp/tcp_relay.h"
#include "tun/tun.h"
#include "udp/udp_relay.h"
#include "upstream/protect.h"

struct t2s_fakeip;
struct t2s_stats_socket;
struct pbuf;

struct t2s_instance {
    struct t2s_ctx ctx;       /* shared with every module; the loop
                                 is owned here */
    struct t2s_config cfg;    /* copy of the caller's config */
    int tun_fd;               /* raw IP packets */
    int tun_owned;            /* we opened tun_fd and close it */
    int tun_vnet_len;         /* virtio-net header per packet, or 0 */
    int tun_offload;          /* T2S_TUN_OFFLOAD_* on (tun.h) */
    struct t2s_stack stack;   /* TUN <-> lwIP (netif/stack.h) */
    struct t2s_tcp_relay tcp; /* the TCP relay (tcp/tcp_relay.h) */
    ev_async stop_async;      /* t2s_stop() */
    ev_async stats_async;     /* t2s_request_stats_log() */
    int broken;               /* lwIP assertion: destroy only */
    unsigned max_conns;       /* effective TCP connection cap (UDP's cap
                                 derives from it) */
    uint8_t *scratch;         /* T2S_SCRATCH_SIZE bytes, lent to the TCP
                                 relay */

    struct t2s_udp_relay udp;            /* UDP and DNS (udp/) */
    struct t2s_fakeip *fakeip;           /* fake-ip mode only: created here,
                                            lent to the relays and target.c */
    struct t2s_protect protect;          /* --protect-path client; cfg.protect
                                            points here when the path is set */
    struct t2s_stats_socket *stats_sock; /* --stats-socket, or NULL */
    struct t2s_proxy_pool pool;          /* the proxies' state (ctx.pool
                                            points here once initialised) */
};

/*
 * For the program only (tun2socks/), not in the public API:
 *
 * In a child of fork() that will run t: gives it its own loop backend
 * (libev's ev_loop_fork). The parent must not use t afterwards, except
 * t2s_instance_clear_secrets().
 */
void t2s_instance_after_fork(struct t2s_instance *t);

/* Zeroes the proxy credentials held by t (a process that will not run it). */
void t2s_instance_clear_secrets(struct t2s_instance *t);

#endif
