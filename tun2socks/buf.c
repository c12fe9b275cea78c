/* Bounded byte queue: one contiguous region, compacted before growing. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_CAP 4096

void
t2s_buf_init(struct t2s_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

static int
make_room(struct t2s_buf *b, size_t n)
{
    size_t need = b->len + n, cap;
    uint8_t *p;

    if (b->start + need <= b->cap)
        return 0;
    if (need <= b->cap) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
        return 0;
    }
    for (cap = b->cap ? b->cap : BUF_MIN_CAP; cap < need; cap *= 2)
        ;
    if (cap > b->limit)
        cap = b->limit;
    if (b->start > 0) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int
t2s_buf_append(struct t2s_buf *b, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    if (n > b->limit - b->len || make_room(b, n) < 0)
        return -1;
    memcpy(b->data + b->start + b->len, src, n);
    b->len += n;
    return 0;
}

const uint8_t *
t2s_buf_head(const struct t2s_buf *b)
{
    return b->data != NULL ? b->data + b->start : NULL;
}

void
t2s_buf_consume(struct t2s_buf *b, size_t n)
{
    if (n > b->len)
        n = b->len;
    b->start += n;
    b->len -= n;
    if (b->len == 0)
        t2s_buf_free(b);
}

void
t2s_buf_free(struct t2s_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->cap = b->start = b->len = 0;
}
