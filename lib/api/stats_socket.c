/* The stats socket (stats_socket.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/stats_socket.h"
#include "config/config.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/stats_format.h"

#define ACCEPT_BUDGET 16      /* connections taken per wake-up */
#define ACCEPT_PAUSE_S 1.     /* after EMFILE and the like */
#define DRAIN_MAX (64 * 1024) /* request bytes discarded before close */

struct client {
    struct t2s_stats_socket *srv;
    int fd;      /* -1: a free slot */
    ev_io io;    /* EV_READ for the request, EV_WRITE for the answer */
    ev_timer dl; /* the deadline of the current phase */
    char *out;   /* the answer (malloc), NULL while reading */
    size_t out_len, out_off;
    size_t in_len; /* bytes of in[] received */
    char in[T2S_STATS_SOCKET_LINE];
};

struct t2s_stats_socket {
    struct ev_loop *loop;
    int fd; /* the listening socket */
    ev_io accept_io;
    ev_timer pause; /* accepting again after a shortage */
    dev_t dev;      /* the socket file we made, so that */
    ino_t ino;      /* close removes only that one */
    t2s_stats_socket_read_fn fn;
    void *user;
    struct t2s_log_limit limit; /* accept errors */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct client clients[T2S_STATS_SOCKET_CLIENTS];
};

static void
client_close(struct client *c)
{
    struct ev_loop *loop = c->srv->loop;
    char scrap[4096];
    size_t drained = 0;
    ssize_t n;

    ev_io_stop(loop, &c->io);
    ev_timer_stop(loop, &c->dl);
    /* What the client sent past its line (HTTP headers) is read away:
     * closing a Unix socket with unread bytes would turn the client's EOF
     * into ECONNRESET. */
    while (drained < DRAIN_MAX &&
           (n = recv(c->fd, scrap, sizeof(scrap), MSG_DONTWAIT)) > 0)
        drained += (size_t)n;
    close(c->fd);
    c->fd = -1;
    free(c->out);
    c->out = NULL;
}

/* send(), or EAGAIN when a test asked for a client that never drains
 * (core/fault.h). */
static ssize_t
send_some(struct client *c)
{
#ifdef T2S_FAULT_INJECTION
    if (t2s_fault_stats_send_hit()) {
        errno = EAGAIN;
        return -1;
    }
#endif
    return send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void
client_write(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send_some(c);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return; /* EV_WRITE is on, the deadline runs */
        if (n <= 0) {
            client_close(c); /* the client went away */
            return;
        }
        c->out_off += (size_t)n;
    }
    shutdown(c->fd, SHUT_WR);
    client_close(c);
}

/* The request is in (or never came): build the answer, start writing. */
static void
client_answer(struct client *c, int truncated)
{
    struct t2s_stats_socket *s = c->srv;
    struct t2s_stats_format_req req;
    struct t2s_stats st;
    struct t2s_proxy_stats p[T2S_PROXY_MAX];
    struct t2s_stats_format_proxies px = {p, 0};
    size_t n;

    t2s_stats_format_parse(c->in, c->in_len, truncated, &req);
    s->fn(s->user, &st, p, &px.n);
    n = t2s_stats_format_response_proxies(&st, &px, &req, NULL, 0);
    c->out = malloc(n + 1);
    if (c->out == NULL) {
        client_close(c);
        return;
    }
    c->out_len =
        t2s_stats_format_response_proxies(&st, &px, &req, c->out, n + 1);
    c->out_off = 0;
    ev_io_stop(s->loop, &c->io);
    ev_io_set(&c->io, c->fd, EV_WRITE);
    ev_io_start(s->loop, &c->io);
    ev_timer_stop(s->loop, &c->dl);
    ev_timer_set(&c->dl, T2S_STATS_SOCKET_WRITE_S, 0.);
    ev_timer_start(s->loop, &c->dl);
    client_write(c);
}

static void
client_read(struct client *c)
{
    ssize_t n =
        recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            client_close(c);
        return;
    }
    if (n == 0) { /* the client shut down its side: answer what came */
        client_answer(c, 0);
        return;
    }
    c->in_len += (size_t)n;
    if (memchr(c->in + c->in_len - (size_t)n, '\n', (size_t)n) != NULL)
        client_answer(c, 0);
    else if (c->in_len == sizeof(c->in))
        client_answer(c, 1);
}

static void
on_client_io(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = w->data;

    (void)loop;
    (void)revents;
    if (c->out == NULL)
        client_read(c);
    else
        client_write(c);
}

static void
on_client_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct client *c = w->data;

    (void)loop;
    (void)revents;
    if (c->out == NULL) {
        client_answer(c, 0); /* nothing more came: answer what did */
        return;
    }
    t2s_debug("stats socket: a client did not read its answer within %g s: "
              "dropped",
              T2S_STATS_SOCKET_WRITE_S);
    client_close(c);
}

static void
client_start(struct t2s_stats_socket *s, int fd)
{
    struct client *c = NULL;

    for (size_t i = 0; i < T2S_STATS_SOCKET_CLIENTS && c == NULL; i++)
        if (s->clients[i].fd < 0)
            c = &s->clients[i];
    if (c == NULL) {
        t2s_debug("stats socket: %d clients already: closing a new one",
                  T2S_STATS_SOCKET_CLIENTS);
        close(fd);
        return;
    }
    c->fd = fd;
    c->in_len = 0;
    ev_io_init(&c->io, on_client_io, fd, EV_READ);
    c->io.data = c;
    ev_timer_init(&c->dl, on_client_deadline, T2S_STATS_SOCKET_READ_S, 0.);
    c->dl.data = c;
    ev_io_start(s->loop, &c->io);
    ev_timer_start(s->loop, &c->dl);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct t2s_stats_socket *s = w->data;

    (void)revents;
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            client_start(s, fd);
            continue;
        }
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
            return;
        /* EMFILE and the like: the socket stays readable, so pause
         * instead of spinning */
        t2s_log_limited(&s->limit, T2S_LOG_WARN,
                        "stats socket %s: accept: %s (pausing %g s)", s->path,
                        strerror(errno), ACCEPT_PAUSE_S);
        ev_io_stop(loop, &s->accept_io);
        ev_timer_set(&s->pause, ACCEPT_PAUSE_S, 0.);
        ev_timer_start(loop, &s->pause);
        return;
    }
}

static void
on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct t2s_stats_socket *s = w->data;

    (void)revents;
    ev_io_start(loop, &s->accept_io);
}

/* A socket file at path: removed when nobody accepts on it any more (a
 * previous run's); an error when someone does or it is not a socket. */
static int
clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
    struct stat sb;
    int probe, live;

    if (lstat(sa->sun_path, &sb) < 0)
        return 0; /* nothing there */
    if (!S_ISSOCK(sb.st_mode)) {
        snprintf(err, errlen, "stats socket %s: exists and is not a socket",
                 sa->sun_path);
        return -1;
    }
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        snprintf(err, errlen, "stats socket %s: %s", sa->sun_path,
                 strerror(errno));
        return -1;
    }
    live = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
           errno == EAGAIN; /* a full backlog: someone listens */
    close(probe);
    if (live) {
        snprintf(err, errlen,
                 "stats socket %s: another process is listening there",
                 sa->sun_path);
        return -1;
    }
    if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "stats socket %s: removing the stale one: %s",
                 sa->sun_path, strerror(errno));
        return -1;
    }
    return 0;
}

static int
listen_on(struct t2s_stats_socket *s, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat sb;
    const char *step = "socket";
    int e;

    memcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
    if (clear_stale(&sa, err, errlen) < 0)
        return -1;
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd >= 0) {
        step = "bind";
        if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            step = "listen";
            if (listen(s->fd, 16) == 0 && stat(s->path, &sb) == 0) {
                s->dev = sb.st_dev;
                s->ino = sb.st_ino;
                return 0;
            }
            e = errno;
            unlink(s->path);
            errno = e;
        }
    }
    snprintf(err, errlen, "stats socket %s: %s: %s", s->path, step,
             strerror(errno));
    return -1;
}

struct t2s_stats_socket *
t2s_stats_socket_open(struct ev_loop *loop, const char *path,
                      t2s_stats_socket_read_fn fn, void *user, char *err,
                      size_t errlen)
{
    struct t2s_stats_socket *s;
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(s->path)) {
        snprintf(err, errlen, "stats socket: bad path (1..%zu bytes)",
                 sizeof(s->path) - 1);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "stats socket: out of memory");
        return NULL;
    }
    s->fd = -1;
    s->loop = loop;
    s->fn = fn;
    s->user = user;
    memcpy(s->path, path, n + 1);
    for (size_t i = 0; i < T2S_STATS_SOCKET_CLIENTS; i++) {
        s->clients[i].fd = -1;
        s->clients[i].srv = s;
    }
    if (listen_on(s, err, errlen) < 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    ev_io_init(&s->accept_io, on_accept, s->fd, EV_READ);
    s->accept_io.data = s;
    ev_io_start(loop, &s->accept_io);
    ev_init(&s->pause, on_pause_end);
    s->pause.data = s;
    t2s_info("counters on stats socket %s", s->path);
    return s;
}

void
t2s_stats_socket_close(struct t2s_stats_socket *s)
{
    struct stat sb;

    if (s == NULL)
        return;
    ev_io_stop(s->loop, &s->accept_io);
    ev_timer_stop(s->loop, &s->pause);
    for (size_t i = 0; i < T2S_STATS_SOCKET_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            client_close(&s->clients[i]);
    close(s->fd);
    /* not a socket someone else made there since */
    if (stat(s->path, &sb) == 0 && sb.st_dev == s->dev && sb.st_ino == s->ino)
        unlink(s->path);
    free(s);
}
