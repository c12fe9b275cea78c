/*
 * The hev-socks5-tunnel shape (what v2rayNG and SocksTun call), static
 * natives of the class T2S_JNI_HEV_CLASS:
 *   boolean TProxyStartService(String configPath, int fd)  (or void)
 *   boolean TProxyStopService()                            (or void)
 *   boolean TProxyIsRunning()
 *   long[]  TProxyGetStats()
 * and ours, optional:
 *   boolean TProxySetProtector(Object service)  protect(int) per socket
 *   boolean TProxySetLogger(Object logger)      log(int level, String line)
 */
#ifndef T2S_JNI_HEV_H
#define T2S_JNI_HEV_H

#include <jni.h>

/* RegisterNatives on T2S_JNI_HEV_CLASS: methods registered, -1: no class. */
int t2s_jni_hev_register(JNIEnv *env);

#endif
