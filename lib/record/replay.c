/*
 * The anti-replay window as a ring of bits.
 *
 * Bit (seq mod REPLAY_WINDOW_BITS) of the ring stands for sequence number seq. The ring
 * always describes exactly the REPLAY_WINDOW_BITS numbers [top - BITS, top): when top
 * moves forward, the bits of the numbers it moves over are cleared (they still hold the
 * numbers one lap behind), so nothing is ever shifted. A jump of a whole lap or more
 * clears the whole ring.
 *
 * Sequence numbers are public: branching on them is fine.
 */
#include <string.h>

#include "record/replay.h"

#define WORD_BITS 64
#define RING_WORDS (REPLAY_WINDOW_BITS / WORD_BITS)

_Static_assert(REPLAY_WINDOW_BITS % WORD_BITS == 0, "the ring is made of whole words");
_Static_assert((REPLAY_WINDOW_BITS & (REPLAY_WINDOW_BITS - 1)) == 0, "the ring size is a power of two");

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static size_t ring_pos(uint64_t seq)
{
	return (size_t)(seq & (REPLAY_WINDOW_BITS - 1));
}

bool replay_check(const struct replay_window *w, uint64_t seq)
{
	if (seq >= w->top)
		return true; /* newer than anything seen */
	if (w->top - seq > REPLAY_WINDOW_BITS)
		return false; /* left of the window */
	size_t pos = ring_pos(seq);
	return !(w->bits[pos / WORD_BITS] & (UINT64_C(1) << (pos % WORD_BITS)));
}

/* Clears the n (< REPLAY_WINDOW_BITS) ring bits of the numbers first, first + 1, ... */
static void clear_run(struct replay_window *w, uint64_t first, uint64_t n)
{
	size_t pos = ring_pos(first);
	while (n > 0) {
		size_t bit = pos % WORD_BITS;
		uint64_t take = WORD_BITS - bit;
		if (take > n)
			take = n;
		uint64_t mask = take == WORD_BITS ? ~UINT64_C(0) : ((UINT64_C(1) << take) - 1) << bit;
		w->bits[pos / WORD_BITS] &= ~mask;
		pos = (pos + (size_t)take) & (REPLAY_WINDOW_BITS - 1);
		n -= take;
	}
}

void replay_update(struct replay_window *w, uint64_t seq)
{
	if (seq >= w->top) {
		if (seq - w->top >= REPLAY_WINDOW_BITS)
			memset(w->bits, 0, sizeof(w->bits));
		else
			clear_run(w, w->top, seq - w->top + 1);
		w->top = seq + 1;
	} else if (w->top - seq > REPLAY_WINDOW_BITS) {
		return; /* too old: nothing to remember */
	}
	size_t pos = ring_pos(seq);
	w->bits[pos / WORD_BITS] |= UINT64_C(1) << (pos % WORD_BITS);
}
