/* Unit tests for the fake-IP pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "upstream/fakeip.h"

static const uint8_t net10[4] = {10, 0, 0, 0};
static const uint8_t fd00[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                 0,    0, 0, 0, 0, 0, 0, 0};

static long
lookup(struct t2s_fakeip *f, const char *name, uint8_t *a4, uint8_t *a6)
{
    return t2s_fakeip_lookup_name(f, name, strlen(name), a4, a6);
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* Is some in-use entry named name? Looks without touching the LRU. */
static long
find_by_scan(const struct t2s_fakeip *f, const char *name)
{
    for (size_t i = 0; i < t2s_fakeip_used(f); i++) {
        size_t len;
        const char *n = t2s_fakeip_name(f, (long)i, &len);

        assert_non_null(n);
        if (len == strlen(name) && strcmp(n, name) == 0)
            return (long)i;
    }
    return -1;
}

/* The invariant: the references of all entries add up to the holders. */
static void
check_refs(const struct t2s_fakeip *f, uint64_t holders)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < t2s_fakeip_capacity(f); i++)
        sum += t2s_fakeip_refs(f, (long)i);
    assert_int_equal(sum, holders);
}

/* /29 and /125: six entries. */
static struct t2s_fakeip *
small_pool(void)
{
    struct t2s_fakeip *f = t2s_fakeip_new(net10, 29, fd00, 125, 1000);

    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 6);
    return f;
}

static void
test_same_name_same_entry(void **state)
{
    struct t2s_fakeip *f = t2s_fakeip_new(net10, 24, fd00, 120, 1000);
    uint8_t a4[4], a6[16], b4[4], b6[16];
    const char *name;
    size_t len;
    long e;

    (void)state;
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_used(f), 0);
    e = lookup(f, "example.com", a4, a6);
    assert_true(e >= 0);
    assert_int_equal(t2s_fakeip_used(f), 1);
    assert_int_equal(lookup(f, "example.com", b4, b6), e);
    assert_memory_equal(a4, b4, 4);
    assert_memory_equal(a6, b6, 16);
    assert_int_equal(t2s_fakeip_used(f), 1);
    name = t2s_fakeip_name(f, e, &len);
    assert_string_equal(name, "example.com");
    assert_int_equal(len, 11);
    /* a prefix of the name is another name */
    assert_int_not_equal(lookup(f, "example.co", b4, NULL), e);
    assert_memory_not_equal(a4, b4, 4);
    t2s_fakeip_free(f);
}

static void
test_addresses_distinct_and_in_range(void **state)
{
    struct t2s_fakeip *f = t2s_fakeip_new(net10, 24, fd00, 120, 1000);
    uint8_t seen4[256] = {0}, seen6[256] = {0};
    char name[32];

    (void)state;
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 254);
    for (int i = 0; i < 254; i++) {
        uint8_t a4[4], a6[16];
        long e;

        snprintf(name, sizeof(name), "host%d.test", i);
        e = lookup(f, name, a4, a6);
        assert_int_equal(e, i);
        assert_memory_equal(a4, net10, 3);
        assert_memory_equal(a6, fd00, 15);
        assert_in_range(a4[3], 1, 254);
        assert_in_range(a6[15], 1, 254);
        assert_int_equal(seen4[a4[3]]++, 0);
        assert_int_equal(seen6[a6[15]]++, 0);
        assert_int_equal(a4[3], a6[15]); /* one entry, both families */
    }
    assert_int_equal(t2s_fakeip_used(f), 254);
    t2s_fakeip_free(f);
}

static void
test_lookup_addr_round_trip(void **state)
{
    static const uint8_t net[4] = {198, 18, 0, 0};
    static const uint8_t net6[16] = {0xfd, 0xfe, 1, 2,  3, 4, 5, 6,
                                     7,    8,    9, 10, 0, 0, 0, 0};
    struct t2s_fakeip *f = t2s_fakeip_new(net, 15, net6, 96, 70000);
    char name[32];

    (void)state;
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 70000);
    for (int i = 0; i < 300; i++) {
        uint8_t a4[4], a6[16];
        long e;

        snprintf(name, sizeof(name), "n%d.example", i);
        e = lookup(f, name, a4, a6);
        assert_true(e >= 0);
        assert_int_equal(get32(a4), (198u << 24 | 18u << 16) + 1 + (uint32_t)e);
        assert_memory_equal(a6, net6, 12);
        assert_int_equal(get32(a6 + 12), 1 + (uint32_t)e);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), e);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), e);
        assert_true(t2s_fakeip_contains(f, AF_INET, a4));
        assert_true(t2s_fakeip_contains(f, AF_INET6, a6));
        assert_string_equal(t2s_fakeip_name(f, e, NULL), name);
    }
    /* entries past 255 carry into the third byte */
    {
        uint8_t a4[4];
        long e = lookup(f, "n299.example", a4, NULL);

        assert_int_equal(e, 299);
        assert_int_equal(a4[2], 1);
        assert_int_equal(a4[3], 44);
    }
    t2s_fakeip_free(f);
}

static void
test_outside_range(void **state)
{
    struct t2s_fakeip *f = small_pool();
    uint8_t a4[4], a6[16];
    static const uint8_t out4[][4] = {
        {10, 0, 0, 8}, {10, 0, 1, 1}, {11, 0, 0, 1}, {9, 255, 255, 255}};
    uint8_t out6[16];

    (void)state;
    assert_int_equal(lookup(f, "a", a4, a6), 0);
    for (size_t i = 0; i < sizeof(out4) / sizeof(out4[0]); i++) {
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, out4[i]), -1);
        assert_false(t2s_fakeip_contains(f, AF_INET, out4[i]));
    }
    memcpy(out6, a6, 16);
    out6[15] = 8; /* past the /125 */
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, out6), -1);
    assert_false(t2s_fakeip_contains(f, AF_INET6, out6));
    memcpy(out6, a6, 16);
    out6[11] = 1; /* differs in the fixed 96 bits */
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, out6), -1);
    assert_false(t2s_fakeip_contains(f, AF_INET6, out6));
    /* an IPv4 address asked as the wrong family */
    assert_false(t2s_fakeip_contains(f, AF_UNIX, a4));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_UNIX, a4), -1);
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), 0);
    t2s_fakeip_free(f);
}

/* Inside the range but never handed out, or not yet in use. */
static void
test_reserved_and_unused_addresses(void **state)
{
    struct t2s_fakeip *f = small_pool();
    uint8_t a[4] = {10, 0, 0, 0}, a6[16];

    (void)state;
    assert_int_equal(lookup(f, "a", NULL, a6), 0);
    assert_true(t2s_fakeip_contains(f, AF_INET, a));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a), -1);
    a[3] = 7;
    assert_true(t2s_fakeip_contains(f, AF_INET, a));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a), -1);
    a[3] = 2; /* entry 1, not in use */
    assert_true(t2s_fakeip_contains(f, AF_INET, a));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a), -1);
    a[3] = 1;
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a), 0);
    a6[15] = 0;
    assert_true(t2s_fakeip_contains(f, AF_INET6, a6));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), -1);
    a6[15] = 7;
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), -1);
    a6[15] = 1;
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), 0);
    t2s_fakeip_free(f);
}

static void
test_no_ipv6_range(void **state)
{
    struct t2s_fakeip *f = t2s_fakeip_new(net10, 29, NULL, 0, 100);
    uint8_t a6[16], zero[16] = {0};

    (void)state;
    assert_non_null(f);
    memset(a6, 0, sizeof(a6));
    assert_int_equal(lookup(f, "a", NULL, a6), 0);
    assert_memory_equal(a6, zero, 16); /* left alone */
    assert_false(t2s_fakeip_contains(f, AF_INET6, zero));
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, zero), -1);
    t2s_fakeip_free(f);
}

static void
test_capacity_limits(void **state)
{
    static const uint8_t net_host_bits[4] = {10, 0, 0, 5};
    struct t2s_fakeip *f;
    uint8_t a4[4];

    (void)state;
    f = t2s_fakeip_new(net10, 16, NULL, 0, 100);
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 100);
    memcpy(a4, ((const uint8_t[]){10, 0, 0, 101}), 4);
    assert_true(t2s_fakeip_contains(f, AF_INET, a4));
    for (int i = 0; i < 101; i++) {
        char name[16];

        snprintf(name, sizeof(name), "h%d", i);
        assert_int_equal(lookup(f, name, NULL, NULL), i % 100);
    }
    assert_int_equal(t2s_fakeip_used(f), 100);
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), -1);
    a4[3] = 100;
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), 99);
    t2s_fakeip_free(f);

    /* the IPv6 range caps the pool too: entry i owns both i-th addresses */
    f = t2s_fakeip_new(net10, 24, fd00, 126, 1000);
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 2);
    t2s_fakeip_free(f);
    f = t2s_fakeip_new(net10, 30, NULL, 0, 1000);
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 2);
    t2s_fakeip_free(f);
    f = t2s_fakeip_new(net10, 8, fd00, 96, 5);
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 5);
    t2s_fakeip_free(f);

    /* host bits in the network are ignored */
    f = t2s_fakeip_new(net_host_bits, 29, NULL, 0, 100);
    assert_non_null(f);
    assert_int_equal(lookup(f, "x", a4, NULL), 0);
    assert_memory_equal(a4, ((const uint8_t[]){10, 0, 0, 1}), 4);
    t2s_fakeip_free(f);
}

static void
test_bad_arguments(void **state)
{
    static const unsigned bad4[] = {0, 7, 31, 32, 33};
    static const unsigned bad6[] = {0, 7, 127, 128};

    (void)state;
    for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
        assert_null(t2s_fakeip_new(net10, bad4[i], NULL, 0, 100));
    for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++)
        assert_null(t2s_fakeip_new(net10, 24, fd00, bad6[i], 100));
    assert_null(t2s_fakeip_new(NULL, 24, NULL, 0, 100));
    assert_null(t2s_fakeip_new(net10, 24, NULL, 0, 0));
    t2s_fakeip_free(NULL);
}

static void
test_bad_names_and_entries(void **state)
{
    struct t2s_fakeip *f = small_pool();
    char big[257];
    size_t len = 99;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[256] = '\0';
    assert_int_equal(t2s_fakeip_lookup_name(f, "a", 0, NULL, NULL), -1);
    assert_int_equal(t2s_fakeip_lookup_name(f, NULL, 1, NULL, NULL), -1);
    assert_int_equal(t2s_fakeip_lookup_name(f, big, 256, NULL, NULL), -1);
    assert_int_equal(t2s_fakeip_used(f), 0);
    assert_int_equal(t2s_fakeip_lookup_name(f, big, 255, NULL, NULL), 0);
    assert_ptr_equal(t2s_fakeip_name(f, 0, &len), t2s_fakeip_name(f, 0, NULL));
    assert_int_equal(len, 255);
    assert_null(t2s_fakeip_name(f, 1, &len)); /* not in use */
    assert_int_equal(len, 0);
    assert_null(t2s_fakeip_name(f, -1, NULL));
    assert_null(t2s_fakeip_name(f, 6, NULL));
    t2s_fakeip_ref(f, -1);
    t2s_fakeip_ref(f, 5);
    t2s_fakeip_unref(f, 6);
    t2s_fakeip_free(f);
}

/* Pairs with equal 32-bit FNV-1a hashes share a chain and must not mix. */
static void
test_hash_collisions(void **state)
{
    static const char *const names[] = {"costarring", "liquid",   "declinate",
                                        "macallums",  "altarage", "zinke"};
    struct t2s_fakeip *f = small_pool();

    (void)state;
    for (long i = 0; i < 6; i++)
        assert_int_equal(lookup(f, names[i], NULL, NULL), i);
    for (long i = 5; i >= 1; i--)
        assert_int_equal(lookup(f, names[i], NULL, NULL), i);
    assert_int_equal(t2s_fakeip_used(f), 6);
    /* recycling "costarring" leaves its collision partner in the chain */
    assert_int_equal(lookup(f, "other", NULL, NULL), 0);
    assert_int_equal(find_by_scan(f, "costarring"), -1);
    assert_int_equal(lookup(f, "liquid", NULL, NULL), 1);
    /* the oldest now is "zinke"; its partner "altarage" stays */
    assert_int_equal(lookup(f, "costarring", NULL, NULL), 5);
    assert_int_equal(find_by_scan(f, "zinke"), -1);
    assert_int_equal(lookup(f, "altarage", NULL, NULL), 4);
    assert_int_equal(lookup(f, "liquid", NULL, NULL), 1);
    assert_int_equal(lookup(f, "costarring", NULL, NULL), 5);
    assert_int_equal(t2s_fakeip_used(f), 6);
    t2s_fakeip_free(f);
}

/* Fills the six entries with n0..n5, n0 least recently used. */
static void
fill_small(struct t2s_fakeip *f)
{
    char name[8];

    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        assert_int_equal(lookup(f, name, NULL, NULL), i);
    }
    assert_int_equal(t2s_fakeip_used(f), 6);
}

static void
test_lru_recycling(void **state)
{
    struct t2s_fakeip *f = small_pool();
    uint8_t a4[4], old4[4], a6[16];

    (void)state;
    fill_small(f);
    /* touch n0 by name and n1 by address: n2 becomes the oldest */
    assert_int_equal(lookup(f, "n0", NULL, NULL), 0);
    assert_int_equal(lookup(f, "n1", old4, NULL), 1);
    assert_int_equal(lookup(f, "n0", NULL, NULL), 0);
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, old4), 1);
    assert_int_equal(lookup(f, "n6", a4, a6), 2);
    assert_int_equal(t2s_fakeip_used(f), 6);
    assert_int_equal(find_by_scan(f, "n2"), -1);
    assert_int_equal(a4[3], 3);
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), 2);
    assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), 2);
    assert_string_equal(t2s_fakeip_name(f, 2, NULL), "n6");
    /* n2 asked again is a new entry: the oldest now is n3 */
    assert_int_equal(lookup(f, "n2", NULL, NULL), 3);
    assert_int_equal(find_by_scan(f, "n3"), -1);
    assert_int_equal(lookup(f, "n7", NULL, NULL), 4);
    assert_int_equal(lookup(f, "n8", NULL, NULL), 5);
    /* then n0 (touched before n1) */
    assert_int_equal(lookup(f, "n9", NULL, NULL), 0);
    assert_int_equal(lookup(f, "n10", NULL, NULL), 1);
    assert_int_equal(lookup(f, "n6", NULL, NULL), 2); /* still there */
    t2s_fakeip_free(f);
}

static void
test_referenced_never_recycled(void **state)
{
    struct t2s_fakeip *f = small_pool();

    (void)state;
    fill_small(f);
    t2s_fakeip_ref(f, 0);
    t2s_fakeip_ref(f, 1);
    t2s_fakeip_ref(f, 1);
    check_refs(f, 3);
    /* the oldest unreferenced is n2 */
    assert_int_equal(lookup(f, "x2", NULL, NULL), 2);
    for (long i = 2; i < 6; i++)
        t2s_fakeip_ref(f, i);
    check_refs(f, 7);
    assert_int_equal(lookup(f, "y", NULL, NULL), -1);
    assert_int_equal(t2s_fakeip_used(f), 6);
    assert_string_equal(t2s_fakeip_name(f, 0, NULL), "n0");
    assert_string_equal(t2s_fakeip_name(f, 2, NULL), "x2");
    /* known names are still found while everything is pinned */
    assert_int_equal(lookup(f, "n5", NULL, NULL), 5);

    /* n1 holds two references: one unref does not free it */
    t2s_fakeip_unref(f, 1);
    assert_int_equal(lookup(f, "y", NULL, NULL), -1);
    t2s_fakeip_unref(f, 1);
    assert_int_equal(lookup(f, "y", NULL, NULL), 1);
    t2s_fakeip_ref(f, 1);
    assert_int_equal(lookup(f, "z", NULL, NULL), -1);
    t2s_fakeip_unref(f, 4);
    assert_int_equal(lookup(f, "z", NULL, NULL), 4);
    t2s_fakeip_free(f);
}

/* An unref with no reference left must not be banked against a later ref. */
static void
test_unref_below_zero_is_noop(void **state)
{
    struct t2s_fakeip *f = small_pool();
    char name[8];

    (void)state;
    fill_small(f);
    t2s_fakeip_unref(f, 0);
    t2s_fakeip_unref(f, 0);
    t2s_fakeip_ref(f, 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_not_equal(lookup(f, name, NULL, NULL), 0);
    }
    assert_string_equal(t2s_fakeip_name(f, 0, NULL), "n0");
    /* with the others pinned, the unreferenced entry 0 is the one to go */
    for (long i = 1; i < 6; i++)
        t2s_fakeip_ref(f, i);
    assert_int_equal(lookup(f, "last", NULL, NULL), -1);
    t2s_fakeip_unref(f, 0);
    assert_int_equal(lookup(f, "last", NULL, NULL), 0);
    t2s_fakeip_free(f);
}

/* Dropping the last reference makes the entry the most recently used. */
static void
test_unref_moves_to_front(void **state)
{
    struct t2s_fakeip *f = small_pool();

    (void)state;
    fill_small(f);
    t2s_fakeip_ref(f, 0);
    assert_int_equal(lookup(f, "n0", NULL, NULL), 0);
    t2s_fakeip_unref(f, 0);
    for (int i = 1; i < 6; i++) {
        char name[8];

        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(lookup(f, name, NULL, NULL), i);
    }
    assert_int_equal(lookup(f, "m6", NULL, NULL), 0);
    t2s_fakeip_free(f);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* A slow, obviously right model of the pool: LRU by timestamps. */
struct model {
    size_t cap, used;
    uint64_t clock;
    char names[64][16];
    uint64_t stamp[64];
    unsigned refs[64];
};

static long
model_lookup(struct model *m, const char *name)
{
    long victim = -1;

    for (size_t i = 0; i < m->used; i++)
        if (strcmp(m->names[i], name) == 0) {
            m->stamp[i] = ++m->clock;
            return (long)i;
        }
    if (m->used < m->cap) {
        victim = (long)m->used++;
    } else {
        for (size_t i = 0; i < m->cap; i++)
            if (m->refs[i] == 0 &&
                (victim < 0 || m->stamp[i] < m->stamp[victim]))
                victim = (long)i;
        if (victim < 0)
            return -1;
    }
    strcpy(m->names[victim], name);
    m->stamp[victim] = ++m->clock;
    m->refs[victim] = 0;
    return victim;
}

/* Random lookups, address lookups, refs and unrefs against the model. */
static void
test_matches_model(void **state)
{
    static const uint8_t net[4] = {10, 1, 0, 0};
    struct t2s_fakeip *f = t2s_fakeip_new(net, 24, NULL, 0, 40);
    struct model m;

    (void)state;
    assert_non_null(f);
    memset(&m, 0, sizeof(m));
    m.cap = 40;
    for (int op = 0; op < 50000; op++) {
        uint32_t r = next_rand();
        char name[16];

        switch (r % 8) {
        case 0: { /* address lookup of a random entry, maybe unused */
            uint8_t a[4] = {10, 1, 0, (uint8_t)(1 + (r >> 8) % 45)};
            long want = a[3] - 1 < (int)m.used ? a[3] - 1 : -1;

            assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a), want);
            if (want >= 0)
                m.stamp[want] = ++m.clock;
            break;
        }
        case 1: /* ref */
            if (m.used > 0) {
                long e = (long)((r >> 8) % m.used);

                t2s_fakeip_ref(f, e);
                m.refs[e]++;
            }
            break;
        case 2:
        case 3: /* unref, sometimes of an unreferenced entry */
            if (m.used > 0) {
                long e = (long)((r >> 8) % m.used);

                t2s_fakeip_unref(f, e);
                if (m.refs[e] > 0 && --m.refs[e] == 0)
                    m.stamp[e] = ++m.clock;
            }
            break;
        default:
            snprintf(name, sizeof(name), "d%u.x", (r >> 8) % 120);
            assert_int_equal(lookup(f, name, NULL, NULL),
                             model_lookup(&m, name));
        }
        assert_int_equal(t2s_fakeip_used(f), m.used);
        {
            uint64_t holders = 0;

            for (size_t i = 0; i < m.used; i++)
                holders += m.refs[i];
            check_refs(f, holders);
        }
    }
    for (size_t i = 0; i < m.used; i++)
        assert_string_equal(t2s_fakeip_name(f, (long)i, NULL), m.names[i]);
    t2s_fakeip_free(f);
}

static void
check_consistent(struct t2s_fakeip *f)
{
    size_t used = t2s_fakeip_used(f);

    assert_true(used <= t2s_fakeip_capacity(f));
    for (size_t i = 0; i < used; i++) {
        size_t len;
        const char *n = t2s_fakeip_name(f, (long)i, &len);
        char copy[256];
        uint8_t a4[4], a6[16];

        assert_non_null(n);
        assert_int_equal(strlen(n), len);
        memcpy(copy, n, len + 1);
        assert_int_equal(t2s_fakeip_lookup_name(f, copy, len, a4, a6), (long)i);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), (long)i);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), (long)i);
        assert_int_equal(t2s_fakeip_used(f), used);
    }
}

static void
test_stress_hash_consistent(void **state)
{
    static const uint8_t net[4] = {100, 64, 0, 0};
    struct t2s_fakeip *f = t2s_fakeip_new(net, 20, fd00, 104, 1000);
    char name[64];

    (void)state;
    assert_non_null(f);
    assert_int_equal(t2s_fakeip_capacity(f), 1000);
    for (int op = 1; op <= 100000; op++) {
        uint32_t r = next_rand();
        uint8_t a4[4];
        size_t len;
        long e;

        /* 4500 names of varying lengths: about one lookup in five hits */
        len = (size_t)snprintf(name, sizeof(name), "%u.%.*s.example", r % 1500,
                               (int)((r >> 20) % 3) * 13,
                               "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
        e = t2s_fakeip_lookup_name(f, name, len, a4, NULL);
        assert_true(e >= 0 && e < 1000);
        assert_string_equal(t2s_fakeip_name(f, e, NULL), name);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET, a4), e);
        if (op % 10000 == 0)
            check_consistent(f);
    }
    assert_int_equal(t2s_fakeip_used(f), 1000);
    t2s_fakeip_free(f);
}

/* Entries used less than min_age seconds ago are never recycled: a full
 * pool of young entries refuses new names instead. */
static void
test_young_entries_kept(void **state)
{
    struct t2s_fakeip *f = small_pool();

    (void)state;
    t2s_fakeip_set_min_age(f, 120);
    t2s_fakeip_tick(f, 1000);
    fill_small(f); /* all used at 1000 */
    assert_int_equal(lookup(f, "new", NULL, NULL), -1);
    t2s_fakeip_tick(f, 1060);
    assert_int_equal(lookup(f, "n0", NULL, NULL), 0); /* n0 used at 1060 */
    t2s_fakeip_tick(f, 1119);
    assert_int_equal(lookup(f, "new", NULL, NULL), -1);
    assert_string_equal(t2s_fakeip_name(f, 1, NULL), "n1");
    t2s_fakeip_tick(f, 1120);
    assert_int_equal(lookup(f, "new", NULL, NULL), 1); /* the oldest, n1 */
    /* the clock never goes back: 1000 is read as 1120 */
    t2s_fakeip_tick(f, 1000);
    assert_int_equal(lookup(f, "new2", NULL, NULL), 2);
    /* an entry unreferenced now is young again */
    t2s_fakeip_ref(f, 3);
    t2s_fakeip_tick(f, 1170);
    t2s_fakeip_unref(f, 3);
    assert_int_equal(lookup(f, "new3", NULL, NULL), 4);
    assert_int_equal(lookup(f, "new4", NULL, NULL), 5);
    /* left: n0 (1060), new, new2 (1120), n3 (1170), new3/new4 (1170) */
    assert_int_equal(lookup(f, "new5", NULL, NULL), -1);
    t2s_fakeip_tick(f, 1180);
    assert_int_equal(lookup(f, "new5", NULL, NULL), 0);
    assert_int_equal(lookup(f, "new6", NULL, NULL), -1);
    t2s_fakeip_free(f);
}

/* Random use with a clock: whatever is recycled was idle for min_age, and
 * a refusal means every unreferenced entry is younger than that. */
static void
test_age_rule_random(void **state)
{
    enum { CAP = 40, AGE = 50 };
    static const uint8_t net[4] = {10, 2, 0, 0};
    struct t2s_fakeip *f = t2s_fakeip_new(net, 24, NULL, 0, CAP);
    uint32_t now = 5000, last[CAP] = {0};
    unsigned refs[CAP] = {0};
    char names[CAP][16];
    size_t used = 0;

    (void)state;
    assert_non_null(f);
    t2s_fakeip_set_min_age(f, AGE);
    for (int op = 0; op < 50000; op++) {
        uint32_t r = next_rand();
        long e;

        now += r % 4 == 0 ? (r >> 4) % 3 : 0;
        t2s_fakeip_tick(f, now);
        if (r % 7 == 0 && used > 0) {
            e = (long)((r >> 8) % used);
            t2s_fakeip_ref(f, e);
            refs[e]++;
        } else if (r % 7 == 1 && used > 0) {
            e = (long)((r >> 8) % used);
            t2s_fakeip_unref(f, e);
            if (refs[e] > 0 && --refs[e] == 0)
                last[e] = now;
        } else {
            char name[16];

            snprintf(name, sizeof(name), "a%u", (r >> 8) % 300);
            e = lookup(f, name, NULL, NULL);
            if (e < 0) {
                assert_int_equal(used, CAP);
                for (size_t i = 0; i < CAP; i++)
                    assert_true(refs[i] > 0 || now - last[i] < AGE);
                continue;
            }
            if ((size_t)e == used) {
                used++;
            } else if (strcmp(names[e], name) != 0) {
                assert_int_equal(refs[e], 0);
                assert_true(now - last[e] >= AGE);
            }
            snprintf(names[e], sizeof(names[e]), "%s", name);
            if (refs[e] == 0)
                last[e] = now;
        }
    }
    t2s_fakeip_free(f);
}

/* IPv6 pools of any prefix from /8: a /64 hands out its first addresses. */
static void
test_ipv6_short_prefixes(void **state)
{
    static const uint8_t fa4e[16] = {0xfd, 0, 0xfa, 0x4e, 0, 0, 0, 0,
                                     0,    0, 0,    0,    0, 0, 0, 0x77};
    static const uint8_t pfx[] = {8, 48, 64, 95, 96};
    uint8_t a6[16], other[16];

    (void)state;
    for (size_t k = 0; k < sizeof(pfx); k++) {
        struct t2s_fakeip *f = t2s_fakeip_new(net10, 16, fa4e, pfx[k], 1000);

        assert_non_null(f);
        assert_int_equal(t2s_fakeip_capacity(f), 1000);
        assert_int_equal(lookup(f, "a", NULL, a6), 0);
        assert_int_equal(lookup(f, "b", NULL, a6), 1);
        /* host bits of the network are cleared: ...::2 for entry 1 */
        memcpy(other, fa4e, 16);
        memset(other + pfx[k] / 8 + (pfx[k] % 8 != 0), 0,
               16 - pfx[k] / 8 - (pfx[k] % 8 != 0));
        if (pfx[k] % 8 != 0)
            other[pfx[k] / 8] &= (uint8_t)(0xff << (8 - pfx[k] % 8));
        other[15] = 2;
        assert_memory_equal(a6, other, 16);
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, a6), 1);
        /* inside the range, never handed out */
        other[15] = 1;
        other[12] ^= 1; /* beyond the capacity */
        assert_true(t2s_fakeip_contains(f, AF_INET6, other));
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, other), -1);
        /* just outside */
        memcpy(other, a6, 16);
        other[(pfx[k] - 1) / 8] ^= (uint8_t)(0x80 >> ((pfx[k] - 1) % 8));
        assert_false(t2s_fakeip_contains(f, AF_INET6, other));
        assert_int_equal(t2s_fakeip_lookup_addr(f, AF_INET6, other), -1);
        t2s_fakeip_free(f);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_name_same_entry),
        cmocka_unit_test(test_addresses_distinct_and_in_range),
        cmocka_unit_test(test_lookup_addr_round_trip),
        cmocka_unit_test(test_outside_range),
        cmocka_unit_test(test_reserved_and_unused_addresses),
        cmocka_unit_test(test_no_ipv6_range),
        cmocka_unit_test(test_capacity_limits),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bad_names_and_entries),
        cmocka_unit_test(test_hash_collisions),
        cmocka_unit_test(test_lru_recycling),
        cmocka_unit_test(test_referenced_never_recycled),
        cmocka_unit_test(test_unref_below_zero_is_noop),
        cmocka_unit_test(test_unref_moves_to_front),
        cmocka_unit_test(test_matches_model),
        cmocka_unit_test(test_stress_hash_consistent),
        cmocka_unit_test(test_young_entries_kept),
        cmocka_unit_test(test_age_rule_random),
        cmocka_unit_test(test_ipv6_short_prefixes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
