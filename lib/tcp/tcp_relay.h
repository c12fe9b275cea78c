/*
 * The TCP relay: the wildcard listener, admission of each new connection
 * (connection cap, memory budget, stale fake addresses), the live
 * sessions (tcp_session.h), and the work done once per loop iteration
 * (output flush, reads paused by the memory budget, orphan count). It owns
 * its state; the instance embeds it and calls only the functions below.
 * Loop thread only.
 */
#ifndef T2S_TCP_RELAY_H
#define T2S_TCP_RELAY_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "buf/blkq.h"
#include "session/ctx.h"
#include "core/list.h"
#include "tcp_ext.h"

struct t2s_fakeip;

/* Proxy -> app reads go through a scratch buffer of this size when the
 * block pool's budget is spent (tcp_write copies then). The instance lends
 * it (UDP uses it too: both use it only within one callback). */
#define T2S_SCRATCH_SIZE (256 * 1024)
/* Proxy bytes lwIP references without a copy (blkq.h): at most this many
 * blocks in use (64 MiB), and this many kept free for reuse (4 MiB). */
#define T2S_BLK_BUDGET 1024
#define T2S_BLK_CACHE 64

struct t2s_tcp_relay {
    struct t2s_ctx *ctx;                  /* shared; NULL until init */
    struct t2s_fakeip *fakeip;            /* pool entries are pinned in,
                                             or NULL */
    struct t2s_tcp_ext_listener listener; /* every SYN */
    unsigned max_conns;                   /* effective connection cap */
    struct t2s_list sessions;             /* every live session */
    struct t2s_list dirty;                /* sessions with output to flush */
    struct t2s_list mem_waiters;          /* reads paused by the budget */
    ev_tstamp orphan_check_at;            /* next t2s_tcp_ext_orphans() */
    uint8_t *scratch;                     /* T2S_SCRATCH_SIZE bytes, lent */
    struct t2s_blkq_pool blkpool;         /* blocks for proxy -> app bytes */
    int refusal_logged; /* a destination the proxy cannot carry was
                           logged (relay_carries) */
};

/*
 * Starts listening for every TCP connection the TUN brings. fakeip (or
 * NULL) is the pool fake destinations are looked up in and whose entries
 * sessions pin; scratch (T2S_SCRATCH_SIZE bytes) stays the caller's;
 * max_conns counts sessions and orphaned pcbs. Returns 0, or
 * -1 with one line in err (t2s_tcp_relay_shutdown() undoes a partial
 * init). r is zeroed before (the instance is).
 */
int t2s_tcp_relay_init(struct t2s_tcp_relay *r, struct t2s_ctx *ctx,
                       struct t2s_fakeip *fakeip, uint8_t *scratch,
                       unsigned max_conns, char *err, size_t errlen);

/* The connection cap in effect. */
unsigned t2s_tcp_relay_max_conns(const struct t2s_tcp_relay *r);

/* Nonzero when reads from proxies must pause for the memory budget (7/8
 * of it spent); paused sessions resume below 3/4 (t2s_tcp_relay_flush). */
int t2s_tcp_relay_mem_full(void);

/* Once per loop iteration: tcp_output() for every session that queued
 * output, resumes reads the memory budget paused, counts orphans. */
void t2s_tcp_relay_flush(struct t2s_tcp_relay *r);

/* Aborts every session (shutdown); t2s_session_reap() frees them. */
void t2s_tcp_relay_close_all(struct t2s_tcp_relay *r);

/* After t2s_tcp_relay_close_all() and the reap: closes the listener,
 * aborts the pcbs lwIP still holds, frees the block pool. Idempotent. */
void t2s_tcp_relay_shutdown(struct t2s_tcp_relay *r);

#endif
