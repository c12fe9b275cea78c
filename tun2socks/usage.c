/*
 * --help. Defaults are not written here: they are read from
 * t2s_config_init() through the option getters, from route.c and from
 * privsep.c, so the text cannot disagree with the code.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "compat.h"
#include "config/options.h"
#include "opts.h"
#include "privsep.h"
#include "route.h"
#include "usage.h"

#define LEFT_WIDTH 26

/* " (default A and B)" from the getter on the defaults; "" when unset. */
static void
library_default(const struct t2s_option *o, char *out, size_t outlen)
{
    struct t2s_config d;
    char v[128];
    size_t n = 0;

    out[0] = '\0';
    if (o->arg == NULL)
        return; /* a flag: absent is the default */
    t2s_config_init(&d);
    for (unsigned k = 0; o->get(&d, k, v, sizeof(v)) && v[0] != '\0'; k++)
        n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s",
                              k == 0 ? " (default " : " and ", v);
    if (n > 0 && n < outlen)
        snprintf(out + n, outlen - n, ")");
}

/* What the program's options default to (route.c, privsep.c). */
static void
program_default(const struct t2s_opts_entry *e, char *out, size_t outlen)
{
    struct t2s_config d;
    char mark[32], v4[64], v6[64], err[256];

    out[0] = '\0';
    if (strcmp(e->name, "user") == 0) {
        snprintf(out, outlen, " (default %s)", t2s_privsep_default_user);
    } else if (strcmp(e->name, "route-script") == 0) {
        snprintf(out, outlen, " (default $TUN2SOCKS_ROUTE_SCRIPT, else %s)",
                 t2s_route_default_script);
    } else if (strcmp(e->name, "route") == 0) {
        t2s_config_init(&d);
        if (t2s_route_defaults(&d, err, sizeof(err)) < 0)
            return;
        t2s_config_get(&d, "fwmark", 0, mark, sizeof(mark));
        t2s_config_get(&d, "tun-ipv4", 0, v4, sizeof(v4));
        t2s_config_get(&d, "tun-ipv6", 0, v6, sizeof(v6));
        snprintf(out, outlen,
                 " (unless given: fwmark %s, tun-ipv4 %s, tun-ipv6 %s)", mark,
                 v4, v6);
    }
}

static void
print_option(FILE *out, const char *name, const char *arg, const char *help,
             const char *dflt)
{
    char left[40];

    snprintf(left, sizeof(left), "--%s%s%s", name, arg != NULL ? " " : "",
             arg != NULL ? arg : "");
    fprintf(out, "  %-*s %s%s\n", LEFT_WIDTH, left, help, dflt);
}

static void
print_options(FILE *out)
{
    const struct t2s_option *o;
    const struct t2s_opts_entry *e;
    char dflt[256];

    for (size_t i = 0; (o = t2s_options_at(i)) != NULL; i++) {
        library_default(o, dflt, sizeof(dflt));
        print_option(out, o->name, o->arg, o->help, dflt);
    }
    for (size_t i = 0; (e = t2s_opts_at(i)) != NULL; i++) {
        program_default(e, dflt, sizeof(dflt));
        print_option(out, e->name, e->arg, e->help, dflt);
    }
}

/* badvpn tun2socks's flags (compat.h), as shadowsocks-android runs it. */
static void
print_compat(FILE *out)
{
    const struct t2s_compat_entry *e;

    fprintf(out, "\ncompatibility (badvpn tun2socks, as shadowsocks-android "
                 "runs it; with --sock-path):\n");
    for (size_t i = 0; (e = t2s_compat_at(i)) != NULL; i++)
        print_option(out, e->name, e->arg, e->help, "");
    print_option(out, "loglevel", "LEVEL",
                 "also none, error, warning, notice, info, debug or 0..5 "
                 "(none: error; notice: info)",
                 "");
}

void
t2s_usage_print(FILE *out, const char *argv0)
{
    fprintf(
        out,
        "usage: %s --tun NAME | --tun-fd FD  --proxy URL [options]\n"
        "\n"
        "Forwards every TCP connection and UDP flow arriving on a TUN device "
        "through a SOCKS5 proxy.\n\noptions:\n",
        argv0);
    print_options(out);
    print_compat(out);
    fprintf(out,
            "\nenvironment:\n"
            "  TUN2SOCKS_PROXY        proxy URL when --proxy is not given\n"
            "  TUN2SOCKS_PROXY_AUTH   'user:pass' when the URL has none\n"
            "\nCredentials: URL, then --proxy-auth-file, then "
            "TUN2SOCKS_PROXY_AUTH.\n"
            "Config file: one 'option = value' per line (option names as "
            "above, no dashes),\n'#' comments; command-line flags override "
            "it. An empty value unsets an optional one.\n"
            "--print-config writes the settings in that syntax (also what "
            "--route fills in),\none line per option (dns-addr twice: IPv4, "
            "IPv6); the proxy URL without user and\npassword, and a line "
            "'# proxy-auth = yes|no' for whether credentials are set (one per\n"
            "proxy, in order).\n"
            "Signals: SIGINT/SIGTERM stop, SIGUSR1 logs counters.\n");
}
