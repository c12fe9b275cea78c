/* Unit tests for TCP checksum offload through the virtio-net header: what
 * the kernel completes must equal a checksum computed from scratch; and
 * the segmentation fields of a segment larger than its MSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/vnet.h"

/* RFC 1071 sum, odd length padded with a zero byte. */
static uint32_t
rfc1071(const uint8_t *b, size_t n, uint32_t acc)
{
    for (size_t i = 0; i < n; i += 2)
        acc += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
    return acc;
}

static uint16_t
fold_not(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* The checksum a TCP stack computes: pseudo-header + segment. */
static uint16_t
reference(const uint8_t *pkt, size_t len, int v6)
{
    size_t hl = v6 ? 40 : (size_t)(pkt[0] & 0x0f) * 4;
    uint32_t acc = v6 ? rfc1071(pkt + 8, 32, 0) : rfc1071(pkt + 12, 8, 0);

    acc += 6 + (uint32_t)(len - hl);
    return fold_not(rfc1071(pkt + hl, len - hl, acc));
}

/* What the kernel does with NEEDS_CSUM: sum from csum_start to the end
 * (the field holds the pseudo-header sum), store the complement. */
static void
kernel_finish(uint8_t *pkt, size_t len, const struct virtio_net_hdr *h)
{
    uint16_t c = fold_not(rfc1071(pkt + h->csum_start, len - h->csum_start, 0));

    pkt[h->csum_start + h->csum_offset] = (uint8_t)(c >> 8);
    pkt[h->csum_start + h->csum_offset + 1] = (uint8_t)c;
}

/* An IPv4 (ihl words of header) or IPv6 TCP segment with payload bytes. */
static size_t
build(uint8_t *pkt, int v6, unsigned ihl, size_t payload)
{
    size_t hl = v6 ? 40 : ihl * 4, len = hl + 20 + payload;

    memset(pkt, 0, len);
    if (v6) {
        pkt[0] = 0x60;
        pkt[4] = (uint8_t)((len - 40) >> 8);
        pkt[5] = (uint8_t)(len - 40);
        pkt[6] = 6;
        pkt[7] = 64;
        for (int i = 0; i < 32; i++) /* fd00::/8 addresses */
            pkt[8 + i] = (uint8_t)(i % 16 == 0 ? 0xfd : i * 13 + 1);
    } else {
        pkt[0] = (uint8_t)(0x40 | ihl);
        pkt[2] = (uint8_t)(len >> 8);
        pkt[3] = (uint8_t)len;
        pkt[6] = 0x40; /* DF: not a fragment */
        pkt[8] = 64;
        pkt[9] = 6;
        memcpy(pkt + 12, "\xc6\x12\x00\x01\xc6\x13\xff\xfe", 8);
    }
    pkt[hl] = 0x9c; /* ports 40000 -> 443 */
    pkt[hl + 1] = 0x40;
    pkt[hl + 3] = 0xbb;
    pkt[hl + 12] = 0x50;
    pkt[hl + 13] = 0x18;
    for (size_t i = 0; i < payload; i++)
        pkt[hl + 20 + i] = (uint8_t)(i * 31 + 7);
    return len;
}

static void
check_offloaded(int v6, unsigned ihl, size_t payload)
{
    static uint8_t pkt[70000];
    struct virtio_net_hdr h;
    size_t len = build(pkt, v6, ihl, payload);
    size_t hl = v6 ? 40 : ihl * 4;
    uint16_t want = reference(pkt, len, v6);

    memset(&h, 0, sizeof(h));
    assert_int_equal(t2s_vnet_tcp_csum(pkt, hl + 20, len, &h), 0);
    assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    assert_int_equal(h.csum_start, hl);
    assert_int_equal(h.csum_offset, 16);
    kernel_finish(pkt, len, &h);
    assert_int_equal(pkt[hl + 16] << 8 | pkt[hl + 17], want);
}

static void
test_ipv4_segments(void **state)
{
    (void)state;
    check_offloaded(0, 5, 0); /* a bare ACK */
    check_offloaded(0, 5, 1); /* odd length */
    check_offloaded(0, 5, 1460);
    check_offloaded(0, 7, 333);   /* IP options */
    check_offloaded(0, 5, 65495); /* the largest segment at MTU 65535 */
}

static void
test_ipv6_segments(void **state)
{
    (void)state;
    check_offloaded(1, 0, 0);
    check_offloaded(1, 0, 1441);
    check_offloaded(1, 0, 65475);
}

static void
test_other_packets_untouched(void **state)
{
    uint8_t pkt[200], copy[200];
    struct virtio_net_hdr h;
    size_t len = build(pkt, 0, 5, 40);

    (void)state;
    pkt[9] = 17; /* UDP keeps lwIP's own checksum */
    memcpy(copy, pkt, len);
    memset(&h, 0, sizeof(h));
    assert_int_equal(t2s_vnet_tcp_csum(pkt, len, len, &h), 0);
    assert_int_equal(h.flags, 0);
    assert_memory_equal(pkt, copy, len);
    len = build(pkt, 1, 0, 40);
    pkt[6] = 58; /* ICMPv6 */
    assert_int_equal(t2s_vnet_tcp_csum(pkt, len, len, &h), 0);
    assert_int_equal(h.flags, 0);
}

static void
test_unusable_layouts_refused(void **state)
{
    uint8_t pkt[200];
    struct virtio_net_hdr h;
    size_t len = build(pkt, 0, 5, 40);

    (void)state;
    memset(&h, 0, sizeof(h));
    /* TCP header not in the first piece */
    assert_int_equal(t2s_vnet_tcp_csum(pkt, 30, len, &h), -1);
    assert_int_equal(t2s_vnet_tcp_csum(pkt, 10, len, &h), -1);
    /* a fragment: more fragments, or an offset */
    pkt[6] = 0x20;
    assert_int_equal(t2s_vnet_tcp_csum(pkt, len, len, &h), -1);
    pkt[6] = 0;
    pkt[7] = 1;
    assert_int_equal(t2s_vnet_tcp_csum(pkt, len, len, &h), -1);
    /* a header length below the minimum */
    len = build(pkt, 0, 4, 40);
    assert_int_equal(t2s_vnet_tcp_csum(pkt, len, len, &h), -1);
    assert_int_equal(h.flags, 0);
}

/* t2s_vnet_tcp_out() on an IPv4 (ihl words) or IPv6 segment with payload
 * bytes and doff words of TCP header: the checksum as t2s_vnet_tcp_csum(),
 * then GSO fields exactly when payload > gso_size. */
static void
check_gso(int v6, unsigned ihl, unsigned doff, size_t payload, unsigned mss,
          uint8_t tcp_flags)
{
    static uint8_t pkt[70000];
    struct virtio_net_hdr h;
    size_t len = build(pkt, v6, ihl, payload + (doff - 5) * 4);
    size_t hl = v6 ? 40 : ihl * 4;
    uint16_t want;

    pkt[hl + 12] = (uint8_t)(doff << 4);
    pkt[hl + 13] = tcp_flags;
    want = reference(pkt, len, v6);
    memset(&h, 0xee, sizeof(h)); /* the function sets every field it uses */
    h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    h.gso_size = h.hdr_len = 0;
    assert_int_equal(t2s_vnet_tcp_out(pkt, hl + doff * 4, len, mss, &h), 0);
    assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(h.csum_start, hl);
    assert_int_equal(h.csum_offset, 16);
    kernel_finish(pkt, len, &h);
    assert_int_equal(pkt[hl + 16] << 8 | pkt[hl + 17], want);
    if (mss == 0 || payload <= mss) {
        assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        assert_int_equal(h.gso_size, 0);
        return;
    }
    assert_int_equal(h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN,
                     v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    /* ECN exactly when the segment carries CWR */
    assert_int_equal(!!(h.gso_type & VIRTIO_NET_HDR_GSO_ECN),
                     !!(tcp_flags & 0x80));
    assert_int_equal(h.gso_size, mss);
    assert_int_equal(h.hdr_len, hl + doff * 4);
}

static void
test_gso_marking(void **state)
{
    (void)state;
    check_gso(0, 5, 5, 1460, 1460, 0x18); /* one MSS: plain */
    check_gso(0, 5, 5, 1461, 1460, 0x18); /* one byte more: cut */
    check_gso(0, 5, 5, 65495, 1460, 0x18);
    check_gso(0, 5, 5, 65495, 0, 0x18);    /* no TSO: never */
    check_gso(0, 7, 5, 20000, 536, 0x10);  /* IP options */
    check_gso(0, 5, 8, 20000, 1448, 0x18); /* TCP options */
    check_gso(0, 5, 5, 30000, 1400, 0x98); /* CWR: ECN */
    check_gso(1, 0, 5, 1440, 1440, 0x18);
    check_gso(1, 0, 5, 65475, 1440, 0x19); /* FIN rides along */
    check_gso(1, 0, 5, 9000, 1220, 0x90);
}

static void
test_gso_other_packets(void **state)
{
    uint8_t pkt[3000];
    struct virtio_net_hdr h;
    size_t len = build(pkt, 0, 5, 2500);

    (void)state;
    pkt[9] = 17; /* a UDP datagram above the MSS: not TCP, no header */
    memset(&h, 0, sizeof(h));
    assert_int_equal(t2s_vnet_tcp_out(pkt, len, len, 1460, &h), 0);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    /* a TCP data offset past the end of the packet */
    len = build(pkt, 0, 5, 20);
    pkt[20 + 12] = 0xf0;
    assert_int_equal(t2s_vnet_tcp_out(pkt, len, len, 10, &h), -1);
    /* a fragment is refused as by t2s_vnet_tcp_csum() */
    len = build(pkt, 0, 5, 2500);
    pkt[6] = 0x20;
    assert_int_equal(t2s_vnet_tcp_out(pkt, len, len, 1460, &h), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_segments),
        cmocka_unit_test(test_ipv6_segments),
        cmocka_unit_test(test_other_packets_untouched),
        cmocka_unit_test(test_unusable_layouts_refused),
        cmocka_unit_test(test_gso_marking),
        cmocka_unit_test(test_gso_other_packets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
