/*
 * SOCKS4 / SOCKS4a codec. The reply decoder decides each check as soon as
 * the byte it needs is present, so a verdict reached on a prefix never
 * changes when more input arrives.
 */
#include <string.h>

#include "codec/socks4.h"

#define S4_VER 0x04
#define S4_CMD_CONNECT 0x01

/* VN CD DSTPORT DSTIP USERID NUL into out; returns the bytes written. */
static size_t
write_head(uint8_t *out, const uint8_t ip[4], uint16_t port, const char *userid,
           size_t userid_len)
{
    out[0] = S4_VER;
    out[1] = S4_CMD_CONNECT;
    out[2] = (uint8_t)(port >> 8);
    out[3] = (uint8_t)(port & 0xFF);
    memcpy(out + 4, ip, 4);
    if (userid_len > 0)
        memcpy(out + 8, userid, userid_len);
    out[8 + userid_len] = '\0';
    return 9 + userid_len;
}

/* A string the server reads up to its NUL: none inside, at most 255. */
static int
nul_free(const char *s, size_t n)
{
    return n <= 255 && (n == 0 || (s != NULL && memchr(s, '\0', n) == NULL));
}

size_t
t2s_socks4_encode_connect(uint8_t *out, size_t cap, const uint8_t ip[4],
                          uint16_t port, const char *userid, size_t userid_len)
{
    if (out == NULL || ip == NULL || !nul_free(userid, userid_len) ||
        cap < 9 + userid_len)
        return 0;
    return write_head(out, ip, port, userid, userid_len);
}

size_t
t2s_socks4_encode_connect_name(uint8_t *out, size_t cap, const char *host,
                               size_t host_len, uint16_t port,
                               const char *userid, size_t userid_len)
{
    /* 0.0.0.x with x != 0: "the name follows" (SOCKS4a) */
    static const uint8_t marker[4] = {0, 0, 0, 1};
    size_t n;

    if (out == NULL || host_len == 0 || !nul_free(host, host_len) ||
        !nul_free(userid, userid_len) || cap < 10 + userid_len + host_len)
        return 0;
    n = write_head(out, marker, port, userid, userid_len);
    memcpy(out + n, host, host_len);
    out[n + host_len] = '\0';
    return n + host_len + 1;
}

int
t2s_socks4_decode_reply(const uint8_t *in, size_t len, uint8_t *code,
                        size_t *consumed)
{
    if (len < 1)
        return T2S_SOCKS4_NEED_MORE;
    if (in[0] != 0x00)
        return T2S_SOCKS4_EVERSION;
    if (len < 2)
        return T2S_SOCKS4_NEED_MORE;
    *code = in[1];
    if (in[1] < T2S_SOCKS4_GRANTED || in[1] > T2S_SOCKS4_IDENT_MISMATCH)
        return T2S_SOCKS4_EMALFORMED;
    if (len < T2S_SOCKS4_REPLY_LEN)
        return T2S_SOCKS4_NEED_MORE;
    *consumed = T2S_SOCKS4_REPLY_LEN;
    return in[1] == T2S_SOCKS4_GRANTED ? T2S_SOCKS4_OK : T2S_SOCKS4_EREPLY;
}

const char *
t2s_socks4_code_str(uint8_t code)
{
    switch (code) {
    case T2S_SOCKS4_GRANTED:
        return "request granted";
    case T2S_SOCKS4_REJECTED:
        return "request rejected or failed";
    case T2S_SOCKS4_NO_IDENTD:
        return "rejected: the server cannot reach our identd";
    case T2S_SOCKS4_IDENT_MISMATCH:
        return "rejected: identd and the user id disagree";
    default:
        return "unknown reply code";
    }
}

const char *
t2s_socks4_status_str(int status)
{
    switch (status) {
    case T2S_SOCKS4_OK:
        return "ok";
    case T2S_SOCKS4_NEED_MORE:
        return "incomplete message";
    case T2S_SOCKS4_EVERSION:
        return "bad SOCKS4 reply version";
    case T2S_SOCKS4_EREPLY:
        return "request failed";
    case T2S_SOCKS4_EMALFORMED:
        return "unknown SOCKS4 reply code";
    default:
        return "unknown status";
    }
}
