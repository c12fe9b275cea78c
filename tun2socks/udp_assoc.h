/*
 * UDP ASSOCIATE sessions: one per app source address and port (full cone:
 * every destination that socket talks to goes through the same
 * association, replies from any remote come back with that remote as
 * source). Each owns a control TCP connection and a UDP socket to the
 * relay; it ends on idle timeout, when the control connection closes, or
 * at shutdown, through one close path.
 */
#ifndef T2S_UDP_ASSOC_H
#define T2S_UDP_ASSOC_H

#include <sys/socket.h>

#include "lwip/pbuf.h"

#include "core.h"
#include "socks5.h"
#include "udp_io.h"

/* Forward one datagram (payload p, consumed) of flow f. */
void t2s_udp_assoc_input(struct t2s_instance *t, const struct t2s_udp_flow *f,
                         struct pbuf *p);

/*
 * Where relay datagrams go, from the UDP ASSOCIATE reply's BND and the
 * proxy's address: 0 with *ss and *len set, or -1 when BND is refused: a name,
 * port 0, multicast or broadcast, or a loopback or link-local address
 * while the proxy is not on one of that kind. An unspecified BND (0.0.0.0,
 * ::) means the proxy's own address (RFC 1928 practice, danted).
 */
int t2s_udp_assoc_relay_addr(const struct t2s_s5_addr *bnd,
                             const struct sockaddr_storage *proxy,
                             socklen_t proxy_len, struct sockaddr_storage *ss,
                             socklen_t *len);

/* Close every association (shutdown). */
void t2s_udp_assoc_close_all(struct t2s_instance *t);

/* Free associations closed during this loop iteration. */
void t2s_udp_assoc_reap(struct t2s_instance *t);

#endif
