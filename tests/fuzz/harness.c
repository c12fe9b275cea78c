/* The instance, the TUN and the scripted proxy of the fuzz targets. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/timeouts.h"

#include "api/instance.h"
#include "harness.h"
#include "t2s.h"

int __real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len);
u32_t __wrap_sys_now(void);
ev_tstamp __real_ev_now(struct ev_loop *loop);
ev_tstamp __wrap_ev_now(struct ev_loop *loop);
void __real_ev_timer_start(struct ev_loop *loop, ev_timer *w);
void __wrap_ev_timer_start(struct ev_loop *loop, ev_timer *w);
void __real_ev_timer_stop(struct ev_loop *loop, ev_timer *w);
void __wrap_ev_timer_stop(struct ev_loop *loop, ev_timer *w);
void __real_ev_timer_again(struct ev_loop *loop, ev_timer *w);
void __wrap_ev_timer_again(struct ev_loop *loop, ev_timer *w);

/* Proxy connections per input; later connect() calls fail (EMFILE). */
#define FZ_CONNS 48
/* Loop steps per pump: a bound, not a tuning knob (pumps end when quiet). */
#define FZ_PUMP_MAX 64
/* libev timers the library may have running at once. */
#define FZ_TIMERS 512
/* SO_SNDBUF of the proxy socketpairs (the kernel doubles it). */
#define FZ_SOCKBUF 4096
/* Added to every real libev timeout: it never fires during an input. */
#define FZ_FAR 1e7

enum conn_state { C_GREETING, C_AUTH, C_REQUEST, C_RELAY };

struct conn {
    int fd;      /* proxy side; -1 once closed */
    int relay;   /* a UDP relay (datagram) rather than a TCP connection */
    int manual;  /* answers only what the input scripts */
    int reading; /* reads (and discards) what the library sends */
    enum conn_state state;
    uint8_t in[1024]; /* handshake bytes not yet parsed */
    size_t in_len;
};

static struct {
    int active;
    struct fz_opts o;
    struct t2s_instance *t;
    int sv[2]; /* sv[0]: the kernel's end, sv[1]: the TUN fd */
    fz_packet_fn on_packet;
    struct conn conns[FZ_CONNS];
    unsigned nconns;
    int stdout_pipe[2]; /* fd 1 during an input (the library never writes) */
    int stdout_saved;
    uint8_t buf[65536 + 64];
} fz;

/* The virtual clock: lwIP's milliseconds (wrapping as sys_now() does),
 * and the same time for libev's timers, which never wraps. */
static uint32_t vclock = 1000;
static uint64_t vtime_ms = 1000;

struct vtimer {
    ev_timer *w;
    uint64_t due_ms; /* virtual */
};
static struct vtimer vtimers[FZ_TIMERS];
static unsigned nvtimers;

u32_t
__wrap_sys_now(void)
{
    return vclock;
}

/* ---- libev timers on the virtual clock ----
 * The library's timers (connect, idle, UDP, DNS) are started for real with
 * FZ_FAR added, and fed to libev (ev_feed_event) when the virtual clock
 * passes their due time; ev_now() is the virtual time, so that the
 * callbacks' own "time left" arithmetic agrees. */

ev_tstamp
__wrap_ev_now(struct ev_loop *loop)
{
    if (!fz.active)
        return __real_ev_now(loop);
    return (ev_tstamp)vtime_ms / 1000.0;
}

static void
vtimer_forget(ev_timer *w)
{
    for (unsigned i = 0; i < nvtimers; i++) {
        if (vtimers[i].w == w) {
            vtimers[i] = vtimers[--nvtimers];
            return;
        }
    }
}

static void
vtimer_add(ev_timer *w, ev_tstamp after)
{
    if (nvtimers == FZ_TIMERS) {
        fprintf(stderr, "fuzz harness: more than %d timers\n", FZ_TIMERS);
        abort();
    }
    vtimers[nvtimers].w = w;
    vtimers[nvtimers].due_ms = vtime_ms + (uint64_t)(after * 1000.0);
    nvtimers++;
}

void
__wrap_ev_timer_start(struct ev_loop *loop, ev_timer *w)
{
    if (!fz.active || ev_is_active(w)) {
        __real_ev_timer_start(loop, w);
        return;
    }
    /* before the start, w->at is the relative timeout */
    vtimer_add(w, w->at);
    w->at += FZ_FAR;
    __real_ev_timer_start(loop, w);
}

void
__wrap_ev_timer_stop(struct ev_loop *loop, ev_timer *w)
{
    vtimer_forget(w);
    __real_ev_timer_stop(loop, w);
}

void
__wrap_ev_timer_again(struct ev_loop *loop, ev_timer *w)
{
    ev_tstamp repeat = w->repeat;

    if (!fz.active) {
        __real_ev_timer_again(loop, w);
        return;
    }
    vtimer_forget(w);
    if (repeat > 0) {
        vtimer_add(w, repeat);
        w->repeat = repeat + FZ_FAR;
    }
    __real_ev_timer_again(loop, w);
    w->repeat = repeat;
}

/* Feeds every timer due by now; its callback runs in the next ev_run. */
static void
vtimers_fire(void)
{
    for (unsigned i = 0; i < nvtimers;) {
        if (vtimers[i].due_ms <= vtime_ms) {
            ev_timer *w = vtimers[i].w;

            vtimers[i] = vtimers[--nvtimers];
            __real_ev_timer_stop(fz.t->ctx.loop, w);
            ev_feed_event(fz.t->ctx.loop, w, EV_TIMER);
        } else {
            i++;
        }
    }
}

static void
die(const char *what)
{
    fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(errno));
    abort();
}

/* ---- connect(): a socketpair instead of the network ---- */

int
__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int type = 0, sv[2];
    socklen_t tl = sizeof(type);
    struct conn *c;

    if (!fz.active)
        return __real_connect(fd, sa, len);
    if (fz.o.refuse_connects) {
        errno = ECONNREFUSED;
        return -1;
    }
    if (fz.nconns == FZ_CONNS) {
        errno = EMFILE;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
        socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair for connect()");
    /* Small buffers: a proxy that stops reading pushes back after a few
     * KiB, so inputs reach the flow-control states cheaply. */
    for (int i = 0; fz.o.small_buffers && i < 2; i++)
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &(int){FZ_SOCKBUF},
                   sizeof(int));
    if (dup2(sv[0], fd) < 0)
        die("dup2");
    close(sv[0]);
    c = &fz.conns[fz.nconns];
    memset(c, 0, sizeof(*c));
    c->fd = sv[1];
    c->relay = type == SOCK_DGRAM;
    c->manual = fz.nconns < 32 && (fz.o.manual_mask >> fz.nconns & 1);
    c->reading = 1;
    c->state = c->relay ? C_RELAY : C_GREETING;
    fz.nconns++;
    return 0;
}

/* ---- the automatic SOCKS5 server ---- */

static void
conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->fd >= 0 && len > 0)
        (void)send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static size_t
addr_len(const uint8_t *p, size_t n)
{
    if (n < 5)
        return 0;
    switch (p[3]) {
    case T2S_SOCKS5_ATYP_IPV4:
        return 4;
    case T2S_SOCKS5_ATYP_IPV6:
        return 16;
    case T2S_SOCKS5_ATYP_DOMAIN:
        return 1 + (size_t)p[4];
    default:
        return (size_t)-1;
    }
}

static void
reply(struct conn *c, uint8_t cmd)
{
    uint8_t out[T2S_SOCKS5_REPLY_MAX];
    struct t2s_socks5_addr any = {.atyp = T2S_SOCKS5_ATYP_IPV4};
    const struct t2s_socks5_addr *bnd =
        cmd == T2S_SOCKS5_CMD_UDP_ASSOCIATE ? &fz.o.udp_bnd : &any;
    size_t n = t2s_socks5_encode_request(out, sizeof(out), 0, bnd);

    if (n == 0) /* an address the codec cannot encode: a bare refusal */
        n = t2s_socks5_encode_request(out, sizeof(out), 0, &any);
    out[1] = cmd == T2S_SOCKS5_CMD_UDP_ASSOCIATE ? fz.o.udp_rep : fz.o.rep;
    conn_write(c, out, n);
    if (cmd == T2S_SOCKS5_CMD_CONNECT && out[1] == 0 && fz.o.early_data > 0) {
        for (size_t i = 0; i < fz.o.early_data && i < sizeof(fz.buf); i++)
            fz.buf[i] = (uint8_t)(i * 7 + 3);
        conn_write(c, fz.buf, fz.o.early_data);
    }
}

/* Parses one client message; 0 when more bytes are needed. */
static size_t
serve_one(struct conn *c)
{
    const uint8_t *p = c->in;
    size_t n = c->in_len, need, al;

    switch (c->state) {
    case C_GREETING:
        if (n < 2 || n < 2 + (size_t)p[1])
            return 0;
        need = 2 + (size_t)p[1];
        if (fz.o.auth && memchr(p + 2, T2S_SOCKS5_METHOD_USERPASS, p[1])) {
            conn_write(c, "\x05\x02", 2);
            c->state = C_AUTH;
        } else {
            conn_write(c, "\x05\x00", 2);
            c->state = C_REQUEST;
        }
        return need;
    case C_AUTH:
        if (n < 2 || n < 3 + (size_t)p[1] || n < 3 + (size_t)p[1] + p[2 + p[1]])
            return 0;
        conn_write(c, "\x01\x00", 2);
        c->state = C_REQUEST;
        return 3 + (size_t)p[1] + p[2 + p[1]];
    case C_REQUEST:
        al = addr_len(p, n);
        if (al == 0 || (al != (size_t)-1 && n < 4 + al + 2))
            return 0;
        if (al == (size_t)-1)
            return n; /* garbage: ignore it */
        reply(c, p[1]);
        c->state = C_RELAY;
        return 4 + al + 2;
    default:
        return n; /* relayed data: discarded */
    }
}

/* Reads what the library sent on c; returns the bytes moved. */
static size_t
service(struct conn *c)
{
    size_t moved = 0, used;
    ssize_t n;

    while (c->fd >= 0 && c->reading) {
        if (c->relay || c->manual || c->state == C_RELAY) {
            n = recv(c->fd, fz.buf, sizeof(fz.buf), MSG_DONTWAIT);
            if (n <= 0)
                break;
            moved += (size_t)n;
            continue;
        }
        n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
                 MSG_DONTWAIT);
        if (n <= 0)
            break;
        moved += (size_t)n;
        c->in_len += (size_t)n;
        while (c->in_len > 0 && (used = serve_one(c)) > 0) {
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
        }
        if (c->in_len == sizeof(c->in))
            c->in_len = 0; /* a request that never ends: forget it */
    }
    return moved;
}

/* ---- the TUN ---- */

static size_t
tun_drain(void)
{
    size_t moved = 0;
    ssize_t n;

    while ((n = recv(fz.sv[0], fz.buf, sizeof(fz.buf), MSG_DONTWAIT)) >= 0) {
        moved += (size_t)n + 1;
        if (fz.on_packet != NULL)
            fz.on_packet(fz.buf, (size_t)n);
    }
    return moved;
}

void
fz_tun_send(const void *pkt, size_t len)
{
    if (len == 0)
        return; /* a TUN never reads empty: 0 would mean end of file */
    (void)send(fz.sv[0], pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
fz_pump(void)
{
    int quiet = 0;

    for (int i = 0; i < FZ_PUMP_MAX && quiet < 2; i++) {
        size_t moved = 0;

        ev_run(fz.t->ctx.loop, EVRUN_NOWAIT);
        for (unsigned k = 0; k < fz.nconns; k++)
            moved += service(&fz.conns[k]);
        moved += tun_drain();
        quiet = moved == 0 ? quiet + 1 : 0;
    }
}

void
fz_advance(unsigned ms)
{
    while (ms > 0) {
        unsigned step = ms < 250 ? ms : 250;

        vclock += step;
        vtime_ms += step;
        ms -= step;
        vtimers_fire();
        fz_pump();
    }
}

/* ---- proxy connections for the input ---- */

unsigned
fz_nconns(void)
{
    return fz.nconns;
}

int
fz_conn_is_relay(unsigned i)
{
    return i < fz.nconns && fz.conns[i].relay;
}

int
fz_conn_is_open(unsigned i)
{
    return i < fz.nconns && fz.conns[i].fd >= 0;
}

void
fz_conn_send(unsigned i, const void *data, size_t len)
{
    if (i < fz.nconns)
        conn_write(&fz.conns[i], data, len);
}

void
fz_conn_shut_wr(unsigned i)
{
    if (fz_conn_is_open(i))
        shutdown(fz.conns[i].fd, SHUT_WR);
}

void
fz_conn_close(unsigned i)
{
    if (fz_conn_is_open(i)) {
        close(fz.conns[i].fd);
        fz.conns[i].fd = -1;
    }
}

void
fz_conn_set_reading(unsigned i, int on)
{
    if (i < fz.nconns)
        fz.conns[i].reading = on;
}

void
fz_refuse_connects(int on)
{
    fz.o.refuse_connects = on;
}

/* The program's log sink (tun2socks/main.c): lines to stderr. */
static void
fz_log(int level, const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "tun2socks: %s: %s\n", t2s_log_level_name(level), line);
}

/* ---- stdout: the library (lwIP included) must never write there ---- */

static void
stdout_capture(void)
{
    fflush(stdout);
    fz.stdout_saved = dup(1);
    if (fz.stdout_saved < 0 ||
        pipe2(fz.stdout_pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
        dup2(fz.stdout_pipe[1], 1) < 0)
        die("capturing stdout");
}

static void
stdout_check(void)
{
    ssize_t n;

    fflush(stdout);
    n = read(fz.stdout_pipe[0], fz.buf, sizeof(fz.buf) - 1);
    if (dup2(fz.stdout_saved, 1) < 0)
        die("restoring stdout");
    close(fz.stdout_saved);
    close(fz.stdout_pipe[0]);
    close(fz.stdout_pipe[1]);
    if (n > 0) {
        fz.buf[n] = 0;
        fprintf(stderr, "fuzz: the library wrote to stdout: %s\n",
                (const char *)fz.buf);
        abort();
    }
}

/* ---- the instance ---- */

void
fz_begin(const struct fz_opts *o, fz_packet_fn on_packet)
{
    struct t2s_config cfg;
    char err[256];
    const char *lvl = getenv("T2S_FUZZ_LOGLEVEL");

    signal(SIGPIPE, SIG_IGN);
    memset(&fz, 0, sizeof(fz));
    stdout_capture();
    fz.o = *o;
    fz.on_packet = on_packet;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fz.sv) < 0)
        die("socketpair for the TUN");
    t2s_config_init(&cfg);
    cfg.tun_fd = fz.sv[1];
    cfg.mtu = o->mtu;
    /* Errors only (a failed lwIP assertion is one); T2S_FUZZ_LOGLEVEL=3
     * shows everything while reproducing a finding. */
    cfg.loglevel = lvl != NULL ? atoi(lvl) : 0;
    t2s_config_set_log(&cfg, fz_log, NULL);
    if (o->idle_timeout_ms != 0)
        cfg.idle_timeout_ms = o->idle_timeout_ms;
    cfg.dns_mode = o->dns_mode;
    cfg.socks_pipeline = o->pipeline;
    cfg.max_conns = o->max_conns;
    cfg.max_udp = o->max_udp;
    if (t2s_proxy_url_parse(o->auth ? "socks5://user:secret@127.0.0.1:1080"
                                    : "socks5://127.0.0.1:1080",
                            &cfg.proxy, err, sizeof(err)) != 0 ||
        t2s_proxy_addr_resolve(&cfg.proxy, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz harness: proxy: %s\n", err);
        abort();
    }
    srandom(1);
    nvtimers = 0;
    vtime_ms += 1000000;
    fz.active = 1; /* the instance's timers start on the virtual clock */
    fz.t = t2s_create(&cfg, err, sizeof(err));
    if (fz.t == NULL) {
        fprintf(stderr, "fuzz harness: t2s_create: %s\n", err);
        abort();
    }
    /* lwIP timers left from the previous input fire now and restart from
     * here. */
    vclock += 1000000;
    sys_check_timeouts();
}

void
fz_end(void)
{
    t2s_destroy(fz.t);
    fz.active = 0;
    fz.t = NULL;
    nvtimers = 0;
    while (recv(fz.sv[0], fz.buf, sizeof(fz.buf), MSG_DONTWAIT) >= 0)
        ;
    for (unsigned i = 0; i < fz.nconns; i++)
        fz_conn_close(i);
    close(fz.sv[0]);
    close(fz.sv[1]);
    /* Fragments waiting for reassembly are global lwIP state: age them
     * out (IP_REASS_MAXAGE and IPV6_REASS_MAXAGE timer calls). */
    for (int i = 0; i <= IP_REASS_MAXAGE; i++)
        ip_reass_tmr();
    for (int i = 0; i <= IPV6_REASS_MAXAGE; i++)
        ip6_reass_tmr();
    stdout_check();
}

/* ---- checking what tun2socks writes ---- */

static void
bad_packet(const char *what)
{
    fprintf(stderr, "fuzz: tun2socks wrote %s to the TUN\n", what);
    abort();
}

static int
check_l4(int family, const uint8_t *ip, uint8_t proto, const uint8_t *l4,
         size_t len)
{
    const uint8_t *src = family == 4 ? ip + 12 : ip + 8;
    const uint8_t *dst = family == 4 ? ip + 16 : ip + 24;

    if (proto != 6 && proto != 17)
        return -1;
    if (len < (proto == 6 ? 20u : 8u))
        bad_packet("a truncated TCP/UDP header");
    if (proto == 17 && wire_get16(l4 + 4) != len)
        bad_packet("a UDP length that is not the datagram's");
    if (wire_fold(
            wire_sum16(l4, len, fz_pseudo(family, src, dst, proto, len))) != 0)
        bad_packet(proto == 6 ? "a bad TCP checksum" : "a bad UDP checksum");
    return proto;
}

int
fz_check_packet(const uint8_t *p, size_t n, const uint8_t **l4, size_t *len,
                int *family)
{
    if (n >= 20 && p[0] >> 4 == 4) {
        size_t hl = (size_t)(p[0] & 15) * 4;

        if (hl < 20 || hl > n || wire_get16(p + 2) != n)
            bad_packet("an IPv4 length that is not the packet's");
        if (wire_fold(wire_sum16(p, hl, 0)) != 0)
            bad_packet("a bad IPv4 header checksum");
        if ((wire_get16(p + 6) & 0x3fff) != 0)
            return -1; /* a fragment */
        *family = 4;
        *l4 = p + hl;
        *len = n - hl;
        return check_l4(4, p, p[9], *l4, *len);
    }
    if (n >= 40 && p[0] >> 4 == 6) {
        if ((size_t)wire_get16(p + 4) + 40 != n)
            bad_packet("an IPv6 length that is not the packet's");
        *family = 6;
        *l4 = p + 40;
        *len = n - 40;
        return check_l4(6, p, p[6], *l4, *len);
    }
    bad_packet("something that is not an IP packet");
    return -1;
}

/* ---- checksums ---- */

uint32_t
fz_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
          size_t len)
{
    size_t alen = family == 4 ? 4 : 16;
    uint32_t sum = wire_sum16(src, alen, 0);

    sum = wire_sum16(dst, alen, sum);
    sum += proto;
    sum += (uint32_t)(len >> 16);
    sum += (uint32_t)(len & 0xffff);
    return sum;
}
