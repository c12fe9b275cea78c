/*
 * Minimal DNS codec (RFC 1035): one query in, one response out.
 *
 * Names are read label by label with every byte bounds-checked. A
 * compression pointer must point strictly before the start of the stretch
 * of labels that led to it (the question start, or the previous pointer's
 * target), so successive jumps go strictly backwards and cannot loop; at
 * most T2S_DNS_MAX_PTRS pointers are followed anyway. The name's wire
 * length, counted uncompressed, is limited to 255 bytes, so its dotted text
 * is at most 253 characters.
 */
#include <string.h>

#include "codec/dns.h"

#define T2S_DNS_MAX_PTRS 16
#define WIRE_MAX 255 /* RFC 1035 2.3.4: a name is at most 255 octets */
#define LABEL_MAX 63

#define FLAG_QR 0x8000
#define FLAG_OPCODE 0x7800
#define FLAG_RD 0x0100
#define FLAG_RA 0x0080

/* Owner (pointer), TYPE, CLASS, TTL, RDLENGTH before each answer's RDATA. */
#define ANSWER_FIXED 12

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFF);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)(v & 0xFFFF));
}

/*
 * Running off the end of the message before any pointer was followed is a
 * short message; after a pointer it is a bad name (the pointer led there).
 */
static int
past_end(int jumped)
{
    return jumped ? T2S_DNS_ENAME : T2S_DNS_ESHORT;
}

int
t2s_dns_read_name(const uint8_t *msg, size_t len, size_t off, char *out,
                  size_t *out_len, size_t *next)
{
    char text[T2S_DNS_NAME_MAX + 1];
    size_t pos = off, seg = off, wire = 0, n = 0, end = 0;
    int ptrs = 0;

    if (msg == NULL)
        return T2S_DNS_ESHORT;
    for (;;) {
        uint8_t c;

        if (pos >= len)
            return past_end(ptrs);
        c = msg[pos];
        if ((c & 0xC0) == 0xC0) {
            size_t target;

            if (len - pos < 2)
                return past_end(ptrs);
            target = ((size_t)(c & 0x3F) << 8) | msg[pos + 1];
            if (target >= seg || ++ptrs > T2S_DNS_MAX_PTRS)
                return T2S_DNS_ENAME;
            if (ptrs == 1)
                end = pos + 2;
            pos = seg = target;
            continue;
        }
        if (c & 0xC0) /* 0x40 and 0x80: extended/reserved label types */
            return T2S_DNS_ENAME;
        if (c == 0)
            break;
        /* this label plus the root label still to come */
        wire += 1 + (size_t)c;
        if (wire + 1 > WIRE_MAX)
            return T2S_DNS_ENAME;
        if (len - pos - 1 < c)
            return past_end(ptrs);
        if (n > 0)
            text[n++] = '.';
        for (size_t i = 1; i <= c; i++) {
            uint8_t b = msg[pos + i];

            if (b < 0x21 || b > 0x7E || b == '.')
                return T2S_DNS_ENAME;
            if (b >= 'A' && b <= 'Z')
                b = (uint8_t)(b - 'A' + 'a');
            text[n++] = (char)b;
        }
        pos += 1 + (size_t)c;
    }
    if (ptrs == 0)
        end = pos + 1;
    text[n] = '\0';
    if (out != NULL)
        memcpy(out, text, n + 1);
    if (out_len != NULL)
        *out_len = n;
    if (next != NULL)
        *next = end;
    return T2S_DNS_OK;
}

int
t2s_dns_parse_query(const uint8_t *msg, size_t len, struct t2s_dns_query *q)
{
    size_t name_len = 0, pos = 0;
    int rc;

    memset(q, 0, sizeof(*q));
    if (msg == NULL || len < T2S_DNS_HDR_LEN)
        return T2S_DNS_ESHORT;
    q->id = get16(msg);
    q->flags = get16(msg + 2);
    if (q->flags & FLAG_QR)
        return T2S_DNS_ERESPONSE;
    if (q->flags & FLAG_OPCODE)
        return T2S_DNS_EOPCODE;
    if (get16(msg + 4) != 1)
        return T2S_DNS_EQDCOUNT;
    /* ANCOUNT, NSCOUNT and ARCOUNT (an EDNS OPT record) are ignored */
    rc = t2s_dns_read_name(msg, len, T2S_DNS_HDR_LEN, q->name, &name_len, &pos);
    if (rc != T2S_DNS_OK)
        return rc;
    if (len - pos < 4) {
        q->name[0] = '\0';
        return T2S_DNS_ESHORT;
    }
    q->name_len = (uint8_t)name_len;
    q->qtype = get16(msg + pos);
    q->qclass = get16(msg + pos + 2);
    q->qend = pos + 4;
    return T2S_DNS_OK;
}

/*
 * Wire form of a dotted name (the root is ""): labels of 1..63 bytes,
 * at most 255 bytes in all. Returns the wire length, or 0 if the name
 * cannot be encoded. With out NULL only measures.
 */
static size_t
encode_name(uint8_t *out, const char *name, size_t name_len)
{
    size_t wire = 0, start = 0;

    if (name_len == 0) {
        if (out != NULL)
            out[0] = 0;
        return 1;
    }
    while (start <= name_len) {
        const char *dot = memchr(name + start, '.', name_len - start);
        size_t label = dot ? (size_t)(dot - (name + start)) : name_len - start;

        if (label == 0 || label > LABEL_MAX || wire + 1 + label + 1 > WIRE_MAX)
            return 0;
        if (out != NULL) {
            out[wire] = (uint8_t)label;
            memcpy(out + wire + 1, name + start, label);
        }
        wire += 1 + label;
        start += label + 1;
    }
    if (out != NULL)
        out[wire] = 0;
    return wire + 1;
}

size_t
t2s_dns_build_response(uint8_t *out, size_t cap, const struct t2s_dns_query *q,
                       int with_question, uint8_t rcode, const uint8_t *addrs,
                       size_t n_addrs, uint32_t ttl)
{
    size_t need = T2S_DNS_HDR_LEN, name_wire = 0, rdlen = 0, pos;
    uint16_t flags;

    if (out == NULL || q == NULL)
        return 0;
    if (n_addrs > 0) {
        /* answers point at the question name, so they need a question */
        if (!with_question || addrs == NULL || n_addrs > 0xFFFF)
            return 0;
        if (q->qtype == T2S_DNS_TYPE_A)
            rdlen = 4;
        else if (q->qtype == T2S_DNS_TYPE_AAAA)
            rdlen = 16;
        else
            return 0;
    }
    if (with_question) {
        /* name_len must agree with the NUL-terminated name */
        if (q->name[q->name_len] != '\0')
            return 0;
        name_wire = encode_name(NULL, q->name, q->name_len);
        if (name_wire == 0)
            return 0;
        need += name_wire + 4;
    }
    need += n_addrs * (ANSWER_FIXED + rdlen);
    if (cap < need)
        return 0;

    flags = (uint16_t)(FLAG_QR | (q->flags & (FLAG_OPCODE | FLAG_RD)) |
                       FLAG_RA | (rcode & 0x0F));
    put16(out, q->id);
    put16(out + 2, flags);
    put16(out + 4, with_question ? 1 : 0);
    put16(out + 6, (uint16_t)n_addrs);
    put16(out + 8, 0);
    put16(out + 10, 0);
    pos = T2S_DNS_HDR_LEN;
    if (with_question) {
        encode_name(out + pos, q->name, q->name_len);
        pos += name_wire;
        put16(out + pos, q->qtype);
        put16(out + pos + 2, q->qclass);
        pos += 4;
    }
    for (size_t i = 0; i < n_addrs; i++) {
        put16(out + pos, 0xC000 | T2S_DNS_HDR_LEN);
        put16(out + pos + 2, q->qtype);
        put16(out + pos + 4, T2S_DNS_CLASS_IN);
        put32(out + pos + 6, ttl);
        put16(out + pos + 10, (uint16_t)rdlen);
        memcpy(out + pos + ANSWER_FIXED, addrs + i * rdlen, rdlen);
        pos += ANSWER_FIXED + rdlen;
    }
    return pos;
}

const char *
t2s_dns_status_str(int status)
{
    switch (status) {
    case T2S_DNS_OK:
        return "ok";
    case T2S_DNS_ESHORT:
        return "message too short";
    case T2S_DNS_ENAME:
        return "malformed name";
    case T2S_DNS_ERESPONSE:
        return "not a query";
    case T2S_DNS_EOPCODE:
        return "opcode not implemented";
    case T2S_DNS_EQDCOUNT:
        return "question count is not 1";
    default:
        return "unknown status";
    }
}
