/*
 * Fuzz target for the whole packet path: IP packets from "apps" into the
 * TUN, through lwIP, the TCP sessions, UDP associations and DNS, to a
 * scripted proxy, and back (harness.h). Any crash, sanitizer report, leak
 * or lwIP assertion is a finding; so is a packet tun2socks writes to the
 * TUN with a wrong length or IPv4/TCP/UDP checksum (the kernel would drop
 * it).
 *
 * Input: 4 header bytes, then operations until the input ends.
 *   h0  bits 0-1 DNS mode (relay, tcp, fake-ip, relay), bit 2 SOCKS
 *       pipelining, bit 3 proxy credentials, bits 4-6 MTU (1500, 1280,
 *       576, 9000, 65535, ...), bit 7 tiny connection and UDP limits
 *   h1  bits 0-6 proxy connections 0-6 answered only by the input (bit
 *       i); bit 7 small (4 KiB) socket buffers toward the proxy, so that
 *       a proxy that stops reading pushes back at once
 *   h2  REP of automatic CONNECT replies: 0 unless bits 4-7 are set;
 *       when they are not, bits 0-3 * 100 bytes follow each granting reply
 *   h3  bit 0 the kernel ACKs what it receives at once; bits 1-2 the
 *       UDP relay address (127.0.0.1, 0.0.0.0, ::1, a name); bit 3 a 30 s
 *       idle timeout (else the default); bits 4-7 REP of UDP ASSOCIATE
 *       replies (0 below 8)
 * Each operation is one byte, low nibble the kind, high nibble k (a flow,
 * a proxy connection...), then its own fields; see the op_* functions.
 * Flows are app-side TCP/UDP sockets with sequence numbers tracked from
 * what tun2socks answers, so that structured segments carry valid
 * checksums and acceptable sequence numbers and sessions reach every
 * state; raw operations send arbitrary bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "config/config.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Per-input bounds that keep one input well under a second. */
#define MAX_OPS 400
#define MAX_VIRTUAL_MS (600u * 1000u)
#define NFLOWS 8
#define PKT_MAX 65535

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

struct flow {
    int family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t snd_nxt; /* next sequence number the app sends */
    uint32_t rcv_nxt; /* next sequence number expected from tun2socks */
    uint16_t wnd;     /* window of the kernel's automatic ACKs */
    int synced;       /* rcv_nxt is known (a SYN|ACK arrived) */
};

/* The input, consumed front to back; reads past the end give zeros. */
struct input {
    const uint8_t *p;
    size_t n;
};

static struct {
    struct flow flows[NFLOWS];
    int auto_ack;
    int trace; /* T2S_FUZZ_TRACE set: packets written to stderr */
    uint32_t virtual_ms;
    uint8_t pkt[PKT_MAX + 64];
    uint8_t ack[128];
    uint8_t dgram[PKT_MAX + 64];
} st;

static uint8_t
take(struct input *in)
{
    uint8_t b = 0;

    if (in->n > 0) {
        b = in->p[0];
        in->p++;
        in->n--;
    }
    return b;
}

/* Up to len input bytes into out, the rest zero; returns len. */
static size_t
take_bytes(struct input *in, uint8_t *out, size_t len)
{
    size_t n = len < in->n ? len : in->n;

    memcpy(out, in->p, n);
    memset(out + n, 0, len - n);
    in->p += n;
    in->n -= n;
    return len;
}

static uint8_t
pattern(uint32_t i)
{
    return (uint8_t)(i * 131u + (i >> 8) * 7u + 1u);
}

/* ---- addresses ---- */

/* Destinations: a remote host, the fake-ip pool (entry 1 + bits 2-5 of
 * sel), the netif's own address, the DNS address of fake-ip mode. */
static void
pick_dst(int family, unsigned sel, unsigned k, uint8_t *dst)
{
    static const uint8_t v4[4][4] = {{198, 19, 0, 10},
                                     {198, 18, 128, 1},
                                     {198, 18, 255, 254},
                                     {198, 18, 0, 2}};
    static const uint8_t v6[4][16] = {
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10},
        {0xfd, 0, 0, 0x18, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0xfd, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe},
        {0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};

    /* remote hosts differ per flow; fake addresses by the selector */
    unsigned off = (sel & 3) == 0 ? k : (sel & 3) == 1 ? (sel >> 2) & 15 : 0;

    if (family == 4) {
        memcpy(dst, v4[sel & 3], 4);
        dst[3] = (uint8_t)(dst[3] + off);
    } else {
        memcpy(dst, v6[sel & 3], 16);
        dst[15] = (uint8_t)(dst[15] + off);
    }
}

static void
app_src(int family, uint8_t *src)
{
    static const uint8_t v4[4] = {198, 18, 0, 1};
    static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                   0,    0, 0, 0, 0, 0, 0, 1};

    memcpy(src, family == 4 ? v4 : v6, family == 4 ? 4 : 16);
}

static void
flow_setup(struct flow *f, unsigned k, int family, unsigned sel, uint16_t port)
{
    memset(f, 0, sizeof(*f));
    f->family = family;
    app_src(family, f->src);
    pick_dst(family, sel, k, f->dst);
    f->sport = (uint16_t)(40000 + k);
    f->dport = port;
    f->snd_nxt = 1000000u * (k + 1);
    f->wnd = 0xffff;
}

/* ---- building packets ---- */

/* Prepends an IP header to the l4 bytes already at pkt + iphl and fills
 * the TCP/UDP/ICMP checksum; returns the packet length. */
static size_t
finish_ip(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
          size_t l4len, uint8_t *pkt)
{
    size_t iphl = family == 4 ? 20 : 40, ck_off = 0;
    uint8_t *l4 = pkt + iphl;
    uint32_t sum = 0;

    memset(pkt, 0, iphl);
    if (family == 4) {
        pkt[0] = 0x45;
        wire_put16(pkt + 2, (uint32_t)(iphl + l4len));
        pkt[8] = 64;
        pkt[9] = proto;
        memcpy(pkt + 12, src, 4);
        memcpy(pkt + 16, dst, 4);
        wire_put16(pkt + 10, wire_fold(wire_sum16(pkt, 20, 0)));
    } else {
        pkt[0] = 0x60;
        wire_put16(pkt + 4, (uint32_t)l4len);
        pkt[6] = proto;
        pkt[7] = 64;
        memcpy(pkt + 8, src, 16);
        memcpy(pkt + 24, dst, 16);
    }
    if (proto == 6)
        ck_off = 16;
    else if (proto == 17)
        ck_off = 6;
    else
        ck_off = 2; /* ICMP, ICMPv6 */
    if (proto != 1)
        sum = fz_pseudo(family, src, dst, proto, l4len);
    if (ck_off + 2 <= l4len) {
        wire_put16(l4 + ck_off, 0);
        wire_put16(l4 + ck_off, wire_fold(wire_sum16(l4, l4len, sum)));
    }
    return iphl + l4len;
}

/* TCP options from one selector byte (and raw bytes for 0xff). */
static size_t
tcp_options(struct input *in, uint8_t sel, uint8_t *o)
{
    size_t n = 0;

    if (sel == 0xff) {
        size_t len = take(in) % 41;

        take_bytes(in, o, len);
        while (len % 4)
            o[len++] = 0; /* EOL padding */
        return len;
    }
    if (sel & 1) {
        o[n++] = 2;
        o[n++] = 4;
        wire_put16(o + n, (uint32_t)(88 + (sel >> 4) * 4000));
        n += 2;
    }
    if (sel & 2) {
        o[n++] = 1;
        o[n++] = 3;
        o[n++] = 3;
        o[n++] = (uint8_t)(sel >> 4);
    }
    if (sel & 4) {
        o[n++] = 1;
        o[n++] = 1;
        o[n++] = 4; /* SACK permitted */
        o[n++] = 2;
    }
    if (sel & 8) {
        o[n++] = 1;
        o[n++] = 1;
        o[n++] = 8; /* timestamps */
        o[n++] = 10;
        wire_put32(o + n, 12345);
        wire_put32(o + n + 4, 0);
        n += 8;
    }
    return n;
}

static void
send_tcp(const struct flow *f, uint32_t seq, uint32_t ack, uint8_t flags,
         uint16_t wnd, const uint8_t *opts, size_t optlen, size_t len)
{
    size_t iphl = f->family == 4 ? 20 : 40, hl = 20 + optlen;
    uint8_t *tcp = st.pkt + iphl;

    if (iphl + hl + len > PKT_MAX)
        len = PKT_MAX - iphl - hl;
    wire_put16(tcp, f->sport);
    wire_put16(tcp + 2, f->dport);
    wire_put32(tcp + 4, seq);
    wire_put32(tcp + 8, ack);
    tcp[12] = (uint8_t)((hl / 4) << 4);
    tcp[13] = flags;
    wire_put16(tcp + 14, wnd);
    wire_put16(tcp + 18, 0);
    memcpy(tcp + 20, opts, optlen);
    for (size_t i = 0; i < len; i++)
        tcp[hl + i] = pattern(seq + (uint32_t)i);
    fz_tun_send(st.pkt,
                finish_ip(f->family, f->src, f->dst, 6, hl + len, st.pkt));
}

/* ---- what tun2socks writes to the TUN ---- */

/* The kernel's ACK of everything received so far on f. */
static void
kernel_ack(const struct flow *f)
{
    size_t iphl = f->family == 4 ? 20 : 40;
    uint8_t *tcp = st.ack + iphl;

    memset(tcp, 0, 20);
    wire_put16(tcp, f->sport);
    wire_put16(tcp + 2, f->dport);
    wire_put32(tcp + 4, f->snd_nxt);
    wire_put32(tcp + 8, f->rcv_nxt);
    tcp[12] = 5 << 4;
    tcp[13] = TH_ACK;
    wire_put16(tcp + 14, f->wnd);
    fz_tun_send(st.ack, finish_ip(f->family, f->src, f->dst, 6, 20, st.ack));
}

static void
track_tcp(int family, const uint8_t *tcp, size_t len)
{
    uint16_t sport = wire_get16(tcp), dport = wire_get16(tcp + 2);
    uint32_t seq = wire_get32(tcp + 4);
    uint8_t flags = tcp[13];
    size_t hl = (size_t)(tcp[12] >> 4) * 4, dlen;

    if (hl < 20 || hl > len)
        return; /* fz_check_packet() let it through: not ours to judge */
    dlen = len - hl;
    for (int k = 0; k < NFLOWS; k++) {
        struct flow *f = &st.flows[k];

        if (f->family != family || f->sport != dport || f->dport != sport)
            continue;
        if (flags & TH_RST) {
            f->synced = 0;
        } else if (flags & TH_SYN) {
            f->rcv_nxt = seq + 1 + (uint32_t)dlen;
            f->synced = 1;
        } else if (f->synced && seq == f->rcv_nxt) {
            f->rcv_nxt += (uint32_t)dlen + (flags & TH_FIN ? 1 : 0);
        } else {
            continue;
        }
        if (st.auto_ack && f->synced &&
            (dlen > 0 || (flags & (TH_SYN | TH_FIN))))
            kernel_ack(f);
    }
}

static void
on_packet(const uint8_t *p, size_t n)
{
    const uint8_t *l4;
    size_t len;
    int family;

    if (st.trace)
        fprintf(stderr, "out: %zu bytes, proto %u, tcp flags %02x\n", n,
                p[0] >> 4 == 4 ? p[9] : p[6],
                n >= 60 || (n >= 40 && p[0] >> 4 == 4)
                    ? p[p[0] >> 4 == 4 ? 33 : 53]
                    : 0);
    if (fz_check_packet(p, n, &l4, &len, &family) == 6)
        track_tcp(family, l4, len);
}

/* ---- operations ---- */

/* TCP segment on flow k: flags, sequence (0: in order, else a gap ahead
 * or a retransmission behind), length, window, ACK offset, options. */
static void
op_tcp(struct input *in, unsigned k)
{
    struct flow *f = &st.flows[k];
    uint8_t flags = take(in), s = take(in), l = take(in), w = take(in);
    uint8_t a = take(in), osel = take(in);
    uint8_t opts[48];
    size_t optlen = tcp_options(in, osel, opts);
    size_t len = l < 0xc0 ? l : (size_t)(l - 0xbf) * 1024;
    uint32_t seq = f->snd_nxt, ack = f->rcv_nxt + (uint32_t)(int8_t)a;
    uint16_t wnd = w == 0 ? 0 : (uint16_t)(w << 8 | 0xff);

    if (s != 0)
        seq =
            s < 0x80 ? seq + (uint32_t)s * 16 : seq - (uint32_t)(s & 0x7f) * 16;
    if ((flags & TH_SYN) && !(flags & TH_ACK)) {
        f->synced = 0;
        ack = 0;
    }
    if (st.trace)
        fprintf(stderr,
                "  tcp flags %02x seq nxt%+d len %zu wnd %u ack rcv%+d "
                "optlen %zu\n",
                flags, (int)(seq - f->snd_nxt), len, wnd, (int8_t)a, optlen);
    send_tcp(f, seq, ack, flags, wnd, opts, optlen, len);
    f->wnd = wnd; /* the app reads as fast as its last segment said */
    if (s == 0)
        f->snd_nxt +=
            (uint32_t)len + (flags & TH_SYN ? 1 : 0) + (flags & TH_FIN ? 1 : 0);
}

/* UDP datagram from flow k's address: destination, length, payload. */
static void
op_udp(struct input *in, unsigned k)
{
    const struct flow *f = &st.flows[k];
    uint8_t d = take(in);
    size_t len = take(in), iphl = f->family == 4 ? 20 : 40;
    uint8_t dst[16], *udp = st.pkt + iphl;
    uint16_t dport = (d >> 2) == 0 ? 53 : (uint16_t)((d >> 2) * 1000 + 7);

    pick_dst(f->family, d & 3, k, dst);
    wire_put16(udp, (uint32_t)(30000 + k));
    wire_put16(udp + 2, dport);
    wire_put16(udp + 4, (uint32_t)(8 + len));
    take_bytes(in, udp + 8, len);
    fz_tun_send(st.pkt, finish_ip(f->family, f->src, dst, 17, 8 + len, st.pkt));
}

/* Arbitrary bytes; with fix set, lengths and checksums made right. */
static void
op_raw(struct input *in, int fix)
{
    size_t len = take(in);

    len |= (size_t)take(in) << 8;
    len = len % 4096;
    take_bytes(in, st.pkt, len);
    if (fix && len >= 20 && st.pkt[0] >> 4 == 4) {
        size_t hl = (size_t)(st.pkt[0] & 15) * 4;

        wire_put16(st.pkt + 2, (uint32_t)len);
        if (hl >= 20 && hl <= len) {
            wire_put16(st.pkt + 10, 0);
            wire_put16(st.pkt + 10, wire_fold(wire_sum16(st.pkt, hl, 0)));
            if (st.pkt[9] == 6 && len - hl >= 20) {
                wire_put16(st.pkt + hl + 16, 0);
                wire_put16(
                    st.pkt + hl + 16,
                    wire_fold(wire_sum16(
                        st.pkt + hl, len - hl,
                        fz_pseudo(4, st.pkt + 12, st.pkt + 16, 6, len - hl))));
            }
        }
    } else if (fix && len >= 40 && st.pkt[0] >> 4 == 6) {
        wire_put16(st.pkt + 4, (uint32_t)(len - 40));
    }
    fz_tun_send(st.pkt, len);
}

/* ICMP (k even) or ICMPv6 (k odd; k >= 8: hop limit 255, as neighbour
 * discovery wants): type, code, length, body. */
static void
op_icmp(struct input *in, unsigned k)
{
    int family = k & 1 ? 6 : 4;
    size_t iphl = family == 4 ? 20 : 40, len;
    uint8_t src[16], dst[16], *icmp = st.pkt + iphl;

    icmp[0] = take(in);
    icmp[1] = take(in);
    len = take(in);
    take_bytes(in, icmp + 4, len);
    app_src(family, src);
    pick_dst(family, k >> 1, 0, dst);
    len = finish_ip(family, src, dst, family == 4 ? 1 : 58, 4 + len, st.pkt);
    if (k & 8 && family == 6)
        st.pkt[7] = 255; /* neighbour discovery insists on it */
    fz_tun_send(st.pkt, len);
}

/* One UDP datagram (k even: IPv4, odd: IPv6) cut into fragments by the
 * input: count, total length, ID, then per fragment an offset and a
 * length in 8-byte units and "last" flag; overlaps and gaps allowed. */
static void
op_frag(struct input *in, unsigned k)
{
    int family = k & 1 ? 6 : 4;
    unsigned nfrag = take(in) % 17;
    size_t total = ((size_t)take(in) << 4) + 8, id = take(in);
    uint8_t src[16], dst[16], *frag;
    size_t iphl = family == 4 ? 20 : 48;

    if (total > 8192)
        total = 8192;
    app_src(family, src);
    pick_dst(family, k >> 1, 0, dst);
    /* the whole datagram, UDP header included, at dgram + 40 */
    wire_put16(st.dgram + 40, 30000 + k);
    wire_put16(st.dgram + 42, (k >> 2) & 1 ? 53 : 7000);
    wire_put16(st.dgram + 44, (uint32_t)total);
    wire_put16(st.dgram + 46, 0);
    for (size_t i = 8; i < total; i++)
        st.dgram[40 + i] = pattern((uint32_t)i);
    finish_ip(family, src, dst, 17, total, st.dgram);
    for (unsigned i = 0; i < nfrag; i++) {
        size_t off = (size_t)take(in) * 8, flen = ((size_t)take(in) + 1) * 8;
        int last = take(in) & 1;

        if (off + flen > total)
            flen = off < total ? total - off : 8;
        frag = st.pkt + iphl;
        for (size_t j = 0; j < flen; j++)
            frag[j] = off + j < total ? st.dgram[40 + off + j] : 0;
        memset(st.pkt, 0, iphl);
        if (family == 4) {
            st.pkt[0] = 0x45;
            wire_put16(st.pkt + 2, (uint32_t)(iphl + flen));
            wire_put16(st.pkt + 4, (uint32_t)id);
            wire_put16(st.pkt + 6, (uint32_t)(off / 8) | (last ? 0 : 0x2000));
            st.pkt[8] = 64;
            st.pkt[9] = 17;
            memcpy(st.pkt + 12, src, 4);
            memcpy(st.pkt + 16, dst, 4);
            wire_put16(st.pkt + 10, wire_fold(wire_sum16(st.pkt, 20, 0)));
        } else {
            st.pkt[0] = 0x60;
            wire_put16(st.pkt + 4, (uint32_t)(8 + flen));
            st.pkt[6] = 44;
            st.pkt[7] = 64;
            memcpy(st.pkt + 8, src, 16);
            memcpy(st.pkt + 24, dst, 16);
            st.pkt[40] = 17;
            wire_put16(st.pkt + 42, (uint32_t)off | (last ? 0 : 1));
            wire_put32(st.pkt + 44, (uint32_t)id);
        }
        fz_tun_send(st.pkt, iphl + flen);
    }
}

/* Bytes from the proxy on connection k (a datagram on a relay). */
static void
op_proxy_send(struct input *in, unsigned k)
{
    size_t len = take_bytes(in, st.pkt, take(in));

    fz_conn_send(k, st.pkt, len);
}

/* Bulk data from the proxy on connection k: n * 97 bytes. */
static void
op_proxy_bulk(struct input *in, unsigned k)
{
    size_t len = (size_t)take(in) * 97;

    for (size_t i = 0; i < len; i++)
        st.pkt[i] = pattern((uint32_t)i);
    fz_conn_send(k, st.pkt, len);
}

/* Proxy connection k shuts down, closes, stops or resumes reading; or
 * every later connect() to the proxy fails (or works again). */
static void
op_proxy_ctl(struct input *in, unsigned k)
{
    switch (take(in) & 7) {
    case 0:
    case 4:
        fz_conn_shut_wr(k);
        break;
    case 1:
    case 5:
        fz_conn_close(k);
        break;
    case 6:
        /* the next connections to the proxy (TCP, UDP relay) fail */
        fz_refuse_connects(take(in) & 1);
        break;
    default:
        fz_conn_set_reading(k, take(in) & 1);
        break;
    }
}

/* A reply datagram on the k-th relay: SOCKS5 UDP header with an IPv4,
 * IPv6 or name source (or none at all), FRAG, port, payload. */
static void
op_relay(struct input *in, unsigned k)
{
    uint8_t sel = take(in), port = take(in);
    size_t len = take(in), n = 0;
    unsigned idx = 0, i;
    uint8_t *d = st.pkt;

    for (i = 0; i < fz_nconns(); i++)
        if (fz_conn_is_relay(i) && idx++ == k)
            break;
    if (i == fz_nconns())
        return;
    if ((sel & 3) != 3) {
        d[n++] = 0;
        d[n++] = 0;
        d[n++] = sel & 0x40 ? 1 : 0; /* FRAG */
        if ((sel & 3) == 0) {
            d[n++] = T2S_SOCKS5_ATYP_IPV4;
            pick_dst(4, sel >> 2, 0, d + n);
            n += 4;
        } else if ((sel & 3) == 1) {
            d[n++] = T2S_SOCKS5_ATYP_IPV6;
            pick_dst(6, sel >> 2, 0, d + n);
            n += 16;
        } else {
            d[n++] = T2S_SOCKS5_ATYP_DOMAIN;
            d[n++] = 11;
            memcpy(d + n, "example.com", 11);
            n += 11;
        }
        wire_put16(d + n, port == 0 ? 53 : (uint32_t)port * 1000 + 7);
        n += 2;
    }
    n += take_bytes(in, d + n, len);
    fz_conn_send(i, d, n);
}

static void
op_advance(struct input *in, unsigned k)
{
    uint32_t ms = ((uint32_t)take(in) + 1) * (k + 1) * 250;

    if (st.virtual_ms + ms > MAX_VIRTUAL_MS)
        ms = MAX_VIRTUAL_MS - st.virtual_ms;
    st.virtual_ms += ms;
    fz_advance(ms);
}

/* Flow k anew: family, destination kind, port. */
static void
op_flow(struct input *in, unsigned k)
{
    uint8_t sel = take(in), port = take(in);

    flow_setup(&st.flows[k], k, sel & 0x80 ? 6 : 4, sel,
               port == 0 ? 80 : (uint16_t)(port * 256 + 1));
}

static void
run_op(struct input *in)
{
    uint8_t op = take(in);
    unsigned k = op >> 4;

    if (st.trace)
        fprintf(stderr, "op %u k %u\n", op & 15, k);

    switch (op & 15) {
    case 0:
    case 1:
    case 2:
    case 13:
    case 15:
        op_tcp(in, k % NFLOWS);
        break;
    case 3:
        op_udp(in, k % NFLOWS);
        break;
    case 4:
    case 5:
        op_raw(in, op & 1);
        break;
    case 6:
        op_icmp(in, k);
        break;
    case 7:
        op_frag(in, k);
        break;
    case 8:
        op_proxy_send(in, k);
        break;
    case 9:
        op_proxy_bulk(in, k);
        break;
    case 10:
        op_proxy_ctl(in, k);
        break;
    case 11:
        op_relay(in, k);
        break;
    case 12:
        op_advance(in, k);
        break;
    default:
        op_flow(in, k % NFLOWS);
        break;
    }
    fz_pump();
}

static void
parse_header(struct input *in, struct fz_opts *o)
{
    static const int mtus[8] = {1500, 1280, 576, 9000, 65535, 1500, 1500, 1500};
    uint8_t h0 = take(in), h1 = take(in), h2 = take(in), h3 = take(in);
    unsigned bnd = (h3 >> 1) & 3;

    memset(o, 0, sizeof(*o));
    o->dns_mode = (h0 & 3) == 1   ? T2S_DNS_TCP
                  : (h0 & 3) == 2 ? T2S_DNS_FAKEIP
                                  : T2S_DNS_RELAY;
    o->pipeline = (h0 >> 2) & 1;
    o->auth = (h0 >> 3) & 1;
    o->mtu = mtus[(h0 >> 4) & 7];
    if (h0 & 0x80) {
        o->max_conns = 4;
        o->max_udp = 2;
    }
    o->manual_mask = h1 & 0x7f;
    o->small_buffers = h1 >> 7;
    o->rep = h2 >> 4 ? h2 & 15 : 0;
    o->early_data = h2 >> 4 ? 0 : (h2 & 15) * 100u;
    o->udp_rep = (h3 >> 4) < 8 ? 0 : (uint8_t)((h3 >> 4) - 8);
    st.auto_ack = h3 & 1;
    o->idle_timeout_ms = h3 & 8 ? 30000 : 0;
    o->udp_bnd.port = 9000;
    if (bnd == 0) {
        o->udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV4;
        memcpy(o->udp_bnd.u.v4, "\x7f\x00\x00\x01", 4);
    } else if (bnd == 1) {
        o->udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV4; /* 0.0.0.0: the proxy's own */
    } else if (bnd == 2) {
        o->udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV6;
        o->udp_bnd.u.v6[15] = 1;
    } else {
        o->udp_bnd.atyp = T2S_SOCKS5_ATYP_DOMAIN;
        o->udp_bnd.name_len = 10;
        memcpy(o->udp_bnd.u.name, "relay.test", 10);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct fz_opts o;

    memset(&st.flows, 0, sizeof(st.flows));
    st.trace = getenv("T2S_FUZZ_TRACE") != NULL;
    st.virtual_ms = 0;
    parse_header(&in, &o);
    for (unsigned k = 0; k < NFLOWS; k++)
        flow_setup(&st.flows[k], k, k & 1 ? 6 : 4, 0, (uint16_t)(443 + k));
    fz_begin(&o, on_packet);
    for (int i = 0; i < MAX_OPS && in.n > 0; i++)
        run_op(&in);
    fz_end();
    return 0;
}
