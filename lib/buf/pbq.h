/*
 * A FIFO of lwIP pbufs with a read offset: app bytes waiting for the proxy
 * socket, kept in the pbufs lwIP delivered them in (no copy), written with
 * sendmsg(2) straight from them.
 */
#ifndef T2S_PBQ_H
#define T2S_PBQ_H

#include <stddef.h>
#include <sys/uio.h>

struct pbuf;

struct t2s_pbq {
    struct pbuf *head; /* linked by next; NULL when empty */
    struct pbuf *tail; /* last pbuf, for O(1) appends */
    size_t off;        /* bytes of head already consumed */
    size_t len;        /* bytes queued after off */
};

/* Appends p, a pbuf or chain; the queue takes the caller's reference. */
void t2s_pbq_push(struct t2s_pbq *q, struct pbuf *p);

/* Fills up to max iovecs with the queued bytes, in order; returns how many. */
int t2s_pbq_iov(const struct t2s_pbq *q, struct iovec *iov, int max);

/* Drops the first n queued bytes (n <= len), freeing pbufs done with. */
void t2s_pbq_consume(struct t2s_pbq *q, size_t n);

/* Frees everything queued. */
void t2s_pbq_clear(struct t2s_pbq *q);

#endif
