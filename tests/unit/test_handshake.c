/*
 * The engine end to end, in process: a client session and a dtls_server over the
 * simulated network (tests/unit/simnet.c), for every PSK suite, lossless and lossy.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"
#include "harness.h"
#include "simnet.h"

static const char *psk_suites[] = {
	"TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
	"TLS_PSK_WITH_AES_256_GCM_SHA384",
	"TLS_PSK_WITH_AES_128_GCM_SHA256",
	"TLS_PSK_WITH_AES_128_CCM_8",
	"TLS_PSK_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
};

static const uint8_t key1[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t key2[16] = { 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0 };

static struct dtls_config *psk_config(const char *suite, const char *identity, const uint8_t *key)
{
	struct dtls_config *cfg = dtls_config_new();
	CU_ASSERT_FATAL(cfg != NULL);
	if (suite)
		CU_ASSERT_FATAL(dtls_config_set_ciphers(cfg, suite) == 0);
	CU_ASSERT_FATAL(dtls_config_add_psk(cfg, (const uint8_t *)identity, strlen(identity), key, 16) == 0);
	return cfg;
}

static bool all_delivered(struct simnet *n)
{
	for (unsigned i = 0; i < 50; i++)
		if (!n->client_got[i] || !n->server_got[i])
			return false;
	return true;
}

static bool client_done(struct simnet *n)
{
	return n->client_ended;
}

static bool both_done(struct simnet *n)
{
	return n->client_ended && n->server_ended;
}

/* One handshake and 50 messages each way; with loss, at most once and intact. */
static void run_suite(const char *suite, unsigned loss, unsigned dup, unsigned reorder, uint64_t seed)
{
	struct dtls_config *c = psk_config(suite, "client1", key1);
	struct dtls_config *s = psk_config(suite, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, s, seed);
	n.loss_pct = loss, n.dup_pct = dup, n.reorder_pct = reorder;
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	bool up = simnet_run(&n, simnet_established, 120000);
	if (!up)
		fprintf(stderr, "\n%s seed %llu: no handshake (client %s, err %d)\n", suite, (unsigned long long)seed,
			dtls_strerror(dtls_session_error(n.client)), dtls_session_error(n.client));
	CU_ASSERT_FATAL(up);
	CU_ASSERT_STRING_EQUAL(dtls_suite_name(dtls_session_suite(n.client)), suite);
	CU_ASSERT_EQUAL(dtls_session_suite(n.server_session), dtls_session_suite(n.client));
	if (loss == 0) {
		/* A lossless handshake needs no retransmission, on either side. */
		struct dtls_session_stats cs, ss;
		dtls_session_stats(n.client, &cs);
		dtls_session_stats(n.server_session, &ss);
		CU_ASSERT_EQUAL(cs.retransmits + ss.retransmits, 0);
		CU_ASSERT_EQUAL(cs.dropped_replay + ss.dropped_replay, 0);
	}

	for (unsigned i = 0; i < 50; i++) {
		CU_ASSERT(simnet_send(&n, true, i) == 0);
		CU_ASSERT(simnet_send(&n, false, i) == 0);
	}
	simnet_run(&n, all_delivered, 10000);
	unsigned delivered = 0;
	for (unsigned i = 0; i < SIMNET_MSGS; i++) {
		CU_ASSERT(n.client_got[i] <= 1);
		CU_ASSERT(n.server_got[i] <= 1);
		delivered += n.client_got[i] + n.server_got[i];
	}
	CU_ASSERT_EQUAL(n.corrupt, 0);
	if (loss == 0) {
		CU_ASSERT_EQUAL(delivered, 100);
	} else {
		CU_ASSERT(delivered > 30); /* most get through; none twice */
	}

	/* close_notify both ways */
	CU_ASSERT(dtls_session_close(n.client, n.now) == 0);
	simnet_run(&n, client_done, 30000);
	if (loss == 0) {
		CU_ASSERT_EQUAL(n.client_err, DTLS_ERR_CLOSED);
		CU_ASSERT(n.server_ended);
		CU_ASSERT_EQUAL(n.server_err, DTLS_ERR_CLOSED);
	} else {
		CU_ASSERT(n.client_err == DTLS_ERR_CLOSED || n.client_err == DTLS_ERR_CLOSE_FAIL);
	}
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void test_psk_suites_lossless(void)
{
	for (size_t i = 0; i < ARRAY_LEN(psk_suites); i++)
		run_suite(psk_suites[i], 0, 0, 0, 1);
}

static void test_psk_suites_lossy(void)
{
	/* 30% loss, some duplicates and reordering, several seeds per suite. */
	for (size_t i = 0; i < ARRAY_LEN(psk_suites); i++)
		for (uint64_t seed = 1; seed <= 8; seed++)
			run_suite(psk_suites[i], 30, 10, 20, seed * 7919 + i);
}

static void test_small_mtu_fragments(void)
{
	struct dtls_config *c = psk_config("TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "client1", key1);
	struct dtls_config *s = psk_config("TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "client1", key1);
	CU_ASSERT(dtls_config_set_mtu(c, 200) == 0);
	CU_ASSERT(dtls_config_set_mtu(s, 200) == 0);
	CU_ASSERT(dtls_config_set_psk_hint(s, "a hint long enough to need more than one fragment when the mtu is "
					      "tiny, which it is here: two hundred bytes") == 0);
	struct simnet n;
	simnet_init(&n, c, s, 5);
	n.loss_pct = 20, n.reorder_pct = 30, n.dup_pct = 10;
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT(simnet_run(&n, simnet_established, 120000));
	CU_ASSERT(n.max_datagram <= 200);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

/* A client with `identity` and `key` against a server that knows client1 with
 * key1: the handshake fails with `server_err`, and the client gets its alert. */
static void expect_psk_failure(const char *identity, const uint8_t *key, bool reveal, int server_err)
{
	struct dtls_config *c = psk_config("TLS_PSK_WITH_AES_128_GCM_SHA256", identity, key);
	struct dtls_config *s = psk_config("TLS_PSK_WITH_AES_128_GCM_SHA256", "client1", key1);
	dtls_config_reveal_psk_identities(s, reveal);
	struct simnet n;
	simnet_init(&n, c, s, 3);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT(simnet_run(&n, both_done, 60000));
	CU_ASSERT_EQUAL(n.server_err, server_err);
	CU_ASSERT_EQUAL(n.client_err, DTLS_ERR_PEER_ALERT);
	CU_ASSERT_EQUAL(dtls_session_peer_alert(n.client), dtls_err_alert(server_err));
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void test_wrong_psk(void)
{
	expect_psk_failure("client1", key2, false, DTLS_ERR_BAD_RECORD_MAC);
}

/* An unknown identity ends as a wrong key does (tests/unit/test_negative.c compares the
 * two in detail), or with unknown_psk_identity when the server reveals identities. */
static void test_unknown_identity(void)
{
	expect_psk_failure("stranger", key1, false, DTLS_ERR_BAD_RECORD_MAC);
	expect_psk_failure("stranger", key1, true, DTLS_ERR_UNKNOWN_PSK_IDENTITY);
}

/* Two default configs agree on ECDHE_PSK with AES-128-GCM (RFC 8442); a server without
 * the RFC 8442 suites (as OpenSSL 3.0) gets plain PSK with AES-128-GCM from that client. */
static void test_default_prefers_ecdhe_psk(void)
{
	for (int old_server = 0; old_server <= 1; old_server++) {
		struct dtls_config *c = psk_config(NULL, "client1", key1);
		struct dtls_config *s = psk_config(old_server ? "PSK-AES128-GCM-SHA256,PSK-AES256-GCM-SHA384,"
								"ECDHE-PSK-CHACHA20-POLY1305"
							      : NULL,
						   "client1", key1);
		struct simnet n;
		simnet_init(&n, c, s, 37);
		CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
		CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
		CU_ASSERT_EQUAL(dtls_session_suite(n.client), old_server ? 0x00A8 : 0xD001);
		CU_ASSERT_EQUAL(dtls_session_suite(n.server_session), dtls_session_suite(n.client));
		simnet_free(&n);
		dtls_config_unref(c);
		dtls_config_unref(s);
	}
}

static bool never(struct simnet *n)
{
	(void)n;
	return false;
}

static void test_handshake_timeout(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	CU_ASSERT(dtls_config_set_timers(c, 1000, 60000, 20000) == 0);
	struct simnet n;
	simnet_init(&n, c, NULL, 9); /* nobody answers */
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	simnet_run(&n, client_done, 60000);
	CU_ASSERT_EQUAL(n.client_err, DTLS_ERR_HANDSHAKE_TIMEOUT);
	/* 1 + 2 + 4 + 8 s of backoff: the first flight and 4 retransmissions before 20 s */
	CU_ASSERT_EQUAL(n.datagrams, 5);
	simnet_run(&n, never, 1000);
	simnet_free(&n);
	dtls_config_unref(c);
}

static void test_close_fail(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, s, 11);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
	n.loss_pct = 100; /* the peer's close_notify never comes back */
	CU_ASSERT(dtls_session_close(n.client, n.now) == 0);
	CU_ASSERT_EQUAL(dtls_session_state(n.client), DTLS_STATE_CLOSING);
	simnet_run(&n, client_done, 30000);
	CU_ASSERT_EQUAL(n.client_err, DTLS_ERR_CLOSE_FAIL);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static bool renegotiated(struct simnet *n)
{
	return all_delivered(n) && dtls_session_handshakes(n->client) == 2 &&
	       dtls_session_handshakes(n->server_session) == 2;
}

/* The client starts a new handshake inside the session (the server's side is what
 * libdtls supports: incoming renegotiation). */
static void client_renegotiate(struct simnet *n)
{
	n->client->now_ms = n->now;
	CU_ASSERT_FATAL(hs_begin(n->client) == 0);
	CU_ASSERT_FATAL(hs_client_start(n->client) == 0);
}

static void test_renegotiation(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, s, 13);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
	client_renegotiate(&n);
	for (unsigned i = 0; i < 50; i++) {
		CU_ASSERT(simnet_send(&n, true, i) == 0);
		CU_ASSERT(simnet_send(&n, false, i) == 0);
	}
	simnet_run(&n, renegotiated, 10000);
	CU_ASSERT_EQUAL(dtls_session_handshakes(n.client), 2);
	CU_ASSERT_EQUAL(dtls_session_handshakes(n.server_session), 2);
	CU_ASSERT_EQUAL(n.client->established_epoch, 2);
	unsigned got = 0;
	for (unsigned i = 0; i < 50; i++)
		got += n.client_got[i] + n.server_got[i];
	CU_ASSERT_EQUAL(got, 100);
	CU_ASSERT_EQUAL(n.corrupt, 0);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

/*
 * Who the server's authorize callback sees, call by call, as a string: "psk:ID",
 * "cert:NAME" (the first of two test names the certificate carries as name, CN and DNS
 * SAN alike, or "cert:?"), or
 * "none"; and the certificate's pin. With `refuse_change` it refuses a peer that is not
 * who the previous accepted call saw, as dtlsgwd does in a renegotiation.
 */
struct who_seen {
	unsigned calls;
	char who[8][160];
	bool have_pin[8];
	uint8_t pin[8][32];
	bool refuse_change;
	unsigned accepted; /* index of the last accepted call, + 1 */
};

static void describe_peer(const struct dtls_session *s, char *out, size_t cap)
{
	static const char *names[] = { "client1.gw.test", "client-rsa.gw.test" };
	size_t len;
	const uint8_t *id = dtls_session_psk_identity(s, &len);
	uint8_t pin[32];
	if (id) {
		snprintf(out, cap, "psk:%.*s", (int)len, (const char *)id);
		return;
	}
	snprintf(out, cap, "%s", dtls_session_peer_pin(s, pin) ? "cert:?" : "none");
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (dtls_session_peer_has_name(s, names[i]) && dtls_session_peer_has_cn(s, names[i]) &&
		    dtls_session_peer_has_san(s, names[i])) {
			snprintf(out, cap, "cert:%s", names[i]);
			return;
		}
}

static int authorize_who(struct simnet *n, struct dtls_session *s)
{
	struct who_seen *w = n->authorize_arg;
	CU_ASSERT_FATAL(w->calls < ARRAY_LEN(w->who));
	unsigned i = w->calls++;
	describe_peer(s, w->who[i], sizeof(w->who[i]));
	w->have_pin[i] = dtls_session_peer_pin(s, w->pin[i]);
	if (w->refuse_change && w->accepted && strcmp(w->who[i], w->who[w->accepted - 1]) != 0)
		return DTLS_ERR_ACCESS_DENIED;
	w->accepted = i + 1;
	return 0;
}

/* The first handshake, with authorize_who watching into w. */
static void start_watched(struct simnet *n, struct dtls_config *c, struct dtls_config *s, uint64_t seed,
			  struct who_seen *w)
{
	simnet_init(n, c, s, seed);
	n->authorize = authorize_who;
	n->authorize_arg = w;
	CU_ASSERT_FATAL(dtls_session_start(n->client, n->now) == 0);
	CU_ASSERT_FATAL(simnet_run(n, simnet_established, 10000));
}

static bool renegotiation_over(struct simnet *n)
{
	return n->server_ended ||
	       (n->server_session && dtls_session_handshakes(n->server_session) == dtls_session_handshakes(n->client) &&
		!n->client->hs);
}

/* Renegotiates from the client; returns whether the server session is still up. */
static bool renegotiate_once(struct simnet *n)
{
	unsigned before = dtls_session_handshakes(n->client);
	client_renegotiate(n);
	simnet_run(n, renegotiation_over, 20000);
	if (n->server_ended) {
		simnet_run(n, client_done, 20000);
		return false;
	}
	CU_ASSERT_EQUAL(dtls_session_handshakes(n->client), before + 1);
	return true;
}

/* The client renegotiates with another PSK identity: authorize sees the new one, and a
 * server that refuses a change of identity ends the session with access_denied. */
static void test_renegotiation_new_psk_identity(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	CU_ASSERT_FATAL(dtls_config_add_psk(s, (const uint8_t *)"client2", 7, key2, 16) == 0);
	struct who_seen w = { 0 };
	struct simnet n;
	size_t len;
	start_watched(&n, c, s, 29, &w);
	CU_ASSERT_STRING_EQUAL(w.who[0], "psk:client1");

	/* client2 now: the callback sees client2 (not the session's client1), and after
	 * the handshake the session reports client2 */
	memcpy(c->psks[0].identity, "client2", 7);
	memcpy(c->psks[0].key, key2, 16);
	CU_ASSERT_FATAL(renegotiate_once(&n));
	CU_ASSERT_EQUAL(w.calls, 2);
	CU_ASSERT_STRING_EQUAL(w.who[1], "psk:client2");
	const uint8_t *id = dtls_session_psk_identity(n.server_session, &len);
	CU_ASSERT(id && len == 7 && memcmp(id, "client2", 7) == 0);

	/* back to client1, refused as a change of peer */
	w.refuse_change = true;
	memcpy(c->psks[0].identity, "client1", 7);
	memcpy(c->psks[0].key, key1, 16);
	CU_ASSERT(!renegotiate_once(&n));
	CU_ASSERT_EQUAL(w.calls, 3);
	CU_ASSERT_STRING_EQUAL(w.who[2], "psk:client1");
	CU_ASSERT_EQUAL(n.server_err, DTLS_ERR_ACCESS_DENIED);
	CU_ASSERT_EQUAL(n.client_err, DTLS_ERR_PEER_ALERT);
	CU_ASSERT_EQUAL(dtls_session_peer_alert(n.client), DTLS_ALERT_ACCESS_DENIED);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

/* The test PKI of tests/pki/mkpki.sh in a directory of its own; "" if it failed. */
static const char *make_pki(char dir[static 32])
{
	char cmd[256];
	strcpy(dir, "/tmp/dtls-hs-pki-XXXXXX");
	if (!mkdtemp(dir))
		return "";
	snprintf(cmd, sizeof(cmd), "'%s/tests/pki/mkpki.sh' '%s'", TEST_SOURCE_DIR, dir);
	return system(cmd) == 0 ? dir : "";
}

static void remove_pki(const char *dir)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT(system(cmd) == 0);
}

/* Replaces the client's certificate: `drop` (NULL: none) goes, NAME-chain.pem and
 * NAME.key (NULL: none) come. */
static void switch_client_cert(struct dtls_config *c, const char *dir, const char *drop, const char *name)
{
	char cert[128], key[128], err[256];
	if (drop) {
		snprintf(cert, sizeof(cert), "%s/%s-chain.pem", dir, drop);
		CU_ASSERT_FATAL(dtls_config_remove_local_cert(c, cert) == 0);
	}
	if (name) {
		snprintf(cert, sizeof(cert), "%s/%s-chain.pem", dir, name);
		snprintf(key, sizeof(key), "%s/%s.key", dir, name);
		CU_ASSERT_FATAL(dtls_config_add_local_cert(c, cert, key, err, sizeof(err)) == 0);
	}
}

/* The same with certificates: authorize sees the certificate of the renegotiation (or
 * none when the client sends none), and can refuse it. */
static void test_renegotiation_new_certificate(void)
{
	char dir[32], file[128], err[256];
	CU_ASSERT_FATAL(*make_pki(dir));
	struct dtls_config *s = dtls_config_new(), *c = dtls_config_new();
	CU_ASSERT_FATAL(s && c);
	snprintf(file, sizeof(file), "%s/ca.pem", dir);
	CU_ASSERT_FATAL(dtls_config_add_trusted(s, file, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(dtls_config_add_trusted(c, file, err, sizeof(err)) == 0);
	char cert[128], key[128];
	snprintf(cert, sizeof(cert), "%s/server-ec-chain.pem", dir);
	snprintf(key, sizeof(key), "%s/server-ec.key", dir);
	CU_ASSERT_FATAL(dtls_config_add_local_cert(s, cert, key, err, sizeof(err)) == 0);
	dtls_config_verify_client(s, true, false);
	CU_ASSERT_FATAL(dtls_config_set_server_name(c, "gw.test") == 0);
	switch_client_cert(c, dir, NULL, "client");

	struct who_seen w = { 0 };
	struct simnet n;
	start_watched(&n, c, s, 31, &w);
	CU_ASSERT_STRING_EQUAL(w.who[0], "cert:client1.gw.test");
	CU_ASSERT(w.have_pin[0]);

	/* another certificate */
	switch_client_cert(c, dir, "client", "client-rsa");
	CU_ASSERT_FATAL(renegotiate_once(&n));
	CU_ASSERT_STRING_EQUAL(w.who[1], "cert:client-rsa.gw.test");
	CU_ASSERT(w.have_pin[1] && memcmp(w.pin[0], w.pin[1], 32) != 0);
	CU_ASSERT(dtls_session_peer_has_name(n.server_session, "client-rsa.gw.test"));
	CU_ASSERT(!dtls_session_peer_has_name(n.server_session, "client1.gw.test"));

	/* no certificate at all: nothing of the previous one is left */
	switch_client_cert(c, dir, "client-rsa", NULL);
	CU_ASSERT_FATAL(renegotiate_once(&n));
	CU_ASSERT_STRING_EQUAL(w.who[2], "none");
	CU_ASSERT(!w.have_pin[2]);
	uint8_t pin[32];
	CU_ASSERT(!dtls_session_peer_pin(n.server_session, pin));
	CU_ASSERT(!dtls_session_peer_has_name(n.server_session, "client-rsa.gw.test"));

	/* a certificate again, refused as a change of peer */
	w.refuse_change = true;
	switch_client_cert(c, dir, NULL, "client");
	CU_ASSERT(!renegotiate_once(&n));
	CU_ASSERT_STRING_EQUAL(w.who[3], "cert:client1.gw.test");
	CU_ASSERT_EQUAL(n.server_err, DTLS_ERR_ACCESS_DENIED);
	CU_ASSERT_EQUAL(dtls_session_peer_alert(n.client), DTLS_ALERT_ACCESS_DENIED);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
	remove_pki(dir);
}

static void test_peer_restart_same_address(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, s, 19);
	n.dup_pct = 30; /* duplicated ClientHellos of the first handshake must not reset it */
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
	simnet_run(&n, never, 2000);
	CU_ASSERT_FATAL(n.server_session != NULL);
	CU_ASSERT_EQUAL(n.server_sessions, 1);
	CU_ASSERT_EQUAL(dtls_server_session_count(n.server), 1);

	/* The client "restarts": a new session from the same address and port. */
	simnet_restart_client(&n, c);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT(simnet_run(&n, simnet_established, 10000));
	/* a new session (the old one's memory may well be reused: count, not compare) */
	CU_ASSERT_EQUAL(n.server_sessions, 2);
	CU_ASSERT_EQUAL(dtls_server_session_count(n.server), 1);
	CU_ASSERT(simnet_send(&n, true, 7) == 0);
	simnet_run(&n, never, 1000);
	CU_ASSERT_EQUAL(n.server_got[7], 1);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static bool server_has_session(struct simnet *n)
{
	return n->server_session != NULL;
}

static bool server_up(struct simnet *n)
{
	return n->server_session && dtls_session_state(n->server_session) == DTLS_STATE_ESTABLISHED;
}

static bool server_answered(struct simnet *n)
{
	return n->to_client.n > 0;
}

/* The server's last flight is lost twice: the client's retransmissions of its Finished
 * are what the server hears of it until the third copy gets through, and the server
 * knows the flight is pending until the client's first data. */
static void test_last_flight_lost(void)
{
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct dtls_session_stats st;
	struct simnet n;
	simnet_init(&n, c, s, 23);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(simnet_run(&n, server_has_session, 10000));
	CU_ASSERT_EQUAL(dtls_session_last_heard(n.server_session), 0); /* epoch 0 only so far */
	CU_ASSERT_FATAL(simnet_run(&n, server_up, 10000));
	uint64_t t0 = n.now;
	CU_ASSERT_EQUAL(dtls_session_last_heard(n.server_session), t0); /* the client's Finished */
	CU_ASSERT_EQUAL(dtls_session_last_heard(n.client), 0);
	CU_ASSERT(dtls_session_last_flight_pending(n.server_session));
	for (int lost = 0; lost < 2; lost++) {
		uint64_t before = dtls_session_last_heard(n.server_session);
		simnet_drain(&n.to_client); /* the server's CCS and Finished */
		CU_ASSERT_FATAL(simnet_run(&n, server_answered, 10000));
		/* the client's timer fired, its flight came again, the server sent its own again */
		CU_ASSERT(dtls_session_last_heard(n.server_session) >= before + 1000);
		CU_ASSERT_EQUAL(dtls_session_state(n.client), DTLS_STATE_HANDSHAKING);
	}
	uint64_t heard = dtls_session_last_heard(n.server_session);
	CU_ASSERT(heard >= t0 + 3000); /* 1 s, then 2 s more of the client's backoff */
	dtls_session_stats(n.client, &st);
	CU_ASSERT_EQUAL(st.retransmits, 2);
	CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
	CU_ASSERT(dtls_session_last_heard(n.client) > heard); /* the server's Finished */
	CU_ASSERT(!dtls_session_last_flight_pending(n.client)); /* the client keeps nothing */
	CU_ASSERT(dtls_session_last_flight_pending(n.server_session)); /* no data from it yet */
	uint64_t sent = n.now;
	CU_ASSERT(simnet_send(&n, true, 3) == 0);
	simnet_run(&n, never, 10);
	CU_ASSERT_EQUAL(n.server_got[3], 1);
	CU_ASSERT(dtls_session_last_heard(n.server_session) > sent); /* and data, of course */
	CU_ASSERT(!dtls_session_last_flight_pending(n.server_session)); /* which settles it */
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void test_hello_request(void)
{
	/* The server asks for a renegotiation (HelloRequest): the client, whose side of
	 * renegotiation is the incoming one, starts a new handshake inside the session. */
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, s, 23);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(simnet_run(&n, simnet_established, 10000));
	struct dtls_session *srv = n.server_session;
	srv->now_ms = n.now;
	CU_ASSERT_FATAL(hs_begin(srv) == 0);
	CU_ASSERT_FATAL(flight_add(srv, CT_HANDSHAKE, srv->hs->epoch, HS_HELLO_REQUEST, NULL, 0) == 0);
	CU_ASSERT_FATAL(flight_send(srv) == 0);
	for (unsigned i = 0; i < 50; i++) {
		CU_ASSERT(simnet_send(&n, true, i) == 0);
		CU_ASSERT(simnet_send(&n, false, i) == 0);
	}
	CU_ASSERT(simnet_run(&n, renegotiated, 10000));
	CU_ASSERT_EQUAL(n.client->established_epoch, 2);
	CU_ASSERT_EQUAL(n.corrupt, 0);

	/* Refused when renegotiation is off: a warning alert, the session stays up. */
	dtls_config_allow_renegotiation(c, false);
	srv->now_ms = n.now;
	CU_ASSERT_FATAL(hs_begin(srv) == 0);
	CU_ASSERT_FATAL(flight_add(srv, CT_HANDSHAKE, srv->hs->epoch, HS_HELLO_REQUEST, NULL, 0) == 0);
	CU_ASSERT_FATAL(flight_send(srv) == 0);
	simnet_run(&n, never, 3000);
	CU_ASSERT_EQUAL(dtls_session_handshakes(n.client), 2);
	CU_ASSERT_EQUAL(dtls_session_state(n.client), DTLS_STATE_ESTABLISHED);
	CU_ASSERT(simnet_send(&n, true, 60) == 0);
	simnet_run(&n, never, 1000);
	CU_ASSERT_EQUAL(n.server_got[60], 1);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static void flood_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t len)
{
	size_t *max = arg;
	(void)a, (void)l, (void)d;
	if (len > *max)
		*max = len;
}

static void test_cookie_flood_allocates_nothing(void)
{
	/* Capture one real ClientHello, then replay it from 5000 addresses. */
	struct dtls_config *c = psk_config(NULL, "client1", key1);
	struct dtls_config *s = psk_config(NULL, "client1", key1);
	struct simnet n;
	simnet_init(&n, c, NULL, 17);
	CU_ASSERT_FATAL(dtls_session_start(n.client, n.now) == 0);
	CU_ASSERT_FATAL(n.to_server.n == 1);
	struct simnet_pkt hello = n.to_server.pkts[0];

	size_t max_reply = 0;
	struct dtls_server_callbacks cb = { .send = flood_send };
	struct dtls_server *srv = dtls_server_new(s, &cb, &max_reply, 16);
	uint8_t buf[2048];
	for (unsigned i = 0; i < 5000; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = (uint16_t)i, .sin_addr = { (uint32_t)i } };
		memcpy(buf, hello.data, hello.len);
		CU_ASSERT(dtls_server_handle(srv, (struct sockaddr *)&a, sizeof(a), buf, hello.len, 2000) == 0);
	}
	CU_ASSERT_EQUAL(dtls_server_session_count(srv), 0);
	CU_ASSERT(max_reply > 0 && max_reply <= hello.len);
	dtls_server_free(srv);
	simnet_free(&n);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static CU_TestInfo tests[] = {
	{ "every PSK suite, lossless, data both ways, close_notify", test_psk_suites_lossless },
	{ "every PSK suite, 30% loss + dup + reorder, 8 seeds", test_psk_suites_lossy },
	{ "default suites: ECDHE_PSK AES-GCM between two, plain PSK GCM with an older peer",
	  test_default_prefers_ecdhe_psk },
	{ "200-byte MTU fragments every flight", test_small_mtu_fragments },
	{ "wrong PSK: bad_record_mac on both sides", test_wrong_psk },
	{ "unknown identity: bad_record_mac as a wrong key, or unknown_psk_identity if revealed",
	  test_unknown_identity },
	{ "no answer: timer backoff then timeout", test_handshake_timeout },
	{ "close_notify unanswered: CLOSE_FAIL", test_close_fail },
	{ "renegotiation with data flowing across it", test_renegotiation },
	{ "renegotiation with another PSK identity: authorize sees it, may refuse", test_renegotiation_new_psk_identity },
	{ "renegotiation with another certificate or none: authorize sees it, may refuse",
	  test_renegotiation_new_certificate },
	{ "cookie-less ClientHello flood allocates no session", test_cookie_flood_allocates_nothing },
	{ "peer restarting on the same address gets a new session", test_peer_restart_same_address },
	{ "HelloRequest from the server: client renegotiates, or refuses when off", test_hello_request },
	{ "last flight lost twice: the peer's retransmitted Finished counts as heard", test_last_flight_lost },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "handshake", NULL, NULL, tests };
