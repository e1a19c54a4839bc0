/*
 * An established session under attack from its authenticated peer: each input first
 * runs a real PSK handshake between a client and a server session in process, then
 * feeds one of them (the target) records that the harness seals with the other's
 * (the peer's) real keys, so the fuzzer reaches the paths behind authentication:
 * renegotiation, HelloRequest, alerts, ChangeCipherSpec at odd times, application data
 * around a handshake, replays.
 *
 * Input: config(1) chunk*. config: bits 0-1 the suite (PSK AES-GCM, PSK AES-CBC,
 * ECDHE-PSK ChaCha20, PSK CCM_8), bit 2 the target is the server (else the client),
 * bit 3 a small MTU. A chunk's meta:
 *   bits 0-1  0: seal the bytes as one record under the peer's current write epoch;
 *             1: hand the bytes to the target as a raw datagram; no bytes: a step
 *                of the real exchange instead: with bit 2 set, the target's first
 *                queued datagram goes to the peer; else the first record of the
 *                peer's first queued datagram goes to the target (the rest waits)
 *             2: seal them under epoch 0 (plaintext);
 *             3: hand the target the last sealed datagram again (a replay)
 *   bits 2-3  content type of a sealed record: handshake, alert, ChangeCipherSpec, data
 *   bit 4     afterwards, let the real pair exchange what they have queued
 *   bit 5     first let a second pass and run both timers
 *   bit 6     first the client side starts a renegotiation (its ClientHello is queued)
 *   bit 7     first drop what both sides have queued (loss)
 *
 * Oracles: the target delivers no more application records than the peer sealed
 * (never one from a raw datagram or a replay), never a record under an epoch whose
 * handshake it has not completed (data may be held until that Finished, not delivered
 * ahead of it); and nothing but what the peer sealed (mode 0) may end the target's
 * established session.
 */
#include <netinet/in.h>

#include "fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *suites[4] = {
	"TLS_PSK_WITH_AES_128_GCM_SHA256",
	"TLS_PSK_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
	"TLS_PSK_WITH_AES_128_CCM_8",
};
static struct dtls_config *cfgs[8];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0)
		abort();
	for (unsigned i = 0; i < 8; i++)
		cfgs[i] = fuzz_config(true, FUZZ_CFG_PSK | FUZZ_CFG_NOCOOKIE | (i & 4 ? FUZZ_CFG_SMALL : 0), suites[i & 3]);
	return 0;
}

#define QMAX 64
struct queue {
	uint8_t *p[QMAX];
	size_t n[QMAX];
	size_t len;
};

struct side {
	struct dtls_session *s;
	struct queue *out; /* what it sends */
	bool target;
};

static struct queue to_client, to_server;
static struct side client_side, server_side;
static unsigned budget;        /* application records the peer sealed for the target */
static int feeding_epoch = -1; /* epoch of the sealed application record being fed */

static void q_push(struct queue *q, const uint8_t *d, size_t n)
{
	if (q->len == QMAX)
		return;
	q->p[q->len] = malloc(n);
	memcpy(q->p[q->len], d, n);
	q->n[q->len++] = n;
}

static void q_clear(struct queue *q)
{
	for (size_t i = 0; i < q->len; i++)
		free(q->p[i]);
	q->len = 0;
}

static void on_send(void *arg, const uint8_t *d, size_t n)
{
	struct side *sd = arg;
	q_push(sd->out, d, n);
}

static void on_data(void *arg, const uint8_t *d, size_t n)
{
	struct side *sd = arg;
	fuzz_touch(d, n);
	if (!sd->target)
		return;
	if (budget == 0) {
		fprintf(stderr, "fuzz_established: more application data delivered than the peer sealed\n");
		abort();
	}
	budget--;
	if (feeding_epoch > (int)sd->s->established_epoch) {
		fprintf(stderr, "fuzz_established: data of epoch %d delivered before that handshake's Finished\n",
			feeding_epoch);
		abort();
	}
}

static const struct dtls_callbacks cb = { .send = on_send, .data = on_data };

static uint64_t now;

/* Delivers what each side queued to the other, a few rounds. */
static void pump(void)
{
	for (int round = 0; round < 8 && (to_client.len || to_server.len); round++) {
		struct queue qc = to_client, qs = to_server;
		to_client.len = to_server.len = 0;
		for (size_t i = 0; i < qs.len; i++) {
			int rc = dtls_session_handle(server_side.s, qs.p[i], qs.n[i], ++now);
			(void)rc;
			free(qs.p[i]);
		}
		for (size_t i = 0; i < qc.len; i++) {
			int rc = dtls_session_handle(client_side.s, qc.p[i], qc.n[i], ++now);
			(void)rc;
			free(qc.p[i]);
		}
	}
}

/* One step of the real exchange (see the header). */
static void step(struct side *target, struct side *peer, bool to_peer)
{
	struct queue *q = to_peer ? target->out : peer->out;
	if (!q->len)
		return;
	uint8_t *d = q->p[0];
	size_t n = q->n[0];
	memmove(&q->p[0], &q->p[1], (q->len - 1) * sizeof(q->p[0]));
	memmove(&q->n[0], &q->n[1], (q->len - 1) * sizeof(q->n[0]));
	q->len--;
	if (to_peer) {
		int rc = dtls_session_handle(peer->s, d, n, ++now);
		(void)rc;
		free(d);
		return;
	}
	/* the first record to the target, the rest back to the head of the queue */
	size_t first = n;
	if (n >= REC_HEADER_LEN) {
		size_t len = (size_t)d[11] << 8 | d[12];
		if (REC_HEADER_LEN + len < n)
			first = REC_HEADER_LEN + len;
	}
	if (first < n && q->len < QMAX) {
		memmove(&q->p[1], &q->p[0], q->len * sizeof(q->p[0]));
		memmove(&q->n[1], &q->n[0], q->len * sizeof(q->n[0]));
		q->p[0] = malloc(n - first);
		memcpy(q->p[0], d + first, n - first);
		q->n[0] = n - first;
		q->len++;
	}
	int rc = dtls_session_handle(target->s, d, first, ++now);
	(void)rc;
	free(d);
}

static uint8_t buf[REC_HEADROOM + DTLS_MAX_DATAGRAM + REC_TAILROOM];
static uint8_t last[DTLS_MAX_DATAGRAM];
static size_t last_len;
static const uint8_t types[4] = { 22, 21, 20, 23 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct dtls_config *cfg = cfgs[(data[0] & 3) | (data[0] & 8 ? 4 : 0)];
	bool target_server = data[0] & 4;
	data++, size--;

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr = { htonl(0x7f000001) } };
	now = 1000;
	last_len = 0;
	budget = 0;
	feeding_epoch = -1;
	client_side = (struct side){ .out = &to_server, .target = !target_server };
	server_side = (struct side){ .out = &to_client, .target = target_server };
	client_side.s = dtls_session_new_client(cfg, &cb, &client_side);
	server_side.s = dtls_session_new_server(cfg, &cb, &server_side, (struct sockaddr *)&a, sizeof(a));
	if (!client_side.s || !server_side.s || dtls_session_start(client_side.s, now) < 0)
		abort();
	pump();
	if (dtls_session_state(client_side.s) != DTLS_STATE_ESTABLISHED ||
	    dtls_session_state(server_side.s) != DTLS_STATE_ESTABLISHED)
		abort(); /* the in-process handshake failed: a harness bug */

	struct side *target = target_server ? &server_side : &client_side;
	struct side *peer = target_server ? &client_side : &server_side;
	uint8_t meta;
	const uint8_t *chunk;
	size_t len;
	while (fuzz_chunk(&data, &size, &meta, &chunk, &len)) {
		if (meta & 32) {
			now += 1000;
			int rc = dtls_session_timeout(client_side.s, now);
			rc = dtls_session_timeout(server_side.s, now);
			(void)rc;
		}
		if (meta & 128) {
			q_clear(&to_client);
			q_clear(&to_server);
		}
		if ((meta & 64) && dtls_session_state(client_side.s) == DTLS_STATE_ESTABLISHED && !client_side.s->hs) {
			client_side.s->now_ms = now;
			if (hs_begin(client_side.s) < 0 || hs_client_start(client_side.s) < 0)
				abort();
		}
		uint8_t type = types[(meta >> 2) & 3];
		uint8_t *rec = NULL;
		size_t rec_len = 0;
		switch (meta & 3) {
		case 0:
		case 2:
			if (len > REC_MAX_PLAINTEXT)
				len = REC_MAX_PLAINTEXT;
			memcpy(buf + REC_HEADROOM, chunk, len);
			if ((meta & 3) == 0 ? rec_layer_seal(&peer->s->rec, type, buf + REC_HEADROOM, len, &rec, &rec_len) < 0
					    : rec_layer_seal_epoch(&peer->s->rec, 0, type, buf + REC_HEADROOM, len, &rec,
								   &rec_len) < 0)
				continue;
			memcpy(last, rec, rec_len);
			last_len = rec_len;
			if ((meta & 3) == 0 && type == 23) {
				budget++;
				feeding_epoch = peer->s->rec.write_epoch;
			}
			break;
		case 1:
			if (len == 0) {
				step(target, peer, (meta >> 2) & 1);
				if (meta & 16)
					pump();
				continue;
			}
			memcpy(buf, chunk, len);
			rec = buf, rec_len = len;
			break;
		case 3:
			if (!last_len)
				continue;
			memcpy(buf, last, last_len);
			rec = buf, rec_len = last_len;
			break;
		}
		bool was_up = dtls_session_state(target->s) == DTLS_STATE_ESTABLISHED;
		int rc = dtls_session_handle(target->s, rec, rec_len, ++now);
		(void)rc;
		feeding_epoch = -1;
		if (was_up && (meta & 3) != 0 && dtls_session_state(target->s) == DTLS_STATE_FAILED) {
			fprintf(stderr, "fuzz_established: an unauthenticated record ended the session: %s\n",
				dtls_strerror(dtls_session_error(target->s)));
			abort();
		}
		if (meta & 16)
			pump();
	}
	q_clear(&to_client);
	q_clear(&to_server);
	dtls_session_free(client_side.s);
	dtls_session_free(server_side.s);
	return 0;
}
