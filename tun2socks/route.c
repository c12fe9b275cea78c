/* --route: run tun2socks-route up/down around the program's lifetime. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "route.h"
#include "route_trust.h"

/* CMakeLists.txt: the installed tun2socks-route */
const char t2s_route_default_script[] = T2S_ROUTE_SCRIPT;
/* What --route implies when not given (--help and --print-config show
 * them from here). */
#define DEFAULT_FWMARK "0x7331"
#define DEFAULT_TUN_IPV4 "198.18.0.1/30"
#define DEFAULT_TUN_IPV6 "fd00:18::1/64"
/* tun2socks-route's --persist-dir default */
#define DEFAULT_PERSIST_DIR "/var/lib/tun2socks-route"
#define MAX_ARGS (32 + 2 * T2S_PROXY_MAX)

static const char *
script_path(const struct t2s_opts *o)
{
    const char *env = getenv("TUN2SOCKS_ROUTE_SCRIPT");

    if (o->route_script[0] != '\0')
        return o->route_script;
    return env != NULL && *env == '/' ? env : t2s_route_default_script;
}

/* Runs the script with argv[1..]; returns its exit status or -1. */
static int
run_script(const struct t2s_opts *o, const char **argv)
{
    /* execv() takes char *const[] but never writes the strings */
    union {
        const char **c;
        char *const *v;
    } args = {.c = argv};
    pid_t pid, w;
    char why[300];
    int status;

    argv[0] = script_path(o);
    /* checked at every run: the file could have changed since start */
    if (t2s_route_trust_check(o, why, sizeof(why)) < 0) {
        t2s_err("%s", why);
        return -1;
    }
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        closefrom(3); /* the TUN, the loop's descriptors */
        execv(argv[0], args.v);
        fprintf(stderr, "tun2socks: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* First nameserver in the resolv.conf at path that is not loopback,
 * link-local or our own. */
static int
resolver_from(const char *path, const struct t2s_config *c, char *out,
              size_t outlen)
{
    char line[512], addr[INET6_ADDRSTRLEN + 1];
    uint8_t bin[16];
    FILE *f = fopen(path, "re");
    int found = 0;

    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, " nameserver %46s", addr) != 1)
            continue;
        if (inet_pton(AF_INET, addr, bin) == 1)
            found = bin[0] != 127 && memcmp(bin, c->dns_addr4, 4) != 0;
        else if (inet_pton(AF_INET6, addr, bin) == 1)
            found = memcmp(bin, &in6addr_loopback, 16) != 0 &&
                    memcmp(bin, c->dns_addr6, 16) != 0 &&
                    !(bin[0] == 0xfe && (bin[1] & 0xc0) == 0x80);
        if (found)
            snprintf(out, outlen, strchr(addr, ':') ? "[%s]" : "%s", addr);
    }
    fclose(f);
    return found;
}

/*
 * The resolver --dns tcp forwards to: from the copy of resolv.conf the
 * script kept when an earlier run (killed, not taken down) pointed
 * /etc/resolv.conf at the TUN, else from /etc/resolv.conf itself.
 */
static int
system_resolver(const struct t2s_config *c, char *out, size_t outlen)
{
    const char *dir = getenv("TUN2SOCKS_ROUTE_PERSIST_DIR");
    char kept[600];

    if (dir == NULL || *dir != '/')
        dir = DEFAULT_PERSIST_DIR;
    snprintf(kept, sizeof(kept), "%s/%s/resolv.orig", dir, c->tun_name);
    return resolver_from(kept, c, out, outlen) ||
           resolver_from("/etc/resolv.conf", c, out, outlen);
}

/* No "down" here for the leftovers of a run that was killed: its kill
 * switch must keep traffic blocked until our up --replace takes over (the
 * same settings: it only re-attaches the routes to the new TUN; others:
 * the script replaces the old state). */
int
t2s_route_defaults(struct t2s_config *c, char *err, size_t errlen)
{
    char resolver[INET6_ADDRSTRLEN + 3], sub[256];

    if (c->fwmark == 0 &&
        t2s_config_set(c, "fwmark", DEFAULT_FWMARK, err, errlen) < 0)
        return -1;
    if (c->tun_ipv4[0] == '\0' && c->tun_ipv6[0] == '\0' &&
        (t2s_config_set(c, "tun-ipv4", DEFAULT_TUN_IPV4, err, errlen) < 0 ||
         t2s_config_set(c, "tun-ipv6", DEFAULT_TUN_IPV6, err, errlen) < 0))
        return -1;
    if (c->dns_mode == T2S_DNS_TCP && c->resolver_family == 0) {
        if (!system_resolver(c, resolver, sizeof(resolver))) {
            snprintf(err, errlen,
                     "--route with --dns tcp: no nameserver in "
                     "/etc/resolv.conf to forward to; give --dns-resolver");
            return -1;
        }
        if (t2s_config_set(c, "dns-resolver", resolver, sub, sizeof(sub)) < 0) {
            snprintf(err, errlen, "--route: %s", sub);
            return -1;
        }
    }
    return 0;
}

void
t2s_route_down(const struct t2s_config *c, const struct t2s_opts *o)
{
    const char *argv[] = {NULL, "down", "--tun", c->tun_name, NULL};

    if (run_script(o, argv) != 0)
        t2s_warn("'%s down --tun %s' failed: routing may not be restored",
                 script_path(o), c->tun_name);
}

int
t2s_route_up(const struct t2s_config *c, const struct t2s_opts *o, char *err,
             size_t errlen)
{
    char pid[24], mark[16], proxy[T2S_PROXY_MAX][NI_MAXHOST],
        dns4[INET_ADDRSTRLEN], dns6[INET6_ADDRSTRLEN];
    const char *argv[MAX_ARGS];
    int n = 1, rc;
    static const char *const modes[] = {"relay", "tcp", "fake-ip"};

    for (unsigned i = 0; i < c->proxy_count || i == 0; i++) {
        const struct t2s_proxy *p = t2s_config_proxy(c, i);

        if (getnameinfo((const struct sockaddr *)&p->addr, p->addr_len,
                        proxy[i], sizeof(proxy[i]), NULL, 0,
                        NI_NUMERICHOST) != 0) {
            snprintf(err, errlen, "--route: the proxy address is not resolved");
            return -1;
        }
    }
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    snprintf(mark, sizeof(mark), "0x%x", (unsigned)c->fwmark);
    inet_ntop(AF_INET, c->dns_addr4, dns4, sizeof(dns4));
    inet_ntop(AF_INET6, c->dns_addr6, dns6, sizeof(dns6));

    argv[n++] = "up";
    argv[n++] = "--no-start";
    argv[n++] = "--replace";
    argv[n++] = "--tun";
    argv[n++] = c->tun_name;
    argv[n++] = "--pid";
    argv[n++] = pid;
    argv[n++] = "--fwmark";
    argv[n++] = mark;
    /* every proxy stays direct */
    for (unsigned i = 0; i < c->proxy_count || i == 0; i++) {
        argv[n++] = "--proxy-addr";
        argv[n++] = proxy[i];
    }
    if (c->tun_ipv6[0] == '\0') {
        argv[n++] = "--tun-ipv6";
        argv[n++] = "none";
    }
    argv[n++] = "--dns";
    argv[n++] = modes[c->dns_mode];
    argv[n++] = "--dns-addr";
    argv[n++] = dns4;
    if (c->tun_ipv6[0] != '\0') {
        argv[n++] = "--dns-addr";
        argv[n++] = dns6;
    }
    argv[n] = NULL;
    rc = run_script(o, argv);
    if (rc != 0) {
        snprintf(err, errlen, "--route: '%s up' failed (%s %d)", script_path(o),
                 rc < 0 ? "could not run it," : "exit", rc);
        return -1;
    }
    return 0;
}
