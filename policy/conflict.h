/*
 * Conflicts between peers that make a set of peers ambiguous: the same name, the
 * same PSK identity, or allowed prefixes that overlap (one contains the other).
 * The config validator reports them with line numbers; policy_set_build() refuses
 * a set that has any.
 */
#ifndef DTLSGW_POLICY_CONFLICT_H
#define DTLSGW_POLICY_CONFLICT_H

#include <stddef.h>

#include "policy/defs.h"
#include "policy/peer.h"

enum policy_conflict_kind {
	POLICY_CONFLICT_NAME,
	POLICY_CONFLICT_PSK_IDENTITY,
	POLICY_CONFLICT_PREFIX,
};

/* Peer index a < b. For POLICY_CONFLICT_PREFIX, prefix_a/prefix_b index the
 * peers' allowed[] arrays; otherwise they are 0. */
struct policy_conflict {
	enum policy_conflict_kind kind;
	size_t a, prefix_a;
	size_t b, prefix_b;
};

typedef void (*policy_conflict_fn)(void *arg, const struct policy_conflict *c);

/*
 * Call fn (may be NULL) for each conflict among peers[0..n). A name or identity
 * shared by k peers gives k-1 conflicts, each against the first peer; an
 * overlapping pair of prefixes gives one. Order: names, identities, prefixes.
 * O(N log N) in the number of names and prefixes.
 * Returns the number of conflicts, or -ENOMEM.
 */
int policy_find_conflicts(const struct peer_policy *peers, size_t n,
			  policy_conflict_fn fn, void *arg) POLICY_MUST_CHECK;

#endif
