/* Unit tests for the blocks that hold proxy bytes lwIP references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf/blkq.h"

#define B T2S_BLK_SIZE

static size_t
total(const struct iovec *iov, int n)
{
    size_t sum = 0;

    for (int i = 0; i < n; i++)
        sum += iov[i].iov_len;
    return sum;
}

/* The tail's free space comes first, then whole new blocks, each piece
 * contiguous with what was committed before it. */
static void
test_space_order(void **state)
{
    struct t2s_blkq_pool pool;
    struct t2s_blkq q = {0};
    struct iovec iov[8];
    uint8_t *first;
    int n;

    (void)state;
    t2s_blkq_pool_init(&pool, 8, 100);
    n = t2s_blkq_space(&q, &pool, iov, 8, 1000);
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].iov_len, 1000);
    first = iov[0].iov_base;
    memset(first, 'a', 300);
    t2s_blkq_commit(&q, &pool, 300, 300);
    assert_int_equal(pool.used, 1);

    n = t2s_blkq_space(&q, &pool, iov, 8, 3 * B);
    assert_int_equal(n, 4);
    assert_ptr_equal(iov[0].iov_base, first + 300);
    assert_int_equal(iov[0].iov_len, B - 300);
    assert_int_equal(iov[1].iov_len, B);
    assert_int_equal(iov[3].iov_len, 300);
    assert_int_equal(total(iov, n), 3 * B);
    assert_int_equal(pool.used, 4);
    /* 1.5 blocks arrive: the last new block was not needed */
    t2s_blkq_commit(&q, &pool, B - 300 + B / 2, 2000);
    assert_int_equal(pool.used, 2);
    assert_true(t2s_blkq_holds(&q, first));
    assert_true(t2s_blkq_holds(&q, (uint8_t *)iov[1].iov_base + B / 2 - 1));
    assert_false(t2s_blkq_holds(&q, (uint8_t *)iov[1].iov_base + B / 2));

    /* the next offer continues in the half-filled block */
    n = t2s_blkq_space(&q, &pool, iov + 4, 1, 10);
    assert_int_equal(n, 1);
    assert_ptr_equal(iov[4].iov_base, (uint8_t *)iov[1].iov_base + B / 2);
    t2s_blkq_clear(&q, &pool);
    assert_int_equal(pool.used, 0);
    assert_null(q.head);
    assert_null(q.tail);
    t2s_blkq_pool_destroy(&pool);
}

/* A block goes back only when every byte in it is at or before seq,
 * across the 2^32 wrap of sequence numbers. */
static void
test_release_by_seq(void **state)
{
    struct t2s_blkq_pool pool;
    struct t2s_blkq q = {0};
    struct iovec iov[4];
    uint32_t seq0 = 0xffffff00u; /* wraps inside the second block */
    int n;

    (void)state;
    t2s_blkq_pool_init(&pool, 8, 100);
    n = t2s_blkq_space(&q, &pool, iov, 4, 2 * B);
    assert_int_equal(n, 2);
    t2s_blkq_commit(&q, &pool, B, seq0 + B);
    t2s_blkq_space(&q, &pool, iov, 4, B);
    t2s_blkq_commit(&q, &pool, B, seq0 + 2 * B);
    assert_int_equal(pool.used, 2);

    t2s_blkq_release(&q, &pool, seq0 + B - 1); /* one byte still held */
    assert_int_equal(pool.used, 2);
    t2s_blkq_release(&q, &pool, seq0 + B);
    assert_int_equal(pool.used, 1);
    t2s_blkq_release(&q, &pool, seq0 + 2 * B - 1);
    assert_int_equal(pool.used, 1);
    t2s_blkq_release(&q, &pool, seq0 + 2 * B + 5);
    assert_int_equal(pool.used, 0);
    assert_null(q.head);
    assert_null(q.tail);

    /* an empty queue starts a fresh block */
    n = t2s_blkq_space(&q, &pool, iov, 4, 10);
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].iov_len, 10);
    t2s_blkq_clear(&q, &pool);
    t2s_blkq_pool_destroy(&pool);
}

/* Over budget the offer shrinks, down to nothing; an uncommitted offer is
 * reused rather than taking more blocks. */
static void
test_budget(void **state)
{
    struct t2s_blkq_pool pool;
    struct t2s_blkq a = {0}, b = {0};
    struct iovec iov[8];

    (void)state;
    t2s_blkq_pool_init(&pool, 8, 3);
    assert_int_equal(t2s_blkq_space(&a, &pool, iov, 8, 2 * B), 2);
    assert_int_equal(t2s_blkq_space(&a, &pool, iov, 8, 2 * B), 2);
    assert_int_equal(pool.used, 2);
    t2s_blkq_commit(&a, &pool, 2 * B, 2 * B);
    assert_int_equal(t2s_blkq_space(&b, &pool, iov, 8, 4 * B), 1);
    assert_int_equal(pool.used, 3);
    t2s_blkq_commit(&b, &pool, 0, 0); /* nothing read */
    assert_int_equal(pool.used, 2);
    t2s_blkq_space(&b, &pool, iov, 8, B);
    t2s_blkq_commit(&b, &pool, B, B);
    assert_int_equal(t2s_blkq_space(&a, &pool, iov, 8, B), 0);
    assert_int_equal(t2s_blkq_space(&b, &pool, iov, 8, B), 0);
    t2s_blkq_release(&a, &pool, B); /* both blocks end at 2 * B */
    assert_int_equal(t2s_blkq_space(&b, &pool, iov, 8, B), 0);
    t2s_blkq_release(&a, &pool, 2 * B);
    assert_int_equal(t2s_blkq_space(&b, &pool, iov, 8, B), 1);
    t2s_blkq_clear(&a, &pool);
    t2s_blkq_clear(&b, &pool);
    assert_int_equal(pool.used, 0);
    t2s_blkq_pool_destroy(&pool);
}

/* Freed blocks are cached up to cache_max and reused from the cache. */
static void
test_cache(void **state)
{
    struct t2s_blkq_pool pool;
    struct t2s_blkq q = {0};
    struct iovec iov[8];
    void *cached;

    (void)state;
    t2s_blkq_pool_init(&pool, 2, 100);
    assert_int_equal(t2s_blkq_space(&q, &pool, iov, 8, 5 * B), 5);
    t2s_blkq_commit(&q, &pool, 5 * B, 5 * B);
    t2s_blkq_clear(&q, &pool);
    assert_int_equal(pool.used, 0);
    assert_int_equal(pool.nfree, 2);
    cached = pool.free;
    t2s_blkq_space(&q, &pool, iov, 8, 1);
    assert_int_equal(pool.nfree, 1);
    /* the block comes from the cache: its data follows the header */
    assert_true((uint8_t *)iov[0].iov_base > (uint8_t *)cached);
    assert_true((uint8_t *)iov[0].iov_base < (uint8_t *)cached + 64);
    t2s_blkq_clear(&q, &pool);
    t2s_blkq_pool_destroy(&pool);
    assert_int_equal(pool.nfree, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_space_order),
        cmocka_unit_test(test_release_by_seq),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
