/* The handshake over a non-blocking socket, driven by its owner's I/O:
 * SOCKS5 here, the other schemes' steps in upstream_proto.c. */
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mem.h"
#include "upstream/protect.h"
#include "upstream/upstream.h"
#include "upstream/upstream_gssapi.h"
#include "upstream/upstream_proto.h"

int
t2s_upstream_prepare(int fd, const struct t2s_config *c, struct t2s_stats *st)
{
    uint32_t mark = c->fwmark;

    if (mark != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
        return -1;
    if (c->bind_iface[0] != '\0' &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->bind_iface,
                   (socklen_t)strlen(c->bind_iface)) < 0)
        return -1;
    /* protect_path first: the embedder's hook sees only sockets that
     * will be used */
    if (c->protect != NULL && t2s_protect_fd(c->protect, fd) != 0) {
        T2S_STAT_INC(st, protect_failed);
        errno = EPERM;
        return -1;
    }
    if (c->socket_fn != NULL && c->socket_fn(fd, c->socket_user) != 0) {
        T2S_STAT_INC(st, socket_hook_refused);
        errno = EPERM;
        return -1;
    }
    return 0;
}

int
t2s_upstream_socket(const struct t2s_config *c, const struct t2s_proxy *proxy,
                    struct t2s_stats *st)
{
    int one = 1, e;
    int fd = socket(proxy->addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    /* Small requests must not wait for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (t2s_upstream_prepare(fd, c, st) < 0)
        goto fail;
    if (connect(fd, (const struct sockaddr *)&proxy->addr, proxy->addr_len) <
            0 &&
        errno != EINPROGRESS)
        goto fail;
    return fd;
fail:
    e = errno;
    close(fd);
    errno = e;
    return -1;
}

static void
queue(struct t2s_upstream *up, size_t n)
{
    up->out_len = (uint16_t)(up->out_len + n);
}

static void
queue_request(struct t2s_upstream *up)
{
    queue(up, t2s_socks5_encode_request(up->out + up->out_len,
                                        sizeof(up->out) - up->out_len, up->cmd,
                                        &up->dst));
    up->request_sent = 1;
}

static void
queue_auth(struct t2s_upstream *up)
{
    const struct t2s_proxy *p = up->proxy;

    queue(up, t2s_socks5_encode_auth(up->out + up->out_len,
                                     sizeof(up->out) - up->out_len, p->user,
                                     p->user_len, p->pass, p->pass_len));
}

void
t2s_upstream_init(struct t2s_upstream *up, const struct t2s_proxy *proxy,
                  uint8_t cmd, const struct t2s_socks5_addr *dst, int pipeline,
                  int *want)
{
    int userpass = proxy->user_len > 0;

    memset(up, 0, offsetof(struct t2s_upstream, out));
    up->proxy = proxy;
    up->dst = *dst;
    up->cmd = cmd;
    up->pipeline = (uint8_t)(pipeline != 0);
    up->state = T2S_UP_CONNECTING;
    *want = EV_WRITE;
    if (!t2s_upstream_proto_is_socks5(proxy)) {
        t2s_upstream_proto_request(up);
        return;
    }
    if (t2s_upstream_gssapi_greeting(up))
        return;
    queue(up, t2s_socks5_encode_greeting(up->out, sizeof(up->out), userpass));
    /* Without credentials the method is known in advance. */
    if (up->pipeline && !userpass)
        queue_request(up);
}

int
t2s_upstream_fail(struct t2s_upstream *up, int kind, int err)
{
    /* unsent bytes may hold the RFC 1929 password */
    explicit_bzero(up->out, sizeof(up->out));
    up->out_len = up->out_off = 0;
    up->fail_kind = (uint8_t)kind;
    if (kind == T2S_UP_FAIL_CONNECT || kind == T2S_UP_FAIL_IO)
        up->sys_errno = err;
    else
        up->s5_status = (uint8_t)(-err);
    return T2S_UP_FAIL;
}

static int
fail(struct t2s_upstream *up, int kind, int err)
{
    return t2s_upstream_fail(up, kind, err);
}

void
t2s_upstream_consume(struct t2s_upstream *up, size_t n)
{
    memmove(up->in, up->in + n, up->in_len - n);
    up->in_len = (uint16_t)(up->in_len - n);
}

/* One message from in[]: T2S_UP_AGAIN to keep parsing or wait, DONE, FAIL;
 * *progress is set when a message was consumed. */
static int
parse_one(struct t2s_upstream *up, int *progress)
{
    size_t used = 0;
    uint8_t method;
    int rc;

    *progress = 0;
    switch (up->state) {
    case T2S_UP_METHOD:
        rc = t2s_socks5_decode_method(up->in, up->in_len, &method, &used);
        if (rc != T2S_SOCKS5_OK)
            break;
        if (method == T2S_SOCKS5_METHOD_USERPASS && up->proxy->user_len > 0) {
            queue_auth(up);
            up->state = T2S_UP_AUTH;
            if (up->pipeline && !up->request_sent)
                queue_request(up);
        } else if (method == T2S_UPSTREAM_METHOD_GSSAPI &&
                   up->proxy->gss_service[0] != '\0') {
            t2s_upstream_consume(up, used);
            *progress = 1;
            return t2s_upstream_gssapi_begin(up);
        } else if (method == T2S_SOCKS5_METHOD_NOAUTH) {
            up->state = T2S_UP_REPLY;
            if (!up->request_sent)
                queue_request(up);
        } else {
            return fail(up, T2S_UP_FAIL_AUTH, T2S_SOCKS5_EMETHOD);
        }
        break;
    case T2S_UP_AUTH:
        rc = t2s_socks5_decode_auth(up->in, up->in_len, &used);
        if (rc != T2S_SOCKS5_OK)
            break;
        up->state = T2S_UP_REPLY;
        if (!up->request_sent)
            queue_request(up);
        break;
    default:
        if (!t2s_upstream_proto_is_socks5(up->proxy))
            return t2s_upstream_proto_parse(up);
        rc = t2s_socks5_decode_reply(up->in, up->in_len, &up->rep, &up->bnd,
                                     &used);
        if (rc == T2S_SOCKS5_OK) {
            t2s_upstream_consume(up, used);
            return T2S_UP_DONE;
        }
        break;
    }
    if (rc == T2S_SOCKS5_NEED_MORE)
        return T2S_UP_AGAIN;
    if (rc != T2S_SOCKS5_OK) {
        if (rc == T2S_SOCKS5_EREPLY)
            return fail(up, T2S_UP_FAIL_REPLY, rc);
        if (rc == T2S_SOCKS5_ENOMETHOD || rc == T2S_SOCKS5_EAUTH)
            return fail(up, T2S_UP_FAIL_AUTH, rc);
        return fail(up, T2S_UP_FAIL_PROTO, rc);
    }
    t2s_upstream_consume(up, used);
    *progress = 1;
    return T2S_UP_AGAIN;
}

static int
flush_out(struct t2s_upstream *up, int fd, int *want)
{
    while (up->out_off < up->out_len) {
        ssize_t n = send(fd, up->out + up->out_off,
                         (size_t)(up->out_len - up->out_off), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                *want = EV_WRITE;
                return T2S_UP_AGAIN;
            }
            return fail(up, T2S_UP_FAIL_IO, errno);
        }
        /* sent bytes are the kernel's now; ours may hold the password */
        explicit_bzero(up->out + up->out_off, (size_t)n);
        up->out_off = (uint16_t)(up->out_off + n);
    }
    up->out_off = up->out_len = 0;
    *want = EV_READ;
    return T2S_UP_DONE;
}

static int
read_in(struct t2s_upstream *up, int fd)
{
    ssize_t n;

    /* Bytes the server sends right after its reply (a server-speaks-first
     * protocol) may arrive here too; the owner relays what is left in in[]
     * after T2S_UP_DONE. */
    n = recv(fd, up->in + up->in_len, sizeof(up->in) - up->in_len, 0);
    if (n > 0) {
        up->in_len = (uint16_t)(up->in_len + n);
        return T2S_UP_DONE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return T2S_UP_AGAIN;
    if (n == 0)
        return fail(up, T2S_UP_FAIL_PROTO, T2S_SOCKS5_EMALFORMED);
    return fail(up, T2S_UP_FAIL_IO, errno);
}

int
t2s_upstream_io(struct t2s_upstream *up, int fd, int *want)
{
    int rc, progress;

    if (up->state == T2S_UP_CONNECTING) {
        int s5 = t2s_upstream_proto_is_socks5(up->proxy);

        /* a destination the scheme's request could not carry */
        if (!s5 && up->out_len == 0)
            return fail(up, T2S_UP_FAIL_PROTO, -T2S_UP_UNSENDABLE);
        /* Writable: connected, or the connect failed. No getsockopt(
         * SO_ERROR): the first send() reports a failure just as well. */
        rc = flush_out(up, fd, want);
        if (rc == T2S_UP_FAIL)
            up->fail_kind = T2S_UP_FAIL_CONNECT;
        if (rc != T2S_UP_DONE)
            return rc;
        up->state = s5 ? T2S_UP_METHOD : T2S_UP_REPLY;
    }
    for (;;) {
        if (up->state == T2S_UP_GSSAPI) {
            rc = t2s_upstream_gssapi_io(up, fd, want);
            if (rc != T2S_UP_DONE)
                return rc;
            up->state = T2S_UP_REPLY;
            if (up->request_sent) /* wrapped; its reply unwrapped in in[] */
                up->in_len = (uint16_t)up->gss_rep_len;
            else
                queue_request(up);
        }
        rc = flush_out(up, fd, want);
        if (rc != T2S_UP_DONE)
            return rc;
        /* What is already read comes first. A message that queued an
         * answer (credentials, the request) stops the parse until that
         * answer is sent: a proxy that replies before it was asked (its
         * method choice and reply in one read) must not get the app's
         * bytes where it expects the request. */
        do {
            rc = parse_one(up, &progress);
        } while (rc == T2S_UP_AGAIN && progress && up->out_len == 0 &&
                 up->state != T2S_UP_GSSAPI);
        if (rc != T2S_UP_AGAIN)
            return rc;
        if (progress)
            continue;
        rc = read_in(up, fd);
        if (rc != T2S_UP_DONE)
            return rc;
    }
}

const char *
t2s_upstream_refusal(const struct t2s_proxy *proxy,
                     const struct t2s_socks5_addr *dst)
{
    return t2s_upstream_proto_refusal(proxy, dst);
}

void
t2s_upstream_describe(const struct t2s_upstream *up, char *buf, size_t len)
{
    if (up->fail_kind != T2S_UP_FAIL_CONNECT &&
        up->fail_kind != T2S_UP_FAIL_IO &&
        !t2s_upstream_proto_is_socks5(up->proxy)) {
        t2s_upstream_proto_describe(up, buf, len);
        return;
    }
    switch (up->fail_kind) {
    case T2S_UP_FAIL_CONNECT:
        snprintf(buf, len, "cannot connect to proxy %s port %u: %s",
                 up->proxy->host, up->proxy->port, strerror(up->sys_errno));
        break;
    case T2S_UP_FAIL_AUTH:
        if (up->s5_status == (uint8_t)(-T2S_SOCKS5_EAUTH))
            snprintf(buf, len,
                     "proxy rejected username/password authentication");
        else
            snprintf(buf, len, "proxy authentication failed: %s%s",
                     t2s_socks5_status_str(-(int)up->s5_status),
                     up->proxy->user_len > 0
                         ? ""
                         : " (the proxy may require credentials)");
        break;
    case T2S_UP_FAIL_REPLY:
        snprintf(buf, len, "connection refused by upstream: %s",
                 up->gss_err != NULL ? up->gss_err
                                     : t2s_socks5_rep_str(up->rep));
        break;
    case T2S_UP_FAIL_PROTO:
        snprintf(buf, len, "proxy protocol error: %s",
                 up->in_len == 0 &&
                         up->s5_status == (uint8_t)(-T2S_SOCKS5_EMALFORMED)
                     ? "connection closed during the handshake"
                     : t2s_socks5_status_str(-(int)up->s5_status));
        break;
    case T2S_UP_FAIL_GSSAPI:
        snprintf(buf, len, "proxy authentication failed: %s",
                 up->gss_err != NULL ? up->gss_err : "GSSAPI: out of memory");
        break;
    default:
        snprintf(buf, len, "proxy connection failed: %s",
                 strerror(up->sys_errno));
        break;
    }
}

void
t2s_upstream_free(struct t2s_upstream *up)
{
    if (up == NULL)
        return;
    explicit_bzero(up->out, sizeof(up->out));
    t2s_upstream_gssapi_free(up);
    t2s_mem_free(up);
}
