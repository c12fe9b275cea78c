/*
 * libt2s-jni.so's entry points: JNI_OnLoad registers both shapes' natives
 * on the classes named at build time (T2S_JNI_CLASS, T2S_JNI_T2P_CLASS);
 * an app needs only one of them. Nothing else is exported.
 */
#include "jni_bridge.h"
#include "jni_hev.h"
#include "jni_register.h"
#include "jni_t2p.h"

JNIEXPORT jint JNICALL
JNI_OnLoad(JavaVM *vm, void *reserved)
{
    void *env = NULL;
    int hev, t2p;

    (void)reserved;
    if ((*vm)->GetEnv(vm, &env, JNI_VERSION_1_6) != JNI_OK)
        return JNI_ERR;
    t2s_jni_bridge_init(vm);
    hev = t2s_jni_hev_register(env);
    t2p = t2s_jni_t2p_register(env);
    if (hev <= 0 && t2p <= 0)
        t2s_jni_bridge_logf(NULL, T2S_LOG_ERROR,
                            "jni: no natives registered: neither %s nor %s "
                            "declares them (see T2S_JNI_CLASS)",
                            T2S_JNI_HEV_CLASS, T2S_JNI_T2P_CLASS);
    return JNI_VERSION_1_6;
}

JNIEXPORT void JNICALL
JNI_OnUnload(JavaVM *vm, void *reserved)
{
    void *env = NULL;

    (void)reserved;
    if ((*vm)->GetEnv(vm, &env, JNI_VERSION_1_6) == JNI_OK)
        t2s_jni_bridge_unload(env);
}
