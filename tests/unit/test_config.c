/* Proxy URL, option, config file and command-line parsing. */
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

#include "config/config.h"

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
    assert_int_equal(c.mtu, 65535);
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

/* ---- additional coverage ---- */

#define SECRET "Zq9SecretPw"

static void
assert_no_secret(const char *what)
{
    if (strstr(err, SECRET) != NULL)
        fail_msg("%s: error message leaks the password: %s", what, err);
}

static void
test_url_more_valid(void **state)
{
    struct t2s_proxy p;
    char u[2048], s[800];

    (void)state;
    assert_int_equal(url("socks5://10.0.0.1:1", &p), 0);
    assert_string_equal(p.host, "10.0.0.1");
    assert_int_equal(p.port, 1);
    assert_int_equal(url("socks5://localhost:1080", &p), 0);
    assert_string_equal(p.host, "localhost");
    assert_int_equal(url("socks5://[2001:db8::1]:65535", &p), 0);
    assert_string_equal(p.host, "2001:db8::1");
    assert_int_equal(p.port, 65535);

    /* lower-case hex escapes, escapes in the user name */
    assert_int_equal(url("socks5://us%3aer:p%40ss%3a@h:1", &p), 0);
    assert_string_equal(p.user, "us:er");
    assert_int_equal(p.user_len, 5);
    assert_string_equal(p.pass, "p@ss:");
    assert_int_equal(p.pass_len, 5);

    /* 255-byte password accepted, also when every byte is escaped */
    memset(s, 'p', 255);
    s[255] = '\0';
    snprintf(u, sizeof(u), "socks5://user:%s@h:1", s);
    assert_int_equal(url(u, &p), 0);
    assert_int_equal(p.pass_len, 255);
    assert_int_equal(strlen(p.pass), 255);
    s[0] = '\0';
    for (int i = 0; i < 255; i++)
        strcat(s, "%41");
    snprintf(u, sizeof(u), "socks5://%s:%s@h:1", s, s);
    assert_int_equal(url(u, &p), 0);
    assert_int_equal(p.user_len, 255);
    assert_int_equal(p.pass_len, 255);
    assert_int_equal(p.user[0], 'A');
    assert_int_equal(p.pass[254], 'A');
    strcat(s, "%41");
    snprintf(u, sizeof(u), "socks5://%s:pw@h:1", s);
    assert_int_equal(url(u, &p), -1);
    snprintf(u, sizeof(u), "socks5://user:%s@h:1", s);
    assert_int_equal(url(u, &p), -1);

    /* a 253-byte host name (the DNS limit) fits */
    memset(s, 'a', 253);
    for (int i = 60; i < 253; i += 61)
        s[i] = '.';
    s[253] = '\0';
    snprintf(u, sizeof(u), "socks5://%s:1", s);
    assert_int_equal(url(u, &p), 0);
    assert_int_equal(strlen(p.host), 253);
    /* a host too long for host[256] is rejected, not truncated */
    memset(s, 'a', 300);
    s[300] = '\0';
    snprintf(u, sizeof(u), "socks5://%s:1", s);
    assert_int_equal(url(u, &p), -1);
}

static void
test_url_keeps_unparsed_fields(void **state)
{
    struct t2s_proxy p;

    (void)state;
    memset(&p, 0, sizeof(p));
    strcpy(p.user, "keep");
    p.user_len = 4;
    strcpy(p.pass, "kept");
    p.pass_len = 4;
    assert_int_equal(
        t2s_config_parse_proxy_url("socks5://h:7", &p, err, sizeof(err)), 0);
    assert_string_equal(p.host, "h");
    assert_int_equal(p.port, 7);
    assert_string_equal(p.user, "keep");
    assert_int_equal(p.user_len, 4);
    assert_string_equal(p.pass, "kept");
    assert_int_equal(p.pass_len, 4);

    /* a rejected URL leaves everything as it was */
    assert_int_equal(
        t2s_config_parse_proxy_url("socks5://x:y@h2:0", &p, err, sizeof(err)),
        -1);
    assert_string_equal(p.host, "h");
    assert_int_equal(p.port, 7);
    assert_string_equal(p.user, "keep");
}

static void
test_url_more_malformed(void **state)
{
    static const char *const bad[] = {
        "socks5://",
        "socks5:/h:1",
        "socks5h://h:1",
        "socks://h:1",
        "socks5://h:1:2",
        "socks5://h:1x",
        "socks5://h:1 ",
        "socks5://h:1?x=1",
        "socks5://h:1#f",
        "socks5://h: 1",
        "socks5://h:+1",
        "socks5://h:0x50",
        "socks5://h:99999999999999999999",
        "socks5://[]:1",
        "socks5://[::1]x:1",
        "socks5://[::1]:",
        "socks5://::1:1080",
        "socks5://[1.2.3.4]:1",
        "socks5://u:p@:1",
        "socks5://u:p@[::1:1",
        "socks5://%:p@h:1",
        "socks5://%4:p@h:1",
        "socks5://u:%@h:1",
        "socks5://u:%g0@h:1",
        " socks5://h:1",
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
test_url_errors_never_show_password(void **state)
{
    static const char *const bad[] = {
        "http://alice:" SECRET "@h:1",
        "socks4://alice:" SECRET "@h:1",
        "socks5://alice:" SECRET "@h",
        "socks5://alice:" SECRET "@h:",
        "socks5://alice:" SECRET "@h:0",
        "socks5://alice:" SECRET "@h:65536",
        "socks5://alice:" SECRET "@h:http",
        "socks5://alice:" SECRET "@h:1/junk",
        "socks5://alice:" SECRET "@:1",
        "socks5://alice:" SECRET "@[::1:1",
        "socks5://alice:" SECRET "@[zz]:1",
        "socks5://alice:" SECRET "%zz@h:1",
        "socks5://al%ice:" SECRET "@h:1",
        "socks5://:" SECRET "@h:1",
        "socks5://alice:" SECRET,
        "socks5://alice:" SECRET "@",
    };
    struct t2s_proxy p;
    char u[1024], long_pass[300];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (url(bad[i], &p) != -1)
            fail_msg("accepted malformed URL '%s'", bad[i]);
        assert_no_secret(bad[i]);
    }
    memset(long_pass, 'x', 256);
    memcpy(long_pass, SECRET, strlen(SECRET));
    long_pass[256] = '\0';
    snprintf(u, sizeof(u), "socks5://alice:%s@h:1", long_pass);
    assert_int_equal(url(u, &p), -1);
    assert_no_secret("256-byte password");
}

static void
test_set_every_key(void **state)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    static const char *const yes[] = {"on", "true", "1", "yes", "ON"};
    static const char *const no[] = {"off", "false", "0", "no", "False"};
    struct t2s_config c;

    (void)state;
    t2s_config_init(&c);
    assert_int_equal(c.tun_name[0], '\0');
    assert_int_equal(c.proxy_given, 0);
    assert_int_equal(c.fwmark, 0);
    assert_int_equal(c.bind_iface[0], '\0');
    assert_int_equal(c.auth_file[0], '\0');

    assert_int_equal(
        t2s_config_set(&c, "tun", "tun-abcdefghijk", err, sizeof(err)), 0);
    assert_string_equal(c.tun_name, "tun-abcdefghijk");
    assert_int_equal(t2s_config_set(&c, "tun", "", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "tun-fd", "0", err, sizeof(err)), 0);
    assert_int_equal(c.tun_fd, 0);
    assert_int_equal(t2s_config_set(&c, "tun-fd", "x", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "tun-fd", "", err, sizeof(err)), -1);

    assert_int_equal(t2s_config_set(&c, "mtu", "1500", err, sizeof(err)), 0);
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(t2s_config_set(&c, "mtu", "0", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mtu", "-1500", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mtu", "", err, sizeof(err)), -1);
    assert_int_equal(c.mtu, 1500);

    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "10.0.0.1/32", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "10.0.0.1/", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "10.0.0/24", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "fd00::1/64", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv4", "10.0.0.1/24x", err, sizeof(err)), -1);
    assert_string_equal(c.tun_ipv4, "10.0.0.1/32");
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "fd00::1/128", err, sizeof(err)), 0);
    assert_string_equal(c.tun_ipv6, "fd00::1/128");
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "fd00::1/129", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "fd00::1", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "tun-ipv6", "fd00:::1/64", err, sizeof(err)), -1);

    for (int i = 0; i < 4; i++) {
        assert_int_equal(
            t2s_config_set(&c, "loglevel", levels[i], err, sizeof(err)), 0);
        assert_int_equal(c.loglevel, i);
    }
    assert_int_equal(t2s_config_set(&c, "loglevel", "", err, sizeof(err)), -1);

    assert_int_equal(
        t2s_config_set(&c, "connect-timeout", "86400", err, sizeof(err)), 0);
    assert_int_equal(c.connect_timeout_ms, 86400000u);
    assert_int_equal(
        t2s_config_set(&c, "connect-timeout", "1.5", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "connect-timeout", "-1", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "300", err, sizeof(err)), 0);
    assert_int_equal(c.idle_timeout_ms, 300000u);
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "abc", err, sizeof(err)), -1);
    /* seconds that overflow the unsigned millisecond field are refused */
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "4294968", err, sizeof(err)), -1);

    assert_int_equal(t2s_config_set(&c, "max-conns", "0", err, sizeof(err)), 0);
    assert_int_equal(c.max_conns, 0);
    assert_int_equal(t2s_config_set(&c, "max-conns", "-5", err, sizeof(err)),
                     -1);

    assert_int_equal(t2s_config_set(&c, "fwmark", "42", err, sizeof(err)), 0);
    assert_int_equal(c.fwmark, 42);
    assert_int_equal(
        t2s_config_set(&c, "fwmark", "0xffffffff", err, sizeof(err)), 0);
    assert_int_equal(c.fwmark, 0xffffffffu);
    assert_int_equal(
        t2s_config_set(&c, "fwmark", "4294967295", err, sizeof(err)), 0);
    assert_int_equal(t2s_config_set(&c, "fwmark", "0xZZ", err, sizeof(err)),
                     -1);
    assert_int_equal(t2s_config_set(&c, "fwmark", "-1", err, sizeof(err)), -1);

    assert_int_equal(
        t2s_config_set(&c, "interface", "abcdefghijklmno", err, sizeof(err)),
        0);
    assert_int_equal(
        t2s_config_set(&c, "interface", "abcdefghijklmnop", err, sizeof(err)),
        -1);
    assert_string_equal(c.bind_iface, "abcdefghijklmno");

    for (int i = 0; i < 5; i++) {
        assert_int_equal(
            t2s_config_set(&c, "socks-pipeline", yes[i], err, sizeof(err)), 0);
        assert_int_equal(c.socks_pipeline, 1);
        assert_int_equal(
            t2s_config_set(&c, "socks-pipeline", no[i], err, sizeof(err)), 0);
        assert_int_equal(c.socks_pipeline, 0);
    }
    assert_int_equal(t2s_config_set(&c, "socks-pipeline", "", err, sizeof(err)),
                     -1);

    assert_int_equal(t2s_config_set(&c, "proxy", "socks5://u:" SECRET "@h:1",
                                    err, sizeof(err)),
                     0);
    assert_int_equal(c.proxy_given, 1);
    assert_string_equal(c.proxy.host, "h");
    assert_string_equal(c.proxy.pass, SECRET);
    assert_int_equal(t2s_config_set(&c, "proxy", "socks5://u:" SECRET "@h:0",
                                    err, sizeof(err)),
                     -1);
    assert_no_secret("set proxy");
    assert_int_equal(c.proxy.port, 1);

    assert_int_equal(t2s_config_set(&c, "proxy-auth-file", "/etc/t2s.auth", err,
                                    sizeof(err)),
                     0);
    assert_string_equal(c.auth_file, "/etc/t2s.auth");
    assert_int_equal(
        t2s_config_set(&c, "proxy-auth-file", "", err, sizeof(err)), -1);

    /* unknown keys, and keys spelt with dashes or in another case */
    assert_int_equal(t2s_config_set(&c, "--mtu", "1500", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "MTU", "1500", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "", "1", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mt", "1500", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "mtux", "1500", err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
}

static void
test_errors_fit_small_buffers(void **state)
{
    struct t2s_config c;
    struct t2s_proxy p;
    char small[8];

    (void)state;
    t2s_config_init(&c);
    memset(small, 'Z', sizeof(small));
    assert_int_equal(
        t2s_config_set(&c, "nonexistent-option", "1", small, sizeof(small)),
        -1);
    assert_int_equal(small[sizeof(small) - 1], '\0');
    memset(&p, 0, sizeof(p));
    memset(small, 'Z', sizeof(small));
    assert_int_equal(
        t2s_config_parse_proxy_url("http://h:1", &p, small, sizeof(small)), -1);
    assert_int_equal(small[sizeof(small) - 1], '\0');
}

static void
test_load_file_more(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    /* tabs, CRLF, indented comments, '=' without spaces, no final newline */
    t2s_config_init(&c);
    path = write_temp("\t# indented comment\r\n"
                      "\r\n"
                      "   \t  \n"
                      "#mtu = 9999\n"
                      "\ttun\t=\ttun3\t\r\n"
                      "idle-timeout=0\n"
                      "socks-pipeline = on\n"
                      "fwmark = 0x10\n"
                      "proxy-auth-file = /run/auth\n"
                      "proxy=socks5://[::1]:1080");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(c.tun_name, "tun3");
    assert_int_equal(c.mtu, 65535);
    assert_int_equal(c.idle_timeout_ms, 0);
    assert_int_equal(c.socks_pipeline, 1);
    assert_int_equal(c.fwmark, 0x10);
    assert_string_equal(c.auth_file, "/run/auth");
    assert_int_equal(c.proxy_given, 1);
    assert_string_equal(c.proxy.host, "::1");

    /* an empty file changes nothing */
    t2s_config_init(&c);
    path = write_temp("");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_int_equal(c.proxy_given, 0);

    /* errors name the file and line */
    path = write_temp("# one\n\n\n\nmtu = 100\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":5:"));
    assert_non_null(strstr(err, path));
    assert_null(strchr(err, '\n'));
    unlink(path);

    path = write_temp("tun = t0\n= value\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2:"));
    unlink(path);

    path = write_temp("tun = t0\nmtu =\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2:"));
    unlink(path);

    path = write_temp("\n\n\nfrobnicate = yes\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":4:"));
    assert_non_null(strstr(err, "frobnicate"));
    unlink(path);

    path = write_temp("a line without an equals sign\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1:"));
    unlink(path);

    path = write_temp("tun = t0\n\nproxy = socks5://alice:" SECRET "@h:0\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":3:"));
    assert_no_secret("config file proxy");
    unlink(path);
}

static void
test_args_more(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");

    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--help", NULL),
        T2S_CONFIG_HELP);
    assert_int_equal(args(&c, "--version", NULL), T2S_CONFIG_VERSION);
    assert_int_equal(args(&c, NULL), T2S_CONFIG_ERR);
    assert_true(strlen(err) > 0);

    /* unknown flags are named, with or without a value */
    assert_int_equal(args(&c, "--tun", "t0", "--frobnicate", NULL),
                     T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "--frobnicate"));
    assert_int_equal(args(&c, "--frobnicate=7", NULL), T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "frobnicate"));

    /* missing values */
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--mtu", NULL),
        T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "mtu"));
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--mtu=", NULL),
        T2S_CONFIG_ERR);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", NULL), T2S_CONFIG_ERR);
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--config", NULL),
        T2S_CONFIG_ERR);

    /* every value-taking flag in both forms; the same state each time */
    for (int round = 0; round < 3; round++) {
        assert_int_equal(
            args(&c, "--tun-fd", "5", "--proxy=socks5://198.18.1.2:1080",
                 "--mtu=1280", "--loglevel", "warn", "--connect-timeout=7",
                 "--idle-timeout", "0", "--max-conns=100", "--fwmark", "0x2a",
                 "--interface=eth1", "--socks-pipeline=off", NULL),
            T2S_CONFIG_OK);
        assert_int_equal(c.tun_fd, 5);
        assert_int_equal(c.tun_name[0], '\0');
        assert_int_equal(c.mtu, 1280);
        assert_int_equal(c.loglevel, 1);
        assert_int_equal(c.connect_timeout_ms, 7000);
        assert_int_equal(c.idle_timeout_ms, 0);
        assert_int_equal(c.max_conns, 100);
        assert_int_equal(c.fwmark, 42);
        assert_string_equal(c.bind_iface, "eth1");
        assert_int_equal(c.socks_pipeline, 0);
        assert_string_equal(c.proxy.host, "198.18.1.2");
        assert_int_equal(c.proxy.port, 1080);
        assert_int_equal(c.proxy.user_len, 0);
    }
    assert_int_equal(args(&c, "--tun", "t0", "--tun-ipv4", "198.18.0.1/15",
                          "--tun-ipv6=fd00::1/64", "--proxy", "socks5://h:1",
                          NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.tun_ipv4, "198.18.0.1/15");
    assert_string_equal(c.tun_ipv6, "fd00::1/64");

    /* a later flag overrides an earlier one */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy", "socks5://h:2", "--mtu", "1400", "--mtu",
                          "1500", NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(c.proxy.port, 2);
    assert_int_equal(c.mtu, 1500);

    /* a bad value is reported, without the password */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy",
                          "socks5://alice:" SECRET "@h:0", NULL),
                     T2S_CONFIG_ERR);
    assert_true(strlen(err) > 0);
    assert_no_secret("--proxy bad port");
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy=socks5://alice:" SECRET "@h:x", NULL),
        T2S_CONFIG_ERR);
    assert_no_secret("--proxy= bad port");

    /* --tun and --tun-fd exclude each other, in either order */
    assert_int_equal(
        args(&c, "--tun-fd=3", "--proxy", "socks5://h:1", "--tun=t0", NULL),
        T2S_CONFIG_ERR);
    assert_true(strlen(err) > 0);

    /* --route: a --tun device only; --route-script absolute */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--route", "--route-script", "/x/route", NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(c.route, 1);
    assert_string_equal(c.route_script, "/x/route");
    assert_int_equal(
        args(&c, "--tun-fd", "3", "--proxy", "socks5://h:1", "--route", NULL),
        T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "--route needs --tun"));
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--route-script", "relative/route", NULL),
                     T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "absolute"));

    /* --config=FILE form; flags before and after it override the file */
    path = write_temp("tun = fromfile\nmtu = 1400\nloglevel = debug\n"
                      "proxy = socks5://f:fp@h:3\n");
    {
        char opt[128];

        snprintf(opt, sizeof(opt), "--config=%s", path);
        assert_int_equal(args(&c, "--loglevel", "error", opt, "--proxy",
                              "socks5://h:4", NULL),
                         T2S_CONFIG_OK);
    }
    assert_string_equal(c.tun_name, "fromfile");
    assert_int_equal(c.mtu, 1400);
    assert_int_equal(c.loglevel, 0);
    assert_int_equal(c.proxy.port, 4);
    /* the file's credentials stay: the --proxy URL had none */
    unlink(path);

    /* a file that gives only the proxy completes the command line */
    path = write_temp("proxy = socks5://h:5\n");
    assert_int_equal(args(&c, "--config", path, "--tun", "t1", NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(c.proxy.port, 5);
    unlink(path);

    /* a missing or broken config file is an error */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", "/nonexistent/t2s.conf", NULL),
                     T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "/nonexistent/t2s.conf"));
    path = write_temp("mtu = 1\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", path, NULL),
                     T2S_CONFIG_ERR);
    assert_non_null(strstr(err, ":1:"));
    unlink(path);
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
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.host, "h");
    setenv("TUN2SOCKS_PROXY", "garbage", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_CONFIG_OK);

    /* the environment URL with its own credentials beats the auth variable */
    setenv("TUN2SOCKS_PROXY", "socks5://eu:ep@h:6", 1);
    setenv("TUN2SOCKS_PROXY_AUTH", "au:ap", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_OK);
    assert_int_equal(c.proxy.port, 6);
    assert_string_equal(c.proxy.user, "eu");
    assert_string_equal(c.proxy.pass, "ep");

    /* TUN2SOCKS_PROXY_AUTH with ':' in the password, and user only */
    setenv("TUN2SOCKS_PROXY_AUTH", "au:a:p", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.user, "au");
    assert_int_equal(c.proxy.user_len, 2);
    assert_string_equal(c.proxy.pass, "a:p");
    assert_int_equal(c.proxy.pass_len, 3);
    setenv("TUN2SOCKS_PROXY_AUTH", "onlyuser", 1);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.user, "onlyuser");
    assert_int_equal(c.proxy.pass_len, 0);

    /* the broken environment URL is named, its password is not */
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    setenv("TUN2SOCKS_PROXY", "socks5://alice:" SECRET "@h:0", 1);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_CONFIG_ERR);
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
            T2S_CONFIG_ERR);
        assert_no_secret("TUN2SOCKS_PROXY_AUTH");
        unsetenv("TUN2SOCKS_PROXY_AUTH");
    }

    /* auth file: no trailing newline, CRLF, user only */
    path = write_temp("fu:fp");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.user, "fu");
    assert_string_equal(c.proxy.pass, "fp");
    assert_int_equal(c.proxy.pass_len, 2);
    unlink(path);
    path = write_temp("fu:fp\r\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file=", NULL),
                     T2S_CONFIG_ERR);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.pass, "fp");
    assert_int_equal(c.proxy.pass_len, 2);
    unlink(path);

    /* the URL's credentials win over the file */
    path = write_temp("fu:fp\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://uu:up@h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_OK);
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
        assert_int_equal(args(&c, "--config", cpath, NULL), T2S_CONFIG_OK);
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
                     T2S_CONFIG_ERR);
    assert_no_secret("auth file without user");
    unlink(path);
    path = write_temp("");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_ERR);
    unlink(path);
}

static void
test_resolve_more(void **state)
{
    struct t2s_proxy p;
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;

    (void)state;
    assert_int_equal(url("socks5://127.0.0.1:1080", &p), 0);
    assert_int_equal(p.addr_len, 0);
    assert_int_equal(t2s_config_resolve_proxy(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr_len, sizeof(struct sockaddr_in));
    sin = (const struct sockaddr_in *)&p.addr;
    assert_int_equal(sin->sin_port, htons(1080));
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);

    assert_int_equal(url("socks5://[::1]:65535", &p), 0);
    assert_int_equal(t2s_config_resolve_proxy(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr_len, sizeof(struct sockaddr_in6));
    sin6 = (const struct sockaddr_in6 *)&p.addr;
    assert_int_equal(sin6->sin6_port, htons(65535));
    assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

    static const char *const unusable[] = {
        "socks5://0.0.0.0:1",         "socks5://[::]:1",
        "socks5://224.0.0.1:1",       "socks5://239.255.255.255:1",
        "socks5://255.255.255.255:1", "socks5://[ff05::2]:1",
    };
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        assert_int_equal(url(unusable[i], &p), 0);
        p.addr_len = 0;
        if (t2s_config_resolve_proxy(&p, err, sizeof(err)) != -1)
            fail_msg("accepted %s", unusable[i]);
        assert_true(strlen(err) > 0);
        assert_null(strchr(err, '\n'));
    }
    /* a name that cannot exist (RFC 6761 .invalid) fails with an error */
    assert_int_equal(url("socks5://no-such-host.invalid:1", &p), 0);
    assert_int_equal(t2s_config_resolve_proxy(&p, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
}

/*
 * Cases where the implementation departs from config.h's contract (or from
 * the URL/number syntax a user would expect). Every case is checked and
 * printed before the test fails, so one run lists them all.
 */
static int gaps;

static void
gap(int ok, const char *what)
{
    if (!ok) {
        print_error("contract gap: %s (err: %s)\n", what, err);
        gaps++;
    }
}

static void
test_contract_gaps(void **state)
{
    struct t2s_config c;
    struct t2s_proxy p;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    gaps = 0;

    /* forgetting --proxy, or one dash: the password must not be echoed */
    args(&c, "--tun", "t0", "socks5://alice:" SECRET "@h:1", NULL);
    gap(strstr(err, SECRET) == NULL, "stray URL argument echoes password");
    args(&c, "--tun", "t0", "-proxy=socks5://alice:" SECRET "@h:1", NULL);
    gap(strstr(err, SECRET) == NULL, "-proxy=URL echoes password");
    args(&c, "--tun", "t0", "--proxy-url=socks5://alice:" SECRET "@h:1", NULL);
    gap(strstr(err, SECRET) == NULL, "--proxy-url=URL echoes password");

    /* ports and numbers are decimal: "010" is ten (or an error), not 8 */
    gap(url("socks5://h:010", &p) != 0 || p.port == 10,
        "URL port 010 parsed as octal");
    t2s_config_init(&c);
    gap(t2s_config_set(&c, "mtu", "01500", err, sizeof(err)) != 0 ||
            c.mtu == 1500,
        "mtu 01500 parsed as octal");
    /* tun.c reads the prefix with base 10, so config must agree */
    gap(t2s_config_set(&c, "tun-ipv4", "198.18.0.1/0x18", err, sizeof(err)) ==
            -1,
        "tun-ipv4 prefix /0x18 accepted (tun.c rejects it)");
    gap(t2s_config_set(&c, "tun-ipv4", "198.18.0.1/040", err, sizeof(err)) ==
            -1,
        "tun-ipv4 prefix /040 validated as octal 32 (tun.c reads 40)");

    /* a directory opens but cannot be read: that is an error */
    err[0] = '\0';
    gap(t2s_config_load_file(&c, "/", err, sizeof(err)) == -1,
        "config file '/' (a directory) loads as empty");

    /* IPv4-mapped forms of unusable addresses */
    gap(url("socks5://[::ffff:224.0.0.1]:1", &p) == 0 &&
            t2s_config_resolve_proxy(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:224.0.0.1] (mapped multicast) accepted");
    gap(url("socks5://[::ffff:0.0.0.0]:1", &p) == 0 &&
            t2s_config_resolve_proxy(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:0.0.0.0] (mapped unspecified) accepted");
    gap(url("socks5://[::ffff:255.255.255.255]:1", &p) == 0 &&
            t2s_config_resolve_proxy(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:255.255.255.255] (mapped broadcast) accepted");

    assert_int_equal(gaps, 0);
}

/* ---- secrets and privileges (issue 13) ------------------------------- */

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
    assert_int_equal(args(&c, "--config", path, NULL), T2S_CONFIG_ERR);
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
                     T2S_CONFIG_ERR);
    assert_non_null(strstr(err, "readable by group or others"));
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(chmod(path, 0440), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_ERR);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy-auth-file", path, NULL),
                     T2S_CONFIG_OK);
    assert_string_equal(c.proxy.pass, "hunter2");
    unlink(path);
}

/* route-script from a config file: run as root only when the file and its
 * directories belong to root and only root can change them. */
static void
test_route_script_trust(void **state)
{
    struct t2s_config c;
    char dir[64], script[128], conf[64];
    char *path;
    int fd;

    (void)state;
    if (geteuid() != 0)
        skip(); /* the rule applies to root */
    snprintf(dir, sizeof(dir), "/tmp/t2s-trust-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/route", dir);
    fd = open(script, O_WRONLY | O_CREAT | O_EXCL, 0755);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(script, 0755), 0);

    path = write_temp("");
    snprintf(conf, sizeof(conf), "%s", path);
    fd = open(conf, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    dprintf(fd, "route-script = %s\n", script);
    close(fd);

    t2s_config_init(&c);
    assert_int_equal(t2s_config_load_file(&c, conf, err, sizeof(err)), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), 0);

    /* group- or world-writable file */
    assert_int_equal(chmod(script, 0775), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, script));
    assert_null(strchr(err, '\n'));
    assert_int_equal(chmod(script, 0757), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);
    assert_int_equal(chmod(script, 0755), 0);

    /* not owned by root */
    assert_int_equal(chown(script, 65534, 65534), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "root"));
    assert_int_equal(chown(script, 0, 0), 0);

    /* a directory others can write to (without the sticky bit) */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, dir));
    assert_int_equal(chmod(dir, 0755), 0);

    /* missing file */
    assert_int_equal(unlink(script), 0);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);

    /* an untrusted script given on the command line: the caller chose it */
    fd = open(script, O_WRONLY | O_CREAT | O_EXCL, 0755);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(script, 0777), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", conf, "--route-script", script, NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), 0);
    /* ... but a config file's key is checked even when the flags come
     * from the same command line */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", conf, NULL),
                     T2S_CONFIG_OK);
    assert_int_equal(t2s_config_check_route_script(&c, err, sizeof(err)), -1);

    unlink(script);
    unlink(conf);
    rmdir(dir);
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
    t2s_config_scrub_argv(9, argv);
    assert_string_equal(argv[2], "socks5://alice:*********@198.18.1.2:1080");
    assert_string_equal(argv[4], "t0");
    assert_string_equal(argv[5], "--proxy=socks5://bob:**@[::1]:1");
    /* not the value of --proxy: left alone */
    assert_string_equal(argv[6], "socks5://carol:notaproxy@h:1");
    assert_string_equal(argv[8], "socks5://dave@h:1");

    setenv("TUN2SOCKS_PROXY_AUTH", "envuser:hunter2", 1);
    setenv("TUN2SOCKS_PROXY", "socks5://envuser:hunter3@h:1", 1);
    auth = getenv("TUN2SOCKS_PROXY_AUTH") - strlen("TUN2SOCKS_PROXY_AUTH=");
    t2s_config_scrub_environment();
    assert_null(getenv("TUN2SOCKS_PROXY_AUTH"));
    /* the bytes themselves are gone, not only the pointer */
    for (size_t i = 0; i < strlen("TUN2SOCKS_PROXY_AUTH=envuser:hunter2"); i++)
        assert_int_equal(auth[i], '\0');
    assert_string_equal(getenv("TUN2SOCKS_PROXY"),
                        "socks5://envuser:*******@h:1");
    unsetenv("TUN2SOCKS_PROXY");
    t2s_config_scrub_environment(); /* nothing to do is fine */
}

/* --user NAME: validated here, looked up by the program. */
static void
test_user_option(void **state)
{
    struct t2s_config c;

    (void)state;
    t2s_config_init(&c);
    assert_string_equal(c.user, "");
    assert_int_equal(t2s_config_set(&c, "user", "nobody", err, sizeof(err)), 0);
    assert_string_equal(c.user, "nobody");
    assert_int_equal(t2s_config_set(&c, "user", "", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "user", "a/b", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "user",
                       "a-name-much-longer-than-any-user-name-should-ever-be-"
                       "on-a-unix-system",
                       err, sizeof(err)),
        -1);
}

/* Idle TCP default: like the kernel's conntrack for established TCP
 * (5 days), so idle interactive sessions (SSH) are not cut. */
static void
test_idle_default(void **state)
{
    struct t2s_config c;

    (void)state;
    t2s_config_init(&c);
    assert_int_equal(c.idle_timeout_ms, 432000u * 1000u);
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "432000", err, sizeof(err)), 0);
    assert_int_equal(c.idle_timeout_ms, 432000u * 1000u);
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "2592000", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "idle-timeout", "2592001", err, sizeof(err)), -1);
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
        cmocka_unit_test(test_url_more_valid),
        cmocka_unit_test(test_url_keeps_unparsed_fields),
        cmocka_unit_test(test_url_more_malformed),
        cmocka_unit_test(test_url_errors_never_show_password),
        cmocka_unit_test(test_set_every_key),
        cmocka_unit_test(test_errors_fit_small_buffers),
        cmocka_unit_test(test_load_file_more),
        cmocka_unit_test(test_args_more),
        cmocka_unit_test(test_environment_more),
        cmocka_unit_test(test_resolve_more),
        cmocka_unit_test(test_contract_gaps),
        cmocka_unit_test(test_secret_file_modes),
        cmocka_unit_test(test_route_script_trust),
        cmocka_unit_test(test_scrub_argv_env),
        cmocka_unit_test(test_user_option),
        cmocka_unit_test(test_idle_default),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
