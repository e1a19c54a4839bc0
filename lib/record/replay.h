/*
 * The anti-replay window (RFC 6347 4.1.2.6): a sliding window of REPLAY_WINDOW_BITS
 * sequence numbers per epoch. Check before decrypting; update only after the record
 * authenticated, so a forged record cannot move the window.
 */
#ifndef DTLS_REPLAY_H
#define DTLS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WINDOW_BITS 1024

struct replay_window {
	uint64_t top;     /* highest sequence number seen + 1; 0 when none seen yet */
	uint64_t bits[REPLAY_WINDOW_BITS / 64];
};

void replay_init(struct replay_window *w);
/* true if seq has not been seen and is not older than the window. */
bool replay_check(const struct replay_window *w, uint64_t seq);
/* Marks seq as seen, sliding the window forward if it is new. */
void replay_update(struct replay_window *w, uint64_t seq);

#endif
