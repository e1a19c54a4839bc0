/*
 * Stateless HelloVerifyRequest cookies (RFC 6347 4.2.1).
 *
 *   cookie = HMAC-SHA256(secret, peer || hello)
 *
 * `peer` is an opaque byte string that names the client's transport address (the caller
 * serialises address and port); `hello` is whatever ClientHello fields the caller binds
 * the cookie to (version, random, session id, cipher suites, ...). The server keeps no
 * state per client: a cookie verifies against the current secret or the previous one, so
 * a cookie minted just before a rotation still works for one more lifetime.
 *
 * Thread safety: cookie_make and cookie_verify only read the keys and may run
 * concurrently. cookie_keys_init and cookie_keys_maybe_rotate write them and need
 * exclusive access (e.g. a write lock, or rotation on one thread while no other uses them).
 */
#ifndef DTLS_COOKIE_H
#define DTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/guard.h"

#define COOKIE_LEN 32
#define COOKIE_PEER_MAX 18 /* port and IPv6 address */
#define COOKIE_SECRET_LEN 32

struct cookie_keys {
	uint8_t cur[COOKIE_SECRET_LEN];  /* mints and verifies */
	uint8_t prev[COOKIE_SECRET_LEN]; /* verifies only, when have_prev */
	uint64_t rotated_ms;             /* when cur was made */
	uint64_t lifetime_ms;            /* how long cur mints before it becomes prev */
	bool have_prev;
};

/* Fresh random current secret, no previous one. lifetime_ms must be > 0. */
MUST_CHECK int cookie_keys_init(struct cookie_keys *k, uint64_t now_ms, uint64_t lifetime_ms);

/*
 * Once lifetime_ms has passed since the last rotation: prev = cur, cur = fresh random.
 * Does nothing before that, or if the clock went backwards. Needs exclusive access.
 */
void cookie_keys_maybe_rotate(struct cookie_keys *k, uint64_t now_ms);

/* A client's address and port as the bytes a cookie is bound to (port, then address):
 * 6 for IPv4, 18 for IPv6; DTLS_ERR_ARG for another family. */
MUST_CHECK int cookie_peer_bytes(const struct sockaddr *sa, socklen_t len,
				 uint8_t out[static COOKIE_PEER_MAX], size_t *n);

/* Wipes the secrets. */
void cookie_keys_wipe(struct cookie_keys *k);

/* out = HMAC-SHA256(cur, peer || hello). Read-only on k. */
MUST_CHECK int cookie_make(const struct cookie_keys *k, const uint8_t *peer, size_t peer_len,
			   const uint8_t *hello, size_t hello_len, uint8_t out[static COOKIE_LEN]);

/*
 * True if cookie is the cookie of (peer, hello) under cur or, if there is one, prev.
 * Both candidates are computed and compared in constant time, without an early exit.
 * A cookie of the wrong length is false. Read-only on k.
 */
bool cookie_verify(const struct cookie_keys *k, const uint8_t *peer, size_t peer_len, const uint8_t *hello,
		   size_t hello_len, const uint8_t *cookie, size_t cookie_len);

#endif
