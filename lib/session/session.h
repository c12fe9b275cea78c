/*
 * The one life cycle of every session toward the proxy: TCP sessions
 * (tcp/), UDP associations (udp/), DNS-over-TCP queries (udp/dns_tcp) and
 * DNS gateway flows (udp/dns_gw).
 *
 *   t2s_session_start()   proxy socket (policy, socket hook), SOCKS
 *                         handshake, watcher, connect timer; linked into
 *                         the kind's live list (t2s_session_adopt(): a
 *                         socket of the kind's own, no handshake)
 *   ops->on_handshake()   the proxy granted or refused the request
 *   ops->on_io()          the proxy socket is ready (after the handshake)
 *   ops->on_timer()       the timer armed with t2s_session_arm() fired
 *   t2s_session_close()   the one close path, idempotent: stops the
 *                         watcher and the timer, ops->release() frees what
 *                         only the kind holds, the socket is closed (RST
 *                         on abort), the session moves to ctx->dead
 *   t2s_session_reap()    after the loop iteration: frees the dead
 *
 * No callback frees its own object: memory goes only in
 * t2s_session_reap(), which the instance calls once per loop iteration.
 * struct t2s_session is the FIRST member of each kind's struct, which is
 * allocated with t2s_mem_calloc() and freed by the reaper.
 */
#ifndef T2S_SESSION_H
#define T2S_SESSION_H

#include <ev.h>
#include <stdint.h>

#include "codec/socks5.h"
#include "session/ctx.h"
#include "core/list.h"
#include "upstream/upstream.h"

struct t2s_session;

enum t2s_session_how {
    T2S_SESSION_GRACEFUL = 0, /* FIN to the proxy */
    T2S_SESSION_ABORT = 1,    /* RST to the proxy (SO_LINGER 0) */
};

struct t2s_session_ops {
    /* result T2S_UP_DONE: s->up holds the reply (BND.ADDR, bytes the
     * proxy sent behind it) and is freed when this returns; T2S_UP_FAIL:
     * s->up says why (t2s_upstream_describe); the kind closes s. */
    void (*on_handshake)(struct t2s_session *s, int result);
    /* The proxy socket is ready (EV_READ/EV_WRITE) after the handshake. */
    void (*on_io)(struct t2s_session *s, int revents);
    /* The timer fired: the connect timeout while s->up != NULL, then
     * whatever the kind armed. */
    void (*on_timer)(struct t2s_session *s);
    /* Once, from t2s_session_close(), before the socket is closed:
     * releases what only this kind holds (pcbs, queues, references,
     * counters) and logs the close. */
    void (*release)(struct t2s_session *s, int how, const char *why);
};

struct t2s_session {
    const struct t2s_session_ops *ops;
    struct t2s_ctx *ctx;
    struct t2s_list link;    /* the kind's live list, then ctx->dead */
    uint64_t id;             /* for logs */
    int fd;                  /* socket to the proxy, -1 once closed */
    int io_events;           /* events io runs with; 0: stopped */
    ev_io io;                /* fd readiness */
    ev_timer timer;          /* t2s_session_arm() */
    ev_tstamp last_active;   /* t2s_session_touch() */
    struct t2s_upstream *up; /* handshake; NULL once it is over */
    /* the proxy this session went to (one of cfg's; t2s_session_start()
     * chose it with ctx->pool); NULL for t2s_session_adopt() */
    const struct t2s_proxy *proxy;
    unsigned proxy_index;    /* its number in the config's list */
    float up_timeout;        /* seconds the handshake may take */
    unsigned closed : 1;     /* t2s_session_close() ran */
    unsigned pipe_trial : 1; /* the handshake is a pipelining trial: the
                                timer is its T2S_PIPELINE_TRIAL_S */
};

/*
 * Starts s (zeroed, first member of its kind's struct): chooses the proxy
 * (ctx->pool; a proxy that refuses the connect at once is marked down and
 * the next one tried), opens the proxy socket, prepares the SOCKS5 request
 * (cmd, dst), watches the socket for the first step, arms the timer for
 * timeout_s, gives s an id and links it first in live. Returns 0, or -1 with
 * errno set (nothing to undo: s is not linked and holds nothing).
 */
int t2s_session_start(struct t2s_session *s, struct t2s_ctx *ctx,
                      const struct t2s_session_ops *ops, struct t2s_list *live,
                      uint8_t cmd, const struct t2s_socks5_addr *dst,
                      double timeout_s);

/*
 * Starts s (zeroed, first member of its kind's struct) on a socket the
 * kind opened and prepared itself, with no proxy handshake (the DNS
 * gateway's UDP socket): ops->on_io runs from the first event. Watches fd
 * for events, arms the timer for timeout_s, gives s an id and links it
 * first in live. s owns fd from here: t2s_session_close() closes it.
 */
void t2s_session_adopt(struct t2s_session *s, struct t2s_ctx *ctx,
                       const struct t2s_session_ops *ops, struct t2s_list *live,
                       int fd, int events, double timeout_s);

/* Watches fd for events (EV_READ|EV_WRITE), or stops watching (0). */
void t2s_session_want(struct t2s_session *s, int events);

/* The timer fires once after seconds; 0 stops it. */
void t2s_session_arm(struct t2s_session *s, double seconds);

/* Marks activity now (for t2s_session_idle_expired). */
void t2s_session_touch(struct t2s_session *s);

/*
 * From on_timer: 1 when idle_s have passed since the last activity, else
 * re-arms the timer for the time left and returns 0.
 */
int t2s_session_idle_expired(struct t2s_session *s, double idle_s);

/* The one close path (see above). Idempotent. */
void t2s_session_close(struct t2s_session *s, int how, const char *why);

/* Closes every session of a live list (shutdown). */
void t2s_session_close_all(struct t2s_list *live, int how, const char *why);

/* Frees the sessions closed since the last call. */
void t2s_session_reap(struct t2s_ctx *ctx);

/* The session of a live-list node. */
static inline struct t2s_session *
t2s_session_of(struct t2s_list *node)
{
    return T2S_CONTAINER_OF(node, struct t2s_session, link);
}

#endif
