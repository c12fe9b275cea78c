/* Unit tests for the pbuf queue between lwIP and the proxy socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"

#include "buf/pbq.h"

static int
setup(void **state)
{
    static int done;

    (void)state;
    if (!done)
        lwip_init();
    done = 1;
    return 0;
}

/* A pbuf of len bytes, byte i = (base + i) * 7. */
static struct pbuf *
make(size_t base, size_t len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);

    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)p->payload)[i] = (uint8_t)((base + i) * 7);
    return p;
}

/* Copies what the queue's iovecs show, at most max pieces. */
static size_t
gather(const struct t2s_pbq *q, uint8_t *out, int max)
{
    struct iovec iov[8];
    size_t got = 0;
    int n = t2s_pbq_iov(q, iov, max);

    for (int i = 0; i < n; i++) {
        memcpy(out + got, iov[i].iov_base, iov[i].iov_len);
        got += iov[i].iov_len;
    }
    return got;
}

static void
test_fifo_across_pbufs_and_chains(void **state)
{
    struct t2s_pbq q = {0};
    struct pbuf *chain = make(100, 50);
    uint8_t out[400], want[400];
    size_t total = 0;

    (void)state;
    pbuf_cat(chain, make(150, 30)); /* lwIP hands over chains too */
    t2s_pbq_push(&q, make(0, 100));
    t2s_pbq_push(&q, chain);
    t2s_pbq_push(&q, make(180, 20));
    assert_int_equal(q.len, 200);
    for (size_t i = 0; i < 200; i++)
        want[i] = (uint8_t)(i * 7);
    /* partial sends: inside a pbuf, exactly at a boundary, across two */
    const size_t steps[] = {30, 70, 60, 25, 15};
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        size_t len = gather(&q, out, 8);
        assert_int_equal(len, q.len);
        assert_memory_equal(out, want + total, len);
        t2s_pbq_consume(&q, steps[k]);
        total += steps[k];
    }
    assert_int_equal(total, 200);
    assert_int_equal(q.len, 0);
    assert_null(q.head);
    assert_null(q.tail);
}

static void
test_iov_limit_and_push_after_drain(void **state)
{
    struct t2s_pbq q = {0};
    uint8_t out[64];

    (void)state;
    for (size_t i = 0; i < 5; i++)
        t2s_pbq_push(&q, make(i * 10, 10));
    assert_int_equal(gather(&q, out, 2), 20); /* only two pieces */
    t2s_pbq_consume(&q, 50);
    assert_null(q.head);
    /* the queue is reusable once empty */
    t2s_pbq_push(&q, make(7, 5));
    assert_int_equal(gather(&q, out, 8), 5);
    assert_int_equal(out[0], (uint8_t)(7 * 7));
    t2s_pbq_clear(&q);
    assert_null(q.head);
    assert_int_equal(q.len, 0);
}

static void
test_clear_frees_partially_consumed_queue(void **state)
{
    struct t2s_pbq q = {0};
    struct pbuf *kept = make(0, 40);
    uint8_t out[80];

    (void)state;
    pbuf_ref(kept); /* our own reference shows when the queue lets go */
    t2s_pbq_push(&q, kept);
    t2s_pbq_push(&q, make(40, 40));
    t2s_pbq_consume(&q, 10);
    assert_int_equal(gather(&q, out, 8), 70);
    assert_int_equal(out[0], (uint8_t)(10 * 7));
    assert_int_equal(kept->ref, 2);
    t2s_pbq_clear(&q);
    assert_int_equal(kept->ref, 1);
    assert_null(kept->next); /* unlinked from the queue before release */
    pbuf_free(kept);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_across_pbufs_and_chains),
        cmocka_unit_test(test_iov_limit_and_push_after_drain),
        cmocka_unit_test(test_clear_frees_partially_consumed_queue),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
