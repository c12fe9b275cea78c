/*
 * Fault injection, TEST-ONLY: compiled in only with the CMake option
 * T2S_FAULT_INJECTION (which defines the macro of the same name); without
 * it this header declares nothing and the hooks in mem.c, stack.c and
 * instance.c are compiled out, so release builds pay nothing. The switches
 * live in fault.c.
 *
 * The test thread arms a fault, the loop thread hits it (atomics). Two
 * injection points:
 *   allocations  every t2s_mem_alloc/calloc/realloc (so every lwIP
 *                allocation, every session, block and buffer) can be made
 *                to fail: the Nth one from now, or all of them for a while;
 *   TUN writes   stack.c's tun_write() fails with a chosen errno (EAGAIN,
 *                ENOBUFS) for the next K packets, as a full TUN queue would.
 * and one trigger: the loop trips a real LWIP_ASSERT (lwip_guard.h).
 * Also: the stats socket's sends can be made to find the client's buffer
 * full (EAGAIN), as a client that never reads a long answer would.
 */
#ifndef T2S_FAULT_H
#define T2S_FAULT_H

#ifdef T2S_FAULT_INJECTION

/* The nth allocation from now fails (1: the next one), once; 0 disarms. */
void t2s_fault_alloc_fail_after(long n);
/* Nonzero: every allocation fails until called again with 0. */
void t2s_fault_alloc_fail_all(int on);
/* Allocations attempted since the process started (failed ones too). */
long t2s_fault_alloc_count(void);
/* Allocations made to fail so far. */
long t2s_fault_alloc_failed(void);

/* The next k TUN writes fail with errno err (k = 0 disarms). */
void t2s_fault_tun_write_fail(int err, long k);

/* The loop's next stats request (t2s_request_stats_log) makes lwIP fail an
 * assertion (pbuf_free(NULL)): t2s_run() then returns T2S_RUN_ERR_INTERNAL
 * and lwIP stays unusable for the rest of the process. */
void t2s_fault_lwip_assert(void);

/* Nonzero: every send of the stats socket (api/stats_socket.c) fails
 * with EAGAIN until called again with 0. */
void t2s_fault_stats_send_block(int on);
int t2s_fault_stats_send_hit(void);

/* For the hooks: nonzero if this allocation must fail / the errno this
 * TUN write must fail with (0: write normally). Loop thread. */
int t2s_fault_alloc_hit(void);
int t2s_fault_tun_write_hit(void);
/* Nonzero once after t2s_fault_lwip_assert(). */
int t2s_fault_lwip_assert_hit(void);

#endif

#endif
