/*
 * Embedding API. One instance per process (lwIP keeps global state).
 *
 *   struct t2s_instance *t = t2s_create(&cfg, err, sizeof err);
 *   t2s_run(t);          // blocks in the event loop until t2s_stop()
 *   t2s_destroy(t);
 *
 * t2s_stop() and t2s_request_stats_log() may be called from any thread and
 * from signal handlers. t2s_get_stats() may be called from any thread while
 * the instance exists. The library never calls exit() and never installs
 * signal handlers.
 */
#ifndef T2S_H
#define T2S_H

#include <stddef.h>

#include "config/config.h"
#include "core/stats.h"

struct t2s_instance;

/*
 * Opens (or adopts cfg->tun_fd) the TUN device, resolves the proxy, sets up
 * lwIP and the loop. cfg is copied. NULL with one line in err on failure.
 */
struct t2s_instance *t2s_create(const struct t2s_config *cfg, char *err,
                                size_t errlen);

/* Runs the loop until t2s_stop(). Returns 0, or -1 on a fatal TUN error. */
int t2s_run(struct t2s_instance *t);

/* Asks the loop to close every session and return from t2s_run(). */
void t2s_stop(struct t2s_instance *t);

/* Asks the loop to log the counters at INFO (as SIGUSR1 does). */
void t2s_request_stats_log(struct t2s_instance *t);

/* Copies the counters. */
void t2s_get_stats(struct t2s_instance *t, struct t2s_stats *out);

/*
 * In a child of fork() that will run t: gives it its own loop backend
 * (libev's ev_loop_fork). The parent must not use t afterwards, except
 * t2s_clear_secrets().
 */
void t2s_after_fork(struct t2s_instance *t);

/* Zeroes the proxy credentials held by t (a process that will not run it). */
void t2s_clear_secrets(struct t2s_instance *t);

/*
 * Closes the TUN (if it opened it), frees everything, credentials zeroed
 * first. Not while running.
 */
void t2s_destroy(struct t2s_instance *t);

#endif
