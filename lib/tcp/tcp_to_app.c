/* Proxy -> app (tcp_to_app.h). */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/mem.h"
#include "tcp/tcp_gss.h"
#include "tcp/tcp_relay.h"
#include "tcp/tcp_session.h"
#include "tcp/tcp_to_app.h"
#include "tcp_ext.h"

/* Pieces of block space filled by one recvmsg(2): the tail's free space
 * and new blocks for the rest of T2S_SCRATCH_SIZE. */
#define TO_APP_IOV (T2S_SCRATCH_SIZE / T2S_BLK_SIZE + 2)
/* A read this big marks a session as bulk: later reads go into blocks. */
#define TO_APP_BULK 16384
/* Reads from the proxy per readiness event. */
#define TO_APP_READS 8

int
t2s_tcp_to_app_write(struct t2s_tcp_session *s, const uint8_t *data, size_t len,
                     u8_t flags)
{
    while (len > 0) {
        u16_t chunk = len > 0xffff ? 0xffff : (u16_t)len;
        if (tcp_write(s->pcb, data, chunk, flags) != ERR_OK)
            return -1;
        data += chunk;
        len -= chunk;
    }
    return 0;
}

/*
 * Not while the app has yet to ACK our SYN|ACK: lwIP would jump from
 * SYN_RCVD to FIN_WAIT_1 without ever setting up its congestion window,
 * and the queued data would never leave. Then the FIN waits for
 * t2s_tcp_session_established().
 */
void
t2s_tcp_to_app_fin(struct t2s_tcp_session *s)
{
    if (t2s_tcp_ext_syn_rcvd(s->pcb)) {
        s->fin_pending = 1;
        return;
    }
    s->fin_pending = 0;
    tcp_shutdown(s->pcb, 0, 1);
}

/* Over the memory budget: no more reads until t2s_tcp_relay_flush() finds
 * memory returned (a sent callback cannot be relied on: the session may
 * have nothing in flight). */
static void
to_app_wait_for_memory(struct t2s_tcp_session *s)
{
    s->read_paused = 1;
    if (t2s_list_empty(&s->mem_link))
        t2s_list_add(&s->relay->mem_waiters, &s->mem_link);
}

/* Returns to the pool the blocks no segment lwIP holds refers to: bytes
 * before the oldest sequence number still queued or unacknowledged. */
static void
to_app_release_acked(struct t2s_tcp_session *s)
{
    if (s->to_app.head == NULL)
        return;
    t2s_blkq_release(&s->to_app, &s->relay->blkpool,
                     t2s_tcp_ext_oldest_seq(s->pcb));
}

/* The small-read path: through the scratch buffer, copied by lwIP. */
static ssize_t
to_app_recv_copy(struct t2s_tcp_session *s, size_t room)
{
    uint8_t *scratch = s->relay->scratch;
    ssize_t n = recv(s->base.fd, scratch, room, 0);
    int rc = 0;

    if (n > 0)
        rc = t2s_tcp_to_app_write(s, scratch, (size_t)n, TCP_WRITE_FLAG_COPY);
    if (n >= TO_APP_BULK)
        s->bulk = 1;
    return rc < 0 ? -2 : n;
}

/* One read from the proxy socket into lwIP's send queue: into blocks that
 * lwIP references once the session has shown bulk traffic (a read of at
 * least TO_APP_BULK), else, or when the pool's budget is spent, through
 * the scratch buffer: small replies do not take a block each. Returns
 * what recv(2) returned, or -2 when tcp_write() failed. */
static ssize_t
to_app_recv(struct t2s_tcp_session *s, size_t room)
{
    struct t2s_blkq_pool *pool = &s->relay->blkpool;
    struct iovec iov[TO_APP_IOV];
    struct msghdr msg = {.msg_iov = iov};
    size_t left;
    ssize_t n;
    int rc = 0, saved_errno;

    msg.msg_iovlen = s->bulk ? (size_t)t2s_blkq_space(&s->to_app, pool, iov,
                                                      TO_APP_IOV, room)
                             : 0;
    if (msg.msg_iovlen == 0)
        return to_app_recv_copy(s, room);
    n = recvmsg(s->base.fd, &msg, 0);
    saved_errno = errno;
    left = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < msg.msg_iovlen && left > 0 && rc == 0; i++) {
        size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
        rc = t2s_tcp_to_app_write(s, iov[i].iov_base, len, 0);
        left -= len;
    }
    t2s_blkq_commit(&s->to_app, pool, n > 0 ? (size_t)n : 0,
                    t2s_tcp_ext_next_seq(s->pcb));
    errno = saved_errno;
    return rc < 0 ? -2 : n;
}

/* The room to read into now, 0 after pausing reads (lwIP's send buffer
 * full, or the memory budget spent). */
static size_t
to_app_room(struct t2s_tcp_session *s)
{
    size_t room = t2s_tcp_ext_write_room(s->pcb);

    if (room > 0 && t2s_tcp_relay_mem_full()) {
        to_app_wait_for_memory(s);
        return 0;
    }
    if (room == 0) {
        s->read_paused = 1;
        return 0;
    }
    return room > T2S_SCRATCH_SIZE ? T2S_SCRATCH_SIZE : room;
}

void
t2s_tcp_to_app_read(struct t2s_tcp_session *s)
{
    struct t2s_stats *st = &s->base.ctx->stats;

    if (s->gss != NULL) {
        t2s_tcp_gss_read(s);
        return;
    }
    for (int i = 0; i < TO_APP_READS && s->pcb != NULL; i++) {
        size_t room = to_app_room(s);
        ssize_t n;

        if (room == 0)
            break;
        n = to_app_recv(s, room);
        if (n == -2) {
            T2S_STAT_INC(st, err_resource);
            t2s_session_close(&s->base, T2S_SESSION_ABORT, "out of memory");
            return;
        }
        if (n == 0) {
            s->proxy_eof = 1;
            t2s_tcp_to_app_fin(s);
            break;
        }
        if (n < 0) {
            if (!t2s_tcp_session_sock_failed(n))
                break;
            T2S_STAT_INC(st, err_reset_proxy);
            t2s_session_close(&s->base, T2S_SESSION_ABORT,
                              "proxy connection reset");
            return;
        }
        T2S_STAT_ADD(st, bytes_down, n);
        t2s_session_touch(&s->base);
        if ((size_t)n < room)
            break;
    }
    t2s_tcp_session_mark_dirty(s);
}

err_t
t2s_tcp_to_app_on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct t2s_tcp_session *s = arg;

    (void)len;
    if (s == NULL || s->base.closed)
        return ERR_OK;
    t2s_session_touch(&s->base);
    to_app_release_acked(s);
    /* Resume reading once a useful amount of send buffer is free. */
    if (s->read_paused && t2s_tcp_ext_write_room(pcb) >= TCP_SNDLOWAT / 2) {
        s->read_paused = 0;
        t2s_tcp_session_update_io(s);
    }
    return ERR_OK;
}
