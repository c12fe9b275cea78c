/*
 * The TCP relay (tcp_relay.h): listener, admission, per-iteration work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "tcp/tcp_relay.h"
#include "tcp/tcp_session.h"
#include "upstream/target.h"
#include "upstream/upstream.h"

/* A destination the proxy's protocol cannot carry (SOCKS4 and IPv6...):
 * refused before any socket, counted as the refusal a SOCKS5 server would
 * give ("address type not supported"), the reason logged once; later ones
 * at debug level. */
static int
relay_carries(struct t2s_tcp_relay *r, const struct tcp_pcb *npcb,
              const struct t2s_socks5_addr *dst)
{
    const char *why = t2s_upstream_refusal(&r->ctx->cfg->proxy, dst);
    char who[T2S_TCP_SESSION_WHO_LEN];
    int level = r->refusal_logged ? T2S_LOG_DEBUG : T2S_LOG_WARN;

    if (why == NULL)
        return 1;
    T2S_STAT_INC(&r->ctx->stats, err_proxy_reply);
    if (t2s_log_threshold >= level) {
        t2s_tcp_session_describe(npcb, who, sizeof(who));
        t2s_log(level, "refusing %s: %s%s", who, why,
                r->refusal_logged ? ""
                                  : " (said once; counted in err_proxy_reply)");
    }
    r->refusal_logged = 1;
    return 0;
}

/* Whether a new connection may have a session: 0 after logging (rate
 * limited) and counting why not. */
static int
relay_admits(struct t2s_tcp_relay *r, const struct tcp_pcb *npcb,
             long fake_entry, const struct t2s_socks5_addr *dst)
{
    struct t2s_stats *st = &r->ctx->stats;
    char who[T2S_TCP_SESSION_WHO_LEN];

    if (fake_entry == -2) {
        T2S_STAT_INC(st, err_proxy_reply);
        t2s_tcp_session_describe(npcb, who, sizeof(who));
        t2s_log_limited(&r->ctx->err_limit, T2S_LOG_WARN,
                        "refusing %s: fake address with no name (stale DNS "
                        "answer from an earlier run?)",
                        who);
        return 0;
    }
    if (!relay_carries(r, npcb, dst))
        return 0;
    if (r->ctx->stopping || st->tcp_active + st->tcp_orphans >= r->max_conns) {
        T2S_STAT_INC(st, tcp_refused_limit);
        t2s_tcp_session_describe(npcb, who, sizeof(who));
        t2s_log_limited(&r->ctx->err_limit, T2S_LOG_WARN,
                        "refusing %s: connection limit %u reached", who,
                        r->max_conns);
        return 0;
    }
    if (!t2s_mem_admit()) {
        T2S_STAT_INC(st, mem_refused);
        t2s_tcp_session_describe(npcb, who, sizeof(who));
        t2s_log_limited(&r->ctx->err_limit, T2S_LOG_WARN,
                        "refusing %s: memory budget of %zu bytes nearly spent",
                        who, t2s_mem_limit());
        return 0;
    }
    return 1;
}

/* t2s_tcp_ext_syn_fn: every new connection, before any SYN|ACK. */
static int
relay_on_syn(void *arg, struct tcp_pcb *npcb)
{
    struct t2s_tcp_relay *r = arg;
    struct t2s_tcp_session *s = NULL;
    char who[T2S_TCP_SESSION_WHO_LEN];
    struct t2s_socks5_addr dst;
    long fake_entry;

    fake_entry =
        t2s_target_from_ip(r->fakeip, &npcb->local_ip, npcb->local_port, &dst);
    if (relay_admits(r, npcb, fake_entry, &dst) &&
        (s = t2s_tcp_session_new(r, npcb, &dst, fake_entry)) == NULL) {
        int e = errno;

        if (t2s_upstream_is_shortage(e))
            T2S_STAT_INC(&r->ctx->stats, err_resource);
        t2s_log_limited(&r->ctx->err_limit, T2S_LOG_WARN,
                        "refusing a connection: %s", strerror(e));
    }
    if (s == NULL) {
        tcp_abort(npcb); /* RST: the app's connect() fails at once */
        return 1;
    }
    if (t2s_log_threshold >= T2S_LOG_DEBUG) {
        t2s_tcp_session_describe(npcb, who, sizeof(who));
        t2s_debug("#%llu %s: new connection", (unsigned long long)s->base.id,
                  who);
    }
    return 1;
}

/* lwIP's accept callback: arg is the session bound when the SYN came. */
static err_t
relay_on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct t2s_tcp_session *s = arg;

    if (pcb == NULL || err != ERR_OK)
        return ERR_VAL;
    if (s != NULL)
        t2s_tcp_session_established(s);
    return ERR_OK;
}

/* Free blocks kept for reuse: T2S_BLK_CACHE, or a 16th of a small memory
 * budget (an idle instance under --memory-limit 8M held 4 MiB of cached
 * blocks, half its budget, for good). */
static unsigned
relay_blk_cache(void)
{
    size_t l = t2s_mem_limit(), n = l / 16 / T2S_BLK_SIZE;

    if (l == 0 || n >= T2S_BLK_CACHE)
        return T2S_BLK_CACHE;
    return n > 2 ? (unsigned)n : 2;
}

int
t2s_tcp_relay_init(struct t2s_tcp_relay *r, struct t2s_ctx *ctx,
                   struct t2s_fakeip *fakeip, uint8_t *scratch,
                   unsigned max_conns, char *err, size_t errlen)
{
    r->ctx = ctx;
    r->fakeip = fakeip;
    r->max_conns = max_conns;
    t2s_list_init(&r->sessions);
    t2s_list_init(&r->dirty);
    t2s_list_init(&r->mem_waiters);
    t2s_blkq_pool_init(&r->blkpool, relay_blk_cache(), T2S_BLK_BUDGET);
    r->scratch = scratch;
    if (t2s_tcp_ext_listen_any(&r->listener, relay_on_syn, relay_on_accept, r) <
        0) {
        snprintf(err, errlen, "cannot set up the lwIP stack");
        return -1;
    }
    return 0;
}

unsigned
t2s_tcp_relay_max_conns(const struct t2s_tcp_relay *r)
{
    return r->max_conns;
}

/*
 * Proxy reads stop at 7/8 of the memory budget (where new sessions are
 * refused too) and resume below 3/4: the top eighth stays for what apps
 * send. Stopping them only at the limit, where the TUN sheds app payloads,
 * let downloads keep the budget full: measured with 100 downloads under
 * --memory-limit 8M, every payload of other connections was shed for as
 * long as the downloads ran (iperf3's control connection starved).
 */
int
t2s_tcp_relay_mem_full(void)
{
    return !t2s_mem_admit();
}

static int
relay_mem_room_again(void)
{
    size_t l = t2s_mem_limit();

    return l == 0 || t2s_mem_used() < l - l / 4;
}

/* Sessions paused by the memory budget read again once it allows. */
static void
relay_resume_mem_waiters(struct t2s_tcp_relay *r)
{
    struct t2s_list *n;

    if (t2s_list_empty(&r->mem_waiters) || !relay_mem_room_again())
        return;
    while ((n = t2s_list_first(&r->mem_waiters)) != NULL) {
        struct t2s_tcp_session *s = T2S_TCP_SESSION_OF(n, mem_link);

        t2s_list_del(n);
        s->read_paused = 0;
        t2s_tcp_session_update_io(s);
    }
}

/* Once a second: count the closing pcbs no session owns (they take
 * connection slots like sessions), and over the memory budget abort those
 * that still hold data. */
static void
relay_check_orphans(struct t2s_tcp_relay *r)
{
    ev_tstamp now = ev_now(r->ctx->loop);

    if (now < r->orphan_check_at)
        return;
    r->orphan_check_at = now + 1.0;
    T2S_STAT_SET(&r->ctx->stats, tcp_orphans,
                 t2s_tcp_ext_orphans(t2s_mem_over()));
}

void
t2s_tcp_relay_flush(struct t2s_tcp_relay *r)
{
    struct t2s_list *n;

    if (r->ctx == NULL)
        return;
    relay_check_orphans(r);
    relay_resume_mem_waiters(r);
    /* a closed session has left the list (its release) */
    while ((n = t2s_list_first(&r->dirty)) != NULL) {
        struct t2s_tcp_session *s = T2S_TCP_SESSION_OF(n, dirty_link);

        t2s_list_del(n);
        /* Acknowledge now rather than on lwIP's 250 ms timer. */
        if (s->pcb != NULL)
            t2s_tcp_ext_output(s->pcb);
    }
}

void
t2s_tcp_relay_close_all(struct t2s_tcp_relay *r)
{
    if (r->ctx != NULL)
        t2s_session_close_all(&r->sessions, T2S_SESSION_ABORT, "shutting down");
}

void
t2s_tcp_relay_shutdown(struct t2s_tcp_relay *r)
{
    if (r->ctx == NULL)
        return;
    t2s_tcp_ext_unlisten(&r->listener);
    /* Sessions are closed and their pcbs detached; what lwIP still holds
     * (closing handshakes, TIME_WAIT) goes now. */
    t2s_tcp_ext_abort_all();
    t2s_blkq_pool_destroy(&r->blkpool);
    r->ctx = NULL;
}
