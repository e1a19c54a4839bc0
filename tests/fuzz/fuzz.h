/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c) and the seed generator.
 *
 * Inputs that carry several datagrams or messages use one framing, so that seeds made by
 * tests/fuzz/seedgen.c and tests/fuzz/mkcorpus.py fit every engine target:
 *
 *   input  = head chunk*
 *   chunk  = meta(1) length(2, big-endian) bytes(length)
 *
 * A last chunk whose length runs past the input takes what is left. `head` is a number
 * of leading bytes a target reads first (its configuration choice), 0 to 2.
 */
#ifndef DTLS_FUZZ_H
#define DTLS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The keys the record target installs for epoch 1 (and the seed generator seals with). */
static const uint8_t fuzz_key[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};
static const uint8_t fuzz_iv[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t fuzz_mac_key[48] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
};

/* The PSK every engine target and the seed generator use. */
#define FUZZ_PSK_IDENTITY "fuzz-client"
static const uint8_t fuzz_psk[16] = { 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08,
				      0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00 };

/* The test PKI's certificates are valid around this time (see tests/fuzz/pki/README). */
#define FUZZ_WALL_CLOCK UINT64_C(1800000000)

/* The next chunk of an input; false when none is left. */
static inline bool fuzz_chunk(const uint8_t **data, size_t *size, uint8_t *meta, const uint8_t **chunk,
			      size_t *len)
{
	if (*size < 3)
		return false;
	*meta = (*data)[0];
	size_t n = (size_t)(*data)[1] << 8 | (*data)[2];
	*data += 3;
	*size -= 3;
	if (n > *size)
		n = *size;
	*chunk = *data;
	*len = n;
	*data += n;
	*size -= n;
	return true;
}

/* Appends one chunk to out (cap bytes, *len used); false if it does not fit. */
static inline bool fuzz_put_chunk(uint8_t *out, size_t cap, size_t *len, uint8_t meta, const uint8_t *p, size_t n)
{
	if (n > 0xffff || *len + 3 + n > cap)
		return false;
	out[*len] = meta;
	out[*len + 1] = (uint8_t)(n >> 8);
	out[*len + 2] = (uint8_t)n;
	if (n)
		memcpy(out + *len + 3, p, n);
	*len += 3 + n;
	return true;
}

#endif
