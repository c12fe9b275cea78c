/*
 * What a failed lwIP assertion does, and whether lwIP is clean between
 * instances. lwIP's state is process-wide, so this module's is too.
 *
 * lwIP asserts its own invariants (pbuf chains, pcb lists). Carrying on past
 * a broken one turns a packet into memory corruption, and aborting would
 * kill the program that embeds us. So every library entry point that runs
 * lwIP code (t2s_create, t2s_run, t2s_destroy) arms a jump buffer first; a
 * failed LWIP_ASSERT (arch/cc.h) logs one error line through the instance's
 * sink, marks lwIP broken for the rest of the process and longjmps back to
 * that entry point, which returns an error. Nothing unwound that way may
 * call lwIP again: the instance is marked unusable, t2s_destroy() frees only
 * what does not touch lwIP, and t2s_create() refuses from then on.
 *
 * Loop-owning thread only (lwIP is single-threaded).
 */
#ifndef T2S_LWIP_GUARD_H
#define T2S_LWIP_GUARD_H

#include <setjmp.h>

/*
 * Arms jb: until t2s_lwip_guard_disarm(), a failed lwIP assertion returns
 * through longjmp(*jb, 1). The caller calls setjmp(*jb) before, in the
 * frame that stays alive while lwIP runs. Not nested.
 */
void t2s_lwip_guard_arm(jmp_buf *jb);
void t2s_lwip_guard_disarm(void);

/* Nonzero once an lwIP assertion failed in this process. */
int t2s_lwip_guard_broken(void);

/* Nonzero while lwIP holds no pcb (TCP or UDP) and no default netif (the
 * one netif: LWIP_SINGLE_NETIF): the state a
 * new instance must find, and t2s_destroy() must leave. */
int t2s_lwip_guard_idle(void);

/*
 * LWIP_PLATFORM_ASSERT (arch/cc.h). With no buffer armed (lwIP called by
 * code outside the library's entry points, e.g. a unit test that drives
 * lwIP directly) there is no one to return to: it aborts, as before.
 */
void t2s_lwip_guard_assert(const char *msg, const char *file, int line)
    __attribute__((noreturn));

#endif
