/*
 * Proxy address resolution: the one place of lib/config that may block
 * (getaddrinfo for a host name). Called by t2s_create() and by the program
 * before --route.
 */
#ifndef T2S_PROXY_ADDR_H
#define T2S_PROXY_ADDR_H

#include <stddef.h>

#include "config/proxy_url.h"

/*
 * Resolve p->host into p->addr (numeric first, then getaddrinfo).
 * Rejects unspecified, multicast and broadcast addresses. Returns 0 or -1
 * with one line in err.
 */
int t2s_proxy_addr_resolve(struct t2s_proxy *p, char *err, size_t errlen);

#endif
