/*
 * tun2socks: command line to config, signals to the library, privileges
 * (privsep.h), the TUN descriptors of --sock-path (sock_path.h), exit code.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "args.h"
#include "config/config.h"
#include "api/instance.h"
#include "print_config.h"
#include "privsep.h"
#include "route.h"
#include "route_trust.h"
#include "scrub.h"
#include "sock_path.h"
#include "t2s.h"
#include "usage.h"

#define EXIT_USAGE 2

/*
 * The running instance. With --sock-path the main thread replaces it when
 * the app sends a new descriptor, while the watcher thread may call
 * t2s_stop() on it: both hold instance_lock; the signal handlers, which
 * run in the main thread, are blocked while it is replaced.
 */
static struct t2s_instance *instance;
static pthread_mutex_t instance_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stopping; /* SIGINT/SIGTERM seen */
static struct t2s_sock_path sock_path; /* --sock-path */
static int sock_path_on;               /* sock_path is open */
static struct t2s_config *sock_cfg;    /* main's config, for new instances */

/* The library logs through this sink only: one line to stderr (the journal
 * under systemd), one write per line so concurrent writers never
 * interleave. */
static void
log_to_stderr(int level, const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "tun2socks: %s: %s\n", t2s_log_level_name(level), line);
}

static void
on_signal(int sig)
{
    if (sig == SIGUSR1) {
        if (instance != NULL)
            t2s_request_stats_log(instance);
        return;
    }
    stopping = 1;
    if (sock_path_on)
        t2s_sock_path_wake(&sock_path); /* ends a wait for a descriptor */
    if (instance != NULL)
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

/* Parses argv and the environment, then removes the secrets from both. */
static int
parse_config(struct t2s_config *cfg, struct t2s_opts *opts, int argc,
             char **argv)
{
    char err[512];
    int rc;

    t2s_config_init(cfg);
    t2s_opts_init(opts);
    rc = t2s_args_parse(cfg, opts, argc, argv, err, sizeof(err));
    t2s_scrub_argv(argc, argv);
    t2s_scrub_environment();
    if (rc == T2S_ARGS_HELP) {
        t2s_usage_print(stdout, argv[0]);
        return 0;
    }
    if (rc == T2S_ARGS_VERSION) {
        printf("tun2socks %s\n", t2s_version());
        return 0;
    }
    if (rc != T2S_ARGS_OK) {
        t2s_config_forget_passwords(cfg);
        fprintf(stderr, "tun2socks: %s (see --help)\n", err);
        return EXIT_USAGE;
    }
    return -1; /* go on */
}

/* The watcher thread received a descriptor: end the running instance
 * (run_sock_path then switches to it). */
static void
on_new_tun(void *user)
{
    (void)user;
    pthread_mutex_lock(&instance_lock);
    if (instance != NULL)
        t2s_stop(instance);
    pthread_mutex_unlock(&instance_lock);
}

/*
 * Replaces the instance by one on the descriptor fd (ours; the old one is
 * closed). Returns 0, or -1 (error printed, no instance left).
 */
static int
switch_tun(struct t2s_config *cfg, int fd)
{
    sigset_t sigs, old;
    struct t2s_instance *next;
    char err[512];

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    pthread_mutex_lock(&instance_lock);
    t2s_destroy(instance);
    instance = NULL;
    pthread_mutex_unlock(&instance_lock);
    close(cfg->tun_fd);
    cfg->tun_fd = fd;
    next = t2s_create(cfg, err, sizeof(err));
    pthread_mutex_lock(&instance_lock);
    instance = next;
    /* one more arrived while there was no instance to stop */
    if (next != NULL && t2s_sock_path_pending(&sock_path))
        t2s_stop(next);
    pthread_mutex_unlock(&instance_lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (next == NULL) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return -1;
    }
    if (cfg->loglevel >= T2S_LOG_INFO)
        fprintf(stderr, "tun2socks: info: sock-path: switched to the new TUN "
                        "descriptor\n");
    return 0;
}

/*
 * --sock-path, after the privilege drop (capabilities are per thread: the
 * watcher starts with the final ones): runs the instance, and a new one
 * on each descriptor the app sends, until a signal or a TUN error.
 */
static int
run_sock_path(void)
{
    struct t2s_config *cfg = sock_cfg;
    char err[256];
    int rc, fd;

    if (t2s_sock_path_watch(&sock_path, on_new_tun, NULL, err, sizeof(err)) <
        0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return 1;
    }
    for (;;) {
        rc = t2s_run(instance);
        if (rc != T2S_RUN_STOPPED || stopping)
            return rc;
        fd = t2s_sock_path_take(&sock_path);
        if (fd < 0)
            return rc;
        if (switch_tun(cfg, fd) < 0)
            return 1;
    }
}

/*
 * Drops privileges and runs the loop; returns the exit code. parent: the
 * --route parent's pid, or 0.
 */
static int
run_worker(const struct t2s_privsep *priv, pid_t parent)
{
    char err[256];
    int rc;

    if (t2s_privsep_drop(priv, err, sizeof(err)) < 0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        t2s_destroy(instance);
        return 1;
    }
    /* The parent dies only by SIGKILL: so does the worker, as the one
     * process did before (the kill switch holds). Set after the drop: a
     * change of credentials clears it. */
    if (parent != 0 &&
        (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent))
        return 1;
    rc = sock_path_on ? run_sock_path() : t2s_run(instance);
    t2s_destroy(instance);
    return rc == 0 ? 0 : 1;
}

/*
 * --route: the root parent keeps nothing but the config (no descriptor, no
 * password), waits for the unprivileged worker and restores routing after
 * it ends, however it ends.
 */
static int
run_separated(const struct t2s_config *cfg, const struct t2s_opts *opts,
              const struct t2s_privsep *priv)
{
    sigset_t all, old;
    pid_t parent = getpid(), pid;
    int rc;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid = fork();
    if (pid == 0) {
        t2s_instance_after_fork(instance);
        sigprocmask(SIG_SETMASK, &old, NULL);
        _exit(run_worker(priv, parent));
    }
    if (pid < 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "tun2socks: fork: %s\n", strerror(errno));
        t2s_route_down(cfg, opts);
        t2s_destroy(instance);
        return 1;
    }
    t2s_instance_clear_secrets(instance);
    rc = t2s_privsep_wait(pid, &old);
    t2s_route_down(cfg, opts);
    return rc;
}

/*
 * --sock-path: listens (before any privilege drop: the path may need root
 * to create) and waits for the app's first descriptor, which becomes
 * cfg->tun_fd. Returns 0, 1 when a signal ended the wait (exit 0), -1 on
 * error (printed).
 */
static int
sock_path_first(struct t2s_config *cfg, const struct t2s_opts *opts)
{
    char err[512];

    /* Handlers first: the app may send SIGTERM as soon as the path
     * exists. One before sock_path_on is only in `stopping`. */
    install_signals();
    if (t2s_sock_path_open(&sock_path, opts->sock_path,
                           cfg->loglevel >= T2S_LOG_INFO, err,
                           sizeof(err)) < 0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return -1;
    }
    sock_cfg = cfg;
    sock_path_on = 1;
    if (stopping)
        return 1;
    cfg->tun_fd = t2s_sock_path_wait(&sock_path);
    return cfg->tun_fd < 0 ? 1 : 0;
}

/* At exit: the last descriptor, the listener and its path. */
static void
sock_path_end(struct t2s_config *cfg)
{
    if (!sock_path_on)
        return;
    t2s_sock_path_close(&sock_path);
    if (cfg->tun_fd >= 0)
        close(cfg->tun_fd);
    cfg->tun_fd = -1;
}

/*
 * --print-config, after what --route fills in (but nothing run): the
 * settings on stdout, never the password. Returns the exit code.
 */
static int
print_config(struct t2s_config *cfg, const struct t2s_opts *opts)
{
    char err[512];
    int rc = 0;

    if (opts->route && t2s_route_defaults(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        rc = EXIT_USAGE;
    } else if (t2s_print_config_write(stdout, cfg, opts) < 0) {
        rc = 1;
    }
    t2s_config_forget_proxies(cfg);
    return rc;
}

/* Every proxy's address (--route excludes each from the TUN's routes). */
static int
resolve_proxies(struct t2s_config *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->proxy_count; i++)
        if (t2s_proxy_addr_resolve(t2s_config_proxy_mut(cfg, i), err, errlen) <
            0)
            return -1;
    return 0;
}

/* Before the instance: the user to drop to, and what --route needs. */
static int
prepare(struct t2s_config *cfg, const struct t2s_opts *opts,
        struct t2s_privsep *priv, char *err, size_t errlen)
{
    if (t2s_privsep_plan(cfg, opts->user, priv, err, errlen) < 0)
        return -1;
    if (!opts->route)
        return 0;
    /* planned again after --route filled in its --fwmark */
    return t2s_route_trust_check(opts, err, errlen) < 0 ||
                   t2s_route_defaults(cfg, err, errlen) < 0 ||
                   resolve_proxies(cfg, err, errlen) < 0 ||
                   t2s_privsep_plan(cfg, opts->user, priv, err, errlen) < 0
               ? -1
               : 0;
}

/* main() with --sock-path (no --route): the password stays in cfg until
 * exit, as every new descriptor needs a new instance. */
static int
main_sock_path(struct t2s_config *cfg, const struct t2s_opts *opts,
               const struct t2s_privsep *priv)
{
    char err[512];
    int rc = sock_path_first(cfg, opts);

    if (rc == 0) {
        instance = t2s_create(cfg, err, sizeof(err));
        if (instance == NULL)
            fprintf(stderr, "tun2socks: %s\n", err);
    }
    if (rc == 0 && instance != NULL) {
        tune_malloc();
        rc = run_worker(priv, 0);
    } else if (rc == 0) {
        rc = 1;
    } else {
        rc = rc < 0 ? 1 : 0;
    }
    sock_path_end(cfg);
    t2s_config_forget_passwords(cfg);
    return rc;
}

int
main(int argc, char **argv)
{
    struct t2s_config cfg;
    struct t2s_opts opts;
    struct t2s_privsep priv;
    char err[512];
    int rc;

    t2s_privsep_protect();
    rc = parse_config(&cfg, &opts, argc, argv);
    if (rc >= 0)
        return rc;
    if (opts.print_config)
        return print_config(&cfg, &opts);
    /* the program's own lines (route.c) go the same way as the library's */
    t2s_log_attach(log_to_stderr, NULL, cfg.loglevel);
    if (prepare(&cfg, &opts, &priv, err, sizeof(err)) < 0) {
        t2s_config_forget_passwords(&cfg);
        fprintf(stderr, "tun2socks: %s\n", err);
        return EXIT_USAGE;
    }
    t2s_config_set_log(&cfg, log_to_stderr, NULL);
    if (opts.sock_path[0] != '\0')
        return main_sock_path(&cfg, &opts, &priv);
    instance = t2s_create(&cfg, err, sizeof(err));
    t2s_config_forget_passwords(&cfg);
    if (instance == NULL) {
        fprintf(stderr, "tun2socks: %s\n", err);
        return EXIT_USAGE;
    }
    install_signals();
    tune_malloc();
    if (opts.route && t2s_route_up(&cfg, &opts, err, sizeof(err)) < 0) {
        fprintf(stderr, "tun2socks: %s\n", err);
        t2s_route_down(&cfg, &opts);
        t2s_destroy(instance);
        return 1;
    }
    if (opts.route)
        return run_separated(&cfg, &opts, &priv);
    return run_worker(&priv, 0);
}
