/* Option values, t2s_config_set() and the config file (lib/config). */
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
#include "config_test.h"

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
    assert_int_equal(
        t2s_config_set(&c, "socks-pipeline", "AUTO", err, sizeof(err)), 0);
    assert_int_equal(c.socks_pipeline, T2S_SOCKS_PIPELINE_AUTO);
    {
        char v[16];
        struct t2s_config d;

        t2s_config_init(&d);
        assert_int_equal(d.socks_pipeline, T2S_SOCKS_PIPELINE_AUTO);
        assert_int_equal(t2s_config_get(&c, "socks-pipeline", 0, v, sizeof(v)),
                         1);
        assert_string_equal(v, "auto");
    }
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
    {
        char v[64];

        assert_int_equal(c.gw_family, 0); /* default: no gateway */
        assert_int_equal(t2s_config_set(&c, "dns-gateway", "[fd00::53]:5353",
                                        err, sizeof(err)),
                         0);
        assert_int_equal(c.gw_family, AF_INET6);
        assert_int_equal(c.gw_port, 5353);
        assert_int_equal(
            t2s_config_set(&c, "dns-gateway", "127.0.0.1", err, sizeof(err)),
            0);
        assert_int_equal(t2s_config_get(&c, "dns-gateway", 0, v, sizeof(v)), 1);
        assert_string_equal(v, "127.0.0.1:53");
        assert_int_equal(
            t2s_config_set(&c, "dns-gateway", "127.0.0.1:x", err, sizeof(err)),
            -1);
        assert_non_null(strstr(err, "--dns-gateway"));
        assert_int_equal(t2s_config_reset(&c, "dns-gateway", err, sizeof(err)),
                         0);
        assert_int_equal(c.gw_family, 0);
    }
    assert_int_equal(
        t2s_config_set(&c, "fake-ip-pool", "198.18.0.0/31", err, sizeof(err)),
        -1);
    assert_int_equal(t2s_config_set(&c, "bogus", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(t2s_config_set(&c, "mtu", NULL, err, sizeof(err)), -1);
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
        t2s_proxy_url_parse("https://h:1", &p, small, sizeof(small)), -1);
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

/* Idle TCP default: like the kernel's conntrack for established TCP
 * (5 days), so idle interactive sessions (SSH) are not cut. */
/* --proxy repeated: a list of at most T2S_PROXY_MAX, "proxy =" empties
 * it, the getter gives one URL per proxy, the policy by name. */
static void
test_several_proxies(void **state)
{
    struct t2s_config c;
    char url[64], out[300];

    (void)state;
    t2s_config_init(&c);
    assert_int_equal(c.proxy_policy, T2S_PROXY_FAILOVER);
    assert_int_equal(t2s_config_get(&c, "proxy", 0, out, sizeof(out)), 1);
    assert_string_equal(out, "");
    for (unsigned i = 0; i < T2S_PROXY_MAX; i++) {
        snprintf(url, sizeof(url), "socks5://u%u:p@198.18.0.%u:%u", i, i + 1,
                 1000 + i);
        assert_int_equal(t2s_config_set(&c, "proxy", url, err, sizeof(err)), 0);
    }
    assert_int_equal(c.proxy_count, T2S_PROXY_MAX);
    assert_int_equal(t2s_config_proxy(&c, 5)->port, 1005);
    assert_string_equal(t2s_config_proxy(&c, 5)->user, "u5");
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:1", err, sizeof(err)), -1);
    assert_string_equal(err, "too many proxies (at most 16)");
    assert_int_equal(t2s_config_get(&c, "proxy", 15, out, sizeof(out)), 1);
    assert_string_equal(out, "socks5://198.18.0.16:1015");
    assert_int_equal(t2s_config_get(&c, "proxy", 16, out, sizeof(out)), 0);
    /* "proxy =" empties the list; a bad URL then adds nothing */
    assert_int_equal(t2s_config_reset(&c, "proxy", err, sizeof(err)), 0);
    assert_int_equal(c.proxy_count, 0);
    assert_int_equal(t2s_config_proxy(&c, 5)->pass_len, 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:0", err, sizeof(err)), -1);
    assert_int_equal(c.proxy_count, 0);

    assert_int_equal(
        t2s_config_set(&c, "proxy-policy", "round-robin", err, sizeof(err)), 0);
    assert_int_equal(c.proxy_policy, T2S_PROXY_ROUND_ROBIN);
    assert_int_equal(t2s_config_get(&c, "proxy-policy", 0, out, sizeof(out)),
                     1);
    assert_string_equal(out, "round-robin");
    assert_int_equal(
        t2s_config_set(&c, "proxy-policy", "random", err, sizeof(err)), -1);
    assert_string_equal(err,
                        "bad --proxy-policy 'random' (failover, round-robin)");

    /* one protocol in a list (socks5h is socks5); a mismatch adds nothing */
    assert_int_equal(t2s_config_reset(&c, "proxy", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:1", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5h://h:2", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "http://h:3", err, sizeof(err)), -1);
    assert_string_equal(
        err, "several proxies must speak one protocol: http after socks5");
    assert_int_equal(c.proxy_count, 2);
    assert_int_equal(t2s_config_reset(&c, "proxy", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks4://h:1", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks4a://h:2", err, sizeof(err)), -1);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks4://h:3", err, sizeof(err)), 0);
    assert_int_equal(c.proxy_count, 2);
#ifdef T2S_HAVE_GSSAPI
    /* --proxy-gssapi and its level hold for every proxy, given before or
     * after them */
    assert_int_equal(t2s_config_reset(&c, "proxy", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:1", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:2", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy-gssapi", "rcmd", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(&c, "proxy-gssapi-level", "integrity", err, sizeof(err)),
        0);
    assert_int_equal(t2s_config_set(&c, "proxy-gssapi-keytab", "/k.keytab", err,
                                    sizeof(err)),
                     0);
    assert_int_equal(
        t2s_config_set(&c, "proxy", "socks5://h:3", err, sizeof(err)), 0);
    for (unsigned i = 0; i < 3; i++) {
        assert_string_equal(t2s_config_proxy(&c, i)->gss_service, "rcmd");
        assert_string_equal(t2s_config_proxy(&c, i)->gss_keytab, "/k.keytab");
        assert_int_equal(t2s_config_proxy(&c, i)->gss_level, c.proxy.gss_level);
    }
    assert_int_not_equal(c.proxy.gss_level, 0);
#endif
}

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

/* The embedding API's allocation: defaults, and free takes NULL. */
static void
test_new_free_get(void **state)
{
    struct t2s_config *c = t2s_config_new();
    char v[64];

    (void)state;
    assert_non_null(c);
    assert_int_equal(c->mtu, 65535);
    assert_int_equal(c->tun_fd, -1);
    assert_int_equal(t2s_config_set(c, "proxy", "socks5://u:" SECRET "@h:1",
                                    err, sizeof(err)),
                     0);
    assert_int_equal(t2s_config_get(c, "proxy", 0, v, sizeof(v)), 1);
    assert_string_equal(v, "socks5://h:1");
    assert_int_equal(t2s_config_get(c, "proxy", 1, v, sizeof(v)), 0);
    assert_int_equal(t2s_config_get(c, "dns-addr", 1, v, sizeof(v)), 1);
    assert_string_equal(v, "fd00:18::2");
    assert_int_equal(t2s_config_get(c, "dns-addr", 2, v, sizeof(v)), 0);
    assert_int_equal(t2s_config_get(c, "bogus", 0, v, sizeof(v)), 0);
    assert_int_equal(t2s_config_get(c, "tun", 0, v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(t2s_config_reset(c, "proxy", err, sizeof(err)), 0);
    assert_int_equal(c->proxy_given, 0);
    assert_int_equal(c->proxy.pass_len, 0);
    assert_int_equal(t2s_config_reset(c, "mtu", err, sizeof(err)), -1);
    t2s_config_free(c);
    t2s_config_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_options),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_set_every_key),
        cmocka_unit_test(test_errors_fit_small_buffers),
        cmocka_unit_test(test_load_file_more),
        cmocka_unit_test(test_several_proxies),
        cmocka_unit_test(test_idle_default),
        cmocka_unit_test(test_new_free_get),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
