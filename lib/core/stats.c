/* Counter snapshot and the SIGUSR1 log line. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "core/log.h"
#include "core/stats.h"

void
t2s_stats_snapshot(const struct t2s_stats *src, struct t2s_stats *dst)
{
#define T2S_STATS_COPY(f, name, help)                                          \
    dst->f = __atomic_load_n(&src->f, __ATOMIC_RELAXED);
    T2S_STATS_FIELDS(T2S_STATS_COPY)
#undef T2S_STATS_COPY
}

void
t2s_stats_format(const struct t2s_stats *src, char *buf, unsigned long len)
{
    struct t2s_stats st;
    size_t off = 0;

    if (len == 0)
        return;
    buf[0] = '\0';
    t2s_stats_snapshot(src, &st);
#define T2S_STATS_PRINT(f, name, help)                                         \
    if (off < len)                                                             \
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%" PRIu64,         \
                                off ? " " : "", name, st.f);
    T2S_STATS_FIELDS(T2S_STATS_PRINT)
#undef T2S_STATS_PRINT
}

void
t2s_stats_log(const struct t2s_stats *src)
{
    char line[2048];

    t2s_stats_format(src, line, sizeof(line));
    t2s_log(T2S_LOG_INFO, "stats: %s", line);
}
