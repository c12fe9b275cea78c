/* The one session life cycle (session.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mem.h"
#include "session/pipeline.h"
#include "session/session.h"

/* What a handshake says about its proxy: up, or down when the TCP
 * connect failed (a refusal of the request says nothing about it). */
static void
pool_report(struct t2s_session *s, int rc)
{
    char why[256];

    if (s->ctx->pool == NULL)
        return;
    if (rc == T2S_UP_DONE) {
        t2s_proxy_pool_ok(s->ctx->pool, s->proxy_index);
    } else if (s->up->fail_kind == T2S_UP_FAIL_CONNECT) {
        snprintf(why, sizeof(why), "%s", strerror(s->up->sys_errno));
        t2s_proxy_pool_failed(s->ctx->pool, s->proxy_index, why);
    }
}

/* The handshake of a pipelining trial ended: the timer goes back to the
 * rest of the handshake's time (the kind re-arms it on success). */
static void
pipeline_trial_end(struct t2s_session *s)
{
    double spent =
        T2S_PIPELINE_TRIAL_S - ev_timer_remaining(s->ctx->loop, &s->timer);

    s->pipe_trial = 0;
    t2s_session_arm(s, s->up_timeout - spent);
}

/* A pipelining trial got the method reply but not the request's reply,
 * or the proxy closed or reset the connection on the pipelined bytes. The
 * same proxy again, on a new socket, without pipelining, for the rest of
 * the handshake's time: the kind has promised the app nothing yet (a TCP
 * app's SYN is answered only after the reply). */
static void
pipeline_retry(struct t2s_session *s, double left)
{
    struct t2s_socks5_addr dst = s->up->dst;
    uint8_t cmd = s->up->cmd;
    int fd, want;

    s->pipe_trial = 0;
    t2s_pipeline_stalled(s->ctx, s->proxy_index);
    t2s_log_limited(&s->ctx->err_limit, T2S_LOG_INFO,
                    "proxy %s port %u did not answer a pipelined request: "
                    "not pipelining to it any more",
                    s->proxy->host, s->proxy->port);
    fd = t2s_upstream_socket(s->ctx->cfg, s->proxy, &s->ctx->stats);
    if (fd < 0) {
        s->ops->on_timer(s); /* as the connect timeout would */
        return;
    }
    t2s_session_want(s, 0);
    close(s->fd);
    s->fd = fd;
    t2s_upstream_init(s->up, s->proxy, cmd, &dst, 0, &want);
    t2s_session_want(s, want);
    t2s_session_arm(s, left);
}

/* Whether a failed trial handshake failed on the pipelined bytes. */
static int
pipeline_trial_broke(const struct t2s_session *s, int rc)
{
    return rc == T2S_UP_FAIL && s->pipe_trial &&
           (s->up->fail_kind == T2S_UP_FAIL_PROTO ||
            s->up->fail_kind == T2S_UP_FAIL_IO);
}

static void
on_session_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_session *s = w->data;
    int want = 0, rc;

    (void)loop;
    if (s->up == NULL) {
        s->ops->on_io(s, revents);
        return;
    }
    rc = t2s_upstream_io(s->up, s->fd, &want);
    if (rc == T2S_UP_AGAIN) {
        t2s_session_want(s, want);
        return;
    }
    if (pipeline_trial_broke(s, rc)) {
        pipeline_retry(s, s->up_timeout - T2S_PIPELINE_TRIAL_S +
                              ev_timer_remaining(loop, &s->timer));
        return;
    }
    if (s->pipe_trial)
        pipeline_trial_end(s);
    t2s_pipeline_learn(s->ctx, s->proxy_index, s->up, rc);
    pool_report(s, rc);
    s->ops->on_handshake(s, rc);
    /* closed or not, the handshake's bytes go now */
    t2s_upstream_free(s->up);
    s->up = NULL;
}

static void
on_session_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct t2s_session *s = w->data;

    (void)loop;
    (void)revents;
    if (s->pipe_trial && s->up != NULL) {
        if (t2s_pipeline_waiting_reply(s->up)) {
            pipeline_retry(s, s->up_timeout - T2S_PIPELINE_TRIAL_S);
            return;
        }
        /* no method reply yet: a slow proxy, not a dropped request */
        pipeline_trial_end(s);
        return;
    }
    /* while the handshake runs the timer is the connect timeout */
    if (s->up != NULL && s->ctx->pool != NULL)
        t2s_proxy_pool_failed(s->ctx->pool, s->proxy_index,
                              "timed out connecting");
    s->ops->on_timer(s);
}

/* What every start does once s has its socket and (maybe) its handshake. */
static void
session_begin(struct t2s_session *s, struct t2s_ctx *ctx,
              const struct t2s_session_ops *ops, struct t2s_list *live,
              int events, double timeout_s)
{
    s->ops = ops;
    s->ctx = ctx;
    s->id = t2s_ctx_next_id(ctx);
    ev_init(&s->io, on_session_io);
    s->io.data = s;
    ev_init(&s->timer, on_session_timer);
    s->timer.data = s;
    t2s_session_want(s, events);
    t2s_session_arm(s, timeout_s);
    t2s_session_touch(s);
    t2s_list_add(live, &s->link);
}

/* connect() failed at once in a way that says the proxy is not there. */
static int
is_refusal(int e)
{
    return e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH;
}

/* The socket to the proxy the pool chooses; one that refuses at once is
 * marked down and the next choice tried, each proxy at most once. */
static int
open_proxy_socket(struct t2s_session *s, struct t2s_ctx *ctx)
{
    struct t2s_proxy_pool *pool = ctx->pool;
    unsigned tries = pool != NULL ? pool->n : 1;
    int fd = -1;

    for (unsigned k = 0; k < tries; k++) {
        s->proxy_index = pool != NULL ? t2s_proxy_pool_pick(pool) : 0;
        s->proxy = t2s_config_proxy(ctx->cfg, s->proxy_index);
        fd = t2s_upstream_socket(ctx->cfg, s->proxy, &ctx->stats);
        if (fd >= 0 || pool == NULL || !is_refusal(errno))
            break;
        int e = errno;

        t2s_proxy_pool_failed(pool, s->proxy_index, strerror(e));
        errno = e;
    }
    if (fd >= 0 && pool != NULL)
        t2s_proxy_pool_started(pool, s->proxy_index);
    return fd;
}

/* UDP ASSOCIATE's unspecified DST.ADDR (all zero) in the family of the
 * proxy chosen for it; any other request as it is. */
static const struct t2s_socks5_addr *
assoc_dst(const struct t2s_session *s, uint8_t cmd,
          const struct t2s_socks5_addr *dst, struct t2s_socks5_addr *any)
{
    if (cmd != T2S_SOCKS5_CMD_UDP_ASSOCIATE || dst->port != 0)
        return dst;
    *any = *dst;
    any->atyp = s->proxy->addr.ss_family == AF_INET6 ? T2S_SOCKS5_ATYP_IPV6
                                                     : T2S_SOCKS5_ATYP_IPV4;
    memset(&any->u, 0, sizeof(any->u));
    return any;
}

int
t2s_session_start(struct t2s_session *s, struct t2s_ctx *ctx,
                  const struct t2s_session_ops *ops, struct t2s_list *live,
                  uint8_t cmd, const struct t2s_socks5_addr *dst,
                  double timeout_s)
{
    struct t2s_socks5_addr any;
    int want, trial, pipeline;

    s->fd = -1;
    /* zeroed: t2s_upstream_free() may see it before t2s_upstream_init()
     * (a failed socket), and frees what it points to (up->gss) */
    s->up = t2s_mem_calloc(1, sizeof(*s->up));
    if (s->up == NULL) {
        errno = ENOMEM;
        return -1;
    }
    s->fd = open_proxy_socket(s, ctx);
    if (s->fd < 0) {
        int e = errno;

        t2s_upstream_free(s->up);
        s->up = NULL;
        errno = e;
        return -1;
    }
    pipeline = t2s_pipeline_choose(ctx, s->proxy_index, &trial);
    /* a trial needs its own deadline inside the handshake's */
    if (trial && timeout_s <= 2 * T2S_PIPELINE_TRIAL_S)
        pipeline = trial = 0;
    t2s_upstream_init(s->up, s->proxy, cmd, assoc_dst(s, cmd, dst, &any),
                      pipeline, &want);
    s->up_timeout = (float)timeout_s;
    s->pipe_trial = (unsigned)trial;
    session_begin(s, ctx, ops, live, want,
                  trial ? T2S_PIPELINE_TRIAL_S : timeout_s);
    return 0;
}

void
t2s_session_adopt(struct t2s_session *s, struct t2s_ctx *ctx,
                  const struct t2s_session_ops *ops, struct t2s_list *live,
                  int fd, int events, double timeout_s)
{
    s->fd = fd;
    s->up = NULL;
    session_begin(s, ctx, ops, live, events, timeout_s);
}

void
t2s_session_want(struct t2s_session *s, int events)
{
    if (events == s->io_events)
        return;
    ev_io_stop(s->ctx->loop, &s->io);
    s->io_events = events;
    if (events == 0)
        return;
    ev_io_set(&s->io, s->fd, events);
    ev_io_start(s->ctx->loop, &s->io);
}

void
t2s_session_arm(struct t2s_session *s, double seconds)
{
    s->timer.repeat = seconds > 0 ? seconds : 0.;
    if (s->timer.repeat > 0)
        ev_timer_again(s->ctx->loop, &s->timer);
    else
        ev_timer_stop(s->ctx->loop, &s->timer);
}

void
t2s_session_touch(struct t2s_session *s)
{
    s->last_active = ev_now(s->ctx->loop);
}

int
t2s_session_idle_expired(struct t2s_session *s, double idle_s)
{
    double left = s->last_active + idle_s - ev_now(s->ctx->loop);

    if (left > 0.001) {
        t2s_session_arm(s, left);
        return 0;
    }
    return 1;
}

void
t2s_session_close(struct t2s_session *s, int how, const char *why)
{
    if (s->closed)
        return;
    s->closed = 1;
    t2s_session_want(s, 0);
    ev_timer_stop(s->ctx->loop, &s->timer);
    s->ops->release(s, how, why);
    if (s->fd >= 0) {
        if (how == T2S_SESSION_ABORT) {
            /* RST to the proxy so the server side sees the reset too */
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(s->fd);
        s->fd = -1;
    }
    t2s_upstream_free(s->up);
    s->up = NULL;
    if (s->proxy != NULL && s->ctx->pool != NULL)
        t2s_proxy_pool_ended(s->ctx->pool, s->proxy_index);
    t2s_list_del(&s->link);
    t2s_list_add(&s->ctx->dead, &s->link);
}

void
t2s_session_close_all(struct t2s_list *live, int how, const char *why)
{
    struct t2s_list *n;

    while ((n = t2s_list_first(live)) != NULL)
        t2s_session_close(t2s_session_of(n), how, why);
}

void
t2s_session_reap(struct t2s_ctx *ctx)
{
    struct t2s_list *n;

    while ((n = t2s_list_first(&ctx->dead)) != NULL) {
        t2s_list_del(n);
        /* the session is the first member of its kind's struct */
        t2s_mem_free(t2s_session_of(n));
    }
}
