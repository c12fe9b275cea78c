/*
 * The UDP relay, lwIP's UDP side: one pcb receives every datagram the TUN
 * delivers (our lwIP patch) and dispatches it to the fake-ip resolver, DNS
 * over TCP or the DNS gateway (dns_relay.h) or an association (udp_assoc.h);
 * udp_tx sends the replies with any source address and port. It owns all of
 * that state; it shares only struct t2s_ctx with the other relays, and the
 * fake-ip pool is the instance's, lent at init. Nothing below includes
 * this header.
 */
#ifndef T2S_UDP_RELAY_H
#define T2S_UDP_RELAY_H

#include <stddef.h>

#include "session/ctx.h"
#include "udp/dns_relay.h"
#include "udp/udp_assoc.h"
#include "udp/udp_tx.h"

struct udp_pcb;
struct netif;
struct t2s_fakeip;

struct t2s_udp_relay {
    struct t2s_ctx *ctx;          /* NULL until t2s_udp_relay_init() */
    struct udp_pcb *rx;           /* receives every datagram */
    struct t2s_udp_tx tx;         /* sends replies "from" anywhere */
    struct t2s_udp_assocs assocs; /* UDP ASSOCIATE sessions */
    struct t2s_dns_relay dns;     /* fake-ip answers, DNS over TCP */
    int no_udp_logged; /* the proxy's protocol has no UDP: said once */
};

/*
 * max_conns: the instance's connection cap (the association cap derives
 * from it unless configured); fakeip: the instance's pool in fake-ip mode,
 * else NULL. Returns 0, or -1 with a message in err (the caller then calls
 * t2s_udp_relay_shutdown).
 */
int t2s_udp_relay_init(struct t2s_udp_relay *r, struct t2s_ctx *ctx,
                       struct netif *netif, struct t2s_fakeip *fakeip,
                       unsigned max_conns, char *err, size_t errlen);

/* Ends every association and query and frees the pcbs; the sessions'
 * memory goes in the next t2s_session_reap(). Idempotent. */
void t2s_udp_relay_shutdown(struct t2s_udp_relay *r);

#endif
