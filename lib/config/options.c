/*
 * The library's option table (TUN, proxy, limits; the UDP and DNS options
 * are in options_dns.c): how each key is read and written back. Defaults
 * are in t2s_config_init(), nowhere else.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/options.h"
#include "config/value.h"
#include "core/log.h"

#define MTU_MIN 576
#define MTU_MAX 65535
#define IDLE_TIMEOUT_MAX_S 2592000u /* 30 days; fits the ms field */

static int
set_tun(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= T2S_IFNAMSIZ || strchr(v, '/') != NULL ||
        strchr(v, ' ') != NULL)
        return t2s_value_err(err, errlen,
                             "bad TUN name '%.32s' (1..15 characters)", v);
    memcpy(c->tun_name, v, n + 1);
    return 0;
}

static int
set_tun_fd(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (t2s_value_ulong(v, 10, 0, INT_MAX, &n) < 0)
        return t2s_value_err(err, errlen, "bad --tun-fd '%.32s'", v);
    c->tun_fd = (int)n;
    return 0;
}

static int
set_mtu(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (t2s_value_ulong(v, 10, MTU_MIN, MTU_MAX, &n) < 0)
        return t2s_value_err(err, errlen, "bad MTU '%.32s' (%d..%d)", v,
                             MTU_MIN, MTU_MAX);
    c->mtu = (int)n;
    return 0;
}

static int
parse_prefix(const char *v, int family, char *err, size_t errlen)
{
    uint8_t bin[16];
    unsigned plen = 0;

    return t2s_value_prefix(v, family, bin, &plen, err, errlen);
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

/* Appends to the list. The first parses into c->proxy in place, as one
 * --proxy always did (credentials set before stay unless the URL has its
 * own); a further one goes into a fresh slot. */
/* --proxy-gssapi and its level are kept on the first proxy and hold for
 * every proxy of the list (one protocol, one realm). */
static void
gss_to_all(struct t2s_config *c)
{
    for (unsigned i = 1; i < c->proxy_count; i++) {
        struct t2s_proxy *p = t2s_config_proxy_mut(c, i);

        memcpy(p->gss_service, c->proxy.gss_service, sizeof(p->gss_service));
        memcpy(p->gss_keytab, c->proxy.gss_keytab, sizeof(p->gss_keytab));
        p->gss_level = c->proxy.gss_level;
    }
}

static int
set_proxy(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    struct t2s_proxy p;
    int rc;

    if (c->proxy_count >= T2S_PROXY_MAX)
        return t2s_value_err(err, errlen, "too many proxies (at most %d)",
                             T2S_PROXY_MAX);
    if (c->proxy_count == 0) {
        if (t2s_proxy_url_parse(v, &c->proxy, err, errlen) < 0)
            return -1;
        c->proxy_count = 1;
        c->proxy_given = 1;
        return 0;
    }
    memset(&p, 0, sizeof(p));
    rc = t2s_proxy_url_parse(v, &p, err, errlen);
    /* What a session may carry is decided before the pool picks its
     * proxy (SOCKS4 refuses IPv6, only SOCKS5 has UDP): one protocol. */
    if (rc == 0 && t2s_proxy_url_protocol(p.scheme) !=
                       t2s_proxy_url_protocol(c->proxy.scheme))
        rc = t2s_value_err(
            err, errlen, "several proxies must speak one protocol: %s after %s",
            t2s_proxy_url_scheme_name(p.scheme),
            t2s_proxy_url_scheme_name(c->proxy.scheme));
    if (rc == 0) {
        *t2s_config_proxy_mut(c, c->proxy_count++) = p;
        gss_to_all(c);
    }
    explicit_bzero(&p, sizeof(p));
    return rc;
}

static int
set_proxy_policy(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "failover") == 0)
        c->proxy_policy = T2S_PROXY_FAILOVER;
    else if (strcmp(v, "round-robin") == 0)
        c->proxy_policy = T2S_PROXY_ROUND_ROBIN;
    else
        return t2s_value_err(
            err, errlen, "bad --proxy-policy '%.32s' (failover, round-robin)",
            v);
    return 0;
}

static int
set_auth_file(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (*v == '\0' || strlen(v) >= sizeof(c->auth_file))
        return t2s_value_err(err, errlen, "bad --proxy-auth-file path");
    snprintf(c->auth_file, sizeof(c->auth_file), "%s", v);
    return 0;
}

static int
set_loglevel(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    int l = t2s_log_parse_level(v);

    if (l < 0)
        return t2s_value_err(
            err, errlen, "bad log level '%.32s' (error, warn, info, debug)", v);
    c->loglevel = l;
    return 0;
}

static int
set_connect_timeout(struct t2s_config *c, const char *v, char *err,
                    size_t errlen)
{
    return t2s_value_seconds("--connect-timeout", 1, T2S_OPTIONS_TIMEOUT_MAX_S,
                             v, &c->connect_timeout_ms, err, errlen);
}

static int
set_idle_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_value_seconds("--idle-timeout", 0, IDLE_TIMEOUT_MAX_S, v,
                             &c->idle_timeout_ms, err, errlen);
}

static int
set_max_conns(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_value_count("--max-conns", 10000000, v, &c->max_conns, err,
                           errlen);
}

/* Bytes, or a number with K, M or G (powers of 1024). */
static int
set_memory_limit(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (v == NULL || *v == '\0' || strlen(v) >= 32)
        return t2s_value_err(err, errlen, "bad --memory-limit '%.32s'",
                             v ? v : "");
    if (t2s_value_size(v, &c->memory_limit) < 0)
        return t2s_value_err(err, errlen,
                             "bad --memory-limit '%.32s' (bytes, or a number "
                             "with K, M or G; at least 1M)",
                             v);
    return 0;
}

static int
set_fwmark(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (t2s_value_ulong(v, 0, 0, UINT32_MAX, &n) < 0)
        return t2s_value_err(err, errlen, "bad --fwmark '%.32s'", v);
    c->fwmark = (uint32_t)n;
    return 0;
}

static int
set_interface(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= T2S_IFNAMSIZ)
        return t2s_value_err(err, errlen, "bad --interface '%.32s'", v);
    memcpy(c->bind_iface, v, n + 1);
    return 0;
}

static int
set_pipeline(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (strcasecmp(v, "auto") == 0) {
        c->socks_pipeline = T2S_SOCKS_PIPELINE_AUTO;
        return 0;
    }
    if (t2s_value_bool(v, &c->socks_pipeline) < 0)
        return t2s_value_err(err, errlen,
                             "bad --socks-pipeline '%.32s' (yes/no/auto)", v);
    return 0;
}

/* A Unix socket path: it must fit sun_path with its NUL. */
static int
set_sun_path(const char *flag, char *dst, size_t size, const char *v, char *err,
             size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= size)
        return t2s_value_err(err, errlen,
                             "bad --%s '%.32s%s' (a Unix socket path of 1..%zu "
                             "bytes)",
                             flag, v, n > 32 ? "..." : "", size - 1);
    memcpy(dst, v, n + 1);
    return 0;
}

static int
set_protect_path(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_sun_path("protect-path", c->protect_path,
                        sizeof(c->protect_path), v, err, errlen);
}

static int
set_stats_socket(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_sun_path("stats-socket", c->stats_socket,
                        sizeof(c->stats_socket), v, err, errlen);
}

int
t2s_options_put(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    return 1;
}

/* ---- getters: the value as the setter reads it back ------------------- */

T2S_OPTIONS_GETTER(get_tun)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->tun_name);
}

T2S_OPTIONS_GETTER(get_tun_fd)
{
    if (c->tun_fd < 0)
        return i == 0 && t2s_options_put(out, outlen, "%s", "");
    return i == 0 && t2s_options_put(out, outlen, "%d", c->tun_fd);
}

T2S_OPTIONS_GETTER(get_tun_ipv4)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->tun_ipv4);
}

T2S_OPTIONS_GETTER(get_tun_ipv6)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->tun_ipv6);
}

T2S_OPTIONS_GETTER(get_mtu)
{
    return i == 0 && t2s_options_put(out, outlen, "%d", c->mtu);
}

/* Never the credentials: --print-config says only whether there are. */
T2S_OPTIONS_GETTER(get_proxy)
{
    out[0] = '\0';
    if (c->proxy_count == 0)
        return i == 0; /* unset: "proxy =" */
    if (i >= c->proxy_count)
        return 0;
    t2s_proxy_url_format(t2s_config_proxy(c, i), out, outlen);
    return 1;
}

T2S_OPTIONS_GETTER(get_proxy_policy)
{
    return i == 0 && t2s_options_put(out, outlen, "%s",
                                     c->proxy_policy == T2S_PROXY_ROUND_ROBIN
                                         ? "round-robin"
                                         : "failover");
}

T2S_OPTIONS_GETTER(get_auth_file)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->auth_file);
}

T2S_OPTIONS_GETTER(get_loglevel)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    return i == 0 && c->loglevel >= 0 && c->loglevel <= 3 &&
           t2s_options_put(out, outlen, "%s", names[c->loglevel]);
}

T2S_OPTIONS_GETTER(get_connect_timeout)
{
    return i == 0 &&
           t2s_options_put(out, outlen, "%u", c->connect_timeout_ms / 1000u);
}

T2S_OPTIONS_GETTER(get_idle_timeout)
{
    return i == 0 &&
           t2s_options_put(out, outlen, "%u", c->idle_timeout_ms / 1000u);
}

T2S_OPTIONS_GETTER(get_max_conns)
{
    return i == 0 && t2s_options_put(out, outlen, "%u", c->max_conns);
}

T2S_OPTIONS_GETTER(get_memory_limit)
{
    if (i != 0)
        return 0;
    out[0] = '\0';
    if (c->memory_limit != 0)
        t2s_value_size_format(c->memory_limit, out, outlen);
    return 1;
}

T2S_OPTIONS_GETTER(get_fwmark)
{
    return i == 0 && t2s_options_put(out, outlen, "%#x", (unsigned)c->fwmark);
}

T2S_OPTIONS_GETTER(get_interface)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->bind_iface);
}

T2S_OPTIONS_GETTER(get_pipeline)
{
    return i == 0 &&
           t2s_options_put(out, outlen, "%s",
                           c->socks_pipeline == T2S_SOCKS_PIPELINE_AUTO ? "auto"
                           : c->socks_pipeline                          ? "yes"
                                                                        : "no");
}

T2S_OPTIONS_GETTER(get_protect_path)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->protect_path);
}

T2S_OPTIONS_GETTER(get_stats_socket)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->stats_socket);
}

/* ---- the table -------------------------------------------------------- */

#ifndef T2S_HAVE_GSSAPI
/* The GSSAPI options in a build without it: one line saying why. */
static int
no_gssapi(const char *flag, char *err, size_t errlen)
{
    return t2s_value_err(err, errlen,
                         "--%s: this build has no GSSAPI support (built "
                         "without libkrb5-dev or with -DT2S_GSSAPI=OFF)",
                         flag);
}
#endif

/* --proxy-gssapi: a GSS service name (RFC 1961), checked for shape only;
 * the GSS-API library judges it at the first connection. */
static int
set_proxy_gssapi(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
#ifdef T2S_HAVE_GSSAPI
    if (*v == '\0' || strlen(v) >= sizeof(c->proxy.gss_service) ||
        strpbrk(v, " \t\r\n") != NULL)
        return t2s_value_err(err, errlen, "bad --proxy-gssapi service name");
    snprintf(c->proxy.gss_service, sizeof(c->proxy.gss_service), "%s", v);
    gss_to_all(c);
    return 0;
#else
    (void)c;
    (void)v;
    return no_gssapi("proxy-gssapi", err, errlen);
#endif
}

/* --proxy-gssapi-keytab: a client keytab (its first principal is the
 * client), read by the GSS-API library at each new context. */
static int
set_proxy_gssapi_keytab(struct t2s_config *c, const char *v, char *err,
                        size_t errlen)
{
#ifdef T2S_HAVE_GSSAPI
    if (*v == '\0' || strlen(v) >= sizeof(c->proxy.gss_keytab) - 5)
        return t2s_value_err(err, errlen, "bad --proxy-gssapi-keytab path");
    snprintf(c->proxy.gss_keytab, sizeof(c->proxy.gss_keytab), "%s", v);
    gss_to_all(c);
    return 0;
#else
    (void)c;
    (void)v;
    return no_gssapi("proxy-gssapi-keytab", err, errlen);
#endif
}

T2S_OPTIONS_GETTER(get_proxy_gssapi_keytab)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->proxy.gss_keytab);
}

/* The level asked of the proxy: Dante selects exactly what the client asks
 * for (or refuses it), so it must match its gssapi.enctype. */
static const char *const gss_levels[] = {"clear", "integrity",
                                         "confidentiality"};

static int
set_proxy_gssapi_level(struct t2s_config *c, const char *v, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < sizeof(gss_levels) / sizeof(gss_levels[0]); i++) {
        if (strcmp(v, gss_levels[i]) == 0) {
            c->proxy.gss_level = (uint8_t)(i + 1);
            gss_to_all(c);
            return 0;
        }
    }
    return t2s_value_err(err, errlen,
                         "bad --proxy-gssapi-level '%s' (clear, integrity or "
                         "confidentiality)",
                         v);
}

T2S_OPTIONS_GETTER(get_proxy_gssapi_level)
{
    /* empty: the default (confidentiality), so it reads back as unset */
    return i == 0 && t2s_options_put(out, outlen, "%s",
                                     c->proxy.gss_level > 0
                                         ? gss_levels[c->proxy.gss_level - 1u]
                                         : "");
}

T2S_OPTIONS_GETTER(get_proxy_gssapi)
{
    return i == 0 && t2s_options_put(out, outlen, "%s", c->proxy.gss_service);
}

static const struct t2s_option options[] = {
    {"tun", "NAME", "create or attach to TUN device NAME", set_tun, get_tun,
     T2S_OPTIONS_RESET(tun_name, tun_name)},
    {"tun-fd", "FD",
     "use an already open TUN descriptor (VPN service) instead of --tun",
     set_tun_fd, get_tun_fd, T2S_OPTIONS_RESET(tun_fd, tun_fd)},
    {"tun-ipv4", "ADDR/LEN", "assign this IPv4 address to --tun", set_tun_ipv4,
     get_tun_ipv4, T2S_OPTIONS_RESET(tun_ipv4, tun_ipv4)},
    {"tun-ipv6", "ADDR/LEN", "assign this IPv6 address to --tun", set_tun_ipv6,
     get_tun_ipv6, T2S_OPTIONS_RESET(tun_ipv6, tun_ipv6)},
    {"mtu", "N", "TUN MTU", set_mtu, get_mtu, T2S_OPTIONS_REQUIRED},
    {"proxy", "URL",
     "socks5|socks5h|socks4|socks4a|http://[user[:pass]@]host:port (IPv6 in "
     "[]); repeat it for more proxies (at most 16)",
     set_proxy, get_proxy, T2S_OPTIONS_RESET(proxy, proxy_count)},
    {"proxy-policy", "POLICY",
     "with several proxies: failover (the first that is up) or round-robin",
     set_proxy_policy, get_proxy_policy, T2S_OPTIONS_REQUIRED},
    {"proxy-auth-file", "FILE", "read proxy credentials 'user:pass' from FILE",
     set_auth_file, get_auth_file, T2S_OPTIONS_RESET(auth_file, auth_file)},
    {"proxy-gssapi", "SERVICE",
     "SOCKS5 GSSAPI (Kerberos) with the proxy's service SERVICE: rcmd means "
     "rcmd@PROXYHOST (Dante's default), or svc@host, or a principal "
     "svc/host@REALM; credentials from the default ccache (KRB5CCNAME)",
     set_proxy_gssapi, get_proxy_gssapi,
     T2S_OPTIONS_RESET(proxy.gss_service, proxy.gss_service)},
    {"proxy-gssapi-keytab", "FILE",
     "GSSAPI credentials from this client keytab (its first principal) "
     "instead of the default ccache; the --user must be able to read it",
     set_proxy_gssapi_keytab, get_proxy_gssapi_keytab,
     T2S_OPTIONS_RESET(proxy.gss_keytab, proxy.gss_keytab)},
    {"proxy-gssapi-level", "LEVEL",
     "GSSAPI protection asked of the proxy: clear (Dante's: authentication "
     "only), integrity or confidentiality (default); must match the proxy's "
     "gssapi.enctype",
     set_proxy_gssapi_level, get_proxy_gssapi_level,
     T2S_OPTIONS_RESET(proxy.gss_level, proxy.gss_level)},
    {"connect-timeout", "SEC", "proxy connect + handshake timeout",
     set_connect_timeout, get_connect_timeout, T2S_OPTIONS_REQUIRED},
    {"idle-timeout", "SEC",
     "close idle TCP sessions, 0 = never; by default as long as the "
     "kernel's conntrack keeps an idle TCP flow",
     set_idle_timeout, get_idle_timeout, T2S_OPTIONS_REQUIRED},
    {"max-conns", "N", "maximum TCP sessions, 0 = from the descriptor limit",
     set_max_conns, get_max_conns, T2S_OPTIONS_REQUIRED},
    {"memory-limit", "SIZE",
     "memory budget for queues, sessions and lwIP, e.g. 256M (default: an "
     "eighth of RAM or of the cgroup's limit, 32M to 1G); new work is "
     "refused and data shed above it",
     set_memory_limit, get_memory_limit,
     T2S_OPTIONS_RESET(memory_limit, memory_limit)},
    {"fwmark", "MARK", "SO_MARK for sockets to the proxy, 0 = none", set_fwmark,
     get_fwmark, T2S_OPTIONS_REQUIRED},
    {"interface", "IF", "bind sockets to the proxy to interface IF",
     set_interface, get_interface, T2S_OPTIONS_RESET(bind_iface, bind_iface)},
    {"socks-pipeline", NULL,
     "SOCKS5: send greeting, auth and CONNECT without waiting: yes, no, or "
     "auto (default: once the proxy answered \"no auth\", greeting and "
     "CONNECT in one write); ignored by socks4 and http",
     set_pipeline, get_pipeline, T2S_OPTIONS_REQUIRED},
    {"loglevel", "LEVEL", "error, warn, info or debug", set_loglevel,
     get_loglevel, T2S_OPTIONS_REQUIRED},
    {"protect-path", "PATH",
     "before each proxy socket connects, send it to the Unix socket PATH "
     "(SCM_RIGHTS, shadowsocks-android's protect_path) and wait up to 1 s "
     "for a 0 byte; otherwise refuse that connection",
     set_protect_path, get_protect_path,
     T2S_OPTIONS_RESET(protect_path, protect_path)},
    {"stats-socket", "PATH",
     "answer each connection to the Unix socket PATH with the counters: "
     "JSON, or Prometheus text when the request line asks for /metrics",
     set_stats_socket, get_stats_socket,
     T2S_OPTIONS_RESET(stats_socket, stats_socket)},
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

const struct t2s_option *
t2s_options_at(size_t i)
{
    if (i < N_OPTIONS)
        return &options[i];
    i -= N_OPTIONS;
    return i < t2s_options_dns_count ? &t2s_options_dns[i] : NULL;
}

const struct t2s_option *
t2s_options_find(const char *name, size_t n)
{
    const struct t2s_option *o;

    for (size_t i = 0; (o = t2s_options_at(i)) != NULL; i++)
        if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
            return o;
    return NULL;
}
