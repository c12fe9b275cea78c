/*
 * Proxy bytes handed to lwIP by reference (tcp_write without a copy) live
 * in fixed-size blocks until the app has acknowledged them. A session keeps
 * its blocks in a FIFO; the bytes are received straight into the free
 * space at its tail, and a block goes back to the shared pool once every
 * byte in it lies below the oldest sequence number lwIP still holds.
 *
 * The pool caches a few free blocks (no allocation per read) and has a
 * budget: when it is spent, callers fall back to copying. Blocks, cached
 * ones too, are counted against the process's memory budget (mem.h).
 */
#ifndef T2S_BLKQ_H
#define T2S_BLKQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Under 64 KiB, so that one block fits one tcp_write(). */
#define T2S_BLK_SIZE 65280

struct t2s_blk;

struct t2s_blkq_pool {
    struct t2s_blk *free; /* cached free blocks */
    unsigned nfree;       /* how many are cached */
    unsigned cache_max;   /* cache at most this many, free() the rest */
    unsigned used;        /* blocks held by queues */
    unsigned used_max;    /* budget for used */
};

struct t2s_blkq {
    struct t2s_blk *head;  /* oldest block */
    struct t2s_blk *tail;  /* where new bytes go */
    struct t2s_blk *spare; /* taken by t2s_blkq_space(), not yet filled */
};

void t2s_blkq_pool_init(struct t2s_blkq_pool *pool, unsigned cache_max,
                        unsigned used_max);
/* Frees the cached blocks; queues must have been cleared. */
void t2s_blkq_pool_destroy(struct t2s_blkq_pool *pool);

/* Offers free space at the tail for up to want bytes: fills at most max
 * iovecs, in order, taking blocks from the pool as needed. Returns the
 * number of iovecs, 0 when the pool's budget is spent. */
int t2s_blkq_space(struct t2s_blkq *q, struct t2s_blkq_pool *pool,
                   struct iovec *iov, int max, size_t want);

/* The first n bytes of the space just offered now hold data that ends,
 * once handed to lwIP, at sequence number end_seq. Blocks of the offer
 * left empty go back to the pool. */
void t2s_blkq_commit(struct t2s_blkq *q, struct t2s_blkq_pool *pool, size_t n,
                     uint32_t end_seq);

/* Returns to the pool every block whose bytes all end at or before seq
 * (TCP sequence arithmetic). */
void t2s_blkq_release(struct t2s_blkq *q, struct t2s_blkq_pool *pool,
                      uint32_t seq);

/* Returns every block to the pool. */
void t2s_blkq_clear(struct t2s_blkq *q, struct t2s_blkq_pool *pool);

/* Nonzero if p points into one of the queue's blocks. */
int t2s_blkq_holds(const struct t2s_blkq *q, const void *p);

#endif
