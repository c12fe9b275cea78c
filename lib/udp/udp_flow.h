/*
 * One datagram's addresses, shared by the UDP dispatcher (udp_relay), the
 * associations (udp_assoc) and the DNS relay (dns_*): the lowest UDP header,
 * it includes nothing of theirs.
 */
#ifndef T2S_UDP_FLOW_H
#define T2S_UDP_FLOW_H

#include <stdint.h>

#include "lwip/ip_addr.h"

/* One datagram's addresses: the app's socket and where it sent to. */
struct t2s_udp_flow {
    ip_addr_t app;
    ip_addr_t dst;
    uint16_t app_port;
    uint16_t dst_port;
};

/* True for a destination port 53 flow. */
#define T2S_UDP_IS_DNS(f) ((f)->dst_port == 53)

#endif
