#include <string.h>

#include "wire/wire.h"

/* Claims n bytes; NULL (sticky error) if fewer remain. */
static const uint8_t *take(struct wire_reader *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->buf + r->off;
	r->off += n;
	return p;
}

static uint64_t read_be(struct wire_reader *r, size_t n)
{
	const uint8_t *p = take(r, n);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

uint8_t wire_u8(struct wire_reader *r) { return (uint8_t)read_be(r, 1); }
uint16_t wire_u16(struct wire_reader *r) { return (uint16_t)read_be(r, 2); }
uint32_t wire_u24(struct wire_reader *r) { return (uint32_t)read_be(r, 3); }
uint32_t wire_u32(struct wire_reader *r) { return (uint32_t)read_be(r, 4); }
uint64_t wire_u48(struct wire_reader *r) { return read_be(r, 6); }
uint64_t wire_u64(struct wire_reader *r) { return read_be(r, 8); }

const uint8_t *wire_bytes(struct wire_reader *r, size_t n)
{
	return take(r, n);
}

void wire_copy(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

void wire_skip(struct wire_reader *r, size_t n)
{
	(void)take(r, n);
}

const uint8_t *wire_rest(struct wire_reader *r, size_t *n)
{
	*n = wire_left(r);
	return r->err ? NULL : take(r, *n);
}

struct wire_reader wire_sub(struct wire_reader *r, size_t n)
{
	const uint8_t *p = take(r, n);
	if (!p)
		return (struct wire_reader){ .err = true };
	return wire_reader(p, n);
}

struct wire_reader wire_vec8(struct wire_reader *r)
{
	size_t n = wire_u8(r);
	return wire_sub(r, n);
}

struct wire_reader wire_vec16(struct wire_reader *r)
{
	size_t n = wire_u16(r);
	return wire_sub(r, n);
}

struct wire_reader wire_vec24(struct wire_reader *r)
{
	size_t n = wire_u24(r);
	return wire_sub(r, n);
}

uint8_t *wire_reserve(struct wire_writer *w, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return NULL;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void write_be(struct wire_writer *w, uint64_t v, size_t n)
{
	uint8_t *p = wire_reserve(w, n);
	if (!p)
		return;
	for (size_t i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

void wire_put_u8(struct wire_writer *w, uint8_t v) { write_be(w, v, 1); }
void wire_put_u16(struct wire_writer *w, uint16_t v) { write_be(w, v, 2); }
void wire_put_u24(struct wire_writer *w, uint32_t v) { write_be(w, v, 3); }
void wire_put_u32(struct wire_writer *w, uint32_t v) { write_be(w, v, 4); }
void wire_put_u48(struct wire_writer *w, uint64_t v) { write_be(w, v, 6); }
void wire_put_u64(struct wire_writer *w, uint64_t v) { write_be(w, v, 8); }

void wire_put_bytes(struct wire_writer *w, const void *src, size_t n)
{
	uint8_t *p = wire_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

size_t wire_open_vec(struct wire_writer *w, unsigned prefix)
{
	size_t mark = w->len;
	(void)wire_reserve(w, prefix);
	return mark;
}

void wire_close_vec(struct wire_writer *w, size_t mark, unsigned prefix)
{
	if (w->err)
		return;
	size_t n = w->len - mark - prefix;
	if (prefix < 3 && n >> (8 * prefix)) {
		w->err = true;
		return;
	}
	if (prefix == 3 && n > 0xffffff) {
		w->err = true;
		return;
	}
	for (unsigned i = prefix; i > 0; i--) {
		w->buf[mark + i - 1] = (uint8_t)n;
		n >>= 8;
	}
}

void wire_put_vec(struct wire_writer *w, unsigned prefix, const void *p, size_t n)
{
	size_t mark = wire_open_vec(w, prefix);
	wire_put_bytes(w, p, n);
	wire_close_vec(w, mark, prefix);
}

static void store_be(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		out[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

void wire_store_u16(uint8_t out[static 2], uint16_t v) { store_be(out, v, 2); }
void wire_store_u48(uint8_t out[static 6], uint64_t v) { store_be(out, v, 6); }
void wire_store_u64(uint8_t out[static 8], uint64_t v) { store_be(out, v, 8); }
