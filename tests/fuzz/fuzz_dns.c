/*
 * Fuzz target for the DNS codec. The input is parsed as a query; a parsed
 * query is answered (one A record) and the answer must parse back to the
 * same question with its owner pointer resolving to the name. Every offset
 * of the input is also read as a name, whose result must be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int
known_status(int rc)
{
    return rc <= T2S_DNS_OK && rc >= T2S_DNS_EQDCOUNT;
}

/* A name read successfully is short, lowercase, printable, dot-separated. */
static void
check_name(const char *name, size_t len)
{
    check(len <= T2S_DNS_NAME_MAX - 2 && strlen(name) == len);
    for (size_t i = 0; i < len; i++) {
        check(name[i] > 0x20 && name[i] < 0x7F);
        check(name[i] < 'A' || name[i] > 'Z');
        if (name[i] == '.')
            check(i > 0 && i + 1 < len && name[i + 1] != '.');
    }
}

static void
check_answer(const struct t2s_dns_query *q)
{
    static const uint8_t addr[4] = {198, 18, 0, 1};
    uint8_t out[T2S_DNS_HDR_LEN + T2S_DNS_NAME_MAX + 2 + 4 + 16];
    struct t2s_dns_query a = *q, back;
    char name[T2S_DNS_NAME_MAX + 1];
    size_t n, name_len, next, after;

    a.qtype = T2S_DNS_TYPE_A;
    n = t2s_dns_build_response(out, sizeof(out), &a, 1, 0, addr, 1, 60);
    check(n > T2S_DNS_HDR_LEN + 16 && n <= sizeof(out));
    check(t2s_dns_build_response(out, n - 1, &a, 1, 0, addr, 1, 60) == 0);
    n = t2s_dns_build_response(out, sizeof(out), &a, 1, 0, addr, 1, 60);
    check(t2s_dns_read_name(out, n, T2S_DNS_HDR_LEN, name, &name_len, &next) ==
          T2S_DNS_OK);
    check(name_len == q->name_len && strcmp(name, q->name) == 0);
    check(next + 4 + 16 == n);
    check(t2s_dns_read_name(out, n, next + 4, name, &name_len, &after) ==
          T2S_DNS_OK);
    check(strcmp(name, q->name) == 0 && after == next + 6);
    check(memcmp(out + n - 4, addr, 4) == 0);
    check(t2s_dns_parse_query(out, n, &back) == T2S_DNS_ERESPONSE);
    out[2] &= 0x7F;
    check(t2s_dns_parse_query(out, n, &back) == T2S_DNS_OK);
    check(back.id == q->id && back.qclass == q->qclass &&
          back.qtype == T2S_DNS_TYPE_A && back.qend == next + 4);
    check(strcmp(back.name, q->name) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct t2s_dns_query q;
    char name[T2S_DNS_NAME_MAX + 1];
    size_t name_len, next;
    uint8_t out[T2S_DNS_HDR_LEN];
    int rc;

    rc = t2s_dns_parse_query(data, size, &q);
    check(known_status(rc) && t2s_dns_status_str(rc) != NULL);
    if (rc == T2S_DNS_OK) {
        check(q.qend <= size && q.qend >= T2S_DNS_HDR_LEN + 5);
        check_name(q.name, q.name_len);
        check_answer(&q);
    } else if (rc == T2S_DNS_EOPCODE || rc == T2S_DNS_EQDCOUNT) {
        check(q.id == ((data[0] << 8) | data[1]));
        check(t2s_dns_build_response(out, sizeof(out), &q, 0, 4, NULL, 0, 0) ==
              T2S_DNS_HDR_LEN);
    }
    for (size_t off = 0; off <= size; off++) {
        rc = t2s_dns_read_name(data, size, off, name, &name_len, &next);
        check(known_status(rc));
        if (rc == T2S_DNS_OK) {
            check_name(name, name_len);
            check(next > off && next <= size);
        }
    }
    return 0;
}
