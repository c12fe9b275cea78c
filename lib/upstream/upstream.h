/*
 * Upstream handshake driver: a non-blocking TCP connect to the proxy
 * followed, for SOCKS5, by greeting, optional username/password and one
 * request (CONNECT or UDP ASSOCIATE); for SOCKS4/4a and HTTP CONNECT
 * (proxy->scheme) by their one request and reply (upstream_proto.c). Owns no
 * watcher: its owner calls t2s_upstream_io() whenever the socket is ready in
 * the direction last asked for in *want, until it returns DONE or FAIL. The
 * struct is freed by the owner once the handshake is over. Bytes of out are
 * zeroed as they are sent and on FAIL, so the RFC 1929 password does not
 * outlive its send; only a handshake abandoned while the kernel refused them
 * (EAGAIN) still holds them.
 */
#ifndef T2S_UPSTREAM_H
#define T2S_UPSTREAM_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "codec/http_connect.h"
#include "codec/socks5.h"
#include "core/stats.h"

/*
 * Whether a failed t2s_upstream_socket() or t2s_upstream_prepare() (errno
 * e) was a shortage of memory or descriptors, counted as err_resource, or
 * a refusal: the protect server or the socket hook said no (EPERM, counted
 * as protect_failed or socket_hook_refused), or the process may not mark or
 * bind the socket.
 */
static inline int
t2s_upstream_is_shortage(int e)
{
    return e != EPERM && e != EACCES;
}

enum t2s_up_result {
    T2S_UP_AGAIN = 0, /* wait for *want, call again */
    T2S_UP_DONE = 1,  /* request granted; bnd holds BND.ADDR/PORT */
    T2S_UP_FAIL = -1, /* see fail_kind and t2s_upstream_describe() */
};

/* Room for the largest first flight: SOCKS5 greeting + auth + request, or
 * an HTTP CONNECT request with its Basic credentials. */
#define T2S_UP_OUT_S5                                                          \
    (T2S_SOCKS5_GREETING_MAX + T2S_SOCKS5_AUTH_MAX + T2S_SOCKS5_REQUEST_MAX)
#define T2S_UP_OUT_MAX                                                         \
    (T2S_HTTP_REQUEST_MAX > T2S_UP_OUT_S5 ? T2S_HTTP_REQUEST_MAX               \
                                          : T2S_UP_OUT_S5)

enum t2s_up_fail {
    T2S_UP_FAIL_CONNECT = 1, /* TCP connect to the proxy failed */
    T2S_UP_FAIL_AUTH,        /* no acceptable method / credentials refused
                                (HTTP: 407) */
    T2S_UP_FAIL_REPLY,       /* REP != 0 (SOCKS4: CD != 90; HTTP: not 2xx) */
    T2S_UP_FAIL_PROTO,       /* malformed reply, unexpected EOF */
    T2S_UP_FAIL_IO,          /* socket error after connect */
    T2S_UP_FAIL_GSSAPI,      /* the GSSAPI method failed (gssapi.h) */
};

enum t2s_up_state {
    T2S_UP_CONNECTING,
    T2S_UP_METHOD,
    T2S_UP_AUTH,
    T2S_UP_REPLY,
    T2S_UP_GSSAPI, /* RFC 1961 exchange, then the request */
};

struct t2s_gssapi;

struct t2s_upstream {
    const struct t2s_proxy *proxy; /* borrowed; outlives the handshake */
    struct t2s_socks5_addr dst;    /* request target */
    uint8_t cmd;                   /* T2S_SOCKS5_CMD_* */
    uint8_t state;                 /* enum t2s_up_state */
    uint8_t pipeline;              /* send request without waiting */
    uint8_t request_sent;          /* request already queued in out */
    uint8_t rep;                   /* REP byte when fail_kind is REPLY
                                      (SOCKS4: the CD byte) */
    uint8_t fail_kind;             /* enum t2s_up_fail */
    uint8_t s5_status;             /* -T2S_SOCKS5_* of a codec failure
                                      (-T2S_SOCKS4_*, -T2S_HTTP_* for those
                                      schemes; 7 there too: EOF) */
    int sys_errno;                 /* errno of a CONNECT/IO failure */
    struct t2s_gssapi *gss;        /* owned; while the GSSAPI method runs */
    char *gss_err;                 /* owned; why it failed (FAIL_GSSAPI) */
    size_t gss_rep_len;            /* the unwrapped reply's length */
    uint16_t out_len;              /* bytes queued in out */
    uint16_t out_off;              /* bytes of out already sent */
    uint16_t in_len;               /* bytes received in in */
    uint8_t out[T2S_UP_OUT_MAX];
    uint8_t in[T2S_SOCKS5_REPLY_MAX];
    struct t2s_socks5_addr bnd; /* BND.ADDR of the final reply */
    struct t2s_http_resp http;  /* HTTP: the response parser's place */
};

/*
 * Creates the non-blocking TCP socket to proxy (one of c's, resolved),
 * readies it with t2s_upstream_prepare() and starts connect(). Returns the
 * fd or -1 with errno set (EPERM: the socket hook refused it).
 */
int t2s_upstream_socket(const struct t2s_config *c,
                        const struct t2s_proxy *proxy, struct t2s_stats *st);

/*
 * What every socket to the proxy (TCP, and the UDP relay sockets) gets
 * before its connect(): SO_MARK from c->fwmark, SO_BINDTODEVICE from
 * c->bind_iface (0/"" skip), then the protect_path client (c->protect,
 * upstream/protect.h; it may block up to 1 s), then the embedder's socket
 * hook (t2s_config_set_socket_hook): both apply, in that order. 0, or -1
 * with errno set; a refusal by the protect server is counted in
 * st->protect_failed, one by the hook in st->socket_hook_refused; both set
 * EPERM (the caller logs and fails that one connection). fd stays the
 * caller's.
 */
int t2s_upstream_prepare(int fd, const struct t2s_config *c,
                         struct t2s_stats *st);

/*
 * Why proxy cannot carry a TCP connection to dst (a constant string, e.g.
 * "a socks4 proxy cannot carry an IPv6 destination"), or NULL when it can.
 * The caller refuses such a connection before any socket is made.
 */
const char *t2s_upstream_refusal(const struct t2s_proxy *proxy,
                                 const struct t2s_socks5_addr *dst);

/* Prepares a handshake for (cmd, dst); *want is EV_WRITE. pipeline is for
 * SOCKS5 only (the other schemes send one request anyway). */
void t2s_upstream_init(struct t2s_upstream *up, const struct t2s_proxy *proxy,
                       uint8_t cmd, const struct t2s_socks5_addr *dst,
                       int pipeline, int *want);

/* Advances the handshake on fd; sets *want to EV_READ or EV_WRITE. */
int t2s_upstream_io(struct t2s_upstream *up, int fd, int *want);

/* Frees an upstream allocated with t2s_mem_alloc(), clearing any
 * handshake bytes (the RFC 1929 password) it may still hold. NULL is a
 * no-op. */
void t2s_upstream_free(struct t2s_upstream *up);

/* One line describing a failure, e.g. "connection refused by upstream:
 * host unreachable". Never contains credentials. */
void t2s_upstream_describe(const struct t2s_upstream *up, char *buf,
                           size_t len);

#endif
