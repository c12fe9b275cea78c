/* The protect_path client (protect.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "upstream/protect.h"

void
t2s_protect_init(struct t2s_protect *p, const char *path)
{
    p->path = path;
    p->logged = 0;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until s is ready for events or deadline (ms); 1 ready, 0 not. */
static int
wait_until(int s, short events, long long deadline)
{
    struct pollfd pfd = {.fd = s, .events = events};
    long long left;
    int rc;

    for (;;) {
        left = deadline - now_ms();
        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, (int)left);
        if (rc > 0)
            return 1;
        if (rc == 0 || errno != EINTR)
            return 0;
    }
}

/* A non-blocking connect to path; the server's listen backlog may be full
 * (EAGAIN for a Unix socket): retried until the deadline. */
static int
connect_server(const char *path, long long deadline, int *e)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (s < 0) {
        *e = errno;
        return -1;
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            *e = errno;
            close(s);
            return -1;
        }
        if (now_ms() >= deadline) {
            *e = ETIMEDOUT;
            close(s);
            return -1;
        }
        usleep(1000);
    }
    return s;
}

/* One data byte with fd attached, as ProtectWorker reads it. */
static int
send_fd(int s, int fd, long long deadline)
{
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *cm;

    memset(&u, 0, sizeof(u));
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    for (;;) {
        if (sendmsg(s, &msg, MSG_NOSIGNAL) == 1)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (!wait_until(s, POLLOUT, deadline)) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

/* The answer byte: 0, or a T2S_PROTECT_* failure. */
static int
read_answer(int s, long long deadline, int *e)
{
    unsigned char b;
    ssize_t n;

    for (;;) {
        n = recv(s, &b, 1, 0);
        if (n == 1)
            return b == 0 ? T2S_PROTECT_OK : T2S_PROTECT_REFUSED;
        if (n == 0)
            return T2S_PROTECT_CLOSED;
        if (errno != EAGAIN && errno != EINTR) {
            *e = errno;
            return T2S_PROTECT_CLOSED;
        }
        if (!wait_until(s, POLLIN, deadline))
            return T2S_PROTECT_TIMEOUT;
    }
}

static void
log_failure(struct t2s_protect *p, int r, int e)
{
    static const char *const what[] = {
        "",
        "cannot connect",
        "cannot send the socket",
        "refused the socket",
        "closed the connection without answering",
        "did not answer within 1 s"};

    if (p->logged & (1u << r))
        return;
    p->logged |= 1u << r;
    t2s_warn("protect server %s: %s%s%s; refusing that proxy socket (said "
             "once: every refusal is counted in protect_failed)",
             p->path, what[r], e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
}

int
t2s_protect_fd(struct t2s_protect *p, int fd)
{
    long long deadline = now_ms() + T2S_PROTECT_TIMEOUT_MS;
    int e = 0, r, s = connect_server(p->path, deadline, &e);

    if (s < 0) {
        r = T2S_PROTECT_NO_SERVER;
    } else if (send_fd(s, fd, deadline) < 0) {
        e = errno;
        r = T2S_PROTECT_SEND;
    } else {
        r = read_answer(s, deadline, &e);
    }
    if (s >= 0)
        close(s);
    if (r != T2S_PROTECT_OK)
        log_failure(p, r, e);
    return r;
}
