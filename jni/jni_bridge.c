/* Protector and logger of a run; see jni_bridge.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef __ANDROID__
#include <android/log.h>
#endif

#include "jni_bridge.h"

#define LOG_TAG "tun2socks"

static JavaVM *the_vm;
/* the registrations waiting for the next start */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static struct t2s_jni_bridge pending;

void
t2s_jni_bridge_init(JavaVM *vm)
{
    the_vm = vm;
}

JavaVM *
t2s_jni_bridge_vm(void)
{
    return the_vm;
}

JNIEnv *
t2s_jni_bridge_env(void)
{
    void *env = NULL;

    if (the_vm == NULL ||
        (*the_vm)->GetEnv(the_vm, &env, JNI_VERSION_1_6) != JNI_OK)
        return NULL;
    return env;
}

void
t2s_jni_bridge_unload(JNIEnv *env)
{
    pthread_mutex_lock(&pending_lock);
    t2s_jni_bridge_release(env, &pending);
    pthread_mutex_unlock(&pending_lock);
}

/* obj's method name/sig, or NULL (the pending exception cleared). */
static jmethodID
find_method(JNIEnv *env, jobject obj, const char *name, const char *sig)
{
    jclass cls = (*env)->GetObjectClass(env, obj);
    jmethodID m = (*env)->GetMethodID(env, cls, name, sig);

    if (m == NULL)
        (*env)->ExceptionClear(env);
    (*env)->DeleteLocalRef(env, cls);
    return m;
}

/* Replaces *slot (and *mid) by obj's method, or clears them (obj NULL). */
static int
set_pending(JNIEnv *env, jobject obj, jobject *slot, jmethodID *mid,
            const char *name, const char *sig)
{
    jmethodID m = NULL;
    jobject ref = NULL;

    if (obj != NULL) {
        m = find_method(env, obj, name, sig);
        if (m == NULL) {
            t2s_jni_bridge_logf(NULL, T2S_LOG_ERROR,
                                "jni: the object given has no method %s%s",
                                name, sig);
            return -1;
        }
        ref = (*env)->NewGlobalRef(env, obj);
        if (ref == NULL)
            return -1;
    }
    pthread_mutex_lock(&pending_lock);
    if (*slot != NULL)
        (*env)->DeleteGlobalRef(env, *slot);
    *slot = ref;
    *mid = m;
    pthread_mutex_unlock(&pending_lock);
    return 0;
}

int
t2s_jni_bridge_set_protector(JNIEnv *env, jobject obj)
{
    return set_pending(env, obj, &pending.protector, &pending.protect,
                       "protect", "(I)Z");
}

int
t2s_jni_bridge_set_logger(JNIEnv *env, jobject obj)
{
    return set_pending(env, obj, &pending.logger, &pending.log, "log",
                       "(ILjava/lang/String;)V");
}

jboolean JNICALL
t2s_jni_bridge_native_protector(JNIEnv *env, jclass cls, jobject obj)
{
    (void)cls;
    return t2s_jni_bridge_set_protector(env, obj) == 0 ? JNI_TRUE : JNI_FALSE;
}

jboolean JNICALL
t2s_jni_bridge_native_logger(JNIEnv *env, jclass cls, jobject obj)
{
    (void)cls;
    return t2s_jni_bridge_set_logger(env, obj) == 0 ? JNI_TRUE : JNI_FALSE;
}

void
t2s_jni_bridge_take(struct t2s_jni_bridge *b)
{
    pthread_mutex_lock(&pending_lock);
    *b = pending;
    memset(&pending, 0, sizeof(pending));
    pthread_mutex_unlock(&pending_lock);
}

void
t2s_jni_bridge_untake(JNIEnv *env, struct t2s_jni_bridge *b)
{
    pthread_mutex_lock(&pending_lock);
    if (pending.protector == NULL) {
        pending.protector = b->protector;
        pending.protect = b->protect;
        b->protector = NULL;
    }
    if (pending.logger == NULL) {
        pending.logger = b->logger;
        pending.log = b->log;
        b->logger = NULL;
    }
    pthread_mutex_unlock(&pending_lock);
    t2s_jni_bridge_release(env, b);
}

void
t2s_jni_bridge_release(JNIEnv *env, struct t2s_jni_bridge *b)
{
    if (env != NULL && b->protector != NULL)
        (*env)->DeleteGlobalRef(env, b->protector);
    if (env != NULL && b->logger != NULL)
        (*env)->DeleteGlobalRef(env, b->logger);
    memset(b, 0, sizeof(b[0]));
}

/*
 * NewStringUTF wants modified UTF-8, and Android's CheckJNI aborts on
 * anything else: a line may carry a name from the network, so every byte
 * outside printable ASCII becomes '?'.
 */
static void
to_ascii(const char *line, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; line[i] != '\0' && i + 1 < outlen; i++)
        out[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
    out[i] = '\0';
}

/* The logger's log(level, line); 0 when it was called. */
static int
call_logger(const struct t2s_jni_bridge *b, int level, const char *line)
{
    JNIEnv *env;
    jstring s;
    char text[1024];

    if (b == NULL || b->logger == NULL || (env = t2s_jni_bridge_env()) == NULL)
        return -1;
    /* a call with an exception pending is illegal: leave it to the app */
    if ((*env)->ExceptionCheck(env))
        return -1;
    to_ascii(line, text, sizeof(text));
    s = (*env)->NewStringUTF(env, text);
    if (s == NULL) {
        (*env)->ExceptionClear(env);
        return -1;
    }
    (*env)->CallVoidMethod(env, b->logger, b->log, (jint)level, s);
    /* the instance thread never returns to Java: free every local ref */
    (*env)->DeleteLocalRef(env, s);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env); /* the logger's own failure */
        return -1;
    }
    return 0;
}

#ifdef __ANDROID__
static int
android_prio(int level)
{
    switch (level) {
    case T2S_LOG_ERROR:
        return ANDROID_LOG_ERROR;
    case T2S_LOG_WARN:
        return ANDROID_LOG_WARN;
    case T2S_LOG_INFO:
        return ANDROID_LOG_INFO;
    default:
        return ANDROID_LOG_DEBUG;
    }
}
#endif

static void
log_line(const struct t2s_jni_bridge *b, int level, const char *line)
{
    int called = call_logger(b, level, line);

#ifdef __ANDROID__
    /* logcat always: what an app that registers nothing gets */
    (void)called;
    __android_log_write(android_prio(level), LOG_TAG, line);
#else
    if (called != 0)
        fprintf(stderr, LOG_TAG ": %s: %s\n", t2s_log_level_name(level), line);
#endif
}

void
t2s_jni_bridge_log(int level, const char *line, void *user)
{
    log_line(user, level, line);
}

void
t2s_jni_bridge_logf(const struct t2s_jni_bridge *b, int level, const char *fmt,
                    ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_line(b, level, line);
}

int
t2s_jni_bridge_protect(int fd, void *user)
{
    const struct t2s_jni_bridge *b = user;
    JNIEnv *env = t2s_jni_bridge_env();
    jboolean ok;

    if (env == NULL || b == NULL || b->protector == NULL) {
        t2s_jni_bridge_logf(b, T2S_LOG_ERROR,
                            "jni: protect(%d) not called: this thread is not "
                            "attached to the VM",
                            fd);
        return -1;
    }
    ok = (*env)->CallBooleanMethod(env, b->protector, b->protect, (jint)fd);
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        t2s_jni_bridge_logf(b, T2S_LOG_WARN,
                            "jni: protect(%d) threw an exception: refused", fd);
        return -1;
    }
    /* false: the library refuses the connection and logs it once */
    return ok ? 0 : -1;
}
