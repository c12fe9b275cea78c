/*
 * DNS over TCP through the proxy (RFC 7766 framing): each query a UDP app
 * sent to port 53 is carried over a SOCKS5 CONNECT to the configured
 * resolver (or the query's own destination) and the answer is returned as
 * a datagram from the address the app asked. Used by --dns tcp, by fake-ip
 * for query types it does not answer itself, and as the fallback when the
 * proxy has no UDP ASSOCIATE.
 *
 * Each query is a session (session/session.h) on the live list of the
 * struct t2s_dns_tcp that owns it; the DNS relay (dns_relay.h) owns that.
 */
#ifndef T2S_DNS_TCP_H
#define T2S_DNS_TCP_H

#include "lwip/pbuf.h"

#include "session/ctx.h"
#include "core/list.h"
#include "udp/udp_flow.h"
#include "udp/udp_tx.h"

struct t2s_fakeip;

/* The queries in flight and what they need. */
struct t2s_dns_tcp {
    struct t2s_ctx *ctx;
    struct t2s_udp_tx *tx;     /* answers go to the app here */
    struct t2s_fakeip *fakeip; /* the instance's, fake-ip mode only */
    struct t2s_list live;      /* queries in flight */
    unsigned count;            /* length of live */
};

void t2s_dns_tcp_init(struct t2s_dns_tcp *d, struct t2s_ctx *ctx,
                      struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip);

/* Abandons every query in flight (freed by t2s_session_reap). */
void t2s_dns_tcp_shutdown(struct t2s_dns_tcp *d);

/* Forward the query in p (consumed). */
void t2s_dns_tcp_query(struct t2s_dns_tcp *d, const struct t2s_udp_flow *f,
                       struct pbuf *p);

#endif
