/* The wire cursor: bounds, the sticky error, vectors, and the writer's back-patching. */
#include <string.h>

#include "harness.h"
#include "wire/wire.h"

static void test_integers(void)
{
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
	struct wire_reader r = wire_reader(b, sizeof(b));
	CU_ASSERT_EQUAL(wire_u8(&r), 0x01);
	CU_ASSERT_EQUAL(wire_u16(&r), 0x0203);
	CU_ASSERT_EQUAL(wire_u24(&r), 0x040506);
	CU_ASSERT_EQUAL(wire_u32(&r), 0x0708090a);
	CU_ASSERT_EQUAL(wire_u48(&r), 0x0b0c0d0e0f10ull);
	CU_ASSERT_EQUAL(wire_u64(&r), 0x1112131415161718ull);
	CU_ASSERT_EQUAL(wire_end(&r), DTLS_OK);
}

static void test_sticky_error(void)
{
	const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct wire_reader r = wire_reader(b, sizeof(b));
	CU_ASSERT_EQUAL(wire_u16(&r), 0xaabb);
	CU_ASSERT_EQUAL(wire_u16(&r), 0); /* only one byte left */
	CU_ASSERT(!wire_ok(&r));
	CU_ASSERT_EQUAL(wire_u8(&r), 0);  /* the byte that was left is not read after an error */
	CU_ASSERT_EQUAL(wire_left(&r), 0);
	CU_ASSERT_PTR_NULL(wire_bytes(&r, 0));
	CU_ASSERT_EQUAL(wire_end(&r), DTLS_ERR_DECODE);
	CU_ASSERT_EQUAL(wire_check(&r), DTLS_ERR_DECODE);
	uint8_t out[4] = { 9, 9, 9, 9 };
	wire_copy(&r, out, 4);
	CU_ASSERT(out[0] == 0 && out[3] == 0);
}

static void test_trailing_bytes(void)
{
	const uint8_t b[] = { 1, 2, 3 };
	struct wire_reader r = wire_reader(b, sizeof(b));
	(void)wire_u16(&r);
	CU_ASSERT_EQUAL(wire_check(&r), DTLS_OK);
	CU_ASSERT_EQUAL(wire_end(&r), DTLS_ERR_DECODE); /* one byte not consumed */
}

static void test_vectors(void)
{
	const uint8_t b[] = { 2, 0xa, 0xb, 0, 3, 1, 2, 3, 0, 0, 1, 0xff, 5 };
	struct wire_reader r = wire_reader(b, sizeof(b));
	struct wire_reader v8 = wire_vec8(&r);
	struct wire_reader v16 = wire_vec16(&r);
	struct wire_reader v24 = wire_vec24(&r);
	CU_ASSERT_EQUAL(wire_left(&v8), 2);
	CU_ASSERT_EQUAL(wire_u16(&v8), 0x0a0b);
	CU_ASSERT_EQUAL(wire_end(&v8), DTLS_OK);
	CU_ASSERT_EQUAL(wire_left(&v16), 3);
	CU_ASSERT_EQUAL(wire_left(&v24), 1);
	CU_ASSERT_EQUAL(wire_u8(&v24), 0xff);
	CU_ASSERT_EQUAL(wire_u8(&r), 5);
	CU_ASSERT_EQUAL(wire_end(&r), DTLS_OK);

	/* A vector longer than what is left fails the parent and yields an empty cursor. */
	const uint8_t bad[] = { 0, 9, 1, 2 };
	struct wire_reader r2 = wire_reader(bad, sizeof(bad));
	struct wire_reader v = wire_vec16(&r2);
	CU_ASSERT(!wire_ok(&r2));
	CU_ASSERT(!wire_ok(&v));
	CU_ASSERT_EQUAL(wire_left(&v), 0);
	CU_ASSERT_EQUAL(wire_u8(&v), 0);
}

static void test_every_truncation(void)
{
	/* A vec16 of 4 bytes in a 6-byte buffer: every shorter buffer errs, none reads past. */
	const uint8_t b[] = { 0, 4, 1, 2, 3, 4 };
	for (size_t n = 0; n < sizeof(b); n++) {
		struct wire_reader r = wire_reader(b, n);
		struct wire_reader v = wire_vec16(&r);
		(void)wire_u32(&v);
		CU_ASSERT_EQUAL(wire_end(&r), DTLS_ERR_DECODE);
	}
}

static void test_writer(void)
{
	uint8_t buf[32];
	struct wire_writer w = wire_writer(buf, sizeof(buf));
	wire_put_u8(&w, 1);
	size_t m = wire_open_vec(&w, 2);
	wire_put_u24(&w, 0x020304);
	size_t m2 = wire_open_vec(&w, 1);
	wire_put_u48(&w, 0x05060708090aull);
	wire_close_vec(&w, m2, 1);
	wire_close_vec(&w, m, 2);
	wire_put_vec(&w, 3, "xy", 2);
	size_t len = 0;
	CU_ASSERT_EQUAL(wire_written(&w, &len), DTLS_OK);
	const uint8_t want[] = { 1, 0, 10, 2, 3, 4, 6, 5, 6, 7, 8, 9, 10, 0, 0, 2, 'x', 'y' };
	CU_ASSERT_EQUAL(len, sizeof(want));
	CU_ASSERT(memcmp(buf, want, sizeof(want)) == 0);
}

static void test_writer_overflow(void)
{
	uint8_t buf[4];
	struct wire_writer w = wire_writer(buf, sizeof(buf));
	wire_put_u24(&w, 1);
	wire_put_u16(&w, 2); /* does not fit */
	wire_put_u8(&w, 3);  /* would fit, but the error is sticky */
	size_t len = 0;
	CU_ASSERT_EQUAL(wire_written(&w, &len), DTLS_ERR_BUFFER);
	CU_ASSERT_EQUAL(w.len, 3);

	/* A vector whose content overflows its prefix fails too. */
	uint8_t big[300];
	struct wire_writer w2 = wire_writer(big, sizeof(big));
	size_t m = wire_open_vec(&w2, 1);
	uint8_t zeros[256] = { 0 };
	wire_put_bytes(&w2, zeros, sizeof(zeros));
	wire_close_vec(&w2, m, 1);
	CU_ASSERT_EQUAL(wire_written(&w2, &len), DTLS_ERR_BUFFER);
}

static void test_round_trip(void)
{
	uint8_t buf[64];
	struct wire_writer w = wire_writer(buf, sizeof(buf));
	wire_put_u16(&w, 0xfefd);
	wire_put_u48(&w, (1ull << 48) - 1);
	wire_put_u64(&w, 0x0102030405060708ull);
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(wire_written(&w, &len), DTLS_OK);
	struct wire_reader r = wire_reader(buf, len);
	CU_ASSERT_EQUAL(wire_u16(&r), 0xfefd);
	CU_ASSERT_EQUAL(wire_u48(&r), (1ull << 48) - 1);
	CU_ASSERT_EQUAL(wire_u64(&r), 0x0102030405060708ull);
	CU_ASSERT_EQUAL(wire_end(&r), DTLS_OK);
}

static CU_TestInfo tests[] = {
	{ "big-endian integers of every width", test_integers },
	{ "the error is sticky and reads return zero", test_sticky_error },
	{ "wire_end refuses trailing bytes", test_trailing_bytes },
	{ "length-prefixed vectors as sub-cursors", test_vectors },
	{ "every truncation of a vector fails", test_every_truncation },
	{ "writer with nested back-patched vectors", test_writer },
	{ "writer overflow is sticky; oversized vector fails", test_writer_overflow },
	{ "write then read round trip", test_round_trip },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "wire", NULL, NULL, tests };
