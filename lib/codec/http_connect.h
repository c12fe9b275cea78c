/*
 * HTTP CONNECT codec (RFC 9110 section 9.3.6, Basic authentication per
 * RFC 7617): pure, no I/O, no allocation, no logging.
 *
 * The request encoder writes into a caller buffer and returns the bytes
 * written, or 0 when the buffer is too small or an argument cannot be sent
 * (a host with bytes a header cannot carry, a user name with ':').
 *
 * The response parser is incremental: struct t2s_http_resp keeps its place,
 * so the caller may feed it each read as it comes, one byte or all at once
 * (the verdict and the header length are the same). It consumes the status
 * line, the header lines and the blank line and stops there: the bytes after
 * the header belong to the tunnel and are left to the caller (*used tells
 * where they start). T2S_HTTP_NEED_MORE means "all of in consumed, header
 * not over" and is never an error. The header may be at most
 * T2S_HTTP_HDR_MAX bytes (status line and blank line included).
 */
#ifndef T2S_HTTP_CONNECT_H
#define T2S_HTTP_CONNECT_H

#include <stddef.h>
#include <stdint.h>

enum t2s_http_status {
    T2S_HTTP_OK = 0,         /* 2xx, header over */
    T2S_HTTP_NEED_MORE = 1,  /* all input consumed, header not over */
    T2S_HTTP_EVERSION = -1,  /* the response does not start "HTTP/1.d " */
    T2S_HTTP_ESTATUS = -2,   /* a status other than 2xx, 401, 407 */
    T2S_HTTP_EAUTH = -3,     /* 407 Proxy Authentication Required (or 401,
                                as tinyproxy answers) */
    T2S_HTTP_ETOOBIG = -4,   /* header longer than T2S_HTTP_HDR_MAX */
    T2S_HTTP_EMALFORMED = -5 /* bad status code, NUL byte, bare CR */
};

#define T2S_HTTP_HDR_MAX 8192

/* "CONNECT h:p HTTP/1.1\r\nHost: h:p\r\n" + auth + "\r\n", h a name of
 * 255 bytes or [IPv6] and a 255+255-byte user:pass in base64 */
#define T2S_HTTP_REQUEST_MAX 1300

struct t2s_http_resp {
    uint32_t len;    /* header bytes consumed so far */
    uint16_t status; /* the status code once the status line is read */
    uint8_t state;   /* parser state (http_connect.c) */
    uint8_t pos;     /* position inside the state's token */
};

/*
 * CONNECT request for host:port. host is a name ([A-Za-z0-9._-], 1..255
 * bytes), an IPv4 literal or, with is_ipv6, an IPv6 literal written in
 * brackets. With user_len > 0 a Proxy-Authorization: Basic header carries
 * base64(user ":" pass); user must not contain ':' (RFC 7617).
 */
size_t t2s_http_connect_encode_request(uint8_t *out, size_t cap,
                                       const char *host, size_t host_len,
                                       int is_ipv6, uint16_t port,
                                       const char *user, size_t user_len,
                                       const char *pass, size_t pass_len);

/* Base64 (RFC 4648 section 4, with padding) of in; returns the length
 * written (without a NUL), 0 when cap is too small. */
size_t t2s_http_connect_base64(char *out, size_t cap, const uint8_t *in,
                               size_t len);

void t2s_http_connect_resp_init(struct t2s_http_resp *r);

/*
 * Feeds len more bytes of the response. *used is how many of them were
 * consumed: all of them on NEED_MORE, up to the end of the header on OK and
 * on a status error (the body of a refusal is not read). After a negative
 * return r must not be fed again.
 */
int t2s_http_connect_resp_feed(struct t2s_http_resp *r, const uint8_t *in,
                               size_t len, size_t *used);

/* Human text for a T2S_HTTP_* status. Never NULL. */
const char *t2s_http_connect_status_str(int status);

#endif
