/*
 * The library's configuration: struct t2s_config, its defaults and the
 * keys of t2s_config_set() (the option table is options.h). Pure parsing:
 * never exits, never logs. Errors are returned as one line of text in err
 * (no trailing newline), never containing a password. The command line,
 * the environment and the program's own options (--route, --user, ...)
 * belong to the program (tun2socks/).
 */
#ifndef T2S_CONFIG_H
#define T2S_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* not needed here; tcp_session.c, udp_assoc.c rely on it */

#include "config/config_file.h"
#include "config/proxy_addr.h"
#include "config/proxy_url.h"

#include "t2s.h" /* t2s_log_fn, t2s_socket_fn */

#define T2S_IFNAMSIZ 16
#define T2S_PROXY_MAX 16 /* --proxy given at most this often */

struct t2s_protect; /* upstream/protect.h */

/* --socks-pipeline auto: greeting and request in one write to a proxy that
 * has answered "no authentication" before and kept up with it since. */
#define T2S_SOCKS_PIPELINE_AUTO 2

struct t2s_config {
    char tun_name[T2S_IFNAMSIZ]; /* --tun; empty when not given */
    int tun_fd;                  /* --tun-fd; -1 when not given */
    int mtu;                     /* --mtu, 576..65535 */
    char tun_ipv4[64];           /* --tun-ipv4 ADDR/PREFIX; empty: none */
    char tun_ipv6[64];           /* --tun-ipv6 ADDR/PREFIX; empty: none */
    struct t2s_proxy proxy;      /* the first --proxy, plus credentials */
    int proxy_given;             /* a proxy URL was set */
    /* The further --proxy values (proxy_more[i] is proxy number i + 1):
     * proxy stays where one-proxy code has always found it; the list is
     * read with t2s_config_proxy(). proxy..proxy_count are contiguous:
     * "proxy =" resets them all. */
    struct t2s_proxy proxy_more[T2S_PROXY_MAX - 1];
    unsigned proxy_count;          /* proxies set, 0..T2S_PROXY_MAX */
    int proxy_policy;              /* --proxy-policy, enum t2s_proxy_policy */
    int loglevel;                  /* --loglevel, enum t2s_log_level */
    unsigned connect_timeout_ms;   /* --connect-timeout SECONDS */
    unsigned idle_timeout_ms;      /* --idle-timeout SECONDS; 0: never */
    unsigned max_conns;            /* --max-conns; 0: from RLIMIT_NOFILE */
    uint64_t memory_limit;         /* --memory-limit bytes; 0: derived
                                      from the machine (mem.h) */
    uint32_t fwmark;               /* --fwmark; 0: none */
    char bind_iface[T2S_IFNAMSIZ]; /* --interface; empty: none */
    int socks_pipeline;            /* --socks-pipeline: send greeting, auth
                                      and request without waiting (1/0), or
                                      T2S_SOCKS_PIPELINE_AUTO (the default):
                                      learned per proxy (proxy_pool.h) */
    char auth_file[512];           /* --proxy-auth-file; empty: none. The
                                      program reads it (tun2socks/env.h) */

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
    int gw_family;           /* --dns-gateway; 0: none */
    uint8_t gw_addr[16];     /* 4 or 16 bytes, network order */
    uint16_t gw_port;        /* host order */

    /* Guards for VPN apps (api/, upstream/protect.h) */
    char protect_path[108]; /* --protect-path (sun_path); empty: none */
    char stats_socket[108]; /* --stats-socket (sun_path); empty: none */

    /* Embedding only (t2s.h), no flag: t2s_config_set_log/_socket_hook */
    t2s_log_fn log_fn;       /* NULL: nothing is logged */
    void *log_user;          /* passed back to log_fn */
    t2s_socket_fn socket_fn; /* NULL: no hook */
    void *socket_user;       /* passed back to socket_fn */

    /* Internal, no flag: the instance's protect_path client, set in its
     * own copy by t2s_create() when protect_path is; NULL: none */
    struct t2s_protect *protect;
};

enum t2s_dns_mode {
    T2S_DNS_RELAY = 0,  /* DNS is ordinary UDP */
    T2S_DNS_TCP = 1,    /* port 53 queries as DNS over TCP via CONNECT */
    T2S_DNS_FAKEIP = 2, /* queries to --dns-addr answered from a pool */
};

enum t2s_proxy_policy {
    T2S_PROXY_FAILOVER = 0,    /* the first proxy that is up */
    T2S_PROXY_ROUND_ROBIN = 1, /* the next proxy that is up */
};

/* Proxy number i (0 = c->proxy) of the list, i < T2S_PROXY_MAX. */
static inline const struct t2s_proxy *
t2s_config_proxy(const struct t2s_config *c, unsigned i)
{
    return i == 0 ? &c->proxy : &c->proxy_more[i - 1];
}

/* The same, writable (the program fills in credentials and addresses). */
static inline struct t2s_proxy *
t2s_config_proxy_mut(struct t2s_config *c, unsigned i)
{
    return i == 0 ? &c->proxy : &c->proxy_more[i - 1];
}

/* Defaults for every field: the one place they are written. */
void t2s_config_init(struct t2s_config *c);

/* A config with the defaults (calloc + t2s_config_init); NULL if out of
 * memory. */
struct t2s_config *t2s_config_new(void);

/* Zeroes the credentials, then frees c. NULL is fine. */
void t2s_config_free(struct t2s_config *c);

/* Zeroes every proxy's password (the rest stays). */
void t2s_config_forget_passwords(struct t2s_config *c);

/* Zeroes every proxy (credentials too) and empties the list. */
void t2s_config_forget_proxies(struct t2s_config *c);

/*
 * Set one option by its long flag name without dashes ("proxy", "mtu", ...),
 * as the command line and the config file both do. Returns 0 or -1.
 * "proxy" appends to the list (at most T2S_PROXY_MAX); t2s_config_reset()
 * ("proxy =" in a file) empties it.
 */
int t2s_config_set(struct t2s_config *c, const char *key, const char *value,
                   char *err, size_t errlen);

/*
 * Writes value number i of key in config-file syntax (t2s_config_set()
 * reads it back to the same setting; "" for an unset optional value; the
 * proxy URL without credentials). Returns 1, or 0 when key has no value i
 * (dns-addr has two, proxy one per proxy, every other key one) or is
 * unknown.
 */
int t2s_config_get(const struct t2s_config *c, const char *key, unsigned i,
                   char *out, size_t outlen);

/*
 * "key =" with an empty value in a config file: an optional key (tun,
 * tun-fd, tun-ipv4, tun-ipv6, proxy, proxy-auth-file, memory-limit,
 * interface, dns-resolver, dns-gateway) goes back to its default (unset).
 * Returns 0, or -1 with one line in err when key needs a value.
 */
int t2s_config_reset(struct t2s_config *c, const char *key, char *err,
                     size_t errlen);

#endif
