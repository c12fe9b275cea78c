/*
 * Helpers of the configuration suites (test_proxy, test_config, test_args,
 * test_env, test_print_config): one error buffer, a proxy URL parser, a
 * temporary file, and with args.h the whole command line.
 */
#ifndef T2S_CONFIG_TEST_H
#define T2S_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

#define SECRET "Zq9SecretPw"

static char err[512];

static inline int
url(const char *u, struct t2s_proxy *p)
{
    memset(p, 0, sizeof(*p));
    err[0] = '\0';
    return t2s_proxy_url_parse(u, p, err, sizeof(err));
}

static inline void
assert_no_secret(const char *what)
{
    if (strstr(err, SECRET) != NULL)
        fail_msg("%s: error message leaks the password: %s", what, err);
}

/* A file with text in it; the path is valid until the next call. */
static inline char *
write_temp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/t2s-config-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

#ifdef T2S_ARGS_H
/* The program's options of the last args() call. */
static struct t2s_opts prog;

/* The whole command line (after argv[0]), NULL-terminated, into c and
 * prog, from scratch. */
static inline int
args(struct t2s_config *c, ...)
{
    static char storage[64][256];
    char *argv[64];
    int argc = 0;
    va_list ap;
    const char *a;

    snprintf(storage[0], sizeof(storage[0]), "tun2socks");
    argv[argc] = storage[argc];
    argc++;
    va_start(ap, c);
    while ((a = va_arg(ap, const char *)) != NULL && argc < 63) {
        snprintf(storage[argc], sizeof(storage[argc]), "%s", a);
        argv[argc] = storage[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    t2s_config_init(c);
    t2s_opts_init(&prog);
    err[0] = '\0';
    return t2s_args_parse(c, &prog, argc, argv, err, sizeof(err));
}
#endif

#endif
