/*
 * Compiler and platform glue for lwIP on Linux/glibc.
 *
 * lwIP's diagnostics go to the tun2socks log (the live instance's log sink,
 * core/log.h), never to stdout or stderr: an embedding application owns
 * those. LWIP_ASSERT stays on in every build: lwIP's assertions guard its
 * own invariants (pbuf chains, pcb lists), and carrying on past a broken
 * one would turn a packet from a local app into memory corruption. A failed
 * one logs one error line and leaves lwIP through the jump buffer of the
 * library entry point that called it (lwip_guard.h): t2s_run() returns
 * T2S_RUN_ERR_INTERNAL, the host program lives on, and no instance can be
 * created in the process any more (lwIP's globals cannot be trusted). The
 * packet fuzzer (tests/fuzz/fuzz_packet.c) runs with assertions on to show
 * that no input reaches one.
 */
#ifndef T2S_LWIP_ARCH_CC_H
#define T2S_LWIP_ARCH_CC_H

#include <stdlib.h>
#include <sys/time.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_RAND() ((u32_t)random())

/* log.h is not on lwIP's include path: the same declaration as there, and
 * the levels of enum t2s_log_level. */
void t2s_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define T2S_LWIP_LOG_DEBUG 3

/* LWIP_PLATFORM_DIAG(("fmt", args)): one debug line per message. */
#define T2S_LWIP_DIAG(...) t2s_log(T2S_LWIP_LOG_DEBUG, __VA_ARGS__)
#define LWIP_PLATFORM_DIAG(x)                                                  \
    do {                                                                       \
        T2S_LWIP_DIAG x;                                                       \
    } while (0)
/* lwip_guard.h: logs, then longjmps out of lwIP; does not return. */
void t2s_lwip_guard_assert(const char *msg, const char *file, int line)
    __attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) t2s_lwip_guard_assert((x), __FILE__, __LINE__)

#endif
