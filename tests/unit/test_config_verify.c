/*
 * config_verify: the certificate files of a configuration loaded as a start loads
 * them (gw_add_local_cert, gw_add_trusted) and reported at the key that named them,
 * with expiry warnings from libdtls's dtls_cert_file_info(). PKI from tests/pki/mkpki.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dtls/dtls.h>

#include "daemon/config.h"
#include "daemon/config_verify.h"
#include "harness.h"

static const char *path(const char *name)
{
	return unit_pki_path(name);
}

static int init(void)
{
	return unit_pki_make() < 0;
}

static int cleanup(void)
{
	config_verify_enable(false);
	return unit_pki_free() < 0;
}

struct seen {
	size_t n;
	size_t index[4];
	char subject[4][128];
	int64_t not_before[4], not_after[4];
};

static void on_cert(void *arg, const struct dtls_cert_info *ci)
{
	struct seen *s = arg;
	if (s->n < 4) {
		s->index[s->n] = ci->index;
		snprintf(s->subject[s->n], sizeof(s->subject[0]), "%s", ci->subject);
		s->not_before[s->n] = ci->not_before;
		s->not_after[s->n] = ci->not_after;
	}
	s->n++;
}

static void test_cert_file_info(void)
{
	struct seen s = { 0 };
	char err[512];

	/* a chain: leaf, then intermediate, in file order */
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("server-expired-chain.pem"), on_cert, &s, err,
					    sizeof(err)), 2);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_EQUAL(s.index[0], 0);
	CU_ASSERT_EQUAL(s.index[1], 1);
	CU_ASSERT_STRING_EQUAL(s.subject[0], "CN=gw.test,O=dtlsgw test");
	CU_ASSERT_STRING_EQUAL(s.subject[1], "CN=dtlsgw Test Intermediate CA,O=dtlsgw test");
	CU_ASSERT_EQUAL(s.not_before[0], 1672531200); /* 2023-01-01 00:00:00 UTC */
	CU_ASSERT_EQUAL(s.not_after[0], 1704067200);  /* 2024-01-01 00:00:00 UTC */
	CU_ASSERT(s.not_after[1] > s.not_after[0]);

	/* one DER certificate */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("ca.der"), on_cert, &s, err, sizeof(err)), 1);
	CU_ASSERT_STRING_EQUAL(s.subject[0], "CN=dtlsgw Test Root CA,O=dtlsgw test");

	/* a private key (PEM, DER), garbage, a missing file: an error, fn not called */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("server-ec.key"), on_cert, &s, err, sizeof(err)),
			DTLS_ERR_FILE);
	CU_ASSERT_STRING_EQUAL(err, strcat(strcpy((char[300]){ 0 }, path("server-ec.key")),
					   " is a private key, not a certificate"));
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("server-rsa.key.der"), on_cert, &s, err,
					    sizeof(err)), DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "server-rsa.key.der is a private key, not a certificate"));
	FILE *f = fopen(path("junk.pem"), "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("neither PEM nor DER\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("junk.pem"), on_cert, &s, err, sizeof(err)),
			DTLS_ERR_FILE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "junk.pem: not a certificate in PEM or DER"));
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("missing.pem"), on_cert, &s, NULL, 0), DTLS_ERR_FILE);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(dtls_cert_file_info(path("ca.pem"), NULL, &s, err, sizeof(err)), DTLS_ERR_ARG);
}

/* What a start uses: the reasons, and which file of the pair they are about. */
static void test_add_local_cert_and_trusted(void)
{
	struct dtls_config *d = dtls_config_new();
	enum gw_cert_part part = GW_CERT_PART_KEY;
	char msg[600], want[600];

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(gw_add_local_cert(d, path("server-ec-chain.pem"), path("server-ec.key"), msg,
					  sizeof(msg), &part), 0);
	CU_ASSERT_EQUAL(gw_add_local_cert(d, path("server-ec-chain.pem"), path("client.key"), msg,
					  sizeof(msg), &part), -EINVAL);
	snprintf(want, sizeof(want), "%s does not match key %s", path("server-ec-chain.pem"),
		 path("client.key"));
	CU_ASSERT_STRING_EQUAL(msg, want);
	CU_ASSERT_EQUAL(part, GW_CERT_PART_CERT);
	/* a key that cannot be read, or is not a key: the key's fault */
	CU_ASSERT_EQUAL(gw_add_local_cert(d, path("server-ec-chain.pem"), path("missing.key"), msg,
					  sizeof(msg), &part), -EINVAL);
	CU_ASSERT_EQUAL(part, GW_CERT_PART_KEY);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "missing.key cannot open: No such file"));
	FILE *f = fopen(path("junk.key"), "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("not a key\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path("junk.key"), 0600), 0);
	part = GW_CERT_PART_CERT;
	CU_ASSERT_EQUAL(gw_add_local_cert(d, path("server-ec-chain.pem"), path("junk.key"), msg,
					  sizeof(msg), &part), -EINVAL);
	CU_ASSERT_EQUAL(part, GW_CERT_PART_KEY);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "junk.key: not a private key in PEM or DER"));
	/* a key as certificate: the certificate's */
	CU_ASSERT_EQUAL(gw_add_local_cert(d, path("client.key"), path("server-ec.key"), msg,
					  sizeof(msg), &part), -EINVAL);
	CU_ASSERT_EQUAL(part, GW_CERT_PART_CERT);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "client.key: not a certificate"));

	CU_ASSERT_EQUAL(gw_add_trusted(d, path("ca.pem"), msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(gw_add_trusted(d, path("client.key"), msg, sizeof(msg)), -EINVAL);
	snprintf(want, sizeof(want), "%s is a private key, not a certificate", path("client.key"));
	CU_ASSERT_STRING_EQUAL(msg, want);
	dtls_config_unref(d);
}

/* The diagnostics of a configuration with [gateway] cert/key/ca at lines 4-6 and peer
 * a's ca at line 9; returns the load's result. */
static int parse(const char *cert, const char *key, const char *gw_ca, const char *peer_ca,
		 struct config_diags *diags)
{
	char text[2048];
	struct gw_config *cfg = NULL;
	int n = snprintf(text, sizeof(text),
			 "[gateway]\n"                              /* 1 */
			 "tun_address = 10.0.0.1/24\n"              /* 2 */
			 "control_socket = /tmp/x.sock\n"           /* 3 */
			 "cert = %s\n"                              /* 4 */
			 "key = %s\n"                               /* 5 */
			 "ca = %s\n"                                /* 6 */
			 "[peer a]\n"                               /* 7 */
			 "cert_cn = client1.gw.test\n"              /* 8 */
			 "ca = %s\n"                                /* 9 */
			 "allowed_ips = 10.0.1.0/24\n",             /* 10 */
			 path(cert), path(key), path(gw_ca), path(peer_ca));
	config_diags_init(diags);
	int rc = config_parse_buffer("t.conf", text, (size_t)n, &cfg, diags);
	config_free(cfg);
	return rc;
}

/* diags holds a diagnostic (warning or not as said) that is exactly want. */
static bool has(const struct config_diags *d, bool warning, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].warning == warning && !strcmp(d->v[i].text, want))
			return true;
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "\n    have: %s", d->v[i].text);
	fprintf(stderr, "\n    want: %s\n", want);
	return false;
}

static void test_config_verify(void)
{
	struct config_diags d;
	char want[800];

	/* off (the default): the files are not loaded */
	config_verify_enable(false);
	CU_ASSERT_EQUAL(parse("server-ec-chain.pem", "server-ec.key", "server-ec.key", "ca.pem", &d), 0);
	config_diags_free(&d);

	config_verify_enable(true);
	CU_ASSERT_EQUAL(parse("server-ec-chain.pem", "server-ec.key", "ca.pem", "ca.pem", &d), 0);
	CU_ASSERT_EQUAL(d.n, 0);
	config_diags_free(&d);

	CU_ASSERT_EQUAL(parse("server-ec-chain.pem", "server-ec.key", "server-ec.key", "ca.pem", &d),
			-EINVAL);
	snprintf(want, sizeof(want), "t.conf:6: [gateway] ca: %s is a private key, not a certificate",
		 path("server-ec.key"));
	CU_ASSERT(has(&d, false, want));
	CU_ASSERT_EQUAL(d.n_errors, 1);
	config_diags_free(&d);

	CU_ASSERT_EQUAL(parse("server-ec-chain.pem", "client.key", "ca.pem", "client.key", &d), -EINVAL);
	snprintf(want, sizeof(want), "t.conf:4: [gateway] cert: %s does not match key %s",
		 path("server-ec-chain.pem"), path("client.key"));
	CU_ASSERT(has(&d, false, want));
	snprintf(want, sizeof(want), "t.conf:9: [peer a] ca: %s is a private key, not a certificate",
		 path("client.key"));
	CU_ASSERT(has(&d, false, want));
	CU_ASSERT_EQUAL(d.n_errors, 2);
	config_diags_free(&d);

	/* the same CA file twice: loaded and reported once, at the first key naming it */
	CU_ASSERT_EQUAL(parse("server-ec-chain.pem", "server-ec.key", "server-expired.pem",
			      "server-expired.pem", &d), 0);
	snprintf(want, sizeof(want), "t.conf:6: [gateway] ca: warning: %s: certificate "
		 "CN=gw.test,O=dtlsgw test expired on 2024-01-01 00:00:00 UTC", path("server-expired.pem"));
	CU_ASSERT(has(&d, true, want));
	CU_ASSERT_EQUAL(d.n_warnings, 1);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	config_diags_free(&d);

	/* expires within 30 days: a warning for the leaf, not for the intermediate */
	CU_ASSERT_EQUAL(parse("server-soon-chain.pem", "server-soon.key", "ca.pem", "ca.pem", &d), 0);
	CU_ASSERT_EQUAL(d.n_warnings, 1);
	CU_ASSERT(d.n == 1 && strstr(d.v[0].text, "t.conf:4: [gateway] cert: warning: ") &&
		  strstr(d.v[0].text, "server-soon-chain.pem: certificate CN=gw.test,O=dtlsgw test expires on "));
	config_diags_free(&d);

	/* an expired gateway certificate: an error, as a start refuses it */
	CU_ASSERT_EQUAL(parse("server-expired-chain.pem", "server-expired.key", "ca.pem", "ca.pem", &d),
			-EINVAL);
	snprintf(want, sizeof(want), "t.conf:4: [gateway] cert: %s: certificate (CN=gw.test) expired on "
		 "2024-01-01 00:00:00 UTC", path("server-expired-chain.pem"));
	CU_ASSERT(has(&d, false, want));
	config_diags_free(&d);
	config_verify_enable(false);
}

static CU_TestInfo tests[] = {
	{ "dtls_cert_file_info: subjects and validity, a key is not a certificate", test_cert_file_info },
	{ "gw_add_local_cert, gw_add_trusted: reasons and the file at fault", test_add_local_cert_and_trusted },
	{ "config_verify: errors at the naming key, expiry warnings", test_config_verify },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "config_verify", init, cleanup, tests };
