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
 * Returns 0, -EEXIST if the peers conflict (policy_find_conflicts()) or two
 * certificate peers could match one certificate (policy_find_cert_ambiguities());
 * the first problem is described in err, which may be NULL. -EINVAL if a peer has
 * no identity or a cert_san that is no DNS name or IP address
 * (policy_cert_san_valid()), -ENOMEM.
 */
int policy_set_build(const struct peer_policy *peers, size_t n, struct policy_set **out,
		     char *err, size_t errlen) POLICY_MUST_CHECK;

/*
 * Whether one certificate can satisfy the identities of both certificate peers a and
 * b, so that which one it is taken for would depend on the order of the peers. The
 * server matches a certificate to a peer by cert_cn (the subject's one CN, ASCII case
 * ignored), cert_san (one of its DNS or IP SANs) and cert_pin_sha256 (its key), every
 * constraint present having to hold, and only then checks the chain against that
 * peer's CAs. So two peers are told apart only when
 *   - both have a cert_cn and the two differ (ignoring ASCII case): a matching
 *     certificate has exactly one CN; or
 *   - both have a cert_pin_sha256 and the two differ: a certificate has one key.
 * Anything else leaves them ambiguous: different cert_san values (one certificate
 * carries many SANs), a cert_cn against a cert_san (two kinds of name, both may be
 * present), a constraint only one of them has, and different CAs (a CA may be
 * cross-signed by, or sit in the ca file of, another peer's). A peer without any
 * constraint matches nothing and is ambiguous with no one; so is a PSK peer.
 */
bool policy_cert_ambiguous(const struct peer_policy *a, const struct peer_policy *b);

/*
 * Call fn (may be NULL) for every peer b of peers[0..n) that is ambiguous
 * (policy_cert_ambiguous()) with an earlier peer, once, with the first such a < b.
 * O(n^2) in the number of certificate peers. Returns the number of such b.
 */
typedef void (*policy_ambiguity_fn)(void *arg, size_t a, size_t b);
size_t policy_find_cert_ambiguities(const struct peer_policy *peers, size_t n, policy_ambiguity_fn fn,
				    void *arg);

/*
 * Whether san can be a cert_san: an IPv4 or IPv6 address literal, or a DNS name made
 * of letters, digits and "-_.*" (compared as text, no wildcard expansion). E-mail
 * addresses, URIs and anything else are refused: the server compares cert_san with
 * DNS and IP SANs only.
 */
bool policy_cert_san_valid(const char *san);

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
