/*
 * Option values: decimal numbers, booleans, ADDR/PREFIX, sizes with K/M/G,
 * and the one-line error every parser of lib/config and tun2socks/ returns.
 * Pure: no I/O, no allocation, no logging.
 */
#ifndef T2S_VALUE_H
#define T2S_VALUE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes one line (printf format) into err (errlen bytes, may be 0) and
 * returns -1, so a parser can `return t2s_value_err(...)`.
 */
int t2s_value_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * s as an unsigned number in [min, max]: base 10 (a leading 0 is not
 * octal), or base 0 for masks (0x allowed). No sign, no blanks, nothing
 * after the digits. Returns 0 or -1.
 */
int t2s_value_ulong(const char *s, int base, unsigned long min,
                    unsigned long max, unsigned long *out);

/* 1/yes/true/on or 0/no/false/off, any case. Returns 0 or -1. */
int t2s_value_bool(const char *s, int *out);

/*
 * "ADDR/PREFIX" of family (AF_INET, AF_INET6) into bin (4 or 16 bytes,
 * network order) and *prefix (1..32 or 1..128). Returns 0 or -1 with one
 * line in err.
 */
int t2s_value_prefix(const char *v, int family, uint8_t *bin, unsigned *prefix,
                     char *err, size_t errlen);

/*
 * A count (decimal, 0..max) into *out. On error one line naming what
 * ("--max-conns").
 */
int t2s_value_count(const char *what, unsigned long max, const char *v,
                    unsigned *out, char *err, size_t errlen);

/*
 * Whole seconds in [min, max] into *ms (milliseconds; max at most
 * UINT_MAX / 1000). On error one line naming what ("--udp-timeout").
 */
int t2s_value_seconds(const char *what, unsigned long min, unsigned long max,
                      const char *v, unsigned *ms, char *err, size_t errlen);

/*
 * Bytes, or a number with K, M or G (powers of 1024, at most 1 TiB), at
 * least 1 MiB. Returns 0 or -1.
 */
int t2s_value_size(const char *v, uint64_t *out);

/*
 * Writes a size as t2s_value_size() reads it back: with the largest unit
 * that divides it exactly.
 */
void t2s_value_size_format(uint64_t bytes, char *out, size_t outlen);

#endif
