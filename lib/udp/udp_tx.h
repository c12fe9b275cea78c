/*
 * Datagrams to the app: one unbound lwIP pcb sends each with any source
 * address and port (the remote the app expects the reply from). Owned by
 * the UDP relay (udp_relay.c); the associations and the DNS relay are
 * handed a pointer and only send through it.
 */
#ifndef T2S_UDP_TX_H
#define T2S_UDP_TX_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#include "core/stats.h"

struct udp_pcb;
struct netif;

struct t2s_udp_tx {
    struct udp_pcb *pcb;     /* unbound: the source is given per datagram */
    struct netif *netif;     /* the TUN's */
    struct t2s_stats *stats; /* udp_dropped */
};

/* Returns 0, or -1 when out of memory. */
int t2s_udp_tx_init(struct t2s_udp_tx *tx, struct netif *netif,
                    struct t2s_stats *stats);

void t2s_udp_tx_shutdown(struct t2s_udp_tx *tx);

/* Sends len bytes to (app, app_port) as a datagram from (src, sport). */
void t2s_udp_tx_send(struct t2s_udp_tx *tx, const ip_addr_t *app,
                     uint16_t app_port, const ip_addr_t *src, uint16_t sport,
                     const uint8_t *data, size_t len);

#endif
