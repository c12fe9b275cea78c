/*
 * The stats socket's pure part (core/stats_format.h): request lines (whole,
 * every prefix, garbage), the JSON object and the Prometheus text (every
 * field once, counter vs gauge), the HTTP framing (Content-Length true),
 * and output into buffers too small (length reported, never overrun).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"
#include "core/stats_format.h"

#define BIG 32768

static struct t2s_stats
sample(void)
{
    struct t2s_stats st;
    uint64_t *v = (uint64_t *)&st;

    for (size_t i = 0; i < T2S_STATS_COUNT; i++)
        v[i] = (i + 1) * 1000003ull;
    st.protect_failed = UINT64_MAX; /* the widest number */
    return st;
}

static struct t2s_stats_format_req
parse(const char *line)
{
    struct t2s_stats_format_req r;

    t2s_stats_format_parse(line, strlen(line), 0, &r);
    return r;
}

static void
expect(const char *line, int kind, int http)
{
    struct t2s_stats_format_req r = parse(line);

    if (r.kind != kind || r.http != http)
        fail_msg("'%s': kind %d http %d, want %d %d", line, r.kind, r.http,
                 kind, http);
}

static void
test_parse(void **state)
{
    (void)state;
    expect("", T2S_STATS_FORMAT_JSON, 0);
    expect("\n", T2S_STATS_FORMAT_JSON, 0);
    expect("\r\n", T2S_STATS_FORMAT_JSON, 0);
    expect("  \t \n", T2S_STATS_FORMAT_JSON, 0);
    expect("/\n", T2S_STATS_FORMAT_JSON, 0);
    expect("json\n", T2S_STATS_FORMAT_JSON, 0);
    expect("/stats", T2S_STATS_FORMAT_JSON, 0);
    expect("metrics\n", T2S_STATS_FORMAT_METRICS, 0);
    expect("/metrics\r\n", T2S_STATS_FORMAT_METRICS, 0);
    expect("GET /metrics\n", T2S_STATS_FORMAT_METRICS, 0);
    expect("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", T2S_STATS_FORMAT_METRICS,
           1);
    expect("GET /metrics?name[]=x HTTP/1.0\r\n", T2S_STATS_FORMAT_METRICS, 1);
    expect("GET / HTTP/1.1\r\n", T2S_STATS_FORMAT_JSON, 1);
    expect("GET /stats HTTP/1.1\r\n", T2S_STATS_FORMAT_JSON, 1);
    expect("GET /nope HTTP/1.1\r\n", T2S_STATS_FORMAT_NOT_FOUND, 1);
    expect("GET /metricsX HTTP/1.1\r\n", T2S_STATS_FORMAT_NOT_FOUND, 1);
    expect("POST /metrics HTTP/1.1\r\n", T2S_STATS_FORMAT_METHOD, 1);
    expect("HEAD / HTTP/1.1\r\n", T2S_STATS_FORMAT_METHOD, 1);
    expect("hello\n", T2S_STATS_FORMAT_NOT_FOUND, 0);
    expect("PUT /metrics\n", T2S_STATS_FORMAT_BAD, 0);
    expect("GET / HTTP/1.1 more\r\n", T2S_STATS_FORMAT_BAD, 1);
    expect("a b c d e\n", T2S_STATS_FORMAT_BAD, 0);
    expect("GET /\x01 HTTP/1.1\r\n", T2S_STATS_FORMAT_BAD, 1);
    expect("\x7f\n", T2S_STATS_FORMAT_BAD, 0);
    expect("metrics\rx\n", T2S_STATS_FORMAT_BAD, 0);
    /* only the first line counts */
    expect("metrics\nGET / HTTP/1.1\r\n", T2S_STATS_FORMAT_METRICS, 0);
}

static void
test_parse_embedded_nul_and_truncated(void **state)
{
    static const char nul[] = "metrics\0x\n";
    static const char http[] = "GET /metrics HTTP/1.1";
    struct t2s_stats_format_req r;

    (void)state;
    t2s_stats_format_parse(nul, sizeof(nul) - 1, 0, &r);
    assert_int_equal(r.kind, T2S_STATS_FORMAT_BAD);
    /* no '\n' within the server's limit: BAD, HTTP-shaped or not */
    t2s_stats_format_parse(http, strlen(http), 1, &r);
    assert_int_equal(r.kind, T2S_STATS_FORMAT_BAD);
    assert_int_equal(r.http, 1);
    t2s_stats_format_parse("xxxx", 4, 1, &r);
    assert_int_equal(r.kind, T2S_STATS_FORMAT_BAD);
    assert_int_equal(r.http, 0);
    /* a complete line is served even if the buffer filled up behind it */
    t2s_stats_format_parse("/metrics\nxxxx", 13, 1, &r);
    assert_int_equal(r.kind, T2S_STATS_FORMAT_METRICS);
}

/* Every prefix of a request, as a client that stops sending mid-line. */
static void
test_parse_prefixes(void **state)
{
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    struct t2s_stats_format_req r;

    (void)state;
    for (size_t n = 0; n <= sizeof(req) - 1; n++) {
        t2s_stats_format_parse(req, n, 0, &r);
        assert_true(r.kind >= T2S_STATS_FORMAT_JSON &&
                    r.kind <= T2S_STATS_FORMAT_BAD);
    }
    t2s_stats_format_parse(req, 12, 0, &r); /* "GET /metrics" */
    assert_int_equal(r.kind, T2S_STATS_FORMAT_METRICS);
    assert_int_equal(r.http, 0);
}

static void
test_parse_garbage(void **state)
{
    char buf[64];
    struct t2s_stats_format_req r;

    (void)state;
    srand(7);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)rand() % sizeof(buf);

        for (size_t j = 0; j < n; j++)
            buf[j] = (char)(rand() % 4 == 0 ? " /\n"[rand() % 3] : rand());
        t2s_stats_format_parse(buf, n, rand() % 2, &r);
        assert_true(r.kind >= T2S_STATS_FORMAT_JSON &&
                    r.kind <= T2S_STATS_FORMAT_BAD);
        assert_true(r.http == 0 || r.http == 1);
    }
}

/* Several proxies: a "proxies" array in the JSON, labelled samples in
 * the Prometheus text, both in the HTTP answer's length. */
static void
test_proxies(void **state)
{
    struct t2s_stats st = sample();
    struct t2s_proxy_stats p[2] = {
        {"socks5://198.18.0.1:1080", 1, 5, 2, 0},
        {"socks5://[fd00::1]:1080", 0, 3, 0, 7},
    };
    struct t2s_stats_format_proxies px = {p, 2};
    struct t2s_stats_format_req r = {T2S_STATS_FORMAT_JSON, 1};
    char buf[BIG];
    size_t n = t2s_stats_format_json_proxies(&st, &px, buf, sizeof(buf));

    (void)state;
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(
        buf, ",\"proxies\":[{\"url\":\"socks5://198.18.0.1:1080\",\"up\":1,"
             "\"sessions\":5,\"active\":2,\"failures\":0},{\"url\":"
             "\"socks5://[fd00::1]:1080\",\"up\":0,\"sessions\":3,"
             "\"active\":0,\"failures\":7}]}\n"));
    n = t2s_stats_format_prometheus_proxies(&st, &px, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "# TYPE t2s_proxy_up gauge\n"
                                "t2s_proxy_up{proxy=\"socks5://198.18.0.1:"
                                "1080\"} 1\n"));
    assert_non_null(strstr(buf, "t2s_proxy_failures_total{proxy=\"socks5://"
                                "[fd00::1]:1080\"} 7\n"));
    assert_non_null(strstr(buf, "# TYPE t2s_proxy_sessions_total counter\n"));
    /* none: the plain output */
    px.n = 0;
    n = t2s_stats_format_json_proxies(&st, &px, buf, sizeof(buf));
    assert_null(strstr(buf, "proxies"));
    px.n = 2;
    n = t2s_stats_format_response_proxies(&st, &px, &r, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    assert_non_null(strstr(buf, "\"failures\":7}]}\n"));
}

static void
test_json(void **state)
{
    struct t2s_stats st = sample();
    char buf[BIG], want[64];
    size_t n = t2s_stats_format_json(&st, buf, sizeof(buf));
    unsigned colons = 0;

    (void)state;
    assert_int_equal(n, strlen(buf));
    assert_int_equal(buf[0], '{');
    assert_string_equal(buf + n - 2, "}\n");
    assert_ptr_equal(strchr(buf, '\n'), buf + n - 1); /* one line */
    for (size_t i = 0; i < n; i++)
        colons += buf[i] == ':';
    assert_int_equal(colons, T2S_STATS_COUNT);
    /* the names of t2s.h, not the log line's */
    assert_non_null(strstr(buf, "{\"tcp_active\":1000003,"));
    assert_non_null(strstr(buf, ",\"bytes_up\":4000012,"));
    assert_null(strstr(buf, "tcp_bytes_up"));
    snprintf(want, sizeof(want), ",\"protect_failed\":%llu}",
             (unsigned long long)UINT64_MAX);
    assert_non_null(strstr(buf, want));
}

static unsigned
count(const char *hay, const char *needle)
{
    unsigned c = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        c++;
    return c;
}

static void
test_prometheus(void **state)
{
    struct t2s_stats st = sample();
    char buf[BIG];
    size_t n = t2s_stats_format_prometheus(&st, buf, sizeof(buf));

    (void)state;
    assert_int_equal(n, strlen(buf));
    assert_int_equal(count(buf, "\n"), 3 * T2S_STATS_COUNT);
    assert_int_equal(count(buf, "# TYPE t2s_"), T2S_STATS_COUNT);
    assert_int_equal(count(buf, "# HELP t2s_"), T2S_STATS_COUNT);
    assert_int_equal(count(buf, " gauge\n"), 5);
    assert_non_null(strstr(buf, "# TYPE t2s_tcp_active gauge\n"
                                "t2s_tcp_active 1000003\n"));
    assert_non_null(strstr(buf, "# TYPE t2s_tcp_total counter\n"
                                "t2s_tcp_total 2000006\n"));
    assert_non_null(strstr(buf, "# HELP t2s_bytes_up_total "));
    assert_non_null(strstr(buf, "# TYPE t2s_bytes_up_total counter\n"
                                "t2s_bytes_up_total 4000012\n"));
    assert_null(strstr(buf, "_total_total"));
    assert_non_null(strstr(buf, "# TYPE t2s_mem_used gauge\n"));
    assert_non_null(strstr(buf, "# TYPE t2s_tcp_orphans gauge\n"));
    assert_non_null(strstr(buf, "# TYPE t2s_udp_active gauge\n"));
    assert_non_null(strstr(buf,
                           "# TYPE t2s_protect_failed_total counter\n"
                           "t2s_protect_failed_total 18446744073709551615\n"));
}

/* The body after the headers, and the Content-Length it must match. */
static void
check_http(const char *resp, const char *status, const char *type)
{
    const char *body = strstr(resp, "\r\n\r\n");
    const char *cl = strstr(resp, "Content-Length: ");

    assert_non_null(body);
    assert_non_null(cl);
    assert_true(strncmp(resp, status, strlen(status)) == 0);
    assert_non_null(strstr(resp, type));
    assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
    assert_int_equal(strtoul(cl + 16, NULL, 10), strlen(body + 4));
}

static void
test_response(void **state)
{
    struct t2s_stats st = sample();
    struct t2s_stats_format_req r;
    char buf[BIG], body[BIG];

    (void)state;
    r = parse("GET /metrics HTTP/1.1\r\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    check_http(buf, "HTTP/1.0 200 OK\r\n", "text/plain; version=0.0.4");
    t2s_stats_format_prometheus(&st, body, sizeof(body));
    assert_string_equal(strstr(buf, "\r\n\r\n") + 4, body);

    r = parse("GET / HTTP/1.1\r\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    check_http(buf, "HTTP/1.0 200 OK\r\n", "application/json");
    r = parse("GET /x HTTP/1.1\r\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    check_http(buf, "HTTP/1.0 404 Not Found\r\n", "text/plain");
    r = parse("DELETE / HTTP/1.1\r\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    check_http(buf, "HTTP/1.0 405 Method Not Allowed\r\n", "text/plain");
    r.kind = 99; /* out of range: treated as BAD */
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    check_http(buf, "HTTP/1.0 400 Bad Request\r\n", "text/plain");

    /* plain: the body alone */
    r = parse("\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    t2s_stats_format_json(&st, body, sizeof(body));
    assert_string_equal(buf, body);
    r = parse("hello\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    assert_non_null(strstr(buf, "{\"error\":\"unknown request"));
    r = parse("\x01\n");
    t2s_stats_format_response(&st, &r, buf, sizeof(buf));
    assert_string_equal(buf, "{\"error\":\"bad request line\"}\n");
}

/* Every output into every buffer size up to the whole: the same length
 * reported, a string, nothing written past len. */
static void
test_small_buffers(void **state)
{
    struct t2s_stats st = sample();
    struct t2s_stats_format_req http = {T2S_STATS_FORMAT_METRICS, 1};
    char whole[BIG], *buf = malloc(BIG + 16);
    size_t need[3];

    (void)state;
    assert_non_null(buf);
    need[0] = t2s_stats_format_json(&st, whole, sizeof(whole));
    need[1] = t2s_stats_format_prometheus(&st, whole, sizeof(whole));
    need[2] = t2s_stats_format_response(&st, &http, whole, sizeof(whole));
    assert_true(need[2] < BIG);
    for (int k = 0; k < 3; k++) {
        for (size_t len = 0; len <= need[k] + 1; len++) {
            size_t got;

            memset(buf, 'Z', BIG + 16);
            got = k == 0   ? t2s_stats_format_json(&st, buf, len)
                  : k == 1 ? t2s_stats_format_prometheus(&st, buf, len)
                           : t2s_stats_format_response(&st, &http, buf, len);
            assert_int_equal(got, need[k]);
            assert_int_equal(buf[len], 'Z');
            if (len > 0)
                assert_int_equal(strlen(buf),
                                 len > need[k] ? need[k] : len - 1);
        }
    }
    free(buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_embedded_nul_and_truncated),
        cmocka_unit_test(test_parse_prefixes),
        cmocka_unit_test(test_parse_garbage),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_proxies),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_small_buffers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
