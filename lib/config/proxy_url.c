/* The proxy URL codec; see proxy_url.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/proxy_url.h"
#include "config/value.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into out (cap bytes incl. NUL); -1 on bad input. */
static int
pct_decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n)
                return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

static int
valid_hostname(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];

        if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

/* "user[:pass]" of [s, at) into q. */
static int
parse_userinfo(const char *s, const char *at, struct t2s_proxy *q, char *err,
               size_t errlen)
{
    const char *ue = memchr(s, ':', (size_t)(at - s));
    size_t ulen = ue != NULL ? (size_t)(ue - s) : (size_t)(at - s);

    if (pct_decode(s, ulen, q->user, sizeof(q->user), &q->user_len) < 0 ||
        q->user_len == 0)
        return t2s_value_err(err, errlen,
                             "bad user name in proxy URL (1..255 bytes, "
                             "percent-encoded)");
    if (ue == NULL) {
        q->pass[0] = '\0';
        q->pass_len = 0;
        return 0;
    }
    if (pct_decode(ue + 1, (size_t)(at - ue - 1), q->pass, sizeof(q->pass),
                   &q->pass_len) < 0)
        return t2s_value_err(err, errlen,
                             "bad password in proxy URL (at most 255 bytes, "
                             "percent-encoded)");
    return 0;
}

/* The port after the host's ':' (one trailing slash tolerated). */
static int
parse_port(const char *port, struct t2s_proxy *q, char *err, size_t errlen)
{
    char pbuf[8];
    size_t plen = strlen(port);
    unsigned long portv;

    if (*port == '/' && port[1] == '\0')
        return t2s_value_err(err, errlen, "proxy URL has no port");
    if (plen > 0 && port[plen - 1] == '/')
        plen--;
    if (plen == 0 || plen >= sizeof(pbuf))
        return t2s_value_err(err, errlen, "bad proxy port (1..65535)");
    memcpy(pbuf, port, plen);
    pbuf[plen] = '\0';
    for (size_t i = 0; i < plen; i++)
        if (!isdigit((unsigned char)pbuf[i]))
            return t2s_value_err(err, errlen, "bad proxy port (1..65535)");
    if (t2s_value_ulong(pbuf, 10, 1, 65535, &portv) < 0)
        return t2s_value_err(err, errlen, "bad proxy port (1..65535)");
    q->port = (uint16_t)portv;
    return 0;
}

/* "host:port" or "[v6]:port" at hp into q. */
static int
parse_hostport(const char *hp, struct t2s_proxy *q, char *err, size_t errlen)
{
    const char *colon, *host, *hend;
    size_t hlen;

    if (*hp == '[') {
        host = hp + 1;
        hend = strchr(host, ']');
        if (hend == NULL)
            return t2s_value_err(err, errlen, "unclosed '[' in proxy URL");
        colon = hend + 1;
        if (*colon != ':')
            return t2s_value_err(err, errlen, "proxy URL has no port");
    } else {
        host = hp;
        colon = strrchr(hp, ':');
        if (colon == NULL)
            return t2s_value_err(err, errlen, "proxy URL has no port");
        hend = colon;
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0)
        return t2s_value_err(err, errlen, "proxy URL has no host");
    if (hlen >= sizeof(q->host))
        return t2s_value_err(err, errlen, "proxy host too long");
    memcpy(q->host, host, hlen);
    q->host[hlen] = '\0';
    if (*hp == '[') {
        struct in6_addr a6;

        if (inet_pton(AF_INET6, q->host, &a6) != 1)
            return t2s_value_err(err, errlen, "bad IPv6 address in proxy URL");
    } else if (!valid_hostname(q->host, hlen)) {
        return t2s_value_err(err, errlen, "bad proxy host in proxy URL");
    }
    return parse_port(colon + 1, q, err, errlen);
}

static const char *const scheme_names[] = {
    [T2S_PROXY_SOCKS5] = "socks5", [T2S_PROXY_SOCKS5H] = "socks5h",
    [T2S_PROXY_SOCKS4] = "socks4", [T2S_PROXY_SOCKS4A] = "socks4a",
    [T2S_PROXY_HTTP] = "http",
};

#define N_SCHEMES (sizeof(scheme_names) / sizeof(scheme_names[0]))

const char *
t2s_proxy_url_scheme_name(unsigned scheme)
{
    return scheme < N_SCHEMES ? scheme_names[scheme] : "socks5";
}

unsigned
t2s_proxy_url_protocol(unsigned scheme)
{
    return scheme == T2S_PROXY_SOCKS5H ? T2S_PROXY_SOCKS5 : scheme;
}

int
t2s_proxy_url_has_udp(const struct t2s_proxy *p)
{
    return t2s_proxy_url_protocol(p->scheme) == T2S_PROXY_SOCKS5;
}

/* The scheme at the start of url: its index and the length of "NAME://",
 * or -1. */
static int
parse_scheme(const char *url, size_t *skip)
{
    for (unsigned i = 0; i < N_SCHEMES; i++) {
        size_t n = strlen(scheme_names[i]);

        if (strncasecmp(url, scheme_names[i], n) == 0 &&
            strncmp(url + n, "://", 3) == 0) {
            *skip = n + 3;
            return (int)i;
        }
    }
    return -1;
}

/* What each protocol can carry of the userinfo. */
static int
check_userinfo(const struct t2s_proxy *q, int had_pass, char *err,
               size_t errlen)
{
    if ((q->scheme == T2S_PROXY_SOCKS4 || q->scheme == T2S_PROXY_SOCKS4A) &&
        had_pass)
        return t2s_value_err(err, errlen,
                             "socks4 proxy URL takes a user id, no password "
                             "(socks4://userid@host:port)");
    if (q->scheme == T2S_PROXY_HTTP && memchr(q->user, ':', q->user_len))
        return t2s_value_err(err, errlen,
                             "bad user name in proxy URL (no ':' in an HTTP "
                             "Basic user name)");
    return 0;
}

/* The URL into q (the caller's scratch copy, cleared by the caller). */
static int
parse_url(const char *url, struct t2s_proxy *q, char *err, size_t errlen)
{
    const char *s, *at;
    size_t skip = 0;
    int scheme;

    if (url == NULL || *url == '\0')
        return t2s_value_err(err, errlen, "empty proxy URL");
    scheme = parse_scheme(url, &skip);
    if (scheme < 0) {
        if (strstr(url, "://") != NULL)
            return t2s_value_err(err, errlen,
                                 "unsupported proxy scheme (socks5, socks5h, "
                                 "socks4, socks4a and http are)");
        return t2s_value_err(
            err, errlen,
            "proxy URL must look like socks5://[user[:pass]@]host:port");
    }
    q->scheme = (uint8_t)scheme;
    s = url + skip;
    at = strrchr(s, '@');
    if (at != NULL &&
        (parse_userinfo(s, at, q, err, errlen) < 0 ||
         check_userinfo(q, memchr(s, ':', (size_t)(at - s)) != NULL, err,
                        errlen) < 0))
        return -1;
    if (parse_hostport(at != NULL ? at + 1 : s, q, err, errlen) < 0)
        return -1;
    q->addr_len = 0;
    return 0;
}

int
t2s_proxy_url_parse(const char *url, struct t2s_proxy *p, char *err,
                    size_t errlen)
{
    struct t2s_proxy tmp = *p;
    int rc = parse_url(url, &tmp, err, errlen);

    if (rc == 0)
        *p = tmp;
    /* also when a later part of the URL was bad: the password was read */
    explicit_bzero(&tmp, sizeof(tmp));
    return rc;
}

void
t2s_proxy_url_format(const struct t2s_proxy *p, char *out, size_t outlen)
{
    snprintf(out, outlen,
             strchr(p->host, ':') != NULL ? "%s://[%s]:%u" : "%s://%s:%u",
             t2s_proxy_url_scheme_name(p->scheme), p->host, (unsigned)p->port);
}
