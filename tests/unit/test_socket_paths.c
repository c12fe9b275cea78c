/*
 * The two Unix socket options, protect-path and stats-socket: set through
 * t2s_config_set() and a config file, written back by t2s_config_get(),
 * unset by an empty value in a file; a path that does not fit sun_path
 * (107 bytes and its NUL) or an empty one is one clear error line.
 */
#include "config_test.h"

static const char *const keys[] = {"protect-path", "stats-socket"};

static char *
field(struct t2s_config *c, int i)
{
    return i == 0 ? c->protect_path : c->stats_socket;
}

static void
test_set_get(void **state)
{
    struct t2s_config c;
    char longest[108], out[256];

    (void)state;
    memset(longest, 'p', 107);
    longest[107] = '\0';
    for (int i = 0; i < 2; i++) {
        t2s_config_init(&c);
        assert_string_equal(field(&c, i), "");
        assert_int_equal(t2s_config_get(&c, keys[i], 0, out, sizeof(out)), 1);
        assert_string_equal(out, "");
        assert_int_equal(
            t2s_config_set(&c, keys[i], "protect_path", err, sizeof(err)), 0);
        assert_string_equal(field(&c, i), "protect_path");
        assert_int_equal(t2s_config_set(&c, keys[i], longest, err, sizeof(err)),
                         0);
        assert_int_equal(t2s_config_get(&c, keys[i], 0, out, sizeof(out)), 1);
        assert_string_equal(out, longest);
        assert_int_equal(t2s_config_get(&c, keys[i], 1, out, sizeof(out)), 0);
    }
}

static void
test_bad_paths(void **state)
{
    struct t2s_config c;
    char too_long[200];

    (void)state;
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    for (int i = 0; i < 2; i++) {
        t2s_config_init(&c);
        assert_int_equal(
            t2s_config_set(&c, keys[i], "/run/ok.sock", err, sizeof(err)), 0);
        too_long[108] = '\0'; /* one byte more than sun_path holds */
        assert_int_equal(
            t2s_config_set(&c, keys[i], too_long, err, sizeof(err)), -1);
        assert_non_null(strstr(err, keys[i]));
        assert_non_null(strstr(err, "1..107 bytes"));
        assert_null(strchr(err, '\n'));
        too_long[108] = 'x';
        assert_int_equal(
            t2s_config_set(&c, keys[i], too_long, err, sizeof(err)), -1);
        assert_true(strlen(err) < 120); /* the path is cut in the message */
        assert_int_equal(t2s_config_set(&c, keys[i], "", err, sizeof(err)), -1);
        assert_string_equal(field(&c, i), "/run/ok.sock"); /* unchanged */
    }
}

static void
test_config_file(void **state)
{
    struct t2s_config c;
    char *path;

    (void)state;
    t2s_config_init(&c);
    path = write_temp("protect-path = protect_path\n"
                      "stats-socket = /run/t2s/stats.sock\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(c.protect_path, "protect_path");
    assert_string_equal(c.stats_socket, "/run/t2s/stats.sock");
    path = write_temp("protect-path =\nstats-socket =\n");
    assert_int_equal(t2s_config_load_file(&c, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(c.protect_path, "");
    assert_string_equal(c.stats_socket, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_config_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
