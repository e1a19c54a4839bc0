/*
 * The sharded session map. The key's SipHash-1-3 under a random secret picks the
 * shard (top bits) and the bucket (low bits); each shard is a chained table that
 * doubles when it holds more than two nodes per bucket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "daemon/session_map.h"

#define SHARD_MIN_BUCKETS 8

struct shard {
	pthread_mutex_t lock;
	struct smap_node **buckets; /* n_buckets chains; under lock */
	size_t n_buckets;           /* a power of two */
	size_t count;
} __attribute__((aligned(64)));

struct session_map {
	uint64_t k0, k1; /* SipHash key, random, fixed for the map's life */
	atomic_size_t count;
	struct shard shards[SMAP_SHARDS];
};

/* ---- SipHash-1-3 (Aumasson, Bernstein), 64-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);      \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                         \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                         \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);      \
	} while (0)

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v; /* host order: the hash only needs to be stable within the process */
}

static uint64_t siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

_Static_assert(sizeof(struct smap_key) == 24, "smap_key has no padding");

static uint64_t key_hash(const struct session_map *m, const struct smap_key *k)
{
	return siphash13(m->k0, m->k1, (const uint8_t *)k, sizeof(*k));
}

static bool key_eq(const struct smap_key *a, const struct smap_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static struct shard *shard_of(struct session_map *m, uint64_t hash)
{
	return &m->shards[(hash >> 58) % SMAP_SHARDS];
}

/* ---- keys and nodes ---- */

int smap_key_from(struct smap_key *k, const struct sockaddr *sa, socklen_t len)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		k->family = AF_INET;
		k->port = in->sin_port;
		memcpy(k->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		k->family = AF_INET6;
		k->port = in6->sin6_port;
		k->scope = in6->sin6_scope_id;
		memcpy(k->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int smap_node_init(struct smap_node *n, const struct sockaddr *sa, socklen_t len,
		   void (*release)(struct smap_node *n))
{
	int rc = smap_key_from(&n->key, sa, len);

	if (rc < 0)
		return rc;
	n->next = NULL;
	n->linked = false;
	n->hash = 0;
	n->release = release;
	atomic_init(&n->refs, 1);
	return 0;
}

void smap_ref(struct smap_node *n)
{
	atomic_fetch_add_explicit(&n->refs, 1, memory_order_relaxed);
}

void smap_put(struct smap_node *n)
{
	if (n && atomic_fetch_sub_explicit(&n->refs, 1, memory_order_acq_rel) == 1)
		n->release(n);
}

/* ---- the map ---- */

int smap_new(struct session_map **out)
{
	struct session_map *m = calloc(1, sizeof(*m));
	uint64_t key[2];

	if (!m)
		return -ENOMEM;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		free(m);
		return -EIO;
	}
	m->k0 = key[0];
	m->k1 = key[1];
	atomic_init(&m->count, 0);
	for (size_t i = 0; i < SMAP_SHARDS; i++) {
		struct shard *s = &m->shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->buckets = calloc(SHARD_MIN_BUCKETS, sizeof(*s->buckets));
		s->n_buckets = SHARD_MIN_BUCKETS;
		if (!s->buckets) {
			smap_free(m);
			return -ENOMEM;
		}
	}
	*out = m;
	return 0;
}

void smap_free(struct session_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < SMAP_SHARDS; i++) {
		struct shard *s = &m->shards[i];
		for (size_t b = 0; s->buckets && b < s->n_buckets; b++) {
			while (s->buckets[b]) {
				struct smap_node *n = s->buckets[b];
				s->buckets[b] = n->next;
				n->next = NULL;
				n->linked = false;
				smap_put(n);
			}
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(m);
}

/* Doubles the table of s when it is crowded; a failed allocation only costs speed.
 * Must hold s->lock. */
static void shard_grow(struct shard *s)
{
	size_t nb = s->n_buckets * 2;
	struct smap_node **v;

	if (s->count <= 2 * s->n_buckets || nb > ((size_t)1 << 24))
		return;
	if (!(v = calloc(nb, sizeof(*v))))
		return;
	for (size_t b = 0; b < s->n_buckets; b++) {
		while (s->buckets[b]) {
			struct smap_node *n = s->buckets[b];
			s->buckets[b] = n->next;
			n->next = v[n->hash & (nb - 1)];
			v[n->hash & (nb - 1)] = n;
		}
	}
	free(s->buckets);
	s->buckets = v;
	s->n_buckets = nb;
}

/* The link that points at the node with key k, or at the NULL ending its chain.
 * Must hold s->lock. */
static struct smap_node **find(struct shard *s, uint64_t hash, const struct smap_key *k)
{
	struct smap_node **pp = &s->buckets[hash & (s->n_buckets - 1)];

	while (*pp && !((*pp)->hash == hash && key_eq(&(*pp)->key, k)))
		pp = &(*pp)->next;
	return pp;
}

static int link_node(struct session_map *m, struct smap_node *n, bool replace, struct smap_node **old)
{
	uint64_t hash = key_hash(m, &n->key);
	struct shard *s = shard_of(m, hash);
	struct smap_node **pp;
	int rc = 0;

	if (old)
		*old = NULL;
	pthread_mutex_lock(&s->lock);
	if (n->linked) {
		rc = -EINVAL;
		goto out;
	}
	n->hash = hash;
	pp = find(s, hash, &n->key);
	if (*pp) {
		if (!replace) {
			rc = -EEXIST;
			goto out;
		}
		struct smap_node *o = *pp;
		*pp = o->next;
		o->next = NULL;
		o->linked = false;
		s->count--;
		atomic_fetch_sub_explicit(&m->count, 1, memory_order_relaxed);
		*old = o; /* the map's reference goes with it */
		pp = find(s, hash, &n->key);
	}
	smap_ref(n);
	n->linked = true;
	n->next = *pp;
	*pp = n;
	s->count++;
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	shard_grow(s);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int smap_insert(struct session_map *m, struct smap_node *n)
{
	return link_node(m, n, false, NULL);
}

int smap_replace(struct session_map *m, struct smap_node *n, struct smap_node **old)
{
	return link_node(m, n, true, old);
}

struct smap_node *smap_get_key(struct session_map *m, const struct smap_key *k)
{
	uint64_t hash = key_hash(m, k);
	struct shard *s = shard_of(m, hash);
	struct smap_node *n;

	pthread_mutex_lock(&s->lock);
	n = *find(s, hash, k);
	if (n)
		smap_ref(n);
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct smap_node *smap_get(struct session_map *m, const struct sockaddr *sa, socklen_t len)
{
	struct smap_key k;

	if (smap_key_from(&k, sa, len) < 0)
		return NULL;
	return smap_get_key(m, &k);
}

bool smap_remove(struct session_map *m, struct smap_node *n)
{
	uint64_t hash = key_hash(m, &n->key);
	struct shard *s = shard_of(m, hash);
	struct smap_node **pp;
	bool removed = false;

	pthread_mutex_lock(&s->lock);
	if (n->linked) {
		pp = &s->buckets[hash & (s->n_buckets - 1)];
		while (*pp && *pp != n)
			pp = &(*pp)->next;
		if (*pp) {
			*pp = n->next;
			n->next = NULL;
			n->linked = false;
			s->count--;
			atomic_fetch_sub_explicit(&m->count, 1, memory_order_relaxed);
			removed = true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (removed)
		smap_put(n); /* the map's reference; the caller still holds its own */
	return removed;
}

bool smap_linked(struct session_map *m, struct smap_node *n)
{
	uint64_t hash = key_hash(m, &n->key);
	struct shard *s = shard_of(m, hash);
	bool linked;

	pthread_mutex_lock(&s->lock);
	linked = n->linked;
	pthread_mutex_unlock(&s->lock);
	return linked;
}

size_t smap_count(const struct session_map *m)
{
	return atomic_load_explicit(&m->count, memory_order_relaxed);
}

void smap_foreach(struct session_map *m, void (*fn)(struct smap_node *n, void *arg), void *arg)
{
	for (size_t i = 0; i < SMAP_SHARDS; i++) {
		struct shard *s = &m->shards[i];
		pthread_mutex_lock(&s->lock);
		for (size_t b = 0; b < s->n_buckets; b++)
			for (struct smap_node *n = s->buckets[b]; n; n = n->next)
				fn(n, arg);
		pthread_mutex_unlock(&s->lock);
	}
}
