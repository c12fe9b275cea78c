/* jni/jni_split.c: run()'s argument string into words, as a shell would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jni_split.h"

/* s splits into the n words of want (after argv[0] = "prog"). */
static void
expect_words(const char *s, const char *const *want, int n)
{
    struct t2s_jni_split sp;
    char err[128] = "";

    assert_int_equal(t2s_jni_split("prog", s, &sp, err, sizeof(err)), 0);
    assert_int_equal(sp.argc, n + 1);
    assert_string_equal(sp.argv[0], "prog");
    for (int i = 0; i < n; i++)
        assert_string_equal(sp.argv[i + 1], want[i]);
    assert_null(sp.argv[n + 1]);
    t2s_jni_split_free(&sp);
}

static void
expect_error(const char *s, const char *text)
{
    struct t2s_jni_split sp;
    char err[128] = "";

    assert_int_equal(t2s_jni_split("prog", s, &sp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, text));
    assert_null(sp.argv);
}

static void
test_blanks(void **state)
{
    const char *const w[] = {"--tun-fd", "5", "--proxy", "socks5://h:1"};

    (void)state;
    expect_words("--tun-fd 5 --proxy socks5://h:1", w, 4);
    expect_words("  --tun-fd\t5 \n --proxy   socks5://h:1  ", w, 4);
    expect_words("", w, 0);
    expect_words(" \t\n", w, 0);
}

static void
test_quotes(void **state)
{
    const char *const a[] = {"a b", "c"};
    const char *const b[] = {"it's", "x\"y"};
    const char *const c[] = {"$HOME", "~", "*"};
    const char *const d[] = {"", "ab"};
    const char *const e[] = {"a\\b", "\"$`\\"};

    (void)state;
    expect_words("'a b' c", a, 2);
    expect_words("\"a b\" c", a, 2);
    expect_words("a\\ b c", a, 2);
    expect_words("it\\'s x\\\"y", b, 2);
    expect_words("\"it's\" 'x\"y'", b, 2);
    expect_words("$HOME ~ *", c, 3); /* no expansion */
    expect_words("'' a'b'", d, 2);
    /* inside double quotes a backslash escapes only " \ $ ` */
    expect_words("\"a\\b\" \"\\\"\\$\\`\\\\\"", e, 2);
}

static void
test_errors(void **state)
{
    (void)state;
    expect_error("--proxy 'socks5://x", "unterminated single quote");
    expect_error("--proxy \"socks5://x", "unterminated double quote");
    expect_error("a b\\", "ends with a backslash");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blanks),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
