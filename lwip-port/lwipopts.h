/*
 * lwIP 2.1.3 options for tun2socks: NO_SYS, raw API, one TUN netif, libc
 * malloc for everything (so MEMP_NUM_* are not limits; tun2socks enforces
 * its own connection cap), large MSS and windows for throughput.
 * See ../shared/LWIP.md in the workspace for why each matters.
 */
#ifndef T2S_LWIPOPTS_H
#define T2S_LWIPOPTS_H

/* ---- system ---- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_SINGLE_NETIF 1
#define LWIP_TIMERS 1
#define LWIP_HOOK_FILENAME "t2s_lwip_hooks.h"

/* ---- memory: libc malloc, no static pools ---- */
#define MEM_LIBC_MALLOC 1
/* Every lwIP allocation is counted against tun2socks's memory budget
 * (tun2socks/mem.h): past its hard cap they fail, as pools would. */
#include <stddef.h>
void *t2s_mem_alloc(size_t n);
void *t2s_mem_calloc(size_t n, size_t size);
void t2s_mem_free(void *p);
#define mem_clib_malloc t2s_mem_alloc
#define mem_clib_calloc t2s_mem_calloc
#define mem_clib_free t2s_mem_free
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define LWIP_STATS 0
#define PBUF_POOL_SIZE 16

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_ARP 0
#define LWIP_ETHERNET 0
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_FORWARD 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0

/* IPv6 on a point-to-point TUN: no neighbour discovery, no autoconfig. */
#define LWIP_IPV6_MLD 0
#define LWIP_IPV6_AUTOCONFIG 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_DHCP6 0
#define LWIP_ND6_QUEUEING 0
#define LWIP_ND6_ALLOW_RA_UPDATES 0
#define LWIP_IPV6_NUM_ADDRESSES 1
#define IPV6_FRAG_COPYHEADER 1

/* Reassembly of fragmented input: a 64 KiB datagram at MTU 1280 is about
 * 52 fragments; allow several at once. */
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
#define IP_REASS_MAX_PBUFS 512
#define IP_REASS_MAXAGE 5

/* ---- checksums: the kernel checks what it gives us; we must generate,
 * except TCP on a TUN with a virtio-net header (the kernel does it, see
 * stack.c), hence per-netif control and no summing while copying. ---- */
#define CHECKSUM_CHECK_IP 0
#define CHECKSUM_CHECK_TCP 0
#define CHECKSUM_CHECK_UDP 0
#define CHECKSUM_CHECK_ICMP 0
#define CHECKSUM_CHECK_ICMP6 0
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define LWIP_CHECKSUM_ON_COPY 0
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* ---- TCP ---- */
#define LWIP_CALLBACK_API 1
#define TCP_LISTEN_BACKLOG 0
#define LWIP_TCP_KEEPALIVE 0
/* Selective acknowledgements of out-of-order data (RFC 2018): a burst
 * from the app that overflows the TUN's queue (500 packets on a plain
 * descriptor, as on Android) loses many segments of one window; without
 * SACK the app's kernel recovers them one per round trip or by timeout.
 * Upload at MTU 1500 on a plain fd went from 0.56 to 4.0 Gbit/s with it
 * (tests/component/test_sack.c checks the option). 32 bytes per pcb. */
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_MAX_SACK_NUM 4
#define TCP_QUEUE_OOSEQ 1
/* Out-of-order data is bounded per connection: without a bound an app
 * sending 1-byte segments with gaps queues ~500,000 of them in a 1 MiB
 * window (~75 MiB) and every insert walks the queue. 256 segments is a
 * window's worth of reordering at MTU 4096 and above; past it lwIP drops
 * the tail and the app retransmits. */
#define TCP_OOSEQ_MAX_BYTES TCP_WND
#define TCP_OOSEQ_MAX_PBUFS 256
/* Largest MSS; lwIP clamps it per connection to the netif MTU. */
#define TCP_MSS 65495
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 5
#define TCP_WND (1024 * 1024)
#define TCP_SND_BUF (1024 * 1024)
#define TCP_SND_QUEUELEN 8192
#define TCP_SNDLOWAT (TCP_SND_BUF / 4)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
/* 2 * MSL bounds TIME_WAIT (our patch lets a new SYN replace a TIME_WAIT
 * pcb at once) and, after tcp_close(), LAST_ACK/FIN_WAIT: 1 s killed
 * connections whose last data needed one retransmission timeout (the
 * initial RTO is 3 s). */
#define TCP_MSL 5000UL
#define LWIP_TCP_TIMESTAMPS 0

/* ---- UDP ---- */
#define LWIP_UDPLITE 0
#define LWIP_NETBUF_RECVINFO 0

/* ---- diagnostics ----
 * LWIP_DEBUG stays undefined: lwIP tests it with #ifdef, so any value
 * (even 0) compiles in LWIP_DEBUGF and makes every LWIP_ERROR print its
 * message. LWIP_ASSERT stays on in every build (LWIP_NOASSERT undefined):
 * arch/cc.h sends a failed assertion to our log and stops the process. */

#endif
