/*
 * The tun2proxy shape, static natives of the class T2S_JNI_T2P_CLASS (as
 * tun2proxy's src/android.rs exports them for
 * com.github.shadowsocks.bg.Tun2proxy):
 *   int run(String args, char mtu)   (or int mtu)
 *   int stop()
 * and ours, optional:
 *   boolean setProtector(Object service)   protect(int) per socket
 *   boolean setLogger(Object logger)       log(int level, String line)
 * run() blocks in the caller's thread until stop(), as tun2proxy's does;
 * it returns 0 after a stop, or a negative enum t2s_jni_run_err. stop()
 * returns 0, or -1 (T2S_JNI_BUSY's value, tun2proxy's "not running")
 * when nothing runs.
 */
#ifndef T2S_JNI_T2P_H
#define T2S_JNI_T2P_H

#include <jni.h>

/* RegisterNatives on T2S_JNI_T2P_CLASS: methods registered, -1: no class. */
int t2s_jni_t2p_register(JNIEnv *env);

#endif
