/*
 * The kernel's side of a TUN with a virtio-net header and TSO, for
 * test_tso.c: a thread between the forwarder's TUN fd (a datagram
 * socketpair whose packets carry a virtio-net header) and the plain
 * socketpair the tests' kernel (pkt.h) reads and writes.
 *
 * Forwarder -> app: completes the partial TCP checksum as the kernel does,
 * checks the header (NEEDS_CSUM at the TCP header, GSO marking exactly on
 * segments with more payload than the MSS, gso_size = that MSS, hdr_len),
 * cuts GSO segments into MSS pieces as the kernel does (FIN and PSH on the
 * last, CWR on the first) and can drop one piece.
 * App -> forwarder: prepends a header; a TCP segment with more payload
 * than in_gso is marked as the kernel marks a TSO super-packet.
 *
 * tso_ioctl_*: test_tso.c wraps ioctl(2) (-Wl,--wrap=ioctl) so that the
 * socketpair passes for a TUN with IFF_VNET_HDR.
 */
#ifndef T2S_TEST_TSO_SHIM_H
#define T2S_TEST_TSO_SHIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct tso_shim {
    int tun[2];   /* tun[1]: the forwarder's TUN fd; tun[0]: ours */
    int plain;    /* the plain end facing the tests' kernel */
    int stop[2];  /* a byte stops the thread */
    pthread_t th; /* the shim */
    pthread_mutex_t mu;
    /* set before starting */
    unsigned mss;        /* the MSS the forwarder must cut at */
    unsigned in_gso;     /* app -> forwarder: mark segments above it (0: no) */
    unsigned drop_piece; /* drop this piece (1-based) of the first GSO
                            segment with more pieces; 0: none */
    /* observed (under mu) */
    unsigned bad;         /* header or checksum wrong (see why) */
    char why[160];        /* the first problem */
    unsigned gso_segs;    /* GSO segments from the forwarder */
    unsigned gso_rexmit;  /* ... starting below the highest seq sent */
    unsigned gso_fin;     /* ... carrying FIN */
    unsigned plain_segs;  /* TCP segments not marked */
    size_t max_payload;   /* largest TCP payload from the forwarder */
    int dropped;          /* the piece was dropped */
    unsigned in_gso_segs; /* super-packets handed to the forwarder */
    unsigned in_gso_ecn;  /* ... marked ECN (CWR set) */
    uint32_t hi_seq;      /* highest end of sequence sent, per test */
    int seen_data;
    int fin_seen; /* a FIN came, ending the stream at fin_seq */
    uint32_t fin_seq;
};

/* Creates the forwarder's socketpair (tun[]), then starts the thread
 * between it and plain (the end the tests' kernel talks to). */
void tso_shim_open(struct tso_shim *s);
void tso_shim_run(struct tso_shim *s, int plain);
void tso_shim_stop(struct tso_shim *s);
/* A copy of the counters. */
void tso_shim_get(struct tso_shim *s, struct tso_shim *out);

/* The ioctl(2) the forwarder sees on the shim's fd. */
extern int tso_ioctl_fd;                /* the fd passing for a TUN */
extern int tso_ioctl_refuse_tso;        /* TUNSETOFFLOAD with TSO fails */
extern unsigned long tso_ioctl_offload; /* the last flags set */

#define TH_CWR 0x80

#endif
