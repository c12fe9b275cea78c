/*
 * The stats socket through the embedding API: "stats-socket" set with
 * t2s_config_set(), 20 create/run/stop/destroy cycles, each answering a
 * JSON and an HTTP /metrics request while the loop runs in a thread, with
 * a silent client still connected at t2s_stop(); afterwards no descriptor
 * is left, the socket file is gone (LeakSanitizer checks the memory in
 * the ASan build). And t2s_create() refusing a path it cannot use.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fds.h"
#include "t2s.h"

static char dir[64], path[96];

static struct t2s_config *
config_on(int tun)
{
    struct t2s_config *cfg = t2s_config_new();
    char fd[16], err[256];

    assert_non_null(cfg);
    snprintf(fd, sizeof(fd), "%d", tun);
    assert_int_equal(t2s_config_set(cfg, "tun-fd", fd, err, sizeof(err)), 0);
    assert_int_equal(
        t2s_config_set(cfg, "proxy", "socks5://127.0.0.1:9", err, sizeof(err)),
        0);
    assert_int_equal(
        t2s_config_set(cfg, "stats-socket", path, err, sizeof(err)), 0);
    return cfg;
}

static int
connect_stats(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 5};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(s >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return s;
}

/* Sends req, reads the answer to EOF into buf. */
static void
ask(const char *req, char *buf, size_t len)
{
    int s = connect_stats();
    size_t got = 0;
    ssize_t n;

    assert_int_equal(send(s, req, strlen(req), MSG_NOSIGNAL),
                     (ssize_t)strlen(req));
    while (got + 1 < len && (n = recv(s, buf + got, len - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(s);
}

static void *
run_main(void *arg)
{
    return (void *)(intptr_t)t2s_run(arg);
}

static void
test_cycles(void **state)
{
    int sv[2], before;
    char buf[16384];
    struct stat sb;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    before = count_fds();
    for (int i = 0; i < 20; i++) {
        struct t2s_config *cfg = config_on(sv[1]);
        struct t2s_instance *t;
        pthread_t th;
        char err[256] = "";
        int silent;

        t = t2s_create(cfg, err, sizeof(err));
        if (t == NULL)
            fail_msg("cycle %d: %s", i, err);
        t2s_config_free(cfg);
        assert_int_equal(stat(path, &sb), 0);
        assert_true(S_ISSOCK(sb.st_mode));
        assert_int_equal(pthread_create(&th, NULL, run_main, t), 0);
        ask("\n", buf, sizeof(buf));
        assert_true(strncmp(buf, "{\"tcp_active\":0,", 16) == 0);
        assert_non_null(strstr(buf, ",\"protect_failed\":0}\n"));
        ask("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
        assert_true(strncmp(buf, "HTTP/1.0 200 OK\r\n", 17) == 0);
        assert_non_null(strstr(buf, "\n# TYPE t2s_tcp_active gauge\n"));
        silent = connect_stats(); /* still waiting at the stop */
        t2s_stop(t);
        assert_int_equal(pthread_join(th, NULL), 0);
        t2s_destroy(t);
        close(silent);
        assert_int_equal(stat(path, &sb), -1); /* removed */
        assert_int_equal(count_fds(), before);
    }
    close(sv[0]);
    close(sv[1]);
}

static void
test_bad_paths(void **state)
{
    int sv[2], before;
    char err[256] = "", file[160];
    struct t2s_config *cfg;
    FILE *f;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    before = count_fds();
    /* a plain file there: refused, left alone */
    snprintf(file, sizeof(file), "%s", path);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    cfg = config_on(sv[1]);
    assert_null(t2s_create(cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "exists and is not a socket"));
    assert_int_equal(unlink(file), 0);
    /* a directory that does not exist */
    snprintf(file, sizeof(file), "%s/no/such/dir/s.sock", dir);
    assert_int_equal(
        t2s_config_set(cfg, "stats-socket", file, err, sizeof(err)), 0);
    assert_null(t2s_create(cfg, err, sizeof(err)));
    assert_non_null(strstr(err, ": bind: No such file or directory"));
    t2s_config_free(cfg);
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
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_bad_paths),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
