/*
 * Fuzz target for what a proxy sends back: arbitrary byte streams into the
 * SOCKS5 handshake driver (upstream.c), and arbitrary datagrams into the
 * UDP relay path of an association (udp_assoc_relay.c, udp_assoc_dst.c:
 * SOCKS5 UDP header decode, reply source rewriting, fake-ip names), through a
 * whole instance (harness.h).
 *
 * Input: byte 0 bit 0 chooses the mode.
 *
 * Handshake (bit 0 clear): byte 0 bit 1 credentials, bit 2 pipelining,
 * bit 3 UDP ASSOCIATE (else CONNECT), bits 4-5 the target's address type
 * (IPv4, IPv6, name), bits 6-7 the scheme (socks5, socks4, socks4a, http:
 * CONNECT only, a target the scheme cannot carry becomes IPv4); byte 1
 * how the stream is cut (four 2-bit piece
 * sizes, cycled); the rest is what the proxy sends, then EOF. The driver
 * runs on a socketpair twice, with the stream whole and in pieces: both
 * must reach the same verdict; a granted request must have sent exactly a
 * greeting, the credentials when asked, and the request; a failure's
 * description never shows the password.
 *
 * Relay (bit 0 set): byte 0 bit 1 the app is IPv6, bit 2 fake-ip mode
 * (the app resolves example.com first and sends to its fake address),
 * bits 3-4 the relay's BND (127.0.0.1, 0.0.0.0, ::1, a name); byte 1 bits
 * 0-3 the REP of the UDP ASSOCIATE reply (0 below 8). Then datagrams,
 * each a length byte and its bytes, arrive on the relay (length 255
 * closes the control connection instead); the app sends again after
 * every fourth.
 */
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"
#include "config/config.h"
#include "harness.h"
#include "codec/http_connect.h"
#include "codec/socks4.h"
#include "upstream/upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_upstream: %s\n", what);
        abort();
    }
}

/* ---- the handshake driver ---- */

struct verdict {
    int rc;
    uint8_t fail_kind, rep, s5_status;
    struct t2s_socks5_addr bnd;
};

/* What the driver sent, at most this much. */
#define SENT_MAX 2048

struct run {
    const uint8_t *stream;
    size_t len;
    uint8_t pattern; /* 0: whole */
    uint8_t sent[SENT_MAX];
    size_t sent_len;
};

static void
drain_sent(struct run *r, int fd)
{
    ssize_t n;

    while (r->sent_len < SENT_MAX &&
           (n = recv(fd, r->sent + r->sent_len, SENT_MAX - r->sent_len,
                     MSG_DONTWAIT)) > 0)
        r->sent_len += (size_t)n;
}

static size_t
piece(uint8_t pattern, unsigned k)
{
    static const size_t sizes[4] = {1, 2, 5, 13};

    return sizes[(pattern >> ((k % 4) * 2)) & 3];
}

static void
drive(struct t2s_upstream *up, struct run *r, struct verdict *v)
{
    int sv[2], want = 0, eof = 0;
    size_t off = 0;
    unsigned k = 0;

    check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
          "socketpair");
    /* bounded: every turn either delivers bytes or ends the stream */
    for (int turn = 0; turn < 4096; turn++) {
        v->rc = t2s_upstream_io(up, sv[0], &want);
        drain_sent(r, sv[1]);
        if (v->rc != T2S_UP_AGAIN)
            break;
        check(want == EV_READ || want == EV_WRITE, "want is neither");
        if (want == EV_WRITE)
            continue; /* the socketpair has room: it goes on writing */
        check(!eof, "AGAIN after the proxy's EOF");
        if (off == r->len) {
            shutdown(sv[1], SHUT_WR);
            eof = 1;
            continue;
        }
        size_t n = r->pattern ? piece(r->pattern, k++) : r->len - off;

        if (n > r->len - off)
            n = r->len - off;
        check(send(sv[1], r->stream + off, n, MSG_NOSIGNAL) == (ssize_t)n,
              "send to the driver");
        off += n;
    }
    check(v->rc != T2S_UP_AGAIN, "the handshake never ended");
    close(sv[0]);
    close(sv[1]);
    v->fail_kind = up->fail_kind;
    v->rep = up->rep;
    v->s5_status = up->s5_status;
    v->bnd = up->bnd;
}

static int
addr_equal(const struct t2s_socks5_addr *a, const struct t2s_socks5_addr *b)
{
    if (a->atyp != b->atyp || a->port != b->port)
        return 0;
    if (a->atyp == T2S_SOCKS5_ATYP_IPV4)
        return memcmp(a->u.v4, b->u.v4, 4) == 0;
    if (a->atyp == T2S_SOCKS5_ATYP_IPV6)
        return memcmp(a->u.v6, b->u.v6, 16) == 0;
    return a->name_len == b->name_len &&
           memcmp(a->u.name, b->u.name, a->name_len) == 0;
}

/* socks4, socks4a, http: a granted request sent its one request. */
static void
check_sent_other(const struct run *r, const struct t2s_proxy *px,
                 const struct t2s_socks5_addr *d)
{
    uint8_t want[T2S_HTTP_REQUEST_MAX];
    size_t n;

    if (px->scheme == T2S_PROXY_HTTP)
        n = t2s_http_connect_encode_request(
            want, sizeof(want),
            d->atyp == T2S_SOCKS5_ATYP_DOMAIN ? d->u.name
            : d->atyp == T2S_SOCKS5_ATYP_IPV4 ? "198.19.0.10"
                                              : "2001:d00::",
            d->atyp == T2S_SOCKS5_ATYP_DOMAIN ? d->name_len
            : d->atyp == T2S_SOCKS5_ATYP_IPV4 ? 11
                                              : 10,
            d->atyp == T2S_SOCKS5_ATYP_IPV6, d->port, px->user, px->user_len,
            px->pass, px->pass_len);
    else if (d->atyp == T2S_SOCKS5_ATYP_IPV4)
        n = t2s_socks4_encode_connect(want, sizeof(want), d->u.v4, d->port,
                                      px->user, px->user_len);
    else
        n = t2s_socks4_encode_connect_name(want, sizeof(want), d->u.name,
                                           d->name_len, d->port, px->user,
                                           px->user_len);
    check(n > 0 && r->sent_len == n && memcmp(r->sent, want, n) == 0,
          "granted, but what was sent is not the scheme's request");
}

/* A granted request sent greeting [credentials] request, nothing else. */
static void
check_sent(const struct run *r, const struct t2s_proxy *px, uint8_t cmd,
           const struct t2s_socks5_addr *dst)
{
    if (px->scheme != T2S_PROXY_SOCKS5) {
        check_sent_other(r, px, dst);
        return;
    }
    uint8_t want[T2S_SOCKS5_GREETING_MAX + T2S_SOCKS5_AUTH_MAX +
                 T2S_SOCKS5_REQUEST_MAX];
    size_t n = t2s_socks5_encode_greeting(want, sizeof(want), px->user_len > 0);
    size_t g = n;

    check(r->sent_len >= n && memcmp(r->sent, want, n) == 0,
          "the greeting is not the first thing sent");
    /* credentials go out only when the proxy chose user/password */
    if (px->user_len > 0 && r->sent_len > g && r->sent[g] == 1)
        n += t2s_socks5_encode_auth(want + n, sizeof(want) - n, px->user,
                                    px->user_len, px->pass, px->pass_len);
    n += t2s_socks5_encode_request(want + n, sizeof(want) - n, cmd, dst);
    /* Granted means everything was sent first, also when the proxy
     * answered before it was asked (its method choice and reply in one
     * read: the regression seed connect-ok). */
    check(r->sent_len == n && memcmp(r->sent, want, n) == 0,
          "granted, but what was sent is not greeting, credentials, "
          "request");
}

static void
handshake(const uint8_t *data, size_t size)
{
    static const struct t2s_socks5_addr dsts[3] = {
        {.atyp = T2S_SOCKS5_ATYP_IPV4, .port = 443, .u.v4 = {198, 19, 0, 10}},
        {.atyp = T2S_SOCKS5_ATYP_IPV6, .port = 80, .u.v6 = {0x20, 0x01, 0x0d}},
        {.atyp = T2S_SOCKS5_ATYP_DOMAIN,
         .port = 53,
         .name_len = 11,
         .u.name = "example.com"}};
    uint8_t mode = size > 0 ? data[0] : 0, pattern = size > 1 ? data[1] : 0;
    const struct t2s_socks5_addr *dst = &dsts[((mode >> 4) & 3) % 3];
    uint8_t cmd =
        mode & 8 ? T2S_SOCKS5_CMD_UDP_ASSOCIATE : T2S_SOCKS5_CMD_CONNECT;
    struct t2s_proxy px;
    struct t2s_upstream up;
    static struct run whole, pieces;
    struct verdict v1, v2;
    char desc[512];
    int want;

    memset(&px, 0, sizeof(px));
    strcpy(px.host, "127.0.0.1");
    px.port = 1080;
    px.scheme = (uint8_t[]){T2S_PROXY_SOCKS5, T2S_PROXY_SOCKS4,
                            T2S_PROXY_SOCKS4A, T2S_PROXY_HTTP}[mode >> 6];
    if (px.scheme != T2S_PROXY_SOCKS5) {
        cmd = T2S_SOCKS5_CMD_CONNECT;
        if (t2s_upstream_refusal(&px, dst) != NULL)
            dst = &dsts[0];
    }
    if (mode & 2) {
        strcpy(px.user, "user");
        px.user_len = 4;
        strcpy(px.pass, "secret");
        px.pass_len = 6;
    }
    whole.stream = pieces.stream = data + (size > 2 ? 2 : size);
    whole.len = pieces.len = size > 2 ? size - 2 : 0;
    whole.pattern = 0;
    pieces.pattern = pattern | 1; /* never 0: that means whole */
    whole.sent_len = pieces.sent_len = 0;

    t2s_upstream_init(&up, &px, cmd, dst, mode & 4, &want);
    check(want == EV_WRITE, "init does not ask to write");
    drive(&up, &whole, &v1);
    t2s_upstream_describe(&up, desc, sizeof(desc));
    if (v1.rc == T2S_UP_DONE) {
        check(v1.rep == (px.scheme == T2S_PROXY_SOCKS4 ||
                                 px.scheme == T2S_PROXY_SOCKS4A
                             ? T2S_SOCKS4_GRANTED
                             : 0) &&
                  up.state == T2S_UP_REPLY,
              "DONE without a grant");
        check_sent(&whole, &px, cmd, dst);
    } else {
        check(v1.fail_kind >= T2S_UP_FAIL_CONNECT &&
                  v1.fail_kind <= T2S_UP_FAIL_IO,
              "FAIL without a kind");
        check(desc[0] != '\0' && strstr(desc, "secret") == NULL,
              "a failure description is empty or shows the password");
    }

    t2s_upstream_init(&up, &px, cmd, dst, mode & 4, &want);
    drive(&up, &pieces, &v2);
    check(v1.rc == v2.rc && v1.fail_kind == v2.fail_kind && v1.rep == v2.rep &&
              v1.s5_status == v2.s5_status,
          "whole and cut streams reach different verdicts");
    check(v1.rc != T2S_UP_DONE || addr_equal(&v1.bnd, &v2.bnd),
          "whole and cut streams give different BND addresses");
    if (v2.rc == T2S_UP_DONE)
        check_sent(&pieces, &px, cmd, dst);
}

/* ---- the UDP relay path ---- */

static void
on_packet(const uint8_t *p, size_t n)
{
    const uint8_t *l4;
    size_t len;
    int family;

    (void)fz_check_packet(p, n, &l4, &len, &family);
}

/* One datagram from the app 198.18.0.1:30000 / [fd00::1]:30000. */
static void
app_send(int v6, const uint8_t *dst, uint16_t dport, const uint8_t *payload,
         size_t len)
{
    static const uint8_t src6[16] = {0xfd, [15] = 1};
    static const uint8_t src4[4] = {198, 18, 0, 1};
    uint8_t pkt[600];
    size_t iphl = v6 ? 40 : 20, ulen = 8 + len;
    uint8_t *udp = pkt + iphl;

    memset(pkt, 0, iphl);
    if (v6) {
        pkt[0] = 0x60;
        wire_put16(pkt + 4, (uint32_t)ulen);
        pkt[6] = 17;
        pkt[7] = 64;
        memcpy(pkt + 8, src6, 16);
        memcpy(pkt + 24, dst, 16);
    } else {
        pkt[0] = 0x45;
        wire_put16(pkt + 2, (uint32_t)(iphl + ulen));
        pkt[8] = 64;
        pkt[9] = 17;
        memcpy(pkt + 12, src4, 4);
        memcpy(pkt + 16, dst, 4);
        wire_put16(pkt + 10, wire_fold(wire_sum16(pkt, 20, 0)));
    }
    wire_put16(udp, 30000);
    wire_put16(udp + 2, dport);
    wire_put16(udp + 4, (uint32_t)ulen);
    wire_put16(udp + 6, 0);
    memcpy(udp + 8, payload, len);
    wire_put16(udp + 6,
               wire_fold(wire_sum16(
                   udp, ulen,
                   fz_pseudo(v6 ? 6 : 4, v6 ? src6 : src4, dst, 17, ulen))));
    fz_tun_send(pkt, iphl + ulen);
}

static const uint8_t dns_query[] = {
    0x12, 0x34, 1,   0,   0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
    'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};

static void
relay(const uint8_t *data, size_t size)
{
    static const uint8_t remote4[4] = {198, 19, 0, 10};
    static const uint8_t remote6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
    static const uint8_t fake4[4] = {198, 18, 128, 1};
    static const uint8_t fake6[16] = {0xfd, 0, 0, 0x18, 0xff, 0xff, [15] = 1};
    static const uint8_t dns4[4] = {198, 18, 0, 2};
    static const uint8_t dns6[16] = {0xfd, 0, 0, 0x18, [15] = 2};
    uint8_t mode = data[0], b1 = size > 1 ? data[1] : 0;
    int v6 = (mode >> 1) & 1, fake = (mode >> 2) & 1;
    const uint8_t *dst = fake ? (v6 ? fake6 : fake4) : (v6 ? remote6 : remote4);
    struct fz_opts o;
    unsigned sent = 0;

    memset(&o, 0, sizeof(o));
    o.mtu = 1500;
    o.dns_mode = fake ? T2S_DNS_FAKEIP : T2S_DNS_RELAY;
    o.udp_rep = (b1 & 15) < 8 ? 0 : (uint8_t)((b1 & 15) - 8);
    o.udp_bnd.port = 9000;
    switch ((mode >> 3) & 3) {
    case 0:
        o.udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV4;
        memcpy(o.udp_bnd.u.v4, "\x7f\x00\x00\x01", 4);
        break;
    case 1:
        o.udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV4;
        break;
    case 2:
        o.udp_bnd.atyp = T2S_SOCKS5_ATYP_IPV6;
        o.udp_bnd.u.v6[15] = 1;
        break;
    default:
        o.udp_bnd.atyp = T2S_SOCKS5_ATYP_DOMAIN;
        o.udp_bnd.name_len = 10;
        memcpy(o.udp_bnd.u.name, "relay.test", 10);
        break;
    }
    fz_begin(&o, on_packet);
    if (fake) {
        app_send(v6, v6 ? dns6 : dns4, 53, dns_query, sizeof(dns_query));
        fz_pump();
    }
    app_send(v6, dst, 7007, (const uint8_t *)"ping", 4);
    fz_pump();
    data += 2 > size ? size : 2;
    size -= 2 > size ? size : 2;
    while (size > 0) {
        size_t len = data[0];

        data++;
        size--;
        if (len == 255) {
            fz_conn_close(0); /* the control connection */
        } else {
            if (len > size)
                len = size;
            for (unsigned i = 0; i < fz_nconns(); i++)
                if (fz_conn_is_relay(i))
                    fz_conn_send(i, data, len);
            data += len;
            size -= len;
        }
        if (++sent % 4 == 0)
            app_send(v6, dst, 7007, (const uint8_t *)"again", 5);
        fz_pump();
    }
    fz_end();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && (data[0] & 1))
        relay(data, size);
    else
        handshake(data, size);
    return 0;
}
