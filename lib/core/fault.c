/*
 * Fault injection, TEST-ONLY (fault.h): the switches the tests set and the
 * hooks in mem.c, stack.c and instance.c read. Empty unless built with
 * T2S_FAULT_INJECTION.
 */
#include "core/fault.h"

#ifdef T2S_FAULT_INJECTION

/* Test-only (fault.h): allocations seen, the countdown to the one that
 * fails (0: none armed), "fail them all", failures injected. */
static long fault_seen, fault_countdown, fault_all, fault_failed;

void
t2s_fault_alloc_fail_after(long n)
{
    __atomic_store_n(&fault_countdown, n, __ATOMIC_SEQ_CST);
}

void
t2s_fault_alloc_fail_all(int on)
{
    __atomic_store_n(&fault_all, (long)on, __ATOMIC_SEQ_CST);
}

long
t2s_fault_alloc_count(void)
{
    return __atomic_load_n(&fault_seen, __ATOMIC_SEQ_CST);
}

long
t2s_fault_alloc_failed(void)
{
    return __atomic_load_n(&fault_failed, __ATOMIC_SEQ_CST);
}

int
t2s_fault_alloc_hit(void)
{
    int hit = __atomic_load_n(&fault_all, __ATOMIC_SEQ_CST) != 0 ||
              __atomic_sub_fetch(&fault_countdown, 1, __ATOMIC_SEQ_CST) == 0;

    __atomic_add_fetch(&fault_seen, 1, __ATOMIC_SEQ_CST);
    if (hit)
        __atomic_add_fetch(&fault_failed, 1, __ATOMIC_SEQ_CST);
    return hit;
}

/* Test-only (fault.h): the errno the next fault_tun_left writes fail with. */
static int fault_tun_errno;
static long fault_tun_left;

void
t2s_fault_tun_write_fail(int err, long k)
{
    __atomic_store_n(&fault_tun_errno, err, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fault_tun_left, k, __ATOMIC_SEQ_CST);
}

int
t2s_fault_tun_write_hit(void)
{
    if (__atomic_load_n(&fault_tun_left, __ATOMIC_SEQ_CST) <= 0)
        return 0;
    __atomic_sub_fetch(&fault_tun_left, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&fault_tun_errno, __ATOMIC_SEQ_CST);
}

static int fault_lwip_assert; /* the next stats request trips an assertion */

void
t2s_fault_lwip_assert(void)
{
    __atomic_store_n(&fault_lwip_assert, 1, __ATOMIC_RELAXED);
}

int
t2s_fault_lwip_assert_hit(void)
{
    return __atomic_exchange_n(&fault_lwip_assert, 0, __ATOMIC_RELAXED);
}

static int fault_stats_send; /* stats socket sends find a full buffer */

void
t2s_fault_stats_send_block(int on)
{
    __atomic_store_n(&fault_stats_send, on, __ATOMIC_SEQ_CST);
}

int
t2s_fault_stats_send_hit(void)
{
    return __atomic_load_n(&fault_stats_send, __ATOMIC_SEQ_CST);
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int t2s_fault_unused;
#endif
