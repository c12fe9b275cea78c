/* The proxy and its credentials from the environment; see env.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/value.h"
#include "env.h"

/* "user:pass" (pass may be empty or contain ':') into p; -1 if malformed. */
static int
set_credentials(struct t2s_proxy *p, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t ulen = colon != NULL ? (size_t)(colon - s) : n;
    size_t plen = colon != NULL ? n - ulen - 1 : 0;

    if (ulen == 0 || ulen > 255 || plen > 255)
        return -1;
    memcpy(p->user, s, ulen);
    p->user[ulen] = '\0';
    p->user_len = ulen;
    if (plen > 0)
        memcpy(p->pass, colon + 1, plen);
    p->pass[plen] = '\0';
    p->pass_len = plen;
    return 0;
}

/* "user:pass" for every proxy whose URL gave no credentials. */
static int
set_credentials_all(struct t2s_config *c, const char *s, size_t n)
{
    for (unsigned i = 0; i < c->proxy_count; i++) {
        struct t2s_proxy *p = t2s_config_proxy_mut(c, i);

        if (p->user_len == 0 && set_credentials(p, s, n) < 0)
            return -1;
    }
    return 0;
}

/* Whether every proxy has credentials of its own (URL credentials win). */
static int
all_have_credentials(const struct t2s_config *c)
{
    for (unsigned i = 0; i < c->proxy_count; i++)
        if (t2s_config_proxy(c, i)->user_len == 0)
            return 0;
    return 1;
}

/* Reads up to cap bytes of fd into buf; -1 on error or when more remain. */
static int
read_small(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;

    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap)
            return -1; /* longer than any valid 'user:pass' line */
    }
    *len = n;
    return 0;
}

/* No stdio: its buffer would keep a copy of the password after fclose. */
static int
read_auth_file(struct t2s_config *c, char *err, size_t errlen)
{
    char buf[600];
    size_t n = 0;
    int fd = open(c->auth_file, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return t2s_value_err(err, errlen,
                             "cannot read proxy auth file %.200s: %s",
                             c->auth_file, strerror(errno));
    if (t2s_config_file_shared(fd)) {
        close(fd);
        return t2s_value_err(
            err, errlen,
            "proxy auth file %.200s is readable by group or others "
            "(chmod 600 it)",
            c->auth_file);
    }
    rc = read_small(fd, buf, sizeof(buf), &n);
    close(fd);
    while (rc == 0 && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (rc == 0 &&
        (memchr(buf, '\n', n) != NULL || set_credentials_all(c, buf, n) < 0))
        rc = -1;
    explicit_bzero(buf, sizeof(buf));
    if (rc < 0)
        return t2s_value_err(
            err, errlen,
            "proxy auth file %.200s must hold one line 'user:pass' "
            "(each at most 255 bytes)",
            c->auth_file);
    return 0;
}

int
t2s_env_apply(struct t2s_config *c, char *err, size_t errlen)
{
    const char *env;

    if (!c->proxy_given) {
        env = getenv("TUN2SOCKS_PROXY");
        if (env != NULL && *env != '\0') {
            char sub[256];

            if (t2s_config_set(c, "proxy", env, sub, sizeof(sub)) < 0)
                return t2s_value_err(err, errlen, "TUN2SOCKS_PROXY: %s", sub);
        }
    }
    if (all_have_credentials(c))
        return 0; /* URL credentials win */
    if (c->auth_file[0] != '\0')
        return read_auth_file(c, err, errlen);
    env = getenv("TUN2SOCKS_PROXY_AUTH");
    if (env != NULL && *env != '\0' &&
        set_credentials_all(c, env, strlen(env)) < 0)
        return t2s_value_err(
            err, errlen,
            "TUN2SOCKS_PROXY_AUTH must be 'user:pass' (each at most "
            "255 bytes)");
    return 0;
}
