/*
 * The counters as the stats socket (api/stats_socket.h) answers them,
 * pure: what a request line asks for, the JSON object, the Prometheus
 * text, and the HTTP/1.0 response around either. No I/O, no allocation,
 * no logging; every output is NUL-terminated when len > 0 and the return
 * value is the length the whole text needs (as snprintf's), so a caller
 * sees truncation as a return >= len.
 *
 * Request lines (the first line a client sends, CR LF or LF):
 *   ""  "/"  "json"  "/json"  "stats"  "/stats"   the JSON object
 *   "metrics"  "/metrics"                        Prometheus text
 *   "GET PATH" (HTTP/0.9 style)                  as PATH, no headers
 *   "GET PATH HTTP/1.x"                          as PATH, HTTP/1.0 answer
 * A query string ("?...") is ignored. Any other path is NOT_FOUND (HTTP
 * 404, else a JSON error object); another HTTP method is METHOD (405); a
 * line with control bytes, the wrong shape or no end within the server's
 * limit is BAD (HTTP 400 when it looks like HTTP, else a JSON error).
 */
#ifndef T2S_STATS_FORMAT_H
#define T2S_STATS_FORMAT_H

#include <stddef.h>

#include "t2s.h"

enum t2s_stats_format_kind {
    T2S_STATS_FORMAT_JSON = 0,      /* the counters as one JSON object */
    T2S_STATS_FORMAT_METRICS = 1,   /* Prometheus text format 0.0.4 */
    T2S_STATS_FORMAT_NOT_FOUND = 2, /* a path we do not serve */
    T2S_STATS_FORMAT_METHOD = 3,    /* HTTP, but not GET */
    T2S_STATS_FORMAT_BAD = 4,       /* malformed or too long */
};

struct t2s_stats_format_req {
    int kind; /* enum t2s_stats_format_kind */
    int http; /* answer with an HTTP/1.0 status line and headers */
};

/*
 * What buf[0..len) asks for: its first line, or all of it when it has no
 * '\n' (the client stopped sending). truncated: the server's buffer
 * filled up before a '\n' (the request is BAD).
 */
void t2s_stats_format_parse(const char *buf, size_t len, int truncated,
                            struct t2s_stats_format_req *req);

/* The proxies' counters (t2s_get_proxy_stats()), n of them; NULL or
 * n == 0: none shown. */
struct t2s_stats_format_proxies {
    const struct t2s_proxy_stats *p;
    unsigned n;
};

/* {"tcp_active":0,...}\n: every field of struct t2s_stats by its name. */
size_t t2s_stats_format_json(const struct t2s_stats *st, char *buf, size_t len);

/* The same, then "proxies":[{"url":"socks5://h:p","up":1,"sessions":N,
 * "active":N,"failures":N},...] when px has any. */
size_t t2s_stats_format_json_proxies(const struct t2s_stats *st,
                                     const struct t2s_stats_format_proxies *px,
                                     char *buf, size_t len);

/* "# HELP t2s_NAME ...", "# TYPE t2s_NAME counter|gauge", "t2s_NAME V"
 * per field; a counter's NAME ends in "_total" (t2s_bytes_up_total,
 * t2s_tcp_total), a gauge's is the field (t2s_tcp_active). */
size_t t2s_stats_format_prometheus(const struct t2s_stats *st, char *buf,
                                   size_t len);

/* The same, then t2s_proxy_up, t2s_proxy_sessions_total, t2s_proxy_active
 * and t2s_proxy_failures_total, one sample per proxy labelled
 * proxy="URL", when px has any. */
size_t
t2s_stats_format_prometheus_proxies(const struct t2s_stats *st,
                                    const struct t2s_stats_format_proxies *px,
                                    char *buf, size_t len);

/* The whole answer to req: the body for its kind, with the HTTP status
 * line and headers (Content-Type, Content-Length, Connection: close)
 * first when req->http. */
size_t t2s_stats_format_response(const struct t2s_stats *st,
                                 const struct t2s_stats_format_req *req,
                                 char *buf, size_t len);

/* The same with the proxies' counters (px may be NULL). */
size_t t2s_stats_format_response_proxies(
    const struct t2s_stats *st, const struct t2s_stats_format_proxies *px,
    const struct t2s_stats_format_req *req, char *buf, size_t len);

#endif
