/*
 * The library's option table: one entry per key of t2s_config_set(), with
 * its setter, its getter (the value written back in config-file syntax,
 * for --print-config and the defaults of --help) and the fields an empty
 * value in a config file resets. The program's own options (--route,
 * --user, ...) are in tun2socks/opts.h, not here.
 */
#ifndef T2S_OPTIONS_H
#define T2S_OPTIONS_H

#include <stddef.h>

struct t2s_config;

/* Longest timeout in seconds, but --idle-timeout's */
#define T2S_OPTIONS_TIMEOUT_MAX_S 86400u

struct t2s_option {
    const char *name; /* key, the long flag without dashes */
    const char *arg;  /* value name for --help; NULL: a yes/no flag */
    const char *help; /* --help text; the default is appended from
                         t2s_config_init() */
    int (*set)(struct t2s_config *c, const char *v, char *err, size_t errlen);
    /* Writes value number i (most options have one, dns-addr two) and
     * returns 1, or returns 0 when there is no value i. An unset optional
     * value is written as "". */
    int (*get)(const struct t2s_config *c, unsigned i, char *out,
               size_t outlen);
    size_t reset_off; /* fields "key =" in a config file resets to their */
    size_t reset_len; /* defaults; 0: the option needs a value */
};

/* A getter's definition: static int name(c, i, out, outlen). */
#define T2S_OPTIONS_GETTER(name)                                               \
    static int name(const struct t2s_config *c, unsigned i, char *out,         \
                    size_t outlen)

/* reset_off, reset_len of an option: the fields first..last. */
#define T2S_OPTIONS_RESET(first, last)                                         \
    offsetof(struct t2s_config, first),                                        \
        offsetof(struct t2s_config, last) +                                    \
            sizeof(((struct t2s_config *)0)->last) -                           \
            offsetof(struct t2s_config, first)

/* reset_off, reset_len of an option that needs a value. */
#define T2S_OPTIONS_REQUIRED 0, 0

/* The option named by name[0..n), or NULL. */
const struct t2s_option *t2s_options_find(const char *name, size_t n);

/* Entry i in --help order, NULL past the end. */
const struct t2s_option *t2s_options_at(size_t i);

/* Writes one value for a getter: snprintf, then returns 1. */
int t2s_options_put(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The UDP and DNS options (options_dns.c), part of the same table. */
extern const struct t2s_option t2s_options_dns[];
extern const size_t t2s_options_dns_count;

#endif
