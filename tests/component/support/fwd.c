/* The forwarder under test, on a socketpair "TUN". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwd.h"

/* As the program's sink (tun2socks/main.c): tests read the log on stderr. */
static void
fwd_log(int level, const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "tun2socks: %s: %s\n", t2s_log_level_name(level), line);
}

static void *
fwd_main(void *arg)
{
    struct fwd *f = arg;

    f->run_rc = t2s_run(f->t);
    return NULL;
}

void
fwd_start(struct fwd *f, const struct fake_proxy *px, const struct fwd_opts *o)
{
    static const struct fwd_opts none;
    struct t2s_config cfg;
    char url[320], err[256];

    if (o == NULL)
        o = &none;
    memset(f, 0, sizeof(*f));
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, f->sv),
                     0);
    t2s_config_init(&cfg);
    cfg.tun_fd = f->sv[1];
    cfg.mtu = 1500;
    cfg.loglevel = 0; /* errors only; T2S_TEST_LOGLEVEL=3 for debug */
    if (getenv("T2S_TEST_LOGLEVEL") != NULL)
        cfg.loglevel = atoi(getenv("T2S_TEST_LOGLEVEL"));
    cfg.connect_timeout_ms =
        o->connect_timeout_ms ? o->connect_timeout_ms : 3000;
    cfg.idle_timeout_ms = o->idle_timeout_ms;
    cfg.max_conns = o->max_conns;
    cfg.memory_limit = o->memory_limit;
    cfg.socks_pipeline = o->pipeline;
    fp_url(px, o->userinfo, url, sizeof(url));
    if (t2s_proxy_url_parse(url, &cfg.proxy, err, sizeof(err)) != 0)
        fail_msg("proxy URL %s: %s", url, err);
    if (t2s_proxy_addr_resolve(&cfg.proxy, err, sizeof(err)) != 0)
        fail_msg("resolve %s: %s", url, err);
    t2s_config_set_log(&cfg, fwd_log, NULL);
    if (o->config != NULL)
        o->config(&cfg);
    f->t = t2s_create(&cfg, err, sizeof(err));
    if (f->t == NULL)
        fail_msg("t2s_create: %s", err);
    tk_init(&f->k, f->sv[0]);
    assert_int_equal(pthread_create(&f->thread, NULL, fwd_main, f), 0);
    f->running = 1;
}

void
fwd_halt(struct fwd *f)
{
    if (f->running) {
        t2s_stop(f->t);
        pthread_join(f->thread, NULL);
        f->running = 0;
    }
}

void
fwd_stop(struct fwd *f, struct t2s_stats *st)
{
    fwd_halt(f);
    t2s_get_stats(f->t, st);
    t2s_destroy(f->t);
    f->t = NULL;
    close(f->sv[0]);
    close(f->sv[1]);
    assert_int_equal(f->run_rc, 0);
}

void
fwd_stats(struct fwd *f, struct t2s_stats *st)
{
    t2s_get_stats(f->t, st);
}

int
fwd_wait_stat(struct fwd *f, size_t offset, uint64_t value, int timeout_ms)
{
    struct t2s_stats st;

    for (int waited = 0;; waited += 10) {
        uint64_t v;
        t2s_get_stats(f->t, &st);
        memcpy(&v, (const char *)&st + offset, sizeof(v));
        if (v == value)
            return 0;
        if (waited >= timeout_ms)
            return -1;
        tk_poll(&f->k, 10);
    }
}
