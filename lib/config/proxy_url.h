/*
 * The proxy URL codec: socks5://[user[:pass]@]host:port <-> struct
 * t2s_proxy. Pure: no I/O, no allocation, no logging. Errors are one line
 * in err and never contain the password.
 */
#ifndef T2S_PROXY_URL_H
#define T2S_PROXY_URL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct t2s_proxy {
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
};

/*
 * socks5://[user[:pass]@]host:port, host an IPv4 literal, [IPv6] or a name.
 * user and pass may be percent-encoded. Only the parsed fields of p change
 * (host, port and, when present in the URL, user/pass); nothing changes
 * when the URL is rejected. Returns 0 or -1.
 */
int t2s_proxy_url_parse(const char *url, struct t2s_proxy *p, char *err,
                        size_t errlen);

/*
 * socks5://host:port (IPv6 in []), never the credentials: what may be
 * shown. t2s_proxy_url_parse() reads it back to the same host and port.
 */
void t2s_proxy_url_format(const struct t2s_proxy *p, char *out, size_t outlen);

#endif
