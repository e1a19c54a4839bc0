/*
 * A simulated datagram network for in-process tests of the engine: one client session and
 * one dtls_server joined by two queues, with seeded loss, duplication and reordering and a
 * virtual clock that jumps to the next timer when nothing is in flight.
 */
#ifndef UNIT_SIMNET_H
#define UNIT_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtls/dtls.h>

#define SIMNET_QUEUE 512

/* For engine calls whose failure the test observes through the session's state. */
#define IGNORE_RC(expr)                      \
	do {                                 \
		int ignored_ = (expr);       \
		(void)ignored_;              \
	} while (0)
#define SIMNET_MSGS 256

struct simnet_pkt {
	uint8_t *data;
	size_t len;
};

struct simnet_queue {
	struct simnet_pkt pkts[SIMNET_QUEUE];
	size_t n;
};

struct simnet {
	uint64_t now;
	uint64_t rng;
	unsigned loss_pct, dup_pct, reorder_pct;
	struct simnet_queue to_server, to_client;
	struct dtls_session *client;
	struct dtls_server *server;
	struct dtls_session *server_session; /* the last session the server accepted */
	unsigned server_sessions;            /* how many it accepted */
	/* What each side received as application data. */
	unsigned client_got[SIMNET_MSGS], server_got[SIMNET_MSGS];
	unsigned corrupt;
	size_t datagrams, max_datagram;
	bool client_ended, server_ended;
	int client_err, server_err;
	/* When set, the server's authorize callback: its result decides. */
	int (*authorize)(struct simnet *n, struct dtls_session *s);
	void *authorize_arg;
};

/* Sets up both ends with their configs; the client is not started yet. */
void simnet_init(struct simnet *n, struct dtls_config *client_cfg, struct dtls_config *server_cfg, uint64_t seed);
void simnet_free(struct simnet *n);
/* Delivers datagrams and fires timers until cond(n) holds or `limit_ms` of virtual time
 * passed. Returns whether cond held. */
bool simnet_run(struct simnet *n, bool (*cond)(struct simnet *n), uint64_t limit_ms);
bool simnet_established(struct simnet *n);
/* Replaces the client by a new one at the same address, as if it had restarted. */
void simnet_restart_client(struct simnet *n, struct dtls_config *cfg);
/* Loses every datagram in flight on q (n->to_server or n->to_client). */
void simnet_drain(struct simnet_queue *q);
/* Sends message `id` (0..SIMNET_MSGS-1) as application data from one side. */
int simnet_send(struct simnet *n, bool from_client, unsigned id);

#endif
