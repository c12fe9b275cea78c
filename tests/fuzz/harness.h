/*
 * A whole tun2socks instance for the fuzz targets, in one thread and
 * deterministic: the TUN is a datagram socketpair, the loop advances by
 * ev_run(EVRUN_NOWAIT) steps, lwIP's clock is virtual, and the proxy is
 * scripted over socketpairs.
 *
 * The targets that use it are linked with --wrap for connect, sys_now,
 * ev_now, ev_timer_start, ev_timer_stop and ev_timer_again
 * (tests/CMakeLists.txt): every connect() the library makes (to the proxy
 * over TCP, to a UDP relay) gets one end of a fresh AF_UNIX socketpair of
 * the same type instead, the other end becomes a proxy connection here;
 * lwIP's sys_now() and libev's ev_now() and the library's timers run on a
 * virtual clock that only fz_advance() moves. Nothing in the library
 * itself is changed for the fuzzers.
 *
 * One instance at a time (lwIP is global): fz_begin(), any calls, fz_end().
 */
#ifndef T2S_FUZZ_HARNESS_H
#define T2S_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/socks5.h"

struct fz_opts {
    int dns_mode;         /* enum t2s_dns_mode */
    int pipeline;         /* cfg.socks_pipeline */
    int auth;             /* proxy URL with user:pass */
    int mtu;              /* 576..65535 */
    unsigned max_conns;   /* 0: default */
    unsigned max_udp;     /* 0: default */
    uint32_t manual_mask; /* proxy connection i < 32 answers only what the
                             input scripts (fz_conn_send) */
    uint8_t rep;          /* REP of the automatic CONNECT replies */
    unsigned early_data;  /* bytes sent right behind a granting
                             CONNECT reply (server speaks first) */
    uint8_t udp_rep;      /* REP of the automatic UDP ASSOCIATE replies */
    struct t2s_socks5_addr udp_bnd; /* BND of automatic UDP ASSOCIATE replies */
    int small_buffers;              /* 4 KiB socket buffers toward the proxy */
    int refuse_connects;      /* every connect() fails with ECONNREFUSED */
    unsigned idle_timeout_ms; /* 0: the configuration default */
};

/* Called for every packet the instance writes to the TUN. */
typedef void (*fz_packet_fn)(const uint8_t *pkt, size_t len);

/* Creates the instance (aborts if it cannot: that is a harness bug). */
void fz_begin(const struct fz_opts *o, fz_packet_fn on_packet);

/* Destroys the instance, closes every socket, lets lwIP forget pending
 * reassembly, so that the next input starts from the same state. */
void fz_end(void);

/* Loop steps until neither the TUN nor a proxy connection moves. */
void fz_pump(void);

/* Advances the virtual clock by ms in steps of 250 ms, firing due timers
 * (lwIP's and the library's) and pumping each step. */
void fz_advance(unsigned ms);

/* Writes one packet into the TUN, as the kernel would. */
void fz_tun_send(const void *pkt, size_t len);

/* Proxy connections, in the order the library connected them: stream
 * connections to the proxy and datagram "relays". */
unsigned fz_nconns(void);
int fz_conn_is_relay(unsigned i);
int fz_conn_is_open(unsigned i);
/* Sends bytes (a datagram on a relay); ignored when closed or full. */
void fz_conn_send(unsigned i, const void *data, size_t len);
void fz_conn_shut_wr(unsigned i);
void fz_conn_close(unsigned i);
/* A connection that stops reading makes the library's sends block. */
void fz_conn_set_reading(unsigned i, int on);
/* From now on every connect() fails (ECONNREFUSED), or works again. */
void fz_refuse_connects(int on);

/*
 * Checks one packet tun2socks wrote to the TUN: IP lengths, the IPv4
 * header checksum, TCP and UDP checksums of unfragmented packets (the
 * kernel would drop a packet that fails). Aborts naming the defect.
 * Returns 6 or 17 with the transport header and its family in the out
 * parameters, or -1 (fragments, other protocols).
 */
int fz_check_packet(const uint8_t *p, size_t n, const uint8_t **l4, size_t *len,
                    int *family);

/* Sum of the TCP/UDP pseudo-header (family 4 or 6); the other checksum
 * pieces are in tests/common/wire.h. */
uint32_t fz_pseudo(int family, const uint8_t *src, const uint8_t *dst,
                   uint8_t proto, size_t len);

#endif
