/*
 * The DNS gateway (dns_gw.h): a connected UDP socket per flow, straight to
 * --dns-gateway. A flow ends only through t2s_session_close() (idle
 * timeout, a socket error, shutdown); its memory goes in the reaper.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mem.h"
#include "session/session.h"
#include "udp/dns_gw.h"
#include "upstream/upstream.h"

#define DNS_GW_MAX 256
#define DNS_GW_BUF 65536 /* the largest UDP payload */
#define DNS_HDR_LEN 12

struct dns_gw_flow {
    struct t2s_session s; /* first: the session life cycle */
    struct t2s_dns_gw *g;
    struct t2s_udp_flow f;
};

static struct dns_gw_flow *
flow_of(struct t2s_session *s)
{
    return (struct dns_gw_flow *)s;
}

static void
flow_release(struct t2s_session *s, int how, const char *why)
{
    (void)how;
    (void)why;
    flow_of(s)->g->count--;
}

/* Every reply waiting on the socket goes to the app. */
static void
flow_on_io(struct t2s_session *s, int revents)
{
    struct dns_gw_flow *fl = flow_of(s);
    struct t2s_dns_gw *g = fl->g;

    (void)revents;
    for (;;) {
        ssize_t n = recv(s->fd, g->buf, DNS_GW_BUF, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            /* ICMP unreachable from the gateway, and the like */
            t2s_log_limited(&s->ctx->err_limit, T2S_LOG_WARN, "DNS gateway: %s",
                            strerror(errno));
            t2s_session_close(s, T2S_SESSION_GRACEFUL, NULL);
            return;
        }
        if (n < DNS_HDR_LEN)
            continue; /* not a DNS message */
        t2s_session_touch(s);
        t2s_udp_tx_send(g->tx, &fl->f.app, fl->f.app_port, &fl->f.dst,
                        fl->f.dst_port, g->buf, (size_t)n);
    }
}

static void
flow_on_timer(struct t2s_session *s)
{
    if (t2s_session_idle_expired(s, s->ctx->cfg->dns_timeout_ms / 1000.0))
        t2s_session_close(s, T2S_SESSION_GRACEFUL, NULL);
}

static const struct t2s_session_ops flow_ops = {
    .on_io = flow_on_io,
    .on_timer = flow_on_timer,
    .release = flow_release,
};

static int
same_flow(const struct t2s_udp_flow *a, const struct t2s_udp_flow *b)
{
    return a->app_port == b->app_port && a->dst_port == b->dst_port &&
           ip_addr_cmp(&a->app, &b->app) && ip_addr_cmp(&a->dst, &b->dst);
}

static struct dns_gw_flow *
flow_find(struct t2s_dns_gw *g, const struct t2s_udp_flow *f)
{
    for (struct t2s_list *n = g->live.next; n != &g->live; n = n->next) {
        struct dns_gw_flow *fl = flow_of(t2s_session_of(n));

        if (same_flow(&fl->f, f))
            return fl;
    }
    return NULL;
}

/*
 * At the cap, the flow idle the longest makes room: resolvers use a new
 * port for each query, so most flows are done once answered (badvpn's
 * --dnsgw dropped its least recently used connection the same way).
 */
static void
evict_oldest(struct t2s_dns_gw *g)
{
    struct t2s_session *oldest = NULL;

    for (struct t2s_list *n = g->live.next; n != &g->live; n = n->next) {
        struct t2s_session *s = t2s_session_of(n);

        if (oldest == NULL || s->last_active < oldest->last_active)
            oldest = s;
    }
    if (oldest != NULL)
        t2s_session_close(oldest, T2S_SESSION_GRACEFUL, NULL);
}

/* A UDP socket connected to the gateway, prepared; -1 with errno set. */
static int
gateway_socket(struct t2s_dns_gw *g)
{
    const struct t2s_config *c = g->ctx->cfg;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, e;

    memset(&ss, 0, sizeof(ss));
    if (c->gw_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(c->gw_port);
        memcpy(&sin->sin_addr, c->gw_addr, 4);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(c->gw_port);
        memcpy(&sin6->sin6_addr, c->gw_addr, 16);
        len = sizeof(*sin6);
    }
    fd = socket(c->gw_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (t2s_upstream_prepare(fd, c, &g->ctx->stats) == 0 &&
        connect(fd, (struct sockaddr *)&ss, len) == 0)
        return fd;
    e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* A new flow for f, or NULL (logged; the caller counts the drop). */
static struct dns_gw_flow *
flow_new(struct t2s_dns_gw *g, const struct t2s_udp_flow *f)
{
    struct t2s_ctx *ctx = g->ctx;
    struct dns_gw_flow *fl;
    int fd;

    if (g->count >= DNS_GW_MAX)
        evict_oldest(g);
    if (!t2s_mem_admit()) {
        T2S_STAT_INC(&ctx->stats, mem_refused);
        return NULL;
    }
    if (g->buf == NULL && (g->buf = t2s_mem_alloc(DNS_GW_BUF)) == NULL) {
        T2S_STAT_INC(&ctx->stats, err_resource);
        return NULL;
    }
    fl = t2s_mem_calloc(1, sizeof(*fl));
    fd = fl != NULL ? gateway_socket(g) : -1;
    if (fd < 0) {
        int e = fl != NULL ? errno : ENOMEM;

        if (t2s_upstream_is_shortage(e))
            T2S_STAT_INC(&ctx->stats, err_resource);
        t2s_log_limited(&ctx->err_limit, T2S_LOG_WARN,
                        "DNS gateway: dropping a query: %s", strerror(e));
        t2s_mem_free(fl);
        return NULL;
    }
    fl->g = g;
    fl->f = *f;
    t2s_session_adopt(&fl->s, ctx, &flow_ops, &g->live, fd, EV_READ,
                      ctx->cfg->dns_timeout_ms / 1000.0);
    g->count++;
    return fl;
}

/* A query: a header, QR clear (badvpn's --dnsgw took nothing else). */
static int
is_query(struct pbuf *p)
{
    uint8_t flags;

    return p->tot_len >= DNS_HDR_LEN &&
           pbuf_copy_partial(p, &flags, 1, 2) == 1 && !(flags & 0x80);
}

void
t2s_dns_gw_query(struct t2s_dns_gw *g, const struct t2s_udp_flow *f,
                 struct pbuf *p)
{
    struct dns_gw_flow *fl;
    u16_t len = p->tot_len;

    T2S_STAT_INC(&g->ctx->stats, dns_gw);
    fl = is_query(p) ? flow_find(g, f) : NULL;
    if (fl == NULL && is_query(p))
        fl = flow_new(g, f);
    if (fl == NULL) {
        T2S_STAT_INC(&g->ctx->stats, dns_gw_failed);
        pbuf_free(p);
        return;
    }
    pbuf_copy_partial(p, g->buf, len, 0);
    pbuf_free(p);
    t2s_session_touch(&fl->s);
    if (send(fl->s.fd, g->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
        (ssize_t)len)
        T2S_STAT_INC(&g->ctx->stats, dns_gw_failed);
}

void
t2s_dns_gw_init(struct t2s_dns_gw *g, struct t2s_ctx *ctx,
                struct t2s_udp_tx *tx)
{
    g->ctx = ctx;
    g->tx = tx;
    t2s_list_init(&g->live);
    g->count = 0;
    g->buf = NULL;
}

int
t2s_dns_gw_enabled(const struct t2s_dns_gw *g)
{
    return g->ctx != NULL && g->ctx->cfg->gw_family != 0;
}

void
t2s_dns_gw_shutdown(struct t2s_dns_gw *g)
{
    if (g->ctx == NULL)
        return; /* never set up */
    t2s_session_close_all(&g->live, T2S_SESSION_GRACEFUL, NULL);
    t2s_mem_free(g->buf);
    g->buf = NULL;
}
