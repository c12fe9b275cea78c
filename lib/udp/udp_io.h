/*
 * lwIP's UDP side: one pcb receives every datagram the TUN delivers (our
 * lwIP patch), dispatches it (fake DNS, DNS over TCP, or an association),
 * and one unbound pcb sends replies with any source address and port.
 */
#ifndef T2S_UDP_IO_H
#define T2S_UDP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#include "core/instance.h"

/* One datagram's addresses: the app's socket and where it sent to. */
struct t2s_udp_flow {
    ip_addr_t app;
    ip_addr_t dst;
    uint16_t app_port;
    uint16_t dst_port;
};

int t2s_udp_init(struct t2s_instance *t, char *err, size_t errlen);

/* Ends every association and query and frees the pcbs. */
void t2s_udp_shutdown(struct t2s_instance *t);

/* Sends len bytes to the app as a datagram from (src, sport). */
void t2s_udp_to_app(struct t2s_instance *t, const ip_addr_t *app,
                    uint16_t app_port, const ip_addr_t *src, uint16_t sport,
                    const uint8_t *data, size_t len);

/* Hash buckets for associations (a power of two). */
#define T2S_UDP_TABLE_SIZE 4096

/* True for a destination port 53 flow. */
#define T2S_UDP_IS_DNS(f) ((f)->dst_port == 53)

#endif
