/* The proxy URL codec (proxy_url.c) and address resolution (proxy_addr.c). */
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

/* Every scheme parses, keeps its kind and is written back without the
 * credentials, in a form that parses to the same scheme, host and port. */
static void
test_url_schemes(void **state)
{
    static const struct {
        const char *in, *out;
        unsigned scheme;
        const char *user, *pass;
    } ok[] = {
        {"socks5://h:1", "socks5://h:1", T2S_PROXY_SOCKS5, "", ""},
        {"SOCKS5H://u:p@h:2", "socks5h://h:2", T2S_PROXY_SOCKS5H, "u", "p"},
        {"socks4://198.18.0.1:1080", "socks4://198.18.0.1:1080",
         T2S_PROXY_SOCKS4, "", ""},
        {"socks4://nobody@h:3", "socks4://h:3", T2S_PROXY_SOCKS4, "nobody", ""},
        {"socks4a://id%40x@[fd00::1]:4", "socks4a://[fd00::1]:4",
         T2S_PROXY_SOCKS4A, "id@x", ""},
        {"http://h:3128", "http://h:3128", T2S_PROXY_HTTP, "", ""},
        {"http://alice:" SECRET "@h:8080/", "http://h:8080", T2S_PROXY_HTTP,
         "alice", SECRET},
        {"http://bob@h:8080", "http://h:8080", T2S_PROXY_HTTP, "bob", ""},
    };
    struct t2s_proxy p, again;
    char out[300];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(&p, 0, sizeof(p));
        if (url(ok[i].in, &p) != 0)
            fail_msg("refused '%s': %s", ok[i].in, err);
        assert_int_equal(p.scheme, ok[i].scheme);
        assert_string_equal(p.user, ok[i].user);
        assert_string_equal(p.pass, ok[i].pass);
        t2s_proxy_url_format(&p, out, sizeof(out));
        assert_string_equal(out, ok[i].out);
        memset(&again, 0, sizeof(again));
        assert_int_equal(url(out, &again), 0);
        assert_int_equal(again.scheme, p.scheme);
        assert_int_equal(again.port, p.port);
        assert_int_equal(t2s_proxy_url_has_udp(&p),
                         ok[i].scheme <= T2S_PROXY_SOCKS5H);
    }
    assert_string_equal(t2s_proxy_url_scheme_name(T2S_PROXY_HTTP), "http");
}

static void
test_url_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "198.18.1.2:1080",
        "https://198.18.1.2:1080",
        "socks6://198.18.1.2:1080",
        "socks5x://198.18.1.2:1080",
        "socks4://u:p@198.18.1.2:1080",
        "socks4a://u:@198.18.1.2:1080",
        "http://a%3Ab:p@198.18.1.2:3128",
        "http//198.18.1.2:3128",
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
test_resolve(void **state)
{
    struct t2s_proxy p;

    (void)state;
    assert_int_equal(url("socks5://127.0.0.1:1080", &p), 0);
    assert_int_equal(t2s_proxy_addr_resolve(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr.ss_family, AF_INET);
    assert_int_equal(url("socks5://[::1]:1080", &p), 0);
    assert_int_equal(t2s_proxy_addr_resolve(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr.ss_family, AF_INET6);
    static const char *const unusable[] = {
        "socks5://0.0.0.0:1", "socks5://[::]:1", "socks5://224.0.0.1:1",
        "socks5://255.255.255.255:1", "socks5://[ff02::1]:1"};
    for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++) {
        assert_int_equal(url(unusable[i], &p), 0);
        if (t2s_proxy_addr_resolve(&p, err, sizeof(err)) != -1)
            fail_msg("accepted %s", unusable[i]);
    }
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
    assert_int_equal(t2s_proxy_url_parse("socks5://h:7", &p, err, sizeof(err)),
                     0);
    assert_string_equal(p.host, "h");
    assert_int_equal(p.port, 7);
    assert_string_equal(p.user, "keep");
    assert_int_equal(p.user_len, 4);
    assert_string_equal(p.pass, "kept");
    assert_int_equal(p.pass_len, 4);

    /* a rejected URL leaves everything as it was */
    assert_int_equal(
        t2s_proxy_url_parse("socks5://x:y@h2:0", &p, err, sizeof(err)), -1);
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
        "socks5hx://h:1",
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
        "https://alice:" SECRET "@h:1",
        "socks4://alice:" SECRET "@h:1",
        "socks4a://alice:" SECRET "@h:1",
        "http://alice:" SECRET "@h",
        "http://a%3Ab:" SECRET "@h:1",
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
test_resolve_more(void **state)
{
    struct t2s_proxy p;
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;

    (void)state;
    assert_int_equal(url("socks5://127.0.0.1:1080", &p), 0);
    assert_int_equal(p.addr_len, 0);
    assert_int_equal(t2s_proxy_addr_resolve(&p, err, sizeof(err)), 0);
    assert_int_equal(p.addr_len, sizeof(struct sockaddr_in));
    sin = (const struct sockaddr_in *)&p.addr;
    assert_int_equal(sin->sin_port, htons(1080));
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);

    assert_int_equal(url("socks5://[::1]:65535", &p), 0);
    assert_int_equal(t2s_proxy_addr_resolve(&p, err, sizeof(err)), 0);
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
        if (t2s_proxy_addr_resolve(&p, err, sizeof(err)) != -1)
            fail_msg("accepted %s", unusable[i]);
        assert_true(strlen(err) > 0);
        assert_null(strchr(err, '\n'));
    }
    /* a name that cannot exist (RFC 6761 .invalid) fails with an error */
    assert_int_equal(url("socks5://no-such-host.invalid:1", &p), 0);
    assert_int_equal(t2s_proxy_addr_resolve(&p, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_valid),
        cmocka_unit_test(test_url_lengths),
        cmocka_unit_test(test_url_schemes),
        cmocka_unit_test(test_url_malformed),
        cmocka_unit_test(test_url_error_hides_password),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_url_more_valid),
        cmocka_unit_test(test_url_keeps_unparsed_fields),
        cmocka_unit_test(test_url_more_malformed),
        cmocka_unit_test(test_url_errors_never_show_password),
        cmocka_unit_test(test_resolve_more),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
