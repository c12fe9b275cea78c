/*
 * Proxy -> app: bytes are read from the proxy socket only while lwIP has
 * send buffer, straight into blocks (blkq.h) that lwIP's segments
 * reference until the app acknowledges them; when the pool's budget is
 * spent, or before a session has shown bulk traffic, through the relay's
 * scratch buffer that tcp_write() copies. Internal to lib/tcp/.
 */
#ifndef T2S_TCP_TO_APP_H
#define T2S_TCP_TO_APP_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/tcp.h"

struct t2s_tcp_session;

/* Reads what the app can take now from the proxy socket (EOF queues our
 * FIN). May close s. */
void t2s_tcp_to_app_read(struct t2s_tcp_session *s);

/* tcp_write() of len bytes in chunks; flags: TCP_WRITE_FLAG_COPY, or 0
 * for bytes in s->to_app's blocks. -1 when lwIP refused. */
int t2s_tcp_to_app_write(struct t2s_tcp_session *s, const uint8_t *data,
                         size_t len, u8_t flags);

/* Our FIN after the queued data (deferred until the app acknowledged the
 * SYN|ACK). */
void t2s_tcp_to_app_fin(struct t2s_tcp_session *s);

/* lwIP's sent callback: the app acknowledged len bytes. */
err_t t2s_tcp_to_app_on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);

#endif
