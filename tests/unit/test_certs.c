/*
 * Certificate suites end to end, in process, over the simulated network: every X.509
 * suite (lossless and lossy), client certificate authentication, pins, and each bad
 * certificate with the alert expected on each side. The PKI comes from tests/pki/mkpki.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"
#include "harness.h"
#include "pki/pki.h"
#include "simnet.h"

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
	return unit_pki_free() < 0;
}

struct suite_case {
	const char *suite;
	const char *cert, *key; /* server identity */
};

static const struct suite_case cases[] = {
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", "server-rsa-chain.pem", "server-rsa.key.der" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "server-ec-chain.pem", "server-ec.key" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "server-ec384-chain.pem", "server-ec384.key" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "server-rsa-chain.pem", "server-rsa.p8.der" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "server-ec-chain.pem", "server-ec.key.der" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", "server-ec-chain.pem", "server-ec.sec1.der" },
};

static struct dtls_config *server_config(const char *suite, const char *cert, const char *key)
{
	struct dtls_config *cfg = dtls_config_new();
	char err[256];
	CU_ASSERT_FATAL(cfg != NULL);
	if (suite)
		CU_ASSERT_FATAL(dtls_config_set_ciphers(cfg, suite) == 0);
	int rc = dtls_config_add_local_cert(cfg, path(cert), path(key), err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "\n%s\n", err);
	CU_ASSERT_FATAL(rc == 0);
	return cfg;
}

static struct dtls_config *client_config(const char *suite, const char *ca)
{
	struct dtls_config *cfg = dtls_config_new();
	char err[256];
	CU_ASSERT_FATAL(cfg != NULL);
	if (suite)
		CU_ASSERT_FATAL(dtls_config_set_ciphers(cfg, suite) == 0);
	if (ca)
		CU_ASSERT_FATAL(dtls_config_add_trusted(cfg, path(ca), err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(dtls_config_set_server_name(cfg, "gw.test") == 0);
	return cfg;
}

static bool all_delivered(struct simnet *n)
{
	for (unsigned i = 0; i < 20; i++)
		if (!n->client_got[i] || !n->server_got[i])
			return false;
	return true;
}

static bool both_done(struct simnet *n)
{
	return n->client_ended && n->server_ended;
}

/* Runs a handshake; returns whether both sides came up. */
static bool handshake(struct simnet *n, struct dtls_config *c, struct dtls_config *s, uint64_t seed, unsigned loss)
{
	simnet_init(n, c, s, seed);
	n->loss_pct = loss;
	n->dup_pct = loss ? 10 : 0;
	n->reorder_pct = loss ? 20 : 0;
	CU_ASSERT_FATAL(dtls_session_start(n->client, n->now) == 0);
	return simnet_run(n, simnet_established, 120000);
}

static void run_case(const struct suite_case *k, unsigned loss, uint64_t seed)
{
	struct dtls_config *s = server_config(k->suite, k->cert, k->key);
	struct dtls_config *c = client_config(k->suite, "ca.pem");
	struct simnet n;
	bool up = handshake(&n, c, s, seed, loss);
	if (!up)
		fprintf(stderr, "\n%s loss %u seed %llu: client %s, server %s\n", k->suite, loss,
			(unsigned long long)seed, dtls_strerror(n.client_err), dtls_strerror(n.server_err));
	CU_ASSERT_FATAL(up);
	CU_ASSERT_STRING_EQUAL(dtls_suite_name(dtls_session_suite(n.client)), k->suite);
	CU_ASSERT(dtls_session_peer_has_name(n.client, "gw.test"));
	if (!loss) {
		struct dtls_session_stats st;
		dtls_session_stats(n.client, &st);
		CU_ASSERT_EQUAL(st.retransmits, 0);
	}
	for (unsigned i = 0; i < 20; i++) {
		CU_ASSERT(simnet_send(&n, true, i) == 0);
		CU_ASSERT(simnet_send(&n, false, i) == 0);
	}
	simnet_run(&n, all_delivered, 10000);
	CU_ASSERT_EQUAL(n.corrupt, 0);
	for (unsigned i = 0; i < 20; i++) {
		CU_ASSERT(n.client_got[i] <= 1 && n.server_got[i] <= 1);
		if (!loss)
			CU_ASSERT(n.client_got[i] == 1 && n.server_got[i] == 1);
	}
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void test_every_suite(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		run_case(&cases[i], 0, 1);
}

static void test_every_suite_lossy(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		for (uint64_t seed = 1; seed <= 4; seed++)
			run_case(&cases[i], 30, seed * 104729 + i);
}

static void test_client_auth(void)
{
	for (int rsa = 0; rsa <= 1; rsa++) {
		struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
		char err[256];
		CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("ca.pem"), err, sizeof(err)) == 0);
		dtls_config_verify_client(s, true, true);
		struct dtls_config *c = client_config(NULL, "ca.pem");
		CU_ASSERT_FATAL(dtls_config_add_local_cert(c, path(rsa ? "client-rsa-chain.pem" : "client-chain.pem"),
							   path(rsa ? "client-rsa.key" : "client.key"), err,
							   sizeof(err)) == 0);
		struct simnet n;
		CU_ASSERT_FATAL(handshake(&n, c, s, 21, 0));
		CU_ASSERT(dtls_session_peer_has_name(n.server_session, rsa ? "client-rsa.gw.test" : "client1.gw.test"));
		uint8_t pin[32];
		CU_ASSERT(dtls_session_peer_pin(n.server_session, pin));
		simnet_free(&n);
		dtls_config_unref(c);
		dtls_config_unref(s);
	}
}

/* The server's authorize callback: verifies the client's chain again against the config
 * in authorize_arg, keeps the result for the test, and refuses on failure. */
static int verify_again_rc;
static int authorize_verify(struct simnet *n, struct dtls_session *s)
{
	verify_again_rc = dtls_session_peer_verify(s, n->authorize_arg);
	return verify_again_rc;
}

/* A server trusting two CAs can require a client's chain to come from one of them. */
static void test_peer_verify_again(void)
{
	char err[256];
	struct dtls_config *only_ca = dtls_config_new(), *only_other = dtls_config_new(),
			  *none = dtls_config_new();
	CU_ASSERT_FATAL(only_ca && only_other && none);
	CU_ASSERT_FATAL(dtls_config_add_trusted(only_ca, path("ca.pem"), err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(dtls_config_add_trusted(only_other, path("other-ca.pem"), err, sizeof(err)) == 0);
	for (int k = 0; k < 3; k++) {
		struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
		CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("ca.pem"), err, sizeof(err)) == 0);
		CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("other-ca.pem"), err, sizeof(err)) == 0);
		dtls_config_verify_client(s, true, true);
		struct dtls_config *c = client_config(NULL, "ca.pem");
		/* k = 2: client1.gw.test again, but issued by the other CA */
		CU_ASSERT_FATAL(dtls_config_add_local_cert(c, path(k == 2 ? "client-other.pem" : "client-chain.pem"),
							   path(k == 2 ? "client-other.key" : "client.key"), err,
							   sizeof(err)) == 0);
		struct simnet n;
		simnet_init(&n, c, s, 41 + (uint64_t)k);
		n.authorize = authorize_verify;
		n.authorize_arg = k == 1 ? only_other : only_ca;
		verify_again_rc = 1;
		CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
		bool up = simnet_run(&n, simnet_established, 60000);
		if (k == 0) {
			CU_ASSERT(up);
			CU_ASSERT_EQUAL(verify_again_rc, 0);
			/* after the handshake the chain is gone */
			CU_ASSERT_EQUAL(dtls_session_peer_verify(n.server_session, only_ca), DTLS_ERR_ARG);
		} else {
			CU_ASSERT(!up);
			CU_ASSERT_EQUAL(verify_again_rc, DTLS_ERR_UNKNOWN_CA);
			simnet_run(&n, both_done, 60000);
			CU_ASSERT_EQUAL(n.server_err, DTLS_ERR_ACCESS_DENIED);
		}
		simnet_free(&n);
		dtls_config_unref(c);
		dtls_config_unref(s);
	}
	/* a config without trusted CAs cannot verify anything */
	struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
	CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("ca.pem"), err, sizeof(err)) == 0);
	dtls_config_verify_client(s, true, true);
	struct dtls_config *c = client_config(NULL, "ca.pem");
	CU_ASSERT_FATAL(dtls_config_add_local_cert(c, path("client-chain.pem"), path("client.key"), err,
						   sizeof(err)) == 0);
	struct simnet n;
	simnet_init(&n, c, s, 47);
	n.authorize = authorize_verify;
	n.authorize_arg = none;
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT(!simnet_run(&n, simnet_established, 60000));
	CU_ASSERT_EQUAL(verify_again_rc, DTLS_ERR_ARG);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
	dtls_config_unref(only_ca);
	dtls_config_unref(only_other);
	dtls_config_unref(none);
}

/* A handshake that must fail: checks the error and alert on both sides. */
static void expect_failure(struct dtls_config *c, struct dtls_config *s, int client_err, int server_err,
			   int alert_from_client, int alert_from_server)
{
	struct simnet n;
	CU_ASSERT(!handshake(&n, c, s, 31, 0));
	simnet_run(&n, both_done, 60000);
	CU_ASSERT_EQUAL(n.client_err, client_err);
	CU_ASSERT_EQUAL(n.server_err, server_err);
	if (alert_from_client != DTLS_ALERT_NONE) {
		CU_ASSERT_EQUAL(dtls_session_sent_alert(n.client), alert_from_client);
	}
	if (alert_from_server != DTLS_ALERT_NONE) {
		CU_ASSERT_EQUAL(dtls_session_peer_alert(n.client), alert_from_server);
	}
	if (n.client_err != client_err || n.server_err != server_err) {
		struct dtls_session_stats st;
		dtls_session_stats(n.client, &st);
		fprintf(stderr, "\nclient: %s, server: %s; client in %llu dropped mac %llu replay %llu epoch %llu bad %llu\n", dtls_strerror(n.client_err), dtls_strerror(n.server_err), (unsigned long long)st.records_in, (unsigned long long)st.dropped_mac, (unsigned long long)st.dropped_replay, (unsigned long long)st.dropped_epoch, (unsigned long long)st.dropped_malformed);
	}
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void test_wrong_name(void)
{
	expect_failure(client_config(NULL, "ca.pem"), server_config(NULL, "server-wrong-chain.pem", "server-wrong.key"),
		       DTLS_ERR_BAD_CERTIFICATE, DTLS_ERR_PEER_ALERT, DTLS_ALERT_BAD_CERTIFICATE, DTLS_ALERT_NONE);
}

static void test_unknown_ca(void)
{
	expect_failure(client_config(NULL, "ca.pem"), server_config(NULL, "server-unknown.pem", "server-unknown.key"),
		       DTLS_ERR_UNKNOWN_CA, DTLS_ERR_PEER_ALERT, DTLS_ALERT_UNKNOWN_CA, DTLS_ALERT_NONE);
}

static void test_missing_intermediate(void)
{
	expect_failure(client_config(NULL, "ca.pem"), server_config(NULL, "server-ec.pem", "server-ec.key"),
		       DTLS_ERR_UNKNOWN_CA, DTLS_ERR_PEER_ALERT, DTLS_ALERT_UNKNOWN_CA, DTLS_ALERT_NONE);
}

static void test_expired(void)
{
	/* The server skips the validity check so that it can load the certificate at all. */
	struct dtls_config *s = dtls_config_new();
	char err[256];
	s->wall_clock = NULL; /* no validity check at load: the intermediate is younger than the leaf's period */
	CU_ASSERT_FATAL(dtls_config_add_local_cert(s, path("server-expired-chain.pem"), path("server-expired.key"), err,
						   sizeof(err)) == 0);
	expect_failure(client_config(NULL, "ca.pem"), s, DTLS_ERR_CERTIFICATE_EXPIRED, DTLS_ERR_PEER_ALERT,
		       DTLS_ALERT_CERTIFICATE_EXPIRED, DTLS_ALERT_NONE);
}

static void test_expired_refused_at_load(void)
{
	struct dtls_config *s = dtls_config_new();
	char err[256] = "";
	CU_ASSERT(dtls_config_add_local_cert(s, path("server-expired.pem"), path("server-expired.key"), err,
					     sizeof(err)) == DTLS_ERR_CERTIFICATE_EXPIRED);
	CU_ASSERT(strstr(err, "server-expired.pem") != NULL);
	CU_ASSERT(dtls_config_add_local_cert(s, path("server-ec.pem"), path("server-rsa.key"), err, sizeof(err)) ==
		  DTLS_ERR_KEY_MISMATCH);
	dtls_config_unref(s);
}

static void test_client_without_cert(void)
{
	struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
	char err[256];
	CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("ca.pem"), err, sizeof(err)) == 0);
	dtls_config_verify_client(s, true, true);
	expect_failure(client_config(NULL, "ca.pem"), s, DTLS_ERR_PEER_ALERT, DTLS_ERR_HANDSHAKE_FAILURE,
		       DTLS_ALERT_NONE, DTLS_ALERT_HANDSHAKE_FAILURE);
}

static void test_untrusted_client_cert(void)
{
	struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
	char err[256];
	CU_ASSERT_FATAL(dtls_config_add_trusted(s, path("other-ca.pem"), err, sizeof(err)) == 0);
	dtls_config_verify_client(s, true, true);
	struct dtls_config *c = client_config(NULL, "ca.pem");
	CU_ASSERT_FATAL(dtls_config_add_local_cert(c, path("client-chain.pem"), path("client.key"), err,
						   sizeof(err)) == 0);
	expect_failure(c, s, DTLS_ERR_PEER_ALERT, DTLS_ERR_UNKNOWN_CA, DTLS_ALERT_NONE, DTLS_ALERT_UNKNOWN_CA);
}

static void test_pin(void)
{
	/* Pin only, no CA: the server's key hash decides. */
	struct pki_identity *id;
	char err[256];
	CU_ASSERT_FATAL(pki_identity_load(&id, path("server-ec.pem"), path("server-ec.key"), 0, err, sizeof(err)) == 0);
	size_t len;
	const uint8_t *der = pki_identity_cert_der(id, 0, &len);
	struct pki_peer *p;
	CU_ASSERT_FATAL(pki_peer_from_der(der, len, &p) == 0);
	uint8_t pin[32];
	CU_ASSERT_FATAL(pki_peer_spki_sha256(p, pin) == 0);
	pki_peer_free(p);
	pki_identity_unref(id);

	struct dtls_config *c = client_config(NULL, NULL);
	CU_ASSERT(dtls_config_pin_sha256(c, pin) == 0);
	struct dtls_config *s = server_config(NULL, "server-ec.pem", "server-ec.key");
	struct simnet n;
	CU_ASSERT(handshake(&n, c, s, 41, 0));
	simnet_free(&n);
	dtls_config_unref(c);

	pin[0] ^= 1;
	c = client_config(NULL, NULL);
	CU_ASSERT(dtls_config_pin_sha256(c, pin) == 0);
	expect_failure(c, s, DTLS_ERR_BAD_CERTIFICATE, DTLS_ERR_PEER_ALERT, DTLS_ALERT_BAD_CERTIFICATE,
		       DTLS_ALERT_NONE);
}

static void test_remove_at_run_time(void)
{
	struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
	struct dtls_config *c = client_config(NULL, "ca.pem");
	struct simnet n;
	CU_ASSERT(handshake(&n, c, s, 51, 0));
	simnet_free(&n);
	/* No local certificate any more: no suite can be served. */
	CU_ASSERT(dtls_config_remove_local_cert(s, path("server-ec-chain.pem")) == 0);
	dtls_config_ref(c);
	dtls_config_ref(s);
	expect_failure(c, s, DTLS_ERR_PEER_ALERT, DTLS_ERR_HANDSHAKE_FAILURE, DTLS_ALERT_NONE,
		       DTLS_ALERT_HANDSHAKE_FAILURE);
	/* And the trust store: the client no longer trusts the server's CA. */
	char err[256];
	CU_ASSERT(dtls_config_add_local_cert(s, path("server-ec-chain.pem"), path("server-ec.key"), err,
					     sizeof(err)) == 0);
	CU_ASSERT(dtls_config_remove_trusted(c, path("ca.pem")) == 0);
	expect_failure(c, s, DTLS_ERR_UNKNOWN_CA, DTLS_ERR_PEER_ALERT, DTLS_ALERT_UNKNOWN_CA, DTLS_ALERT_NONE);
}

static void test_fragmented_chain(void)
{
	struct dtls_config *s = server_config("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "server-rsa-chain.pem",
					      "server-rsa.key");
	struct dtls_config *c = client_config("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ca.pem");
	CU_ASSERT(dtls_config_set_mtu(s, 576) == 0);
	CU_ASSERT(dtls_config_set_mtu(c, 576) == 0);
	struct simnet n;
	CU_ASSERT(handshake(&n, c, s, 61, 20));
	CU_ASSERT(n.max_datagram <= 576);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

/* A server that verifies client certificates against the CA, or by pin only. */
static struct dtls_config *client_auth_server(const uint8_t *pin)
{
	struct dtls_config *s = server_config(NULL, "server-ec-chain.pem", "server-ec.key");
	char err[256];
	int rc = pin ? dtls_config_pin_sha256(s, pin) : dtls_config_add_trusted(s, path("ca.pem"), err, sizeof(err));
	CU_ASSERT_FATAL(rc == 0);
	dtls_config_verify_client(s, true, true);
	return s;
}

static struct dtls_config *client_with(const char *cert, const char *key)
{
	struct dtls_config *c = client_config(NULL, "ca.pem");
	char err[256];
	CU_ASSERT_FATAL(dtls_config_add_local_cert(c, path(cert), path(key), err, sizeof(err)) == 0);
	return c;
}

static void spki_pin_of(const char *der_file, uint8_t pin[32])
{
	FILE *f = fopen(path(der_file), "rb");
	CU_ASSERT_FATAL(f != NULL);
	uint8_t der[4096];
	size_t len = fread(der, 1, sizeof(der), f);
	fclose(f);
	struct pki_peer *p;
	CU_ASSERT_FATAL(pki_peer_from_der(der, len, &p) == 0);
	CU_ASSERT_FATAL(pki_peer_spki_sha256(p, pin) == 0);
	pki_peer_free(p);
}

/* RFC 5246 7.4.8: a client certificate whose key usage lacks digitalSignature cannot
 * sign CertificateVerify: unsupported_certificate, whether the server checks the chain
 * (at the Certificate message) or a pin only (at CertificateVerify). Without a key
 * usage extension the certificate is fine. */
static void test_client_key_usage(void)
{
	expect_failure(client_with("client-rsa-nosig-chain.pem", "client-rsa-nosig.key"), client_auth_server(NULL),
		       DTLS_ERR_PEER_ALERT, DTLS_ERR_UNSUPPORTED_CERTIFICATE, DTLS_ALERT_NONE,
		       DTLS_ALERT_UNSUPPORTED_CERTIFICATE);
	uint8_t pin[32];
	spki_pin_of("client-rsa-nosig.der", pin);
	expect_failure(client_with("client-rsa-nosig-chain.pem", "client-rsa-nosig.key"), client_auth_server(pin),
		       DTLS_ERR_PEER_ALERT, DTLS_ERR_UNSUPPORTED_CERTIFICATE, DTLS_ALERT_NONE,
		       DTLS_ALERT_UNSUPPORTED_CERTIFICATE);
	for (int pinned = 0; pinned <= 1; pinned++) {
		spki_pin_of("client-rsa-noku.der", pin);
		struct dtls_config *c = client_with("client-rsa-noku-chain.pem", "client-rsa-noku.key");
		struct dtls_config *s = client_auth_server(pinned ? pin : NULL);
		struct simnet n;
		CU_ASSERT(handshake(&n, c, s, 71 + (uint64_t)pinned, 0));
		CU_ASSERT(dtls_session_peer_has_cn(n.server_session, "client-noku.gw.test"));
		simnet_free(&n);
		dtls_config_unref(c);
		dtls_config_unref(s);
	}
}

/* A server certificate with keyEncipherment only: the server offers RSA key transport
 * with it and never ECDHE_RSA (a client asking for ECDHE_RSA only is refused). */
static void test_server_key_usage(void)
{
	struct dtls_config *s = server_config(NULL, "server-rsa-encrypt-chain.pem", "server-rsa-encrypt.key");
	struct dtls_config *c = client_config("TLS_RSA_WITH_AES_128_CBC_SHA", "ca.pem");
	struct simnet n;
	CU_ASSERT(handshake(&n, c, s, 81, 0));
	simnet_free(&n);
	dtls_config_unref(c);
	expect_failure(client_config("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ca.pem"), s, DTLS_ERR_PEER_ALERT,
		       DTLS_ERR_HANDSHAKE_FAILURE, DTLS_ALERT_NONE, DTLS_ALERT_HANDSHAKE_FAILURE);
}

/* The names of a client certificate through the session, by kind. */
static void test_names_by_kind(void)
{
	struct dtls_config *c = client_with("client-names-chain.pem", "client-names.key");
	struct dtls_config *s = client_auth_server(NULL);
	struct simnet n;
	CU_ASSERT_FATAL(handshake(&n, c, s, 91, 0));
	struct dtls_session *ss = n.server_session;
	CU_ASSERT(dtls_session_peer_has_cn(ss, "names-cn.gw.test"));
	CU_ASSERT(!dtls_session_peer_has_cn(ss, "names-dns.gw.test"));
	CU_ASSERT(dtls_session_peer_has_san(ss, "names-dns.gw.test"));
	CU_ASSERT(dtls_session_peer_has_san(ss, "192.0.2.7"));
	CU_ASSERT(!dtls_session_peer_has_san(ss, "names-cn.gw.test"));
	CU_ASSERT(!dtls_session_peer_has_san(ss, "ops@gw.test"));
	CU_ASSERT(dtls_session_peer_has_name(ss, "ops@gw.test"));
	/* the client's view of the server */
	CU_ASSERT(dtls_session_peer_has_cn(n.client, "gw.test"));
	CU_ASSERT(dtls_session_peer_has_san(n.client, "::1"));
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static CU_TestInfo tests[] = {
	{ "every certificate suite, lossless", test_every_suite },
	{ "every certificate suite, 30% loss + dup + reorder", test_every_suite_lossy },
	{ "client certificate authentication (EC and RSA)", test_client_auth },
	{ "client chain verified again against one CA in authorize", test_peer_verify_again },
	{ "wrong server name: bad_certificate", test_wrong_name },
	{ "unknown CA: unknown_ca", test_unknown_ca },
	{ "intermediate not sent: unknown_ca", test_missing_intermediate },
	{ "expired server certificate: certificate_expired", test_expired },
	{ "expired or mismatched identity refused at load", test_expired_refused_at_load },
	{ "client without certificate: handshake_failure", test_client_without_cert },
	{ "client certificate from an untrusted CA: unknown_ca", test_untrusted_client_cert },
	{ "SHA-256 pin: match and mismatch", test_pin },
	{ "local certificate and trusted CA removed at run time", test_remove_at_run_time },
	{ "RSA chain fragmented at MTU 576 with loss", test_fragmented_chain },
	{ "client key usage without digitalSignature: unsupported_certificate", test_client_key_usage },
	{ "server key usage keyEncipherment only: RSA key transport only", test_server_key_usage },
	{ "peer names by kind: CN, DNS/IP SAN", test_names_by_kind },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "certs", init, cleanup, tests };
