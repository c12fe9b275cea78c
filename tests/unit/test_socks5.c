/* Unit tests for the SOCKS5 codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/socks5.h"

/* Room for any message plus the trailing junk appended after it. */
#define MSG_ROOM (T2S_SOCKS5_REPLY_MAX + 16)

typedef int (*decode_fn)(const uint8_t *in, size_t len, size_t *consumed);

static int
decode_method(const uint8_t *in, size_t len, size_t *consumed)
{
    uint8_t method = 0xEE;

    return t2s_socks5_decode_method(in, len, &method, consumed);
}

static int
decode_auth(const uint8_t *in, size_t len, size_t *consumed)
{
    return t2s_socks5_decode_auth(in, len, consumed);
}

static int
decode_reply(const uint8_t *in, size_t len, size_t *consumed)
{
    struct t2s_socks5_addr bnd;
    uint8_t rep = 0xEE;

    return t2s_socks5_decode_reply(in, len, &rep, &bnd, consumed);
}

/*
 * Every proper prefix of msg must be pending, the whole must give want with
 * all n bytes consumed, and bytes after the message must not be consumed.
 */
static void
check_stream(decode_fn fn, const uint8_t *msg, size_t n, int want)
{
    uint8_t buf[MSG_ROOM];
    size_t consumed;

    assert_true(n + 3 <= sizeof(buf));
    memcpy(buf, msg, n);
    for (size_t i = 0; i < n; i++) {
        consumed = 9999;
        assert_int_equal(fn(buf, i, &consumed), T2S_SOCKS5_NEED_MORE);
        assert_int_equal(consumed, 9999);
    }
    consumed = 9999;
    assert_int_equal(fn(buf, n, &consumed), want);
    assert_int_equal(consumed, n);
    memcpy(buf + n, "\x05\x01\x00", 3);
    consumed = 9999;
    assert_int_equal(fn(buf, n + 3, &consumed), want);
    assert_int_equal(consumed, n);
}

static void
set_v4(struct t2s_socks5_addr *a, uint8_t b0, uint8_t b1, uint8_t b2,
       uint8_t b3, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->atyp = T2S_SOCKS5_ATYP_IPV4;
    a->u.v4[0] = b0;
    a->u.v4[1] = b1;
    a->u.v4[2] = b2;
    a->u.v4[3] = b3;
    a->port = port;
}

static void
set_v6(struct t2s_socks5_addr *a, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->atyp = T2S_SOCKS5_ATYP_IPV6;
    for (int i = 0; i < 16; i++)
        a->u.v6[i] = (uint8_t)(0x20 + i);
    a->port = port;
}

static void
set_domain(struct t2s_socks5_addr *a, const char *name, size_t len,
           uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->atyp = T2S_SOCKS5_ATYP_DOMAIN;
    a->name_len = (uint8_t)len;
    memcpy(a->u.name, name, len);
    a->port = port;
}

static void
assert_addr_equal(const struct t2s_socks5_addr *a,
                  const struct t2s_socks5_addr *b)
{
    assert_int_equal(a->atyp, b->atyp);
    assert_int_equal(a->port, b->port);
    if (a->atyp == T2S_SOCKS5_ATYP_IPV4)
        assert_memory_equal(a->u.v4, b->u.v4, 4);
    else if (a->atyp == T2S_SOCKS5_ATYP_IPV6)
        assert_memory_equal(a->u.v6, b->u.v6, 16);
    else {
        assert_int_equal(a->name_len, b->name_len);
        assert_memory_equal(a->u.name, b->u.name, a->name_len);
    }
}

/* ---- encoders ---- */

static void
test_greeting_noauth(void **state)
{
    uint8_t out[8];

    (void)state;
    assert_int_equal(t2s_socks5_encode_greeting(out, sizeof(out), 0), 3);
    assert_memory_equal(out, "\x05\x01\x00", 3);
    assert_int_equal(t2s_socks5_encode_greeting(out, 3, 0), 3);
    assert_int_equal(t2s_socks5_encode_greeting(out, 2, 0), 0);
    assert_int_equal(t2s_socks5_encode_greeting(out, 0, 0), 0);
}

static void
test_greeting_userpass(void **state)
{
    uint8_t out[8];

    (void)state;
    assert_int_equal(t2s_socks5_encode_greeting(out, sizeof(out), 1), 4);
    assert_memory_equal(out, "\x05\x02\x00\x02", 4);
    assert_int_equal(
        t2s_socks5_encode_greeting(out, T2S_SOCKS5_GREETING_MAX, 7), 4);
    assert_memory_equal(out, "\x05\x02\x00\x02", 4);
    assert_int_equal(t2s_socks5_encode_greeting(out, 3, 1), 0);
}

static void
test_auth_encode(void **state)
{
    uint8_t out[T2S_SOCKS5_AUTH_MAX];

    (void)state;
    assert_int_equal(
        t2s_socks5_encode_auth(out, sizeof(out), "user", 4, "pw", 2), 9);
    assert_memory_equal(out, "\x01\x04user\x02pw", 9);
    assert_int_equal(t2s_socks5_encode_auth(out, 9, "user", 4, "pw", 2), 9);
    assert_int_equal(t2s_socks5_encode_auth(out, 8, "user", 4, "pw", 2), 0);
}

static void
test_auth_encode_empty_password(void **state)
{
    uint8_t out[16];

    (void)state;
    assert_int_equal(t2s_socks5_encode_auth(out, sizeof(out), "u", 1, "", 0),
                     4);
    assert_memory_equal(out, "\x01\x01u\x00", 4);
    assert_int_equal(t2s_socks5_encode_auth(out, sizeof(out), "u", 1, NULL, 0),
                     4);
    assert_memory_equal(out, "\x01\x01u\x00", 4);
}

static void
test_auth_encode_lengths(void **state)
{
    uint8_t out[T2S_SOCKS5_AUTH_MAX + 1];
    char user[256], pass[256];

    (void)state;
    memset(user, 'u', sizeof(user));
    memset(pass, 'p', sizeof(pass));
    assert_int_equal(
        t2s_socks5_encode_auth(out, sizeof(out), user, 255, pass, 255),
        T2S_SOCKS5_AUTH_MAX);
    assert_int_equal(out[1], 255);
    assert_int_equal(out[2 + 255], 255);
    assert_int_equal(out[T2S_SOCKS5_AUTH_MAX - 1], 'p');
    assert_int_equal(t2s_socks5_encode_auth(out, sizeof(out), user, 0, pass, 1),
                     0);
    assert_int_equal(
        t2s_socks5_encode_auth(out, sizeof(out), user, 256, pass, 1), 0);
    assert_int_equal(
        t2s_socks5_encode_auth(out, sizeof(out), user, 1, pass, 256), 0);
}

static void
test_request_ipv4(void **state)
{
    static const uint8_t want[] = {5, 1, 0, 1, 10, 0, 0, 1, 0x01, 0xBB};
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];

    (void)state;
    set_v4(&a, 10, 0, 0, 1, 443);
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(t2s_socks5_encode_request(out, sizeof(want) - 1,
                                               T2S_SOCKS5_CMD_CONNECT, &a),
                     0);
}

static void
test_request_ipv6(void **state)
{
    uint8_t want[22] = {5, 3, 0, 4};
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];

    (void)state;
    set_v6(&a, 0x1234);
    memcpy(want + 4, a.u.v6, 16);
    want[20] = 0x12;
    want[21] = 0x34;
    assert_int_equal(t2s_socks5_encode_request(
                         out, sizeof(out), T2S_SOCKS5_CMD_UDP_ASSOCIATE, &a),
                     sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(t2s_socks5_encode_request(out, sizeof(want) - 1,
                                               T2S_SOCKS5_CMD_UDP_ASSOCIATE,
                                               &a),
                     0);
}

static void
test_request_domain(void **state)
{
    static const uint8_t want[] = "\x05\x01\x00\x03\x0b"
                                  "example.com\x00\x50";
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];

    (void)state;
    set_domain(&a, "example.com", 11, 80);
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        sizeof(want) - 1);
    assert_memory_equal(out, want, sizeof(want) - 1);
    assert_int_equal(t2s_socks5_encode_request(out, sizeof(want) - 2,
                                               T2S_SOCKS5_CMD_CONNECT, &a),
                     0);
}

static void
test_request_longest_domain(void **state)
{
    char name[255];
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];

    (void)state;
    memset(name, 'a', sizeof(name));
    set_domain(&a, name, sizeof(name), 0xFFFF);
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        T2S_SOCKS5_REQUEST_MAX);
    assert_int_equal(out[4], 255);
    assert_memory_equal(out + 5, name, 255);
    assert_int_equal(out[260], 0xFF);
    assert_int_equal(out[261], 0xFF);
}

static void
test_request_bad_address(void **state)
{
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];

    (void)state;
    set_v4(&a, 1, 2, 3, 4, 80);
    a.atyp = 0x02;
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        0);
    a.atyp = 0x00;
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        0);
    set_domain(&a, "", 0, 80);
    assert_int_equal(
        t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT, &a),
        0);
    assert_int_equal(t2s_socks5_encode_request(out, sizeof(out),
                                               T2S_SOCKS5_CMD_CONNECT, NULL),
                     0);
}

/* ---- method and auth replies ---- */

static void
test_method_reply(void **state)
{
    static const uint8_t noauth[] = {5, 0}, userpass[] = {5, 2};
    uint8_t method = 0xEE;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(t2s_socks5_decode_method(noauth, 2, &method, &consumed),
                     T2S_SOCKS5_OK);
    assert_int_equal(method, T2S_SOCKS5_METHOD_NOAUTH);
    assert_int_equal(consumed, 2);
    assert_int_equal(t2s_socks5_decode_method(userpass, 2, &method, &consumed),
                     T2S_SOCKS5_OK);
    assert_int_equal(method, T2S_SOCKS5_METHOD_USERPASS);
    check_stream(decode_method, noauth, 2, T2S_SOCKS5_OK);
    check_stream(decode_method, userpass, 2, T2S_SOCKS5_OK);
}

static void
test_method_reply_none(void **state)
{
    static const uint8_t none[] = {5, 0xFF};
    uint8_t method = 0;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(t2s_socks5_decode_method(none, 2, &method, &consumed),
                     T2S_SOCKS5_ENOMETHOD);
    check_stream(decode_method, none, 2, T2S_SOCKS5_ENOMETHOD);
}

static void
test_method_reply_bad_version(void **state)
{
    static const uint8_t v4[] = {4, 0};
    uint8_t method = 0;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(t2s_socks5_decode_method(v4, 2, &method, &consumed),
                     T2S_SOCKS5_EVERSION);
    /* the version is judged before the method byte arrives */
    assert_int_equal(t2s_socks5_decode_method(v4, 1, &method, &consumed),
                     T2S_SOCKS5_EVERSION);
}

static void
test_auth_reply(void **state)
{
    static const uint8_t ok[] = {1, 0}, fail[] = {1, 1}, fail2[] = {1, 0xFF};

    (void)state;
    check_stream(decode_auth, ok, 2, T2S_SOCKS5_OK);
    check_stream(decode_auth, fail, 2, T2S_SOCKS5_EAUTH);
    check_stream(decode_auth, fail2, 2, T2S_SOCKS5_EAUTH);
}

static void
test_auth_reply_bad_version(void **state)
{
    /* RFC 1929 replies carry version 1, not the SOCKS version 5 */
    static const uint8_t v5[] = {5, 0};
    size_t consumed = 0;

    (void)state;
    assert_int_equal(t2s_socks5_decode_auth(v5, 2, &consumed),
                     T2S_SOCKS5_EVERSION);
    assert_int_equal(t2s_socks5_decode_auth(v5, 1, &consumed),
                     T2S_SOCKS5_EVERSION);
}

/* ---- request replies ---- */

static void
test_reply_ipv4(void **state)
{
    static const uint8_t msg[] = {5, 0, 0, 1, 192, 168, 1, 2, 0x1F, 0x90};
    struct t2s_socks5_addr bnd, want;
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    set_v4(&want, 192, 168, 1, 2, 8080);
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, &bnd, &consumed),
        T2S_SOCKS5_OK);
    assert_int_equal(rep, 0);
    assert_int_equal(consumed, sizeof(msg));
    assert_addr_equal(&bnd, &want);
    check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_OK);
}

static void
test_reply_ipv6(void **state)
{
    uint8_t msg[22] = {5, 0, 0, 4};
    struct t2s_socks5_addr bnd, want;
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    set_v6(&want, 0xBEEF);
    memcpy(msg + 4, want.u.v6, 16);
    msg[20] = 0xBE;
    msg[21] = 0xEF;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, &bnd, &consumed),
        T2S_SOCKS5_OK);
    assert_int_equal(consumed, sizeof(msg));
    assert_addr_equal(&bnd, &want);
    check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_OK);
}

static void
test_reply_domain_one(void **state)
{
    static const uint8_t msg[] = {5, 0, 0, 3, 1, 'x', 0, 53};
    struct t2s_socks5_addr bnd, want;
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    set_domain(&want, "x", 1, 53);
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, &bnd, &consumed),
        T2S_SOCKS5_OK);
    assert_int_equal(consumed, sizeof(msg));
    assert_addr_equal(&bnd, &want);
    check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_OK);
}

static void
test_reply_domain_longest(void **state)
{
    uint8_t msg[T2S_SOCKS5_REPLY_MAX] = {5, 0, 0, 3, 255};
    struct t2s_socks5_addr bnd, want;
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    for (int i = 0; i < 255; i++)
        msg[5 + i] = (uint8_t)('a' + i % 26);
    msg[260] = 0x01;
    msg[261] = 0x02;
    set_domain(&want, (const char *)msg + 5, 255, 0x0102);
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, &bnd, &consumed),
        T2S_SOCKS5_OK);
    assert_int_equal(consumed, T2S_SOCKS5_REPLY_MAX);
    assert_addr_equal(&bnd, &want);
    check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_OK);
}

static void
test_reply_null_bnd(void **state)
{
    static const uint8_t msg[] = {5, 0, 0, 1, 1, 2, 3, 4, 0, 80};
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
        T2S_SOCKS5_OK);
    assert_int_equal(consumed, sizeof(msg));
}

static void
test_reply_error_codes(void **state)
{
    static const char *const texts[] = {
        "general SOCKS server failure", "connection not allowed by ruleset",
        "network unreachable",          "host unreachable",
        "connection refused",           "TTL expired",
        "command not supported",        "address type not supported",
    };
    uint8_t msg[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    uint8_t rep;
    size_t consumed;

    (void)state;
    for (uint8_t code = 1; code <= 8; code++) {
        msg[1] = code;
        rep = 0xEE;
        consumed = 0;
        assert_int_equal(
            t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
            T2S_SOCKS5_EREPLY);
        assert_int_equal(rep, code);
        assert_int_equal(consumed, sizeof(msg));
        assert_string_equal(t2s_socks5_rep_str(rep), texts[code - 1]);
        check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_EREPLY);
    }
}

static void
test_reply_unknown_code(void **state)
{
    uint8_t msg[] = {5, 0x42, 0, 3, 2, 'h', 'i', 0, 1};
    uint8_t rep = 0;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
        T2S_SOCKS5_EREPLY);
    assert_int_equal(rep, 0x42);
    assert_string_equal(t2s_socks5_rep_str(rep), "unknown reply code");
    check_stream(decode_reply, msg, sizeof(msg), T2S_SOCKS5_EREPLY);
}

static void
test_reply_rep_known_early(void **state)
{
    static const uint8_t msg[] = {5, 4, 0, 1, 0, 0};
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(t2s_socks5_decode_reply(msg, 1, &rep, NULL, &consumed),
                     T2S_SOCKS5_NEED_MORE);
    assert_int_equal(rep, 0xEE);
    for (size_t len = 2; len <= sizeof(msg); len++) {
        rep = 0xEE;
        assert_int_equal(
            t2s_socks5_decode_reply(msg, len, &rep, NULL, &consumed),
            T2S_SOCKS5_NEED_MORE);
        assert_int_equal(rep, 4);
    }
}

static void
test_reply_bad_version(void **state)
{
    static const uint8_t msg[] = {4, 0, 0, 1, 1, 2, 3, 4, 0, 80};
    uint8_t rep = 0;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
        T2S_SOCKS5_EVERSION);
    assert_int_equal(t2s_socks5_decode_reply(msg, 1, &rep, NULL, &consumed),
                     T2S_SOCKS5_EVERSION);
}

static void
test_reply_bad_atyp(void **state)
{
    uint8_t msg[] = {5, 0, 0, 2, 1, 2, 3, 4, 0, 80};
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
        T2S_SOCKS5_EATYP);
    assert_int_equal(t2s_socks5_decode_reply(msg, 4, &rep, NULL, &consumed),
                     T2S_SOCKS5_EATYP);
    msg[3] = 0;
    assert_int_equal(t2s_socks5_decode_reply(msg, 4, &rep, NULL, &consumed),
                     T2S_SOCKS5_EATYP);
    msg[3] = 0xFF;
    assert_int_equal(t2s_socks5_decode_reply(msg, 4, &rep, NULL, &consumed),
                     T2S_SOCKS5_EATYP);
    /* a failed request is worth more to the caller than the bad address */
    msg[1] = 5;
    assert_int_equal(t2s_socks5_decode_reply(msg, 4, &rep, NULL, &consumed),
                     T2S_SOCKS5_EREPLY);
    assert_int_equal(rep, 5);
}

static void
test_reply_empty_domain(void **state)
{
    uint8_t msg[] = {5, 0, 0, 3, 0, 0, 80};
    uint8_t rep = 0xEE;
    size_t consumed = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_reply(msg, sizeof(msg), &rep, NULL, &consumed),
        T2S_SOCKS5_EMALFORMED);
    assert_int_equal(t2s_socks5_decode_reply(msg, 5, &rep, NULL, &consumed),
                     T2S_SOCKS5_EMALFORMED);
    msg[1] = 1;
    assert_int_equal(t2s_socks5_decode_reply(msg, 5, &rep, NULL, &consumed),
                     T2S_SOCKS5_EREPLY);
    assert_int_equal(rep, 1);
}

/* ---- strings ---- */

static void
test_rep_str(void **state)
{
    (void)state;
    assert_string_equal(t2s_socks5_rep_str(0), "succeeded");
    assert_string_equal(t2s_socks5_rep_str(9), "unknown reply code");
    assert_string_equal(t2s_socks5_rep_str(0xFF), "unknown reply code");
    for (int i = 0; i < 256; i++)
        assert_non_null(t2s_socks5_rep_str((uint8_t)i));
}

static void
test_status_str(void **state)
{
    const char *seen[9];

    (void)state;
    for (int s = T2S_SOCKS5_EMALFORMED; s <= T2S_SOCKS5_NEED_MORE; s++) {
        const char *t = t2s_socks5_status_str(s);

        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_not_equal(t, "unknown status");
        for (int j = T2S_SOCKS5_EMALFORMED; j < s; j++)
            assert_string_not_equal(t, seen[j - T2S_SOCKS5_EMALFORMED]);
        seen[s - T2S_SOCKS5_EMALFORMED] = t;
    }
    assert_string_equal(t2s_socks5_status_str(2), "unknown status");
    assert_string_equal(t2s_socks5_status_str(-8), "unknown status");
}

/* ---- UDP header ---- */

static void
round_trip_udp(const struct t2s_socks5_addr *a, const uint8_t *want, size_t n)
{
    uint8_t dgram[T2S_SOCKS5_UDP_HDR_MAX + 4];
    struct t2s_socks5_addr got;
    uint8_t frag = 0xEE;
    size_t hdr_len = 0;

    assert_int_equal(t2s_socks5_encode_udp_header(dgram, sizeof(dgram), a), n);
    assert_memory_equal(dgram, want, n);
    assert_int_equal(t2s_socks5_encode_udp_header(dgram, n - 1, a), 0);
    memcpy(dgram + n, "DATA", 4);
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, n + 4, &frag, &got, &hdr_len),
        T2S_SOCKS5_OK);
    assert_int_equal(frag, 0);
    assert_int_equal(hdr_len, n);
    assert_addr_equal(&got, a);
    /* a datagram with an empty payload is still whole */
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, n, &frag, &got, &hdr_len),
        T2S_SOCKS5_OK);
    assert_int_equal(hdr_len, n);
}

static void
test_udp_ipv4(void **state)
{
    static const uint8_t want[] = {0, 0, 0, 1, 8, 8, 4, 4, 0, 53};
    struct t2s_socks5_addr a;

    (void)state;
    set_v4(&a, 8, 8, 4, 4, 53);
    round_trip_udp(&a, want, sizeof(want));
}

static void
test_udp_ipv6(void **state)
{
    uint8_t want[22] = {0, 0, 0, 4};
    struct t2s_socks5_addr a;

    (void)state;
    set_v6(&a, 0x0035);
    memcpy(want + 4, a.u.v6, 16);
    want[20] = 0x00;
    want[21] = 0x35;
    round_trip_udp(&a, want, sizeof(want));
}

static void
test_udp_domain(void **state)
{
    static const uint8_t want[] = "\x00\x00\x00\x03\x07"
                                  "a.b.c.d\xff\x01";
    struct t2s_socks5_addr a;

    (void)state;
    set_domain(&a, "a.b.c.d", 7, 0xFF01);
    round_trip_udp(&a, want, sizeof(want) - 1);
}

static void
test_udp_longest_domain(void **state)
{
    uint8_t want[T2S_SOCKS5_UDP_HDR_MAX] = {0, 0, 0, 3, 255};
    struct t2s_socks5_addr a;

    (void)state;
    memset(want + 5, 'z', 255);
    want[260] = 0x12;
    want[261] = 0x34;
    set_domain(&a, (const char *)want + 5, 255, 0x1234);
    round_trip_udp(&a, want, sizeof(want));
}

static void
test_udp_bad_address(void **state)
{
    struct t2s_socks5_addr a;
    uint8_t out[T2S_SOCKS5_UDP_HDR_MAX];

    (void)state;
    set_domain(&a, "", 0, 53);
    assert_int_equal(t2s_socks5_encode_udp_header(out, sizeof(out), &a), 0);
    set_v4(&a, 1, 1, 1, 1, 53);
    a.atyp = 5;
    assert_int_equal(t2s_socks5_encode_udp_header(out, sizeof(out), &a), 0);
    assert_int_equal(t2s_socks5_encode_udp_header(out, sizeof(out), NULL), 0);
}

static void
test_udp_frag_reported(void **state)
{
    static const uint8_t dgram[] = {0, 0, 3, 1, 1, 2, 3, 4, 0, 80, 'x'};
    struct t2s_socks5_addr a;
    uint8_t frag = 0;
    size_t hdr_len = 0;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_OK);
    assert_int_equal(frag, 3);
    assert_int_equal(hdr_len, 10);
}

/* Every proper prefix of a datagram's header is a truncated datagram. */
static void
check_udp_truncated(const uint8_t *hdr, size_t n)
{
    struct t2s_socks5_addr a;
    uint8_t frag = 0xEE;
    size_t hdr_len = 9999;

    for (size_t len = 0; len < n; len++)
        assert_int_equal(
            t2s_socks5_decode_udp_header(hdr, len, &frag, &a, &hdr_len),
            T2S_SOCKS5_EMALFORMED);
    assert_int_equal(frag, 0xEE);
    assert_int_equal(hdr_len, 9999);
    assert_int_equal(t2s_socks5_decode_udp_header(hdr, n, &frag, &a, &hdr_len),
                     T2S_SOCKS5_OK);
}

static void
test_udp_truncated(void **state)
{
    static const uint8_t v4[] = {0, 0, 0, 1, 1, 2, 3, 4, 0, 80};
    static const uint8_t dom[] = {0, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80};
    uint8_t v6[22] = {0, 0, 0, 4};

    (void)state;
    check_udp_truncated(v4, sizeof(v4));
    check_udp_truncated(v6, sizeof(v6));
    check_udp_truncated(dom, sizeof(dom));
}

static void
test_udp_reserved_nonzero(void **state)
{
    uint8_t dgram[] = {0, 0, 0, 1, 1, 2, 3, 4, 0, 80};
    struct t2s_socks5_addr a;
    uint8_t frag;
    size_t hdr_len;

    (void)state;
    dgram[0] = 1;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_EMALFORMED);
    dgram[0] = 0;
    dgram[1] = 0x80;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_EMALFORMED);
}

static void
test_udp_bad_atyp(void **state)
{
    uint8_t dgram[] = {0, 0, 0, 2, 1, 2, 3, 4, 0, 80};
    struct t2s_socks5_addr a;
    uint8_t frag;
    size_t hdr_len;

    (void)state;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_EATYP);
    dgram[3] = 0;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_EATYP);
    dgram[3] = 3;
    dgram[4] = 0;
    assert_int_equal(
        t2s_socks5_decode_udp_header(dgram, sizeof(dgram), &frag, &a, &hdr_len),
        T2S_SOCKS5_EMALFORMED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_noauth),
        cmocka_unit_test(test_greeting_userpass),
        cmocka_unit_test(test_auth_encode),
        cmocka_unit_test(test_auth_encode_empty_password),
        cmocka_unit_test(test_auth_encode_lengths),
        cmocka_unit_test(test_request_ipv4),
        cmocka_unit_test(test_request_ipv6),
        cmocka_unit_test(test_request_domain),
        cmocka_unit_test(test_request_longest_domain),
        cmocka_unit_test(test_request_bad_address),
        cmocka_unit_test(test_method_reply),
        cmocka_unit_test(test_method_reply_none),
        cmocka_unit_test(test_method_reply_bad_version),
        cmocka_unit_test(test_auth_reply),
        cmocka_unit_test(test_auth_reply_bad_version),
        cmocka_unit_test(test_reply_ipv4),
        cmocka_unit_test(test_reply_ipv6),
        cmocka_unit_test(test_reply_domain_one),
        cmocka_unit_test(test_reply_domain_longest),
        cmocka_unit_test(test_reply_null_bnd),
        cmocka_unit_test(test_reply_error_codes),
        cmocka_unit_test(test_reply_unknown_code),
        cmocka_unit_test(test_reply_rep_known_early),
        cmocka_unit_test(test_reply_bad_version),
        cmocka_unit_test(test_reply_bad_atyp),
        cmocka_unit_test(test_reply_empty_domain),
        cmocka_unit_test(test_rep_str),
        cmocka_unit_test(test_status_str),
        cmocka_unit_test(test_udp_ipv4),
        cmocka_unit_test(test_udp_ipv6),
        cmocka_unit_test(test_udp_domain),
        cmocka_unit_test(test_udp_longest_domain),
        cmocka_unit_test(test_udp_bad_address),
        cmocka_unit_test(test_udp_frag_reported),
        cmocka_unit_test(test_udp_truncated),
        cmocka_unit_test(test_udp_reserved_nonzero),
        cmocka_unit_test(test_udp_bad_atyp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
