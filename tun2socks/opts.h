/*
 * The program's own options, which the library does not know: --user,
 * --route, --route-script, --print-config, --sock-path, and the
 * command-line-only
 * --config, --help, --version. The command line and the config file look
 * a key up here when the library's table (lib/config/options.h) does not
 * have it; --help and --print-config list both tables.
 */
#ifndef T2S_OPTS_H
#define T2S_OPTS_H

#include <stddef.h>

struct t2s_opts {
    int route;                  /* --route: tun2socks-route up/down */
    char route_script[512];     /* --route-script; empty: default */
    int route_script_from_file; /* route_script came from a config file:
                                   run as root only if root owns it */
    char user[64];              /* --user; empty: "nobody" when root */
    int print_config;           /* --print-config */
    char sock_path[108];        /* --sock-path; empty: none (sun_path) */
};

enum t2s_opts_where {
    T2S_OPTS_FILE = 1,    /* also a config-file key (else command line only) */
    T2S_OPTS_SPECIAL = 2, /* --config/--help/--version: args.c handles it */
};

struct t2s_opts_entry {
    const char *name; /* the long flag without dashes */
    const char *arg;  /* value name for --help; NULL: a flag */
    const char *help; /* --help text */
    unsigned where;   /* enum t2s_opts_where bits */
    int (*set)(struct t2s_opts *o, const char *v, char *err, size_t errlen);
    /* the value as set() reads it back ("" when unset); NULL: not shown
     * by --print-config */
    void (*get)(const struct t2s_opts *o, char *out, size_t outlen);
};

/* Nothing set. */
void t2s_opts_init(struct t2s_opts *o);

/* The entry named by name[0..n), or NULL. */
const struct t2s_opts_entry *t2s_opts_find(const char *name, size_t n);

/* Entry i in --help order, NULL past the end. */
const struct t2s_opts_entry *t2s_opts_at(size_t i);

/* Sets one option by key (as --key VALUE). Returns 0 or -1 with one line
 * in err. */
int t2s_opts_set(struct t2s_opts *o, const char *key, const char *value,
                 char *err, size_t errlen);

/*
 * A config-file key: T2S_CONFIG_FILE_UNKNOWN (config_file.h) when it is no
 * file key of this table; 0 or -1 with one line in err otherwise. An empty
 * value unsets route-script and user. Sets route_script_from_file. ctx is
 * a struct t2s_opts (a t2s_config_file_key_fn).
 */
int t2s_opts_file_key(void *ctx, const char *key, const char *value, char *err,
                      size_t errlen);

#endif
