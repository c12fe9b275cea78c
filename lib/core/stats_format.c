/* The stats socket's request line and answers, pure (stats_format.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/stats.h"
#include "core/stats_format.h"

/* Text appended to buf[0..len), counting what did not fit. */
struct out {
    char *buf;
    size_t len;
    size_t off; /* bytes the text needs so far */
};

__attribute__((format(printf, 2, 3))) static void
put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->off < o->len ? o->len - o->off : 0;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(room > 0 ? o->buf + o->off : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->off += (size_t)n;
}

static size_t
done(struct out *o)
{
    if (o->len > 0 && o->off >= o->len)
        o->buf[o->len - 1] = '\0'; /* truncated: still a string */
    return o->off;
}

/* ---- the request line ------------------------------------------------- */

static int
looks_http(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    return i > 0 && i < n && s[i] == ' ';
}

static int
token_is(const char *t, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(t, word, n) == 0;
}

static int
path_kind(const char *p, size_t n)
{
    static const char *const json[] = {"",      "/",     "json",
                                       "/json", "stats", "/stats"};
    const char *q = memchr(p, '?', n);

    if (q != NULL)
        n = (size_t)(q - p);
    if (token_is(p, n, "metrics") || token_is(p, n, "/metrics"))
        return T2S_STATS_FORMAT_METRICS;
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        if (token_is(p, n, json[i]))
            return T2S_STATS_FORMAT_JSON;
    return T2S_STATS_FORMAT_NOT_FOUND;
}

/* Splits s[0..n) at spaces and tabs: at most max tokens; returns how many
 * there were (max + 1 when there are more). */
static size_t
split(const char *s, size_t n, const char **tok, size_t *tlen, size_t max)
{
    size_t count = 0, i = 0;

    while (i < n) {
        size_t start;

        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n)
            break;
        if (count == max)
            return max + 1;
        start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        tok[count] = s + start;
        tlen[count++] = i - start;
    }
    return count;
}

void
t2s_stats_format_parse(const char *buf, size_t len, int truncated,
                       struct t2s_stats_format_req *req)
{
    const char *nl = memchr(buf, '\n', len), *tok[3];
    size_t n = nl != NULL ? (size_t)(nl - buf) : len, tlen[3], ntok;

    req->kind = T2S_STATS_FORMAT_BAD;
    req->http = looks_http(buf, n);
    if (nl == NULL && truncated)
        return;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)buf[i] < 0x20 && buf[i] != '\t') ||
            (unsigned char)buf[i] == 0x7f)
            return;
    ntok = split(buf, n, tok, tlen, 3);
    if (ntok == 0) {
        req->kind = T2S_STATS_FORMAT_JSON;
        return;
    }
    if (ntok == 1) {
        req->kind = path_kind(tok[0], tlen[0]);
        return;
    }
    if (ntok == 3 && tlen[2] > 5 && memcmp(tok[2], "HTTP/", 5) == 0) {
        req->http = 1;
        req->kind = token_is(tok[0], tlen[0], "GET")
                        ? path_kind(tok[1], tlen[1])
                        : T2S_STATS_FORMAT_METHOD;
        return;
    }
    if (ntok != 2)
        return;    /* BAD; an HTTP-shaped line gets a 400 */
    req->http = 0; /* "GET PATH", HTTP/0.9 style: no headers */
    if (token_is(tok[0], tlen[0], "GET"))
        req->kind = path_kind(tok[1], tlen[1]);
}

/* ---- the answers ------------------------------------------------------ */

static const unsigned char is_gauge[T2S_STATS_COUNT] = {
#define T2S_STATS_GAUGE(f) [T2S_STATS_INDEX_##f] = 1,
    T2S_STATS_GAUGES(T2S_STATS_GAUGE)
#undef T2S_STATS_GAUGE
};

/* s as a JSON or Prometheus label string body: '"' and '\\' escaped (a
 * proxy URL holds neither, but a name is not ours to trust). */
static void
put_escaped(struct out *o, const char *s)
{
    for (; *s != '\0'; s++)
        put(o, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
}

/* ,"proxies":[{"url":...,"up":1,"sessions":N,"active":N,"failures":N}] */
static void
put_proxies_json(struct out *o, const struct t2s_stats_format_proxies *px)
{
    if (px == NULL || px->n == 0)
        return;
    put(o, ",\"proxies\":[");
    for (unsigned i = 0; i < px->n; i++) {
        const struct t2s_proxy_stats *p = &px->p[i];

        put(o, "%s{\"url\":\"", i > 0 ? "," : "");
        put_escaped(o, p->url);
        put(o,
            "\",\"up\":%d,\"sessions\":%" PRIu64 ",\"active\":%" PRIu64
            ",\"failures\":%" PRIu64 "}",
            p->up, p->sessions, p->active, p->failures);
    }
    put(o, "]");
}

size_t
t2s_stats_format_json(const struct t2s_stats *st, char *buf, size_t len)
{
    return t2s_stats_format_json_proxies(st, NULL, buf, len);
}

size_t
t2s_stats_format_json_proxies(const struct t2s_stats *st,
                              const struct t2s_stats_format_proxies *px,
                              char *buf, size_t len)
{
    struct out o = {buf, len, 0};
    const char *sep = "";

    put(&o, "{");
#define T2S_STATS_JSON(f, name, help)                                          \
    put(&o, "%s\"%s\":%" PRIu64, sep, #f, st->f);                              \
    sep = ",";
    T2S_STATS_FIELDS(T2S_STATS_JSON)
#undef T2S_STATS_JSON
    put_proxies_json(&o, px);
    put(&o, "}\n");
    return done(&o);
}

/* The metric's name: t2s_FIELD, and for a counter the conventional
 * "_total" suffix unless the field already ends in it (tcp_total). */
static void
put_name(struct out *o, const char *field, int gauge)
{
    size_t n = strlen(field);
    int suffix = !gauge && (n < 6 || strcmp(field + n - 6, "_total") != 0);

    put(o, "t2s_%s%s", field, suffix ? "_total" : "");
}

static void
put_metric(struct out *o, const char *field, const char *help, int gauge,
           uint64_t v)
{
    /* help texts hold no backslash or newline: no escaping needed */
    put(o, "# HELP ");
    put_name(o, field, gauge);
    put(o, " %s\n# TYPE ", help);
    put_name(o, field, gauge);
    put(o, " %s\n", gauge ? "gauge" : "counter");
    put_name(o, field, gauge);
    put(o, " %" PRIu64 "\n", v);
}

/* One per-proxy metric: HELP, TYPE, then a sample per proxy labelled
 * proxy="URL". which: 0 up, 1 sessions, 2 active, 3 failures. */
static void
put_proxy_metric(struct out *o, const struct t2s_stats_format_proxies *px,
                 int which)
{
    static const char *const names[] = {"proxy_up", "proxy_sessions_total",
                                        "proxy_active", "proxy_failures_total"};
    static const char *const helps[] = {
        "1 when the proxy is up, 0 while it is marked down",
        "sessions started on the proxy", "sessions open on the proxy now",
        "connects to the proxy that failed or timed out"};

    put(o, "# HELP t2s_%s %s\n# TYPE t2s_%s %s\n", names[which], helps[which],
        names[which], which == 1 || which == 3 ? "counter" : "gauge");
    for (unsigned i = 0; i < px->n; i++) {
        const struct t2s_proxy_stats *p = &px->p[i];
        uint64_t v = which == 0   ? (uint64_t)p->up
                     : which == 1 ? p->sessions
                     : which == 2 ? p->active
                                  : p->failures;

        put(o, "t2s_%s{proxy=\"", names[which]);
        put_escaped(o, p->url);
        put(o, "\"} %" PRIu64 "\n", v);
    }
}

size_t
t2s_stats_format_prometheus(const struct t2s_stats *st, char *buf, size_t len)
{
    return t2s_stats_format_prometheus_proxies(st, NULL, buf, len);
}

size_t
t2s_stats_format_prometheus_proxies(const struct t2s_stats *st,
                                    const struct t2s_stats_format_proxies *px,
                                    char *buf, size_t len)
{
    struct out o = {buf, len, 0};

#define T2S_STATS_PROM(f, name, help)                                          \
    put_metric(&o, #f, help, is_gauge[T2S_STATS_INDEX_##f], st->f);
    T2S_STATS_FIELDS(T2S_STATS_PROM)
#undef T2S_STATS_PROM
    for (int which = 0; px != NULL && px->n > 0 && which < 4; which++)
        put_proxy_metric(&o, px, which);
    return done(&o);
}

static size_t
body(const struct t2s_stats *st, const struct t2s_stats_format_proxies *px,
     int kind, int http, char *buf, size_t len)
{
    static const char *const plain_err[] = {
        [T2S_STATS_FORMAT_NOT_FOUND] =
            "{\"error\":\"unknown request: send an empty line for JSON, "
            "/metrics for Prometheus text\"}\n",
        [T2S_STATS_FORMAT_METHOD] = "{\"error\":\"only GET\"}\n",
        [T2S_STATS_FORMAT_BAD] = "{\"error\":\"bad request line\"}\n",
    };
    static const char *const http_err[] = {
        [T2S_STATS_FORMAT_NOT_FOUND] = "not found: try /metrics or /\n",
        [T2S_STATS_FORMAT_METHOD] = "only GET\n",
        [T2S_STATS_FORMAT_BAD] = "bad request\n",
    };

    if (kind == T2S_STATS_FORMAT_JSON)
        return t2s_stats_format_json_proxies(st, px, buf, len);
    if (kind == T2S_STATS_FORMAT_METRICS)
        return t2s_stats_format_prometheus_proxies(st, px, buf, len);
    if (kind < T2S_STATS_FORMAT_NOT_FOUND || kind > T2S_STATS_FORMAT_BAD)
        kind = T2S_STATS_FORMAT_BAD;
    return (size_t)snprintf(buf, len, "%s",
                            http ? http_err[kind] : plain_err[kind]);
}

size_t
t2s_stats_format_response(const struct t2s_stats *st,
                          const struct t2s_stats_format_req *req, char *buf,
                          size_t len)
{
    return t2s_stats_format_response_proxies(st, NULL, req, buf, len);
}

size_t
t2s_stats_format_response_proxies(const struct t2s_stats *st,
                                  const struct t2s_stats_format_proxies *px,
                                  const struct t2s_stats_format_req *req,
                                  char *buf, size_t len)
{
    static const char *const status[] = {
        [T2S_STATS_FORMAT_JSON] = "200 OK",
        [T2S_STATS_FORMAT_METRICS] = "200 OK",
        [T2S_STATS_FORMAT_NOT_FOUND] = "404 Not Found",
        [T2S_STATS_FORMAT_METHOD] = "405 Method Not Allowed",
        [T2S_STATS_FORMAT_BAD] = "400 Bad Request",
    };
    int kind =
        req->kind >= T2S_STATS_FORMAT_JSON && req->kind <= T2S_STATS_FORMAT_BAD
            ? req->kind
            : T2S_STATS_FORMAT_BAD;
    struct out o = {buf, len, 0};
    size_t n;

    if (!req->http)
        return body(st, px, kind, 0, buf, len);
    n = body(st, px, kind, 1, NULL, 0);
    put(&o,
        "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
        "Connection: close\r\n\r\n",
        status[kind],
        kind == T2S_STATS_FORMAT_JSON ? "application/json"
        : kind == T2S_STATS_FORMAT_METRICS
            ? "text/plain; version=0.0.4; charset=utf-8"
            : "text/plain; charset=utf-8",
        n);
    if (o.off < len)
        body(st, px, kind, 1, buf + o.off, len - o.off);
    o.off += n;
    return done(&o);
}
