/*
 * Logging: one line per call, to the log sink of the live instance
 * (t2s_config_set_log() in t2s.h), or nowhere. The library itself never
 * writes to stderr or stdout; the program's sink writes the lines to
 * stderr (the journal under systemd). Never pass credentials to these
 * functions.
 *
 * The routing is process-wide, as lwIP is: one instance at a time owns it,
 * from t2s_log_attach() in t2s_create() to t2s_log_detach() in
 * t2s_destroy(). lwIP's diagnostics (lwip-port/arch/cc.h) take the same way.
 */
#ifndef T2S_LOG_H
#define T2S_LOG_H

#include "t2s.h" /* enum t2s_log_level, t2s_log_fn */

/* The live instance's level; -1 (nothing) while no sink is attached. Read
 * it to skip building a debug message; set it through t2s_log_attach(). */
extern int t2s_log_threshold;

/* Routes lines at or below level to fn(level, line, user); fn NULL: none.
 * Loop-owning thread only (t2s_create). */
void t2s_log_attach(t2s_log_fn fn, void *user, int level);

/* Back to no sink (t2s_destroy). */
void t2s_log_detach(void);

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
void t2s_log_fmt_endpoint(int family, const void *addr, unsigned port,
                          char *buf, unsigned long len);

#endif
