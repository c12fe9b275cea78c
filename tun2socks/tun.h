/*
 * TUN device: create/attach by name, configure (MTU, addresses, link up),
 * non-blocking raw IP packet I/O (IFF_NO_PI). Linux only.
 */
#ifndef T2S_TUN_H
#define T2S_TUN_H

#include <stddef.h>

/*
 * Creates the TUN device `name`, or attaches to an existing persistent one.
 * Returns the non-blocking fd, or -1 with one line in err (a permission
 * problem is named as such).
 */
int t2s_tun_open(const char *name, char *err, size_t errlen);

/*
 * Sets the MTU, assigns ipv4/ipv6 ("ADDR/PREFIX", NULL or "" to skip; an
 * address already present is fine) and brings the link up.
 */
int t2s_tun_configure(const char *name, int mtu, const char *ipv4,
                      const char *ipv6, char *err, size_t errlen);

/* Makes fd non-blocking and close-on-exec. Returns 0 or -1 (errno set). */
int t2s_fd_nonblock(int fd);

#endif
