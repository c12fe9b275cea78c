/*
 * Pure codec of the SOCKS5 GSSAPI method's messages (RFC 1961 §3-§5):
 *
 *   +------+------+------+.......................+
 *   | ver  | mtyp | len  |       token           |
 *   +------+------+------+.......................+
 *   | 0x01 | 0x01 | 0x02 | up to 2^16 - 1 octets |
 *
 * mtyp 1: context establishment, 2: protection-level subnegotiation,
 * 3: an encapsulated (per-message protected) payload; 0xff (ver 1, no
 * length) aborts the context establishment. No I/O, no allocation:
 * decoding points into the caller's buffer. Fed whole or byte by byte:
 * T2S_GSSAPI_MSG_NEED_MORE (never an error) until a whole message is
 * present. A zero-length token is decoded (Dante answers a completed
 * context with one); the caller judges it. Fuzzed
 * (tests/fuzz/fuzz_gssapi_msg.c).
 */
#ifndef T2S_GSSAPI_MSG_H
#define T2S_GSSAPI_MSG_H

#include <stddef.h>
#include <stdint.h>

#define T2S_GSSAPI_MSG_VER 0x01
#define T2S_GSSAPI_MSG_AUTH 0x01  /* context-establishment token */
#define T2S_GSSAPI_MSG_PROT 0x02  /* protection-level subnegotiation */
#define T2S_GSSAPI_MSG_DATA 0x03  /* encapsulated user data */
#define T2S_GSSAPI_MSG_ABORT 0xff /* server: context failure */
#define T2S_GSSAPI_MSG_HDR 4
#define T2S_GSSAPI_MSG_TOKEN_MAX 65535u /* the 2-byte length */

/* Protection levels: RFC 1961 §4 (1, 2; 3 "selective" is not offered)
 * and Dante's own extension 0 ("clear": authentication only, the
 * connection continues without encapsulation). */
#define T2S_GSSAPI_LEVEL_CLEAR 0
#define T2S_GSSAPI_LEVEL_INTEGRITY 1
#define T2S_GSSAPI_LEVEL_CONFIDENTIALITY 2

enum t2s_gssapi_msg_status {
    T2S_GSSAPI_MSG_OK = 0,
    T2S_GSSAPI_MSG_NEED_MORE = 1,
    T2S_GSSAPI_MSG_EVERSION = -1, /* ver is not 1 */
    T2S_GSSAPI_MSG_ETYPE = -2,    /* mtyp is not the one expected */
    T2S_GSSAPI_MSG_EABORT = -3,   /* the server aborted (mtyp 0xff) */
};

/*
 * Decodes one message of type mtyp from buf[0..len). On OK *tok points
 * into buf, *tok_len is its length (0..65535) and *used the message's
 * whole size. An abort (ver 1, 0xff) is reported as soon as its two
 * bytes are present.
 */
int t2s_gssapi_msg_decode(const uint8_t *buf, size_t len, uint8_t mtyp,
                          const uint8_t **tok, size_t *tok_len, size_t *used);

/* Writes the 4-byte header of a message of type mtyp carrying tok_len
 * (1..65535) bytes to out; returns 4, or 0 when tok_len is out of range. */
size_t t2s_gssapi_msg_encode_hdr(uint8_t out[T2S_GSSAPI_MSG_HDR], uint8_t mtyp,
                                 size_t tok_len);

/* A short English text for a negative status. */
const char *t2s_gssapi_msg_status_str(int status);

#endif
