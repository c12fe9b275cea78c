/*
 * The UDP and DNS options of the library's option table (options.h): how
 * each key is read and written back. Defaults are in t2s_config_init().
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "config/options.h"
#include "config/value.h"

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
        return t2s_value_err(err, errlen,
                             "bad --dns '%.32s' (relay, tcp, fake-ip)", v);
    return 0;
}

static int
set_dns_addr(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    if (inet_pton(AF_INET, v, c->dns_addr4) == 1 ||
        inet_pton(AF_INET6, v, c->dns_addr6) == 1)
        return 0;
    return t2s_value_err(err, errlen, "bad --dns-addr '%.64s' (an IP address)",
                         v);
}

/* "IPv4[:PORT]" or "[IPv6][:PORT]" (port default 53); 0 or -1. */
static int
parse_dns_server(const char *v, int *family, uint8_t addr[16], uint16_t *port)
{
    char host[64];
    const char *pstr = NULL, *end;
    unsigned long pv = 53;
    int bracket = *v == '[';
    size_t n;

    if (bracket) {
        end = strchr(v, ']');
        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            return -1;
        n = (size_t)(end - v - 1);
        if (end[1] == ':')
            pstr = end + 2;
        v++;
    } else {
        end = strchr(v, ':');
        n = end != NULL ? (size_t)(end - v) : strlen(v);
        if (end != NULL)
            pstr = end + 1;
    }
    if (n == 0 || n >= sizeof(host))
        return -1;
    memcpy(host, v, n);
    host[n] = '\0';
    if (pstr != NULL && t2s_value_ulong(pstr, 10, 1, 65535, &pv) < 0)
        return -1;
    memset(addr, 0, 16);
    if (!bracket && inet_pton(AF_INET, host, addr) == 1)
        *family = AF_INET;
    else if (bracket && inet_pton(AF_INET6, host, addr) == 1)
        *family = AF_INET6;
    else
        return -1;
    *port = (uint16_t)pv;
    return 0;
}

/* A DNS server option's value into *family, addr, *port; the error names
 * the flag. */
static int
set_dns_server(const char *flag, const char *v, int *family, uint8_t addr[16],
               uint16_t *port, char *err, size_t errlen)
{
    int f;
    uint8_t a[16];
    uint16_t p;

    if (parse_dns_server(v, &f, a, &p) < 0)
        return t2s_value_err(err, errlen,
                             "bad --%s '%.64s' (IPv4[:PORT] or [IPv6][:PORT])",
                             flag, v);
    *family = f;
    memcpy(addr, a, sizeof(a));
    *port = p;
    return 0;
}

static int
set_dns_resolver(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_dns_server("dns-resolver", v, &c->resolver_family,
                          c->resolver_addr, &c->resolver_port, err, errlen);
}

static int
set_dns_gateway(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return set_dns_server("dns-gateway", v, &c->gw_family, c->gw_addr,
                          &c->gw_port, err, errlen);
}

static int
set_fake_pool4(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t bin[4];
    unsigned plen = 0;

    if (t2s_value_prefix(v, AF_INET, bin, &plen, err, errlen) < 0)
        return -1;
    if (plen < 8 || plen > 30)
        return t2s_value_err(err, errlen,
                             "--fake-ip-pool prefix must be 8..30");
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
    if (t2s_value_prefix(v, AF_INET6, bin, &plen, err, errlen) < 0)
        return -1;
    if (plen < 8 || plen > 126)
        return t2s_value_err(err, errlen,
                             "--fake-ip-pool6 prefix must be 8..126");
    memcpy(c->fake_net6, bin, 16);
    c->fake_prefix6 = plen;
    return 0;
}

static int
set_udp_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_value_seconds("--udp-timeout", 1, T2S_OPTIONS_TIMEOUT_MAX_S, v,
                             &c->udp_timeout_ms, err, errlen);
}

static int
set_dns_timeout(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_value_seconds("--dns-timeout", 1, T2S_OPTIONS_TIMEOUT_MAX_S, v,
                             &c->dns_timeout_ms, err, errlen);
}

static int
set_max_udp(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_value_count("--max-udp", 1000000, v, &c->max_udp, err, errlen);
}

/* ---- getters: the value as the setter reads it back ------------------- */

static const char *const dns_modes[] = {"relay", "tcp", "fake-ip"};

T2S_OPTIONS_GETTER(get_dns)
{
    return i == 0 && c->dns_mode >= 0 && c->dns_mode <= 2 &&
           t2s_options_put(out, outlen, "%s", dns_modes[c->dns_mode]);
}

/* Two values: the IPv4 and the IPv6 form (--dns-addr once per family). */
T2S_OPTIONS_GETTER(get_dns_addr)
{
    if (i > 1)
        return 0;
    if (i == 0)
        return inet_ntop(AF_INET, c->dns_addr4, out, (socklen_t)outlen) != NULL;
    return inet_ntop(AF_INET6, c->dns_addr6, out, (socklen_t)outlen) != NULL;
}

/* family 0: ""; else IPv4:PORT or [IPv6]:PORT. */
static int
put_dns_server(char *out, size_t outlen, int family, const uint8_t *addr,
               uint16_t port)
{
    char a[INET6_ADDRSTRLEN];

    if (family == 0 || inet_ntop(family, addr, a, sizeof(a)) == NULL)
        return t2s_options_put(out, outlen, "%s", "");
    return t2s_options_put(out, outlen,
                           family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
                           (unsigned)port);
}

T2S_OPTIONS_GETTER(get_dns_resolver)
{
    return i == 0 && put_dns_server(out, outlen, c->resolver_family,
                                    c->resolver_addr, c->resolver_port);
}

T2S_OPTIONS_GETTER(get_dns_gateway)
{
    return i == 0 &&
           put_dns_server(out, outlen, c->gw_family, c->gw_addr, c->gw_port);
}

T2S_OPTIONS_GETTER(get_fake_pool4)
{
    char a[INET_ADDRSTRLEN];

    return i == 0 && inet_ntop(AF_INET, c->fake_net4, a, sizeof(a)) != NULL &&
           t2s_options_put(out, outlen, "%s/%u", a, c->fake_prefix4);
}

T2S_OPTIONS_GETTER(get_fake_pool6)
{
    char a[INET6_ADDRSTRLEN];

    if (i != 0)
        return 0;
    if (c->fake_prefix6 == 0)
        return t2s_options_put(out, outlen, "%s", "none");
    return inet_ntop(AF_INET6, c->fake_net6, a, sizeof(a)) != NULL &&
           t2s_options_put(out, outlen, "%s/%u", a, c->fake_prefix6);
}

T2S_OPTIONS_GETTER(get_udp_timeout)
{
    return i == 0 &&
           t2s_options_put(out, outlen, "%u", c->udp_timeout_ms / 1000u);
}

T2S_OPTIONS_GETTER(get_dns_timeout)
{
    return i == 0 &&
           t2s_options_put(out, outlen, "%u", c->dns_timeout_ms / 1000u);
}

T2S_OPTIONS_GETTER(get_max_udp)
{
    return i == 0 && t2s_options_put(out, outlen, "%u", c->max_udp);
}

/* ---- the table -------------------------------------------------------- */

const struct t2s_option t2s_options_dns[] = {
    {"udp-timeout", "SEC",
     "end UDP associations idle this long once replied (unreplied ones "
     "sooner, as the kernel's conntrack)",
     set_udp_timeout, get_udp_timeout, T2S_OPTIONS_REQUIRED},
    {"max-udp", "N", "maximum UDP associations, 0 = a quarter of --max-conns",
     set_max_udp, get_max_udp, T2S_OPTIONS_REQUIRED},
    {"dns", "MODE",
     "relay: DNS is plain UDP; tcp: DNS over TCP via CONNECT; or fake-ip",
     set_dns, get_dns, T2S_OPTIONS_REQUIRED},
    {"dns-addr", "ADDR",
     "fake-ip: the DNS server address apps use, once per family", set_dns_addr,
     get_dns_addr, T2S_OPTIONS_REQUIRED},
    {"dns-resolver", "ADDR[:PORT]",
     "tcp/fake-ip: resolver reached through the proxy (default: the "
     "query's own destination; fake-ip: none)",
     set_dns_resolver, get_dns_resolver,
     T2S_OPTIONS_RESET(resolver_family, resolver_port)},
    {"dns-timeout", "SEC", "idle timeout of DNS (port 53) flows and queries",
     set_dns_timeout, get_dns_timeout, T2S_OPTIONS_REQUIRED},
    {"fake-ip-pool", "NET/LEN", "fake-ip IPv4 pool", set_fake_pool4,
     get_fake_pool4, T2S_OPTIONS_REQUIRED},
    {"fake-ip-pool6", "NET/LEN", "fake-ip IPv6 pool, none disables",
     set_fake_pool6, get_fake_pool6, T2S_OPTIONS_REQUIRED},
    {"dns-gateway", "ADDR[:PORT]",
     "UDP DNS (port 53) goes straight to this server, not through the "
     "proxy; replies come from the address asked (default: none)",
     set_dns_gateway, get_dns_gateway, T2S_OPTIONS_RESET(gw_family, gw_port)},
};

const size_t t2s_options_dns_count =
    sizeof(t2s_options_dns) / sizeof(t2s_options_dns[0]);
