/*
 * The SOCKS target for an app's original destination: the address itself,
 * or in fake-ip mode the domain name a fake address stands for. And the
 * reverse for UDP replies: the address an app expects a reply from.
 */
#ifndef T2S_TARGET_H
#define T2S_TARGET_H

#include "lwip/ip_addr.h"

#include "codec/socks5.h"

struct t2s_fakeip;

/*
 * fakeip: the instance's pool in fake-ip mode, else NULL.
 *
 * Fill a for (ip, port). Returns the fake-ip entry used (>= 0, the caller
 * may t2s_fakeip_ref() it), -1 for a plain address, or -2 when ip is a
 * fake address with no name behind it (stale: refuse the flow).
 */
long t2s_target_from_ip(struct t2s_fakeip *fakeip, const ip_addr_t *ip,
                        uint16_t port, struct t2s_socks5_addr *a);

/*
 * The address a reply from SOCKS address a appears to come from, in the
 * family of the app (v6 non-zero for IPv6). A domain name maps back to its
 * fake address in fake-ip mode. Returns 0, or -1 when there is no such
 * address (unknown name, family mismatch).
 */
int t2s_target_to_ip(struct t2s_fakeip *fakeip, const struct t2s_socks5_addr *a,
                     int v6, ip_addr_t *ip);

#endif
