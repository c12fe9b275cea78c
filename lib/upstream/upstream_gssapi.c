/* The GSSAPI branch of the SOCKS5 handshake; see upstream_gssapi.h. */
#include <stdio.h>
#include <string.h>

#include "codec/gssapi_msg.h"
#include "core/mem.h"
#include "upstream/gssapi.h"
#include "upstream/upstream_gssapi.h"

int
t2s_upstream_gssapi_greeting(struct t2s_upstream *up)
{
    size_t n = 0;

    if (up->proxy->gss_service[0] == '\0')
        return 0;
    up->out[n++] = 0x05;
    up->out[n++] = 0; /* the number of methods, below */
    up->out[n++] = T2S_UPSTREAM_METHOD_GSSAPI;
    if (up->proxy->user_len > 0)
        up->out[n++] = T2S_SOCKS5_METHOD_USERPASS;
    up->out[n++] = T2S_SOCKS5_METHOD_NOAUTH;
    up->out[1] = (uint8_t)(n - 2);
    up->out_len = (uint16_t)n;
    return 1;
}

/* FAIL_GSSAPI with the reason kept (a copy: up->gss may go first). */
static int
fail_gss(struct t2s_upstream *up, const char *why)
{
    size_t n = strlen(why) + 1;

    explicit_bzero(up->out, sizeof(up->out));
    up->out_len = up->out_off = 0;
    t2s_mem_free(up->gss_err);
    up->gss_err = t2s_mem_alloc_always(n);
    if (up->gss_err != NULL)
        memcpy(up->gss_err, why, n);
    up->fail_kind = T2S_UP_FAIL_GSSAPI;
    return T2S_UP_FAIL;
}

/*
 * UDP ASSOCIATE under GSSAPI: refused as a proxy without UDP would
 * ("command not supported"), so the UDP relay's own handling applies: one
 * log line, DNS over TCP, other UDP dropped and counted (udp_unsupported),
 * asked again after its interval. RFC 1961's datagram encapsulation is not
 * implemented.
 */
static int
refuse_udp(struct t2s_upstream *up)
{
    fail_gss(up, "UDP is not carried under GSSAPI by this client (no RFC "
                 "1961 datagram encapsulation)");
    up->fail_kind = T2S_UP_FAIL_REPLY;
    up->rep = 7;
    return T2S_UP_FAIL;
}

#ifdef T2S_HAVE_GSSAPI
int
t2s_upstream_gssapi_begin(struct t2s_upstream *up)
{
    char err[T2S_GSSAPI_ERR_MAX];

    if (up->cmd == T2S_SOCKS5_CMD_UDP_ASSOCIATE)
        return refuse_udp(up);

    up->gss = t2s_gssapi_start(up->proxy, err, sizeof(err));
    if (up->gss == NULL)
        return fail_gss(up, err);
    up->state = T2S_UP_GSSAPI;
    return T2S_UP_AGAIN;
}

/*
 * The exchange, then (integrity, confidentiality) the request wrapped and
 * the reply unwrapped into up->in: the caller's parser then reads the
 * reply as a plain one (request_sent tells it not to send another).
 */
int
t2s_upstream_gssapi_io(struct t2s_upstream *up, int fd, int *want)
{
    uint8_t req[T2S_SOCKS5_REQUEST_MAX];
    size_t n;
    int rc;

    for (;;) {
        rc = t2s_gssapi_io(up->gss, fd, want);
        if (rc == T2S_UP_FAIL)
            return fail_gss(up, t2s_gssapi_error(up->gss));
        if (rc != T2S_UP_DONE)
            return rc;
        if (t2s_gssapi_level(up->gss) == T2S_GSSAPI_LEVEL_CLEAR ||
            up->request_sent)
            return T2S_UP_DONE;
        n = t2s_socks5_encode_request(req, sizeof(req), up->cmd, &up->dst);
        if (t2s_gssapi_request(up->gss, req, n, up->in, sizeof(up->in),
                               &up->gss_rep_len) < 0)
            return fail_gss(up, t2s_gssapi_error(up->gss));
        up->request_sent = 1;
    }
}

struct t2s_gssapi *
t2s_upstream_gssapi_take(struct t2s_upstream *up)
{
    struct t2s_gssapi *g = up->gss;

    if (g == NULL || t2s_gssapi_level(g) == T2S_GSSAPI_LEVEL_CLEAR)
        return NULL;
    up->gss = NULL;
    return g;
}

void
t2s_upstream_gssapi_free(struct t2s_upstream *up)
{
    t2s_gssapi_free(up->gss);
    up->gss = NULL;
    t2s_mem_free(up->gss_err);
    up->gss_err = NULL;
}
#else
struct t2s_gssapi *
t2s_upstream_gssapi_take(struct t2s_upstream *up)
{
    (void)up;
    return NULL;
}

int
t2s_upstream_gssapi_begin(struct t2s_upstream *up)
{
    if (up->cmd == T2S_SOCKS5_CMD_UDP_ASSOCIATE)
        return refuse_udp(up);
    return fail_gss(up, "GSSAPI: this build has no GSSAPI support");
}

int
t2s_upstream_gssapi_io(struct t2s_upstream *up, int fd, int *want)
{
    (void)fd;
    (void)want;
    return fail_gss(up, "GSSAPI: this build has no GSSAPI support");
}

void
t2s_upstream_gssapi_free(struct t2s_upstream *up)
{
    t2s_mem_free(up->gss_err);
    up->gss_err = NULL;
}
#endif
