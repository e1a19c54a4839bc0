/* The peer model: construction, copy, teardown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/peer.h"

void peer_policy_init(struct peer_policy *p)
{
	memset(p, 0, sizeof(*p));
}

void peer_policy_clear(struct peer_policy *p)
{
	for (size_t i = 0; i < p->cert.n_ca_files; i++)
		free(p->cert.ca_files[i]);
	free(p->cert.ca_files);
	free(p->cert.cn);
	free(p->cert.san);
	free(p->allowed);
	explicit_bzero(p, sizeof(*p));
}

static int dup_str(char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int peer_policy_copy(struct peer_policy *dst, const struct peer_policy *src)
{
	*dst = *src;
	dst->cert.ca_files = NULL;
	dst->cert.n_ca_files = 0;
	dst->cert.cn = dst->cert.san = NULL;
	dst->allowed = NULL;
	dst->n_allowed = 0;

	if (dup_str(&dst->cert.cn, src->cert.cn) < 0 || dup_str(&dst->cert.san, src->cert.san) < 0)
		goto nomem;
	for (size_t i = 0; i < src->cert.n_ca_files; i++)
		if (peer_add_ca_file(dst, src->cert.ca_files[i]) < 0)
			goto nomem;
	if (src->n_allowed) {
		dst->allowed = calloc(src->n_allowed, sizeof(*dst->allowed));
		if (!dst->allowed)
			goto nomem;
		memcpy(dst->allowed, src->allowed, src->n_allowed * sizeof(*dst->allowed));
		dst->n_allowed = src->n_allowed;
	}
	return 0;
nomem:
	peer_policy_clear(dst);
	return -ENOMEM;
}

bool peer_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PEER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int peer_set_name(struct peer_policy *p, const char *name)
{
	if (!peer_name_valid(name))
		return -EINVAL;
	memcpy(p->name, name, strlen(name) + 1);
	return 0;
}

int peer_set_psk(struct peer_policy *p, const void *identity, size_t identity_len,
		 const uint8_t *key, size_t key_len)
{
	if (identity_len == 0 || key_len == 0)
		return -EINVAL;
	if (identity_len > PEER_PSK_IDENTITY_MAX || key_len > PEER_PSK_KEY_MAX)
		return -E2BIG;
	explicit_bzero(&p->psk, sizeof(p->psk));
	memcpy(p->psk.identity, identity, identity_len);
	p->psk.identity_len = identity_len;
	memcpy(p->psk.key, key, key_len);
	p->psk.key_len = key_len;
	p->auth = PEER_AUTH_PSK;
	return 0;
}

int peer_add_allowed(struct peer_policy *p, const struct ip_prefix *pfx)
{
	unsigned bits = prefix_family_bits(pfx->family);
	struct ip_prefix *v;

	if (!bits || pfx->len > bits)
		return -EINVAL;
	v = reallocarray(p->allowed, p->n_allowed + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->allowed = v;
	v[p->n_allowed] = *pfx;
	prefix_mask(&v[p->n_allowed]);
	p->n_allowed++;
	return 0;
}

int peer_add_ca_file(struct peer_policy *p, const char *path)
{
	char **v, *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	v = reallocarray(p->cert.ca_files, p->cert.n_ca_files + 1, sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	p->cert.ca_files = v;
	v[p->cert.n_ca_files++] = copy;
	return 0;
}

static int set_str(char **slot, const char *s)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int peer_set_cert_cn(struct peer_policy *p, const char *cn)
{
	return set_str(&p->cert.cn, cn);
}

int peer_set_cert_san(struct peer_policy *p, const char *san)
{
	return set_str(&p->cert.san, san);
}

bool peer_allows_addr(const struct peer_policy *p, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < p->n_allowed; i++)
		if (prefix_contains_addr(&p->allowed[i], family, addr))
			return true;
	return false;
}
