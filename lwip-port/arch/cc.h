/*
 * Compiler and platform glue for lwIP on Linux/glibc.
 *
 * lwIP's diagnostics go to the tun2socks log (stderr), never to stdout: an
 * embedding application may own stdout. A failed LWIP_ASSERT logs one
 * error line and aborts, in every build: lwIP's assertions guard its own
 * invariants (pbuf chains, pcb lists), and carrying on past a broken one
 * would turn a packet from a local app into memory corruption. A crash is
 * loud and its supervisor restarts a clean process; the packet fuzzer
 * (tests/fuzz/fuzz_packet.c) runs with assertions on to show that no input
 * reaches one.
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
#define T2S_LWIP_LOG_ERROR 0
#define T2S_LWIP_LOG_DEBUG 3

/* LWIP_PLATFORM_DIAG(("fmt", args)): one debug line per message. */
#define T2S_LWIP_DIAG(...) t2s_log(T2S_LWIP_LOG_DEBUG, __VA_ARGS__)
#define LWIP_PLATFORM_DIAG(x)                                                  \
    do {                                                                       \
        T2S_LWIP_DIAG x;                                                       \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
    do {                                                                       \
        t2s_log(T2S_LWIP_LOG_ERROR, "lwIP assertion \"%s\" failed at %s:%d",   \
                (x), __FILE__, __LINE__);                                      \
        abort();                                                               \
    } while (0)

#endif
