/*
 * The address UDP relay datagrams go to, chosen from the SOCKS5 UDP
 * ASSOCIATE reply (RFC 1928 section 6, BND.ADDR/BND.PORT) and the proxy's
 * own address. Pure: no I/O, no allocation.
 */
#ifndef T2S_RELAY_ADDR_H
#define T2S_RELAY_ADDR_H

#include <sys/socket.h>

#include "codec/socks5.h"

/*
 * From BND (bnd) and the proxy's address (proxy, proxy_len): 0 with *ss
 * and *len set, or -1 when BND is refused: a name, port 0, multicast or
 * broadcast, or a loopback or link-local address while the proxy is not on
 * an address of that kind. An unspecified BND (0.0.0.0, ::) means the
 * proxy's own address (RFC 1928 practice, danted). A link-local IPv6 BND
 * takes the proxy's scope id.
 */
int t2s_relay_addr_pick(const struct t2s_socks5_addr *bnd,
                        const struct sockaddr_storage *proxy,
                        socklen_t proxy_len, struct sockaddr_storage *ss,
                        socklen_t *len);

#endif
