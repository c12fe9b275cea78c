/*
 * --print-config (tun2socks/print_config.c): the output read back as a
 * config file gives the same settings, every option of both tables is
 * printed, and no password is, however it was given.
 */
#include <fcntl.h>
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
#include "config/options.h"
#include "opts.h"
#include "print_config.h"
#include "route.h"
#include "config_test.h"

static char out[8192];

/* The lines for c and o into out (and into a 0600 file, whose path is
 * returned when file is not NULL). */
static void
print_to(const struct t2s_config *c, const struct t2s_opts *o, char *file)
{
    FILE *f = fmemopen(out, sizeof(out), "w");

    assert_non_null(f);
    assert_int_equal(t2s_print_config_write(f, c, o), 0);
    fclose(f);
    if (file != NULL) {
        snprintf(file, 64, "%s", write_temp(out));
        assert_int_equal(chmod(file, 0600), 0);
    }
}

/* The first from in s becomes to (not longer than from). */
static void
replace_once(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    size_t fl = strlen(from), tl = strlen(to);

    assert_non_null(p);
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    memcpy(p, to, tl);
}

/* Credentials are not printed: forget them before comparing. */
static void
forget_credentials(struct t2s_config *c)
{
    memset(c->proxy.user, 0, sizeof(c->proxy.user));
    memset(c->proxy.pass, 0, sizeof(c->proxy.pass));
    c->proxy.user_len = 0;
    c->proxy.pass_len = 0;
}

/* c/o printed, read back through --config, printed again: the same
 * settings and the same text. */
static void
assert_round_trip(struct t2s_config *c, struct t2s_opts *o)
{
    struct t2s_config back;
    char file[64], first[sizeof(out)], opt[80];

    print_to(c, o, file);
    memcpy(first, out, sizeof(out));
    snprintf(opt, sizeof(opt), "--config=%s", file);
    if (args(&back, opt, NULL) != T2S_ARGS_OK)
        fail_msg("printed config does not load: %s\n%s", err, first);
    unlink(file);
    print_to(&back, &prog, NULL);
    /* the credentials are the one thing not carried over */
    if (c->proxy.user_len > 0)
        replace_once(first, "# proxy-auth = yes\n", "# proxy-auth = no\n");
    assert_string_equal(out, first);
    forget_credentials(c);
    forget_credentials(&back);
    assert_memory_equal(c, &back, sizeof(back));
    assert_int_equal(prog.route, o->route);
    assert_string_equal(prog.route_script, o->route_script);
    assert_string_equal(prog.user, o->user);
}

static void
test_round_trip_defaults(void **state)
{
    struct t2s_config c;
    struct t2s_opts o;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);
    o = prog;
    assert_round_trip(&c, &o);
}

static void
test_round_trip_everything(void **state)
{
    struct t2s_config c;
    struct t2s_opts o;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(
        args(&c, "--tun", "tun-x", "--tun-ipv4", "198.18.0.5/15", "--tun-ipv6",
             "fd00:18::5/64", "--mtu", "1400", "--proxy",
             "socks5://u:" SECRET "@[fd00::1]:1081", "--connect-timeout", "7",
             "--idle-timeout", "0", "--max-conns", "300", "--memory-limit",
             "3G", "--fwmark", "0x7331", "--interface", "eth7",
             "--socks-pipeline", "--loglevel", "debug", "--udp-timeout", "33",
             "--max-udp", "12", "--dns", "fake-ip", "--dns-addr", "198.18.0.9",
             "--dns-addr", "fd00:18::9", "--dns-resolver", "[fd00::53]:5353",
             "--dns-timeout", "4", "--fake-ip-pool", "198.18.64.0/18",
             "--fake-ip-pool6", "none", "--user", "daemon", "--route",
             "--route-script", "/opt/route", NULL),
        T2S_ARGS_OK);
    o = prog;
    assert_round_trip(&c, &o);
    assert_non_null(strstr(out, "\nmemory-limit = 3G\n"));
    assert_non_null(strstr(out, "\nproxy = socks5://[fd00::1]:1081\n"));
    assert_non_null(strstr(out, "\ndns-addr = 198.18.0.9\n"));
    assert_non_null(strstr(out, "\ndns-addr = fd00:18::9\n"));

    /* other forms of the same kinds of values */
    assert_int_equal(args(&c, "--tun-fd", "4", "--proxy", "socks5://h.test:9",
                          "--memory-limit", "1048577", "--dns", "tcp",
                          "--dns-resolver", "198.18.0.53", "--fake-ip-pool6",
                          "fd00:aa::/96", "--max-udp", "0", NULL),
                     T2S_ARGS_OK);
    o = prog;
    assert_round_trip(&c, &o);
    assert_non_null(strstr(out, "\ntun =\n"));
    assert_non_null(strstr(out, "\ntun-fd = 4\n"));
}

/* Every key of both tables (the ones a config file takes) is printed. */
static void
test_every_option_printed(void **state)
{
    struct t2s_config c;
    const struct t2s_option *lo;
    const struct t2s_opts_entry *e;
    char line[80];

    (void)state;
    t2s_config_init(&c);
    t2s_opts_init(&prog);
    print_to(&c, &prog, NULL);
    for (size_t i = 0; (lo = t2s_options_at(i)) != NULL; i++) {
        snprintf(line, sizeof(line), "\n%s =", lo->name);
        if (strstr(out, line) == NULL)
            fail_msg("'%s' not printed", lo->name);
    }
    for (size_t i = 0; (e = t2s_opts_at(i)) != NULL; i++) {
        snprintf(line, sizeof(line), "\n%s =", e->name);
        if ((strstr(out, line) != NULL) != ((e->where & T2S_OPTS_FILE) != 0))
            fail_msg("'%s': printed exactly when a config file takes it",
                     e->name);
    }
}

/* "key =" in a config file unsets an optional key; a key that needs a
 * value still refuses it. */
static void
test_empty_value_unsets(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    t2s_config_init(&c);
    assert_int_equal(t2s_config_set(&c, "interface", "eth0", err, sizeof(err)),
                     0);
    assert_int_equal(
        t2s_config_set(&c, "dns-resolver", "198.18.0.9", err, sizeof(err)), 0);
    path = write_temp("interface =\ndns-resolver =\nmemory-limit =\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(c.bind_iface, "");
    assert_int_equal(c.resolver_family, 0);
    assert_int_equal(c.memory_limit, 0);
    path = write_temp("dns =\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1:"));
    unlink(path);
}

/* What --route implies is filled in and printed, and read back the same;
 * what was given stays. */
static void
test_route_defaults(void **state)
{
    struct t2s_config c;
    struct t2s_opts o;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(
        args(&c, "--tun", "t0", "--proxy", "socks5://h:1", "--route", NULL),
        T2S_ARGS_OK);
    assert_int_equal(t2s_route_defaults(&c, err, sizeof(err)), 0);
    o = prog;
    assert_round_trip(&c, &o);
    assert_null(strstr(out, "\nfwmark = 0\n"));
    assert_null(strstr(out, "\ntun-ipv4 =\n"));
    assert_null(strstr(out, "\ntun-ipv6 =\n"));
    assert_non_null(strstr(out, "\nroute = yes\n"));

    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1",
                          "--route", "--fwmark", "9", "--tun-ipv4",
                          "198.18.0.5/30", NULL),
                     T2S_ARGS_OK);
    assert_int_equal(t2s_route_defaults(&c, err, sizeof(err)), 0);
    print_to(&c, &prog, NULL);
    assert_non_null(strstr(out, "\nfwmark = 0x9\n"));
    assert_non_null(strstr(out, "\ntun-ipv4 = 198.18.0.5/30\n"));
    assert_non_null(strstr(out, "\ntun-ipv6 =\n"));
}

/* The output for a command line, environment already set. */
static void
print_args_no_secret(const char *what, const char *auth_file, const char *proxy)
{
    struct t2s_config c;
    int rc;

    if (auth_file != NULL)
        rc = args(&c, "--tun", "t0", "--proxy", proxy, "--proxy-auth-file",
                  auth_file, NULL);
    else if (proxy != NULL)
        rc = args(&c, "--tun", "t0", "--proxy", proxy, NULL);
    else
        rc = args(&c, "--tun", "t0", NULL);
    if (rc != T2S_ARGS_OK)
        fail_msg("%s: %s", what, err);
    assert_string_equal(c.proxy.pass, SECRET); /* it was read */
    print_to(&c, &prog, NULL);
    if (strstr(out, SECRET) != NULL)
        fail_msg("%s: --print-config shows the password:\n%s", what, out);
    if (strstr(out, "alice") != NULL)
        fail_msg("%s: --print-config shows the user name:\n%s", what, out);
    assert_non_null(strstr(out, "\n# proxy-auth = yes\n"));
    assert_non_null(strstr(out, "\nproxy = socks5://h:1\n"));
}

static void
test_no_secret(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    print_args_no_secret("URL", NULL, "socks5://alice:" SECRET "@h:1");
    setenv("TUN2SOCKS_PROXY", "socks5://alice:" SECRET "@h:1", 1);
    print_args_no_secret("TUN2SOCKS_PROXY", NULL, NULL);
    unsetenv("TUN2SOCKS_PROXY");
    setenv("TUN2SOCKS_PROXY_AUTH", "alice:" SECRET, 1);
    print_args_no_secret("TUN2SOCKS_PROXY_AUTH", NULL, "socks5://h:1");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    path = write_temp("alice:" SECRET "\n");
    assert_int_equal(chmod(path, 0600), 0);
    print_args_no_secret("--proxy-auth-file", path, "socks5://h:1");
    unlink(path);

    /* without credentials it says so */
    assert_int_equal(args(&c, "--tun", "t0", "--proxy", "socks5://h:1", NULL),
                     T2S_ARGS_OK);
    print_to(&c, &prog, NULL);
    assert_non_null(strstr(out, "\n# proxy-auth = no\n"));
}

/* Several proxies: one proxy line and one proxy-auth line each, in
 * order; read back to the same list and policy. */
static void
test_several_proxies(void **state)
{
    struct t2s_config c;
    struct t2s_opts o;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    assert_int_equal(args(&c, "--tun", "t0", "--proxy",
                          "socks5://alice:" SECRET "@h:1", "--proxy",
                          "socks5://[fd00::2]:2", "--proxy-policy",
                          "round-robin", NULL),
                     T2S_ARGS_OK);
    print_to(&c, &prog, NULL);
    assert_non_null(strstr(out, "# proxy-auth = yes\n# proxy-auth = no\n"));
    assert_non_null(strstr(out, "\nproxy = socks5://h:1\nproxy = "
                                "socks5://[fd00::2]:2\nproxy-policy = "
                                "round-robin\n"));
    assert_null(strstr(out, SECRET));
    o = prog;
    assert_round_trip(&c, &o);
}

/* Every scheme is written back with its name, never the credentials. */
static void
test_schemes_no_secret(void **state)
{
    static const char *const in[][2] = {
        {"http://alice:" SECRET "@h:3128", "\nproxy = http://h:3128\n"},
        {"socks4a://alice@[fd00::1]:1080",
         "\nproxy = socks4a://[fd00::1]:1080\n"},
        {"socks4://alice@h:1080", "\nproxy = socks4://h:1080\n"},
        {"socks5h://alice:" SECRET "@h:1", "\nproxy = socks5h://h:1\n"},
    };
    struct t2s_config c;

    (void)state;
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        if (args(&c, "--tun", "t0", "--proxy", in[i][0], NULL) != T2S_ARGS_OK)
            fail_msg("%s: %s", in[i][0], err);
        print_to(&c, &prog, NULL);
        if (strstr(out, in[i][1]) == NULL)
            fail_msg("want '%s' in:\n%s", in[i][1], out);
        assert_null(strstr(out, SECRET));
        assert_null(strstr(out, "alice"));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_defaults),
        cmocka_unit_test(test_round_trip_everything),
        cmocka_unit_test(test_every_option_printed),
        cmocka_unit_test(test_empty_value_unsets),
        cmocka_unit_test(test_route_defaults),
        cmocka_unit_test(test_no_secret),
        cmocka_unit_test(test_several_proxies),
        cmocka_unit_test(test_schemes_no_secret),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
