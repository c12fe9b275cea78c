/*
 * Byte-level helpers shared by the test packet builders (component
 * support, fuzz harness): big-endian fields and the Internet checksum
 * (RFC 1071) as a running 16-bit sum and its folded complement.
 */
#ifndef T2S_TEST_WIRE_H
#define T2S_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

uint32_t wire_sum16(const uint8_t *b, size_t n, uint32_t sum);
uint16_t wire_fold(uint32_t sum);
void wire_put16(uint8_t *b, uint32_t v); /* the low 16 bits of v */
void wire_put32(uint8_t *b, uint32_t v);
uint16_t wire_get16(const uint8_t *b);
uint32_t wire_get32(const uint8_t *b);

#endif
