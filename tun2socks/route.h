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
#include "opts.h"

/* The script --route runs without --route-script and
 * $TUN2SOCKS_ROUTE_SCRIPT. */
extern const char t2s_route_default_script[];

/*
 * Fills what --route implies when not given (the DEFAULT_ values of
 * route.c): a fwmark, the TUN's IPv4 and IPv6 addresses, and for --dns tcp
 * the resolver from /etc/resolv.conf (the script is about to point it at the
 * TUN side). Runs nothing (--print-config uses it too). Returns 0, or -1 with
 * one line in err.
 */
int t2s_route_defaults(struct t2s_config *c, char *err, size_t errlen);

/*
 * "tun2socks-route up --no-start" for this process. c->proxy must be resolved.
 * Returns 0, or -1 with one line in err (the script printed its reason on
 * stderr).
 */
int t2s_route_up(const struct t2s_config *c, const struct t2s_opts *o,
                 char *err, size_t errlen);

/* "tun2socks-route down": restores routing and DNS. */
void t2s_route_down(const struct t2s_config *c, const struct t2s_opts *o);

#endif
