/*
 * Blocks of proxy bytes lwIP references until the app acknowledges them.
 * Sequence numbers are compared as TCP does (modulo 2^32).
 */
#include <stdlib.h>

#include "buf/blkq.h"
#include "core/mem.h"

/* Under AddressSanitizer a cached block is poisoned, so that a use after
 * release is caught even though the memory is not freed. */
#if defined(__SANITIZE_ADDRESS__)
#define T2S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T2S_ASAN 1
#endif
#endif
#ifdef T2S_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(b) ASAN_POISON_MEMORY_REGION((b)->data, T2S_BLK_SIZE)
#define UNPOISON(b) ASAN_UNPOISON_MEMORY_REGION((b)->data, T2S_BLK_SIZE)
#else
#define POISON(b) ((void)(b))
#define UNPOISON(b) ((void)(b))
#endif

struct t2s_blk {
    struct t2s_blk *next;
    uint32_t fill;    /* bytes written */
    uint32_t end_seq; /* sequence number after the last byte written */
    uint8_t data[T2S_BLK_SIZE];
};

static int
seq_leq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

void
t2s_blkq_pool_init(struct t2s_blkq_pool *pool, unsigned cache_max,
                   unsigned used_max)
{
    pool->free = NULL;
    pool->nfree = 0;
    pool->cache_max = cache_max;
    pool->used = 0;
    pool->used_max = used_max;
}

void
t2s_blkq_pool_destroy(struct t2s_blkq_pool *pool)
{
    while (pool->free != NULL) {
        struct t2s_blk *b = pool->free;
        pool->free = b->next;
        UNPOISON(b);
        t2s_mem_free(b);
    }
    pool->nfree = 0;
}

static struct t2s_blk *
pool_get(struct t2s_blkq_pool *pool)
{
    struct t2s_blk *b;

    if (pool->used >= pool->used_max)
        return NULL;
    if (pool->free != NULL) {
        b = pool->free;
        pool->free = b->next;
        pool->nfree--;
        UNPOISON(b);
    } else if ((b = t2s_mem_alloc(sizeof(*b))) == NULL) {
        return NULL;
    }
    pool->used++;
    b->next = NULL;
    b->fill = 0;
    return b;
}

static void
pool_put(struct t2s_blkq_pool *pool, struct t2s_blk *b)
{
    pool->used--;
    if (pool->nfree < pool->cache_max) {
        b->next = pool->free;
        pool->free = b;
        pool->nfree++;
        POISON(b);
    } else {
        t2s_mem_free(b);
    }
}

/* Free bytes at the end of the tail block (0 without one). */
static size_t
tail_room(const struct t2s_blkq *q)
{
    return q->tail != NULL ? T2S_BLK_SIZE - q->tail->fill : 0;
}

int
t2s_blkq_space(struct t2s_blkq *q, struct t2s_blkq_pool *pool,
               struct iovec *iov, int max, size_t want)
{
    struct t2s_blk **link = &q->spare;
    size_t len = tail_room(q);
    int n = 0;

    if (len > 0 && max > 0 && want > 0) {
        iov[n].iov_base = q->tail->data + q->tail->fill;
        iov[n].iov_len = len < want ? len : want;
        want -= iov[n++].iov_len;
    }
    while (n < max && want > 0) {
        struct t2s_blk *b = *link; /* left from an uncommitted offer */
        if (b == NULL && (b = *link = pool_get(pool)) == NULL)
            break;
        iov[n].iov_base = b->data;
        iov[n].iov_len = T2S_BLK_SIZE < want ? T2S_BLK_SIZE : want;
        want -= iov[n++].iov_len;
        link = &b->next;
    }
    return n;
}

static void
append(struct t2s_blkq *q, struct t2s_blk *b)
{
    b->next = NULL;
    if (q->tail != NULL)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
}

void
t2s_blkq_commit(struct t2s_blkq *q, struct t2s_blkq_pool *pool, size_t n,
                uint32_t end_seq)
{
    size_t len = tail_room(q);

    if (len > 0 && n > 0) {
        if (len > n)
            len = n;
        q->tail->fill += (uint32_t)len;
        q->tail->end_seq = end_seq;
        n -= len;
    }
    while (q->spare != NULL) {
        struct t2s_blk *b = q->spare;
        q->spare = b->next;
        if (n == 0) {
            pool_put(pool, b);
            continue;
        }
        b->fill = (uint32_t)(n < T2S_BLK_SIZE ? n : T2S_BLK_SIZE);
        b->end_seq = end_seq;
        n -= b->fill;
        append(q, b);
    }
}

static void
put_head(struct t2s_blkq *q, struct t2s_blkq_pool *pool)
{
    struct t2s_blk *b = q->head;

    q->head = b->next;
    if (q->head == NULL)
        q->tail = NULL;
    pool_put(pool, b);
}

void
t2s_blkq_release(struct t2s_blkq *q, struct t2s_blkq_pool *pool, uint32_t seq)
{
    while (q->head != NULL && seq_leq(q->head->end_seq, seq))
        put_head(q, pool);
}

void
t2s_blkq_clear(struct t2s_blkq *q, struct t2s_blkq_pool *pool)
{
    while (q->head != NULL)
        put_head(q, pool);
    t2s_blkq_commit(q, pool, 0, 0); /* drop an uncommitted offer */
}

int
t2s_blkq_holds(const struct t2s_blkq *q, const void *p)
{
    const uint8_t *u = p;

    for (const struct t2s_blk *b = q->head; b != NULL; b = b->next)
        if (u >= b->data && u < b->data + b->fill)
            return 1;
    return 0;
}
