/*
 * Fuzz target for the SOCKS4 / SOCKS4a codec. The input is decoded as a
 * reply whole and in pieces (piece sizes from the first byte): the same
 * verdict either way. The input is also split into a host and a user id
 * and encoded as both requests: the encoders either refuse or write a
 * request that reads back to what was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/socks4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNSET ((size_t)-1)

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int
decode(const uint8_t *in, size_t len, uint8_t *code, size_t *consumed)
{
    int rc;

    *code = 0;
    *consumed = UNSET;
    rc = t2s_socks4_decode_reply(in, len, code, consumed);
    check(t2s_socks4_status_str(rc) != NULL);
    check(t2s_socks4_code_str(*code) != NULL);
    return rc;
}

static void
check_stream(const uint8_t *data, size_t size, uint8_t pattern)
{
    uint8_t code, code2;
    size_t consumed, consumed2, len = 0;
    int whole = decode(data, size, &code, &consumed), rc;

    for (size_t k = 0;; k++) {
        rc = decode(data, len, &code2, &consumed2);
        if (rc != T2S_SOCKS4_NEED_MORE || len == size)
            break;
        len += 1 + ((pattern >> ((k % 4) * 2)) & 3);
        if (len > size)
            len = size;
    }
    check(rc == whole && consumed == consumed2 && code == code2);
    check(whole == T2S_SOCKS4_NEED_MORE || whole < 0 ||
          consumed == T2S_SOCKS4_REPLY_LEN);
}

static void
check_encode(const uint8_t *data, size_t size)
{
    uint8_t out[T2S_SOCKS4_REQUEST_MAX];
    size_t split = size ? data[0] % (size + 1) : 0, n;
    const char *user = (const char *)data, *host = (const char *)data + split;
    size_t ulen = split, hlen = size - split;
    int nul = memchr(data, 0, size) != NULL;

    n = t2s_socks4_encode_connect(out, sizeof(out), data, 1080, user,
                                  size >= 4 ? ulen : 0);
    if (n > 0) {
        check(n == 9 + (size >= 4 ? ulen : 0) && out[0] == 4 && out[1] == 1);
        check(out[n - 1] == 0 && memchr(out + 8, 0, n - 8) == out + n - 1);
    }
    n = t2s_socks4_encode_connect_name(out, sizeof(out), host, hlen, 1080, user,
                                       ulen);
    if (n == 0) {
        check(hlen == 0 || hlen > 255 || ulen > 255 || nul);
        return;
    }
    check(n == 10 + ulen + hlen && out[7] != 0 && out[4] == 0);
    check(memcmp(out + 8, user, ulen) == 0 && out[8 + ulen] == 0);
    check(memcmp(out + 9 + ulen, host, hlen) == 0 && out[n - 1] == 0);
    check(t2s_socks4_encode_connect_name(out, n - 1, host, hlen, 1080, user,
                                         ulen) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4)
        check_encode(data, size);
    check_stream(data, size, size ? data[0] : 0);
    check_stream(data, size, 0);
    return 0;
}
