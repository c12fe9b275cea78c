/* Logging: one line per message to stderr with a level tag. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"

int t2s_log_threshold = T2S_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int
t2s_log_parse_level(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

static void log_line(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_line(int level, const char *fmt, va_list ap)
{
    char line[1024];
    int n;

    n = snprintf(line, sizeof(line), "tun2socks: %s: ", level_names[level]);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    /* one write per line so concurrent writers never interleave */
    fprintf(stderr, "%s\n", line);
}

void
t2s_log(int level, const char *fmt, ...)
{
    va_list ap;

    if (level < 0 || level > T2S_LOG_DEBUG || level > t2s_log_threshold)
        return;
    va_start(ap, fmt);
    log_line(level, fmt, ap);
    va_end(ap);
}

/* Lines let through per one-second window before suppression starts. */
#define LOG_BURST 10

static double
monotonic_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
t2s_log_limited(struct t2s_log_limit *lim, int level, const char *fmt, ...)
{
    double now = monotonic_seconds();
    va_list ap;

    if (level > t2s_log_threshold)
        return;
    if (now - lim->window_start >= 1.0) {
        if (lim->suppressed > 0)
            t2s_log(level, "%u similar messages suppressed", lim->suppressed);
        lim->window_start = now;
        lim->printed = 0;
        lim->suppressed = 0;
    }
    if (lim->printed >= LOG_BURST) {
        lim->suppressed++;
        return;
    }
    lim->printed++;
    va_start(ap, fmt);
    log_line(level, fmt, ap);
    va_end(ap);
}

void
t2s_fmt_endpoint(int family, const void *addr, unsigned port, char *buf,
                 unsigned long len)
{
    char a[INET6_ADDRSTRLEN];

    if (inet_ntop(family, addr, a, sizeof(a)) == NULL)
        snprintf(a, sizeof(a), "?");
    snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}
