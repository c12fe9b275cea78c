/*
 * One TCP session: a connection lwIP terminates, relayed to one SOCKS5
 * CONNECT. Internal to lib/tcp/: tcp_relay.c admits and creates sessions,
 * tcp_to_proxy.c and tcp_to_app.c move the bytes, this file holds the
 * life cycle. Loop thread only.
 *
 * SYN from the app -> session created, proxy socket connecting, handshake
 * (the app waits in SYN_RCVD; no SYN|ACK yet) -> CONNECT granted: SYN|ACK
 * sent, relay -> both directions shut -> graceful close. Any error, reset
 * or timeout aborts both sides (RST to the app, RST to the proxy).
 *
 * The life cycle is the session base's (session/session.h): every close
 * goes through t2s_session_close(&s->base, ...), whose release callback
 * lets go of the pcb, the queues and the fake-ip entry; the memory is
 * freed after the loop iteration by t2s_session_reap(), so no callback
 * frees its own object. The relay's live list holds s->base.link.
 */
#ifndef T2S_TCP_SESSION_H
#define T2S_TCP_SESSION_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "lwip/tcp.h"

#include "buf/blkq.h"
#include "buf/pbq.h"
#include "codec/socks5.h"
#include "core/list.h"
#include "session/session.h"

struct t2s_tcp_relay;
struct t2s_tcp_gss;

struct t2s_tcp_session {
    struct t2s_session base;     /* first: socket, watcher, timer, close */
    struct t2s_tcp_relay *relay; /* owns the lists below and the buffers */
    struct tcp_pcb *pcb;         /* NULL once lwIP freed it or we let go */
    struct t2s_pbq to_proxy;     /* app bytes the socket has not taken */
    struct t2s_blkq to_app;      /* proxy bytes lwIP references */
    struct t2s_list dirty_link;  /* relay's flush list, or unlinked */
    struct t2s_list mem_link;    /* relay's memory waiters, or unlinked */
    unsigned relaying : 1;       /* handshake done, SYN|ACK sent */
    unsigned app_eof : 1;        /* FIN from the app */
    unsigned proxy_shut : 1;     /* shutdown(SHUT_WR) done on the proxy */
    unsigned proxy_eof : 1;      /* EOF from the proxy, FIN queued */
    unsigned app_gone : 1;       /* lwIP finished the pcb (ERR_CLSD) */
    unsigned read_paused : 1;    /* lwIP send buffer full */
    unsigned pcb_aborted : 1;    /* we aborted the pcb in a callback */
    unsigned fin_pending : 1;    /* proxy EOF seen before the handshake ended */
    unsigned bulk : 1;           /* proxy reads go into blocks (tcp_to_app.c) */
    long fake_entry;             /* fake-ip entry pinned, or -1 */
    struct t2s_tcp_gss *gss;     /* GSSAPI protection (tcp_gss.h), or NULL */
};

/*
 * A session for npcb (in SYN_RCVD, taken from lwIP's SYN hook) toward
 * dst: proxy socket opened, handshake started, linked in the relay's live
 * list, lwIP callbacks set, fake_entry (>= 0) pinned. NULL with errno set
 * when the socket or memory is missing (npcb is untouched).
 */
struct t2s_tcp_session *t2s_tcp_session_new(struct t2s_tcp_relay *r,
                                            struct tcp_pcb *npcb,
                                            const struct t2s_socks5_addr *dst,
                                            long fake_entry);

/* The app acknowledged our SYN|ACK (the listener's accept callback). */
void t2s_tcp_session_established(struct t2s_tcp_session *s);

/* Relay phase: read when the app can take data, write when queued. */
void t2s_tcp_session_update_io(struct t2s_tcp_session *s);

/* tcp_output() for s at the end of this loop iteration. */
void t2s_tcp_session_mark_dirty(struct t2s_tcp_session *s);

/* App FIN -> shutdown(SHUT_WR) on the proxy once its queue is written. */
void t2s_tcp_session_maybe_shutdown_proxy(struct t2s_tcp_session *s);

/* Graceful close once both directions are done. */
void t2s_tcp_session_maybe_finish(struct t2s_tcp_session *s);

/* The session stops using its pcb: no more callbacks from lwIP. The
 * caller has made sure lwIP's segments hold no reference into s->to_app,
 * which is returned to the pool. */
void t2s_tcp_session_forget_pcb(struct t2s_tcp_session *s);

/* "APP -> DST" of a pcb, for log lines. */
#define T2S_TCP_SESSION_WHO_LEN (2 * T2S_ENDPOINT_STRLEN + 8)
void t2s_tcp_session_describe(const struct tcp_pcb *pcb, char *buf, size_t len);

/* Whether a send/recv result ends the connection (EAGAIN and EINTR do
 * not). */
static inline int
t2s_tcp_session_sock_failed(ssize_t n)
{
    return n < 0 && errno != EAGAIN && errno != EINTR;
}

/* The session of a list node of the relay's dirty or memory lists. */
#define T2S_TCP_SESSION_OF(node, member)                                       \
    T2S_CONTAINER_OF(node, struct t2s_tcp_session, member)

#endif
