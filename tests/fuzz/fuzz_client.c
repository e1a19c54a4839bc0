/*
 * The client engine: a client session is started (its ClientHello goes nowhere), then
 * fed arbitrary server flights.
 *
 * Input: config(1) chunk*, chunks as in fuzz.h. config picks PSK, certificates (the test
 * CA trusted), both, or PSK with a small MTU. A chunk's meta: bit 0: first let
 * (meta >> 1) * 250 ms pass and run the timer.
 *
 * fuzz_client_deep.c builds this file with FUZZ_DEEP: each input starts after a real
 * HelloVerifyRequest and a real server flight (ServerHello ... ServerHelloDone) that an
 * in-process server sent at start-up, so the fuzzer works on a client waiting for the
 * server's ChangeCipherSpec and Finished, with its epoch-1 keys installed.
 *
 * Oracles: the handshake never completes and no data is delivered (the fuzzer never
 * knows the keys).
 */
#include "fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct client_case {
	unsigned flags;
	const char *ciphers;
};

#ifndef FUZZ_DEEP
static const struct client_case cases[] = {
	{ FUZZ_CFG_PSK, NULL },
	{ FUZZ_CFG_CERT, NULL },
	{ FUZZ_CFG_PSK | FUZZ_CFG_CERT | FUZZ_CFG_VERIFY, NULL },
	{ FUZZ_CFG_PSK | FUZZ_CFG_SMALL, NULL },
};
#else
static const struct client_case cases[] = {
	{ FUZZ_CFG_PSK, "TLS_PSK_WITH_AES_128_GCM_SHA256" },
	{ FUZZ_CFG_PSK, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256" },
	{ FUZZ_CFG_PSK, "TLS_PSK_WITH_AES_128_CCM_8" },
	{ FUZZ_CFG_PSK | FUZZ_CFG_SMALL, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" },
};
#endif
#define N_CASES (sizeof(cases) / sizeof(cases[0]))
static struct dtls_config *cfgs[N_CASES];

static void on_send(void *arg, const uint8_t *d, size_t n);

#ifdef FUZZ_DEEP
#include <netinet/in.h>

#define PREFIX_MAX 16
struct dgram {
	uint8_t *p;
	size_t n;
};
static struct dgram prefix[N_CASES][PREFIX_MAX];
static size_t n_prefix[N_CASES];

/* Start-up: what the real server sends to a client of case i before its last flight. */
struct recorder {
	struct dgram to_server[PREFIX_MAX], to_client[PREFIX_MAX];
	size_t n_server, n_client;
	size_t keep;
};

static void rec_put(struct dgram *q, size_t *n, const uint8_t *d, size_t len)
{
	if (*n == PREFIX_MAX)
		abort();
	q[*n].p = malloc(len);
	memcpy(q[*n].p, d, len);
	q[*n].n = len;
	(*n)++;
}

static void rec_client_send(void *arg, const uint8_t *d, size_t n)
{
	struct recorder *r = arg;
	rec_put(r->to_server, &r->n_server, d, n);
}

static void rec_server_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	struct recorder *r = arg;
	(void)a, (void)l;
	rec_put(r->to_client, &r->n_client, d, n);
}

static void record_prefix(size_t i)
{
	struct recorder r = { 0 };
	struct dtls_config *scfg = fuzz_config(true, FUZZ_CFG_PSK | (cases[i].flags & FUZZ_CFG_SMALL), cases[i].ciphers);
	struct dtls_server_callbacks scb = { .send = rec_server_send };
	struct dtls_server *srv = dtls_server_new(scfg, &scb, &r, 4);
	struct dtls_callbacks ccb = { .send = rec_client_send };
	struct dtls_session *c = dtls_session_new_client(cfgs[i], &ccb, &r);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr = { htonl(0x7f000001) } };
	if (!srv || !c || dtls_session_start(c, 1000) < 0)
		abort();
	/* Deliver both ways until the client has sent its ChangeCipherSpec flight. */
	uint64_t now = 1000;
	size_t sent = 0, got = 0;
	while (c->hs && c->rec.write_epoch == 0) {
		bool moved = false;
		while (sent < r.n_server) {
			uint8_t buf[DTLS_MAX_DATAGRAM];
			memcpy(buf, r.to_server[sent].p, r.to_server[sent].n);
			if (dtls_server_handle(srv, (struct sockaddr *)&a, sizeof(a), buf, r.to_server[sent].n, ++now) < 0)
				abort();
			sent++, moved = true;
		}
		while (got < r.n_client && c->rec.write_epoch == 0) {
			rec_put(prefix[i], &n_prefix[i], r.to_client[got].p, r.to_client[got].n);
			uint8_t buf[DTLS_MAX_DATAGRAM];
			memcpy(buf, r.to_client[got].p, r.to_client[got].n);
			if (dtls_session_handle(c, buf, r.to_client[got].n, ++now) < 0)
				abort();
			got++, moved = true;
		}
		if (!moved)
			abort(); /* the in-process handshake is stuck: a harness bug */
	}
	for (size_t k = 0; k < r.n_server; k++)
		free(r.to_server[k].p);
	for (size_t k = 0; k < r.n_client; k++)
		free(r.to_client[k].p);
	dtls_session_free(c);
	dtls_server_free(srv);
	dtls_config_unref(scfg);
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0)
		abort();
	for (size_t i = 0; i < N_CASES; i++) {
		cfgs[i] = fuzz_config(false, cases[i].flags, cases[i].ciphers);
#ifdef FUZZ_DEEP
		record_prefix(i);
#endif
	}
	return 0;
}

static void on_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	fuzz_touch(d, n);
	if (n == 0 || n > DTLS_MAX_DATAGRAM)
		abort();
}

static void on_data(void *arg, const uint8_t *d, size_t n)
{
	(void)arg, (void)d, (void)n;
	fprintf(stderr, "fuzz_client: application data from a server that has no key\n");
	abort();
}

static void on_established(void *arg)
{
	(void)arg;
	fprintf(stderr, "fuzz_client: a handshake completed with a server that has no key\n");
	abort();
}

static const struct dtls_callbacks cb = { .send = on_send, .data = on_data, .established = on_established };

static uint8_t buf[DTLS_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = data[0] % N_CASES;
	data++, size--;

	struct dtls_session *s = dtls_session_new_client(cfgs[which], &cb, NULL);
	uint64_t now = 1000;
	if (!s || dtls_session_start(s, now) < 0)
		abort();
#ifdef FUZZ_DEEP
	for (size_t k = 0; k < n_prefix[which]; k++) {
		memcpy(buf, prefix[which][k].p, prefix[which][k].n);
		if (dtls_session_handle(s, buf, prefix[which][k].n, ++now) < 0)
			abort();
	}
	if (s->rec.write_epoch != 1)
		abort(); /* the recorded flight no longer brings the client to its last flight */
#endif
	uint8_t meta;
	const uint8_t *chunk;
	size_t len;
	while (fuzz_chunk(&data, &size, &meta, &chunk, &len)) {
		if (meta & 1) {
			now += (uint64_t)(meta >> 1) * 250;
			if (dtls_session_next_timeout(s) <= now) {
				int rc = dtls_session_timeout(s, now);
				(void)rc;
			}
		}
		memcpy(buf, chunk, len);
		int rc = dtls_session_handle(s, buf, len, ++now);
		if (rc < 0 && rc != dtls_session_error(s))
			abort(); /* an error that is not the sticky one */
		(void)dtls_session_next_timeout(s);
	}
	dtls_session_free(s);
	return 0;
}
