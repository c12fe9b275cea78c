/* Batched datagrams toward the relay (udp_batch.h). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/uio.h>

#include "core/log.h"
#include "core/mem.h"
#include "udp/udp_batch.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif

static int
sys_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    return sendmmsg(fd, v, n, flags);
}

static ssize_t
sys_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return sendmsg(fd, m, flags);
}

const struct t2s_udp_batch_sys t2s_udp_batch_sys_default = {sys_sendmmsg,
                                                            sys_sendmsg};

static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)revents;
    t2s_udp_batch_flush(w->data);
}

int
t2s_udp_batch_init(struct t2s_udp_batch *b, struct ev_loop *loop,
                   struct t2s_stats *stats, const struct t2s_udp_batch_sys *sys)
{
    memset(b, 0, sizeof(*b));
    b->sys = sys != NULL ? sys : &t2s_udp_batch_sys_default;
    b->stats = stats;
    b->loop = loop;
    b->gso = 1;
    b->arena = t2s_mem_alloc(T2S_UDP_BATCH_BYTES);
    if (b->arena == NULL)
        return -1;
    ev_prepare_init(&b->prepare, on_prepare);
    b->prepare.data = b;
    ev_prepare_start(loop, &b->prepare);
    return 0;
}

void
t2s_udp_batch_free(struct t2s_udp_batch *b)
{
    if (b->arena == NULL)
        return;
    t2s_udp_batch_flush(b);
    ev_prepare_stop(b->loop, &b->prepare);
    t2s_mem_free(b->arena);
    b->arena = NULL;
}

uint8_t *
t2s_udp_batch_reserve(struct t2s_udp_batch *b, size_t len)
{
    if (len > T2S_UDP_BATCH_BYTES)
        return NULL;
    if (b->n == T2S_UDP_BATCH_MAX || b->used + len > T2S_UDP_BATCH_BYTES)
        t2s_udp_batch_flush(b);
    return b->arena + b->used;
}

void
t2s_udp_batch_commit(struct t2s_udp_batch *b, int fd, size_t len,
                     size_t payload)
{
    struct t2s_udp_batch_dgram *d = &b->q[b->n++];

    d->fd = fd;
    d->off = (uint32_t)b->used;
    d->len = (uint32_t)len;
    d->payload = (uint32_t)payload;
    b->used += len;
}

/* Datagrams [i, i + k) reached the kernel (sent) or not. */
static void
account(struct t2s_udp_batch *b, unsigned i, unsigned k, int sent)
{
    for (unsigned j = i; j < i + k; j++) {
        if (!sent) {
            T2S_STAT_INC(b->stats, udp_dropped);
            continue;
        }
        T2S_STAT_INC(b->stats, udp_pkts_up);
        T2S_STAT_ADD(b->stats, udp_bytes_up, b->q[j].payload);
    }
}

/* How many datagrams from i on (before end) can go as one GSO send: the
 * same socket and size (the last one may be shorter). */
static unsigned
gso_run(const struct t2s_udp_batch *b, unsigned i, unsigned end)
{
    uint32_t len = b->q[i].len, total = 0;
    unsigned k = 0;

    while (i + k < end && k < T2S_UDP_BATCH_GSO_SEGS &&
           total + b->q[i + k].len <= T2S_UDP_BATCH_GSO_BYTES &&
           b->q[i + k].len <= len) {
        total += b->q[i + k].len;
        if (b->q[i + k++].len < len)
            break;
    }
    return k;
}

/* One GSO send of k datagrams from i: 1 sent, 0 not taken (dropped), -1
 * the kernel refuses UDP_SEGMENT (nothing sent). */
static int
send_gso(struct t2s_udp_batch *b, unsigned i, unsigned k)
{
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    const struct t2s_udp_batch_dgram *last = &b->q[i + k - 1];
    struct iovec iov = {b->arena + b->q[i].off,
                        last->off + last->len - b->q[i].off};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;
    uint16_t seg = (uint16_t)b->q[i].len;

    memset(&ctl, 0, sizeof(ctl));
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(seg));
    memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
    if (b->sys->sendmsg(b->q[i].fd, &msg, MSG_DONTWAIT) == (ssize_t)iov.iov_len)
        return 1;
    if (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT ||
        errno == EOPNOTSUPP)
        return -1;
    return 0;
}

/* sendmmsg of [i, end), all to one socket; what the kernel does not take
 * after a partial send is dropped (its buffer is full). */
static void
send_mmsg(struct t2s_udp_batch *b, unsigned i, unsigned end)
{
    struct mmsghdr v[T2S_UDP_BATCH_MAX];
    struct iovec iov[T2S_UDP_BATCH_MAX];
    unsigned n = end - i;

    memset(v, 0, sizeof(v[0]) * n);
    for (unsigned j = 0; j < n; j++) {
        iov[j].iov_base = b->arena + b->q[i + j].off;
        iov[j].iov_len = b->q[i + j].len;
        v[j].msg_hdr.msg_iov = &iov[j];
        v[j].msg_hdr.msg_iovlen = 1;
    }
    for (unsigned done = 0; done < n;) {
        int r = b->sys->sendmmsg(b->q[i].fd, v + done, n - done, MSG_DONTWAIT);

        if (r <= 0) {
            account(b, i + done, n - done, 0);
            return;
        }
        account(b, i + done, (unsigned)r, 1);
        done += (unsigned)r;
    }
}

/* Every datagram of [i, end), all to one socket. */
static void
send_fd_run(struct t2s_udp_batch *b, unsigned i, unsigned end)
{
    while (i < end) {
        unsigned k = b->gso ? gso_run(b, i, end) : 0, j;
        int rc;

        if (k >= 2) {
            rc = send_gso(b, i, k);
            if (rc >= 0) {
                b->gso_sends += (uint64_t)rc;
                account(b, i, k, rc);
                i += k;
                continue;
            }
            b->gso = 0;
            t2s_debug("UDP GSO refused by the kernel (%s): using sendmmsg",
                      strerror(errno));
        }
        /* up to the next run GSO could take */
        for (j = i + 1; j < end && (!b->gso || gso_run(b, j, end) < 2); j++)
            ;
        send_mmsg(b, i, j);
        i = j;
    }
}

void
t2s_udp_batch_flush(struct t2s_udp_batch *b)
{
    unsigned i = 0;

    while (i < b->n) {
        unsigned j = i + 1;

        while (j < b->n && b->q[j].fd == b->q[i].fd)
            j++;
        send_fd_run(b, i, j);
        i = j;
    }
    b->n = 0;
    b->used = 0;
}
