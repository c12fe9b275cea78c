/*
 * UDP ASSOCIATE sessions. Life cycle: created by the first datagram of an
 * app socket (queued while the handshake runs), READY once the proxy named
 * its relay, closed by assoc_close() only, freed after the loop iteration.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dns/dns_tcp.h"
#include "dns/fakeip.h"
#include "core/mem.h"
#include "upstream/relay_addr.h"
#include "upstream/target.h"
#include "udp/udp_assoc.h"
#include "upstream/upstream.h"

/* Datagrams held per association while the handshake runs. */
#define ASSOC_QUEUE_MAX 32
/* Datagrams read from the relay per wakeup. */
#define RELAY_READ_BUDGET 64
/* Socket buffers toward the relay: room for bursts at a few 100 Mbit/s. */
#define RELAY_SOCKBUF (4 * 1024 * 1024)
/* Destinations remembered, most recent first, to tell which one a reply
 * that carries a real address comes from: fake names (each holding a
 * reference on its fake-ip entry) and real addresses. */
#define ASSOC_FAKES 8
#define ASSOC_REALS 8
/* pbuf pieces sent in one sendmsg (plus the SOCKS header); a datagram of
 * more pieces (fragments reassembled by lwIP) is copied into one. */
#define ASSOC_IOV_MAX 32
/* Idle timeout of an association that never saw a reply: like the
 * kernel's conntrack (nf_conntrack_udp_timeout 30 s, 120 s once replied). */
#define ASSOC_UNREPLIED_S 30.0

struct pending {
    struct pbuf *p;
    ip_addr_t dst;
    uint16_t port;
};

struct fake_dst {
    long entry;     /* fake-ip entry: one reference held */
    uint16_t port;  /* destination port */
    uint8_t bound;  /* a reply of this name came from addr */
    ip_addr_t addr; /* what the proxy resolved the name to */
};

struct real_dst {
    ip_addr_t addr;
    uint16_t port;
};

struct t2s_udp_assoc {
    struct t2s_instance *t;
    uint64_t id;
    struct t2s_udp_assoc *hnext; /* hash chain */
    struct t2s_udp_assoc *prev;  /* registry */
    struct t2s_udp_assoc *next;
    ip_addr_t app;
    uint16_t app_port;
    int ctl_fd; /* control TCP connection */
    int udp_fd; /* to the relay, -1 until READY */
    ev_io ctl_io;
    ev_io udp_io;
    ev_timer timer;
    ev_tstamp last_active;
    struct t2s_upstream *up; /* handshake; NULL once READY */
    struct pending q[ASSOC_QUEUE_MAX];
    unsigned qn;
    struct fake_dst fakes[ASSOC_FAKES]; /* newest first */
    unsigned nfakes;
    struct real_dst reals[ASSOC_REALS]; /* newest first; fake-ip mode only */
    unsigned nreals;
    unsigned ready : 1;
    unsigned replied : 1; /* a datagram came back */
    unsigned closed : 1;
    unsigned dns_only : 1; /* every datagram so far went to port 53 */
};

static void assoc_close(struct t2s_udp_assoc *a, const char *why);

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
    return h & (T2S_UDP_TABLE_SIZE - 1);
}

static struct t2s_udp_assoc *
find(struct t2s_instance *t, const ip_addr_t *ip, uint16_t port)
{
    struct t2s_udp_assoc *a = t->udp_table[hash_flow(ip, port)];

    for (; a != NULL; a = a->hnext)
        if (a->app_port == port && ip_addr_cmp(&a->app, ip))
            return a;
    return NULL;
}

static void
unlink_assoc(struct t2s_instance *t, struct t2s_udp_assoc *a)
{
    struct t2s_udp_assoc **pp = &t->udp_table[hash_flow(&a->app, a->app_port)];

    while (*pp != NULL && *pp != a)
        pp = &(*pp)->hnext;
    if (*pp == a)
        *pp = a->hnext;
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        t->udp_list = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    t->udp_count--;
    T2S_STAT_DEC(&t->ctx.stats, udp_active);
}

static void
describe_app(const ip_addr_t *app, uint16_t port, char *buf, size_t len)
{
    if (IP_IS_V6(app))
        t2s_fmt_endpoint(AF_INET6, ip_2_ip6(app)->addr, port, buf, len);
    else
        t2s_fmt_endpoint(AF_INET, &ip_2_ip4(app)->addr, port, buf, len);
}

static void
describe(const struct t2s_udp_assoc *a, char *buf, size_t len)
{
    describe_app(&a->app, a->app_port, buf, len);
}

static double
timeout_s(const struct t2s_udp_assoc *a)
{
    const struct t2s_config *c = &a->t->cfg;
    double idle = c->udp_timeout_ms / 1000.0;

    if (a->dns_only)
        return c->dns_timeout_ms / 1000.0;
    return a->replied || idle < ASSOC_UNREPLIED_S ? idle : ASSOC_UNREPLIED_S;
}

static void
touch(struct t2s_udp_assoc *a)
{
    a->last_active = ev_now(a->t->ctx.loop);
}

/* ---- app -> relay ---- */

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
    struct fake_dst d = {.entry = entry, .port = port};
    unsigned i;

    for (i = 0; i < a->nfakes; i++)
        if (a->fakes[i].entry == entry && a->fakes[i].port == port)
            break;
    if (i < a->nfakes) {
        d = a->fakes[i]; /* known: keep its reference and binding */
    } else {
        if (a->nfakes == ASSOC_FAKES)
            t2s_fakeip_unref(a->t->fakeip, a->fakes[--a->nfakes].entry);
        t2s_fakeip_ref(a->t->fakeip, entry);
        i = a->nfakes++;
    }
    memmove(&a->fakes[1], &a->fakes[0], i * sizeof(a->fakes[0]));
    a->fakes[0] = d;
}

static void
remember_real(struct t2s_udp_assoc *a, const ip_addr_t *ip, uint16_t port)
{
    struct real_dst d = {.port = port};
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
send_to_relay(struct t2s_udp_assoc *a, const ip_addr_t *dst, uint16_t port,
              struct pbuf *p)
{
    struct t2s_instance *t = a->t;
    uint8_t hdr[T2S_S5_UDP_HDR_MAX];
    struct iovec iov[ASSOC_IOV_MAX + 1];
    struct msghdr msg;
    struct t2s_s5_addr target;
    size_t hlen;
    long entry;
    int n = 1;

    entry = t2s_target_from_ip(t->fakeip, dst, port, &target);
    if (entry == -2) {
        T2S_STAT_INC(&t->ctx.stats, udp_dropped); /* stale fake address */
        return;
    }
    if (entry >= 0)
        remember_fake(a, entry, port);
    else if (t->fakeip != NULL)
        remember_real(a, dst, port);
    hlen = t2s_s5_encode_udp_header(hdr, sizeof(hdr), &target);
    iov[0].iov_base = hdr;
    iov[0].iov_len = hlen;
    if (pbuf_clen(p) <= ASSOC_IOV_MAX) {
        for (struct pbuf *q = p; q != NULL; q = q->next) {
            iov[n].iov_base = q->payload;
            iov[n].iov_len = q->len;
            n++;
        }
    } else {
        /* Never send a truncated datagram: one copy, the whole of it. */
        iov[1].iov_base = t->scratch;
        iov[1].iov_len = pbuf_copy_partial(p, t->scratch, p->tot_len, 0);
        n = 2;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    if (sendmsg(a->udp_fd, &msg, MSG_DONTWAIT) !=
        (ssize_t)(hlen + p->tot_len)) {
        T2S_STAT_INC(&t->ctx.stats, udp_dropped);
        return;
    }
    T2S_STAT_INC(&t->ctx.stats, udp_pkts_up);
    T2S_STAT_ADD(&t->ctx.stats, udp_bytes_up, p->tot_len);
}

/* ---- relay -> app ---- */

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
        struct fake_dst *d = &a->fakes[i];

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

/* The source address the app sees for a reply from the proxy's `from`:
 * 0, -1 for a reply with no address the app can be given, -2 for one
 * that cannot be attributed. */
static int
reply_source(struct t2s_udp_assoc *a, const struct t2s_s5_addr *from,
             ip_addr_t *src)
{
    int v6 = IP_IS_V6(&a->app);
    struct t2s_s5_addr name = {.atyp = T2S_S5_ATYP_DOMAIN};
    const char *s;
    ip_addr_t ip;
    size_t n;
    int i;

    if (a->t->fakeip == NULL || from->atyp == T2S_S5_ATYP_DOMAIN ||
        a->nfakes == 0)
        return t2s_target_to_ip(a->t->fakeip, from, v6, src);
    /* fake-ip: the proxy resolved the name and answers with the real
     * address; the app expects the fake one it sent to. */
    s5_to_ip(from, &ip);
    i = fake_for_reply(a, &ip, from->port);
    if (i == -2)
        return -2;
    if (i < 0)
        return t2s_target_to_ip(a->t->fakeip, from, v6, src);
    s = t2s_fakeip_name(a->t->fakeip, a->fakes[i].entry, &n);
    if (s == NULL)
        return -1;
    name.name_len = (uint8_t)n;
    memcpy(name.u.name, s, n);
    return t2s_target_to_ip(a->t->fakeip, &name, v6, src);
}

static void
on_relay_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    struct t2s_instance *t = a->t;
    struct t2s_s5_addr from;
    ip_addr_t src;
    size_t hlen;
    uint8_t frag;
    ssize_t n;
    int rc;

    (void)loop;
    (void)revents;
    for (int i = 0; i < RELAY_READ_BUDGET; i++) {
        n = recv(a->udp_fd, t->scratch, T2S_SCRATCH_SIZE, MSG_DONTWAIT);
        if (n < 0)
            return; /* EAGAIN, or an ICMP error we ignore */
        if (t2s_s5_decode_udp_header(t->scratch, (size_t)n, &frag, &from,
                                     &hlen) != T2S_S5_OK) {
            T2S_STAT_INC(&t->ctx.stats, udp_bad);
            continue;
        }
        if (frag != 0) {
            T2S_STAT_INC(&t->ctx.stats, udp_frag_dropped);
            continue;
        }
        rc = reply_source(a, &from, &src);
        if (rc < 0) {
            if (rc == -2)
                T2S_STAT_INC(&t->ctx.stats, udp_ambiguous);
            else
                T2S_STAT_INC(&t->ctx.stats, udp_bad);
            continue;
        }
        a->replied = 1;
        touch(a);
        T2S_STAT_INC(&t->ctx.stats, udp_pkts_down);
        T2S_STAT_ADD(&t->ctx.stats, udp_bytes_down, (size_t)n - hlen);
        t2s_udp_to_app(t, &a->app, a->app_port, &src, from.port,
                       t->scratch + hlen, (size_t)n - hlen);
    }
}

/* ---- control connection and timers ---- */

static void
on_ctl_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    uint8_t buf[256];
    ssize_t n;

    (void)loop;
    (void)revents;
    n = recv(a->ctl_fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        assoc_close(a, "control connection closed by the proxy");
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    double left;

    (void)revents;
    if (!a->ready) {
        T2S_STAT_INC(&a->t->ctx.stats, err_udp_assoc);
        T2S_STAT_ADD(&a->t->ctx.stats, udp_dropped, a->qn);
        assoc_close(a, "UDP ASSOCIATE timed out");
        return;
    }
    left = a->last_active + timeout_s(a) - ev_now(loop);
    if (left > 0.001) {
        ev_timer_set(w, left, 0.);
        ev_timer_start(loop, w);
        return;
    }
    assoc_close(a, "idle timeout");
}

/* ---- handshake ---- */

static void
flush_queue(struct t2s_udp_assoc *a)
{
    for (unsigned i = 0; i < a->qn; i++) {
        struct pending *q = &a->q[i];

        if (a->ready)
            send_to_relay(a, &q->dst, q->port, q->p);
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
    struct t2s_udp_flow f;

    for (unsigned i = 0; i < a->qn; i++) {
        struct pending *q = &a->q[i];

        ip_addr_copy(f.app, a->app);
        f.app_port = a->app_port;
        ip_addr_copy(f.dst, q->dst);
        f.dst_port = q->port;
        if (T2S_UDP_IS_DNS(&f)) {
            t2s_dns_tcp_query(a->t, &f, q->p);
        } else {
            if (unsupported)
                T2S_STAT_INC(&a->t->ctx.stats, udp_unsupported);
            else
                T2S_STAT_INC(&a->t->ctx.stats, udp_dropped);
            pbuf_free(q->p);
        }
        q->p = NULL;
    }
    a->qn = 0;
}

static void
handshake_failed(struct t2s_udp_assoc *a)
{
    struct t2s_instance *t = a->t;
    struct t2s_upstream *up = a->up;
    char why[256];
    int unsupported;

    T2S_STAT_INC(&t->ctx.stats, err_udp_assoc);
    t2s_upstream_describe(up, why, sizeof(why));
    /* Only "command not supported" says the proxy has no UDP: anything
     * else fails this association alone. */
    unsupported = up->fail_kind == T2S_UP_FAIL_REPLY && up->rep == 7;
    if (unsupported) {
        if (!t->udp_unsupported)
            t2s_warn("the proxy does not support UDP ASSOCIATE (%s): DNS "
                     "goes over TCP, other UDP is dropped",
                     why);
        t->udp_unsupported = 1;
        t->udp_unsupported_at = ev_now(t->ctx.loop);
    } else {
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN, "UDP association: %s",
                        why);
    }
    if (unsupported || up->fail_kind == T2S_UP_FAIL_PROTO) {
        divert_queue(a, unsupported);
    } else {
        T2S_STAT_ADD(&t->ctx.stats, udp_dropped, a->qn);
    }
    assoc_close(a, why);
}

static int
open_relay(struct t2s_udp_assoc *a)
{
    struct t2s_instance *t = a->t;
    struct sockaddr_storage ss;
    socklen_t len;
    int sz = RELAY_SOCKBUF;

    if (t2s_relay_addr_pick(&a->up->bnd, &t->cfg.proxy.addr,
                            t->cfg.proxy.addr_len, &ss, &len) < 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    a->udp_fd =
        socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->udp_fd < 0)
        return -1;
    setsockopt(a->udp_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(a->udp_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    if (t2s_upstream_policy(a->udp_fd, t->cfg.fwmark, t->cfg.bind_iface) < 0 ||
        connect(a->udp_fd, (struct sockaddr *)&ss, len) < 0)
        return -1;
    return 0;
}

static void
handshake_done(struct t2s_udp_assoc *a)
{
    struct t2s_instance *t = a->t;
    char why[128];

    if (open_relay(a) < 0) {
        snprintf(why, sizeof(why), "cannot use the UDP relay: %s",
                 strerror(errno));
        t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN, "UDP association: %s",
                        why);
        T2S_STAT_INC(&t->ctx.stats, err_udp_assoc);
        T2S_STAT_ADD(&t->ctx.stats, udp_dropped, a->qn);
        assoc_close(a, why);
        return;
    }
    t2s_upstream_free(a->up);
    a->up = NULL;
    a->ready = 1;
    t->udp_unsupported = 0;
    ev_io_stop(t->ctx.loop, &a->ctl_io);
    ev_io_set(&a->ctl_io, a->ctl_fd, EV_READ);
    ev_io_start(t->ctx.loop, &a->ctl_io);
    ev_io_init(&a->udp_io, on_relay_readable, a->udp_fd, EV_READ);
    a->udp_io.data = a;
    ev_io_start(t->ctx.loop, &a->udp_io);
    touch(a);
    ev_timer_stop(t->ctx.loop, &a->timer);
    ev_timer_set(&a->timer, timeout_s(a), 0.);
    ev_timer_start(t->ctx.loop, &a->timer);
    flush_queue(a);
}

static void
on_ctl_handshake(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_udp_assoc *a = w->data;
    int want = 0, rc;

    (void)revents;
    rc = t2s_upstream_io(a->up, a->ctl_fd, &want);
    if (rc == T2S_UP_FAIL) {
        handshake_failed(a);
    } else if (rc == T2S_UP_DONE) {
        w->cb = on_ctl_readable;
        handshake_done(a);
    } else {
        ev_io_stop(loop, w);
        ev_io_set(w, a->ctl_fd, want);
        ev_io_start(loop, w);
    }
}

/* ---- creation and the one close path ---- */

static struct t2s_udp_assoc *
assoc_new(struct t2s_instance *t, const struct t2s_udp_flow *f)
{
    struct t2s_udp_assoc *a;
    struct t2s_s5_addr any;
    unsigned h;
    int want;

    a = t2s_mem_calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->up = t2s_mem_alloc(sizeof(*a->up));
    a->ctl_fd = a->up != NULL
                    ? t2s_upstream_socket(&t->cfg.proxy, t->cfg.fwmark,
                                          t->cfg.bind_iface)
                    : -1;
    if (a->ctl_fd < 0) {
        t2s_upstream_free(a->up);
        t2s_mem_free(a);
        return NULL;
    }
    a->t = t;
    a->id = ++t->ctx.next_id;
    a->udp_fd = -1;
    a->dns_only = 1;
    ip_addr_copy(a->app, f->app);
    a->app_port = f->app_port;
    /* DST.ADDR/PORT all zero: we do not know our relay-side address. */
    memset(&any, 0, sizeof(any));
    any.atyp = t->cfg.proxy.addr.ss_family == AF_INET6 ? T2S_S5_ATYP_IPV6
                                                       : T2S_S5_ATYP_IPV4;
    t2s_upstream_init(a->up, &t->cfg.proxy, T2S_S5_CMD_UDP_ASSOCIATE, &any,
                      t->cfg.socks_pipeline, &want);
    ev_io_init(&a->ctl_io, on_ctl_handshake, a->ctl_fd, want);
    a->ctl_io.data = a;
    ev_io_start(t->ctx.loop, &a->ctl_io);
    ev_timer_init(&a->timer, on_timer, t->cfg.connect_timeout_ms / 1000.0, 0.);
    a->timer.data = a;
    ev_timer_start(t->ctx.loop, &a->timer);
    h = hash_flow(&a->app, a->app_port);
    a->hnext = t->udp_table[h];
    t->udp_table[h] = a;
    a->next = t->udp_list;
    if (a->next != NULL)
        a->next->prev = a;
    t->udp_list = a;
    t->udp_count++;
    T2S_STAT_INC(&t->ctx.stats, udp_active);
    T2S_STAT_INC(&t->ctx.stats, udp_total);
    return a;
}

static void
assoc_close(struct t2s_udp_assoc *a, const char *why)
{
    struct t2s_instance *t = a->t;

    if (a->closed)
        return;
    a->closed = 1;
    if (t2s_log_threshold >= T2S_LOG_DEBUG) {
        char who[T2S_ENDPOINT_STRLEN];

        describe(a, who, sizeof(who));
        t2s_debug("udp #%llu %s closed: %s", (unsigned long long)a->id, who,
                  why);
    }
    ev_io_stop(t->ctx.loop, &a->ctl_io);
    ev_io_stop(t->ctx.loop, &a->udp_io);
    ev_timer_stop(t->ctx.loop, &a->timer);
    close(a->ctl_fd);
    if (a->udp_fd >= 0)
        close(a->udp_fd);
    for (unsigned i = 0; i < a->qn; i++)
        pbuf_free(a->q[i].p);
    a->qn = 0;
    for (unsigned i = 0; i < a->nfakes; i++)
        t2s_fakeip_unref(t->fakeip, a->fakes[i].entry);
    a->nfakes = 0;
    t2s_upstream_free(a->up);
    a->up = NULL;
    unlink_assoc(t, a);
    a->next = t->udp_dead;
    t->udp_dead = a;
}

void
t2s_udp_assoc_input(struct t2s_instance *t, const struct t2s_udp_flow *f,
                    struct pbuf *p)
{
    struct t2s_udp_assoc *a = find(t, &f->app, f->app_port);

    if (a == NULL) {
        if (t->udp_count >= t->max_udp) {
            T2S_STAT_INC(&t->ctx.stats, udp_dropped);
            t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                            "UDP association limit %u reached: dropping",
                            t->max_udp);
            pbuf_free(p);
            return;
        }
        if (!t2s_mem_admit()) {
            T2S_STAT_INC(&t->ctx.stats, mem_refused);
            t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                            "no new UDP association: memory budget of %zu "
                            "bytes nearly spent",
                            t2s_mem_limit());
            pbuf_free(p);
            return;
        }
        a = assoc_new(t, f);
        if (a == NULL) {
            char who[T2S_ENDPOINT_STRLEN];

            /* out of memory or descriptors (EMFILE): the datagram is
             * lost, the next one tries again */
            T2S_STAT_INC(&t->ctx.stats, err_resource);
            T2S_STAT_INC(&t->ctx.stats, udp_dropped);
            describe_app(&f->app, f->app_port, who, sizeof(who));
            t2s_log_limited(&t->ctx.err_limit, T2S_LOG_WARN,
                            "no UDP association for %s: %s", who,
                            strerror(errno));
            pbuf_free(p);
            return;
        }
        if (t2s_log_threshold >= T2S_LOG_DEBUG) {
            char who[T2S_ENDPOINT_STRLEN];

            describe(a, who, sizeof(who));
            t2s_debug("udp #%llu %s: new association",
                      (unsigned long long)a->id, who);
        }
    }
    if (!T2S_UDP_IS_DNS(f))
        a->dns_only = 0;
    touch(a);
    if (a->ready) {
        send_to_relay(a, &f->dst, f->dst_port, p);
        pbuf_free(p);
        return;
    }
    if (a->qn == ASSOC_QUEUE_MAX) {
        T2S_STAT_INC(&t->ctx.stats, udp_dropped);
        pbuf_free(p);
        return;
    }
    a->q[a->qn].p = p;
    ip_addr_copy(a->q[a->qn].dst, f->dst);
    a->q[a->qn].port = f->dst_port;
    a->qn++;
}

void
t2s_udp_assoc_close_all(struct t2s_instance *t)
{
    while (t->udp_list != NULL)
        assoc_close(t->udp_list, "shutting down");
}

void
t2s_udp_assoc_reap(struct t2s_instance *t)
{
    while (t->udp_dead != NULL) {
        struct t2s_udp_assoc *a = t->udp_dead;

        t->udp_dead = a->next;
        t2s_mem_free(a);
    }
}
