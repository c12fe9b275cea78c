/*
 * Component tests of --socks-pipeline auto (session/pipeline.h) on a real
 * libev loop with real loopback sockets, no lwIP: a SOCKS5 server in the
 * loop records what its first read of each connection held (the greeting
 * alone, or the greeting and the request: pipelined), and behaves as a
 * server that parses pipelined bytes, as one that drops what follows the
 * greeting in the same read (microsocks 1.0.3), or as one that refuses
 * "no authentication" (05 ff).
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
#include "core/mem.h"
#include "session/pipeline.h"
#include "session/session.h"
#include "upstream/proxy_pool.h"

#define GREETING_LEN 3 /* 05 01 00 */
#define REQUEST_LEN 10 /* 05 01 00 01 a.b.c.d port */
#define MAXC 16

enum srv_mode {
    SRV_PARSES,  /* greeting and request from whatever was read */
    SRV_DROPS,   /* one message per read: bytes behind the greeting lost */
    SRV_REFUSES, /* 05 ff to every greeting, then close */
    SRV_CLOSES,  /* closes on bytes behind the greeting in one read */
};

struct srv {
    int lfd;
    uint16_t port;
    enum srv_mode mode;
    int accepted;
    ev_io w;
    int cfd[MAXC];
    int got[MAXC];   /* bytes of greeting + request received */
    int first[MAXC]; /* bytes of the first read */
    ev_io cw[MAXC];
};

static void
srv_drop(struct ev_loop *loop, struct srv *s, int k)
{
    ev_io_stop(loop, &s->cw[k]);
    close(s->cfd[k]);
    s->cfd[k] = -1;
}

static void
on_client(struct ev_loop *loop, ev_io *w, int revents)
{
    static const uint8_t noauth[] = {5, 0}, refuse[] = {5, 0xff};
    static const uint8_t ok[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    struct srv *s = w->data;
    int k = (int)(w - s->cw), before = s->got[k];
    uint8_t buf[512];
    ssize_t n = recv(w->fd, buf, sizeof(buf), 0);

    (void)revents;
    if (n <= 0) {
        srv_drop(loop, s, k);
        return;
    }
    if (before == 0)
        s->first[k] = (int)n;
    if (s->mode == SRV_REFUSES) {
        assert_int_equal(send(w->fd, refuse, 2, 0), 2);
        srv_drop(loop, s, k);
        return;
    }
    if (s->mode == SRV_CLOSES && before == 0 && n > GREETING_LEN) {
        srv_drop(loop, s, k);
        return;
    }
    if (s->mode == SRV_DROPS && before == 0 && n > GREETING_LEN)
        n = GREETING_LEN;
    s->got[k] += (int)n;
    if (before < GREETING_LEN && s->got[k] >= GREETING_LEN)
        assert_int_equal(send(w->fd, noauth, 2, 0), 2);
    if (before < GREETING_LEN + REQUEST_LEN &&
        s->got[k] >= GREETING_LEN + REQUEST_LEN)
        assert_int_equal(send(w->fd, ok, sizeof(ok), 0), (ssize_t)sizeof(ok));
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct srv *s = w->data;
    int fd = accept(s->lfd, NULL, NULL);
    int k = s->accepted++;

    (void)revents;
    assert_true(fd >= 0);
    assert_true(k < MAXC);
    s->cfd[k] = fd;
    ev_io_init(&s->cw[k], on_client, fd, EV_READ);
    s->cw[k].data = s;
    ev_io_start(loop, &s->cw[k]);
}

static struct ev_loop *loop;

static void
srv_open(struct srv *s, enum srv_mode mode)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->mode = mode;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, MAXC), 0);
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    ev_io_init(&s->w, on_accept, s->lfd, EV_READ);
    s->w.data = s;
    ev_io_start(loop, &s->w);
}

static void
srv_close(struct srv *s)
{
    ev_io_stop(loop, &s->w);
    close(s->lfd);
    for (int k = 0; k < s->accepted; k++)
        if (s->cfd[k] >= 0)
            srv_drop(loop, s, k);
}

/* ---- sessions of a test kind ---- */

static int handshakes[2]; /* [0] failed, [1] granted */

static void
on_handshake(struct t2s_session *s, int result)
{
    handshakes[result == T2S_UP_DONE]++;
    t2s_session_close(s, T2S_SESSION_GRACEFUL, "test");
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

static struct t2s_config cfg;
static struct t2s_stats stats;
static struct t2s_proxy_pool pool;
static struct t2s_ctx ctx;
static struct t2s_list live;

static void
setup(uint16_t port, int pipeline)
{
    char url[64], err[256];

    t2s_config_init(&cfg);
    if (pipeline >= 0)
        cfg.socks_pipeline = pipeline;
    snprintf(url, sizeof(url), "socks5://127.0.0.1:%u", port);
    assert_int_equal(t2s_config_set(&cfg, "proxy", url, err, sizeof(err)), 0);
    assert_int_equal(
        t2s_proxy_addr_resolve(t2s_config_proxy_mut(&cfg, 0), err, sizeof(err)),
        0);
    memset(&stats, 0, sizeof(stats));
    t2s_proxy_pool_init(&pool, loop, &cfg, &stats);
    memset(&ctx, 0, sizeof(ctx));
    ctx.loop = loop;
    ctx.cfg = &cfg;
    ctx.pool = &pool;
    t2s_list_init(&ctx.dead);
    t2s_list_init(&live);
    handshakes[0] = handshakes[1] = 0;
}

static void
on_run_end(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(l, EVBREAK_ONE);
}

/* One session, run until it is closed (at most seconds). */
static void
one_session(double seconds)
{
    struct t2s_socks5_addr dst = {.atyp = T2S_SOCKS5_ATYP_IPV4, .port = 80};
    struct t2s_session *s = t2s_mem_calloc(1, sizeof(*s));
    ev_tstamp end;

    assert_non_null(s);
    assert_int_equal(t2s_session_start(s, &ctx, &ops, &live,
                                       T2S_SOCKS5_CMD_CONNECT, &dst, 5.0),
                     0);
    ev_now_update(loop);
    end = ev_now(loop) + seconds;
    while (!t2s_list_empty(&live) && ev_now(loop) < end) {
        ev_timer t;

        ev_timer_init(&t, on_run_end, 0.05, 0.);
        ev_timer_start(loop, &t);
        ev_run(loop, EVRUN_ONCE);
        ev_timer_stop(loop, &t);
    }
    assert_true(t2s_list_empty(&live));
    t2s_session_reap(&ctx);
}

static void
begin(void)
{
    loop = ev_loop_new(EVFLAG_AUTO);
}

static void
end(struct srv *s)
{
    t2s_proxy_pool_stop(&pool);
    srv_close(s);
    ev_loop_destroy(loop);
    loop = NULL;
}

/* The first handshake waits for the method; once the proxy answered "no
 * authentication", greeting and request go in one write. */
static void
test_learned_after_noauth(void **state)
{
    struct srv s;

    (void)state;
    begin();
    srv_open(&s, SRV_PARSES);
    setup(s.port, -1); /* the default: auto */
    assert_int_equal(cfg.socks_pipeline, T2S_SOCKS_PIPELINE_AUTO);
    one_session(3.0);
    assert_int_equal(s.first[0], GREETING_LEN);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_TRIAL);
    one_session(3.0);
    assert_int_equal(s.first[1], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_OK);
    one_session(3.0);
    assert_int_equal(s.first[2], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(handshakes[1], 3);
    assert_int_equal(handshakes[0], 0);
    assert_int_equal(s.accepted, 3);
    end(&s);
}

/* A proxy that drops the request behind the greeting: the trial session
 * starts over without pipelining and gets through; no pipelining after. */
static void
test_dropped_request_falls_back(void **state)
{
    struct srv s;

    (void)state;
    begin();
    srv_open(&s, SRV_DROPS);
    setup(s.port, -1);
    one_session(3.0);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_TRIAL);
    one_session(4.0); /* the trial: about T2S_PIPELINE_TRIAL_S late */
    assert_int_equal(s.first[1], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(s.accepted, 3);
    assert_int_equal(s.first[2], GREETING_LEN);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_NEVER);
    one_session(3.0);
    assert_int_equal(s.accepted, 4);
    assert_int_equal(s.first[3], GREETING_LEN);
    assert_int_equal(handshakes[1], 3);
    assert_int_equal(handshakes[0], 0);
    end(&s);
}

/* A proxy that closes the connection on pipelined bytes: the trial
 * starts over at once without pipelining; none after. */
static void
test_closed_on_pipelined_bytes(void **state)
{
    struct srv s;

    (void)state;
    begin();
    srv_open(&s, SRV_CLOSES);
    setup(s.port, -1);
    one_session(3.0);
    one_session(0.9); /* at once, not after the trial's 1 s */
    assert_int_equal(s.accepted, 3);
    assert_int_equal(s.first[1], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(s.first[2], GREETING_LEN);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_NEVER);
    assert_int_equal(handshakes[1], 2);
    assert_int_equal(handshakes[0], 0);
    end(&s);
}

/* A pipelined greeting refused (the proxy now wants credentials): that
 * session fails, the next one asks without pipelining again. */
static void
test_pipelined_refused(void **state)
{
    struct srv s;

    (void)state;
    begin();
    srv_open(&s, SRV_PARSES);
    setup(s.port, -1);
    one_session(3.0);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_TRIAL);
    s.mode = SRV_REFUSES;
    one_session(3.0);
    assert_int_equal(s.first[1], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(handshakes[0], 1);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_UNKNOWN);
    s.mode = SRV_PARSES;
    one_session(3.0);
    assert_int_equal(s.first[2], GREETING_LEN);
    assert_int_equal(handshakes[1], 2);
    end(&s);
}

/* --socks-pipeline no never pipelines; yes always does. */
static void
test_explicit_settings(void **state)
{
    struct srv s;

    (void)state;
    begin();
    srv_open(&s, SRV_PARSES);
    setup(s.port, 0);
    one_session(3.0);
    one_session(3.0);
    assert_int_equal(s.first[1], GREETING_LEN);
    assert_int_equal(pool.slot[0].pipe, T2S_PIPELINE_UNKNOWN);
    t2s_proxy_pool_stop(&pool);
    setup(s.port, 1);
    one_session(3.0);
    assert_int_equal(s.first[2], GREETING_LEN + REQUEST_LEN);
    assert_int_equal(handshakes[1], 1);
    end(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learned_after_noauth),
        cmocka_unit_test(test_dropped_request_falls_back),
        cmocka_unit_test(test_closed_on_pipelined_bytes),
        cmocka_unit_test(test_pipelined_refused),
        cmocka_unit_test(test_explicit_settings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
