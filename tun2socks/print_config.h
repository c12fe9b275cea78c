/*
 * --print-config: the effective settings (command line, config file,
 * environment and, with --route, what it implies) in config-file syntax,
 * one "key = value" line per option of both tables (dns-addr twice: its
 * IPv4 and its IPv6 form), so that the output read back as a config file
 * gives the same settings. An unset optional value is an empty "key =".
 * Never a secret: the proxy URL is written without user and password, and
 * a comment line "# proxy-auth = yes|no" says whether credentials are set.
 * scripts/tun2socks-route reads this instead of parsing the file itself.
 */
#ifndef T2S_PRINT_CONFIG_H
#define T2S_PRINT_CONFIG_H

#include <stdio.h>

#include "config/config.h"
#include "opts.h"

/* Writes the lines to out. Returns 0, or -1 when out could not take them. */
int t2s_print_config_write(FILE *out, const struct t2s_config *c,
                           const struct t2s_opts *o);

#endif
