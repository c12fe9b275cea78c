/*
 * Counters. Written only by the loop thread (plain relaxed stores, no
 * read-modify-write cost), read from any thread with t2s_stats_snapshot().
 */
#ifndef T2S_STATS_H
#define T2S_STATS_H

#include <stdint.h>

struct t2s_stats {
    uint64_t tcp_active;          /* sessions open now */
    uint64_t tcp_total;           /* sessions ever accepted */
    uint64_t tcp_refused_limit;   /* SYNs refused by --max-conns */
    uint64_t bytes_up;            /* app -> proxy payload bytes */
    uint64_t bytes_down;          /* proxy -> app payload bytes */
    uint64_t err_proxy_connect;   /* proxy TCP connect failed */
    uint64_t err_proxy_auth;      /* method/auth rejected */
    uint64_t err_proxy_reply;     /* CONNECT answered with REP != 0 */
    uint64_t err_proxy_proto;     /* malformed replies */
    uint64_t err_timeout_connect; /* connect + handshake timeout */
    uint64_t err_timeout_idle;    /* idle timeout */
    uint64_t err_reset_app;       /* app reset the connection */
    uint64_t err_reset_proxy;     /* proxy side reset / socket error */
    uint64_t err_resource;        /* out of memory / descriptors */
    uint64_t tun_rx_packets;      /* packets read from the TUN */
    uint64_t tun_tx_packets;      /* packets written to the TUN */
    uint64_t tun_tx_dropped;      /* TUN writes that failed */
};

#define T2S_STAT_ADD(st, field, n)                                             \
    __atomic_store_n(&(st)->field, (st)->field + (uint64_t)(n),                \
                     __ATOMIC_RELAXED)
#define T2S_STAT_INC(st, field) T2S_STAT_ADD(st, field, 1)
#define T2S_STAT_DEC(st, field) T2S_STAT_ADD(st, field, -1)

/* Copy every counter with relaxed atomic loads (safe from other threads). */
void t2s_stats_snapshot(const struct t2s_stats *src, struct t2s_stats *dst);

/* Log every counter in one line at INFO. */
void t2s_stats_log(const struct t2s_stats *st);

#endif
