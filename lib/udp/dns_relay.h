/*
 * The DNS relay: what answers the app's port-53 datagrams without a UDP
 * association. It owns the DNS-over-TCP queries in flight (dns_tcp), the
 * fake-ip resolver's settings (dns_local) and the DNS gateway's flows
 * (dns_gw); the UDP dispatcher
 * (udp/udp_relay.c) decides which of them gets a datagram. Shares only
 * struct t2s_ctx with the other relays; the fake-ip pool is the
 * instance's, lent here.
 */
#ifndef T2S_DNS_RELAY_H
#define T2S_DNS_RELAY_H

#include "session/ctx.h"
#include "udp/dns_gw.h"
#include "udp/dns_local.h"
#include "udp/dns_tcp.h"
#include "udp/udp_tx.h"

struct t2s_fakeip;

struct t2s_dns_relay {
    struct t2s_dns_tcp tcp;     /* DNS-over-TCP queries in flight */
    struct t2s_dns_local local; /* fake-ip answers */
    struct t2s_dns_gw gw;       /* --dns-gateway flows */
};

/* fakeip: the instance's pool in fake-ip mode, else NULL. */
void t2s_dns_relay_init(struct t2s_dns_relay *r, struct t2s_ctx *ctx,
                        struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip);

/* Abandons every query and gateway flow (their memory goes in
 * t2s_session_reap). */
void t2s_dns_relay_shutdown(struct t2s_dns_relay *r);

#endif
