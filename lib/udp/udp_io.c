/* lwIP UDP glue: receive everything, dispatch, send replies as anyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/ip.h"
#include "lwip/prot/udp.h"
#include "lwip/udp.h"

#include "dns/dns_local.h"
#include "dns/dns_tcp.h"
#include "dns/fakeip.h"
#include "udp/udp_assoc.h"
#include "udp/udp_io.h"

/* After this long, a proxy that refused UDP ASSOCIATE is asked again. */
#define UDP_UNSUPPORTED_RETRY_S 300.0

/* Live fake-ip entries, whatever the pools' size: 65536 names cost about
 * 18 MiB of address space, resident only as they are used (fakeip.c). */
#define FAKEIP_MAX_ENTRIES 65536

static int
proxy_has_udp(struct t2s_instance *t)
{
    if (t->udp_unsupported &&
        ev_now(t->ctx.loop) - t->udp_unsupported_at > UDP_UNSUPPORTED_RETRY_S)
        t->udp_unsupported = 0;
    return !t->udp_unsupported;
}

static void
on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
            const ip_addr_t *addr, u16_t port)
{
    struct t2s_instance *t = arg;
    const struct udp_hdr *h;
    struct t2s_udp_flow f;

    (void)pcb;
    /* The UDP header sits just before the payload lwIP hands us. */
    h = (const struct udp_hdr *)((const u8_t *)p->payload - UDP_HLEN);
    ip_addr_copy(f.app, *addr);
    f.app_port = port;
    ip_addr_copy(f.dst, *ip_current_dest_addr());
    f.dst_port = lwip_ntohs(h->dest);
    if (t->ctx.stopping || f.app_port == 0 || f.dst_port == 0) {
        pbuf_free(p);
        return;
    }
    if (T2S_UDP_IS_DNS(&f)) {
        if (t->cfg.dns_mode == T2S_DNS_FAKEIP && t2s_dns_local_match(t, &f)) {
            t2s_dns_local_query(t, &f, p);
            return;
        }
        if (t->cfg.dns_mode == T2S_DNS_TCP || !proxy_has_udp(t)) {
            t2s_dns_tcp_query(t, &f, p);
            return;
        }
    } else if (!proxy_has_udp(t)) {
        T2S_STAT_INC(&t->ctx.stats, udp_unsupported);
        pbuf_free(p);
        return;
    }
    t2s_udp_assoc_input(t, &f, p);
}

void
t2s_udp_to_app(struct t2s_instance *t, const ip_addr_t *app, uint16_t app_port,
               const ip_addr_t *src, uint16_t sport, const uint8_t *data,
               size_t len)
{
    struct pbuf *p;

    if (len > 0xffff - 8 || sport == 0) {
        T2S_STAT_INC(&t->ctx.stats, udp_dropped);
        return;
    }
    p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (p == NULL) {
        T2S_STAT_INC(&t->ctx.stats, udp_dropped);
        return;
    }
    memcpy(p->payload, data, len);
    /* An unbound pcb: udp_sendto_if_src() takes the source from us. */
    t->udp_tx->local_port = sport;
    if (udp_sendto_if_src(t->udp_tx, p, app, app_port,
                          t2s_stack_netif(&t->stack), src) != ERR_OK)
        T2S_STAT_INC(&t->ctx.stats, udp_dropped);
    pbuf_free(p);
}

static unsigned
auto_max_udp(const struct t2s_instance *t)
{
    unsigned n = t->max_conns / 4;

    return n < 16 ? 16 : n;
}

int
t2s_udp_init(struct t2s_instance *t, char *err, size_t errlen)
{
    const struct t2s_config *c = &t->cfg;

    t->max_udp = c->max_udp ? c->max_udp : auto_max_udp(t);
    t->udp_table = calloc(T2S_UDP_TABLE_SIZE, sizeof(*t->udp_table));
    t->udp_rx = udp_new_ip_type(IPADDR_TYPE_ANY);
    t->udp_tx = udp_new_ip_type(IPADDR_TYPE_ANY);
    if (t->udp_table == NULL || t->udp_rx == NULL || t->udp_tx == NULL ||
        udp_bind(t->udp_rx, IP_ANY_TYPE, 0) != ERR_OK) {
        snprintf(err, errlen, "cannot set up UDP: out of memory");
        return -1;
    }
    /* Our lwIP patch: this pcb receives datagrams to any address/port. */
    udp_setflags(t->udp_rx, udp_flags(t->udp_rx) | UDP_FLAGS_ACCEPT_ANY);
    udp_recv(t->udp_rx, on_udp_recv, t);
    if (c->dns_mode == T2S_DNS_FAKEIP) {
        t->fakeip = t2s_fakeip_new(c->fake_net4, c->fake_prefix4,
                                   c->fake_prefix6 ? c->fake_net6 : NULL,
                                   c->fake_prefix6, FAKEIP_MAX_ENTRIES);
        if (t->fakeip == NULL) {
            snprintf(err, errlen, "cannot set up the fake-ip pool");
            return -1;
        }
        t2s_fakeip_set_min_age(t->fakeip, 2 * T2S_DNS_FAKE_TTL);
    }
    return 0;
}

void
t2s_udp_shutdown(struct t2s_instance *t)
{
    t2s_udp_assoc_close_all(t);
    t2s_dns_tcp_close_all(t);
    t2s_udp_assoc_reap(t);
    if (t->udp_rx != NULL) {
        udp_remove(t->udp_rx);
        t->udp_rx = NULL;
    }
    if (t->udp_tx != NULL) {
        udp_remove(t->udp_tx);
        t->udp_tx = NULL;
    }
    free(t->udp_table);
    t->udp_table = NULL;
    t2s_fakeip_free(t->fakeip);
    t->fakeip = NULL;
}
