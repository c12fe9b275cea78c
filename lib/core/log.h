/*
 * Logging to stderr (the journal under systemd). One line per call.
 * Never pass credentials to these functions.
 */
#ifndef T2S_LOG_H
#define T2S_LOG_H

enum t2s_log_level {
    T2S_LOG_ERROR = 0,
    T2S_LOG_WARN = 1,
    T2S_LOG_INFO = 2,
    T2S_LOG_DEBUG = 3,
};

/* Current threshold; messages above it are discarded. Default INFO. */
extern int t2s_log_threshold;

/* Parse "error", "warn", "info", "debug"; returns the level or -1. */
int t2s_log_parse_level(const char *name);

void t2s_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Rate-limited error: at most a burst of lines per second per call site
 * token, then one "N messages suppressed" line when the flood ends.
 */
struct t2s_log_limit {
    double window_start; /* seconds, CLOCK_MONOTONIC */
    unsigned printed;    /* lines printed in this window */
    unsigned suppressed; /* lines dropped in this window */
};
void t2s_log_limited(struct t2s_log_limit *lim, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define t2s_err(...) t2s_log(T2S_LOG_ERROR, __VA_ARGS__)
#define t2s_warn(...) t2s_log(T2S_LOG_WARN, __VA_ARGS__)
#define t2s_info(...) t2s_log(T2S_LOG_INFO, __VA_ARGS__)
#define t2s_debug(...)                                                         \
    do {                                                                       \
        if (t2s_log_threshold >= T2S_LOG_DEBUG)                                \
            t2s_log(T2S_LOG_DEBUG, __VA_ARGS__);                               \
    } while (0)

/*
 * "198.18.0.1:80" or "[fd00::1]:80" (lowercase, RFC 5952) into buf.
 * family AF_INET with a 4-byte addr or AF_INET6 with a 16-byte addr.
 */
#define T2S_ENDPOINT_STRLEN 64
void t2s_fmt_endpoint(int family, const void *addr, unsigned port, char *buf,
                      unsigned long len);

#endif
