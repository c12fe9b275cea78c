/* tun2socks: command line to config, signals to the library, exit code. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "route.h"
#include "t2s.h"

#define EXIT_USAGE 2

static struct t2s_instance *instance;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        t2s_request_stats_log(instance);
    else
        t2s_stop(instance);
}

static void
install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Bulk transfers allocate and free megabytes a second: lwIP segments of up
 * to 64 KiB, and a session's proxy-bound queue, which grows to 1 MiB while
 * the proxy socket is full and is freed once drained. glibc serves blocks
 * over 128 KiB with mmap(2) and gives the heap top back past 128 KiB free;
 * either way the memory comes back as fresh zeroed pages: 30,000 to 90,000
 * page faults in 4 s of one iperf3 stream, a tenth of tun2socks's CPU. Up
 * to 2 MiB blocks come from the heap here, and up to 8 MiB of free heap is
 * kept: the churn stops and memory stays bounded.
 */
#define MMAP_FROM_BYTES (2 * 1024 * 1024)
#define HEAP_KEEP_BYTES (8 * 1024 * 1024)

static void
tune_malloc(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    (void)mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES);
    (void)mallopt(M_TRIM_THRESHOLD, HEAP_KEEP_BYTES);
#endif
}

int
main(int argc, char **argv)
{
    struct t2s_config cfg;
    char err[512];
    int rc;

    t2s_config_init(&cfg);
    rc = t2s_config_from_args(&cfg, argc, argv, err, sizeof(err));
    if (rc == T2S_CONFIG_HELP) {
        t2s_config_usage(stdout, argv[0]);
        return 0;
    }
    if (rc == T2S_CONFIG_VERSION) {
        printf("tun2socks %s\n", T2S_VERSION);
        return 0;
    }
    if (rc != T2S_CONFIG_OK) {
        fprintf(stderr, "tun2socks: %s (see --help)\n", err);
        return EXIT_USAGE;
    }
    if (cfg.route &&
        (t2s_route_prepare(&cfg, err, sizeof(err)) < 0 ||
         t2s_config_resolve_proxy(&cfg.proxy, err, sizeof(err)) < 0)) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return EXIT_USAGE;
    }
    instance = t2s_create(&cfg, err, sizeof(err));
    explicit_bzero(cfg.proxy.pass, sizeof(cfg.proxy.pass));
    if (instance == NULL) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return EXIT_USAGE;
    }
    install_signals();
    tune_malloc();
    if (cfg.route && t2s_route_up(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        t2s_route_down(&cfg);
        t2s_destroy(instance);
        return 1;
    }
    rc = t2s_run(instance);
    if (cfg.route)
        t2s_route_down(&cfg);
    t2s_destroy(instance);
    return rc == 0 ? 0 : 1;
}
