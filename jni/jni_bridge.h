/*
 * The Java side of one run: the app's protector (an object with
 * `boolean protect(int fd)`, e.g. its VpnService) and logger (an object
 * with `void log(int level, String line)`), and the library callbacks that
 * call them: the socket hook and the log sink of include/t2s.h.
 *
 * Registration: the app registers them before a start (setProtector /
 * setLogger natives); the start takes them over (t2s_jni_bridge_take) and
 * the stop releases them (t2s_jni_bridge_release), so that no global
 * reference outlives a run and a stopped VpnService is never kept alive by
 * us. A start that fails gives them back (t2s_jni_bridge_untake): the
 * next start still protects its sockets. An app that registers nothing runs as
 * before: no socket hook, log lines to logcat (Android) or stderr.
 *
 * Threads: the callbacks run on the thread of t2s_create/run/destroy; each
 * finds its JNIEnv with GetEnv, so that thread must be attached to the VM
 * (a Java thread, or the instance thread attached by jni_run.c).
 */
#ifndef T2S_JNI_BRIDGE_H
#define T2S_JNI_BRIDGE_H

#include <jni.h>

#include "t2s.h"

struct t2s_jni_bridge {
    jobject protector; /* global ref or NULL */
    jmethodID protect; /* protector's boolean protect(int) */
    jobject logger;    /* global ref or NULL */
    jmethodID log;     /* logger's void log(int, String) */
};

/* JNI_OnLoad: the VM every callback attaches to. */
void t2s_jni_bridge_init(JavaVM *vm);

/* JNI_OnUnload: releases what is still registered. */
void t2s_jni_bridge_unload(JNIEnv *env);

/* This thread's JNIEnv, or NULL when it is not attached. */
JNIEnv *t2s_jni_bridge_env(void);

/* The VM (attaching the instance thread). */
JavaVM *t2s_jni_bridge_vm(void);

/*
 * Registers obj as the protector / logger of the next start (NULL: none),
 * replacing an earlier registration. Returns 0, or -1 when obj has no such
 * method (a line is logged; nothing changes).
 */
int t2s_jni_bridge_set_protector(JNIEnv *env, jobject obj);
int t2s_jni_bridge_set_logger(JNIEnv *env, jobject obj);

/* The same as static natives of either shape: (Object) -> boolean. */
jboolean JNICALL t2s_jni_bridge_native_protector(JNIEnv *env, jclass cls,
                                                 jobject obj);
jboolean JNICALL t2s_jni_bridge_native_logger(JNIEnv *env, jclass cls,
                                              jobject obj);

/* Moves the registrations into b (the start takes them over). */
void t2s_jni_bridge_take(struct t2s_jni_bridge *b);

/* Gives b back to the pending registrations (a start that failed); a
 * newer registration wins and b's is released. */
void t2s_jni_bridge_untake(JNIEnv *env, struct t2s_jni_bridge *b);

/* Deletes b's global refs; b is left empty. */
void t2s_jni_bridge_release(JNIEnv *env, struct t2s_jni_bridge *b);

/* A t2s_log_fn: user is a struct t2s_jni_bridge (or NULL). */
void t2s_jni_bridge_log(int level, const char *line, void *user);

/* A t2s_socket_fn: user is a struct t2s_jni_bridge with a protector. */
int t2s_jni_bridge_protect(int fd, void *user);

/* A line of the JNI layer itself, through the same sink. */
void t2s_jni_bridge_logf(const struct t2s_jni_bridge *b, int level,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
