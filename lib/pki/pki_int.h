/* lib/pki internals: shared by identity.c, trust.c, verify.c, peer.c and util.c only. */
#ifndef DTLS_PKI_INT_H
#define DTLS_PKI_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "pki/pki.h"

#define PKI_MAX_FILE (1u << 20)  /* certificate and key files are small */
#define PKI_RSA_MIN_BITS 2048
#define PKI_RSA_MAX_BITS 8192

/*
 * The trusted store. `cas` (our own DER copies) is the truth; `tl` is a GnuTLS trust
 * list built from it, rebuilt on every change. Verifiers hold `lock` for reading for
 * the whole verification; add/remove hold it for writing.
 */
struct pki_trust {
	atomic_uint refs;
	pthread_rwlock_t lock;
	gnutls_datum_t *cas;
	size_t n_cas;
	gnutls_x509_trust_list_t tl;
};

/* The peer's leaf. Immutable after creation. */
struct pki_peer {
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	gnutls_datum_t der;
	enum pki_key_type type;
};

/* Writes a formatted reason to err (if err and err_len) . */
void pki_seterr(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Reads a whole file (at most PKI_MAX_FILE bytes) into a gnutls_malloc'ed datum.
 * DTLS_ERR_FILE with "<name>: <strerror>" in err. The caller frees it (wiping it first
 * if it is a key).
 */
MUST_CHECK int pki_read_file(const char *name, gnutls_datum_t *out, char *err, size_t err_len);

/* Whether the data looks like PEM ("-----BEGIN " somewhere in it). */
bool pki_is_pem(const gnutls_datum_t *d);

/*
 * Imports the certificates of a PEM buffer (all of them, in order) or of one DER
 * certificate. GnuTLS error codes; *list is freed with pki_crt_list_free.
 */
MUST_CHECK int pki_crt_list_import(const gnutls_datum_t *d, unsigned flags, gnutls_x509_crt_t **list,
				   unsigned *n);
void pki_crt_list_free(gnutls_x509_crt_t *list, unsigned n);

/*
 * The reason why file, whose bytes d are not a certificate, was refused, into err:
 * "<file> is a private key, not a certificate" when GnuTLS reads d as a private key (or
 * it is PEM armoured as one), else "<file>: not a certificate in PEM or DER".
 * Returns DTLS_ERR_FILE.
 */
MUST_CHECK int pki_not_a_certificate(const char *file, const gnutls_datum_t *d, char *err, size_t err_len);

/* The key type of a public key, or DTLS_ERR_UNSUPPORTED_CERTIFICATE. */
MUST_CHECK int pki_pubkey_type(gnutls_pubkey_t pub, enum pki_key_type *type);

/* Whether a certificate's key usage (if present) has all bits of `need`. */
bool pki_crt_key_usage_allows(gnutls_x509_crt_t crt, unsigned need);

/* Whether key type and key usage allow the key exchange. */
bool pki_kx_allowed(enum pki_key_type type, gnutls_x509_crt_t leaf, enum pki_kx kx);

/*
 * The GnuTLS signature algorithm of a TLS scheme if the scheme suits the key type,
 * else GNUTLS_SIGN_UNKNOWN.
 */
gnutls_sign_algorithm_t pki_scheme_sign_alg(uint16_t scheme, enum pki_key_type type);

/*
 * Checks the validity period of crt at now. DTLS_ERR_CERTIFICATE_EXPIRED with
 * "<what>: certificate [(CN=...)] expired on YYYY-MM-DD HH:MM:SS UTC" (or
 * "is not valid before ...") in err.
 */
MUST_CHECK int pki_check_time(gnutls_x509_crt_t crt, uint64_t now_unix_s, const char *what, char *err,
			      size_t err_len);

/* The first CN of crt into buf ("" if none). 0, or DTLS_ERR_BUFFER. */
MUST_CHECK int pki_crt_cn(gnutls_x509_crt_t crt, char *buf, size_t len);

/* A peer from a certificate, which it takes over (also on failure). */
MUST_CHECK int pki_peer_new(gnutls_x509_crt_t crt, struct pki_peer **out);

/* The IPv4/IPv6 address in a literal: its length (4 or 16), or 0 if not an IP literal. */
size_t pki_ip_literal(const char *s, uint8_t out[static 16]);

#endif
