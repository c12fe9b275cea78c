/*
 * TCP session lifetime.
 *
 * SYN from the app -> session created, proxy socket connecting, handshake
 * (the app waits in SYN_RCVD; no SYN|ACK yet) -> CONNECT granted: SYN|ACK
 * sent, relay -> both directions shut -> graceful close. Any error, reset
 * or timeout aborts both sides (RST to the app, RST to the proxy).
 *
 * Flow control: app data is queued in the pbufs lwIP delivered and written
 * to the proxy socket straight from them; it is acknowledged to lwIP
 * (tcp_recved) only once written, so lwIP's window bounds the queue and
 * slows the app. Proxy data is read only while lwIP has send buffer,
 * straight into blocks (blkq.h) that lwIP's segments reference until the
 * app acknowledges them; when the pool's budget is spent, through a
 * scratch buffer that tcp_write() copies.
 *
 * Every close goes through session_close(); the memory is freed after the
 * loop iteration by t2s_tcp_reap(), so no callback frees its own object.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lwip/tcp.h"

#include "core/instance.h"
#include "tcp/tcp_session.h"
#include "dns/fakeip.h"
#include "core/mem.h"
#include "buf/pbq.h"
#include "tcp_ext.h"
#include "upstream/target.h"
#include "upstream/upstream.h"

/* Pieces of queued app data handed to one sendmsg(2). */
#define TO_PROXY_IOV 64
/* Pieces of block space filled by one recvmsg(2): the tail's free space
 * and new blocks for the rest of T2S_SCRATCH_SIZE. */
#define TO_APP_IOV (T2S_SCRATCH_SIZE / T2S_BLK_SIZE + 2)
/* A read this big marks a session as bulk: later reads go into blocks. */
#define TO_APP_BULK 16384

enum close_kind {
    CLOSE_GRACEFUL, /* both directions finished */
    CLOSE_ABORT,    /* reset both sides */
};

struct t2s_tcp_session {
    struct t2s_instance *t;
    uint64_t id;                  /* for logs */
    struct tcp_pcb *pcb;          /* NULL once lwIP freed it or we let go */
    int fd;                       /* proxy socket, -1 once closed */
    int io_events;                /* events io is started with, 0: stopped */
    ev_io io;                     /* proxy socket readiness */
    ev_timer timer;               /* connect timeout, then idle timeout */
    ev_tstamp last_active;        /* last byte either way */
    struct t2s_upstream *up;      /* handshake state; NULL in relay */
    struct t2s_pbq to_proxy;      /* app bytes the socket has not taken */
    struct t2s_blkq to_app;       /* proxy bytes lwIP references */
    struct t2s_tcp_session *prev; /* registry links */
    struct t2s_tcp_session *next;
    struct t2s_tcp_session *next_dirty; /* flush list */
    struct t2s_tcp_session *next_mem;   /* memory waiters list */
    unsigned relaying : 1;              /* handshake done, SYN|ACK sent */
    unsigned app_eof : 1;               /* FIN from the app */
    unsigned proxy_shut : 1;  /* shutdown(SHUT_WR) done on the proxy */
    unsigned proxy_eof : 1;   /* EOF from the proxy, FIN queued */
    unsigned app_gone : 1;    /* lwIP finished the pcb (ERR_CLSD) */
    unsigned read_paused : 1; /* lwIP send buffer full */
    unsigned dirty : 1;       /* on the flush list */
    unsigned closed : 1;      /* session_close() ran */
    unsigned pcb_aborted : 1; /* we aborted the pcb in a callback */
    unsigned fin_pending : 1; /* proxy EOF seen before the handshake ended */
    unsigned bulk : 1;        /* proxy reads go into blocks (recv_to_app) */
    unsigned mem_wait : 1;    /* reads paused by the memory budget */
    long fake_entry;          /* fake-ip entry pinned, or -1 */
};

static void session_close(struct t2s_tcp_session *s, int kind, const char *why);
static void forget_pcb(struct t2s_tcp_session *s);

static struct t2s_tcp_session *
session_of(ev_io *w)
{
    return (struct t2s_tcp_session *)((char *)w -
                                      offsetof(struct t2s_tcp_session, io));
}

static void
describe_pcb(const struct tcp_pcb *pcb, char *buf, size_t len)
{
    char src[T2S_ENDPOINT_STRLEN], dst[T2S_ENDPOINT_STRLEN];

    if (IP_IS_V6(&pcb->local_ip)) {
        t2s_fmt_endpoint(AF_INET6, ip_2_ip6(&pcb->remote_ip)->addr,
                         pcb->remote_port, src, sizeof(src));
        t2s_fmt_endpoint(AF_INET6, ip_2_ip6(&pcb->local_ip)->addr,
                         pcb->local_port, dst, sizeof(dst));
    } else {
        t2s_fmt_endpoint(AF_INET, &ip_2_ip4(&pcb->remote_ip)->addr,
                         pcb->remote_port, src, sizeof(src));
        t2s_fmt_endpoint(AF_INET, &ip_2_ip4(&pcb->local_ip)->addr,
                         pcb->local_port, dst, sizeof(dst));
    }
    snprintf(buf, len, "%s -> %s", src, dst);
}

/* ---- watcher bookkeeping ---- */

static void
io_update(struct t2s_tcp_session *s, int events)
{
    struct ev_loop *loop = s->t->ctx.loop;

    if (events == s->io_events || s->fd < 0)
        return;
    if (s->io_events != 0)
        ev_io_stop(loop, &s->io);
    s->io_events = events;
    if (events != 0) {
        ev_io_set(&s->io, s->fd, events);
        ev_io_start(loop, &s->io);
    }
}

/* Relay phase: read when the app can take data, write when queued. */
static void
io_relay_update(struct t2s_tcp_session *s)
{
    int ev = 0;

    if (!s->proxy_eof && !s->read_paused && s->pcb != NULL)
        ev |= EV_READ;
    if (s->to_proxy.len > 0)
        ev |= EV_WRITE;
    io_update(s, ev);
}

static void
mark_dirty(struct t2s_tcp_session *s)
{
    if (s->dirty || s->pcb == NULL)
        return;
    s->dirty = 1;
    s->next_dirty = s->t->dirty;
    s->t->dirty = s;
}

static void
touch(struct t2s_tcp_session *s)
{
    s->last_active = ev_now(s->t->ctx.loop);
}

/* ---- finishing ---- */

/*
 * Graceful close once both directions are done: lwIP is finished with the
 * pcb (it reported the close, or we let go of it in TIME_WAIT or CLOSING)
 * and the proxy socket took every byte. Until then the session owns the
 * pcb, also in LAST_ACK, where lwIP may still be delivering the answer to
 * an app that pauses reading (a tcp_close() there would let lwIP drop the
 * pcb 2 * MSL later with the bytes undelivered).
 */
static void
maybe_finish(struct t2s_tcp_session *s)
{
    if (!s->closed && s->app_gone && s->to_proxy.len == 0)
        session_close(s, CLOSE_GRACEFUL, NULL);
}

/* App FIN -> shutdown(SHUT_WR) on the proxy once its queue is written. */
static void
maybe_shutdown_proxy(struct t2s_tcp_session *s)
{
    if ((s->app_eof || s->app_gone) && !s->proxy_shut && s->to_proxy.len == 0 &&
        s->relaying) {
        shutdown(s->fd, SHUT_WR);
        s->proxy_shut = 1;
    }
}

/* ---- app -> proxy ---- */

static void
acknowledge_app(struct t2s_tcp_session *s, size_t n)
{
    int was_closed = s->pcb != NULL && t2s_tcp_ext_window_closed(s->pcb);

    T2S_STAT_ADD(&s->t->ctx.stats, bytes_up, n);
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
        mark_dirty(s);
    }
}

static int
socket_error_is_fatal(ssize_t n)
{
    return n < 0 && errno != EAGAIN && errno != EINTR;
}

/* Writes what the socket takes from the queue, straight from lwIP's
 * pbufs. -1 on a socket error. */
static int
flush_to_proxy(struct t2s_tcp_session *s)
{
    struct iovec iov[TO_PROXY_IOV];

    while (s->to_proxy.len > 0) {
        struct msghdr msg = {.msg_iov = iov};
        size_t offered = 0;
        ssize_t n;

        msg.msg_iovlen = (size_t)t2s_pbq_iov(&s->to_proxy, iov, TO_PROXY_IOV);
        for (size_t i = 0; i < msg.msg_iovlen; i++)
            offered += iov[i].iov_len;
        n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);
        if (n <= 0)
            return socket_error_is_fatal(n) ? -1 : 0;
        t2s_pbq_consume(&s->to_proxy, (size_t)n);
        acknowledge_app(s, (size_t)n);
        /* A short write means the socket is full: wait for EV_WRITE
         * rather than spend a system call on EAGAIN. */
        if ((size_t)n < offered)
            break;
    }
    return 0;
}

static int
blkq_held(const void *q, const void *payload)
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
let_go_after_both_fins(struct t2s_tcp_session *s)
{
    struct tcp_pcb *pcb = s->pcb;

    if (pcb == NULL || !t2s_tcp_ext_both_fins(pcb))
        return 0;
    if (s->to_app.head != NULL &&
        t2s_tcp_ext_copy_refs(pcb, blkq_held, &s->to_app) < 0) {
        T2S_STAT_INC(&s->t->ctx.stats, err_resource);
        session_close(s, CLOSE_ABORT, "out of memory");
        return -1;
    }
    forget_pcb(s);
    s->app_gone = 1;
    return 0;
}

static err_t
on_pcb_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct t2s_tcp_session *s = arg;
    int was_empty;

    (void)err;
    if (s == NULL || s->closed) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    touch(s);
    if (p == NULL) {
        s->app_eof = 1;
        if (let_go_after_both_fins(s) < 0)
            return ERR_ABRT;
        maybe_shutdown_proxy(s);
        maybe_finish(s);
        return s->pcb_aborted ? ERR_ABRT : ERR_OK;
    }
    /* lwIP's window bounds what waits here: it opens only as the proxy
     * socket takes bytes (acknowledge_app()). */
    was_empty = s->to_proxy.len == 0;
    t2s_pbq_push(&s->to_proxy, p);
    /* Behind a backlog the socket is full: EV_WRITE flushes it. */
    if (was_empty && flush_to_proxy(s) < 0) {
        T2S_STAT_INC(&s->t->ctx.stats, err_reset_proxy);
        session_close(s, CLOSE_ABORT, "proxy connection failed");
        return ERR_ABRT;
    }
    mark_dirty(s);
    io_relay_update(s);
    return ERR_OK;
}

/* ---- proxy -> app ---- */

/* flags: TCP_WRITE_FLAG_COPY, or 0 for bytes in s->to_app's blocks. */
static int
write_to_app(struct t2s_tcp_session *s, const uint8_t *data, size_t len,
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
 * FIN after the queued data. Not while the app has yet to ACK our SYN|ACK:
 * lwIP would jump from SYN_RCVD to FIN_WAIT_1 without ever setting up its
 * congestion window, and the queued data would never leave. Then the FIN
 * waits for t2s_tcp_on_accept().
 */
static void
send_fin_to_app(struct t2s_tcp_session *s)
{
    if (t2s_tcp_ext_syn_rcvd(s->pcb)) {
        s->fin_pending = 1;
        return;
    }
    s->fin_pending = 0;
    tcp_shutdown(s->pcb, 0, 1);
}

/* Over the memory budget: no more reads until t2s_tcp_flush() finds
 * memory returned (a sent callback cannot be relied on: the session may
 * have nothing in flight). */
static void
wait_for_memory(struct t2s_tcp_session *s)
{
    s->read_paused = 1;
    if (s->mem_wait)
        return;
    s->mem_wait = 1;
    s->next_mem = s->t->mem_waiters;
    s->t->mem_waiters = s;
}

/* Returns to the pool the blocks no segment lwIP holds refers to: bytes
 * before the oldest sequence number still queued or unacknowledged. */
static void
release_acked(struct t2s_tcp_session *s)
{
    if (s->to_app.head == NULL)
        return;
    t2s_blkq_release(&s->to_app, &s->t->blkpool,
                     t2s_tcp_ext_oldest_seq(s->pcb));
}

/* One read from the proxy socket into lwIP's send queue: into blocks that
 * lwIP references once the session has shown bulk traffic (a read of at
 * least TO_APP_BULK), else, or when the pool's budget is spent, through
 * the scratch buffer: small replies do not take a block each. Returns
 * what recv(2) returned, or -2 when tcp_write() failed. */
static ssize_t
recv_to_app(struct t2s_tcp_session *s, size_t room)
{
    struct t2s_instance *t = s->t;
    struct iovec iov[TO_APP_IOV];
    struct msghdr msg = {.msg_iov = iov};
    size_t left;
    ssize_t n;
    int rc = 0, saved_errno;

    msg.msg_iovlen = s->bulk ? (size_t)t2s_blkq_space(&s->to_app, &t->blkpool,
                                                      iov, TO_APP_IOV, room)
                             : 0;
    if (msg.msg_iovlen == 0) {
        n = recv(s->fd, t->scratch, room, 0);
        if (n > 0)
            rc = write_to_app(s, t->scratch, (size_t)n, TCP_WRITE_FLAG_COPY);
        if (n >= TO_APP_BULK)
            s->bulk = 1;
        return rc < 0 ? -2 : n;
    }
    n = recvmsg(s->fd, &msg, 0);
    saved_errno = errno;
    left = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < msg.msg_iovlen && left > 0 && rc == 0; i++) {
        size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
        rc = write_to_app(s, iov[i].iov_base, len, 0);
        left -= len;
    }
    t2s_blkq_commit(&s->to_app, &t->blkpool, n > 0 ? (size_t)n : 0,
                    t2s_tcp_ext_next_seq(s->pcb));
    errno = saved_errno;
    return rc < 0 ? -2 : n;
}

static void
read_from_proxy(struct t2s_tcp_session *s)
{
    struct t2s_instance *t = s->t;

    for (int i = 0; i < 8 && s->pcb != NULL; i++) {
        size_t room = t2s_tcp_ext_write_room(s->pcb);
        ssize_t n;

        if (room > 0 && t2s_mem_over()) {
            wait_for_memory(s);
            break;
        }
        if (room == 0) {
            s->read_paused = 1;
            break;
        }
        if (room > T2S_SCRATCH_SIZE)
            room = T2S_SCRATCH_SIZE;
        n = recv_to_app(s, room);
        if (n == -2) {
            T2S_STAT_INC(&t->ctx.stats, err_resource);
            session_close(s, CLOSE_ABORT, "out of memory");
            return;
        }
        if (n == 0) {
            s->proxy_eof = 1;
            send_fin_to_app(s);
            break;
        }
        if (n < 0) {
            if (!socket_error_is_fatal(n))
                break;
            T2S_STAT_INC(&t->ctx.stats, err_reset_proxy);
            session_close(s, CLOSE_ABORT, "proxy connection reset");
            return;
        }
        T2S_STAT_ADD(&t->ctx.stats, bytes_down, n);
        touch(s);
        if ((size_t)n < room)
            break;
    }
    mark_dirty(s);
}

static err_t
on_pcb_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct t2s_tcp_session *s = arg;

    (void)len;
    if (s == NULL || s->closed)
        return ERR_OK;
    touch(s);
    release_acked(s);
    /* Resume reading once a useful amount of send buffer is free. */
    if (s->read_paused && t2s_tcp_ext_write_room(pcb) >= TCP_SNDLOWAT / 2) {
        s->read_paused = 0;
        io_relay_update(s);
    }
    return ERR_OK;
}

static void
on_pcb_err(void *arg, err_t err)
{
    struct t2s_tcp_session *s = arg;

    if (s == NULL || s->closed)
        return;
    s->pcb = NULL; /* lwIP has freed it, and its segments */
    t2s_blkq_clear(&s->to_app, &s->t->blkpool);
    if (err == ERR_CLSD) {
        /* Both FINs exchanged; finish writing to the proxy. */
        s->app_gone = 1;
        maybe_shutdown_proxy(s);
        maybe_finish(s);
        if (!s->closed)
            io_relay_update(s);
        return;
    }
    if (err == ERR_RST)
        T2S_STAT_INC(&s->t->ctx.stats, err_reset_app);
    session_close(s, CLOSE_ABORT, err == ERR_RST ? "app reset" : "aborted");
}

/* ---- timers ---- */

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct t2s_tcp_session *s = w->data;
    double idle = s->t->cfg.idle_timeout_ms / 1000.0;
    double left;

    (void)revents;
    if (!s->relaying) {
        T2S_STAT_INC(&s->t->ctx.stats, err_timeout_connect);
        t2s_log_limited(&s->t->ctx.err_limit, T2S_LOG_WARN,
                        "#%llu: timed out connecting to the proxy",
                        (unsigned long long)s->id);
        session_close(s, CLOSE_ABORT, NULL);
        return;
    }
    if (idle <= 0)
        return;
    left = s->last_active + idle - ev_now(loop);
    if (left > 0.001) {
        w->repeat = left;
        ev_timer_again(loop, w);
        return;
    }
    T2S_STAT_INC(&s->t->ctx.stats, err_timeout_idle);
    session_close(s, CLOSE_ABORT, "idle timeout");
}

static void
start_connect_timer(struct t2s_tcp_session *s)
{
    ev_init(&s->timer, on_timer);
    s->timer.data = s;
    s->timer.repeat = s->t->cfg.connect_timeout_ms / 1000.0;
    ev_timer_again(s->t->ctx.loop, &s->timer);
}

/* From here on the timer fires at most once per idle period and re-arms
 * itself for the time left since the last activity. */
static void
start_idle_timer(struct t2s_tcp_session *s)
{
    s->timer.repeat = s->t->cfg.idle_timeout_ms / 1000.0;
    if (s->timer.repeat > 0)
        ev_timer_again(s->t->ctx.loop, &s->timer);
    else
        ev_timer_stop(s->t->ctx.loop, &s->timer);
}

/* ---- handshake ---- */

static void
handshake_failed(struct t2s_tcp_session *s)
{
    struct t2s_stats *st = &s->t->ctx.stats;
    char why[256], who[2 * T2S_ENDPOINT_STRLEN + 8];

    t2s_upstream_describe(s->up, why, sizeof(why));
    switch (s->up->fail_kind) {
    case T2S_UP_FAIL_CONNECT:
        T2S_STAT_INC(st, err_proxy_connect);
        break;
    case T2S_UP_FAIL_AUTH:
        T2S_STAT_INC(st, err_proxy_auth);
        break;
    case T2S_UP_FAIL_REPLY:
        T2S_STAT_INC(st, err_proxy_reply);
        break;
    default:
        T2S_STAT_INC(st, err_proxy_proto);
        break;
    }
    who[0] = '\0';
    if (s->pcb != NULL)
        describe_pcb(s->pcb, who, sizeof(who));
    t2s_log_limited(&s->t->ctx.err_limit, T2S_LOG_WARN, "#%llu %s: %s",
                    (unsigned long long)s->id, who, why);
    session_close(s, CLOSE_ABORT, NULL);
}

static void
handshake_done(struct t2s_tcp_session *s)
{
    struct t2s_upstream *up = s->up;
    int rc;

    s->up = NULL;
    s->relaying = 1;
    rc = t2s_tcp_ext_send_synack(s->pcb);
    /* payload the server sent right behind its reply */
    if (rc == ERR_OK && up->in_len > 0) {
        rc = write_to_app(s, up->in, up->in_len, TCP_WRITE_FLAG_COPY);
        T2S_STAT_ADD(&s->t->ctx.stats, bytes_down, up->in_len);
    }
    t2s_upstream_free(up);
    if (rc != ERR_OK) {
        T2S_STAT_INC(&s->t->ctx.stats, err_resource);
        session_close(s, CLOSE_ABORT, "out of memory");
        return;
    }
    tcp_output(s->pcb);
    touch(s);
    start_idle_timer(s);
    io_relay_update(s);
}

static void
on_sock_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_tcp_session *s = session_of(w);
    int want, rc;

    (void)loop;
    if (s->up != NULL) {
        rc = t2s_upstream_io(s->up, s->fd, &want);
        if (rc == T2S_UP_AGAIN)
            io_update(s, want);
        else if (rc == T2S_UP_FAIL)
            handshake_failed(s);
        else
            handshake_done(s);
        return;
    }
    if ((revents & EV_WRITE) && flush_to_proxy(s) < 0) {
        T2S_STAT_INC(&s->t->ctx.stats, err_reset_proxy);
        session_close(s, CLOSE_ABORT, "proxy connection failed");
        return;
    }
    if (revents & EV_READ)
        read_from_proxy(s);
    if (s->closed)
        return;
    maybe_shutdown_proxy(s);
    maybe_finish(s);
    if (!s->closed)
        io_relay_update(s);
}

/* ---- creation ---- */

static void
registry_add(struct t2s_instance *t, struct t2s_tcp_session *s)
{
    s->next = t->sessions;
    if (t->sessions != NULL)
        t->sessions->prev = s;
    t->sessions = s;
    T2S_STAT_INC(&t->ctx.stats, tcp_active);
    T2S_STAT_INC(&t->ctx.stats, tcp_total);
}

static void
registry_remove(struct t2s_instance *t, struct t2s_tcp_session *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        t->sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    T2S_STAT_DEC(&t->ctx.stats, tcp_active);
}

static struct t2s_tcp_session *
session_new(struct t2s_instance *t, struct tcp_pcb *npcb,
            const struct t2s_s5_addr *dst, long fake_entry)
{
    struct t2s_tcp_session *s = t2s_mem_calloc(1, sizeof(*s));
    int want;

    if (s == NULL)
        return NULL;
    s->up = t2s_mem_alloc(sizeof(*s->up));
    s->fd = s->up ? t2s_upstream_socket(&t->cfg.proxy, t->cfg.fwmark,
                                        t->cfg.bind_iface)
                  : -1;
    if (s->fd < 0) {
        t2s_upstream_free(s->up);
        t2s_mem_free(s);
        return NULL;
    }
    s->t = t;
    s->id = ++t->ctx.next_id;
    s->pcb = npcb;
    s->fake_entry = fake_entry;
    if (fake_entry >= 0)
        t2s_fakeip_ref(t->fakeip, fake_entry);
    t2s_upstream_init(s->up, &t->cfg.proxy, T2S_S5_CMD_CONNECT, dst,
                      t->cfg.socks_pipeline, &want);
    ev_init(&s->io, on_sock_io);
    io_update(s, want);
    start_connect_timer(s);
    return s;
}

int
t2s_tcp_on_syn(void *arg, struct tcp_pcb *npcb)
{
    struct t2s_instance *t = arg;
    struct t2s_tcp_session *s = NULL;
    char who[2 * T2S_ENDPOINT_STRLEN + 8];
    struct t2s_s5_addr dst;
    long fake_entry;

    fake_entry = t2s_target_from_ip(t, &npcb->local_ip, npcb->local_port, &dst);
    if (fake_entry == -2) {
        T2S_STAT_INC(&t->ctx.stats, err_proxy_reply);
        describe_pcb(npcb, who, sizeof(who));
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                        "refusing %s: fake address with no name (stale DNS "
                        "answer from an earlier run?)",
                        who);
    } else if (t->ctx.stopping ||
               t->ctx.stats.tcp_active + t->ctx.stats.tcp_orphans >=
                   t->max_conns) {
        T2S_STAT_INC(&t->ctx.stats, tcp_refused_limit);
        describe_pcb(npcb, who, sizeof(who));
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                        "refusing %s: connection limit %u reached", who,
                        t->max_conns);
    } else if (!t2s_mem_admit()) {
        T2S_STAT_INC(&t->ctx.stats, mem_refused);
        describe_pcb(npcb, who, sizeof(who));
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                        "refusing %s: memory budget of %zu bytes nearly spent",
                        who, t2s_mem_limit());
    } else if ((s = session_new(t, npcb, &dst, fake_entry)) == NULL) {
        T2S_STAT_INC(&t->ctx.stats, err_resource);
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                        "refusing a connection: %s", strerror(errno));
    }
    if (s == NULL) {
        tcp_abort(npcb); /* RST: the app's connect() fails at once */
        return 1;
    }
    registry_add(t, s);
    tcp_arg(npcb, s);
    tcp_recv(npcb, on_pcb_recv);
    tcp_sent(npcb, on_pcb_sent);
    tcp_err(npcb, on_pcb_err);
    tcp_nagle_disable(npcb);
    if (t2s_log_threshold >= T2S_LOG_DEBUG) {
        describe_pcb(npcb, who, sizeof(who));
        t2s_debug("#%llu %s: new connection", (unsigned long long)s->id, who);
    }
    return 1;
}

err_t
t2s_tcp_on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct t2s_tcp_session *s = arg; /* bound when the SYN arrived */

    if (pcb == NULL || err != ERR_OK)
        return ERR_VAL;
    /* The app acknowledged our SYN|ACK: the connection is established. */
    if (s != NULL && !s->closed && s->fin_pending) {
        send_fin_to_app(s);
        mark_dirty(s);
    }
    return ERR_OK;
}

/* ---- the one close path ---- */

/* The session stops using the pcb: no more callbacks from lwIP. The
 * caller has made sure lwIP's segments hold no reference into s->to_app,
 * which is returned to the pool. */
static void
forget_pcb(struct t2s_tcp_session *s)
{
    struct tcp_pcb *pcb = s->pcb;

    s->pcb = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    t2s_blkq_clear(&s->to_app, &s->t->blkpool);
}

/* A session closes gracefully only once lwIP is done with its pcb
 * (maybe_finish()): a pcb still held at close means an error, reset or
 * timeout, and gets a RST. */
static void
abort_pcb(struct t2s_tcp_session *s)
{
    struct tcp_pcb *pcb = s->pcb;

    forget_pcb(s);
    tcp_abort(pcb);
    s->pcb_aborted = 1;
}

static void
close_socket(struct t2s_tcp_session *s, int kind)
{
    if (kind == CLOSE_ABORT) {
        /* RST to the proxy so the server side sees the reset too. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(s->fd);
    s->fd = -1;
}

static void
session_close(struct t2s_tcp_session *s, int kind, const char *why)
{
    struct t2s_instance *t = s->t;

    if (s->closed)
        return;
    s->closed = 1;
    if (why != NULL)
        t2s_debug("#%llu closed: %s", (unsigned long long)s->id, why);
    else
        t2s_debug("#%llu closed", (unsigned long long)s->id);
    io_update(s, 0);
    ev_timer_stop(t->ctx.loop, &s->timer);
    if (s->pcb != NULL)
        abort_pcb(s);
    /* lwIP holds no reference into the blocks now */
    t2s_blkq_clear(&s->to_app, &t->blkpool);
    if (s->fd >= 0)
        close_socket(s, kind);
    t2s_pbq_clear(&s->to_proxy);
    if (s->fake_entry >= 0)
        t2s_fakeip_unref(t->fakeip, s->fake_entry);
    s->fake_entry = -1;
    t2s_upstream_free(s->up);
    s->up = NULL;
    registry_remove(t, s);
    s->next = t->dead;
    t->dead = s;
}

/* ---- per-iteration work ---- */

/* Sessions paused by the memory budget read again once it allows. */
static void
resume_mem_waiters(struct t2s_instance *t)
{
    struct t2s_tcp_session *s = t->mem_waiters;

    if (s == NULL || t2s_mem_over())
        return;
    t->mem_waiters = NULL;
    while (s != NULL) {
        struct t2s_tcp_session *next = s->next_mem;
        s->mem_wait = 0;
        s->next_mem = NULL;
        if (!s->closed) {
            s->read_paused = 0;
            io_relay_update(s);
        }
        s = next;
    }
}

/* Once a second: count the closing pcbs no session owns (they take
 * connection slots like sessions), and over the memory budget abort those
 * that still hold data. */
static void
check_orphans(struct t2s_instance *t)
{
    ev_tstamp now = ev_now(t->ctx.loop);

    if (now < t->orphan_check_at)
        return;
    t->orphan_check_at = now + 1.0;
    T2S_STAT_SET(&t->ctx.stats, tcp_orphans,
                 t2s_tcp_ext_orphans(t2s_mem_over()));
}

void
t2s_tcp_flush(struct t2s_instance *t)
{
    struct t2s_tcp_session *s;

    check_orphans(t);
    resume_mem_waiters(t);
    s = t->dirty;

    t->dirty = NULL;
    while (s != NULL) {
        struct t2s_tcp_session *next = s->next_dirty;
        s->dirty = 0;
        s->next_dirty = NULL;
        if (!s->closed && s->pcb != NULL) {
            /* Acknowledge now rather than on lwIP's 250 ms timer. */
            t2s_tcp_ext_output(s->pcb);
        }
        s = next;
    }
}

void
t2s_tcp_reap(struct t2s_instance *t)
{
    /* the waiters list may hold closed sessions: drop them first */
    for (struct t2s_tcp_session **pp = &t->mem_waiters; *pp != NULL;) {
        if ((*pp)->closed)
            *pp = (*pp)->next_mem;
        else
            pp = &(*pp)->next_mem;
    }
    while (t->dead != NULL) {
        struct t2s_tcp_session *s = t->dead;
        t->dead = s->next;
        t2s_mem_free(s);
    }
}

void
t2s_tcp_close_all(struct t2s_instance *t)
{
    while (t->sessions != NULL)
        session_close(t->sessions, CLOSE_ABORT, "shutting down");
}
