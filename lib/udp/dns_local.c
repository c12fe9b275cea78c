/* The fake-ip resolver. */
#include <string.h>
#include <sys/socket.h>

#include "codec/dns.h"
#include "udp/dns_local.h"
#include "udp/dns_tcp.h"
#include "upstream/fakeip.h"

/* Largest query we look at; DNS over UDP without EDNS is 512. */
#define QUERY_MAX 4096

/* Live fake-ip entries, whatever the pools' size: 65536 names cost about
 * 18 MiB of address space, resident only as they are used (fakeip.c). */
#define FAKEIP_MAX_ENTRIES 65536

struct t2s_fakeip *
t2s_dns_local_pool_new(const struct t2s_config *c)
{
    struct t2s_fakeip *f;

    f = t2s_fakeip_new(c->fake_net4, c->fake_prefix4,
                       c->fake_prefix6 ? c->fake_net6 : NULL, c->fake_prefix6,
                       FAKEIP_MAX_ENTRIES);
    if (f != NULL)
        t2s_fakeip_set_min_age(f, 2 * T2S_DNS_FAKE_TTL);
    return f;
}

void
t2s_dns_local_init(struct t2s_dns_local *l, struct t2s_ctx *ctx,
                   struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip,
                   struct t2s_dns_tcp *tcp)
{
    l->ctx = ctx;
    l->tx = tx;
    l->fakeip = fakeip;
    l->tcp = tcp;
}

int
t2s_dns_local_match(const struct t2s_dns_local *l, const struct t2s_udp_flow *f)
{
    const struct t2s_config *c = l->ctx->cfg;

    if (IP_IS_V6(&f->dst))
        return memcmp(ip_2_ip6(&f->dst)->addr, c->dns_addr6, 16) == 0;
    return memcmp(&ip_2_ip4(&f->dst)->addr, c->dns_addr4, 4) == 0;
}

static void
local_reply(struct t2s_dns_local *l, const struct t2s_udp_flow *f,
            const uint8_t *msg, size_t len)
{
    t2s_udp_tx_send(l->tx, &f->app, f->app_port, &f->dst, f->dst_port, msg,
                    len);
}

/* The fake address of q's name in addr (A: 4 bytes, AAAA: 16): NOERROR,
 * or SERVFAIL when every entry is in use or too young to recycle. */
static uint8_t
fake_address(struct t2s_dns_local *l, const struct t2s_dns_query *q,
             uint8_t addr[16])
{
    long e;

    t2s_fakeip_tick(l->fakeip, t2s_fakeip_clock());
    e = t2s_fakeip_lookup_name(l->fakeip, q->name, q->name_len,
                               q->qtype == T2S_DNS_TYPE_A ? addr
                                                          : (uint8_t[4]){0},
                               q->qtype == T2S_DNS_TYPE_AAAA ? addr : NULL);
    if (e >= 0)
        return T2S_DNS_RCODE_NOERROR;
    T2S_STAT_INC(&l->ctx->stats, dns_fakeip_full);
    return T2S_DNS_RCODE_SERVFAIL;
}

void
t2s_dns_local_query(struct t2s_dns_local *l, const struct t2s_udp_flow *f,
                    struct pbuf *p)
{
    const struct t2s_config *c = l->ctx->cfg;
    uint8_t in[QUERY_MAX], out[QUERY_MAX + 64], addr[16];
    struct t2s_dns_query q;
    size_t n, len;
    int rc, with_q = 1, n_addrs = 0;
    uint8_t rcode = T2S_DNS_RCODE_NOERROR;

    n = pbuf_copy_partial(p, in, sizeof(in), 0);
    rc = t2s_dns_parse_query(in, n, &q);
    if (rc == T2S_DNS_EOPCODE || rc == T2S_DNS_EQDCOUNT) {
        with_q = 0;
        rcode = rc == T2S_DNS_EOPCODE ? T2S_DNS_RCODE_NOTIMP
                                      : T2S_DNS_RCODE_FORMERR;
    } else if (rc != T2S_DNS_OK) {
        if (rc == T2S_DNS_ENAME && n >= T2S_DNS_HDR_LEN && !(in[2] & 0x80)) {
            /* Unreadable question: FORMERR with the query's id. */
            memset(&q, 0, sizeof(q));
            q.id = (uint16_t)((in[0] << 8) | in[1]);
            q.flags = (uint16_t)((in[2] << 8) | in[3]);
            with_q = 0;
            rcode = T2S_DNS_RCODE_FORMERR;
        } else {
            pbuf_free(p); /* not worth an answer */
            return;
        }
    } else if (q.qclass == T2S_DNS_CLASS_IN &&
               (q.qtype == T2S_DNS_TYPE_A ||
                (q.qtype == T2S_DNS_TYPE_AAAA && c->fake_prefix6 != 0)) &&
               q.name_len > 0) {
        rcode = fake_address(l, &q, addr);
        n_addrs = rcode == T2S_DNS_RCODE_NOERROR;
    } else if (c->resolver_family != 0) {
        /* Not ours to invent (MX, TXT, SRV, ...): ask the real resolver. */
        t2s_dns_tcp_query(l->tcp, f, p);
        return;
    }
    /* else: an empty NOERROR answer (no such data here) */
    pbuf_free(p);
    len = t2s_dns_build_response(out, sizeof(out), &q, with_q, rcode, addr,
                                 (size_t)n_addrs, T2S_DNS_FAKE_TTL);
    if (len == 0)
        return;
    T2S_STAT_INC(&l->ctx->stats, dns_fake);
    local_reply(l, f, out, len);
}
