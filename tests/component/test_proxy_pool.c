/*
 * Component tests of several proxies (upstream/proxy_pool.h) on a real
 * libev loop with real loopback sockets, no lwIP: the choice per policy,
 * down marking (logged once per transition), the background probe (it
 * goes through the socket hook, as every proxy socket must; a refused or
 * silent probe keeps the proxy down, an answered one brings it back), and
 * the session layer's use of the pool (a refused proxy is marked down and
 * the next session goes to the other one; counters per proxy).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "session/session.h"
#include "upstream/proxy_pool.h"

/* ---- a SOCKS5 server in the loop: greeting -> 05 00, request -> OK ---- */

struct srv {
    int lfd;
    uint16_t port;
    int answer;   /* 0: accept and stay silent */
    int accepted; /* connections accepted */
    ev_io w;
    int cfd[32];
    int creads[32];
    ev_io cw[32];
};

static void
on_client(struct ev_loop *loop, ev_io *w, int revents)
{
    struct srv *s = w->data;
    int k = (int)(w - s->cw);
    uint8_t buf[512];
    static const uint8_t method[] = {5, 0};
    static const uint8_t ok[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    ssize_t n = recv(w->fd, buf, sizeof(buf), 0);

    (void)revents;
    if (n <= 0) {
        ev_io_stop(loop, w);
        close(w->fd);
        s->cfd[k] = -1;
        return;
    }
    if (!s->answer)
        return;
    if (s->creads[k]++ == 0)
        assert_int_equal(send(w->fd, method, sizeof(method), 0), 2);
    else
        assert_int_equal(send(w->fd, ok, sizeof(ok), 0), 10);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct srv *s = w->data;
    int fd = accept(s->lfd, NULL, NULL);
    int k = s->accepted++;

    (void)revents;
    assert_true(fd >= 0);
    assert_true(k < 32);
    s->cfd[k] = fd;
    ev_io_init(&s->cw[k], on_client, fd, EV_READ);
    s->cw[k].data = s;
    ev_io_start(loop, &s->cw[k]);
}

static void
srv_open(struct srv *s, struct ev_loop *loop, int answer)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->answer = answer;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 32), 0);
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    ev_io_init(&s->w, on_accept, s->lfd, EV_READ);
    s->w.data = s;
    ev_io_start(loop, &s->w);
}

static void
srv_close(struct srv *s, struct ev_loop *loop)
{
    ev_io_stop(loop, &s->w);
    close(s->lfd);
    for (int k = 0; k < s->accepted; k++)
        if (s->cfd[k] >= 0) {
            ev_io_stop(loop, &s->cw[k]);
            close(s->cfd[k]);
        }
}

/* A loopback port nobody listens on (connect is refused). */
static uint16_t
closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- fixture: a config with ports[], a loop, a pool, the log ---- */

static char log_text[8192];
static int hook_calls;

static void
log_sink(int level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    strncat(log_text, msg, sizeof(log_text) - strlen(log_text) - 2);
    strcat(log_text, "\n");
}

static int
count_lines(const char *needle)
{
    int n = 0;

    for (const char *p = log_text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static int
hook(int fd, void *user)
{
    (void)fd;
    (void)user;
    hook_calls++;
    return 0;
}

static struct t2s_config cfg;
static const char *pool_scheme = "socks5"; /* of every proxy in setup_pool */
static struct t2s_stats stats;
static struct ev_loop *loop;
static struct t2s_proxy_pool pool;

static void
setup_pool(const uint16_t *ports, unsigned n, int policy)
{
    char url[64], err[256];

    t2s_config_init(&cfg);
    for (unsigned i = 0; i < n; i++) {
        snprintf(url, sizeof(url), "%s://127.0.0.1:%u", pool_scheme, ports[i]);
        assert_int_equal(t2s_config_set(&cfg, "proxy", url, err, sizeof(err)),
                         0);
        assert_int_equal(t2s_proxy_addr_resolve(t2s_config_proxy_mut(&cfg, i),
                                                err, sizeof(err)),
                         0);
    }
    cfg.proxy_policy = policy;
    t2s_config_set_socket_hook(&cfg, hook, NULL);
    memset(&stats, 0, sizeof(stats));
    log_text[0] = '\0';
    hook_calls = 0;
    t2s_log_attach(log_sink, NULL, T2S_LOG_DEBUG);
    if (loop == NULL)
        loop = ev_loop_new(EVFLAG_AUTO);
    t2s_proxy_pool_init(&pool, loop, &cfg, &stats);
    pool.probe_interval = 0.05;
}

static void
teardown_pool(void)
{
    t2s_proxy_pool_stop(&pool);
    ev_loop_destroy(loop);
    loop = NULL;
    t2s_log_detach();
}

static void
on_run_end(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(l, EVBREAK_ONE);
}

/* Runs the loop for about seconds (generous: qemu-user runs these too). */
static void
run_for(double seconds)
{
    ev_timer t;

    ev_timer_init(&t, on_run_end, seconds, 0.);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    ev_timer_stop(loop, &t);
}

/* ---- selection ---- */

static void
test_failover_order(void **state)
{
    const uint16_t ports[] = {1, 2, 3};

    (void)state;
    setup_pool(ports, 3, T2S_PROXY_FAILOVER);
    for (int k = 0; k < 4; k++)
        assert_int_equal(t2s_proxy_pool_pick(&pool), 0);
    t2s_proxy_pool_failed(&pool, 0, "test");
    assert_int_equal(t2s_proxy_pool_pick(&pool), 1);
    assert_int_equal(t2s_proxy_pool_pick(&pool), 1);
    t2s_proxy_pool_failed(&pool, 1, "test");
    assert_int_equal(t2s_proxy_pool_pick(&pool), 2);
    /* a failure while down is counted, but logged only once */
    t2s_proxy_pool_failed(&pool, 0, "again");
    assert_int_equal(count_lines("127.0.0.1:1 is down"), 1);
    assert_int_equal(pool.slot[0].failures, 2);
    /* back up: the first again */
    t2s_proxy_pool_ok(&pool, 0);
    assert_int_equal(count_lines("127.0.0.1:1 is up again"), 1);
    assert_int_equal(t2s_proxy_pool_pick(&pool), 0);
    teardown_pool();
}

static void
test_all_down_tries_least_recently_failed(void **state)
{
    const uint16_t ports[] = {1, 2};

    (void)state;
    setup_pool(ports, 2, T2S_PROXY_FAILOVER);
    t2s_proxy_pool_failed(&pool, 1, "test");
    ev_sleep(0.01);
    ev_now_update(loop);
    t2s_proxy_pool_failed(&pool, 0, "test");
    assert_int_equal(t2s_proxy_pool_pick(&pool), 1);
    ev_sleep(0.01);
    ev_now_update(loop);
    t2s_proxy_pool_failed(&pool, 1, "test");
    assert_int_equal(t2s_proxy_pool_pick(&pool), 0);
    teardown_pool();
}

static void
test_round_robin_spread(void **state)
{
    const uint16_t ports[] = {1, 2, 3};
    unsigned seen[3] = {0, 0, 0};

    (void)state;
    setup_pool(ports, 3, T2S_PROXY_ROUND_ROBIN);
    for (int k = 0; k < 9; k++) {
        unsigned i = t2s_proxy_pool_pick(&pool);

        assert_int_equal(i, (unsigned)k % 3);
        seen[i]++;
    }
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[2], 3);
    /* a down proxy is skipped */
    t2s_proxy_pool_failed(&pool, 1, "test");
    for (int k = 0; k < 6; k++)
        assert_int_not_equal(t2s_proxy_pool_pick(&pool), 1);
    teardown_pool();
}

static void
test_one_proxy_never_down(void **state)
{
    const uint16_t ports[] = {1};

    (void)state;
    setup_pool(ports, 1, T2S_PROXY_FAILOVER);
    t2s_proxy_pool_failed(&pool, 0, "test");
    assert_int_equal(pool.slot[0].up, 1);
    assert_int_equal(pool.slot[0].failures, 1);
    assert_null(strstr(log_text, "is down"));
    teardown_pool();
}

/* ---- probes ---- */

static void
test_probe_recovery(void **state)
{
    struct srv good, silent;
    uint16_t ports[3];
    struct t2s_proxy_stats ps;

    (void)state;
    loop = ev_loop_new(EVFLAG_AUTO);
    srv_open(&good, loop, 1);
    srv_open(&silent, loop, 0);
    ports[0] = good.port;
    ports[1] = silent.port;
    ports[2] = closed_port();
    setup_pool(ports, 3, T2S_PROXY_FAILOVER);
    for (unsigned i = 0; i < 3; i++)
        t2s_proxy_pool_failed(&pool, i, "test");
    run_for(1.0);
    /* answered: up; silent and refused: still down, probed again */
    assert_int_equal(pool.slot[0].up, 1);
    assert_int_equal(pool.slot[1].up, 0);
    assert_int_equal(pool.slot[2].up, 0);
    assert_true(good.accepted >= 1);
    assert_true(silent.accepted >= 2);
    assert_int_equal(count_lines("is up again (probe answered)"), 1);
    /* every probe socket went through the socket hook */
    assert_true(hook_calls >= good.accepted + silent.accepted);
    assert_int_equal(t2s_proxy_pool_read(&pool, 0, &ps), 0);
    assert_int_equal(ps.up, 1);
    assert_int_equal(ps.failures, 1);
    assert_int_equal(t2s_proxy_pool_read(&pool, 1, &ps), 0);
    assert_int_equal(ps.up, 0);
    assert_int_equal(t2s_proxy_pool_read(&pool, 3, &ps), -1);
    /* once up, the server is not probed any more */
    {
        int before = good.accepted;

        run_for(0.3);
        assert_int_equal(good.accepted, before);
    }
    t2s_proxy_pool_stop(&pool); /* probe sockets go before the servers */
    srv_close(&good, loop);
    srv_close(&silent, loop);
    teardown_pool();
}

/* A SOCKS4 or HTTP proxy has no request without a destination: its probe
 * is a connect, and an accepted one brings it back even if it says
 * nothing (a SOCKS5 probe would wait for a method reply forever). */
static void
test_probe_connect_only(void **state)
{
    struct srv silent;
    uint16_t ports[2];

    (void)state;
    loop = ev_loop_new(EVFLAG_AUTO);
    srv_open(&silent, loop, 0);
    ports[0] = silent.port;
    ports[1] = closed_port();
    pool_scheme = "http";
    setup_pool(ports, 2, T2S_PROXY_FAILOVER);
    pool_scheme = "socks5";
    t2s_proxy_pool_failed(&pool, 0, "test");
    t2s_proxy_pool_failed(&pool, 1, "test");
    run_for(1.0);
    assert_int_equal(pool.slot[0].up, 1);
    assert_int_equal(pool.slot[1].up, 0);
    assert_int_equal(count_lines("is up again (probe connected)"), 1);
    t2s_proxy_pool_stop(&pool);
    srv_close(&silent, loop);
    teardown_pool();
}

/* ---- sessions through the pool ---- */

static int handshakes[2];

static void
on_handshake(struct t2s_session *s, int result)
{
    handshakes[result == T2S_UP_DONE]++;
    t2s_session_close(s, T2S_SESSION_ABORT, "test");
}

static void
on_io(struct t2s_session *s, int revents)
{
    (void)s;
    (void)revents;
}

static void
on_timer(struct t2s_session *s)
{
    t2s_session_close(s, T2S_SESSION_ABORT, "timeout");
}

static void
release(struct t2s_session *s, int how, const char *why)
{
    (void)s;
    (void)how;
    (void)why;
}

static const struct t2s_session_ops ops = {on_handshake, on_io, on_timer,
                                           release};

/* A session of a test kind (freed by t2s_session_reap()). */
static void
start_session(struct t2s_ctx *ctx, struct t2s_list *live)
{
    struct t2s_socks5_addr dst = {.atyp = T2S_SOCKS5_ATYP_IPV4, .port = 80};
    struct t2s_session *s = t2s_mem_calloc(1, sizeof(*s));

    assert_non_null(s);
    assert_int_equal(t2s_session_start(s, ctx, &ops, live,
                                       T2S_SOCKS5_CMD_CONNECT, &dst, 2.0),
                     0);
}

static void
test_sessions_fail_over(void **state)
{
    struct srv good;
    struct t2s_ctx ctx;
    struct t2s_list live;
    struct t2s_proxy_stats ps;
    uint16_t ports[2];

    (void)state;
    loop = ev_loop_new(EVFLAG_AUTO);
    srv_open(&good, loop, 1);
    ports[0] = closed_port();
    ports[1] = good.port;
    setup_pool(ports, 2, T2S_PROXY_FAILOVER);
    memset(&ctx, 0, sizeof(ctx));
    ctx.loop = loop;
    ctx.cfg = &cfg;
    ctx.pool = &pool;
    t2s_list_init(&ctx.dead);
    t2s_list_init(&live);
    handshakes[0] = handshakes[1] = 0;

    /* the first session meets the refusal (at once or in the handshake) */
    start_session(&ctx, &live);
    run_for(1.0);
    t2s_session_reap(&ctx);
    assert_int_equal(pool.slot[0].up, 0);
    assert_int_equal(count_lines("is down"), 1);
    /* the next ones go to the second proxy and get through */
    start_session(&ctx, &live);
    start_session(&ctx, &live);
    run_for(1.0);
    t2s_session_reap(&ctx);
    assert_int_equal(handshakes[1], 2);
    assert_int_equal(t2s_proxy_pool_read(&pool, 1, &ps), 0);
    assert_int_equal(ps.sessions, 2);
    assert_int_equal(ps.active, 0);
    assert_int_equal(ps.up, 1);
    assert_int_equal(t2s_proxy_pool_read(&pool, 0, &ps), 0);
    assert_int_equal(ps.up, 0);
    assert_true(ps.failures >= 1);
    srv_close(&good, loop);
    teardown_pool();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_order),
        cmocka_unit_test(test_all_down_tries_least_recently_failed),
        cmocka_unit_test(test_round_robin_spread),
        cmocka_unit_test(test_one_proxy_never_down),
        cmocka_unit_test(test_probe_recovery),
        cmocka_unit_test(test_probe_connect_only),
        cmocka_unit_test(test_sessions_fail_over),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
