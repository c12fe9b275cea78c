/* Proxy URL, option, config file and command-line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char err[512];

static int
url(const char *u, struct t2s_proxy *p)
{
    memset(p, 0, sizeof(*p));
    err[0] = '\0';
    return t2s_config_parse_proxy_url(u, p, err, sizeof(err));
}

static void
test_url_valid(void **state)
{
    struct t2s_proxy p;

    (void)state;
    assert_int_equal(url("socks5://198.18.1.2:1080", &p), 0);
    assert_string_equal(p.host, "198.18.1.2");
    assert_int_equal(p.port, 1080);
    assert_int_equal(p.user_len, 0);

    assert_int_equal(url("socks5://[fd00:1::2]:1", &p), 0);
    assert_string_equal(p.host, "fd00:1::2");
    assert_int_equal(p.port, 1);

    assert_int_equal(url("SOCKS5://proxy.example-1.test:65535", &p), 0);
    assert_string_equal(p.host, "proxy.example-1.test");
    assert_int_equal(p.port, 65535);

    assert_int_equal(url("socks5://alice:s3cret@198.18.1.2:1080", &p), 0);
    assert_string_equal(p.user, "alice");
    assert_int_equal(p.user_len, 5);
    assert_string_equal(p.pass, "s3cret");
    assert_int_equal(p.pass_len, 6);

    /* percent-encoding, '@' and ':' inside credentials */
    assert_int_equal(url("socks5://a%40b:p%3Aw%25@[::1]:9/", &p), 0);
    assert_string_equal(p.user, "a@b");
    assert_string_equal(p.pass, "p:w%");
    assert_string_equal(p.host, "::1");

    /* user only, and an empty password */
    assert_int_equal(url("socks5://bob@h:1", &p), 0);
    assert_string_equal(p.user, "bob");
    assert_int_equal(p.pass_len, 0);
    assert_int_equal(url("socks5://bob:@h:1", &p), 0);
    assert_int_equal(p.pass_len, 0);
}

static void
test_url_lengths(void **state)
{
    struct t2s_proxy p;
    char u[1024], name[300];

    (void)state;
    memset(name, 'u', 255);
    name[255] = '\0';
    snprintf(u, sizeof(u), "socks5://%s:pw@h:1", name);
    assert_int_equal(url(u, &p), 0);
    assert_int_equal(p.user_len, 255);
    name[255] = 'u';
    name[256] = '\0';
    snprintf(u, sizeof(u), "socks5://%s:pw@h:1", name);
    assert_int_equal(url(u, &p), -1);

    memset(name, 'p', 256);
    name[256] = '\0';
    snprintf(u, sizeof(u), "socks5://user:%s@h:1", name);
    assert_int_equal(url(u, &p), -1);
    assert_null(strstr(err, "ppppp"));
}

static void
test_url_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "198.18.1.2:1080",
        "http://198.18.1.2:1080",
        "socks4://198.18.1.2:1080",
        "socks5://198.18.1.2",
        "socks5://198.18.1.2:",
        "socks5://198.18.1.2:0",
        "socks5://198.18.1.2:65536",
        "socks5://198.18.1.2:12a",
        "socks5://198.18.1.2:-1",
        "socks5://:1080",
        "socks5://[fd00::1:1080",
        "socks5://[fd00::1]",
        "socks5://[not-v6]:1080",
        "socks5://host:1080/path",
        "socks5://ho st:1080",
        "socks5://%zz:pw@h:1",
        "socks5://user:pw%4@h:1",
        "socks5://@h:1",
    };
    struct t2s_proxy p;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (url(bad[i], &p) != -1)
            fail_msg("accepted malformed URL '%s'", bad[i]);
        assert_true(strlen(err) > 0);
        assert_null(strchr(err, '\n'));
    }
}

static void
test_url_error_hides_password(void **state)
{
    struct t2s_proxy p;

    (void)state;
    assert_int_equal(url("socks5://alice:TopSecret@198.18.1.2:99999", &p), -1);
    assert_null(strstr(err, "TopSecret"));
    assert_int_equal(url("socks5://alice:TopSecret@bad host:1", &p), -1);
    assert_null(strstr(err, "TopSecret"));
}

static void
test_set_options(void **state)
{
    struct t2s_config c;

    (void)state;
    t2s_config_init(&c);
    assert_int_equal(c.tun_fd, -1);
    assert_int_equal(c.mtu, 8500);
    assert_int_equal(t2s_config_set(&c, "mtu", "576", err, sizeof(err)), 0);
    assert_int_equal(c.mtu, 576);
    assert_int_equal(t2s_config_set(&c, "mtu", "65535", err, sizeof(err)), 0);
    assert_int_equal(t2s_config_set(&c, "mtu", "575", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mtu", "65536", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mtu", "15x", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "tun", "tun0", err, sizeof(err)), 0);
    assert_string_equal(c.tun_name, "tun0");
    assert_int_equal(
        t2s_config_set(&c, "tun", "a-very-long-name0", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "tun-fd", "3", err, sizeof(err)), 0);
    assert_int_equal(c.tun_fd, 3);
    assert_int_equal(t2s_config_set(&c, "tun-fd", "-3", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "198.18.0.1/30", err, sizeof(err)), 0);
    assert_string_equal(c.tun_ipv4, "198.18.0.1/30");
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "198.18.0.1", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "198.18.0.1/33", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "fd00:18::1/64", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "198.18.0.1/64", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "loglevel", "debug", err, sizeof(err)),
                     0);
    assert_int_equal(c.loglevel, 3);
    assert_int_equal(t2s_config_set(&c, "loglevel", "loud", err, sizeof(err)),
                     -1);
    assert_int_equal(
        t2s_config_set(&c, "connect-timeout", "3", err, sizeof(err)), 0);
    assert_int_equal(c.connect_timeout_ms, 3000);
    assert_int_equal(
        t2s_config_set(&c, "connect-timeout", "0", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "idle-timeout", "0", err, sizeof(err)),
                     0);
    assert_int_equal(c.idle_timeout_ms, 0);
    assert_int_equal(t2s_config_set(&c, "max-conns", "10", err, sizeof(err)),
                     0);
    assert_int_equal(c.max_conns, 10);
    assert_int_equal(t2s_config_set(&c, "fwmark", "0x1f", err, sizeof(err)), 0);
    assert_int_equal(c.fwmark, 0x1f);
    assert_int_equal(
        t2s_config_set(&c, "fwmark", "0x100000000", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "interface", "eth0", err, sizeof(err)),
                     0);
    assert_string_equal(c.bind_iface, "eth0");
    assert_int_equal(
        t2s_config_set(&c, "socks-pipeline", "yes", err, sizeof(err)), 0);
    assert_int_equal(c.socks_pipeline, 1);
    assert_int_equal(
        t2s_config_set(&c, "socks-pipeline", "off", err, sizeof(err)), 0);
    assert_int_equal(c.socks_pipeline, 0);
    assert_int_equal(
        t2s_config_set(&c, "socks-pipeline", "maybe", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "dns", "fake-ip", err, sizeof(err)), 0);
    assert_int_equal(c.dns_mode, T2S_DNS_FAKEIP);
    assert_int_equal(t2s_config_set(&c, "dns", "doh", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "dns-resolver", "[fd00::53]:5353", err, sizeof(err)),
        0);
    assert_int_equal(c.resolver_port, 5353);
    assert_int_equal(
        t2s_config_set(&c, "dns-resolver", "198.18.0.9", err, sizeof(err)), 0);
    assert_int_equal(c.resolver_port, 53);
    assert_int_equal(
        t2s_config_set(&c, "dns-resolver", "fd00::53", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "fake-ip-pool", "198.18.0.0/31", err, sizeof(err)),
        -1);
    assert_int_equal(t2s_config_set(&c, "bogus", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(t2s_config_set(&c, "mtu", NULL, err, sizeof(err)), -1);
}

static char *
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

static void
test_load_file(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    t2s_config_init(&c);
    path = write_temp("# comment\n\n  tun = tun7  \nmtu=1500\n"
                      "proxy = socks5://u:p@198.18.1.2:1080\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(c.tun_name, "tun7");
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(c.proxy.port, 1080);
    assert_string_equal(c.proxy.user, "u");

    path = write_temp("tun = tun0\n\nbogus = 1\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    unlink(path);
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "bogus"));

    path = write_temp("tun tun0\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    unlink(path);
    assert_non_null(strstr(err, ":1:"));

    path = write_temp("proxy = socks5://u:Hidden@198.18.1.2:0\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    unlink(path);
    assert_null(strstr(err, "Hidden"));

    assert_int_equal(
        t2s_config_load_file(&c, "/nonexistent/t2s.conf", err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "/nonexistent/t2s.conf"));
}

static int
args(struct t2s_config *c, ...)
{
    static char storage[32][256];
    char *argv[32];
    int argc = 0;
    va_list ap;
    const char *a;

    snprintf(storage[0], sizeof(storage[0]), "tun2socks");
    argv[argc] = storage[argc];
    argc++;
    va_start(ap, c);
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31) {
        snprintf(storage[argc], sizeof(storage[argc]), "%s", a);
        argv[argc] = storage[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    t2s_config_init(c);
    err[0] = '\0';
    return t2s_config_from_args(c, argc, argv, err, sizeof(err));
}

static void
test_args(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(args(&c, "--help", NULL), T2S_CONFIG_HELP);
    assert_int_equal(args(&c, "--tun", "t", "--version", NULL),
                     T2S_CONFIG_VERSION);
    assert_int_equal(args(&c, "--bogus", NULL), T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(args(&c, "--tun", NULL), T2S_CONFIG_ERR);
    assert_int_equal(args(&c, "stray", NULL), T2S_CONFIG_ERR);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "proxy"));
    assert_int_equal(args(&c, "--proxy", "socks5://h:1", NULL), T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "TUN"));
    assert_int_equal(args(&c, "--tun", "t0", "--tun-fd", "3", "--proxy",
                          "socks5://h:1", NULL),
                     T2S_CONFIG_ERR);
    assert_int_equal(args(&c, "--tun=t0", "--proxy=socks5://h:1",
                          "--socks-pipeline", "--mtu", "9000", NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.tun_name, "t0");
    assert_int_equal(c.socks_pipeline, 1);
    assert_int_equal(c.mtu, 9000);

    /* the file first, flags override it, in any order */
    path = write_temp("mtu = 1400\ntun = fromfile\nproxy = socks5://h:2\n");
    assert_int_equal(args(&c, "--mtu", "1600", "--config", path, NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(c.mtu, 1600);
    assert_string_equal(c.tun_name, "fromfile");
    assert_int_equal(c.proxy.port, 2);
    unlink(path);
}

static void
test_environment_and_auth_file(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    setenv("TUN2SOCKS_PROXY", "socks5://198.18.1.2:1081", 1);
    setenv("TUN2SOCKS_PROXY_AUTH", "envuser:envpass", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_OK);
    assert_int_equal(c.proxy.port, 1081);
    assert_string_equal(c.proxy.user, "envuser");
    assert_string_equal(c.proxy.pass, "envpass");

    /* URL credentials win over the environment */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy",
                          "socks5://urluser:urlpass@h:1", NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.user, "urluser");

    /* the file wins over the environment */
    path = write_temp("fileuser:file:pass\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.user, "fileuser");
    assert_string_equal(c.proxy.pass, "file:pass");
    unlink(path);

    path = write_temp("two\nlines\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_ERR);
    unlink(path);
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy-auth-file", "/nonexistent/auth", NULL),
        T2S_CONFIG_ERR);

    setenv("TUN2SOCKS_PROXY_AUTH", ":nouser", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_ERR);
    assert_null(strstr(err, "nouser"));
    setenv("TUN2SOCKS_PROXY", "socks5://h", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "TUN2SOCKS_PROXY"));
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
}

static void
test_resolve(void **state)
{
    struct t2s_proxy p;

    (void)state;
    assert_int_equal(url("socks5://127.0.0.1:1080", &p), 0);
    assert_int_equal(t2s_config_resolve_proxy(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr.ss_family, AF_INET);
    assert_int_equal(url("socks5://[::1]:1080", &p), 0);
    assert_int_equal(t2s_config_resolve_proxy(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr.ss_family, AF_INET6);
    static const char *const unusable[] = {
        "socks5://0.0.0.0:1", "socks5://[::]:1", "socks5://224.0.0.1:1",
        "socks5://255.255.255.255:1", "socks5://[ff02::1]:1"};
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        assert_int_equal(url(unusable[i], &p), 0);
        if (t2s_config_resolve_proxy(&p, err, sizeof(err)) != -1)
            fail_msg("accepted %s", unusable[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_valid),
        cmocka_unit_test(test_url_lengths),
        cmocka_unit_test(test_url_malformed),
        cmocka_unit_test(test_url_error_hides_password),
        cmocka_unit_test(test_set_options),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_environment_and_auth_file),
        cmocka_unit_test(test_resolve),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
