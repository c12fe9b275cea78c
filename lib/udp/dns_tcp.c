/*
 * One DNS-over-TCP exchange per query: SOCKS5 CONNECT to the resolver,
 * write the 2-byte length and the query, read one framed answer, send it
 * to the app as a datagram from the address it queried. Bounded: at most
 * DNS_TCP_MAX queries in flight, each with a timeout. A query ends only
 * through query_end() (t2s_session_close); its memory goes in the reaper.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mem.h"
#include "udp/dns_tcp.h"
#include "udp/dns_tcp_gss.h"
#include "session/session.h"
#include "upstream/target.h"

#define DNS_TCP_MAX 256

struct dns_tcp_query {
    struct t2s_session s; /* first: the session life cycle */
    struct t2s_dns_tcp *d;
    struct t2s_udp_flow f;
    uint8_t *buf;         /* query out (framed), then answer in (framed) */
    size_t len;           /* bytes valid / expected in buf */
    size_t off;           /* bytes sent / received */
    unsigned sending : 1; /* the query is being written */
    unsigned failed : 1;  /* counted as dns_tcp_failed on release */
    struct t2s_dns_tcp_gss *gss; /* GSSAPI protection, or NULL */
};

static struct dns_tcp_query *
query_of(struct t2s_session *s)
{
    return (struct dns_tcp_query *)s;
}

static void
query_end(struct dns_tcp_query *q, int failed)
{
    q->failed = failed != 0;
    t2s_session_close(&q->s, T2S_SESSION_GRACEFUL, NULL);
}

static void
query_release(struct t2s_session *s, int how, const char *why)
{
    struct dns_tcp_query *q = query_of(s);

    (void)how;
    (void)why;
    if (q->failed)
        T2S_STAT_INC(&s->ctx->stats, dns_tcp_failed);
    q->d->count--;
    t2s_mem_free(q->buf);
    q->buf = NULL;
    t2s_dns_tcp_gss_free(q->gss);
    q->gss = NULL;
}

/* Returns 1 when the whole query is written, 0 to wait, -1 on error. */
static int
send_query(struct dns_tcp_query *q)
{
    while (q->off < q->len) {
        ssize_t n = send(q->s.fd, q->buf + q->off, q->len - q->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        q->off += (size_t)n;
    }
    return 1;
}

/* Returns 1 when a whole answer is in buf, 0 to wait, -1 on error/EOF. */
static int
recv_answer(struct dns_tcp_query *q)
{
    for (;;) {
        ssize_t n =
            recv(q->s.fd, q->buf + q->off, q->len - q->off, MSG_DONTWAIT);

        if (n == 0)
            return -1;
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        q->off += (size_t)n;
        if (q->off < q->len)
            continue;
        if (q->len == 2) {
            size_t msg = ((size_t)q->buf[0] << 8) | q->buf[1];
            uint8_t *nb;

            if (msg < 12)
                return -1;
            nb = t2s_mem_realloc(q->buf, 2 + msg);
            if (nb == NULL)
                return -1;
            q->buf = nb;
            q->len = 2 + msg;
            continue;
        }
        return 1;
    }
}

/* Writes the query, then reads the answer and hands it to the app. */
static void
query_step(struct dns_tcp_query *q)
{
    int rc;

    if (q->sending) {
        rc = send_query(q);
        if (rc < 0) {
            query_end(q, 1);
            return;
        }
        if (rc == 0) {
            t2s_session_want(&q->s, EV_WRITE);
            return;
        }
        q->sending = 0;
        q->off = 0;
        q->len = 2;
        t2s_session_want(&q->s, EV_READ);
    }
    if (q->gss != NULL) {
        const uint8_t *ans = NULL;
        size_t ans_len = 0;

        rc = t2s_dns_tcp_gss_recv(q->gss, q->s.fd, &ans, &ans_len);
        if (rc > 0)
            t2s_udp_tx_send(q->d->tx, &q->f.app, q->f.app_port, &q->f.dst,
                            q->f.dst_port, ans + 2, ans_len - 2);
    } else {
        rc = recv_answer(q);
        if (rc > 0)
            t2s_udp_tx_send(q->d->tx, &q->f.app, q->f.app_port, &q->f.dst,
                            q->f.dst_port, q->buf + 2, q->len - 2);
    }
    if (rc != 0)
        query_end(q, rc < 0);
}

static void
query_on_handshake(struct t2s_session *s, int result)
{
    struct dns_tcp_query *q = query_of(s);

    if (result == T2S_UP_FAIL) {
        char why[256];

        t2s_upstream_describe(s->up, why, sizeof(why));
        t2s_log_limited(&s->ctx->err_limit, T2S_LOG_WARN, "DNS over TCP: %s",
                        why);
        query_end(q, 1);
        return;
    }
    /* integrity, confidentiality: the query and answer in messages */
    if (t2s_dns_tcp_gss_start(&q->gss, s->up, &q->buf, &q->len) < 0) {
        T2S_STAT_INC(&s->ctx->stats, err_resource);
        query_end(q, 1);
        return;
    }
    q->sending = 1;
    query_step(q);
}

static void
query_on_io(struct t2s_session *s, int revents)
{
    (void)revents;
    query_step(query_of(s));
}

static void
query_on_timer(struct t2s_session *s)
{
    t2s_debug("DNS over TCP: query timed out");
    query_end(query_of(s), 1);
}

static const struct t2s_session_ops query_ops = {
    .on_handshake = query_on_handshake,
    .on_io = query_on_io,
    .on_timer = query_on_timer,
    .release = query_release,
};

/* The resolver: --dns-resolver, else the address the app asked. */
static void
resolver_target(struct t2s_dns_tcp *d, const struct t2s_udp_flow *f,
                struct t2s_socks5_addr *a)
{
    const struct t2s_config *c = d->ctx->cfg;

    if (c->resolver_family == 0) {
        if (t2s_target_from_ip(d->fakeip, &f->dst, f->dst_port, a) == -2)
            a->atyp = 0; /* stale fake address: nowhere to go */
        return;
    }
    memset(a, 0, sizeof(*a));
    a->port = c->resolver_port;
    if (c->resolver_family == AF_INET) {
        a->atyp = T2S_SOCKS5_ATYP_IPV4;
        memcpy(a->u.v4, c->resolver_addr, 4);
    } else {
        a->atyp = T2S_SOCKS5_ATYP_IPV6;
        memcpy(a->u.v6, c->resolver_addr, 16);
    }
}

/* A started query holding p's bytes framed, or NULL (counted, logged). */
static struct dns_tcp_query *
query_new(struct t2s_dns_tcp *d, const struct t2s_udp_flow *f,
          const struct t2s_socks5_addr *target, struct pbuf *p)
{
    struct t2s_ctx *ctx = d->ctx;
    struct dns_tcp_query *q = t2s_mem_calloc(1, sizeof(*q));

    if (q == NULL) {
        T2S_STAT_INC(&ctx->stats, err_resource);
        return NULL;
    }
    q->buf = t2s_mem_alloc(2 + (size_t)p->tot_len);
    if (q->buf == NULL)
        errno = ENOMEM;
    if (q->buf == NULL ||
        t2s_session_start(&q->s, ctx, &query_ops, &d->live,
                          T2S_SOCKS5_CMD_CONNECT, target,
                          ctx->cfg->dns_timeout_ms / 1000.0) < 0) {
        /* out of memory or descriptors (EMFILE), or the socket hook */
        int e = errno;

        if (t2s_upstream_is_shortage(e))
            T2S_STAT_INC(&ctx->stats, err_resource);
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "DNS over TCP: dropping a query: %s", strerror(e));
        t2s_mem_free(q->buf);
        t2s_mem_free(q);
        return NULL;
    }
    q->d = d;
    q->f = *f;
    q->buf[0] = (uint8_t)(p->tot_len >> 8);
    q->buf[1] = (uint8_t)(p->tot_len & 0xff);
    pbuf_copy_partial(p, q->buf + 2, p->tot_len, 0);
    q->len = 2 + (size_t)p->tot_len;
    d->count++;
    return q;
}

void
t2s_dns_tcp_query(struct t2s_dns_tcp *d, const struct t2s_udp_flow *f,
                  struct pbuf *p)
{
    struct t2s_socks5_addr target;

    T2S_STAT_INC(&d->ctx->stats, dns_tcp);
    resolver_target(d, f, &target);
    if (d->count >= DNS_TCP_MAX || p->tot_len < 12 || target.atyp == 0)
        goto drop;
    if (!t2s_mem_admit()) {
        T2S_STAT_INC(&d->ctx->stats, mem_refused);
        goto drop;
    }
    if (query_new(d, f, &target, p) == NULL)
        goto drop;
    pbuf_free(p);
    return;
drop:
    T2S_STAT_INC(&d->ctx->stats, dns_tcp_failed);
    pbuf_free(p);
}

void
t2s_dns_tcp_init(struct t2s_dns_tcp *d, struct t2s_ctx *ctx,
                 struct t2s_udp_tx *tx, struct t2s_fakeip *fakeip)
{
    d->ctx = ctx;
    d->tx = tx;
    d->fakeip = fakeip;
    t2s_list_init(&d->live);
    d->count = 0;
}

void
t2s_dns_tcp_shutdown(struct t2s_dns_tcp *d)
{
    struct t2s_list *n;

    if (d->ctx == NULL)
        return; /* never set up */
    /* abandoned, not failed: nothing counted (query_end(q, 0)) */
    while ((n = t2s_list_first(&d->live)) != NULL)
        query_end(query_of(t2s_session_of(n)), 0);
}
