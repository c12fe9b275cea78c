/* Counter snapshot and the SIGUSR1 log line. */
#include <inttypes.h>
#include <stddef.h>

#include "log.h"
#include "stats.h"

void
t2s_stats_snapshot(const struct t2s_stats *src, struct t2s_stats *dst)
{
    const uint64_t *s = (const uint64_t *)src;
    uint64_t *d = (uint64_t *)dst;

    for (size_t i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void
t2s_stats_log(const struct t2s_stats *src)
{
    struct t2s_stats st;

    t2s_stats_snapshot(src, &st);
    t2s_log(T2S_LOG_INFO,
            "stats: tcp active=%" PRIu64 " total=%" PRIu64
            " refused_limit=%" PRIu64 " bytes up=%" PRIu64 " down=%" PRIu64
            " errors: proxy_connect=%" PRIu64 " proxy_auth=%" PRIu64
            " proxy_reply=%" PRIu64 " proxy_proto=%" PRIu64
            " timeout_connect=%" PRIu64 " timeout_idle=%" PRIu64
            " reset_app=%" PRIu64 " reset_proxy=%" PRIu64 " resource=%" PRIu64
            " tun rx=%" PRIu64 " tx=%" PRIu64 " tx_dropped=%" PRIu64,
            st.tcp_active, st.tcp_total, st.tcp_refused_limit, st.bytes_up,
            st.bytes_down, st.err_proxy_connect, st.err_proxy_auth,
            st.err_proxy_reply, st.err_proxy_proto, st.err_timeout_connect,
            st.err_timeout_idle, st.err_reset_app, st.err_reset_proxy,
            st.err_resource, st.tun_rx_packets, st.tun_tx_packets,
            st.tun_tx_dropped);
}
