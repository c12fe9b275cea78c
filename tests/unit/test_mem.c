/* Unit tests for the process-wide memory budget (mem.h) and its option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/mem.h"

#define MIB ((size_t)1024 * 1024)

static int
reset(void **state)
{
    (void)state;
    t2s_mem_set_limit(0);
    assert_int_equal(t2s_mem_used(), 0);
    t2s_mem_reset_peak();
    return 0;
}

/* Each allocation costs its size plus the bookkeeping; frees return it. */
static void
test_counts_allocations(void **state)
{
    void *a, *b;
    uint8_t *z;

    (void)state;
    a = t2s_mem_alloc(100);
    b = t2s_mem_alloc(1);
    z = t2s_mem_calloc(10, 10);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(z);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    assert_int_equal(t2s_mem_used(), 201 + 3 * T2S_MEM_OVERHEAD);
    t2s_mem_free(a);
    t2s_mem_free(NULL);
    assert_int_equal(t2s_mem_used(), 101 + 2 * T2S_MEM_OVERHEAD);
    t2s_mem_free(b);
    t2s_mem_free(z);
    assert_int_equal(t2s_mem_used(), 0);
    assert_int_equal(t2s_mem_peak(), 201 + 3 * T2S_MEM_OVERHEAD);
    assert_null(t2s_mem_calloc(SIZE_MAX / 2, 4)); /* overflow */
    assert_null(t2s_mem_alloc(SIZE_MAX - 8));
    assert_int_equal(t2s_mem_used(), 0);
}

/* New work stops at 7/8 of the limit, data is shed at the limit, and
 * nothing is allocated past an eighth above it. */
static void
test_thresholds(void **state)
{
    const size_t limit = 8 * MIB;
    size_t step = MIB - T2S_MEM_OVERHEAD;
    void *blk[10];
    int n = 0;

    (void)state;
    t2s_mem_set_limit(limit);
    assert_true(t2s_mem_admit());
    assert_false(t2s_mem_over());
    while (n < 6)
        assert_non_null(blk[n++] = t2s_mem_alloc(step)); /* 6 MiB */
    assert_true(t2s_mem_admit());
    assert_non_null(blk[n++] = t2s_mem_alloc(step)); /* 7 MiB */
    assert_false(t2s_mem_admit());
    assert_false(t2s_mem_over());
    assert_non_null(blk[n++] = t2s_mem_alloc(step)); /* 8 MiB */
    assert_true(t2s_mem_over());
    assert_non_null(blk[n++] = t2s_mem_alloc(step)); /* 9 MiB: the cap */
    assert_null(t2s_mem_alloc(1));
    assert_int_equal(t2s_mem_charge(1), -1);
    assert_int_equal(t2s_mem_used(), 9 * MIB);
    while (n > 0)
        t2s_mem_free(blk[--n]);
    assert_true(t2s_mem_admit());
    assert_int_equal(t2s_mem_charge(MIB), 0);
    assert_int_equal(t2s_mem_used(), MIB);
    t2s_mem_uncharge(MIB);
    assert_int_equal(t2s_mem_used(), 0);
}

static void
test_default_limit(void **state)
{
    size_t d = t2s_mem_default_limit();

    (void)state;
    assert_true(d >= 32 * MIB);
    assert_true(d <= 1024 * MIB);
}

static void
test_option(void **state)
{
    static const struct {
        const char *v;
        uint64_t want; /* 0: refused */
    } cases[] = {
        {"1048576", 1048576},
        {"1M", MIB},
        {"256m", 256 * MIB},
        {"4096K", 4 * MIB},
        {"2G", 2048 * (uint64_t)MIB},
        {"1023K", 0},
        {"0", 0},
        {"", 0},
        {"M", 0},
        {"-1M", 0},
        {"1.5G", 0},
        {"1T", 0},
        {"2049G", 0},
        {"12Mb", 0},
        {" 1M", 0},
        {"99999999999999999999", 0},
    };
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct t2s_config c;
        int rc;

        t2s_config_init(&c);
        rc = t2s_config_set(&c, "memory-limit", cases[i].v, err, sizeof(err));
        if (cases[i].want == 0) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "--memory-limit"));
            assert_int_equal(c.memory_limit, 0);
        } else {
            assert_int_equal(rc, 0);
            assert_true(c.memory_limit == cases[i].want);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counts_allocations, reset),
        cmocka_unit_test_setup(test_thresholds, reset),
        cmocka_unit_test(test_default_limit),
        cmocka_unit_test(test_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
