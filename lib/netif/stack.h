/*
 * lwIP glue: the TUN netif, packet I/O between the TUN fd and lwIP, lwIP
 * timers on the libev loop, and the per-iteration flush. Loop thread only.
 */
#ifndef T2S_STACK_H
#define T2S_STACK_H

#include <stddef.h>

struct t2s_instance;

/* Initialises lwIP (once per process), the netif and the watchers. */
int t2s_stack_init(struct t2s_instance *t, char *err, size_t errlen);

/* Stops the watchers and removes the netif. */
void t2s_stack_shutdown(struct t2s_instance *t);

#endif
