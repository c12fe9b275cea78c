/*
 * The GSSAPI branch of the SOCKS5 method negotiation in upstream.c: the
 * greeting that offers method 0x01, and the RFC 1961 exchange (gssapi.h)
 * run between the method choice and the request. The struct t2s_gssapi
 * lives in up->gss from the method choice until the upstream is freed.
 */
#ifndef T2S_UPSTREAM_GSSAPI_IMPL_H
#define T2S_UPSTREAM_GSSAPI_IMPL_H

#include "upstream/upstream.h"

/* The SOCKS5 method number of GSSAPI (RFC 1928 §3). */
#define T2S_UPSTREAM_METHOD_GSSAPI 0x01

/* When up->proxy->gss_service is set: queues a greeting offering GSSAPI
 * (and username/password when there are credentials, and no
 * authentication) and returns 1; the request then waits for the exchange
 * (no pipelining). Otherwise 0 and nothing changes. */
int t2s_upstream_gssapi_greeting(struct t2s_upstream *up);

/* The proxy chose GSSAPI: starts the context (up->state becomes
 * T2S_UP_GSSAPI). T2S_UP_AGAIN, or T2S_UP_FAIL (FAIL_GSSAPI). */
int t2s_upstream_gssapi_begin(struct t2s_upstream *up);

/* Advances the exchange; T2S_UP_DONE once the request may be sent
 * (at integrity and confidentiality the wrapped request was sent and
 * its reply is in up->in), T2S_UP_AGAIN, or T2S_UP_FAIL. */
int t2s_upstream_gssapi_io(struct t2s_upstream *up, int fd, int *want);

/* After a granted request at integrity or confidentiality: the context,
 * now the caller's (the relay's per-message protection, tcp/tcp_gss.h);
 * NULL at level clear or without GSSAPI. */
struct t2s_gssapi *t2s_upstream_gssapi_take(struct t2s_upstream *up);

/* Frees up->gss and up->gss_err. */
void t2s_upstream_gssapi_free(struct t2s_upstream *up);

#endif
