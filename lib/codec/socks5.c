/*
 * SOCKS5 codec (RFC 1928, RFC 1929). Every decoder reads the input byte by
 * byte and decides each check as soon as the byte it needs is present, so a
 * verdict reached on a prefix never changes when more input arrives.
 */
#include <string.h>

#include "codec/socks5.h"

#define S5_VER 0x05
#define S5_AUTH_VER 0x01

/* ATYP byte plus the two port bytes around every address body. */
#define ADDR_OVERHEAD 3

static const char *const rep_texts[] = {
    "succeeded",
    "general SOCKS server failure",
    "connection not allowed by ruleset",
    "network unreachable",
    "host unreachable",
    "connection refused",
    "TTL expired",
    "command not supported",
    "address type not supported",
};

/* Encoded size of ATYP ADDR PORT, or 0 when addr cannot be encoded. */
static size_t
addr_size(const struct t2s_socks5_addr *addr)
{
    if (addr == NULL)
        return 0;
    switch (addr->atyp) {
    case T2S_SOCKS5_ATYP_IPV4:
        return ADDR_OVERHEAD + 4;
    case T2S_SOCKS5_ATYP_IPV6:
        return ADDR_OVERHEAD + 16;
    case T2S_SOCKS5_ATYP_DOMAIN:
        return addr->name_len ? ADDR_OVERHEAD + 1 + addr->name_len : 0;
    default:
        return 0;
    }
}

/* Writes ATYP ADDR PORT; the caller has checked the room with addr_size. */
static void
addr_write(uint8_t *out, const struct t2s_socks5_addr *addr, size_t size)
{
    out[0] = addr->atyp;
    if (addr->atyp == T2S_SOCKS5_ATYP_IPV4) {
        memcpy(out + 1, addr->u.v4, 4);
    } else if (addr->atyp == T2S_SOCKS5_ATYP_IPV6) {
        memcpy(out + 1, addr->u.v6, 16);
    } else {
        out[1] = addr->name_len;
        memcpy(out + 2, addr->u.name, addr->name_len);
    }
    out[size - 2] = (uint8_t)(addr->port >> 8);
    out[size - 1] = (uint8_t)(addr->port & 0xFF);
}

/*
 * Size of the ATYP ADDR PORT starting at in, judged from the bytes present:
 * NEED_MORE while the ATYP or the domain length byte is missing. Whether
 * the whole span is present is the caller's check.
 */
static int
addr_span(const uint8_t *in, size_t len, size_t *span)
{
    if (len < 1)
        return T2S_SOCKS5_NEED_MORE;
    switch (in[0]) {
    case T2S_SOCKS5_ATYP_IPV4:
        *span = ADDR_OVERHEAD + 4;
        return T2S_SOCKS5_OK;
    case T2S_SOCKS5_ATYP_IPV6:
        *span = ADDR_OVERHEAD + 16;
        return T2S_SOCKS5_OK;
    case T2S_SOCKS5_ATYP_DOMAIN:
        if (len < 2)
            return T2S_SOCKS5_NEED_MORE;
        if (in[1] == 0)
            return T2S_SOCKS5_EMALFORMED;
        *span = ADDR_OVERHEAD + 1 + (size_t)in[1];
        return T2S_SOCKS5_OK;
    default:
        return T2S_SOCKS5_EATYP;
    }
}

/* Reads a complete span already validated by addr_span. */
static void
addr_read(const uint8_t *in, size_t span, struct t2s_socks5_addr *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->atyp = in[0];
    if (in[0] == T2S_SOCKS5_ATYP_IPV4) {
        memcpy(addr->u.v4, in + 1, 4);
    } else if (in[0] == T2S_SOCKS5_ATYP_IPV6) {
        memcpy(addr->u.v6, in + 1, 16);
    } else {
        addr->name_len = in[1];
        memcpy(addr->u.name, in + 2, in[1]);
    }
    addr->port = (uint16_t)((in[span - 2] << 8) | in[span - 1]);
}

size_t
t2s_socks5_encode_greeting(uint8_t *out, size_t cap, int with_userpass)
{
    size_t n = with_userpass ? 4 : 3;

    if (out == NULL || cap < n)
        return 0;
    out[0] = S5_VER;
    out[1] = (uint8_t)(n - 2);
    out[2] = T2S_SOCKS5_METHOD_NOAUTH;
    if (with_userpass)
        out[3] = T2S_SOCKS5_METHOD_USERPASS;
    return n;
}

size_t
t2s_socks5_encode_auth(uint8_t *out, size_t cap, const char *user,
                       size_t user_len, const char *pass, size_t pass_len)
{
    size_t n = 3 + user_len + pass_len;

    if (user_len < 1 || user_len > 255 || pass_len > 255)
        return 0;
    if (out == NULL || user == NULL || (pass == NULL && pass_len > 0))
        return 0;
    if (cap < n)
        return 0;
    out[0] = S5_AUTH_VER;
    out[1] = (uint8_t)user_len;
    memcpy(out + 2, user, user_len);
    out[2 + user_len] = (uint8_t)pass_len;
    if (pass_len > 0)
        memcpy(out + 3 + user_len, pass, pass_len);
    return n;
}

size_t
t2s_socks5_encode_request(uint8_t *out, size_t cap, uint8_t cmd,
                          const struct t2s_socks5_addr *addr)
{
    size_t size = addr_size(addr);

    if (size == 0 || out == NULL || cap < 3 + size)
        return 0;
    out[0] = S5_VER;
    out[1] = cmd;
    out[2] = 0x00;
    addr_write(out + 3, addr, size);
    return 3 + size;
}

int
t2s_socks5_decode_method(const uint8_t *in, size_t len, uint8_t *method,
                         size_t *consumed)
{
    if (len < 1)
        return T2S_SOCKS5_NEED_MORE;
    if (in[0] != S5_VER)
        return T2S_SOCKS5_EVERSION;
    if (len < 2)
        return T2S_SOCKS5_NEED_MORE;
    *method = in[1];
    *consumed = 2;
    return in[1] == T2S_SOCKS5_METHOD_NONE ? T2S_SOCKS5_ENOMETHOD
                                           : T2S_SOCKS5_OK;
}

int
t2s_socks5_decode_auth(const uint8_t *in, size_t len, size_t *consumed)
{
    if (len < 1)
        return T2S_SOCKS5_NEED_MORE;
    if (in[0] != S5_AUTH_VER)
        return T2S_SOCKS5_EVERSION;
    if (len < 2)
        return T2S_SOCKS5_NEED_MORE;
    *consumed = 2;
    return in[1] == 0 ? T2S_SOCKS5_OK : T2S_SOCKS5_EAUTH;
}

/*
 * The server's REP is the more useful diagnosis, so once it says failure a
 * malformed address still reports EREPLY.
 */
int
t2s_socks5_decode_reply(const uint8_t *in, size_t len, uint8_t *rep,
                        struct t2s_socks5_addr *bnd, size_t *consumed)
{
    size_t span = 0;
    int rc;

    if (len < 1)
        return T2S_SOCKS5_NEED_MORE;
    if (in[0] != S5_VER)
        return T2S_SOCKS5_EVERSION;
    if (len < 2)
        return T2S_SOCKS5_NEED_MORE;
    *rep = in[1];
    if (len < 4)
        return T2S_SOCKS5_NEED_MORE;
    rc = addr_span(in + 3, len - 3, &span);
    if (rc < 0)
        return in[1] != 0 ? T2S_SOCKS5_EREPLY : rc;
    if (rc == T2S_SOCKS5_NEED_MORE || len < 3 + span)
        return T2S_SOCKS5_NEED_MORE;
    if (bnd != NULL)
        addr_read(in + 3, span, bnd);
    *consumed = 3 + span;
    return in[1] != 0 ? T2S_SOCKS5_EREPLY : T2S_SOCKS5_OK;
}

const char *
t2s_socks5_rep_str(uint8_t rep)
{
    if (rep < sizeof(rep_texts) / sizeof(rep_texts[0]))
        return rep_texts[rep];
    return "unknown reply code";
}

const char *
t2s_socks5_status_str(int status)
{
    switch (status) {
    case T2S_SOCKS5_OK:
        return "ok";
    case T2S_SOCKS5_NEED_MORE:
        return "incomplete message";
    case T2S_SOCKS5_EVERSION:
        return "bad protocol version";
    case T2S_SOCKS5_ENOMETHOD:
        return "no acceptable authentication method";
    case T2S_SOCKS5_EMETHOD:
        return "server chose a method not offered";
    case T2S_SOCKS5_EAUTH:
        return "authentication rejected";
    case T2S_SOCKS5_EREPLY:
        return "request failed";
    case T2S_SOCKS5_EATYP:
        return "unknown address type";
    case T2S_SOCKS5_EMALFORMED:
        return "malformed message";
    default:
        return "unknown status";
    }
}

size_t
t2s_socks5_encode_udp_header(uint8_t *out, size_t cap,
                             const struct t2s_socks5_addr *addr)
{
    size_t size = addr_size(addr);

    if (size == 0 || out == NULL || cap < 3 + size)
        return 0;
    out[0] = 0x00;
    out[1] = 0x00;
    out[2] = 0x00;
    addr_write(out + 3, addr, size);
    return 3 + size;
}

/* A datagram arrives whole, so anything short is malformed, not pending. */
int
t2s_socks5_decode_udp_header(const uint8_t *in, size_t len, uint8_t *frag,
                             struct t2s_socks5_addr *addr, size_t *hdr_len)
{
    size_t span = 0;
    int rc;

    if (len < 3 || in[0] != 0 || in[1] != 0)
        return T2S_SOCKS5_EMALFORMED;
    rc = addr_span(in + 3, len - 3, &span);
    if (rc < 0)
        return rc;
    if (rc == T2S_SOCKS5_NEED_MORE || len < 3 + span)
        return T2S_SOCKS5_EMALFORMED;
    addr_read(in + 3, span, addr);
    *frag = in[2];
    *hdr_len = 3 + span;
    return T2S_SOCKS5_OK;
}
