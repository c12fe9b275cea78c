/*
 * What glibc has and Android's bionic lacks, for the NDK build only:
 * CMakeLists.txt force-includes this header (-include) when ANDROID is
 * set, so no source file carries an #ifdef. Each function is renamed
 * with a macro, so a bionic that declares the real one later does not
 * clash. Not compiled by CI (no NDK there): see README, "Android NDK
 * and cross builds".
 */
#ifndef T2S_ANDROID_COMPAT_H
#define T2S_ANDROID_COMPAT_H

#ifdef __ANDROID__
#include <string.h>
#include <unistd.h>

/* Secrets are wiped with it: the barrier keeps the compiler from
 * dropping a memset() whose buffer is dead afterwards. */
static inline void
t2s_android_explicit_bzero(void *p, size_t n)
{
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
#define explicit_bzero t2s_android_explicit_bzero

/* The --route parent closes the worker's descriptors (privsep.c). */
static inline void
t2s_android_closefrom(int low)
{
    long max = sysconf(_SC_OPEN_MAX);

    for (long fd = low; fd < max; fd++)
        (void)close((int)fd);
}
#define closefrom t2s_android_closefrom
#endif

#endif
