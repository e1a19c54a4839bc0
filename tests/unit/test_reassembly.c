/*
 * lib/handshake/reassembly.c: fragments in any order, duplicated, overlapping or
 * disagreeing; memory that follows the bytes received rather than the lengths declared;
 * the per-session and process-wide budgets (dtls_set_reassembly_limits) and the
 * dropped_reassembly counter.
 */
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"
#include "harness.h"

/* A generous bound on the header a stored piece costs on top of its bytes. */
#define PIECE_OVERHEAD 64

static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static struct dtls_config *cfg;

static void ignore_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg, (void)d, (void)n;
}

static const struct dtls_callbacks cb = { .send = ignore_send };

static int init(void)
{
	if (dtls_init() < 0 || !(cfg = dtls_config_new()))
		return 1;
	return dtls_config_add_psk(cfg, (const uint8_t *)"id", 2, key, sizeof(key)) != 0;
}

static int cleanup(void)
{
	dtls_config_unref(cfg);
	return 0;
}

static struct sockaddr_in peer_addr(unsigned i)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)(5000 + i)),
				     .sin_addr = { htonl(0x7f000001) } };
}

/* A server session with its handshake state, expecting message_seq 0 next. */
static struct dtls_session *session(void)
{
	struct sockaddr_in a = peer_addr(0);
	struct dtls_session *s = dtls_session_new_server(cfg, &cb, NULL, (struct sockaddr *)&a, sizeof(a));
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_FATAL(hs_begin(s) == 0);
	return s;
}

/* Fragment [off, off + n) of message seq (type 1, total length len) with bytes data[off..]. */
static int frag(struct dtls_session *s, uint16_t seq, uint32_t len, uint32_t off, uint32_t n, const uint8_t *data)
{
	struct hs_header h = { .type = HS_CLIENT_HELLO, .length = len, .seq = seq, .frag_off = off, .frag_len = n };
	struct wire_reader r = wire_reader(data + off, n);
	return reasm_add(s, 0, &h, &r);
}

static uint64_t dropped(const struct dtls_session *s)
{
	struct dtls_session_stats st;
	dtls_session_stats(s, &st);
	return st.dropped_reassembly;
}

static uint8_t big[32768];

static void fill(uint8_t *p, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + salt);
}

/* Small fragments of messages that declare 32 KiB hold what they carry, not 32 KiB each:
 * before, every message in the window allocated its declared length and a bitmap. */
static void test_memory_follows_bytes(void)
{
	size_t base = dtls_reassembly_bytes();
	struct dtls_session *s = session();
	fill(big, sizeof(big), 1);
	for (uint16_t seq = 0; seq < HS_WINDOW; seq++)
		CU_ASSERT_EQUAL(frag(s, seq, sizeof(big), 1000, 100, big), 0);
	CU_ASSERT(reasm_held(s) >= HS_WINDOW * 100);
	CU_ASSERT(reasm_held(s) <= HS_WINDOW * (100 + PIECE_OVERHEAD));
	CU_ASSERT_EQUAL(dtls_reassembly_bytes() - base, reasm_held(s));
	/* a duplicate costs nothing; an overlap costs only its new bytes */
	size_t before = reasm_held(s);
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(big), 1000, 100, big), 0);
	CU_ASSERT_EQUAL(reasm_held(s), before);
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(big), 1050, 100, big), 0);
	CU_ASSERT(reasm_held(s) - before >= 50 && reasm_held(s) - before <= 50 + PIECE_OVERHEAD);
	CU_ASSERT_EQUAL(s->hs->pending[0].have, 150);
	dtls_session_free(s);
	CU_ASSERT_EQUAL(dtls_reassembly_bytes(), base);
}

/* The measurement through the public API: 1024 half-open sessions, each sent four
 * 100-byte fragments of messages declaring 32 KiB, held about 150 MB; now about 500 KB. */
static void test_many_half_open_sessions(void)
{
	enum { N = 1024 };
	static struct dtls_session *ss[N];
	size_t base = dtls_reassembly_bytes();
	uint8_t dgram[HS_WINDOW * (REC_HEADER_LEN + HS_HEADER_LEN + 100)];
	size_t used = 0;
	fill(big, sizeof(big), 2);
	for (uint16_t seq = 0; seq < HS_WINDOW; seq++) {
		uint8_t *rec = dgram + used;
		struct rec_header rh = { .type = CT_HANDSHAKE, .version = DTLS_VERSION_1_2, .seq = seq,
					 .length = HS_HEADER_LEN + 100 };
		struct hs_header h = { .type = seq ? HS_CERTIFICATE : HS_CLIENT_HELLO, .length = sizeof(big), .seq = seq,
				       .frag_off = 2000, .frag_len = 100 };
		rec_write_header(rec, &rh);
		hs_write_header(rec + REC_HEADER_LEN, &h);
		memcpy(rec + REC_HEADER_LEN + HS_HEADER_LEN, big + 2000, 100);
		used += REC_HEADER_LEN + HS_HEADER_LEN + 100;
	}
	for (unsigned i = 0; i < N; i++) {
		struct sockaddr_in a = peer_addr(i);
		ss[i] = dtls_session_new_server(cfg, &cb, NULL, (struct sockaddr *)&a, sizeof(a));
		CU_ASSERT_FATAL(ss[i] != NULL);
	}
	/* what malloc hands out while the fragments come (the handshake state included); under
	 * a sanitizer mallinfo2 may say nothing, and the budget's own count still checks */
	size_t heap = mallinfo2().uordblks;
	for (unsigned i = 0; i < N; i++) {
		uint8_t copy[sizeof(dgram)];
		memcpy(copy, dgram, used);
		CU_ASSERT_EQUAL(dtls_session_handle(ss[i], copy, used, 1000), 0);
	}
	size_t grown = mallinfo2().uordblks - heap;
	CU_ASSERT(grown <= (size_t)N * (sizeof(struct hs) + HS_WINDOW * (100 + PIECE_OVERHEAD) + 256));
	size_t held = dtls_reassembly_bytes() - base;
	CU_ASSERT(held >= (size_t)N * HS_WINDOW * 100);
	CU_ASSERT(held <= (size_t)N * HS_WINDOW * (100 + PIECE_OVERHEAD));
	for (unsigned i = 0; i < N; i++)
		dtls_session_free(ss[i]);
	CU_ASSERT_EQUAL(dtls_reassembly_bytes(), base);
}

/* One session may hold per_session bytes across its messages: more is dropped and counted,
 * and fits once a message is done; a message that could never fit ends the handshake. */
static void test_session_budget(void)
{
	dtls_set_reassembly_limits(4096, 0);
	struct dtls_session *s = session();
	fill(big, 4096, 3);
	CU_ASSERT_EQUAL(frag(s, 1, 2000, 0, 1500, big), 0);
	CU_ASSERT_EQUAL(frag(s, 0, 3000, 0, 2000, big), 0); /* 1500 + 2000 and headers: fits */
	CU_ASSERT_EQUAL(dropped(s), 0);
	CU_ASSERT_EQUAL(frag(s, 0, 3000, 2000, 1000, big), 0); /* over 4096: dropped */
	CU_ASSERT_EQUAL(dropped(s), 1);
	CU_ASSERT_EQUAL(s->hs->pending[0].have, 2000);
	CU_ASSERT(reasm_held(s) <= 4096);
	/* the message's first fragment that disagrees is dropped without counting */
	CU_ASSERT_EQUAL(frag(s, 1, 2001, 1500, 501, big), 0);
	CU_ASSERT_EQUAL(dropped(s), 1);
	/* message 1 completes (500 more bytes fit), then message 0 when the peer resends */
	CU_ASSERT_EQUAL(frag(s, 1, 2000, 1500, 500, big), 0);
	CU_ASSERT_EQUAL(s->hs->pending[1].have, 2000);
	CU_ASSERT(s->hs->pending[1].body != NULL);
	CU_ASSERT_EQUAL(frag(s, 0, 3000, 2000, 1000, big), 0);
	CU_ASSERT_EQUAL(dropped(s), 2); /* still over: 2000 + 2000 + 1000 */
	struct reasm *m = &s->hs->pending[1];
	CU_ASSERT_EQUAL(memcmp(m->body, big, 2000), 0);
	reasm_release(m); /* as if it had been taken */
	CU_ASSERT_EQUAL(frag(s, 0, 3000, 2000, 1000, big), 1);
	CU_ASSERT_EQUAL(dropped(s), 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m = reasm_next(s));
	CU_ASSERT_EQUAL(memcmp(m->body, big, 3000), 0);
	/* a message longer than the budget can never complete */
	CU_ASSERT_EQUAL(frag(s, 2, 4096, 0, 100, big), DTLS_ERR_MESSAGE_TOO_LARGE);
	dtls_session_free(s);

	/* default: twice max_message, so a max_message message always fits */
	dtls_set_reassembly_limits(0, DTLS_REASSEMBLY_TOTAL_DEFAULT);
	s = session();
	fill(big, sizeof(big), 4);
	for (uint32_t off = 0; off < sizeof(big); off += 1000)
		CU_ASSERT_EQUAL(frag(s, 1, sizeof(big), off, off + 1000 <= sizeof(big) ? 1000 : sizeof(big) - off, big), 0);
	CU_ASSERT_EQUAL(dropped(s), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->hs->pending[1].body);
	CU_ASSERT_EQUAL(memcmp(s->hs->pending[1].body, big, sizeof(big)), 0);
	CU_ASSERT(reasm_held(s) <= sizeof(big) + PIECE_OVERHEAD); /* gathered into one piece */
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(big) + 1, 0, 100, big), DTLS_ERR_MESSAGE_TOO_LARGE);
	dtls_session_free(s);
}

/* All sessions together may hold `total` bytes: a second session is refused what the
 * first holds, and gets it once the first is gone. */
static void test_total_budget(void)
{
	size_t base = dtls_reassembly_bytes();
	dtls_set_reassembly_limits(0, base + 4096);
	struct dtls_session *a = session(), *b = session();
	fill(big, 4096, 5);
	CU_ASSERT_EQUAL(frag(a, 0, 3000, 0, 3000, big), 1);
	CU_ASSERT_EQUAL(frag(b, 0, 2000, 0, 1500, big), 0);
	CU_ASSERT_EQUAL(dropped(a), 0);
	CU_ASSERT_EQUAL(dropped(b), 1);
	CU_ASSERT_EQUAL(b->hs->pending[0].have, 0);
	CU_ASSERT(dtls_reassembly_bytes() - base <= 4096);
	CU_ASSERT_EQUAL(frag(b, 0, 2000, 0, 500, big), 0); /* a smaller one still fits */
	CU_ASSERT_EQUAL(b->hs->pending[0].have, 500);
	dtls_session_free(a);
	CU_ASSERT_EQUAL(frag(b, 0, 2000, 500, 1500, big), 1);
	CU_ASSERT_EQUAL(dropped(b), 1);
	CU_ASSERT_EQUAL(memcmp(b->hs->pending[0].body, big, 2000), 0);
	dtls_session_free(b);
	CU_ASSERT_EQUAL(dtls_reassembly_bytes(), base);
	dtls_set_reassembly_limits(0, DTLS_REASSEMBLY_TOTAL_DEFAULT);
}

/* Fragments in any order, duplicated and overlapping: the first bytes to arrive win, a
 * fragment that disagrees (length, type, epoch) is dropped, and the body comes out whole. */
static void test_order_and_overlap(void)
{
	struct dtls_session *s = session();
	uint8_t body[1000];
	fill(body, sizeof(body), 6);
	memset(big, 0xee, sizeof(big)); /* what an attacker would overwrite with */
	static const uint32_t cuts[][2] = { { 950, 50 }, { 0, 100 }, { 50, 250 }, { 0, 100 }, { 250, 350 },
					    { 599, 302 }, { 100, 10 } };
	for (size_t i = 0; i < ARRAY_LEN(cuts); i++)
		CU_ASSERT_EQUAL(frag(s, 0, sizeof(body), cuts[i][0], cuts[i][1], body), 0);
	CU_ASSERT_EQUAL(s->hs->pending[0].have, 901 + 50); /* [0, 901) and [950, 1000) */
	/* fragments that disagree are dropped (another epoch, type, length) */
	struct hs_header h = { .type = HS_CLIENT_HELLO, .length = sizeof(body), .seq = 0, .frag_off = 901,
			       .frag_len = 49 };
	struct wire_reader r = wire_reader(big, 49);
	CU_ASSERT_EQUAL(reasm_add(s, 1, &h, &r), 0);
	h.type = HS_CERTIFICATE;
	r = wire_reader(big, 49);
	CU_ASSERT_EQUAL(reasm_add(s, 0, &h, &r), 0);
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(body) + 1, 901, 49, big), 0);
	CU_ASSERT_EQUAL(s->hs->pending[0].have, 951);
	/* bytes that are there already are never replaced: of [0, 920) only [901, 920) is new */
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(body), 0, 920, big), 0);
	CU_ASSERT_EQUAL(s->hs->pending[0].have, 970);
	CU_ASSERT_PTR_NULL(reasm_next(s));
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(body), 900, 100, body), 1);
	struct reasm *m = reasm_next(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(memcmp(m->body, body, 901), 0);
	CU_ASSERT_EQUAL(memcmp(m->body + 901, big, 19), 0);
	CU_ASSERT_EQUAL(memcmp(m->body + 920, body + 920, 80), 0);
	CU_ASSERT(m->held <= sizeof(body) + PIECE_OVERHEAD); /* gathered into one piece */
	CU_ASSERT_EQUAL(frag(s, 0, sizeof(body), 0, 10, big), 1); /* a late duplicate changes nothing */
	CU_ASSERT_EQUAL(memcmp(m->body, body, 10), 0);
	reasm_release(m);

	/* random cuts in random order, many duplicates, against the original */
	uint64_t x = 88172645463325252ull;
	for (unsigned round = 0; round < 200; round++) {
		uint16_t seq = s->hs->recv_seq = (uint16_t)(round + 1);
		uint32_t len = 1 + (uint32_t)((x >> 11) % 3000);
		fill(big, len, round);
		int rc = 0;
		while (rc == 0) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint32_t off = (uint32_t)(x % len), n = 1 + (uint32_t)((x >> 20) % 700);
			if (off + n > len)
				n = len - off;
			rc = frag(s, seq, len, off, n, big);
		}
		CU_ASSERT_EQUAL(rc, 1);
		m = reasm_next(s);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT(m->len == len && memcmp(m->body, big, len) == 0);
		reasm_release(m);
		CU_ASSERT_EQUAL(reasm_held(s), 0);
	}
	/* a zero-length message is complete at once */
	s->hs->recv_seq = 300;
	CU_ASSERT_EQUAL(frag(s, 300, 0, 0, 0, big), 1);
	CU_ASSERT_PTR_NOT_NULL(reasm_next(s));
	CU_ASSERT_EQUAL(dropped(s), 0);
	dtls_session_free(s);
}

static CU_TestInfo tests[] = {
	{ "memory follows the bytes received, not the declared length", test_memory_follows_bytes },
	{ "1024 half-open sessions with 32 KiB declared each", test_many_half_open_sessions },
	{ "per-session budget: dropped, counted, fits later", test_session_budget },
	{ "process-wide budget across two sessions", test_total_budget },
	{ "any order, duplicates, overlaps, disagreeing fragments", test_order_and_overlap },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "reassembly", init, cleanup, tests };
