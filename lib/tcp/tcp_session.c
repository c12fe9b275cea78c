/* TCP session life cycle and handshake (tcp_session.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mem.h"
#include "upstream/fakeip.h"
#include "upstream/upstream_gssapi.h"
#include "tcp/tcp_gss.h"
#include "tcp/tcp_relay.h"
#include "tcp/tcp_session.h"
#include "tcp/tcp_to_app.h"
#include "tcp/tcp_to_proxy.h"
#include "tcp_ext.h"

void
t2s_tcp_session_describe(const struct tcp_pcb *pcb, char *buf, size_t len)
{
    char src[T2S_ENDPOINT_STRLEN], dst[T2S_ENDPOINT_STRLEN];

    if (IP_IS_V6(&pcb->local_ip)) {
        t2s_log_fmt_endpoint(AF_INET6, ip_2_ip6(&pcb->remote_ip)->addr,
                             pcb->remote_port, src, sizeof(src));
        t2s_log_fmt_endpoint(AF_INET6, ip_2_ip6(&pcb->local_ip)->addr,
                             pcb->local_port, dst, sizeof(dst));
    } else {
        t2s_log_fmt_endpoint(AF_INET, &ip_2_ip4(&pcb->remote_ip)->addr,
                             pcb->remote_port, src, sizeof(src));
        t2s_log_fmt_endpoint(AF_INET, &ip_2_ip4(&pcb->local_ip)->addr,
                             pcb->local_port, dst, sizeof(dst));
    }
    snprintf(buf, len, "%s -> %s", src, dst);
}

void
t2s_tcp_session_update_io(struct t2s_tcp_session *s)
{
    int ev = 0;

    if (s->base.closed)
        return;
    if (!s->proxy_eof && !s->read_paused && s->pcb != NULL)
        ev |= EV_READ;
    if (s->to_proxy.len > 0)
        ev |= EV_WRITE;
    t2s_session_want(&s->base, ev);
}

void
t2s_tcp_session_mark_dirty(struct t2s_tcp_session *s)
{
    if (!t2s_list_empty(&s->dirty_link) || s->pcb == NULL)
        return;
    t2s_list_add(&s->relay->dirty, &s->dirty_link);
}

/*
 * Graceful close once both directions are done: lwIP is finished with the
 * pcb (it reported the close, or we let go of it in TIME_WAIT or CLOSING)
 * and the proxy socket took every byte. Until then the session owns the
 * pcb, also in LAST_ACK, where lwIP may still be delivering the answer to
 * an app that pauses reading (a tcp_close() there would let lwIP drop the
 * pcb 2 * MSL later with the bytes undelivered).
 */
void
t2s_tcp_session_maybe_finish(struct t2s_tcp_session *s)
{
    if (!s->base.closed && s->app_gone && s->to_proxy.len == 0)
        t2s_session_close(&s->base, T2S_SESSION_GRACEFUL, NULL);
}

void
t2s_tcp_session_maybe_shutdown_proxy(struct t2s_tcp_session *s)
{
    if ((s->app_eof || s->app_gone) && !s->proxy_shut && s->to_proxy.len == 0 &&
        s->relaying) {
        shutdown(s->base.fd, SHUT_WR);
        s->proxy_shut = 1;
    }
}

void
t2s_tcp_session_forget_pcb(struct t2s_tcp_session *s)
{
    struct tcp_pcb *pcb = s->pcb;

    s->pcb = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    t2s_blkq_clear(&s->to_app, &s->relay->blkpool);
}

void
t2s_tcp_session_established(struct t2s_tcp_session *s)
{
    if (!s->base.closed && s->fin_pending) {
        t2s_tcp_to_app_fin(s);
        t2s_tcp_session_mark_dirty(s);
    }
}

static void
on_tcp_pcb_err(void *arg, err_t err)
{
    struct t2s_tcp_session *s = arg;

    if (s == NULL || s->base.closed)
        return;
    s->pcb = NULL; /* lwIP has freed it, and its segments */
    t2s_blkq_clear(&s->to_app, &s->relay->blkpool);
    if (err == ERR_CLSD) {
        /* Both FINs exchanged; finish writing to the proxy. */
        s->app_gone = 1;
        t2s_tcp_session_maybe_shutdown_proxy(s);
        t2s_tcp_session_maybe_finish(s);
        t2s_tcp_session_update_io(s);
        return;
    }
    if (err == ERR_RST)
        T2S_STAT_INC(&s->base.ctx->stats, err_reset_app);
    t2s_session_close(&s->base, T2S_SESSION_ABORT,
                      err == ERR_RST ? "app reset" : "aborted");
}

/* ---- handshake ---- */

static void
tcp_handshake_refused(struct t2s_tcp_session *s)
{
    struct t2s_stats *st = &s->base.ctx->stats;
    char why[256], who[T2S_TCP_SESSION_WHO_LEN];

    t2s_upstream_describe(s->base.up, why, sizeof(why));
    switch (s->base.up->fail_kind) {
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
        t2s_tcp_session_describe(s->pcb, who, sizeof(who));
    t2s_log_limited(&s->base.ctx->err_limit, T2S_LOG_WARN, "#%llu %s: %s",
                    (unsigned long long)s->base.id, who, why);
    t2s_session_close(&s->base, T2S_SESSION_ABORT, NULL);
}

/* Integrity or confidentiality: the relay goes through tcp_gss.c. */
static int
tcp_session_gss_adopt(struct t2s_tcp_session *s)
{
    struct t2s_gssapi *g = t2s_upstream_gssapi_take(s->base.up);

    if (g == NULL || t2s_tcp_gss_adopt(s, g) == 0)
        return 0;
    T2S_STAT_INC(&s->base.ctx->stats, err_resource);
    t2s_session_close(&s->base, T2S_SESSION_ABORT, "out of memory");
    return -1;
}

/* CONNECT granted: the SYN|ACK the app waits for, and any payload the
 * server sent right behind its reply. */
static void
tcp_handshake_granted(struct t2s_tcp_session *s)
{
    const struct t2s_upstream *up = s->base.up;
    int rc;

    s->relaying = 1;
    if (tcp_session_gss_adopt(s) < 0)
        return;
    rc = t2s_tcp_ext_send_synack(s->pcb);
    if (rc == ERR_OK && up->in_len > 0) {
        rc = t2s_tcp_to_app_write(s, up->in, up->in_len, TCP_WRITE_FLAG_COPY);
        T2S_STAT_ADD(&s->base.ctx->stats, bytes_down, up->in_len);
    }
    if (rc != ERR_OK) {
        T2S_STAT_INC(&s->base.ctx->stats, err_resource);
        t2s_session_close(&s->base, T2S_SESSION_ABORT, "out of memory");
        return;
    }
    tcp_output(s->pcb);
    t2s_session_touch(&s->base);
    /* From here on the timer fires at most once per idle period and
     * re-arms itself for the time left since the last activity. */
    t2s_session_arm(&s->base, s->base.ctx->cfg->idle_timeout_ms / 1000.0);
    t2s_tcp_session_update_io(s);
}

/* ---- session ops ---- */

static void
on_tcp_handshake(struct t2s_session *base, int result)
{
    struct t2s_tcp_session *s = (struct t2s_tcp_session *)base;

    if (result == T2S_UP_FAIL)
        tcp_handshake_refused(s);
    else
        tcp_handshake_granted(s);
}

static void
on_tcp_proxy_io(struct t2s_session *base, int revents)
{
    struct t2s_tcp_session *s = (struct t2s_tcp_session *)base;

    if ((revents & EV_WRITE) && t2s_tcp_to_proxy_flush(s) < 0) {
        T2S_STAT_INC(&base->ctx->stats, err_reset_proxy);
        t2s_session_close(base, T2S_SESSION_ABORT, "proxy connection failed");
        return;
    }
    if (revents & EV_READ)
        t2s_tcp_to_app_read(s);
    if (base->closed)
        return;
    t2s_tcp_session_maybe_shutdown_proxy(s);
    t2s_tcp_session_maybe_finish(s);
    t2s_tcp_session_update_io(s);
}

static void
on_tcp_timer(struct t2s_session *base)
{
    struct t2s_tcp_session *s = (struct t2s_tcp_session *)base;
    double idle = base->ctx->cfg->idle_timeout_ms / 1000.0;

    if (!s->relaying) {
        T2S_STAT_INC(&base->ctx->stats, err_timeout_connect);
        t2s_log_limited(&base->ctx->err_limit, T2S_LOG_WARN,
                        "#%llu: timed out connecting to the proxy",
                        (unsigned long long)base->id);
        t2s_session_close(base, T2S_SESSION_ABORT, NULL);
        return;
    }
    if (idle <= 0 || !t2s_session_idle_expired(base, idle))
        return;
    T2S_STAT_INC(&base->ctx->stats, err_timeout_idle);
    t2s_session_close(base, T2S_SESSION_ABORT, "idle timeout");
}

/*
 * From t2s_session_close(). A session closes gracefully only once lwIP is
 * done with its pcb (t2s_tcp_session_maybe_finish()): a pcb still held
 * here means an error, reset or timeout, and gets a RST.
 */
static void
tcp_session_release(struct t2s_session *base, int how, const char *why)
{
    struct t2s_tcp_session *s = (struct t2s_tcp_session *)base;
    struct t2s_tcp_relay *r = s->relay;

    (void)how;
    if (why != NULL)
        t2s_debug("#%llu closed: %s", (unsigned long long)base->id, why);
    else
        t2s_debug("#%llu closed", (unsigned long long)base->id);
    if (s->pcb != NULL) {
        struct tcp_pcb *pcb = s->pcb;

        t2s_tcp_session_forget_pcb(s);
        tcp_abort(pcb);
        s->pcb_aborted = 1;
    }
    /* lwIP holds no reference into the blocks now */
    t2s_blkq_clear(&s->to_app, &r->blkpool);
    t2s_pbq_clear(&s->to_proxy);
    t2s_tcp_gss_free(s->gss);
    s->gss = NULL;
    if (s->fake_entry >= 0)
        t2s_fakeip_unref(r->fakeip, s->fake_entry);
    s->fake_entry = -1;
    t2s_list_del(&s->dirty_link);
    t2s_list_del(&s->mem_link);
    T2S_STAT_DEC(&base->ctx->stats, tcp_active);
}

static const struct t2s_session_ops tcp_session_ops = {
    .on_handshake = on_tcp_handshake,
    .on_io = on_tcp_proxy_io,
    .on_timer = on_tcp_timer,
    .release = tcp_session_release,
};

struct t2s_tcp_session *
t2s_tcp_session_new(struct t2s_tcp_relay *r, struct tcp_pcb *npcb,
                    const struct t2s_socks5_addr *dst, long fake_entry)
{
    struct t2s_tcp_session *s = t2s_mem_calloc(1, sizeof(*s));

    if (s == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (t2s_session_start(&s->base, r->ctx, &tcp_session_ops, &r->sessions,
                          T2S_SOCKS5_CMD_CONNECT, dst,
                          r->ctx->cfg->connect_timeout_ms / 1000.0) < 0) {
        int e = errno;

        t2s_mem_free(s);
        errno = e;
        return NULL;
    }
    s->relay = r;
    s->pcb = npcb;
    t2s_list_init(&s->dirty_link);
    t2s_list_init(&s->mem_link);
    s->fake_entry = fake_entry;
    if (fake_entry >= 0)
        t2s_fakeip_ref(r->fakeip, fake_entry);
    T2S_STAT_INC(&r->ctx->stats, tcp_active);
    T2S_STAT_INC(&r->ctx->stats, tcp_total);
    tcp_arg(npcb, s);
    tcp_recv(npcb, t2s_tcp_to_proxy_on_recv);
    tcp_sent(npcb, t2s_tcp_to_app_on_sent);
    tcp_err(npcb, on_tcp_pcb_err);
    tcp_nagle_disable(npcb);
    return s;
}
