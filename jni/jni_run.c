/*
 * The process's one instance and its run; see jni_run.h. The slot moves
 * IDLE -> STARTING -> RUNNING [-> ENDED] -> STOPPING -> IDLE; the mutex
 * guards the moves only: t2s_create, t2s_run and t2s_destroy (which call
 * the app's logger) run outside it, so a logger that calls back into
 * these natives cannot deadlock.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "config/config.h"
#include "core/stats.h"
#include "jni_run.h"

enum state {
    S_IDLE,     /* no instance */
    S_STARTING, /* t2s_create in progress */
    S_RUNNING,  /* inst set; its loop runs (or is about to) */
    S_ENDED,    /* mode THREAD: the loop returned by itself, not joined */
    S_STOPPING, /* joining / destroying */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    enum state state;
    enum t2s_jni_mode mode;
    struct t2s_instance *inst;
    pthread_t thread;             /* mode THREAD, set while S_STARTING */
    int loop_done;                /* mode THREAD: the loop returned */
    int stop_pending;             /* mode CALLER: stop() while S_STARTING */
    struct t2s_jni_bridge bridge; /* the run's protector and logger; its
                                     address is the callbacks' user */
} slot;

static char thread_name[] = "t2s-jni"; /* jni.h's attach name is not const */

int
t2s_jni_run_busy(void)
{
    int busy;

    pthread_mutex_lock(&lock);
    busy = slot.state != S_IDLE;
    pthread_mutex_unlock(&lock);
    return busy;
}

int
t2s_jni_run_running(void)
{
    int running;

    pthread_mutex_lock(&lock);
    running = slot.state == S_RUNNING;
    pthread_mutex_unlock(&lock);
    return running;
}

void
t2s_jni_run_stats(struct t2s_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&lock);
    if (slot.state == S_RUNNING || slot.state == S_ENDED)
        t2s_get_stats(slot.inst, out);
    pthread_mutex_unlock(&lock);
}

/* The last counters to the log, then everything of the run freed. Called
 * in S_STOPPING, outside the lock; leaves S_IDLE. */
static void
finish(JNIEnv *env, struct t2s_instance *inst)
{
    struct t2s_stats st;

    t2s_get_stats(inst, &st);
    t2s_stats_log(&st);
    t2s_destroy(inst);
    t2s_jni_bridge_release(env, &slot.bridge);
    pthread_mutex_lock(&lock);
    slot.inst = NULL;
    slot.state = S_IDLE;
    pthread_mutex_unlock(&lock);
}

/* A THREAD run in S_ENDED or S_STOPPING: join it, then finish(). */
static void
join_and_finish(JNIEnv *env, struct t2s_instance *inst, pthread_t thread)
{
    pthread_join(thread, NULL);
    finish(env, inst);
}

static int
attach(JavaVM *vm, JNIEnv **env)
{
    JavaVMAttachArgs args = {JNI_VERSION_1_6, thread_name, NULL};

#ifdef __ANDROID__
    return (*vm)->AttachCurrentThreadAsDaemon(vm, env, &args);
#else
    return (*vm)->AttachCurrentThreadAsDaemon(vm, (void **)env, &args);
#endif
}

/*
 * The instance thread: attached to the VM (as a daemon, so that it never
 * holds the VM's exit) for the whole run, since the socket hook and the
 * log sink call Java on it; detached before it ends.
 */
static void *
instance_thread(void *arg)
{
    struct t2s_instance *inst = arg;
    JavaVM *vm = t2s_jni_bridge_vm();
    JNIEnv *env = NULL;
    int attached, rc;

    attached = vm != NULL && attach(vm, &env) == JNI_OK;
    if (!attached)
        t2s_jni_bridge_logf(&slot.bridge, T2S_LOG_ERROR,
                            "jni: cannot attach the instance thread to the "
                            "VM: no protect() calls, logs to stderr");
    rc = t2s_run(inst);
    if (rc != T2S_RUN_STOPPED)
        t2s_jni_bridge_logf(&slot.bridge, T2S_LOG_ERROR,
                            "jni: the instance stopped by itself (%s)",
                            rc == T2S_RUN_ERR_TUN ? "reading the TUN failed"
                                                  : "internal error");
    pthread_mutex_lock(&lock);
    slot.loop_done = 1;
    if (slot.state == S_RUNNING)
        slot.state = S_ENDED;
    pthread_mutex_unlock(&lock);
    if (attached)
        (*vm)->DetachCurrentThread(vm);
    return NULL;
}

/* A THREAD run that ended by itself is joined before a new start. */
static void
reap_ended(JNIEnv *env)
{
    struct t2s_instance *inst = NULL;
    pthread_t thread;

    pthread_mutex_lock(&lock);
    if (slot.state == S_ENDED) {
        slot.state = S_STOPPING;
        inst = slot.inst;
        thread = slot.thread;
    }
    pthread_mutex_unlock(&lock);
    if (inst != NULL)
        join_and_finish(env, inst, thread);
}

/* In S_STARTING: sets slot.inst, or goes back to S_IDLE. */
static int
create(JNIEnv *env, struct t2s_config *cfg, const char *who)
{
    char err[512];
    struct t2s_instance *inst;

    if (cfg->loglevel >= T2S_LOG_DEBUG)
        t2s_jni_bridge_logf(&slot.bridge, T2S_LOG_DEBUG,
                            "%s: creating the instance on TUN fd %d", who,
                            cfg->tun_fd);
    t2s_config_set_log(cfg, t2s_jni_bridge_log, &slot.bridge);
    if (slot.bridge.protector != NULL)
        t2s_config_set_socket_hook(cfg, t2s_jni_bridge_protect, &slot.bridge);
    inst = t2s_create(cfg, err, sizeof(err));
    if (inst == NULL) {
        t2s_jni_bridge_logf(&slot.bridge, T2S_LOG_ERROR, "%s: %s", who, err);
        t2s_jni_bridge_untake(env, &slot.bridge);
    }
    pthread_mutex_lock(&lock);
    slot.inst = inst;
    if (inst == NULL)
        slot.state = S_IDLE;
    pthread_mutex_unlock(&lock);
    return inst != NULL ? 0 : T2S_JNI_CREATE;
}

/* The loop in the caller's thread (mode CALLER), then finish(). */
static int
run_here(JNIEnv *env)
{
    struct t2s_instance *inst = slot.inst;
    int rc;

    pthread_mutex_lock(&lock);
    slot.state = S_RUNNING;
    if (slot.stop_pending)
        t2s_stop(inst); /* the loop returns at once */
    pthread_mutex_unlock(&lock);
    rc = t2s_run(inst);
    pthread_mutex_lock(&lock);
    slot.state = S_STOPPING;
    pthread_mutex_unlock(&lock);
    finish(env, inst);
    return rc == T2S_RUN_STOPPED ? 0 : T2S_JNI_FAILED;
}

/*
 * The descriptor is the app's TUN: the library would adopt any readable
 * descriptor and only fail once the loop reads it, after the start said
 * yes. TUNGETIFF answers on a TUN (Linux and Android) only.
 */
static int
check_tun(int fd, char *err, size_t errlen)
{
    struct ifreq ifr;

    if (fd < 0 || fcntl(fd, F_GETFD) < 0)
        return snprintf(err, errlen, "%d is not an open TUN descriptor", fd),
               -1;
    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0)
        return snprintf(err, errlen, "descriptor %d is not a TUN (%s)", fd,
                        strerror(errno)),
               -1;
    return 0;
}

int
t2s_jni_run_start(JNIEnv *env, struct t2s_jni_bridge *b, struct t2s_config *cfg,
                  enum t2s_jni_mode mode, const char *who)
{
    char err[128];

    if (check_tun(cfg->tun_fd, err, sizeof(err)) < 0) {
        t2s_jni_bridge_logf(b, T2S_LOG_ERROR, "%s: %s", who, err);
        t2s_jni_bridge_untake(env, b);
        return T2S_JNI_CONFIG;
    }
    reap_ended(env);
    pthread_mutex_lock(&lock);
    if (slot.state != S_IDLE) {
        pthread_mutex_unlock(&lock);
        t2s_jni_bridge_logf(b, T2S_LOG_ERROR,
                            "%s: tun2socks is running already (stop it "
                            "first)",
                            who);
        t2s_jni_bridge_untake(env, b);
        return T2S_JNI_BUSY;
    }
    slot.state = S_STARTING;
    slot.mode = mode;
    slot.loop_done = slot.stop_pending = 0;
    slot.bridge = *b;
    memset(b, 0, sizeof(*b));
    pthread_mutex_unlock(&lock);
    if (create(env, cfg, who) < 0)
        return T2S_JNI_CREATE;
    if (mode == T2S_JNI_CALLER)
        return run_here(env);
    if (pthread_create(&slot.thread, NULL, instance_thread, slot.inst) != 0) {
        t2s_jni_bridge_logf(&slot.bridge, T2S_LOG_ERROR,
                            "%s: cannot start a thread", who);
        t2s_destroy(slot.inst);
        t2s_jni_bridge_untake(env, &slot.bridge);
        pthread_mutex_lock(&lock);
        slot.inst = NULL;
        slot.state = S_IDLE;
        pthread_mutex_unlock(&lock);
        return T2S_JNI_CREATE;
    }
    /* named here: the start returns with the thread findable by name */
    pthread_setname_np(slot.thread, thread_name);
    /* RUNNING only now: a stop needs slot.thread */
    pthread_mutex_lock(&lock);
    slot.state = slot.loop_done ? S_ENDED : S_RUNNING;
    pthread_mutex_unlock(&lock);
    return 0;
}

int
t2s_jni_run_stop(JNIEnv *env, enum t2s_jni_mode mode, const char *who)
{
    struct t2s_instance *inst = NULL;
    pthread_t thread;

    pthread_mutex_lock(&lock);
    if (slot.state == S_STARTING && slot.mode == mode &&
        mode == T2S_JNI_CALLER) {
        slot.stop_pending = 1; /* run() may be between parse and loop */
        pthread_mutex_unlock(&lock);
        return 0;
    }
    if ((slot.state == S_RUNNING || slot.state == S_ENDED) &&
        slot.mode == mode) {
        inst = slot.inst;
        if (mode == T2S_JNI_CALLER) {
            t2s_stop(inst); /* run_here() finishes it */
        } else {
            slot.state = S_STOPPING;
            thread = slot.thread;
        }
    }
    pthread_mutex_unlock(&lock);
    if (inst == NULL) {
        struct t2s_jni_bridge b;

        /* with the logger registered for the next start */
        t2s_jni_bridge_take(&b);
        t2s_jni_bridge_logf(
            &b, T2S_LOG_ERROR, "%s: tun2socks is not running%s", who,
            t2s_jni_run_busy() ? " (it was started by the other JNI shape)"
                               : "");
        t2s_jni_bridge_untake(env, &b);
        return T2S_JNI_IDLE;
    }
    if (mode == T2S_JNI_THREAD) {
        t2s_stop(inst);
        join_and_finish(env, inst, thread);
    }
    return 0;
}
