/*
 * The privilege drop of the program (tun2socks/privsep.c), in both of its
 * builds: with libcap-ng (T2S_HAVE_CAPNG) and without it (Android's NDK
 * has none; the armhf cross build of scripts/cross-test). Needs root for
 * the user change; skipped otherwise.
 */
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "privsep.h"

static int
setup_root(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("not root: the user change is not tested\n");
        skip();
    }
    if (getpwnam(t2s_privsep_default_user) == NULL) {
        print_message("no user %s\n", t2s_privsep_default_user);
        skip();
    }
    return 0;
}

/* --fwmark keeps CAP_NET_ADMIN across the change to --user: only
 * libcap-ng can; without it the plan refuses, before any setup. */
static void
test_plan_fwmark_with_user(void **state)
{
    struct t2s_config c;
    struct t2s_privsep p;
    char err[256] = "";
    int rc;

    (void)state;
    t2s_config_init(&c);
    c.fwmark = 7;
    rc = t2s_privsep_plan(&c, "nobody", &p, err, sizeof(err));
#ifdef T2S_HAVE_CAPNG
    assert_int_equal(rc, 0);
    assert_true(p.change_id);
    assert_true(p.keep_net_admin);
#else
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "--fwmark as --user nobody"));
    assert_non_null(strstr(err, "no libcap-ng"));
    assert_null(strchr(err, '\n'));
#endif
    /* as root, nothing is to be kept across a change: always fine */
    rc = t2s_privsep_plan(&c, "root", &p, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_false(p.change_id);
}

/* The effective capabilities (CapEff of /proc/self/status). */
static unsigned long long
cap_eff(void)
{
    char line[256];
    unsigned long long v = ~0ULL;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return v;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "CapEff: %llx", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* In a child (irreversible): the default user, its group, no
 * supplementary group, no capability left. Exit code: what failed. */
static int
drop_in_child(void)
{
    struct t2s_config c;
    struct t2s_privsep p;
    char err[256] = "";

    t2s_config_init(&c);
    if (t2s_privsep_plan(&c, "", &p, err, sizeof(err)) < 0 || !p.change_id)
        return 2;
    if (t2s_privsep_drop(&p, err, sizeof(err)) < 0) {
        fprintf(stderr, "drop: %s\n", err);
        return 3;
    }
    if (getuid() != p.uid || geteuid() != p.uid || getgid() != p.gid ||
        getegid() != p.gid)
        return 4;
    if (getgroups(0, NULL) != 0)
        return 5;
    if (cap_eff() != 0)
        return 6;
    if (setuid(0) == 0)
        return 7; /* root regained */
    return 0;
}

static void
test_drop_to_default_user(void **state)
{
    int status = 0;
    pid_t pid;

    (void)state;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(drop_in_child());
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plan_fwmark_with_user, setup_root),
        cmocka_unit_test_setup(test_drop_to_default_user, setup_root),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
