/*
 * FIFO of lwIP pbufs with a read offset. Pbufs are linked through next
 * without pbuf_cat(): tot_len is not kept up to date across the queue
 * (nothing reads it), appends stay O(1), and each pbuf is unlinked before
 * it is freed.
 */
#include "lwip/pbuf.h"

#include "buf/pbq.h"

static void
free_head(struct t2s_pbq *q)
{
    struct pbuf *p = q->head;

    q->head = p->next;
    if (q->head == NULL)
        q->tail = NULL;
    p->next = NULL;
    pbuf_free(p);
}

void
t2s_pbq_push(struct t2s_pbq *q, struct pbuf *p)
{
    struct pbuf *last = p;

    q->len += p->tot_len;
    while (last->next != NULL)
        last = last->next;
    if (q->head == NULL)
        q->head = p;
    else
        q->tail->next = p;
    q->tail = last;
}

int
t2s_pbq_iov(const struct t2s_pbq *q, struct iovec *iov, int max)
{
    size_t skip = q->off;
    int n = 0;

    for (const struct pbuf *p = q->head; p != NULL && n < max; p = p->next) {
        if (skip >= p->len) {
            skip -= p->len;
            continue;
        }
        iov[n].iov_base = (uint8_t *)p->payload + skip;
        iov[n].iov_len = p->len - skip;
        skip = 0;
        n++;
    }
    return n;
}

void
t2s_pbq_consume(struct t2s_pbq *q, size_t n)
{
    q->len -= n;
    n += q->off;
    while (q->head != NULL && n >= q->head->len) {
        n -= q->head->len;
        free_head(q);
    }
    q->off = n;
}

void
t2s_pbq_clear(struct t2s_pbq *q)
{
    while (q->head != NULL)
        free_head(q);
    q->off = q->len = 0;
}
