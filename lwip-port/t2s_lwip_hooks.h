/*
 * Hooks tun2socks adds to lwIP (see lwip-2.1.3-transparent.patch).
 *
 * LWIP_HOOK_TCP_SYN_DEFER(lpcb, npcb) runs in tcp_listen_input() for every
 * new connection in SYN_RCVD, before the SYN|ACK is queued. Returning
 * non-zero means the hook took npcb: it will queue the SYN|ACK itself once
 * the upstream connection is ready, or abort npcb (RST) to refuse it.
 * Returning 0 lets lwIP answer at once as usual. The hook is
 * t2s_tcp_ext_on_syn() (tcp_ext.h), which hands npcb to the listener's
 * owner.
 */
#ifndef T2S_LWIP_HOOKS_H
#define T2S_LWIP_HOOKS_H

struct tcp_pcb;
struct tcp_pcb_listen;

int t2s_tcp_ext_on_syn(struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb);

#define LWIP_HOOK_TCP_SYN_DEFER(lpcb, npcb) t2s_tcp_ext_on_syn((lpcb), (npcb))

#endif
