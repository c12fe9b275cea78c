/* DNS over TCP in RFC 1961 messages; see dns_tcp_gss.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "codec/gssapi_msg.h"
#include "core/mem.h"
#include "udp/dns_tcp_gss.h"
#include "upstream/gssapi.h"
#include "upstream/upstream_gssapi.h"

struct t2s_dns_tcp_gss {
    struct t2s_gssapi *g;
    size_t in_len;    /* bytes of the message being received */
    size_t plain_len; /* answer bytes gathered */
    uint8_t in[T2S_GSSAPI_FRAME_MAX];
    uint8_t plain[2 + 65535];
    uint8_t tmp[T2S_GSSAPI_FRAME_MAX];
};

#ifdef T2S_HAVE_GSSAPI
int
t2s_dns_tcp_gss_start(struct t2s_dns_tcp_gss **out, struct t2s_upstream *up,
                      uint8_t **buf, size_t *len)
{
    struct t2s_gssapi *g = t2s_upstream_gssapi_take(up);
    struct t2s_dns_tcp_gss *gs;
    uint8_t *frame;
    size_t flen;

    *out = NULL;
    if (g == NULL)
        return 0;
    gs = t2s_mem_alloc(sizeof(*gs));
    frame = t2s_mem_alloc(T2S_GSSAPI_FRAME_MAX);
    if (gs == NULL || frame == NULL || *len > t2s_gssapi_max_plain(g) ||
        t2s_gssapi_wrap(g, *buf, *len, frame, &flen) < 0) {
        t2s_mem_free(gs);
        t2s_mem_free(frame);
        t2s_gssapi_free(g);
        return -1;
    }
    gs->g = g;
    gs->in_len = gs->plain_len = 0;
    t2s_mem_free(*buf);
    *buf = frame;
    *len = flen;
    *out = gs;
    return 0;
}

/* A whole message in in[]: its plaintext appended. 0, or -1. */
static int
take_message(struct t2s_dns_tcp_gss *gs)
{
    const uint8_t *tok;
    size_t n, used, plen;

    if (t2s_gssapi_msg_decode(gs->in, gs->in_len, T2S_GSSAPI_MSG_DATA, &tok, &n,
                              &used) != T2S_GSSAPI_MSG_OK ||
        t2s_gssapi_unwrap(gs->g, tok, n, gs->tmp, &plen) < 0 ||
        plen > sizeof(gs->plain) - gs->plain_len)
        return -1;
    memcpy(gs->plain + gs->plain_len, gs->tmp, plen);
    gs->plain_len += plen;
    gs->in_len = 0;
    return 0;
}

int
t2s_dns_tcp_gss_recv(struct t2s_dns_tcp_gss *gs, int fd, const uint8_t **ans,
                     size_t *ans_len)
{
    for (;;) {
        size_t need = T2S_GSSAPI_MSG_HDR, want;
        ssize_t r;

        if (gs->plain_len >= 2) {
            want = 2 + (((size_t)gs->plain[0] << 8) | gs->plain[1]);
            if (want < 2 + 12 || gs->plain_len > want)
                return -1;
            if (gs->plain_len == want) {
                *ans = gs->plain;
                *ans_len = want;
                return 1;
            }
        }
        if (gs->in_len >= 2 && (gs->in[0] != T2S_GSSAPI_MSG_VER ||
                                gs->in[1] != T2S_GSSAPI_MSG_DATA))
            return -1;
        if (gs->in_len >= T2S_GSSAPI_MSG_HDR)
            need += ((size_t)gs->in[2] << 8) | gs->in[3];
        r = recv(fd, gs->in + gs->in_len, need - gs->in_len, MSG_DONTWAIT);
        if (r == 0)
            return -1;
        if (r < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        gs->in_len += (size_t)r;
        /* whole once the header's length is there too (need was only
         * the header's size when it was still missing) */
        if (gs->in_len >= T2S_GSSAPI_MSG_HDR &&
            gs->in_len ==
                T2S_GSSAPI_MSG_HDR + (((size_t)gs->in[2] << 8) | gs->in[3]) &&
            take_message(gs) < 0)
            return -1;
    }
}

void
t2s_dns_tcp_gss_free(struct t2s_dns_tcp_gss *gs)
{
    if (gs == NULL)
        return;
    t2s_gssapi_free(gs->g);
    t2s_mem_free(gs);
}
#else
int
t2s_dns_tcp_gss_start(struct t2s_dns_tcp_gss **out, struct t2s_upstream *up,
                      uint8_t **buf, size_t *len)
{
    (void)up;
    (void)buf;
    (void)len;
    *out = NULL;
    return 0;
}

int
t2s_dns_tcp_gss_recv(struct t2s_dns_tcp_gss *gs, int fd, const uint8_t **ans,
                     size_t *ans_len)
{
    (void)gs;
    (void)fd;
    (void)ans;
    (void)ans_len;
    return -1;
}

void
t2s_dns_tcp_gss_free(struct t2s_dns_tcp_gss *gs)
{
    (void)gs;
}
#endif
