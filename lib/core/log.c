/* Logging: one line per message to the live instance's sink. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"

int t2s_log_threshold = -1;

/* The live instance's sink (one instance at a time: see log.h). */
static t2s_log_fn sink_fn;
static void *sink_user;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
t2s_log_attach(t2s_log_fn fn, void *user, int level)
{
    sink_fn = fn;
    sink_user = user;
    t2s_log_threshold = fn != NULL ? level : -1;
}

void
t2s_log_detach(void)
{
    t2s_log_attach(NULL, NULL, -1);
}

const char *
t2s_log_level_name(int level)
{
    return level >= 0 && level <= T2S_LOG_DEBUG ? level_names[level] : "?";
}

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
    t2s_log_fn fn = sink_fn;

    if (fn == NULL)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    fn(level, line, sink_user);
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
t2s_log_fmt_endpoint(int family, const void *addr, unsigned port, char *buf,
                     unsigned long len)
{
    char a[INET6_ADDRSTRLEN];

    if (inet_ntop(family, addr, a, sizeof(a)) == NULL)
        snprintf(a, sizeof(a), "?");
    snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}
