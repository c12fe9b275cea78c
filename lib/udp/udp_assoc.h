/*
 * UDP ASSOCIATE sessions: one per app source address and port (full cone:
 * every destination that socket talks to goes through the same
 * association, replies from any remote come back with that remote as
 * source). Each is a session (session/session.h) whose proxy socket is the
 * control TCP connection, plus its own UDP socket to the relay; it ends on
 * idle timeout, when the control connection closes, or at shutdown,
 * through t2s_session_close().
 *
 * struct t2s_udp_assocs is the associations' state, owned by the UDP relay
 * (udp_relay.h): the table by app address, the live list, the cap, what
 * the proxy told us about UDP, the datagram buffers both ways.
 */
#ifndef T2S_UDP_ASSOC_H
#define T2S_UDP_ASSOC_H

#include <ev.h>
#include <stdint.h>

#include "lwip/pbuf.h"

#include "session/ctx.h"
#include "core/list.h"
#include "udp/dns_tcp.h"
#include "udp/udp_batch.h"
#include "udp/udp_flow.h"
#include "udp/udp_tx.h"

struct t2s_udp_assoc;
struct t2s_fakeip;

struct t2s_udp_assocs {
    struct t2s_ctx *ctx;
    struct t2s_udp_tx *tx;        /* replies go to the app here */
    struct t2s_fakeip *fakeip;    /* the instance's, fake-ip mode only */
    struct t2s_dns_tcp *dns;      /* DNS queued in a failed association */
    struct t2s_udp_assoc **table; /* hash buckets by app address and port */
    struct t2s_list live;         /* every live association */
    unsigned count;               /* length of live */
    unsigned max;                 /* effective association cap */
    uint8_t *buf;                 /* ASSOC_RX_SLOTS datagrams from relays
                                     (one recvmmsg), each with its header */
    struct t2s_udp_batch batch;   /* datagrams to relays, sent in batches */
    int unsupported;              /* the proxy refused UDP ASSOCIATE */
    ev_tstamp unsupported_at;     /* when we learnt it (retry later) */
};

/* Returns 0, or -1 when out of memory (undone by t2s_udp_assoc_shutdown). */
int t2s_udp_assoc_init(struct t2s_udp_assocs *as, struct t2s_ctx *ctx,
                       struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip,
                       struct t2s_dns_tcp *dns, unsigned max);

/* Closes every association (their memory goes in t2s_session_reap) and
 * frees the table. */
void t2s_udp_assoc_shutdown(struct t2s_udp_assocs *as);

/* Forward one datagram (payload p, consumed) of flow f. */
void t2s_udp_assoc_input(struct t2s_udp_assocs *as,
                         const struct t2s_udp_flow *f, struct pbuf *p);

/* 0 while the proxy is known to refuse UDP ASSOCIATE (asked again after a
 * while), else 1. */
int t2s_udp_assoc_proxy_has_udp(struct t2s_udp_assocs *as);

#endif
