/* RFC 1961 per-message protection of the TCP relay; see tcp_gss.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "codec/gssapi_msg.h"
#include "core/log.h"
#include "core/mem.h"
#include "tcp/tcp_gss.h"
#include "tcp/tcp_relay.h"
#include "tcp/tcp_to_app.h"
#include "tcp/tcp_to_proxy.h"
#include "tcp_ext.h"
#include "upstream/gssapi.h"

#define GSS_IOV 64
#define READS_PER_EVENT 8

struct t2s_tcp_gss {
    struct t2s_gssapi *g;
    size_t max_plain;   /* largest plaintext of one message */
    size_t frame_len;   /* the message being sent; 0: none */
    size_t frame_off;   /* of it already sent */
    size_t frame_plain; /* app bytes it carries (still queued) */
    size_t in_len;      /* bytes of the message being received */
    uint8_t frame[T2S_GSSAPI_FRAME_MAX];
    uint8_t in[T2S_GSSAPI_FRAME_MAX];
    uint8_t plain[T2S_GSSAPI_FRAME_MAX];
};

#ifdef T2S_HAVE_GSSAPI
int
t2s_tcp_gss_adopt(struct t2s_tcp_session *s, struct t2s_gssapi *g)
{
    struct t2s_tcp_gss *gs = t2s_mem_alloc(sizeof(*gs));

    if (gs == NULL) {
        t2s_gssapi_free(g);
        return -1;
    }
    memset(gs, 0, offsetof(struct t2s_tcp_gss, frame));
    gs->g = g;
    gs->max_plain = t2s_gssapi_max_plain(g);
    s->gss = gs;
    return 0;
}

/* The next message: queued app bytes (left queued) copied and wrapped. */
static int
gss_next_frame(struct t2s_tcp_session *s, struct t2s_tcp_gss *gs)
{
    struct iovec iov[GSS_IOV];
    int k = t2s_pbq_iov(&s->to_proxy, iov, GSS_IOV);
    size_t n = 0;

    for (int i = 0; i < k && n < gs->max_plain; i++) {
        size_t c = iov[i].iov_len;
        if (c > gs->max_plain - n)
            c = gs->max_plain - n;
        memcpy(gs->plain + n, iov[i].iov_base, c);
        n += c;
    }
    if (t2s_gssapi_wrap(gs->g, gs->plain, n, gs->frame, &gs->frame_len) < 0) {
        t2s_log_limited(&s->base.ctx->err_limit, T2S_LOG_WARN, "#%llu: %s",
                        (unsigned long long)s->base.id,
                        t2s_gssapi_error(gs->g));
        return -1;
    }
    gs->frame_off = 0;
    gs->frame_plain = n;
    return 0;
}

int
t2s_tcp_gss_flush(struct t2s_tcp_session *s)
{
    struct t2s_tcp_gss *gs = s->gss;

    for (;;) {
        ssize_t n;

        if (gs->frame_len == 0) {
            if (s->to_proxy.len == 0)
                return 0;
            if (gss_next_frame(s, gs) < 0)
                return -1;
        }
        n = send(s->base.fd, gs->frame + gs->frame_off,
                 gs->frame_len - gs->frame_off, MSG_NOSIGNAL);
        if (n <= 0)
            return t2s_tcp_session_sock_failed(n) ? -1 : 0;
        gs->frame_off += (size_t)n;
        if (gs->frame_off < gs->frame_len)
            return 0; /* the socket is full: EV_WRITE goes on */
        gs->frame_len = 0;
        t2s_pbq_consume(&s->to_proxy, gs->frame_plain);
        t2s_tcp_to_proxy_ack_app(s, gs->frame_plain);
    }
}

/* Room for a whole message's plaintext, else reads pause (lwIP's sent
 * callback or the memory waiters resume them). */
static int
gss_room(struct t2s_tcp_session *s)
{
    size_t room = t2s_tcp_ext_write_room(s->pcb);

    if (room > 0 && t2s_tcp_relay_mem_full()) {
        s->read_paused = 1;
        if (t2s_list_empty(&s->mem_link))
            t2s_list_add(&s->relay->mem_waiters, &s->mem_link);
        return 0;
    }
    if (room < T2S_GSSAPI_MSG_TOKEN_MAX) {
        s->read_paused = 1;
        return 0;
    }
    return 1;
}

static void
gss_fail(struct t2s_tcp_session *s, const char *why)
{
    T2S_STAT_INC(&s->base.ctx->stats, err_reset_proxy);
    t2s_log_limited(&s->base.ctx->err_limit, T2S_LOG_WARN, "#%llu: %s",
                    (unsigned long long)s->base.id, why);
    t2s_session_close(&s->base, T2S_SESSION_ABORT, why);
}

/* A whole message in in[]: its plaintext to the app. 0, or -1 (closed). */
static int
gss_deliver(struct t2s_tcp_session *s, struct t2s_tcp_gss *gs,
            const uint8_t *tok, size_t n)
{
    size_t len = 0;

    if (t2s_gssapi_unwrap(gs->g, tok, n, gs->plain, &len) < 0) {
        gss_fail(s, t2s_gssapi_error(gs->g));
        return -1;
    }
    gs->in_len = 0;
    if (len > 0 &&
        t2s_tcp_to_app_write(s, gs->plain, len, TCP_WRITE_FLAG_COPY) < 0) {
        T2S_STAT_INC(&s->base.ctx->stats, err_resource);
        t2s_session_close(&s->base, T2S_SESSION_ABORT, "out of memory");
        return -1;
    }
    T2S_STAT_ADD(&s->base.ctx->stats, bytes_down, len);
    return 0;
}

/* One recv() of the message being received: 1 to go on, 0 to stop, -1
 * when the session closed. */
static int
gss_read_once(struct t2s_tcp_session *s, struct t2s_tcp_gss *gs)
{
    const uint8_t *tok;
    size_t need = T2S_GSSAPI_MSG_HDR, n, used;
    ssize_t r;
    int rc;

    if (gs->in_len >= T2S_GSSAPI_MSG_HDR)
        need += ((size_t)gs->in[2] << 8) | gs->in[3];
    r = recv(s->base.fd, gs->in + gs->in_len, need - gs->in_len, 0);
    if (r == 0) {
        if (gs->in_len > 0) {
            gss_fail(s, "GSSAPI: the proxy closed the connection inside a "
                        "message");
            return -1;
        }
        s->proxy_eof = 1;
        t2s_tcp_to_app_fin(s);
        return 0;
    }
    if (r < 0) {
        if (!t2s_tcp_session_sock_failed(r))
            return 0;
        T2S_STAT_INC(&s->base.ctx->stats, err_reset_proxy);
        t2s_session_close(&s->base, T2S_SESSION_ABORT,
                          "proxy connection reset");
        return -1;
    }
    gs->in_len += (size_t)r;
    t2s_session_touch(&s->base);
    rc = t2s_gssapi_msg_decode(gs->in, gs->in_len, T2S_GSSAPI_MSG_DATA, &tok,
                               &n, &used);
    if (rc == T2S_GSSAPI_MSG_NEED_MORE)
        return 1;
    if (rc < 0) {
        gss_fail(s, t2s_gssapi_msg_status_str(rc));
        return -1;
    }
    return gss_deliver(s, gs, tok, n) < 0 ? -1 : 1;
}

void
t2s_tcp_gss_read(struct t2s_tcp_session *s)
{
    struct t2s_tcp_gss *gs = s->gss;

    for (int i = 0; i < READS_PER_EVENT && s->pcb != NULL; i++) {
        int rc;

        /* a message once begun is finished: its room was checked */
        if (gs->in_len == 0 && !gss_room(s))
            break;
        rc = gss_read_once(s, gs);
        if (rc < 0)
            return;
        if (rc == 0)
            break;
    }
    t2s_tcp_session_mark_dirty(s);
}

void
t2s_tcp_gss_free(struct t2s_tcp_gss *gs)
{
    if (gs == NULL)
        return;
    t2s_gssapi_free(gs->g);
    t2s_mem_free(gs);
}
#else
int
t2s_tcp_gss_adopt(struct t2s_tcp_session *s, struct t2s_gssapi *g)
{
    (void)s;
    (void)g;
    return -1;
}

int
t2s_tcp_gss_flush(struct t2s_tcp_session *s)
{
    (void)s;
    return -1;
}

void
t2s_tcp_gss_read(struct t2s_tcp_session *s)
{
    (void)s;
}

void
t2s_tcp_gss_free(struct t2s_tcp_gss *gs)
{
    (void)gs;
}
#endif
