/* Conflict detection by sorting: equal keys and nested prefixes end up adjacent. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "policy/conflict.h"

struct item {
	const struct peer_policy *peer;
	size_t peer_idx;
	size_t prefix_idx;
};

static int cmp_idx(const struct item *a, const struct item *b)
{
	if (a->peer_idx != b->peer_idx)
		return a->peer_idx < b->peer_idx ? -1 : 1;
	if (a->prefix_idx != b->prefix_idx)
		return a->prefix_idx < b->prefix_idx ? -1 : 1;
	return 0;
}

static int cmp_name(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c = strcmp(a->peer->name, b->peer->name);
	return c ? c : cmp_idx(a, b);
}

static int cmp_identity(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	const struct peer_psk *pa = &a->peer->psk, *pb = &b->peer->psk;

	if (pa->identity_len != pb->identity_len)
		return pa->identity_len < pb->identity_len ? -1 : 1;
	int c = memcmp(pa->identity, pb->identity, pa->identity_len);
	return c ? c : cmp_idx(a, b);
}

static const struct ip_prefix *item_prefix(const struct item *it)
{
	return &it->peer->allowed[it->prefix_idx];
}

static int cmp_prefix(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c = prefix_cmp(item_prefix(a), item_prefix(b));
	return c ? c : cmp_idx(a, b);
}

static void report(policy_conflict_fn fn, void *arg, enum policy_conflict_kind kind,
		   const struct item *x, const struct item *y, int *count)
{
	struct policy_conflict c = { .kind = kind };
	const struct item *first = cmp_idx(x, y) < 0 ? x : y, *second = first == x ? y : x;

	c.a = first->peer_idx;
	c.b = second->peer_idx;
	if (kind == POLICY_CONFLICT_PREFIX) {
		c.prefix_a = first->prefix_idx;
		c.prefix_b = second->prefix_idx;
	}
	if (*count < INT_MAX)
		(*count)++;
	if (fn)
		fn(arg, &c);
}

/* Runs of equal keys in a sorted array: every later member against the first. */
static void equal_runs(struct item *v, size_t n, int (*cmp)(const void *, const void *),
		       enum policy_conflict_kind kind, policy_conflict_fn fn, void *arg,
		       int *count)
{
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0, first = 0; i < n; i++) {
		struct item a = v[first], b = v[i];
		/* Equal keys differ only in their indices. */
		a.peer_idx = b.peer_idx = 0;
		a.prefix_idx = b.prefix_idx = 0;
		if (i == first || cmp(&a, &b) != 0)
			first = i;
		else
			report(fn, arg, kind, &v[first], &v[i], count);
	}
}

/*
 * Sorted by prefix, every prefix that contains p comes before p, and everything
 * between a prefix and one it contains is contained too. So a stack of the open
 * (still containing) prefixes holds exactly the prefixes that contain the next one.
 */
static int nested_prefixes(struct item *v, size_t n, policy_conflict_fn fn, void *arg,
			   int *count)
{
	size_t *stack, depth = 0;

	if (n == 0)
		return 0;
	if (!(stack = calloc(n, sizeof(*stack))))
		return -ENOMEM;
	qsort(v, n, sizeof(*v), cmp_prefix);
	for (size_t i = 0; i < n; i++) {
		const struct ip_prefix *p = item_prefix(&v[i]);
		while (depth && !prefix_contains(item_prefix(&v[stack[depth - 1]]), p))
			depth--;
		for (size_t k = 0; k < depth; k++)
			if (v[stack[k]].peer_idx != v[i].peer_idx)
				report(fn, arg, POLICY_CONFLICT_PREFIX, &v[stack[k]], &v[i], count);
		stack[depth++] = i;
	}
	free(stack);
	return 0;
}

int policy_find_conflicts(const struct peer_policy *peers, size_t n, policy_conflict_fn fn,
			  void *arg)
{
	size_t n_prefixes = 0, m = 0;
	struct item *v;
	int count = 0;

	for (size_t i = 0; i < n; i++)
		n_prefixes += peers[i].n_allowed;
	v = calloc(n > n_prefixes ? n : n_prefixes, sizeof(*v));
	if (!v && (n || n_prefixes))
		return -ENOMEM;

	for (size_t i = 0; i < n; i++)
		v[i] = (struct item){ &peers[i], i, 0 };
	equal_runs(v, n, cmp_name, POLICY_CONFLICT_NAME, fn, arg, &count);

	for (size_t i = 0; i < n; i++)
		if (peers[i].auth == PEER_AUTH_PSK)
			v[m++] = (struct item){ &peers[i], i, 0 };
	equal_runs(v, m, cmp_identity, POLICY_CONFLICT_PSK_IDENTITY, fn, arg, &count);

	m = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < peers[i].n_allowed; k++)
			v[m++] = (struct item){ &peers[i], i, k };
	int rc = nested_prefixes(v, m, fn, arg, &count);
	free(v);
	return rc < 0 ? rc : count;
}

