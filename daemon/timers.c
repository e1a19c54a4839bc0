/*
 * The control thread's periodic work (every GW_TICK_MS):
 *   - session timers: handshake retransmission and give-up, close_notify deadline,
 *     retiring old epochs (dtls_session_timeout when next_due has come);
 *   - per peer (every PEER_TICK_MS): a keepalive after `keepalive` seconds without
 *     sending; dead after `dead_after` seconds without receiving, unless the peer may
 *     still be retransmitting its last handshake flight (the session is dropped and an
 *     initiator dials at once); dialling initiators whose backoff is over;
 *   - cookie secret rotation and the frees deferred past the workers' quiescent points.
 */
#include <stdlib.h>

#include "daemon/gateway.h"

#define PEER_TICK_MS 100
#define ROTATE_EVERY_MS 1000 /* the jar itself rotates when its lifetime is over */

struct due {
	struct gw_session **v;
	size_t n, cap;
	uint64_t now;
};

/* Under a shard lock: take the sessions whose timer is due or that have events. */
static void collect_due(struct smap_node *node, void *arg)
{
	struct due *d = arg;
	struct gw_session *gs = gw_session_of(node);

	if (d->n == d->cap)
		return; /* the rest waits for the next tick */
	if (atomic_load_explicit(&gs->next_due, memory_order_relaxed) <= d->now ||
	    atomic_load_explicit(&gs->events, memory_order_relaxed)) {
		smap_ref(node);
		d->v[d->n++] = gs;
	}
}

static void session_timers(struct gateway *gw, uint64_t now)
{
	static struct gw_session **buf;
	static size_t buf_cap;
	size_t want = smap_count(gw->map) + 16;
	struct due d;

	if (want > buf_cap) {
		struct gw_session **v = realloc(buf, want * sizeof(*v));
		if (v) {
			buf = v;
			buf_cap = want;
		}
	}
	if (!buf)
		return;
	d = (struct due){ buf, 0, buf_cap, now };
	smap_foreach(gw->map, collect_due, &d);
	for (size_t i = 0; i < d.n; i++) {
		struct gw_session *gs = d.v[i];
		gw_session_lock(gs);
		if (dtls_session_next_timeout(gs->s) <= now)
			GW_IGNORE(dtls_session_timeout(gs->s, now)); /* failures end it: reaped below */
		gw_session_unlock(gs);
		gw_session_after(gs);
		gw_session_put(gs);
	}
}

static void keepalive(struct gw_session *gs, uint64_t now)
{
	gw_session_lock(gs);
	if (dtls_session_state(gs->s) == DTLS_STATE_ESTABLISHED &&
	    dtls_session_send(gs->s, (const uint8_t *)"", 0) == 0)
		atomic_store(&gs->last_tx_ms, now);
	gw_session_unlock(gs);
	gw_session_after(gs);
}

/* Whether gs's peer may still lack our last flight: it then retransmits its own with a
 * backoff (1, 2, 4... s) that can outlast a short dead_after, and is not dead before the
 * flight is settled (its data, or the handshake's total time). */
static bool last_flight_pending(struct gw_session *gs)
{
	bool pending;

	gw_session_lock(gs);
	pending = dtls_session_last_flight_pending(gs->s);
	gw_session_unlock(gs);
	gw_session_after(gs);
	return pending;
}

/* Once a second: renegotiations the peer started beyond the limit. */
static void reneg_check(struct gw_peer *p, struct gw_session *cur)
{
	struct dtls_session_stats st;

	gw_session_lock(cur);
	dtls_session_stats(cur->s, &st);
	gw_session_unlock(cur);
	gw_session_after(cur);
	gw_reneg_account(p, cur, &st);
}

static void peer_timers(struct gateway *gw, struct gw_peer *p, uint64_t now)
{
	struct gw_session *cur;
	bool dial;

	pthread_mutex_lock(&p->lock);
	cur = p->cur;
	if (cur)
		gw_session_ref(cur);
	dial = p->pol.has_endpoint && !p->cur && !p->dialing && !atomic_load(&p->removed) &&
	       !atomic_load(&gw->stopping) && now >= p->next_dial_ms;
	pthread_mutex_unlock(&p->lock);

	if (cur && now / 1000 != (now - PEER_TICK_MS) / 1000)
		reneg_check(p, cur);
	if (cur) {
		uint64_t rx = atomic_load(&cur->last_rx_ms), tx = atomic_load(&cur->last_tx_ms);
		if (p->dead_after_ms && now > rx + p->dead_after_ms && !last_flight_pending(cur)) {
			char why[80];
			snprintf(why, sizeof(why), "dead (no packet for %llu s)",
				 (unsigned long long)(now - rx) / 1000);
			gw_session_reap(cur, GW_LOG_WARNING, why);
		} else if (p->keepalive_ms && now >= tx + p->keepalive_ms) {
			keepalive(cur, now);
		}
		gw_session_put(cur);
	}
	if (dial)
		gw_peer_dial(p, now);
}

/* Drops the handshakes that have been half-open for longer than halfopen_timeout. */
static void halfopen_timers(struct gateway *gw, uint64_t now)
{
	struct gw_session *gs;

	while ((gs = ho_expired(&gw->ho, now))) {
		char a[GW_ADDRSTRLEN];
		atomic_fetch_add_explicit(&gw->st.halfopen_expired, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_halfopen, GW_LOG_INFO,
				"handshake from %s dropped: not authenticated within "
				"halfopen_timeout (%llu s)",
				gw_addr_str((const struct sockaddr *)&gs->addr, gs->addr_len, a),
				(unsigned long long)atomic_load(&gw->ho.timeout_ms) / 1000);
		gw_session_reap(gs, GW_LOG_DEBUG, "dropped at halfopen_timeout");
		gw_session_put(gs);
	}
}

void gw_timers_tick(struct gateway *gw, uint64_t now)
{
	static uint64_t last_peer_tick;
	const struct gw_gen *gen = atomic_load(&gw->gen);

	gw->ctl.now = now;
	session_timers(gw, now);
	halfopen_timers(gw, now);
	if (now - last_peer_tick >= PEER_TICK_MS) {
		last_peer_tick = now;
		for (size_t i = 0; i < gen->n_peers; i++)
			peer_timers(gw, gen->peers[i], now);
	}
	if (now - gw->last_rotate_ms >= ROTATE_EVERY_MS) {
		gw->last_rotate_ms = now;
		pthread_rwlock_wrlock(&gw->jar_lock);
		dtls_cookie_rotate(gw->jar, now);
		pthread_rwlock_unlock(&gw->jar_lock);
	}
	gw_retire_poll(gw, false);
}
