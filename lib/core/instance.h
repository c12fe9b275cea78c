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
#include "core/ctx.h"
#include "core/log.h"
#include "core/stats.h"
#include "netif/stack.h"
#include "tcp/tcp_relay.h"
#include "tun/tun.h"

struct t2s_udp_assoc;
struct t2s_dns_tcp;
struct t2s_fakeip;
struct udp_pcb;
struct pbuf;

struct t2s_instance {
    struct t2s_ctx ctx;       /* shared with every module; the loop
                                 is owned here */
    struct t2s_config cfg;    /* copy of the caller's config */
    int tun_fd;               /* raw IP packets */
    int tun_owned;            /* we opened tun_fd and close it */
    int tun_vnet_len;         /* virtio-net header per packet, or 0 */
    struct t2s_stack stack;   /* TUN <-> lwIP (netif/stack.h) */
    struct t2s_tcp_relay tcp; /* the TCP relay (tcp/tcp_relay.h) */
    ev_async stop_async;      /* t2s_stop() */
    ev_async stats_async;     /* t2s_request_stats_log() */
    unsigned max_conns;       /* effective TCP connection cap (UDP's cap
                                 derives from it) */
    uint8_t *scratch;         /* T2S_SCRATCH_SIZE bytes, lent to the TCP
                                 relay and the UDP associations */

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
