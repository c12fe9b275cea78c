/*
 * One DNS-over-TCP exchange per query: SOCKS5 CONNECT to the resolver,
 * write the 2-byte length and the query, read one framed answer, send it
 * to the app as a datagram from the address it queried. Bounded: at most
 * DNS_TCP_MAX queries in flight, each with a timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns/dns_tcp.h"
#include "core/mem.h"
#include "upstream/target.h"
#include "upstream/upstream.h"

#define DNS_TCP_MAX 256

enum phase { PH_HANDSHAKE, PH_SEND, PH_RECV };

struct t2s_dns_tcp {
    struct t2s_instance *t;
    struct t2s_dns_tcp *prev;
    struct t2s_dns_tcp *next;
    struct t2s_udp_flow f;
    int fd;
    int phase;
    ev_io io;
    ev_timer timer;
    struct t2s_upstream *up;
    uint8_t *buf; /* query out (framed), then answer in (framed) */
    size_t len;   /* bytes valid / expected in buf */
    size_t off;   /* bytes sent / received */
};

static void
query_free(struct t2s_dns_tcp *q, int failed)
{
    struct t2s_instance *t = q->t;

    if (failed)
        T2S_STAT_INC(&t->ctx.stats, dns_tcp_failed);
    ev_io_stop(t->ctx.loop, &q->io);
    ev_timer_stop(t->ctx.loop, &q->timer);
    if (q->fd >= 0)
        close(q->fd);
    if (q->prev != NULL)
        q->prev->next = q->next;
    else
        t->dns_tcp_list = q->next;
    if (q->next != NULL)
        q->next->prev = q->prev;
    t->dns_tcp_count--;
    t2s_upstream_free(q->up);
    t2s_mem_free(q->buf);
    t2s_mem_free(q);
}

static void
set_events(struct t2s_dns_tcp *q, int events)
{
    ev_io_stop(q->t->ctx.loop, &q->io);
    ev_io_set(&q->io, q->fd, events);
    ev_io_start(q->t->ctx.loop, &q->io);
}

/* Returns 1 when the whole query is written, 0 to wait, -1 on error. */
static int
send_query(struct t2s_dns_tcp *q)
{
    while (q->off < q->len) {
        ssize_t n = send(q->fd, q->buf + q->off, q->len - q->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        q->off += (size_t)n;
    }
    return 1;
}

/* Returns 1 when a whole answer is in buf, 0 to wait, -1 on error/EOF. */
static int
recv_answer(struct t2s_dns_tcp *q)
{
    for (;;) {
        ssize_t n = recv(q->fd, q->buf + q->off, q->len - q->off, MSG_DONTWAIT);

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

static void
start_recv(struct t2s_dns_tcp *q)
{
    q->phase = PH_RECV;
    q->off = 0;
    q->len = 2;
    set_events(q, EV_READ);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_dns_tcp *q = w->data;
    int want = 0, rc;

    (void)loop;
    (void)revents;
    if (q->phase == PH_HANDSHAKE) {
        rc = t2s_upstream_io(q->up, q->fd, &want);
        if (rc == T2S_UP_FAIL) {
            char why[256];

            t2s_upstream_describe(q->up, why, sizeof(why));
            t2s_log_limited(&q->t->ctx.err_limit, T2S_LOG_WARN, "DNS over TCP: %s",
                            why);
            query_free(q, 1);
            return;
        }
        if (rc == T2S_UP_AGAIN) {
            set_events(q, want);
            return;
        }
        t2s_upstream_free(q->up);
        q->up = NULL;
        q->phase = PH_SEND;
    }
    if (q->phase == PH_SEND) {
        rc = send_query(q);
        if (rc < 0) {
            query_free(q, 1);
            return;
        }
        if (rc == 0) {
            set_events(q, EV_WRITE);
            return;
        }
        start_recv(q);
    }
    rc = recv_answer(q);
    if (rc < 0) {
        query_free(q, 1);
    } else if (rc > 0) {
        t2s_udp_to_app(q->t, &q->f.app, q->f.app_port, &q->f.dst, q->f.dst_port,
                       q->buf + 2, q->len - 2);
        query_free(q, 0);
    }
}

static void
on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    t2s_debug("DNS over TCP: query timed out");
    query_free(w->data, 1);
}

/* The resolver: --dns-resolver, else the address the app asked. */
static void
resolver_target(struct t2s_instance *t, const struct t2s_udp_flow *f,
                struct t2s_s5_addr *a)
{
    const struct t2s_config *c = &t->cfg;

    if (c->resolver_family == 0) {
        if (t2s_target_from_ip(t->fakeip, &f->dst, f->dst_port, a) == -2)
            a->atyp = 0; /* stale fake address: nowhere to go */
        return;
    }
    memset(a, 0, sizeof(*a));
    a->port = c->resolver_port;
    if (c->resolver_family == AF_INET) {
        a->atyp = T2S_S5_ATYP_IPV4;
        memcpy(a->u.v4, c->resolver_addr, 4);
    } else {
        a->atyp = T2S_S5_ATYP_IPV6;
        memcpy(a->u.v6, c->resolver_addr, 16);
    }
}

void
t2s_dns_tcp_query(struct t2s_instance *t, const struct t2s_udp_flow *f,
                  struct pbuf *p)
{
    struct t2s_dns_tcp *q = NULL;
    struct t2s_s5_addr target;
    int want;

    T2S_STAT_INC(&t->ctx.stats, dns_tcp);
    resolver_target(t, f, &target);
    if (t->dns_tcp_count >= DNS_TCP_MAX || p->tot_len < 12 || target.atyp == 0)
        goto drop;
    if (!t2s_mem_admit()) {
        T2S_STAT_INC(&t->ctx.stats, mem_refused);
        goto drop;
    }
    q = t2s_mem_calloc(1, sizeof(*q));
    if (q == NULL) {
        T2S_STAT_INC(&t->ctx.stats, err_resource);
        goto drop;
    }
    q->buf = t2s_mem_alloc(2 + (size_t)p->tot_len);
    q->up = t2s_mem_alloc(sizeof(*q->up));
    q->fd = (q->buf && q->up)
                ? t2s_upstream_socket(&t->cfg.proxy, t->cfg.fwmark,
                                      t->cfg.bind_iface)
                : -1;
    if (q->fd < 0) {
        /* out of memory or descriptors (EMFILE) */
        T2S_STAT_INC(&t->ctx.stats, err_resource);
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                        "DNS over TCP: dropping a query: %s", strerror(errno));
        t2s_mem_free(q->buf);
        t2s_upstream_free(q->up);
        t2s_mem_free(q);
        goto drop;
    }
    q->t = t;
    q->f = *f;
    q->buf[0] = (uint8_t)(p->tot_len >> 8);
    q->buf[1] = (uint8_t)(p->tot_len & 0xff);
    pbuf_copy_partial(p, q->buf + 2, p->tot_len, 0);
    q->len = 2 + (size_t)p->tot_len;
    pbuf_free(p);
    t2s_upstream_init(q->up, &t->cfg.proxy, T2S_S5_CMD_CONNECT, &target,
                      t->cfg.socks_pipeline, &want);
    ev_io_init(&q->io, on_io, q->fd, want);
    q->io.data = q;
    ev_io_start(t->ctx.loop, &q->io);
    ev_timer_init(&q->timer, on_timeout, t->cfg.dns_timeout_ms / 1000.0, 0.);
    q->timer.data = q;
    ev_timer_start(t->ctx.loop, &q->timer);
    q->next = t->dns_tcp_list;
    if (q->next != NULL)
        q->next->prev = q;
    t->dns_tcp_list = q;
    t->dns_tcp_count++;
    return;
drop:
    T2S_STAT_INC(&t->ctx.stats, dns_tcp_failed);
    pbuf_free(p);
}

void
t2s_dns_tcp_close_all(struct t2s_instance *t)
{
    while (t->dns_tcp_list != NULL)
        query_free(t->dns_tcp_list, 0);
}
