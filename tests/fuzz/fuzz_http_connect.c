/*
 * Fuzz target for the HTTP CONNECT codec. The input is parsed as a
 * response whole and in pieces (piece sizes from the first byte): the same
 * verdict and the same header length, never more than T2S_HTTP_HDR_MAX.
 * It is also split into host, user and password for the request encoder:
 * a request it writes has exactly one blank line, at its end, and no CR or
 * LF except in line ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/http_connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int
parse(const uint8_t *data, size_t size, uint8_t pattern, size_t *total)
{
    struct t2s_http_resp r;
    size_t off = 0, used;
    int rc = T2S_HTTP_NEED_MORE;

    t2s_http_connect_resp_init(&r);
    *total = 0;
    for (size_t k = 0; off < size && rc == T2S_HTTP_NEED_MORE; k++) {
        size_t n = pattern ? 1 + ((pattern >> ((k % 4) * 2)) & 3) : size;

        if (n > size - off)
            n = size - off;
        used = (size_t)-1;
        rc = t2s_http_connect_resp_feed(&r, data + off, n, &used);
        check(used <= n);
        check(rc != T2S_HTTP_NEED_MORE || used == n);
        off += used;
        *total += used;
    }
    check(t2s_http_connect_status_str(rc) != NULL);
    check(*total <= T2S_HTTP_HDR_MAX && r.len == *total);
    return rc;
}

static void
check_request(const uint8_t *data, size_t size)
{
    uint8_t out[T2S_HTTP_REQUEST_MAX];
    size_t a = data[0] % (size + 1), b = data[1] % (size + 1), n;
    size_t lo = a < b ? a : b, hi = a < b ? b : a;
    const char *s = (const char *)data;

    n = t2s_http_connect_encode_request(out, sizeof(out), s, lo, data[2] & 1,
                                        443, s + lo, hi - lo, s + hi,
                                        size - hi);
    if (n == 0)
        return;
    check(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '\n')
            check(i > 0 && out[i - 1] == '\r');
        if (out[i] == '\r')
            check(i + 1 < n && out[i + 1] == '\n');
        if (i + 4 < n)
            check(memcmp(out + i, "\r\n\r\n", 4) != 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t whole, pieces, bytes;
    int rc = parse(data, size, 0, &whole);

    check(parse(data, size, size ? data[0] | 1 : 1, &pieces) == rc);
    check(pieces == whole);
    check(parse(data, size, 0x55, &bytes) == rc && bytes == whole);
    if (size >= 3)
        check_request(data, size);
    return 0;
}
