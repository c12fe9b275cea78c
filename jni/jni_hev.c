/*
 * The hev-socks5-tunnel shape; see jni_hev.h. Checked against
 * heiher/hev-socks5-tunnel src/hev-jni.c and v2rayNG's TProxyService.kt:
 * the same names and signatures; the config file is ours (t2s.h's keys).
 * Differences: the start loads the config and adopts the descriptor before
 * it returns, so a bad file or descriptor makes it return false (hev
 * returns true and its thread fails); a stop with nothing running returns
 * false (hev: true).
 */
#include <stdio.h>

#include "config/config.h"
#include "jni_hev.h"
#include "jni_register.h"
#include "jni_run.h"

static const char who_start[] = "TProxyStartService";

/* Logs a refused start with the registrations b, then gives them back. */
static jboolean
refuse(JNIEnv *env, struct t2s_jni_bridge *b, const char *msg)
{
    t2s_jni_bridge_logf(b, T2S_LOG_ERROR, "%s: %s", who_start, msg);
    t2s_jni_bridge_untake(env, b);
    return JNI_FALSE;
}

/* The app's config file, then the descriptor: the fd argument wins over
 * any "tun" or "tun-fd" of the file. NULL with err set. */
static struct t2s_config *
load(JNIEnv *env, jstring path, int fd, char *err, size_t errlen)
{
    struct t2s_config *cfg = t2s_config_new();
    const char *p;
    int rc;

    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        (*env)->ExceptionClear(env);
        snprintf(err, errlen, "out of memory");
        t2s_config_free(cfg);
        return NULL;
    }
    rc = t2s_config_load_file(cfg, p, err, errlen);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (rc < 0) {
        t2s_config_free(cfg);
        return NULL;
    }
    /* as hev ignores tunnel.name given an fd; checked by jni_run.c */
    cfg->tun_name[0] = '\0';
    cfg->tun_fd = fd;
    return cfg;
}

static jboolean JNICALL
hev_start(JNIEnv *env, jclass cls, jstring path, jint fd)
{
    struct t2s_jni_bridge b;
    struct t2s_config *cfg;
    char err[512];
    int rc;

    (void)cls;
    t2s_jni_bridge_take(&b);
    if (t2s_jni_run_busy())
        return refuse(env, &b, "tun2socks is running already (stop it first)");
    if (path == NULL)
        return refuse(env, &b, "the config path is null");
    cfg = load(env, path, fd, err, sizeof(err));
    if (cfg == NULL)
        return refuse(env, &b, err);
    rc = t2s_jni_run_start(env, &b, cfg, T2S_JNI_THREAD, who_start);
    t2s_config_free(cfg);
    return rc == 0 ? JNI_TRUE : JNI_FALSE;
}

static void JNICALL
hev_start_v(JNIEnv *env, jclass cls, jstring path, jint fd)
{
    (void)hev_start(env, cls, path, fd);
}

static jboolean JNICALL
hev_stop(JNIEnv *env, jclass cls)
{
    (void)cls;
    return t2s_jni_run_stop(env, T2S_JNI_THREAD, "TProxyStopService") == 0
               ? JNI_TRUE
               : JNI_FALSE;
}

static void JNICALL
hev_stop_v(JNIEnv *env, jclass cls)
{
    (void)hev_stop(env, cls);
}

static jboolean JNICALL
hev_is_running(JNIEnv *env, jclass cls)
{
    (void)env;
    (void)cls;
    return t2s_jni_run_running() ? JNI_TRUE : JNI_FALSE;
}

/*
 * {tx_packets, tx_bytes, rx_packets, rx_bytes} as hev counts them: tx is
 * what the apps sent (read from the TUN), rx what they received (written
 * to the TUN). Packets are whole IP packets; bytes are TCP and UDP payload
 * (hev counts IP bytes: ours are smaller by the headers). Zero when
 * nothing runs, as hev's are after a stop.
 */
static jlongArray JNICALL
hev_get_stats(JNIEnv *env, jclass cls)
{
    struct t2s_stats st;
    jlong v[4];
    jlongArray a;

    (void)cls;
    t2s_jni_run_stats(&st);
    v[0] = (jlong)st.tun_rx_packets;
    v[1] = (jlong)(st.bytes_up + st.udp_bytes_up);
    v[2] = (jlong)st.tun_tx_packets;
    v[3] = (jlong)(st.bytes_down + st.udp_bytes_down);
    a = (*env)->NewLongArray(env, 4);
    if (a != NULL)
        (*env)->SetLongArrayRegion(env, a, 0, 4, v);
    return a; /* NULL with OutOfMemoryError pending */
}

static const struct t2s_jni_native natives[] = {
    {"TProxyStartService", "(Ljava/lang/String;I)Z", T2S_JNI_FN(hev_start)},
    {"TProxyStartService", "(Ljava/lang/String;I)V", T2S_JNI_FN(hev_start_v)},
    {"TProxyStopService", "()Z", T2S_JNI_FN(hev_stop)},
    {"TProxyStopService", "()V", T2S_JNI_FN(hev_stop_v)},
    {"TProxyIsRunning", "()Z", T2S_JNI_FN(hev_is_running)},
    {"TProxyGetStats", "()[J", T2S_JNI_FN(hev_get_stats)},
    {"TProxySetProtector", "(Ljava/lang/Object;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_protector)},
    {"TProxySetProtector", "(Landroid/net/VpnService;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_protector)},
    {"TProxySetLogger", "(Ljava/lang/Object;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_logger)},
};

int
t2s_jni_hev_register(JNIEnv *env)
{
    return t2s_jni_register(env, T2S_JNI_HEV_CLASS, natives,
                            sizeof(natives) / sizeof(natives[0]));
}
