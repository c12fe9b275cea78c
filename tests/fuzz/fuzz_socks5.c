/*
 * Fuzz target for the SOCKS5 codec. The input is decoded as each message
 * kind. Stream decoders must reach the same verdict when the input arrives
 * in pieces (the piece sizes come from the first byte) as when it arrives
 * whole; decoded addresses must survive a re-encode and decode unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum kind { KIND_METHOD, KIND_AUTH, KIND_REPLY, KIND_COUNT };

/* Everything a decoder call can report, so two calls can be compared. */
struct result {
    int rc;
    size_t consumed;
    uint8_t aux; /* method or REP */
    struct t2s_socks5_addr addr;
};

#define UNSET ((size_t)-1)

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int
addr_equal(const struct t2s_socks5_addr *a, const struct t2s_socks5_addr *b)
{
    if (a->atyp != b->atyp || a->port != b->port)
        return 0;
    switch (a->atyp) {
    case T2S_SOCKS5_ATYP_IPV4:
        return memcmp(a->u.v4, b->u.v4, 4) == 0;
    case T2S_SOCKS5_ATYP_IPV6:
        return memcmp(a->u.v6, b->u.v6, 16) == 0;
    default:
        return a->name_len == b->name_len &&
               memcmp(a->u.name, b->u.name, a->name_len) == 0;
    }
}

/* Only a complete reply fills the address, so only then is it compared. */
static int
result_equal(const struct result *a, const struct result *b)
{
    if (a->rc != b->rc || a->consumed != b->consumed || a->aux != b->aux)
        return 0;
    return a->consumed == UNSET || a->rc == T2S_SOCKS5_ENOMETHOD ||
           a->rc == T2S_SOCKS5_EAUTH || addr_equal(&a->addr, &b->addr);
}

static void
decode_as(enum kind kind, const uint8_t *in, size_t len, struct result *r)
{
    memset(r, 0, sizeof(*r));
    r->consumed = UNSET;
    if (kind == KIND_METHOD)
        r->rc = t2s_socks5_decode_method(in, len, &r->aux, &r->consumed);
    else if (kind == KIND_AUTH)
        r->rc = t2s_socks5_decode_auth(in, len, &r->consumed);
    else
        r->rc =
            t2s_socks5_decode_reply(in, len, &r->aux, &r->addr, &r->consumed);
    check(t2s_socks5_status_str(r->rc) != NULL);
}

/* Steps of 1..4 bytes, cycling through the four bit pairs of pattern. */
static size_t
step(uint8_t pattern, size_t k)
{
    return 1 + ((pattern >> ((k % 4) * 2)) & 3);
}

/* Feeds growing prefixes as a reader would and stops at the first verdict. */
static void
feed_in_pieces(enum kind kind, const uint8_t *data, size_t size,
               uint8_t pattern, struct result *r)
{
    size_t len = 0;

    for (size_t k = 0;; k++) {
        decode_as(kind, data, len, r);
        if (r->rc != T2S_SOCKS5_NEED_MORE || len == size)
            return;
        len += step(pattern, k);
        if (len > size)
            len = size;
    }
}

static void
check_stream(enum kind kind, const uint8_t *data, size_t size)
{
    struct result whole, pieces;

    decode_as(kind, data, size, &whole);
    feed_in_pieces(kind, data, size, size ? data[0] : 0, &pieces);
    check(result_equal(&whole, &pieces));
    /* one byte at a time visits every prefix */
    feed_in_pieces(kind, data, size, 0, &pieces);
    check(result_equal(&whole, &pieces));
    check(whole.rc == T2S_SOCKS5_NEED_MORE || whole.rc < 0 ||
          whole.consumed <= size);
}

/* A decoded reply's address re-encodes to the bytes it came from. */
static void
check_reply(const uint8_t *data, size_t size)
{
    struct result r;
    uint8_t out[T2S_SOCKS5_REQUEST_MAX];
    size_t n, consumed = UNSET;
    uint8_t rep = 0;

    decode_as(KIND_REPLY, data, size, &r);
    check(t2s_socks5_decode_reply(data, size, &rep, NULL, &consumed) == r.rc);
    check(consumed == r.consumed);
    if (r.rc != T2S_SOCKS5_OK)
        return;
    check(r.aux == 0 && r.consumed >= 8 && r.consumed <= T2S_SOCKS5_REPLY_MAX);
    check(t2s_socks5_rep_str(r.aux) != NULL);
    n = t2s_socks5_encode_request(out, sizeof(out), T2S_SOCKS5_CMD_CONNECT,
                                  &r.addr);
    check(n == r.consumed && memcmp(out + 3, data + 3, n - 3) == 0);
    check(t2s_socks5_encode_request(out, n - 1, 0, &r.addr) == 0);
}

static void
check_udp(const uint8_t *data, size_t size)
{
    struct t2s_socks5_addr addr, again;
    uint8_t out[T2S_SOCKS5_UDP_HDR_MAX], frag = 0;
    size_t hdr_len = 0, len2 = 0, n;

    if (t2s_socks5_decode_udp_header(data, size, &frag, &addr, &hdr_len) !=
        T2S_SOCKS5_OK)
        return;
    check(hdr_len >= 8 && hdr_len <= size && hdr_len <= T2S_SOCKS5_UDP_HDR_MAX);
    n = t2s_socks5_encode_udp_header(out, sizeof(out), &addr);
    check(n == hdr_len && memcmp(out + 3, data + 3, n - 3) == 0);
    check(out[0] == 0 && out[1] == 0 && out[2] == 0);
    check(t2s_socks5_decode_udp_header(out, n, &frag, &again, &len2) ==
          T2S_SOCKS5_OK);
    check(frag == 0 && len2 == n && addr_equal(&addr, &again));
    check(t2s_socks5_encode_udp_header(out, n - 1, &addr) == 0);
    /* a datagram cut anywhere inside its header is malformed */
    for (size_t len = 0; len < hdr_len; len += step(data[0] ^ data[3], len))
        check(t2s_socks5_decode_udp_header(data, len, &frag, &again, &len2) ==
              T2S_SOCKS5_EMALFORMED);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int kind = 0; kind < KIND_COUNT; kind++)
        check_stream((enum kind)kind, data, size);
    check_reply(data, size);
    check_udp(data, size);
    return 0;
}
