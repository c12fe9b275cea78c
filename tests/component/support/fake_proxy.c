/* The scripted SOCKS5 server of the component tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake_proxy.h"
#include "pkt.h"

struct fp_arg {
    struct fake_proxy *px;
    size_t i;
};

static void
record(struct fake_proxy *px,
       void (*fn)(struct fp_conn *, const void *, size_t), struct fp_conn *c,
       const void *d, size_t n)
{
    pthread_mutex_lock(&px->mu);
    fn(c, d, n);
    pthread_cond_broadcast(&px->cv);
    pthread_mutex_unlock(&px->mu);
}

static void
set_eof(struct fp_conn *c, const void *d, size_t n)
{
    (void)d;
    (void)n;
    c->eof = 1;
}

static void
set_reset(struct fp_conn *c, const void *d, size_t n)
{
    (void)d;
    (void)n;
    c->reset = 1;
}

static void
add_rx(struct fp_conn *c, const void *d, size_t n)
{
    if (c->rx_len + n > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + n)
            cap *= 2;
        c->rx = realloc(c->rx, cap);
        if (c->rx == NULL)
            abort();
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, d, n);
    c->rx_len += n;
}

/* Waits for fd to be ready (or stop). 0 ready, -1 stopping. */
static int
wait_fd(struct fake_proxy *px, int fd, short ev)
{
    struct pollfd p[2] = {{.fd = fd, .events = ev},
                          {.fd = px->stop_pipe[0], .events = POLLIN}};

    for (;;) {
        int r = poll(p, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (p[1].revents & POLLIN))
            return -1;
        if (p[0].revents)
            return 0;
    }
}

/* Reads up to n bytes (exact: all n). Returns bytes read, -1 on EOF,
 * error or stop (recorded). */
static ssize_t
rd(struct fake_proxy *px, struct fp_conn *c, void *buf, size_t n, int exact)
{
    size_t off = 0;

    while (off < n) {
        ssize_t r;
        if (wait_fd(px, c->fd, POLLIN) < 0)
            return -1;
        r = recv(c->fd, (char *)buf + off, n - off, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r == 0) {
            record(px, set_eof, c, NULL, 0);
            return -1;
        }
        if (r < 0) {
            record(px, set_reset, c, NULL, 0);
            return -1;
        }
        off += (size_t)r;
        if (!exact)
            break;
    }
    return (ssize_t)off;
}

static int
wr(struct fake_proxy *px, struct fp_conn *c, const void *buf, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t w;
        if (wait_fd(px, c->fd, POLLOUT) < 0)
            return -1;
        w = send(c->fd, (const char *)buf + off, n - off,
                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w < 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Handshake replies: one byte per write (and per segment) when bytewise. */
static int
reply(struct fake_proxy *px, struct fp_conn *c, const uint8_t *b, size_t n)
{
    if (!px->bytewise)
        return wr(px, c, b, n);
    for (size_t i = 0; i < n; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        if (wr(px, c, b + i, 1) < 0)
            return -1;
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int
do_greeting(struct fake_proxy *px, struct fp_conn *c)
{
    uint8_t b[2], m[255];

    if (rd(px, c, b, 2, 1) < 0 || b[0] != 5 || rd(px, c, m, b[1], 1) < 0)
        return -1;
    pthread_mutex_lock(&px->mu);
    memcpy(c->methods, m, b[1]);
    c->nmethods = b[1];
    c->greeted = 1;
    pthread_mutex_unlock(&px->mu);
    return 0;
}

static int
do_auth(struct fake_proxy *px, struct fp_conn *c)
{
    uint8_t b[2], u[256], p[256], plen;

    if (rd(px, c, b, 2, 1) < 0 || b[0] != 1 || rd(px, c, u, b[1], 1) < 0 ||
        rd(px, c, &plen, 1, 1) < 0 || rd(px, c, p, plen, 1) < 0)
        return -1;
    pthread_mutex_lock(&px->mu);
    memcpy(c->user, u, b[1]);
    c->user[b[1]] = '\0';
    memcpy(c->pass, p, plen);
    c->pass[plen] = '\0';
    c->authed = 1;
    pthread_mutex_unlock(&px->mu);
    return 0;
}

static int
do_request(struct fake_proxy *px, struct fp_conn *c)
{
    uint8_t h[4], a[256], port[2], len = 0;
    size_t alen;

    if (rd(px, c, h, 4, 1) < 0 || h[0] != 5)
        return -1;
    if (h[3] == 1)
        alen = 4;
    else if (h[3] == 4)
        alen = 16;
    else if (h[3] == 3 && rd(px, c, &len, 1, 1) == 1)
        alen = len;
    else
        return -1;
    if (rd(px, c, a, alen, 1) < 0 || rd(px, c, port, 2, 1) < 0)
        return -1;
    pthread_mutex_lock(&px->mu);
    c->req_cmd = h[1];
    c->req_atyp = h[3];
    memcpy(c->req_addr, a, alen);
    c->req_addr_len = alen;
    c->req_port = (uint16_t)(port[0] << 8 | port[1]);
    c->requested = 1;
    pthread_mutex_unlock(&px->mu);
    return 0;
}

static int
do_reply(struct fake_proxy *px, struct fp_conn *c, unsigned rep, unsigned atyp)
{
    uint8_t b[32] = {5, (uint8_t)rep, 0, (uint8_t)(atyp ? atyp : 1)};
    size_t n = 4;

    if (b[3] == 1) {
        memcpy(b + n, (const uint8_t[]){127, 0, 0, 1}, 4);
        n += 4;
    } else if (b[3] == 4) {
        memset(b + n, 0, 16);
        b[n + 15] = 1;
        n += 16;
    } else {
        b[n++] = 10;
        memcpy(b + n, "proxy.test", 10);
        n += 10;
    }
    b[n++] = 0x04;
    b[n++] = 0x38;
    return reply(px, c, b, n);
}

/* Reads until EOF; echo writes everything back. 0 at EOF, -1 otherwise. */
static int
sink(struct fake_proxy *px, struct fp_conn *c, int echo, int keep)
{
    uint8_t b[16384];

    for (;;) {
        ssize_t n = rd(px, c, b, sizeof(b), 0);
        if (n < 0)
            return c->eof ? 0 : -1;
        if (keep)
            record(px, add_rx, c, b, (size_t)n);
        if (echo && wr(px, c, b, (size_t)n) < 0)
            return -1;
    }
}

static int
read_n(struct fake_proxy *px, struct fp_conn *c, size_t want)
{
    uint8_t b[16384];

    while (want > 0) {
        ssize_t n = rd(px, c, b, want < sizeof(b) ? want : sizeof(b), 0);
        if (n < 0)
            return -1;
        record(px, add_rx, c, b, (size_t)n);
        want -= (size_t)n;
    }
    return 0;
}

static int
send_pattern(struct fake_proxy *px, struct fp_conn *c, size_t total)
{
    uint8_t b[16384];
    size_t off = 0;

    while (off < total) {
        size_t n = total - off < sizeof(b) ? total - off : sizeof(b);
        pattern_fill(b, off, n);
        if (wr(px, c, b, n) < 0)
            return -1;
        off += n;
    }
    return 0;
}

static int
wait_gate(struct fake_proxy *px)
{
    int ok;

    pthread_mutex_lock(&px->mu);
    while (!px->gate && !px->stopping)
        pthread_cond_wait(&px->cv, &px->mu);
    ok = px->gate;
    pthread_mutex_unlock(&px->mu);
    return ok ? 0 : -1;
}

static int
run_step(struct fake_proxy *px, struct fp_conn *c, const struct fp_step *s)
{
    switch (s->op) {
    case FP_GREETING:
        return do_greeting(px, c);
    case FP_METHOD:
        return reply(px, c, (const uint8_t[]){5, (uint8_t)s->arg}, 2);
    case FP_AUTH:
        return do_auth(px, c);
    case FP_AUTH_REPLY:
        return reply(px, c, (const uint8_t[]){1, (uint8_t)s->arg}, 2);
    case FP_REQUEST:
        return do_request(px, c);
    case FP_REPLY:
        return do_reply(px, c, s->arg, s->arg2);
    case FP_SEND:
        return reply(px, c, s->data, s->len);
    case FP_RAW:
        return wr(px, c, s->data, s->len);
    case FP_SEND_PATTERN:
        return send_pattern(px, c, s->arg);
    case FP_ECHO:
        return sink(px, c, 1, 1);
    case FP_READ:
        return read_n(px, c, s->arg);
    case FP_READ_EOF:
        return sink(px, c, 0, 1);
    case FP_STALL:
        return sink(px, c, 0, 0);
    case FP_SHUT_WR:
        return shutdown(c->fd, SHUT_WR);
    case FP_WAIT_GATE:
        return wait_gate(px);
    case FP_RESET: {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        return 0;
    }
    default:
        return 0;
    }
}

static void *
conn_main(void *arg)
{
    struct fp_arg a = *(struct fp_arg *)arg;
    struct fake_proxy *px = a.px;
    struct fp_conn *c = &px->conns[a.i];
    size_t si = a.i < px->nscripts ? a.i : px->nscripts - 1;
    const struct fp_step *s = px->scripts[si];
    int aborted = 0;

    free(arg);
    for (; s->op != FP_END; s++) {
        if (run_step(px, c, s) < 0) {
            aborted = 1;
            break;
        }
        if (s->op == FP_RESET)
            break;
    }
    close(c->fd);
    pthread_mutex_lock(&px->mu);
    c->aborted = aborted;
    c->done = 1;
    pthread_cond_broadcast(&px->cv);
    pthread_mutex_unlock(&px->mu);
    return NULL;
}

static void *
accept_main(void *arg)
{
    struct fake_proxy *px = arg;

    for (;;) {
        struct fp_arg *a;
        int fd, one = 1;

        if (wait_fd(px, px->lfd, POLLIN) < 0)
            break;
        fd = accept(px->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_mutex_lock(&px->mu);
        if (px->nconns >= FP_MAX_CONNS) {
            pthread_mutex_unlock(&px->mu);
            close(fd);
            continue;
        }
        a = malloc(sizeof(*a));
        if (a == NULL)
            abort();
        a->px = px;
        a->i = px->nconns;
        px->conns[a->i].fd = fd;
        if (pthread_create(&px->threads[a->i], NULL, conn_main, a) != 0)
            abort();
        px->nconns++;
        pthread_cond_broadcast(&px->cv);
        pthread_mutex_unlock(&px->mu);
    }
    return NULL;
}

void
fp_start(struct fake_proxy *px, int family, int bytewise,
         const struct fp_step *const *scripts)
{
    struct sockaddr_storage ss;
    socklen_t len;

    px->family = family;
    px->bytewise = bytewise;
    px->nconns = 0;
    px->gate = px->stopping = 0;
    for (px->nscripts = 0; scripts[px->nscripts] != NULL; px->nscripts++)
        px->scripts[px->nscripts] = scripts[px->nscripts];
    memset(px->conns, 0, sizeof(px->conns));
    memset(&ss, 0, sizeof(ss));
    if (family == 4) {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        sa->sin_family = AF_INET;
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*sa);
    } else {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_addr = in6addr_loopback;
        len = sizeof(*sa);
    }
    px->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (px->lfd < 0 || pipe(px->stop_pipe) < 0)
        abort();
    if (px->rcvbuf > 0)
        setsockopt(px->lfd, SOL_SOCKET, SO_RCVBUF, &px->rcvbuf,
                   sizeof(px->rcvbuf));
    if (bind(px->lfd, (struct sockaddr *)&ss, len) < 0 ||
        listen(px->lfd, 64) < 0 ||
        getsockname(px->lfd, (struct sockaddr *)&ss, &len) < 0)
        abort();
    px->port = ntohs(family == 4 ? ((struct sockaddr_in *)&ss)->sin_port
                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
    pthread_mutex_init(&px->mu, NULL);
    pthread_cond_init(&px->cv, NULL);
    if (pthread_create(&px->acceptor, NULL, accept_main, px) != 0)
        abort();
}

void
fp_url(const struct fake_proxy *px, const char *userinfo, char *buf, size_t len)
{
    snprintf(buf, len, "socks5://%s%s%s:%u", userinfo ? userinfo : "",
             userinfo ? "@" : "", px->family == 4 ? "127.0.0.1" : "[::1]",
             px->port);
}

void
fp_open_gate(struct fake_proxy *px)
{
    pthread_mutex_lock(&px->mu);
    px->gate = 1;
    pthread_cond_broadcast(&px->cv);
    pthread_mutex_unlock(&px->mu);
}

static int
wait_until(struct fake_proxy *px,
           int (*pred)(struct fake_proxy *, size_t, size_t), size_t i, size_t n,
           int timeout_ms)
{
    struct timespec ts;
    int ok;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&px->mu);
    while (!(ok = pred(px, i, n)) &&
           pthread_cond_timedwait(&px->cv, &px->mu, &ts) == 0)
        ;
    ok = pred(px, i, n);
    pthread_mutex_unlock(&px->mu);
    return ok ? 0 : -1;
}

static int
p_conns(struct fake_proxy *px, size_t i, size_t n)
{
    (void)i;
    return px->nconns >= n;
}

static int
p_rx(struct fake_proxy *px, size_t i, size_t n)
{
    return px->nconns > i && px->conns[i].rx_len >= n;
}

static int
p_done(struct fake_proxy *px, size_t i, size_t n)
{
    (void)n;
    return px->nconns > i && px->conns[i].done;
}

int
fp_wait_conns(struct fake_proxy *px, size_t n, int timeout_ms)
{
    return wait_until(px, p_conns, 0, n, timeout_ms);
}

int
fp_wait_rx(struct fake_proxy *px, size_t i, size_t n, int timeout_ms)
{
    return wait_until(px, p_rx, i, n, timeout_ms);
}

int
fp_wait_done(struct fake_proxy *px, size_t i, int timeout_ms)
{
    return wait_until(px, p_done, i, 0, timeout_ms);
}

struct fp_conn
fp_get(struct fake_proxy *px, size_t i)
{
    struct fp_conn c;

    pthread_mutex_lock(&px->mu);
    c = px->conns[i];
    pthread_mutex_unlock(&px->mu);
    return c;
}

void
fp_stop(struct fake_proxy *px)
{
    size_t n;

    pthread_mutex_lock(&px->mu);
    px->stopping = 1;
    pthread_cond_broadcast(&px->cv);
    pthread_mutex_unlock(&px->mu);
    if (write(px->stop_pipe[1], "x", 1) != 1)
        abort();
    pthread_join(px->acceptor, NULL);
    n = px->nconns;
    for (size_t i = 0; i < n; i++) {
        pthread_join(px->threads[i], NULL);
        free(px->conns[i].rx);
        px->conns[i].rx = NULL;
    }
    close(px->lfd);
    close(px->stop_pipe[0]);
    close(px->stop_pipe[1]);
    pthread_mutex_destroy(&px->mu);
    pthread_cond_destroy(&px->cv);
}
