/*
 * Inside an association, shared by its three files only:
 *   udp_assoc.c        the table, the life cycle, the control connection
 *   udp_assoc_relay.c  the UDP socket to the relay: app -> relay datagrams
 *                      and relay -> app datagrams
 *   udp_assoc_dst.c    the destinations remembered (fake names and real
 *                      addresses) to give a reply the source the app expects
 */
#ifndef T2S_UDP_ASSOC_IMPL_H
#define T2S_UDP_ASSOC_IMPL_H

#include "codec/socks5.h"
#include "session/session.h"
#include "udp/udp_assoc.h"

/* Datagrams held per association while the handshake runs. */
#define ASSOC_QUEUE_MAX 32
/* Destinations remembered, most recent first, to tell which one a reply
 * that carries a real address comes from: fake names (each holding a
 * reference on its fake-ip entry) and real addresses. */
#define ASSOC_FAKES 8
#define ASSOC_REALS 8
/* One datagram: the largest UDP payload and the largest SOCKS header. */
#define ASSOC_BUF_SIZE (65536 + T2S_SOCKS5_UDP_HDR_MAX)
/* Datagrams read from a relay socket by one recvmmsg(2); their buffers
 * are touched (resident) only as far as datagrams fill them. */
#define ASSOC_RX_SLOTS 8

struct assoc_pending {
    struct pbuf *p;
    ip_addr_t dst;
    uint16_t port;
};

struct assoc_fake_dst {
    long entry;     /* fake-ip entry: one reference held */
    uint16_t port;  /* destination port */
    uint8_t bound;  /* a reply of this name came from addr */
    ip_addr_t addr; /* what the proxy resolved the name to */
};

struct assoc_real_dst {
    ip_addr_t addr;
    uint16_t port;
};

struct t2s_udp_assoc {
    struct t2s_session s;        /* first: control connection, timer, id */
    struct t2s_udp_assocs *as;   /* the owner */
    struct t2s_udp_assoc *hnext; /* hash chain */
    ip_addr_t app;
    uint16_t app_port;
    int udp_fd; /* to the relay, -1 until READY */
    ev_io udp_io;
    struct assoc_pending q[ASSOC_QUEUE_MAX];
    unsigned qn;
    struct assoc_fake_dst fakes[ASSOC_FAKES]; /* newest first */
    unsigned nfakes;
    struct assoc_real_dst reals[ASSOC_REALS]; /* newest first; fake-ip only */
    unsigned nreals;
    unsigned ready : 1;
    unsigned replied : 1;  /* a datagram came back */
    unsigned dns_only : 1; /* every datagram so far went to port 53 */
};

/* udp_assoc_relay.c */

/* Opens the UDP socket to the relay the proxy named (bnd) and watches it.
 * Returns 0, or -1 with errno set (the socket, if any, is closed by
 * t2s_udp_assoc_relay_close). */
int t2s_udp_assoc_relay_open(struct t2s_udp_assoc *a,
                             const struct t2s_socks5_addr *bnd);

/* Sends p (not consumed) to (dst, port) through the relay. */
void t2s_udp_assoc_relay_send(struct t2s_udp_assoc *a, const ip_addr_t *dst,
                              uint16_t port, struct pbuf *p);

/* Stops watching and closes the relay socket. */
void t2s_udp_assoc_relay_close(struct t2s_udp_assoc *a);

/* udp_assoc_dst.c */

/* Remembers a datagram's destination: the fake-ip entry its target named
 * (entry >= 0, a reference is taken) or, in fake-ip mode, the real one. */
void t2s_udp_assoc_dst_note(struct t2s_udp_assoc *a, long entry,
                            const ip_addr_t *dst, uint16_t port);

/* The source address the app sees for a reply from the proxy's `from`:
 * 0, -1 for a reply with no address the app can be given, -2 for one
 * that cannot be attributed. */
int t2s_udp_assoc_dst_reply_source(struct t2s_udp_assoc *a,
                                   const struct t2s_socks5_addr *from,
                                   ip_addr_t *src);

/* Drops the references on fake-ip entries. */
void t2s_udp_assoc_dst_release(struct t2s_udp_assoc *a);

#endif
