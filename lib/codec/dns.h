/*
 * Minimal DNS message codec (RFC 1035) for the fake-IP resolver: parse one
 * query, build the answers we give. Pure functions over byte buffers, no
 * I/O, no allocation. Every read is bounds-checked; compression pointers
 * are followed with a loop limit.
 */
#ifndef T2S_DNS_H
#define T2S_DNS_H

#include <stddef.h>
#include <stdint.h>

#define T2S_DNS_HDR_LEN 12
#define T2S_DNS_NAME_MAX 255 /* presentation form without trailing dot */

#define T2S_DNS_TYPE_A 1
#define T2S_DNS_TYPE_AAAA 28
#define T2S_DNS_CLASS_IN 1

#define T2S_DNS_RCODE_NOERROR 0
#define T2S_DNS_RCODE_FORMERR 1
#define T2S_DNS_RCODE_SERVFAIL 2
#define T2S_DNS_RCODE_NXDOMAIN 3
#define T2S_DNS_RCODE_NOTIMP 4
#define T2S_DNS_RCODE_REFUSED 5

enum t2s_dns_status {
    T2S_DNS_OK = 0,
    T2S_DNS_ESHORT = -1,    /* message shorter than its header/question */
    T2S_DNS_ENAME = -2,     /* bad label, name too long, pointer loop or
                               pointer out of bounds */
    T2S_DNS_ERESPONSE = -3, /* QR bit set: not a query */
    T2S_DNS_EOPCODE = -4,   /* opcode other than QUERY (answer NOTIMP) */
    T2S_DNS_EQDCOUNT = -5,  /* QDCOUNT != 1 (answer FORMERR) */
};

struct t2s_dns_query {
    uint16_t id;
    uint16_t flags; /* the query's flags word (RD is echoed back) */
    uint16_t qtype;
    uint16_t qclass;
    size_t qend;                     /* offset just past the question section */
    uint8_t name_len;                /* strlen(name) */
    char name[T2S_DNS_NAME_MAX + 1]; /* lowercased, dotted, no final dot,
                                        NUL-terminated; "" for the root */
};

/*
 * Read a possibly compressed name at msg[off] into out (dotted, lowercased,
 * NUL-terminated, at most T2S_DNS_NAME_MAX chars). *next is the offset just
 * past the name in the original position (after the first pointer).
 * Labels containing '.' or bytes outside 0x21..0x7e are rejected
 * (T2S_DNS_ENAME), as are names longer than 255 wire bytes.
 * A pointer must point before the start of the labels read since the
 * previous jump (so jumps go strictly backwards); at most 16 are followed.
 * out needs T2S_DNS_NAME_MAX + 1 bytes; out, out_len and next may be NULL.
 * Running off the end of msg is T2S_DNS_ESHORT (T2S_DNS_ENAME after a
 * pointer was followed). Nothing is written on error.
 */
int t2s_dns_read_name(const uint8_t *msg, size_t len, size_t off, char *out,
                      size_t *out_len, size_t *next);

/*
 * Parse a query: header and exactly one question. On T2S_DNS_EOPCODE and
 * T2S_DNS_EQDCOUNT, id and flags are still filled (so an error answer can
 * be built); on other errors nothing is guaranteed.
 */
int t2s_dns_parse_query(const uint8_t *msg, size_t len,
                        struct t2s_dns_query *q);

/*
 * Build a response to q into out (cap bytes): header with QR, the query's
 * RD, RA, the given rcode; the question (name re-encoded uncompressed, q's
 * type and class) unless q->name could not be parsed (pass with_question
 * 0), then n_addrs answers of q->qtype (A: 4-byte addrs, AAAA: 16-byte)
 * whose owner is a pointer to the question name, TTL ttl. Returns the
 * length, or 0 if cap is too small.
 * The opcode is copied too; AA, TC, AD, CD and Z are clear; answers are
 * class IN. Also 0 when the request cannot be met: answers without a
 * question, addrs NULL, qtype not A/AAAA with n_addrs > 0, or a name that
 * cannot be encoded (empty label, label > 63, name_len != strlen(name)).
 */
size_t t2s_dns_build_response(uint8_t *out, size_t cap,
                              const struct t2s_dns_query *q, int with_question,
                              uint8_t rcode, const uint8_t *addrs,
                              size_t n_addrs, uint32_t ttl);

/* Human text for a T2S_DNS_* status. Never NULL. */
const char *t2s_dns_status_str(int status);

#endif
