/* lib/pki helpers: file reading, error text, key types, schemes, validity periods. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pki/pki_int.h"

void pki_seterr(char *err, size_t err_len, const char *fmt, ...)
{
	if (!err || !err_len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

int pki_read_file(const char *name, gnutls_datum_t *out, char *err, size_t err_len)
{
	out->data = NULL;
	out->size = 0;
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pki_seterr(err, err_len, "%s: %s", name, strerror(errno));
		return DTLS_ERR_FILE;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		pki_seterr(err, err_len, "%s: %s", name, strerror(errno));
		close(fd);
		return DTLS_ERR_FILE;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)PKI_MAX_FILE) {
		pki_seterr(err, err_len, "%s: not a regular file of at most %u bytes", name, PKI_MAX_FILE);
		close(fd);
		return DTLS_ERR_FILE;
	}
	size_t cap = (size_t)st.st_size + 1;
	uint8_t *buf = gnutls_malloc(cap);
	if (!buf) {
		close(fd);
		return DTLS_ERR_NOMEM;
	}
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pki_seterr(err, err_len, "%s: %s", name, strerror(errno));
			explicit_bzero(buf, got);
			gnutls_free(buf);
			close(fd);
			return DTLS_ERR_FILE;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == cap) { /* the file grew since fstat */
			pki_seterr(err, err_len, "%s: changed while being read", name);
			explicit_bzero(buf, got);
			gnutls_free(buf);
			close(fd);
			return DTLS_ERR_FILE;
		}
	}
	close(fd);
	if (got == 0) {
		pki_seterr(err, err_len, "%s: empty file", name);
		gnutls_free(buf);
		return DTLS_ERR_FILE;
	}
	out->data = buf;
	out->size = (unsigned)got;
	return 0;
}

bool pki_is_pem(const gnutls_datum_t *d)
{
	return memmem(d->data, d->size, "-----BEGIN ", 11) != NULL;
}

int pki_crt_list_import(const gnutls_datum_t *d, unsigned flags, gnutls_x509_crt_t **list, unsigned *n)
{
	*list = NULL;
	*n = 0;
	gnutls_x509_crt_fmt_t fmt = pki_is_pem(d) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	return gnutls_x509_crt_list_import2(list, n, d, fmt, flags);
}

int pki_not_a_certificate(const char *file, const gnutls_datum_t *d, char *err, size_t err_len)
{
	bool pem = pki_is_pem(d), key = pem && memmem(d->data, d->size, "PRIVATE KEY-----", 16) != NULL;
	gnutls_x509_privkey_t k;
	if (!key && gnutls_x509_privkey_init(&k) >= 0) {
		key = gnutls_x509_privkey_import2(k, d, pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, NULL,
						  GNUTLS_PKCS_PLAIN) >= 0;
		gnutls_x509_privkey_deinit(k);
	}
	if (key)
		pki_seterr(err, err_len, "%s is a private key, not a certificate", file);
	else
		pki_seterr(err, err_len, "%s: not a certificate in PEM or DER", file);
	return DTLS_ERR_FILE;
}

void pki_crt_list_free(gnutls_x509_crt_t *list, unsigned n)
{
	if (!list)
		return;
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

int pki_pubkey_type(gnutls_pubkey_t pub, enum pki_key_type *type)
{
	unsigned bits = 0;
	int alg = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	if (alg == GNUTLS_PK_RSA) {
		ENSURE(bits >= PKI_RSA_MIN_BITS && bits <= PKI_RSA_MAX_BITS, DTLS_ERR_UNSUPPORTED_CERTIFICATE);
		*type = PKI_KEY_RSA;
		return 0;
	}
	ENSURE(alg == GNUTLS_PK_ECDSA, DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	int rc = gnutls_pubkey_export_ecc_raw2(pub, &curve, &x, &y, 0);
	gnutls_free(x.data);
	gnutls_free(y.data);
	ENSURE(rc >= 0, DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	if (curve == GNUTLS_ECC_CURVE_SECP256R1)
		*type = PKI_KEY_ECDSA_P256;
	else if (curve == GNUTLS_ECC_CURVE_SECP384R1)
		*type = PKI_KEY_ECDSA_P384;
	else
		return DTLS_ERR_UNSUPPORTED_CERTIFICATE;
	return 0;
}

bool pki_crt_key_usage_allows(gnutls_x509_crt_t crt, unsigned need)
{
	unsigned usage = 0, critical = 0;
	int rc = gnutls_x509_crt_get_key_usage(crt, &usage, &critical);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return true; /* no extension: any usage */
	if (rc < 0)
		return false;
	return (usage & need) == need;
}

bool pki_kx_allowed(enum pki_key_type type, gnutls_x509_crt_t leaf, enum pki_kx kx)
{
	switch (kx) {
	case PKI_KX_RSA:
		return type == PKI_KEY_RSA && pki_crt_key_usage_allows(leaf, GNUTLS_KEY_KEY_ENCIPHERMENT);
	case PKI_KX_ECDHE_RSA:
		return type == PKI_KEY_RSA && pki_crt_key_usage_allows(leaf, GNUTLS_KEY_DIGITAL_SIGNATURE);
	case PKI_KX_ECDHE_ECDSA:
		return (type == PKI_KEY_ECDSA_P256 || type == PKI_KEY_ECDSA_P384) &&
		       pki_crt_key_usage_allows(leaf, GNUTLS_KEY_DIGITAL_SIGNATURE);
	}
	return false;
}

gnutls_sign_algorithm_t pki_scheme_sign_alg(uint16_t scheme, enum pki_key_type type)
{
	bool rsa = type == PKI_KEY_RSA;
	bool ec = type == PKI_KEY_ECDSA_P256 || type == PKI_KEY_ECDSA_P384;
	switch (scheme) {
	case PKI_RSA_PKCS1_SHA256:
		return rsa ? GNUTLS_SIGN_RSA_SHA256 : GNUTLS_SIGN_UNKNOWN;
	case PKI_RSA_PKCS1_SHA384:
		return rsa ? GNUTLS_SIGN_RSA_SHA384 : GNUTLS_SIGN_UNKNOWN;
	case PKI_RSA_PSS_RSAE_SHA256:
		return rsa ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 : GNUTLS_SIGN_UNKNOWN;
	case PKI_RSA_PSS_RSAE_SHA384:
		return rsa ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 : GNUTLS_SIGN_UNKNOWN;
	/* TLS 1.2 semantics: the hash is named, the curve is not (RFC 5246 7.4.1.4.1). */
	case PKI_ECDSA_SHA256:
		return ec ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_UNKNOWN;
	case PKI_ECDSA_SHA384:
		return ec ? GNUTLS_SIGN_ECDSA_SHA384 : GNUTLS_SIGN_UNKNOWN;
	default:
		return GNUTLS_SIGN_UNKNOWN;
	}
}

int pki_crt_cn(gnutls_x509_crt_t crt, char *buf, size_t len)
{
	ENSURE(len > 0, DTLS_ERR_BUFFER);
	size_t size = len;
	int rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size);
	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		buf[0] = '\0';
		return 0;
	}
	if (rc < 0) {
		buf[0] = '\0';
		return rc == GNUTLS_E_SHORT_MEMORY_BUFFER ? DTLS_ERR_BUFFER : DTLS_ERR_BAD_CERTIFICATE;
	}
	return 0;
}

static void fmt_time(time_t t, char buf[static 32])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, 32, "%lld", (long long)t);
}

int pki_check_time(gnutls_x509_crt_t crt, uint64_t now_unix_s, const char *what, char *err, size_t err_len)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	char cn[128], when[32];
	if (from == (time_t)-1 || until == (time_t)-1) {
		pki_seterr(err, err_len, "%s: certificate without a readable validity period", what);
		return DTLS_ERR_BAD_CERTIFICATE;
	}
	bool early = (int64_t)now_unix_s < (int64_t)from;
	bool late = (int64_t)now_unix_s > (int64_t)until;
	if (!early && !late)
		return 0;
	if (pki_crt_cn(crt, cn, sizeof cn) < 0)
		cn[0] = '\0';
	fmt_time(early ? from : until, when);
	pki_seterr(err, err_len, "%s: certificate%s%s%s %s %s", what, cn[0] ? " (CN=" : "", cn, cn[0] ? ")" : "",
		   early ? "is not valid before" : "expired on", when);
	return DTLS_ERR_CERTIFICATE_EXPIRED;
}
