/*
 * TCP sessions: one per connection lwIP terminates, relayed to one SOCKS5
 * CONNECT. The instance's registry owns every session; a session is closed
 * through one idempotent path and freed after the loop iteration by
 * t2s_tcp_reap(). Loop thread only.
 */
#ifndef T2S_TCP_SESSION_H
#define T2S_TCP_SESSION_H

#include "lwip/tcp.h"

struct t2s_instance;

/* The listener's SYN callback (t2s_tcp_ext_syn_fn): arg is the instance. */
int t2s_tcp_on_syn(void *arg, struct tcp_pcb *npcb);

/* Listener accept callback: the app completed the handshake. */
err_t t2s_tcp_on_accept(void *arg, struct tcp_pcb *pcb, err_t err);

/* tcp_output() for every session that queued data this iteration. */
void t2s_tcp_flush(struct t2s_instance *t);

/* Frees sessions closed during this iteration. */
void t2s_tcp_reap(struct t2s_instance *t);

/* Aborts every session (shutdown). */
void t2s_tcp_close_all(struct t2s_instance *t);

#endif
