/* Unit tests for the RFC 1961 message codec (codec/gssapi_msg.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/gssapi_msg.h"

static int
decode(const uint8_t *b, size_t n, uint8_t mtyp, size_t *tl, size_t *used)
{
    const uint8_t *tok = NULL;

    return t2s_gssapi_msg_decode(b, n, mtyp, &tok, tl, used);
}

/* Every proper prefix is NEED_MORE, the whole is OK, trailing bytes are
 * left alone and the token points just after the header. */
static void
test_whole_and_prefixes(void **state)
{
    uint8_t msg[4 + 3 + 2] = {1, 1, 0, 3, 'a', 'b', 'c', 9, 9};
    const uint8_t *tok = NULL;
    size_t tl = 0, used = 0, i;

    (void)state;
    for (i = 0; i < 7; i++)
        assert_int_equal(decode(msg, i, 1, &tl, &used),
                         T2S_GSSAPI_MSG_NEED_MORE);
    assert_int_equal(
        t2s_gssapi_msg_decode(msg, sizeof(msg), 1, &tok, &tl, &used),
        T2S_GSSAPI_MSG_OK);
    assert_int_equal(tl, 3);
    assert_int_equal(used, 7);
    assert_ptr_equal(tok, msg + 4);
}

static void
test_errors(void **state)
{
    uint8_t badver[] = {5, 1, 0, 1, 0};
    uint8_t abort_[] = {1, 0xff};
    uint8_t wrongtype[] = {1, 2, 0, 1, 0};
    uint8_t empty[] = {1, 3, 0, 0};
    size_t tl, used;

    (void)state;
    assert_int_equal(decode(badver, 1, 1, &tl, &used), T2S_GSSAPI_MSG_EVERSION);
    assert_int_equal(decode(abort_, 2, 1, &tl, &used), T2S_GSSAPI_MSG_EABORT);
    assert_int_equal(decode(wrongtype, 5, 1, &tl, &used), T2S_GSSAPI_MSG_ETYPE);
    assert_int_equal(decode(empty, 4, 3, &tl, &used), T2S_GSSAPI_MSG_OK);
    assert_int_equal(tl, 0);
    assert_int_equal(used, 4);
    assert_non_null(
        strstr(t2s_gssapi_msg_status_str(T2S_GSSAPI_MSG_EABORT), "aborted"));
}

/* The largest length (65535) is only pending until all of it is there. */
static void
test_max_length(void **state)
{
    static uint8_t big[4 + 65535];
    size_t tl = 0, used = 0;

    (void)state;
    assert_int_equal(t2s_gssapi_msg_encode_hdr(big, 3, 65535), 4);
    assert_int_equal(decode(big, sizeof(big) - 1, 3, &tl, &used),
                     T2S_GSSAPI_MSG_NEED_MORE);
    assert_int_equal(decode(big, sizeof(big), 3, &tl, &used),
                     T2S_GSSAPI_MSG_OK);
    assert_int_equal(tl, 65535);
}

static void
test_encode_limits(void **state)
{
    uint8_t hdr[4];

    (void)state;
    assert_int_equal(t2s_gssapi_msg_encode_hdr(hdr, 1, 0), 0);
    assert_int_equal(t2s_gssapi_msg_encode_hdr(hdr, 1, 65536), 0);
    assert_int_equal(t2s_gssapi_msg_encode_hdr(hdr, 2, 258), 4);
    assert_memory_equal(hdr, "\x01\x02\x01\x02", 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_and_prefixes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_max_length),
        cmocka_unit_test(test_encode_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
