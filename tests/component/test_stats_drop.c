/*
 * The stats socket and a client that never drains its answer (label
 * faults: core/fault.h makes every send find the client's buffer full,
 * which a real answer of a few KiB cannot do). The client is dropped
 * after T2S_STATS_SOCKET_WRITE_S with nothing sent, the loop stays
 * responsive meanwhile, the next client is served once sends work again,
 * and nothing is left behind.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fault.h"
#include "fds.h"
#include "t2s.h"

static char dir[64], path[96];

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Connects and sends req; the socket. */
static int
ask(const char *req)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(s >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(s, req, strlen(req), MSG_NOSIGNAL),
                     (ssize_t)strlen(req));
    return s;
}

/* Bytes until EOF, waiting at most 5 s for each read. */
static size_t
read_to_eof(int s, char *buf, size_t len)
{
    struct pollfd p = {.fd = s, .events = POLLIN};
    size_t got = 0;
    ssize_t n;

    for (;;) {
        assert_int_equal(poll(&p, 1, 5000), 1);
        n = recv(s, buf + got, len - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return got;
}

static void *
run_main(void *arg)
{
    return (void *)(intptr_t)t2s_run(arg);
}

static void
test_never_drains(void **state)
{
    struct t2s_config *cfg = t2s_config_new();
    struct t2s_instance *t;
    char err[256] = "", fd[16], buf[16384];
    int sv[2], before, s;
    pthread_t th;
    double t0, waited;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    before = count_fds();
    snprintf(fd, sizeof(fd), "%d", sv[1]);
    assert_int_equal(t2s_config_set(cfg, "tun-fd", fd, err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(cfg, "proxy", "socks5://127.0.0.1:9", err, sizeof(err)),
        0);
    assert_int_equal(
        t2s_config_set(cfg, "stats-socket", path, err, sizeof(err)), 0);
    t = t2s_create(cfg, err, sizeof(err));
    assert_non_null(t);
    t2s_config_free(cfg);
    assert_int_equal(pthread_create(&th, NULL, run_main, t), 0);

    t2s_fault_stats_send_block(1);
    t0 = now_s();
    s = ask("/metrics\n");
    assert_int_equal(read_to_eof(s, buf, sizeof(buf)), 0); /* dropped */
    waited = now_s() - t0;
    close(s);
    /* not a timing check: only that the write deadline, not the read
     * one or an immediate close, ended it */
    assert_true(waited >= 0.9);
    t2s_fault_stats_send_block(0);

    s = ask("\n");
    assert_true(read_to_eof(s, buf, sizeof(buf)) > 0);
    assert_true(strncmp(buf, "{\"tcp_active\":", 14) == 0);
    close(s);

    t2s_stop(t);
    assert_int_equal(pthread_join(th, NULL), 0);
    t2s_destroy(t);
    assert_int_equal(count_fds(), before);
    close(sv[0]);
    close(sv[1]);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/t2s-stats-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/stats.sock", dir);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_drains),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
