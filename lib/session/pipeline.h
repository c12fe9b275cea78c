/*
 * --socks-pipeline auto: which handshakes send the SOCKS5 greeting and the
 * request in one write, learned per proxy. Only a SOCKS5 proxy without
 * credentials or GSSAPI (the greeting offers "no authentication" alone,
 * so the request does not depend on the method reply) is a candidate:
 *
 *   UNKNOWN  greeting, wait for the method, then the request (as "no")
 *   TRIAL    it answered "no authentication": the next handshake
 *            pipelines, and if the method reply comes but the request's
 *            reply does not within T2S_PIPELINE_TRIAL_S (a server that
 *            drops bytes behind the greeting, e.g. microsocks 1.0.3), or
 *            the proxy closes or resets the connection on them, the
 *            session starts over on a new socket without pipelining (the
 *            app's SYN is still unanswered, so nothing was promised)
 *   OK       a pipelined handshake got its reply: every one pipelines
 *   NEVER    a trial failed so: never again for this proxy (this instance)
 *
 * A pipelined handshake the proxy refuses with its method reply (05 ff:
 * the proxy now wants credentials) puts the proxy back to UNKNOWN. The
 * state lives in the pool's slot (slot->pipe); loop thread only. With
 * --socks-pipeline yes or no, or without a pool, nothing is learned.
 */
#ifndef T2S_PIPELINE_H
#define T2S_PIPELINE_H

#include "session/ctx.h"
#include "upstream/upstream.h"

enum t2s_pipeline_state {
    T2S_PIPELINE_UNKNOWN = 0,
    T2S_PIPELINE_TRIAL,
    T2S_PIPELINE_OK,
    T2S_PIPELINE_NEVER,
};

/* Seconds a trial waits for the request's reply after the method reply. */
#define T2S_PIPELINE_TRIAL_S 1.0

/* Whether a new handshake to proxy i pipelines; *trial is set when it is
 * the trial (the caller watches it, t2s_pipeline_stalled()). */
int t2s_pipeline_choose(struct t2s_ctx *ctx, unsigned i, int *trial);

/* A handshake with proxy i ended (rc T2S_UP_DONE or T2S_UP_FAIL). */
void t2s_pipeline_learn(struct t2s_ctx *ctx, unsigned i,
                        const struct t2s_upstream *up, int rc);

/* Whether a trial handshake is waiting for the request's reply after the
 * method reply came: the proxy may have dropped the request. */
int t2s_pipeline_waiting_reply(const struct t2s_upstream *up);

/* Proxy i's trial stalled: no more pipelining to it. */
void t2s_pipeline_stalled(struct t2s_ctx *ctx, unsigned i);

#endif
