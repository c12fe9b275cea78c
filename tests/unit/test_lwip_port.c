/*
 * Unit tests for lwip-port/: how lwIP's diagnostics and assertions reach
 * the outside world (lwipopts.h, arch/cc.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lwip/debug.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"

#include "core/log.h"

/* lwIP tests LWIP_DEBUG with #ifdef: defining it, even as 0, compiles in
 * LWIP_DEBUGF and makes every LWIP_ERROR print its message. */
#ifdef LWIP_DEBUG
#error "LWIP_DEBUG must stay undefined (lwIP tests it with #ifdef)"
#endif

/* What fd 1 and fd 2 received while a function ran. */
struct capture {
    char out[4096];
    char err[4096];
};

static void
read_back(FILE *f, char *buf, size_t len)
{
    size_t n;

    rewind(f);
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void
capture_run(void (*fn)(void), struct capture *c)
{
    FILE *out = tmpfile(), *err = tmpfile();
    int saved_out, saved_err;

    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    saved_out = dup(1);
    saved_err = dup(2);
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(fileno(out), 1) == 1 && dup2(fileno(err), 2) == 2);
    fn();
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_out, 1) == 1 && dup2(saved_err, 2) == 2);
    close(saved_out);
    close(saved_err);
    read_back(out, c->out, sizeof(c->out));
    read_back(err, c->err, sizeof(c->err));
}

/* The program's sink (tun2socks/main.c): the library itself writes nothing. */
static void
log_to_stderr(int level, const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "tun2socks: %s: %s\n", t2s_log_level_name(level), line);
}

static int
setup(void **state)
{
    static int done;

    (void)state;
    if (!done)
        lwip_init();
    done = 1;
    t2s_log_attach(log_to_stderr, NULL, T2S_LOG_DEBUG);
    return 0;
}

static int removed_rc;

/* pbuf_remove_header() past the end of the pbuf takes an LWIP_ERROR path:
 * a handled error that must stay silent. */
static void
remove_too_much(void)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, 20, PBUF_RAM);

    assert_non_null(p);
    removed_rc = pbuf_remove_header(p, 21);
    pbuf_free(p);
}

static void
test_lwip_error_prints_nothing(void **state)
{
    struct capture c;

    (void)state;
    capture_run(remove_too_much, &c);
    assert_int_not_equal(removed_rc, 0);
    assert_string_equal(c.out, "");
    assert_string_equal(c.err, "");
}

static void
diag_line(void)
{
    LWIP_PLATFORM_DIAG(("diag %d\n", 42));
}

static void
test_diag_goes_to_the_log_not_stdout(void **state)
{
    struct capture c;

    (void)state;
    capture_run(diag_line, &c);
    assert_string_equal(c.out, "");
    assert_non_null(strstr(c.err, "tun2socks: debug: diag 42"));
}

static void
failing_assert(void)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        LWIP_ASSERT("fuzzers must never see this", 0);
        _exit(0); /* not reached while assertions are on */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* Assertions stay on, and a failed one is one error line in our log. */
static void
test_assert_logs_and_aborts(void **state)
{
    struct capture c;

    (void)state;
    capture_run(failing_assert, &c);
    assert_string_equal(c.out, "");
    assert_non_null(strstr(c.err, "tun2socks: error: lwIP assertion \"fuzzers "
                                  "must never see this\" failed at "));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lwip_error_prints_nothing, setup),
        cmocka_unit_test_setup(test_diag_goes_to_the_log_not_stdout, setup),
        cmocka_unit_test_setup(test_assert_logs_and_aborts, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
