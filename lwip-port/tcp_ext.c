/* lwIP TCP internals tun2socks reads (tcp_ext.h). */
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "tcp_ext.h"

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
