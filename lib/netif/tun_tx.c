/* TUN output (tun_tx.h). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef T2S_HAVE_URING
#include <liburing.h>
#endif

#include "lwip/pbuf.h"

#include "codec/vnet.h"
#include "core/fault.h"
#include "core/mem.h"
#include "netif/tun_tx.h"
#include "tun/tun.h"
#include "tcp_ext.h"

/* A batch slot: a packet at MTU 1500 and the largest virtio-net header.
 * Bigger packets are written at once (copying them would cost more than
 * the system call it saves). */
#define SLOT 2048
/* Pieces of a pbuf chain written in one writev. */
#define TUN_IOV_MAX 64

union vnet_buf {
    struct virtio_net_hdr h;
    uint8_t bytes[T2S_VNET_HDR_MAX];
};

#ifdef T2S_FAULT_INJECTION
/* The failure a test asked for, or 0. */
#define fault_hit() t2s_fault_tun_write_hit()
#else
#define fault_hit() 0
#endif

static void
tx_failed(struct t2s_tun_tx *tx, size_t len, int err)
{
    /* Dropped: TCP retransmits. */
    T2S_STAT_INC(&tx->ctx->stats, tun_tx_dropped);
    t2s_log_limited(&tx->ctx->err_limit, T2S_LOG_WARN,
                    "TUN write of %zu bytes failed: %s", len,
                    err != 0 ? strerror(err) : "short write");
}

/* The result of writing want bytes. */
static void
tx_done(struct t2s_tun_tx *tx, ssize_t w, size_t want, int err)
{
    if (w < 0 || (size_t)w != want)
        tx_failed(tx, want, w < 0 ? err : 0);
    else
        T2S_STAT_INC(&tx->ctx->stats, tun_tx_packets);
}

/*
 * The virtio-net header of p into hdr (the kernel completes the TCP
 * checksum lwIP left out and, with TSO, cuts a segment larger than its
 * connection's MSS: t2s_tcp_ext_gso_size() is valid only now, inside the
 * netif's output call, so the header is made here, not at the flush): 0,
 * or -1 for a segment whose layout the kernel
 * cannot take (dropped and counted).
 */
static int
fill_vnet(struct t2s_tun_tx *tx, struct pbuf *p, union vnet_buf *hdr)
{
    memset(hdr, 0, sizeof(*hdr));
    if (t2s_vnet_tcp_out(p->payload, p->len, p->tot_len, t2s_tcp_ext_gso_size(),
                         &hdr->h) < 0) {
        T2S_STAT_INC(&tx->ctx->stats, tun_tx_dropped);
        t2s_log_limited(&tx->ctx->err_limit, T2S_LOG_WARN,
                        "TUN write: unexpected TCP segment layout");
        return -1;
    }
    return 0;
}

/* Slot i with write(2). */
static void
write_slot(struct t2s_tun_tx *tx, unsigned i)
{
    ssize_t w = write(tx->fd, tx->slots + (size_t)i * SLOT, tx->lens[i]);

    tx_done(tx, w, tx->lens[i], errno);
}

#ifdef T2S_HAVE_URING
/*
 * The ring, made in the loop thread before the loop runs
 * (t2s_tun_tx_start(): its task_work then goes to the loop thread, never
 * interrupts the embedder's thread that called t2s_create()). NULL without
 * io_uring (an old kernel, a seccomp filter, sysctl kernel.io_uring_disabled):
 * one write(2) per packet.
 */
static void *
ring_open(void)
{
    struct io_uring *ring = t2s_mem_alloc(sizeof(*ring));

    if (ring == NULL)
        return NULL;
    /* no signal-style task_work: completions are reaped in the call */
    if (io_uring_queue_init(T2S_TUN_TX_BATCH, ring,
                            IORING_SETUP_SINGLE_ISSUER |
                                IORING_SETUP_COOP_TASKRUN) < 0 &&
        io_uring_queue_init(T2S_TUN_TX_BATCH, ring, 0) < 0) {
        t2s_mem_free(ring);
        return NULL;
    }
    return ring;
}
#endif

#ifdef T2S_HAVE_URING
/* The batch in one io_uring_enter(2): a TUN write never blocks, so every
 * write completes within the call. */
static void
flush_uring(struct t2s_tun_tx *tx)
{
    struct io_uring *ring = tx->ring;
    struct io_uring_cqe *cqe;
    unsigned queued = 0, head, seen = 0;
    int rc;

    for (unsigned i = 0; i < tx->n; i++) {
        struct io_uring_sqe *sqe;
        int err = fault_hit();

        if (err != 0) {
            tx_failed(tx, tx->lens[i], err);
            continue;
        }
        sqe = io_uring_get_sqe(ring);
        if (sqe == NULL) { /* not with T2S_TUN_TX_BATCH entries */
            tx_failed(tx, tx->lens[i], ENOBUFS);
            continue;
        }
        io_uring_prep_write(sqe, tx->fd, tx->slots + (size_t)i * SLOT,
                            (unsigned)tx->lens[i], 0);
        /* never park the loop on a full descriptor (a socketpair in
         * the tests; a TUN never fills) */
        sqe->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(sqe, i);
        queued++;
    }
    if (queued == 0)
        return;
    rc = io_uring_submit_and_wait(ring, queued);
    if (rc < 0) {
        /* nothing known about the writes: count them lost */
        for (unsigned i = 0; i < queued; i++)
            tx_failed(tx, 0, -rc);
        return;
    }
    io_uring_for_each_cqe(ring, head, cqe)
    {
        unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);

        /* a file without non-blocking writes for io_uring: write(2) */
        if (cqe->res == -EOPNOTSUPP || cqe->res == -EAGAIN)
            write_slot(tx, i);
        else
            tx_done(tx, cqe->res < 0 ? -1 : cqe->res, tx->lens[i], -cqe->res);
        seen++;
    }
    io_uring_cq_advance(ring, seen);
}
#endif

void
t2s_tun_tx_start(struct t2s_tun_tx *tx)
{
#ifdef T2S_HAVE_URING
    if (!tx->ring_tried) {
        tx->ring_tried = 1;
        tx->ring = ring_open();
    }
#else
    (void)tx;
#endif
}

void
t2s_tun_tx_flush(struct t2s_tun_tx *tx)
{
    if (tx->n == 0)
        return;
#ifdef T2S_HAVE_URING
    if (tx->ring != NULL) {
        flush_uring(tx);
        tx->n = 0;
        return;
    }
#endif
    for (unsigned i = 0; i < tx->n; i++) {
        int err = fault_hit();

        if (err != 0)
            tx_failed(tx, tx->lens[i], err);
        else
            write_slot(tx, i);
    }
    tx->n = 0;
}

/* p into the next slot, its virtio-net header first. */
static void
queue(struct t2s_tun_tx *tx, struct pbuf *p, const union vnet_buf *hdr)
{
    uint8_t *slot;

    if (tx->n == T2S_TUN_TX_BATCH)
        t2s_tun_tx_flush(tx);
    slot = tx->slots + (size_t)tx->n * SLOT;
    if (tx->vnet_len > 0)
        memcpy(slot, hdr, (size_t)tx->vnet_len);
    pbuf_copy_partial(p, slot + tx->vnet_len, p->tot_len, 0);
    tx->lens[tx->n++] = (size_t)tx->vnet_len + p->tot_len;
}

/* p at once, from its pbufs. */
static void
write_now(struct t2s_tun_tx *tx, struct pbuf *p, union vnet_buf *hdr)
{
    struct iovec iov[TUN_IOV_MAX];
    const struct pbuf *q;
    int n = 0, first, err;
    size_t want = (size_t)tx->vnet_len + p->tot_len;
    ssize_t w = -1;

    if (tx->vnet_len > 0) {
        iov[n].iov_base = hdr;
        iov[n++].iov_len = (size_t)tx->vnet_len;
    }
    first = n;
    for (q = p; q != NULL && n < TUN_IOV_MAX; q = q->next) {
        iov[n].iov_base = q->payload;
        iov[n++].iov_len = q->len;
    }
    if (q != NULL) {
        /* A segment built from many small writes: flatten it. Writing a
         * prefix would lose the segment on every retransmission alike. */
        n = first + 1;
        iov[first].iov_base = tx->scratch;
        iov[first].iov_len = pbuf_copy_partial(p, tx->scratch, p->tot_len, 0);
    }
    err = fault_hit();
    if (err == 0) {
        w = writev(tx->fd, iov, n);
        err = errno;
    }
    tx_done(tx, w, want, err);
}

void
t2s_tun_tx_write(struct t2s_tun_tx *tx, struct pbuf *p)
{
    union vnet_buf hdr;

    if (tx->vnet_len > 0 && fill_vnet(tx, p, &hdr) < 0)
        return;
    if ((size_t)tx->vnet_len + p->tot_len <= SLOT && tx->slots != NULL) {
        queue(tx, p, &hdr);
        return;
    }
    t2s_tun_tx_flush(tx);
    write_now(tx, p, &hdr);
}

int
t2s_tun_tx_init(struct t2s_tun_tx *tx, struct t2s_ctx *ctx, int fd,
                int vnet_len, uint8_t *scratch)
{
    memset(tx, 0, sizeof(*tx));
    tx->ctx = ctx;
    tx->fd = fd;
    tx->vnet_len = vnet_len;
    tx->scratch = scratch;
    tx->slots = t2s_mem_alloc((size_t)T2S_TUN_TX_BATCH * SLOT);
    if (tx->slots == NULL)
        return -1;
    return 0;
}

void
t2s_tun_tx_close(struct t2s_tun_tx *tx)
{
    if (tx->slots == NULL)
        return;
    t2s_tun_tx_flush(tx);
#ifdef T2S_HAVE_URING
    if (tx->ring != NULL) {
        io_uring_queue_exit(tx->ring);
        t2s_mem_free(tx->ring);
        tx->ring = NULL;
    }
#endif
    t2s_mem_free(tx->slots);
    tx->slots = NULL;
}

int
t2s_tun_tx_uring(const struct t2s_tun_tx *tx)
{
    return tx->ring != NULL;
}
