/*
 * A failed lwIP assertion inside the loop (TEST-ONLY hook of fault.h: a
 * real LWIP_ASSERT in pbuf_free) stops the instance with
 * T2S_RUN_ERR_INTERNAL instead of killing the host process: one error line
 * reaches the log sink, t2s_destroy() still works, and no instance can be
 * created afterwards (lwIP's globals are not trusted any more). Its own
 * executable: the process's lwIP stays unusable after it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fault.h"
#include "t2s.h"

struct sink {
    unsigned lines[4];
    char first[512];
};

static void
on_log(int level, const char *line, void *user)
{
    struct sink *s = user;

    if (level >= 0 && level < 4 && s->lines[level]++ == 0 &&
        level == T2S_LOG_ERROR)
        snprintf(s->first, sizeof(s->first), "%s", line);
}

static void
test_assert_stops_the_instance(void **state)
{
    struct sink s;
    struct t2s_config *cfg = t2s_config_new();
    struct t2s_instance *t;
    char err[256], fd[16];
    int sv[2];

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    snprintf(fd, sizeof(fd), "%d", sv[1]);
    assert_int_equal(t2s_config_set(cfg, "tun-fd", fd, err, sizeof(err)), 0);
    assert_int_equal(t2s_config_set(cfg, "mtu", "1500", err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(cfg, "proxy", "socks5://127.0.0.1:9", err, sizeof(err)),
        0);
    assert_int_equal(t2s_config_set(cfg, "loglevel", "error", err, sizeof(err)),
                     0);
    t2s_config_set_log(cfg, on_log, &s);
    t = t2s_create(cfg, err, sizeof(err));
    assert_non_null(t);

    t2s_fault_lwip_assert();
    t2s_request_stats_log(t); /* the loop trips the assertion */
    assert_int_equal(t2s_run(t), T2S_RUN_ERR_INTERNAL);
    assert_int_equal(s.lines[T2S_LOG_ERROR], 1);
    assert_non_null(strstr(s.first, "lwIP assertion \"p != NULL\" failed at "));
    assert_int_equal(t2s_run(t), T2S_RUN_ERR_INTERNAL); /* still broken */
    t2s_destroy(t);
    assert_true(fcntl(sv[1], F_GETFD) >= 0); /* the TUN is the caller's */

    /* lwIP's state cannot be trusted: no new instance in this process */
    t = t2s_create(cfg, err, sizeof(err));
    assert_null(t);
    assert_non_null(strstr(err, "restart the process"));
    assert_int_equal(s.lines[T2S_LOG_ERROR], 1);
    t2s_config_free(cfg);
    close(sv[0]);
    close(sv[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assert_stops_the_instance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
