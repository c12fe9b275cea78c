/*
 * --sock-path: the TUN descriptor comes from a VPN app over a Unix stream
 * socket (shadowsocks-android's contract for its tun2socks executable):
 * the path is unlinked and listened on; each connection must bring exactly
 * one TUN descriptor with SCM_RIGHTS (and a data byte) within 1 s. Every
 * other peer (closes without one, stays silent, sends two, sends a socket
 * or a file, sends bare bytes) gets one error line on stderr, its
 * descriptors closed, and the listener goes on.
 *
 * Two phases, no libev (the loop belongs to the library):
 *  - before the instance exists, t2s_sock_path_wait() blocks the calling
 *    (main) thread until the first good descriptor or t2s_sock_path_wake();
 *  - while the instance runs, a watcher thread (t2s_sock_path_watch) takes
 *    the app's later descriptors: each becomes the pending one and the
 *    on_new callback runs in that thread (main.c stops the instance there,
 *    then swaps descriptors with t2s_sock_path_take).
 * Received descriptors are ours: the caller closes the ones it takes;
 * t2s_sock_path_close() closes a pending one.
 */
#ifndef T2S_SOCK_PATH_H
#define T2S_SOCK_PATH_H

#include <pthread.h>
#include <stddef.h>

struct t2s_sock_path {
    char path[108];       /* as given (relative: to the working directory) */
    int listen_fd;        /* -1 when closed */
    int bound;            /* path is ours to unlink */
    int wake[2];          /* self-pipe: t2s_sock_path_wake() */
    int verbose;          /* also log each descriptor received */
    pthread_t thread;     /* the watcher */
    int thread_started;   /* thread is joinable */
    pthread_mutex_t lock; /* guards pending */
    int pending;          /* a descriptor not taken yet, or -1 */
    void (*on_new)(void *user); /* watcher thread: pending was set */
    void *user;
};

/*
 * Unlinks path, listens on it (backlog 8). Returns 0, or -1 with one line
 * in err. sp is then valid for every other call.
 */
int t2s_sock_path_open(struct t2s_sock_path *sp, const char *path, int verbose,
                       char *err, size_t errlen);

/* The first good descriptor, or -1 once t2s_sock_path_wake() was called
 * (before or during the wait). */
int t2s_sock_path_wait(struct t2s_sock_path *sp);

/*
 * Starts the watcher thread (with every signal blocked: they stay the
 * main thread's). Returns 0, or -1 with one line in err.
 */
int t2s_sock_path_watch(struct t2s_sock_path *sp, void (*on_new)(void *user),
                        void *user, char *err, size_t errlen);

/* The pending descriptor (now the caller's), or -1. Any thread. */
int t2s_sock_path_take(struct t2s_sock_path *sp);

/* Whether a descriptor is pending (not taken yet). Any thread. */
int t2s_sock_path_pending(struct t2s_sock_path *sp);

/* Ends a wait and the watcher. Async-signal-safe (one write(2)). */
void t2s_sock_path_wake(struct t2s_sock_path *sp);

/* Wakes and joins the watcher, closes the listener and a pending
 * descriptor, unlinks the path (best effort: after a privilege drop the
 * directory may not allow it; the next start unlinks it). Idempotent. */
void t2s_sock_path_close(struct t2s_sock_path *sp);

#endif
