/* Userspace GRO (gro.h). */
#include <string.h>

#include "netif/gro.h"

#define TCP_PSH 0x08
#define TCP_ACK 0x10

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void
put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The IP header's size, family and total length; 0 when not TCP. */
static size_t
parse_ip(const uint8_t *pkt, size_t n, struct t2s_gro_seg *s, size_t *total)
{
    if (n >= 20 && pkt[0] >> 4 == 4) {
        size_t hdr = (size_t)(pkt[0] & 0x0f) * 4;

        /* fragments (MF or an offset) are not whole segments */
        if (hdr < 20 || pkt[9] != 6 || ((pkt[6] & 0x3f) | pkt[7]) != 0)
            return 0;
        *total = (size_t)pkt[2] << 8 | pkt[3];
        s->key.family = 4;
        memcpy(s->key.addrs, pkt + 12, 8);
        return hdr;
    }
    if (n >= 40 && pkt[0] >> 4 == 6) {
        /* extension headers: rare on TCP, not worth parsing here */
        if (pkt[6] != 6)
            return 0;
        *total = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
        s->key.family = 6;
        memcpy(s->key.addrs, pkt + 8, 32);
        return 40;
    }
    return 0;
}

int
t2s_gro_parse(const uint8_t *pkt, size_t n, struct t2s_gro_seg *s)
{
    size_t total = 0;
    const uint8_t *th;

    memset(s, 0, sizeof(*s));
    s->ip_hdr = parse_ip(pkt, n, s, &total);
    if (s->ip_hdr == 0 || total > n || total < s->ip_hdr + 20)
        return 0;
    th = pkt + s->ip_hdr;
    s->tcp_hdr = (size_t)(th[12] >> 4) * 4;
    if (s->tcp_hdr < 20 || s->ip_hdr + s->tcp_hdr > total)
        return 0;
    memcpy(s->key.ports, th, 4);
    s->seq = get32(th + 4);
    s->ack = get32(th + 8);
    s->flags = th[13];
    s->payload = total - s->ip_hdr - s->tcp_hdr;
    /* only data with ACK and maybe PSH: SYN, FIN, RST, URG, ECE and CWR
     * all mean something lwIP must see segment by segment */
    s->can_join = s->payload > 0 && (s->flags & ~TCP_PSH) == TCP_ACK &&
                  (s->key.family == 6 || s->ip_hdr == 20);
    return 1;
}

void
t2s_gro_init(struct t2s_gro *g, const struct t2s_gro_ops *ops, size_t max_seg)
{
    memset(g, 0, sizeof(*g));
    g->ops = *ops;
    g->max_seg = max_seg;
}

static int
same_key(const struct t2s_gro_key *a, const struct t2s_gro_key *b)
{
    return a->family == b->family && memcmp(a->ports, b->ports, 4) == 0 &&
           memcmp(a->addrs, b->addrs, a->family == 4 ? 8 : 32) == 0;
}

static struct t2s_gro_batch *
find(struct t2s_gro *g, const struct t2s_gro_key *key)
{
    for (size_t i = 0; i < T2S_GRO_FLOWS; i++)
        if (g->b[i].buf != NULL && same_key(&g->b[i].key, key))
            return &g->b[i];
    return NULL;
}

/* Fixes the joined packet's lengths and hands it over. */
static void
deliver(struct t2s_gro *g, struct t2s_gro_batch *b)
{
    void *buf = b->buf;

    if (b->segs > 1 && b->key.family == 4) {
        uint32_t sum = 0;

        put16(b->data + 2, b->len);
        b->data[10] = b->data[11] = 0;
        for (size_t i = 0; i < 20; i += 2)
            sum += (uint32_t)b->data[i] << 8 | b->data[i + 1];
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        put16(b->data + 10, ~sum & 0xffff);
    } else if (b->segs > 1) {
        put16(b->data + 4, b->len - 40);
    }
    b->buf = NULL;
    g->ops.deliver(g->ops.arg, buf, b->data, b->len);
}

/* Whether segment s (packet pkt) continues batch b. */
static int
continues(const struct t2s_gro_batch *b, const uint8_t *pkt,
          const struct t2s_gro_seg *s)
{
    const uint8_t *bth = b->data + b->ip_hdr, *th = pkt + s->ip_hdr;

    return !b->closed && s->seq == b->next_seq && s->ip_hdr == b->ip_hdr &&
           s->tcp_hdr == b->tcp_hdr && s->payload <= b->first_len &&
           b->len + s->payload <= T2S_GRO_MAX &&
           memcmp(th + 8, bth + 8, 4) == 0 && /* the ACK number */
           memcmp(th + 20, bth + 20, s->tcp_hdr - 20) == 0;
}

static void
append(struct t2s_gro *g, struct t2s_gro_batch *b, const uint8_t *pkt,
       const struct t2s_gro_seg *s)
{
    uint8_t *bth = b->data + b->ip_hdr;

    memcpy(b->data + b->len, pkt + s->ip_hdr + s->tcp_hdr, s->payload);
    b->len += s->payload;
    b->next_seq += (uint32_t)s->payload;
    b->segs++;
    g->joined++;
    /* the latest window is the one the sender means now */
    memcpy(bth + 14, pkt + s->ip_hdr + 14, 2);
    if (s->flags & TCP_PSH) {
        bth[13] |= TCP_PSH;
        b->closed = 1;
    }
    if (s->payload < b->first_len)
        b->closed = 1;
}

/* A free slot, delivering the oldest batch when all are taken. */
static struct t2s_gro_batch *
free_slot(struct t2s_gro *g)
{
    struct t2s_gro_batch *old = &g->b[0];

    for (size_t i = 0; i < T2S_GRO_FLOWS; i++) {
        if (g->b[i].buf == NULL)
            return &g->b[i];
        if (g->b[i].born < old->born)
            old = &g->b[i];
    }
    deliver(g, old);
    return old;
}

/* A new batch with s as its first segment; 0 when no buffer. */
static int
start(struct t2s_gro *g, const uint8_t *pkt, const struct t2s_gro_seg *s)
{
    struct t2s_gro_batch *b = free_slot(g);
    uint8_t *data = NULL;
    void *buf = g->ops.alloc(g->ops.arg, &data);

    if (buf == NULL)
        return 0;
    memset(b, 0, sizeof(*b));
    b->key = s->key;
    b->buf = buf;
    b->data = data;
    b->len = s->ip_hdr + s->tcp_hdr + s->payload;
    b->ip_hdr = s->ip_hdr;
    b->tcp_hdr = s->tcp_hdr;
    b->first_len = s->payload;
    b->next_seq = s->seq + (uint32_t)s->payload;
    b->segs = 1;
    b->born = ++g->clock;
    memcpy(data, pkt, b->len);
    return 1;
}

int
t2s_gro_add(struct t2s_gro *g, const uint8_t *pkt, size_t n)
{
    struct t2s_gro_seg s;
    struct t2s_gro_batch *b;

    if (!t2s_gro_parse(pkt, n, &s))
        return 0;
    b = find(g, &s.key);
    if (b != NULL) {
        if (s.can_join && continues(b, pkt, &s)) {
            append(g, b, pkt, &s);
            return 1;
        }
        deliver(g, b);
    }
    /* a PSH segment starts nothing: nothing could join it */
    if (!s.can_join || (s.flags & TCP_PSH) ||
        s.ip_hdr + s.tcp_hdr + s.payload >= g->max_seg)
        return 0;
    return start(g, pkt, &s);
}

void
t2s_gro_flush(struct t2s_gro *g)
{
    for (size_t i = 0; i < T2S_GRO_FLOWS; i++)
        if (g->b[i].buf != NULL)
            deliver(g, &g->b[i]);
}
