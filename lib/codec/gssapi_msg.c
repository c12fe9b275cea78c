/* RFC 1961 message framing; see gssapi_msg.h. */
#include "codec/gssapi_msg.h"

int
t2s_gssapi_msg_decode(const uint8_t *buf, size_t len, uint8_t mtyp,
                      const uint8_t **tok, size_t *tok_len, size_t *used)
{
    size_t n;

    if (len < 1)
        return T2S_GSSAPI_MSG_NEED_MORE;
    if (buf[0] != T2S_GSSAPI_MSG_VER)
        return T2S_GSSAPI_MSG_EVERSION;
    if (len < 2)
        return T2S_GSSAPI_MSG_NEED_MORE;
    if (buf[1] == T2S_GSSAPI_MSG_ABORT)
        return T2S_GSSAPI_MSG_EABORT;
    if (buf[1] != mtyp)
        return T2S_GSSAPI_MSG_ETYPE;
    if (len < T2S_GSSAPI_MSG_HDR)
        return T2S_GSSAPI_MSG_NEED_MORE;
    n = ((size_t)buf[2] << 8) | buf[3];
    if (len - T2S_GSSAPI_MSG_HDR < n)
        return T2S_GSSAPI_MSG_NEED_MORE;
    *tok = buf + T2S_GSSAPI_MSG_HDR;
    *tok_len = n;
    *used = T2S_GSSAPI_MSG_HDR + n;
    return T2S_GSSAPI_MSG_OK;
}

size_t
t2s_gssapi_msg_encode_hdr(uint8_t out[T2S_GSSAPI_MSG_HDR], uint8_t mtyp,
                          size_t tok_len)
{
    if (tok_len == 0 || tok_len > T2S_GSSAPI_MSG_TOKEN_MAX)
        return 0;
    out[0] = T2S_GSSAPI_MSG_VER;
    out[1] = mtyp;
    out[2] = (uint8_t)(tok_len >> 8);
    out[3] = (uint8_t)tok_len;
    return T2S_GSSAPI_MSG_HDR;
}

const char *
t2s_gssapi_msg_status_str(int status)
{
    switch (status) {
    case T2S_GSSAPI_MSG_EVERSION:
        return "GSSAPI message with a version other than 1";
    case T2S_GSSAPI_MSG_ETYPE:
        return "GSSAPI message of an unexpected type";
    case T2S_GSSAPI_MSG_EABORT:
        return "the proxy aborted the GSSAPI context establishment";
    default:
        return "GSSAPI message error";
    }
}
