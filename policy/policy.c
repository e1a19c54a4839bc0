/* The immutable policy set: peers, name and PSK indexes, the route table. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"

struct policy_set {
	struct peer_policy *peers; /* owned copies, configuration order */
	size_t n;
	const struct peer_policy **by_name; /* sorted by name */
	const struct peer_policy **by_psk;  /* PSK peers sorted by (identity length, bytes) */
	size_t n_psk;
	struct lpm routes;                  /* allowed prefix -> peer */
};

static int cmp_name(const void *x, const void *y)
{
	const struct peer_policy *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

static int cmp_psk_key(size_t len_a, const uint8_t *id_a, size_t len_b, const uint8_t *id_b)
{
	if (len_a != len_b)
		return len_a < len_b ? -1 : 1;
	return memcmp(id_a, id_b, len_a);
}

static int cmp_psk(const void *x, const void *y)
{
	const struct peer_policy *const *a = x, *const *b = y;
	return cmp_psk_key((*a)->psk.identity_len, (*a)->psk.identity, (*b)->psk.identity_len,
			   (*b)->psk.identity);
}

struct first_conflict {
	const struct peer_policy *peers;
	char *err;
	size_t errlen;
	int seen;
};

static void describe_conflict(void *arg, const struct policy_conflict *c)
{
	struct first_conflict *fc = arg;
	const struct peer_policy *a = &fc->peers[c->a], *b = &fc->peers[c->b];
	char pa[PREFIX_STRLEN], pb[PREFIX_STRLEN];

	if (fc->seen++ || !fc->err || !fc->errlen)
		return;
	switch (c->kind) {
	case POLICY_CONFLICT_NAME:
		snprintf(fc->err, fc->errlen, "two peers are called %s", a->name);
		break;
	case POLICY_CONFLICT_PSK_IDENTITY:
		snprintf(fc->err, fc->errlen, "peers %s and %s have the same PSK identity",
			 a->name, b->name);
		break;
	case POLICY_CONFLICT_PREFIX:
		snprintf(fc->err, fc->errlen, "allowed prefix %s of peer %s overlaps %s of peer %s",
			 prefix_format(&b->allowed[c->prefix_b], pb), b->name,
			 prefix_format(&a->allowed[c->prefix_a], pa), a->name);
		break;
	}
}

static void set_err(char *err, size_t errlen, const char *msg, const char *name)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", name ? "peer " : "", name ? name : "", msg);
}

/* Whether p is a certificate peer with at least one constraint (else it matches nothing). */
static bool cert_constrained(const struct peer_policy *p)
{
	return p->auth == PEER_AUTH_CERT && (p->cert.cn || p->cert.san || p->cert.has_pin);
}

bool policy_cert_ambiguous(const struct peer_policy *a, const struct peer_policy *b)
{
	if (!cert_constrained(a) || !cert_constrained(b))
		return false;
	if (a->cert.cn && b->cert.cn && strcasecmp(a->cert.cn, b->cert.cn) != 0)
		return false;
	if (a->cert.has_pin && b->cert.has_pin && memcmp(a->cert.pin_sha256, b->cert.pin_sha256, PEER_PIN_LEN) != 0)
		return false;
	return true;
}

size_t policy_find_cert_ambiguities(const struct peer_policy *peers, size_t n, policy_ambiguity_fn fn,
				    void *arg)
{
	size_t count = 0;

	for (size_t b = 1; b < n; b++) {
		for (size_t a = 0; a < b; a++) {
			if (!policy_cert_ambiguous(&peers[a], &peers[b]))
				continue;
			count++;
			if (fn)
				fn(arg, a, b);
			break;
		}
	}
	return count;
}

bool policy_cert_san_valid(const char *san)
{
	uint8_t addr[16];

	if (!san || !*san)
		return false;
	if (inet_pton(AF_INET, san, addr) == 1 || inet_pton(AF_INET6, san, addr) == 1)
		return true;
	return strspn(san, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*") == strlen(san);
}

struct first_ambiguity {
	const struct peer_policy *peers;
	char *err;
	size_t errlen;
};

static void describe_ambiguity(void *arg, size_t a, size_t b)
{
	struct first_ambiguity *fa = arg;

	if (!fa->err || !fa->errlen)
		return;
	snprintf(fa->err, fa->errlen, "peers %s and %s can match the same certificate; give them "
		 "different cert_cn or different cert_pin_sha256", fa->peers[a].name, fa->peers[b].name);
	fa->err = NULL; /* the first one only */
}

int policy_set_build(const struct peer_policy *peers, size_t n, struct policy_set **out,
		     char *err, size_t errlen)
{
	struct first_conflict fc = { peers, err, errlen, 0 };
	struct first_ambiguity fa = { peers, err, errlen };
	struct policy_set *set;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (peers[i].auth != PEER_AUTH_PSK && peers[i].auth != PEER_AUTH_CERT) {
			set_err(err, errlen, " has no identity", peers[i].name);
			return -EINVAL;
		}
		if (peers[i].auth == PEER_AUTH_CERT && peers[i].cert.san &&
		    !policy_cert_san_valid(peers[i].cert.san)) {
			set_err(err, errlen, ": cert_san is neither a DNS name nor an IP address", peers[i].name);
			return -EINVAL;
		}
	}
	rc = policy_find_conflicts(peers, n, describe_conflict, &fc);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return -EEXIST;
	if (policy_find_cert_ambiguities(peers, n, describe_ambiguity, &fa) > 0)
		return -EEXIST;

	if (!(set = calloc(1, sizeof(*set))))
		return -ENOMEM;
	lpm_init(&set->routes);
	if (n && (!(set->peers = calloc(n, sizeof(*set->peers))) ||
		  !(set->by_name = calloc(n, sizeof(*set->by_name))) ||
		  !(set->by_psk = calloc(n, sizeof(*set->by_psk)))))
		goto nomem;
	for (; set->n < n; set->n++)
		if (peer_policy_copy(&set->peers[set->n], &peers[set->n]) < 0)
			goto nomem;

	for (size_t i = 0; i < n; i++) {
		const struct peer_policy *p = &set->peers[i];
		set->by_name[i] = p;
		if (p->auth == PEER_AUTH_PSK)
			set->by_psk[set->n_psk++] = p;
		for (size_t k = 0; k < p->n_allowed; k++) {
			/* No conflicts, so a prefix can only repeat within this peer.
			 * The table never writes through its values: the cast only
			 * drops const for storage. */
			rc = lpm_insert(&set->routes, &p->allowed[k], (void *)p);
			if (rc == -EEXIST && lpm_get(&set->routes, &p->allowed[k]) == p)
				rc = 0;
			if (rc < 0) {
				policy_set_free(set);
				return rc;
			}
		}
	}
	if (n) {
		qsort(set->by_name, n, sizeof(*set->by_name), cmp_name);
		qsort(set->by_psk, set->n_psk, sizeof(*set->by_psk), cmp_psk);
	}
	*out = set;
	return 0;
nomem:
	policy_set_free(set);
	set_err(err, errlen, "out of memory", NULL);
	return -ENOMEM;
}

void policy_set_free(struct policy_set *set)
{
	if (!set)
		return;
	lpm_free(&set->routes);
	for (size_t i = 0; i < set->n; i++)
		peer_policy_clear(&set->peers[i]);
	free(set->peers);
	free(set->by_name);
	free(set->by_psk);
	free(set);
}

size_t policy_set_count(const struct policy_set *set)
{
	return set->n;
}

const struct peer_policy *policy_set_peer(const struct policy_set *set, size_t i)
{
	return i < set->n ? &set->peers[i] : NULL;
}

const struct peer_policy *policy_find_name(const struct policy_set *set, const char *name)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, set->by_name[mid]->name);
		if (c == 0)
			return set->by_name[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct peer_policy *policy_find_psk(const struct policy_set *set,
					  const uint8_t *identity, size_t len)
{
	size_t lo = 0, hi = set->n_psk;

	if (!identity || len == 0 || len > PEER_PSK_IDENTITY_MAX)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct peer_policy *p = set->by_psk[mid];
		int c = cmp_psk_key(len, identity, p->psk.identity_len, p->psk.identity);
		if (c == 0)
			return p;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct peer_policy *policy_route(const struct policy_set *set, int family,
				       const uint8_t *dst)
{
	return lpm_lookup(&set->routes, family, dst);
}

const struct peer_policy *policy_route_packet(const struct policy_set *set,
					      const uint8_t *pkt, size_t len)
{
	struct ip_addrs a;

	if (ip_packet_addrs(pkt, len, &a) < 0)
		return NULL;
	return policy_route(set, a.family, a.dst);
}

bool policy_source_allowed(const struct peer_policy *peer, const uint8_t *pkt, size_t len)
{
	struct ip_addrs a;

	if (!peer || ip_packet_addrs(pkt, len, &a) < 0)
		return false;
	return peer_allows_addr(peer, a.family, a.src);
}
