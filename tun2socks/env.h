/*
 * Credentials and the proxy from outside the command line: TUN2SOCKS_PROXY
 * when no proxy URL was given, then, for every proxy whose URL has no
 * credentials, --proxy-auth-file, else TUN2SOCKS_PROXY_AUTH ('user:pass')
 * (the same credentials for each of those proxies). Reads the
 * environment and one small file; never prints.
 */
#ifndef T2S_ENV_H
#define T2S_ENV_H

#include <stddef.h>

#include "config/config.h"

/* Returns 0 or -1 with one line in err (never the credentials). */
int t2s_env_apply(struct t2s_config *c, char *err, size_t errlen);

#endif
