/* Datagrams to the app, from any source address and port. */
#include <string.h>

#include "lwip/udp.h"

#include "udp/udp_tx.h"

int
t2s_udp_tx_init(struct t2s_udp_tx *tx, struct netif *netif,
                struct t2s_stats *stats)
{
    tx->netif = netif;
    tx->stats = stats;
    tx->pcb = udp_new_ip_type(IPADDR_TYPE_ANY);
    return tx->pcb != NULL ? 0 : -1;
}

void
t2s_udp_tx_shutdown(struct t2s_udp_tx *tx)
{
    if (tx->pcb != NULL) {
        udp_remove(tx->pcb);
        tx->pcb = NULL;
    }
}

void
t2s_udp_tx_send(struct t2s_udp_tx *tx, const ip_addr_t *app, uint16_t app_port,
                const ip_addr_t *src, uint16_t sport, const uint8_t *data,
                size_t len)
{
    struct pbuf *p;

    if (len > 0xffff - 8 || sport == 0) {
        T2S_STAT_INC(tx->stats, udp_dropped);
        return;
    }
    p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (p == NULL) {
        T2S_STAT_INC(tx->stats, udp_dropped);
        return;
    }
    memcpy(p->payload, data, len);
    /* An unbound pcb: udp_sendto_if_src() takes the source from us. */
    tx->pcb->local_port = sport;
    if (udp_sendto_if_src(tx->pcb, p, app, app_port, tx->netif, src) != ERR_OK)
        T2S_STAT_INC(tx->stats, udp_dropped);
    pbuf_free(p);
}
