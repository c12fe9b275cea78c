/*
 * libt2s: a transparent TUN-to-SOCKS5 forwarder as a library. This header is
 * the whole public API; nothing else is installed.
 *
 *   struct t2s_config *cfg = t2s_config_new();
 *   t2s_config_set(cfg, "tun-fd", "5", err, sizeof err);
 *   t2s_config_set(cfg, "proxy", "socks5://198.18.0.1:1080", err, sizeof err);
 *   t2s_config_set_log(cfg, my_log, my_data);      // optional
 *   struct t2s_instance *t = t2s_create(cfg, err, sizeof err);
 *   t2s_config_free(cfg);                          // t keeps its own copy
 *   int rc = t2s_run(t);   // blocks in the event loop until t2s_stop()
 *   t2s_destroy(t);
 *
 * One instance at a time per process: lwIP keeps global state. A second
 * t2s_create() while one exists fails with an error saying so.
 *
 * Threads: every call on a config, and t2s_create/run/destroy, from one
 * thread at a time. t2s_stop() and t2s_request_stats_log() may be called
 * from any thread and from signal handlers while the instance exists;
 * t2s_get_stats() from any thread while it exists.
 *
 * The library never calls exit() or abort(), installs no signal handler and
 * writes nothing to stdout or stderr: its log lines go to the sink set with
 * t2s_config_set_log(), or nowhere.
 */
#ifndef T2S_H
#define T2S_H

#include <stddef.h>
#include <stdint.h>

#include "t2s_version.h" /* T2S_VERSION_MAJOR/MINOR/PATCH, T2S_VERSION */

#if defined(__GNUC__)
#define T2S_API __attribute__((visibility("default")))
#else
#define T2S_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, e.g. "0.1.0" (may differ from T2S_VERSION, the
 * version of the header compiled against). */
T2S_API const char *t2s_version(void);

/* ---- configuration ---- */

struct t2s_config; /* opaque */

/* Log levels: a sink receives lines at or below the "loglevel" setting. */
enum t2s_log_level {
    T2S_LOG_ERROR = 0,
    T2S_LOG_WARN = 1,
    T2S_LOG_INFO = 2,
    T2S_LOG_DEBUG = 3,
};

/* "error", "warn", "info", "debug" for a level; "?" otherwise. */
T2S_API const char *t2s_log_level_name(int level);

/*
 * A log sink: one call per line, level an enum t2s_log_level, line without
 * a trailing newline and never holding a credential. Called on the thread
 * running t2s_create(), t2s_run() or t2s_destroy(); line is valid only
 * during the call.
 */
typedef void (*t2s_log_fn)(int level, const char *line, void *user);

/*
 * A socket hook: called with every socket the library opens toward the
 * proxy (TCP connections, DNS over TCP, UDP relay sockets) and to the
 * --dns-gateway server (its UDP sockets), before its
 * connect(), on the loop thread. Return 0 to go on; non-zero refuses that
 * one connection (the app sees a reset, a UDP association fails), counted
 * in socket_hook_refused. The library owns fd: do not close it. This is
 * where an Android app calls VpnService.protect(fd). With the
 * "protect-path" option as well, the protect server is asked first and
 * the hook sees only sockets it protected.
 */
typedef int (*t2s_socket_fn)(int fd, void *user);

/* A config with every default; NULL when out of memory. */
T2S_API struct t2s_config *t2s_config_new(void);

/* Zeroes the credentials it holds and frees it. NULL is a no-op. */
T2S_API void t2s_config_free(struct t2s_config *cfg);

/*
 * Sets one option by its command-line name without dashes, as the config
 * file does: "proxy" (socks5://[user[:pass]@]host:port), "tun" or "tun-fd",
 * "mtu", "loglevel", "dns", "max-conns", ... (tun2socks --help lists them).
 * Returns 0, or -1 with one line in err (never holding a password).
 */
T2S_API int t2s_config_set(struct t2s_config *cfg, const char *key,
                           const char *value, char *err, size_t errlen);

/* Reads "key = value" lines as t2s_config_set() takes them. 0 or -1. */
T2S_API int t2s_config_load_file(struct t2s_config *cfg, const char *path,
                                 char *err, size_t errlen);

/* Sets (fn non-NULL) or removes the log sink; user is passed back. */
T2S_API void t2s_config_set_log(struct t2s_config *cfg, t2s_log_fn fn,
                                void *user);

/* Sets (fn non-NULL) or removes the socket hook; user is passed back. */
T2S_API void t2s_config_set_socket_hook(struct t2s_config *cfg,
                                        t2s_socket_fn fn, void *user);

/* ---- counters ---- */

/*
 * Counters of one instance, all since t2s_create() unless "now". Fields
 * are only ever added at the end.
 */
struct t2s_stats {
    uint64_t tcp_active;          /* TCP sessions open now */
    uint64_t tcp_total;           /* TCP sessions ever accepted */
    uint64_t tcp_refused_limit;   /* SYNs refused by max-conns */
    uint64_t bytes_up;            /* TCP payload bytes app -> proxy */
    uint64_t bytes_down;          /* TCP payload bytes proxy -> app */
    uint64_t err_proxy_connect;   /* proxy TCP connect failed */
    uint64_t err_proxy_auth;      /* method/auth rejected by the proxy */
    uint64_t err_proxy_reply;     /* CONNECT answered with REP != 0 */
    uint64_t err_proxy_proto;     /* malformed replies from the proxy */
    uint64_t err_timeout_connect; /* connect+handshake timed out */
    uint64_t err_timeout_idle;    /* sessions ended by the idle timeout */
    uint64_t err_reset_app;       /* the app reset the connection */
    uint64_t err_reset_proxy;     /* proxy reset / socket error */
    uint64_t err_resource;        /* out of memory / descriptors */
    uint64_t udp_active;          /* UDP associations open now */
    uint64_t udp_total;           /* UDP associations ever opened */
    uint64_t udp_pkts_up;         /* datagrams app -> proxy */
    uint64_t udp_pkts_down;       /* datagrams proxy -> app */
    uint64_t udp_bytes_up;        /* UDP payload bytes app -> proxy */
    uint64_t udp_bytes_down;      /* UDP payload bytes proxy -> app */
    uint64_t udp_dropped;         /* queue full, cap reached, send failed */
    uint64_t udp_unsupported;     /* dropped: the proxy has no UDP */
    uint64_t udp_frag_dropped;    /* FRAG != 0 from the relay */
    uint64_t udp_bad;             /* malformed datagrams from the relay */
    uint64_t udp_ambiguous;       /* replies two fake names could have sent */
    uint64_t err_udp_assoc;       /* UDP ASSOCIATE handshakes failed */
    uint64_t dns_fake;            /* queries answered from the fake pool */
    uint64_t dns_fakeip_full;     /* SERVFAIL: no fake-ip entry to recycle */
    uint64_t dns_tcp;             /* queries forwarded as DNS over TCP */
    uint64_t dns_tcp_failed;      /* of those, failed or timed out */
    uint64_t tun_rx_packets;      /* packets read from the TUN */
    uint64_t tun_tx_packets;      /* packets written to the TUN */
    uint64_t tun_tx_dropped;      /* TUN writes that failed */
    uint64_t mem_used;            /* bytes counted against the budget now */
    uint64_t mem_peak;            /* most bytes ever counted */
    uint64_t mem_refused;         /* new sessions refused: memory budget */
    uint64_t mem_shed;            /* TUN packets with data dropped: budget */
    uint64_t tcp_orphans;         /* closing pcbs no session owns now */
    uint64_t socket_hook_refused; /* proxy sockets the socket hook refused */
    uint64_t dns_gw;              /* queries sent to --dns-gateway */
    uint64_t dns_gw_failed;       /* of those, dropped or unsendable */
    uint64_t protect_failed;      /* proxy sockets the protect-path server
                                     refused or did not answer in time */
};

/* ---- the instance ---- */

struct t2s_instance; /* opaque */

/* What t2s_run() returns. */
enum t2s_run_result {
    T2S_RUN_STOPPED = 0,  /* t2s_stop() was called */
    T2S_RUN_ERR_TUN = -1, /* reading the TUN failed for good */
    /* lwIP found its own state broken (an assertion, logged at ERROR).
     * The instance only accepts t2s_destroy(), and no further instance can
     * be created in this process: restart it. */
    T2S_RUN_ERR_INTERNAL = -2,
};

/*
 * Opens the TUN ("tun") or adopts the descriptor "tun-fd" (never closed by
 * the library), resolves the proxy, sets up lwIP and the loop. cfg is
 * copied: the caller may free it at once. NULL with one line in err on
 * failure.
 */
T2S_API struct t2s_instance *t2s_create(const struct t2s_config *cfg, char *err,
                                        size_t errlen);

/* Runs the loop until t2s_stop(). Returns an enum t2s_run_result. */
T2S_API int t2s_run(struct t2s_instance *t);

/* Asks the loop to close every session and return from t2s_run(). */
T2S_API void t2s_stop(struct t2s_instance *t);

/* Asks the loop to log the counters at INFO (as SIGUSR1 does). */
T2S_API void t2s_request_stats_log(struct t2s_instance *t);

/* Copies the counters. The "stats-socket" option serves them to other
 * processes too (JSON, or Prometheus text for /metrics). */
T2S_API void t2s_get_stats(struct t2s_instance *t, struct t2s_stats *out);

/* One proxy of the list (--proxy given several times) as it is now. */
struct t2s_proxy_stats {
    char url[300];     /* socks5://host:port, never the credentials */
    int up;            /* 1: up, 0: marked down (probed in the background) */
    uint64_t sessions; /* sessions started on it */
    uint64_t active;   /* sessions open on it now */
    uint64_t failures; /* connects that failed or timed out */
};

/* Proxy number index (0 = the first --proxy) into *out, from any thread;
 * returns 0, or -1 when there is no such proxy. */
T2S_API int t2s_get_proxy_stats(struct t2s_instance *t, unsigned index,
                                struct t2s_proxy_stats *out);

/*
 * Closes the TUN if it opened it, frees everything, credentials zeroed.
 * Not while t2s_run() runs. NULL is a no-op.
 */
T2S_API void t2s_destroy(struct t2s_instance *t);

#ifdef __cplusplus
}
#endif

#endif
