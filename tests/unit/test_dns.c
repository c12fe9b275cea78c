/* Unit tests for the DNS codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/dns.h"

/* example.com, A, IN, RD set: a typical stub resolver query. */
static const uint8_t query_a[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
    3,    'c',  'o',  'm',  0,    0x00, 0x01, 0x00, 0x01,
};

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Copies into an exact-size heap buffer so ASan sees any over-read. */
static int
parse_exact(const uint8_t *msg, size_t len, struct t2s_dns_query *q)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, msg, len);
    rc = t2s_dns_parse_query(copy, len, q);
    free(copy);
    return rc;
}

/* Header for a query with the given id, flags and QDCOUNT. */
static size_t
put_header(uint8_t *m, uint16_t id, uint16_t flags, uint16_t qdcount)
{
    memset(m, 0, T2S_DNS_HDR_LEN);
    m[0] = (uint8_t)(id >> 8);
    m[1] = (uint8_t)id;
    m[2] = (uint8_t)(flags >> 8);
    m[3] = (uint8_t)flags;
    m[4] = (uint8_t)(qdcount >> 8);
    m[5] = (uint8_t)qdcount;
    return T2S_DNS_HDR_LEN;
}

/* Appends a label of n copies of c. */
static size_t
put_label(uint8_t *m, size_t pos, size_t n, char c)
{
    m[pos] = (uint8_t)n;
    memset(m + pos + 1, c, n);
    return pos + 1 + n;
}

static size_t
put_type_class(uint8_t *m, size_t pos, uint16_t type)
{
    m[pos] = (uint8_t)(type >> 8);
    m[pos + 1] = (uint8_t)type;
    m[pos + 2] = 0;
    m[pos + 3] = 1;
    return pos + 4;
}

static void
test_parse_a(void **state)
{
    struct t2s_dns_query q;

    (void)state;
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
    assert_int_equal(q.id, 0x1234);
    assert_int_equal(q.flags, 0x0100);
    assert_string_equal(q.name, "example.com");
    assert_int_equal(q.name_len, 11);
    assert_int_equal(q.qtype, T2S_DNS_TYPE_A);
    assert_int_equal(q.qclass, T2S_DNS_CLASS_IN);
    assert_int_equal(q.qend, sizeof(query_a));
}

static void
test_parse_aaaa_uppercase_lowered(void **state)
{
    static const uint8_t msg[] = {
        0xAB, 0xCD, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 3,    'W',  'w',  'W',  7,    'E',  'x',  'A',  'm',  'P',
        'l',  'E',  3,    'C',  'O',  'M',  0,    0x00, 0x1C, 0x00, 0x01,
    };
    struct t2s_dns_query q;

    (void)state;
    assert_int_equal(parse_exact(msg, sizeof(msg), &q), T2S_DNS_OK);
    assert_int_equal(q.id, 0xABCD);
    assert_int_equal(q.flags, 0);
    assert_string_equal(q.name, "www.example.com");
    assert_int_equal(q.name_len, 15);
    assert_int_equal(q.qtype, T2S_DNS_TYPE_AAAA);
}

/* MX query with an EDNS OPT record after the question. */
static void
test_parse_mx_with_additional(void **state)
{
    /* OPT: root owner, type 41, payload size 1232, ttl 0, rdlen 0 */
    static const uint8_t opt[] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0};
    uint8_t m[64];
    size_t pos = put_header(m, 7, 0x0100, 1), qend;
    struct t2s_dns_query q;

    (void)state;
    m[11] = 1; /* ARCOUNT */
    pos = put_label(m, pos, 4, 'm');
    m[pos++] = 0;
    qend = pos = put_type_class(m, pos, 15);
    memcpy(m + pos, opt, sizeof(opt));
    pos += sizeof(opt);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_OK);
    assert_string_equal(q.name, "mmmm");
    assert_int_equal(q.qtype, 15);
    assert_int_equal(q.qend, qend);
    assert_true(q.qend < pos);
}

static void
test_parse_root(void **state)
{
    uint8_t m[32];
    size_t pos = put_header(m, 9, 0, 1);
    struct t2s_dns_query q;

    (void)state;
    m[pos++] = 0;
    pos = put_type_class(m, pos, 2);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_OK);
    assert_string_equal(q.name, "");
    assert_int_equal(q.name_len, 0);
    assert_int_equal(q.qtype, 2);
    assert_int_equal(q.qend, T2S_DNS_HDR_LEN + 5);
}

/*
 * 12: example.com   25: www -> 12   31: mail -> 25
 */
static const uint8_t compressed[] = {
    0,   0,   0,   0,    0,    0,   0,   0,   0,   0,   0,    0,    7,
    'e', 'x', 'a', 'm',  'p',  'l', 'e', 3,   'c', 'o', 'm',  0,    3,
    'w', 'w', 'w', 0xC0, 0x0C, 4,   'm', 'a', 'i', 'l', 0xC0, 0x19,
};

static void
test_read_name_backward_pointers(void **state)
{
    uint8_t *msg = malloc(sizeof(compressed));
    char name[T2S_DNS_NAME_MAX + 1];
    size_t len = 99, next = 99;

    (void)state;
    assert_non_null(msg);
    memcpy(msg, compressed, sizeof(compressed));
    assert_int_equal(
        t2s_dns_read_name(msg, sizeof(compressed), 25, name, &len, &next),
        T2S_DNS_OK);
    assert_string_equal(name, "www.example.com");
    assert_int_equal(len, 15);
    assert_int_equal(next, 31); /* just past the pointer, not the target */
    assert_int_equal(
        t2s_dns_read_name(msg, sizeof(compressed), 31, name, &len, &next),
        T2S_DNS_OK);
    assert_string_equal(name, "mail.www.example.com");
    assert_int_equal(next, 38);
    /* reading straight at a pointer */
    assert_int_equal(
        t2s_dns_read_name(msg, sizeof(compressed), 29, name, &len, &next),
        T2S_DNS_OK);
    assert_string_equal(name, "example.com");
    assert_int_equal(next, 31);
    /* every prefix of the message fails when the name runs off its end */
    for (size_t cut = 32; cut < sizeof(compressed); cut++) {
        uint8_t *part = malloc(cut);

        assert_non_null(part);
        memcpy(part, compressed, cut);
        assert_int_not_equal(
            t2s_dns_read_name(part, cut, 31, name, &len, &next), T2S_DNS_OK);
        free(part);
    }
    free(msg);
}

static void
test_forward_pointer_rejected(void **state)
{
    uint8_t m[32];
    size_t pos = put_header(m, 1, 0, 1);
    struct t2s_dns_query q;

    (void)state;
    m[pos++] = 0xC0;
    m[pos++] = 14; /* the "a" label right after */
    pos = put_label(m, pos, 1, 'a');
    m[pos++] = 0;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);
}

static void
test_self_pointer_rejected(void **state)
{
    uint8_t m[32];
    size_t pos = put_header(m, 1, 0, 1);
    struct t2s_dns_query q;

    (void)state;
    m[pos++] = 0xC0;
    m[pos++] = 12;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);
}

/* A pointer behind itself but back to the start of its own name loops. */
static void
test_label_then_pointer_loop_rejected(void **state)
{
    uint8_t m[32];
    size_t pos = put_header(m, 1, 0, 1);
    struct t2s_dns_query q;

    (void)state;
    pos = put_label(m, pos, 1, 'a');
    m[pos++] = 0xC0;
    m[pos++] = 12;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);
}

static void
test_pointer_chain_loop_rejected(void **state)
{
    uint8_t m[40];
    char name[T2S_DNS_NAME_MAX + 1];
    size_t len, next;

    (void)state;
    memset(m, 0, sizeof(m));
    /* 20: -> 24, 22: -> 20, 24: "b" -> 22 */
    m[20] = 0xC0;
    m[21] = 24;
    m[22] = 0xC0;
    m[23] = 20;
    m[24] = 1;
    m[25] = 'b';
    m[26] = 0xC0;
    m[27] = 22;
    assert_int_equal(t2s_dns_read_name(m, 28, 22, name, &len, &next),
                     T2S_DNS_ENAME);
    assert_int_equal(t2s_dns_read_name(m, 28, 24, name, &len, &next),
                     T2S_DNS_ENAME);
}

/* 16 pointers are followed, the 17th is too many. */
static void
test_pointer_limit(void **state)
{
    uint8_t m[64];
    char name[T2S_DNS_NAME_MAX + 1];
    size_t len, next, pos = 12;

    (void)state;
    memset(m, 0, sizeof(m));
    pos = put_label(m, pos, 1, 'z');
    m[pos++] = 0;
    /* pointer k (k = 1..17) at 15 + 2(k-1) points at the previous one */
    for (size_t k = 1; k <= 17; k++) {
        size_t prev = k == 1 ? 12 : pos - 2;

        m[pos] = 0xC0;
        m[pos + 1] = (uint8_t)prev;
        pos += 2;
    }
    assert_int_equal(t2s_dns_read_name(m, pos, pos - 4, name, &len, &next),
                     T2S_DNS_OK);
    assert_string_equal(name, "z");
    assert_int_equal(next, pos - 2);
    assert_int_equal(t2s_dns_read_name(m, pos, pos - 2, name, &len, &next),
                     T2S_DNS_ENAME);
}

static void
test_truncated_everywhere(void **state)
{
    struct t2s_dns_query q;

    (void)state;
    for (size_t len = 0; len < sizeof(query_a); len++)
        assert_int_equal(parse_exact(query_a, len, &q), T2S_DNS_ESHORT);
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
}

static void
test_label_lengths(void **state)
{
    uint8_t m[128];
    size_t pos;
    struct t2s_dns_query q;

    (void)state;
    pos = put_label(m, put_header(m, 1, 0, 1), 63, 'x');
    m[pos++] = 0;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_OK);
    assert_int_equal(q.name_len, 63);

    pos = put_label(m, put_header(m, 1, 0, 1), 64, 'x');
    m[pos++] = 0;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);

    /* 0x80 label type */
    pos = put_label(m, put_header(m, 1, 0, 1), 1, 'x');
    m[pos - 2] = 0x81;
    m[pos++] = 0;
    pos = put_type_class(m, pos, 1);
    assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);
}

static void
test_label_bad_bytes(void **state)
{
    static const char bad[] = {'.', ' ', 0x00, 0x7F, (char)0xC3};
    uint8_t m[64];
    size_t pos;
    struct t2s_dns_query q;

    (void)state;
    for (size_t i = 0; i < sizeof(bad); i++) {
        pos = put_label(m, put_header(m, 1, 0, 1), 3, 'a');
        m[pos - 2] = (uint8_t)bad[i];
        m[pos++] = 0;
        pos = put_type_class(m, pos, 1);
        assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_ENAME);
        m[pos - 7] = '_'; /* the same byte position, now a valid one */
        assert_int_equal(parse_exact(m, pos, &q), T2S_DNS_OK);
        assert_string_equal(q.name, "a_a");
    }
}

/* Labels of 63, 63, 63, n: wire length 3 * 64 + n + 2. */
static size_t
long_name_query(uint8_t *m, size_t last)
{
    size_t pos = put_header(m, 1, 0, 1);

    for (int i = 0; i < 3; i++)
        pos = put_label(m, pos, 63, (char)('a' + i));
    pos = put_label(m, pos, last, 'd');
    m[pos++] = 0;
    return put_type_class(m, pos, 1);
}

static void
test_name_length_limit(void **state)
{
    uint8_t m[300];
    size_t len;
    struct t2s_dns_query q;

    (void)state;
    len = long_name_query(m, 61); /* 255 wire bytes */
    assert_int_equal(parse_exact(m, len, &q), T2S_DNS_OK);
    assert_int_equal(q.name_len, 253);
    assert_int_equal(strlen(q.name), 253);
    assert_int_equal(q.name[63], '.');
    len = long_name_query(m, 62); /* 256 */
    assert_int_equal(parse_exact(m, len, &q), T2S_DNS_ENAME);
}

/* The limit counts the name uncompressed, through its pointers. */
static void
test_name_length_limit_through_pointer(void **state)
{
    uint8_t m[400];
    char name[T2S_DNS_NAME_MAX + 1];
    size_t pos = 12, second, len, next;

    (void)state;
    memset(m, 0, 12);
    for (int i = 0; i < 3; i++)
        pos = put_label(m, pos, 63, 'a');
    m[pos++] = 0; /* 193 wire bytes */
    second = pos;
    pos = put_label(m, pos, 60, 'b'); /* + 61 = 254 */
    m[pos++] = 0xC0;
    m[pos++] = 12;
    assert_int_equal(t2s_dns_read_name(m, pos, second, name, &len, &next),
                     T2S_DNS_OK);
    assert_int_equal(len, 60 + 1 + 3 * 63 + 2);
    second = pos;
    pos = put_label(m, pos, 61, 'b'); /* + 62 = 255 */
    m[pos++] = 0xC0;
    m[pos++] = 12;
    assert_int_equal(t2s_dns_read_name(m, pos, second, name, &len, &next),
                     T2S_DNS_OK);
    second = pos;
    pos = put_label(m, pos, 62, 'b'); /* + 63 = 256 */
    m[pos++] = 0xC0;
    m[pos++] = 12;
    assert_int_equal(t2s_dns_read_name(m, pos, second, name, &len, &next),
                     T2S_DNS_ENAME);
}

static void
test_response_rejected(void **state)
{
    uint8_t m[sizeof(query_a)];
    struct t2s_dns_query q;

    (void)state;
    memcpy(m, query_a, sizeof(m));
    m[2] |= 0x80;
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_ERESPONSE);
}

static void
test_opcode_rejected_with_id(void **state)
{
    uint8_t m[sizeof(query_a)];
    struct t2s_dns_query q;

    (void)state;
    memcpy(m, query_a, sizeof(m));
    m[2] = (uint8_t)(m[2] | (2 << 3)); /* opcode 2 (STATUS) */
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EOPCODE);
    assert_int_equal(q.id, 0x1234);
    assert_int_equal(q.flags, 0x1100);
}

static void
test_qdcount_rejected_with_id(void **state)
{
    uint8_t m[sizeof(query_a)];
    struct t2s_dns_query q;

    (void)state;
    memcpy(m, query_a, sizeof(m));
    m[5] = 0;
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EQDCOUNT);
    assert_int_equal(q.id, 0x1234);
    assert_int_equal(q.flags, 0x0100);
    m[5] = 2;
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EQDCOUNT);
    m[4] = 1;
    m[5] = 1; /* 257 */
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EQDCOUNT);
}

/*
 * Checks a built response: header, the question, and n answers of rdlen
 * bytes each whose owner resolves to the question name.
 */
static void
check_response(const uint8_t *r, size_t len, const struct t2s_dns_query *q,
               uint8_t rcode, const uint8_t *addrs, size_t n, size_t rdlen,
               uint32_t ttl)
{
    char name[T2S_DNS_NAME_MAX + 1];
    size_t name_len, pos;

    assert_int_equal(rd16(r), q->id);
    /* QR, RD copied, RA; AA, TC, Z, AD, CD clear */
    assert_int_equal(rd16(r + 2),
                     0x8000 | (q->flags & 0x0100) | 0x0080 | rcode);
    assert_int_equal(rd16(r + 4), 1);
    assert_int_equal(rd16(r + 6), n);
    assert_int_equal(rd16(r + 8), 0);
    assert_int_equal(rd16(r + 10), 0);
    assert_int_equal(t2s_dns_read_name(r, len, 12, name, &name_len, &pos),
                     T2S_DNS_OK);
    assert_string_equal(name, q->name);
    assert_int_equal(rd16(r + pos), q->qtype);
    assert_int_equal(rd16(r + pos + 2), q->qclass);
    pos += 4;
    for (size_t i = 0; i < n; i++) {
        size_t after;

        assert_int_equal(rd16(r + pos), 0xC00C);
        assert_int_equal(
            t2s_dns_read_name(r, len, pos, name, &name_len, &after),
            T2S_DNS_OK);
        assert_string_equal(name, q->name);
        assert_int_equal(after, pos + 2);
        assert_int_equal(rd16(r + pos + 2), q->qtype);
        assert_int_equal(rd16(r + pos + 4), T2S_DNS_CLASS_IN);
        assert_int_equal(
            ((uint32_t)rd16(r + pos + 6) << 16) | rd16(r + pos + 8), ttl);
        assert_int_equal(rd16(r + pos + 10), rdlen);
        assert_memory_equal(r + pos + 12, addrs + i * rdlen, rdlen);
        pos += 12 + rdlen;
    }
    assert_int_equal(pos, len);
}

/* Every cap below the needed size fails without writing past the cap. */
static void
check_caps(const struct t2s_dns_query *q, int with_question, uint8_t rcode,
           const uint8_t *addrs, size_t n, size_t need)
{
    for (size_t cap = 0; cap <= need; cap++) {
        uint8_t *out = malloc(cap ? cap : 1);

        assert_non_null(out);
        assert_int_equal(t2s_dns_build_response(out, cap, q, with_question,
                                                rcode, addrs, n, 30),
                         cap < need ? 0 : need);
        free(out);
    }
}

static void
test_build_a(void **state)
{
    static const uint8_t addrs[] = {198, 18, 0, 1, 198, 18, 0, 2};
    struct t2s_dns_query q;
    uint8_t r[512];
    size_t len;

    (void)state;
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, T2S_DNS_RCODE_NOERROR,
                                 addrs, 1, 60);
    assert_int_equal(len, sizeof(query_a) + 16);
    check_response(r, len, &q, 0, addrs, 1, 4, 60);
    check_caps(&q, 1, 0, addrs, 1, len);

    len = t2s_dns_build_response(r, sizeof(r), &q, 1, T2S_DNS_RCODE_NOERROR,
                                 addrs, 2, 0x01020304);
    assert_int_equal(len, sizeof(query_a) + 32);
    check_response(r, len, &q, 0, addrs, 2, 4, 0x01020304);
    check_caps(&q, 1, 0, addrs, 2, len);
}

/* The built response parses back: as a response, and as its question. */
static void
test_build_parses_back(void **state)
{
    static const uint8_t addr[] = {10, 0, 0, 1};
    struct t2s_dns_query q, back;
    uint8_t r[512];
    size_t len;

    (void)state;
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, 0, addr, 1, 5);
    assert_int_equal(parse_exact(r, len, &back), T2S_DNS_ERESPONSE);
    r[2] &= 0x7F;
    assert_int_equal(parse_exact(r, len, &back), T2S_DNS_OK);
    assert_int_equal(back.id, q.id);
    assert_string_equal(back.name, q.name);
    assert_int_equal(back.qtype, q.qtype);
    assert_int_equal(back.qend, sizeof(query_a));
}

static void
test_build_flags(void **state)
{
    uint8_t m[sizeof(query_a)], r[512];
    struct t2s_dns_query q;
    size_t len;

    (void)state;
    memcpy(m, query_a, sizeof(m));
    /* AA, TC, RD clear, AD, CD and Z set in the query */
    m[2] = 0x06;
    m[3] = 0x70;
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_OK);
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, T2S_DNS_RCODE_NXDOMAIN,
                                 NULL, 0, 0);
    assert_int_equal(len, sizeof(query_a));
    assert_int_equal(rd16(r + 2), 0x8083);
}

static void
test_build_aaaa(void **state)
{
    static const uint8_t msg[] = {
        0x00, 0x42, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 2,    'v',  '6',  0,    0x00, 0x1C, 0x00, 0x01,
    };
    uint8_t addr[16] = {0xfd, 0x00, 0xde, 0xad};
    struct t2s_dns_query q;
    uint8_t r[512];
    size_t len;

    (void)state;
    addr[15] = 7;
    assert_int_equal(parse_exact(msg, sizeof(msg), &q), T2S_DNS_OK);
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, 0, addr, 1, 10);
    assert_int_equal(len, sizeof(msg) + 28);
    check_response(r, len, &q, 0, addr, 1, 16, 10);
    check_caps(&q, 1, 0, addr, 1, len);
}

static void
test_build_nodata(void **state)
{
    struct t2s_dns_query q;
    uint8_t r[512];
    size_t len;

    (void)state;
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
    q.qtype = 15; /* MX: no answers of ours, NOERROR */
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0);
    assert_int_equal(len, sizeof(query_a));
    check_response(r, len, &q, 0, NULL, 0, 0, 0);
    check_caps(&q, 1, 0, NULL, 0, len);
}

static void
test_build_root_answer(void **state)
{
    static const uint8_t addr[] = {1, 2, 3, 4};
    struct t2s_dns_query q;
    uint8_t r[64];
    size_t len;

    (void)state;
    memset(&q, 0, sizeof(q));
    q.id = 5;
    q.qtype = T2S_DNS_TYPE_A;
    q.qclass = T2S_DNS_CLASS_IN;
    len = t2s_dns_build_response(r, sizeof(r), &q, 1, 0, addr, 1, 1);
    assert_int_equal(len, 12 + 1 + 4 + 16);
    assert_int_equal(r[12], 0);
    check_response(r, len, &q, 0, addr, 1, 4, 1);
}

static void
test_build_notimp_without_question(void **state)
{
    uint8_t m[sizeof(query_a)], r[64];
    struct t2s_dns_query q;
    size_t len;

    (void)state;
    memcpy(m, query_a, sizeof(m));
    m[2] = (uint8_t)(m[2] | (2 << 3));
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EOPCODE);
    len = t2s_dns_build_response(r, sizeof(r), &q, 0, T2S_DNS_RCODE_NOTIMP,
                                 NULL, 0, 0);
    assert_int_equal(len, T2S_DNS_HDR_LEN);
    assert_int_equal(rd16(r), 0x1234);
    /* QR, the opcode copied, RD, RA, NOTIMP */
    assert_int_equal(rd16(r + 2), 0x8000 | 0x1000 | 0x0100 | 0x0080 | 4);
    for (int i = 4; i < 12; i++)
        assert_int_equal(r[i], 0);
    check_caps(&q, 0, T2S_DNS_RCODE_NOTIMP, NULL, 0, len);

    m[2] = query_a[2];
    m[5] = 2;
    assert_int_equal(parse_exact(m, sizeof(m), &q), T2S_DNS_EQDCOUNT);
    len = t2s_dns_build_response(r, sizeof(r), &q, 0, T2S_DNS_RCODE_FORMERR,
                                 NULL, 0, 0);
    assert_int_equal(len, T2S_DNS_HDR_LEN);
    assert_int_equal(rd16(r + 2), 0x8181);
    assert_int_equal(rd16(r + 4), 0);
}

static void
test_build_rejects_bad_requests(void **state)
{
    static const uint8_t addr[16] = {1};
    struct t2s_dns_query q;
    uint8_t r[512];

    (void)state;
    assert_int_equal(parse_exact(query_a, sizeof(query_a), &q), T2S_DNS_OK);
    /* answers without a question to point at */
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 0, 0, addr, 1, 0),
                     0);
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 1, 0),
                     0);
    q.qtype = 15;
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, addr, 1, 0),
                     0);
    q.qtype = T2S_DNS_TYPE_A;
    /* names that cannot be encoded */
    strcpy(q.name, "a..b");
    q.name_len = 4;
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     0);
    strcpy(q.name, "a.b.");
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     0);
    strcpy(q.name, ".a.b");
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     0);
    /* labels of 64 + 1 bytes, then the same name split as 63 + 2 */
    memset(q.name, 'x', 66);
    q.name[66] = '\0';
    q.name_len = 66;
    q.name[64] = '.';
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     0);
    q.name[64] = 'x';
    q.name[63] = '.';
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     12 + 68 + 4);
    /* name_len disagreeing with the string */
    q.name_len = 3;
    assert_int_equal(t2s_dns_build_response(r, sizeof(r), &q, 1, 0, NULL, 0, 0),
                     0);
}

static void
test_status_strings(void **state)
{
    static const int codes[] = {
        T2S_DNS_OK,        T2S_DNS_ESHORT,  T2S_DNS_ENAME,
        T2S_DNS_ERESPONSE, T2S_DNS_EOPCODE, T2S_DNS_EQDCOUNT,
    };
    const char *unknown = t2s_dns_status_str(42);

    (void)state;
    assert_non_null(unknown);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(t2s_dns_status_str(codes[i]));
        assert_string_not_equal(t2s_dns_status_str(codes[i]), unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t2s_dns_status_str(codes[i]),
                                    t2s_dns_status_str(codes[j]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_a),
        cmocka_unit_test(test_parse_aaaa_uppercase_lowered),
        cmocka_unit_test(test_parse_mx_with_additional),
        cmocka_unit_test(test_parse_root),
        cmocka_unit_test(test_read_name_backward_pointers),
        cmocka_unit_test(test_forward_pointer_rejected),
        cmocka_unit_test(test_self_pointer_rejected),
        cmocka_unit_test(test_label_then_pointer_loop_rejected),
        cmocka_unit_test(test_pointer_chain_loop_rejected),
        cmocka_unit_test(test_pointer_limit),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_label_lengths),
        cmocka_unit_test(test_label_bad_bytes),
        cmocka_unit_test(test_name_length_limit),
        cmocka_unit_test(test_name_length_limit_through_pointer),
        cmocka_unit_test(test_response_rejected),
        cmocka_unit_test(test_opcode_rejected_with_id),
        cmocka_unit_test(test_qdcount_rejected_with_id),
        cmocka_unit_test(test_build_a),
        cmocka_unit_test(test_build_parses_back),
        cmocka_unit_test(test_build_flags),
        cmocka_unit_test(test_build_aaaa),
        cmocka_unit_test(test_build_nodata),
        cmocka_unit_test(test_build_root_answer),
        cmocka_unit_test(test_build_notimp_without_question),
        cmocka_unit_test(test_build_rejects_bad_requests),
        cmocka_unit_test(test_status_strings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
