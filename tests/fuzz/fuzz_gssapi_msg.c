/*
 * Fuzz target for the RFC 1961 message codec. The first byte picks the
 * expected message type and a piece size; the rest is decoded whole and
 * fed in growing prefixes: every prefix shorter than a decoded message
 * must be NEED_MORE, the verdict must not depend on how the bytes came,
 * and a decoded token must lie inside the input and re-encode to the
 * same header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/gssapi_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *tok = NULL, *buf;
    size_t tl = 0, used = 0, n, step, len;
    uint8_t mtyp, hdr[T2S_GSSAPI_MSG_HDR];
    int rc, prc;

    if (size < 1)
        return 0;
    mtyp = (uint8_t)(1 + data[0] % 3);
    step = 1 + (data[0] >> 2);
    buf = data + 1;
    len = size - 1;
    rc = t2s_gssapi_msg_decode(buf, len, mtyp, &tok, &tl, &used);
    check(rc >= T2S_GSSAPI_MSG_EABORT && rc <= T2S_GSSAPI_MSG_NEED_MORE);
    if (rc == T2S_GSSAPI_MSG_OK) {
        check(tok == buf + T2S_GSSAPI_MSG_HDR && tl <= 65535);
        check(used == tl + T2S_GSSAPI_MSG_HDR && used <= len);
        if (tl > 0) {
            check(t2s_gssapi_msg_encode_hdr(hdr, mtyp, tl) ==
                  T2S_GSSAPI_MSG_HDR);
            check(memcmp(hdr, buf, T2S_GSSAPI_MSG_HDR) == 0);
        }
    }
    for (n = 0; n < len; n += step) {
        const uint8_t *t2 = NULL;
        size_t tl2 = 0, used2 = 0;

        prc = t2s_gssapi_msg_decode(buf, n, mtyp, &t2, &tl2, &used2);
        if (prc == T2S_GSSAPI_MSG_NEED_MORE)
            continue;
        /* a prefix decides only what the whole decides too */
        check(prc == rc);
        if (rc == T2S_GSSAPI_MSG_OK)
            check(tl2 == tl && used2 == used && n >= used);
        break;
    }
    return 0;
}
