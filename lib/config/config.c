/*
 * Configuration parsing. One table of options drives the command line, the
 * config file and --help, so the three cannot drift apart.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"

#define MTU_MIN 576
#define MTU_MAX 65535
#define TIMEOUT_MAX_S 86400u
#define LINE_MAX_LEN 1024
/*
 * Idle TCP sessions: the kernel's connection tracking keeps an established
 * TCP flow for 5 days (nf_conntrack_tcp_timeout_established = 432000 s), so
 * an idle SSH session through a Linux NAT survives a weekend; through
 * tun2socks it must too. Sessions are counted in --max-conns, so stale ones
 * cost a descriptor and a pcb each, not unbounded memory.
 */
#define IDLE_TIMEOUT_DEFAULT_S 432000u
#define IDLE_TIMEOUT_MAX_S 2592000u /* 30 days; fits the ms field */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void
t2s_config_init(struct t2s_config *c)
{
    memset(c, 0, sizeof(*c));
    c->tun_fd = -1;
    c->mtu = 65535;
    c->loglevel = T2S_LOG_INFO;
    c->connect_timeout_ms = 10000;
    c->idle_timeout_ms = IDLE_TIMEOUT_DEFAULT_S * 1000u;
    c->dns_mode = T2S_DNS_RELAY;
    memcpy(c->dns_addr4, (const uint8_t[]){198, 18, 0, 2}, 4);
    memcpy(
        c->dns_addr6,
        (const uint8_t[]){0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
        16);
    memcpy(c->fake_net4, (const uint8_t[]){198, 18, 128, 0}, 4);
    c->fake_prefix4 = 17;
    memcpy(c->fake_net6,
           (const uint8_t[]){0xfd, 0, 0, 0x18, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0,
                             0, 0, 0},
           16);
    c->fake_prefix6 = 112;
    c->udp_timeout_ms = 120000;
    c->dns_timeout_ms = 10000;
}

/* ---- numbers ---------------------------------------------------------- */

/* Decimal only (a leading 0 is not octal); base 0 allows 0x for masks. */
static int
parse_ulong_base(const char *s, int base, unsigned long min, unsigned long max,
                 unsigned long *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' ||
        isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max,
            unsigned long *out)
{
    return parse_ulong_base(s, 10, min, max, out);
}

static int
parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* ---- proxy URL -------------------------------------------------------- */

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

/* The URL into q (the caller's scratch copy, cleared by the caller). */
static int
parse_url(const char *url, struct t2s_proxy *q, char *err, size_t errlen)
{
    static const char scheme[] = "socks5://";
    const char *s, *at, *hp, *colon, *host, *hend, *port;
    unsigned long portv;
    size_t hlen;

    if (url == NULL || *url == '\0')
        return fail(err, errlen, "empty proxy URL");
    if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0) {
        if (strstr(url, "://") != NULL)
            return fail(err, errlen,
                        "unsupported proxy scheme (only socks5:// is)");
        return fail(
            err, errlen,
            "proxy URL must look like socks5://[user[:pass]@]host:port");
    }
    s = url + sizeof(scheme) - 1;

    at = strrchr(s, '@');
    if (at != NULL) {
        const char *ue = memchr(s, ':', (size_t)(at - s));
        size_t ulen = ue != NULL ? (size_t)(ue - s) : (size_t)(at - s);

        if (pct_decode(s, ulen, q->user, sizeof(q->user), &q->user_len) < 0 ||
            q->user_len == 0)
            return fail(err, errlen,
                        "bad user name in proxy URL (1..255 bytes, "
                        "percent-encoded)");
        if (ue != NULL) {
            if (pct_decode(ue + 1, (size_t)(at - ue - 1), q->pass,
                           sizeof(q->pass), &q->pass_len) < 0)
                return fail(err, errlen,
                            "bad password in proxy URL (at most 255 bytes, "
                            "percent-encoded)");
        } else {
            q->pass[0] = '\0';
            q->pass_len = 0;
        }
        hp = at + 1;
    } else {
        hp = s;
    }

    if (*hp == '[') {
        host = hp + 1;
        hend = strchr(host, ']');
        if (hend == NULL)
            return fail(err, errlen, "unclosed '[' in proxy URL");
        colon = hend + 1;
        if (*colon != ':')
            return fail(err, errlen, "proxy URL has no port");
    } else {
        host = hp;
        colon = strrchr(hp, ':');
        if (colon == NULL)
            return fail(err, errlen, "proxy URL has no port");
        hend = colon;
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0)
        return fail(err, errlen, "proxy URL has no host");
    if (hlen >= sizeof(q->host))
        return fail(err, errlen, "proxy host too long");
    memcpy(q->host, host, hlen);
    q->host[hlen] = '\0';
    if (*hp == '[') {
        struct in6_addr a6;

        if (inet_pton(AF_INET6, q->host, &a6) != 1)
            return fail(err, errlen, "bad IPv6 address in proxy URL");
    } else if (!valid_hostname(q->host, hlen)) {
        return fail(err, errlen, "bad proxy host in proxy URL");
    }
    port = colon + 1;
    if (*port == '/' && port[1] == '\0')
        return fail(err, errlen, "proxy URL has no port");
    {
        char pbuf[8];
        size_t plen = strlen(port);

        if (plen > 0 && port[plen - 1] == '/')
            plen--; /* tolerate one trailing slash */
        if (plen == 0 || plen >= sizeof(pbuf))
            return fail(err, errlen, "bad proxy port (1..65535)");
        memcpy(pbuf, port, plen);
        pbuf[plen] = '\0';
        for (size_t i = 0; i < plen; i++)
            if (!isdigit((unsigned char)pbuf[i]))
                return fail(err, errlen, "bad proxy port (1..65535)");
        if (parse_ulong(pbuf, 1, 65535, &portv) < 0)
            return fail(err, errlen, "bad proxy port (1..65535)");
    }
    q->port = (uint16_t)portv;
    q->addr_len = 0;
    return 0;
}

int
t2s_config_parse_proxy_url(const char *url, struct t2s_proxy *p, char *err,
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

/* ---- options ---------------------------------------------------------- */

typedef int (*opt_fn)(struct t2s_config *c, const char *v, char *err,
                      size_t errlen);

struct opt {
    const char *name;
    const char *arg; /* NULL: boolean flag, no value on the command line */
    const char *help;
    opt_fn set;
};

static int
set_tun(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= T2S_IFNAMSIZ || strchr(v, '/') != NULL ||
        strchr(v, ' ') != NULL)
        return fail(err, errlen, "bad TUN name '%.32s' (1..15 characters)", v);
    memcpy(c->tun_name, v, n + 1);
    return 0;
}

static int
set_tun_fd(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong(v, 0, INT_MAX, &n) < 0)
        return fail(err, errlen, "bad --tun-fd '%.32s'", v);
    c->tun_fd = (int)n;
    return 0;
}

static int
set_mtu(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong(v, MTU_MIN, MTU_MAX, &n) < 0)
        return fail(err, errlen, "bad MTU '%.32s' (%d..%d)", v, MTU_MIN,
                    MTU_MAX);
    c->mtu = (int)n;
    return 0;
}

static int
parse_prefix_bin(const char *v, int family, uint8_t *bin, unsigned *prefix,
                 char *err, size_t errlen)
{
    char addr[64];
    const char *slash = strchr(v, '/');
    unsigned long plen;
    size_t alen;

    if (slash == NULL)
        return fail(err, errlen, "address '%.64s' needs a /PREFIX", v);
    alen = (size_t)(slash - v);
    if (alen == 0 || alen >= sizeof(addr))
        return fail(err, errlen, "bad address '%.64s'", v);
    memcpy(addr, v, alen);
    addr[alen] = '\0';
    if (inet_pton(family, addr, bin) != 1)
        return fail(err, errlen, "bad %s address '%.64s'",
                    family == AF_INET ? "IPv4" : "IPv6", v);
    if (parse_ulong(slash + 1, 1, family == AF_INET ? 32 : 128, &plen) < 0)
        return fail(err, errlen, "bad prefix length in '%.64s'", v);
    *prefix = (unsigned)plen;
    return 0;
}

static int
parse_prefix(const char *v, int family, char *err, size_t errlen)
{
    uint8_t bin[16];
    unsigned plen = 0;

    return parse_prefix_bin(v, family, bin, &plen, err, errlen);
}

static int
set_tun_ipv4(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (parse_prefix(v, AF_INET, err, errlen) < 0)
        return -1;
    snprintf(c->tun_ipv4, sizeof(c->tun_ipv4), "%s", v);
    return 0;
}

static int
set_tun_ipv6(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (parse_prefix(v, AF_INET6, err, errlen) < 0)
        return -1;
    snprintf(c->tun_ipv6, sizeof(c->tun_ipv6), "%s", v);
    return 0;
}

static int
set_proxy(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (t2s_config_parse_proxy_url(v, &c->proxy, err, errlen) < 0)
        return -1;
    c->proxy_given = 1;
    return 0;
}

static int
set_auth_file(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (*v == '\0' || strlen(v) >= sizeof(c->auth_file))
        return fail(err, errlen, "bad --proxy-auth-file path");
    snprintf(c->auth_file, sizeof(c->auth_file), "%s", v);
    return 0;
}

static int
set_loglevel(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    int l = t2s_log_parse_level(v);

    if (l < 0)
        return fail(err, errlen,
                    "bad log level '%.32s' (error, warn, info, debug)", v);
    c->loglevel = l;
    return 0;
}

static int
set_seconds_max(unsigned *out, const char *what, unsigned long min,
                unsigned long max, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong(v, min, max, &n) < 0)
        return fail(err, errlen, "bad %s '%.32s' (%lu..%lu seconds)", what, v,
                    min, max);
    *out = (unsigned)n * 1000u;
    return 0;
}

static int
set_seconds(unsigned *out, const char *what, unsigned long min, const char *v,
            char *err, size_t errlen)
{
    return set_seconds_max(out, what, min, TIMEOUT_MAX_S, v, err, errlen);
}

static int
set_connect_timeout(struct t2s_config *c, const char *v, char *err,
                    size_t errlen)
{
    return set_seconds(&c->connect_timeout_ms, "--connect-timeout", 1, v, err,
                       errlen);
}

static int
set_idle_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_seconds_max(&c->idle_timeout_ms, "--idle-timeout", 0,
                           IDLE_TIMEOUT_MAX_S, v, err, errlen);
}

static int
set_max_conns(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong(v, 0, 10000000, &n) < 0)
        return fail(err, errlen, "bad --max-conns '%.32s'", v);
    c->max_conns = (unsigned)n;
    return 0;
}

/* Bytes, or a number with K, M or G (powers of 1024). */
static int
set_memory_limit(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    static const char units[] = "KMG";
    char num[32];
    size_t len = v != NULL ? strlen(v) : 0;
    const char *u;
    unsigned long n;
    int shift = 0;

    if (len == 0 || len >= sizeof(num))
        return fail(err, errlen, "bad --memory-limit '%.32s'", v ? v : "");
    memcpy(num, v, len + 1);
    u = strchr(units, toupper((unsigned char)num[len - 1]));
    if (u != NULL && *u != '\0') {
        shift = 10 * (int)(u - units + 1);
        num[len - 1] = '\0';
    }
    /* at most 1 TiB with a unit; bytes as far as unsigned long goes */
    if (parse_ulong(num, 1, shift ? 1UL << (40 - shift) : ULONG_MAX, &n) < 0 ||
        ((uint64_t)n << shift) < 1024 * 1024)
        return fail(err, errlen,
                    "bad --memory-limit '%.32s' (bytes, or a number with K, M "
                    "or G; at least 1M)",
                    v);
    c->memory_limit = (uint64_t)n << shift;
    return 0;
}

static int
set_fwmark(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong_base(v, 0, 0, UINT32_MAX, &n) < 0)
        return fail(err, errlen, "bad --fwmark '%.32s'", v);
    c->fwmark = (uint32_t)n;
    return 0;
}

static int
set_interface(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= T2S_IFNAMSIZ)
        return fail(err, errlen, "bad --interface '%.32s'", v);
    memcpy(c->bind_iface, v, n + 1);
    return 0;
}

static int
set_pipeline(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (parse_bool(v, &c->socks_pipeline) < 0)
        return fail(err, errlen, "bad --socks-pipeline '%.32s' (yes/no)", v);
    return 0;
}

static int
set_route(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (parse_bool(v, &c->route) < 0)
        return fail(err, errlen, "bad --route '%.32s' (yes/no)", v);
    return 0;
}

static int
set_route_script(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (*v != '/' || strlen(v) >= sizeof(c->route_script))
        return fail(err, errlen, "--route-script needs an absolute path");
    strcpy(c->route_script, v);
    c->route_script_from_file = 0; /* t2s_config_load_file sets it */
    return 0;
}

/* A user name as useradd accepts it; looked up by the program. */
static int
set_user(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= sizeof(c->user) || v[0] == '-')
        return fail(err, errlen, "bad --user '%.32s'", v);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (!(isalnum(ch) || ch == '_' || ch == '-' || ch == '.' ||
              (ch == '$' && i == n - 1)))
            return fail(err, errlen, "bad --user '%.32s'", v);
    }
    memcpy(c->user, v, n + 1);
    return 0;
}

static int
set_dns(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "relay") == 0)
        c->dns_mode = T2S_DNS_RELAY;
    else if (strcmp(v, "tcp") == 0)
        c->dns_mode = T2S_DNS_TCP;
    else if (strcmp(v, "fake-ip") == 0)
        c->dns_mode = T2S_DNS_FAKEIP;
    else
        return fail(err, errlen, "bad --dns '%.32s' (relay, tcp, fake-ip)", v);
    return 0;
}

static int
set_dns_addr(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (inet_pton(AF_INET, v, c->dns_addr4) == 1 ||
        inet_pton(AF_INET6, v, c->dns_addr6) == 1)
        return 0;
    return fail(err, errlen, "bad --dns-addr '%.64s' (an IP address)", v);
}

/* ADDR, ADDR:PORT, [V6] or [V6]:PORT; port defaults to 53. */
static int
set_dns_resolver(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    char host[64];
    const char *port = NULL, *end;
    unsigned long pv = 53;
    size_t n;

    if (*v == '[') {
        end = strchr(v, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            goto bad;
        n = (size_t)(end - v - 1);
        if (n == 0 || n >= sizeof(host))
            goto bad;
        memcpy(host, v + 1, n);
        host[n] = '\0';
        if (end[1] == ':')
            port = end + 2;
    } else {
        end = strchr(v, ':');
        n = end != NULL ? (size_t)(end - v) : strlen(v);
        if (n == 0 || n >= sizeof(host))
            goto bad;
        memcpy(host, v, n);
        host[n] = '\0';
        if (end != NULL)
            port = end + 1;
    }
    if (port != NULL && parse_ulong(port, 1, 65535, &pv) < 0)
        goto bad;
    if (inet_pton(AF_INET, host, c->resolver_addr) == 1)
        c->resolver_family = AF_INET;
    else if (*v == '[' && inet_pton(AF_INET6, host, c->resolver_addr) == 1)
        c->resolver_family = AF_INET6;
    else
        goto bad;
    c->resolver_port = (uint16_t)pv;
    return 0;
bad:
    return fail(err, errlen,
                "bad --dns-resolver '%.64s' (IPv4[:PORT] or [IPv6][:PORT])", v);
}

static int
set_fake_pool4(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t bin[4];
    unsigned plen = 0;

    if (parse_prefix_bin(v, AF_INET, bin, &plen, err, errlen) < 0)
        return -1;
    if (plen < 8 || plen > 30)
        return fail(err, errlen, "--fake-ip-pool prefix must be 8..30");
    memcpy(c->fake_net4, bin, 4);
    c->fake_prefix4 = plen;
    return 0;
}

static int
set_fake_pool6(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t bin[16];
    unsigned plen = 0;

    if (strcmp(v, "none") == 0) {
        c->fake_prefix6 = 0;
        return 0;
    }
    if (parse_prefix_bin(v, AF_INET6, bin, &plen, err, errlen) < 0)
        return -1;
    if (plen < 8 || plen > 126)
        return fail(err, errlen, "--fake-ip-pool6 prefix must be 8..126");
    memcpy(c->fake_net6, bin, 16);
    c->fake_prefix6 = plen;
    return 0;
}

static int
set_udp_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_seconds(&c->udp_timeout_ms, "--udp-timeout", 1, v, err, errlen);
}

static int
set_dns_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_seconds(&c->dns_timeout_ms, "--dns-timeout", 1, v, err, errlen);
}

static int
set_max_udp(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (parse_ulong(v, 0, 1000000, &n) < 0)
        return fail(err, errlen, "bad --max-udp '%.32s'", v);
    c->max_udp = (unsigned)n;
    return 0;
}

static const struct opt options[] = {
    {"tun", "NAME", "create or attach to TUN device NAME", set_tun},
    {"tun-fd", "FD",
     "use an already open TUN descriptor (VPN service) instead of --tun",
     set_tun_fd},
    {"tun-ipv4", "ADDR/LEN", "assign this IPv4 address to --tun", set_tun_ipv4},
    {"tun-ipv6", "ADDR/LEN", "assign this IPv6 address to --tun", set_tun_ipv6},
    {"mtu", "N", "TUN MTU (default 65535)", set_mtu},
    {"proxy", "URL", "socks5://[user[:pass]@]host:port (IPv6 in [])",
     set_proxy},
    {"proxy-auth-file", "FILE", "read proxy credentials 'user:pass' from FILE",
     set_auth_file},
    {"connect-timeout", "SEC", "proxy connect + handshake timeout (default 10)",
     set_connect_timeout},
    {"idle-timeout", "SEC",
     "close idle TCP sessions (default 432000 = 5 days, as the kernel's "
     "conntrack; 0 = never)",
     set_idle_timeout},
    {"max-conns", "N",
     "maximum TCP sessions (default 0 = from the descriptor limit)",
     set_max_conns},
    {"memory-limit", "SIZE",
     "memory budget for queues, sessions and lwIP, e.g. 256M (default: an "
     "eighth of RAM or of the cgroup's limit, 32M to 1G); new work is "
     "refused and data shed above it",
     set_memory_limit},
    {"fwmark", "MARK", "SO_MARK for sockets to the proxy", set_fwmark},
    {"interface", "IF", "bind sockets to the proxy to interface IF",
     set_interface},
    {"user", "NAME",
     "started as root: handle packets as NAME after setup (default nobody; "
     "root keeps root)",
     set_user},
    {"socks-pipeline", NULL,
     "send greeting, auth and CONNECT without waiting (proxy must support it)",
     set_pipeline},
    {"route", NULL,
     "route the whole machine into --tun with tun2socks-route at start and "
     "restore it at exit (default fwmark 0x7331)",
     set_route},
    {"route-script", "PATH",
     "the tun2socks-route script (default $TUN2SOCKS_ROUTE_SCRIPT or "
     "/usr/local/libexec/tun2socks/tun2socks-route)",
     set_route_script},
    {"udp-timeout", "SEC",
     "end UDP associations idle this long once replied (default 120; "
     "unreplied: at most 30)",
     set_udp_timeout},
    {"max-udp", "N",
     "maximum UDP associations (default 0 = a quarter of --max-conns)",
     set_max_udp},
    {"dns", "MODE",
     "relay (DNS is plain UDP, default), tcp (DNS over TCP via CONNECT) or "
     "fake-ip",
     set_dns},
    {"dns-addr", "ADDR",
     "fake-ip: the DNS server address apps use (default 198.18.0.2 and "
     "fd00:18::2; give once per family)",
     set_dns_addr},
    {"dns-resolver", "ADDR[:PORT]",
     "tcp/fake-ip: resolver reached through the proxy (default: the "
     "query's own destination; fake-ip: none)",
     set_dns_resolver},
    {"dns-timeout", "SEC",
     "idle timeout of DNS (port 53) flows and queries (default 10)",
     set_dns_timeout},
    {"fake-ip-pool", "NET/LEN", "fake-ip IPv4 pool (default 198.18.128.0/17)",
     set_fake_pool4},
    {"fake-ip-pool6", "NET/LEN",
     "fake-ip IPv6 pool (default fd00:18:ffff::/112; none disables)",
     set_fake_pool6},
    {"loglevel", "LEVEL", "error, warn, info (default) or debug", set_loglevel},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct opt *
find_opt(const char *name, size_t n)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].name) == n &&
            strncmp(options[i].name, name, n) == 0)
            return &options[i];
    return NULL;
}

int
t2s_config_set(struct t2s_config *c, const char *key, const char *value,
               char *err, size_t errlen)
{
    const struct opt *o = find_opt(key, strlen(key));

    if (o == NULL)
        return fail(err, errlen, "unknown option '%.64s'", key);
    if (value == NULL)
        return fail(err, errlen, "option '%s' needs a value", o->name);
    return o->set(c, value, err, errlen);
}

/* ---- config file ------------------------------------------------------ */

static char *
trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Group or others may read fd: a file that holds a password must not be. */
static int
readable_by_others(int fd)
{
    struct stat st;

    return fstat(fd, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

int
t2s_config_load_file(struct t2s_config *c, const char *path, char *err,
                     size_t errlen)
{
    char line[LINE_MAX_LEN + 2];
    char iobuf[4096]; /* stdio's buffer, cleared with the rest */
    char sub[256];
    unsigned lineno = 0;
    FILE *f = fopen(path, "re");
    int rc = 0, has_password = 0;

    if (f == NULL)
        return fail(err, errlen, "cannot read config file %.200s: %s", path,
                    strerror(errno));
    setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *k, *v, *eq;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = fail(err, errlen, "%.200s:%u: line too long", path, lineno);
            break;
        }
        k = trim(line);
        if (*k == '\0' || *k == '#')
            continue;
        eq = strchr(k, '=');
        if (eq == NULL) {
            rc = fail(err, errlen, "%.200s:%u: expected 'key = value'", path,
                      lineno);
            break;
        }
        *eq = '\0';
        k = trim(k);
        v = trim(eq + 1);
        if (strcmp(k, "config") == 0) {
            rc = fail(err, errlen, "%.200s:%u: nested config not allowed", path,
                      lineno);
            break;
        }
        if (t2s_config_set(c, k, v, sub, sizeof(sub)) < 0) {
            rc = fail(err, errlen, "%.200s:%u: %s", path, lineno, sub);
            break;
        }
        if (strcmp(k, "route-script") == 0)
            c->route_script_from_file = 1;
        if (strcmp(k, "proxy") == 0 && c->proxy.pass_len > 0)
            has_password = 1;
    }
    if (rc == 0 && ferror(f))
        rc = fail(err, errlen, "cannot read config file %.200s: %s", path,
                  strerror(errno));
    /* As OpenSSH refuses a private key others can read. */
    if (rc == 0 && has_password && readable_by_others(fileno(f))) {
        explicit_bzero(c->proxy.pass, sizeof(c->proxy.pass));
        rc = fail(err, errlen,
                  "config file %.200s holds a password and is readable by "
                  "group or others (chmod 600 it)",
                  path);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    explicit_bzero(iobuf, sizeof(iobuf));
    return rc;
}

/* ---- credentials ------------------------------------------------------ */

/* "user:pass" (pass may be empty or contain ':') into p; -1 if malformed. */
static int
set_credentials(struct t2s_proxy *p, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon != NULL ? (size_t)(colon - s) : n;
    size_t plen = colon != NULL ? n - ulen - 1 : 0;

    if (ulen == 0 || ulen > 255 || plen > 255)
        return -1;
    memcpy(p->user, s, ulen);
    p->user[ulen] = '\0';
    p->user_len = ulen;
    if (plen > 0)
        memcpy(p->pass, colon + 1, plen);
    p->pass[plen] = '\0';
    p->pass_len = plen;
    return 0;
}

/* Reads up to cap bytes of fd into buf; -1 on error or when more remain. */
static int
read_small(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;

    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap)
            return -1; /* longer than any valid 'user:pass' line */
    }
    *len = n;
    return 0;
}

/* No stdio: its buffer would keep a copy of the password after fclose. */
static int
read_auth_file(struct t2s_config *c, char *err, size_t errlen)
{
    char buf[600];
    size_t n = 0;
    int fd = open(c->auth_file, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return fail(err, errlen, "cannot read proxy auth file %.200s: %s",
                    c->auth_file, strerror(errno));
    if (readable_by_others(fd)) {
        close(fd);
        return fail(err, errlen,
                    "proxy auth file %.200s is readable by group or others "
                    "(chmod 600 it)",
                    c->auth_file);
    }
    rc = read_small(fd, buf, sizeof(buf), &n);
    close(fd);
    while (rc == 0 && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (rc == 0 && (memchr(buf, '\n', n) != NULL ||
                    set_credentials(&c->proxy, buf, n) < 0))
        rc = -1;
    explicit_bzero(buf, sizeof(buf));
    if (rc < 0)
        return fail(err, errlen,
                    "proxy auth file %.200s must hold one line 'user:pass' "
                    "(each at most 255 bytes)",
                    c->auth_file);
    return 0;
}

static int
apply_environment(struct t2s_config *c, char *err, size_t errlen)
{
    const char *env;

    if (!c->proxy_given) {
        env = getenv("TUN2SOCKS_PROXY");
        if (env != NULL && *env != '\0') {
            char sub[256];

            if (set_proxy(c, env, sub, sizeof(sub)) < 0)
                return fail(err, errlen, "TUN2SOCKS_PROXY: %s", sub);
        }
    }
    if (c->proxy.user_len > 0)
        return 0; /* URL credentials win */
    if (c->auth_file[0] != '\0')
        return read_auth_file(c, err, errlen);
    env = getenv("TUN2SOCKS_PROXY_AUTH");
    if (env != NULL && *env != '\0' &&
        set_credentials(&c->proxy, env, strlen(env)) < 0)
        return fail(err, errlen,
                    "TUN2SOCKS_PROXY_AUTH must be 'user:pass' (each at most "
                    "255 bytes)");
    return 0;
}

/* ---- command line ----------------------------------------------------- */

/* Split "--name[=value]"; returns the option or NULL. */
static const struct opt *
lookup_flag(const char *arg, const char **inline_val)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);

    *inline_val = eq != NULL ? eq + 1 : NULL;
    return find_opt(name, n);
}

static int
is_flag(const char *a, const char *longname, const char *shortname)
{
    return strcmp(a, longname) == 0 ||
           (shortname != NULL && strcmp(a, shortname) == 0);
}

int
t2s_config_from_args(struct t2s_config *c, int argc, char **argv, char *err,
                     size_t errlen)
{
    char sub[400];
    int i;

    /* --help/--version win over everything; --config goes first. */
    for (i = 1; i < argc; i++) {
        if (is_flag(argv[i], "--help", "-h"))
            return T2S_CONFIG_HELP;
        if (is_flag(argv[i], "--version", "-V"))
            return T2S_CONFIG_VERSION;
    }
    for (i = 1; i < argc; i++) {
        const char *path = NULL;

        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return fail(err, errlen, "--config needs a value");
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
        if (path != NULL && t2s_config_load_file(c, path, err, errlen) < 0)
            return T2S_CONFIG_ERR;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        const struct opt *o;

        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            /* not echoed: it may be a URL with a password */
            return fail(err, errlen,
                        "unexpected argument #%d (options start with --; "
                        "the proxy URL goes after --proxy)",
                        i);
        o = lookup_flag(a, &val);
        if (o == NULL) {
            const char *eq = strchr(a, '=');

            return fail(err, errlen, "unknown option '%.*s'",
                        (int)(eq != NULL ? eq - a : 64), a);
        }
        if (val == NULL) {
            if (o->arg == NULL) {
                val = "yes";
            } else {
                if (i + 1 >= argc)
                    return fail(err, errlen, "--%s needs a value", o->name);
                val = argv[++i];
            }
        }
        if (o->set(c, val, sub, sizeof(sub)) < 0)
            return fail(err, errlen, "%s", sub);
    }
    if (apply_environment(c, err, errlen) < 0)
        return T2S_CONFIG_ERR;
    if (c->tun_name[0] != '\0' && c->tun_fd >= 0)
        return fail(err, errlen, "give either --tun or --tun-fd, not both");
    if (c->tun_name[0] == '\0' && c->tun_fd < 0)
        return fail(err, errlen,
                    "no TUN device: give --tun NAME or --tun-fd N");
    if (!c->proxy_given)
        return fail(err, errlen,
                    "no proxy: give --proxy socks5://host:port or set "
                    "TUN2SOCKS_PROXY");
    if (c->route && c->tun_fd >= 0)
        return fail(err, errlen,
                    "--route needs --tun (with --tun-fd the owner of the "
                    "descriptor does the routing)");
    if (c->tun_fd >= 0 && (c->tun_ipv4[0] != '\0' || c->tun_ipv6[0] != '\0'))
        return fail(err, errlen,
                    "--tun-ipv4/--tun-ipv6 apply only to --tun (the owner of "
                    "a --tun-fd configures it)");
    return T2S_CONFIG_OK;
}

/* ---- secrets in the process image ------------------------------------- */

/* '*' over the password of scheme://user:pass@host (in place). */
static void
mask_url_password(char *url)
{
    char *s = strstr(url, "://"), *at, *colon;

    if (s == NULL)
        return;
    s += 3;
    at = strrchr(s, '@');
    if (at == NULL)
        return;
    colon = memchr(s, ':', (size_t)(at - s));
    if (colon != NULL)
        memset(colon + 1, '*', (size_t)(at - colon - 1));
}

void
t2s_config_scrub_argv(int argc, char **argv)
{
    /* The same walk as t2s_config_from_args: only values of --proxy. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
        } else if (strcmp(argv[i], "--proxy") == 0) {
            if (i + 1 < argc)
                mask_url_password(argv[++i]);
        } else if (strncmp(argv[i], "--proxy=", 8) == 0) {
            mask_url_password(argv[i] + 8);
        } else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0' &&
                   strchr(argv[i], '=') == NULL) {
            const struct opt *o = find_opt(argv[i] + 2, strlen(argv[i] + 2));

            if (o != NULL && o->arg != NULL)
                i++; /* its value is not an option */
        }
    }
}

extern char **environ;

#define ENV_DUP_MAX 8

/* Unsets name and zeroes its "name=value" strings in place. */
static void
scrub_env_var(const char *name)
{
    char *found[ENV_DUP_MAX];
    size_t n = strlen(name), k = 0;

    for (char **e = environ; e != NULL && *e != NULL && k < ENV_DUP_MAX; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            found[k++] = *e;
    /* unsetenv compares names: zero the strings only afterwards */
    unsetenv(name);
    for (size_t i = 0; i < k; i++)
        explicit_bzero(found[i], strlen(found[i]));
}

void
t2s_config_scrub_environment(void)
{
    static const char proxy[] = "TUN2SOCKS_PROXY";

    scrub_env_var("TUN2SOCKS_PROXY_AUTH");
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, proxy, sizeof(proxy) - 1) == 0 &&
            (*e)[sizeof(proxy) - 1] == '=')
            mask_url_password(*e + sizeof(proxy));
}

/* ---- route-script trust ----------------------------------------------- */

/* Owned by root and writable by no one else (sticky directories are). */
static int
root_only(const char *path, int is_dir, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return fail(err, errlen, "route-script: cannot check %.200s: %s", path,
                    strerror(errno));
    if (st.st_uid != 0)
        return fail(err, errlen,
                    "route-script from a config file: %.200s is not owned by "
                    "root",
                    path);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
        !(is_dir && (st.st_mode & S_ISVTX) != 0))
        return fail(err, errlen,
                    "route-script from a config file: %.200s is writable by "
                    "group or others",
                    path);
    return 0;
}

int
t2s_config_check_route_script(const struct t2s_config *c, char *err,
                              size_t errlen)
{
    char *real, *slash;
    int rc;

    if (!c->route_script_from_file || geteuid() != 0)
        return 0;
    real = realpath(c->route_script, NULL);
    if (real == NULL)
        return fail(err, errlen, "route-script %.200s: %s", c->route_script,
                    strerror(errno));
    rc = root_only(real, 0, err, errlen);
    /* every directory up to / (realpath: no symlinks, no '..') */
    while (rc == 0 && (slash = strrchr(real, '/')) != NULL) {
        slash[slash == real ? 1 : 0] = '\0';
        rc = root_only(real, 1, err, errlen);
        if (slash == real)
            break;
    }
    free(real);
    return rc;
}

/* ---- resolving -------------------------------------------------------- */

static int
usable_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

        return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a)) {
            uint32_t v4 = (uint32_t)a->s6_addr[12] << 24 |
                          (uint32_t)a->s6_addr[13] << 16 |
                          (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];

            return v4 != 0 && v4 != 0xffffffffu && (v4 >> 28) != 0xe;
        }
        return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
    }
    return 0;
}

int
t2s_config_resolve_proxy(struct t2s_proxy *p, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", (unsigned)p->port);
    rc = getaddrinfo(p->host, port, &hints, &res);
    if (rc == EAI_NONAME) {
        hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
        rc = getaddrinfo(p->host, port, &hints, &res);
    }
    if (rc != 0 || res == NULL)
        return fail(err, errlen, "cannot resolve proxy host '%s': %s", p->host,
                    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    if (!usable_addr(res->ai_addr) || res->ai_addrlen > sizeof(p->addr)) {
        freeaddrinfo(res);
        return fail(err, errlen,
                    "proxy address '%s' is not a usable unicast address",
                    p->host);
    }
    memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
    p->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

void
t2s_config_usage(FILE *out, const char *argv0)
{
    fprintf(
        out,
        "usage: %s --tun NAME | --tun-fd FD  --proxy URL [options]\n"
        "\n"
        "Forwards every TCP connection and UDP flow arriving on a TUN device "
        "through a SOCKS5 proxy.\n\noptions:\n",
        argv0);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char left[40];

        snprintf(left, sizeof(left), "--%s%s%s", options[i].name,
                 options[i].arg != NULL ? " " : "",
                 options[i].arg != NULL ? options[i].arg : "");
        fprintf(out, "  %-26s %s\n", left, options[i].help);
    }
    fprintf(out,
            "  %-26s %s\n  %-26s %s\n  %-26s %s\n"
            "\nenvironment:\n"
            "  TUN2SOCKS_PROXY        proxy URL when --proxy is not given\n"
            "  TUN2SOCKS_PROXY_AUTH   'user:pass' when the URL has none\n"
            "\nCredentials: URL, then --proxy-auth-file, then "
            "TUN2SOCKS_PROXY_AUTH.\n"
            "Config file: one 'option = value' per line (option names as "
            "above, no dashes),\n'#' comments; command-line flags override "
            "it.\n"
            "Signals: SIGINT/SIGTERM stop, SIGUSR1 logs counters.\n",
            "--config FILE", "read options from FILE first", "--help",
            "this text", "--version", "print the version");
}

/* ---- the embedding API's config object (t2s.h) ---- */

struct t2s_config *
t2s_config_new(void)
{
    struct t2s_config *c = malloc(sizeof(*c));

    if (c != NULL)
        t2s_config_init(c);
    return c;
}

void
t2s_config_free(struct t2s_config *c)
{
    if (c == NULL)
        return;
    explicit_bzero(c, sizeof(*c)); /* the proxy credentials */
    free(c);
}

void
t2s_config_set_log(struct t2s_config *c, t2s_log_fn fn, void *user)
{
    c->log_fn = fn;
    c->log_user = fn != NULL ? user : NULL;
}

void
t2s_config_set_socket_hook(struct t2s_config *c, t2s_socket_fn fn, void *user)
{
    c->socket_fn = fn;
    c->socket_user = fn != NULL ? user : NULL;
}
