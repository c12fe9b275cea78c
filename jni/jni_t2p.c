/*
 * The tun2proxy shape; see jni_t2p.h. The argument string is our command
 * line (tun2socks --help), split as a shell would (jni_split.h) and parsed
 * by the program's own parser (tun2socks/args.c), minus what makes no
 * sense inside an app's process: the program's options (--user, --route,
 * --print-config, --help, ...) and a TUN opened by name (--tun).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "config/config.h"
#include "jni_register.h"
#include "jni_run.h"
#include "jni_split.h"
#include "jni_t2p.h"
#include "opts.h"

static const char who_run[] = "run";

/* A flag of the program's table (but --config), or --tun: one line. */
static int
reject_flag(const char *a, char *err, size_t errlen)
{
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);

    if (strcmp(a, "-h") == 0 || strcmp(a, "-V") == 0 ||
        (t2s_opts_find(name, n) != NULL &&
         !(n == 6 && !memcmp(name, "config", 6))))
        return snprintf(err, errlen,
                        "--%.*s is an option of the tun2socks program, not "
                        "of the library in an app's process",
                        (int)(n > 40 ? 40 : n), name),
               -1;
    if (n == 3 && memcmp(name, "tun", 3) == 0)
        return snprintf(err, errlen,
                        "--tun opens a TUN by name; in an app's process give "
                        "its descriptor with --tun-fd N"),
               -1;
    return 0;
}

/* Every flag of argv, before parsing (values are skipped). */
static int
reject_program_flags(int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (a[0] != '-')
            continue; /* a value, or what args.c reports */
        if (reject_flag(a, err, errlen) < 0)
            return -1;
        if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL &&
            t2s_args_takes_value(a))
            i++;
    }
    return 0;
}

/* argv into c; what a --config file set is checked after. 0 or -1. */
static int
parse(struct t2s_config *c, int mtu, int argc, char **argv, char *err,
      size_t errlen)
{
    struct t2s_opts o, none;
    char num[16];

    t2s_config_init(c);
    t2s_opts_init(&o);
    t2s_opts_init(&none);
    if (reject_program_flags(argc, argv, err, errlen) < 0)
        return -1;
    snprintf(num, sizeof(num), "%d", mtu);
    /* the mtu argument first: --mtu in the string wins */
    if (mtu > 0 && t2s_config_set(c, "mtu", num, err, errlen) < 0)
        return -1;
    if (t2s_args_parse(c, &o, argc, argv, err, errlen) != T2S_ARGS_OK)
        return -1; /* --help/--version were rejected above */
    if (memcmp(&o, &none, sizeof(o)) != 0)
        return snprintf(err, errlen,
                        "the config file sets options of the tun2socks "
                        "program (user, route, ...), not of the library"),
               -1;
    if (c->tun_name[0] != '\0')
        return snprintf(err, errlen,
                        "the config file names a TUN (tun = ...); in an app's "
                        "process give its descriptor with --tun-fd N"),
               -1;
    return 0;
}

/* The string into argv, then into c. 0 or -1 with err set. */
static int
build(JNIEnv *env, jstring args, int mtu, struct t2s_config *c, char *err,
      size_t errlen)
{
    struct t2s_jni_split sp;
    const char *s;
    int rc;

    if (args == NULL)
        return snprintf(err, errlen, "the argument string is null"), -1;
    s = (*env)->GetStringUTFChars(env, args, NULL);
    if (s == NULL) {
        (*env)->ExceptionClear(env);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    rc = t2s_jni_split("tun2socks", s, &sp, err, errlen);
    (*env)->ReleaseStringUTFChars(env, args, s);
    if (rc < 0)
        return -1;
    rc = parse(c, mtu, sp.argc, sp.argv, err, errlen);
    t2s_jni_split_free(&sp);
    return rc;
}

static jint JNICALL
t2p_run(JNIEnv *env, jclass cls, jstring args, jint mtu)
{
    struct t2s_jni_bridge b;
    struct t2s_config c;
    char err[512];
    int rc;

    (void)cls;
    t2s_jni_bridge_take(&b);
    if (t2s_jni_run_busy()) {
        t2s_jni_bridge_logf(&b, T2S_LOG_ERROR,
                            "%s: tun2socks is running already (stop it "
                            "first)",
                            who_run);
        t2s_jni_bridge_untake(env, &b);
        return T2S_JNI_BUSY;
    }
    if (build(env, args, mtu, &c, err, sizeof(err)) < 0) {
        t2s_config_forget_proxies(&c);
        t2s_jni_bridge_logf(&b, T2S_LOG_ERROR, "%s: %s", who_run, err);
        t2s_jni_bridge_untake(env, &b);
        return T2S_JNI_CONFIG;
    }
    rc = t2s_jni_run_start(env, &b, &c, T2S_JNI_CALLER, who_run);
    t2s_config_forget_proxies(&c);
    return rc;
}

/* tun2proxy declares the MTU a Java char. */
static jint JNICALL
t2p_run_c(JNIEnv *env, jclass cls, jstring args, jchar mtu)
{
    return t2p_run(env, cls, args, (jint)mtu);
}

static jint JNICALL
t2p_stop(JNIEnv *env, jclass cls)
{
    (void)cls;
    return t2s_jni_run_stop(env, T2S_JNI_CALLER, "stop") == 0 ? 0 : -1;
}

static const struct t2s_jni_native natives[] = {
    {"run", "(Ljava/lang/String;C)I", T2S_JNI_FN(t2p_run_c)},
    {"run", "(Ljava/lang/String;I)I", T2S_JNI_FN(t2p_run)},
    {"stop", "()I", T2S_JNI_FN(t2p_stop)},
    {"setProtector", "(Ljava/lang/Object;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_protector)},
    {"setProtector", "(Landroid/net/VpnService;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_protector)},
    {"setLogger", "(Ljava/lang/Object;)Z",
     T2S_JNI_FN(t2s_jni_bridge_native_logger)},
};

int
t2s_jni_t2p_register(JNIEnv *env)
{
    return t2s_jni_register(env, T2S_JNI_T2P_CLASS, natives,
                            sizeof(natives) / sizeof(natives[0]));
}
