/*
 * bench_relay: a small, fast SOCKS5 server (RFC 1928, no authentication)
 * for scripts/bench. A measuring instrument, not product code: it must be
 * correct, simple, and fast enough never to be the ceiling of a figure.
 *
 *   CONNECT        IPv4, IPv6 or a domain name (getaddrinfo). Two threads
 *                  per connection, one per direction, each moving bytes
 *                  socket -> pipe -> socket with splice(2) (no copy to user
 *                  space). EOF on one side becomes shutdown(SHUT_WR) on the
 *                  other; an error tears both sides down.
 *   UDP ASSOCIATE  one thread: a UDP socket for the client (on the address
 *                  the client reached us at) and one per address family
 *                  toward the destinations; datagrams relayed both ways in
 *                  batches (recvmmsg/sendmmsg), to any number of
 *                  destinations. Fragments (FRAG != 0) are dropped. Ends
 *                  when the TCP control connection closes.
 *   BIND           refused (reply 07).
 *
 * Built by scripts/bench: cc -O2 -pthread -o build/bench/bench_relay
 * scripts/bench_relay.c. Usage: bench_relay --listen ADDR --port PORT
 * [--procs N] (--listen may be given up to 4 times). N processes (4)
 * listen with SO_REUSEPORT, each with its own descriptor limit; the
 * others end with the first (PR_SET_PDEATHSIG). Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTEN 4
#define PIPE_BYTES (1 << 20) /* pipe capacity asked for (F_SETPIPE_SZ) */
#define SPLICE_CHUNK (1 << 20)
#define UDP_BATCH 64
#define UDP_MAX 65536
#define UDP_HDR_MAX 262 /* RSV(2) FRAG(1) ATYP(1) domain(1+255) PORT(2) */
#define IO_TIMEOUT_S 10 /* handshake reads and outgoing connect() */

/* One relayed TCP connection, shared by its two direction threads; the
 * last one to finish closes the sockets and frees it. */
struct conn {
    int client;
    int remote;
    atomic_int refs;
};

struct direction {
    struct conn *conn;
    int from;
    int to;
};

static pthread_attr_t thread_attr;
static atomic_int thread_failures; /* pthread_create() failures so far */

/* Starts a detached thread; a failure is reported on stderr (the first
 * and every 1000th), so a figure hurt by it can be explained. */
static int
spawn_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, &thread_attr, fn, arg);
    if (rc != 0 && atomic_fetch_add(&thread_failures, 1) % 1000 == 0)
        fprintf(stderr, "bench_relay: cannot start a thread: %s\n",
                strerror(rc));
    return rc;
}

static void
die(const char *msg)
{
    fprintf(stderr, "bench_relay: %s\n", msg);
    exit(2);
}

static int
read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
    size_t put = 0;
    while (put < len) {
        ssize_t n = write(fd, (const char *)buf + put, len - put);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        put += (size_t)n;
    }
    return 0;
}

static void
set_timeout(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void
set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Writes a reply with the address addr (or 0.0.0.0:0 when NULL). */
static int
send_reply(int fd, int rep, const struct sockaddr_storage *addr)
{
    unsigned char b[22] = {5, (unsigned char)rep, 0, 1};
    size_t len = 10;
    if (addr && addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        b[3] = 4;
        memcpy(b + 4, &a->sin6_addr, 16);
        memcpy(b + 20, &a->sin6_port, 2);
        len = 22;
    } else if (addr) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        memcpy(b + 4, &a->sin_addr, 4);
        memcpy(b + 8, &a->sin_port, 2);
    }
    return write_full(fd, b, len);
}

static int
errno_to_rep(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return 5;
    case ENETUNREACH:
        return 3;
    case EHOSTUNREACH:
    case ETIMEDOUT:
    case EAGAIN:
        return 4;
    default:
        return 1;
    }
}

/* Reads ATYP + address + port from the control connection into a list of
 * candidate addresses (a domain may resolve to several). Returns a SOCKS
 * reply code on failure, 0 on success; *res is freed by the caller. */
static int
read_dest(int fd, struct addrinfo **res, int socktype)
{
    unsigned char atyp, b[256], port[2];
    char host[256], serv[8];
    struct addrinfo hints = {.ai_socktype = socktype};
    if (read_full(fd, &atyp, 1) < 0)
        return -1;
    if (atyp == 1 || atyp == 4) {
        size_t n = atyp == 1 ? 4 : 16;
        if (read_full(fd, b, n) < 0)
            return -1;
        inet_ntop(atyp == 1 ? AF_INET : AF_INET6, b, host, sizeof host);
        hints.ai_flags = AI_NUMERICHOST;
    } else if (atyp == 3) {
        if (read_full(fd, b, 1) < 0 || read_full(fd, host, b[0]) < 0)
            return -1;
        host[b[0]] = 0;
    } else {
        return 8;
    }
    if (read_full(fd, port, 2) < 0)
        return -1;
    snprintf(serv, sizeof serv, "%u", (unsigned)(port[0] << 8 | port[1]));
    if (getaddrinfo(host, serv, &hints, res) != 0)
        return 4;
    return 0;
}

static void
conn_put(struct conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        close(c->client);
        close(c->remote);
        free(c);
    }
}

/* Moves bytes from -> pipe -> to with splice(2) until EOF (returns 1) or
 * an error (0). */
static int
relay_splice(int from, int to, int p[2])
{
    for (;;) {
        ssize_t n = splice(from, NULL, p[1], NULL, SPLICE_CHUNK, SPLICE_F_MOVE);
        if (n == 0)
            return 1;
        if (n < 0 && errno == EINTR)
            continue;
        while (n > 0) {
            ssize_t m = splice(p[0], NULL, to, NULL, (size_t)n, SPLICE_F_MOVE);
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0)
                return 0;
            n -= m;
        }
        if (n < 0)
            return 0;
    }
}

/* The same through a buffer, when no pipe can be had (descriptors). */
static int
relay_copy(int from, int to)
{
    enum { BUF = 256 * 1024 };
    char *buf = malloc(BUF);
    int ok = 0;
    while (buf) {
        ssize_t n = read(from, buf, BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            ok = 1;
        if (n <= 0 || write_full(to, buf, (size_t)n) < 0)
            break;
    }
    free(buf);
    return ok;
}

/* One direction of a CONNECT. The pipe is made when the first bytes are
 * there: an idle connection costs two descriptors, not six. */
static void *
direction_run(void *arg)
{
    struct direction *d = arg;
    struct pollfd pf = {d->from, POLLIN, 0};
    int p[2], ok;
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    if (pipe2(p, O_CLOEXEC) == 0) {
        fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* best effort */
        ok = relay_splice(d->from, d->to, p);
        close(p[0]);
        close(p[1]);
    } else {
        ok = relay_copy(d->from, d->to);
    }
    if (ok) {
        shutdown(d->to, SHUT_WR);
    } else { /* wake the other direction too */
        shutdown(d->from, SHUT_RDWR);
        shutdown(d->to, SHUT_RDWR);
    }
    conn_put(d->conn);
    free(d);
    return NULL;
}

static int
start_direction(struct conn *c, int from, int to)
{
    struct direction *d = malloc(sizeof *d);
    if (!d)
        return -1;
    d->conn = c;
    d->from = from;
    d->to = to;
    if (spawn_thread(direction_run, d) != 0) {
        free(d);
        return -1;
    }
    return 0;
}

static int
connect_any(struct addrinfo *res, int *err)
{
    *err = EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            *err = errno;
            continue;
        }
        set_timeout(s, IO_TIMEOUT_S);
        if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
            set_timeout(s, 0);
            set_nodelay(s);
            return s;
        }
        *err = errno;
        close(s);
    }
    return -1;
}

/* CONNECT: this thread becomes the client -> remote direction. */
static void
do_connect(int client)
{
    struct addrinfo *res = NULL;
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    int err, remote, rep = read_dest(client, &res, SOCK_STREAM);
    if (rep != 0) {
        if (rep > 0)
            send_reply(client, rep, NULL);
        close(client);
        return;
    }
    remote = connect_any(res, &err);
    freeaddrinfo(res);
    if (remote < 0) {
        send_reply(client, errno_to_rep(err), NULL);
        close(client);
        return;
    }
    getsockname(remote, (struct sockaddr *)&local, &len);
    if (send_reply(client, 0, &local) < 0) {
        close(client);
        close(remote);
        return;
    }
    set_timeout(client, 0);
    struct conn *c = malloc(sizeof *c);
    if (!c) {
        close(client);
        close(remote);
        return;
    }
    c->client = client;
    c->remote = remote;
    atomic_init(&c->refs, 2);
    if (start_direction(c, remote, client) < 0) {
        atomic_store(&c->refs, 1);
        shutdown(client, SHUT_RDWR);
        conn_put(c);
        return;
    }
    struct direction *d = malloc(sizeof *d);
    if (!d) {
        shutdown(client, SHUT_RDWR);
        shutdown(remote, SHUT_RDWR);
        conn_put(c);
        return;
    }
    d->conn = c;
    d->from = client;
    d->to = remote;
    direction_run(d);
}

/* ------------------------------------------------------- UDP ASSOCIATE */

/* The state of one association, owned by its thread. */
struct assoc {
    int ctl;     /* the TCP control connection */
    int csock;   /* UDP socket the client sends to */
    int out[2];  /* UDP sockets toward destinations: [0] IPv4, [1] IPv6 */
    int learned; /* the client's UDP address is known */
    struct sockaddr_storage client_ip; /* the control connection's peer */
    struct sockaddr_storage client;    /* the client's UDP address */
    socklen_t client_len;
};

struct batch {
    struct mmsghdr msg[UDP_BATCH];
    struct iovec iov[UDP_BATCH][2];
    struct sockaddr_storage addr[UDP_BATCH];
    unsigned char hdr[UDP_BATCH][UDP_HDR_MAX];
    unsigned char data[UDP_BATCH][UDP_MAX];
};

static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* Large socket buffers, so that a burst is not lost while the thread waits
 * for the CPU: beyond net.core.rmem_max with the FORCE options (as root),
 * else as large as the limit allows. */
static void
udp_buffers(int s)
{
    int sz = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}

static int
out_socket(struct assoc *a, int family)
{
    int i = family == AF_INET6;
    if (a->out[i] < 0) {
        a->out[i] = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (a->out[i] >= 0)
            udp_buffers(a->out[i]);
    }
    return a->out[i];
}

/* Parses the RFC 1928 UDP header of a datagram from the client into dst.
 * Returns the header length, or -1 to drop the datagram. */
static int
parse_udp_header(const unsigned char *p, size_t len,
                 struct sockaddr_storage *dst, socklen_t *dst_len)
{
    size_t alen, hl;
    memset(dst, 0, sizeof *dst);
    if (len < 4 || p[0] || p[1] || p[2]) /* RSV, FRAG 0 only */
        return -1;
    if (p[3] == 1) {
        struct sockaddr_in *a = (struct sockaddr_in *)dst;
        if (len < 10)
            return -1;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, p + 4, 4);
        memcpy(&a->sin_port, p + 8, 2);
        *dst_len = sizeof *a;
        return 10;
    }
    if (p[3] == 4) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)dst;
        if (len < 22)
            return -1;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, p + 4, 16);
        memcpy(&a->sin6_port, p + 20, 2);
        *dst_len = sizeof *a;
        return 22;
    }
    if (p[3] != 3 || len < 5)
        return -1;
    alen = p[4];
    hl = 5 + alen + 2;
    if (len < hl)
        return -1;
    /* A domain is resolved for every datagram: slow, but rare in use. */
    char host[256], serv[8];
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
    memcpy(host, p + 5, alen);
    host[alen] = 0;
    snprintf(serv, sizeof serv, "%u",
             (unsigned)(p[5 + alen] << 8 | p[6 + alen]));
    if (getaddrinfo(host, serv, &hints, &res) != 0)
        return -1;
    memcpy(dst, res->ai_addr, res->ai_addrlen);
    *dst_len = res->ai_addrlen;
    freeaddrinfo(res);
    return (int)hl;
}

/* Sends every datagram of a batch; blocks while the socket buffer is full
 * (backpressure: the relay then loses datagrams where a real one would, at
 * its receive buffers, not by dropping what it already read). */
static void
send_all(int s, struct mmsghdr *m, int n)
{
    while (n > 0) {
        int k = sendmmsg(s, m, (unsigned)n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) { /* this datagram cannot go (EMSGSIZE, unreachable) */
            k = 1;
        }
        m += k;
        n -= k;
    }
}

/* Datagrams from the client: strip the header, send to the destinations. */
static void
udp_from_client(struct assoc *a, struct batch *b)
{
    struct mmsghdr out[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_storage dst[UDP_BATCH];
    int n, fam[UDP_BATCH], k = 0;
    for (int i = 0; i < UDP_BATCH; i++) {
        b->iov[i][0] = (struct iovec){b->data[i], UDP_MAX};
        b->msg[i].msg_hdr = (struct msghdr){
            .msg_name = &b->addr[i],
            .msg_namelen = sizeof b->addr[i],
            .msg_iov = b->iov[i],
            .msg_iovlen = 1,
        };
    }
    n = recvmmsg(a->csock, b->msg, UDP_BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        socklen_t dl;
        int hl;
        if (!same_ip(&b->addr[i], &a->client_ip))
            continue; /* only the client that asked may use it */
        if (!a->learned) {
            a->client = b->addr[i];
            a->client_len = b->msg[i].msg_hdr.msg_namelen;
            a->learned = 1;
        }
        hl = parse_udp_header(b->data[i], b->msg[i].msg_len, &dst[k], &dl);
        if (hl < 0)
            continue;
        iov[k] = (struct iovec){b->data[i] + hl, b->msg[i].msg_len - hl};
        out[k].msg_hdr = (struct msghdr){.msg_name = &dst[k],
                                         .msg_namelen = dl,
                                         .msg_iov = &iov[k],
                                         .msg_iovlen = 1};
        fam[k] = dst[k].ss_family;
        k++;
    }
    /* One sendmmsg per run of datagrams of the same family. */
    for (int i = 0; i < k;) {
        int j = i, s = out_socket(a, fam[i]);
        while (j < k && fam[j] == fam[i])
            j++;
        if (s >= 0)
            send_all(s, out + i, j - i);
        i = j;
    }
}

static size_t
encode_udp_header(unsigned char *h, const struct sockaddr_storage *src)
{
    h[0] = h[1] = h[2] = 0;
    if (src->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
        h[3] = 4;
        memcpy(h + 4, &s->sin6_addr, 16);
        memcpy(h + 20, &s->sin6_port, 2);
        return 22;
    }
    const struct sockaddr_in *s = (const struct sockaddr_in *)src;
    h[3] = 1;
    memcpy(h + 4, &s->sin_addr, 4);
    memcpy(h + 8, &s->sin_port, 2);
    return 10;
}

/* Datagrams from a destination: prepend the header, send to the client. */
static void
udp_to_client(struct assoc *a, int s, struct batch *b)
{
    int n;
    for (int i = 0; i < UDP_BATCH; i++) {
        b->iov[i][0] = (struct iovec){b->data[i], UDP_MAX};
        b->msg[i].msg_hdr = (struct msghdr){
            .msg_name = &b->addr[i],
            .msg_namelen = sizeof b->addr[i],
            .msg_iov = b->iov[i],
            .msg_iovlen = 1,
        };
    }
    n = recvmmsg(s, b->msg, UDP_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0 || !a->learned)
        return;
    for (int i = 0; i < n; i++) {
        size_t len = b->msg[i].msg_len;
        size_t hl = encode_udp_header(b->hdr[i], &b->addr[i]);
        b->iov[i][0] = (struct iovec){b->hdr[i], hl};
        b->iov[i][1] = (struct iovec){b->data[i], len};
        b->msg[i].msg_hdr = (struct msghdr){
            .msg_name = &a->client,
            .msg_namelen = a->client_len,
            .msg_iov = b->iov[i],
            .msg_iovlen = 2,
        };
    }
    send_all(a->csock, b->msg, n);
}

static void
udp_loop(struct assoc *a)
{
    struct batch *b = malloc(sizeof *b);
    if (!b)
        return;
    for (;;) {
        struct pollfd p[4] = {{a->ctl, POLLIN, 0},
                              {a->csock, POLLIN, 0},
                              {a->out[0], POLLIN, 0},
                              {a->out[1], POLLIN, 0}};
        char junk[256];
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) { /* the association lives as long as this */
            ssize_t n = read(a->ctl, junk, sizeof junk);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
        if (p[1].revents & POLLIN)
            udp_from_client(a, b);
        for (int i = 0; i < 2; i++)
            if (p[2 + i].revents & POLLIN)
                udp_to_client(a, a->out[i], b);
    }
    free(b);
}

static void
do_udp_associate(int ctl)
{
    struct addrinfo *res = NULL;
    struct assoc a = {.ctl = ctl, .csock = -1, .out = {-1, -1}};
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    int rep = read_dest(ctl, &res, SOCK_DGRAM);
    /* The client's announced address is only a hint: we learn its real
     * address from its first datagram (it may be behind NAT). */
    if (res)
        freeaddrinfo(res);
    if (rep != 0 && rep != 4) { /* an unresolvable hint is no error */
        if (rep > 0)
            send_reply(ctl, rep, NULL);
        goto out;
    }
    len = sizeof a.client_ip;
    getpeername(ctl, (struct sockaddr *)&a.client_ip, &len);
    len = sizeof local;
    getsockname(ctl, (struct sockaddr *)&local, &len);
    if (local.ss_family == AF_INET)
        ((struct sockaddr_in *)&local)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&local)->sin6_port = 0;
    a.csock = socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (a.csock < 0 || bind(a.csock, (struct sockaddr *)&local, len) < 0) {
        send_reply(ctl, 1, NULL);
        goto out;
    }
    udp_buffers(a.csock);
    len = sizeof local;
    getsockname(a.csock, (struct sockaddr *)&local, &len);
    set_timeout(ctl, 0);
    if (send_reply(ctl, 0, &local) == 0)
        udp_loop(&a);
out:
    for (int i = 0; i < 2; i++)
        if (a.out[i] >= 0)
            close(a.out[i]);
    if (a.csock >= 0)
        close(a.csock);
    close(ctl);
}

/* --------------------------------------------------------------- main */

/* The greeting and the request, then the command's own code. */
static void *
client_run(void *arg)
{
    int fd = (int)(intptr_t)arg;
    unsigned char b[258];
    int no_auth = 0;
    set_timeout(fd, IO_TIMEOUT_S);
    set_nodelay(fd);
    if (read_full(fd, b, 2) < 0 || b[0] != 5 || read_full(fd, b + 2, b[1]))
        goto drop;
    for (int i = 0; i < b[1]; i++)
        no_auth |= b[2 + i] == 0;
    if (write_full(fd, no_auth ? "\5\0" : "\5\377", 2) < 0 || !no_auth)
        goto drop;
    if (read_full(fd, b, 3) < 0 || b[0] != 5)
        goto drop;
    if (b[1] == 1) {
        do_connect(fd);
        return NULL;
    }
    if (b[1] == 3) {
        do_udp_associate(fd);
        return NULL;
    }
    send_reply(fd, 7, NULL);
drop:
    close(fd);
    return NULL;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: bench_relay --listen ADDR [--listen ADDR...] --port PORT\n"
            "                   [--procs N]\n"
            "\n"
            "A SOCKS5 server (no authentication) for scripts/bench: CONNECT\n"
            "(IPv4, IPv6, domain) relayed with splice(2), one thread per\n"
            "direction; UDP ASSOCIATE relayed in batches to any number of\n"
            "destinations until the control connection closes. Listens on\n"
            "each ADDR (IPv4 or IPv6, up to %d) at PORT in N processes\n"
            "(default 4, SO_REUSEPORT: each has its own descriptor limit);\n"
            "runs until killed (the other processes end with the first).\n",
            MAX_LISTEN);
}

static int
listen_on(const char *addr, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
                    *res;
    int s, one = 1;
    if (getaddrinfo(addr, port, &hints, &res) != 0) {
        fprintf(stderr, "bench_relay: --listen: not an IP address: '%s'\n",
                addr);
        exit(2);
    }
    s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        die("socket() failed");
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* every process listens; the kernel spreads connections over them */
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (res->ai_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(s, res->ai_addr, res->ai_addrlen) < 0 || listen(s, 4096) < 0) {
        fprintf(stderr, "bench_relay: cannot listen on %s port %s: %s\n", addr,
                port, strerror(errno));
        exit(1);
    }
    freeaddrinfo(res);
    return s;
}

/* A number from 0 to max, or -1. */
static int
number(const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *end || end == s || v < 0 || v > max ? -1 : (int)v;
}

static pid_t parent; /* the first process; the others end with it */

/* Forks procs - 1 more processes before any thread exists. Each has its
 * own descriptor limit (10,000 relayed connections are 20,000 sockets,
 * more than one process may hold here) and listens itself. */
static void
start_processes(int procs)
{
    parent = getpid();
    for (int i = 1; i < procs; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork() failed");
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) /* it ended before prctl() */
                _exit(0);
            return;
        }
    }
}

static void
raise_nofile(void)
{
    struct rlimit r;
    rlim_t want = 1 << 20;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return;
    r.rlim_cur = r.rlim_max = want; /* root may raise the hard limit */
    if (setrlimit(RLIMIT_NOFILE, &r) != 0 &&
        getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static void
accept_loop(struct pollfd *p, int n)
{
    for (;;) {
        if (poll(p, (nfds_t)n, -1) < 0)
            continue;
        for (int i = 0; i < n; i++) {
            int fd;
            if (!(p[i].revents & POLLIN))
                continue;
            fd = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) { /* EAGAIN: another process took it */
                if (errno == EMFILE || errno == ENFILE)
                    usleep(10000);
                continue;
            }
            if (spawn_thread(client_run, (void *)(intptr_t)fd) != 0)
                close(fd);
        }
    }
}

int
main(int argc, char **argv)
{
    const char *addrs[MAX_LISTEN], *port = NULL;
    struct pollfd p[MAX_LISTEN];
    int n = 0, procs = 4;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--listen") && strcmp(argv[i], "--port") &&
            strcmp(argv[i], "--procs")) {
            fprintf(stderr, "bench_relay: unknown argument '%s' (see --help)\n",
                    argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_relay: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--port")) {
            if (number(argv[i + 1], 65535) < 1) {
                fprintf(stderr, "bench_relay: --port: not a port: '%s'\n",
                        argv[i + 1]);
                return 2;
            }
            port = argv[i + 1];
        } else if (!strcmp(argv[i], "--procs")) {
            procs = number(argv[i + 1], 64);
            if (procs < 1) {
                fprintf(stderr,
                        "bench_relay: --procs: not a number from 1 to 64: "
                        "'%s'\n",
                        argv[i + 1]);
                return 2;
            }
        } else if (n == MAX_LISTEN) {
            die("at most 4 --listen addresses");
        } else {
            addrs[n++] = argv[i + 1];
        }
    }
    if (!n || !port)
        die("--listen and --port are required (see --help)");
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    start_processes(procs);
    /* Small stacks: 10,000 idle connections are 20,000 threads. */
    pthread_attr_init(&thread_attr);
    pthread_attr_setstacksize(&thread_attr, 128 * 1024);
    pthread_attr_setdetachstate(&thread_attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){listen_on(addrs[i], port), POLLIN, 0};
    if (getpid() == parent) {
        printf("bench_relay: listening on port %s, %d processes\n", port,
               procs);
        fflush(stdout);
    }
    accept_loop(p, n);
    return 0;
}
