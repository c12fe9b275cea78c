/* The config file reader; see config_file.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/options.h"
#include "config/value.h"

#define LINE_MAX_LEN 1024

static char *
trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int
t2s_config_file_shared(int fd)
{
    struct stat st;

    return fstat(fd, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

/* One "key = value" (already trimmed): the library's key, else other's. */
static int
apply_key(struct t2s_config *c, const char *k, const char *v,
          t2s_config_file_key_fn other, void *ctx, char *err, size_t errlen)
{
    int rc;

    if (t2s_options_find(k, strlen(k)) != NULL)
        return *v == '\0' ? t2s_config_reset(c, k, err, errlen)
                          : t2s_config_set(c, k, v, err, errlen);
    rc =
        other != NULL ? other(ctx, k, v, err, errlen) : T2S_CONFIG_FILE_UNKNOWN;
    if (rc == T2S_CONFIG_FILE_UNKNOWN)
        return t2s_value_err(err, errlen, "unknown option '%.64s'", k);
    return rc;
}

/* One line; returns 0 or -1 with "path:line: why" in err. Sets
 * *has_password when it gave a proxy URL with a password. */
static int
apply_line(struct t2s_config *c, char *line, const char *path, unsigned lineno,
           t2s_config_file_key_fn other, void *ctx, int *has_password,
           char *err, size_t errlen)
{
    char sub[256];
    char *k = trim(line), *v, *eq;

    if (*k == '\0' || *k == '#')
        return 0;
    eq = strchr(k, '=');
    if (eq == NULL)
        return t2s_value_err(err, errlen, "%.200s:%u: expected 'key = value'",
                             path, lineno);
    *eq = '\0';
    k = trim(k);
    v = trim(eq + 1);
    if (apply_key(c, k, v, other, ctx, sub, sizeof(sub)) < 0)
        return t2s_value_err(err, errlen, "%.200s:%u: %s", path, lineno, sub);
    if (strcmp(k, "proxy") == 0 && c->proxy_count > 0 &&
        t2s_config_proxy(c, c->proxy_count - 1)->pass_len > 0)
        *has_password = 1;
    return 0;
}

/* The lines of f; sets *has_password when a proxy URL carried one. */
static int
read_lines(struct t2s_config *c, FILE *f, const char *path,
           t2s_config_file_key_fn other, void *ctx, int *has_password,
           char *err, size_t errlen)
{
    char line[LINE_MAX_LEN + 2];
    unsigned lineno = 0;
    int rc = 0;

    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f))
            rc = t2s_value_err(err, errlen, "%.200s:%u: line too long", path,
                               lineno);
        else
            rc = apply_line(c, line, path, lineno, other, ctx, has_password,
                            err, errlen);
    }
    explicit_bzero(line, sizeof(line));
    if (rc == 0 && ferror(f))
        rc = t2s_value_err(err, errlen, "cannot read config file %.200s: %s",
                           path, strerror(errno));
    return rc;
}

int
t2s_config_file_read(struct t2s_config *c, const char *path,
                     t2s_config_file_key_fn other, void *ctx, char *err,
                     size_t errlen)
{
    char iobuf[4096]; /* stdio's buffer, cleared with the rest */
    FILE *f = fopen(path, "re");
    int rc, has_password = 0;

    if (f == NULL)
        return t2s_value_err(err, errlen, "cannot read config file %.200s: %s",
                             path, strerror(errno));
    setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
    rc = read_lines(c, f, path, other, ctx, &has_password, err, errlen);
    /* As OpenSSH refuses a private key others can read. */
    if (rc == 0 && has_password && t2s_config_file_shared(fileno(f))) {
        t2s_config_forget_passwords(c);
        rc = t2s_value_err(err, errlen,
                           "config file %.200s holds a password and is "
                           "readable by group or others (chmod 600 it)",
                           path);
    }
    fclose(f);
    explicit_bzero(iobuf, sizeof(iobuf));
    return rc;
}

int
t2s_config_load_file(struct t2s_config *c, const char *path, char *err,
                     size_t errlen)
{
    return t2s_config_file_read(c, path, NULL, NULL, err, errlen);
}
