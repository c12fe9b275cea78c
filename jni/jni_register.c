/* One RegisterNatives per method; see jni_register.h. */
#include <stdint.h>
#include <string.h>

#include "jni_register.h"

/* m[i]'s name was registered by an earlier entry. */
static int
done_before(const struct t2s_jni_native *m, size_t i, const int *ok)
{
    for (size_t j = 0; j < i; j++)
        if (ok[j] && strcmp(m[j].name, m[i].name) == 0)
            return 1;
    return 0;
}

int
t2s_jni_register(JNIEnv *env, const char *cls_name,
                 const struct t2s_jni_native *m, size_t n)
{
    jclass cls = (*env)->FindClass(env, cls_name);
    int ok[32] = {0}, count = 0;

    if (cls == NULL) {
        (*env)->ExceptionClear(env); /* NoClassDefFoundError */
        return -1;
    }
    for (size_t i = 0; i < n && i < sizeof(ok) / sizeof(ok[0]); i++) {
        JNINativeMethod one;

        if (done_before(m, i, ok))
            continue;
        /* OpenJDK's jni.h declares these char *; nothing writes them */
        one.name = (char *)(uintptr_t)m[i].name;
        one.signature = (char *)(uintptr_t)m[i].sig;
        /* JNI's fnPtr is a void *: POSIX makes that conversion work */
        one.fnPtr = __extension__(void *) m[i].fn;
        if ((*env)->RegisterNatives(env, cls, &one, 1) == 0) {
            ok[i] = 1;
            count++;
        } else {
            (*env)->ExceptionClear(env); /* NoSuchMethodError */
        }
    }
    (*env)->DeleteLocalRef(env, cls);
    return count;
}
