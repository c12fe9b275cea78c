/*
 * The virtio-net header side of TUN output: TCP checksums left for the
 * kernel to complete (VIRTIO_NET_HDR_F_NEEDS_CSUM), TCP segments larger
 * than the MSS marked for the kernel to cut (VIRTIO_NET_HDR_GSO_TCPV4/6,
 * TSO on the TUN). Pure, no I/O.
 */
#ifndef T2S_VNET_H
#define T2S_VNET_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/*
 * pkt is an IPv4 or IPv6 packet of tot_len bytes whose first first_len
 * bytes are contiguous. For a TCP segment (its checksum field not yet set)
 * stores the pseudo-header sum in that field and fills h so the kernel
 * sums the rest; any other packet is left alone and h untouched. Returns 0,
 * or -1 when the packet cannot be offloaded: the IP and TCP headers are
 * not within first_len, or it is an IPv4 fragment.
 */
int t2s_vnet_tcp_csum(uint8_t *pkt, size_t first_len, size_t tot_len,
                      struct virtio_net_hdr *h);

/*
 * t2s_vnet_tcp_csum(), and for a TCP segment whose payload is larger than
 * gso_size (its connection's MSS; 0: never) the segmentation fields too:
 * gso_type TCPV4 or TCPV6 (with ECN when the segment carries CWR),
 * gso_size, hdr_len (IP + TCP headers). h->flags is 0 for a packet that
 * is not TCP. Returns 0 or -1 as t2s_vnet_tcp_csum() (also -1 for a TCP
 * data offset beyond the packet).
 */
int t2s_vnet_tcp_out(uint8_t *pkt, size_t first_len, size_t tot_len,
                     unsigned gso_size, struct virtio_net_hdr *h);

#endif
