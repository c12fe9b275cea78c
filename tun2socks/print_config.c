/* --print-config; see print_config.h. */
#include <stdio.h>

#include "config/options.h"
#include "t2s.h" /* T2S_VERSION */
#include "print_config.h"

#define VALUE_MAX 600 /* the longest value: a path of 511 bytes */

/* "key = value", or "key =" for an unset value */
static void
write_line(FILE *out, const char *key, const char *value)
{
    fprintf(out, "%s =%s%s\n", key, value[0] != '\0' ? " " : "", value);
}

static void
write_library_options(FILE *out, const struct t2s_config *c)
{
    const struct t2s_option *o;
    char v[VALUE_MAX];

    for (size_t i = 0; (o = t2s_options_at(i)) != NULL; i++)
        for (unsigned k = 0; o->get(c, k, v, sizeof(v)); k++)
            write_line(out, o->name, v);
}

static void
write_program_options(FILE *out, const struct t2s_opts *o)
{
    const struct t2s_opts_entry *e;
    char v[VALUE_MAX];

    for (size_t i = 0; (e = t2s_opts_at(i)) != NULL; i++) {
        if (e->get == NULL)
            continue;
        e->get(o, v, sizeof(v));
        write_line(out, e->name, v);
    }
}

int
t2s_print_config_write(FILE *out, const struct t2s_config *c,
                       const struct t2s_opts *o)
{
    fprintf(out, "# tun2socks %s: effective configuration, no secrets\n",
            T2S_VERSION);
    /* one line per proxy, in the order of the proxy lines */
    for (unsigned i = 0; i < c->proxy_count || i == 0; i++)
        fprintf(out, "# proxy-auth = %s\n",
                t2s_config_proxy(c, i)->user_len > 0 ? "yes" : "no");
    write_library_options(out, c);
    write_program_options(out, o);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
