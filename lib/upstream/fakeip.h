/*
 * Fake-IP pool: maps domain names to addresses from a private IPv4 range
 * and (optionally) an IPv6 range, and back. Entry i owns the i-th address
 * of both ranges, so a name's A and AAAA answers share one entry.
 *
 * When the pool is full, the least recently used entry with no references
 * is recycled, if it was last used at least min_age seconds ago (an app
 * may still hold an answer that young in its cache); entries referenced by
 * live sessions (t2s_fakeip_ref) are never recycled. Lookups in both directions
 * are O(1) on average (a hash table on names; addresses are an index). Memory:
 * one fixed array of entries plus the names, allocated at init; no allocation
 * afterwards.
 */
#ifndef T2S_FAKEIP_H
#define T2S_FAKEIP_H

#include <stddef.h>
#include <stdint.h>

struct t2s_fakeip; /* opaque */

/*
 * net4/prefix4: IPv4 range (network order bytes), prefix 8..30; the first
 * and last address of the range are not handed out. net6/prefix6: IPv6
 * range or NULL for none, prefix 8..126 (same exclusions; addresses are
 * handed out from the start of the range). min_age starts at 0. The number of
 * entries is the number of usable IPv4 addresses, capped at max_entries
 * (and at the usable IPv6 addresses). Host bits set in net4/net6 are
 * ignored. Returns NULL on bad arguments (including max_entries 0) or out
 * of memory.
 */
struct t2s_fakeip *t2s_fakeip_new(const uint8_t net4[4], unsigned prefix4,
                                  const uint8_t *net6, unsigned prefix6,
                                  size_t max_entries);
void t2s_fakeip_free(struct t2s_fakeip *f);

/*
 * The pool's clock: seconds from any origin, advanced by the caller before
 * lookups (t2s_fakeip_clock() gives a monotonic one); it never goes back.
 * Entries used (looked up, or unreferenced) less than min_age seconds
 * before it are not recycled.
 */
void t2s_fakeip_tick(struct t2s_fakeip *f, uint32_t now);
void t2s_fakeip_set_min_age(struct t2s_fakeip *f, uint32_t seconds);
uint32_t t2s_fakeip_clock(void);

/*
 * Entry for name (lowercase, no trailing dot, 1..255 chars), creating it
 * (recycling the LRU unreferenced entry) if needed, and marking it most
 * recently used. Returns the entry index, or -1 when every entry is
 * referenced or too young to recycle. addr4 (4 bytes) / addr6 (16 bytes, only
 * if the pool has an IPv6 range; otherwise left untouched) receive the entry's
 * addresses when not NULL. Referenced entries do not move in the LRU order;
 * dropping the last reference makes an entry the most recently used.
 */
long t2s_fakeip_lookup_name(struct t2s_fakeip *f, const char *name,
                            size_t name_len, uint8_t *addr4, uint8_t *addr6);

/*
 * Entry owning a fake address (family AF_INET with 4 bytes or AF_INET6 with
 * 16 bytes), or -1 if the address is not in the pool or not in use. Marks
 * it most recently used.
 */
long t2s_fakeip_lookup_addr(struct t2s_fakeip *f, int family,
                            const uint8_t *addr);

/*
 * Is the address inside one of the pool's ranges (in use or not, including
 * the network and last addresses and those beyond the capacity)?
 */
int t2s_fakeip_contains(const struct t2s_fakeip *f, int family,
                        const uint8_t *addr);

/*
 * Name of an in-use entry (NUL-terminated) and its length; NULL (len 0)
 * for an entry not in use. Valid until the entry is recycled.
 */
const char *t2s_fakeip_name(const struct t2s_fakeip *f, long entry,
                            size_t *len);

/*
 * Pin / unpin an entry for as long as a session uses it. Counted; unref
 * at zero and calls on entries not in use are no-ops.
 */
void t2s_fakeip_ref(struct t2s_fakeip *f, long entry);
void t2s_fakeip_unref(struct t2s_fakeip *f, long entry);

/* References an entry holds now (0 for an entry not in use). */
uint32_t t2s_fakeip_refs(const struct t2s_fakeip *f, long entry);

/* Number of entries in the pool, and in use. */
size_t t2s_fakeip_capacity(const struct t2s_fakeip *f);
size_t t2s_fakeip_used(const struct t2s_fakeip *f);
/* Non-zero when the pool has an IPv6 range. */
int t2s_fakeip_has_v6(const struct t2s_fakeip *f);

#endif
