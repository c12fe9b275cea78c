/* Unit tests for the HTTP CONNECT codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/http_connect.h"

static void
test_base64(void **state)
{
    /* RFC 4648 section 10 and RFC 7617's example */
    static const char *const in[] = {
        "", "f", "fo", "foo", "foob", "fooba", "foobar", "Aladdin:open sesame"};
    static const char *const want[] = {
        "",         "Zg==",     "Zm8=",     "Zm9v",
        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="};
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        size_t n = t2s_http_connect_base64(
            out, sizeof(out), (const uint8_t *)in[i], strlen(in[i]));
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(out, want[i], n);
    }
    assert_int_equal(t2s_http_connect_base64(out, 3, (const uint8_t *)"foo", 3),
                     0);
}

static void
test_request(void **state)
{
    static const char plain[] = "CONNECT example.org:443 HTTP/1.1\r\n"
                                "Host: example.org:443\r\n\r\n";
    static const char v6[] = "CONNECT [2001:db8::1]:22 HTTP/1.1\r\n"
                             "Host: [2001:db8::1]:22\r\n\r\n";
    static const char auth[] =
        "CONNECT 198.18.0.1:80 HTTP/1.1\r\nHost: 198.18.0.1:80\r\n"
        "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n";
    uint8_t out[T2S_HTTP_REQUEST_MAX];
    char big[256];
    size_t n;

    (void)state;
    n = t2s_http_connect_encode_request(out, sizeof(out), "example.org", 11, 0,
                                        443, NULL, 0, NULL, 0);
    assert_int_equal(n, sizeof(plain) - 1);
    assert_memory_equal(out, plain, n);
    n = t2s_http_connect_encode_request(out, sizeof(out), "2001:db8::1", 11, 1,
                                        22, NULL, 0, NULL, 0);
    assert_int_equal(n, sizeof(v6) - 1);
    assert_memory_equal(out, v6, n);
    n = t2s_http_connect_encode_request(out, sizeof(out), "198.18.0.1", 10, 0,
                                        80, "Aladdin", 7, "open sesame", 11);
    assert_int_equal(n, sizeof(auth) - 1);
    assert_memory_equal(out, auth, n);
    /* too small by one, also when only the auth header or the end is cut */
    for (size_t cap = sizeof(auth) - 6; cap < sizeof(auth) - 1; cap++)
        assert_int_equal(t2s_http_connect_encode_request(out, cap, "198.18.0.1",
                                                         10, 0, 80, "Aladdin",
                                                         7, "open sesame", 11),
                         0);
    /* nothing that could end the line or add a header */
    assert_int_equal(t2s_http_connect_encode_request(out, sizeof(out),
                                                     "a\r\nX: y", 7, 0, 80,
                                                     NULL, 0, NULL, 0),
                     0);
    assert_int_equal(t2s_http_connect_encode_request(out, sizeof(out), "a b", 3,
                                                     0, 80, NULL, 0, NULL, 0),
                     0);
    assert_int_equal(t2s_http_connect_encode_request(out, sizeof(out), "a:b", 3,
                                                     0, 80, NULL, 0, NULL, 0),
                     0);
    /* RFC 7617: no ':' in the user id */
    assert_int_equal(t2s_http_connect_encode_request(out, sizeof(out), "a", 1,
                                                     0, 80, "a:b", 3, "p", 1),
                     0);
    /* the longest of everything fits the documented maximum */
    memset(big, 'a', sizeof(big));
    assert_true(t2s_http_connect_encode_request(out, sizeof(out), big, 255, 0,
                                                65535, big, 255, big, 255) > 0);
}

/* Feeds msg whole and byte by byte: the same verdict and header length. */
static void
check_resp(const char *msg, int want, size_t want_used)
{
    struct t2s_http_resp r;
    size_t len = strlen(msg), used = 9999, total = 0;
    int rc = T2S_HTTP_NEED_MORE;

    t2s_http_connect_resp_init(&r);
    assert_int_equal(
        t2s_http_connect_resp_feed(&r, (const uint8_t *)msg, len, &used), want);
    assert_int_equal(used, want_used);
    t2s_http_connect_resp_init(&r);
    for (size_t i = 0; i < len && rc == T2S_HTTP_NEED_MORE; i++) {
        rc = t2s_http_connect_resp_feed(&r, (const uint8_t *)msg + i, 1, &used);
        total += used;
    }
    assert_int_equal(rc, want);
    assert_int_equal(total, want_used);
}

static void
test_response(void **state)
{
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    static const char hdrs[] = "HTTP/1.0 200 OK\r\nProxy-agent: x\r\n"
                               "Via: 1.1 squid\r\n\r\n";

    (void)state;
    check_resp(ok, T2S_HTTP_OK, sizeof(ok) - 1);
    /* the tunnel's first bytes stay with the caller */
    check_resp("HTTP/1.1 200 OK\r\n\r\nSSH-2.0-x\r\n", T2S_HTTP_OK, 19);
    check_resp(hdrs, T2S_HTTP_OK, sizeof(hdrs) - 1);
    check_resp("HTTP/1.1 204\n\n", T2S_HTTP_OK, 14); /* bare LF, no reason */
    check_resp("HTTP/1.1 200 OK\r\nX: y\r\n", T2S_HTTP_NEED_MORE, 23);
    check_resp("HTTP/1.1 407 Proxy Authentication Required\r\n", T2S_HTTP_EAUTH,
               44);
    check_resp("HTTP/1.1 401 Unauthorized\r\n", T2S_HTTP_EAUTH, 27);
    check_resp("HTTP/1.1 403 Forbidden\r\nbody", T2S_HTTP_ESTATUS, 24);
    check_resp("HTTP/1.1 100 Continue\r\n", T2S_HTTP_ESTATUS, 23);
    check_resp("SOCKS", T2S_HTTP_EVERSION, 1);
    check_resp("HTTP/2 200\r\n\r\n", T2S_HTTP_EVERSION, 6);
    check_resp("HTTP/1.1200", T2S_HTTP_EVERSION, 9);
    check_resp("HTTP/1.1 2x0", T2S_HTTP_EMALFORMED, 11);
    check_resp("HTTP/1.1 2000", T2S_HTTP_EMALFORMED, 13);
    check_resp("HTTP/1.1 200 OK\r\nA\0", T2S_HTTP_NEED_MORE, 18);
    check_resp("HTTP/1.1 200 OK\r\n\rX", T2S_HTTP_EMALFORMED, 19);
}

static void
test_response_limits(void **state)
{
    static uint8_t big[T2S_HTTP_HDR_MAX + 100];
    static const char head[] = "HTTP/1.1 200 OK\r\nX: ";
    struct t2s_http_resp r;
    size_t used = 0;

    (void)state;
    /* a NUL byte is refused (check_resp's strings cannot carry one) */
    t2s_http_connect_resp_init(&r);
    assert_int_equal(
        t2s_http_connect_resp_feed(
            &r, (const uint8_t *)"HTTP/1.1 200 OK\r\nA\0", 19, &used),
        T2S_HTTP_EMALFORMED);
    /* exactly T2S_HTTP_HDR_MAX bytes is a header; one more is too long */
    memset(big, 'a', sizeof(big));
    memcpy(big, head, sizeof(head) - 1);
    memcpy(big + T2S_HTTP_HDR_MAX - 4, "\r\n\r\n", 4);
    t2s_http_connect_resp_init(&r);
    assert_int_equal(t2s_http_connect_resp_feed(&r, big, sizeof(big), &used),
                     T2S_HTTP_OK);
    assert_int_equal(used, T2S_HTTP_HDR_MAX);
    memcpy(big + T2S_HTTP_HDR_MAX - 4, "a\r\n\r\n", 5);
    t2s_http_connect_resp_init(&r);
    assert_int_equal(t2s_http_connect_resp_feed(&r, big, sizeof(big), &used),
                     T2S_HTTP_ETOOBIG);
    assert_int_equal(used, T2S_HTTP_HDR_MAX);
    for (int s = -6; s <= 2; s++)
        assert_non_null(t2s_http_connect_status_str(s));
    assert_string_equal(t2s_http_connect_status_str(T2S_HTTP_EAUTH),
                        "proxy authentication required");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_response_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
