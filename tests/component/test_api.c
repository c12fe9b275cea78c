/*
 * The embedding API (include/t2s.h) as an embedder uses it: configs built
 * with t2s_config_set(), the log sink, the socket hook, one instance at a
 * time, and 100 create/run/stop/destroy cycles in one process leaving no
 * descriptor open and lwIP empty (LeakSanitizer checks the memory in the
 * ASan build). The "TUN" is a datagram socketpair, as in fwd.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "lwip_guard.h"
#include "pkt.h"
#include "fds.h"
#include "t2s.h"
#include "udp_pkt.h"

#define T 3000

/* What the log sink received. */
struct sink {
    pthread_mutex_t mu;
    unsigned lines[4]; /* by level */
    unsigned total;
    char last[512];
};

static void
on_log(int level, const char *line, void *user)
{
    struct sink *s = user;

    pthread_mutex_lock(&s->mu);
    if (level >= 0 && level < 4)
        s->lines[level]++;
    s->total++;
    snprintf(s->last, sizeof(s->last), "%s", line);
    pthread_mutex_unlock(&s->mu);
}

static void
set(struct t2s_config *cfg, const char *key, const char *value)
{
    char err[256];

    if (t2s_config_set(cfg, key, value, err, sizeof(err)) != 0)
        fail_msg("%s = %s: %s", key, value, err);
}

/* A config on TUN fd tun through t2s_config_set() only. */
static struct t2s_config *
config_on(int tun, const char *loglevel)
{
    struct t2s_config *cfg = t2s_config_new();
    char fd[16];

    assert_non_null(cfg);
    snprintf(fd, sizeof(fd), "%d", tun);
    set(cfg, "tun-fd", fd);
    set(cfg, "mtu", "1500");
    set(cfg, "proxy", "socks5://127.0.0.1:9");
    set(cfg, "loglevel", loglevel);
    return cfg;
}

static void *
run_main(void *arg)
{
    return (void *)(intptr_t)t2s_run(arg);
}

static void
test_version(void **state)
{
    char v[32];

    (void)state;
    snprintf(v, sizeof(v), "%d.%d.%d", T2S_VERSION_MAJOR, T2S_VERSION_MINOR,
             T2S_VERSION_PATCH);
    assert_string_equal(v, T2S_VERSION);
    assert_string_equal(t2s_version(), T2S_VERSION);
}

static void
test_config_errors(void **state)
{
    struct t2s_config *cfg = t2s_config_new();
    char err[256] = "";

    (void)state;
    assert_int_equal(t2s_config_set(cfg, "no-such-key", "1", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "no-such-key"));
    assert_int_equal(t2s_config_set(cfg, "mtu", "12", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_load_file(cfg, "/nonexistent/t2s.conf", err, sizeof(err)),
        -1);
    /* neither "tun" nor "tun-fd": refused, no device is created */
    set(cfg, "proxy", "socks5://127.0.0.1:9");
    assert_null(t2s_create(cfg, err, sizeof(err)));
    assert_string_equal(err, "no TUN: set \"tun\" or \"tun-fd\"");
    t2s_config_free(cfg);
    t2s_config_free(NULL);
}

/*
 * 100 cycles: every one creates on the same TUN descriptor, runs in a
 * thread, stops, destroys. The TUN descriptor stays open, no other is
 * left, lwIP holds no pcb and no netif afterwards, and a second instance
 * is refused while one exists.
 */
static void
test_hundred_cycles(void **state)
{
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    int sv[2], before, tun_flags;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    tun_flags = fcntl(sv[1], F_GETFD);
    before = count_fds();
    for (int i = 0; i < 100; i++) {
        struct t2s_config *cfg = config_on(sv[1], "info");
        struct t2s_instance *t, *t2;
        pthread_t th;
        void *rc;
        char err[256] = "";

        t2s_config_set_log(cfg, on_log, &s);
        t = t2s_create(cfg, err, sizeof(err));
        if (t == NULL)
            fail_msg("cycle %d: t2s_create: %s", i, err);
        t2 = t2s_create(cfg, err, sizeof(err));
        assert_null(t2);
        assert_non_null(strstr(err, "only one tun2socks instance"));
        t2s_config_free(cfg); /* t holds its own copy */
        assert_int_equal(pthread_create(&th, NULL, run_main, t), 0);
        if (i % 10 == 0)
            usleep(10000); /* sometimes the stop arrives mid-loop */
        t2s_stop(t);
        assert_int_equal(pthread_join(th, &rc), 0);
        assert_int_equal((int)(intptr_t)rc, T2S_RUN_STOPPED);
        t2s_destroy(t);
        assert_true(t2s_lwip_guard_idle());
        assert_int_equal(fcntl(sv[1], F_GETFD), tun_flags); /* still open */
        assert_int_equal(count_fds(), before);
    }
    /* each cycle: the start line and "shutting down" at INFO */
    assert_int_equal(s.lines[T2S_LOG_INFO], 200);
    assert_int_equal(s.lines[T2S_LOG_ERROR] + s.lines[T2S_LOG_WARN], 0);
    assert_string_equal(s.last, "shutting down");
    close(sv[0]);
    close(sv[1]);
}

/* fd 2 and fd 1 into a file while fn runs; what they got into buf. */
static void
capture(void (*fn)(int), int arg, char *buf, size_t len)
{
    FILE *f = tmpfile();
    int out, errfd;
    size_t n;

    assert_non_null(f);
    fflush(stdout);
    fflush(stderr);
    out = dup(1);
    errfd = dup(2);
    assert_true(dup2(fileno(f), 1) == 1 && dup2(fileno(f), 2) == 2);
    fn(arg);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(out, 1) == 1 && dup2(errfd, 2) == 2);
    close(out);
    close(errfd);
    rewind(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A debug-level instance without a sink: create, run, stop, destroy. */
static void
cycle_without_sink(int tun)
{
    struct t2s_config *cfg = config_on(tun, "debug");
    struct t2s_instance *t;
    char err[256];

    t = t2s_create(cfg, err, sizeof(err));
    t2s_config_free(cfg);
    assert_non_null(t);
    t2s_request_stats_log(t);
    t2s_stop(t);
    assert_int_equal(t2s_run(t), T2S_RUN_STOPPED);
    t2s_destroy(t);
}

static void
test_silent_without_sink(void **state)
{
    char got[4096];
    int sv[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    capture(cycle_without_sink, sv[1], got, sizeof(got));
    assert_string_equal(got, "");
    close(sv[0]);
    close(sv[1]);
}

/* ---- the socket hook ---- */

struct hook {
    int calls;
    int stream, dgram; /* sockets seen by type */
    int refuse;        /* SOCK_STREAM / SOCK_DGRAM to refuse, -1: all */
    int bad_fd;        /* a call with a descriptor that is not a socket */
};

/* Loop thread. Refuses the sockets of type h->refuse. */
static int
on_socket(int fd, void *user)
{
    struct hook *h = user;
    int type = 0;
    socklen_t len = sizeof(type);

    __atomic_add_fetch(&h->calls, 1, __ATOMIC_SEQ_CST);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
        h->bad_fd = 1;
        return 0;
    }
    __atomic_add_fetch(type == SOCK_DGRAM ? &h->dgram : &h->stream, 1,
                       __ATOMIC_SEQ_CST);
    return h->refuse == -1 || h->refuse == type;
}

static struct hook *hook_cfg;
static struct sink *sink_cfg;

static void
cfg_hook(struct t2s_config *cfg)
{
    set(cfg, "loglevel", "warn");
    t2s_config_set_socket_hook(cfg, on_socket, hook_cfg);
    t2s_config_set_log(cfg, on_log, sink_cfg);
}

/* A TCP connection through the hook: accepted, then a refused one gets an
 * RST and is counted and logged once. */
static void
test_socket_hook_tcp(void **state)
{
    static const struct fp_step ok[] = {FP_HANDSHAKE(0, 1), FP(FP_ECHO),
                                        FP(FP_END)};
    const struct fp_step *scripts[] = {ok, NULL};
    struct hook h = {.refuse = 0};
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct fwd_opts o = {.config = cfg_hook};
    struct fake_proxy px = {0};
    struct t2s_stats st;
    struct fwd f;
    struct tc c, r;

    (void)state;
    hook_cfg = &h;
    sink_cfg = &s;
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, &o);
    tc_init(&c, &f.k, 4, 43000, 80);
    assert_int_equal(tc_connect(&c, T), 1); /* established */
    assert_int_equal(tc_write(&c, "ping", 4, T), 0);
    assert_int_equal(tc_wait_data(&c, 4, T), 0);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.stream, 1);

    __atomic_store_n(&h.refuse, SOCK_STREAM, __ATOMIC_SEQ_CST);
    tc_init(&r, &f.k, 4, 43001, 80);
    assert_int_equal(tc_connect(&r, T), 0); /* answered with RST */
    assert_true(r.got_rst);
    assert_false(r.got_synack);
    assert_int_equal(FWD_WAIT_STAT(&f, socket_hook_refused, 1, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.socket_hook_refused, 1);
    assert_int_equal(st.err_proxy_connect, 0);
    assert_int_equal(st.err_resource, 0); /* a refusal, not a shortage */
    assert_int_equal(h.calls, 2);
    assert_false(h.bad_fd);
    assert_int_equal(px.nconns, 1); /* the refused one never left */
    assert_int_equal(s.lines[T2S_LOG_WARN], 1);
    assert_non_null(strstr(s.last, "refusing a connection"));
    tc_free(&c);
    tc_free(&r);
    fp_stop(&px);
}

/* The UDP ASSOCIATE reply names our relay; filled before the proxy starts. */
static uint8_t assoc_reply[10];

/* A UDP association whose relay socket the hook refuses: the association
 * fails, counted and logged; the control connection went through the hook
 * too. */
static void
test_socket_hook_udp(void **state)
{
    static const struct fp_step s_assoc[] = {
        FP(FP_GREETING), FPA(FP_METHOD, 0),
        FP(FP_REQUEST),  FPD(FP_SEND, assoc_reply, sizeof(assoc_reply)),
        FP(FP_STALL),    FP(FP_END)};
    const struct fp_step *scripts[] = {s_assoc, NULL};
    static const uint8_t app[4] = {198, 18, 0, 1}, dst[4] = {192, 0, 2, 9};
    struct udp_dgram d = {.family = 4, .sport = 5000, .dport = 7};
    struct hook h = {.refuse = SOCK_DGRAM};
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct fwd_opts o = {.config = cfg_hook};
    struct fake_proxy px = {0};
    struct t2s_stats st;
    struct fwd f;
    uint16_t port;
    int relay;

    (void)state;
    hook_cfg = &h;
    sink_cfg = &s;
    relay = relay_open(&port);
    relay_reply(assoc_reply, port);
    fp_start(&px, 4, 0, scripts);
    fwd_start(&f, &px, &o);
    memcpy(d.src, app, 4);
    memcpy(d.dst, dst, 4);
    d.data = (const uint8_t *)"hello";
    d.len = 5;
    assert_int_equal(ku_send(f.k.fd, &d, 1500), 0);
    assert_int_equal(FWD_WAIT_STAT(&f, err_udp_assoc, 1, T), 0);
    fwd_stop(&f, &st);
    assert_int_equal(st.socket_hook_refused, 1);
    assert_int_equal(h.stream, 1); /* the control connection */
    assert_int_equal(h.dgram, 1);  /* the relay socket, refused */
    assert_int_equal(s.lines[T2S_LOG_WARN], 1);
    assert_non_null(strstr(s.last, "UDP association"));
    fp_stop(&px);
    close(relay);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_hundred_cycles),
        cmocka_unit_test(test_silent_without_sink),
        cmocka_unit_test(test_socket_hook_tcp),
        cmocka_unit_test(test_socket_hook_udp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
