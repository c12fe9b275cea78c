/*
 * Writing lwIP's output to the TUN. Small packets (a plain descriptor at
 * MTU 1500 writes one per segment) are copied into a batch and written
 * together at the end of the loop iteration (t2s_tun_tx_flush(), from the
 * stack's ev_prepare) or when the batch is full: with io_uring one system
 * call for the batch (T2S_HAVE_URING, and the kernel allows it), else one
 * write(2) each. Larger packets flush the batch, then go out at once with
 * one writev(2) straight from the pbufs. Order is kept. Owned by the
 * stack; loop thread only.
 */
#ifndef T2S_TUN_TX_H
#define T2S_TUN_TX_H

#include <stddef.h>
#include <stdint.h>

#include "session/ctx.h"

struct pbuf;

/* Packets per batch. */
#define T2S_TUN_TX_BATCH 64

struct t2s_tun_tx {
    struct t2s_ctx *ctx; /* counters, log limit */
    int fd;              /* the TUN; the instance's */
    int vnet_len;        /* virtio-net header per packet, or 0 */
    uint8_t *scratch;    /* flattening a long chain: the stack's buffer */
    uint8_t *slots;      /* the batch: T2S_TUN_TX_BATCH slots */
    size_t lens[T2S_TUN_TX_BATCH]; /* bytes in each slot */
    unsigned n;                    /* slots in use */
    void *ring;                    /* struct io_uring, or NULL */
    int ring_tried;                /* ring made or found unavailable */
};

/*
 * fd: the TUN; vnet_len: its virtio-net header size; scratch: a buffer of
 * T2S_TUN_BUF_SIZE bytes free whenever lwIP produces output (the stack's
 * read buffer), kept by the caller. 0, or -1 when out of memory.
 */
int t2s_tun_tx_init(struct t2s_tun_tx *tx, struct t2s_ctx *ctx, int fd,
                    int vnet_len, uint8_t *scratch);

/* One IP packet from lwIP (netif->output): queued or written; p stays
 * lwIP's. A failure is counted and logged, never returned: an error
 * would leave a TCP segment stuck in lwIP, and TCP retransmits a drop. */
void t2s_tun_tx_write(struct t2s_tun_tx *tx, struct pbuf *p);

/* Writes the batch. */
void t2s_tun_tx_flush(struct t2s_tun_tx *tx);

/*
 * In the loop's thread, before the loop runs: makes the io_uring ring
 * (its task work then goes to this thread, never to the embedder's thread
 * that called t2s_create()). Once per instance; later calls do nothing.
 * Its descriptor then exists before any traffic, so the instance's
 * descriptor count does not step up at the first batch.
 */
void t2s_tun_tx_start(struct t2s_tun_tx *tx);

/* Flushes, then frees. Idempotent. */
void t2s_tun_tx_close(struct t2s_tun_tx *tx);

/* Whether batches go through io_uring (known after t2s_tun_tx_start()). */
int t2s_tun_tx_uring(const struct t2s_tun_tx *tx);

#endif
