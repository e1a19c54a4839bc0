/*
 * The many-sessions-on-one-port server (the reference product's NX_SECURE_DTLS_SERVER):
 * datagrams are matched to sessions by the sender's address and port; an unknown sender
 * must first pass the stateless cookie exchange; sessions that end are freed.
 *
 * The session table is a chained hash table under a random key. It is meant for tools
 * and tests (dtlscat); the gateway daemon keeps its own sharded map and uses the cookie
 * check directly. next_timeout scans all sessions: O(n).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"

#define SERVER_BUCKETS 1024

struct entry {
	struct dtls_server *srv;
	struct dtls_session *s;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool ended;
	struct entry *next;
};

struct dtls_server {
	struct dtls_config *cfg;
	struct dtls_server_callbacks cb;
	void *arg;
	size_t max_sessions, count;
	struct dtls_cookie_jar *jar;
	uint64_t hash_key;
	struct entry *buckets[SERVER_BUCKETS];
	uint64_t now_ms;
};

/* FNV-1a over the address, seeded with a random key so bucket choice is not predictable. */
static size_t bucket_of(const struct dtls_server *srv, const struct sockaddr *a, socklen_t len)
{
	const uint8_t *p = (const uint8_t *)a;
	uint64_t h = 0xcbf29ce484222325ull ^ srv->hash_key;
	for (socklen_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32)) % SERVER_BUCKETS;
}

static socklen_t addr_key_len(const struct sockaddr *a, socklen_t len)
{
	/* Compare only the meaningful part of the address. */
	if (a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		return sizeof(struct sockaddr_in);
	if (a->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return sizeof(struct sockaddr_in6);
	return len;
}

static struct entry **find_slot(struct dtls_server *srv, const struct sockaddr *a, socklen_t len)
{
	len = addr_key_len(a, len);
	struct entry **pp = &srv->buckets[bucket_of(srv, a, len)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->addr_len == len && memcmp(&(*pp)->addr, a, len) == 0)
			return pp;
	return pp;
}

static void on_send(void *arg, const uint8_t *d, size_t n)
{
	struct entry *e = arg;
	e->srv->cb.send(e->srv->arg, (const struct sockaddr *)&e->addr, e->addr_len, d, n);
}

static void on_data(void *arg, const uint8_t *d, size_t n)
{
	struct entry *e = arg;
	if (e->srv->cb.data)
		e->srv->cb.data(e->srv->arg, e->s, d, n);
}

static void on_established(void *arg)
{
	struct entry *e = arg;
	if (e->srv->cb.established)
		e->srv->cb.established(e->srv->arg, e->s);
}

static void on_ended(void *arg, int err)
{
	struct entry *e = arg;
	(void)err;
	e->ended = true; /* freed by the server once the session's call has returned */
}

static int on_authorize(void *arg, struct dtls_session *s)
{
	struct entry *e = arg;
	return e->srv->cb.authorize ? e->srv->cb.authorize(e->srv->arg, s) : 0;
}

static const struct dtls_callbacks entry_callbacks = {
	.send = on_send,
	.data = on_data,
	.established = on_established,
	.ended = on_ended,
	.authorize = on_authorize,
};

struct dtls_server *dtls_server_new(struct dtls_config *cfg, const struct dtls_server_callbacks *cb, void *arg,
				    size_t max_sessions)
{
	if (!cfg || !cb || !cb->send)
		return NULL;
	struct dtls_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->jar = dtls_cookie_jar_new(0, 0);
	if (!srv->jar) {
		free(srv);
		return NULL;
	}
	dtls_config_ref(cfg);
	srv->cfg = cfg;
	srv->cb = *cb;
	srv->arg = arg;
	srv->max_sessions = max_sessions ? max_sessions : 1024;
	crypto_random(&srv->hash_key, sizeof(srv->hash_key));
	return srv;
}

static void entry_free(struct dtls_server *srv, struct entry **pp, int err)
{
	struct entry *e = *pp;
	*pp = e->next;
	if (srv->cb.ended)
		srv->cb.ended(srv->arg, e->s, err);
	dtls_session_free(e->s);
	free(e);
	srv->count--;
}

void dtls_server_free(struct dtls_server *srv)
{
	if (!srv)
		return;
	for (size_t b = 0; b < SERVER_BUCKETS; b++)
		while (srv->buckets[b])
			entry_free(srv, &srv->buckets[b], DTLS_ERR_CLOSED);
	dtls_cookie_jar_free(srv->jar);
	dtls_config_unref(srv->cfg);
	free(srv);
}

/* Frees the session of *pp if it has ended. */
static void reap(struct dtls_server *srv, struct entry **pp)
{
	if ((*pp)->ended)
		entry_free(srv, pp, dtls_session_error((*pp)->s));
}

static int accept_new(struct dtls_server *srv, struct entry **slot, const struct sockaddr *from, socklen_t from_len,
		      uint8_t *dgram, size_t len, uint64_t now_ms)
{
	if (srv->cfg->cookies) {
		uint8_t hvr[128];
		size_t hvr_len;
		int rc = dtls_cookie_check(srv->jar, from, from_len, dgram, len, hvr, sizeof(hvr), &hvr_len);
		if (rc == DTLS_ERR_COOKIE) {
			srv->cb.send(srv->arg, from, from_len, hvr, hvr_len);
			return DTLS_OK;
		}
		if (rc < 0)
			return DTLS_OK; /* not a ClientHello we can act on: dropped */
	}
	ENSURE(srv->count < srv->max_sessions, DTLS_ERR_SESSION_LIMIT);

	struct entry *e = calloc(1, sizeof(*e));
	ENSURE(e, DTLS_ERR_NOMEM);
	e->srv = srv;
	e->addr_len = addr_key_len(from, from_len);
	memcpy(&e->addr, from, e->addr_len);
	e->s = dtls_session_new_server(srv->cfg, &entry_callbacks, e, from, from_len);
	if (!e->s || (srv->cb.connect && srv->cb.connect(srv->arg, e->s, from, from_len) < 0)) {
		int rc = e->s ? DTLS_OK : DTLS_ERR_NOMEM; /* a refused peer is dropped silently */
		dtls_session_free(e->s);
		free(e);
		return rc;
	}
	*slot = e;
	srv->count++;
	IGNORE_RESULT(dtls_session_handle(e->s, dgram, len, now_ms));
	reap(srv, slot);
	return DTLS_OK;
}

int dtls_server_handle(struct dtls_server *srv, const struct sockaddr *from, socklen_t from_len, uint8_t *dgram,
		       size_t len, uint64_t now_ms)
{
	srv->now_ms = now_ms;
	dtls_cookie_rotate(srv->jar, now_ms);
	struct entry **pp = find_slot(srv, from, from_len);
	if (*pp && dtls_session_is_new_hello((*pp)->s, dgram, len)) {
		/* The peer starts over from the same address (RFC 6347 4.2.8): once its cookie
		 * proves the address, a new session replaces the old one. */
		uint8_t hvr[128];
		size_t hvr_len;
		int rc = dtls_cookie_check(srv->jar, from, from_len, dgram, len, hvr, sizeof(hvr), &hvr_len);
		if (rc == DTLS_ERR_COOKIE) {
			srv->cb.send(srv->arg, from, from_len, hvr, hvr_len);
			return DTLS_OK;
		}
		if (rc < 0)
			return DTLS_OK;
		entry_free(srv, pp, DTLS_ERR_CLOSED);
	}
	if (!*pp)
		return accept_new(srv, pp, from, from_len, dgram, len, now_ms);
	IGNORE_RESULT(dtls_session_handle((*pp)->s, dgram, len, now_ms));
	reap(srv, pp);
	return DTLS_OK;
}

uint64_t dtls_server_next_timeout(const struct dtls_server *srv)
{
	uint64_t t = UINT64_MAX;
	for (size_t b = 0; b < SERVER_BUCKETS; b++)
		for (const struct entry *e = srv->buckets[b]; e; e = e->next) {
			uint64_t n = dtls_session_next_timeout(e->s);
			t = n < t ? n : t;
		}
	return t;
}

int dtls_server_timeout(struct dtls_server *srv, uint64_t now_ms)
{
	srv->now_ms = now_ms;
	for (size_t b = 0; b < SERVER_BUCKETS; b++) {
		struct entry **pp = &srv->buckets[b];
		while (*pp) {
			struct entry *e = *pp;
			if (dtls_session_next_timeout(e->s) <= now_ms)
				IGNORE_RESULT(dtls_session_timeout(e->s, now_ms));
			reap(srv, pp);
			if (*pp == e)
				pp = &e->next;
		}
	}
	return DTLS_OK;
}

struct dtls_session *dtls_server_find(struct dtls_server *srv, const struct sockaddr *addr, socklen_t len)
{
	struct entry *e = *find_slot(srv, addr, len);
	return e ? e->s : NULL;
}

void dtls_server_close_all(struct dtls_server *srv, uint64_t now_ms)
{
	for (size_t b = 0; b < SERVER_BUCKETS; b++)
		for (struct entry *e = srv->buckets[b]; e; e = e->next)
			IGNORE_RESULT(dtls_session_close(e->s, now_ms));
}

size_t dtls_server_session_count(const struct dtls_server *srv)
{
	return srv->count;
}
