/*
 * The sharded session map: UDP address of a peer -> session (DESIGN.md, "the data
 * path"). Like WireGuard's peerlookup.c: entries are reference-counted and the
 * hash is keyed with a random secret, so a sender cannot aim at one bucket.
 *
 * The map knows nothing of sessions: callers embed a struct smap_node in their
 * own object and give a release function, called when the last reference goes.
 *
 * Concurrency: SMAP_SHARDS shards, each with its own mutex over its chained
 * table; no operation takes more than one shard lock, and none takes a lock of
 * the caller's, so a shard lock is a leaf lock: a caller may hold its own locks
 * (a session's) while calling in, but smap_foreach()'s callback must not take
 * any lock or call back into the map. There is no global lock.
 *
 * References: the map holds one reference on every linked node. smap_get()
 * returns a new reference the caller must smap_put(). A node's key never changes
 * after smap_node_init().
 */
#ifndef DTLSGW_DAEMON_SESSION_MAP_H
#define DTLSGW_DAEMON_SESSION_MAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SMAP_MUST_CHECK __attribute__((warn_unused_result))
#define SMAP_SHARDS 64

/* An address as the map compares it: family, port, address, IPv6 scope. */
struct smap_key {
	uint16_t family; /* AF_INET or AF_INET6 */
	uint16_t port;   /* network order */
	uint32_t scope;  /* sin6_scope_id, 0 for IPv4 */
	uint8_t addr[16]; /* IPv4 in addr[0..3], the rest zero */
};

struct smap_node {
	struct smap_node *next;   /* shard chain; under the shard lock */
	bool linked;              /* in the map; under the shard lock */
	struct smap_key key;      /* immutable after smap_node_init() */
	uint64_t hash;            /* of key under the map's secret; set on insert */
	atomic_uint refs;
	void (*release)(struct smap_node *n); /* called once, when refs reaches 0 */
};

struct session_map;

/* A new, empty map with a fresh random hash key. -ENOMEM. */
int smap_new(struct session_map **out) SMAP_MUST_CHECK;

/* Unlinks every node (dropping the map's references) and frees the map. NULL is fine.
 * No other thread may use the map any more. */
void smap_free(struct session_map *m);

/* Sets n's key from a sockaddr_in or sockaddr_in6 and gives the caller one reference.
 * -EAFNOSUPPORT for any other address. */
int smap_node_init(struct smap_node *n, const struct sockaddr *sa, socklen_t len,
		   void (*release)(struct smap_node *n)) SMAP_MUST_CHECK;

/* The key of an address (for comparisons outside the map). -EAFNOSUPPORT. */
int smap_key_from(struct smap_key *k, const struct sockaddr *sa, socklen_t len) SMAP_MUST_CHECK;

/* Links n (the map takes its own reference). -EEXIST if its key is present; -EINVAL if n
 * is linked already. */
int smap_insert(struct session_map *m, struct smap_node *n) SMAP_MUST_CHECK;

/* Links n in place of the node with the same key, if any: that node is unlinked and
 * returned in *old together with the map's reference on it (the caller must put it);
 * *old is NULL if there was none. -EINVAL if n is linked already. */
int smap_replace(struct session_map *m, struct smap_node *n, struct smap_node **old) SMAP_MUST_CHECK;

/* The node of an address, with a new reference the caller must put; NULL if none. */
struct smap_node *smap_get(struct session_map *m, const struct sockaddr *sa, socklen_t len);
struct smap_node *smap_get_key(struct session_map *m, const struct smap_key *k);

/* Unlinks exactly n (not another node of the same key) and drops the map's reference.
 * Returns whether n was linked. The caller must hold a reference of its own. */
bool smap_remove(struct session_map *m, struct smap_node *n);

/* Whether n is linked at this moment (a hint: it may change right after). */
bool smap_linked(struct session_map *m, struct smap_node *n);

void smap_ref(struct smap_node *n);
/* Drops a reference; the last one calls n->release. NULL is fine. */
void smap_put(struct smap_node *n);

/* Number of linked nodes (a snapshot). */
size_t smap_count(const struct session_map *m);

/*
 * Calls fn for every linked node, shard by shard, with that shard's lock held. fn may
 * take a reference (smap_ref) to work on the node after the walk; it must not block,
 * take locks or call any other smap function. Nodes linked or unlinked during the
 * walk may or may not be seen.
 */
void smap_foreach(struct session_map *m, void (*fn)(struct smap_node *n, void *arg), void *arg);

#endif
