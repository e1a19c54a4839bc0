/*
 * HelloVerifyRequest cookies: mint, verify, and the current/previous secret rotation.
 * The MAC itself is checked against an HMAC-SHA256 computed here through hmac_buf over
 * peer || hello, whose own known answers are in test_crypto.c.
 */
#include <string.h>

#include "cookie/cookie.h"
#include "crypto/crypto.h"
#include "harness.h"

static const uint8_t peer[] = { 0x02, 192, 0, 2, 1, 0x11, 0x5c };     /* family, 192.0.2.1, port 4444 */
static const uint8_t other_peer[] = { 0x02, 192, 0, 2, 1, 0x11, 0x5d }; /* same address, port 4445 */
static const uint8_t hello[] = "fe fd | client random 0123456789abcdef0123456789 | sid | suites";
static const uint8_t other_hello[] = "fe fd | client random 0123456789abcdef0123456789 | sid | suitez";

#define LIFETIME 60000

static bool verify(const struct cookie_keys *k, const uint8_t *cookie, size_t len)
{
	return cookie_verify(k, peer, sizeof(peer), hello, sizeof(hello), cookie, len);
}

static void test_cookie_is_hmac(void)
{
	struct cookie_keys k;
	uint8_t cookie[COOKIE_LEN], msg[sizeof(peer) + sizeof(hello)], mac[HASH_MAX_LEN];

	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&k, 1000, LIFETIME), 0);
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), cookie), 0);
	memcpy(msg, peer, sizeof(peer));
	memcpy(msg + sizeof(peer), hello, sizeof(hello));
	CU_ASSERT_EQUAL_FATAL(hmac_buf(HASH_SHA256, k.cur, sizeof(k.cur), msg, sizeof(msg), mac), 0);
	CU_ASSERT(memcmp(cookie, mac, COOKIE_LEN) == 0);
	/* Deterministic under one secret: the server keeps no state. */
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), mac), 0);
	CU_ASSERT(memcmp(cookie, mac, COOKIE_LEN) == 0);
	cookie_keys_wipe(&k);
}

static void test_cookie_valid_and_wrong_inputs(void)
{
	struct cookie_keys k;
	uint8_t cookie[COOKIE_LEN + 1];

	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&k, 1000, LIFETIME), 0);
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), cookie), 0);
	CU_ASSERT(verify(&k, cookie, COOKIE_LEN));
	CU_ASSERT(!cookie_verify(&k, other_peer, sizeof(other_peer), hello, sizeof(hello), cookie, COOKIE_LEN));
	CU_ASSERT(!cookie_verify(&k, peer, sizeof(peer), other_hello, sizeof(other_hello), cookie, COOKIE_LEN));
	CU_ASSERT(!cookie_verify(&k, peer, sizeof(peer) - 1, hello, sizeof(hello), cookie, COOKIE_LEN));
	CU_ASSERT(!cookie_verify(&k, peer, sizeof(peer), hello, sizeof(hello) - 1, cookie, COOKIE_LEN));
	CU_ASSERT(!cookie_verify(&k, peer, 0, hello, sizeof(hello), cookie, COOKIE_LEN));

	/* Truncated, too long, empty, absent. */
	CU_ASSERT(!verify(&k, cookie, COOKIE_LEN - 1));
	CU_ASSERT(!verify(&k, cookie, 16));
	cookie[COOKIE_LEN] = 0;
	CU_ASSERT(!verify(&k, cookie, COOKIE_LEN + 1));
	CU_ASSERT(!verify(&k, cookie, 0));
	CU_ASSERT(!verify(&k, NULL, COOKIE_LEN));

	/* Every flipped bit. */
	size_t rejected = 0;
	for (size_t bit = 0; bit < 8 * COOKIE_LEN; bit++) {
		cookie[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rejected += !verify(&k, cookie, COOKIE_LEN);
		cookie[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CU_ASSERT_EQUAL(rejected, 8 * COOKIE_LEN);
	CU_ASSERT(verify(&k, cookie, COOKIE_LEN));

	/* Another server (another secret) does not accept it. */
	struct cookie_keys other;
	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&other, 1000, LIFETIME), 0);
	CU_ASSERT(!verify(&other, cookie, COOKIE_LEN));
	cookie_keys_wipe(&other);
	cookie_keys_wipe(&k);
}

static void test_cookie_rotation(void)
{
	struct cookie_keys k;
	uint8_t old[COOKIE_LEN], fresh[COOKIE_LEN];

	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&k, 1000, LIFETIME), 0);
	CU_ASSERT(!k.have_prev);
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), old), 0);

	/* Not yet due: nothing changes. */
	cookie_keys_maybe_rotate(&k, 1000 + LIFETIME - 1);
	CU_ASSERT(!k.have_prev);
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), fresh), 0);
	CU_ASSERT(memcmp(old, fresh, COOKIE_LEN) == 0);
	/* A clock going backwards does not rotate. */
	cookie_keys_maybe_rotate(&k, 0);
	CU_ASSERT(!k.have_prev);

	/* One rotation: the old cookie still verifies (previous secret), new cookies differ. */
	cookie_keys_maybe_rotate(&k, 1000 + LIFETIME);
	CU_ASSERT(k.have_prev);
	CU_ASSERT(verify(&k, old, COOKIE_LEN));
	CU_ASSERT_EQUAL_FATAL(cookie_make(&k, peer, sizeof(peer), hello, sizeof(hello), fresh), 0);
	CU_ASSERT(memcmp(old, fresh, COOKIE_LEN) != 0);
	CU_ASSERT(verify(&k, fresh, COOKIE_LEN));

	/* The next rotation is due a full lifetime after the last one, not before. */
	cookie_keys_maybe_rotate(&k, 1000 + 2 * LIFETIME - 1);
	CU_ASSERT(verify(&k, old, COOKIE_LEN));

	/* Two rotations: the old cookie is gone, the one-rotation-old cookie still works. */
	cookie_keys_maybe_rotate(&k, 1000 + 2 * LIFETIME);
	CU_ASSERT(!verify(&k, old, COOKIE_LEN));
	CU_ASSERT(verify(&k, fresh, COOKIE_LEN));
	cookie_keys_maybe_rotate(&k, 1000 + 3 * LIFETIME);
	CU_ASSERT(!verify(&k, fresh, COOKIE_LEN));
	cookie_keys_wipe(&k);
}

/* Without a previous secret, its all-zero placeholder must not verify anything. */
static void test_cookie_no_prev(void)
{
	struct cookie_keys k;
	uint8_t msg[sizeof(peer) + sizeof(hello)], mac[HASH_MAX_LEN];

	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&k, 0, LIFETIME), 0);
	memcpy(msg, peer, sizeof(peer));
	memcpy(msg + sizeof(peer), hello, sizeof(hello));
	CU_ASSERT_EQUAL_FATAL(hmac_buf(HASH_SHA256, k.prev, sizeof(k.prev), msg, sizeof(msg), mac), 0);
	CU_ASSERT(!verify(&k, mac, COOKIE_LEN));
	cookie_keys_wipe(&k);
}

static void test_cookie_args(void)
{
	struct cookie_keys k;
	uint8_t cookie[COOKIE_LEN];
	static const struct cookie_keys zero;

	CU_ASSERT_EQUAL(cookie_keys_init(&k, 0, 0), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL_FATAL(cookie_keys_init(&k, 0, LIFETIME), 0);
	CU_ASSERT_EQUAL(cookie_make(&k, NULL, 4, hello, sizeof(hello), cookie), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(cookie_make(&k, peer, sizeof(peer), NULL, 1, cookie), DTLS_ERR_ARG);
	/* Empty inputs are allowed (the caller decides what to bind). */
	CU_ASSERT_EQUAL(cookie_make(&k, NULL, 0, NULL, 0, cookie), 0);
	CU_ASSERT(cookie_verify(&k, NULL, 0, NULL, 0, cookie, COOKIE_LEN));
	cookie_keys_wipe(&k);
	CU_ASSERT(memcmp(&k, &zero, sizeof(k)) == 0);
}

static CU_TestInfo tests[] = {
	{ "cookie is HMAC-SHA256(cur, peer || hello)", test_cookie_is_hmac },
	{ "valid; wrong peer, hello, bits or length", test_cookie_valid_and_wrong_inputs },
	{ "accepted after one rotation, rejected after two", test_cookie_rotation },
	{ "no previous secret before the first rotation", test_cookie_no_prev },
	{ "arguments", test_cookie_args },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "cookie", NULL, NULL, tests };
