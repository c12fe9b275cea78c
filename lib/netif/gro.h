/*
 * Userspace GRO for a TUN without offloads: within one burst of reads,
 * in-order TCP segments of one flow are joined into one larger segment
 * (at most T2S_GRO_MAX bytes of IP packet) before lwIP sees them, so lwIP
 * processes, queues and acknowledges one segment instead of forty. Pure:
 * no lwIP, no I/O; the caller lends the batch buffers and takes the
 * batches (struct t2s_gro_ops).
 *
 * A segment joins the open batch of its flow (same addresses and ports)
 * when it is IPv4 without options or fragmentation, or IPv6 with TCP as
 * the next header; carries data; has only ACK and maybe PSH set; starts
 * exactly where the batch ends; has the batch's ACK number and TCP
 * options; is no longer than the batch's first segment; and fits. A batch
 * ends after a PSH or a segment shorter than the first. The joined
 * segment has the first segment's headers with the IP length fixed (and
 * the IPv4 header checksum), PSH if any had it, and the last segment's
 * window. Its TCP checksum is left stale: lwIP checks none
 * (CHECKSUM_CHECK_TCP 0), and the kernel verified each piece.
 *
 * Order: a segment that cannot join delivers its flow's batch first (the
 * caller then delivers the segment), so a flow's packets keep their
 * order; different flows may overtake each other. Loop thread only.
 */
#ifndef T2S_GRO_H
#define T2S_GRO_H

#include <stddef.h>
#include <stdint.h>

/* The largest joined IP packet. */
#define T2S_GRO_MAX 65535
/* Flows with an open batch at once; one more delivers the oldest. */
#define T2S_GRO_FLOWS 8

struct t2s_gro_ops {
    /* A buffer of T2S_GRO_MAX bytes for a new batch (*data), the
     * caller's handle for it, or NULL (memory short: no batch). */
    void *(*alloc)(void *arg, uint8_t **data);
    /* A batch of len bytes at data is complete; buf is the caller's
     * again (to deliver, copy or free). */
    void (*deliver)(void *arg, void *buf, uint8_t *data, size_t len);
    void *arg;
};

/* The flow of a segment: addresses and ports as on the wire. */
struct t2s_gro_key {
    uint8_t addrs[32]; /* source then destination (IPv4: 4 + 4) */
    uint8_t ports[4];  /* source then destination port */
    uint8_t family;    /* 4 or 6 */
};

/* One open batch. */
struct t2s_gro_batch {
    struct t2s_gro_key key;
    void *buf;          /* the caller's handle; NULL: slot free */
    uint8_t *data;      /* the joined packet */
    size_t len;         /* its bytes so far */
    size_t ip_hdr;      /* IP header bytes */
    size_t tcp_hdr;     /* TCP header bytes (options included) */
    size_t first_len;   /* payload of the first segment */
    uint32_t next_seq;  /* where the next segment must start */
    unsigned segs;      /* segments joined */
    int closed;         /* PSH or a short segment: nothing more joins */
    unsigned long born; /* order of creation, for eviction */
};

struct t2s_gro {
    struct t2s_gro_ops ops;
    size_t max_seg; /* packets this big start no batch (t2s_gro_init) */
    struct t2s_gro_batch b[T2S_GRO_FLOWS];
    unsigned long clock;  /* batches created */
    unsigned long joined; /* segments that joined a batch (not the first) */
};

/* A segment as the rules see it (t2s_gro_parse()). */
struct t2s_gro_seg {
    struct t2s_gro_key key;
    size_t ip_hdr, tcp_hdr; /* header bytes */
    size_t payload;         /* TCP payload bytes */
    uint32_t seq, ack;
    uint8_t flags; /* TCP flags byte */
    int can_join;  /* the segment itself qualifies (rules above) */
};

/* Packets of max_seg bytes or more never start a batch (the caller
 * delivers them without a copy); at most T2S_GRO_MAX. */
void t2s_gro_init(struct t2s_gro *g, const struct t2s_gro_ops *ops,
                  size_t max_seg);

/*
 * Parses an IP packet of n bytes: 1 for a TCP segment (s filled), 0 for
 * anything else (not TCP, malformed, extension headers).
 */
int t2s_gro_parse(const uint8_t *pkt, size_t n, struct t2s_gro_seg *s);

/*
 * Offers one packet of n bytes. 1: copied into a batch (pkt is free
 * again). 0: not taken, the caller delivers pkt itself now (its flow's
 * batch, if any, was delivered first).
 */
int t2s_gro_add(struct t2s_gro *g, const uint8_t *pkt, size_t n);

/* Delivers every open batch (the end of a burst). */
void t2s_gro_flush(struct t2s_gro *g);

#endif
