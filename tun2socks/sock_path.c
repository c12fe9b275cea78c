/* The TUN descriptor from a VPN app over a Unix socket; see sock_path.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock_path.h"

#define PEER_TIMEOUT_MS 1000 /* the app sends at once after connecting */
#define MAX_FDS 8            /* more in one message: MSG_CTRUNC */

static void peer_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line, the format the program's log sink writes (main.c). */
static void
peer_error(const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tun2socks: error: sock-path: %s\n", line);
}

int
t2s_sock_path_open(struct t2s_sock_path *sp, const char *path, int verbose,
                   char *err, size_t errlen)
{
    struct sockaddr_un sun;

    memset(sp, 0, sizeof(*sp));
    sp->listen_fd = sp->wake[0] = sp->wake[1] = sp->pending = -1;
    sp->verbose = verbose;
    pthread_mutex_init(&sp->lock, NULL);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "--sock-path: path too long");
        return -1;
    }
    snprintf(sp->path, sizeof(sp->path), "%s", path);
    memcpy(sun.sun_path, path, strlen(path));
    (void)unlink(path); /* a previous run's; bind fails on anything else */
    sp->listen_fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sp->listen_fd < 0 || pipe2(sp->wake, O_NONBLOCK | O_CLOEXEC) < 0 ||
        bind(sp->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        (sp->bound = 1, listen(sp->listen_fd, 8) < 0)) {
        snprintf(err, errlen, "--sock-path %s: %s", path, strerror(errno));
        t2s_sock_path_close(sp);
        return -1;
    }
    return 0;
}

/* Closes the descriptors of an SCM_RIGHTS message. */
static void
close_fds(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* The descriptors of msg's SCM_RIGHTS parts into fds; their count. */
static size_t
collect_fds(struct msghdr *msg, int *fds, size_t max)
{
    size_t n = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL;
         c = CMSG_NXTHDR(msg, c)) {
        size_t k;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (n < max)
                fds[n++] = fd;
            else
                close(fd);
        }
    }
    return n;
}

/* A TUN descriptor, checked with TUNGETIFF; else closed, -1. */
static int
check_tun(int fd, int verbose)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        peer_error("the descriptor is not a TUN device (%s)", strerror(errno));
        close(fd);
        return -1;
    }
    if (verbose)
        fprintf(stderr, "tun2socks: info: sock-path: TUN descriptor for %.*s\n",
                IFNAMSIZ, ifr.ifr_name);
    return fd;
}

/* Waits up to PEER_TIMEOUT_MS for conn, or the wake pipe: 1, 0 (timeout or
 * woken), -1. */
static int
wait_peer(struct t2s_sock_path *sp, int conn)
{
    struct pollfd p[2] = {{.fd = conn, .events = POLLIN},
                          {.fd = sp->wake[0], .events = POLLIN}};
    int rc;

    do
        rc = poll(p, 2, PEER_TIMEOUT_MS);
    while (rc < 0 && errno == EINTR);
    if (rc <= 0 || (p[1].revents & POLLIN))
        return 0;
    return 1;
}

/* One message from an accepted peer: its one TUN descriptor, or -1. */
static int
receive_fd(struct t2s_sock_path *sp, int conn)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
    } ctl;
    char data[64];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    int fds[MAX_FDS];
    ssize_t n;
    size_t nfds;

    if (!wait_peer(sp, conn)) {
        peer_error("no descriptor within %d ms", PEER_TIMEOUT_MS);
        return -1;
    }
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    n = recvmsg(conn, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        peer_error("receive: %s", strerror(errno));
        return -1;
    }
    nfds = collect_fds(&msg, fds, MAX_FDS);
    if (nfds == 1 && !(msg.msg_flags & MSG_CTRUNC))
        return check_tun(fds[0], sp->verbose);
    close_fds(fds, nfds);
    if (msg.msg_flags & MSG_CTRUNC)
        peer_error("more than %d descriptors in one message, expected one",
                   MAX_FDS);
    else if (nfds > 1)
        peer_error("%zu descriptors in one message, expected one (all "
                   "closed)",
                   nfds);
    else if (n == 0)
        peer_error("the peer closed without sending a descriptor");
    else
        peer_error("%zd bytes without a descriptor", n);
    return -1;
}

/* Accepts one peer: its TUN descriptor, or -1 (none waiting, or bad). */
static int
accept_one(struct t2s_sock_path *sp)
{
    int conn = accept4(sp->listen_fd, NULL, NULL, SOCK_CLOEXEC), fd;

    if (conn < 0)
        return -1;
    fd = receive_fd(sp, conn);
    close(conn);
    return fd;
}

/* Blocks until the listener or the wake pipe is readable: 1, or 0 when
 * woken. */
static int
wait_listener(struct t2s_sock_path *sp)
{
    struct pollfd p[2] = {{.fd = sp->listen_fd, .events = POLLIN},
                          {.fd = sp->wake[0], .events = POLLIN}};

    for (;;) {
        int rc = poll(p, 2, -1);

        if (rc < 0 && errno != EINTR)
            return 0;
        if (p[1].revents & POLLIN)
            return 0;
        if (rc > 0 && (p[0].revents & POLLIN))
            return 1;
    }
}

int
t2s_sock_path_wait(struct t2s_sock_path *sp)
{
    int fd = -1;

    while (fd < 0 && wait_listener(sp))
        fd = accept_one(sp);
    return fd;
}

static void *
watcher(void *arg)
{
    struct t2s_sock_path *sp = arg;
    int fd;

    while (wait_listener(sp)) {
        fd = accept_one(sp);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&sp->lock);
        if (sp->pending >= 0)
            close(sp->pending); /* never used: the newest wins */
        sp->pending = fd;
        pthread_mutex_unlock(&sp->lock);
        sp->on_new(sp->user);
    }
    return NULL;
}

int
t2s_sock_path_watch(struct t2s_sock_path *sp, void (*on_new)(void *user),
                    void *user, char *err, size_t errlen)
{
    sigset_t all, old;
    int rc;

    sp->on_new = on_new;
    sp->user = user;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&sp->thread, NULL, watcher, sp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "--sock-path: thread: %s", strerror(rc));
        return -1;
    }
    sp->thread_started = 1;
    return 0;
}

int
t2s_sock_path_take(struct t2s_sock_path *sp)
{
    int fd;

    pthread_mutex_lock(&sp->lock);
    fd = sp->pending;
    sp->pending = -1;
    pthread_mutex_unlock(&sp->lock);
    return fd;
}

int
t2s_sock_path_pending(struct t2s_sock_path *sp)
{
    int fd;

    pthread_mutex_lock(&sp->lock);
    fd = sp->pending;
    pthread_mutex_unlock(&sp->lock);
    return fd >= 0;
}

void
t2s_sock_path_wake(struct t2s_sock_path *sp)
{
    char b = 1;

    if (sp->wake[1] >= 0)
        (void)!write(sp->wake[1], &b, 1);
}

void
t2s_sock_path_close(struct t2s_sock_path *sp)
{
    int fd;

    t2s_sock_path_wake(sp);
    if (sp->thread_started) {
        pthread_join(sp->thread, NULL);
        sp->thread_started = 0;
    }
    fd = t2s_sock_path_take(sp);
    if (fd >= 0)
        close(fd);
    if (sp->listen_fd >= 0) {
        close(sp->listen_fd);
        sp->listen_fd = -1;
    }
    if (sp->bound) {
        (void)unlink(sp->path);
        sp->bound = 0;
    }
    for (int i = 0; i < 2; i++)
        if (sp->wake[i] >= 0) {
            close(sp->wake[i]);
            sp->wake[i] = -1;
        }
}
