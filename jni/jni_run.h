/*
 * The one instance of the process (lwIP is global) and its run, shared by
 * both JNI shapes: created from a config in the caller's thread (so a bad
 * config or descriptor is an error of the call that gave it), then run on
 * a thread of its own (jni_hev.c) or in the caller's thread (jni_t2p.c).
 * Every entry point is serialized by one mutex; the loop itself runs
 * outside it.
 */
#ifndef T2S_JNI_RUN_H
#define T2S_JNI_RUN_H

#include <jni.h>

#include "jni_bridge.h"
#include "t2s.h"

/* What the entry points return besides 0. */
enum t2s_jni_run_err {
    T2S_JNI_BUSY = -1,   /* an instance exists already */
    T2S_JNI_CONFIG = -2, /* bad input: a line was logged */
    T2S_JNI_CREATE = -3, /* t2s_create failed: a line was logged */
    T2S_JNI_FAILED = -4, /* the loop ended with an error (TUN, lwIP) */
    T2S_JNI_IDLE = -5,   /* nothing to stop */
};

enum t2s_jni_mode {
    T2S_JNI_THREAD = 1, /* on the instance thread (TProxyStartService) */
    T2S_JNI_CALLER = 2, /* in the caller of run() */
};

/* An instance exists (a start would get T2S_JNI_BUSY). */
int t2s_jni_run_busy(void);

/*
 * Builds the instance from cfg (the caller frees it) with b's protector
 * and logger (taken over and released when the run ends; given back to
 * the pending registrations when the start fails). cfg's tun-fd must be
 * an open TUN descriptor (else T2S_JNI_CONFIG). who names the call in log
 * lines. mode THREAD: starts the instance thread and returns
 * 0. mode CALLER: runs the loop here and returns 0 once stopped, or
 * T2S_JNI_FAILED. Otherwise a negative enum t2s_jni_run_err.
 */
int t2s_jni_run_start(JNIEnv *env, struct t2s_jni_bridge *b,
                      struct t2s_config *cfg, enum t2s_jni_mode mode,
                      const char *who);

/*
 * Stops the instance started in mode (T2S_JNI_THREAD: also joins it and
 * destroys it; T2S_JNI_CALLER: asks its run() to return). 0, or
 * T2S_JNI_IDLE when no instance of that mode exists (a line is logged).
 */
int t2s_jni_run_stop(JNIEnv *env, enum t2s_jni_mode mode, const char *who);

/* The loop of an instance runs now. */
int t2s_jni_run_running(void);

/* The counters of the instance, zero when there is none. */
void t2s_jni_run_stats(struct t2s_stats *out);

#endif
