/*
 * Several proxies (--proxy repeated, --proxy-policy): which proxy each new
 * session uses, which proxies are down, and the background probe that
 * brings a down proxy back. Owns the per-proxy state and counters; the
 * proxies themselves stay in the config (t2s_config_proxy()). Loop thread
 * only, but for t2s_proxy_pool_read() (relaxed loads, any thread).
 *
 * A proxy is marked down when a session's TCP connect to it fails or its
 * connect + handshake times out (logged once per transition). While down
 * it is probed every probe_interval seconds: a socket through
 * t2s_upstream_prepare() (mark, interface, protect, hook), a TCP connect
 * and the SOCKS5 greeting; a method reply (05 xx) within probe_interval
 * marks it up again (logged), as does a session that gets through.
 * With one proxy nothing is marked down or probed. Sessions never move: the
 * pool only chooses for new ones. When every proxy is down, a new session still
 * tries one, the least recently failed, rather than being refused.
 */
#ifndef T2S_PROXY_POOL_H
#define T2S_PROXY_POOL_H

#include <ev.h>
#include <stdint.h>

#include "config/config.h"
#include "core/stats.h"

#define T2S_PROXY_POOL_PROBE_S 3.0 /* default seconds between probes */

struct t2s_proxy_pool;

struct t2s_proxy_slot {
    struct t2s_proxy_pool *pool;
    unsigned index;       /* in the config's list */
    uint64_t up;          /* 1 up, 0 down (read by other threads) */
    uint64_t sessions;    /* sessions started on it */
    uint64_t active;      /* sessions open on it now */
    uint64_t failures;    /* connect failures and connect timeouts */
    ev_tstamp failed_at;  /* ev_now() of the last failure, 0: never */
    int probe_fd;         /* -1: no probe running */
    uint8_t probe_got;    /* bytes of the method reply received */
    uint8_t probe_in[2];  /* the method reply */
    ev_io probe_io;       /* the probe socket */
    ev_timer probe_timer; /* down: next probe; probing: its deadline */
    uint8_t pipe;         /* --socks-pipeline auto: what it showed
                             (session/pipeline.h owns it) */
};

struct t2s_proxy_pool {
    struct ev_loop *loop;
    const struct t2s_config *cfg;
    struct t2s_stats *stats; /* protect_failed, socket_hook_refused */
    unsigned n;              /* proxies (at least 1) */
    unsigned next;           /* round-robin: where the next search starts */
    double probe_interval;   /* seconds; tests may shorten it */
    struct t2s_proxy_slot slot[T2S_PROXY_MAX];
};

/* Every proxy of cfg up, no probe running. */
void t2s_proxy_pool_init(struct t2s_proxy_pool *pool, struct ev_loop *loop,
                         const struct t2s_config *cfg, struct t2s_stats *st);

/* Stops the probes (their sockets closed) and timers. Idempotent. */
void t2s_proxy_pool_stop(struct t2s_proxy_pool *pool);

/* The proxy for a new session (see the policy above). */
unsigned t2s_proxy_pool_pick(struct t2s_proxy_pool *pool);

/* A session started on proxy i / ended (closed). */
void t2s_proxy_pool_started(struct t2s_proxy_pool *pool, unsigned i);
void t2s_proxy_pool_ended(struct t2s_proxy_pool *pool, unsigned i);

/* A session's connect to proxy i failed or timed out (why: one line,
 * no credentials): counted, and the proxy marked down. */
void t2s_proxy_pool_failed(struct t2s_proxy_pool *pool, unsigned i,
                           const char *why);

/* A session's handshake with proxy i went through: it is up. */
void t2s_proxy_pool_ok(struct t2s_proxy_pool *pool, unsigned i);

/* Proxy i's counters and state (any thread); -1 when i is past the last. */
int t2s_proxy_pool_read(const struct t2s_proxy_pool *pool, unsigned i,
                        struct t2s_proxy_stats *out);

#endif
