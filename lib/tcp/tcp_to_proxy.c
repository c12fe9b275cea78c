/* App -> proxy (tcp_to_proxy.h). */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "tcp/tcp_gss.h"
#include "tcp/tcp_relay.h"
#include "tcp/tcp_session.h"
#include "tcp/tcp_to_proxy.h"
#include "tcp_ext.h"

/* Pieces of queued app data handed to one sendmsg(2). */
#define TO_PROXY_IOV 64

/* n bytes reached the proxy socket: lwIP may open the app's window. */
void
t2s_tcp_to_proxy_ack_app(struct t2s_tcp_session *s, size_t n)
{
    int was_closed = s->pcb != NULL && t2s_tcp_ext_window_closed(s->pcb);

    T2S_STAT_ADD(&s->base.ctx->stats, bytes_up, n);
    while (n > 0 && s->pcb != NULL) {
        u16_t chunk = n > 0xffff ? 0xffff : (u16_t)n;
        tcp_recved(s->pcb, chunk);
        n -= chunk;
    }
    /* lwIP announces a reopened window by itself only once it grew by
     * TCP_WND_UPDATE_THRESHOLD (256 KiB), more than the 64 KiB window of
     * an app without window scaling: tell an app that saw zero now. */
    if (was_closed && s->pcb != NULL && !t2s_tcp_ext_window_closed(s->pcb)) {
        t2s_tcp_ext_ack_now(s->pcb);
        t2s_tcp_session_mark_dirty(s);
    }
}

/* Straight from lwIP's pbufs. */
int
t2s_tcp_to_proxy_flush(struct t2s_tcp_session *s)
{
    struct iovec iov[TO_PROXY_IOV];

    if (s->gss != NULL)
        return t2s_tcp_gss_flush(s);
    while (s->to_proxy.len > 0) {
        struct msghdr msg = {.msg_iov = iov};
        size_t offered = 0;
        ssize_t n;

        msg.msg_iovlen = (size_t)t2s_pbq_iov(&s->to_proxy, iov, TO_PROXY_IOV);
        for (size_t i = 0; i < msg.msg_iovlen; i++)
            offered += iov[i].iov_len;
        n = sendmsg(s->base.fd, &msg, MSG_NOSIGNAL);
        if (n <= 0)
            return t2s_tcp_session_sock_failed(n) ? -1 : 0;
        t2s_pbq_consume(&s->to_proxy, (size_t)n);
        t2s_tcp_to_proxy_ack_app(s, (size_t)n);
        /* A short write means the socket is full: wait for EV_WRITE
         * rather than spend a system call on EAGAIN. */
        if ((size_t)n < offered)
            break;
    }
    return 0;
}

static int
to_proxy_blkq_held(const void *q, const void *payload)
{
    return t2s_blkq_holds(q, payload);
}

/*
 * The app's FIN after ours: lwIP moves the pcb to TIME_WAIT now, or from
 * CLOSING once the app acknowledges our FIN, and frees a TIME_WAIT pcb
 * without a callback (2 * MSL later, or at once for a new SYN on the same
 * ports). The session needs nothing more from it (no data can follow the
 * FIN), so it lets go now: lwIP finishes the close alone. -1 when the pcb
 * had to be aborted instead (no memory to copy its queued segments).
 */
static int
to_proxy_let_go_after_both_fins(struct t2s_tcp_session *s)
{
    struct tcp_pcb *pcb = s->pcb;

    if (pcb == NULL || !t2s_tcp_ext_both_fins(pcb))
        return 0;
    if (s->to_app.head != NULL &&
        t2s_tcp_ext_copy_refs(pcb, to_proxy_blkq_held, &s->to_app) < 0) {
        T2S_STAT_INC(&s->base.ctx->stats, err_resource);
        t2s_session_close(&s->base, T2S_SESSION_ABORT, "out of memory");
        return -1;
    }
    t2s_tcp_session_forget_pcb(s);
    s->app_gone = 1;
    return 0;
}

/* The app's FIN. */
static err_t
to_proxy_app_eof(struct t2s_tcp_session *s)
{
    s->app_eof = 1;
    if (to_proxy_let_go_after_both_fins(s) < 0)
        return ERR_ABRT;
    t2s_tcp_session_maybe_shutdown_proxy(s);
    t2s_tcp_session_maybe_finish(s);
    return s->pcb_aborted ? ERR_ABRT : ERR_OK;
}

err_t
t2s_tcp_to_proxy_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p,
                         err_t err)
{
    struct t2s_tcp_session *s = arg;
    int was_empty;

    (void)err;
    if (s == NULL || s->base.closed) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    t2s_session_touch(&s->base);
    if (p == NULL)
        return to_proxy_app_eof(s);
    /* lwIP's window bounds what waits here: it opens only as the proxy
     * socket takes bytes (to_proxy_ack_app()). */
    was_empty = s->to_proxy.len == 0;
    t2s_pbq_push(&s->to_proxy, p);
    /* Behind a backlog the socket is full: EV_WRITE flushes it. */
    if (was_empty && t2s_tcp_to_proxy_flush(s) < 0) {
        T2S_STAT_INC(&s->base.ctx->stats, err_reset_proxy);
        t2s_session_close(&s->base, T2S_SESSION_ABORT,
                          "proxy connection failed");
        return ERR_ABRT;
    }
    t2s_tcp_session_mark_dirty(s);
    t2s_tcp_session_update_io(s);
    return ERR_OK;
}
