/*
 * Constant-time helpers: the one place where secret-dependent comparisons and selections
 * are written. Callers accumulate `ok &= ...` and branch once at the end.
 */
#ifndef DTLS_CT_H
#define DTLS_CT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* All ones if a == b, else 0. */
static inline uint32_t ct_eq_u32(uint32_t a, uint32_t b)
{
	uint32_t x = a ^ b;
	return (uint32_t)0 - (uint32_t)(((x | (0u - x)) >> 31) ^ 1u);
}

/* All ones if a < b (both below 2^31), else 0. */
static inline uint32_t ct_lt_u32(uint32_t a, uint32_t b)
{
	return (uint32_t)0 - (uint32_t)((a - b) >> 31);
}

/* mask ? a : b, for mask all ones or all zeros. */
static inline uint32_t ct_select_u32(uint32_t mask, uint32_t a, uint32_t b)
{
	return (a & mask) | (b & ~mask);
}

static inline uint8_t ct_select_u8(uint32_t mask, uint8_t a, uint8_t b)
{
	return (uint8_t)ct_select_u32(mask, a, b);
}

/* 1 if the n bytes at a and b are equal, else 0; time depends on n only. */
static inline int ct_memeq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return (int)(1 & ((d - 1u) >> 8));
}

/* dst = mask ? src : dst, byte by byte, time independent of mask. */
static inline void ct_copy_if(uint32_t mask, uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = ct_select_u8(mask, src[i], dst[i]);
}

#endif
