/* The command line; see args.h. */
#include <string.h>

#include "args.h"
#include "compat.h"
#include "config/options.h"
#include "config/value.h"
#include "env.h"

/* One option of either table (library first). */
struct flag {
    const struct t2s_option *lib;
    const struct t2s_opts_entry *prog;
    const struct t2s_compat_entry *compat; /* badvpn's flags (compat.h) */
    const char *name;
    const char *arg; /* NULL: a yes/no flag */
};

/* Splits "--name[=value]"; 0 when no table has a settable name. */
static int
lookup_flag(const char *a, struct flag *f, const char **inline_val)
{
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);

    *inline_val = eq != NULL ? eq + 1 : NULL;
    memset(f, 0, sizeof(*f));
    f->lib = t2s_options_find(name, n);
    if (f->lib != NULL) {
        f->name = f->lib->name;
        f->arg = f->lib->arg;
        return 1;
    }
    f->compat = t2s_compat_find(name, n);
    if (f->compat != NULL) {
        f->name = f->compat->name;
        f->arg = f->compat->arg;
        return 1;
    }
    f->prog = t2s_opts_find(name, n);
    if (f->prog == NULL || f->prog->set == NULL)
        return 0; /* --help=x and the like: unknown, as always */
    f->name = f->prog->name;
    f->arg = f->prog->arg;
    return 1;
}

int
t2s_args_takes_value(const char *flag)
{
    struct flag f;
    const char *val;

    if (strcmp(flag, "--config") == 0)
        return 1;
    return strncmp(flag, "--", 2) == 0 && strchr(flag, '=') == NULL &&
           lookup_flag(flag, &f, &val) && f.arg != NULL;
}

static int
is_flag(const char *a, const char *longname, const char *shortname)
{
    return strcmp(a, longname) == 0 ||
           (shortname != NULL && strcmp(a, shortname) == 0);
}

/* --config FILE / --config=FILE, all of them, before any other flag. */
static int
load_config_files(struct t2s_config *c, struct t2s_opts *o, int argc,
                  char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;

        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return t2s_value_err(err, errlen, "--config needs a value");
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
        if (path != NULL && t2s_config_file_read(c, path, t2s_opts_file_key, o,
                                                 err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The flag at argv[*i] (and its value); advances *i past a value. */
static int
apply_flag(struct t2s_config *c, struct t2s_opts *o, int argc, char **argv,
           int *i, char *err, size_t errlen)
{
    const char *a = argv[*i], *val;
    char sub[400];
    struct flag f;
    int rc;

    if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
        /* not echoed: it may be a URL with a password */
        return t2s_value_err(err, errlen,
                             "unexpected argument #%d (options start with "
                             "--; the proxy URL goes after --proxy)",
                             *i);
    if (!lookup_flag(a, &f, &val)) {
        const char *eq = strchr(a, '=');

        return t2s_value_err(err, errlen, "unknown option '%.*s'",
                             (int)(eq != NULL ? eq - a : 64), a);
    }
    if (val == NULL && f.arg == NULL) {
        val = "yes";
    } else if (val == NULL) {
        if (*i + 1 >= argc)
            return t2s_value_err(err, errlen, "--%s needs a value", f.name);
        val = argv[++*i];
    }
    if (f.lib != NULL && strcmp(f.lib->name, "loglevel") == 0)
        val = t2s_compat_loglevel(val);
    if (f.lib != NULL)
        rc = f.lib->set(c, val, sub, sizeof(sub));
    else if (f.compat != NULL)
        rc = f.compat->set(c, val, sub, sizeof(sub));
    else
        rc = f.prog->set(o, val, sub, sizeof(sub));
    return rc < 0 ? t2s_value_err(err, errlen, "%s", sub) : 0;
}

/* What no single option can check. */
static int
check_combination(const struct t2s_config *c, const struct t2s_opts *o,
                  char *err, size_t errlen)
{
    int tuns =
        (c->tun_name[0] != '\0') + (c->tun_fd >= 0) + (o->sock_path[0] != '\0');

    if (tuns > 1)
        return t2s_value_err(err, errlen,
                             "give one of --tun, --tun-fd and --sock-path");
    if (tuns == 0)
        return t2s_value_err(err, errlen,
                             "no TUN device: give --tun NAME, --tun-fd N or "
                             "--sock-path PATH");
    if (!c->proxy_given)
        return t2s_value_err(err, errlen,
                             "no proxy: give --proxy socks5://host:port or "
                             "set TUN2SOCKS_PROXY");
    if (o->route && c->tun_name[0] == '\0')
        return t2s_value_err(err, errlen,
                             "--route needs --tun (with --tun-fd or "
                             "--sock-path the owner of the descriptor does "
                             "the routing)");
    if (c->tun_name[0] == '\0' &&
        (c->tun_ipv4[0] != '\0' || c->tun_ipv6[0] != '\0'))
        return t2s_value_err(err, errlen,
                             "--tun-ipv4/--tun-ipv6 apply only to --tun (the "
                             "owner of a --tun-fd configures it)");
    return 0;
}

/*
 * --proxy on the command line replaces the config file's proxies (the
 * setter appended them after the file's n): the first flag's URL takes
 * the first slot, in place, so credentials the file gave it stay unless
 * the flag's URL has its own, as with one proxy.
 */
static void
drop_file_proxies(struct t2s_config *c, unsigned n)
{
    unsigned k = c->proxy_count - n;
    struct t2s_proxy file_first;

    if (n == 0 || k == 0)
        return;
    file_first = c->proxy;
    c->proxy = *t2s_config_proxy(c, n);
    if (c->proxy.user_len == 0) {
        memcpy(c->proxy.user, file_first.user, sizeof(c->proxy.user));
        c->proxy.user_len = file_first.user_len;
        memcpy(c->proxy.pass, file_first.pass, sizeof(c->proxy.pass));
        c->proxy.pass_len = file_first.pass_len;
    }
    explicit_bzero(&file_first, sizeof(file_first));
    for (unsigned i = 1; i < k; i++)
        *t2s_config_proxy_mut(c, i) = *t2s_config_proxy_mut(c, n + i);
    for (unsigned i = k; i < c->proxy_count; i++)
        explicit_bzero(t2s_config_proxy_mut(c, i), sizeof(struct t2s_proxy));
    c->proxy_count = k;
}

int
t2s_args_parse(struct t2s_config *c, struct t2s_opts *o, int argc, char **argv,
               char *err, size_t errlen)
{
    unsigned file_proxies;
    int i;

    /* --help/--version win over everything; --config goes first. */
    for (i = 1; i < argc; i++) {
        if (is_flag(argv[i], "--help", "-h"))
            return T2S_ARGS_HELP;
        if (is_flag(argv[i], "--version", "-V"))
            return T2S_ARGS_VERSION;
    }
    if (load_config_files(c, o, argc, argv, err, errlen) < 0)
        return T2S_ARGS_ERR;
    file_proxies = c->proxy_count;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0)
            i++;
        else if (strncmp(argv[i], "--config=", 9) == 0)
            continue;
        else if (apply_flag(c, o, argc, argv, &i, err, errlen) < 0)
            return T2S_ARGS_ERR;
    }
    drop_file_proxies(c, file_proxies);
    if (t2s_env_apply(c, err, errlen) < 0 ||
        check_combination(c, o, err, errlen) < 0)
        return T2S_ARGS_ERR;
    return T2S_ARGS_OK;
}
