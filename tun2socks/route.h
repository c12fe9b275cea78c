/*
 * --route: whole-machine routing done by the same tun2socks-route script
 * users run by hand (one implementation of the rules, the exclusions, the
 * DNS handling and the exact restore). The program runs it with
 * --no-start after the TUN exists and runs "down" at exit.
 */
#ifndef T2S_ROUTE_H
#define T2S_ROUTE_H

#include <stddef.h>

#include "config/config.h"

/*
 * Runs "tun2socks-route down" (clears what a killed run left), then fills
 * what --route implies when not given: fwmark 0x7331, TUN addresses
 * 198.18.0.1/30 and fd00:18::1/64, and for --dns tcp the resolver from
 * /etc/resolv.conf (the script is about to point it at the TUN side).
 * Returns 0, or -1 with one line in err.
 */
int t2s_route_prepare(struct t2s_config *c, char *err, size_t errlen);

/*
 * "tun2socks-route up --no-start" for this process. c->proxy must be resolved.
 * Returns 0, or -1 with one line in err (the script printed its reason on
 * stderr).
 */
int t2s_route_up(const struct t2s_config *c, char *err, size_t errlen);

/* "tun2socks-route down": restores routing and DNS. */
void t2s_route_down(const struct t2s_config *c);

#endif
