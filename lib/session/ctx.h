/*
 * The small context every module of an instance shares: the loop, the
 * configuration, the counters, the rate limit of per-connection error
 * lines, the id counter for logs, and the list of sessions closed during
 * the current loop iteration. The instance (api/instance.c) owns it; the
 * relays (tcp/, udp/ with its DNS relay) keep their own state in their own
 * structs and see each other only through their headers.
 */
#ifndef T2S_CTX_H
#define T2S_CTX_H

#include <ev.h>
#include <stdint.h>

#include "config/config.h"
#include "core/list.h"
#include "core/log.h"
#include "core/stats.h"
#include "upstream/proxy_pool.h"

struct t2s_ctx {
    struct ev_loop *loop;           /* the instance's loop */
    const struct t2s_config *cfg;   /* the instance's copy */
    struct t2s_stats stats;         /* counters; written in the loop thread */
    struct t2s_log_limit err_limit; /* per-connection error lines */
    uint64_t next_id;               /* last id given to a session */
    int stopping;                   /* shutdown in progress */
    struct t2s_list dead;           /* sessions closed in this iteration,
                                       freed by t2s_session_reap() */
    struct t2s_proxy_pool *pool;    /* which proxy a new session uses (the
                                       instance's); NULL: always the first */
};

/* A new id for a session's log lines. */
static inline uint64_t
t2s_ctx_next_id(struct t2s_ctx *ctx)
{
    return ++ctx->next_id;
}

#endif
