/* Selection among several proxies, down marking, probes (proxy_pool.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/socks5.h"
#include "core/log.h"
#include "upstream/proxy_pool.h"
#include "upstream/upstream.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static const struct t2s_proxy *
slot_proxy(const struct t2s_proxy_slot *s)
{
    return t2s_config_proxy(s->pool->cfg, s->index);
}

static void
slot_url(const struct t2s_proxy_slot *s, char *out, size_t len)
{
    t2s_proxy_url_format(slot_proxy(s), out, len);
}

static void
probe_close(struct t2s_proxy_slot *s)
{
    if (s->probe_fd < 0)
        return;
    ev_io_stop(s->pool->loop, &s->probe_io);
    close(s->probe_fd);
    s->probe_fd = -1;
}

/* The next probe in probe_interval. */
static void
probe_later(struct t2s_proxy_slot *s)
{
    probe_close(s);
    ev_timer_stop(s->pool->loop, &s->probe_timer);
    ev_timer_set(&s->probe_timer, s->pool->probe_interval, 0.);
    ev_timer_start(s->pool->loop, &s->probe_timer);
}

static void
mark_up(struct t2s_proxy_slot *s, const char *how)
{
    char url[300];

    probe_close(s);
    ev_timer_stop(s->pool->loop, &s->probe_timer);
    if (LOAD(s->up))
        return;
    STORE(s->up, 1);
    slot_url(s, url, sizeof(url));
    t2s_info("proxy %s is up again (%s)", url, how);
}

/*
 * Once connected: a SOCKS5 proxy gets the greeting (its method reply says
 * it is a SOCKS5 server); SOCKS4/4a and HTTP proxies have no request
 * without a destination, so an accepted connection is their answer. Any
 * failure waits for the next probe.
 */
static void
probe_send(struct t2s_proxy_slot *s)
{
    uint8_t g[T2S_SOCKS5_GREETING_MAX];
    size_t n;
    int e = 0;
    socklen_t elen = sizeof(e);

    if (t2s_proxy_url_protocol(slot_proxy(s)->scheme) != T2S_PROXY_SOCKS5) {
        if (getsockopt(s->probe_fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 &&
            e == 0)
            mark_up(s, "probe connected");
        else
            probe_later(s);
        return;
    }
    n = t2s_socks5_encode_greeting(g, sizeof(g), slot_proxy(s)->user_len > 0);
    if (send(s->probe_fd, g, n, MSG_NOSIGNAL) != (ssize_t)n) {
        probe_later(s);
        return;
    }
    ev_io_stop(s->pool->loop, &s->probe_io);
    ev_io_set(&s->probe_io, s->probe_fd, EV_READ);
    ev_io_start(s->pool->loop, &s->probe_io);
}

/* The method reply: "05 xx" is a SOCKS5 server answering. */
static void
probe_recv(struct t2s_proxy_slot *s)
{
    ssize_t n = recv(s->probe_fd, s->probe_in + s->probe_got,
                     sizeof(s->probe_in) - s->probe_got, 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || s->probe_in[0] != 5) {
        probe_later(s);
        return;
    }
    s->probe_got = (uint8_t)(s->probe_got + n);
    if (s->probe_got == sizeof(s->probe_in))
        mark_up(s, "probe answered");
}

static void
on_probe_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_proxy_slot *s = w->data;

    (void)loop;
    if (revents & EV_WRITE)
        probe_send(s);
    else
        probe_recv(s);
}

/* Timer: start a probe, or give up on the one running (its deadline). */
static void
on_probe_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct t2s_proxy_slot *s = w->data;

    (void)revents;
    if (s->probe_fd >= 0 || LOAD(s->up)) {
        probe_later(s);
        return;
    }
    s->probe_fd =
        t2s_upstream_socket(s->pool->cfg, slot_proxy(s), s->pool->stats);
    if (s->probe_fd < 0) {
        probe_later(s);
        return;
    }
    s->probe_got = 0;
    ev_io_set(&s->probe_io, s->probe_fd, EV_WRITE);
    ev_io_start(loop, &s->probe_io);
    ev_timer_set(&s->probe_timer, s->pool->probe_interval, 0.);
    ev_timer_start(loop, &s->probe_timer);
}

void
t2s_proxy_pool_init(struct t2s_proxy_pool *pool, struct ev_loop *loop,
                    const struct t2s_config *cfg, struct t2s_stats *st)
{
    memset(pool, 0, sizeof(*pool));
    pool->loop = loop;
    pool->cfg = cfg;
    pool->stats = st;
    pool->n = cfg->proxy_count > 0 ? cfg->proxy_count : 1;
    pool->probe_interval = T2S_PROXY_POOL_PROBE_S;
    for (unsigned i = 0; i < pool->n; i++) {
        struct t2s_proxy_slot *s = &pool->slot[i];

        s->pool = pool;
        s->index = i;
        s->up = 1;
        s->probe_fd = -1;
        ev_init(&s->probe_io, on_probe_io);
        s->probe_io.data = s;
        ev_init(&s->probe_timer, on_probe_timer);
        s->probe_timer.data = s;
    }
}

void
t2s_proxy_pool_stop(struct t2s_proxy_pool *pool)
{
    for (unsigned i = 0; i < pool->n; i++) {
        probe_close(&pool->slot[i]);
        ev_timer_stop(pool->loop, &pool->slot[i].probe_timer);
    }
}

/* Every proxy down: the one that failed longest ago. */
static unsigned
least_recently_failed(const struct t2s_proxy_pool *pool)
{
    unsigned best = 0;

    for (unsigned i = 1; i < pool->n; i++)
        if (pool->slot[i].failed_at < pool->slot[best].failed_at)
            best = i;
    return best;
}

unsigned
t2s_proxy_pool_pick(struct t2s_proxy_pool *pool)
{
    unsigned start =
        pool->cfg->proxy_policy == T2S_PROXY_ROUND_ROBIN ? pool->next : 0;

    for (unsigned k = 0; k < pool->n; k++) {
        unsigned i = (start + k) % pool->n;

        if (pool->slot[i].up) {
            pool->next = (i + 1) % pool->n;
            return i;
        }
    }
    return least_recently_failed(pool);
}

void
t2s_proxy_pool_started(struct t2s_proxy_pool *pool, unsigned i)
{
    STORE(pool->slot[i].sessions, pool->slot[i].sessions + 1);
    STORE(pool->slot[i].active, pool->slot[i].active + 1);
}

void
t2s_proxy_pool_ended(struct t2s_proxy_pool *pool, unsigned i)
{
    if (pool->slot[i].active > 0)
        STORE(pool->slot[i].active, pool->slot[i].active - 1);
}

void
t2s_proxy_pool_failed(struct t2s_proxy_pool *pool, unsigned i, const char *why)
{
    struct t2s_proxy_slot *s = &pool->slot[i];
    char url[300];

    STORE(s->failures, s->failures + 1);
    s->failed_at = ev_now(pool->loop);
    /* one proxy: nothing to choose, so no down state and no probes */
    if (!LOAD(s->up) || pool->n == 1)
        return;
    STORE(s->up, 0);
    slot_url(s, url, sizeof(url));
    t2s_warn("proxy %s is down (%s); new sessions use the others, probing "
             "it every %g s",
             url, why, pool->probe_interval);
    probe_later(s);
}

void
t2s_proxy_pool_ok(struct t2s_proxy_pool *pool, unsigned i)
{
    mark_up(&pool->slot[i], "a session got through");
}

int
t2s_proxy_pool_read(const struct t2s_proxy_pool *pool, unsigned i,
                    struct t2s_proxy_stats *out)
{
    const struct t2s_proxy_slot *s;

    if (i >= pool->n)
        return -1;
    s = &pool->slot[i];
    memset(out, 0, sizeof(*out));
    /* the config does not change while the instance exists */
    slot_url(s, out->url, sizeof(out->url));
    out->up = LOAD(s->up) != 0;
    out->sessions = LOAD(s->sessions);
    out->active = LOAD(s->active);
    out->failures = LOAD(s->failures);
    return 0;
}
