/*
 * The protect_path client (--protect-path): asks an outside process to
 * protect a socket toward the proxy before it connects, the way
 * shadowsocks-android's VpnService does for its tun2socks (ProtectWorker
 * in bg/VpnService.kt): one Unix stream connection per socket to PATH,
 * the descriptor sent with SCM_RIGHTS along with one data byte, one byte
 * back: 0 = protected (VpnService.protect() or Network.bindSocket()
 * succeeded), anything else = refused.
 *
 * Blocking, bounded: t2s_protect_fd() waits on the loop thread, at most
 * T2S_PROTECT_TIMEOUT_MS in total (connect + send + answer), as badvpn's
 * tun2socks does. A server that never answers thus stalls the instance
 * for up to that long per socket; the socket is then refused. A
 * non-blocking client would have to make t2s_upstream_prepare() and its
 * three callers asynchronous: not worth it for a local server that
 * answers in microseconds.
 *
 * Owned by the instance (api/instance.c), reached by
 * t2s_upstream_prepare() through the config copy's `protect` pointer;
 * loop thread only.
 */
#ifndef T2S_PROTECT_H
#define T2S_PROTECT_H

#include <sys/un.h>

/* The whole exchange with the server: connect, send, answer. */
#define T2S_PROTECT_TIMEOUT_MS 1000

/* Longest PATH: sun_path less its terminating NUL. */
#define T2S_PROTECT_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

enum t2s_protect_result {
    T2S_PROTECT_OK = 0,        /* the server answered 0 */
    T2S_PROTECT_NO_SERVER = 1, /* cannot connect to PATH */
    T2S_PROTECT_SEND = 2,      /* sending the descriptor failed */
    T2S_PROTECT_REFUSED = 3,   /* the server answered non-zero */
    T2S_PROTECT_CLOSED = 4,    /* closed without answering */
    T2S_PROTECT_TIMEOUT = 5,   /* no answer within the timeout */
};

struct t2s_protect {
    const char *path; /* borrowed: the instance's config copy */
    unsigned logged;  /* bit r: result r already logged */
};

/* Readies p for path (non-empty, at most T2S_PROTECT_PATH_MAX bytes). */
void t2s_protect_init(struct t2s_protect *p, const char *path);

/*
 * Has fd protected: returns T2S_PROTECT_OK, or another result once the
 * server refused, failed or timed out (the caller refuses fd). The first
 * failure of each kind is logged at WARN, one line; later ones only
 * counted by the caller. fd stays the caller's; nothing else is left open.
 */
int t2s_protect_fd(struct t2s_protect *p, int fd);

#endif
