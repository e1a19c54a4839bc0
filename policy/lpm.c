/*
 * The path-compressed binary trie behind lpm.h.
 *
 * Every node holds a key masked to its length `cidr`. A child's cidr is larger than
 * its parent's, and it hangs on the side given by its key's bit at the parent's
 * cidr. Nodes without a value are glue: they exist only to branch, and always have
 * two children (a glue node left with one child is removed).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/lpm.h"

struct lpm_node {
	struct lpm_node *child[2];
	void *value;      /* NULL: a glue node */
	uint8_t key[16];  /* masked to cidr */
	uint8_t cidr;
};

static unsigned bit_at(const uint8_t *key, unsigned i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1u;
}

/* Number of leading bits on which a and b agree, at most max. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; n < max; i++, n += 8) {
		unsigned x = (unsigned)(a[i] ^ b[i]);
		if (x) {
			n += (unsigned)__builtin_clz(x) - (sizeof(unsigned) * 8 - 8);
			break;
		}
	}
	return n < max ? n : max;
}

static struct lpm_node **root_of(struct lpm *t, int family)
{
	switch (family) {
	case AF_INET:
		return &t->root4;
	case AF_INET6:
		return &t->root6;
	default:
		return NULL;
	}
}

static struct lpm_node *node_new(const uint8_t *key, unsigned cidr, void *value)
{
	struct lpm_node *n = calloc(1, sizeof(*n));
	struct ip_prefix p = { .family = AF_INET6, .len = (uint8_t)cidr };

	if (!n)
		return NULL;
	memcpy(p.addr, key, sizeof(p.addr));
	prefix_mask(&p);
	memcpy(n->key, p.addr, sizeof(n->key));
	n->cidr = (uint8_t)cidr;
	n->value = value;
	return n;
}

static void node_free(struct lpm_node *n)
{
	if (!n)
		return;
	node_free(n->child[0]);
	node_free(n->child[1]);
	free(n);
}

void lpm_init(struct lpm *t)
{
	memset(t, 0, sizeof(*t));
}

void lpm_free(struct lpm *t)
{
	node_free(t->root4);
	node_free(t->root6);
	lpm_init(t);
}

static bool prefix_ok(const struct ip_prefix *p)
{
	unsigned bits = prefix_family_bits(p->family);
	return bits && p->len <= bits;
}

int lpm_insert(struct lpm *t, const struct ip_prefix *p, void *value)
{
	struct lpm_node **link;

	if (!value || !prefix_ok(p))
		return -EINVAL;
	link = root_of(t, p->family);
	for (;;) {
		struct lpm_node *n = *link, *leaf, *glue;
		unsigned c;

		if (!n) {
			if (!(*link = node_new(p->addr, p->len, value)))
				return -ENOMEM;
			break;
		}
		c = common_bits(n->key, p->addr, n->cidr < p->len ? n->cidr : p->len);
		if (c == n->cidr && c == p->len) {
			if (n->value)
				return -EEXIST;
			n->value = value;
			break;
		}
		if (c == n->cidr) {
			/* n is a shorter prefix of p: descend. */
			link = &n->child[bit_at(p->addr, c)];
			continue;
		}
		/* p and n part at bit c (or p ends there). */
		if (!(leaf = node_new(p->addr, p->len, value)))
			return -ENOMEM;
		if (c == p->len) {
			leaf->child[bit_at(n->key, c)] = n;
			*link = leaf;
			break;
		}
		if (!(glue = node_new(p->addr, c, NULL))) {
			free(leaf);
			return -ENOMEM;
		}
		glue->child[bit_at(p->addr, c)] = leaf;
		glue->child[bit_at(n->key, c)] = n;
		*link = glue;
		break;
	}
	t->count++;
	return 0;
}

/* Drop the node at *link if it has no value and fewer than two children. */
static void collapse(struct lpm_node **link)
{
	struct lpm_node *n = *link;

	if (n->value || (n->child[0] && n->child[1]))
		return;
	*link = n->child[0] ? n->child[0] : n->child[1];
	free(n);
}

/* Recursion depth is bounded by the address bits (129 levels at most). */
static int remove_at(struct lpm_node **link, const struct ip_prefix *p, void **value_out)
{
	struct lpm_node *n = *link;

	if (!n || n->cidr > p->len || common_bits(n->key, p->addr, n->cidr) < n->cidr)
		return -ENOENT;
	if (n->cidr < p->len) {
		int rc = remove_at(&n->child[bit_at(p->addr, n->cidr)], p, value_out);
		if (rc < 0)
			return rc;
	} else {
		if (!n->value)
			return -ENOENT;
		if (value_out)
			*value_out = n->value;
		n->value = NULL;
	}
	collapse(link);
	return 0;
}

int lpm_remove(struct lpm *t, const struct ip_prefix *p, void **value_out)
{
	if (!prefix_ok(p))
		return -ENOENT;
	int rc = remove_at(root_of(t, p->family), p, value_out);
	if (rc == 0)
		t->count--;
	return rc;
}

void *lpm_lookup(const struct lpm *t, int family, const uint8_t *addr)
{
	const struct lpm_node *n;
	unsigned bits = prefix_family_bits(family);
	void *best = NULL;

	n = family == AF_INET ? t->root4 : family == AF_INET6 ? t->root6 : NULL;
	while (n && common_bits(n->key, addr, n->cidr) == n->cidr) {
		if (n->value)
			best = n->value;
		if (n->cidr == bits)
			break;
		n = n->child[bit_at(addr, n->cidr)];
	}
	return best;
}

void *lpm_get(const struct lpm *t, const struct ip_prefix *p)
{
	const struct lpm_node *n;

	if (!prefix_ok(p))
		return NULL;
	n = p->family == AF_INET ? t->root4 : t->root6;
	while (n && n->cidr <= p->len && common_bits(n->key, p->addr, n->cidr) == n->cidr) {
		if (n->cidr == p->len)
			return n->value;
		n = n->child[bit_at(p->addr, n->cidr)];
	}
	return NULL;
}
