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
 *
 * Segmentation offload (TSO on the TUN, t2s_tcp_ext_set_tso()):
 * LWIP_HOOK_TCP_SEG_MAX(pcb) is the largest segment tcp_write() builds
 * (a multiple of the MSS when above it); tcp_output() cuts a larger one to
 * the window. LWIP_HOOK_TCP_OUT_MSS(mss) brackets each data segment's
 * ip_output_if() in tcp_output_segment() (the pcb's MSS, then 0), so the
 * netif knows the size to cut at; LWIP_HOOK_IP_OUT_SEGMENTED() is then
 * true and ip4/ip6 do not fragment the segment.
 */
#ifndef T2S_LWIP_HOOKS_H
#define T2S_LWIP_HOOKS_H

struct tcp_pcb;
struct tcp_pcb_listen;

int t2s_tcp_ext_on_syn(struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb);

#define LWIP_HOOK_TCP_SYN_DEFER(lpcb, npcb) t2s_tcp_ext_on_syn((lpcb), (npcb))

unsigned short t2s_tcp_ext_seg_max(const struct tcp_pcb *pcb);
void t2s_tcp_ext_out_mss(unsigned short mss);
extern unsigned short t2s_tcp_ext_gso_mss;

#define LWIP_HOOK_TCP_SEG_MAX(pcb) t2s_tcp_ext_seg_max(pcb)
#define LWIP_HOOK_TCP_OUT_MSS(mss) t2s_tcp_ext_out_mss(mss)
#define LWIP_HOOK_IP_OUT_SEGMENTED() (t2s_tcp_ext_gso_mss != 0)

#endif
