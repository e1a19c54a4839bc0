/*
 * lib/pki: certificates and keys through the GnuTLS x509/abstract API. Nothing here
 * parses or validates X.509 by hand; GnuTLS does, this module maps its answers to
 * libdtls errors and to TLS SignatureScheme code points.
 *
 * Objects (all opaque):
 *   struct pki_identity  a local certificate chain (leaf first) and its private key.
 *                        Immutable once loaded; reference-counted; usable from many
 *                        threads at once.
 *   struct pki_trust     a set of trusted CA certificates. Reference-counted; add and
 *                        remove are safe at any time, also while other threads verify.
 *   struct pki_peer      the peer's leaf certificate and public key, after pki_verify_chain
 *                        (or unverified, from pki_peer_from_der). Owned by one session.
 *
 * Time: the library reads no clock. Validity periods are checked against the
 * `now_unix_s` (wall clock, seconds since 1970) the caller passes. GnuTLS's verifier
 * cannot take a time, so pki_verify_chain runs it with its time checks off and then
 * checks the validity period of every certificate on the path GnuTLS accepted (leaf,
 * the intermediates it used, and the trust anchor) itself.
 *
 * Errors are negative enum dtls_err values. Functions with an `err` buffer also write a
 * one-line reason there (may be NULL); it is left empty on success.
 *
 * No GnuTLS global set-up is needed beyond what libgnutls does when it is loaded.
 */
#ifndef DTLS_PKI_H
#define DTLS_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtls/dtls.h>

#include "common/guard.h"

/* TLS SignatureScheme code points (RFC 8446 4.2.3; in TLS 1.2 the ECDSA ones do not bind
 * the curve, RFC 5246 7.4.1.4.1). */
enum pki_scheme {
	PKI_RSA_PKCS1_SHA256 = 0x0401,
	PKI_RSA_PKCS1_SHA384 = 0x0501,
	PKI_RSA_PSS_RSAE_SHA256 = 0x0804,
	PKI_RSA_PSS_RSAE_SHA384 = 0x0805,
	PKI_ECDSA_SHA256 = 0x0403, /* ecdsa_secp256r1_sha256 */
	PKI_ECDSA_SHA384 = 0x0503, /* ecdsa_secp384r1_sha384 */
};

enum pki_key_type {
	PKI_KEY_RSA = 1,   /* rsaEncryption, 2048..8192 bits */
	PKI_KEY_ECDSA_P256,
	PKI_KEY_ECDSA_P384,
};

/* The key exchanges that use a certificate. */
enum pki_kx {
	PKI_KX_RSA,         /* TLS_RSA_*: RSA key, keyEncipherment if key usage is present */
	PKI_KX_ECDHE_RSA,   /* RSA key, digitalSignature if key usage is present */
	PKI_KX_ECDHE_ECDSA, /* EC key, digitalSignature if key usage is present */
};

#define PKI_MAX_SIG_LEN 1024 /* RSA-8192 */
#define PKI_MAX_CHAIN 16     /* certificates accepted from a peer or a file */
#define PKI_PREMASTER_LEN 48
#define PKI_PIN_LEN 32       /* SHA-256 */

/* ---- local identity ------------------------------------------------------ */

struct pki_identity;

/*
 * Loads a certificate chain and its private key.
 * cert_file: PEM holding the leaf followed by its intermediates (each followed by its
 * issuer), or one DER certificate. key_file: PEM (PKCS#1, SEC1 EC, unencrypted PKCS#8)
 * or DER (PKCS#1 RSA, SEC1 EC, unencrypted PKCS#8).
 * now_unix_s != 0: every certificate of the chain must be valid at that time; 0 skips
 * the check.
 * Errors: DTLS_ERR_FILE (cannot read, or not a certificate / key, encrypted key,
 * certificates out of order), DTLS_ERR_KEY_MISMATCH, DTLS_ERR_CERTIFICATE_EXPIRED,
 * DTLS_ERR_UNSUPPORTED_CERTIFICATE (a key type other than RSA >= 2048, P-256, P-384),
 * DTLS_ERR_NOMEM. err says which file and what, e.g.
 * "server.key: not a private key in PEM or DER".
 * On success *out holds one reference the caller must drop with pki_identity_unref().
 * The key bytes read are wiped.
 */
MUST_CHECK int pki_identity_load(struct pki_identity **out, const char *cert_file, const char *key_file,
				 uint64_t now_unix_s, char *err, size_t err_len);

/* As pki_identity_load, from buffers (not modified; the caller wipes its key copy). */
MUST_CHECK int pki_identity_load_mem(struct pki_identity **out, const uint8_t *cert, size_t cert_len,
				     const uint8_t *key, size_t key_len, uint64_t now_unix_s, char *err,
				     size_t err_len);

/* As pki_identity_load, the key from key[0..key_len) (not modified; the caller wipes
 * it); key_name names it in err. */
MUST_CHECK int pki_identity_load_key_mem(struct pki_identity **out, const char *cert_file,
					 const uint8_t *key, size_t key_len, const char *key_name,
					 uint64_t now_unix_s, char *err, size_t err_len);

/* Takes a reference; returns id. */
struct pki_identity *pki_identity_ref(struct pki_identity *id);
/* Drops a reference; the last one frees the identity (the key is zeroised). NULL is fine. */
void pki_identity_unref(struct pki_identity *id);

size_t pki_identity_cert_count(const struct pki_identity *id);
/* The DER of certificate i (0 = leaf), owned by id; NULL if i is out of range. */
const uint8_t *pki_identity_cert_der(const struct pki_identity *id, size_t i, size_t *len);
enum pki_key_type pki_identity_key_type(const struct pki_identity *id);
/* Whether the key and the leaf's key usage allow this key exchange. */
bool pki_identity_can_kx(const struct pki_identity *id, enum pki_kx kx);

/*
 * Our preferred scheme that the peer offered and our key can make:
 *   RSA:   rsa_pss_rsae_sha256, rsa_pkcs1_sha256, rsa_pss_rsae_sha384, rsa_pkcs1_sha384
 *   P-256: ecdsa_sha256, ecdsa_sha384;   P-384: ecdsa_sha384, ecdsa_sha256
 * Returns the code point, or DTLS_ERR_HANDSHAKE_FAILURE when there is none.
 */
MUST_CHECK int pki_choose_scheme(const struct pki_identity *id, const uint16_t *peer_schemes, size_t n);

/*
 * Signs data (the message, not a digest) with scheme. *sig_len: in, the room at sig
 * (PKI_MAX_SIG_LEN always suffices); out, the signature length. ECDSA signatures are
 * DER Ecdsa-Sig-Value as TLS sends them.
 * Errors: DTLS_ERR_ILLEGAL_PARAMETER (unknown scheme or not for this key type),
 * DTLS_ERR_BUFFER, DTLS_ERR_CRYPTO.
 */
MUST_CHECK int pki_sign(const struct pki_identity *id, uint16_t scheme, const uint8_t *data, size_t len,
			uint8_t *sig, size_t *sig_len);

/*
 * RSA key transport, server side (RFC 5246 7.4.7.1). Decrypts enc (the
 * EncryptedPreMasterSecret without its length prefix) with the identity's RSA key in
 * constant time (gnutls_privkey_decrypt_data2). `out` is overwritten only on success,
 * and that choice is made without a branch: the caller first fills out with a random
 * premaster (whose first two bytes are the ClientHello version), calls this, and then
 * continues with out whatever happened, checking the version bytes in constant time too.
 * Returns 0 or DTLS_ERR_DECRYPT_ERROR, computed without a branch on the padding result;
 * the caller MUST NOT branch on it (or log it, or time out differently) before the
 * Finished check. DTLS_ERR_ARG if the key is not RSA (a caller bug, not peer data).
 */
MUST_CHECK int pki_rsa_decrypt_premaster(const struct pki_identity *id, const uint8_t *enc, size_t len,
					 uint8_t out[static PKI_PREMASTER_LEN]);

/* ---- trusted CAs --------------------------------------------------------- */

struct pki_trust;

/* A new, empty store with one reference, or NULL (out of memory). */
struct pki_trust *pki_trust_new(void);
struct pki_trust *pki_trust_ref(struct pki_trust *t);
/* Drops a reference; the last one frees the store. NULL is fine. */
void pki_trust_unref(struct pki_trust *t);

/*
 * Adds the certificates of a PEM bundle or of one DER certificate. Certificates already
 * present are skipped. Returns the number added (>= 0) or DTLS_ERR_FILE / DTLS_ERR_NOMEM
 * with a reason in err; on error nothing is added.
 */
MUST_CHECK int pki_trust_add_file(struct pki_trust *t, const char *file, char *err, size_t err_len);
/* Adds one DER certificate. Returns 1 if added, 0 if already present, or
 * DTLS_ERR_BAD_CERTIFICATE / DTLS_ERR_NOMEM. */
MUST_CHECK int pki_trust_add_der(struct pki_trust *t, const uint8_t *der, size_t len);
/* Removes one certificate (compared by DER). Returns 1 if removed, 0 if absent, or an error. */
MUST_CHECK int pki_trust_remove_der(struct pki_trust *t, const uint8_t *der, size_t len);
/* Removes every certificate of the file. Returns the number removed or an error. */
MUST_CHECK int pki_trust_remove_file(struct pki_trust *t, const char *file, char *err, size_t err_len);
size_t pki_trust_count(const struct pki_trust *t);

/*
 * Calls fn for each certificate of a PEM bundle or of one DER certificate, in file
 * order, with its subject and validity period; verifies nothing. Returns the number of
 * certificates, or DTLS_ERR_FILE / DTLS_ERR_NOMEM with a reason in err (for a private
 * key: "<file> is a private key, not a certificate"). The public dtls_cert_file_info().
 */
MUST_CHECK int pki_file_cert_info(const char *file, dtls_cert_info_fn fn, void *arg, char *err,
				  size_t err_len);

/* ---- the peer's certificate ---------------------------------------------- */

struct pki_peer;

/*
 * Verifies the peer's chain (der[0] is the leaf, as in the Certificate message) with
 * GnuTLS against the trusted store: signatures, basic constraints, key usage, the
 * extended key usage for TLS WWW server (peer_is_server) or client, for a client the
 * leaf's key usage (digitalSignature, if the extension is present), the validity
 * periods at now_unix_s, and, when hostname is not NULL, the name: an IPv4/IPv6
 * literal is matched against IP SANs, anything else against DNS SANs (or the CN when
 * there is no DNS SAN), wildcards as RFC 6125 allows.
 * Errors: DTLS_ERR_UNKNOWN_CA (no path to a trusted CA), DTLS_ERR_CERTIFICATE_EXPIRED
 * (expired or not yet valid), DTLS_ERR_BAD_CERTIFICATE (bad signature, malformed DER,
 * not a CA, name mismatch, empty chain), DTLS_ERR_UNSUPPORTED_CERTIFICATE (purpose
 * mismatch, a client key usage without digitalSignature, unsupported key type),
 * DTLS_ERR_CERTIFICATE_REVOKED, DTLS_ERR_CERTIFICATE_UNKNOWN (anything else, too long
 * a chain), DTLS_ERR_NOMEM.
 * err gets GnuTLS's explanation for the log.
 * On success *out is a new peer owned by the caller (pki_peer_free).
 */
MUST_CHECK int pki_verify_chain(const struct pki_trust *t, const uint8_t *const *der, const size_t *der_len,
				size_t n, const char *hostname, bool peer_is_server, uint64_t now_unix_s,
				struct pki_peer **out, char *err, size_t err_len);

/*
 * Parses a leaf certificate WITHOUT ANY VERIFICATION: no issuer, no validity period, no
 * purpose, no name. For pin-only policies, where the caller compares
 * pki_peer_spki_sha256() with its pin. Errors: DTLS_ERR_BAD_CERTIFICATE,
 * DTLS_ERR_UNSUPPORTED_CERTIFICATE, DTLS_ERR_NOMEM.
 */
MUST_CHECK int pki_peer_from_der(const uint8_t *der, size_t len, struct pki_peer **out);

void pki_peer_free(struct pki_peer *p);

enum pki_key_type pki_peer_key_type(const struct pki_peer *p);
/* The leaf's DER, owned by p. */
const uint8_t *pki_peer_cert_der(const struct pki_peer *p, size_t *len);
/* Whether the peer's key and key usage allow this key exchange (check it on receipt). */
bool pki_peer_can_kx(const struct pki_peer *p, enum pki_kx kx);
/*
 * The first subject CN as a NUL-terminated UTF-8 string ("" when there is none).
 * DTLS_ERR_BUFFER if it does not fit in len bytes.
 */
MUST_CHECK int pki_peer_subject_cn(const struct pki_peer *p, char *buf, size_t len);
/*
 * Name checks for the "required subject CN/SAN" policies. Names are compared as text,
 * with no wildcard expansion; an empty name or one of 1024 bytes or more matches nothing.
 *
 * pki_peer_has_cn: the subject has exactly one commonName and it equals name, ignoring
 * ASCII case. A subject with several CNs matches no name, so that a certificate can
 * never satisfy two different required CNs.
 *
 * pki_peer_has_san: one of the subjectAltNames equals name. An IPv4 or IPv6 literal
 * ("192.0.2.1", "2001:db8::1") is compared by value with the iPAddress SANs only
 * ("::1" equals "0:0::1"); any other name with the dNSName SANs only, ignoring ASCII
 * case. E-mail (rfc822Name), URI and other SAN kinds are never compared.
 *
 * pki_peer_has_name: any of the above, or an e-mail or URI SAN equal to name byte for
 * byte, or one of several CNs (the loose check for tools such as dtlscat).
 */
bool pki_peer_has_cn(const struct pki_peer *p, const char *name);
bool pki_peer_has_san(const struct pki_peer *p, const char *name);
bool pki_peer_has_name(const struct pki_peer *p, const char *name);
/* The certificate's subject CNs and its DNS, IP, e-mail and URI SANs as one printable
 * line ("CN a, DNS b, IP 192.0.2.7"; unprintable bytes as \xNN), cut to cap; its
 * length. */
size_t pki_peer_names(const struct pki_peer *p, char *buf, size_t cap);
/* SHA-256 of the DER SubjectPublicKeyInfo (the --pin-sha256 value). */
MUST_CHECK int pki_peer_spki_sha256(const struct pki_peer *p, uint8_t out[static PKI_PIN_LEN]);

/*
 * Verifies a signature over data with the peer's key. Returns 0, DTLS_ERR_DECRYPT_ERROR
 * if the signature does not verify, DTLS_ERR_ILLEGAL_PARAMETER if the scheme is unknown
 * or not for the key type, DTLS_ERR_UNSUPPORTED_CERTIFICATE if the leaf has a key usage
 * without digitalSignature (every peer signature in TLS 1.2, ServerKeyExchange and
 * CertificateVerify, needs it; this also covers pin-only peers from pki_peer_from_der).
 */
MUST_CHECK int pki_peer_verify(const struct pki_peer *p, uint16_t scheme, const uint8_t *data, size_t len,
			       const uint8_t *sig, size_t sig_len);

/*
 * RSA key transport, client side: PKCS#1 v1.5 encryption of the premaster to the peer's
 * RSA key. *out_len: in, the room at out (PKI_MAX_SIG_LEN suffices); out, the length.
 * Errors: DTLS_ERR_ARG (not an RSA key), DTLS_ERR_BUFFER, DTLS_ERR_CRYPTO.
 */
MUST_CHECK int pki_peer_rsa_encrypt(const struct pki_peer *p, const uint8_t pms[static PKI_PREMASTER_LEN],
				    uint8_t *out, size_t *out_len);

#endif
