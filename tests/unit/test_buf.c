/* Unit tests for the bounded byte queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_empty_holds_no_memory(void **state)
{
    struct t2s_buf b;

    (void)state;
    t2s_buf_init(&b, 1000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_null(t2s_buf_head(&b));
    assert_int_equal(t2s_buf_append(&b, "abc", 3), 0);
    assert_non_null(b.data);
    t2s_buf_consume(&b, 3);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void
test_fifo_order_across_growth(void **state)
{
    struct t2s_buf b;
    uint8_t in[20000], out[20000];
    size_t got = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    t2s_buf_init(&b, sizeof(in));
    /* interleave appends and partial consumes so compaction and growth
     * both happen */
    for (size_t off = 0; off < sizeof(in); off += 1000) {
        assert_int_equal(t2s_buf_append(&b, in + off, 1000), 0);
        memcpy(out + got, t2s_buf_head(&b), 300);
        t2s_buf_consume(&b, 300);
        got += 300;
    }
    memcpy(out + got, t2s_buf_head(&b), b.len);
    got += b.len;
    t2s_buf_consume(&b, b.len);
    assert_int_equal(got, sizeof(in));
    assert_memory_equal(in, out, sizeof(in));
    assert_null(b.data);
}

static void
test_limit_is_enforced(void **state)
{
    struct t2s_buf b;
    uint8_t data[100] = {0};

    (void)state;
    t2s_buf_init(&b, 150);
    assert_int_equal(t2s_buf_append(&b, data, 100), 0);
    assert_int_equal(t2s_buf_append(&b, data, 51), -1);
    assert_int_equal(b.len, 100); /* nothing of the refused append */
    assert_int_equal(t2s_buf_append(&b, data, 50), 0);
    assert_int_equal(b.len, 150);
    assert_true(b.cap <= 150);
    t2s_buf_consume(&b, 60);
    assert_int_equal(t2s_buf_append(&b, data, 60), 0);
    assert_int_equal(b.len, 150);
    t2s_buf_free(&b);
    assert_null(b.data);
}

static void
test_consume_more_than_len(void **state)
{
    struct t2s_buf b;

    (void)state;
    t2s_buf_init(&b, 64);
    assert_int_equal(t2s_buf_append(&b, "hello", 5), 0);
    t2s_buf_consume(&b, 99);
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    assert_int_equal(t2s_buf_append(&b, "", 0), 0);
    assert_null(b.data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_holds_no_memory),
        cmocka_unit_test(test_fifo_order_across_growth),
        cmocka_unit_test(test_limit_is_enforced),
        cmocka_unit_test(test_consume_more_than_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
