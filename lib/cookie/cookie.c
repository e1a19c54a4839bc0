/* HelloVerifyRequest cookies: HMAC-SHA256 under a rotating secret, see cookie.h. */
#include <netinet/in.h>
#include <string.h>

#include "common/ct.h"
#include "cookie/cookie.h"
#include "crypto/crypto.h"

_Static_assert(COOKIE_LEN <= HASH_MAX_LEN, "a cookie is one HMAC-SHA256 output");

int cookie_keys_init(struct cookie_keys *k, uint64_t now_ms, uint64_t lifetime_ms)
{
	memset(k, 0, sizeof(*k));
	ENSURE(lifetime_ms > 0, DTLS_ERR_ARG);
	TRY(crypto_init());
	crypto_random(k->cur, sizeof(k->cur));
	k->rotated_ms = now_ms;
	k->lifetime_ms = lifetime_ms;
	k->have_prev = false;
	return DTLS_OK;
}

void cookie_keys_maybe_rotate(struct cookie_keys *k, uint64_t now_ms)
{
	if (now_ms < k->rotated_ms || now_ms - k->rotated_ms < k->lifetime_ms)
		return;
	memcpy(k->prev, k->cur, sizeof(k->prev));
	crypto_random(k->cur, sizeof(k->cur));
	k->have_prev = true;
	k->rotated_ms = now_ms;
}

void cookie_keys_wipe(struct cookie_keys *k)
{
	crypto_wipe(k, sizeof(*k));
}

static MUST_CHECK int cookie_mac(const uint8_t secret[static COOKIE_SECRET_LEN], const uint8_t *peer,
				 size_t peer_len, const uint8_t *hello, size_t hello_len,
				 uint8_t out[static HASH_MAX_LEN])
{
	struct hmac_ctx h;
	int rc;

	TRY(hmac_init(&h, HASH_SHA256, secret, COOKIE_SECRET_LEN));
	TRY_GOTO(rc, hmac_update(&h, peer, peer_len), out);
	TRY_GOTO(rc, hmac_update(&h, hello, hello_len), out);
	hmac_final(&h, out);
out:
	hmac_free(&h);
	return rc;
}

int cookie_make(const struct cookie_keys *k, const uint8_t *peer, size_t peer_len, const uint8_t *hello,
		size_t hello_len, uint8_t out[static COOKIE_LEN])
{
	uint8_t mac[HASH_MAX_LEN];

	ENSURE(peer != NULL || peer_len == 0, DTLS_ERR_ARG);
	ENSURE(hello != NULL || hello_len == 0, DTLS_ERR_ARG);
	TRY(cookie_mac(k->cur, peer, peer_len, hello, hello_len, mac));
	memcpy(out, mac, COOKIE_LEN);
	return DTLS_OK;
}

bool cookie_verify(const struct cookie_keys *k, const uint8_t *peer, size_t peer_len, const uint8_t *hello,
		   size_t hello_len, const uint8_t *cookie, size_t cookie_len)
{
	uint8_t mac_cur[HASH_MAX_LEN] = { 0 }, mac_prev[HASH_MAX_LEN] = { 0 };
	int ok_cur, ok_prev, rc_cur, rc_prev;

	if (cookie == NULL || cookie_len != COOKIE_LEN)
		return false;
	if ((peer == NULL && peer_len > 0) || (hello == NULL && hello_len > 0))
		return false;
	/* Both MACs, both comparisons, one decision at the end. */
	rc_cur = cookie_mac(k->cur, peer, peer_len, hello, hello_len, mac_cur);
	rc_prev = cookie_mac(k->prev, peer, peer_len, hello, hello_len, mac_prev);
	ok_cur = ct_memeq(mac_cur, cookie, COOKIE_LEN) & (rc_cur == DTLS_OK);
	ok_prev = ct_memeq(mac_prev, cookie, COOKIE_LEN) & (rc_prev == DTLS_OK) & (k->have_prev ? 1 : 0);
	return (ok_cur | ok_prev) != 0;
}

/* The client's address and port as bytes, what a cookie is bound to. */
int cookie_peer_bytes(const struct sockaddr *sa, socklen_t len, uint8_t out[static COOKIE_PEER_MAX], size_t *n)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(out, &in->sin_port, 2);
		memcpy(out + 2, &in->sin_addr, 4);
		*n = 6;
		return DTLS_OK;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		memcpy(out, &in6->sin6_port, 2);
		memcpy(out + 2, &in6->sin6_addr, 16);
		*n = 18;
		return DTLS_OK;
	}
	return DTLS_ERR_ARG;
}
