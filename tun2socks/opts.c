/* The program's option table; see opts.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config/config_file.h"
#include "config/value.h"
#include "opts.h"

void
t2s_opts_init(struct t2s_opts *o)
{
    memset(o, 0, sizeof(*o));
}

static int
set_route(struct t2s_opts *o, const char *v, char *err, size_t errlen)
{
    if (t2s_value_bool(v, &o->route) < 0)
        return t2s_value_err(err, errlen, "bad --route '%.32s' (yes/no)", v);
    return 0;
}

static void
get_route(const struct t2s_opts *o, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", o->route ? "yes" : "no");
}

static int
set_route_script(struct t2s_opts *o, const char *v, char *err, size_t errlen)
{
    if (*v != '/' || strlen(v) >= sizeof(o->route_script))
        return t2s_value_err(err, errlen,
                             "--route-script needs an absolute path");
    strcpy(o->route_script, v);
    o->route_script_from_file = 0; /* t2s_opts_file_key sets it */
    return 0;
}

static void
get_route_script(const struct t2s_opts *o, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", o->route_script);
}

/* A user name as useradd accepts it; looked up by privsep.c. */
static int
set_user(struct t2s_opts *o, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    if (n == 0 || n >= sizeof(o->user) || v[0] == '-')
        return t2s_value_err(err, errlen, "bad --user '%.32s'", v);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];

        if (!(isalnum(ch) || ch == '_' || ch == '-' || ch == '.' ||
              (ch == '$' && i == n - 1)))
            return t2s_value_err(err, errlen, "bad --user '%.32s'", v);
    }
    memcpy(o->user, v, n + 1);
    return 0;
}

static void
get_user(const struct t2s_opts *o, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", o->user);
}

static int
set_print_config(struct t2s_opts *o, const char *v, char *err, size_t errlen)
{
    if (t2s_value_bool(v, &o->print_config) < 0)
        return t2s_value_err(err, errlen, "bad --print-config '%.32s' (yes/no)",
                             v);
    return 0;
}

/* sun_path's size bounds it; relative to the working directory. */
static int
set_sock_path(struct t2s_opts *o, const char *v, char *err, size_t errlen)
{
    if (*v == '\0' || strlen(v) >= sizeof(o->sock_path))
        return t2s_value_err(err, errlen, "bad --sock-path (1..%zu bytes)",
                             sizeof(o->sock_path) - 1);
    strcpy(o->sock_path, v);
    return 0;
}

static void
get_sock_path(const struct t2s_opts *o, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", o->sock_path);
}

static const struct t2s_opts_entry entries[] = {
    {"user", "NAME",
     "started as root: handle packets as NAME after setup; root keeps root",
     T2S_OPTS_FILE, set_user, get_user},
    {"route", NULL,
     "route the whole machine into --tun with tun2socks-route at start and "
     "restore it at exit",
     T2S_OPTS_FILE, set_route, get_route},
    {"route-script", "PATH", "the tun2socks-route script --route runs",
     T2S_OPTS_FILE, set_route_script, get_route_script},
    {"sock-path", "PATH",
     "instead of --tun/--tun-fd: listen on a Unix socket at PATH and take "
     "the TUN descriptor a VPN app sends (SCM_RIGHTS), a new one each time "
     "it reconnects",
     T2S_OPTS_FILE, set_sock_path, get_sock_path},
    {"print-config", NULL,
     "print the settings as config-file lines, without secrets, and exit", 0,
     set_print_config, NULL},
    {"config", "FILE", "read options from FILE first", T2S_OPTS_SPECIAL, NULL,
     NULL},
    {"help", NULL, "this text", T2S_OPTS_SPECIAL, NULL, NULL},
    {"version", NULL, "print the version", T2S_OPTS_SPECIAL, NULL, NULL},
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

const struct t2s_opts_entry *
t2s_opts_at(size_t i)
{
    return i < N_ENTRIES ? &entries[i] : NULL;
}

const struct t2s_opts_entry *
t2s_opts_find(const char *name, size_t n)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strlen(entries[i].name) == n &&
            strncmp(entries[i].name, name, n) == 0)
            return &entries[i];
    return NULL;
}

int
t2s_opts_set(struct t2s_opts *o, const char *key, const char *value, char *err,
             size_t errlen)
{
    const struct t2s_opts_entry *e = t2s_opts_find(key, strlen(key));

    if (e == NULL || e->set == NULL)
        return t2s_value_err(err, errlen, "unknown option '%.64s'", key);
    return e->set(o, value, err, errlen);
}

int
t2s_opts_file_key(void *ctx, const char *key, const char *value, char *err,
                  size_t errlen)
{
    struct t2s_opts *o = ctx;
    const struct t2s_opts_entry *e = t2s_opts_find(key, strlen(key));

    if (strcmp(key, "config") == 0)
        return t2s_value_err(err, errlen, "nested config not allowed");
    if (e == NULL || !(e->where & T2S_OPTS_FILE))
        return T2S_CONFIG_FILE_UNKNOWN;
    if (strcmp(key, "route-script") == 0 && *value == '\0') {
        o->route_script[0] = '\0';
        o->route_script_from_file = 0;
        return 0;
    }
    if (strcmp(key, "sock-path") == 0 && *value == '\0') {
        o->sock_path[0] = '\0';
        return 0;
    }
    if (strcmp(key, "user") == 0 && *value == '\0') {
        o->user[0] = '\0';
        return 0;
    }
    if (e->set(o, value, err, errlen) < 0)
        return -1;
    if (strcmp(key, "route-script") == 0)
        o->route_script_from_file = 1;
    return 0;
}
