/* Unit tests for the intrusive list every session kind is linked with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/list.h"

struct item {
    int value;
    struct t2s_list link;
};

static int
values(struct t2s_list *h, int *out, int cap)
{
    int n = 0;

    for (struct t2s_list *p = h->next; p != h && n < cap; p = p->next)
        out[n++] = T2S_CONTAINER_OF(p, struct item, link)->value;
    return n;
}

static void
test_add_first_and_delete_anywhere(void **state)
{
    struct t2s_list h;
    struct item it[3] = {{.value = 1}, {.value = 2}, {.value = 3}};
    int got[4];

    (void)state;
    t2s_list_init(&h);
    assert_true(t2s_list_empty(&h));
    assert_null(t2s_list_first(&h));
    for (int i = 0; i < 3; i++)
        t2s_list_add(&h, &it[i].link);
    assert_int_equal(values(&h, got, 4), 3);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 2);
    assert_int_equal(got[2], 1);
    t2s_list_del(&it[1].link); /* the middle */
    assert_int_equal(values(&h, got, 4), 2);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 1);
    assert_ptr_equal(t2s_list_first(&h), &it[2].link);
    t2s_list_del(&it[2].link);
    t2s_list_del(&it[0].link);
    assert_true(t2s_list_empty(&h));
}

/* Deleting twice, or moving a node from one list to another, is safe:
 * the close path relies on it. */
static void
test_delete_twice_and_move(void **state)
{
    struct t2s_list live, dead;
    struct item a = {.value = 7};
    int got[2];

    (void)state;
    t2s_list_init(&live);
    t2s_list_init(&dead);
    t2s_list_add(&live, &a.link);
    t2s_list_del(&a.link);
    t2s_list_del(&a.link);
    assert_true(t2s_list_empty(&live));
    t2s_list_add(&dead, &a.link);
    assert_int_equal(values(&dead, got, 2), 1);
    assert_int_equal(got[0], 7);
    assert_true(t2s_list_empty(&live));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_first_and_delete_anywhere),
        cmocka_unit_test(test_delete_twice_and_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
