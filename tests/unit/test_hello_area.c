/*
 * The area that puts fragmented ClientHellos together before their sender has a
 * session (lib/hello_area.c), through the public API: a real client's second ClientHello
 * (the one with the cookie), cut into pieces of 16 to 200 bytes, fed in every order, with
 * duplicates and overlaps, comes out as the whole hello, byte for byte, and passes the
 * cookie check, which none of its small pieces does alone. A flood of partial hellos
 * stays within the area's entries and does not keep a real one out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <dtls/dtls.h>

#include "harness.h"

#define MAX_HELLO 4096
#define REC 13
#define HS 12

static uint8_t sent[4][2048];
static size_t sent_len[4], n_sent;

static void cb_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	if (n_sent < 4 && n <= sizeof(sent[0])) {
		memcpy(sent[n_sent], d, n);
		sent_len[n_sent++] = n;
	}
}

static struct sockaddr_in addr_of(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
	return a;
}

static struct dtls_cookie_jar *jar;
static uint8_t hello[2048]; /* the client's ClientHello with the cookie, unfragmented */
static size_t hello_len;

/* A real client's second ClientHello for address 192.0.2.1:port, in hello. */
static void make_hello(uint16_t port)
{
	static const struct dtls_callbacks cb = { .send = cb_send };
	static const uint8_t key[16] = { 1, 2, 3 };
	struct sockaddr_in a = addr_of(port);
	struct dtls_config *cfg = dtls_config_new();
	struct dtls_session *c;
	uint8_t hvr[256];
	size_t hvr_len;

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL_FATAL(dtls_config_add_psk(cfg, (const uint8_t *)"id", 2, key, sizeof(key)), 0);
	/* A long server name makes a hello of some 300 bytes, as certificate clients send. */
	CU_ASSERT_EQUAL_FATAL(dtls_config_set_server_name(cfg, "a-rather-long-name-for-a-hub-that-"
							  "makes-the-hello-longer.gw.example.test"), 0);
	c = dtls_session_new_client(cfg, &cb, NULL);
	CU_ASSERT_FATAL(c != NULL);
	n_sent = 0;
	CU_ASSERT_EQUAL_FATAL(dtls_session_start(c, 1000), 0);
	CU_ASSERT_EQUAL_FATAL(n_sent, 1);
	CU_ASSERT_EQUAL_FATAL(dtls_cookie_check(jar, (struct sockaddr *)&a, sizeof(a), sent[0],
						sent_len[0], hvr, sizeof(hvr), &hvr_len),
			      DTLS_ERR_COOKIE);
	CU_ASSERT_EQUAL_FATAL(dtls_session_handle(c, hvr, hvr_len, 1001), 0);
	CU_ASSERT_EQUAL_FATAL(n_sent, 2);
	memcpy(hello, sent[1], sent_len[1]);
	hello_len = sent_len[1];
	CU_ASSERT_EQUAL_FATAL(dtls_hello_classify(hello, hello_len, NULL), DTLS_HELLO_WHOLE);
	dtls_session_free(c);
	dtls_config_unref(cfg);
}

/* A datagram holding the body bytes [off, off + len) of hello as one fragment. */
static size_t fragment(uint8_t *out, size_t off, size_t len)
{
	size_t body = hello_len - REC - HS;

	if (off + len > body)
		len = body - off;
	memcpy(out, hello, REC + HS);
	out[11] = (uint8_t)((HS + len) >> 8);
	out[12] = (uint8_t)(HS + len);
	out[REC + 6] = (uint8_t)(off >> 16), out[REC + 7] = (uint8_t)(off >> 8), out[REC + 8] = (uint8_t)off;
	out[REC + 9] = (uint8_t)(len >> 16), out[REC + 10] = (uint8_t)(len >> 8), out[REC + 11] = (uint8_t)len;
	memcpy(out + REC + HS, hello + REC + HS + off, len);
	return REC + HS + len;
}

static int suite_init(void)
{
	jar = dtls_cookie_jar_new(1000, 60000);
	return jar ? 0 : 1;
}

static int suite_cleanup(void)
{
	dtls_cookie_jar_free(jar);
	return 0;
}

/* Feeds pieces (offset, length) in the given order; checks the result is the hello. */
static void feed_and_check(struct dtls_hello_area *a, const size_t (*pieces)[2], size_t n,
			   uint16_t port)
{
	struct sockaddr_in from = addr_of(port);
	uint8_t d[2048], out[REC + HS + MAX_HELLO], hvr[256];
	size_t out_len = 0, hvr_len;
	int rc = DTLS_ERR_IN_PROGRESS;

	for (size_t i = 0; i < n && rc != DTLS_OK; i++) {
		size_t dl = fragment(d, pieces[i][0], pieces[i][1]);
		rc = dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, dl, out,
					 sizeof(out), &out_len);
		CU_ASSERT(rc == DTLS_OK || rc == DTLS_ERR_IN_PROGRESS);
	}
	CU_ASSERT_EQUAL_FATAL(rc, DTLS_OK);
	CU_ASSERT_EQUAL(out_len, hello_len);
	CU_ASSERT(memcmp(out, hello, hello_len) == 0);
	CU_ASSERT_EQUAL(dtls_cookie_check(jar, (struct sockaddr *)&from, sizeof(from), out, out_len,
					  hvr, sizeof(hvr), &hvr_len),
			DTLS_OK);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void test_pieces_in_every_order(void)
{
	static const size_t sizes[] = { 16, 28, 50, 100, 200 };
	struct dtls_hello_area *a = dtls_hello_area_new(8, MAX_HELLO);
	size_t pieces[512][2];

	CU_ASSERT_FATAL(a != NULL);
	make_hello(4444);
	size_t body = hello_len - REC - HS;
	CU_ASSERT_FATAL(body > 150);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t k = sizes[s], n = 0;
		/* forward */
		for (size_t off = 0; off < body; off += k)
			pieces[n][0] = off, pieces[n++][1] = k;
		feed_and_check(a, (const size_t (*)[2])pieces, n, 4444);
		/* backward */
		for (size_t i = 0; i < n / 2; i++) {
			size_t t0 = pieces[i][0];
			pieces[i][0] = pieces[n - 1 - i][0];
			pieces[n - 1 - i][0] = t0;
		}
		feed_and_check(a, (const size_t (*)[2])pieces, n, 4444);
		/* shuffled, every piece twice, plus overlapping pieces at half steps */
		for (int round = 0; round < 20; round++) {
			size_t m = 0;
			for (size_t off = 0; off < body; off += k) {
				pieces[m][0] = off, pieces[m++][1] = k;
				pieces[m][0] = off, pieces[m++][1] = k;
				if (off + k / 2 < body)
					pieces[m][0] = off + k / 2, pieces[m++][1] = k;
			}
			for (size_t i = m - 1; i > 0; i--) {
				size_t j = rnd() % (i + 1), t0 = pieces[i][0], t1 = pieces[i][1];
				pieces[i][0] = pieces[j][0], pieces[i][1] = pieces[j][1];
				pieces[j][0] = t0, pieces[j][1] = t1;
			}
			feed_and_check(a, (const size_t (*)[2])pieces, m, 4444);
		}
	}
	dtls_hello_area_free(a);
}

/* The tail, the head, the tail again, the middle overlapping the head: 4 pieces of
 * about 28 bytes of a hello cut short, none of which holds all the cookie covers. */
static void test_no_piece_checks_alone(void)
{
	struct dtls_hello_area *a = dtls_hello_area_new(4, MAX_HELLO);
	struct sockaddr_in from = addr_of(4445);
	uint8_t d[2048], hvr[256];
	size_t hvr_len, body;

	CU_ASSERT_FATAL(a != NULL);
	make_hello(4445);
	body = hello_len - REC - HS;
	/* Each piece alone: no verdict the server could act on (never DTLS_OK). */
	for (size_t off = 0; off < body; off += 28) {
		size_t dl = fragment(d, off, 28);
		CU_ASSERT_NOT_EQUAL(dtls_cookie_check(jar, (struct sockaddr *)&from, sizeof(from), d,
						      dl, hvr, sizeof(hvr), &hvr_len),
				    DTLS_OK);
	}
	size_t q = body / 4;
	const size_t order[][2] = { { 3 * q, body - 3 * q }, { 0, q + 2 }, { 3 * q, body - 3 * q },
				    { q - 5, 2 * q + 5 } };
	feed_and_check(a, order, 4, 4445);
	dtls_hello_area_free(a);
}

static void test_flood_of_partial_hellos(void)
{
	struct dtls_hello_area *a = dtls_hello_area_new(16, MAX_HELLO);
	uint8_t d[2048], out[REC + HS + MAX_HELLO];
	size_t out_len;

	CU_ASSERT_FATAL(a != NULL);
	make_hello(5000);
	/* 1000 senders each send the first 40 bytes of a hello and nothing more. */
	for (uint16_t i = 0; i < 1000; i++) {
		struct sockaddr_in from = addr_of((uint16_t)(10000 + i));
		size_t dl = fragment(d, 0, 40);
		CU_ASSERT_EQUAL(dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, dl,
						    out, sizeof(out), &out_len),
				DTLS_ERR_IN_PROGRESS);
	}
	CU_ASSERT_EQUAL(dtls_hello_area_evicted(a), 1000 - 16);
	/* A real sender's fragments, sent together, still make a hello. */
	const size_t pieces[][2] = { { 100, 4000 }, { 0, 100 } };
	feed_and_check(a, pieces, 2, 5000);
	dtls_hello_area_free(a);
}

static void test_refused_input(void)
{
	struct dtls_hello_area *a = dtls_hello_area_new(4, 128);
	struct sockaddr_in from = addr_of(4446);
	uint8_t d[2048], out[REC + HS + 128];
	size_t out_len, dl;

	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_PTR_NULL(dtls_hello_area_new(0, 1024));
	CU_ASSERT_PTR_NULL(dtls_hello_area_new(4, 16));
	make_hello(4446);
	/* Larger than the area takes. */
	dl = fragment(d, 0, 50);
	CU_ASSERT_EQUAL(dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, dl, out,
					    sizeof(out), &out_len),
			DTLS_ERR_MESSAGE_TOO_LARGE);
	/* Not a handshake record; truncated; not a ClientHello. */
	d[0] = 23;
	CU_ASSERT(dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, dl, out,
				      sizeof(out), &out_len) < 0);
	CU_ASSERT(dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, 10, out,
				      sizeof(out), &out_len) < 0);
	dl = fragment(d, 0, 50);
	d[REC] = 2;
	CU_ASSERT(dtls_hello_area_add(a, (struct sockaddr *)&from, sizeof(from), d, dl, out,
				      sizeof(out), &out_len) < 0);
	CU_ASSERT_EQUAL(dtls_hello_classify(d, dl, NULL), DTLS_HELLO_NONE);
	d[REC] = 1;
	CU_ASSERT_EQUAL(dtls_hello_classify(d, dl, NULL), DTLS_HELLO_FIRST_FRAGMENT);
	dl = fragment(d, 50, 50);
	CU_ASSERT_EQUAL(dtls_hello_classify(d, dl, NULL), DTLS_HELLO_LATER_FRAGMENT);
	dtls_hello_area_free(a);
}

static CU_TestInfo tests[] = {
	{ "pieces of 16 to 200 bytes in every order", test_pieces_in_every_order },
	{ "no piece passes the cookie check alone", test_no_piece_checks_alone },
	{ "a flood of partial hellos", test_flood_of_partial_hellos },
	{ "refused input", test_refused_input },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "hello_area", suite_init, suite_cleanup, tests };
