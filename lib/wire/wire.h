/*
 * The wire cursor: every byte that comes off the network is read through a
 * wire_reader, and every message is written through a wire_writer. Both keep a sticky
 * error: after the first out-of-bounds access every read returns zero (or an empty
 * sub-cursor) and every write is dropped, so a parser checks once, at the end.
 *
 * Neither owns its bytes: the caller keeps the buffer alive while the cursor is used.
 */
#ifndef DTLS_WIRE_H
#define DTLS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/guard.h"

struct wire_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	bool err;
};

static inline struct wire_reader wire_reader(const uint8_t *buf, size_t len)
{
	return (struct wire_reader){ .buf = buf, .len = len };
}

static inline size_t wire_left(const struct wire_reader *r)
{
	return r->err ? 0 : r->len - r->off;
}

static inline bool wire_ok(const struct wire_reader *r)
{
	return !r->err;
}

/* 0 if no error occurred and every byte was consumed, else DTLS_ERR_DECODE. */
MUST_CHECK static inline int wire_end(const struct wire_reader *r)
{
	return (!r->err && r->off == r->len) ? DTLS_OK : DTLS_ERR_DECODE;
}

/* 0 if no error occurred (bytes may remain), else DTLS_ERR_DECODE. */
MUST_CHECK static inline int wire_check(const struct wire_reader *r)
{
	return r->err ? DTLS_ERR_DECODE : DTLS_OK;
}

uint8_t wire_u8(struct wire_reader *r);
uint16_t wire_u16(struct wire_reader *r);
uint32_t wire_u24(struct wire_reader *r);
uint32_t wire_u32(struct wire_reader *r);
uint64_t wire_u48(struct wire_reader *r);
uint64_t wire_u64(struct wire_reader *r);

/* The next n bytes, or NULL (and the error set) if fewer remain. */
const uint8_t *wire_bytes(struct wire_reader *r, size_t n);

/* Copies the next n bytes to dst; on error dst is zeroed. */
void wire_copy(struct wire_reader *r, void *dst, size_t n);

/* Skips n bytes. */
void wire_skip(struct wire_reader *r, size_t n);

/* All bytes left, consuming them; *n receives the count. */
const uint8_t *wire_rest(struct wire_reader *r, size_t *n);

/* A sub-cursor over a vector with a 1-, 2- or 3-byte length prefix. */
struct wire_reader wire_vec8(struct wire_reader *r);
struct wire_reader wire_vec16(struct wire_reader *r);
struct wire_reader wire_vec24(struct wire_reader *r);

/* A sub-cursor over the next n bytes. */
struct wire_reader wire_sub(struct wire_reader *r, size_t n);

/* Offset of the cursor in its buffer (for in-place processing by the record layer). */
static inline size_t wire_offset(const struct wire_reader *r)
{
	return r->off;
}

struct wire_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool err;
};

static inline struct wire_writer wire_writer(uint8_t *buf, size_t cap)
{
	return (struct wire_writer){ .buf = buf, .cap = cap };
}

/* Bytes written, or DTLS_ERR_BUFFER if the buffer overflowed. */
MUST_CHECK static inline int wire_written(const struct wire_writer *w, size_t *len)
{
	if (w->err)
		return DTLS_ERR_BUFFER;
	*len = w->len;
	return DTLS_OK;
}

void wire_put_u8(struct wire_writer *w, uint8_t v);
void wire_put_u16(struct wire_writer *w, uint16_t v);
void wire_put_u24(struct wire_writer *w, uint32_t v);
void wire_put_u32(struct wire_writer *w, uint32_t v);
void wire_put_u48(struct wire_writer *w, uint64_t v);
void wire_put_u64(struct wire_writer *w, uint64_t v);
void wire_put_bytes(struct wire_writer *w, const void *p, size_t n);

/* Reserves n bytes and returns them for the caller to fill, or NULL on overflow. */
uint8_t *wire_reserve(struct wire_writer *w, size_t n);

/*
 * Length-prefixed vectors: wire_open_vec reserves a prefix of `prefix` bytes (1, 2 or 3)
 * and returns a mark; wire_close_vec fills the prefix with the length written since.
 */
size_t wire_open_vec(struct wire_writer *w, unsigned prefix);
void wire_close_vec(struct wire_writer *w, size_t mark, unsigned prefix);

/* Writes a whole vector with its prefix. */
void wire_put_vec(struct wire_writer *w, unsigned prefix, const void *p, size_t n);

/* Big-endian stores and loads for fixed-size fields of buffers the caller already owns. */
void wire_store_u16(uint8_t out[static 2], uint16_t v);
void wire_store_u48(uint8_t out[static 6], uint64_t v);
void wire_store_u64(uint8_t out[static 8], uint64_t v);

#endif
