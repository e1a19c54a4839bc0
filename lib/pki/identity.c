/* The local identity: certificate chain + private key, signing, RSA premaster decryption. */
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "pki/pki_int.h"

struct pki_identity {
	atomic_uint refs;
	gnutls_x509_crt_t *crts; /* leaf first */
	unsigned n_crts;
	gnutls_datum_t *der;     /* DER of crts[i] */
	gnutls_privkey_t key;
	enum pki_key_type type;
};

static void identity_free(struct pki_identity *id)
{
	if (!id)
		return;
	if (id->der) {
		for (unsigned i = 0; i < id->n_crts; i++)
			gnutls_free(id->der[i].data);
		free(id->der);
	}
	pki_crt_list_free(id->crts, id->n_crts);
	if (id->key)
		gnutls_privkey_deinit(id->key); /* GnuTLS zeroises the key parameters */
	free(id);
}

struct pki_identity *pki_identity_ref(struct pki_identity *id)
{
	atomic_fetch_add_explicit(&id->refs, 1, memory_order_relaxed);
	return id;
}

void pki_identity_unref(struct pki_identity *id)
{
	if (id && atomic_fetch_sub_explicit(&id->refs, 1, memory_order_acq_rel) == 1)
		identity_free(id);
}

/* Imports the certificates into id; messages name `what`. */
static int load_certs(struct pki_identity *id, const gnutls_datum_t *cert, const char *what, uint64_t now,
		      char *err, size_t err_len)
{
	int rc = pki_crt_list_import(cert, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED, &id->crts, &id->n_crts);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return DTLS_ERR_NOMEM;
	if (rc == GNUTLS_E_CERTIFICATE_LIST_UNSORTED) {
		pki_seterr(err, err_len, "%s: certificates out of order (leaf first, each followed by its issuer)",
			   what);
		return DTLS_ERR_FILE;
	}
	if (rc < 0 || id->n_crts == 0) {
		pki_seterr(err, err_len, "%s: not a certificate in PEM or DER (%s)", what, gnutls_strerror(rc));
		return DTLS_ERR_FILE;
	}
	if (id->n_crts > PKI_MAX_CHAIN) {
		pki_seterr(err, err_len, "%s: more than %d certificates", what, PKI_MAX_CHAIN);
		return DTLS_ERR_FILE;
	}
	id->der = calloc(id->n_crts, sizeof *id->der);
	ENSURE(id->der, DTLS_ERR_NOMEM);
	for (unsigned i = 0; i < id->n_crts; i++) {
		if (now)
			TRY(pki_check_time(id->crts[i], now, what, err, err_len));
		rc = gnutls_x509_crt_export2(id->crts[i], GNUTLS_X509_FMT_DER, &id->der[i]);
		ENSURE(rc >= 0, DTLS_ERR_NOMEM);
	}
	return 0;
}

static int load_key(struct pki_identity *id, const gnutls_datum_t *key, const char *what, char *err,
		    size_t err_len)
{
	int rc = gnutls_privkey_init(&id->key);
	ENSURE(rc >= 0, DTLS_ERR_NOMEM);
	bool pem = pki_is_pem(key);
	rc = gnutls_privkey_import_x509_raw(id->key, key, pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, NULL,
					    GNUTLS_PKCS_PLAIN);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return DTLS_ERR_NOMEM;
	if (rc < 0) {
		bool encrypted = (pem && (memmem(key->data, key->size, "ENCRYPTED", 9) != NULL)) ||
				 rc == GNUTLS_E_DECRYPTION_FAILED;
		if (encrypted)
			pki_seterr(err, err_len, "%s: encrypted private keys are not supported", what);
		else
			pki_seterr(err, err_len, "%s: not a private key in PEM or DER", what);
		return DTLS_ERR_FILE;
	}
	return 0;
}

/* The DER SubjectPublicKeyInfo of a public key (gnutls_malloc'ed). */
static int spki(gnutls_pubkey_t pub, gnutls_datum_t *out)
{
	return gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, out) < 0 ? DTLS_ERR_CRYPTO : 0;
}

/* Checks the key type and that the private key belongs to the leaf. */
static int check_pair(struct pki_identity *id, const char *cert_what, const char *key_what, char *err,
		      size_t err_len)
{
	gnutls_pubkey_t cpub = NULL, kpub = NULL;
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	int rc = DTLS_ERR_NOMEM;
	if (gnutls_pubkey_init(&cpub) < 0 || gnutls_pubkey_init(&kpub) < 0)
		goto out;
	rc = DTLS_ERR_FILE;
	if (gnutls_pubkey_import_x509(cpub, id->crts[0], 0) < 0) {
		pki_seterr(err, err_len, "%s: cannot read the certificate's public key", cert_what);
		goto out;
	}
	rc = pki_pubkey_type(cpub, &id->type);
	if (rc < 0) {
		pki_seterr(err, err_len,
			   "%s: unsupported key type (RSA %d..%d bits, ECDSA P-256 or P-384 supported)",
			   cert_what, PKI_RSA_MIN_BITS, PKI_RSA_MAX_BITS);
		goto out;
	}
	rc = DTLS_ERR_KEY_MISMATCH;
	if (gnutls_pubkey_import_privkey(kpub, id->key, 0, 0) < 0 || spki(cpub, &a) < 0 || spki(kpub, &b) < 0 ||
	    a.size != b.size || memcmp(a.data, b.data, a.size) != 0) {
		pki_seterr(err, err_len, "%s: key does not match certificate %s", key_what, cert_what);
		goto out;
	}
	/* The public half matching proves nothing about the private half: check that its
	 * parameters are consistent (RSA: p*q = n, the exponents; EC: the point), or a
	 * corrupt key would load and fail at the first handshake. */
	rc = DTLS_ERR_FILE;
	if (gnutls_privkey_verify_params(id->key) < 0) {
		pki_seterr(err, err_len, "%s: the private key is corrupt (inconsistent parameters)", key_what);
		goto out;
	}
	/* And a pairwise test: a signature by the private key must verify with the
	 * certificate's public key (catches a corrupt exponent the parameter check misses). */
	static const uint8_t probe[] = "dtlsgw pairwise consistency check";
	gnutls_datum_t msg = { (unsigned char *)probe, sizeof(probe) - 1 }, sig = { NULL, 0 };
	gnutls_sign_algorithm_t alg = id->type == PKI_KEY_RSA ? GNUTLS_SIGN_RSA_SHA256 : GNUTLS_SIGN_ECDSA_SHA256;
	bool ok = gnutls_privkey_sign_data2(id->key, alg, 0, &msg, &sig) >= 0 &&
		  gnutls_pubkey_verify_data2(cpub, alg, 0, &msg, &sig) >= 0;
	gnutls_free(sig.data);
	if (!ok) {
		pki_seterr(err, err_len, "%s: the private key is corrupt (a test signature does not verify)",
			   key_what);
		goto out;
	}
	rc = 0;
out:
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(cpub);
	gnutls_pubkey_deinit(kpub);
	return rc;
}

static int load(struct pki_identity **out, const gnutls_datum_t *cert, const char *cert_what,
		const gnutls_datum_t *key, const char *key_what, uint64_t now, char *err, size_t err_len)
{
	*out = NULL;
	pki_seterr(err, err_len, "%s", "");
	struct pki_identity *id = calloc(1, sizeof *id);
	ENSURE(id, DTLS_ERR_NOMEM);
	atomic_init(&id->refs, 1);
	int rc;
	TRY_GOTO(rc, load_certs(id, cert, cert_what, now, err, err_len), fail);
	TRY_GOTO(rc, load_key(id, key, key_what, err, err_len), fail);
	TRY_GOTO(rc, check_pair(id, cert_what, key_what, err, err_len), fail);
	*out = id;
	return 0;
fail:
	identity_free(id);
	return rc;
}

int pki_identity_load_mem(struct pki_identity **out, const uint8_t *cert, size_t cert_len, const uint8_t *key,
			  size_t key_len, uint64_t now_unix_s, char *err, size_t err_len)
{
	*out = NULL;
	ENSURE(cert && key && cert_len <= PKI_MAX_FILE && key_len <= PKI_MAX_FILE, DTLS_ERR_ARG);
	const gnutls_datum_t c = { (unsigned char *)cert, (unsigned)cert_len };
	const gnutls_datum_t k = { (unsigned char *)key, (unsigned)key_len };
	return load(out, &c, "certificate", &k, "key", now_unix_s, err, err_len);
}

int pki_identity_load(struct pki_identity **out, const char *cert_file, const char *key_file,
		      uint64_t now_unix_s, char *err, size_t err_len)
{
	*out = NULL;
	ENSURE(cert_file && key_file, DTLS_ERR_ARG);
	gnutls_datum_t cert, key;
	TRY(pki_read_file(cert_file, &cert, err, err_len));
	int rc = pki_read_file(key_file, &key, err, err_len);
	if (rc < 0) {
		gnutls_free(cert.data);
		return rc;
	}
	rc = load(out, &cert, cert_file, &key, key_file, now_unix_s, err, err_len);
	explicit_bzero(key.data, key.size);
	gnutls_free(key.data);
	gnutls_free(cert.data);
	return rc;
}

int pki_identity_load_key_mem(struct pki_identity **out, const char *cert_file, const uint8_t *key,
			      size_t key_len, const char *key_name, uint64_t now_unix_s, char *err,
			      size_t err_len)
{
	*out = NULL;
	ENSURE(cert_file && key && key_len <= PKI_MAX_FILE, DTLS_ERR_ARG);
	gnutls_datum_t cert;
	TRY(pki_read_file(cert_file, &cert, err, err_len));
	const gnutls_datum_t k = { (unsigned char *)key, (unsigned)key_len };
	int rc = load(out, &cert, cert_file, &k, key_name ? key_name : "key", now_unix_s, err, err_len);
	gnutls_free(cert.data);
	return rc;
}

size_t pki_identity_cert_count(const struct pki_identity *id)
{
	return id->n_crts;
}

const uint8_t *pki_identity_cert_der(const struct pki_identity *id, size_t i, size_t *len)
{
	if (i >= id->n_crts) {
		*len = 0;
		return NULL;
	}
	*len = id->der[i].size;
	return id->der[i].data;
}

enum pki_key_type pki_identity_key_type(const struct pki_identity *id)
{
	return id->type;
}

bool pki_identity_can_kx(const struct pki_identity *id, enum pki_kx kx)
{
	return pki_kx_allowed(id->type, id->crts[0], kx);
}

int pki_choose_scheme(const struct pki_identity *id, const uint16_t *peer_schemes, size_t n)
{
	static const uint16_t rsa[] = { PKI_RSA_PSS_RSAE_SHA256, PKI_RSA_PKCS1_SHA256, PKI_RSA_PSS_RSAE_SHA384,
					PKI_RSA_PKCS1_SHA384 };
	static const uint16_t p256[] = { PKI_ECDSA_SHA256, PKI_ECDSA_SHA384 };
	static const uint16_t p384[] = { PKI_ECDSA_SHA384, PKI_ECDSA_SHA256 };
	const uint16_t *pref;
	size_t n_pref;
	switch (id->type) {
	case PKI_KEY_RSA:
		pref = rsa, n_pref = ARRAY_LEN(rsa);
		break;
	case PKI_KEY_ECDSA_P256:
		pref = p256, n_pref = ARRAY_LEN(p256);
		break;
	case PKI_KEY_ECDSA_P384:
		pref = p384, n_pref = ARRAY_LEN(p384);
		break;
	default:
		return DTLS_ERR_HANDSHAKE_FAILURE;
	}
	for (size_t i = 0; i < n_pref; i++)
		for (size_t j = 0; j < n; j++)
			if (peer_schemes[j] == pref[i])
				return pref[i];
	return DTLS_ERR_HANDSHAKE_FAILURE;
}

int pki_sign(const struct pki_identity *id, uint16_t scheme, const uint8_t *data, size_t len, uint8_t *sig,
	     size_t *sig_len)
{
	gnutls_sign_algorithm_t alg = pki_scheme_sign_alg(scheme, id->type);
	ENSURE(alg != GNUTLS_SIGN_UNKNOWN, DTLS_ERR_ILLEGAL_PARAMETER);
	ENSURE(len <= UINT32_MAX, DTLS_ERR_ARG);
	const gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
	gnutls_datum_t s = { NULL, 0 };
	ENSURE(gnutls_privkey_sign_data2(id->key, alg, 0, &d, &s) >= 0, DTLS_ERR_CRYPTO);
	int rc = 0;
	if (s.size > *sig_len) {
		rc = DTLS_ERR_BUFFER;
	} else {
		memcpy(sig, s.data, s.size);
		*sig_len = s.size;
	}
	gnutls_free(s.data);
	return rc;
}

int pki_rsa_decrypt_premaster(const struct pki_identity *id, const uint8_t *enc, size_t len,
			      uint8_t out[static PKI_PREMASTER_LEN])
{
	ENSURE(id->type == PKI_KEY_RSA, DTLS_ERR_ARG);
	/* The ciphertext length is public: a wrong one is refused like bad padding. */
	ENSURE(len <= PKI_MAX_SIG_LEN, DTLS_ERR_DECRYPT_ERROR);
	uint8_t pms[PKI_PREMASTER_LEN] = { 0 };
	const gnutls_datum_t c = { (unsigned char *)enc, (unsigned)len };
	/* Constant time and memory access in GnuTLS/nettle; 0 or a negative code. */
	int rc = gnutls_privkey_decrypt_data2(id->key, 0, &c, pms, sizeof pms);
	uint32_t ok = ct_eq_u32((uint32_t)rc, 0);
	ct_copy_if(ok, out, pms, sizeof pms);
	explicit_bzero(pms, sizeof pms);
	return (int)ct_select_u32(ok, 0, (uint32_t)DTLS_ERR_DECRYPT_ERROR);
}
