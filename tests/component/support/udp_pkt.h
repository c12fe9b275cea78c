/*
 * UDP on the "kernel" side of the component tests: datagrams built with
 * real checksums and sent whole or as IPv4/IPv6 fragments of a given MTU,
 * datagrams read back from the TUN, DNS A/AAAA queries to the fake-ip
 * resolver, and a UDP relay socket that speaks the SOCKS5 UDP header.
 */
#ifndef T2S_TEST_UDP_PKT_H
#define T2S_TEST_UDP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "codec/socks5.h"

/* One UDP datagram, either direction. */
struct udp_dgram {
    int family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    const uint8_t *data; /* payload (points into the caller's buffer) */
    size_t len;
};

/*
 * Sends d to the TUN fd as IP packets of at most mtu bytes (fragments
 * when the datagram does not fit). 0, or -1 if a write failed.
 */
int ku_send(int fd, const struct udp_dgram *d, size_t mtu);

/*
 * Reads packets from the TUN until an unfragmented UDP datagram with a
 * correct checksum arrives (others are skipped and counted in *skipped
 * when not NULL). Payload in buf (cap bytes). 0, or -1 on timeout.
 */
int ku_recv(int fd, struct udp_dgram *d, uint8_t *buf, size_t cap,
            int timeout_ms, unsigned *skipped);

/*
 * Asks the fake-ip resolver (198.18.0.2 / fd00:0:0:18::2 port 53) for
 * name's A (family 4) or AAAA (family 6) record from app port sport.
 * Returns the DNS rcode (-1 on timeout or a malformed answer); on NOERROR
 * addr receives the address.
 */
int ku_dns_ask(int fd, int family, uint16_t sport, const char *name,
               uint8_t *addr);

/* A relay: UDP socket on 127.0.0.1, ephemeral port. */
int relay_open(uint16_t *port);

/*
 * Receives one relay datagram: the SOCKS5 destination in *to, payload in
 * buf (cap bytes), its length in *len. 0, or -1 on timeout or bad header.
 * *from receives the sender (tun2socks's relay socket) for replies.
 */
int relay_recv(int fd, struct t2s_socks5_addr *to, uint8_t *buf, size_t cap,
               size_t *len, void *from_ss, unsigned *from_len, int timeout_ms);

/* Sends payload to the association at from_ss with source address src. */
int relay_send(int fd, const void *from_ss, unsigned from_len,
               const struct t2s_socks5_addr *src, const void *data, size_t len);

/* The SOCKS5 UDP ASSOCIATE reply naming BND 127.0.0.1:port (10 bytes). */
void relay_reply(uint8_t out[10], uint16_t port);

#endif
