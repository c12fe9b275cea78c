/* The command line (tun2socks/args.c), the program's own options and the
 * route-script trust rule. */
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
#include "config/options.h"
#include "route_trust.h"
#include "usage.h"
#include "config_test.h"

/*
 * Cases where the implementation departs from the contract (or from
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
test_args(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(args(&c, "--help", NULL), T2S_ARGS_HELP);
    assert_int_equal(args(&c, "--tun", "t", "--version", NULL),
                     T2S_ARGS_VERSION);
    assert_int_equal(args(&c, "--bogus", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "--bogus"));
    assert_int_equal(args(&c, "--tun", NULL), T2S_ARGS_ERR);
    assert_int_equal(args(&c, "stray", NULL), T2S_ARGS_ERR);
    assert_int_equal(args(&c, "--tun", "t0", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "proxy"));
    assert_int_equal(args(&c, "--proxy", "socks5://h:1", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "TUN"));
    assert_int_equal(args(&c, "--tun", "t0", "--tun-fd", "3", "--proxy",
                          "socks5://h:1", NULL),
                     T2S_ARGS_ERR);
    assert_int_equal(args(&c, "--tun=t0", "--proxy=socks5://h:1",
                          "--socks-pipeline", "--mtu", "9000", NULL),
                     T2S_ARGS_OK);
    assert_string_equal(c.tun_name, "t0");
    assert_int_equal(c.socks_pipeline, 1);
    assert_int_equal(c.mtu, 9000);

    /* the file first, flags override it, in any order */
    path = write_temp("mtu = 1400\ntun = fromfile\nproxy = socks5://h:2\n");
    assert_int_equal(args(&c, "--mtu", "1600", "--config", path, NULL),
                     T2S_ARGS_OK);
    assert_int_equal(c.mtu, 1600);
    assert_string_equal(c.tun_name, "fromfile");
    assert_int_equal(c.proxy.port, 2);
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
        T2S_ARGS_HELP);
    assert_int_equal(args(&c, "--version", NULL), T2S_ARGS_VERSION);
    assert_int_equal(args(&c, NULL), T2S_ARGS_ERR);
    assert_true(strlen(err) > 0);

    /* unknown flags are named, with or without a value */
    assert_int_equal(args(&c, "--tun", "t0", "--frobnicate", NULL),
                     T2S_ARGS_ERR);
    assert_non_null(strstr(err, "--frobnicate"));
    assert_int_equal(args(&c, "--frobnicate=7", NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, "frobnicate"));

    /* missing values */
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--mtu", NULL),
        T2S_ARGS_ERR);
    assert_non_null(strstr(err, "mtu"));
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--mtu=", NULL),
        T2S_ARGS_ERR);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", NULL), T2S_ARGS_ERR);
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--config", NULL),
        T2S_ARGS_ERR);

    /* every value-taking flag in both forms; the same state each time */
    for (int round = 0; round < 3; round++) {
        assert_int_equal(
            args(&c, "--tun-fd", "5", "--proxy=socks5://198.18.1.2:1080",
                 "--mtu=1280", "--loglevel", "warn", "--connect-timeout=7",
                 "--idle-timeout", "0", "--max-conns=100", "--fwmark", "0x2a",
                 "--interface=eth1", "--socks-pipeline=off", NULL),
            T2S_ARGS_OK);
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
                     T2S_ARGS_OK);
    assert_string_equal(c.tun_ipv4, "198.18.0.1/15");
    assert_string_equal(c.tun_ipv6, "fd00::1/64");

    /* a later flag overrides an earlier one; --proxy adds a proxy */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--proxy", "socks5://h:2", "--mtu", "1400", "--mtu",
                          "1500", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(c.proxy_count, 2);
    assert_int_equal(c.proxy.port, 1);
    assert_int_equal(t2s_config_proxy(&c, 1)->port, 2);
    assert_int_equal(c.mtu, 1500);

    /* a bad value is reported, without the password */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy",
                          "socks5://alice:" SECRET "@h:0", NULL),
                     T2S_ARGS_ERR);
    assert_true(strlen(err) > 0);
    assert_no_secret("--proxy bad port");
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy=socks5://alice:" SECRET "@h:x", NULL),
        T2S_ARGS_ERR);
    assert_no_secret("--proxy= bad port");

    /* --tun and --tun-fd exclude each other, in either order */
    assert_int_equal(
        args(&c, "--tun-fd=3", "--proxy", "socks5://h:1", "--tun=t0", NULL),
        T2S_ARGS_ERR);
    assert_true(strlen(err) > 0);

    /* --route: a --tun device only; --route-script absolute */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--route", "--route-script", "/x/route", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(prog.route, 1);
    assert_string_equal(prog.route_script, "/x/route");
    assert_int_equal(
        args(&c, "--tun-fd", "3", "--proxy", "socks5://h:1", "--route", NULL),
        T2S_ARGS_ERR);
    assert_non_null(strstr(err, "--route needs --tun"));
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--route-script", "relative/route", NULL),
                     T2S_ARGS_ERR);
    assert_non_null(strstr(err, "absolute"));

    /* --config=FILE form; flags before and after it override the file */
    path = write_temp("tun = fromfile\nmtu = 1400\nloglevel = debug\n"
                      "proxy = socks5://f:fp@h:3\n");
    {
        char opt[128];

        snprintf(opt, sizeof(opt), "--config=%s", path);
        assert_int_equal(args(&c, "--loglevel", "error", opt, "--proxy",
                              "socks5://h:4", NULL),
                         T2S_ARGS_OK);
    }
    assert_string_equal(c.tun_name, "fromfile");
    assert_int_equal(c.mtu, 1400);
    assert_int_equal(c.loglevel, 0);
    assert_int_equal(c.proxy.port, 4);
    /* the file's credentials stay: the --proxy URL had none */
    unlink(path);

    /* the command line's --proxy replaces the file's list */
    path = write_temp("tun = t1\nproxy = socks5://h:6\nproxy = socks5://h:7\n");
    assert_int_equal(args(&c, "--config", path, NULL), T2S_ARGS_OK);
    assert_int_equal(c.proxy_count, 2);
    assert_int_equal(args(&c, "--config", path, "--proxy", "socks5://h:8",
                          "--proxy", "socks5://h:9", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(c.proxy_count, 2);
    assert_int_equal(c.proxy.port, 8);
    assert_int_equal(t2s_config_proxy(&c, 1)->port, 9);
    assert_int_equal(t2s_config_proxy(&c, 2)->port, 0);
    unlink(path);

    /* a file that gives only the proxy completes the command line */
    path = write_temp("proxy = socks5://h:5\n");
    assert_int_equal(args(&c, "--config", path, "--tun", "t1", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(c.proxy.port, 5);
    unlink(path);

    /* a missing or broken config file is an error */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", "/nonexistent/t2s.conf", NULL),
                     T2S_ARGS_ERR);
    assert_non_null(strstr(err, "/nonexistent/t2s.conf"));
    path = write_temp("mtu = 1\n");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", path, NULL),
                     T2S_ARGS_ERR);
    assert_non_null(strstr(err, ":1:"));
    unlink(path);
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
            t2s_proxy_addr_resolve(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:224.0.0.1] (mapped multicast) accepted");
    gap(url("socks5://[::ffff:0.0.0.0]:1", &p) == 0 &&
            t2s_proxy_addr_resolve(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:0.0.0.0] (mapped unspecified) accepted");
    gap(url("socks5://[::ffff:255.255.255.255]:1", &p) == 0 &&
            t2s_proxy_addr_resolve(&p, err, sizeof(err)) == -1,
        "proxy [::ffff:255.255.255.255] (mapped broadcast) accepted");

    assert_int_equal(gaps, 0);
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
    t2s_opts_init(&prog);
    assert_int_equal(t2s_config_file_read(&c, conf, t2s_opts_file_key, &prog,
                                          err, sizeof(err)),
                     0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), 0);

    /* group- or world-writable file */
    assert_int_equal(chmod(script, 0775), 0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);
    assert_non_null(strstr(err, script));
    assert_null(strchr(err, '\n'));
    assert_int_equal(chmod(script, 0757), 0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);
    assert_int_equal(chmod(script, 0755), 0);

    /* not owned by root */
    assert_int_equal(chown(script, 65534, 65534), 0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "root"));
    assert_int_equal(chown(script, 0, 0), 0);

    /* a directory others can write to (without the sticky bit) */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);
    assert_non_null(strstr(err, dir));
    assert_int_equal(chmod(dir, 0755), 0);

    /* missing file */
    assert_int_equal(unlink(script), 0);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);

    /* an untrusted script given on the command line: the caller chose it */
    fd = open(script, O_WRONLY | O_CREAT | O_EXCL, 0755);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(script, 0777), 0);
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", conf, "--route-script", script, NULL),
                     T2S_ARGS_OK);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), 0);
    /* ... but a config file's key is checked even when the flags come
     * from the same command line */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--config", conf, NULL),
                     T2S_ARGS_OK);
    assert_int_equal(t2s_route_trust_check(&prog, err, sizeof(err)), -1);

    unlink(script);
    unlink(conf);
    rmdir(dir);
}

/* --user NAME: validated here, looked up by privsep.c. */
static void
test_user_option(void **state)
{
    struct t2s_opts c;

    (void)state;
    t2s_opts_init(&c);
    assert_string_equal(c.user, "");
    assert_int_equal(t2s_opts_set(&c, "user", "nobody", err, sizeof(err)), 0);
    assert_string_equal(c.user, "nobody");
    assert_int_equal(t2s_opts_set(&c, "user", "", err, sizeof(err)), -1);
    assert_int_equal(t2s_opts_set(&c, "user", "a/b", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_opts_set(&c, "user",
                     "a-name-much-longer-than-any-user-name-should-ever-be-"
                     "on-a-unix-system",
                     err, sizeof(err)),
        -1);
}

/* --help lists every option of both tables, and each library option's
 * default as t2s_config_init() sets it. */
static void
test_usage_lists_options_and_defaults(void **state)
{
    struct t2s_config d;
    const struct t2s_option *o;
    const struct t2s_opts_entry *e;
    char *text = NULL, want[160], v[128];
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);

    (void)state;
    assert_non_null(f);
    t2s_usage_print(f, "tun2socks");
    fclose(f);
    t2s_config_init(&d);
    for (size_t i = 0; (o = t2s_options_at(i)) != NULL; i++) {
        const char *line;

        snprintf(want, sizeof(want), "  --%s%s%s ", o->name,
                 o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
        line = strstr(text, want);
        if (line == NULL)
            fail_msg("--help does not list --%s", o->name);
        if (o->arg == NULL || !o->get(&d, 0, v, sizeof(v)) || v[0] == '\0')
            continue;
        snprintf(want, sizeof(want), "(default %s", v);
        if (strstr(line, want) == NULL ||
            strstr(line, want) > strchr(line, '\n'))
            fail_msg("--help: --%s does not say %s)", o->name, want);
    }
    for (size_t i = 0; (e = t2s_opts_at(i)) != NULL; i++) {
        snprintf(want, sizeof(want), "  --%s", e->name);
        if (strstr(text, want) == NULL)
            fail_msg("--help does not list --%s", e->name);
    }
    free(text);
}

/* The program's keys in a config file: --print-config and --config are
 * command line only. */
static void
test_program_keys_in_file(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    path = write_temp("tun = t0\nproxy = socks5://h:1\nuser = daemon\n"
                      "route = yes\nroute-script = /opt/r\n");
    assert_int_equal(args(&c, "--config", path, NULL), T2S_ARGS_OK);
    assert_string_equal(prog.user, "daemon");
    assert_int_equal(prog.route, 1);
    assert_int_equal(prog.route_script_from_file, 1);
    unlink(path);
    path = write_temp("tun = t0\nprint-config = yes\n");
    assert_int_equal(args(&c, "--config", path, NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, ":2: unknown option 'print-config'"));
    unlink(path);
    path = write_temp("config = /etc/other.conf\n");
    assert_int_equal(args(&c, "--config", path, NULL), T2S_ARGS_ERR);
    assert_non_null(strstr(err, ":1: nested config not allowed"));
    unlink(path);
    /* the library alone does not know them */
    t2s_config_init(&c);
    assert_int_equal(t2s_config_set(&c, "route", "yes", err, sizeof(err)), -1);
    assert_int_equal(t2s_config_set(&c, "user", "daemon", err, sizeof(err)),
                     -1);
    assert_int_equal(
        t2s_config_set(&c, "print-config", "yes", err, sizeof(err)), -1);
}

/* shadowsocks-android's exact command line (compat.h). */
static void
test_compat_shadowsocks_android(void **state)
{
    struct t2s_config c;
    char v[128];

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    assert_int_equal(
        args(&c, "--netif-ipaddr", "172.19.0.2", "--socks-server-addr",
             "127.0.0.1:1080", "--tunmtu", "1500", "--sock-path", "sock_path",
             "--dnsgw", "127.0.0.1:5450", "--loglevel", "warning",
             "--netif-ip6addr", "fdfe:dcba:9876::2", "--enable-udprelay", NULL),
        T2S_ARGS_OK);
    assert_string_equal(prog.sock_path, "sock_path");
    assert_int_equal(c.tun_fd, -1);
    assert_int_equal(c.mtu, 1500);
    assert_int_equal(c.loglevel, 1); /* warn */
    t2s_config_get(&c, "proxy", 0, v, sizeof(v));
    assert_string_equal(v, "socks5://127.0.0.1:1080");
    t2s_config_get(&c, "dns-gateway", 0, v, sizeof(v));
    assert_string_equal(v, "127.0.0.1:5450");
    assert_int_equal(args(&c, "--socks-server-addr", "[::1]:1080",
                          "--sock-path", "p", "--netif-netmask",
                          "255.255.255.252", "--loglevel", "5", NULL),
                     T2S_ARGS_OK);
    t2s_config_get(&c, "proxy", 0, v, sizeof(v));
    assert_string_equal(v, "socks5://[::1]:1080");
    assert_int_equal(c.loglevel, 3); /* debug */
    assert_int_equal(args(&c, "--proxy", "socks5://h:1", "--sock-path", "p",
                          "--loglevel", "none", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(c.loglevel, 0);
}

static void
test_compat_bad_values(void **state)
{
    struct t2s_config c;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
#define BAD(what, ...)                                                         \
    do {                                                                       \
        assert_int_equal(                                                      \
            args(&c, "--proxy", "socks5://h:1", __VA_ARGS__, NULL),            \
            T2S_ARGS_ERR);                                                     \
        assert_non_null(strstr(err, what));                                    \
        assert_null(strchr(err, '\n'));                                        \
    } while (0)
    BAD("--netif-ipaddr", "--sock-path", "p", "--netif-ipaddr", "fd00::1");
    BAD("--netif-netmask", "--sock-path", "p", "--netif-netmask",
        "255.0.255.0");
    BAD("--netif-ip6addr", "--sock-path", "p", "--netif-ip6addr", "1.2.3.4");
    BAD("--socks-server-addr", "--sock-path", "p", "--socks-server-addr",
        "u:pw@h:1");
    BAD("--dns-gateway", "--sock-path", "p", "--dnsgw", "127.0.0.1:0");
    BAD("MTU", "--sock-path", "p", "--tunmtu", "100");
    BAD("log level", "--sock-path", "p", "--loglevel", "6");
    BAD("one of --tun", "--sock-path", "p", "--tun-fd", "3");
    BAD("one of --tun", "--sock-path", "p", "--tun", "t0");
    BAD("--route needs --tun", "--sock-path", "p", "--route");
    BAD("--sock-path", "--sock-path", "", "--mtu", "1500");
#undef BAD
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_args_more),
        cmocka_unit_test(test_contract_gaps),
        cmocka_unit_test(test_route_script_trust),
        cmocka_unit_test(test_user_option),
        cmocka_unit_test(test_usage_lists_options_and_defaults),
        cmocka_unit_test(test_program_keys_in_file),
        cmocka_unit_test(test_compat_shadowsocks_android),
        cmocka_unit_test(test_compat_bad_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
