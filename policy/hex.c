/* Hex decoding for keys: no table lookups indexed by secret bytes. */
#include <errno.h>
#include <string.h>

#include "policy/hex.h"

/* The value of hex digit c, or -1. Arithmetic only, so the key's digits do not
 * choose memory addresses. */
static int digit(unsigned char c)
{
	int num = (int)c - '0', lower = ((int)c | 0x20) - 'a';
	int is_num = ((num >= 0) & (num <= 9));
	int is_alpha = ((lower >= 0) & (lower <= 5));

	return is_num ? num : is_alpha ? lower + 10 : -1;
}

int hex_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s);

	if (len == 0 || len % 2)
		return -EINVAL;
	if (len / 2 > cap || len / 2 > (size_t)0x7fffffff)
		return -E2BIG;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = digit((unsigned char)s[2 * i]), lo = digit((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			explicit_bzero(out, cap);
			return -EINVAL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}
