/*
 * The fake-ip resolver: answers A and AAAA queries sent to --dns-addr with
 * addresses from the fake pool, so names are resolved by the proxy when
 * connections to those addresses arrive. Other query types go to
 * --dns-resolver over TCP when one is configured, otherwise get an empty
 * NOERROR answer; non-queries get NOTIMP, malformed ones FORMERR.
 */
#ifndef T2S_DNS_LOCAL_H
#define T2S_DNS_LOCAL_H

#include "lwip/pbuf.h"

#include "config/config.h"
#include "session/ctx.h"
#include "udp/dns_tcp.h"
#include "udp/udp_flow.h"
#include "udp/udp_tx.h"

struct t2s_fakeip;

/* TTL of our answers (seconds). Apps re-ask after it, which keeps entries
 * fresh; an entry is not recycled until twice this long after its last
 * use, so an answer still in an app's cache keeps its meaning. */
#define T2S_DNS_FAKE_TTL 60

/* What the fake-ip resolver answers with; owned by the DNS relay. */
struct t2s_dns_local {
    struct t2s_ctx *ctx;
    struct t2s_udp_tx *tx;     /* answers go to the app here */
    struct t2s_fakeip *fakeip; /* the instance's; NULL unless fake-ip mode */
    struct t2s_dns_tcp *tcp;   /* other query types, to --dns-resolver */
};

/*
 * The pool fake-ip mode needs (the instance creates it and owns it), sized
 * and aged for our answers' TTL; NULL on bad settings or out of memory.
 */
struct t2s_fakeip *t2s_dns_local_pool_new(const struct t2s_config *c);

void t2s_dns_local_init(struct t2s_dns_local *l, struct t2s_ctx *ctx,
                        struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip,
                        struct t2s_dns_tcp *tcp);

/* Is f addressed to the fake-ip DNS server? */
int t2s_dns_local_match(const struct t2s_dns_local *l,
                        const struct t2s_udp_flow *f);

/* Answer the query in p (consumed). */
void t2s_dns_local_query(struct t2s_dns_local *l, const struct t2s_udp_flow *f,
                         struct pbuf *p);

#endif
