/*
 * SOCKS4 and SOCKS4a codec: pure functions over (buf, len), the same
 * contract as codec/socks5.h. No I/O, no allocation, no logging. Encoders
 * write into a caller buffer and return the bytes written, or 0 when the
 * buffer is too small or an argument is out of range. The reply decoder
 * looks at the bytes received so far: T2S_SOCKS4_OK with *consumed once the
 * 8-byte reply is whole, T2S_SOCKS4_NEED_MORE while it is not (never an
 * error), or a negative T2S_SOCKS4_E* code as soon as a byte is wrong.
 *
 * SOCKS4 (the NEC protocol note) carries an IPv4 address and a user id;
 * SOCKS4a (its extension) puts 0.0.0.x (x != 0) there and appends a host
 * name the server resolves. Neither has authentication, UDP or IPv6.
 */
#ifndef T2S_SOCKS4_H
#define T2S_SOCKS4_H

#include <stddef.h>
#include <stdint.h>

enum t2s_socks4_status {
    T2S_SOCKS4_OK = 0,
    T2S_SOCKS4_NEED_MORE = 1,
    T2S_SOCKS4_EVERSION = -1,   /* reply VN is not 0 */
    T2S_SOCKS4_EREPLY = -2,     /* well-formed reply, CD 91, 92 or 93 */
    T2S_SOCKS4_EMALFORMED = -3, /* CD is no SOCKS4 reply code */
};

/* Reply codes (CD). */
#define T2S_SOCKS4_GRANTED 90
#define T2S_SOCKS4_REJECTED 91
#define T2S_SOCKS4_NO_IDENTD 92
#define T2S_SOCKS4_IDENT_MISMATCH 93

#define T2S_SOCKS4_REPLY_LEN 8
/* VN CD PORT IP USERID NUL HOST NUL, each string at most 255 bytes */
#define T2S_SOCKS4_REQUEST_MAX (8 + 256 + 256)

/*
 * SOCKS4 CONNECT to ip (4 bytes, network order) and port (host order).
 * userid: userid_len bytes (0..255, no NUL byte); NULL when userid_len is 0.
 */
size_t t2s_socks4_encode_connect(uint8_t *out, size_t cap, const uint8_t ip[4],
                                 uint16_t port, const char *userid,
                                 size_t userid_len);

/* SOCKS4a CONNECT to host (1..255 bytes, no NUL byte) and port. */
size_t t2s_socks4_encode_connect_name(uint8_t *out, size_t cap,
                                      const char *host, size_t host_len,
                                      uint16_t port, const char *userid,
                                      size_t userid_len);

/*
 * Reply: VN(0) CD PORT IP. *code is set once the CD byte is present. An
 * unknown CD is EMALFORMED at once; 91..93 give EREPLY once the reply is
 * whole (its 8 bytes consumed), 90 gives OK.
 */
int t2s_socks4_decode_reply(const uint8_t *in, size_t len, uint8_t *code,
                            size_t *consumed);

/* Human text for a CD code, e.g. "request rejected or failed". Never NULL. */
const char *t2s_socks4_code_str(uint8_t code);

/* Human text for a T2S_SOCKS4_* status. Never NULL. */
const char *t2s_socks4_status_str(int status);

#endif
