/* The DNS relay's state: set up and torn down together. */
#include "udp/dns_relay.h"

void
t2s_dns_relay_init(struct t2s_dns_relay *r, struct t2s_ctx *ctx,
                   struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip)
{
    t2s_dns_tcp_init(&r->tcp, ctx, tx, fakeip);
    t2s_dns_local_init(&r->local, ctx, tx, fakeip, &r->tcp);
    t2s_dns_gw_init(&r->gw, ctx, tx);
}

void
t2s_dns_relay_shutdown(struct t2s_dns_relay *r)
{
    t2s_dns_tcp_shutdown(&r->tcp);
    t2s_dns_gw_shutdown(&r->gw);
}
