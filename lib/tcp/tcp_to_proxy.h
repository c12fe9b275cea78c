/*
 * App -> proxy: app data is queued in the pbufs lwIP delivered and
 * written to the proxy socket straight from them; it is acknowledged to
 * lwIP (tcp_recved) only once written, so lwIP's window bounds the queue
 * and slows the app. Internal to lib/tcp/.
 */
#ifndef T2S_TCP_TO_PROXY_H
#define T2S_TCP_TO_PROXY_H

#include "lwip/tcp.h"

struct t2s_tcp_session;

/* lwIP's recv callback: data or the app's FIN (p == NULL). */
err_t t2s_tcp_to_proxy_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
                               err_t err);

/* Writes what the socket takes from the queue. -1 on a socket error (the
 * caller closes s). */
int t2s_tcp_to_proxy_flush(struct t2s_tcp_session *s);

/* n bytes of the app reached the proxy socket: counted, and lwIP may open
 * the app's window by them (also tcp_gss.c's, per whole message). */
void t2s_tcp_to_proxy_ack_app(struct t2s_tcp_session *s, size_t n);

#endif
