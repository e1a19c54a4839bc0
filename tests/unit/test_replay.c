/* The anti-replay window (lib/record/replay.c): its edges, and a model run. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "record/replay.h"

#define W REPLAY_WINDOW_BITS
#define MAX_SEQ ((UINT64_C(1) << 48) - 1)

/* check, then update when accepted: what rec_layer_open does for authentic records */
static bool accept(struct replay_window *w, uint64_t seq)
{
	if (!replay_check(w, seq))
		return false;
	replay_update(w, seq);
	return true;
}

static void test_first_zero(void)
{
	struct replay_window w;
	replay_init(&w);
	CU_ASSERT_TRUE(replay_check(&w, 0));
	CU_ASSERT_TRUE(replay_check(&w, 1));
	CU_ASSERT_TRUE(accept(&w, 0));
	CU_ASSERT_FALSE(replay_check(&w, 0));
	CU_ASSERT_TRUE(replay_check(&w, 1));
	CU_ASSERT_EQUAL(w.top, 1);
}

static void test_first_large(void)
{
	const uint64_t s = UINT64_C(1000000007);
	struct replay_window w;
	replay_init(&w);
	CU_ASSERT_TRUE(accept(&w, s));
	CU_ASSERT_FALSE(replay_check(&w, s));
	/* everything in the window below the first record is still unseen */
	for (uint64_t i = 1; i < W; i++)
		CU_ASSERT_TRUE(replay_check(&w, s - i));
	CU_ASSERT_FALSE(replay_check(&w, s - W));
	CU_ASSERT_FALSE(replay_check(&w, 0));
	CU_ASSERT_TRUE(replay_check(&w, s + 1));
}

static void test_in_order_and_duplicates(void)
{
	struct replay_window w;
	replay_init(&w);
	for (uint64_t i = 0; i < 5 * W; i++) {
		CU_ASSERT_TRUE(accept(&w, i));
		CU_ASSERT_FALSE(replay_check(&w, i));
	}
	/* every one of the window is a duplicate, everything older is too old */
	for (uint64_t i = 0; i < 5 * W; i++)
		CU_ASSERT_FALSE(replay_check(&w, i));
	CU_ASSERT_TRUE(replay_check(&w, 5 * W));
}

static void test_window_edges(void)
{
	const uint64_t top = 10 * W + 37;
	struct replay_window w;
	replay_init(&w);
	CU_ASSERT_TRUE(accept(&w, top));
	/* just inside: the oldest number the window still holds */
	CU_ASSERT_TRUE(replay_check(&w, top - (W - 1)));
	/* just outside */
	CU_ASSERT_FALSE(replay_check(&w, top - W));
	CU_ASSERT_TRUE(accept(&w, top - (W - 1)));
	CU_ASSERT_FALSE(replay_check(&w, top - (W - 1)));
	/* one step forward pushes the oldest one out, makes nothing new seen */
	CU_ASSERT_TRUE(accept(&w, top + 1));
	CU_ASSERT_FALSE(replay_check(&w, top - (W - 1)));
	CU_ASSERT_TRUE(replay_check(&w, top - (W - 2)));
	/* an update of a too-old number is ignored, it does not touch the ring */
	const uint64_t unseen = top + 1 - (W - 3);
	CU_ASSERT_TRUE(replay_check(&w, unseen));
	replay_update(&w, unseen - 4 * W); /* same ring bit, four laps behind */
	CU_ASSERT_TRUE(replay_check(&w, unseen));
}

static void test_out_of_order(void)
{
	struct replay_window w;
	replay_init(&w);
	CU_ASSERT_TRUE(accept(&w, 100));
	CU_ASSERT_TRUE(accept(&w, 98));
	CU_ASSERT_TRUE(accept(&w, 99));
	CU_ASSERT_FALSE(replay_check(&w, 98));
	CU_ASSERT_FALSE(replay_check(&w, 99));
	CU_ASSERT_FALSE(replay_check(&w, 100));
	CU_ASSERT_TRUE(replay_check(&w, 97));
	CU_ASSERT_TRUE(replay_check(&w, 0));
}

/* A jump forward clears exactly the numbers it moves over. */
static void test_partial_slide(void)
{
	for (uint64_t jump = 1; jump <= W + 70; jump++) {
		struct replay_window w;
		replay_init(&w);
		for (uint64_t i = 0; i < W; i++)
			replay_update(&w, i);
		uint64_t high = W - 1 + jump;
		replay_update(&w, high);
		int bad = 0;
		for (uint64_t s = 0; s <= high + 2; s++) {
			bool expect;
			if (s + W <= high)
				expect = false; /* too old */
			else if (s < W || s == high)
				expect = false; /* seen */
			else
				expect = true; /* moved over, unseen */
			bad += replay_check(&w, s) != expect;
		}
		CU_ASSERT_EQUAL(bad, 0);
	}
}

static void test_jump_clears_window(void)
{
	struct replay_window w;
	replay_init(&w);
	for (uint64_t i = 0; i < W; i++)
		replay_update(&w, i);
	/* land on a number whose ring bit and whose whole window were all seen a lap ago */
	const uint64_t far = 7 * W;
	CU_ASSERT_TRUE(accept(&w, far));
	for (uint64_t i = 1; i < W; i++)
		CU_ASSERT_TRUE(replay_check(&w, far - i));
	CU_ASSERT_FALSE(replay_check(&w, far));
	CU_ASSERT_FALSE(replay_check(&w, far - W));
	for (uint64_t i = 0; i < W; i++)
		CU_ASSERT_FALSE(replay_check(&w, i));
}

static void test_max_seq(void)
{
	struct replay_window w;
	replay_init(&w);
	CU_ASSERT_TRUE(accept(&w, MAX_SEQ - 2));
	CU_ASSERT_TRUE(accept(&w, MAX_SEQ));
	CU_ASSERT_FALSE(replay_check(&w, MAX_SEQ));
	CU_ASSERT_FALSE(replay_check(&w, MAX_SEQ - 2));
	CU_ASSERT_TRUE(replay_check(&w, MAX_SEQ - 1));
	CU_ASSERT_TRUE(replay_check(&w, MAX_SEQ - (W - 1)));
	CU_ASSERT_FALSE(replay_check(&w, MAX_SEQ - W));
	CU_ASSERT_TRUE(accept(&w, MAX_SEQ - 1));
	CU_ASSERT_FALSE(replay_check(&w, MAX_SEQ - 1));
	CU_ASSERT_EQUAL(w.top, MAX_SEQ + 1);

	/* from nothing straight to the last number */
	replay_init(&w);
	CU_ASSERT_TRUE(accept(&w, MAX_SEQ));
	CU_ASSERT_FALSE(replay_check(&w, MAX_SEQ));
	CU_ASSERT_TRUE(replay_check(&w, MAX_SEQ - 1));
}

/* Random traffic against an obviously right model: a flag per number and the highest. */
static void test_model(void)
{
	enum { SPAN = 1 << 16 };
	uint8_t *seen = calloc(SPAN, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	struct replay_window w;
	replay_init(&w);
	bool any = false;
	uint64_t high = 0;
	unsigned rng = 12345;
	int bad = 0;
	for (int step = 0; step < 200000; step++) {
		rng = rng * 1103515245u + 12345u;
		unsigned kind = (rng >> 28) & 7;
		rng = rng * 1103515245u + 12345u;
		unsigned r = (rng >> 8) & 0xffff;
		uint64_t base = any ? high : 0;
		uint64_t seq;
		switch (kind) {
		case 0: seq = base + 1 + r % 3; break;            /* in order */
		case 1: seq = base + r % 1500; break;             /* ahead, sometimes more than W */
		case 2: seq = base > r % 1100 ? base - r % 1100 : 0; break; /* behind, around the edge */
		case 3: seq = base > W ? base - W + r % 4 : r % 4; break;   /* the left edge */
		default: seq = base > 64 ? base - r % 64 : 0; break;        /* recent */
		}
		if (seq >= SPAN - 2000) {
			/* start over well inside the model's span */
			memset(seen, 0, SPAN);
			replay_init(&w);
			any = false;
			high = 0;
			continue;
		}
		bool expect = !any || seq > high || (high - seq < W && !seen[seq]);
		bool got = replay_check(&w, seq);
		bad += got != expect;
		if (got) {
			replay_update(&w, seq);
			seen[seq] = 1;
			if (!any || seq > high)
				high = seq;
			any = true;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(seen);
}

static CU_TestInfo tests[] = {
	{ "first record: seq 0", test_first_zero },
	{ "first record: a large seq", test_first_large },
	{ "in order, then all duplicates", test_in_order_and_duplicates },
	{ "just inside and just outside the window", test_window_edges },
	{ "out of order inside the window", test_out_of_order },
	{ "a slide clears exactly what it passes", test_partial_slide },
	{ "a jump past the window clears it", test_jump_clears_window },
	{ "the largest seq, 2^48-1", test_max_seq },
	{ "random traffic against a model", test_model },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "replay", NULL, NULL, tests };
