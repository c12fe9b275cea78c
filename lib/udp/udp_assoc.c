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
#include <sys/uio.h>
#include <unistd.h>

#include "codec/socks5.h"
#include "core/mem.h"
#include "dns/fakeip.h"
#include "session/session.h"
#include "udp/udp_assoc.h"
#include "upstream/relay_addr.h"
#include "upstream/target.h"
#include "upstream/upstream.h"

/* Datagrams held per association while the handshake runs. */
#define ASSOC_QUEUE_MAX 32
/* Destinations remembered, most recent first, to tell which one a reply
 * that carries a real address comes from: fake names (each holding a
 * reference on its fake-ip entry) and real addresses. */
#define ASSOC_FAKES 8
#define ASSOC_REALS 8
/* One datagram: the largest UDP payload and the largest SOCKS header. */
#define ASSOC_BUF_SIZE (65536 + T2S_S5_UDP_HDR_MAX)

struct assoc_pending {
    struct pbuf *p;
    ip_addr_t dst;
    uint16_t port;
};

struct assoc_fake_dst {
    long entry;     /* fake-ip entry: one reference held */
    uint16_t port;  /* destination port */
    uint8_t bound;  /* a reply of this name came from addr */
    ip_addr_t addr; /* what the proxy resolved the name to */
};

struct assoc_real_dst {
    ip_addr_t addr;
    uint16_t port;
};

struct t2s_udp_assoc {
    struct t2s_session s;        /* first: control connection, timer, id */
    struct t2s_udp_assocs *as;   /* the owner */
    struct t2s_udp_assoc *hnext; /* hash chain */
    ip_addr_t app;
    uint16_t app_port;
    int udp_fd; /* to the relay, -1 until READY */
    ev_io udp_io;
    struct assoc_pending q[ASSOC_QUEUE_MAX];
    unsigned qn;
    struct assoc_fake_dst fakes[ASSOC_FAKES]; /* newest first */
    unsigned nfakes;
    struct assoc_real_dst reals[ASSOC_REALS]; /* newest first; fake-ip only */
    unsigned nreals;
    unsigned ready : 1;
    unsigned replied : 1;  /* a datagram came back */
    unsigned dns_only : 1; /* every datagram so far went to port 53 */
};

/* ---- destinations remembered (fake-ip replies) ---- */

static int
same_ip(const ip_addr_t *x, const ip_addr_t *y)
{
    if (IP_IS_V6(x) != IP_IS_V6(y))
        return 0;
    if (IP_IS_V6(x))
        return memcmp(ip_2_ip6(x)->addr, ip_2_ip6(y)->addr, 16) == 0;
    return ip_2_ip4(x)->addr == ip_2_ip4(y)->addr;
}

/* Puts the fake destination (entry, port) first, taking a reference when
 * it is new and dropping the oldest (and its reference) when full. */
static void
remember_fake(struct t2s_udp_assoc *a, long entry, uint16_t port)
{
    struct assoc_fake_dst d = {.entry = entry, .port = port};
    struct t2s_fakeip *fakeip = a->as->fakeip;
    unsigned i;

    for (i = 0; i < a->nfakes; i++)
        if (a->fakes[i].entry == entry && a->fakes[i].port == port)
            break;
    if (i < a->nfakes) {
        d = a->fakes[i]; /* known: keep its reference and binding */
    } else {
        if (a->nfakes == ASSOC_FAKES)
            t2s_fakeip_unref(fakeip, a->fakes[--a->nfakes].entry);
        t2s_fakeip_ref(fakeip, entry);
        i = a->nfakes++;
    }
    memmove(&a->fakes[1], &a->fakes[0], i * sizeof(a->fakes[0]));
    a->fakes[0] = d;
}

static void
remember_real(struct t2s_udp_assoc *a, const ip_addr_t *ip, uint16_t port)
{
    struct assoc_real_dst d = {.port = port};
    unsigned i;

    ip_addr_copy(d.addr, *ip);
    for (i = 0; i < a->nreals; i++)
        if (a->reals[i].port == port && same_ip(&a->reals[i].addr, ip))
            break;
    if (i == a->nreals) {
        if (a->nreals < ASSOC_REALS)
            a->nreals++;
        i = a->nreals - 1;
    }
    memmove(&a->reals[1], &a->reals[0], i * sizeof(a->reals[0]));
    a->reals[0] = d;
}

static void
dst_note(struct t2s_udp_assoc *a, long entry, const ip_addr_t *dst,
         uint16_t port)
{
    if (entry >= 0)
        remember_fake(a, entry, port);
    else if (a->as->fakeip != NULL)
        remember_real(a, dst, port);
}

static void
dst_release(struct t2s_udp_assoc *a)
{
    for (unsigned i = 0; i < a->nfakes; i++)
        t2s_fakeip_unref(a->as->fakeip, a->fakes[i].entry);
    a->nfakes = 0;
}

/* The SOCKS address of a reply as an lwIP address (IPv4/IPv6 only). */
static void
s5_to_ip(const struct t2s_s5_addr *from, ip_addr_t *ip)
{
    if (from->atyp == T2S_S5_ATYP_IPV4) {
        IP_ADDR4(ip, from->u.v4[0], from->u.v4[1], from->u.v4[2],
                 from->u.v4[3]);
    } else {
        ip_addr_set_zero_ip6(ip);
        memcpy(ip_2_ip6(ip)->addr, from->u.v6, 16);
    }
}

/*
 * Which fake destination a reply from the real (ip, port) answers: the
 * index in fakes, -1 for none (the reply keeps its real address), -2 when
 * it cannot be told (several names on that port could have sent it).
 * Attribution goes by address and port: an address the app itself sent
 * to is itself; the only name on that port is that name; otherwise the
 * name this address answered for before, or else the one name on that
 * port that has not answered yet (and this address is bound to it).
 */
static int
fake_for_reply(struct t2s_udp_assoc *a, const ip_addr_t *ip, uint16_t port)
{
    int only = -1, unbound = -1, on_port = 0, n_unbound = 0;

    for (unsigned i = 0; i < a->nreals; i++)
        if (a->reals[i].port == port && same_ip(&a->reals[i].addr, ip))
            return -1;
    for (unsigned i = 0; i < a->nfakes; i++) {
        struct assoc_fake_dst *d = &a->fakes[i];

        if (d->port != port)
            continue;
        on_port++;
        only = (int)i;
        if (d->bound && same_ip(&d->addr, ip))
            return (int)i;
        if (!d->bound) {
            n_unbound++;
            unbound = (int)i;
        }
    }
    if (on_port == 0)
        return -1;
    if (on_port > 1 && n_unbound != 1)
        return -2;
    if (on_port > 1)
        only = unbound;
    a->fakes[only].bound = 1;
    ip_addr_copy(a->fakes[only].addr, *ip);
    return only;
}

static int
dst_reply_source(struct t2s_udp_assoc *a, const struct t2s_s5_addr *from,
                 ip_addr_t *src)
{
    struct t2s_fakeip *fakeip = a->as->fakeip;
    int v6 = IP_IS_V6(&a->app);
    struct t2s_s5_addr name = {.atyp = T2S_S5_ATYP_DOMAIN};
    const char *s;
    ip_addr_t ip;
    size_t n;
    int i;

    if (fakeip == NULL || from->atyp == T2S_S5_ATYP_DOMAIN || a->nfakes == 0)
        return t2s_target_to_ip(fakeip, from, v6, src);
    /* fake-ip: the proxy resolved the name and answers with the real
     * address; the app expects the fake one it sent to. */
    s5_to_ip(from, &ip);
    i = fake_for_reply(a, &ip, from->port);
    if (i == -2)
        return -2;
    if (i < 0)
        return t2s_target_to_ip(fakeip, from, v6, src);
    s = t2s_fakeip_name(fakeip, a->fakes[i].entry, &n);
    if (s == NULL)
        return -1;
    name.name_len = (uint8_t)n;
    memcpy(name.u.name, s, n);
    return t2s_target_to_ip(fakeip, &name, v6, src);
}

/* ---- the relay socket ---- */

/* Datagrams read from the relay per wakeup. */
#define RELAY_READ_BUDGET 64
/* Socket buffers toward the relay: room for bursts at a few 100 Mbit/s. */
#define RELAY_SOCKBUF (4 * 1024 * 1024)
/* pbuf pieces sent in one sendmsg (plus the SOCKS header); a datagram of
 * more pieces (fragments reassembled by lwIP) is copied into one. */
#define RELAY_IOV_MAX 32

static void
relay_send(struct t2s_udp_assoc *a, const ip_addr_t *dst, uint16_t port,
           struct pbuf *p)
{
    struct t2s_udp_assocs *as = a->as;
    uint8_t hdr[T2S_S5_UDP_HDR_MAX];
    struct iovec iov[RELAY_IOV_MAX + 1];
    struct msghdr msg;
    struct t2s_s5_addr target;
    size_t hlen;
    long entry;
    int n = 1;

    entry = t2s_target_from_ip(as->fakeip, dst, port, &target);
    if (entry == -2) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped); /* stale fake address */
        return;
    }
    dst_note(a, entry, dst, port);
    hlen = t2s_s5_encode_udp_header(hdr, sizeof(hdr), &target);
    iov[0].iov_base = hdr;
    iov[0].iov_len = hlen;
    if (pbuf_clen(p) <= RELAY_IOV_MAX) {
        for (struct pbuf *q = p; q != NULL; q = q->next) {
            iov[n].iov_base = q->payload;
            iov[n].iov_len = q->len;
            n++;
        }
    } else {
        /* Never send a truncated datagram: one copy, the whole of it. */
        iov[1].iov_base = as->buf;
        iov[1].iov_len = pbuf_copy_partial(p, as->buf, p->tot_len, 0);
        n = 2;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    if (sendmsg(a->udp_fd, &msg, MSG_DONTWAIT) !=
        (ssize_t)(hlen + p->tot_len)) {
        T2S_STAT_INC(&as->ctx->stats, udp_dropped);
        return;
    }
    T2S_STAT_INC(&as->ctx->stats, udp_pkts_up);
    T2S_STAT_ADD(&as->ctx->stats, udp_bytes_up, p->tot_len);
}

/* One datagram from the relay (n bytes in as->buf) to the app. */
static void
relay_deliver(struct t2s_udp_assoc *a, size_t n)
{
    struct t2s_udp_assocs *as = a->as;
    struct t2s_stats *st = &as->ctx->stats;
    struct t2s_s5_addr from;
    ip_addr_t src;
    size_t hlen;
    uint8_t frag;
    int rc;

    if (t2s_s5_decode_udp_header(as->buf, n, &frag, &from, &hlen) !=
        T2S_S5_OK) {
        T2S_STAT_INC(st, udp_bad);
        return;
    }
    if (frag != 0) {
        T2S_STAT_INC(st, udp_frag_dropped);
        return;
    }
    rc = dst_reply_source(a, &from, &src);
    if (rc < 0) {
        if (rc == -2)
            T2S_STAT_INC(st, udp_ambiguous);
        else
            T2S_STAT_INC(st, udp_bad);
        return;
    }
    a->replied = 1;
    t2s_session_touch(&a->s);
    T2S_STAT_INC(st, udp_pkts_down);
    T2S_STAT_ADD(st, udp_bytes_down, n - hlen);
    t2s_udp_tx_send(as->tx, &a->app, a->app_port, &src, from.port,
                    as->buf + hlen, n - hlen);
}

static void
on_relay_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    ssize_t n;

    (void)loop;
    (void)revents;
    for (int i = 0; i < RELAY_READ_BUDGET; i++) {
        n = recv(a->udp_fd, a->as->buf, ASSOC_BUF_SIZE, MSG_DONTWAIT);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error we ignore */
        relay_deliver(a, (size_t)n);
    }
}

static int
relay_open(struct t2s_udp_assoc *a, const struct t2s_s5_addr *bnd)
{
    const struct t2s_config *c = a->as->ctx->cfg;
    struct sockaddr_storage ss;
    socklen_t len;
    int sz = RELAY_SOCKBUF;

    if (t2s_relay_addr_pick(bnd, &c->proxy.addr, c->proxy.addr_len, &ss, &len) <
        0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    a->udp_fd =
        socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->udp_fd < 0)
        return -1;
    setsockopt(a->udp_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(a->udp_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    /* The one place the relay socket gets the socket policy (fwmark,
     * bind interface) before connect. */
    if (t2s_upstream_policy(a->udp_fd, c->fwmark, c->bind_iface) < 0 ||
        connect(a->udp_fd, (struct sockaddr *)&ss, len) < 0)
        return -1;
    ev_io_init(&a->udp_io, on_relay_readable, a->udp_fd, EV_READ);
    a->udp_io.data = a;
    ev_io_start(a->as->ctx->loop, &a->udp_io);
    return 0;
}

static void
relay_close(struct t2s_udp_assoc *a)
{
    ev_io_stop(a->as->ctx->loop, &a->udp_io);
    if (a->udp_fd >= 0) {
        close(a->udp_fd);
        a->udp_fd = -1;
    }
}

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
        t2s_fmt_endpoint(AF_INET6, ip_2_ip6(app)->addr, port, buf, len);
    else
        t2s_fmt_endpoint(AF_INET, &ip_2_ip4(app)->addr, port, buf, len);
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
            relay_send(a, &q->dst, q->port, q->p);
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

    if (relay_open(a, &a->s.up->bnd) < 0) {
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
    relay_close(a);
    for (unsigned i = 0; i < a->qn; i++)
        pbuf_free(a->q[i].p);
    a->qn = 0;
    dst_release(a);
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
    struct t2s_s5_addr any;
    unsigned h;

    a = t2s_mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    /* DST.ADDR/PORT all zero: we do not know our relay-side address. */
    memset(&any, 0, sizeof(any));
    any.atyp = c->proxy.addr.ss_family == AF_INET6 ? T2S_S5_ATYP_IPV6
                                                   : T2S_S5_ATYP_IPV4;
    if (t2s_session_start(&a->s, as->ctx, &assoc_ops, &as->live,
                          T2S_S5_CMD_UDP_ASSOCIATE, &any,
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
        /* out of memory or descriptors (EMFILE) */
        T2S_STAT_INC(&ctx->stats, err_resource);
        T2S_STAT_INC(&ctx->stats, udp_dropped);
        describe_app(&f->app, f->app_port, who, sizeof(who));
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "no UDP association for %s: %s", who, strerror(errno));
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
        relay_send(a, &f->dst, f->dst_port, p);
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
    as->buf = t2s_mem_alloc(ASSOC_BUF_SIZE);
    return as->table != NULL && as->buf != NULL ? 0 : -1;
}

void
t2s_udp_assoc_shutdown(struct t2s_udp_assocs *as)
{
    if (as->ctx != NULL)
        t2s_session_close_all(&as->live, T2S_SESSION_GRACEFUL, "shutting down");
    free(as->table);
    as->table = NULL;
    t2s_mem_free(as->buf);
    as->buf = NULL;
}
