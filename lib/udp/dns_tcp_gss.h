/*
 * DNS over TCP through a proxy that granted GSSAPI integrity or
 * confidentiality (upstream/gssapi.h): the framed query goes out as one
 * RFC 1961 message, the framed answer comes back in one or more, whose
 * plaintext is gathered until the answer is whole. Used by dns_tcp.c only
 * for such a query; allocated only then (about 128 KiB while it runs).
 */
#ifndef T2S_DNS_TCP_GSS_H
#define T2S_DNS_TCP_GSS_H

#include <stddef.h>
#include <stdint.h>

#include "upstream/upstream.h"

struct t2s_dns_tcp_gss;

/* After the handshake: when up holds a protecting context, takes it and
 * replaces *buf (len bytes, a t2s_mem_alloc()ed framed query) by its
 * wrapped message. *out NULL when there is nothing to protect. -1 on a
 * failure (no memory, wrap). */
int t2s_dns_tcp_gss_start(struct t2s_dns_tcp_gss **out, struct t2s_upstream *up,
                          uint8_t **buf, size_t *len);

/* Reads what fd has: 1 when a whole framed answer is at *ans (*ans_len
 * bytes, the 2-byte length included; owned by gs), 0 to wait, -1 on an
 * error or EOF. */
int t2s_dns_tcp_gss_recv(struct t2s_dns_tcp_gss *gs, int fd,
                         const uint8_t **ans, size_t *ans_len);

void t2s_dns_tcp_gss_free(struct t2s_dns_tcp_gss *gs);

#endif
