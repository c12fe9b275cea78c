/*
 * Embedding libt2s: the whole program an app needs around the library,
 * using only <t2s.h> (build flags from `pkg-config --cflags --libs t2s`).
 *
 *   embed --version
 *   embed TUN_NAME PROXY_URL SECONDS
 *
 * Creates TUN device TUN_NAME (198.18.0.1/15; needs CAP_NET_ADMIN), forwards
 * its TCP and UDP to the SOCKS5 proxy for SECONDS, then stops and prints
 * the counters. The log goes to stderr through a log sink; a socket hook
 * sees every socket opened toward the proxy (where an Android app would
 * call VpnService.protect()).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <t2s.h>

static void
on_log(int level, const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "embed: %s: %s\n", t2s_log_level_name(level), line);
}

/* Runs on the library's thread, before the socket's connect(). */
static int
on_socket(int fd, void *user)
{
    unsigned *count = user;

    __atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
    fprintf(stderr, "embed: socket hook: fd %d\n", fd);
    return 0; /* non-zero would refuse this connection */
}

static void *
run(void *arg)
{
    return (void *)(intptr_t)t2s_run(arg);
}

static struct t2s_config *
make_config(const char *tun, const char *proxy, unsigned *hooked)
{
    static const char *const keys[][2] = {
        {"tun-ipv4", "198.18.0.1/15"}, {"mtu", "1500"}, {"loglevel", "info"}};
    struct t2s_config *cfg = t2s_config_new();
    char err[256];

    if (cfg == NULL)
        return NULL;
    if (t2s_config_set(cfg, "tun", tun, err, sizeof(err)) != 0 ||
        t2s_config_set(cfg, "proxy", proxy, err, sizeof(err)) != 0)
        goto fail;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (t2s_config_set(cfg, keys[i][0], keys[i][1], err, sizeof(err)) != 0)
            goto fail;
    t2s_config_set_log(cfg, on_log, NULL);
    t2s_config_set_socket_hook(cfg, on_socket, hooked);
    return cfg;
fail:
    fprintf(stderr, "embed: %s\n", err);
    t2s_config_free(cfg);
    return NULL;
}

static void
print_stats(const struct t2s_stats *st, unsigned hooked)
{
    printf("tcp_total=%llu err_proxy_connect=%llu udp_total=%llu "
           "tun_rx=%llu socket_hook_refused=%llu hook_calls=%u\n",
           (unsigned long long)st->tcp_total,
           (unsigned long long)st->err_proxy_connect,
           (unsigned long long)st->udp_total,
           (unsigned long long)st->tun_rx_packets,
           (unsigned long long)st->socket_hook_refused, hooked);
}

int
main(int argc, char **argv)
{
    struct timespec moment = {0, 0};
    struct t2s_config *cfg;
    struct t2s_instance *t;
    struct t2s_stats st;
    unsigned hooked = 0;
    pthread_t thread;
    void *rc;
    char err[256];

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("embed: header %s, library %s\n", T2S_VERSION, t2s_version());
        return 0;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: embed TUN_NAME PROXY_URL SECONDS\n");
        return 2;
    }
    moment.tv_sec = atoi(argv[3]);
    cfg = make_config(argv[1], argv[2], &hooked);
    if (cfg == NULL)
        return 2;
    t = t2s_create(cfg, err, sizeof(err));
    t2s_config_free(cfg); /* the instance keeps its own copy */
    if (t == NULL) {
        fprintf(stderr, "embed: %s\n", err);
        return 1;
    }
    if (pthread_create(&thread, NULL, run, t) != 0) {
        t2s_destroy(t);
        return 1;
    }
    nanosleep(&moment, NULL);
    t2s_stop(t);
    pthread_join(thread, &rc);
    t2s_get_stats(t, &st);
    t2s_destroy(t);
    print_stats(&st, __atomic_load_n(&hooked, __ATOMIC_RELAXED));
    return (intptr_t)rc == T2S_RUN_STOPPED ? 0 : 1;
}
