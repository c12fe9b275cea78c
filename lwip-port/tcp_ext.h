/*
 * What tun2socks needs from lwIP's TCP beyond the raw API, in one place:
 * nothing outside lwip-port/ includes lwip/priv/ or reads a pcb's flags,
 * segment lists or window bookkeeping. Loop thread only (lwIP is not
 * thread-safe).
 *
 * Contract. Written against lwIP 2.1.3 with lwip-2.1.3-transparent.patch
 * and lwipopts.h (NO_SYS 1, TCP_QUEUE_OOSEQ, window scaling); every
 * function names what it reads (R) or changes (W) in lwIP:
 *
 *   t2s_tcp_ext_listen_any  W: a listener bound to port 1, then its
 *                           local_port set to 0: with the patch a
 *                           wildcard whose new pcbs take the segment's
 *                           destination port; W: callback_arg, accept
 *   t2s_tcp_ext_unlisten    W: callback_arg, accept; tcp_close()
 *   t2s_tcp_ext_on_syn      the patch's LWIP_HOOK_TCP_SYN_DEFER (called by
 *                           tcp_listen_input() only); R: lpcb->callback_arg
 *   t2s_tcp_ext_send_synack W: tcp_enqueue_flags(SYN|ACK), the step the
 *                           hook skipped in tcp_listen_input()
 *   t2s_tcp_ext_syn_rcvd,
 *   t2s_tcp_ext_both_fins   R: state
 *   t2s_tcp_ext_window_closed R: rcv_ann_wnd
 *   t2s_tcp_ext_ack_now     W: flags (tcp_ack_now(), tcp_priv.h)
 *   t2s_tcp_ext_output      R: flags & TF_ACK_DELAY; W: tcp_ack_now(),
 *                           tcp_output()
 *   t2s_tcp_ext_write_room  R: snd_buf, snd_queuelen, mss, snd_wnd_max;
 *                           assumes tcp_write() cuts segments no smaller
 *                           than min(mss, snd_wnd_max / 2) (with TSO
 *                           they are larger: fewer segments, the bound
 *                           holds) and takes up to two pbufs per segment
 *                           plus one per chunk
 *   t2s_tcp_ext_set_tso,    the patch's LWIP_HOOK_TCP_SEG_MAX (tcp_write),
 *   t2s_tcp_ext_seg_max,    LWIP_HOOK_TCP_OUT_MSS (tcp_output_segment) and
 *   t2s_tcp_ext_out_mss     LWIP_HOOK_IP_OUT_SEGMENTED (ip4/ip6 output);
 *                           R: mss, snd_wnd_max
 *   t2s_tcp_ext_next_seq    R: snd_lbb
 *   t2s_tcp_ext_oldest_seq  R: unacked, unsent (first segment's seqno),
 *                           snd_lbb
 *   t2s_tcp_ext_copy_refs   R/W: the data pbufs of every unsent and
 *                           unacked segment (seg->p is the header pbuf,
 *                           data pbufs follow it, as tcp_write() builds
 *                           them with TCP_WRITE_FLAG_COPY unset)
 *   t2s_tcp_ext_orphans     R: tcp_active_pcbs, callback_arg, unsent,
 *                           unacked; W: tcp_abort()
 *   t2s_tcp_ext_abort_all   R: tcp_active_pcbs, tcp_tw_pcbs; W: tcp_abort()
 *
 * Moving to another lwIP version means checking each line above.
 */
#ifndef T2S_TCP_EXT_H
#define T2S_TCP_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/tcp.h"

/*
 * A new connection in SYN_RCVD, before any SYN|ACK: return 1 once npcb is
 * taken (the callee sends the SYN|ACK later with
 * t2s_tcp_ext_send_synack(), or aborts npcb to refuse it with a RST).
 * lwIP then calls the listener's accept function with npcb's callback
 * argument when the app acknowledges the SYN|ACK.
 */
typedef int (*t2s_tcp_ext_syn_fn)(void *arg, struct tcp_pcb *npcb);

/* The wildcard listener; owned by the caller, which keeps it in place
 * while pcb is set. */
struct t2s_tcp_ext_listener {
    struct tcp_pcb *pcb;       /* the listening pcb, NULL when none */
    t2s_tcp_ext_syn_fn on_syn; /* every SYN to any address and port */
    void *arg;                 /* for on_syn */
};

/*
 * Listens on every address and port: on_syn(arg, npcb) sees each new
 * connection; on_accept is lwIP's accept callback. Returns 0 or -1 (out
 * of memory; nothing to undo).
 */
int t2s_tcp_ext_listen_any(struct t2s_tcp_ext_listener *l,
                           t2s_tcp_ext_syn_fn on_syn, tcp_accept_fn on_accept,
                           void *arg);

/* Closes the listener (no more SYN is seen). Idempotent. */
void t2s_tcp_ext_unlisten(struct t2s_tcp_ext_listener *l);

/* LWIP_HOOK_TCP_SYN_DEFER (t2s_lwip_hooks.h): lwIP calls it, nobody else. */
int t2s_tcp_ext_on_syn(struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb);

/* Queues the SYN|ACK of a pcb taken by on_syn (tcp_output() sends it). */
err_t t2s_tcp_ext_send_synack(struct tcp_pcb *pcb);

/* Nonzero while the app has yet to acknowledge our SYN|ACK. */
int t2s_tcp_ext_syn_rcvd(const struct tcp_pcb *pcb);

/* Nonzero once both FINs are out (TIME_WAIT, or CLOSING waiting for the
 * ACK of ours): nothing more can arrive on pcb. */
int t2s_tcp_ext_both_fins(const struct tcp_pcb *pcb);

/* Nonzero when the receive window last announced to the app is zero. */
int t2s_tcp_ext_window_closed(const struct tcp_pcb *pcb);

/* The next tcp_output() sends an ACK even without data. */
void t2s_tcp_ext_ack_now(struct tcp_pcb *pcb);

/* tcp_output(), turning a delayed ACK into an immediate one first (rather
 * than wait for lwIP's 250 ms timer). */
void t2s_tcp_ext_output(struct tcp_pcb *pcb);

/*
 * Segmentation offload (TSO) on the netif, off by default; set before any
 * connection exists (one netif per process). With it, tcp_write() builds
 * segments of whole MSSes up to about 64 KiB (and half the largest window
 * the app offered), tcp_output() cuts one to the window when it does not
 * fit, and each goes to the netif whole: t2s_tcp_ext_gso_size() says the
 * MSS to cut it at. pcb->mss stays the connection's real MSS (the app's
 * option clamped to the MTU): congestion control and retransmission count
 * in it.
 */
void t2s_tcp_ext_set_tso(int on);

/* Inside the netif's output of a TCP data segment with TSO on: the MSS of
 * its connection (a segment with more payload is cut at it). 0 for every
 * other packet, and always without TSO. */
unsigned t2s_tcp_ext_gso_size(void);

/* The patch's hooks (t2s_lwip_hooks.h): lwIP calls them, nobody else. */
unsigned short t2s_tcp_ext_seg_max(const struct tcp_pcb *pcb);
void t2s_tcp_ext_out_mss(unsigned short mss);

/* Bytes lwIP can queue now without failing tcp_write() (send buffer and
 * segment queue alike), with headroom for a few chunks. */
size_t t2s_tcp_ext_write_room(const struct tcp_pcb *pcb);

/* The sequence number the next byte given to tcp_write() gets. */
uint32_t t2s_tcp_ext_next_seq(const struct tcp_pcb *pcb);

/* The sequence number of the oldest byte lwIP still holds, sent or not
 * (t2s_tcp_ext_next_seq() when it holds none). */
uint32_t t2s_tcp_ext_oldest_seq(const struct tcp_pcb *pcb);

/*
 * Replaces the data pbufs of pcb's queued segments that reference memory
 * held(ctx, payload) says is the caller's with copies, so pcb can outlive
 * that memory. Returns 0, or -1 when a copy could not be allocated (some
 * references may remain: abort pcb then).
 */
int t2s_tcp_ext_copy_refs(struct tcp_pcb *pcb,
                          int (*held)(const void *ctx, const void *payload),
                          const void *ctx);

/*
 * Orphans: active pcbs no session owns any more (their callback argument
 * is NULL): closing handshakes lwIP finishes alone, such as a CLOSING pcb
 * still delivering data to a slow app. TIME_WAIT pcbs are not counted
 * (they hold no data and a new SYN replaces them). With shed nonzero,
 * every orphan that still holds data is aborted (RST to the app) and not
 * counted. Returns the number of orphans left. O(active pcbs).
 */
size_t t2s_tcp_ext_orphans(int shed);

/* Aborts every active and TIME_WAIT pcb (shutdown, once no session holds
 * one): lwIP frees them at once. */
void t2s_tcp_ext_abort_all(void);

#endif
