/*
 * Fuzz target for configuration parsing. The input (as a NUL-terminated
 * string) is parsed as a proxy URL; an accepted URL must re-encode to a URL
 * that parses to the same fields. The raw bytes are also loaded as a config
 * file through a memfd, and split at newlines into a command line. None of
 * it may crash, and every error is one non-empty line. An accepted command
 * line (without blanks in its values, which a config file trims) written
 * out by --print-config and read back as a config file prints the same.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "args.h"
#include "config/config.h"
#include "opts.h"
#include "print_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 24

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_err(const char *err)
{
    check(err[0] != '\0' && strchr(err, '\n') == NULL);
}

static size_t
pct_encode(char *out, const char *in, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9')) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    return o;
}

/* An accepted URL, written back out canonically, parses to the same. */
static void
check_roundtrip(const struct t2s_proxy *p)
{
    char buf[9 + 3 * 255 + 1 + 3 * 255 + 1 + 2 + 255 + 7 + 1];
    struct t2s_proxy q;
    char err[512];
    size_t n = 0;

    check(p->port != 0 && p->host[0] != '\0' && p->user_len <= 255 &&
          p->pass_len <= 255 && strlen(p->host) < sizeof(p->host));
    memcpy(buf, "socks5://", 9);
    n = 9;
    if (p->user_len > 0) {
        n += pct_encode(buf + n, p->user, p->user_len);
        if (p->pass_len > 0) {
            buf[n++] = ':';
            n += pct_encode(buf + n, p->pass, p->pass_len);
        }
        buf[n++] = '@';
    }
    n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                          strchr(p->host, ':') != NULL ? "[%s]:%u" : "%s:%u",
                          p->host, (unsigned)p->port);
    check(n < sizeof(buf));
    memset(&q, 0, sizeof(q));
    if (t2s_proxy_url_parse(buf, &q, err, sizeof(err)) != 0)
        abort();
    check(strcmp(p->host, q.host) == 0 && p->port == q.port);
    check(p->user_len == q.user_len &&
          memcmp(p->user, q.user, p->user_len) == 0);
    if (p->user_len > 0)
        check(p->pass_len == q.pass_len &&
              memcmp(p->pass, q.pass, p->pass_len) == 0);
}

static void
fuzz_url(const char *s)
{
    struct t2s_proxy p;
    char err[512];

    memset(&p, 0, sizeof(p));
    err[0] = '\0';
    if (t2s_proxy_url_parse(s, &p, err, sizeof(err)) == 0)
        check_roundtrip(&p);
    else
        check_err(err);
}

static void
fuzz_file(const uint8_t *data, size_t size)
{
    struct t2s_config c;
    char err[512], path[64];
    int fd = memfd_create("t2s-fuzz-config", MFD_CLOEXEC);

    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        t2s_config_init(&c);
        err[0] = '\0';
        if (t2s_config_load_file(&c, path, err, sizeof(err)) != 0)
            check_err(err);
    }
    close(fd);
}

/* The --print-config text of c and o (malloc'd); *body after its leading
 * comment lines (the header, and one proxy-auth line per proxy, which
 * differ: credentials are not printed). */
static char *
print_config(const struct t2s_config *c, const struct t2s_opts *o,
             const char **body)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);

    check(f != NULL);
    check(t2s_print_config_write(f, c, o) == 0);
    fclose(f);
    *body = text;
    while (**body == '#') {
        *body = strchr(*body, '\n');
        check(*body != NULL);
        (*body)++;
    }
    return text;
}

static void
check_print_roundtrip(const struct t2s_config *c, const struct t2s_opts *o)
{
    struct t2s_config c2;
    struct t2s_opts o2;
    const char *body, *body2;
    char *text = print_config(c, o, &body), *text2;
    char err[512], path[64];
    int fd = memfd_create("t2s-fuzz-print", MFD_CLOEXEC);

    check(fd >= 0);
    check(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    t2s_config_init(&c2);
    t2s_opts_init(&o2);
    if (t2s_config_file_read(&c2, path, t2s_opts_file_key, &o2, err,
                             sizeof(err)) != 0)
        abort();
    close(fd);
    text2 = print_config(&c2, &o2, &body2);
    check(strcmp(body, body2) == 0);
    free(text);
    free(text2);
}

static int
has_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (isspace((unsigned char)*s))
            return 1;
    return 0;
}

/*
 * Newline-separated arguments. Inputs that could name --config or
 * --proxy-auth-file are skipped, so no file (such as /dev/stdin) is opened.
 */
static void
fuzz_args(char *s)
{
    struct t2s_config c;
    struct t2s_opts o;
    char argv0[] = "tun2socks";
    char *argv[MAX_ARGS + 1], err[512];
    int argc = 0, rc, blanks = 0;

    if (strstr(s, "config") != NULL || strstr(s, "auth-file") != NULL)
        return;
    argv[argc++] = argv0;
    for (char *tok = s; tok != NULL && argc < MAX_ARGS;) {
        char *nl = strchr(tok, '\n');

        if (nl != NULL)
            *nl = '\0';
        argv[argc++] = tok;
        blanks |= has_blank(tok);
        tok = nl != NULL ? nl + 1 : NULL;
    }
    argv[argc] = NULL;
    t2s_config_init(&c);
    t2s_opts_init(&o);
    err[0] = '\0';
    rc = t2s_args_parse(&c, &o, argc, argv, err, sizeof(err));
    check(rc == T2S_ARGS_OK || rc == T2S_ARGS_HELP || rc == T2S_ARGS_VERSION ||
          rc == T2S_ARGS_ERR);
    if (rc == T2S_ARGS_ERR) {
        check_err(err);
        return;
    }
    if (rc == T2S_ARGS_OK) {
        check((c.tun_name[0] != '\0') != (c.tun_fd >= 0));
        check(c.proxy_given && c.proxy.port != 0);
        check(c.mtu >= 576 && c.mtu <= 65535);
        if (!blanks)
            check_print_roundtrip(&c, &o);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    unsetenv("TUN2SOCKS_PROXY");
    unsetenv("TUN2SOCKS_PROXY_AUTH");
    fuzz_url(s);
    fuzz_file(data, size);
    fuzz_args(s);
    free(s);
    return 0;
}
