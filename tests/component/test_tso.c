/*
 * TCP segmentation offload on a TUN with a virtio-net header: the
 * forwarder sees a TUN with IFF_VNET_HDR that accepts TSO (ioctl(2)
 * wrapped at link time), and tso_shim.c plays the kernel: it checks the
 * header of every segment lwIP writes (GSO exactly above the connection's
 * MSS, gso_size that MSS, hdr_len, checksum fields), cuts super-segments
 * into MSS pieces for the tests' TCP client and can drop one piece; the
 * other way it hands the forwarder super-packets marked as the kernel
 * marks them. Every transfer is checked byte for byte.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#include "fake_proxy.h"
#include "fwd.h"
#include "pkt.h"
#include "tso_shim.h"

#define T 5000

/* ---- the TUN the forwarder sees ---- */

int tso_ioctl_fd = -1;
int tso_ioctl_refuse_tso;
unsigned long tso_ioctl_offload;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int
__wrap_ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (fd != tso_ioctl_fd || fd < 0)
        return __real_ioctl(fd, req, arg);
    switch (req) {
    case TUNGETIFF:
        ((struct ifreq *)arg)->ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
        return 0;
    case TUNGETVNETHDRSZ:
        *(int *)arg = (int)sizeof(struct virtio_net_hdr);
        return 0;
    case TUNSETOFFLOAD:
        if (tso_ioctl_refuse_tso &&
            ((unsigned long)arg & (TUN_F_TSO4 | TUN_F_TSO6))) {
            errno = EINVAL;
            return -1;
        }
        tso_ioctl_offload = (unsigned long)arg;
        return 0;
    default:
        errno = ENOTTY;
        return -1;
    }
}

#ifdef __USE_TIME64_REDIRECTS
/* 32-bit glibc with a 64-bit time_t calls ioctl() by this name */
int __real___ioctl_time64(int fd, unsigned long req, ...);
int __wrap___ioctl_time64(int fd, unsigned long req, ...);

int
__wrap___ioctl_time64(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (fd != tso_ioctl_fd || fd < 0)
        return __real___ioctl_time64(fd, req, arg);
    return __wrap_ioctl(fd, req, arg);
}
#endif

/* ---- the set-up ---- */

struct rig {
    struct fake_proxy px;
    struct fwd f;
    struct tso_shim shim;
    struct tc c;
};

static struct rig *cur;

static void
use_shim_tun(struct t2s_config *cfg)
{
    cfg->tun_fd = cur->shim.tun[1];
}

/* The forwarder on the shim, one connection of family to port 80 whose
 * SYN offers mss (and window scaling wscale, -1: none); the proxy runs
 * script. */
static void
rig_start(struct rig *r, const struct fp_step *script, int family, uint16_t mss,
          int wscale)
{
    static const struct fp_step *scripts[2];
    struct fwd_opts o = {.config = use_shim_tun};

    memset(r, 0, sizeof(*r));
    cur = r;
    scripts[0] = script;
    fp_start(&r->px, family, 0, scripts);
    /* fwd_start() makes the plain pair; the shim goes between */
    r->shim.mss = mss < 1460 ? mss : 1460; /* MTU 1500 */
    tso_ioctl_offload = 0;
    tso_shim_open(&r->shim);
    tso_ioctl_fd = r->shim.tun[1];
    fwd_start(&r->f, &r->px, &o);
    tso_shim_run(&r->shim, r->f.sv[1]);
    tc_init(&r->c, &r->f.k, family, 40000, 80);
    r->c.mss = mss;
    r->c.our_wscale = wscale;
    assert_int_equal(tc_connect(&r->c, T), 1);
}

static void
rig_stop(struct rig *r, struct tso_shim *seen)
{
    struct t2s_stats st;

    tso_shim_get(&r->shim, seen);
    fwd_stop(&r->f, &st);
    tso_shim_stop(&r->shim);
    tso_ioctl_fd = -1;
    tc_free(&r->c);
    fp_stop(&r->px);
    if (seen->bad)
        fail_msg("%u bad segments from the forwarder, first: %s", seen->bad,
                 seen->why);
}

/* The app receives n pattern bytes and the FIN, intact. */
static void
expect_download(struct rig *r, size_t n)
{
    uint8_t *want = malloc(n);

    assert_non_null(want);
    pattern_fill(want, 0, n);
    if (tc_wait_fin(&r->c, 4 * T) != 0)
        fail_msg("no FIN: %zu of %zu bytes arrived", r->c.data_len, n);
    if (r->c.data_len != n)
        fail_msg("the app got %zu of %zu bytes, then the FIN", r->c.data_len,
                 n);
    if (memcmp(r->c.data, want, n) != 0)
        fail_msg("the app received corrupted data");
    free(want);
    tc_send(&r->c, TH_FIN | TH_ACK, NULL, 0);
    tk_run_for(&r->f.k, 50);
}

/* ---- the tests ---- */

#define DOWN (3u << 20)

static const struct fp_step download[] = {
    FP_HANDSHAKE(0, 1), FPA(FP_SEND_PATTERN, DOWN), FP(FP_END)};

/* Window scaling off (the app's window is at most 64 KiB): segments up to
 * half of it, each marked with the MSS; the FIN rides one of them or
 * follows. TSO asked with checksum offload. */
static void
download_checks(int family)
{
    struct rig r;
    struct tso_shim seen;

    rig_start(&r, download, family, 1400, -1);
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    assert_int_equal(tso_ioctl_offload, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
    if (seen.gso_segs == 0)
        fail_msg("no segment above the MSS (largest %zu)", seen.max_payload);
    assert_true(seen.max_payload > 1400);
    assert_true(seen.max_payload <= 32767);
}

static void
test_download_v4_no_wscale(void **state)
{
    (void)state;
    download_checks(4);
}

static void
test_download_v6_no_wscale(void **state)
{
    (void)state;
    download_checks(6);
}

/* With window scaling the segments grow to ~64 KiB, still whole MSSes. */
static void
test_download_wscale(void **state)
{
    struct rig r;
    struct tso_shim seen;

    (void)state;
    rig_start(&r, download, 4, 1400, 7); /* 65535 << 7: 8 MiB */
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    assert_true(seen.gso_segs > 0);
    assert_true(seen.max_payload > 32767);
    assert_true(seen.max_payload <= 65475);
}

/* An app MSS below MTU - 40: gso_size is the app's MSS, not the MTU's. */
static void
test_small_peer_mss(void **state)
{
    struct rig r;
    struct tso_shim seen;

    (void)state;
    rig_start(&r, download, 4, 536, 7);
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    assert_true(seen.gso_segs > 0);
}

/* A piece of a super-segment is lost: the app's duplicate ACKs (or the
 * timer) make lwIP send the super-segment again, partly acknowledged
 * already, marked again; the kernel cuts it again and the app gets every
 * byte in order. */
static void
test_retransmission_straddles_super_segment(void **state)
{
    struct rig r;
    struct tso_shim seen;

    (void)state;
    rig_start(&r, download, 4, 1400, 7);
    r.shim.drop_piece = 3;
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    assert_true(seen.dropped);
    if (seen.gso_rexmit == 0)
        fail_msg("the lost piece was not resent in a marked super-segment");
}

/* The app stops reading with super-segments queued: zero window, probes,
 * then everything once it reads again. */
static void
test_zero_window_then_resume(void **state)
{
    struct rig r;
    struct tso_shim seen;

    (void)state;
    rig_start(&r, download, 4, 1400, -1);
    tc_pause(&r.c);
    /* the app's window fills: it advertises zero */
    for (int i = 0; i < 300 && r.c.rcv_nxt != r.c.rcv_edge; i++)
        tk_run_for(&r.f.k, 10);
    assert_int_equal(r.c.rcv_nxt, r.c.rcv_edge);
    tk_run_for(&r.f.k, 300); /* lwIP's persist timer probes */
    tc_resume(&r.c);
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    assert_true(seen.gso_segs > 0);
}

#define UP (2u << 20)

static const struct fp_step upload[] = {FP_HANDSHAKE(0, 1), FP(FP_READ_EOF),
                                        FP(FP_END)};

/* Super-packets from the app (TSO on the TUN): up to ~60 KiB segments,
 * the first with CWR (an ECN-marked super-packet), all reach the proxy
 * intact, v4 and v6. */
static void
upload_super_packets(int family)
{
    struct rig r;
    struct tso_shim seen;
    struct fp_conn pc;
    uint8_t *data = malloc(UP);

    assert_non_null(data);
    pattern_fill(data, 0, UP);
    rig_start(&r, upload, family, 1400, 7);
    r.shim.in_gso = 1400;
    r.c.mss = 60000; /* what the app's kernel sends per write */
    tc_send(&r.c, TH_ACK | TH_PSH | TH_CWR, data, 30000);
    assert_int_equal(tc_write(&r.c, data + 30000, UP - 30000, T), 0);
    tc_send(&r.c, TH_FIN | TH_ACK, NULL, 0);
    assert_int_equal(fp_wait_done(&r.px, 0, 4 * T), 0);
    pc = fp_get(&r.px, 0);
    assert_int_equal(pc.rx_len, UP);
    if (memcmp(pc.rx, data, UP) != 0)
        fail_msg("the proxy received corrupted data");
    assert_int_equal(tc_wait_fin(&r.c, T), 0);
    tc_send(&r.c, TH_ACK, NULL, 0);
    rig_stop(&r, &seen);
    assert_true(seen.in_gso_segs >= UP / 60000);
    assert_int_equal(seen.in_gso_ecn, 1);
    free(data);
}

static void
test_upload_super_packets_v4(void **state)
{
    (void)state;
    upload_super_packets(4);
}

static void
test_upload_super_packets_v6(void **state)
{
    (void)state;
    upload_super_packets(6);
}

/* A TUN that refuses TSO keeps checksum offload, and lwIP then never
 * builds a segment above the MSS. */
static void
test_tso_refused(void **state)
{
    struct rig r;
    struct tso_shim seen;

    (void)state;
    tso_ioctl_refuse_tso = 1;
    rig_start(&r, download, 4, 1400, 7);
    expect_download(&r, DOWN);
    rig_stop(&r, &seen);
    tso_ioctl_refuse_tso = 0;
    assert_int_equal(tso_ioctl_offload, TUN_F_CSUM);
    assert_int_equal(seen.gso_segs, 0);
    assert_true(seen.max_payload <= 1400);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download_v4_no_wscale),
        cmocka_unit_test(test_download_v6_no_wscale),
        cmocka_unit_test(test_download_wscale),
        cmocka_unit_test(test_small_peer_mss),
        cmocka_unit_test(test_retransmission_straddles_super_segment),
        cmocka_unit_test(test_zero_window_then_resume),
        cmocka_unit_test(test_upload_super_packets_v4),
        cmocka_unit_test(test_upload_super_packets_v6),
        cmocka_unit_test(test_tso_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
