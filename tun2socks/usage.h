/* --help: the usage text, from the option tables and their defaults. */
#ifndef T2S_USAGE_H
#define T2S_USAGE_H

#include <stdio.h>

void t2s_usage_print(FILE *out, const char *argv0);

#endif
