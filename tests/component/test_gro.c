/*
 * Userspace GRO's rules (lib/netif/gro.c) on crafted segments: what joins
 * a batch, what ends one, what is never taken, and the joined packet's
 * headers. The buffers and deliveries are this test's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netif/gro.h"
#include "pkt.h"

#define MAXOUT 64
#define MSS 1448

/* What the "stack" received, in order. */
struct out {
    uint8_t *pkt[MAXOUT];
    size_t len[MAXOUT];
    size_t n;
    int no_memory; /* alloc fails */
    int allocs;    /* buffers lent and not yet returned */
};

static void *
t_alloc(void *arg, uint8_t **data)
{
    struct out *o = arg;

    if (o->no_memory)
        return NULL;
    *data = malloc(T2S_GRO_MAX);
    assert_non_null(*data);
    o->allocs++;
    return *data;
}

static void
t_deliver(void *arg, void *buf, uint8_t *data, size_t len)
{
    struct out *o = arg;

    assert_ptr_equal(buf, data);
    assert_true(o->n < MAXOUT);
    o->pkt[o->n] = data;
    o->len[o->n++] = len;
    o->allocs--;
}

static struct out out;
static struct t2s_gro gro;
static uint8_t payload[70000];
static uint8_t wire[70000];

static int
setup(void **state)
{
    (void)state;
    memset(&out, 0, sizeof(out));
    t2s_gro_init(&gro, &(struct t2s_gro_ops){t_alloc, t_deliver, &out}, 16384);
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + i / 251);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    t2s_gro_flush(&gro);
    for (size_t i = 0; i < out.n; i++)
        free(out.pkt[i]);
    assert_int_equal(out.allocs, 0);
    return 0;
}

/* A segment of flow sport (4 or 6) carrying payload[off, off + len). */
static struct seg
mk(int family, uint16_t sport, uint32_t off, size_t len, uint8_t flags)
{
    struct seg s = {.family = family, .sport = sport, .dport = 80};

    s.src[0] = s.dst[0] = family == 4 ? 198 : 0xfd;
    s.src[3] = 1;
    s.dst[3] = 10;
    s.seq = 1000 + off;
    s.ack = 5000;
    s.flags = flags;
    s.wnd = 4000;
    s.mss = s.wscale = -1;
    s.data = payload + off;
    s.len = len;
    return s;
}

/* Offers a segment; returns t2s_gro_add()'s answer. */
static int
offer(const struct seg *s)
{
    size_t n = pkt_build(wire, sizeof(wire), s);

    assert_true(n > 0);
    return t2s_gro_add(&gro, wire, n);
}

static int
offer_data(int family, uint16_t sport, uint32_t off, size_t len)
{
    struct seg s = mk(family, sport, off, len, TH_ACK);

    return offer(&s);
}

/* Delivered packet i is flow sport's bytes [off, off + len), a valid IP
 * header for its length. Returns its TCP flags. */
static uint8_t
check_out(size_t i, int family, uint16_t sport, uint32_t off, size_t len)
{
    const uint8_t *p = out.pkt[i];
    size_t ip = family == 4 ? 20 : 40, tcp;

    assert_true(i < out.n);
    if (family == 4) {
        uint32_t sum = 0;

        assert_int_equal(p[0] >> 4, 4);
        assert_int_equal((size_t)p[2] << 8 | p[3], out.len[i]);
        for (size_t k = 0; k < 20; k += 2)
            sum += (uint32_t)p[k] << 8 | p[k + 1];
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        assert_int_equal(sum, 0xffff); /* header checksum valid */
    } else {
        assert_int_equal(p[0] >> 4, 6);
        assert_int_equal(40 + ((size_t)p[4] << 8 | p[5]), out.len[i]);
    }
    tcp = (size_t)(p[ip + 12] >> 4) * 4;
    assert_int_equal((size_t)p[ip] << 8 | p[ip + 1], sport);
    assert_int_equal(out.len[i], ip + tcp + len);
    assert_int_equal((uint32_t)p[ip + 4] << 24 | (uint32_t)p[ip + 5] << 16 |
                         (uint32_t)p[ip + 6] << 8 | p[ip + 7],
                     1000 + off);
    assert_memory_equal(p + ip + tcp, payload + off, len);
    return p[ip + 13];
}

/* Forty in-order segments become one; lengths and checksum fixed. */
static void
test_in_order_joins(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(offer_data(4, 1, i * MSS, MSS), 1);
    assert_int_equal(out.n, 0); /* nothing before the end of the burst */
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 1);
    assert_int_equal(check_out(0, 4, 1, 0, 40 * MSS), TH_ACK);
}

static void
test_ipv6_joins(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(offer_data(6, 1, i * MSS, MSS), 1);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 1);
    check_out(0, 6, 1, 0, 10 * MSS);
}

/* A joined packet never exceeds 64 KiB: the next segment starts anew. */
static void
test_size_limit(void **state)
{
    size_t per = 65535 - 40;

    (void)state;
    per = per / MSS; /* segments that fit with the headers */
    for (uint32_t i = 0; i < per + 3; i++)
        assert_int_equal(offer_data(4, 1, i * MSS, MSS), 1);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 2);
    check_out(0, 4, 1, 0, per * MSS);
    check_out(1, 4, 1, (uint32_t)(per * MSS), 3 * MSS);
}

/* A gap (segment 2 lost or late) ends the batch; the late segment is not
 * joined behind a later one. */
static void
test_gap_and_out_of_order(void **state)
{
    (void)state;
    offer_data(4, 1, 0, MSS);
    offer_data(4, 1, MSS, MSS);
    offer_data(4, 1, 3 * MSS, MSS); /* gap: segment 2 missing */
    assert_int_equal(out.n, 1);     /* the first batch went first */
    offer_data(4, 1, 4 * MSS, MSS);
    offer_data(4, 1, 2 * MSS, MSS); /* the late one */
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 3);
    check_out(0, 4, 1, 0, 2 * MSS);
    check_out(1, 4, 1, 3 * MSS, 2 * MSS);
    check_out(2, 4, 1, 2 * MSS, MSS);
}

/* A retransmission overlapping the batch (it starts inside what is
 * joined) is not joined: the batch goes, the retransmission starts anew. */
static void
test_retransmission_straddles(void **state)
{
    (void)state;
    offer_data(4, 1, 0, MSS);
    offer_data(4, 1, MSS, MSS);
    offer_data(4, 1, MSS / 2, MSS); /* straddles segments 0 and 1 */
    offer_data(4, 1, MSS / 2 + MSS, MSS);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 2);
    check_out(0, 4, 1, 0, 2 * MSS);
    check_out(1, 4, 1, MSS / 2, 2 * MSS);
}

/* Two flows interleaved: each joins its own. */
static void
test_flows_interleaved(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(offer_data(4, 1, i * MSS, MSS), 1);
        assert_int_equal(offer_data(4, 2, i * MSS, MSS), 1);
        assert_int_equal(offer_data(6, 1, i * MSS, MSS), 1);
    }
    assert_int_equal(out.n, 0);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 3);
    for (size_t i = 0; i < 3; i++)
        check_out(i, i == 2 ? 6 : 4, i == 1 ? 2 : 1, 0, 5 * MSS);
}

/* More flows than slots: the oldest batch is delivered, nothing lost. */
static void
test_more_flows_than_slots(void **state)
{
    (void)state;
    for (uint16_t f = 1; f <= T2S_GRO_FLOWS + 1; f++)
        offer_data(4, f, 0, MSS);
    assert_int_equal(out.n, 1);
    check_out(0, 4, 1, 0, MSS);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, T2S_GRO_FLOWS + 1);
}

/* SYN, FIN, RST, URG and pure ACKs are never taken, and the flow's batch
 * is delivered before them. */
static void
test_flags_not_taken(void **state)
{
    static const uint8_t bad[] = {TH_ACK | TH_FIN, TH_ACK | TH_RST, TH_SYN,
                                  TH_ACK | 0x20 /* URG */, TH_ACK | 0x80};

    (void)state;
    for (size_t i = 0; i < sizeof(bad); i++) {
        struct seg s;

        offer_data(4, 1, 0, MSS);
        s = mk(4, 1, MSS, MSS, bad[i]);
        assert_int_equal(offer(&s), 0);
        assert_int_equal(out.n, i + 1);
    }
    offer_data(4, 1, 0, MSS);
    {
        struct seg ack = mk(4, 1, MSS, 0, TH_ACK);

        assert_int_equal(offer(&ack), 0);
        assert_int_equal(out.n, sizeof(bad) + 1);
    }
}

/* PSH ends a batch (and joins it); a segment with PSH starts none. */
static void
test_psh_ends_batch(void **state)
{
    struct seg s;

    (void)state;
    offer_data(4, 1, 0, MSS);
    s = mk(4, 1, MSS, MSS, TH_ACK | TH_PSH);
    assert_int_equal(offer(&s), 1);
    assert_int_equal(offer_data(4, 1, 2 * MSS, MSS), 1);
    s = mk(4, 1, 3 * MSS, 100, TH_ACK | TH_PSH);
    assert_int_equal(offer(&s), 1);
    s = mk(4, 1, 3 * MSS + 100, 100, TH_ACK | TH_PSH);
    assert_int_equal(offer(&s), 0); /* the batch went first */
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 2);
    assert_int_equal(check_out(0, 4, 1, 0, 2 * MSS), TH_ACK | TH_PSH);
    assert_int_equal(check_out(1, 4, 1, 2 * MSS, MSS + 100), TH_ACK | TH_PSH);
}

/* A segment shorter than the first ends the batch; a longer one does not
 * join. */
static void
test_segment_sizes(void **state)
{
    (void)state;
    offer_data(4, 1, 0, 1000);
    assert_int_equal(offer_data(4, 1, 1000, 1001), 1); /* anew */
    assert_int_equal(out.n, 1);
    offer_data(4, 1, 2001, 500); /* shorter: joins, then closes */
    offer_data(4, 1, 2501, 500);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 3);
    check_out(1, 4, 1, 1000, 1501);
    check_out(2, 4, 1, 2501, 500);
}

/* A different ACK number or different options end the batch; the window
 * taken is the latest (window scaling off: the raw 16 bits). */
static void
test_ack_options_window(void **state)
{
    struct seg s;

    (void)state;
    offer_data(4, 1, 0, MSS);
    s = mk(4, 1, MSS, MSS, TH_ACK);
    s.wnd = 1234;
    assert_int_equal(offer(&s), 1);
    s = mk(4, 1, 2 * MSS, MSS, TH_ACK);
    s.ack = 6000; /* the app received something meanwhile */
    assert_int_equal(offer(&s), 1);
    s = mk(4, 1, 3 * MSS, MSS, TH_ACK);
    s.ack = 6000;
    s.mss = 1400; /* an option where the batch had none */
    assert_int_equal(offer(&s), 1);
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 3);
    check_out(0, 4, 1, 0, 2 * MSS);
    assert_int_equal(out.pkt[0][20 + 14] << 8 | out.pkt[0][20 + 15], 1234);
    check_out(1, 4, 1, 2 * MSS, MSS);
    check_out(2, 4, 1, 3 * MSS, MSS);
}

/* IPv4 options, fragments, UDP and large packets are never taken. */
static void
test_not_taken(void **state)
{
    size_t n;

    (void)state;
    {
        struct seg s = mk(4, 1, 0, MSS, TH_ACK);

        n = pkt_build(wire, sizeof(wire), &s);
        wire[6] = 0x20; /* more fragments */
        assert_int_equal(t2s_gro_add(&gro, wire, n), 0);
        wire[6] = 0;
        wire[9] = 17; /* UDP */
        assert_int_equal(t2s_gro_add(&gro, wire, n), 0);
        wire[9] = 6;
        wire[0] = 0x46; /* a header with options (bytes taken from TCP's) */
        assert_int_equal(t2s_gro_add(&gro, wire, n), 0);
    }
    assert_int_equal(offer_data(4, 1, 0, 20000), 0); /* >= max_seg */
    assert_int_equal(out.n, 0);
    out.no_memory = 1;
    assert_int_equal(offer_data(4, 1, 0, MSS), 0);
    assert_int_equal(offer_data(4, 1, 0, 10), 0);
    assert_int_equal(t2s_gro_add(&gro, wire, 10), 0); /* truncated */
    t2s_gro_flush(&gro);
    assert_int_equal(out.n, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_in_order_joins),
        T(test_ipv6_joins),
        T(test_size_limit),
        T(test_gap_and_out_of_order),
        T(test_retransmission_straddles),
        T(test_flows_interleaved),
        T(test_more_flows_than_slots),
        T(test_flags_not_taken),
        T(test_psh_ends_batch),
        T(test_segment_sizes),
        T(test_ack_options_window),
        T(test_not_taken),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
