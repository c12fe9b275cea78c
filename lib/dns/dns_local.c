/* The fake-ip resolver. */
#include <string.h>
#include <sys/socket.h>

#include "codec/dns.h"
#include "dns/dns_local.h"
#include "dns/dns_tcp.h"
#include "dns/fakeip.h"

/* Largest query we look at; DNS over UDP without EDNS is 512. */
#define QUERY_MAX 4096

int
t2s_dns_local_match(const struct t2s_instance *t, const struct t2s_udp_flow *f)
{
    if (IP_IS_V6(&f->dst))
        return memcmp(ip_2_ip6(&f->dst)->addr, t->cfg.dns_addr6, 16) == 0;
    return memcmp(&ip_2_ip4(&f->dst)->addr, t->cfg.dns_addr4, 4) == 0;
}

static void
reply(struct t2s_instance *t, const struct t2s_udp_flow *f, const uint8_t *msg,
      size_t len)
{
    t2s_udp_to_app(t, &f->app, f->app_port, &f->dst, f->dst_port, msg, len);
}

void
t2s_dns_local_query(struct t2s_instance *t, const struct t2s_udp_flow *f,
                    struct pbuf *p)
{
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
                (q.qtype == T2S_DNS_TYPE_AAAA && t->cfg.fake_prefix6 != 0)) &&
               q.name_len > 0) {
        long e;

        t2s_fakeip_tick(t->fakeip, t2s_fakeip_clock());
        e = t2s_fakeip_lookup_name(t->fakeip, q.name, q.name_len,
                                   q.qtype == T2S_DNS_TYPE_A ? addr
                                                             : (uint8_t[4]){0},
                                   q.qtype == T2S_DNS_TYPE_AAAA ? addr : NULL);

        if (e >= 0) {
            n_addrs = 1;
        } else {
            /* every entry in use or too young to recycle */
            rcode = T2S_DNS_RCODE_SERVFAIL;
            T2S_STAT_INC(&t->ctx.stats, dns_fakeip_full);
        }
    } else if (t->cfg.resolver_family != 0) {
        /* Not ours to invent (MX, TXT, SRV, ...): ask the real resolver. */
        t2s_dns_tcp_query(t, f, p);
        return;
    }
    /* else: an empty NOERROR answer (no such data here) */
    pbuf_free(p);
    len = t2s_dns_build_response(out, sizeof(out), &q, with_q, rcode, addr,
                                 (size_t)n_addrs, T2S_DNS_FAKE_TTL);
    if (len == 0)
        return;
    T2S_STAT_INC(&t->ctx.stats, dns_fake);
    reply(t, f, out, len);
}
