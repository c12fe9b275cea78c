/*
 * The proxy URL codec: SCHEME://[user[:pass]@]host:port <-> struct
 * t2s_proxy, SCHEME one of socks5, socks5h, socks4, socks4a, http. Pure: no
 * I/O, no allocation, no logging. Errors are one line in err and never contain
 * the password.
 */
#ifndef T2S_PROXY_URL_H
#define T2S_PROXY_URL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The proxy's protocol (the URL's scheme). socks5h is socks5: names are
 * always sent to the proxy when there is one (a fake-ip address); it is
 * kept apart only to be written back as given. */
enum t2s_proxy_scheme {
    T2S_PROXY_SOCKS5 = 0,
    T2S_PROXY_SOCKS5H,
    T2S_PROXY_SOCKS4,  /* IPv4 destinations only, a user id, no UDP */
    T2S_PROXY_SOCKS4A, /* SOCKS4 + host names, no UDP */
    T2S_PROXY_HTTP,    /* HTTP CONNECT, Basic authentication, no UDP */
};

struct t2s_proxy {
    uint8_t scheme;  /* enum t2s_proxy_scheme */
    char host[256];  /* literal IPv4/IPv6 (no brackets) or a host name */
    uint16_t port;   /* host order, 1..65535 */
    char user[256];  /* username, user_len bytes, NUL-terminated */
    size_t user_len; /* 0: no credentials */
    char pass[256];  /* password, pass_len bytes, NUL-terminated */
    size_t pass_len;
    struct sockaddr_storage addr; /* filled by t2s_proxy_addr_resolve */
    socklen_t addr_len;           /* 0 until resolved */
    char gss_service[256]; /* --proxy-gssapi: SOCKS5 GSSAPI target; empty:
                              off. "svc" means host-based svc@host */
    uint8_t gss_level;     /* --proxy-gssapi-level + 1; 0: confidentiality */
    char gss_keytab[256];  /* --proxy-gssapi-keytab: the client keytab the
                              credentials come from; empty: the default
                              ccache */
};

/*
 * SCHEME://[user[:pass]@]host:port, host an IPv4 literal, [IPv6] or a name.
 * user and pass may be percent-encoded; socks4 and socks4a take a user id
 * and no password, http a user without ':' (RFC 7617). Only the parsed fields
 * of p change (host, port and, when present in the URL, user/pass); nothing
 * changes when the URL is rejected. Returns 0 or -1.
 */
int t2s_proxy_url_parse(const char *url, struct t2s_proxy *p, char *err,
                        size_t errlen);

/* The scheme's name ("socks5", "http", ...). Never NULL. */
const char *t2s_proxy_url_scheme_name(unsigned scheme);

/* The protocol a scheme speaks: socks5h is T2S_PROXY_SOCKS5, every other
 * scheme its own. */
unsigned t2s_proxy_url_protocol(unsigned scheme);

/* Whether the proxy's protocol has UDP (SOCKS5 UDP ASSOCIATE). */
int t2s_proxy_url_has_udp(const struct t2s_proxy *p);

/*
 * SCHEME://host:port (IPv6 in []), never the credentials: what may be
 * shown. t2s_proxy_url_parse() reads it back to the same host and port.
 */
void t2s_proxy_url_format(const struct t2s_proxy *p, char *out, size_t outlen);

#endif
