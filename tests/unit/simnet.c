#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "simnet.h"

static uint32_t rnd(struct simnet *n)
{
	/* xorshift64*: a seeded test PRNG, not for anything secret. */
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return (uint32_t)((n->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void enqueue(struct simnet *n, struct simnet_queue *q, const uint8_t *d, size_t len)
{
	n->datagrams++;
	if (len > n->max_datagram)
		n->max_datagram = len;
	if (rnd(n) % 100 < n->loss_pct)
		return;
	int copies = rnd(n) % 100 < n->dup_pct ? 2 : 1;
	for (int c = 0; c < copies && q->n < SIMNET_QUEUE; c++) {
		struct simnet_pkt p = { .data = malloc(len), .len = len };
		memcpy(p.data, d, len);
		size_t at = q->n;
		if (q->n && rnd(n) % 100 < n->reorder_pct)
			at = rnd(n) % q->n;
		memmove(&q->pkts[at + 1], &q->pkts[at], (q->n - at) * sizeof(p));
		q->pkts[at] = p;
		q->n++;
	}
}

static struct simnet_pkt dequeue(struct simnet_queue *q)
{
	struct simnet_pkt p = q->pkts[0];
	memmove(&q->pkts[0], &q->pkts[1], (q->n - 1) * sizeof(p));
	q->n--;
	return p;
}

static const struct sockaddr_in client_addr = { .sin_family = AF_INET, .sin_port = 0x3412,
						 .sin_addr = { .s_addr = 0x0100007f } };

static void client_send(void *arg, const uint8_t *d, size_t len)
{
	struct simnet *n = arg;
	enqueue(n, &n->to_server, d, len);
}

/* Messages are id (2 bytes) followed by a pattern derived from it, so corruption shows. */
static void check_msg(struct simnet *n, unsigned *got, const uint8_t *d, size_t len)
{
	if (len < 2) {
		if (len != 0)
			n->corrupt++;
		return;
	}
	unsigned id = (unsigned)(d[0] << 8 | d[1]);
	bool ok = id < SIMNET_MSGS && len == 2 + (id * 7) % 300;
	for (size_t i = 2; ok && i < len; i++)
		ok = d[i] == (uint8_t)(id + i);
	if (!ok) {
		n->corrupt++;
		return;
	}
	got[id]++;
}

static void client_data(void *arg, const uint8_t *d, size_t len)
{
	struct simnet *n = arg;
	check_msg(n, n->client_got, d, len);
}

static void client_ended(void *arg, int err)
{
	struct simnet *n = arg;
	n->client_ended = true;
	n->client_err = err;
}

static const struct dtls_callbacks client_cb = {
	.send = client_send, .data = client_data, .ended = client_ended,
};

static void server_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t len)
{
	struct simnet *n = arg;
	(void)a, (void)l;
	enqueue(n, &n->to_client, d, len);
}

static int server_connect(void *arg, struct dtls_session *s, const struct sockaddr *a, socklen_t l)
{
	struct simnet *n = arg;
	(void)a, (void)l;
	n->server_session = s;
	n->server_sessions++;
	return 0;
}

static void server_data(void *arg, struct dtls_session *s, const uint8_t *d, size_t len)
{
	struct simnet *n = arg;
	(void)s;
	check_msg(n, n->server_got, d, len);
}

static void server_ended(void *arg, struct dtls_session *s, int err)
{
	struct simnet *n = arg;
	if (s == n->server_session) {
		n->server_session = NULL;
		n->server_ended = true;
		n->server_err = err;
	}
}

static int server_authorize(void *arg, struct dtls_session *s)
{
	struct simnet *n = arg;
	return n->authorize ? n->authorize(n, s) : 0;
}

static const struct dtls_server_callbacks server_cb = {
	.send = server_send, .connect = server_connect, .data = server_data, .ended = server_ended,
	.authorize = server_authorize,
};

void simnet_init(struct simnet *n, struct dtls_config *ccfg, struct dtls_config *scfg, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	n->rng = seed | 1;
	n->now = 1000;
	n->client = ccfg ? dtls_session_new_client(ccfg, &client_cb, n) : NULL;
	n->server = scfg ? dtls_server_new(scfg, &server_cb, n, 16) : NULL;
}

void simnet_drain(struct simnet_queue *q)
{
	while (q->n)
		free(dequeue(q).data);
}

void simnet_free(struct simnet *n)
{
	simnet_drain(&n->to_server);
	simnet_drain(&n->to_client);
	dtls_session_free(n->client);
	dtls_server_free(n->server);
}

static uint64_t next_timer(struct simnet *n)
{
	uint64_t t = n->client ? dtls_session_next_timeout(n->client) : UINT64_MAX;
	uint64_t u = n->server ? dtls_server_next_timeout(n->server) : UINT64_MAX;
	return t < u ? t : u;
}

bool simnet_run(struct simnet *n, bool (*cond)(struct simnet *n), uint64_t limit_ms)
{
	uint64_t end = n->now + limit_ms;
	while (!cond(n) && n->now <= end) {
		if (n->to_server.n || n->to_client.n) {
			bool to_server = n->to_server.n && (!n->to_client.n || rnd(n) % 2);
			struct simnet_pkt p = dequeue(to_server ? &n->to_server : &n->to_client);
			n->now += 1;
			if (to_server && n->server)
				IGNORE_RC(dtls_server_handle(n->server, (const struct sockaddr *)&client_addr,
							     sizeof(client_addr), p.data, p.len, n->now));
			else if (!to_server && n->client)
				IGNORE_RC(dtls_session_handle(n->client, p.data, p.len, n->now));
			free(p.data);
			continue;
		}
		uint64_t t = next_timer(n);
		if (t == UINT64_MAX || t > end)
			break;
		if (t > n->now)
			n->now = t;
		if (n->client && dtls_session_next_timeout(n->client) <= n->now)
			IGNORE_RC(dtls_session_timeout(n->client, n->now));
		if (n->server)
			IGNORE_RC(dtls_server_timeout(n->server, n->now));
	}
	return cond(n);
}

bool simnet_established(struct simnet *n)
{
	return n->client && dtls_session_state(n->client) == DTLS_STATE_ESTABLISHED && n->server_session &&
	       dtls_session_state(n->server_session) == DTLS_STATE_ESTABLISHED;
}

int simnet_send(struct simnet *n, bool from_client, unsigned id)
{
	uint8_t msg[2 + 300];
	size_t len = 2 + (id * 7) % 300;
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
	for (size_t i = 2; i < len; i++)
		msg[i] = (uint8_t)(id + i);
	struct dtls_session *s = from_client ? n->client : n->server_session;
	return s ? dtls_session_send(s, msg, len) : DTLS_ERR_ARG;
}

void simnet_restart_client(struct simnet *n, struct dtls_config *cfg)
{
	dtls_session_free(n->client);
	n->client = dtls_session_new_client(cfg, &client_cb, n);
	n->client_ended = false;
	n->client_err = 0;
}
