/* Compiler and platform glue for lwIP on Linux/glibc. */
#ifndef T2S_LWIP_ARCH_CC_H
#define T2S_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_RAND() ((u32_t)random())

#define LWIP_PLATFORM_DIAG(x)                                                  \
    do {                                                                       \
        printf x;                                                              \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
    do {                                                                       \
        fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x,          \
                __FILE__, __LINE__);                                           \
        abort();                                                               \
    } while (0)

#endif
