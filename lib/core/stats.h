/*
 * Counters (struct t2s_stats is public, in t2s.h). Written only by the loop
 * thread (plain relaxed stores, no
 * read-modify-write cost), read from any thread with t2s_stats_snapshot().
 * One list drives the struct and the log line.
 */
#ifndef T2S_STATS_H
#define T2S_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "t2s.h"

/* X(field, log name, meaning) */
#define T2S_STATS_FIELDS(X)                                                    \
    X(tcp_active, "tcp_active", "sessions open now")                           \
    X(tcp_total, "tcp_total", "sessions ever accepted")                        \
    X(tcp_refused_limit, "tcp_refused_limit", "SYNs refused by --max-conns")   \
    X(bytes_up, "tcp_bytes_up", "app -> proxy payload bytes")                  \
    X(bytes_down, "tcp_bytes_down", "proxy -> app payload bytes")              \
    X(err_proxy_connect, "err_proxy_connect", "proxy TCP connect failed")      \
    X(err_proxy_auth, "err_proxy_auth", "method/auth rejected")                \
    X(err_proxy_reply, "err_proxy_reply", "CONNECT answered with REP != 0")    \
    X(err_proxy_proto, "err_proxy_proto", "malformed replies")                 \
    X(err_timeout_connect, "err_timeout_connect", "connect+handshake timeout") \
    X(err_timeout_idle, "err_timeout_idle", "idle timeout")                    \
    X(err_reset_app, "err_reset_app", "app reset the connection")              \
    X(err_reset_proxy, "err_reset_proxy", "proxy reset / socket error")        \
    X(err_resource, "err_resource", "out of memory / descriptors")             \
    X(udp_active, "udp_active", "UDP associations open now")                   \
    X(udp_total, "udp_total", "associations ever opened")                      \
    X(udp_pkts_up, "udp_pkts_up", "datagrams app -> proxy")                    \
    X(udp_pkts_down, "udp_pkts_down", "datagrams proxy -> app")                \
    X(udp_bytes_up, "udp_bytes_up", "UDP payload bytes app -> proxy")          \
    X(udp_bytes_down, "udp_bytes_down", "UDP payload bytes proxy -> app")      \
    X(udp_dropped, "udp_dropped", "queue full, cap reached, send failed")      \
    X(udp_unsupported, "udp_unsupported", "dropped: proxy has no UDP")         \
    X(udp_frag_dropped, "udp_frag_dropped", "FRAG != 0 from the relay")        \
    X(udp_bad, "udp_bad", "malformed datagrams from the relay")                \
    X(udp_ambiguous, "udp_ambiguous",                                          \
      "replies two fake names on one port could have sent")                    \
    X(err_udp_assoc, "err_udp_assoc", "UDP ASSOCIATE handshakes failed")       \
    X(dns_fake, "dns_fake", "queries answered from the fake pool")             \
    X(dns_fakeip_full, "dns_fakeip_full",                                      \
      "SERVFAIL: no fake-ip entry old enough to recycle")                      \
    X(dns_tcp, "dns_tcp", "queries forwarded as DNS over TCP")                 \
    X(dns_tcp_failed, "dns_tcp_failed", "of those, failed or timed out")       \
    X(tun_rx_packets, "tun_rx", "packets read from the TUN")                   \
    X(tun_tx_packets, "tun_tx", "packets written to the TUN")                  \
    X(tun_tx_dropped, "tun_tx_dropped", "TUN writes that failed")              \
    X(mem_used, "mem_used", "bytes counted against --memory-limit now")        \
    X(mem_peak, "mem_peak", "most bytes ever counted")                         \
    X(mem_refused, "mem_refused", "new sessions refused: memory budget")       \
    X(mem_shed, "mem_shed", "TUN packets with data dropped: memory budget")    \
    X(tcp_orphans, "tcp_orphans", "closing pcbs no session owns now")          \
    X(socket_hook_refused, "socket_hook_refused",                              \
      "proxy sockets the socket hook refused")                                 \
    X(dns_gw, "dns_gw", "queries sent to --dns-gateway")                       \
    X(dns_gw_failed, "dns_gw_failed", "of those, dropped or unsendable")       \
    X(protect_failed, "protect_failed",                                        \
      "proxy sockets the protect-path server refused or left unanswered")

/* The fields that go down as well as up (gauges for the stats socket's
 * Prometheus text); every other field only grows (a counter). */
#define T2S_STATS_GAUGES(X)                                                    \
    X(tcp_active) X(udp_active) X(mem_used) X(mem_peak) X(tcp_orphans)

/* The list and the public struct name the same fields in the same order. */
enum t2s_stats_index {
#define T2S_STATS_INDEX(f, name, help) T2S_STATS_INDEX_##f,
    T2S_STATS_FIELDS(T2S_STATS_INDEX)
#undef T2S_STATS_INDEX
        T2S_STATS_COUNT
};
#define T2S_STATS_CHECK(f, name, help)                                         \
    _Static_assert(offsetof(struct t2s_stats, f) ==                            \
                       T2S_STATS_INDEX_##f * sizeof(uint64_t),                 \
                   "t2s.h and T2S_STATS_FIELDS disagree on " #f);
T2S_STATS_FIELDS(T2S_STATS_CHECK)
#undef T2S_STATS_CHECK
_Static_assert(sizeof(struct t2s_stats) == T2S_STATS_COUNT * sizeof(uint64_t),
               "t2s.h has a counter T2S_STATS_FIELDS lacks");

#define T2S_STAT_ADD(st, field, n)                                             \
    __atomic_store_n(&(st)->field, (st)->field + (uint64_t)(n),                \
                     __ATOMIC_RELAXED)
#define T2S_STAT_SET(st, field, v)                                             \
    __atomic_store_n(&(st)->field, (uint64_t)(v), __ATOMIC_RELAXED)
#define T2S_STAT_INC(st, field) T2S_STAT_ADD(st, field, 1)
#define T2S_STAT_DEC(st, field) T2S_STAT_ADD(st, field, -1)

/* Copy every counter with relaxed atomic loads (safe from other threads). */
void t2s_stats_snapshot(const struct t2s_stats *src, struct t2s_stats *dst);

/* Every counter as "name=value ..." into buf (always NUL-terminated). */
void t2s_stats_format(const struct t2s_stats *st, char *buf, unsigned long len);

/* Log every counter in one line at INFO. */
void t2s_stats_log(const struct t2s_stats *st);

#endif
