/*
 * Chain verification: GnuTLS's verifier (gnutls_x509_trust_list_verify_crt2) with its
 * time checks off, then the validity periods at the caller's time along the path
 * GnuTLS accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "pki/pki_int.h"

/* The error for a GnuTLS verification status, most telling first. */
static int map_status(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return DTLS_ERR_CERTIFICATE_REVOKED;
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return DTLS_ERR_UNKNOWN_CA;
	if (status & (GNUTLS_CERT_SIGNATURE_FAILURE | GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_INSECURE_ALGORITHM |
		      GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE))
		return DTLS_ERR_BAD_CERTIFICATE;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return DTLS_ERR_CERTIFICATE_EXPIRED;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return DTLS_ERR_UNSUPPORTED_CERTIFICATE;
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		return DTLS_ERR_BAD_CERTIFICATE;
	return DTLS_ERR_CERTIFICATE_UNKNOWN;
}

/*
 * Checks the validity periods of the path from crts[0] to a trust anchor of tl at now:
 * each certificate, then its issuer, which is taken from the trust list when it is
 * there (GnuTLS stops at the first trusted certificate too), else from the chain.
 * Caller holds the trust store's lock.
 */
static int check_path_times(gnutls_x509_trust_list_t tl, gnutls_x509_crt_t *crts, size_t n, uint64_t now,
			    char *err, size_t err_len)
{
	bool used[PKI_MAX_CHAIN] = { true };
	gnutls_x509_crt_t cur = crts[0];
	for (size_t depth = 0; depth <= n; depth++) {
		TRY(pki_check_time(cur, now, "peer chain", err, err_len));
		gnutls_x509_crt_t issuer;
		if (gnutls_x509_trust_list_get_issuer(tl, cur, &issuer, GNUTLS_TL_GET_COPY) >= 0) {
			int rc = pki_check_time(issuer, now, "trusted CA", err, err_len);
			gnutls_x509_crt_deinit(issuer);
			return rc;
		}
		size_t next = n;
		for (size_t j = 1; j < n && next == n; j++)
			if (!used[j] && gnutls_x509_crt_check_issuer(cur, crts[j]))
				next = j;
		if (next == n)
			return 0; /* cur itself is trusted */
		used[next] = true;
		cur = crts[next];
	}
	return 0;
}

int pki_verify_chain(const struct pki_trust *t, const uint8_t *const *der, const size_t *der_len, size_t n,
		     const char *hostname, bool peer_is_server, uint64_t now_unix_s, struct pki_peer **out,
		     char *err, size_t err_len)
{
	*out = NULL;
	pki_seterr(err, err_len, "%s", "");
	if (n == 0) {
		pki_seterr(err, err_len, "no certificate");
		return DTLS_ERR_BAD_CERTIFICATE;
	}
	if (n > PKI_MAX_CHAIN) {
		pki_seterr(err, err_len, "more than %d certificates", PKI_MAX_CHAIN);
		return DTLS_ERR_CERTIFICATE_UNKNOWN;
	}

	gnutls_x509_crt_t crts[PKI_MAX_CHAIN] = { NULL };
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&crts[i]) < 0) {
			crts[i] = NULL;
			rc = DTLS_ERR_NOMEM;
			goto out;
		}
		const gnutls_datum_t d = { (unsigned char *)der[i], (unsigned)der_len[i] };
		int grc = der_len[i] <= PKI_MAX_FILE ? gnutls_x509_crt_import(crts[i], &d, GNUTLS_X509_FMT_DER)
						     : GNUTLS_E_ASN1_DER_ERROR;
		if (grc < 0) {
			pki_seterr(err, err_len, "certificate %zu: %s", i, gnutls_strerror(grc));
			rc = DTLS_ERR_BAD_CERTIFICATE;
			goto out;
		}
	}

	gnutls_typed_vdata_st vdata[2];
	unsigned nv = 0;
	uint8_t ip[16];
	vdata[nv++] = (gnutls_typed_vdata_st){
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)(peer_is_server ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT),
	};
	if (hostname) {
		size_t ip_len = pki_ip_literal(hostname, ip);
		if (ip_len)
			vdata[nv++] = (gnutls_typed_vdata_st){ .type = GNUTLS_DT_IP_ADDRESS, .data = ip,
							       .size = (unsigned)ip_len };
		else
			vdata[nv++] = (gnutls_typed_vdata_st){ .type = GNUTLS_DT_DNS_HOSTNAME,
							       .data = (unsigned char *)hostname };
	}
	unsigned flags = GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
	unsigned status = 0;

	pthread_rwlock_t *lock = (pthread_rwlock_t *)&t->lock;
	pthread_rwlock_rdlock(lock);
	int grc = gnutls_x509_trust_list_verify_crt2(t->tl, crts, (unsigned)n, vdata, nv, flags, &status, NULL);
	if (grc < 0) {
		pki_seterr(err, err_len, "verification failed: %s", gnutls_strerror(grc));
		rc = grc == GNUTLS_E_MEMORY_ERROR ? DTLS_ERR_NOMEM : DTLS_ERR_CERTIFICATE_UNKNOWN;
	} else if (status != 0) {
		gnutls_datum_t text = { NULL, 0 };
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) >= 0) {
			unsigned len = text.size;
			while (len > 0 && (text.data[len - 1] == ' ' || text.data[len - 1] == '\0'))
				len--;
			pki_seterr(err, err_len, "%.*s", (int)len, (const char *)text.data);
		}
		gnutls_free(text.data);
		rc = map_status(status);
	} else {
		rc = check_path_times(t->tl, crts, n, now_unix_s, err, err_len);
	}
	pthread_rwlock_unlock(lock);
	if (rc < 0)
		goto out;
	/* A client proves its key with a signature (CertificateVerify, RFC 5246 7.4.8),
	 * which a key usage without digitalSignature forbids (RFC 5280 4.2.1.3). What a
	 * server's key must allow depends on the suite: pki_peer_can_kx. */
	if (!peer_is_server && !pki_crt_key_usage_allows(crts[0], GNUTLS_KEY_DIGITAL_SIGNATURE)) {
		pki_seterr(err, err_len, "the client certificate's key usage does not allow digitalSignature");
		rc = DTLS_ERR_UNSUPPORTED_CERTIFICATE;
		goto out;
	}

	rc = pki_peer_new(crts[0], out);
	crts[0] = NULL;
	if (rc == DTLS_ERR_UNSUPPORTED_CERTIFICATE)
		pki_seterr(err, err_len, "unsupported key type in the peer certificate");
out:
	for (size_t i = 0; i < n; i++)
		if (crts[i])
			gnutls_x509_crt_deinit(crts[i]);
	return rc;
}
