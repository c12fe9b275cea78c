/*
 * Whether tun2socks, running as root, may run a route-script named by a
 * config file: only if the file and every directory above it belong to
 * root and no one else can write to them (a sticky directory such as /tmp
 * counts as safe). A script given on the command line is the caller's
 * choice and is not checked.
 */
#ifndef T2S_ROUTE_TRUST_H
#define T2S_ROUTE_TRUST_H

#include <stddef.h>

#include "opts.h"

/*
 * Returns 0 when that holds, when the script did not come from a config
 * file, or when not running as root; -1 with one line in err otherwise.
 */
int t2s_route_trust_check(const struct t2s_opts *o, char *err, size_t errlen);

#endif
