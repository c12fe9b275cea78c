/*
 * The command line into the library's struct t2s_config and the program's
 * struct t2s_opts: --config FILE is applied first, then every other flag in
 * order (flags override the file), then the environment (env.h), then the
 * checks that need all of them (exactly one of --tun/--tun-fd, a proxy).
 * Never exits, never prints.
 */
#ifndef T2S_ARGS_H
#define T2S_ARGS_H

#include <stddef.h>

#include "config/config.h"
#include "opts.h"

enum t2s_args_result {
    T2S_ARGS_OK = 0,
    T2S_ARGS_HELP = 1,    /* --help: caller prints usage, exits 0 */
    T2S_ARGS_VERSION = 2, /* --version: caller prints version, exits 0 */
    T2S_ARGS_ERR = -1,    /* err holds one line; caller exits 2 */
};

/*
 * c and o must be initialised (t2s_config_init, t2s_opts_init). Returns
 * enum t2s_args_result; on T2S_ARGS_ERR, err holds one line that names no
 * password.
 */
int t2s_args_parse(struct t2s_config *c, struct t2s_opts *o, int argc,
                   char **argv, char *err, size_t errlen);

/* "--name" (without '=') is a known option that takes its value from the
 * next argument. */
int t2s_args_takes_value(const char *flag);

#endif
