/*
 * Fake-IP pool.
 *
 * Layout, all allocated by t2s_fakeip_new and never afterwards:
 *
 * - entries[capacity]: hash chain link, LRU links, hash, refcount, name
 *   length (24 bytes each);
 * - names[capacity * 256]: entry i's NUL-terminated name at i * 256, room
 *   for any name the DNS codec can produce (at most 253 characters);
 * - buckets[pow2 >= capacity]: heads of the hash chains (4 bytes each).
 *
 * Everything is calloc'd and entries are handed out in index order (0, 1,
 * 2, ... until the pool is full, then only by recycling), so untouched
 * pages of a large pool are never written: resident memory follows the
 * number of entries in use, about 256 + 24 bytes each, while the address
 * space reserved is capacity * ~284 bytes (4.4 MiB for 16384 entries,
 * 17.7 MiB for 65536). Inline fixed-size names keep the code simple and
 * avoid any allocation or fragmentation after init; a variable-length name
 * arena would save memory only for pools much larger than any cache of
 * live names needs to be.
 *
 * Links are stored as index + 1 so that 0 (calloc's zero) means "none".
 *
 * The LRU list holds only unreferenced in-use entries, most recently used
 * first. Taking a reference removes an entry from the list; dropping the
 * last one puts it back at the front. So the entry to recycle is always
 * the list's tail, in O(1), and the list is empty exactly when every entry
 * is referenced.
 *
 * Every move to the front of the list stamps the entry with the pool's
 * clock, which never goes back: stamps fall from head to tail, so the
 * tail is also the oldest, and when it is younger than min_age so is
 * every other candidate (nothing is recycled, lookups of new names fail).
 *
 * Names are hashed with 32-bit FNV-1a: deterministic, so the layout is
 * reproducible in tests. (The names come from local applications, which
 * could collide their hashes on purpose only to slow their own lookups.)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "upstream/fakeip.h"

#define NAME_SLOT 256
#define NONE 0
#define LINK(i) ((uint32_t)(i) + 1)
#define INDEX(l) ((l)-1)

struct entry {
    uint32_t hnext; /* next in the hash chain */
    uint32_t prev;  /* LRU neighbours, while refs == 0 */
    uint32_t next;
    uint32_t hash;
    uint32_t refs;
    uint32_t stamp;   /* pool clock when last moved to the LRU front */
    uint8_t name_len; /* 1..255; in use iff index < used */
};

struct t2s_fakeip {
    uint32_t base4;   /* network address, host order */
    uint32_t mask4;   /* prefix mask, host order */
    uint8_t net6[16]; /* network address, host bits cleared */
    unsigned prefix6;
    uint32_t mask6; /* prefix mask of the last 32 bits */
    int has6;
    uint32_t clock;   /* seconds, t2s_fakeip_tick() */
    uint32_t min_age; /* seconds an entry is kept from recycling */
    size_t capacity;
    size_t used;
    uint32_t lru_head; /* most recently used unreferenced entry */
    uint32_t lru_tail; /* the next to recycle */
    uint32_t bucket_mask;
    uint32_t *buckets;
    struct entry *entries;
    char *names;
};

static uint32_t
fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Mask of the top prefix bits of a 32-bit word (prefix 0..32). */
static uint32_t
prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - prefix);
}

struct t2s_fakeip *
t2s_fakeip_new(const uint8_t net4[4], unsigned prefix4, const uint8_t *net6,
               unsigned prefix6, size_t max_entries)
{
    struct t2s_fakeip *f;
    uint64_t usable;
    size_t nb = 16;

    if (net4 == NULL || prefix4 < 8 || prefix4 > 30 || max_entries == 0)
        return NULL;
    if (net6 != NULL && (prefix6 < 8 || prefix6 > 126))
        return NULL;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    /* host bits set in the given network are ignored */
    f->mask4 = prefix_mask(prefix4);
    f->base4 = get32(net4) & f->mask4;
    usable = ((uint64_t)1 << (32 - prefix4)) - 2;
    if (net6 != NULL) {
        f->has6 = 1;
        f->prefix6 = prefix6;
        for (unsigned i = 0; i < 4; i++) {
            unsigned bits = prefix6 > 32 * i ? prefix6 - 32 * i : 0;

            put32(f->net6 + 4 * i,
                  get32(net6 + 4 * i) & prefix_mask(bits > 32 ? 32 : bits));
        }
        f->mask6 = prefix_mask(prefix6 > 96 ? prefix6 - 96 : 0);
        /* entry i owns the i-th address of both ranges; they vary in the
         * last 32 bits only (the IPv4 range is at most a /8) */
        if (128 - prefix6 < 32 && ((uint64_t)1 << (128 - prefix6)) - 2 < usable)
            usable = ((uint64_t)1 << (128 - prefix6)) - 2;
    }
    f->capacity = usable < max_entries ? (size_t)usable : max_entries;
    while (nb < f->capacity)
        nb *= 2;
    f->bucket_mask = (uint32_t)(nb - 1);
    f->buckets = calloc(nb, sizeof(*f->buckets));
    f->entries = calloc(f->capacity, sizeof(*f->entries));
    f->names = calloc(f->capacity, NAME_SLOT);
    if (f->buckets == NULL || f->entries == NULL || f->names == NULL) {
        t2s_fakeip_free(f);
        return NULL;
    }
    return f;
}

void
t2s_fakeip_free(struct t2s_fakeip *f)
{
    if (f == NULL)
        return;
    free(f->buckets);
    free(f->entries);
    free(f->names);
    free(f);
}

static char *
name_of(const struct t2s_fakeip *f, size_t i)
{
    return f->names + i * NAME_SLOT;
}

static void
lru_unlink(struct t2s_fakeip *f, uint32_t i)
{
    struct entry *e = &f->entries[i];

    if (e->prev != NONE)
        f->entries[INDEX(e->prev)].next = e->next;
    else
        f->lru_head = e->next;
    if (e->next != NONE)
        f->entries[INDEX(e->next)].prev = e->prev;
    else
        f->lru_tail = e->prev;
    e->prev = e->next = NONE;
}

static void
lru_push_front(struct t2s_fakeip *f, uint32_t i)
{
    struct entry *e = &f->entries[i];

    e->stamp = f->clock;
    e->prev = NONE;
    e->next = f->lru_head;
    if (f->lru_head != NONE)
        f->entries[INDEX(f->lru_head)].prev = LINK(i);
    else
        f->lru_tail = LINK(i);
    f->lru_head = LINK(i);
}

/* Marks an in-use entry most recently used (referenced ones are off-list). */
static void
touch(struct t2s_fakeip *f, uint32_t i)
{
    if (f->entries[i].refs == 0) {
        lru_unlink(f, i);
        lru_push_front(f, i);
    }
}

static void
hash_remove(struct t2s_fakeip *f, uint32_t i)
{
    uint32_t *link = &f->buckets[f->entries[i].hash & f->bucket_mask];

    while (*link != NONE) {
        if (*link == LINK(i)) {
            *link = f->entries[i].hnext;
            f->entries[i].hnext = NONE;
            return;
        }
        link = &f->entries[INDEX(*link)].hnext;
    }
}

static void
addresses(const struct t2s_fakeip *f, uint32_t i, uint8_t *addr4,
          uint8_t *addr6)
{
    if (addr4 != NULL)
        put32(addr4, f->base4 + 1 + i);
    if (addr6 != NULL && f->has6) {
        memcpy(addr6, f->net6, 12);
        put32(addr6 + 12, get32(f->net6 + 12) + 1 + i);
    }
}

long
t2s_fakeip_lookup_name(struct t2s_fakeip *f, const char *name, size_t name_len,
                       uint8_t *addr4, uint8_t *addr6)
{
    uint32_t h, link, i;
    struct entry *e;

    if (f == NULL || name == NULL || name_len == 0 || name_len >= NAME_SLOT)
        return -1;
    h = fnv1a(name, name_len);
    for (link = f->buckets[h & f->bucket_mask]; link != NONE;
         link = f->entries[INDEX(link)].hnext) {
        e = &f->entries[INDEX(link)];
        if (e->hash == h && e->name_len == name_len &&
            memcmp(name_of(f, INDEX(link)), name, name_len) == 0) {
            touch(f, INDEX(link));
            addresses(f, INDEX(link), addr4, addr6);
            return (long)INDEX(link);
        }
    }
    if (f->used < f->capacity) {
        i = (uint32_t)f->used++;
    } else {
        if (f->lru_tail == NONE)
            return -1; /* every entry is referenced */
        i = INDEX(f->lru_tail);
        if (f->clock - f->entries[i].stamp < f->min_age)
            return -1; /* the oldest is still young: so is every other */
        lru_unlink(f, i);
        hash_remove(f, i);
    }
    e = &f->entries[i];
    e->hash = h;
    e->refs = 0;
    e->name_len = (uint8_t)name_len;
    memcpy(name_of(f, i), name, name_len);
    name_of(f, i)[name_len] = '\0';
    e->hnext = f->buckets[h & f->bucket_mask];
    f->buckets[h & f->bucket_mask] = LINK(i);
    lru_push_front(f, i);
    addresses(f, i, addr4, addr6);
    return (long)i;
}

/* Is addr inside the IPv6 range (the first prefix6 bits match)? */
static int
in_prefix6(const struct t2s_fakeip *f, const uint8_t *addr)
{
    unsigned whole = f->prefix6 / 8, bits = f->prefix6 % 8;

    if (memcmp(addr, f->net6, whole) != 0)
        return 0;
    return bits == 0 || ((addr[whole] ^ f->net6[whole]) &
                         (uint8_t)(0xff << (8 - bits))) == 0;
}

/* Entry index an address would own, or -1 outside the usable range. */
static long
addr_index(const struct t2s_fakeip *f, int family, const uint8_t *addr,
           int *in_range)
{
    uint32_t a, base, mask;

    *in_range = 0;
    if (f == NULL || addr == NULL)
        return -1;
    if (family == AF_INET) {
        a = get32(addr);
        base = f->base4;
        mask = f->mask4;
    } else if (family == AF_INET6 && f->has6) {
        if (!in_prefix6(f, addr))
            return -1;
        if (memcmp(addr, f->net6, 12) != 0) {
            *in_range = 1; /* ours, but never handed out */
            return -1;
        }
        a = get32(addr + 12);
        base = get32(f->net6 + 12);
        mask = f->mask6;
    } else {
        return -1;
    }
    if ((a & mask) != base)
        return -1;
    *in_range = 1;
    /* the network address is 0, the last address is beyond capacity */
    a -= base;
    if (a == 0 || a > f->capacity)
        return -1;
    return (long)(a - 1);
}

long
t2s_fakeip_lookup_addr(struct t2s_fakeip *f, int family, const uint8_t *addr)
{
    int in_range;
    long i = addr_index(f, family, addr, &in_range);

    if (i < 0 || (size_t)i >= f->used)
        return -1;
    touch(f, (uint32_t)i);
    return i;
}

int
t2s_fakeip_contains(const struct t2s_fakeip *f, int family, const uint8_t *addr)
{
    int in_range;

    addr_index(f, family, addr, &in_range);
    return in_range;
}

static int
in_use(const struct t2s_fakeip *f, long entry)
{
    return f != NULL && entry >= 0 && (size_t)entry < f->used;
}

const char *
t2s_fakeip_name(const struct t2s_fakeip *f, long entry, size_t *len)
{
    if (!in_use(f, entry)) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = f->entries[entry].name_len;
    return name_of(f, (size_t)entry);
}

void
t2s_fakeip_ref(struct t2s_fakeip *f, long entry)
{
    struct entry *e;

    if (!in_use(f, entry))
        return;
    e = &f->entries[entry];
    if (e->refs == UINT32_MAX)
        return;
    if (e->refs++ == 0)
        lru_unlink(f, (uint32_t)entry);
}

void
t2s_fakeip_unref(struct t2s_fakeip *f, long entry)
{
    struct entry *e;

    if (!in_use(f, entry))
        return;
    e = &f->entries[entry];
    if (e->refs == 0)
        return;
    if (--e->refs == 0)
        lru_push_front(f, (uint32_t)entry);
}

void
t2s_fakeip_set_min_age(struct t2s_fakeip *f, uint32_t seconds)
{
    if (f != NULL)
        f->min_age = seconds;
}

void
t2s_fakeip_tick(struct t2s_fakeip *f, uint32_t now)
{
    if (f != NULL && (int32_t)(now - f->clock) > 0)
        f->clock = now;
}

uint32_t
t2s_fakeip_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_sec;
}

uint32_t
t2s_fakeip_refs(const struct t2s_fakeip *f, long entry)
{
    return in_use(f, entry) ? f->entries[entry].refs : 0;
}

size_t
t2s_fakeip_capacity(const struct t2s_fakeip *f)
{
    return f != NULL ? f->capacity : 0;
}

size_t
t2s_fakeip_used(const struct t2s_fakeip *f)
{
    return f != NULL ? f->used : 0;
}

int
t2s_fakeip_has_v6(const struct t2s_fakeip *f)
{
    return f->prefix6 != 0;
}
