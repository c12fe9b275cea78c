/*
 * Datagrams toward the relay sockets of UDP associations, sent in batches:
 * t2s_udp_assoc_relay_send() copies each (SOCKS header and payload) into
 * this queue, and once per loop iteration (an ev_prepare watcher, after
 * the TUN burst that produced them) or when the queue is full, they leave
 * in as few system calls as the kernel allows: runs of equal-sized
 * datagrams to one socket as one UDP GSO send (UDP_SEGMENT: the kernel
 * cuts the buffer), the rest with sendmmsg(2). When the kernel refuses
 * UDP_SEGMENT (before Linux 4.18: EINVAL; a device without checksum
 * offload: EIO) the batch stops trying it and uses sendmmsg. A datagram
 * the kernel does not take (socket buffer full) is dropped and counted,
 * as a lost datagram would be. Owned by the associations' state
 * (udp_assoc.h), one per instance; loop thread only.
 */
#ifndef T2S_UDP_BATCH_H
#define T2S_UDP_BATCH_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/stats.h"

#define T2S_UDP_BATCH_MAX 64             /* datagrams queued */
#define T2S_UDP_BATCH_BYTES (128 * 1024) /* their bytes, back to back */
#define T2S_UDP_BATCH_GSO_SEGS 64        /* the kernel's UDP_MAX_SEGMENTS */
#define T2S_UDP_BATCH_GSO_BYTES 65000    /* one GSO send (below 64 KiB) */

/* The system calls, so that tests can script what the kernel does. */
struct t2s_udp_batch_sys {
    int (*sendmmsg)(int fd, struct mmsghdr *v, unsigned n, int flags);
    ssize_t (*sendmsg)(int fd, const struct msghdr *m, int flags);
};

struct t2s_udp_batch_dgram {
    int fd;           /* the association's relay socket */
    uint32_t off;     /* in arena */
    uint32_t len;     /* SOCKS header + payload */
    uint32_t payload; /* payload bytes (counters) */
};

struct t2s_udp_batch {
    const struct t2s_udp_batch_sys *sys;
    struct t2s_stats *stats; /* udp_pkts_up, udp_bytes_up, udp_dropped */
    struct ev_loop *loop;
    ev_prepare prepare; /* flushes once per loop iteration */
    uint8_t *arena;     /* T2S_UDP_BATCH_BYTES */
    size_t used;        /* bytes of arena queued */
    unsigned n;         /* datagrams queued */
    int gso;            /* 1: try UDP_SEGMENT; 0: the kernel refused it */
    uint64_t gso_sends; /* GSO sends made (tests, debugging) */
    struct t2s_udp_batch_dgram q[T2S_UDP_BATCH_MAX];
};

/* The real system calls. */
extern const struct t2s_udp_batch_sys t2s_udp_batch_sys_default;

/* Returns 0, or -1 when out of memory. sys NULL: the real calls. */
int t2s_udp_batch_init(struct t2s_udp_batch *b, struct ev_loop *loop,
                       struct t2s_stats *stats,
                       const struct t2s_udp_batch_sys *sys);

/* Sends what is queued, stops the watcher, frees. Idempotent. */
void t2s_udp_batch_free(struct t2s_udp_batch *b);

/* Room for one datagram of len bytes at the tail (flushing first when the
 * queue is full); NULL when len can never fit (the caller sends it alone,
 * after t2s_udp_batch_flush() to keep the order). */
uint8_t *t2s_udp_batch_reserve(struct t2s_udp_batch *b, size_t len);

/* Queues the len bytes written at the last reservation, for fd. */
void t2s_udp_batch_commit(struct t2s_udp_batch *b, int fd, size_t len,
                          size_t payload);

/* Sends every queued datagram. */
void t2s_udp_batch_flush(struct t2s_udp_batch *b);

#endif
