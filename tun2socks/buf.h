/*
 * Bounded byte queue. Storage is allocated on first use, grows by doubling
 * up to `limit` bytes, and is released when the queue drains, so an idle
 * owner holds no memory. Not thread-safe.
 */
#ifndef T2S_BUF_H
#define T2S_BUF_H

#include <stddef.h>
#include <stdint.h>

struct t2s_buf {
    uint8_t *data; /* NULL while empty */
    size_t cap;    /* bytes allocated */
    size_t start;  /* offset of the first queued byte */
    size_t len;    /* bytes queued */
    size_t limit;  /* most bytes ever queued */
};

void t2s_buf_init(struct t2s_buf *b, size_t limit);

/* Appends n bytes. Returns 0, or -1 (nothing appended) when the queue
 * would exceed its limit or memory runs out. */
int t2s_buf_append(struct t2s_buf *b, const void *src, size_t n);

/* Pointer to the first queued byte (valid until the next call). */
const uint8_t *t2s_buf_head(const struct t2s_buf *b);

/* Drops n <= len bytes from the front; frees storage when empty. */
void t2s_buf_consume(struct t2s_buf *b, size_t n);

/* Frees storage. */
void t2s_buf_free(struct t2s_buf *b);

#endif
