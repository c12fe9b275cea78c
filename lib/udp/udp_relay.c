/*
 * lwIP UDP glue: receive everything, dispatch; replies go out via udp_tx.
 * Port 53: fake-ip answers first, then --dns-gateway, then DNS over TCP
 * (--dns tcp, or a proxy without UDP), else an association. A proxy whose
 * protocol has no UDP (socks4, socks4a, http) is never asked for an
 * association: other datagrams are dropped, counted and said once.
 */
#include <stdio.h>

#include "lwip/ip.h"
#include "lwip/prot/udp.h"
#include "lwip/udp.h"

#include "udp/udp_relay.h"

static void
drop_no_udp(struct t2s_udp_relay *r, struct pbuf *p)
{
    const struct t2s_proxy *proxy = &r->ctx->cfg->proxy;

    T2S_STAT_INC(&r->ctx->stats, udp_unsupported);
    if (!r->no_udp_logged)
        t2s_warn("dropping UDP: a %s proxy has no UDP (DNS goes over TCP; "
                 "said once, counted in udp_unsupported)",
                 t2s_proxy_url_scheme_name(proxy->scheme));
    r->no_udp_logged = 1;
    pbuf_free(p);
}

static void
on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
            const ip_addr_t *addr, u16_t port)
{
    struct t2s_udp_relay *r = arg;
    const struct t2s_config *c = r->ctx->cfg;
    const struct udp_hdr *h;
    struct t2s_udp_flow f;
    int has_udp = t2s_proxy_url_has_udp(&c->proxy);

    (void)pcb;
    /* The UDP header sits just before the payload lwIP hands us. */
    h = (const struct udp_hdr *)((const u8_t *)p->payload - UDP_HLEN);
    ip_addr_copy(f.app, *addr);
    f.app_port = port;
    ip_addr_copy(f.dst, *ip_current_dest_addr());
    f.dst_port = lwip_ntohs(h->dest);
    if (r->ctx->stopping || f.app_port == 0 || f.dst_port == 0) {
        pbuf_free(p);
        return;
    }
    if (T2S_UDP_IS_DNS(&f)) {
        if (c->dns_mode == T2S_DNS_FAKEIP &&
            t2s_dns_local_match(&r->dns.local, &f)) {
            t2s_dns_local_query(&r->dns.local, &f, p);
            return;
        }
        /* --dns-gateway wins over relay and tcp: the app chose it */
        if (t2s_dns_gw_enabled(&r->dns.gw)) {
            t2s_dns_gw_query(&r->dns.gw, &f, p);
            return;
        }
        if (c->dns_mode == T2S_DNS_TCP || !has_udp ||
            !t2s_udp_assoc_proxy_has_udp(&r->assocs)) {
            t2s_dns_tcp_query(&r->dns.tcp, &f, p);
            return;
        }
    } else if (!has_udp) {
        drop_no_udp(r, p);
        return;
    } else if (!t2s_udp_assoc_proxy_has_udp(&r->assocs)) {
        T2S_STAT_INC(&r->ctx->stats, udp_unsupported);
        pbuf_free(p);
        return;
    }
    t2s_udp_assoc_input(&r->assocs, &f, p);
}

static unsigned
auto_max_udp(unsigned max_conns)
{
    unsigned n = max_conns / 4;

    return n < 16 ? 16 : n;
}

int
t2s_udp_relay_init(struct t2s_udp_relay *r, struct t2s_ctx *ctx,
                   struct netif *netif, struct t2s_fakeip *fakeip,
                   unsigned max_conns, char *err, size_t errlen)
{
    const struct t2s_config *c = ctx->cfg;
    unsigned max_udp = c->max_udp ? c->max_udp : auto_max_udp(max_conns);
    int rc;

    r->ctx = ctx;
    t2s_dns_relay_init(&r->dns, ctx, &r->tx, fakeip);
    rc = t2s_udp_assoc_init(&r->assocs, ctx, &r->tx, fakeip, &r->dns.tcp,
                            max_udp);
    r->rx = udp_new_ip_type(IPADDR_TYPE_ANY);
    if (t2s_udp_tx_init(&r->tx, netif, &ctx->stats) < 0 || rc < 0 ||
        r->rx == NULL || udp_bind(r->rx, IP_ANY_TYPE, 0) != ERR_OK) {
        snprintf(err, errlen, "cannot set up UDP: out of memory");
        return -1;
    }
    /* Our lwIP patch: this pcb receives datagrams to any address/port. */
    udp_setflags(r->rx, udp_flags(r->rx) | UDP_FLAGS_ACCEPT_ANY);
    udp_recv(r->rx, on_udp_recv, r);
    return 0;
}

void
t2s_udp_relay_shutdown(struct t2s_udp_relay *r)
{
    if (r->ctx == NULL)
        return;
    t2s_udp_assoc_shutdown(&r->assocs);
    t2s_dns_relay_shutdown(&r->dns);
    if (r->rx != NULL) {
        udp_remove(r->rx);
        r->rx = NULL;
    }
    t2s_udp_tx_shutdown(&r->tx);
}
