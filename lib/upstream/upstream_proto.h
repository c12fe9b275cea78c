/*
 * Internal to upstream/: the SOCKS4, SOCKS4a and HTTP CONNECT steps of the
 * handshake driver (upstream_proto.c), and what they share with the SOCKS5
 * driver in upstream.c. Not for other layers: they use upstream.h.
 */
#ifndef T2S_UPSTREAM_PROTO_H
#define T2S_UPSTREAM_PROTO_H

#include "upstream/upstream.h"

/* s5_status of a request that could not be written (see
 * t2s_upstream_proto_request) */
#define T2S_UP_UNSENDABLE 100

/* Whether the proxy speaks SOCKS5 (socks5:// or socks5h://). */
int t2s_upstream_proto_is_socks5(const struct t2s_proxy *p);

/* t2s_upstream_refusal() (upstream.h) for every scheme. */
const char *t2s_upstream_proto_refusal(const struct t2s_proxy *proxy,
                                       const struct t2s_socks5_addr *dst);

/* Queues the scheme's one request for up->dst in up->out. 0 when dst
 * cannot be written (a name with bytes the protocol cannot carry): then
 * nothing is queued and the first t2s_upstream_io() fails. */
size_t t2s_upstream_proto_request(struct t2s_upstream *up);

/* The reply in up->in: T2S_UP_AGAIN (read more), DONE (what is left in
 * up->in is the tunnel's), or FAIL (through t2s_upstream_fail()). */
int t2s_upstream_proto_parse(struct t2s_upstream *up);

/* The one-line failure text for these schemes (CONNECT/IO failures are
 * upstream.c's); never the credentials. */
void t2s_upstream_proto_describe(const struct t2s_upstream *up, char *buf,
                                 size_t len);

/* upstream.c: records a failure (kind, codec status or errno) and clears
 * the unsent bytes; returns T2S_UP_FAIL. */
int t2s_upstream_fail(struct t2s_upstream *up, int kind, int err);

/* upstream.c: drops the first n bytes of up->in. */
void t2s_upstream_consume(struct t2s_upstream *up, size_t n);

#endif
