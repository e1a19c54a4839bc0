/* The peer's certificate: names, pin, signature verification, RSA key transport. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pki/pki_int.h"

#define NAME_MAX_LEN 1024 /* longest CN/SAN compared by pki_peer_has_name/cn/san */

size_t pki_ip_literal(const char *s, uint8_t out[static 16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	return 0;
}

int pki_peer_new(gnutls_x509_crt_t crt, struct pki_peer **out)
{
	*out = NULL;
	struct pki_peer *p = calloc(1, sizeof *p);
	if (!p) {
		gnutls_x509_crt_deinit(crt);
		return DTLS_ERR_NOMEM;
	}
	p->crt = crt;
	int rc = DTLS_ERR_NOMEM;
	if (gnutls_pubkey_init(&p->pub) < 0)
		goto fail;
	rc = DTLS_ERR_UNSUPPORTED_CERTIFICATE;
	if (gnutls_pubkey_import_x509(p->pub, crt, 0) < 0)
		goto fail;
	TRY_GOTO(rc, pki_pubkey_type(p->pub, &p->type), fail);
	rc = DTLS_ERR_NOMEM;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &p->der) < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	pki_peer_free(p);
	return rc;
}

int pki_peer_from_der(const uint8_t *der, size_t len, struct pki_peer **out)
{
	*out = NULL;
	ENSURE(der && len > 0 && len <= PKI_MAX_FILE, DTLS_ERR_BAD_CERTIFICATE);
	gnutls_x509_crt_t crt;
	ENSURE(gnutls_x509_crt_init(&crt) >= 0, DTLS_ERR_NOMEM);
	const gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return DTLS_ERR_BAD_CERTIFICATE;
	}
	return pki_peer_new(crt, out);
}

void pki_peer_free(struct pki_peer *p)
{
	if (!p)
		return;
	gnutls_free(p->der.data);
	if (p->pub)
		gnutls_pubkey_deinit(p->pub);
	gnutls_x509_crt_deinit(p->crt);
	free(p);
}

enum pki_key_type pki_peer_key_type(const struct pki_peer *p)
{
	return p->type;
}

const uint8_t *pki_peer_cert_der(const struct pki_peer *p, size_t *len)
{
	*len = p->der.size;
	return p->der.data;
}

bool pki_peer_can_kx(const struct pki_peer *p, enum pki_kx kx)
{
	return pki_kx_allowed(p->type, p->crt, kx);
}

int pki_peer_subject_cn(const struct pki_peer *p, char *buf, size_t len)
{
	return pki_crt_cn(p->crt, buf, len);
}

static bool eq_nocase(const char *a, size_t a_len, const char *b, size_t b_len)
{
	return a_len == b_len && strncasecmp(a, b, a_len) == 0;
}

/* Whether name[0..len) is one of the subject's CNs; *n_cn gets how many CNs there are. */
static bool cn_matches(const struct pki_peer *p, const char *name, size_t len, unsigned *n_cn)
{
	char buf[NAME_MAX_LEN];
	bool found = false;
	*n_cn = 0;
	for (unsigned i = 0; i < 64; i++) {
		size_t size = sizeof buf;
		int rc = gnutls_x509_crt_get_dn_by_oid(p->crt, GNUTLS_OID_X520_COMMON_NAME, i, 0, buf, &size);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		(*n_cn)++; /* one we cannot read (too long) counts too */
		if (rc >= 0 && eq_nocase(buf, size, name, len))
			found = true;
	}
	return found;
}

/*
 * Whether name[0..len) is one of the subjectAltNames: an IP literal (ip[0..ip_len)) an
 * iPAddress by value, anything else a dNSName ignoring ASCII case; with `any_kind`, also
 * rfc822Name and URI byte for byte.
 */
static bool san_matches(const struct pki_peer *p, const char *name, size_t len, const uint8_t *ip, size_t ip_len,
			bool any_kind)
{
	char buf[NAME_MAX_LEN];
	for (unsigned i = 0; i < 64; i++) {
		size_t size = sizeof buf;
		int type = gnutls_x509_crt_get_subject_alt_name(p->crt, i, buf, &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
			if (!ip_len && eq_nocase(buf, size, name, len))
				return true;
			break;
		case GNUTLS_SAN_IPADDRESS:
			if (ip_len && size == ip_len && memcmp(buf, ip, ip_len) == 0)
				return true;
			break;
		case GNUTLS_SAN_RFC822NAME:
		case GNUTLS_SAN_URI:
			if (any_kind && size == len && memcmp(buf, name, len) == 0)
				return true;
			break;
		default:
			break; /* errors (too long) and other name types */
		}
	}
	return false;
}

/* Appends "KIND value" (", " between entries), the value's unprintable bytes, quotes
 * and backslashes as \xNN: the names are the peer's, for a log line. */
static void put_name(char *buf, size_t cap, size_t *off, const char *kind, const char *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int w = snprintf(buf + *off, cap - *off, "%s%s ", *off ? ", " : "", kind);

	if (w < 0 || (size_t)w >= cap - *off) {
		*off = cap - 1;
		return;
	}
	*off += (size_t)w;
	for (size_t i = 0; i < n && *off + 5 < cap; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			buf[(*off)++] = (char)c;
		} else {
			buf[(*off)++] = '\\';
			buf[(*off)++] = 'x';
			buf[(*off)++] = hex[c >> 4];
			buf[(*off)++] = hex[c & 15];
		}
	}
	buf[*off] = '\0';
}

size_t pki_peer_names(const struct pki_peer *p, char *buf, size_t cap)
{
	char v[NAME_MAX_LEN];
	size_t off = 0;

	if (!cap)
		return 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 64 && off + 1 < cap; i++) {
		size_t size = sizeof v;
		int rc = gnutls_x509_crt_get_dn_by_oid(p->crt, GNUTLS_OID_X520_COMMON_NAME, i, 0, v, &size);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc >= 0)
			put_name(buf, cap, &off, "CN", v, size);
	}
	for (unsigned i = 0; i < 64 && off + 1 < cap; i++) {
		size_t size = sizeof v;
		char ip[INET6_ADDRSTRLEN];
		int type = gnutls_x509_crt_get_subject_alt_name(p->crt, i, v, &size, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		switch (type) {
		case GNUTLS_SAN_DNSNAME:
			put_name(buf, cap, &off, "DNS", v, size);
			break;
		case GNUTLS_SAN_IPADDRESS:
			if ((size == 4 || size == 16) &&
			    inet_ntop(size == 4 ? AF_INET : AF_INET6, v, ip, sizeof(ip)))
				put_name(buf, cap, &off, "IP", ip, strlen(ip));
			break;
		case GNUTLS_SAN_RFC822NAME:
			put_name(buf, cap, &off, "email", v, size);
			break;
		case GNUTLS_SAN_URI:
			put_name(buf, cap, &off, "URI", v, size);
			break;
		default:
			break; /* errors (too long) and other name types */
		}
	}
	return off;
}

static bool name_ok(const char *name, size_t *len)
{
	*len = strlen(name);
	return *len > 0 && *len < NAME_MAX_LEN;
}

bool pki_peer_has_name(const struct pki_peer *p, const char *name)
{
	size_t len;
	unsigned n_cn;
	uint8_t ip[16];
	if (!name_ok(name, &len))
		return false;
	return cn_matches(p, name, len, &n_cn) || san_matches(p, name, len, ip, pki_ip_literal(name, ip), true);
}

bool pki_peer_has_cn(const struct pki_peer *p, const char *name)
{
	size_t len;
	unsigned n_cn;
	if (!name_ok(name, &len))
		return false;
	return cn_matches(p, name, len, &n_cn) && n_cn == 1;
}

bool pki_peer_has_san(const struct pki_peer *p, const char *name)
{
	size_t len;
	uint8_t ip[16];
	if (!name_ok(name, &len))
		return false;
	return san_matches(p, name, len, ip, pki_ip_literal(name, ip), false);
}

int pki_peer_spki_sha256(const struct pki_peer *p, uint8_t out[static PKI_PIN_LEN])
{
	gnutls_datum_t spki = { NULL, 0 };
	ENSURE(gnutls_pubkey_export2(p->pub, GNUTLS_X509_FMT_DER, &spki) >= 0, DTLS_ERR_CRYPTO);
	int rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, out);
	gnutls_free(spki.data);
	return rc < 0 ? DTLS_ERR_CRYPTO : 0;
}

int pki_peer_verify(const struct pki_peer *p, uint16_t scheme, const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t sig_len)
{
	gnutls_sign_algorithm_t alg = pki_scheme_sign_alg(scheme, p->type);
	ENSURE(alg != GNUTLS_SIGN_UNKNOWN, DTLS_ERR_ILLEGAL_PARAMETER);
	ENSURE(pki_crt_key_usage_allows(p->crt, GNUTLS_KEY_DIGITAL_SIGNATURE), DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	ENSURE(len <= UINT32_MAX && sig_len <= PKI_MAX_SIG_LEN, DTLS_ERR_DECRYPT_ERROR);
	const gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
	const gnutls_datum_t s = { (unsigned char *)sig, (unsigned)sig_len };
	return gnutls_pubkey_verify_data2(p->pub, alg, 0, &d, &s) < 0 ? DTLS_ERR_DECRYPT_ERROR : 0;
}

int pki_peer_rsa_encrypt(const struct pki_peer *p, const uint8_t pms[static PKI_PREMASTER_LEN], uint8_t *out,
			 size_t *out_len)
{
	ENSURE(p->type == PKI_KEY_RSA, DTLS_ERR_ARG);
	const gnutls_datum_t d = { (unsigned char *)pms, PKI_PREMASTER_LEN };
	gnutls_datum_t c = { NULL, 0 };
	ENSURE(gnutls_pubkey_encrypt_data(p->pub, 0, &d, &c) >= 0, DTLS_ERR_CRYPTO);
	int rc = 0;
	if (c.size > *out_len) {
		rc = DTLS_ERR_BUFFER;
	} else {
		memcpy(out, c.data, c.size);
		*out_len = c.size;
	}
	gnutls_free(c.data);
	return rc;
}
