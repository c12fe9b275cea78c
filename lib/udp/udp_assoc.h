/*
 * UDP ASSOCIATE sessions: one per app source address and port (full cone:
 * every destination that socket talks to goes through the same
 * association, replies from any remote come back with that remote as
 * source). Each owns a control TCP connection and a UDP socket to the
 * relay; it ends on idle timeout, when the control connection closes, or
 * at shutdown, through one close path.
 */
#ifndef T2S_UDP_ASSOC_H
#define T2S_UDP_ASSOC_H

#include "lwip/pbuf.h"

#include "core/instance.h"
#include "udp/udp_io.h"

/* Forward one datagram (payload p, consumed) of flow f. */
void t2s_udp_assoc_input(struct t2s_instance *t, const struct t2s_udp_flow *f,
                         struct pbuf *p);

/* Close every association (shutdown). */
void t2s_udp_assoc_close_all(struct t2s_instance *t);

/* Free associations closed during this loop iteration. */
void t2s_udp_assoc_reap(struct t2s_instance *t);

#endif
