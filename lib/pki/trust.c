/*
 * The trusted store. Our DER copies are the truth; every change builds a fresh GnuTLS
 * trust list from them and swaps it in under the write lock. (GnuTLS's own
 * gnutls_x509_trust_list_remove_cas() also blacklists what it removes, so a CA once
 * removed could never be trusted again; rebuilding avoids that.)
 */
#include <stdlib.h>
#include <string.h>

#include "pki/pki_int.h"

struct pki_trust *pki_trust_new(void)
{
	struct pki_trust *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	atomic_init(&t->refs, 1);
	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0) {
		free(t);
		return NULL;
	}
	if (pthread_rwlock_init(&t->lock, NULL) != 0) {
		gnutls_x509_trust_list_deinit(t->tl, 1);
		free(t);
		return NULL;
	}
	return t;
}

struct pki_trust *pki_trust_ref(struct pki_trust *t)
{
	atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
	return t;
}

void pki_trust_unref(struct pki_trust *t)
{
	if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	for (size_t i = 0; i < t->n_cas; i++)
		gnutls_free(t->cas[i].data);
	free(t->cas);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

size_t pki_trust_count(const struct pki_trust *t)
{
	pthread_rwlock_t *lock = (pthread_rwlock_t *)&t->lock;
	pthread_rwlock_rdlock(lock);
	size_t n = t->n_cas;
	pthread_rwlock_unlock(lock);
	return n;
}

/* A GnuTLS trust list holding the n certificates. */
static int build(const gnutls_datum_t *cas, size_t n, gnutls_x509_trust_list_t *out)
{
	gnutls_x509_trust_list_t tl;
	ENSURE(gnutls_x509_trust_list_init(&tl, 0) >= 0, DTLS_ERR_NOMEM);
	for (size_t i = 0; i < n; i++) {
		gnutls_x509_crt_t crt;
		int rc = gnutls_x509_crt_init(&crt);
		if (rc >= 0)
			rc = gnutls_x509_crt_import(crt, &cas[i], GNUTLS_X509_FMT_DER);
		else
			crt = NULL;
		/* add_cas takes ownership of what it added and returns how many. */
		if (rc >= 0)
			rc = gnutls_x509_trust_list_add_cas(tl, &crt, 1, 0) == 1 ? 0 : -1;
		if (rc < 0) {
			if (crt)
				gnutls_x509_crt_deinit(crt);
			gnutls_x509_trust_list_deinit(tl, 1);
			return DTLS_ERR_NOMEM;
		}
	}
	*out = tl;
	return 0;
}

/*
 * Replaces the store's list with cas[0..n) (a new array owned by the store on
 * success) and a trust list built from it. Caller holds the write lock.
 */
static int commit(struct pki_trust *t, gnutls_datum_t *cas, size_t n)
{
	gnutls_x509_trust_list_t tl;
	TRY(build(cas, n, &tl));
	gnutls_x509_trust_list_deinit(t->tl, 1);
	t->tl = tl;
	free(t->cas);
	t->cas = cas;
	t->n_cas = n;
	return 0;
}

static bool same(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	return a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

static bool contains(const gnutls_datum_t *list, size_t n, const gnutls_datum_t *d)
{
	for (size_t i = 0; i < n; i++)
		if (same(&list[i], d))
			return true;
	return false;
}

/* The certificates of a PEM bundle / DER buffer as DER datums (gnutls_malloc'ed). */
static int to_ders(const gnutls_datum_t *in, gnutls_datum_t **out, size_t *n)
{
	gnutls_x509_crt_t *crts;
	unsigned nc;
	*out = NULL;
	*n = 0;
	int rc = pki_crt_list_import(in, 0, &crts, &nc);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		return DTLS_ERR_NOMEM;
	if (rc < 0 || nc == 0)
		return DTLS_ERR_BAD_CERTIFICATE;
	gnutls_datum_t *d = calloc(nc, sizeof *d);
	rc = d ? 0 : DTLS_ERR_NOMEM;
	for (unsigned i = 0; rc == 0 && i < nc; i++)
		if (gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &d[i]) < 0)
			rc = DTLS_ERR_NOMEM;
	pki_crt_list_free(crts, nc);
	if (rc < 0) {
		for (unsigned i = 0; d && i < nc; i++)
			gnutls_free(d[i].data);
		free(d);
		return rc;
	}
	*out = d;
	*n = nc;
	return 0;
}

static void free_ders(gnutls_datum_t *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		gnutls_free(d[i].data);
	free(d);
}

/* Adds those of add[0..n) not yet present; frees add. Returns the number added. */
static int add_ders(struct pki_trust *t, gnutls_datum_t *add, size_t n)
{
	pthread_rwlock_wrlock(&t->lock);
	size_t old = t->n_cas, m = old;
	gnutls_datum_t *cas = calloc(old + n, sizeof *cas);
	int rc = DTLS_ERR_NOMEM;
	if (!cas)
		goto out;
	if (old)
		memcpy(cas, t->cas, old * sizeof *cas);
	for (size_t i = 0; i < n; i++) {
		if (contains(cas, m, &add[i]))
			continue;
		cas[m++] = add[i];
		add[i].data = NULL; /* moved */
	}
	if (m == old) {
		free(cas);
		rc = 0;
		goto out;
	}
	rc = commit(t, cas, m);
	if (rc < 0) {
		free_ders(cas + old, m - old);
		free(cas);
		goto out;
	}
	rc = (int)(m - old);
out:
	pthread_rwlock_unlock(&t->lock);
	free_ders(add, n);
	return rc;
}

/* Removes those of del[0..n) that are present; frees del. Returns the number removed. */
static int remove_ders(struct pki_trust *t, gnutls_datum_t *del, size_t n)
{
	pthread_rwlock_wrlock(&t->lock);
	size_t old = t->n_cas, m = 0;
	gnutls_datum_t *cas = calloc(old ? old : 1, sizeof *cas);
	int rc = DTLS_ERR_NOMEM;
	if (!cas)
		goto out;
	for (size_t i = 0; i < old; i++)
		if (!contains(del, n, &t->cas[i]))
			cas[m++] = t->cas[i];
	if (m == old) {
		free(cas);
		rc = 0;
		goto out;
	}
	/* Keep the removed ones to free them once the new list is in place. */
	gnutls_datum_t *prev = t->cas;
	t->cas = NULL; /* commit() frees the old array; we still need its entries */
	rc = commit(t, cas, m);
	if (rc < 0) {
		t->cas = prev;
		free(cas);
		goto out;
	}
	for (size_t i = 0; i < old; i++)
		if (!contains(cas, m, &prev[i]))
			gnutls_free(prev[i].data);
	free(prev);
	rc = (int)(old - m);
out:
	pthread_rwlock_unlock(&t->lock);
	free_ders(del, n);
	return rc;
}

static int file_ders(const char *file, gnutls_datum_t **ders, size_t *n, char *err, size_t err_len)
{
	gnutls_datum_t raw;
	pki_seterr(err, err_len, "%s", "");
	TRY(pki_read_file(file, &raw, err, err_len));
	int rc = to_ders(&raw, ders, n);
	if (rc == DTLS_ERR_BAD_CERTIFICATE) {
		rc = pki_not_a_certificate(file, &raw, err, err_len);
		explicit_bzero(raw.data, raw.size); /* it may be a private key */
	}
	gnutls_free(raw.data);
	return rc;
}

int pki_trust_add_file(struct pki_trust *t, const char *file, char *err, size_t err_len)
{
	gnutls_datum_t *d;
	size_t n;
	TRY(file_ders(file, &d, &n, err, err_len));
	return add_ders(t, d, n);
}

int pki_trust_remove_file(struct pki_trust *t, const char *file, char *err, size_t err_len)
{
	gnutls_datum_t *d;
	size_t n;
	TRY(file_ders(file, &d, &n, err, err_len));
	return remove_ders(t, d, n);
}

/* One DER certificate, checked by GnuTLS and re-encoded. */
static int one_der(const uint8_t *der, size_t len, gnutls_datum_t **out)
{
	ENSURE(der && len > 0 && len <= PKI_MAX_FILE, DTLS_ERR_BAD_CERTIFICATE);
	const gnutls_datum_t in = { (unsigned char *)der, (unsigned)len };
	ENSURE(!pki_is_pem(&in), DTLS_ERR_BAD_CERTIFICATE);
	size_t n;
	TRY(to_ders(&in, out, &n));
	return 0;
}

int pki_trust_add_der(struct pki_trust *t, const uint8_t *der, size_t len)
{
	gnutls_datum_t *d;
	TRY(one_der(der, len, &d));
	return add_ders(t, d, 1);
}

int pki_trust_remove_der(struct pki_trust *t, const uint8_t *der, size_t len)
{
	gnutls_datum_t *d;
	TRY(one_der(der, len, &d));
	return remove_ders(t, d, 1);
}
