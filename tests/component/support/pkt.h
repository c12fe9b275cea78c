/*
 * The "kernel" side of the component tests: IPv4/IPv6 + TCP segments built
 * and parsed with real checksums, and a minimal TCP client per flow that
 * tracks sequence numbers, the peer's window and what it received.
 */
#ifndef T2S_TEST_PKT_H
#define T2S_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* One TCP segment, either direction. */
struct seg {
    int family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd; /* as on the wire (unscaled) */
    int mss;      /* option, -1: absent */
    int wscale;   /* option, -1: absent */
    const uint8_t *data;
    size_t len;
    /* RFC 2018: the SACK-permitted option (0: absent), and the blocks
     * [left, right) of a SACK option (filled by pkt_parse() only) */
    int sack_perm;
    uint32_t sack[4][2];
    int nsack;
};

/* Builds an IP packet into buf (cap bytes); returns its length or 0. */
size_t pkt_build(uint8_t *buf, size_t cap, const struct seg *s);

/*
 * Parses a packet. 0 for a well-formed TCP segment with correct IP and TCP
 * checksums, 1 for a well-formed non-TCP packet, -1 for anything malformed.
 */
int pkt_parse(const uint8_t *p, size_t n, struct seg *s);

#define TK_MAX_CONNS 32

struct tc;

/* The kernel: our end of the TUN socketpair and the flows on it. */
struct tk {
    int fd;
    struct tc *conns[TK_MAX_CONNS];
    size_t nconns;
    unsigned bad;       /* malformed packets or bad checksums received */
    unsigned unmatched; /* segments for no known flow */
};

/* One app-side TCP flow. */
struct tc {
    struct tk *k;
    int family;
    uint8_t src[16], dst[16]; /* app address, original destination */
    uint16_t sport, dport;
    uint32_t iss, snd_nxt, snd_una;
    uint32_t rcv_nxt;
    uint32_t peer_wnd; /* scaled */
    int peer_wscale;   /* shift applied to the peer's windows */
    int our_wscale;    /* offered in our SYN, -1: none */
    uint16_t mss;      /* payload per segment we send */
    uint16_t wnd;      /* window we advertise, as on the wire (65535) */
    int auto_ack;      /* acknowledge data and FIN at once (default) */
    int paused;        /* the app does not read (tc_pause()) */
    uint32_t rcv_edge; /* while paused: the last byte we have room for */
    uint8_t *data;     /* payload received in order */
    size_t data_len, data_cap;
    int got_synack, got_fin, got_rst;
    int synack_after_rst; /* a SYN|ACK arrived after an RST (a bug) */
    int zero_wnd_seen;    /* the peer advertised a zero window */
    uint32_t max_unacked; /* largest snd_nxt - snd_una observed */
    unsigned dup_data;    /* data segments not at rcv_nxt */
    unsigned segs;        /* segments received */
    /* SACK: offered in our SYN (default 0), permitted by the SYN|ACK; the
     * blocks of the last segment received, and how many segments had any */
    int sack_perm, peer_sack_perm;
    uint32_t sack[4][2];
    int nsack;
    unsigned sack_segs;
};

void tk_init(struct tk *k, int fd);

/* Waits up to timeout_ms for one packet and dispatches it. 1 or 0. */
int tk_poll(struct tk *k, int timeout_ms);

/* Reads every packet already queued (no waiting). */
void tk_drain(struct tk *k);

/* family 4 or 6; app fixed at 198.18.0.1 / fd00::1, destination 198.19.0.10
 * / 2001:db8::10 unless changed before connecting. */
void tc_init(struct tc *c, struct tk *k, int family, uint16_t sport,
             uint16_t dport);
void tc_free(struct tc *c);

/* Sends one segment with our current seq/ack and the given payload. */
void tc_send(struct tc *c, uint8_t flags, const void *data, size_t len);

/* Asks for an ACK with the peer's current window, as a real TCP's
 * retransmission or window probe would: an empty segment just below
 * snd_nxt. The forwarder's ACKs can be lost (it drops what the socketpair
 * does not take), and a client with a full window would wait forever. */
void tc_probe(struct tc *c);

/* The app stops reading: like a kernel's receive buffer, the flow still
 * takes what its last window offered, advertising what is left (down to
 * zero) and acknowledging window probes without taking their byte.
 * tc_resume() reads again: the whole window reopens and an ACK says so. */
void tc_pause(struct tc *c);
void tc_resume(struct tc *c);

/* Sends a SYN only. */
void tc_syn(struct tc *c);

/* SYN, then waits for SYN|ACK (ACKs it: returns 1) or RST (returns 0);
 * -1 on timeout. */
int tc_connect(struct tc *c, int timeout_ms);

/* Waits until got_synack || got_rst. */
int tc_wait_answer(struct tc *c, int timeout_ms);
/* Waits until at least n payload bytes arrived in order. 0 or -1. */
int tc_wait_data(struct tc *c, size_t n, int timeout_ms);
int tc_wait_fin(struct tc *c, int timeout_ms);
int tc_wait_rst(struct tc *c, int timeout_ms);
/* Waits until everything we sent is acknowledged. */
int tc_wait_acked(struct tc *c, int timeout_ms);

/* Sends as much of data as the peer's window allows now (MSS segments);
 * returns the bytes sent. */
size_t tc_send_window(struct tc *c, const uint8_t *data, size_t len);

/* Sends all of data, waiting for window as needed (probing after 100 ms
 * without news). 0 or -1 on timeout (no progress for timeout_ms). */
int tc_write(struct tc *c, const void *data, size_t len, int timeout_ms);

/* Quiet period: dispatches packets for ms milliseconds. */
void tk_run_for(struct tk *k, int ms);

/* Deterministic test data. */
uint8_t pattern_byte(size_t i);
void pattern_fill(uint8_t *buf, size_t off, size_t len);

#endif
