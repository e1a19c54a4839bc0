/*
 * A policy set: the peers of one configuration generation, with the lookups the
 * data path and the handshake need.
 *
 * Concurrency: a set is built once (policy_set_build, at config load) and is
 * immutable afterwards, so any number of workers may use it at once without
 * locks. On reload the daemon builds a new set and swaps its pointer atomically;
 * it frees the old set only after every worker has stopped using it. Peers
 * returned by the lookups belong to the set and live as long as it does.
 */
#ifndef DTLSGW_POLICY_POLICY_H
#define DTLSGW_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/conflict.h"
#include "policy/defs.h"
#include "policy/endpoint.h"
#include "policy/hex.h"
#include "policy/ippkt.h"
#include "policy/lpm.h"
#include "policy/peer.h"
#include "policy/prefix.h"

struct policy_set;

/*
 * Build a set from deep copies of peers[0..n) (the caller keeps its array).
 * Returns 0, -EEXIST if the peers conflict (policy_find_conflicts(); the first
 * conflict is described in err, which may be NULL), -EINVAL if a peer has no
 * identity, -ENOMEM.
 */
int policy_set_build(const struct peer_policy *peers, size_t n, struct policy_set **out,
		     char *err, size_t errlen) POLICY_MUST_CHECK;

/* Free the set and wipe its keys. NULL is fine. */
void policy_set_free(struct policy_set *set);

size_t policy_set_count(const struct policy_set *set);

/* The i-th peer, in configuration order; NULL if i is out of range. */
const struct peer_policy *policy_set_peer(const struct policy_set *set, size_t i);

/* The peer called name, or NULL. O(log n). */
const struct peer_policy *policy_find_name(const struct policy_set *set, const char *name);

/* The PSK peer whose identity is exactly identity[0..len), or NULL. O(log n); the
 * identity is public (sent in clear), so the comparison need not be constant time. */
const struct peer_policy *policy_find_psk(const struct policy_set *set,
					  const uint8_t *identity, size_t len);

/* The peer whose allowed prefixes hold the longest match for dst (4 or 16 bytes),
 * or NULL. Allocation-free, O(address bits). */
const struct peer_policy *policy_route(const struct policy_set *set, int family,
				       const uint8_t *dst);

/* policy_route() on the destination of an IP packet; NULL if it is not one. */
const struct peer_policy *policy_route_packet(const struct policy_set *set,
					      const uint8_t *pkt, size_t len);

/* Whether the inner source address of the IPv4/IPv6 packet pkt[0..len) is inside
 * one of peer's allowed prefixes. A malformed or truncated packet is not allowed. */
bool policy_source_allowed(const struct peer_policy *peer, const uint8_t *pkt, size_t len);

#endif
