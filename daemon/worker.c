/* The worker threads: epoll, recvmmsg/sendmmsg batches, TUN reads and writes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/worker.h"

#define RX_CAP DTLS_MAX_DATAGRAM
#define RX_STRIDE (RX_CAP + 64)
#define TX_CAP 65535 /* the largest IP packet; anything above the MTU is counted */
#define TX_STRIDE ((DTLS_HEADROOM + TX_CAP + DTLS_TAILROOM + 63) & ~63)
#define HVR_CAP 256

enum { EV_STOP, EV_UDP, EV_TUN };

struct worker {
	struct gateway *gw;
	unsigned id;
	int udp_fd, tun_fd, epfd, stop_fd;
	pthread_t thread;
	bool started;
	_Atomic uint64_t qs;
	struct gw_thread tl;

	uint8_t *rx_bufs; /* WORKER_BATCH slots of RX_STRIDE */
	struct mmsghdr rx_msgs[WORKER_BATCH];
	struct iovec rx_iov[WORKER_BATCH];
	struct sockaddr_storage rx_addr[WORKER_BATCH];

	uint8_t *tx_bufs; /* WORKER_BATCH slots of TX_STRIDE */
	size_t tx_len[WORKER_BATCH];
	struct mmsghdr tx_msgs[WORKER_BATCH];
	struct iovec tx_iov[WORKER_BATCH];
	struct sockaddr_storage tx_addr[WORKER_BATCH];

	uint8_t hvr[HVR_CAP];
};

int worker_udp_fd(const struct worker *w)
{
	return w->udp_fd;
}

uint64_t worker_qs(const struct worker *w)
{
	return atomic_load(&w->qs);
}

/* ---- UDP -> TUN ---- */

/* A handshake record of epoch 0 carrying a ClientHello: a peer (re)starting. */
static bool is_client_hello(const uint8_t *d, size_t n)
{
	return n > 13 && d[0] == 22 && d[3] == 0 && d[4] == 0 && d[13] == 1;
}

/* Feeds one datagram to a session. */
static void feed(struct worker *w, struct gw_session *gs, uint8_t *d, size_t n)
{
	w->tl.cur = gs;
	gw_session_lock(gs);
	/* Errors end the session through the ended callback; drops are counted inside. */
	GW_IGNORE(dtls_session_handle(gs->s, d, n, w->tl.now));
	gw_session_unlock(gs);
	w->tl.cur = NULL;
	gw_session_after(gs);
}

/* The stateless cookie exchange for a ClientHello without a session to go to (or
 * one that starts over from an address that has a session). Returns true if a new
 * session may be created. */
static bool cookie_ok(struct worker *w, const struct sockaddr *from, socklen_t flen,
		      const uint8_t *d, size_t n)
{
	struct gateway *gw = w->gw;
	size_t hvr_len = 0;
	int rc;

	pthread_rwlock_rdlock(&gw->jar_lock);
	rc = dtls_cookie_check(gw->jar, from, flen, d, n, w->hvr, sizeof(w->hvr), &hvr_len);
	pthread_rwlock_unlock(&gw->jar_lock);
	if (rc == DTLS_ERR_COOKIE) {
		if (sendto(w->udp_fd, w->hvr, hvr_len, MSG_DONTWAIT, from, flen) >= 0)
			atomic_fetch_add_explicit(&gw->st.hvr_sent, 1, memory_order_relaxed);
		return false;
	}
	if (rc < 0) {
		char a[GW_ADDRSTRLEN];
		atomic_fetch_add_explicit(&gw->st.unknown_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_unknown, GW_LOG_DEBUG,
				"dropped a datagram from %s: no session and %s",
				gw_addr_str(from, flen, a), dtls_strerror(rc));
		return false;
	}
	return true;
}

static void rx_unknown(struct worker *w, const struct sockaddr *from, socklen_t flen,
		       uint8_t *d, size_t n)
{
	struct gateway *gw = w->gw;
	struct gw_session *gs;
	char a[GW_ADDRSTRLEN];

	if (!is_client_hello(d, n) || atomic_load(&gw->stopping)) {
		atomic_fetch_add_explicit(&gw->st.unknown_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_unknown, GW_LOG_DEBUG,
				"dropped a datagram from %s: no session and not a ClientHello",
				gw_addr_str(from, flen, a));
		return;
	}
	if (!cookie_ok(w, from, flen, d, n))
		return;
	if (smap_count(gw->map) >= gw->max_sessions) {
		atomic_fetch_add_explicit(&gw->st.sessions_refused, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_limit, GW_LOG_WARNING,
				"refused a handshake from %s: max_sessions (%u) reached",
				gw_addr_str(from, flen, a), gw->max_sessions);
		return;
	}
	gs = gw_session_accept(gw, atomic_load(&gw->gen), from, flen, d, n, false);
	if (!gs)
		return;
	feed(w, gs, d, n);
	gw_session_put(gs);
}

static void rx_one(struct worker *w, const struct sockaddr *from, socklen_t flen, uint8_t *d,
		   size_t n)
{
	struct gateway *gw = w->gw;
	struct smap_node *node = smap_get(gw->map, from, flen);
	struct gw_session *gs, *fresh;

	if (!node) {
		rx_unknown(w, from, flen, d, n);
		return;
	}
	gs = gw_session_of(node);
	/*
	 * A ClientHello at an address that has a session is the peer starting over (it
	 * restarted, or declared us dead) unless it is a copy of the hello that started
	 * this server session (a retransmission, or a duplicate that arrives late: the
	 * session answers or ignores it). RFC 6347 4.2.8: a new handshake after a cookie
	 * exchange; the old session stays the peer's until the new one is up. Our own
	 * client session in its handshake ignores it (both sides dialling each other at
	 * once: the backoff jitter separates them).
	 */
	if (is_client_hello(d, n) && !atomic_load(&gw->stopping) &&
	    (gs->client ? atomic_load(&gs->state) != DTLS_STATE_HANDSHAKING
			: !gw_session_same_hello(gs, d, n))) {
		if (cookie_ok(w, from, flen, d, n) &&
		    (fresh = gw_session_accept(gw, atomic_load(&gw->gen), from, flen, d, n, true))) {
			feed(w, fresh, d, n);
			gw_session_put(fresh);
		}
		gw_session_put(gs);
		return;
	}
	feed(w, gs, d, n);
	gw_session_put(gs);
}

static void rx(struct worker *w)
{
	for (int round = 0; round < WORKER_ROUNDS; round++) {
		int n;

		for (unsigned i = 0; i < WORKER_BATCH; i++) {
			w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
			w->rx_msgs[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(w->udp_fd, w->rx_msgs, WORKER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &w->rx_msgs[i].msg_hdr;
			if (h->msg_flags & MSG_TRUNC)
				continue;
			rx_one(w, (struct sockaddr *)&w->rx_addr[i], h->msg_namelen,
			       w->rx_bufs + (size_t)i * RX_STRIDE, w->rx_msgs[i].msg_len);
		}
		if (n < WORKER_BATCH)
			return;
	}
}

/* ---- TUN -> UDP ---- */

static void send_batch(struct worker *w, unsigned m)
{
	struct gateway *gw = w->gw;
	unsigned sent = 0;

	while (sent < m) {
		int r = sendmmsg(w->udp_fd, w->tx_msgs + sent, m - sent, MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* The first message failed: drop it and go on with the rest. */
		atomic_fetch_add_explicit(&gw->st.tx_dropped, 1, memory_order_relaxed);
		if (r < 0 && errno != EAGAIN && errno != ENOBUFS) {
			char a[GW_ADDRSTRLEN];
			int e = errno;
			log_ratelimited(&gw->rl_send, GW_LOG_WARNING, "send to %s: %s",
					gw_addr_str((struct sockaddr *)&w->tx_addr[sent],
						    w->tx_msgs[sent].msg_hdr.msg_namelen, a),
					strerror(e));
		}
		sent++;
	}
}

static void release(struct gw_session *gs, bool locked, bool sealed, uint64_t now)
{
	if (!gs)
		return;
	if (sealed)
		atomic_store_explicit(&gs->last_tx_ms, now, memory_order_relaxed);
	if (locked) {
		gw_session_unlock(gs);
		gw_session_after(gs);
	}
	gw_session_put(gs);
}

/* Seals the n packets read from TUN and sends them, one sendmmsg per batch.
 * Consecutive packets for one peer share one session reference and one lock. */
static void seal_and_send(struct worker *w, const struct gw_gen *gen, unsigned n)
{
	struct gateway *gw = w->gw;
	struct gw_peer *last = NULL;
	struct gw_session *gs = NULL;
	bool locked = false, sealed = false;
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *pkt = w->tx_bufs + (size_t)i * TX_STRIDE + DTLS_HEADROOM, *rec;
		size_t len = w->tx_len[i], rec_len;
		const struct peer_policy *pol = policy_route_packet(gen->set, pkt, len);
		struct gw_peer *p = pol ? gw_gen_peer(gen, pol) : NULL;
		int rc;

		if (!p) {
			atomic_fetch_add_explicit(&gw->st.no_route, 1, memory_order_relaxed);
			continue;
		}
		if (len > gw->tun_mtu) {
			atomic_fetch_add_explicit(&p->c.drop_oversize, 1, memory_order_relaxed);
			log_ratelimited(&p->rl_oversize, GW_LOG_INFO,
					"peer %s: oversize drop: %zu-byte packet, tunnel MTU %u",
					p->pol.name, len, gw->tun_mtu);
			continue;
		}
		if (p != last) {
			release(gs, locked, sealed, w->tl.now);
			gs = gw_peer_session(p);
			last = p;
			locked = sealed = false;
		}
		if (!gs) {
			atomic_fetch_add_explicit(&p->c.drop_no_session, 1, memory_order_relaxed);
			log_ratelimited(&p->rl_no_session, GW_LOG_DEBUG,
					"peer %s: no session: packet dropped", p->pol.name);
			continue;
		}
		if (!locked) {
			gw_session_lock(gs);
			locked = true;
		}
		rc = dtls_session_seal(gs->s, pkt, len, &rec, &rec_len);
		if (rc < 0) {
			if (rc == DTLS_ERR_RECORD_OVERFLOW)
				atomic_fetch_add_explicit(&p->c.drop_oversize, 1, memory_order_relaxed);
			else
				atomic_fetch_add_explicit(&p->c.drop_no_session, 1,
							  memory_order_relaxed);
			continue;
		}
		sealed = true;
		atomic_fetch_add_explicit(&p->c.tx_packets, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->c.tx_bytes, len, memory_order_relaxed);
		memcpy(&w->tx_addr[m], &gs->addr, gs->addr_len);
		w->tx_msgs[m].msg_hdr.msg_namelen = gs->addr_len;
		w->tx_iov[m].iov_base = rec;
		w->tx_iov[m].iov_len = rec_len;
		m++;
	}
	release(gs, locked, sealed, w->tl.now);
	if (m)
		send_batch(w, m);
}

/* The TUN device was deleted under us (`ip link del`): reads of its queue fail with
 * EBADFD and epoll reports an error on it for ever. Stop watching it, or the worker
 * spins; the sessions stay up (writes to it fail and are counted as tun drops). */
static void tun_lost(struct worker *w, int err)
{
	static atomic_bool logged;

	if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->tun_fd, NULL) < 0)
		return;
	if (!atomic_exchange(&logged, true))
		log_msg(GW_LOG_ERROR, "tun: reading its queue: %s: was the device deleted? No "
			"packets are carried any more; restart dtlsgwd", strerror(err));
}

static void tx(struct worker *w)
{
	struct gateway *gw = w->gw;
	const struct gw_gen *gen = atomic_load(&gw->gen);

	for (int round = 0; round < WORKER_ROUNDS; round++) {
		unsigned n = 0;

		while (n < WORKER_BATCH) {
			ssize_t r = read(w->tun_fd, w->tx_bufs + (size_t)n * TX_STRIDE + DTLS_HEADROOM,
					 TX_CAP);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r < 0 && errno != EAGAIN)
					atomic_fetch_add_explicit(&gw->st.tun_read_errors, 1,
								  memory_order_relaxed);
				if (r < 0 && errno == EBADFD) {
					tun_lost(w, errno);
					return;
				}
				break;
			}
			w->tx_len[n++] = (size_t)r;
		}
		if (n)
			seal_and_send(w, gen, n);
		if (n < WORKER_BATCH)
			return;
	}
}

/* ---- the thread ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[4];

	gw_tl = &w->tl;
	atomic_fetch_add(&w->qs, 1); /* running */
	for (;;) {
		int n;

		atomic_fetch_add(&w->qs, 1); /* quiescent while asleep */
		n = epoll_wait(w->epfd, ev, 4, -1);
		atomic_fetch_add(&w->qs, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("worker %u: epoll_wait", w->id);
			break;
		}
		w->tl.now = now_ms();
		for (int i = 0; i < n; i++)
			if (ev[i].data.u32 == EV_STOP)
				goto out;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == EV_UDP)
				rx(w);
			else if (ev[i].data.u32 == EV_TUN)
				tx(w);
		}
	}
out:
	atomic_fetch_add(&w->qs, 1); /* even: gone */
	return NULL;
}

static int watch(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int worker_new(struct gateway *gw, unsigned id, int udp_fd, int tun_fd, struct worker **out)
{
	struct worker *w = calloc(1, sizeof(*w));
	int rc = -ENOMEM;

	if (!w)
		return -ENOMEM;
	w->gw = gw;
	w->id = id;
	w->udp_fd = udp_fd;
	w->tun_fd = tun_fd;
	w->epfd = w->stop_fd = -1;
	atomic_init(&w->qs, 0);
	w->tl = (struct gw_thread){ .gw = gw, .udp_fd = udp_fd, .tun_fd = tun_fd };
	w->rx_bufs = malloc((size_t)WORKER_BATCH * RX_STRIDE);
	w->tx_bufs = malloc((size_t)WORKER_BATCH * TX_STRIDE);
	if (!w->rx_bufs || !w->tx_bufs)
		goto fail;
	for (unsigned i = 0; i < WORKER_BATCH; i++) {
		w->rx_iov[i] = (struct iovec){ w->rx_bufs + (size_t)i * RX_STRIDE, RX_CAP };
		w->rx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &w->rx_addr[i],
							 .msg_namelen = sizeof(w->rx_addr[i]),
							 .msg_iov = &w->rx_iov[i], .msg_iovlen = 1 };
		w->tx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &w->tx_addr[i],
							 .msg_iov = &w->tx_iov[i], .msg_iovlen = 1 };
	}
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = watch(w->epfd, w->stop_fd, EV_STOP)) < 0 ||
	    (rc = watch(w->epfd, udp_fd, EV_UDP)) < 0 || (rc = watch(w->epfd, tun_fd, EV_TUN)) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	w->udp_fd = -1; /* the caller keeps it on failure */
	worker_free(w);
	return rc;
}

int worker_start(struct worker *w)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;

	if (!w || !w->started)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		log_warn("worker %u: stop", w->id);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_stop(w);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->stop_fd >= 0)
		close(w->stop_fd);
	if (w->udp_fd >= 0)
		close(w->udp_fd);
	free(w->rx_bufs);
	free(w->tx_bufs);
	free(w);
}
