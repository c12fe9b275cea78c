/* lwIP TCP internals tun2socks reads and changes (tcp_ext.h). */
#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "tcp_ext.h"

/* The largest payload of a segment for the kernel to cut: with an IPv6
 * header (40) and a TCP header without options (20) the IP packet stays
 * within 65535 bytes (the TUN's read and write limit). */
#define TSO_SEG_LIMIT (0xffff - 40 - 20)

/* The netif cuts segments (t2s_tcp_ext_set_tso()); one netif per process. */
static int tso_on;
unsigned short t2s_tcp_ext_gso_mss;

void
t2s_tcp_ext_set_tso(int on)
{
    tso_on = on != 0;
}

unsigned short
t2s_tcp_ext_seg_max(const struct tcp_pcb *pcb)
{
    /* upstream: no segment bigger than half the largest window the app
     * ever offered, nor than the MSS */
    u32_t half = pcb->snd_wnd_max / 2, seg;

    if (!tso_on || pcb->mss == 0 || half < 2u * pcb->mss ||
        TSO_SEG_LIMIT < 2u * pcb->mss)
        return half > 0 && half < pcb->mss ? (u16_t)half : pcb->mss;
    /* whole MSSes: the kernel cuts no runt but the last */
    seg = LWIP_MIN(half, TSO_SEG_LIMIT);
    return (u16_t)(seg - seg % pcb->mss);
}

void
t2s_tcp_ext_out_mss(unsigned short mss)
{
    t2s_tcp_ext_gso_mss = tso_on ? mss : 0;
}

unsigned
t2s_tcp_ext_gso_size(void)
{
    return t2s_tcp_ext_gso_mss;
}

int
t2s_tcp_ext_listen_any(struct t2s_tcp_ext_listener *l,
                       t2s_tcp_ext_syn_fn on_syn, tcp_accept_fn on_accept,
                       void *arg)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    struct tcp_pcb *lpcb;

    if (pcb == NULL || tcp_bind(pcb, IP_ANY_TYPE, 1) != ERR_OK) {
        if (pcb != NULL)
            tcp_close(pcb);
        return -1;
    }
    lpcb = tcp_listen(pcb);
    if (lpcb == NULL) {
        tcp_close(pcb);
        return -1;
    }
    /* Port 0 makes the listener a wildcard (our lwIP patch). */
    lpcb->local_port = 0;
    l->pcb = lpcb;
    l->on_syn = on_syn;
    l->arg = arg;
    tcp_arg(lpcb, l);
    tcp_accept(lpcb, on_accept);
    return 0;
}

void
t2s_tcp_ext_unlisten(struct t2s_tcp_ext_listener *l)
{
    if (l->pcb == NULL)
        return;
    tcp_arg(l->pcb, NULL);
    tcp_accept(l->pcb, NULL);
    tcp_close(l->pcb);
    l->pcb = NULL;
}

int
t2s_tcp_ext_on_syn(struct tcp_pcb_listen *lpcb, struct tcp_pcb *npcb)
{
    struct t2s_tcp_ext_listener *l = lpcb->callback_arg;

    if (l == NULL)
        return 0;
    return l->on_syn(l->arg, npcb);
}

err_t
t2s_tcp_ext_send_synack(struct tcp_pcb *pcb)
{
    return tcp_enqueue_flags(pcb, TCP_SYN | TCP_ACK);
}

int
t2s_tcp_ext_syn_rcvd(const struct tcp_pcb *pcb)
{
    return pcb->state == SYN_RCVD;
}

int
t2s_tcp_ext_both_fins(const struct tcp_pcb *pcb)
{
    return pcb->state == TIME_WAIT || pcb->state == CLOSING;
}

int
t2s_tcp_ext_window_closed(const struct tcp_pcb *pcb)
{
    return pcb->rcv_ann_wnd == 0;
}

void
t2s_tcp_ext_ack_now(struct tcp_pcb *pcb)
{
    tcp_ack_now(pcb);
}

void
t2s_tcp_ext_output(struct tcp_pcb *pcb)
{
    if (pcb->flags & TF_ACK_DELAY)
        tcp_ack_now(pcb);
    tcp_output(pcb);
}

size_t
t2s_tcp_ext_write_room(const struct tcp_pcb *pcb)
{
    size_t room = pcb->snd_buf;
    /* tcp_split_unsent_seg() (a super-segment cut to the window) may take
     * snd_queuelen past TCP_SND_QUEUELEN */
    size_t segs_left = pcb->snd_queuelen < TCP_SND_QUEUELEN
                           ? (size_t)(TCP_SND_QUEUELEN - pcb->snd_queuelen)
                           : 0;
    /* tcp_write() makes segments no bigger than half the largest window
     * the app ever offered */
    size_t mss = LWIP_MIN(pcb->mss, pcb->snd_wnd_max / 2);

    if (mss == 0)
        mss = pcb->mss ? pcb->mss : 536;
    /* Each segment takes a header and a data pbuf, and each tcp_write
     * chunk may add one more to the last segment. */
    if (segs_left < 16)
        return 0;
    if (2 * (room / mss) + 16 > segs_left)
        room = (segs_left - 16) / 2 * mss;
    return room;
}

uint32_t
t2s_tcp_ext_next_seq(const struct tcp_pcb *pcb)
{
    return pcb->snd_lbb;
}

uint32_t
t2s_tcp_ext_oldest_seq(const struct tcp_pcb *pcb)
{
    u32_t seq = pcb->snd_lbb;

    if (pcb->unacked != NULL)
        seq = lwip_ntohl(pcb->unacked->tcphdr->seqno);
    if (pcb->unsent != NULL &&
        (pcb->unacked == NULL ||
         TCP_SEQ_LT(lwip_ntohl(pcb->unsent->tcphdr->seqno), seq)))
        seq = lwip_ntohl(pcb->unsent->tcphdr->seqno);
    return seq;
}

/* Copies the data pbufs of one segment that held() claims. */
static int
copy_seg_refs(struct tcp_seg *seg,
              int (*held)(const void *ctx, const void *payload),
              const void *ctx)
{
    /* seg->p is the header pbuf; the data follows it */
    for (struct pbuf *prev = seg->p; prev->next != NULL; prev = prev->next) {
        struct pbuf *ref = prev->next, *copy;

        if (!held(ctx, ref->payload))
            continue;
        copy = pbuf_alloc(PBUF_RAW, ref->len, PBUF_RAM);
        if (copy == NULL)
            return -1;
        memcpy(copy->payload, ref->payload, ref->len);
        copy->next = ref->next;
        copy->tot_len = ref->tot_len;
        prev->next = copy;
        ref->next = NULL;
        pbuf_free(ref);
    }
    return 0;
}

int
t2s_tcp_ext_copy_refs(struct tcp_pcb *pcb,
                      int (*held)(const void *ctx, const void *payload),
                      const void *ctx)
{
    struct tcp_seg *lists[2] = {pcb->unsent, pcb->unacked};

    for (int i = 0; i < 2; i++)
        for (struct tcp_seg *seg = lists[i]; seg != NULL; seg = seg->next)
            if (copy_seg_refs(seg, held, ctx) < 0)
                return -1;
    return 0;
}

size_t
t2s_tcp_ext_orphans(int shed)
{
    struct tcp_pcb *pcb, *next;
    size_t n = 0;

    for (pcb = tcp_active_pcbs; pcb != NULL; pcb = next) {
        next = pcb->next; /* tcp_abort() frees pcb */
        if (pcb->callback_arg != NULL)
            continue;
        if (shed && (pcb->unsent != NULL || pcb->unacked != NULL)) {
            tcp_abort(pcb);
            continue;
        }
        n++;
    }
    return n;
}

void
t2s_tcp_ext_abort_all(void)
{
    while (tcp_active_pcbs != NULL)
        tcp_abort(tcp_active_pcbs);
    while (tcp_tw_pcbs != NULL)
        tcp_abort(tcp_tw_pcbs);
}
