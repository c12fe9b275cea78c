/* TCP checksum and segmentation offload through the virtio-net header. */
#include "codec/vnet.h"

#define IP4_HLEN_MIN 20
#define IP6_HLEN 40
#define TCP_HLEN_MIN 20
#define PROTO_TCP 6
#define TCP_CSUM_AT 16
#define TCP_DOFF_AT 12
#define TCP_FLAGS_AT 13
#define TCP_CWR 0x80

/* One's-complement sum of the 16-bit words of b[0..n), n even, unfolded. */
static uint32_t
sum16(const uint8_t *b, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)b[i] << 8 | b[i + 1];
    return acc;
}

int
t2s_vnet_tcp_csum(uint8_t *pkt, size_t first_len, size_t tot_len,
                  struct virtio_net_hdr *h)
{
    size_t start;
    uint32_t acc;

    if (first_len < IP4_HLEN_MIN || first_len > tot_len)
        return -1;
    if (pkt[0] >> 4 == 4) {
        if (pkt[9] != PROTO_TCP)
            return 0;
        start = (size_t)(pkt[0] & 0x0f) * 4;
        if ((pkt[6] & 0x3f) != 0 || pkt[7] != 0) /* MF or an offset */
            return -1;
        acc = sum16(pkt + 12, 8, 0); /* source and destination */
    } else if (pkt[0] >> 4 == 6) {
        if (first_len < IP6_HLEN || pkt[6] != PROTO_TCP)
            return 0;
        start = IP6_HLEN;
        acc = sum16(pkt + 8, 32, 0);
    } else {
        return 0;
    }
    if (start < IP4_HLEN_MIN || first_len < start + TCP_HLEN_MIN)
        return -1;
    acc += PROTO_TCP + (uint32_t)(tot_len - start);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    pkt[start + TCP_CSUM_AT] = (uint8_t)(acc >> 8);
    pkt[start + TCP_CSUM_AT + 1] = (uint8_t)acc;
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
    h->csum_start = (uint16_t)start;
    h->csum_offset = TCP_CSUM_AT;
    return 0;
}

int
t2s_vnet_tcp_out(uint8_t *pkt, size_t first_len, size_t tot_len,
                 unsigned gso_size, struct virtio_net_hdr *h)
{
    size_t start, hdr_len;

    h->flags = 0;
    if (t2s_vnet_tcp_csum(pkt, first_len, tot_len, h) < 0)
        return -1;
    /* not TCP (h->flags untouched), or nothing to cut */
    if (h->flags == 0 || gso_size == 0)
        return 0;
    start = h->csum_start;
    hdr_len = start + (size_t)(pkt[start + TCP_DOFF_AT] >> 4) * 4;
    if (hdr_len < start + TCP_HLEN_MIN || hdr_len > tot_len)
        return -1;
    if (tot_len - hdr_len <= gso_size)
        return 0; /* one MSS or less: a plain segment */
    h->gso_type = (uint8_t)(pkt[0] >> 4 == 6 ? VIRTIO_NET_HDR_GSO_TCPV6
                                             : VIRTIO_NET_HDR_GSO_TCPV4);
    /* CWR goes on the first piece only (RFC 3168): the kernel knows to
     * clear it on the others */
    if (pkt[start + TCP_FLAGS_AT] & TCP_CWR)
        h->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    h->gso_size = (uint16_t)gso_size;
    h->hdr_len = (uint16_t)hdr_len;
    return 0;
}
