/*
 * What glibc has and Android's bionic lacks, for the NDK build only:
 * CMakeLists.txt force-includes this header (-include) when ANDROID is
 * set, so no source file carries an #ifdef. It includes no header: a
 * system header read before a file's own feature macros (_POSIX_C_SOURCE
 * in examples/embed.c) would hide declarations from that file. Each
 * function is renamed with a macro, so a bionic that declares the real
 * one does not clash. Not compiled by CI (no NDK there): see README,
 * "Android NDK and cross builds".
 */
#ifndef T2S_ANDROID_COMPAT_H
#define T2S_ANDROID_COMPAT_H

#ifdef __ANDROID__
/* Secrets are wiped with it: the barrier keeps the compiler from
 * dropping a memset() whose buffer is dead afterwards. */
static inline void
t2s_android_compat_explicit_bzero(void *p, __SIZE_TYPE__ n)
{
    __builtin_memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
#define explicit_bzero t2s_android_compat_explicit_bzero

/* Closes every descriptor from low up (the --route parent and the route
 * script's child: tun2socks/privsep.c, route.c); in android_compat.c,
 * which may include <unistd.h>. */
void t2s_android_compat_closefrom(int low);
#define closefrom t2s_android_compat_closefrom
#endif

#endif
