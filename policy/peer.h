/*
 * The peer model: who a peer is (name, PSK or certificate identity), which inner
 * addresses it may use, where to reach it, and how often to say hello.
 *
 * Ownership: a struct peer_policy owns every pointer in it (CA paths, CN/SAN
 * strings, the prefix array). peer_policy_clear() frees them and wipes the key.
 * Copy only with peer_policy_copy(). A peer is read-only once it is in a
 * policy_set (policy.h).
 */
#ifndef DTLSGW_POLICY_PEER_H
#define DTLSGW_POLICY_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "policy/defs.h"
#include "policy/prefix.h"

#define PEER_NAME_MAX 32          /* bytes, [A-Za-z0-9._-] */
#define PEER_PSK_IDENTITY_MAX 128 /* bytes of UTF-8 */
#define PEER_PSK_KEY_MAX 64       /* bytes */
#define PEER_PSK_KEY_MIN 16       /* bytes: shorter keys are refused by the config */
#define PEER_PIN_LEN 32           /* SHA-256 */
#define PEER_SUITES_MAX 32        /* cipher suites a peer's own `ciphers` may list */

enum peer_auth {
	PEER_AUTH_NONE = 0, /* not configured yet */
	PEER_AUTH_PSK,
	PEER_AUTH_CERT,
};

struct peer_psk {
	uint8_t identity[PEER_PSK_IDENTITY_MAX]; /* not NUL-terminated */
	size_t identity_len;
	uint8_t key[PEER_PSK_KEY_MAX]; /* secret */
	size_t key_len;
};

/* A certificate identity: the chain must verify against ca_files (or, when empty,
 * the gateway's own trust store) and every present constraint must hold. */
struct peer_cert {
	char **ca_files; /* owned, n_ca_files paths */
	size_t n_ca_files;
	char *cn;        /* owned; required subject commonName, or NULL */
	char *san;       /* owned; required subjectAltName: a DNS name or an IP address
			  * (policy_cert_san_valid()), or NULL */
	bool has_pin;
	uint8_t pin_sha256[PEER_PIN_LEN]; /* SHA-256 of the DER SubjectPublicKeyInfo */
};

struct peer_policy {
	char name[PEER_NAME_MAX + 1];
	enum peer_auth auth;
	struct peer_psk psk;   /* meaningful when auth == PEER_AUTH_PSK */
	struct peer_cert cert; /* meaningful when auth == PEER_AUTH_CERT */
	struct ip_prefix *allowed; /* owned, n_allowed masked prefixes */
	size_t n_allowed;
	bool has_endpoint;     /* present: we initiate (DTLS client); absent: we wait */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	unsigned keepalive;    /* seconds between keepalives; 0: none */
	/* The peer's own cipher suites (code points, in order of preference); none: the
	 * gateway's. */
	uint16_t suites[PEER_SUITES_MAX];
	size_t n_suites;
};

/* An empty peer (all zero is also an empty peer). */
void peer_policy_init(struct peer_policy *p);

/* Free what p owns, wipe the key, leave p empty. */
void peer_policy_clear(struct peer_policy *p);

/* Deep-copy src into dst (which must be empty or cleared). -ENOMEM leaves dst empty. */
int peer_policy_copy(struct peer_policy *dst, const struct peer_policy *src) POLICY_MUST_CHECK;

/* Whether name is a valid peer name: 1..PEER_NAME_MAX of [A-Za-z0-9._-]. */
bool peer_name_valid(const char *name);

/* Set the name; -EINVAL unless peer_name_valid(). */
int peer_set_name(struct peer_policy *p, const char *name) POLICY_MUST_CHECK;

/* Make p a PSK peer. -E2BIG if the identity or key is too long, -EINVAL if empty. */
int peer_set_psk(struct peer_policy *p, const void *identity, size_t identity_len,
		 const uint8_t *key, size_t key_len) POLICY_MUST_CHECK;

/* Append a masked copy of pfx to the allowed prefixes. -EINVAL, -ENOMEM. */
int peer_add_allowed(struct peer_policy *p, const struct ip_prefix *pfx) POLICY_MUST_CHECK;

/* Append a trusted CA file path (copied). -ENOMEM. */
int peer_add_ca_file(struct peer_policy *p, const char *path) POLICY_MUST_CHECK;

/* Set the required CN / SAN (copied; NULL clears). -ENOMEM. */
int peer_set_cert_cn(struct peer_policy *p, const char *cn) POLICY_MUST_CHECK;
int peer_set_cert_san(struct peer_policy *p, const char *san) POLICY_MUST_CHECK;

/* Whether addr (4 or 16 bytes) is inside one of p's allowed prefixes. O(n_allowed). */
bool peer_allows_addr(const struct peer_policy *p, int family, const uint8_t *addr);

#endif
