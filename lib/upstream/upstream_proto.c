/*
 * SOCKS4, SOCKS4a and HTTP CONNECT for the handshake driver: one request
 * queued at init, one reply parsed. SOCKS4 has room for an IPv4 address
 * only, SOCKS4a adds host names; HTTP CONNECT carries all three forms.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "codec/socks4.h"
#include "upstream/upstream_proto.h"

/* EOF during the handshake, as upstream.c's read_in() records it */
#define STATUS_EOF ((uint8_t)(-T2S_SOCKS5_EMALFORMED))

int
t2s_upstream_proto_is_socks5(const struct t2s_proxy *p)
{
    return p->scheme == T2S_PROXY_SOCKS5 || p->scheme == T2S_PROXY_SOCKS5H;
}

/* The names http_connect.c's encoder accepts. */
static int
http_name_ok(const struct t2s_socks5_addr *d)
{
    for (size_t i = 0; i < d->name_len; i++) {
        unsigned char c = (unsigned char)d->u.name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

const char *
t2s_upstream_proto_refusal(const struct t2s_proxy *proxy,
                           const struct t2s_socks5_addr *dst)
{
    if (proxy->scheme == T2S_PROXY_SOCKS4) {
        if (dst->atyp == T2S_SOCKS5_ATYP_IPV6)
            return "a socks4 proxy cannot carry an IPv6 destination";
        if (dst->atyp == T2S_SOCKS5_ATYP_DOMAIN)
            return "a socks4 proxy cannot carry a host name (fake-ip); "
                   "socks4a:// can";
    }
    /* SOCKS4a's address field is IPv4 too; whether a server would read an
     * IPv6 literal sent as a name is its own business */
    if (proxy->scheme == T2S_PROXY_SOCKS4A && dst->atyp == T2S_SOCKS5_ATYP_IPV6)
        return "a socks4a proxy cannot carry an IPv6 destination";
    if (proxy->scheme == T2S_PROXY_SOCKS4A &&
        dst->atyp == T2S_SOCKS5_ATYP_DOMAIN &&
        memchr(dst->u.name, '\0', dst->name_len) != NULL)
        return "a socks4a request cannot carry a host name with a NUL byte";
    if (proxy->scheme == T2S_PROXY_HTTP &&
        dst->atyp == T2S_SOCKS5_ATYP_DOMAIN && !http_name_ok(dst))
        return "an HTTP CONNECT request cannot carry this host name (only "
               "letters, digits, '.', '-', '_')";
    return NULL;
}

static size_t
socks4_request(struct t2s_upstream *up, uint8_t *out, size_t cap)
{
    const struct t2s_proxy *p = up->proxy;
    const struct t2s_socks5_addr *d = &up->dst;

    if (d->atyp == T2S_SOCKS5_ATYP_IPV4)
        return t2s_socks4_encode_connect(out, cap, d->u.v4, d->port, p->user,
                                         p->user_len);
    if (d->atyp == T2S_SOCKS5_ATYP_DOMAIN && p->scheme == T2S_PROXY_SOCKS4A)
        return t2s_socks4_encode_connect_name(out, cap, d->u.name, d->name_len,
                                              d->port, p->user, p->user_len);
    return 0;
}

static size_t
http_request(struct t2s_upstream *up, uint8_t *out, size_t cap)
{
    const struct t2s_proxy *p = up->proxy;
    const struct t2s_socks5_addr *d = &up->dst;
    char text[INET6_ADDRSTRLEN];
    const char *host = text;
    size_t host_len;

    if (d->atyp == T2S_SOCKS5_ATYP_DOMAIN) {
        host = d->u.name;
        host_len = d->name_len;
    } else if (inet_ntop(d->atyp == T2S_SOCKS5_ATYP_IPV6 ? AF_INET6 : AF_INET,
                         d->u.v6, text, sizeof(text)) != NULL) {
        host_len = strlen(text);
    } else {
        return 0;
    }
    return t2s_http_connect_encode_request(
        out, cap, host, host_len, d->atyp == T2S_SOCKS5_ATYP_IPV6, d->port,
        p->user, p->user_len, p->pass, p->pass_len);
}

size_t
t2s_upstream_proto_request(struct t2s_upstream *up)
{
    size_t n;

    /* after out[] in the struct: t2s_upstream_init() does not clear it */
    t2s_http_connect_resp_init(&up->http);
    if (up->cmd != T2S_SOCKS5_CMD_CONNECT)
        return 0; /* no UDP in these protocols: never asked (udp_relay.c) */
    if (up->proxy->scheme == T2S_PROXY_HTTP)
        n = http_request(up, up->out, sizeof(up->out));
    else
        n = socks4_request(up, up->out, sizeof(up->out));
    up->out_len = (uint16_t)n;
    up->request_sent = 1;
    return n;
}

static int
socks4_parse(struct t2s_upstream *up)
{
    size_t used = 0;
    int rc = t2s_socks4_decode_reply(up->in, up->in_len, &up->rep, &used);

    if (rc == T2S_SOCKS4_NEED_MORE)
        return T2S_UP_AGAIN;
    if (rc == T2S_SOCKS4_OK) {
        t2s_upstream_consume(up, used);
        return T2S_UP_DONE;
    }
    return t2s_upstream_fail(
        up, rc == T2S_SOCKS4_EREPLY ? T2S_UP_FAIL_REPLY : T2S_UP_FAIL_PROTO,
        rc);
}

/* The parser keeps its place, so every byte read is consumed at once and
 * in[] never fills; what follows the header stays in in[]. */
static int
http_parse(struct t2s_upstream *up)
{
    size_t used = 0;
    int rc = t2s_http_connect_resp_feed(&up->http, up->in, up->in_len, &used);

    t2s_upstream_consume(up, used);
    switch (rc) {
    case T2S_HTTP_NEED_MORE:
        return T2S_UP_AGAIN;
    case T2S_HTTP_OK:
        return T2S_UP_DONE;
    case T2S_HTTP_EAUTH:
        return t2s_upstream_fail(up, T2S_UP_FAIL_AUTH, rc);
    case T2S_HTTP_ESTATUS:
        return t2s_upstream_fail(up, T2S_UP_FAIL_REPLY, rc);
    default:
        return t2s_upstream_fail(up, T2S_UP_FAIL_PROTO, rc);
    }
}

int
t2s_upstream_proto_parse(struct t2s_upstream *up)
{
    if (up->proxy->scheme == T2S_PROXY_HTTP)
        return http_parse(up);
    return socks4_parse(up);
}

static void
describe_proto(const struct t2s_upstream *up, char *buf, size_t len)
{
    int http = up->proxy->scheme == T2S_PROXY_HTTP;
    int st = -(int)up->s5_status;

    if (up->s5_status == T2S_UP_UNSENDABLE)
        snprintf(buf, len,
                 "proxy protocol error: the destination cannot be "
                 "written in a %s request",
                 t2s_proxy_url_scheme_name(up->proxy->scheme));
    else if (up->s5_status == STATUS_EOF)
        snprintf(buf, len, "proxy protocol error: %s",
                 http && up->http.len > 0
                     ? "connection closed inside the response header"
                     : "connection closed during the handshake");
    else
        snprintf(buf, len, "proxy protocol error: %s",
                 http ? t2s_http_connect_status_str(st)
                      : t2s_socks4_status_str(st));
}

void
t2s_upstream_proto_describe(const struct t2s_upstream *up, char *buf,
                            size_t len)
{
    int http = up->proxy->scheme == T2S_PROXY_HTTP;

    switch (up->fail_kind) {
    case T2S_UP_FAIL_AUTH:
        snprintf(buf, len, "proxy authentication required (HTTP %u)%s",
                 (unsigned)up->http.status,
                 up->proxy->user_len > 0 ? ": credentials refused"
                                         : ": no credentials given");
        break;
    case T2S_UP_FAIL_REPLY:
        if (http)
            snprintf(buf, len, "connection refused by upstream: HTTP %u",
                     (unsigned)up->http.status);
        else
            snprintf(buf, len, "connection refused by upstream: %s",
                     t2s_socks4_code_str(up->rep));
        break;
    default:
        describe_proto(up, buf, len);
        break;
    }
}
