/* What a certificate file holds (subjects, validity periods), for a caller's own checks. */
#include <stdlib.h>
#include <string.h>

#include "pki/pki_int.h"

int pki_file_cert_info(const char *file, dtls_cert_info_fn fn, void *arg, char *err, size_t err_len)
{
	gnutls_datum_t raw;
	gnutls_x509_crt_t *crts;
	unsigned n;
	pki_seterr(err, err_len, "%s", "");
	TRY(pki_read_file(file, &raw, err, err_len));
	int rc = pki_crt_list_import(&raw, 0, &crts, &n);
	if (rc == GNUTLS_E_MEMORY_ERROR) {
		rc = DTLS_ERR_NOMEM;
	} else if (rc < 0 || n == 0) {
		rc = pki_not_a_certificate(file, &raw, err, err_len);
		explicit_bzero(raw.data, raw.size); /* it may be a private key */
	}
	gnutls_free(raw.data);
	if (rc < 0)
		return rc;
	/* Everything is read before fn sees the first: on an error fn is not called. */
	gnutls_datum_t *dn = calloc(n, sizeof *dn);
	rc = dn ? 0 : DTLS_ERR_NOMEM;
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		int e = gnutls_x509_crt_get_dn3(crts[i], &dn[i], 0);
		if (e == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) /* an empty subject */
			e = 0;
		if (e == GNUTLS_E_MEMORY_ERROR)
			rc = DTLS_ERR_NOMEM;
		else if (e < 0 || gnutls_x509_crt_get_activation_time(crts[i]) == (time_t)-1 ||
			 gnutls_x509_crt_get_expiration_time(crts[i]) == (time_t)-1) {
			pki_seterr(err, err_len, "%s: certificate %u without a readable subject or validity period",
				   file, i + 1);
			rc = DTLS_ERR_FILE;
		}
	}
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		const struct dtls_cert_info info = {
			.index = i,
			.subject = dn[i].data ? (const char *)dn[i].data : "",
			.not_before = (int64_t)gnutls_x509_crt_get_activation_time(crts[i]),
			.not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crts[i]),
		};
		fn(arg, &info);
	}
	for (unsigned i = 0; dn && i < n; i++)
		gnutls_free(dn[i].data);
	free(dn);
	pki_crt_list_free(crts, n);
	return rc < 0 ? rc : (int)n;
}
