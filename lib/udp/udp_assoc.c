/*
 * UDP ASSOCIATE sessions. Life cycle: created by the first datagram of an
 * app socket (queued while the handshake runs), READY once the proxy named
 * its relay, closed by t2s_session_close() only (assoc_release() is its
 * part here), freed by t2s_session_reap() after the loop iteration.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mem.h"
#include "udp/udp_assoc_impl.h"

/* Hash buckets for associations (a power of two). */
#define ASSOC_TABLE_SIZE 4096
/* After this long, a proxy that refused UDP ASSOCIATE is asked again. */
#define ASSOC_UNSUPPORTED_RETRY_S 300.0
/* Idle timeout of an association that never saw a reply: like the
 * kernel's conntrack (nf_conntrack_udp_timeout 30 s, 120 s once replied). */
#define ASSOC_UNREPLIED_S 30.0

static struct t2s_udp_assoc *
assoc_of(struct t2s_session *s)
{
    return (struct t2s_udp_assoc *)s;
}

static void
assoc_close(struct t2s_udp_assoc *a, const char *why)
{
    t2s_session_close(&a->s, T2S_SESSION_GRACEFUL, why);
}

static unsigned
hash_flow(const ip_addr_t *ip, uint16_t port)
{
    uint32_t h = 2166136261u;
    const uint8_t *b;
    size_t n;

    if (IP_IS_V6(ip)) {
        b = (const uint8_t *)ip_2_ip6(ip)->addr;
        n = 16;
    } else {
        b = (const uint8_t *)&ip_2_ip4(ip)->addr;
        n = 4;
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    h = (h ^ (port & 0xff)) * 16777619u;
    h = (h ^ (port >> 8)) * 16777619u;
    return h & (ASSOC_TABLE_SIZE - 1);
}

static struct t2s_udp_assoc *
assoc_find(struct t2s_udp_assocs *as, const ip_addr_t *ip, uint16_t port)
{
    struct t2s_udp_assoc *a = as->table[hash_flow(ip, port)];

    for (; a != NULL; a = a->hnext)
        if (a->app_port == port && ip_addr_cmp(&a->app, ip))
            return a;
    return NULL;
}

static void
assoc_unlink(struct t2s_udp_assocs *as, struct t2s_udp_assoc *a)
{
    struct t2s_udp_assoc **pp = &as->table[hash_flow(&a->app, a->app_port)];

    while (*pp != NULL && *pp != a)
        pp = &(*pp)->hnext;
    if (*pp == a)
        *pp = a->hnext;
    as->count--;
    T2S_STAT_DEC(&as->ctx->stats, udp_active);
}

static void
describe_app(const ip_addr_t *app, uint16_t port, char *buf, size_t len)
{
    if (IP_IS_V6(app))
        t2s_log_fmt_endpoint(AF_INET6, ip_2_ip6(app)->addr, port, buf, len);
    else
        t2s_log_fmt_endpoint(AF_INET, &ip_2_ip4(app)->addr, port, buf, len);
}

static double
timeout_s(const struct t2s_udp_assoc *a)
{
    const struct t2s_config *c = a->as->ctx->cfg;
    double idle = c->udp_timeout_ms / 1000.0;

    if (a->dns_only)
        return c->dns_timeout_ms / 1000.0;
    return a->replied || idle < ASSOC_UNREPLIED_S ? idle : ASSOC_UNREPLIED_S;
}

/* ---- queued datagrams ---- */

static void
flush_queue(struct t2s_udp_assoc *a)
{
    for (unsigned i = 0; i < a->qn; i++) {
        struct assoc_pending *q = &a->q[i];

        if (a->ready)
            t2s_udp_assoc_relay_send(a, &q->dst, q->port, q->p);
        pbuf_free(q->p);
        q->p = NULL;
    }
    a->qn = 0;
}

/* The association failed with the proxy up: DNS in the queue goes over
 * TCP, the rest drops (counted as unsupported when the proxy said so). */
static void
divert_queue(struct t2s_udp_assoc *a, int unsupported)
{
    struct t2s_stats *st = &a->as->ctx->stats;
    struct t2s_udp_flow f;

    for (unsigned i = 0; i < a->qn; i++) {
        struct assoc_pending *q = &a->q[i];

        ip_addr_copy(f.app, a->app);
        f.app_port = a->app_port;
        ip_addr_copy(f.dst, q->dst);
        f.dst_port = q->port;
        if (T2S_UDP_IS_DNS(&f)) {
            t2s_dns_tcp_query(a->as->dns, &f, q->p);
        } else {
            if (unsupported)
                T2S_STAT_INC(st, udp_unsupported);
            else
                T2S_STAT_INC(st, udp_dropped);
            pbuf_free(q->p);
        }
        q->p = NULL;
    }
    a->qn = 0;
}

/* ---- the control connection ---- */

static void
assoc_handshake_failed(struct t2s_udp_assoc *a)
{
    struct t2s_udp_assocs *as = a->as;
    struct t2s_upstream *up = a->s.up;
    char why[256];
    int unsupported;

    T2S_STAT_INC(&as->ctx->stats, err_udp_assoc);
    t2s_upstream_describe(up, why, sizeof(why));
    /* Only "command not supported" says the proxy has no UDP: anything
     * else fails this association alone. */
    unsupported = up->fail_kind == T2S_UP_FAIL_REPLY && up->rep == 7;
    if (unsupported) {
        if (!as->unsupported)
            t2s_warn("the proxy does not support UDP ASSOCIATE (%s): DNS "
                     "goes over TCP, other UDP is dropped",
                     why);
        as->unsupported = 1;
        as->unsupported_at = ev_now(as->ctx->loop);
    } else {
        t2s_log_limited(&as->ctx->err_limit, T2S_LOG_WARN,
                        "UDP association: %s", why);
    }
    if (unsupported || up->fail_kind == T2S_UP_FAIL_PROTO) {
        divert_queue(a, unsupported);
    } else {
        T2S_STAT_ADD(&as->ctx->stats, udp_dropped, a->qn);
    }
    assoc_close(a, why);
}

static void
assoc_handshake_done(struct t2s_udp_assoc *a)
{
    struct t2s_udp_assocs *as = a->as;
    char why[128];

    if (t2s_udp_assoc_relay_open(a, &a->s.up->bnd) < 0) {
        snprintf(why, sizeof(why), "cannot use the UDP relay: %s",
                 strerror(errno));
        t2s_log_limited(&as->ctx->err_limit, T2S_LOG_WARN,
                        "UDP association: %s", why);
        T2S_STAT_INC(&as->ctx->stats, err_udp_assoc);
        T2S_STAT_ADD(&as->ctx->stats, udp_dropped, a->qn);
        assoc_close(a, why);
        return;
    }
    a->ready = 1;
    as->unsupported = 0;
    t2s_session_want(&a->s, EV_READ); /* the proxy closing it ends us */
    t2s_session_touch(&a->s);
    t2s_session_arm(&a->s, timeout_s(a));
    flush_queue(a);
}

static void
assoc_on_handshake(struct t2s_session *s, int result)
{
    if (result == T2S_UP_DONE)
        assoc_handshake_done(assoc_of(s));
    else
        assoc_handshake_failed(assoc_of(s));
}

static void
assoc_on_ctl_io(struct t2s_session *s, int revents)
{
    uint8_t buf[256];
    ssize_t n;

    (void)revents;
    n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        assoc_close(assoc_of(s), "control connection closed by the proxy");
}

static void
assoc_on_timer(struct t2s_session *s)
{
    struct t2s_udp_assoc *a = assoc_of(s);

    if (!a->ready) {
        T2S_STAT_INC(&s->ctx->stats, err_udp_assoc);
        T2S_STAT_ADD(&s->ctx->stats, udp_dropped, a->qn);
        assoc_close(a, "UDP ASSOCIATE timed out");
        return;
    }
    if (t2s_session_idle_expired(s, timeout_s(a)))
        assoc_close(a, "idle timeout");
}

/* From t2s_session_close(): what only an association holds. */
static void
assoc_release(struct t2s_session *s, int how, const char *why)
{
    struct t2s_udp_assoc *a = assoc_of(s);

    (void)how;
    if (t2s_log_threshold >= T2S_LOG_DEBUG) {
        char who[T2S_ENDPOINT_STRLEN];

        describe_app(&a->app, a->app_port, who, sizeof(who));
        t2s_debug("udp #%llu %s closed: %s", (unsigned long long)s->id, who,
                  why);
    }
    t2s_udp_assoc_relay_close(a);
    for (unsigned i = 0; i < a->qn; i++)
        pbuf_free(a->q[i].p);
    a->qn = 0;
    t2s_udp_assoc_dst_release(a);
    assoc_unlink(a->as, a);
}

static const struct t2s_session_ops assoc_ops = {
    .on_handshake = assoc_on_handshake,
    .on_io = assoc_on_ctl_io,
    .on_timer = assoc_on_timer,
    .release = assoc_release,
};

/* ---- creation ---- */

static struct t2s_udp_assoc *
assoc_new(struct t2s_udp_assocs *as, const struct t2s_udp_flow *f)
{
    const struct t2s_config *c = as->ctx->cfg;
    struct t2s_udp_assoc *a;
    struct t2s_socks5_addr any;
    unsigned h;

    a = t2s_mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    /* DST.ADDR/PORT all zero: we do not know our relay-side address.
     * t2s_session_start() gives it the chosen proxy's family. */
    memset(&any, 0, sizeof(any));
    any.atyp = T2S_SOCKS5_ATYP_IPV4;
    if (t2s_session_start(&a->s, as->ctx, &assoc_ops, &as->live,
                          T2S_SOCKS5_CMD_UDP_ASSOCIATE, &any,
                          c->connect_timeout_ms / 1000.0) < 0) {
        int e = errno;

        t2s_mem_free(a);
        errno = e;
        return NULL;
    }
    a->as = as;
    a->udp_fd = -1;
    a->dns_only = 1;
    ip_addr_copy(a->app, f->app);
    a->app_port = f->app_port;
    h = hash_flow(&a->app, a->app_port);
    a->hnext = as->table[h];
    as->table[h] = a;
    as->count++;
    T2S_STAT_INC(&as->ctx->stats, udp_active);
    T2S_STAT_INC(&as->ctx->stats, udp_total);
    return a;
}

/* A new association for f, or NULL (counted and logged: the datagram is
 * lost, the next one tries again). */
static struct t2s_udp_assoc *
assoc_admit(struct t2s_udp_assocs *as, const struct t2s_udp_flow *f)
{
    struct t2s_ctx *ctx = as->ctx;
    char who[T2S_ENDPOINT_STRLEN];
    struct t2s_udp_assoc *a;

    if (as->count >= as->max) {
        T2S_STAT_INC(&ctx->stats, udp_dropped);
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "UDP association limit %u reached: dropping", as->max);
        return NULL;
    }
    if (!t2s_mem_admit()) {
        T2S_STAT_INC(&ctx->stats, mem_refused);
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "no new UDP association: memory budget of %zu "
                        "bytes nearly spent",
                        t2s_mem_limit());
        return NULL;
    }
    a = assoc_new(as, f);
    if (a == NULL) {
        /* out of memory or descriptors (EMFILE), or the socket hook */
        int e = errno;

        if (t2s_upstream_is_shortage(e))
            T2S_STAT_INC(&ctx->stats, err_resource);
        T2S_STAT_INC(&ctx->stats, udp_dropped);
        describe_app(&f->app, f->app_port, who, sizeof(who));
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "no UDP association for %s: %s", who, strerror(e));
        return NULL;
    }
    if (t2s_log_threshold >= T2S_LOG_DEBUG) {
        describe_app(&a->app, a->app_port, who, sizeof(who));
        t2s_debug("udp #%llu %s: new association", (unsigned long long)a->s.id,
                  who);
    }
    return a;
}

void
t2s_udp_assoc_input(struct t2s_udp_assocs *as, const struct t2s_udp_flow *f,
                    struct pbuf *p)
{
    struct t2s_udp_assoc *a = assoc_find(as, &f->app, f->app_port);

    if (a == NULL && (a = assoc_admit(as, f)) == NULL) {
        pbuf_free(p);
        return;
    }
    if (!T2S_UDP_IS_DNS(f))
        a->dns_only = 0;
    t2s_session_touch(&a->s);
    if (a->ready) {
        t2s_udp_assoc_relay_send(a, &f->dst, f->dst_port, p);
        pbuf_free(p);
        return;
    }
    if (a->qn == ASSOC_QUEUE_MAX) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped);
        pbuf_free(p);
        return;
    }
    a->q[a->qn].p = p;
    ip_addr_copy(a->q[a->qn].dst, f->dst);
    a->q[a->qn].port = f->dst_port;
    a->qn++;
}

int
t2s_udp_assoc_proxy_has_udp(struct t2s_udp_assocs *as)
{
    if (as->unsupported &&
        ev_now(as->ctx->loop) - as->unsupported_at > ASSOC_UNSUPPORTED_RETRY_S)
        as->unsupported = 0;
    return !as->unsupported;
}

int
t2s_udp_assoc_init(struct t2s_udp_assocs *as, struct t2s_ctx *ctx,
                   struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip,
                   struct t2s_dns_tcp *dns, unsigned max)
{
    memset(as, 0, sizeof(*as));
    as->ctx = ctx;
    as->tx = tx;
    as->fakeip = fakeip;
    as->dns = dns;
    as->max = max;
    t2s_list_init(&as->live);
    as->table = calloc(ASSOC_TABLE_SIZE, sizeof(*as->table));
    as->buf = t2s_mem_alloc((size_t)ASSOC_RX_SLOTS * ASSOC_BUF_SIZE);
    if (as->table == NULL || as->buf == NULL)
        return -1;
    return t2s_udp_batch_init(&as->batch, ctx->loop, &ctx->stats, NULL);
}

void
t2s_udp_assoc_shutdown(struct t2s_udp_assocs *as)
{
    if (as->ctx != NULL)
        t2s_session_close_all(&as->live, T2S_SESSION_GRACEFUL, "shutting down");
    t2s_udp_batch_free(&as->batch);
    free(as->table);
    as->table = NULL;
    t2s_mem_free(as->buf);
    as->buf = NULL;
}
