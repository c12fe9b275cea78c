/*
 * The DNS gateway (--dns-gateway, shadowsocks-android's --dnsgw): every
 * UDP query an app sends to port 53 goes from a plain UDP socket straight
 * to the configured server, not through the proxy, and each reply comes
 * back into the TUN as a datagram from the address the app asked.
 *
 * One flow per (app address and port, destination address and port): a
 * session (session/session.h, t2s_session_adopt) that owns a connected UDP
 * socket; later queries of the same flow reuse it, and it ends after
 * dns-timeout without traffic, or for a new one when DNS_GW_MAX are open
 * (the one idle the longest). Counted in
 * dns_gw / dns_gw_failed. The socket passes t2s_upstream_prepare() (fwmark,
 * interface, the socket hook) like every socket that leaves the machine.
 * The DNS relay (dns_relay.h) owns struct t2s_dns_gw.
 */
#ifndef T2S_DNS_GW_H
#define T2S_DNS_GW_H

#include <stdint.h>

#include "lwip/pbuf.h"

#include "core/list.h"
#include "session/ctx.h"
#include "udp/udp_flow.h"
#include "udp/udp_tx.h"

struct t2s_dns_gw {
    struct t2s_ctx *ctx;
    struct t2s_udp_tx *tx; /* replies go to the app here */
    struct t2s_list live;  /* flows open now */
    unsigned count;        /* length of live */
    uint8_t *buf;          /* one datagram in or out; allocated with the
                              first flow, freed at shutdown */
};

void t2s_dns_gw_init(struct t2s_dns_gw *g, struct t2s_ctx *ctx,
                     struct t2s_udp_tx *tx);

/* Ends every flow (freed by t2s_session_reap) and frees the buffer. */
void t2s_dns_gw_shutdown(struct t2s_dns_gw *g);

/* Whether --dns-gateway is set. */
int t2s_dns_gw_enabled(const struct t2s_dns_gw *g);

/* Sends the query in p (consumed) to the gateway for flow f. */
void t2s_dns_gw_query(struct t2s_dns_gw *g, const struct t2s_udp_flow *f,
                      struct pbuf *p);

#endif
