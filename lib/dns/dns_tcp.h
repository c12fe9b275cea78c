/*
 * DNS over TCP through the proxy (RFC 7766 framing): each query a UDP app
 * sent to port 53 is carried over a SOCKS5 CONNECT to the configured
 * resolver (or the query's own destination) and the answer is returned as
 * a datagram from the address the app asked. Used by --dns tcp, by fake-ip
 * for query types it does not answer itself, and as the fallback when the
 * proxy has no UDP ASSOCIATE.
 */
#ifndef T2S_DNS_TCP_H
#define T2S_DNS_TCP_H

#include "lwip/pbuf.h"

#include "core/instance.h"
#include "udp/udp_io.h"

/* Forward the query in p (consumed). */
void t2s_dns_tcp_query(struct t2s_instance *t, const struct t2s_udp_flow *f,
                       struct pbuf *p);

/* Abandon every query in flight (shutdown). */
void t2s_dns_tcp_close_all(struct t2s_instance *t);

#endif
