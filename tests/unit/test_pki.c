/*
 * lib/pki: loading certificates and keys in every form, chain verification and its
 * failures, the trusted store, signatures for every scheme, RSA key transport, the
 * SPKI pin (checked against openssl). The test PKI comes from tests/pki/mkpki.sh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "harness.h"
#include "pki/pki.h"

static uint64_t now;

static const char *path(const char *name)
{
	return unit_pki_path(name);
}

static uint8_t *slurp(const char *name, size_t *len)
{
	FILE *f = fopen(path(name), "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	uint8_t *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path(name), "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int init(void)
{
	if (unit_pki_make() < 0)
		return -1;
	now = (uint64_t)time(NULL);
	return 0;
}

static int cleanup(void)
{
	int rc = unit_pki_free();
	gnutls_global_deinit();
	return rc;
}

/* Loads cert+key from the PKI directory; asserts the result. */
static struct pki_identity *load_ok(const char *cert, const char *key)
{
	struct pki_identity *id = NULL;
	char err[256];
	int rc = pki_identity_load(&id, path(cert), path(key), now, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "\nload %s %s: %d %s\n", cert, key, rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	return id;
}

static int load_err(const char *cert, const char *key, uint64_t t, char *err, size_t err_len)
{
	struct pki_identity *id = (struct pki_identity *)&id; /* must be reset */
	int rc = pki_identity_load(&id, cert, key, t, err, err_len);
	CU_ASSERT_PTR_NULL(id);
	pki_identity_unref(id);
	return rc;
}

static bool same_as_file(const uint8_t *der, size_t len, const char *name)
{
	size_t flen;
	uint8_t *f = slurp(name, &flen);
	bool eq = flen == len && memcmp(f, der, len) == 0;
	free(f);
	return eq;
}

/* ---- loading ------------------------------------------------------------- */

static void test_load_forms(void)
{
	static const struct {
		const char *cert, *key;
		enum pki_key_type type;
		size_t n;
	} forms[] = {
		{ "server-ec.pem", "server-ec.key", PKI_KEY_ECDSA_P256, 1 },      /* SEC1 PEM */
		{ "server-ec.der", "server-ec.key.der", PKI_KEY_ECDSA_P256, 1 },  /* PKCS#8 DER */
		{ "server-ec.pem", "server-ec.sec1.der", PKI_KEY_ECDSA_P256, 1 }, /* SEC1 DER */
		{ "server-ec.pem", "server-ec.p8.pem", PKI_KEY_ECDSA_P256, 1 },   /* PKCS#8 PEM */
		{ "server-ec-chain.pem", "server-ec.key", PKI_KEY_ECDSA_P256, 2 },
		{ "server-rsa.pem", "server-rsa.key", PKI_KEY_RSA, 1 },           /* PKCS#1 PEM */
		{ "server-rsa.der", "server-rsa.key.der", PKI_KEY_RSA, 1 },       /* PKCS#1 DER */
		{ "server-rsa.pem", "server-rsa.p8.pem", PKI_KEY_RSA, 1 },
		{ "server-rsa.pem", "server-rsa.p8.der", PKI_KEY_RSA, 1 },
		{ "server-rsa-chain.pem", "server-rsa.key.der", PKI_KEY_RSA, 2 },
		{ "server-ec384-chain.pem", "server-ec384.key", PKI_KEY_ECDSA_P384, 2 },
		{ "client-chain.pem", "client.key", PKI_KEY_ECDSA_P256, 2 },
		{ "client-rsa-chain.pem", "client-rsa.key", PKI_KEY_RSA, 2 },
	};
	for (size_t i = 0; i < ARRAY_LEN(forms); i++) {
		struct pki_identity *id = load_ok(forms[i].cert, forms[i].key);
		CU_ASSERT_EQUAL(pki_identity_key_type(id), forms[i].type);
		CU_ASSERT_EQUAL(pki_identity_cert_count(id), forms[i].n);
		size_t len;
		CU_ASSERT_PTR_NULL(pki_identity_cert_der(id, forms[i].n, &len));
		CU_ASSERT_EQUAL(len, 0);
		pki_identity_unref(id);
	}

	/* The PKCS#1 DER form is what the reference product expects. */
	size_t klen;
	uint8_t *k = slurp("server-rsa.key.der", &klen);
	CU_ASSERT(klen > 8 && k[0] == 0x30 && k[1] == 0x82 && k[4] == 0x02 && k[5] == 0x01 && k[6] == 0x00 &&
		  k[7] == 0x02);
	free(k);

	/* Chain order: leaf, then intermediate; the DER is the certificates'. */
	struct pki_identity *id = load_ok("server-ec-chain.pem", "server-ec.key");
	size_t len;
	const uint8_t *der = pki_identity_cert_der(id, 0, &len);
	CU_ASSERT(same_as_file(der, len, "server-ec.der"));
	der = pki_identity_cert_der(id, 1, &len);
	CU_ASSERT(same_as_file(der, len, "int.der"));
	/* Refcount: two references, two puts. */
	CU_ASSERT_PTR_EQUAL(pki_identity_ref(id), id);
	pki_identity_unref(id);
	pki_identity_unref(id);
	pki_identity_unref(NULL);
}

static void test_load_mem(void)
{
	size_t clen, klen;
	uint8_t *c = slurp("server-rsa-chain.pem", &clen), *k = slurp("server-rsa.key.der", &klen);
	struct pki_identity *id;
	char err[256];
	CU_ASSERT_EQUAL(pki_identity_load_mem(&id, c, clen, k, klen, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(pki_identity_cert_count(id), 2);
	pki_identity_unref(id);
	CU_ASSERT_EQUAL(pki_identity_load_mem(&id, c, clen, c, clen, now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "key: not a private key"));
	free(c);
	free(k);
}

static void test_load_errors(void)
{
	char err[256];
	/* Mismatched key: same type and different type. */
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("client.key"), now, err, sizeof err),
			DTLS_ERR_KEY_MISMATCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "client.key: key does not match certificate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "server-ec.pem"));
	CU_ASSERT_EQUAL(load_err(path("server-rsa.pem"), path("server-ec.key"), now, err, sizeof err),
			DTLS_ERR_KEY_MISMATCH);

	/* Missing file, a directory, an empty file. */
	CU_ASSERT_EQUAL(load_err("/nonexistent/gw.pem", path("server-ec.key"), now, err, sizeof err),
			DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/gw.pem: No such file"));
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path(""), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
	write_file("empty.key", "", 0);
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("empty.key"), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty.key: empty file"));
	/* Unreadable (meaningless as root, who reads anything). */
	if (geteuid() != 0) {
		write_file("noperm.key", "x", 1);
		chmod(path("noperm.key"), 0);
		CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("noperm.key"), now, err, sizeof err),
				DTLS_ERR_FILE);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "Permission denied"));
	}

	/* Garbage key and certificate, a certificate as key, a key as certificate. */
	static const char junk[] = "this is neither PEM nor DER\n\x30\x03\x02\x01";
	write_file("garbage.key", junk, sizeof junk);
	write_file("garbage.pem", junk, sizeof junk);
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("garbage.key"), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbage.key: not a private key in PEM or DER"));
	CU_ASSERT_EQUAL(load_err(path("garbage.pem"), path("server-ec.key"), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbage.pem: not a certificate"));
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("server-ec.pem"), now, err, sizeof err),
			DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "server-ec.pem: not a private key"));
	CU_ASSERT_EQUAL(load_err(path("server-ec.key"), path("server-ec.key"), now, err, sizeof err),
			DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "server-ec.key: not a certificate"));

	/* Certificates out of order (intermediate first). */
	size_t a, b;
	uint8_t *i = slurp("int.pem", &a), *l = slurp("server-ec.pem", &b);
	i = realloc(i, a + b);
	memcpy(i + a, l, b);
	write_file("unsorted.pem", i, a + b);
	free(i);
	free(l);
	CU_ASSERT_EQUAL(load_err(path("unsorted.pem"), path("server-ec.key"), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of order"));

	/* An encrypted PKCS#8 key. */
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "certtool --to-p8 --load-privkey '%s' --password=secret --outfile '%s' >/dev/null 2>&1",
		 path("server-ec.key"), path("enc.key"));
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("enc.key"), now, err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "enc.key: encrypted private keys are not supported"));

	/* err may be NULL. */
	CU_ASSERT_EQUAL(load_err(path("garbage.pem"), path("server-ec.key"), now, NULL, 0), DTLS_ERR_FILE);
}

static void test_load_expired(void)
{
	char err[256];
	CU_ASSERT_EQUAL(load_err(path("server-expired.pem"), path("server-expired.key"), now, err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "server-expired.pem: certificate (CN=gw.test) expired on 2024-01-01"));
	/* Valid in 2023; time checks off with now == 0. */
	struct pki_identity *id;
	CU_ASSERT_EQUAL(pki_identity_load(&id, path("server-expired.pem"), path("server-expired.key"),
					  1672531200 + 86400, err, sizeof err),
			0);
	pki_identity_unref(id);
	CU_ASSERT_EQUAL(pki_identity_load(&id, path("server-expired.pem"), path("server-expired.key"), 0, err,
					  sizeof err),
			0);
	pki_identity_unref(id);
	/* A good certificate before its time; the intermediate of a chain is checked too. */
	CU_ASSERT_EQUAL(load_err(path("server-ec.pem"), path("server-ec.key"), 946684800, err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not valid before"));
	CU_ASSERT_EQUAL(load_err(path("server-expired-chain.pem"), path("server-expired.key"), 1672531200 + 86400,
				 err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "Intermediate CA) is not valid before"));
}

/* ---- chains --------------------------------------------------------------- */

struct chain {
	uint8_t *der[4];
	size_t len[4];
	size_t n;
};

/* A chain of DER files, leaf first (PEM files converted through the identity loader). */
static void chain_of(struct chain *c, const char *a, const char *b, const char *d)
{
	const char *names[] = { a, b, d };
	c->n = 0;
	for (size_t i = 0; i < 3 && names[i]; i++) {
		c->der[c->n] = slurp(names[i], &c->len[c->n]);
		c->n++;
	}
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->der[i]);
	c->n = 0;
}

static struct pki_trust *trust_ca(void)
{
	struct pki_trust *t = pki_trust_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	char err[256];
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("ca.pem"), err, sizeof err), 1);
	return t;
}

static int verify(const struct pki_trust *t, const struct chain *c, const char *host, bool server, uint64_t when,
		  char *err, size_t err_len)
{
	struct pki_peer *p = (struct pki_peer *)&p;
	int rc = pki_verify_chain(t, (const uint8_t *const *)c->der, c->len, c->n, host, server, when, &p, err,
				  err_len);
	if (rc == 0) {
		CU_ASSERT_PTR_NOT_NULL(p);
	} else {
		CU_ASSERT_PTR_NULL(p);
	}
	pki_peer_free(rc == 0 ? p : NULL);
	return rc;
}

static void test_verify_good(void)
{
	struct pki_trust *t = trust_ca();
	struct chain c;
	char err[512];
	static const char *servers[] = { "server-ec.der", "server-rsa.der", "server-ec384.der" };
	for (size_t i = 0; i < ARRAY_LEN(servers); i++) {
		chain_of(&c, servers[i], "int.der", NULL);
		CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
		CU_ASSERT_STRING_EQUAL(err, "");
		CU_ASSERT_EQUAL(verify(t, &c, "GW.Test", true, now, err, sizeof err), 0);
		CU_ASSERT_EQUAL(verify(t, &c, "127.0.0.1", true, now, err, sizeof err), 0);
		CU_ASSERT_EQUAL(verify(t, &c, "::1", true, now, err, sizeof err), 0);
		CU_ASSERT_EQUAL(verify(t, &c, NULL, true, now, err, sizeof err), 0);
		chain_free(&c);
	}
	/* Client certificates, for the client purpose. */
	chain_of(&c, "client.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, NULL, false, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(verify(t, &c, "client1.gw.test", false, now, err, sizeof err), 0);
	chain_free(&c);
	chain_of(&c, "client-rsa.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, NULL, false, now, err, sizeof err), 0);
	chain_free(&c);
	/* The root sent too. */
	chain_of(&c, "server-ec.der", "int.der", "ca.der");
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	chain_free(&c);

	/* The verified peer. */
	chain_of(&c, "server-ec.der", "int.der", NULL);
	struct pki_peer *p;
	CU_ASSERT_EQUAL_FATAL(pki_verify_chain(t, (const uint8_t *const *)c.der, c.len, c.n, "gw.test", true, now,
					       &p, NULL, 0),
			      0);
	CU_ASSERT_EQUAL(pki_peer_key_type(p), PKI_KEY_ECDSA_P256);
	size_t len;
	const uint8_t *der = pki_peer_cert_der(p, &len);
	CU_ASSERT(len == c.len[0] && memcmp(der, c.der[0], len) == 0);
	char cn[64];
	CU_ASSERT_EQUAL(pki_peer_subject_cn(p, cn, sizeof cn), 0);
	CU_ASSERT_STRING_EQUAL(cn, "gw.test");
	CU_ASSERT_EQUAL(pki_peer_subject_cn(p, cn, 4), DTLS_ERR_BUFFER);
	CU_ASSERT(pki_peer_has_name(p, "gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "GW.TEST"));
	CU_ASSERT(pki_peer_has_name(p, "127.0.0.1"));
	CU_ASSERT(pki_peer_has_name(p, "::1"));
	CU_ASSERT(pki_peer_has_name(p, "0:0::1"));
	CU_ASSERT(!pki_peer_has_name(p, "wrong.test"));
	CU_ASSERT(!pki_peer_has_name(p, "gw.tes"));
	CU_ASSERT(!pki_peer_has_name(p, "127.0.0.2"));
	CU_ASSERT(!pki_peer_has_name(p, ""));
	pki_peer_free(p);
	chain_free(&c);
	pki_trust_unref(t);
}

static void test_verify_failures(void)
{
	struct pki_trust *t = trust_ca();
	struct chain c;
	char err[512];

	/* No intermediate sent. */
	chain_of(&c, "server-ec.der", NULL, NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "issuer is unknown"));
	chain_free(&c);

	/* Expired leaf; a good chain before and after its time. */
	chain_of(&c, "server-expired.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "expired on 2024-01-01"));
	chain_free(&c);
	chain_of(&c, "server-ec.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, 4102444800 /* 2100 */, err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, 946684800 /* 2000 */, err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not valid before"));

	/* Wrong names. */
	CU_ASSERT_EQUAL(verify(t, &c, "wrong.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "name in the certificate does not match"));
	CU_ASSERT_EQUAL(verify(t, &c, "10.0.0.1", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_EQUAL(verify(t, &c, "::2", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);

	/* A server certificate used by a client. */
	CU_ASSERT_EQUAL(verify(t, &c, NULL, false, now, err, sizeof err), DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	chain_free(&c);

	/* Signed by an unknown CA. */
	chain_of(&c, "server-unknown.der", NULL, NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);
	chain_free(&c);

	/* The wrong-name certificate. */
	chain_of(&c, "server-wrong.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_EQUAL(verify(t, &c, "wrong.test", true, now, err, sizeof err), 0);
	chain_free(&c);

	/* A client certificate used as a server's (with and without a name check). */
	chain_of(&c, "client.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, NULL, true, now, err, sizeof err), DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	int rc = verify(t, &c, "gw.test", true, now, err, sizeof err);
	CU_ASSERT(rc == DTLS_ERR_UNSUPPORTED_CERTIFICATE || rc == DTLS_ERR_BAD_CERTIFICATE);
	chain_free(&c);

	/* A flipped byte in the leaf's signature, in its body, and garbage. */
	chain_of(&c, "server-rsa.der", "int.der", NULL);
	c.der[0][c.len[0] - 1] ^= 1;
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	c.der[0][c.len[0] - 1] ^= 1;
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	c.der[1][c.len[1] - 1] ^= 0x80; /* the intermediate's signature */
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	c.der[1][c.len[1] - 1] ^= 0x80;
	c.len[0] = 10;
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "certificate 0:"));
	c.n = 0;
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_BAD_CERTIFICATE);
	c.n = 2;
	chain_free(&c);

	/* An empty store trusts nobody. */
	struct pki_trust *empty = pki_trust_new();
	chain_of(&c, "server-ec.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(empty, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);
	chain_free(&c);
	pki_trust_unref(empty);
	pki_trust_unref(t);
}

/* ---- the trusted store --------------------------------------------------- */

static void test_trust_store(void)
{
	struct pki_trust *t = pki_trust_new();
	struct chain c, u;
	char err[256];
	chain_of(&c, "server-ec.der", "int.der", NULL);
	chain_of(&u, "server-unknown.der", NULL, NULL);
	size_t ca_len;
	uint8_t *ca = slurp("ca.der", &ca_len);

	CU_ASSERT_EQUAL(pki_trust_count(t), 0);
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("ca.pem"), err, sizeof err), 1);
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("ca.pem"), err, sizeof err), 0);
	CU_ASSERT_EQUAL(pki_trust_add_der(t, ca, ca_len), 0);
	CU_ASSERT_EQUAL(pki_trust_count(t), 1);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);

	/* Removed: no longer trusted; added back: trusted again. */
	CU_ASSERT_EQUAL(pki_trust_remove_der(t, ca, ca_len), 1);
	CU_ASSERT_EQUAL(pki_trust_remove_der(t, ca, ca_len), 0);
	CU_ASSERT_EQUAL(pki_trust_count(t), 0);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);
	CU_ASSERT_EQUAL(pki_trust_add_der(t, ca, ca_len), 1);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(pki_trust_remove_file(t, path("ca.pem"), err, sizeof err), 1);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);

	/* A bundle of two CAs; removing one file keeps the other. */
	size_t a, b;
	uint8_t *x = slurp("ca.pem", &a), *y = slurp("other-ca.pem", &b);
	x = realloc(x, a + b);
	memcpy(x + a, y, b);
	write_file("bundle.pem", x, a + b);
	free(x);
	free(y);
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("bundle.pem"), err, sizeof err), 2);
	CU_ASSERT_EQUAL(pki_trust_count(t), 2);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(verify(t, &u, "gw.test", true, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(pki_trust_remove_file(t, path("other-ca.der"), err, sizeof err), 1);
	CU_ASSERT_EQUAL(pki_trust_count(t), 1);
	CU_ASSERT_EQUAL(verify(t, &u, "gw.test", true, now, err, sizeof err), DTLS_ERR_UNKNOWN_CA);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(pki_trust_remove_file(t, path("bundle.pem"), err, sizeof err), 1);
	CU_ASSERT_EQUAL(pki_trust_count(t), 0);

	/* An intermediate as the trust anchor: the leaf alone verifies. */
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("int.pem"), err, sizeof err), 1);
	struct chain leaf;
	chain_of(&leaf, "server-ec.der", NULL, NULL);
	CU_ASSERT_EQUAL(verify(t, &leaf, "gw.test", true, now, err, sizeof err), 0);
	CU_ASSERT_EQUAL(verify(t, &leaf, "gw.test", true, 4102444800, err, sizeof err),
			DTLS_ERR_CERTIFICATE_EXPIRED);
	chain_free(&leaf);

	/* Errors. */
	write_file("garbage.pem", "garbage\n", 8);
	CU_ASSERT_EQUAL(pki_trust_add_file(t, path("garbage.pem"), err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbage.pem: not a certificate"));
	CU_ASSERT_EQUAL(pki_trust_add_file(t, "/nonexistent/ca.pem", err, sizeof err), DTLS_ERR_FILE);
	CU_ASSERT_EQUAL(pki_trust_add_der(t, ca, 20), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_EQUAL(pki_trust_add_der(t, ca, 0), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_EQUAL(pki_trust_count(t), 1);

	/* Refcount: a session's reference outlives the config's. */
	struct pki_trust *r = pki_trust_ref(t);
	pki_trust_unref(t);
	CU_ASSERT_EQUAL(pki_trust_count(r), 1);
	pki_trust_unref(r);
	pki_trust_unref(NULL);
	free(ca);
	chain_free(&c);
	chain_free(&u);
}

struct race {
	struct pki_trust *t;
	struct chain c;
	int failures;
};

static void *race_verify(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 200; i++) {
		struct pki_peer *p = NULL;
		int rc = pki_verify_chain(r->t, (const uint8_t *const *)r->c.der, r->c.len, r->c.n, "gw.test", true,
					  now, &p, NULL, 0);
		if (rc != 0 && rc != DTLS_ERR_UNKNOWN_CA)
			r->failures++;
		pki_peer_free(p);
	}
	return NULL;
}

/* Add/remove while another thread verifies (run under ASan/TSan for meaning). */
static void test_trust_concurrent(void)
{
	struct race r = { .t = pki_trust_new() };
	chain_of(&r.c, "server-ec.der", "int.der", NULL);
	size_t ca_len;
	uint8_t *ca = slurp("ca.der", &ca_len);
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, race_verify, &r), 0);
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(pki_trust_add_der(r.t, ca, ca_len), 1);
		CU_ASSERT_EQUAL(pki_trust_remove_der(r.t, ca, ca_len), 1);
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(r.failures, 0);
	free(ca);
	chain_free(&r.c);
	pki_trust_unref(r.t);
}

/* ---- signatures ------------------------------------------------------------ */

static struct pki_peer *peer_of(const char *der_file)
{
	size_t len;
	uint8_t *der = slurp(der_file, &len);
	struct pki_peer *p = NULL;
	CU_ASSERT_EQUAL_FATAL(pki_peer_from_der(der, len, &p), 0);
	free(der);
	return p;
}

static void test_sign_verify(void)
{
	static const struct {
		const char *cert, *key, *der;
	} ids[] = {
		{ "server-ec.pem", "server-ec.key", "server-ec.der" },
		{ "server-ec384.pem", "server-ec384.key", "server-ec384.der" },
		{ "server-rsa.pem", "server-rsa.key.der", "server-rsa.der" },
		{ "client-rsa.pem", "client-rsa.key", "client-rsa.der" },
		{ "client.pem", "client.key", "client.der" },
	};
	static const uint16_t schemes[] = { PKI_RSA_PKCS1_SHA256,    PKI_RSA_PKCS1_SHA384, PKI_RSA_PSS_RSAE_SHA256,
					    PKI_RSA_PSS_RSAE_SHA384, PKI_ECDSA_SHA256,     PKI_ECDSA_SHA384 };
	static const uint8_t msg[] = "client_random || server_random || ServerECDHParams";
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		struct pki_identity *id = load_ok(ids[i].cert, ids[i].key);
		struct pki_peer *p = peer_of(ids[i].der);
		bool rsa = pki_identity_key_type(id) == PKI_KEY_RSA;
		CU_ASSERT_EQUAL(pki_peer_key_type(p), pki_identity_key_type(id));
		for (size_t s = 0; s < ARRAY_LEN(schemes); s++) {
			bool rsa_scheme = (schemes[s] & 0xff) == 0x01 || (schemes[s] >> 8) == 0x08;
			uint8_t sig[PKI_MAX_SIG_LEN];
			size_t sig_len = sizeof sig;
			int rc = pki_sign(id, schemes[s], msg, sizeof msg, sig, &sig_len);
			if (rsa != rsa_scheme) {
				CU_ASSERT_EQUAL(rc, DTLS_ERR_ILLEGAL_PARAMETER);
				CU_ASSERT_EQUAL(pki_peer_verify(p, schemes[s], msg, sizeof msg, sig, 64),
						DTLS_ERR_ILLEGAL_PARAMETER);
				continue;
			}
			CU_ASSERT_EQUAL_FATAL(rc, 0);
			CU_ASSERT_EQUAL(pki_peer_verify(p, schemes[s], msg, sizeof msg, sig, sig_len), 0);
			/* Another scheme of the same key type does not verify it. */
			uint16_t other = schemes[s ^ 1];
			CU_ASSERT_EQUAL(pki_peer_verify(p, other, msg, sizeof msg, sig, sig_len),
					DTLS_ERR_DECRYPT_ERROR);
			/* A flipped byte in the signature, in the data, a truncated signature. */
			for (size_t k = 0; k < sig_len; k += sig_len / 7 + 1) {
				sig[k] ^= 0x10;
				CU_ASSERT_EQUAL(pki_peer_verify(p, schemes[s], msg, sizeof msg, sig, sig_len),
						DTLS_ERR_DECRYPT_ERROR);
				sig[k] ^= 0x10;
			}
			uint8_t bad[sizeof msg];
			memcpy(bad, msg, sizeof msg);
			bad[3] ^= 1;
			CU_ASSERT_EQUAL(pki_peer_verify(p, schemes[s], bad, sizeof bad, sig, sig_len),
					DTLS_ERR_DECRYPT_ERROR);
			CU_ASSERT_EQUAL(pki_peer_verify(p, schemes[s], msg, sizeof msg, sig, sig_len - 1),
					DTLS_ERR_DECRYPT_ERROR);
			/* Too small an output buffer. */
			sig_len = 8;
			CU_ASSERT_EQUAL(pki_sign(id, schemes[s], msg, sizeof msg, sig, &sig_len), DTLS_ERR_BUFFER);
		}
		uint8_t sig[PKI_MAX_SIG_LEN];
		size_t sig_len = sizeof sig;
		CU_ASSERT_EQUAL(pki_sign(id, 0x0201 /* rsa_pkcs1_sha1 */, msg, sizeof msg, sig, &sig_len),
				DTLS_ERR_ILLEGAL_PARAMETER);
		CU_ASSERT_EQUAL(pki_peer_verify(p, 0x0807 /* ed25519 */, msg, sizeof msg, sig, 64),
				DTLS_ERR_ILLEGAL_PARAMETER);
		pki_peer_free(p);
		pki_identity_unref(id);
	}
}

static void test_choose_scheme(void)
{
	struct pki_identity *rsa = load_ok("server-rsa.pem", "server-rsa.key");
	struct pki_identity *p256 = load_ok("server-ec.pem", "server-ec.key");
	struct pki_identity *p384 = load_ok("server-ec384.pem", "server-ec384.key");
	static const uint16_t all[] = { 0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201 };
	static const uint16_t pkcs1[] = { 0x0601, 0x0501, 0x0401 };
	static const uint16_t only384[] = { 0x0503 };
	static const uint16_t only_rsa[] = { 0x0401, 0x0804 };
	static const uint16_t sha1[] = { 0x0201, 0x0203 };
	CU_ASSERT_EQUAL(pki_choose_scheme(rsa, all, ARRAY_LEN(all)), PKI_RSA_PSS_RSAE_SHA256);
	CU_ASSERT_EQUAL(pki_choose_scheme(rsa, pkcs1, ARRAY_LEN(pkcs1)), PKI_RSA_PKCS1_SHA256);
	CU_ASSERT_EQUAL(pki_choose_scheme(p256, all, ARRAY_LEN(all)), PKI_ECDSA_SHA256);
	CU_ASSERT_EQUAL(pki_choose_scheme(p256, only384, 1), PKI_ECDSA_SHA384);
	CU_ASSERT_EQUAL(pki_choose_scheme(p384, all, ARRAY_LEN(all)), PKI_ECDSA_SHA384);
	CU_ASSERT_EQUAL(pki_choose_scheme(p256, only_rsa, 2), DTLS_ERR_HANDSHAKE_FAILURE);
	CU_ASSERT_EQUAL(pki_choose_scheme(rsa, only384, 1), DTLS_ERR_HANDSHAKE_FAILURE);
	CU_ASSERT_EQUAL(pki_choose_scheme(rsa, sha1, 2), DTLS_ERR_HANDSHAKE_FAILURE);
	CU_ASSERT_EQUAL(pki_choose_scheme(rsa, NULL, 0), DTLS_ERR_HANDSHAKE_FAILURE);
	pki_identity_unref(rsa);
	pki_identity_unref(p256);
	pki_identity_unref(p384);
}

static void test_can_kx(void)
{
	struct pki_identity *rsa = load_ok("server-rsa.pem", "server-rsa.key");
	struct pki_identity *crsa = load_ok("client-rsa.pem", "client-rsa.key");
	struct pki_identity *ec = load_ok("server-ec.pem", "server-ec.key");
	CU_ASSERT(pki_identity_can_kx(rsa, PKI_KX_RSA));
	CU_ASSERT(pki_identity_can_kx(rsa, PKI_KX_ECDHE_RSA));
	CU_ASSERT(!pki_identity_can_kx(rsa, PKI_KX_ECDHE_ECDSA));
	/* digitalSignature only: no RSA key transport. */
	CU_ASSERT(!pki_identity_can_kx(crsa, PKI_KX_RSA));
	CU_ASSERT(pki_identity_can_kx(crsa, PKI_KX_ECDHE_RSA));
	CU_ASSERT(pki_identity_can_kx(ec, PKI_KX_ECDHE_ECDSA));
	CU_ASSERT(!pki_identity_can_kx(ec, PKI_KX_RSA));
	CU_ASSERT(!pki_identity_can_kx(ec, PKI_KX_ECDHE_RSA));
	struct pki_peer *p = peer_of("server-rsa.der"), *q = peer_of("client-rsa.der"), *e = peer_of("server-ec.der");
	CU_ASSERT(pki_peer_can_kx(p, PKI_KX_RSA));
	CU_ASSERT(!pki_peer_can_kx(q, PKI_KX_RSA));
	CU_ASSERT(pki_peer_can_kx(q, PKI_KX_ECDHE_RSA));
	CU_ASSERT(pki_peer_can_kx(e, PKI_KX_ECDHE_ECDSA));
	CU_ASSERT(!pki_peer_can_kx(e, PKI_KX_RSA));
	pki_peer_free(p);
	pki_peer_free(q);
	pki_peer_free(e);
	pki_identity_unref(rsa);
	pki_identity_unref(crsa);
	pki_identity_unref(ec);
}

/* ---- RSA key transport ------------------------------------------------------ */

static void test_rsa_premaster(void)
{
	struct pki_identity *id = load_ok("server-rsa.pem", "server-rsa.key.der");
	struct pki_peer *p = peer_of("server-rsa.der");
	uint8_t pms[PKI_PREMASTER_LEN], out[PKI_PREMASTER_LEN], enc[PKI_MAX_SIG_LEN];
	for (size_t i = 0; i < sizeof pms; i++)
		pms[i] = (uint8_t)(i * 7 + 3);
	pms[0] = 0xfe, pms[1] = 0xfd;
	size_t enc_len = sizeof enc;
	CU_ASSERT_EQUAL_FATAL(pki_peer_rsa_encrypt(p, pms, enc, &enc_len), 0);
	CU_ASSERT_EQUAL(enc_len, 256);
	memset(out, 0xaa, sizeof out);
	CU_ASSERT_EQUAL(pki_rsa_decrypt_premaster(id, enc, enc_len, out), 0);
	CU_ASSERT(memcmp(out, pms, sizeof pms) == 0);

	/* Corrupted ciphertexts fail and leave the caller's random premaster alone. */
	uint8_t fill[PKI_PREMASTER_LEN];
	memset(fill, 0x5c, sizeof fill);
	for (size_t k = 0; k < enc_len; k += 17) {
		enc[k] ^= 0x01;
		memcpy(out, fill, sizeof out);
		CU_ASSERT_EQUAL(pki_rsa_decrypt_premaster(id, enc, enc_len, out), DTLS_ERR_DECRYPT_ERROR);
		CU_ASSERT(memcmp(out, fill, sizeof out) == 0);
		enc[k] ^= 0x01;
	}
	memcpy(out, fill, sizeof out);
	CU_ASSERT_EQUAL(pki_rsa_decrypt_premaster(id, enc, enc_len - 1, out), DTLS_ERR_DECRYPT_ERROR);
	CU_ASSERT(memcmp(out, fill, sizeof out) == 0);
	CU_ASSERT_EQUAL(pki_rsa_decrypt_premaster(id, enc, 0, out), DTLS_ERR_DECRYPT_ERROR);

	/* Too small an output buffer; EC keys do no key transport. */
	size_t small = 16;
	CU_ASSERT_EQUAL(pki_peer_rsa_encrypt(p, pms, enc, &small), DTLS_ERR_BUFFER);
	struct pki_identity *ec = load_ok("server-ec.pem", "server-ec.key");
	struct pki_peer *pe = peer_of("server-ec.der");
	CU_ASSERT_EQUAL(pki_rsa_decrypt_premaster(ec, enc, enc_len, out), DTLS_ERR_ARG);
	enc_len = sizeof enc;
	CU_ASSERT_EQUAL(pki_peer_rsa_encrypt(pe, pms, enc, &enc_len), DTLS_ERR_ARG);
	pki_peer_free(pe);
	pki_identity_unref(ec);
	pki_peer_free(p);
	pki_identity_unref(id);
}

/* ---- the pin ------------------------------------------------------------------ */

/* SHA-256 of the SPKI of a certificate file, computed by openssl. */
static bool openssl_pin(const char *pem, uint8_t out[32])
{
	char cmd[512], line[128];
	snprintf(cmd, sizeof cmd,
		 "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform der | sha256sum", path(pem));
	FILE *f = popen(cmd, "r");
	if (!f)
		return false;
	bool ok = fgets(line, sizeof line, f) != NULL;
	ok = pclose(f) == 0 && ok;
	for (size_t i = 0; ok && i < 32; i++) {
		unsigned v;
		ok = sscanf(line + 2 * i, "%2x", &v) == 1;
		out[i] = (uint8_t)v;
	}
	return ok;
}

static void test_pin(void)
{
	static const char *certs[][2] = {
		{ "server-ec.pem", "server-ec.der" },
		{ "server-rsa.pem", "server-rsa.der" },
		{ "server-ec384.pem", "server-ec384.der" },
	};
	uint8_t pins[ARRAY_LEN(certs)][PKI_PIN_LEN];
	for (size_t i = 0; i < ARRAY_LEN(certs); i++) {
		uint8_t want[32];
		CU_ASSERT_FATAL(openssl_pin(certs[i][0], want));
		struct pki_peer *p = peer_of(certs[i][1]);
		CU_ASSERT_EQUAL(pki_peer_spki_sha256(p, pins[i]), 0);
		CU_ASSERT(memcmp(pins[i], want, 32) == 0);
		pki_peer_free(p);
	}
	CU_ASSERT(memcmp(pins[0], pins[1], 32) != 0);

	/* pki_peer_from_der verifies nothing: an expired, unknown-CA leaf parses. */
	struct pki_peer *p = peer_of("server-expired.der");
	pki_peer_free(p);
	p = peer_of("server-unknown.der");
	CU_ASSERT(pki_peer_has_name(p, "gw.test"));
	pki_peer_free(p);
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	CU_ASSERT_EQUAL(pki_peer_from_der(junk, sizeof junk, &p), DTLS_ERR_BAD_CERTIFICATE);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(pki_peer_from_der(junk, 0, &p), DTLS_ERR_BAD_CERTIFICATE);
}

/* ---- names by kind ----------------------------------------------------------- */

/* The names for a log line: all of them, by kind, cut to the buffer with a NUL. */
static void test_names_for_log(void)
{
	struct pki_peer *p = peer_of("client-names.der");
	char buf[256], small[12];
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = pki_peer_names(p, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, strlen(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "CN names-cn.gw.test"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "DNS names-dns.gw.test"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "IP 192.0.2.7"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "email ops@gw.test"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "URI https://gw.test/names"));
	CU_ASSERT_EQUAL(strncmp(buf, "CN names-cn.gw.test, ", 21), 0);
	n = pki_peer_names(p, small, sizeof(small));
	CU_ASSERT(n < sizeof(small));
	CU_ASSERT_EQUAL(strlen(small), n);
	CU_ASSERT_EQUAL(pki_peer_names(p, small, 0), 0);
	pki_peer_free(p);
}

static void test_names_by_kind(void)
{
	/* CN names-cn, DNS names-dns, IP 192.0.2.7, e-mail ops@gw.test, URI https://gw.test/names */
	struct pki_peer *p = peer_of("client-names.der");
	CU_ASSERT(pki_peer_has_cn(p, "names-cn.gw.test"));
	CU_ASSERT(pki_peer_has_cn(p, "NAMES-CN.gw.test"));
	CU_ASSERT(!pki_peer_has_cn(p, "names-dns.gw.test")); /* a SAN is no CN */
	CU_ASSERT(!pki_peer_has_cn(p, "192.0.2.7"));
	CU_ASSERT(!pki_peer_has_cn(p, "names-cn.gw.tes"));
	CU_ASSERT(!pki_peer_has_cn(p, ""));
	CU_ASSERT(pki_peer_has_san(p, "names-dns.gw.test"));
	CU_ASSERT(pki_peer_has_san(p, "Names-DNS.GW.test"));
	CU_ASSERT(pki_peer_has_san(p, "192.0.2.7"));
	CU_ASSERT(pki_peer_has_san(p, "::ffff:192.0.2.7") == false); /* another address family */
	CU_ASSERT(!pki_peer_has_san(p, "names-cn.gw.test")); /* a CN is no SAN */
	CU_ASSERT(!pki_peer_has_san(p, "ops@gw.test"));      /* e-mail and URI are not compared */
	CU_ASSERT(!pki_peer_has_san(p, "https://gw.test/names"));
	CU_ASSERT(!pki_peer_has_san(p, "192.0.2.8"));
	CU_ASSERT(!pki_peer_has_san(p, ""));
	/* the loose check takes every kind */
	CU_ASSERT(pki_peer_has_name(p, "names-cn.gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "names-dns.gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "192.0.2.7"));
	CU_ASSERT(pki_peer_has_name(p, "ops@gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "https://gw.test/names"));
	pki_peer_free(p);

	/* IPv6 by value, and the DNS name of a server certificate */
	p = peer_of("server-ec.der");
	CU_ASSERT(pki_peer_has_san(p, "0:0::1"));
	CU_ASSERT(pki_peer_has_san(p, "127.0.0.1"));
	CU_ASSERT(pki_peer_has_san(p, "gw.test"));
	CU_ASSERT(pki_peer_has_cn(p, "gw.test"));
	CU_ASSERT(!pki_peer_has_cn(p, "127.0.0.1"));
	pki_peer_free(p);

	/* two CNs: neither is the certificate's CN (it could otherwise satisfy two peers) */
	p = peer_of("client-2cn.der");
	CU_ASSERT(!pki_peer_has_cn(p, "one.gw.test"));
	CU_ASSERT(!pki_peer_has_cn(p, "two.gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "one.gw.test"));
	CU_ASSERT(pki_peer_has_name(p, "two.gw.test"));
	pki_peer_free(p);
}

/* ---- key usage ---------------------------------------------------------------- */

/* A client certificate whose key usage lacks digitalSignature cannot prove its key: the
 * chain is refused for the client purpose, and a signature by it does not verify even
 * when the peer came without verification (pin only). No key usage at all: any use. */
static void test_client_key_usage(void)
{
	struct pki_trust *t = trust_ca();
	struct chain c;
	char err[512];
	chain_of(&c, "client-rsa-nosig.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, NULL, false, now, err, sizeof err), DTLS_ERR_UNSUPPORTED_CERTIFICATE);
	CU_ASSERT(strstr(err, "digitalSignature") != NULL);
	chain_free(&c);
	chain_of(&c, "client-rsa-noku.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, NULL, false, now, err, sizeof err), 0);
	chain_free(&c);
	pki_trust_unref(t);

	static const uint8_t msg[] = "handshake messages";
	const char *names[][3] = { { "client-rsa-nosig.pem", "client-rsa-nosig.key", "client-rsa-nosig.der" },
				   { "client-rsa-noku.pem", "client-rsa-noku.key", "client-rsa-noku.der" } };
	for (size_t i = 0; i < 2; i++) {
		struct pki_identity *id = load_ok(names[i][0], names[i][1]);
		struct pki_peer *p = peer_of(names[i][2]);
		uint8_t sig[PKI_MAX_SIG_LEN];
		size_t sig_len = sizeof sig;
		CU_ASSERT_EQUAL_FATAL(pki_sign(id, PKI_RSA_PSS_RSAE_SHA256, msg, sizeof msg, sig, &sig_len), 0);
		CU_ASSERT_EQUAL(pki_peer_verify(p, PKI_RSA_PSS_RSAE_SHA256, msg, sizeof msg, sig, sig_len),
				i == 0 ? DTLS_ERR_UNSUPPORTED_CERTIFICATE : 0);
		pki_peer_free(p);
		pki_identity_unref(id);
	}
}

/* A server certificate with keyEncipherment only serves RSA key transport, never ECDHE. */
static void test_server_key_usage(void)
{
	struct pki_identity *id = load_ok("server-rsa-encrypt.pem", "server-rsa-encrypt.key");
	CU_ASSERT(pki_identity_can_kx(id, PKI_KX_RSA));
	CU_ASSERT(!pki_identity_can_kx(id, PKI_KX_ECDHE_RSA));
	struct pki_peer *p = peer_of("server-rsa-encrypt.der");
	CU_ASSERT(pki_peer_can_kx(p, PKI_KX_RSA));
	CU_ASSERT(!pki_peer_can_kx(p, PKI_KX_ECDHE_RSA));
	pki_peer_free(p);
	pki_identity_unref(id);
	struct pki_trust *t = trust_ca();
	struct chain c;
	char err[512];
	chain_of(&c, "server-rsa-encrypt.der", "int.der", NULL);
	CU_ASSERT_EQUAL(verify(t, &c, "gw.test", true, now, err, sizeof err), 0);
	chain_free(&c);
	pki_trust_unref(t);
}

static CU_TestInfo tests[] = {
	{ "load: every certificate and key form", test_load_forms },
	{ "load: from memory", test_load_mem },
	{ "load: errors name the file and the problem", test_load_errors },
	{ "load: validity period", test_load_expired },
	{ "verify: good chains, server and client", test_verify_good },
	{ "verify: failures map to alerts", test_verify_failures },
	{ "trust: add and remove change the outcome", test_trust_store },
	{ "trust: add/remove while verifying", test_trust_concurrent },
	{ "sign/verify: every scheme and key type", test_sign_verify },
	{ "choose_scheme: preference and key type", test_choose_scheme },
	{ "can_kx: key type and key usage", test_can_kx },
	{ "rsa kx: premaster round trip, corruption", test_rsa_premaster },
	{ "pin: SHA-256 of the SPKI equals openssl's", test_pin },
	{ "names for a log line", test_names_for_log },
	{ "names: CN only, DNS/IP SAN only, or any", test_names_by_kind },
	{ "key usage: a client key without digitalSignature is refused", test_client_key_usage },
	{ "key usage: keyEncipherment only serves RSA key transport", test_server_key_usage },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "pki", init, cleanup, tests };
