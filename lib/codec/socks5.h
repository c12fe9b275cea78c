/*
 * SOCKS5 codec (RFC 1928, RFC 1929): pure functions over (buf, len).
 *
 * No I/O, no allocation, no logging. Encoders write into a caller buffer and
 * return the number of bytes written, or 0 when the buffer is too small or an
 * argument is out of range. Decoders look at the bytes received so far and
 * return T2S_SOCKS5_OK with *consumed set once a whole message is present,
 * T2S_SOCKS5_NEED_MORE while it is incomplete (never an error), or a negative
 * T2S_SOCKS5_E* code for malformed input. A caller may therefore feed a decoder
 * its accumulated input after every read, one byte at a time or all at once.
 */
#ifndef T2S_SOCKS5_H
#define T2S_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

enum t2s_socks5_status {
    T2S_SOCKS5_OK = 0,
    T2S_SOCKS5_NEED_MORE = 1,
    T2S_SOCKS5_EVERSION = -1,  /* VER byte is not 5 (or 1 for the auth reply) */
    T2S_SOCKS5_ENOMETHOD = -2, /* server answered 0xFF: no acceptable method */
    T2S_SOCKS5_EMETHOD = -3,   /* server chose a method we did not offer */
    T2S_SOCKS5_EAUTH = -4,     /* username/password rejected (STATUS != 0) */
    T2S_SOCKS5_EREPLY = -5,    /* well-formed reply with REP != 0 */
    T2S_SOCKS5_EATYP = -6,     /* unknown address type */
    T2S_SOCKS5_EMALFORMED = -7, /* any other framing error */
};

/* Methods (RFC 1928 section 3). */
#define T2S_SOCKS5_METHOD_NOAUTH 0x00
#define T2S_SOCKS5_METHOD_USERPASS 0x02
#define T2S_SOCKS5_METHOD_NONE 0xFF

/* Commands. */
#define T2S_SOCKS5_CMD_CONNECT 0x01
#define T2S_SOCKS5_CMD_UDP_ASSOCIATE 0x03

/* Address types. */
#define T2S_SOCKS5_ATYP_IPV4 0x01
#define T2S_SOCKS5_ATYP_DOMAIN 0x03
#define T2S_SOCKS5_ATYP_IPV6 0x04

/* Largest encoded messages, for sizing buffers. */
#define T2S_SOCKS5_GREETING_MAX 4           /* VER NMETHODS M1 M2 */
#define T2S_SOCKS5_AUTH_MAX (3 + 255 + 255) /* VER ULEN UNAME PLEN PASSWD */
#define T2S_SOCKS5_REQUEST_MAX (4 + 1 + 255 + 2)
#define T2S_SOCKS5_REPLY_MAX T2S_SOCKS5_REQUEST_MAX
#define T2S_SOCKS5_UDP_HDR_MAX (3 + 1 + 1 + 255 + 2)

/* A SOCKS address: IPv4, IPv6 or a domain name, plus a port (host order). */
struct t2s_socks5_addr {
    uint8_t atyp;     /* T2S_SOCKS5_ATYP_* */
    uint8_t name_len; /* domain length, 1..255, when atyp is DOMAIN */
    uint16_t port;    /* host byte order */
    union {
        uint8_t v4[4];  /* network order */
        uint8_t v6[16]; /* network order */
        char name[256]; /* not NUL-terminated on decode; name_len counts */
    } u;
};

/*
 * Greeting: offers NO AUTH, plus USERNAME/PASSWORD when with_userpass is
 * non-zero. Returns bytes written (3 or 4), 0 if cap is too small.
 */
size_t t2s_socks5_encode_greeting(uint8_t *out, size_t cap, int with_userpass);

/*
 * Username/password request (RFC 1929). user and pass are byte strings of
 * 1..255 and 0..255 bytes. Returns bytes written, 0 on a bad length or small
 * cap.
 */
size_t t2s_socks5_encode_auth(uint8_t *out, size_t cap, const char *user,
                              size_t user_len, const char *pass,
                              size_t pass_len);

/*
 * Request (CONNECT or UDP ASSOCIATE) for addr. Returns bytes written, 0 on a
 * bad address (unknown atyp, empty domain) or small cap.
 */
size_t t2s_socks5_encode_request(uint8_t *out, size_t cap, uint8_t cmd,
                                 const struct t2s_socks5_addr *addr);

/*
 * Method selection reply: VER METHOD. On OK, *method holds the method.
 * Returns T2S_SOCKS5_ENOMETHOD for 0xFF. Whether the method was offered is the
 * caller's check (T2S_SOCKS5_EMETHOD is for its use).
 */
int t2s_socks5_decode_method(const uint8_t *in, size_t len, uint8_t *method,
                             size_t *consumed);

/* Auth reply: VER(1) STATUS. STATUS != 0 gives T2S_SOCKS5_EAUTH. */
int t2s_socks5_decode_auth(const uint8_t *in, size_t len, size_t *consumed);

/*
 * Request reply: VER REP RSV ATYP BND.ADDR BND.PORT, every ATYP form.
 * *rep is always set once the REP byte is present. With REP != 0 the whole
 * reply is still parsed when possible, and T2S_SOCKS5_EREPLY returned once it
 * is complete (or at once when the remainder is malformed). bnd may be NULL.
 */
int t2s_socks5_decode_reply(const uint8_t *in, size_t len, uint8_t *rep,
                            struct t2s_socks5_addr *bnd, size_t *consumed);

/* Human text for a REP code, e.g. "host unreachable". Never NULL. */
const char *t2s_socks5_rep_str(uint8_t rep);

/* Human text for a T2S_SOCKS5_* status. Never NULL. */
const char *t2s_socks5_status_str(int status);

/*
 * UDP request header (RFC 1928 section 7): RSV(2) FRAG ADDR PORT.
 * Encode writes the header for addr with FRAG 0; returns its length or 0.
 */
size_t t2s_socks5_encode_udp_header(uint8_t *out, size_t cap,
                                    const struct t2s_socks5_addr *addr);

/*
 * Decode a whole datagram's header. On T2S_SOCKS5_OK, *frag is the FRAG byte,
 * addr the address and *hdr_len the header length (payload follows).
 * A datagram is never incomplete: short input gives T2S_SOCKS5_EMALFORMED.
 */
int t2s_socks5_decode_udp_header(const uint8_t *in, size_t len, uint8_t *frag,
                                 struct t2s_socks5_addr *addr, size_t *hdr_len);

#endif
