/*
 * Component tests of the batched datagrams toward the relay
 * (udp/udp_batch.h) on a real libev loop: through real loopback UDP
 * sockets (every datagram arrives whole and in order, GSO or not), and
 * with scripted system calls: a partial sendmmsg (the rest retried, what
 * the kernel refuses dropped and counted), a kernel without UDP GSO
 * (EINVAL or EIO: sendmmsg from then on, nothing lost), the flush once per
 * loop iteration, runs per socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "udp/udp_batch.h"

static struct ev_loop *loop;
static struct t2s_stats stats;

/* Queues one datagram of len bytes, every byte tag, for fd. */
static void
queue(struct t2s_udp_batch *b, int fd, size_t len, uint8_t tag)
{
    uint8_t *room = t2s_udp_batch_reserve(b, len);

    assert_non_null(room);
    memset(room, tag, len);
    t2s_udp_batch_commit(b, fd, len, len);
}

/* ---- scripted system calls ---- */

static int mmsg_calls, msg_calls;
static int mmsg_take[8]; /* per call: datagrams taken; -1: EAGAIN */
static int gso_errno;    /* sendmsg with UDP_SEGMENT fails with it */
static unsigned sent_lens[256], nsent;

static int
fake_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    int take = mmsg_take[mmsg_calls++ % 8];

    (void)fd;
    (void)flags;
    if (take < 0) {
        errno = EAGAIN;
        return -1;
    }
    if ((unsigned)take > n)
        take = (int)n;
    for (int k = 0; k < take; k++)
        sent_lens[nsent++] = (unsigned)v[k].msg_hdr.msg_iov[0].iov_len;
    return take;
}

static ssize_t
fake_sendmsg(int fd, const struct msghdr *m, int flags)
{
    (void)fd;
    (void)flags;
    msg_calls++;
    if (gso_errno != 0) {
        errno = gso_errno;
        return -1;
    }
    return (ssize_t)m->msg_iov[0].iov_len;
}

static const struct t2s_udp_batch_sys fake = {fake_sendmmsg, fake_sendmsg};

static void
reset_fakes(void)
{
    mmsg_calls = msg_calls = 0;
    for (int k = 0; k < 8; k++)
        mmsg_take[k] = 64;
    gso_errno = 0;
    nsent = 0;
    memset(&stats, 0, sizeof(stats));
}

static int
setup(void **state)
{
    (void)state;
    loop = ev_loop_new(EVFLAG_AUTO);
    reset_fakes();
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    ev_loop_destroy(loop);
    return 0;
}

/* sendmmsg takes 2, then 3, then refuses (EAGAIN): 5 sent, the rest
 * dropped and counted; nothing sent twice. Different sizes: no GSO. */
static void
test_partial_sendmmsg(void **state)
{
    struct t2s_udp_batch b;

    (void)state;
    assert_int_equal(t2s_udp_batch_init(&b, loop, &stats, &fake), 0);
    mmsg_take[0] = 2;
    mmsg_take[1] = 3;
    mmsg_take[2] = -1;
    for (unsigned k = 0; k < 8; k++)
        queue(&b, 7, 100 + k, (uint8_t)k);
    t2s_udp_batch_flush(&b);
    assert_int_equal(mmsg_calls, 3);
    assert_int_equal(nsent, 5);
    for (unsigned k = 0; k < nsent; k++)
        assert_int_equal(sent_lens[k], 100 + k);
    assert_int_equal(stats.udp_pkts_up, 5);
    assert_int_equal(stats.udp_bytes_up, 100 + 101 + 102 + 103 + 104);
    assert_int_equal(stats.udp_dropped, 3);
    assert_int_equal(b.n, 0);
    t2s_udp_batch_free(&b);
}

/* A kernel without UDP_SEGMENT: the first GSO send fails (EINVAL), the
 * same datagrams go by sendmmsg, and GSO is not tried again. */
static void
fallback(int err)
{
    struct t2s_udp_batch b;

    reset_fakes();
    assert_int_equal(t2s_udp_batch_init(&b, loop, &stats, &fake), 0);
    gso_errno = err;
    for (unsigned k = 0; k < 10; k++)
        queue(&b, 7, 1210, 1);
    t2s_udp_batch_flush(&b);
    assert_int_equal(msg_calls, 1);
    assert_int_equal(b.gso, 0);
    assert_int_equal(nsent, 10);
    assert_int_equal(stats.udp_pkts_up, 10);
    assert_int_equal(stats.udp_dropped, 0);
    for (unsigned k = 0; k < 10; k++)
        queue(&b, 7, 1210, 1);
    t2s_udp_batch_flush(&b);
    assert_int_equal(msg_calls, 1);
    assert_int_equal(nsent, 20);
    t2s_udp_batch_free(&b);
}

static void
test_no_gso_fallback(void **state)
{
    (void)state;
    fallback(EINVAL);
    fallback(EIO);
}

/* Equal sizes to one socket: one GSO send (the last may be shorter);
 * another socket's datagrams are a run of their own; a full socket
 * buffer (EAGAIN) drops that run only, GSO stays on. */
static void
test_gso_runs(void **state)
{
    struct t2s_udp_batch b;

    (void)state;
    assert_int_equal(t2s_udp_batch_init(&b, loop, &stats, &fake), 0);
    for (unsigned k = 0; k < 5; k++)
        queue(&b, 7, 1210, 1);
    queue(&b, 7, 600, 1);
    queue(&b, 8, 1210, 2);
    queue(&b, 8, 1210, 2);
    t2s_udp_batch_flush(&b);
    assert_int_equal(msg_calls, 2);
    assert_int_equal(mmsg_calls, 0);
    assert_int_equal(stats.udp_pkts_up, 8);
    assert_int_equal(b.gso_sends, 2);
    gso_errno = EAGAIN;
    queue(&b, 7, 1210, 1);
    queue(&b, 7, 1210, 1);
    t2s_udp_batch_flush(&b);
    assert_int_equal(stats.udp_dropped, 2);
    assert_int_equal(b.gso, 1);
    t2s_udp_batch_free(&b);
}

/* ---- real sockets ---- */

static int
udp_pair(int *rx)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int big = 1 << 20, tx;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *rx = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(*rx >= 0);
    setsockopt(*rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    assert_int_equal(bind(*rx, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(*rx, (struct sockaddr *)&a, &len);
    tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(tx >= 0);
    assert_int_equal(connect(tx, (struct sockaddr *)&a, sizeof(a)), 0);
    return tx;
}

static void
on_stop(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(l, EVBREAK_ONE);
}

/* Through the kernel, GSO or not, flushed by the loop's prepare watcher:
 * 40 datagrams of 1210 bytes and a short one arrive whole, in order. */
static void
real_sockets(int gso)
{
    struct t2s_udp_batch b;
    uint8_t buf[2048];
    ev_timer t;
    int rx, tx = udp_pair(&rx);

    memset(&stats, 0, sizeof(stats));
    assert_int_equal(t2s_udp_batch_init(&b, loop, &stats, NULL), 0);
    b.gso = gso;
    for (unsigned k = 0; k < 40; k++)
        queue(&b, tx, 1210, (uint8_t)k);
    queue(&b, tx, 99, 0xee);
    assert_int_equal(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ev_timer_init(&t, on_stop, 0.01, 0.);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    for (unsigned k = 0; k < 40; k++) {
        assert_int_equal(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), 1210);
        assert_int_equal(buf[0], (uint8_t)k);
        assert_int_equal(buf[1209], (uint8_t)k);
    }
    assert_int_equal(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), 99);
    assert_int_equal(buf[98], 0xee);
    assert_int_equal(stats.udp_pkts_up, 41);
    assert_int_equal(stats.udp_dropped, 0);
    t2s_udp_batch_free(&b);
    close(tx);
    close(rx);
}

static void
test_real_sockets(void **state)
{
    (void)state;
    real_sockets(1);
    real_sockets(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_partial_sendmmsg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_gso_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gso_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_sockets, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
