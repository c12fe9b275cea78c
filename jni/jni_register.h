/*
 * RegisterNatives one method at a time, so that a class declaring only
 * some of them (an older app, a class without our optional natives) still
 * gets those it declares. A name may be listed with several signatures
 * (hev-socks5-tunnel's natives returned void before they returned
 * boolean): the first one the class declares is registered.
 */
#ifndef T2S_JNI_REGISTER_H
#define T2S_JNI_REGISTER_H

#include <jni.h>
#include <stddef.h>

/* The classes the natives are registered on (CMake: T2S_JNI_CLASS,
 * T2S_JNI_T2P_CLASS), as FindClass takes them. */
#ifndef T2S_JNI_HEV_CLASS
#define T2S_JNI_HEV_CLASS "hev/htproxy/TProxyService"
#endif
#ifndef T2S_JNI_T2P_CLASS
#define T2S_JNI_T2P_CLASS "com/github/shadowsocks/bg/Tun2proxy"
#endif

struct t2s_jni_native {
    const char *name;
    const char *sig;
    void (*fn)(void); /* T2S_JNI_FN(the native) */
};

/* Any function as the table's type (void (*)(void) matches all). */
#define T2S_JNI_FN(f) ((void (*)(void))(f))

/*
 * Registers on the class cls_name ("a/b/C") every method of m[0..n) it
 * declares. Returns how many were registered; -1 when the class is not
 * found. Leaves no exception pending.
 */
int t2s_jni_register(JNIEnv *env, const char *cls_name,
                     const struct t2s_jni_native *m, size_t n);

#endif
