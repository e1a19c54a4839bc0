/*
 * Longest-prefix-match table: inner destination address -> value (a peer), one
 * path-compressed binary trie per address family.
 *
 * Concurrency: none inside. Build the table with lpm_insert()/lpm_remove() from one
 * thread, then treat it as immutable: any number of threads may call lpm_lookup()
 * at once without locks as long as nobody modifies it. The daemon replaces a whole
 * table on reload (build a new one, swap the pointer, free the old one once no
 * worker can still hold it); it never edits a table that workers read.
 *
 * Ownership: the table owns its nodes, not the values; lpm_free() frees the nodes.
 */
#ifndef DTLSGW_POLICY_LPM_H
#define DTLSGW_POLICY_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "policy/prefix.h"

struct lpm_node;

struct lpm {
	struct lpm_node *root4; /* AF_INET */
	struct lpm_node *root6; /* AF_INET6 */
	size_t count;           /* prefixes with a value */
};

/* An empty table (all zero is also an empty table). */
void lpm_init(struct lpm *t);

/* Free the nodes; the table is empty afterwards. */
void lpm_free(struct lpm *t);

/*
 * Map the prefix (its host bits are ignored) to value, which must not be NULL.
 * Returns 0, -EEXIST if the same prefix is already mapped, -EINVAL for a bad
 * prefix or NULL value, -ENOMEM.
 */
int lpm_insert(struct lpm *t, const struct ip_prefix *p, void *value) POLICY_MUST_CHECK;

/* Unmap exactly this prefix; *value_out (may be NULL) gets its value.
 * Returns 0 or -ENOENT. */
int lpm_remove(struct lpm *t, const struct ip_prefix *p, void **value_out) POLICY_MUST_CHECK;

/* The value of the longest prefix containing addr (4 or 16 bytes in network order),
 * or NULL. Allocation-free, lock-free, O(address bits). */
void *lpm_lookup(const struct lpm *t, int family, const uint8_t *addr);

/* The value mapped to exactly this prefix, or NULL. */
void *lpm_get(const struct lpm *t, const struct ip_prefix *p);

#endif
