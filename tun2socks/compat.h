/*
 * The command line of badvpn's tun2socks as shadowsocks-android runs it
 * (its libtun2socks.so executable): each flag an alias of one of our
 * options, so the app can run this program unchanged. Command line only,
 * not config-file keys; --help lists them under their own heading and
 * --print-config shows the options they set. --sock-path is a program
 * option of its own (opts.h), --loglevel ours with badvpn's values too.
 */
#ifndef T2S_COMPAT_H
#define T2S_COMPAT_H

#include <stddef.h>

#include "config/config.h"
#include "opts.h"

struct t2s_compat_entry {
    const char *name; /* the flag without dashes */
    const char *arg;  /* value name for --help; NULL: takes none */
    const char *help; /* what it maps to, for --help */
    int (*set)(struct t2s_config *c, const char *v, char *err, size_t errlen);
};

/* The alias named by name[0..n), or NULL. */
const struct t2s_compat_entry *t2s_compat_find(const char *name, size_t n);

/* Alias i in --help order, NULL past the end. */
const struct t2s_compat_entry *t2s_compat_at(size_t i);

/* A --loglevel value in badvpn's words (none, error, warning, notice,
 * info, debug, 0..5) as ours; any other value unchanged. */
const char *t2s_compat_loglevel(const char *v);

#endif
