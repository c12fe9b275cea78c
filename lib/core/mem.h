/*
 * One memory budget for the whole process: every lwIP allocation (pcbs,
 * segments, the pbufs of TCP queues both ways and of UDP queues), the
 * blocks of proxy bytes, and each session's own state are counted against
 * one limit. lwIP is global, so the budget is too (one instance at a time).
 *
 * Three thresholds, from low to high:
 *   t2s_mem_admit()  new work (a TCP session, a UDP association, a DNS
 *                    query) is taken only below 7/8 of the limit;
 *   t2s_mem_over()   at the limit, data is shed: TUN packets that carry a
 *                    payload are dropped (the app retransmits them), reads
 *                    from proxies pause until memory is returned;
 *   the hard cap     1/8 above the limit no allocation succeeds: the
 *                    packets that free memory (ACKs, FINs, RSTs) and lwIP's
 *                    own control segments use the room between the two.
 * Nothing crashes when a threshold is reached: callers refuse or shed.
 *
 * Counters are loop-thread only, except the reads, which any thread may
 * do (relaxed atomics).
 */
#ifndef T2S_MEM_H
#define T2S_MEM_H

#include <stddef.h>

/* Bookkeeping charged on top of each counted allocation (our header and
 * the allocator's own), so that many tiny allocations cost what they
 * really cost. */
#define T2S_MEM_OVERHEAD 32

/* The limit in bytes; 0 restores "unlimited" (the state before any
 * instance sets one). */
void t2s_mem_set_limit(size_t limit);
size_t t2s_mem_limit(void);

/* A default for this machine: an eighth of the memory available to the
 * process (physical memory, or the cgroup's memory.max when lower),
 * between 32 MiB and 1 GiB. */
size_t t2s_mem_default_limit(void);

/* Bytes counted now, and the most ever counted since the last reset. */
size_t t2s_mem_used(void);
size_t t2s_mem_peak(void);
void t2s_mem_reset_peak(void);

/* Nonzero if new work may start / if data must be shed now. */
int t2s_mem_admit(void);
int t2s_mem_over(void);

/* Counted malloc/calloc/free: NULL when the allocation would pass the
 * hard cap (or malloc fails). t2s_mem_free(NULL) does nothing. */
void *t2s_mem_alloc(size_t n);
void *t2s_mem_calloc(size_t n, size_t size);
/* Counted like t2s_mem_alloc() but past the hard cap too (and never made
 * to fail by fault injection): for lwIP's timers only (our lwIP patch,
 * sys_timeout_abs()). A timer lost to a failed allocation is never re-armed:
 * lwIP's TCP timer would stop for good (no retransmission, no TIME_WAIT
 * expiry), and with lwIP's asserts on it aborts the process. There are at
 * most a handful of them, 32 bytes each. NULL only if malloc fails. */
void *t2s_mem_alloc_always(size_t n);
/* As realloc(3): on failure p is left as it was. */
void *t2s_mem_realloc(void *p, size_t n);
void t2s_mem_free(void *p);

/* For memory allocated elsewhere: charge n bytes (0, or -1 past the hard
 * cap, in which case nothing is charged) and give them back. */
int t2s_mem_charge(size_t n);
void t2s_mem_uncharge(size_t n);

#endif
