/* Unit tests for the SOCKS4 / SOCKS4a codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/socks4.h"

static void
test_encode_connect(void **state)
{
    static const uint8_t ip[4] = {198, 18, 0, 1};
    static const uint8_t want[] = {4, 1, 0x1F, 0x90, 198, 18,
                                   0, 1, 'b',  'o',  'b', 0};
    uint8_t out[T2S_SOCKS4_REQUEST_MAX];

    (void)state;
    assert_int_equal(
        t2s_socks4_encode_connect(out, sizeof(out), ip, 8080, "bob", 3),
        sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    /* no user id: just the NUL */
    assert_int_equal(
        t2s_socks4_encode_connect(out, sizeof(out), ip, 80, NULL, 0), 9);
    assert_int_equal(out[8], 0);
    /* too small, a NUL inside the user id, too long */
    assert_int_equal(
        t2s_socks4_encode_connect(out, sizeof(want) - 1, ip, 8080, "bob", 3),
        0);
    assert_int_equal(
        t2s_socks4_encode_connect(out, sizeof(out), ip, 80, "a\0b", 3), 0);
    assert_int_equal(
        t2s_socks4_encode_connect(out, sizeof(out), ip, 80, (char *)out, 256),
        0);
}

static void
test_encode_name(void **state)
{
    static const uint8_t want[] = {4, 1,   0,   80,  0,   0,   0,   1, 'u',
                                   0, 'e', 'x', '.', 'o', 'r', 'g', 0};
    uint8_t out[T2S_SOCKS4_REQUEST_MAX];
    char big[256];

    (void)state;
    assert_int_equal(t2s_socks4_encode_connect_name(out, sizeof(out), "ex.org",
                                                    6, 80, "u", 1),
                     sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(
        t2s_socks4_encode_connect_name(out, sizeof(out), "", 0, 80, NULL, 0),
        0);
    assert_int_equal(t2s_socks4_encode_connect_name(out, sizeof(out), "a\0b", 3,
                                                    80, NULL, 0),
                     0);
    assert_int_equal(t2s_socks4_encode_connect_name(out, sizeof(want) - 1,
                                                    "ex.org", 6, 80, "u", 1),
                     0);
    /* both strings at their longest fit the documented maximum */
    memset(big, 'a', sizeof(big));
    assert_int_equal(t2s_socks4_encode_connect_name(out, sizeof(out), big, 255,
                                                    80, big, 255),
                     T2S_SOCKS4_REQUEST_MAX);
}

/* Every prefix is pending; the whole gives want with 8 bytes consumed;
 * bytes after it are not consumed. */
static void
check_reply(const uint8_t *msg, int want, uint8_t want_code)
{
    uint8_t buf[T2S_SOCKS4_REPLY_LEN + 4];
    size_t consumed;
    uint8_t code;

    memcpy(buf, msg, T2S_SOCKS4_REPLY_LEN);
    memcpy(buf + T2S_SOCKS4_REPLY_LEN, "SSH-", 4);
    for (size_t i = 0; i < T2S_SOCKS4_REPLY_LEN; i++) {
        consumed = 9999;
        assert_int_equal(t2s_socks4_decode_reply(buf, i, &code, &consumed),
                         T2S_SOCKS4_NEED_MORE);
        assert_int_equal(consumed, 9999);
    }
    for (size_t n = T2S_SOCKS4_REPLY_LEN; n <= sizeof(buf); n++) {
        code = 0;
        assert_int_equal(t2s_socks4_decode_reply(buf, n, &code, &consumed),
                         want);
        assert_int_equal(consumed, T2S_SOCKS4_REPLY_LEN);
        assert_int_equal(code, want_code);
    }
}

static void
test_decode_reply(void **state)
{
    static const uint8_t ok[] = {0, 90, 0, 0, 0, 0, 0, 0};
    static const uint8_t rej[] = {0, 91, 0, 0, 0, 0, 0, 0};
    static const uint8_t ident[] = {0, 93, 1, 2, 3, 4, 5, 6};
    static const uint8_t v4[] = {4, 90, 0, 0, 0, 0, 0, 0};
    static const uint8_t badcode[] = {0, 89};
    size_t consumed = 9999;
    uint8_t code;

    (void)state;
    check_reply(ok, T2S_SOCKS4_OK, 90);
    check_reply(rej, T2S_SOCKS4_EREPLY, 91);
    check_reply(ident, T2S_SOCKS4_EREPLY, 93);
    /* a wrong VN or CD is known at once */
    assert_int_equal(t2s_socks4_decode_reply(v4, 1, &code, &consumed),
                     T2S_SOCKS4_EVERSION);
    assert_int_equal(t2s_socks4_decode_reply(badcode, 2, &code, &consumed),
                     T2S_SOCKS4_EMALFORMED);
    assert_int_equal(consumed, 9999);
}

static void
test_strings(void **state)
{
    (void)state;
    assert_string_equal(t2s_socks4_code_str(91), "request rejected or failed");
    assert_non_null(strstr(t2s_socks4_code_str(92), "identd"));
    assert_non_null(strstr(t2s_socks4_code_str(93), "user id"));
    assert_string_equal(t2s_socks4_code_str(0), "unknown reply code");
    for (int s = -4; s <= 2; s++)
        assert_non_null(t2s_socks4_status_str(s));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_connect),
        cmocka_unit_test(test_encode_name),
        cmocka_unit_test(test_decode_reply),
        cmocka_unit_test(test_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
