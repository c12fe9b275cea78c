/*
 * Configuration: defaults, the proxy URL, a config file, environment and the
 * command line, all into one struct t2s_config. Pure parsing plus one
 * getaddrinfo() in t2s_config_resolve_proxy(); never exits, never logs.
 * Errors are returned as one line of text in err (no trailing newline),
 * never containing a password.
 */
#ifndef T2S_CONFIG_H
#define T2S_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "t2s.h" /* t2s_log_fn, t2s_socket_fn */

#define T2S_IFNAMSIZ 16

struct t2s_proxy {
    char host[256];  /* literal IPv4/IPv6 (no brackets) or a host name */
    uint16_t port;   /* host order, 1..65535 */
    char user[256];  /* username, user_len bytes, NUL-terminated */
    size_t user_len; /* 0: no credentials */
    char pass[256];  /* password, pass_len bytes, NUL-terminated */
    size_t pass_len;
    struct sockaddr_storage addr; /* filled by t2s_config_resolve_proxy */
    socklen_t addr_len;           /* 0 until resolved */
};

struct t2s_config {
    char tun_name[T2S_IFNAMSIZ];   /* --tun; empty when not given */
    int tun_fd;                    /* --tun-fd; -1 when not given */
    int mtu;                       /* --mtu, 576..65535 */
    char tun_ipv4[64];             /* --tun-ipv4 ADDR/PREFIX; empty: none */
    char tun_ipv6[64];             /* --tun-ipv6 ADDR/PREFIX; empty: none */
    struct t2s_proxy proxy;        /* --proxy, plus credentials */
    int proxy_given;               /* a proxy URL was set */
    int loglevel;                  /* --loglevel, enum t2s_log_level */
    unsigned connect_timeout_ms;   /* --connect-timeout SECONDS */
    unsigned idle_timeout_ms;      /* --idle-timeout SECONDS; 0: never */
    unsigned max_conns;            /* --max-conns; 0: from RLIMIT_NOFILE */
    uint64_t memory_limit;         /* --memory-limit bytes; 0: derived
                                      from the machine (mem.h) */
    uint32_t fwmark;               /* --fwmark; 0: none */
    char bind_iface[T2S_IFNAMSIZ]; /* --interface; empty: none */
    int socks_pipeline;            /* --socks-pipeline: send greeting, auth
                                      and request without waiting (1/0) */
    char auth_file[512];           /* --proxy-auth-file; empty: none */
    int route;                     /* --route: tun2socks-route up/down */
    char route_script[512];        /* --route-script; empty: default */
    int route_script_from_file;    /* route_script came from a config file:
                                      run as root only if root owns it */
    char user[64];                 /* --user; empty: "nobody" when root */

    /* UDP and DNS */
    int dns_mode;              /* --dns, enum t2s_dns_mode */
    uint8_t dns_addr4[4];      /* --dns-addr (IPv4 form) */
    uint8_t dns_addr6[16];     /* --dns-addr (IPv6 form) */
    int resolver_family;       /* --dns-resolver; 0: the query's own
                                  destination */
    uint8_t resolver_addr[16]; /* 4 or 16 bytes, network order */
    uint16_t resolver_port;    /* host order */
    uint8_t fake_net4[4];      /* --fake-ip-pool */
    unsigned fake_prefix4;
    uint8_t fake_net6[16];   /* --fake-ip-pool6 */
    unsigned fake_prefix6;   /* 0: no IPv6 fake addresses */
    unsigned udp_timeout_ms; /* --udp-timeout SECONDS */
    unsigned dns_timeout_ms; /* --dns-timeout SECONDS (port 53 flows) */
    unsigned max_udp;        /* --max-udp associations; 0: auto */

    /* Embedding only (t2s.h), no flag: t2s_config_set_log/_socket_hook */
    t2s_log_fn log_fn;       /* NULL: nothing is logged */
    void *log_user;          /* passed back to log_fn */
    t2s_socket_fn socket_fn; /* NULL: no hook */
    void *socket_user;       /* passed back to socket_fn */
};

enum t2s_dns_mode {
    T2S_DNS_RELAY = 0,  /* DNS is ordinary UDP */
    T2S_DNS_TCP = 1,    /* port 53 queries as DNS over TCP via CONNECT */
    T2S_DNS_FAKEIP = 2, /* queries to --dns-addr answered from a pool */
};

enum t2s_config_result {
    T2S_CONFIG_OK = 0,
    T2S_CONFIG_HELP = 1,    /* --help: caller prints usage, exits 0 */
    T2S_CONFIG_VERSION = 2, /* --version: caller prints version, exits 0 */
    T2S_CONFIG_ERR = -1,    /* err holds one line; caller exits 2 */
};

/* Defaults for every field. */
void t2s_config_init(struct t2s_config *c);

/*
 * socks5://[user[:pass]@]host:port, host an IPv4 literal, [IPv6] or a name.
 * user and pass may be percent-encoded. Only the parsed fields of p change
 * (host, port and, when present in the URL, user/pass).
 */
int t2s_config_parse_proxy_url(const char *url, struct t2s_proxy *p, char *err,
                               size_t errlen);

/*
 * Set one option by its long flag name without dashes ("proxy", "mtu", ...),
 * as the command line and the config file both do. Returns 0 or -1.
 */
int t2s_config_set(struct t2s_config *c, const char *key, const char *value,
                   char *err, size_t errlen);

/*
 * Config file: "key = value" lines, keys as t2s_config_set, '#' comments,
 * blank lines. Unknown keys and malformed lines are errors naming the line.
 */
int t2s_config_load_file(struct t2s_config *c, const char *path, char *err,
                         size_t errlen);

/*
 * Whole command line: --config FILE is applied first, then every other flag
 * in order (flags override the file). Afterwards the environment
 * (TUN2SOCKS_PROXY when no proxy was given, TUN2SOCKS_PROXY_AUTH=user:pass
 * and --proxy-auth-file when the URL had no credentials) and validation
 * (exactly one of --tun/--tun-fd, a proxy). Returns enum t2s_config_result.
 */
int t2s_config_from_args(struct t2s_config *c, int argc, char **argv, char *err,
                         size_t errlen);

/*
 * Resolve proxy.host into proxy.addr (numeric first, then getaddrinfo).
 * Rejects unspecified, multicast and broadcast addresses. Returns 0 or -1.
 */
int t2s_config_resolve_proxy(struct t2s_proxy *p, char *err, size_t errlen);

/*
 * Secrets in the process image: overwrites with '*' the password of every
 * proxy URL given to --proxy in argv (the rest stays readable in ps and
 * /proc/PID/cmdline). Call after t2s_config_from_args(): c holds a copy.
 */
void t2s_config_scrub_argv(int argc, char **argv);

/*
 * Removes TUN2SOCKS_PROXY_AUTH from the environment and zeroes its bytes
 * where they are (the initial environment block is what /proc/PID/environ
 * shows; unsetenv alone leaves it there), and masks the password of a URL
 * in TUN2SOCKS_PROXY the same way. Children inherit neither. Not thread-safe
 * (as setenv); call once, early, after t2s_config_from_args().
 */
void t2s_config_scrub_environment(void);

/*
 * A route-script taken from a config file runs as root only if the file and
 * every directory above it belong to root and no one else can write to them
 * (a sticky directory such as /tmp counts as safe). Returns 0 when that
 * holds, when the script did not come from a config file, or when not
 * running as root; -1 with one line in err otherwise.
 */
int t2s_config_check_route_script(const struct t2s_config *c, char *err,
                                  size_t errlen);

/* Usage text for --help. */
void t2s_config_usage(FILE *out, const char *argv0);

#endif
