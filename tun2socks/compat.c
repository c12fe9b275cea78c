/* badvpn tun2socks's flags as aliases of ours; see compat.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "config/value.h"

/*
 * --netif-ipaddr, --netif-netmask, --netif-ip6addr: badvpn's netif had
 * one address (the router end of the VPN, the app's DNS server). Our stack
 * answers every destination address, so the value is checked and has no
 * other effect.
 */
static int
set_netif_ipaddr(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t a[4];

    (void)c;
    if (inet_pton(AF_INET, v, a) != 1)
        return t2s_value_err(err, errlen,
                             "bad --netif-ipaddr '%.64s' (an IPv4 address)", v);
    return 0;
}

static int
set_netif_netmask(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t a[4];
    uint32_t m;

    (void)c;
    if (inet_pton(AF_INET, v, a) != 1)
        goto bad;
    m = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) |
        ((uint32_t)a[2] << 8) | a[3];
    if ((m & (~m >> 1)) != 0) /* a 1 bit right of a 0 bit */
        goto bad;
    return 0;
bad:
    return t2s_value_err(err, errlen,
                         "bad --netif-netmask '%.64s' (an IPv4 netmask)", v);
}

static int
set_netif_ip6addr(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    uint8_t a[16];

    (void)c;
    if (inet_pton(AF_INET6, v, a) != 1)
        return t2s_value_err(
            err, errlen, "bad --netif-ip6addr '%.64s' (an IPv6 address)", v);
    return 0;
}

/* HOST:PORT, [IPv6]:PORT: --proxy socks5://HOST:PORT */
static int
set_socks_server_addr(struct t2s_config *c, const char *v, char *err,
                      size_t errlen)
{
    char url[300];

    if (*v == '\0' || strchr(v, '@') != NULL || strchr(v, '/') != NULL ||
        (size_t)snprintf(url, sizeof(url), "socks5://%s", v) >= sizeof(url))
        return t2s_value_err(err, errlen,
                             "bad --socks-server-addr '%.64s' (HOST:PORT, "
                             "[IPv6]:PORT)",
                             v);
    return t2s_config_set(c, "proxy", url, err, errlen);
}

static int
set_tunmtu(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_config_set(c, "mtu", v, err, errlen);
}

/* UDP goes through SOCKS5 UDP ASSOCIATE unless the proxy has none: the
 * relay badvpn needed this flag for is always on. */
static int
set_enable_udprelay(struct t2s_config *c, const char *v, char *err,
                    size_t errlen)
{
    (void)c;
    (void)v;
    (void)err;
    (void)errlen;
    return 0;
}

static int
set_dnsgw(struct t2s_config *c, const char *v, char *err, size_t errlen)
{
    return t2s_config_set(c, "dns-gateway", v, err, errlen);
}

static const struct t2s_compat_entry entries[] = {
    {"socks-server-addr", "HOST:PORT", "= --proxy socks5://HOST:PORT",
     set_socks_server_addr},
    {"tunmtu", "N", "= --mtu N", set_tunmtu},
    {"dnsgw", "ADDR:PORT", "= --dns-gateway ADDR:PORT", set_dnsgw},
    {"netif-ipaddr", "ADDR", "checked, no effect: every address is answered",
     set_netif_ipaddr},
    {"netif-netmask", "MASK", "checked, no effect", set_netif_netmask},
    {"netif-ip6addr", "ADDR", "checked, no effect", set_netif_ip6addr},
    {"enable-udprelay", NULL,
     "no effect: UDP is relayed with UDP ASSOCIATE anyway",
     set_enable_udprelay},
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

const struct t2s_compat_entry *
t2s_compat_at(size_t i)
{
    return i < N_ENTRIES ? &entries[i] : NULL;
}

const struct t2s_compat_entry *
t2s_compat_find(const char *name, size_t n)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strlen(entries[i].name) == n &&
            strncmp(entries[i].name, name, n) == 0)
            return &entries[i];
    return NULL;
}

/* badvpn's levels: none has no equal (we always log errors), notice is
 * between warning and info: it goes with info, where ours says what
 * happens to a connection. */
const char *
t2s_compat_loglevel(const char *v)
{
    static const struct {
        const char *badvpn, *num, *ours;
    } map[] = {
        {"none", "0", "error"},   {"error", "1", "error"},
        {"warning", "2", "warn"}, {"notice", "3", "info"},
        {"info", "4", "info"},    {"debug", "5", "debug"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(v, map[i].badvpn) == 0 || strcmp(v, map[i].num) == 0)
            return map[i].ours;
    return v;
}
