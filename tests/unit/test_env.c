/* The proxy and credentials from the environment and the auth file
 * (tun2socks/env.c), secret file modes, and scrubbing argv and environ. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "args.h"
#include "config/config.h"
#include "opts.h"
#include "scrub.h"
#include "config_test.h"

static void
test_environment_and_auth_file(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    setenv("TUN2SOCKS_PROXY", "socks5://198.18.1.2:1081", 1);
    setenv("TUN2SOCKS_PROXY_AUTH", "envuser:envpass", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_OK);
    assert_int_equal(c.proxy.port, 1081);
    assert_string_equal(c.proxy.user, "envuser");
    assert_string_equal(c.proxy.pass, "envpass");

    /* with several proxies, each one without URL credentials */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy", "socks5://u2:p2@h:2", "--proxy",
                          "socks5://h:3", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "envuser");
    assert_string_equal(t2s_config_proxy(&c, 1)->user, "u2");
    assert_string_equal(t2s_config_proxy(&c, 1)->pass, "p2");
    assert_string_equal(t2s_config_proxy(&c, 2)->user, "envuser");
    assert_string_equal(t2s_config_proxy(&c, 2)->pass, "envpass");

    /* URL credentials win over the environment */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy",
                          "socks5://urluser:urlpass@h:1", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "urluser");

    /* the file wins over the environment */
    path = write_temp("fileuser:file:pass\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy-auth-file", path, NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "fileuser");
    assert_string_equal(c.proxy.pass, "file:pass");
    unlink(path);

    path = write_temp("two\nlines\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy-auth-file", path, NULL),
                     T2S_ARGS_ERR);
    unlink(path);
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy-auth-file", "/nonexistent/auth", NULL),
        T2S_ARGS_ERR);

    setenv("TUN2SOCKS_PROXY_AUTH", ":nouser", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_ERR);
    assert_null(strstr(err, "nouser"));
    setenv("TUN2SOCKS_PROXY", "socks5://h", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "TUN2SOCKS_PROXY"));
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
}

static void
test_environment_more(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");

    /* --proxy wins over TUN2SOCKS_PROXY, even a broken one */
    setenv("TUN2SOCKS_PROXY", "socks5://198.18.9.9:9", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.host, "h");
    setenv("TUN2SOCKS_PROXY", "garbage", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);

    /* the environment URL with its own credentials beats the auth variable */
    setenv("TUN2SOCKS_PROXY", "socks5://eu:ep@h:6", 1);
    setenv("TUN2SOCKS_PROXY_AUTH", "au:ap", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_OK);
    assert_int_equal(c.proxy.port, 6);
    assert_string_equal(c.proxy.user, "eu");
    assert_string_equal(c.proxy.pass, "ep");

    /* TUN2SOCKS_PROXY_AUTH with ':' in the password, and user only */
    setenv("TUN2SOCKS_PROXY_AUTH", "au:a:p", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "au");
    assert_int_equal(c.proxy.user_len, 2);
    assert_string_equal(c.proxy.pass, "a:p");
    assert_int_equal(c.proxy.pass_len, 3);
    setenv("TUN2SOCKS_PROXY_AUTH", "onlyuser", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "onlyuser");
    assert_int_equal(c.proxy.pass_len, 0);

    /* the broken environment URL is named, its password is not */
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    setenv("TUN2SOCKS_PROXY", "socks5://alice:" SECRET "@h:0", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "TUN2SOCKS_PROXY"));
    assert_no_secret("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY");

    /* an over-long password in TUN2SOCKS_PROXY_AUTH is not echoed */
    {
        char v[600];

        memset(v, 'x', sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        memcpy(v, "u:" SECRET, strlen("u:" SECRET));
        setenv("TUN2SOCKS_PROXY_AUTH", v, 1);
        assert_int_equal(
            args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
            T2S_ARGS_ERR);
        assert_no_secret("TUN2SOCKS_PROXY_AUTH");
        unsetenv("TUN2SOCKS_PROXY_AUTH");
    }

    /* auth file: no trailing newline, CRLF, user only */
    path = write_temp("fu:fp");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "fu");
    assert_string_equal(c.proxy.pass, "fp");
    assert_int_equal(c.proxy.pass_len, 2);
    unlink(path);
    path = write_temp("fu:fp\r\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file=", NULL),
                     T2S_ARGS_ERR);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.pass, "fp");
    assert_int_equal(c.proxy.pass_len, 2);
    unlink(path);

    /* the URL's credentials win over the file */
    path = write_temp("fu:fp\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://uu:up@h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.user, "uu");
    assert_string_equal(c.proxy.pass, "up");
    unlink(path);

    /* the file can come from the config file */
    path = strdup(write_temp("fu2:fp2\n"));
    assert_non_null(path);
    {
        char cfg[700], *cpath;

        snprintf(cfg, sizeof(cfg),
                 "tun = t0\nproxy = socks5://h:1\nproxy-auth-file = %s\n",
                 path);
        cpath = strdup(write_temp(cfg));
        assert_non_null(cpath);
        assert_int_equal(args(&c, "--config", cpath, NULL), T2S_ARGS_OK);
        assert_string_equal(c.proxy.user, "fu2");
        assert_string_equal(c.proxy.pass, "fp2");
        unlink(cpath);
        free(cpath);
    }
    unlink(path);
    free(path);

    /* bad auth file contents never appear in the error */
    path = write_temp(":" SECRET "\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_ERR);
    assert_no_secret("auth file without user");
    unlink(path);
    path = write_temp("");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_ERR);
    unlink(path);
}

/* A file holding a password that group or others can read is refused with
 * one line, as OpenSSH refuses such private keys; 0600/0400 are fine. */
static void
test_secret_file_modes(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    path = write_temp("tun = t0\nproxy = socks5://u:hunter2@198.18.1.2:1\n");
    assert_int_equal(chmod(path, 0644), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "readable by group or others"));
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, "hunter2"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(args(&c, "--config", path, NULL), T2S_ARGS_ERR);
    assert_int_equal(chmod(path, 0640), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_int_equal(chmod(path, 0604), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_int_equal(chmod(path, 0600), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    assert_int_equal(chmod(path, 0400), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);

    /* no password (a user name alone is no secret): any mode */
    path = write_temp("tun = t0\nproxy = socks5://u@198.18.1.2:1\n");
    assert_int_equal(chmod(path, 0644), 0);
    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);

    /* the auth file always holds the password */
    path = write_temp("fileuser:hunter2\n");
    assert_int_equal(chmod(path, 0644), 0);
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_ERR);
    assert_non_null(strstr(err, "readable by group or others"));
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(chmod(path, 0440), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_ERR);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.proxy.pass, "hunter2");
    unlink(path);
}

/* The password of a proxy URL in argv and TUN2SOCKS_PROXY, and the whole of
 * TUN2SOCKS_PROXY_AUTH, are overwritten in place once parsed. */
static void
test_scrub_argv_env(void **state)
{
    char a0[] = "tun2socks", a1[] = "--proxy",
         a2[] = "socks5://alice:hunter%32@198.18.1.2:1080", a3[] = "--tun",
         a4[] = "t0", a5[] = "--proxy=socks5://bob:pw@[::1]:1",
         a6[] = "socks5://carol:notaproxy@h:1", a7[] = "--proxy",
         a8[] = "socks5://dave@h:1";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    char *auth;

    (void)state;
    t2s_scrub_argv(9, argv);
    assert_string_equal(argv[2], "socks5://alice:*********@198.18.1.2:1080");
    assert_string_equal(argv[4], "t0");
    assert_string_equal(argv[5], "--proxy=socks5://bob:**@[::1]:1");
    /* not the value of --proxy: left alone */
    assert_string_equal(argv[6], "socks5://carol:notaproxy@h:1");
    assert_string_equal(argv[8], "socks5://dave@h:1");

    setenv("TUN2SOCKS_PROXY_AUTH", "envuser:hunter2", 1);
    setenv("TUN2SOCKS_PROXY", "socks5://envuser:hunter3@h:1", 1);
    auth = getenv("TUN2SOCKS_PROXY_AUTH") - strlen("TUN2SOCKS_PROXY_AUTH=");
    t2s_scrub_environment();
    assert_null(getenv("TUN2SOCKS_PROXY_AUTH"));
    /* the bytes themselves are gone, not only the pointer */
    for (size_t i = 0; i < strlen("TUN2SOCKS_PROXY_AUTH=envuser:hunter2"); i++)
        assert_int_equal(auth[i], '\0');
    assert_string_equal(getenv("TUN2SOCKS_PROXY"),
                        "socks5://envuser:*******@h:1");
    unsetenv("TUN2SOCKS_PROXY");
    t2s_scrub_environment(); /* nothing to do is fine */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environment_and_auth_file),
        cmocka_unit_test(test_environment_more),
        cmocka_unit_test(test_secret_file_modes),
        cmocka_unit_test(test_scrub_argv_env),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
