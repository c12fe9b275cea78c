/* The embedding API: instance setup, the loop, stop and counters. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <netdb.h>
#include <unistd.h>

#include "core/fault.h"
#include "api/instance.h"
#include "api/stats_socket.h"
#include "core/mem.h"
#include "udp/dns_local.h"
#include "upstream/fakeip.h"
#include "lwip/pbuf.h"
#include "lwip_guard.h"
#include "netif/stack.h"
#include "session/session.h"
#include "t2s.h"
#include "tcp/tcp_relay.h"
#include "tun/tun.h"

/* lwIP is global: one instance at a time. Set by t2s_create(), cleared by
 * t2s_destroy() of that instance. */
static struct t2s_instance *the_instance;

/* Test-only (fault.h): a real LWIP_ASSERT inside lwIP, in the loop, when
 * a test asked for one: pbuf_free(NULL) asserts "p != NULL". */
static void
fault_lwip_assert_hit(void)
{
#ifdef T2S_FAULT_INJECTION
    if (t2s_fault_lwip_assert_hit())
        pbuf_free(NULL);
#endif
}

const char *
t2s_version(void)
{
    return T2S_VERSION;
}

/* Descriptors kept for the TUN, logs and the loop when deriving the cap. */
#define FD_RESERVE 64

static unsigned
effective_max_conns(unsigned configured)
{
    struct rlimit rl;
    rlim_t room;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return configured ? configured : 100000;
    room = rl.rlim_cur > FD_RESERVE ? rl.rlim_cur - FD_RESERVE : 1;
    if (configured == 0 || configured > room)
        return (unsigned)room;
    return configured;
}

/* Offloads on a TUN with a virtio-net header (tun.h); with TSO lwIP
 * builds segments larger than the MSS for the kernel to cut (tcp_ext.h). */
static void
set_offload(struct t2s_instance *t)
{
    t->tun_offload = t->tun_vnet_len > 0 ? t2s_tun_offload(t->tun_fd) : 0;
    t2s_tcp_ext_set_tso((t->tun_offload & T2S_TUN_OFFLOAD_TSO) != 0);
}

static int
open_tun(struct t2s_instance *t, char *err, size_t errlen)
{
    const struct t2s_config *c = &t->cfg;

    if (c->tun_fd >= 0) {
        t->tun_fd = c->tun_fd;
        if (t2s_tun_set_nonblock(t->tun_fd) < 0) {
            snprintf(err, errlen, "--tun-fd %d: %s", c->tun_fd,
                     strerror(errno));
            return -1;
        }
        t->tun_vnet_len = t2s_tun_vnet_hdr_len(t->tun_fd);
        if (t->tun_vnet_len < 0) {
            snprintf(err, errlen,
                     "--tun-fd %d: cannot read its virtio-net header size",
                     c->tun_fd);
            return -1;
        }
        set_offload(t);
        return 0;
    }
    if (c->tun_name[0] == '\0') {
        /* an empty name would make the kernel pick one: never silently */
        snprintf(err, errlen, "no TUN: set \"tun\" or \"tun-fd\"");
        return -1;
    }
    t->tun_fd = t2s_tun_open(c->tun_name, &t->tun_vnet_len, err, errlen);
    if (t->tun_fd < 0)
        return -1;
    t->tun_owned = 1;
    set_offload(t);
    return t2s_tun_configure(c->tun_name, c->mtu, c->tun_ipv4, c->tun_ipv6, err,
                             errlen);
}

static void
on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
    struct t2s_instance *t = w->data;

    (void)revents;
    t2s_info("shutting down");
    t->ctx.stopping = 1;
    t2s_tcp_relay_close_all(&t->tcp);
    t2s_tcp_relay_flush(&t->tcp);
    t2s_udp_relay_shutdown(&t->udp);
    t2s_stack_flush(&t->stack); /* the RSTs above: no iteration follows */
    ev_break(loop, EVBREAK_ALL);
}

/* One line per proxy after the counters, when there are several. */
static void
log_proxy_stats(struct t2s_instance *t)
{
    struct t2s_proxy_stats ps;

    for (unsigned i = 0; t->pool.n > 1 && t2s_get_proxy_stats(t, i, &ps) == 0;
         i++)
        /* not "stats:", which scripts take for the counters' line */
        t2s_info("proxy %u %s: %s sessions=%llu active=%llu failures=%llu", i,
                 ps.url, ps.up ? "up" : "down", (unsigned long long)ps.sessions,
                 (unsigned long long)ps.active,
                 (unsigned long long)ps.failures);
}

static void
on_stats(struct ev_loop *loop, ev_async *w, int revents)
{
    struct t2s_instance *t = w->data;

    (void)loop;
    (void)revents;
    fault_lwip_assert_hit();
    T2S_STAT_SET(&t->ctx.stats, mem_used, t2s_mem_used());
    T2S_STAT_SET(&t->ctx.stats, mem_peak, t2s_mem_peak());
    t2s_stats_log(&t->ctx.stats);
    log_proxy_stats(t);
}

/* The stats socket's source: what t2s_get_stats() returns, and with
 * several proxies what t2s_get_proxy_stats() does. */
static void
read_stats(void *user, struct t2s_stats *out, struct t2s_proxy_stats *px,
           unsigned *npx)
{
    struct t2s_instance *t = user;

    t2s_get_stats(t, out);
    *npx = 0;
    while (t->pool.n > 1 && *npx < T2S_PROXY_MAX &&
           t2s_get_proxy_stats(t, *npx, &px[*npx]) == 0)
        ++*npx;
}

/* Every proxy the caller did not resolve yet (the program resolves them
 * before it drops privileges). */
static int
resolve_proxies(struct t2s_config *c, char *err, size_t errlen)
{
    for (unsigned i = 0; i < c->proxy_count || i == 0; i++) {
        struct t2s_proxy *p = t2s_config_proxy_mut(c, i);

        if (p->addr_len == 0 && t2s_proxy_addr_resolve(p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int
init_instance(struct t2s_instance *t, char *err, size_t errlen)
{
    if (resolve_proxies(&t->cfg, err, errlen) < 0)
        return -1;
    t->max_conns = effective_max_conns(t->cfg.max_conns);
    t2s_mem_set_limit(t->cfg.memory_limit ? (size_t)t->cfg.memory_limit
                                          : t2s_mem_default_limit());
    t2s_mem_reset_peak();
    t->ctx.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    t->scratch = t2s_mem_alloc(T2S_SCRATCH_SIZE);
    if (t->ctx.loop == NULL || t->scratch == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (t->cfg.dns_mode == T2S_DNS_FAKEIP &&
        (t->fakeip = t2s_dns_local_pool_new(&t->cfg)) == NULL) {
        snprintf(err, errlen, "cannot set up the fake-ip pool");
        return -1;
    }
    if (open_tun(t, err, errlen) < 0 ||
        t2s_stack_init(&t->stack, &t->ctx, &t->tcp, t->tun_fd, t->tun_vnet_len,
                       err, errlen) < 0 ||
        t2s_udp_relay_init(&t->udp, &t->ctx, t2s_stack_netif(&t->stack),
                           t->fakeip, t->max_conns, err, errlen) < 0 ||
        t2s_tcp_relay_init(&t->tcp, &t->ctx, t->fakeip, t->scratch,
                           t->max_conns, err, errlen) < 0)
        return -1;
    t2s_proxy_pool_init(&t->pool, t->ctx.loop, &t->cfg, &t->ctx.stats);
    t->ctx.pool = &t->pool;
    ev_async_init(&t->stop_async, on_stop);
    t->stop_async.data = t;
    ev_async_start(t->ctx.loop, &t->stop_async);
    ev_async_init(&t->stats_async, on_stats);
    t->stats_async.data = t;
    ev_async_start(t->ctx.loop, &t->stats_async);
    if (t->cfg.stats_socket[0] != '\0' &&
        (t->stats_sock = t2s_stats_socket_open(t->ctx.loop, t->cfg.stats_socket,
                                               read_stats, t, err, errlen)) ==
            NULL)
        return -1;
    return 0;
}

/* init_instance() with lwIP's assertions returning here (lwip_guard.h). */
static int
init_guarded(struct t2s_instance *t, char *err, size_t errlen)
{
    jmp_buf jb;
    int rc;

    if (setjmp(jb) != 0) {
        t->broken = 1;
        snprintf(err, errlen, "internal error in lwIP (see the log)");
        return -1;
    }
    t2s_lwip_guard_arm(&jb);
    rc = init_instance(t, err, errlen);
    t2s_lwip_guard_disarm();
    return rc;
}

struct t2s_instance *
t2s_create(const struct t2s_config *cfg, char *err, size_t errlen)
{
    struct t2s_instance *t;

    if (the_instance != NULL) {
        snprintf(err, errlen,
                 "only one tun2socks instance per process: lwIP's state is "
                 "global (destroy the other one first)");
        return NULL;
    }
    if (t2s_lwip_guard_broken()) {
        snprintf(err, errlen,
                 "lwIP failed an internal check earlier in this process; "
                 "restart the process to create an instance");
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = *cfg;
    t->tun_fd = -1;
    t->cfg.protect = NULL;
    if (t->cfg.protect_path[0] != '\0') {
        t2s_protect_init(&t->protect, t->cfg.protect_path);
        t->cfg.protect = &t->protect;
    }
    t->ctx.cfg = &t->cfg;
    t2s_list_init(&t->ctx.dead);
    the_instance = t;
    t2s_log_attach(cfg->log_fn, cfg->log_user, cfg->loglevel);
    if (init_guarded(t, err, errlen) < 0) {
        t2s_destroy(t);
        return NULL;
    }
    return t;
}

static const char *
dns_mode_name(int mode)
{
    return mode == T2S_DNS_TCP      ? "tcp"
           : mode == T2S_DNS_FAKEIP ? "fake-ip"
                                    : "relay";
}

/* The loop, with lwIP's assertions returning here (lwip_guard.h). */
static int
run_guarded(struct t2s_instance *t)
{
    jmp_buf jb;

    if (setjmp(jb) != 0) {
        t->broken = 1;
        return T2S_RUN_ERR_INTERNAL;
    }
    t2s_lwip_guard_arm(&jb);
    ev_run(t->ctx.loop, 0);
    t2s_lwip_guard_disarm();
    return t2s_stack_failed(&t->stack) ? T2S_RUN_ERR_TUN : T2S_RUN_STOPPED;
}

/* With several proxies, each of them and the policy, once at the start. */
static void
log_proxies(const struct t2s_instance *t)
{
    char url[300];

    if (t->pool.n < 2)
        return;
    for (unsigned i = 0; i < t->pool.n; i++) {
        t2s_proxy_url_format(t2s_config_proxy(&t->cfg, i), url, sizeof(url));
        t2s_info("proxy %u: %s%s", i, url,
                 i > 0 ? ""
                 : t->cfg.proxy_policy == T2S_PROXY_ROUND_ROBIN
                     ? " (policy round-robin)"
                     : " (policy failover: the first that is up)");
    }
}

int
t2s_run(struct t2s_instance *t)
{
    char proxy[T2S_ENDPOINT_STRLEN];
    const struct sockaddr_storage *a = &t->cfg.proxy.addr;
    const char *offload = (t->tun_offload & T2S_TUN_OFFLOAD_TSO)
                              ? ", checksum offload, TSO"
                          : t->tun_vnet_len > 0 ? ", checksum offload"
                                                : "";

    if (t->broken)
        return T2S_RUN_ERR_INTERNAL;
    t2s_stack_start(&t->stack);

    if (a->ss_family == AF_INET6)
        t2s_log_fmt_endpoint(AF_INET6,
                             &((const struct sockaddr_in6 *)a)->sin6_addr,
                             t->cfg.proxy.port, proxy, sizeof(proxy));
    else
        t2s_log_fmt_endpoint(AF_INET,
                             &((const struct sockaddr_in *)a)->sin_addr,
                             t->cfg.proxy.port, proxy, sizeof(proxy));
    if (t->cfg.tun_fd >= 0)
        t2s_info("TUN fd %d%s -> %s proxy %s, DNS %s, at most %u TCP "
                 "connections and %u UDP associations",
                 t->tun_fd, offload,
                 t2s_proxy_url_scheme_name(t->cfg.proxy.scheme), proxy,
                 dns_mode_name(t->cfg.dns_mode), t->max_conns,
                 t->udp.assocs.max);
    else
        t2s_info("TUN %s (MTU %d%s) -> %s proxy %s, DNS %s, at most %u "
                 "TCP connections and %u UDP associations",
                 t->cfg.tun_name, t->cfg.mtu, offload,
                 t2s_proxy_url_scheme_name(t->cfg.proxy.scheme), proxy,
                 dns_mode_name(t->cfg.dns_mode), t->max_conns,
                 t->udp.assocs.max);
    log_proxies(t);
    return run_guarded(t);
}

void
t2s_stop(struct t2s_instance *t)
{
    /* ev_async_send is async-signal-safe and thread-safe */
    ev_async_send(t->ctx.loop, &t->stop_async);
}

void
t2s_request_stats_log(struct t2s_instance *t)
{
    ev_async_send(t->ctx.loop, &t->stats_async);
}

void
t2s_get_stats(struct t2s_instance *t, struct t2s_stats *out)
{
    t2s_stats_snapshot(&t->ctx.stats, out);
    /* gauges of the process-wide budget, read now */
    out->mem_used = t2s_mem_used();
    out->mem_peak = t2s_mem_peak();
}

int
t2s_get_proxy_stats(struct t2s_instance *t, unsigned index,
                    struct t2s_proxy_stats *out)
{
    if (t->ctx.pool == NULL)
        return -1;
    return t2s_proxy_pool_read(t->ctx.pool, index, out);
}

void
t2s_instance_after_fork(struct t2s_instance *t)
{
    ev_loop_fork(t->ctx.loop);
}

void
t2s_instance_clear_secrets(struct t2s_instance *t)
{
    for (unsigned i = 0; i < T2S_PROXY_MAX; i++) {
        struct t2s_proxy *p = t2s_config_proxy_mut(&t->cfg, i);

        explicit_bzero(p->user, sizeof(p->user));
        explicit_bzero(p->pass, sizeof(p->pass));
        p->user_len = p->pass_len = 0;
    }
}

/* Every session, the UDP side and the stack: all of lwIP's state that t
 * holds. */
static void
shutdown_lwip(struct t2s_instance *t)
{
    t->ctx.stopping = 1;
    t2s_tcp_relay_close_all(&t->tcp);
    t2s_tcp_relay_flush(&t->tcp);
    t2s_udp_relay_shutdown(&t->udp);
    t2s_session_reap(&t->ctx);
    ev_async_stop(t->ctx.loop, &t->stop_async);
    ev_async_stop(t->ctx.loop, &t->stats_async);
    t2s_tcp_relay_shutdown(&t->tcp);
    t2s_stack_shutdown(&t->stack);
}

/* shutdown_lwip() unless lwIP is broken (then t->broken is set on
 * return). */
static void
shutdown_guarded(struct t2s_instance *t)
{
    jmp_buf jb;

    if (t2s_lwip_guard_broken())
        t->broken = 1;
    if (t->broken)
        return;
    if (setjmp(jb) != 0) {
        t->broken = 1;
        return;
    }
    t2s_lwip_guard_arm(&jb);
    shutdown_lwip(t);
    t2s_lwip_guard_disarm();
}

/*
 * An instance whose lwIP failed an assertion: its sessions, their sockets,
 * the proxy blocks lwIP may still point to and lwIP's own memory stay as
 * they are, since freeing them means calling into lwIP. The struct is kept
 * here, reachable, rather than freed under lwIP's feet; the process is
 * expected to restart (t2s_create() refuses from now on).
 */
static struct t2s_instance *broken_instance;

void
t2s_destroy(struct t2s_instance *t)
{
    if (t == NULL)
        return;
    if (t->ctx.loop != NULL) {
        /* libev and descriptors only: safe even when lwIP is broken */
        t2s_stats_socket_close(t->stats_sock);
        t->stats_sock = NULL;
        if (t->ctx.pool != NULL)
            t2s_proxy_pool_stop(t->ctx.pool); /* libev and sockets only */
        shutdown_guarded(t);
        ev_loop_destroy(t->ctx.loop); /* libev's own: safe even when broken */
        t->ctx.loop = NULL;
    }
    if (t->tun_owned && t->tun_fd >= 0)
        close(t->tun_fd);
    t->tun_fd = -1;
    t2s_mem_free(t->scratch); /* copied from, never referenced by lwIP */
    t->scratch = NULL;
    t2s_instance_clear_secrets(t);
    if (the_instance == t) {
        the_instance = NULL;
        t2s_mem_set_limit(0);
        t2s_log_detach();
    }
    if (t->broken) {
        broken_instance = t;
        return;
    }
    t2s_fakeip_free(t->fakeip);
    free(t);
}
