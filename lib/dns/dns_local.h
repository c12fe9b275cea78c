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

#include "core/instance.h"
#include "udp/udp_io.h"

/* TTL of our answers (seconds). Apps re-ask after it, which keeps entries
 * fresh; an entry is not recycled until twice this long after its last
 * use, so an answer still in an app's cache keeps its meaning. */
#define T2S_DNS_FAKE_TTL 60

/* Is f addressed to the fake-ip DNS server? */
int t2s_dns_local_match(const struct t2s_instance *t,
                        const struct t2s_udp_flow *f);

/* Answer the query in p (consumed). */
void t2s_dns_local_query(struct t2s_instance *t, const struct t2s_udp_flow *f,
                         struct pbuf *p);

#endif
