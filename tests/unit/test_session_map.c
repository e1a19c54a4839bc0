/* daemon/session_map: keys, references, replace, growth, foreach, and two threads
 * inserting, looking up and removing at once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/session_map.h"
#include "harness.h"

struct item {
	struct smap_node node;
	int id;
	atomic_int *released;
};

static void item_release(struct smap_node *n)
{
	struct item *it = (struct item *)((char *)n - offsetof(struct item, node));

	atomic_fetch_add(it->released, 1);
	free(it);
}

static struct sockaddr_in v4(uint32_t addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(addr);
	return a;
}

static struct sockaddr_in6 v6(uint32_t low, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	a.sin6_addr.s6_addr[0] = 0xfd;
	memcpy(&a.sin6_addr.s6_addr[12], &low, 4);
	return a;
}

static struct item *item_new(const void *sa, socklen_t len, int id, atomic_int *released)
{
	struct item *it = calloc(1, sizeof(*it));

	CU_ASSERT_FATAL(it != NULL);
	CU_ASSERT_FATAL(smap_node_init(&it->node, sa, len, item_release) == 0);
	it->id = id;
	it->released = released;
	return it;
}

static int id_of(struct smap_node *n)
{
	return ((struct item *)((char *)n - offsetof(struct item, node)))->id;
}

static void test_basic(void)
{
	struct session_map *m;
	atomic_int released = 0;
	struct sockaddr_in a = v4(0xc0000201, 4433), b = v4(0xc0000201, 4434);
	struct sockaddr_in6 c = v6(0xc0000201, 4433);
	struct item *ia, *ib, *ic, *dup;
	struct smap_node *n;

	CU_ASSERT_FATAL(smap_new(&m) == 0);
	ia = item_new(&a, sizeof(a), 1, &released);
	ib = item_new(&b, sizeof(b), 2, &released);
	ic = item_new(&c, sizeof(c), 3, &released);
	CU_ASSERT_EQUAL(smap_insert(m, &ia->node), 0);
	CU_ASSERT_EQUAL(smap_insert(m, &ia->node), -EINVAL); /* linked already */
	CU_ASSERT_EQUAL(smap_insert(m, &ib->node), 0);       /* other port */
	CU_ASSERT_EQUAL(smap_insert(m, &ic->node), 0);       /* other family */
	CU_ASSERT_EQUAL(smap_count(m), 3);

	dup = item_new(&a, sizeof(a), 4, &released);
	CU_ASSERT_EQUAL(smap_insert(m, &dup->node), -EEXIST);

	n = smap_get(m, (struct sockaddr *)&a, sizeof(a));
	CU_ASSERT_PTR_EQUAL(n, &ia->node);
	CU_ASSERT_EQUAL(atomic_load(&n->refs), 3); /* ours, the map's, the get's */
	smap_put(n);
	n = smap_get(m, (struct sockaddr *)&c, sizeof(c));
	CU_ASSERT_FATAL(n != NULL);
	CU_ASSERT_EQUAL(id_of(n), 3);
	smap_put(n);

	/* replace: the old node comes back with the map's reference */
	struct smap_node *old = NULL;
	CU_ASSERT_EQUAL(smap_replace(m, &dup->node, &old), 0);
	CU_ASSERT_PTR_EQUAL(old, &ia->node);
	CU_ASSERT_FALSE(smap_linked(m, &ia->node));
	CU_ASSERT_TRUE(smap_linked(m, &dup->node));
	CU_ASSERT_EQUAL(smap_count(m), 3);
	/* removing the old node does nothing now: it is not the one linked */
	CU_ASSERT_FALSE(smap_remove(m, &ia->node));
	smap_put(old);
	smap_put(&ia->node);
	CU_ASSERT_EQUAL(atomic_load(&released), 1);
	n = smap_get(m, (struct sockaddr *)&a, sizeof(a));
	CU_ASSERT_FATAL(n != NULL);
	CU_ASSERT_EQUAL(id_of(n), 4);
	smap_put(n);

	CU_ASSERT_TRUE(smap_remove(m, &ib->node));
	CU_ASSERT_FALSE(smap_remove(m, &ib->node));
	CU_ASSERT_PTR_NULL(smap_get(m, (struct sockaddr *)&b, sizeof(b)));
	smap_put(&ib->node);
	CU_ASSERT_EQUAL(atomic_load(&released), 2);
	CU_ASSERT_EQUAL(smap_count(m), 2);

	smap_put(&ic->node);
	smap_put(&dup->node);
	CU_ASSERT_EQUAL(atomic_load(&released), 2); /* the map still holds them */
	smap_free(m);
	CU_ASSERT_EQUAL(atomic_load(&released), 4);
}

static void test_bad_family(void)
{
	struct item it;
	struct sockaddr sa = { .sa_family = AF_UNIX };
	struct sockaddr_in a = v4(1, 1);

	CU_ASSERT_EQUAL(smap_node_init(&it.node, &sa, sizeof(sa), item_release), -EAFNOSUPPORT);
	/* a truncated address is not an address */
	CU_ASSERT_EQUAL(smap_node_init(&it.node, (struct sockaddr *)&a, 4, item_release),
			-EAFNOSUPPORT);
}

static void count_cb(struct smap_node *n, void *arg)
{
	(void)n;
	(*(size_t *)arg)++;
}

static void test_grow_and_foreach(void)
{
	enum { N = 20000 };
	struct session_map *m;
	atomic_int released = 0;
	size_t seen = 0;

	CU_ASSERT_FATAL(smap_new(&m) == 0);
	for (int i = 0; i < N; i++) {
		struct sockaddr_in a = v4(0x0a000000u + (uint32_t)i, (uint16_t)(1000 + i % 7));
		struct item *it = item_new(&a, sizeof(a), i, &released);
		CU_ASSERT_EQUAL(smap_insert(m, &it->node), 0);
		smap_put(&it->node); /* the map keeps it */
	}
	CU_ASSERT_EQUAL(smap_count(m), N);
	for (int i = 0; i < N; i++) {
		struct sockaddr_in a = v4(0x0a000000u + (uint32_t)i, (uint16_t)(1000 + i % 7));
		struct smap_node *n = smap_get(m, (struct sockaddr *)&a, sizeof(a));
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_EQUAL(id_of(n), i);
		smap_put(n);
	}
	smap_foreach(m, count_cb, &seen);
	CU_ASSERT_EQUAL(seen, N);
	CU_ASSERT_EQUAL(atomic_load(&released), 0);
	smap_free(m);
	CU_ASSERT_EQUAL(atomic_load(&released), N);
}

/* ---- two threads at once ---- */

enum { KEYS = 512, ROUNDS = 40 };

struct racer {
	struct session_map *m;
	atomic_int *released, *created;
	uint32_t base;   /* own keys: base..base+KEYS */
	uint32_t other;  /* the other thread's keys, looked up only */
	int errors;
};

/* Each thread inserts its own keys, looks them and the other thread's up (which may
 * or may not be there), replaces and removes; plus a shared range both fight over. */
static void *race(void *arg)
{
	struct racer *r = arg;

	for (int round = 0; round < ROUNDS; round++) {
		struct item *mine[KEYS];
		for (uint32_t i = 0; i < KEYS; i++) {
			struct sockaddr_in a = v4(r->base + i, 4433);
			mine[i] = item_new(&a, sizeof(a), (int)(r->base + i), r->released);
			atomic_fetch_add(r->created, 1);
			if (smap_insert(r->m, &mine[i]->node) != 0)
				r->errors++;
		}
		for (uint32_t i = 0; i < KEYS; i++) {
			struct sockaddr_in a = v4(r->base + i, 4433), o = v4(r->other + i, 4433);
			struct smap_node *n = smap_get(r->m, (struct sockaddr *)&a, sizeof(a));
			if (!n || id_of(n) != (int)(r->base + i))
				r->errors++;
			smap_put(n);
			n = smap_get(r->m, (struct sockaddr *)&o, sizeof(o));
			if (n && id_of(n) != (int)(r->other + i))
				r->errors++;
			smap_put(n);
		}
		/* the shared keys: insert-or-replace, get, remove what we linked */
		for (uint32_t i = 0; i < KEYS / 4; i++) {
			struct sockaddr_in6 a = v6(i, 9);
			struct item *it = item_new(&a, sizeof(a), (int)i, r->released);
			struct smap_node *old = NULL, *n;
			atomic_fetch_add(r->created, 1);
			if (smap_replace(r->m, &it->node, &old) != 0)
				r->errors++;
			smap_put(old);
			n = smap_get(r->m, (struct sockaddr *)&a, sizeof(a));
			if (n && id_of(n) != (int)i)
				r->errors++;
			smap_put(n);
			(void)smap_remove(r->m, &it->node); /* the other thread may have replaced it */
			smap_put(&it->node);
		}
		for (uint32_t i = 0; i < KEYS; i++) {
			if (!smap_remove(r->m, &mine[i]->node))
				r->errors++;
			smap_put(&mine[i]->node);
		}
	}
	return NULL;
}

static void test_two_threads(void)
{
	struct session_map *m;
	atomic_int released = 0, created = 0;
	pthread_t t1, t2;

	CU_ASSERT_FATAL(smap_new(&m) == 0);
	struct racer a = { m, &released, &created, 0x0a000000u, 0x0b000000u, 0 };
	struct racer b = { m, &released, &created, 0x0b000000u, 0x0a000000u, 0 };
	CU_ASSERT_FATAL(pthread_create(&t1, NULL, race, &a) == 0);
	CU_ASSERT_FATAL(pthread_create(&t2, NULL, race, &b) == 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CU_ASSERT_EQUAL(a.errors, 0);
	CU_ASSERT_EQUAL(b.errors, 0);
	CU_ASSERT_EQUAL(smap_count(m), 0);
	CU_ASSERT_EQUAL(atomic_load(&released), atomic_load(&created));
	smap_free(m);
}

static CU_TestInfo tests[] = {
	{ "insert, get, replace, remove, references", test_basic },
	{ "addresses that are not IPv4 or IPv6", test_bad_family },
	{ "20000 nodes: growth, lookups, foreach", test_grow_and_foreach },
	{ "two threads inserting, looking up, removing", test_two_threads },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "session_map", NULL, NULL, tests };
