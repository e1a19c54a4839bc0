/*
 * fuzz_seedgen OUTDIR: runs in-process handshakes (client session <-> dtls_server) and
 * writes what passes between them, for tests/fuzz/mkcorpus.py to cut into seed corpora:
 *
 *   OUTDIR/streams/NAME.c2s, NAME.s2c   the datagrams of each direction, framed as the
 *                                       engine targets read them (fuzz.h), meta 0
 *   OUTDIR/record/NAME                  inputs of fuzz_record: records sealed with the
 *                                       target's fixed epoch-1 keys
 *
 * Scenarios: PSK (AES-GCM, cookies), ECDHE-PSK with a hint, ECDHE-ECDSA with a client
 * certificate, RSA key transport, PSK over a 200-byte MTU (fragments), and a PSK session
 * that renegotiates, sends data and closes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz_engine.h"

static const char *outdir;

struct stream {
	uint8_t buf[1 << 20];
	size_t len;
};

struct run {
	struct dtls_session *client;
	struct dtls_server *server;
	struct dtls_session *server_session;
	struct stream c2s, s2c;
	uint8_t *q_srv[256], *q_cli[256];
	size_t n_srv[256], n_cli[256], q_srv_len, q_cli_len;
};

static void put(struct stream *st, uint8_t **q, size_t *qn, size_t *qlen, const uint8_t *d, size_t n)
{
	if (!fuzz_put_chunk(st->buf, sizeof(st->buf), &st->len, 0, d, n) || *qlen == 256)
		abort();
	q[*qlen] = malloc(n);
	memcpy(q[*qlen], d, n);
	qn[(*qlen)++] = n;
}

static void client_send(void *arg, const uint8_t *d, size_t n)
{
	struct run *r = arg;
	put(&r->c2s, r->q_srv, r->n_srv, &r->q_srv_len, d, n);
}

static void server_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	struct run *r = arg;
	(void)a, (void)l;
	put(&r->s2c, r->q_cli, r->n_cli, &r->q_cli_len, d, n);
}

static int server_connect(void *arg, struct dtls_session *s, const struct sockaddr *a, socklen_t l)
{
	struct run *r = arg;
	(void)a, (void)l;
	r->server_session = s;
	return 0;
}

static const struct dtls_callbacks ccb = { .send = client_send };
static const struct dtls_server_callbacks scb = { .send = server_send, .connect = server_connect };
static const struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = 0x3412, .sin_addr = { 0x0100007f } };
static uint64_t now = 1000;

static void pump(struct run *r)
{
	for (int round = 0; round < 64 && (r->q_srv_len || r->q_cli_len); round++) {
		size_t ns = r->q_srv_len, nc = r->q_cli_len;
		uint8_t *qs[256], *qc[256];
		size_t ls[256], lc[256];
		memcpy(qs, r->q_srv, ns * sizeof(qs[0]));
		memcpy(ls, r->n_srv, ns * sizeof(ls[0]));
		memcpy(qc, r->q_cli, nc * sizeof(qc[0]));
		memcpy(lc, r->n_cli, nc * sizeof(lc[0]));
		r->q_srv_len = r->q_cli_len = 0;
		for (size_t i = 0; i < ns; i++) {
			if (dtls_server_handle(r->server, (const struct sockaddr *)&peer, sizeof(peer), qs[i], ls[i], ++now) < 0)
				abort();
			free(qs[i]);
		}
		for (size_t i = 0; i < nc; i++) {
			int rc = dtls_session_handle(r->client, qc[i], lc[i], ++now);
			(void)rc;
			free(qc[i]);
		}
	}
}

static void write_file(const char *sub, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		abort();
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

struct scenario {
	const char *name;
	const char *ciphers;
	unsigned client_flags, server_flags;
	const char *hint;
	bool reneg;
};

static void run_scenario(const struct scenario *sc)
{
	static struct run r;
	memset(&r, 0, sizeof(r));
	struct dtls_config *c = fuzz_config(false, sc->client_flags, sc->ciphers);
	struct dtls_config *s = fuzz_config(true, sc->server_flags, sc->ciphers);
	if (sc->hint && dtls_config_set_psk_hint(s, sc->hint) < 0)
		abort();
	if ((sc->server_flags & FUZZ_CFG_SMALL) && dtls_config_set_mtu(c, 256) < 0)
		abort();
	r.client = dtls_session_new_client(c, &ccb, &r);
	r.server = dtls_server_new(s, &scb, &r, 4);
	if (!r.client || !r.server || dtls_session_start(r.client, now) < 0)
		abort();
	pump(&r);
	if (dtls_session_state(r.client) != DTLS_STATE_ESTABLISHED) {
		fprintf(stderr, "seedgen: %s: no handshake: %s\n", sc->name,
			dtls_strerror(dtls_session_error(r.client)));
		exit(1);
	}
	if (sc->reneg) {
		r.client->now_ms = now;
		if (hs_begin(r.client) < 0 || hs_client_start(r.client) < 0)
			abort();
		pump(&r);
		if (dtls_session_handshakes(r.client) != 2)
			abort();
	}
	if (dtls_session_send(r.client, (const uint8_t *)"ping", 4) < 0 ||
	    (r.server_session && dtls_session_send(r.server_session, (const uint8_t *)"pong", 4) < 0))
		abort();
	pump(&r);
	if (dtls_session_close(r.client, now) < 0)
		abort();
	pump(&r);

	char name[128];
	snprintf(name, sizeof(name), "%s.c2s", sc->name);
	write_file("streams", name, r.c2s.buf, r.c2s.len);
	snprintf(name, sizeof(name), "%s.s2c", sc->name);
	write_file("streams", name, r.s2c.buf, r.s2c.len);
	dtls_session_free(r.client);
	dtls_server_free(r.server);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

static const struct scenario scenarios[] = {
	{ "psk-gcm", "TLS_PSK_WITH_AES_128_GCM_SHA256", FUZZ_CFG_PSK, FUZZ_CFG_PSK, NULL, false },
	{ "ecdhe-psk-cbc", "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", FUZZ_CFG_PSK, FUZZ_CFG_PSK, "hint", false },
	{ "psk-cbc-hint", "TLS_PSK_WITH_AES_128_CBC_SHA256", FUZZ_CFG_PSK, FUZZ_CFG_PSK, "a PSK identity hint", false },
	{ "ecdhe-ecdsa-clientcert", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", FUZZ_CFG_CERT | FUZZ_CFG_VERIFY,
	  FUZZ_CFG_CERT | FUZZ_CFG_VERIFY, NULL, false },
	{ "ecdhe-ecdsa-chacha", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", FUZZ_CFG_CERT, FUZZ_CFG_CERT, NULL,
	  false },
	{ "psk-ccm8-mtu256", "TLS_PSK_WITH_AES_128_CCM_8", FUZZ_CFG_PSK, FUZZ_CFG_PSK | FUZZ_CFG_SMALL,
	  "a hint long enough that the server flight is cut into fragments when the MTU is 256 bytes, 120 long",
	  false },
	{ "psk-gcm-reneg", "TLS_PSK_WITH_AES_128_GCM_SHA256", FUZZ_CFG_PSK, FUZZ_CFG_PSK, NULL, true },
};

/* A certificate-suite scenario with RSA key transport needs the RSA identity. */
static void run_rsa(void)
{
	static struct run r;
	memset(&r, 0, sizeof(r));
	char err[256];
	struct dtls_config *c = fuzz_config(false, FUZZ_CFG_CERT, "TLS_RSA_WITH_AES_128_CBC_SHA");
	struct dtls_config *s = fuzz_config(true, 0, "TLS_RSA_WITH_AES_128_CBC_SHA");
	if (dtls_config_add_local_cert(s, FUZZ_PKI_DIR "/server-rsa-chain.pem", FUZZ_PKI_DIR "/server-rsa.key", err,
				       sizeof(err)) < 0) {
		fprintf(stderr, "seedgen: %s\n", err);
		exit(1);
	}
	r.client = dtls_session_new_client(c, &ccb, &r);
	r.server = dtls_server_new(s, &scb, &r, 4);
	if (!r.client || !r.server || dtls_session_start(r.client, now) < 0)
		abort();
	pump(&r);
	if (dtls_session_state(r.client) != DTLS_STATE_ESTABLISHED) {
		fprintf(stderr, "seedgen: rsa: no handshake: %s\n", dtls_strerror(dtls_session_error(r.client)));
		exit(1);
	}
	write_file("streams", "rsa-cbc.c2s", r.c2s.buf, r.c2s.len);
	write_file("streams", "rsa-cbc.s2c", r.s2c.buf, r.s2c.len);
	dtls_session_free(r.client);
	dtls_server_free(r.server);
	dtls_config_unref(c);
	dtls_config_unref(s);
}

/* fuzz_record inputs: a plaintext handshake record and epoch-1 records under the fixed keys. */
static void record_seeds(void)
{
	static const uint16_t suites[] = { 0x00A8, 0x00AE, 0x002F, 0xC0A8, 0xCCAC }; /* as fuzz_record.c */
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		const struct suite *su = suite_by_id(suites[i]);
		struct rec_layer l;
		rec_layer_init(&l);
		if (rec_write_install(&l, 1, su, fuzz_key, fuzz_iv, fuzz_mac_key) < 0)
			abort();
		uint8_t out[4096];
		size_t len = 0;
		out[len++] = (uint8_t)i;
		static const uint8_t hello_request[12] = { 0 };
		struct rec_header h0 = { .type = CT_HANDSHAKE, .version = DTLS_VERSION_1_2, .epoch = 0, .seq = 7,
					 .length = sizeof(hello_request) };
		rec_write_header(out + len, &h0);
		memcpy(out + len + REC_HEADER_LEN, hello_request, sizeof(hello_request));
		len += REC_HEADER_LEN + sizeof(hello_request);
		static const struct {
			uint8_t type;
			const char *data;
			size_t n;
		} recs[] = {
			{ CT_CHANGE_CIPHER_SPEC, "\x01", 1 },
			{ CT_APPLICATION_DATA, "application data under epoch 1", 30 },
			{ CT_ALERT, "\x01\x00", 2 },
			{ CT_APPLICATION_DATA, "", 0 },
		};
		for (size_t k = 0; k < sizeof(recs) / sizeof(recs[0]); k++) {
			uint8_t tmp[REC_HEADROOM + 64 + REC_TAILROOM];
			memcpy(tmp + REC_HEADROOM, recs[k].data, recs[k].n);
			uint8_t *rec;
			size_t rec_len;
			if (rec_layer_seal(&l, recs[k].type, tmp + REC_HEADROOM, recs[k].n, &rec, &rec_len) < 0 ||
			    len + rec_len > sizeof(out))
				abort();
			memcpy(out + len, rec, rec_len);
			len += rec_len;
		}
		char name[32];
		snprintf(name, sizeof(name), "sealed-%04x", suites[i]);
		write_file("record", name, out, len);
		rec_layer_free(&l);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (dtls_init() < 0)
		return 1;
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
	run_rsa();
	record_seeds();
	return 0;
}
