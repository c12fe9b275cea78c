/*
 * HTTP CONNECT codec. The response parser is a byte-at-a-time state
 * machine, so feeding it in pieces or whole gives the same result.
 */
#include <stdio.h>
#include <string.h>

#include "codec/http_connect.h"

enum {
    ST_VERSION, /* "HTTP/1.d" then a space */
    ST_CODE,    /* three digits */
    ST_REASON,  /* up to the end of the status line */
    ST_LINE,    /* the first byte of a header line, or the blank line */
    ST_FIELD,   /* inside a header line */
    ST_BLANK,   /* CR of the blank line seen, LF expected */
};

static const char version[] = "HTTP/1.";

static int
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* What may be written as the host of "CONNECT host:port": no byte that
 * could end the request line or start a new header. */
static int
host_ok(const char *h, size_t n, int is_ipv6)
{
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
            c == '.' || c == '-' || c == '_' || (is_ipv6 && c == ':'))
            continue;
        return 0;
    }
    return 1;
}

size_t
t2s_http_connect_base64(char *out, size_t cap, const uint8_t *in, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = (len + 2) / 3 * 4, o = 0;

    if (out == NULL || cap < n || (in == NULL && len > 0))
        return 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;

        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    return n;
}

/* "Proxy-Authorization: Basic base64(user:pass)\r\n" at out; 0 if no room.
 * The plain user:pass goes through a stack buffer cleared afterwards. */
static size_t
write_auth(char *out, size_t cap, const char *user, size_t user_len,
           const char *pass, size_t pass_len)
{
    static const char head[] = "Proxy-Authorization: Basic ";
    uint8_t plain[255 + 1 + 255];
    size_t hl = sizeof(head) - 1, n;

    if (user_len > 255 || pass_len > 255 || memchr(user, ':', user_len) ||
        (pass == NULL && pass_len > 0) || cap < hl + 2)
        return 0;
    memcpy(plain, user, user_len);
    plain[user_len] = ':';
    if (pass_len > 0)
        memcpy(plain + user_len + 1, pass, pass_len);
    memcpy(out, head, hl);
    n = t2s_http_connect_base64(out + hl, cap - hl - 2, plain,
                                user_len + 1 + pass_len);
    explicit_bzero(plain, sizeof(plain));
    if (n == 0)
        return 0;
    memcpy(out + hl + n, "\r\n", 2);
    return hl + n + 2;
}

size_t
t2s_http_connect_encode_request(uint8_t *out, size_t cap, const char *host,
                                size_t host_len, int is_ipv6, uint16_t port,
                                const char *user, size_t user_len,
                                const char *pass, size_t pass_len)
{
    char *o = (char *)out;
    const char *lb = is_ipv6 ? "[" : "", *rb = is_ipv6 ? "]" : "";
    int n;
    size_t a = 0;

    if (out == NULL || host == NULL || !host_ok(host, host_len, is_ipv6) ||
        port == 0 || (user_len > 0 && user == NULL))
        return 0;
    n = snprintf(o, cap,
                 "CONNECT %s%.*s%s:%u HTTP/1.1\r\nHost: %s%.*s%s:%u\r\n", lb,
                 (int)host_len, host, rb, (unsigned)port, lb, (int)host_len,
                 host, rb, (unsigned)port);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    if (user_len > 0) {
        a = write_auth(o + n, cap - (size_t)n, user, user_len, pass, pass_len);
        if (a == 0) {
            explicit_bzero(out, cap);
            return 0;
        }
    }
    if ((size_t)n + a + 2 > cap) {
        explicit_bzero(out, cap);
        return 0;
    }
    memcpy(o + n + a, "\r\n", 2);
    return (size_t)n + a + 2;
}

void
t2s_http_connect_resp_init(struct t2s_http_resp *r)
{
    memset(r, 0, sizeof(*r));
}

/* The status line is over: the verdict on it. */
static int
status_verdict(const struct t2s_http_resp *r)
{
    /* 401 too: tinyproxy 1.11 answers its BasicAuth with it */
    if (r->status == 407 || r->status == 401)
        return T2S_HTTP_EAUTH;
    if (r->status < 200 || r->status > 299)
        return T2S_HTTP_ESTATUS;
    return T2S_HTTP_NEED_MORE;
}

/* One byte: NEED_MORE to go on, OK at the end of the header, or an error. */
static int
step(struct t2s_http_resp *r, uint8_t c)
{
    if (c == '\0')
        return T2S_HTTP_EMALFORMED;
    switch (r->state) {
    case ST_VERSION:
        if (r->pos < sizeof(version) - 1) {
            if (c != (uint8_t)version[r->pos])
                return T2S_HTTP_EVERSION;
        } else if (r->pos == sizeof(version) - 1) {
            if (!is_digit(c))
                return T2S_HTTP_EVERSION;
        } else {
            if (c != ' ')
                return T2S_HTTP_EVERSION;
            r->state = ST_CODE;
            r->pos = 0;
            return T2S_HTTP_NEED_MORE;
        }
        r->pos++;
        return T2S_HTTP_NEED_MORE;
    case ST_CODE:
        if (r->pos == 3) {
            if (c != ' ' && c != '\r' && c != '\n')
                return T2S_HTTP_EMALFORMED;
            if (c == '\n') {
                r->state = ST_LINE;
                return status_verdict(r);
            }
            r->state = ST_REASON;
            return T2S_HTTP_NEED_MORE;
        }
        if (!is_digit(c))
            return T2S_HTTP_EMALFORMED;
        r->status = (uint16_t)(r->status * 10 + (c - '0'));
        r->pos++;
        return T2S_HTTP_NEED_MORE;
    case ST_REASON:
    case ST_FIELD:
        if (c == '\n') {
            int v =
                r->state == ST_REASON ? status_verdict(r) : T2S_HTTP_NEED_MORE;
            r->state = ST_LINE;
            return v;
        }
        return T2S_HTTP_NEED_MORE;
    case ST_LINE:
        if (c == '\n')
            return T2S_HTTP_OK;
        r->state = c == '\r' ? ST_BLANK : ST_FIELD;
        return T2S_HTTP_NEED_MORE;
    default: /* ST_BLANK */
        return c == '\n' ? T2S_HTTP_OK : T2S_HTTP_EMALFORMED;
    }
}

int
t2s_http_connect_resp_feed(struct t2s_http_resp *r, const uint8_t *in,
                           size_t len, size_t *used)
{
    for (size_t i = 0; i < len; i++) {
        int rc;

        if (r->len >= T2S_HTTP_HDR_MAX) {
            *used = i;
            return T2S_HTTP_ETOOBIG;
        }
        r->len++;
        rc = step(r, in[i]);
        if (rc != T2S_HTTP_NEED_MORE) {
            *used = i + 1;
            return rc;
        }
    }
    *used = len;
    return T2S_HTTP_NEED_MORE;
}

const char *
t2s_http_connect_status_str(int status)
{
    switch (status) {
    case T2S_HTTP_OK:
        return "ok";
    case T2S_HTTP_NEED_MORE:
        return "incomplete response header";
    case T2S_HTTP_EVERSION:
        return "not an HTTP/1.x response";
    case T2S_HTTP_ESTATUS:
        return "CONNECT refused";
    case T2S_HTTP_EAUTH:
        return "proxy authentication required";
    case T2S_HTTP_ETOOBIG:
        return "response header too long";
    case T2S_HTTP_EMALFORMED:
        return "malformed response header";
    default:
        return "unknown status";
    }
}
