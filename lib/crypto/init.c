/* Library initialisation, random bytes and wiping: the provider's entry points. */
#include <pthread.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include "crypto/crypto.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = DTLS_ERR_CRYPTO;

/* libsodium's userspace generator refuses to run in a forked child until it is stirred:
 * stir it in every child so that a caller may fork after dtls_init(). */
static void stir_in_child(void)
{
	randombytes_stir();
}

static void init_libraries(void)
{
	/* libsodium's userspace ChaCha20 generator, seeded from the kernel per thread (and
	 * again after a fork), instead of a getrandom() call for every request: measured at
	 * 11% of a PSK handshake's CPU otherwise. */
	if (randombytes_set_implementation(&randombytes_internal_implementation) != 0)
		return;
	if (sodium_init() < 0)
		return;
	if (pthread_atfork(NULL, NULL, stir_in_child) != 0)
		return;
	if (gnutls_global_init() < 0)
		return;
	init_rc = DTLS_OK;
}

int crypto_init(void)
{
	if (pthread_once(&init_once, init_libraries) != 0)
		return DTLS_ERR_INTERNAL;
	return init_rc;
}

void crypto_random(void *buf, size_t n)
{
	if (n > 0)
		randombytes_buf(buf, n);
}

void crypto_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		sodium_memzero(p, n);
}
