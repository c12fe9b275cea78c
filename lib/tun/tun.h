/*
 * TUN device: create/attach by name, configure (MTU, addresses, link up),
 * non-blocking raw IP packet I/O (IFF_NO_PI). Linux only.
 */
#ifndef T2S_TUN_H
#define T2S_TUN_H

#include <stddef.h>

/* Size of struct virtio_net_hdr, the header TUN_F_CSUM packets carry. */
#define T2S_VNET_HDR_MIN 10
/* Largest header size we accept on a TUN fd handed to us. */
#define T2S_VNET_HDR_MAX 64

/*
 * Creates the TUN device `name`, or attaches to an existing persistent one,
 * with a virtio-net header where the kernel offers it: then every packet
 * read or written starts with a header of *vnet_hdr_len bytes (else 0; see
 * t2s_tun_offload()). Returns the non-blocking fd, or -1 with one line in
 * err (a permission problem is named as such).
 */
int t2s_tun_open(const char *name, int *vnet_hdr_len, char *err, size_t errlen);

/*
 * The virtio-net header length of a TUN fd opened by someone else: 0 when
 * it has none (or fd is not a TUN), -1 when it is unusable.
 */
int t2s_tun_vnet_hdr_len(int fd);

/* What t2s_tun_offload() switched on. */
#define T2S_TUN_OFFLOAD_CSUM 1 /* TCP checksums partial both ways */
#define T2S_TUN_OFFLOAD_TSO 2  /* TCP super-packets both ways (TSO4, TSO6) */

/*
 * On a TUN fd with a virtio-net header (ours or one handed in: the header
 * says its owner lets us choose the packet format), switches on checksum
 * and TCP segmentation offload, or checksum offload alone when TSO is
 * refused. Returns the T2S_TUN_OFFLOAD_* bits that are on (0: none, the
 * header stays and carries nothing).
 */
int t2s_tun_offload(int fd);

/*
 * Sets the MTU, assigns ipv4/ipv6 ("ADDR/PREFIX", NULL or "" to skip; an
 * address already present is fine) and brings the link up.
 */
int t2s_tun_configure(const char *name, int mtu, const char *ipv4,
                      const char *ipv6, char *err, size_t errlen);

/* Makes a TUN fd (ours or one handed in) non-blocking and close-on-exec.
 * Returns 0 or -1 (errno set). */
int t2s_tun_set_nonblock(int fd);

#endif
