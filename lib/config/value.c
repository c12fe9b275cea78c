/* Option values; see value.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config/value.h"

int
t2s_value_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int
t2s_value_ulong(const char *s, int base, unsigned long min, unsigned long max,
                unsigned long *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s == '\0' || *s == '-' || *s == '+' ||
        isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
t2s_value_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int
t2s_value_prefix(const char *v, int family, uint8_t *bin, unsigned *prefix,
                 char *err, size_t errlen)
{
    char addr[64];
    const char *slash = strchr(v, '/');
    unsigned long plen;
    size_t alen;

    if (slash == NULL)
        return t2s_value_err(err, errlen, "address '%.64s' needs a /PREFIX", v);
    alen = (size_t)(slash - v);
    if (alen == 0 || alen >= sizeof(addr))
        return t2s_value_err(err, errlen, "bad address '%.64s'", v);
    memcpy(addr, v, alen);
    addr[alen] = '\0';
    if (inet_pton(family, addr, bin) != 1)
        return t2s_value_err(err, errlen, "bad %s address '%.64s'",
                             family == AF_INET ? "IPv4" : "IPv6", v);
    if (t2s_value_ulong(slash + 1, 10, 1, family == AF_INET ? 32 : 128, &plen) <
        0)
        return t2s_value_err(err, errlen, "bad prefix length in '%.64s'", v);
    *prefix = (unsigned)plen;
    return 0;
}

int
t2s_value_count(const char *what, unsigned long max, const char *v,
                unsigned *out, char *err, size_t errlen)
{
    unsigned long n;

    if (t2s_value_ulong(v, 10, 0, max, &n) < 0)
        return t2s_value_err(err, errlen, "bad %s '%.32s'", what, v);
    *out = (unsigned)n;
    return 0;
}

int
t2s_value_seconds(const char *what, unsigned long min, unsigned long max,
                  const char *v, unsigned *ms, char *err, size_t errlen)
{
    unsigned long n;

    if (t2s_value_ulong(v, 10, min, max, &n) < 0)
        return t2s_value_err(err, errlen, "bad %s '%.32s' (%lu..%lu seconds)",
                             what, v, min, max);
    *ms = (unsigned)n * 1000u;
    return 0;
}

static const char size_units[] = "KMG";

int
t2s_value_size(const char *v, uint64_t *out)
{
    char num[32];
    size_t len = v != NULL ? strlen(v) : 0;
    const char *u;
    unsigned long n;
    int shift = 0;

    if (len == 0 || len >= sizeof(num))
        return -1;
    memcpy(num, v, len + 1);
    u = strchr(size_units, toupper((unsigned char)num[len - 1]));
    if (u != NULL && *u != '\0') {
        shift = 10 * (int)(u - size_units + 1);
        num[len - 1] = '\0';
    }
    /* at most 1 TiB with a unit; bytes as far as unsigned long goes */
    if (t2s_value_ulong(num, 10, 1, shift ? 1UL << (40 - shift) : ULONG_MAX,
                        &n) < 0 ||
        ((uint64_t)n << shift) < 1024 * 1024)
        return -1;
    *out = (uint64_t)n << shift;
    return 0;
}

void
t2s_value_size_format(uint64_t bytes, char *out, size_t outlen)
{
    uint64_t n = bytes;
    int unit = 0;

    while (unit < 3 && n != 0 && n % 1024 == 0) {
        n /= 1024;
        unit++;
    }
    /* with a unit t2s_value_size() reads at most 1 TiB */
    if (unit == 0 || n > (1ULL << (40 - 10 * unit)))
        snprintf(out, outlen, "%llu", (unsigned long long)bytes);
    else
        snprintf(out, outlen, "%llu%c", (unsigned long long)n,
                 size_units[unit - 1]);
}
