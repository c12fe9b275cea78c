/*
 * TEST-ONLY natives of tests/jni/java/JniTest.java (libt2s-jni-test.so):
 * what a Java program cannot see of a descriptor, and what Android's
 * VpnService.protect() does to a socket (a firewall mark the test's
 * routing lets through to the proxy).
 */
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

JNIEXPORT jstring JNICALL Java_JniTest_fdInfo(JNIEnv *env, jclass cls, jint fd);
JNIEXPORT jboolean JNICALL Java_JniTest_markFd(JNIEnv *env, jclass cls, jint fd,
                                               jint mark);
JNIEXPORT jint JNICALL Java_JniTest_openDevNull(JNIEnv *env, jclass cls);
JNIEXPORT void JNICALL Java_JniTest_closeFd(JNIEnv *env, jclass cls, jint fd);

/* "tcp inet unconnected": type, family, and whether it has a peer. */
JNIEXPORT jstring JNICALL
Java_JniTest_fdInfo(JNIEnv *env, jclass cls, jint fd)
{
    int type = 0, domain = 0;
    socklen_t len = sizeof(type);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    char out[64];
    const char *t, *d, *c;

    (void)cls;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return (*env)->NewStringUTF(env, "not-a-socket");
    len = sizeof(domain);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
        domain = -1;
    t = type == SOCK_STREAM ? "tcp" : type == SOCK_DGRAM ? "udp" : "other";
    d = domain == AF_INET ? "inet" : domain == AF_INET6 ? "inet6" : "other";
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        c = "connected";
    else
        c = errno == ENOTCONN ? "unconnected" : "error";
    snprintf(out, sizeof(out), "%s %s %s", t, d, c);
    return (*env)->NewStringUTF(env, out);
}

JNIEXPORT jboolean JNICALL
Java_JniTest_markFd(JNIEnv *env, jclass cls, jint fd, jint mark)
{
    unsigned m = (unsigned)mark;

    (void)env;
    (void)cls;
    return setsockopt(fd, SOL_SOCKET, SO_MARK, &m, sizeof(m)) == 0;
}

JNIEXPORT jint JNICALL
Java_JniTest_openDevNull(JNIEnv *env, jclass cls)
{
    (void)env;
    (void)cls;
    return open("/dev/null", O_RDWR | O_CLOEXEC);
}

JNIEXPORT void JNICALL
Java_JniTest_closeFd(JNIEnv *env, jclass cls, jint fd)
{
    (void)env;
    (void)cls;
    close(fd);
}
