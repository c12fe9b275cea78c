/*
 * The forwarder under test: a t2s instance on a datagram socketpair (the
 * "TUN"), running t2s_run() in its own thread.
 */
#ifndef T2S_TEST_FWD_H
#define T2S_TEST_FWD_H

#include <pthread.h>

#include "fake_proxy.h"
#include "pkt.h"
#include "config/config.h"
#include "core/log.h"
#include "t2s.h"

struct fwd_opts {
    unsigned connect_timeout_ms; /* 0: 3000 */
    unsigned idle_timeout_ms;    /* 0: none */
    unsigned max_conns;          /* 0: default */
    size_t memory_limit;         /* --memory-limit bytes; 0: default */
    const char *userinfo;        /* "user:pass" in the proxy URL, or NULL */
    int pipeline;                /* cfg.socks_pipeline */
    /* Last word on the config before t2s_create(), or NULL. */
    void (*config)(struct t2s_config *cfg);
};

struct fwd {
    struct t2s_instance *t;
    pthread_t thread;
    int sv[2];   /* sv[0]: the kernel's end, sv[1]: the TUN fd */
    struct tk k; /* the kernel */
    int run_rc;  /* t2s_run()'s result */
    int running;
};

/* Creates and starts the instance; fails the test on error. */
void fwd_start(struct fwd *f, const struct fake_proxy *px,
               const struct fwd_opts *o);

/* t2s_stop() and join, without destroying: what the stop sent to the
 * kernel can still be read. */
void fwd_halt(struct fwd *f);

/* Stops, joins, copies the final counters, destroys, closes both ends. */
void fwd_stop(struct fwd *f, struct t2s_stats *st);

void fwd_stats(struct fwd *f, struct t2s_stats *st);

/* Waits until the counter field reaches value (other threads keep
 * running; the kernel's packets are dispatched meanwhile). 0 or -1. */
#define FWD_WAIT_STAT(f, field, value, timeout_ms)                             \
    fwd_wait_stat((f), offsetof(struct t2s_stats, field), (value), (timeout_ms))
int fwd_wait_stat(struct fwd *f, size_t offset, uint64_t value, int timeout_ms);

#endif
