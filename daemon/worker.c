/* The worker threads: epoll, recvmmsg/sendmmsg batches, TUN reads and writes, and the
 * offloads (virtio-net headers on the TUN queue, UDP GSO and GRO on the socket). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/udp.h"
#include "daemon/worker.h"
#include "tun/offload.h"
#include "tun/tun.h"

#define RX_CAP DTLS_MAX_DATAGRAM
#define RX_STRIDE (RX_CAP + 64)
#define TX_CAP 65535 /* the largest IP packet; anything above the MTU is counted */
#define TX_STRIDE ((DTLS_HEADROOM + TX_CAP + DTLS_TAILROOM + 63) & ~63)
#define HVR_CAP 256

/* Offloads. A TCP/UDP super-packet read from TUN is cut into segments, each in a slot
 * of its own with room to be sealed in place; SEG_SLOTS of them per batch. */
#define SEG_SLOTS 256
#define TX_RECS (WORKER_BATCH + SEG_SLOTS) /* records per seal-and-send batch */
#define GSO_MAX_SEGS 64                    /* UDP_MAX_SEGMENTS of older kernels */
#define GSO_MAX_BYTES 65000                /* below the 64 KiB of a UDP datagram */
/* Decrypted packets waiting for their TUN write (so that TCP segments can be merged):
 * what one receive batch can hold with GRO. */
#define PEND_MAX (WORKER_BATCH * 48)
#define RX_SEGS_MAX (WORKER_BATCH * 48) /* datagrams in one receive batch, GRO split */
#define MERGE_LOOKAHEAD 64              /* how far a merge looks past other flows */
#define MERGE_MAX_SEGS 64               /* segments in one merged TUN write */
#define LOCK_BATCH 64                   /* records sealed under one session lock */

enum { EV_STOP, EV_UDP, EV_TUN };

/* A decrypted packet that waits for the end of the receive batch to be written. */
struct pend {
	struct off_pkt t; /* t.pkt, t.len: the packet, in a receive slot */
	struct gw_peer *p;
	bool done;
};

/* One datagram of a receive batch (a GRO receive is split into several). */
struct rx_seg {
	uint8_t *d;
	size_t n;
	unsigned msg; /* index of its recvmmsg message (its source address) */
};

union gso_ctrl {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
};

union gro_ctrl {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

struct worker {
	struct gateway *gw;
	unsigned id;
	int udp_fd, tun_fd, epfd, stop_fd;
	pthread_t thread;
	bool started;
	bool vnet;        /* the TUN queue carries virtio-net headers */
	bool gso, gro;    /* UDP GSO on send, GRO on receive */
	bool rx_active;   /* inside a receive batch: TUN writes may be deferred */
	bool merge_tcp;   /* TCP segments are merged for the TUN write (vnet) */
	bool merge_udp;   /* and UDP datagrams (the device takes USO) */
	_Atomic uint64_t qs;
	struct gw_thread tl;

	uint8_t *rx_bufs; /* WORKER_BATCH slots of RX_STRIDE */
	struct mmsghdr rx_msgs[WORKER_BATCH];
	struct iovec rx_iov[WORKER_BATCH];
	struct sockaddr_storage rx_addr[WORKER_BATCH];
	union gro_ctrl rx_ctrl[WORKER_BATCH];
	struct rx_seg *rx_segs; /* RX_SEGS_MAX */

	struct pend *pend;        /* PEND_MAX */
	unsigned n_pend;
	struct gw_peer **held;    /* peer references held for pend (PEND_MAX) */
	unsigned n_held;
	struct iovec *wr_iov;     /* MERGE_MAX_SEGS + 1 */
	unsigned *wr_pend;        /* the pend index of each wr_iov */

	uint8_t *tx_bufs;         /* WORKER_BATCH slots of TX_STRIDE */
	uint8_t *seg_bufs;        /* SEG_SLOTS slots of seg_stride (offloads only) */
	size_t seg_stride, seg_cap;
	uint8_t *rec[TX_RECS];    /* the packets of a batch, DTLS_HEADROOM in their slot */
	size_t rec_len[TX_RECS];
	struct mmsghdr tx_msgs[TX_RECS];
	struct iovec tx_iov[TX_RECS];
	struct sockaddr_storage tx_addr[TX_RECS];
	union gso_ctrl tx_ctrl[TX_RECS];
	size_t tx_seg[TX_RECS];   /* per message: the GSO segment size */
	size_t tx_bytes[TX_RECS]; /* per message: bytes in all */

	uint8_t hvr[HVR_CAP];
	uint8_t hello[DTLS_HEADROOM + GW_HELLO_MAX]; /* a ClientHello put together */
};

int worker_udp_fd(const struct worker *w)
{
	return w->udp_fd;
}

uint64_t worker_qs(const struct worker *w)
{
	return atomic_load(&w->qs);
}

/* ---- writing to TUN ---- */

static const uint8_t vnet_none[OFF_VNET_HDR_LEN]; /* no offload: the kernel checks it all */

static void tun_write_failed(struct gw_peer *p, unsigned packets, int e)
{
	atomic_fetch_add_explicit(&p->c.drop_tun, packets, memory_order_relaxed);
	if (e != EAGAIN)
		log_ratelimited(&p->rl_tun, GW_LOG_WARNING, "peer %s: write to tun: %s",
				p->pol.name, strerror(e));
}

static void tun_write_one(struct worker *w, struct gw_peer *p, const uint8_t *d, size_t n)
{
	ssize_t r;

	if (w->vnet) {
		struct iovec iov[2] = { { (void *)vnet_none, OFF_VNET_HDR_LEN }, { (void *)d, n } };
		r = writev(w->tun_fd, iov, 2);
	} else {
		r = write(w->tun_fd, d, n);
	}
	if (r < 0)
		tun_write_failed(p, 1, errno);
}

void worker_tun_write(struct worker *w, struct gw_peer *p, const uint8_t *d, size_t n)
{
	uintptr_t lo = (uintptr_t)w->rx_bufs, hi = lo + (size_t)WORKER_BATCH * RX_STRIDE;

	/* Deferred to the end of the batch when it lies in our receive buffers (libdtls
	 * opens records in place), so that segments of one TCP flow can be merged. */
	if (w->vnet && w->rx_active && w->n_pend < PEND_MAX && (uintptr_t)d >= lo &&
	    (uintptr_t)d + n <= hi) {
		struct pend *e = &w->pend[w->n_pend++];
		e->t.pkt = (uint8_t *)(uintptr_t)d;
		e->t.len = n;
		e->p = p;
		if (!w->n_held || w->held[w->n_held - 1] != p) {
			gw_peer_ref(p);
			w->held[w->n_held++] = p;
		}
		return;
	}
	tun_write_one(w, p, d, n);
}

/* The kernel refused a merged packet: no more merging of that protocol. */
static void merge_off(struct worker *w, bool udp, int e)
{
	static atomic_bool logged;

	if (udp)
		w->merge_udp = false;
	else
		w->merge_tcp = false;
	if (!atomic_exchange(&logged, true))
		log_msg(GW_LOG_WARNING, "tun: a merged %s packet was refused (%s): writing them "
			"one by one", udp ? "UDP" : "TCP", strerror(e));
}

/* Writes the deferred packets: runs of TCP segments (and UDP datagrams, where the
 * device takes UDP super-packets) of one flow as one super-packet (GRO done here),
 * the rest one by one. Order within a flow is kept. */
static void flush_pending(struct worker *w)
{
	unsigned n = w->n_pend;
	uint8_t vnet[OFF_VNET_HDR_LEN], save[128];

	for (unsigned i = 0; i < n; i++) {
		struct pend *e = &w->pend[i];
		(void)off_pkt_parse(e->t.pkt, e->t.len, w->merge_udp, &e->t);
		if (e->t.kind == OFF_MERGE && (e->t.proto == IPPROTO_TCP ? !w->merge_tcp : 0))
			e->t.kind = OFF_ALONE;
		e->done = false;
	}
	for (unsigned i = 0; i < n; i++) {
		struct pend *e = &w->pend[i];
		size_t seg, payload;
		unsigned cnt = 2, last = i;
		bool closed;

		if (e->done)
			continue;
		e->done = true;
		if (e->t.kind != OFF_MERGE || e->t.hdr_len > sizeof(save) ||
		    (e->t.proto == IPPROTO_TCP && (e->t.flags & 0x08 /* PSH */))) {
			tun_write_one(w, e->p, e->t.pkt, e->t.len);
			continue;
		}
		seg = payload = e->t.len - e->t.hdr_len;
		w->wr_iov[0] = (struct iovec){ vnet, OFF_VNET_HDR_LEN };
		w->wr_iov[1] = (struct iovec){ e->t.pkt, e->t.len };
		w->wr_pend[1] = i;
		closed = false;
		for (unsigned j = i + 1; j < n && j <= last + MERGE_LOOKAHEAD && !closed; j++) {
			struct pend *f = &w->pend[j];
			size_t fs;
			if (f->done || f->t.kind == OFF_OTHER || !off_same_flow(&e->t, &f->t))
				continue;
			if (f->p != e->p || !off_can_append(&e->t, payload, &f->t))
				break; /* the flow goes on with something else: keep its order */
			fs = f->t.len - f->t.hdr_len;
			w->wr_pend[cnt] = j;
			w->wr_iov[cnt++] = (struct iovec){ f->t.pkt + f->t.hdr_len, fs };
			f->done = true;
			payload += fs;
			last = j;
			closed = fs < seg || (f->t.proto == IPPROTO_TCP && (f->t.flags & 0x08)) ||
				 cnt == MERGE_MAX_SEGS + 1;
		}
		if (cnt == 2) {
			tun_write_one(w, e->p, e->t.pkt, e->t.len);
			continue;
		}
		off_merge_finish(&e->t, payload, &w->pend[last].t, vnet, save);
		if (writev(w->tun_fd, w->wr_iov, (int)cnt) >= 0) {
			atomic_fetch_add_explicit(&w->gw->st.tun_merged_out, 1, memory_order_relaxed);
			continue;
		}
		if (errno != EINVAL && errno != EOPNOTSUPP) {
			tun_write_failed(e->p, cnt - 1, errno);
			continue;
		}
		/* Refused as a super-packet: put it back and write them one by one. */
		merge_off(w, e->t.proto == IPPROTO_UDP, errno);
		off_merge_undo(&e->t, save);
		for (unsigned k = 1; k < cnt; k++) {
			struct pend *f = &w->pend[w->wr_pend[k]];
			tun_write_one(w, f->p, f->t.pkt, f->t.len);
		}
	}
	for (unsigned i = 0; i < w->n_held; i++)
		gw_peer_put(w->held[i]);
	w->n_pend = w->n_held = 0;
}

/* ---- UDP -> TUN ---- */

/* Feeds datagrams to a session, all under one hold of its lock. */
static void feed_many(struct worker *w, struct gw_session *gs, const struct rx_seg *segs,
		      unsigned n)
{
	uint64_t heard;

	gw_session_lock(gs);
	/* Errors end the session through the ended callback; drops are counted inside. */
	for (unsigned i = 0; i < n; i++)
		GW_IGNORE(dtls_session_handle(gs->s, segs[i].d, segs[i].n, w->tl.now));
	/* Whatever authenticated keeps the peer alive: data, keepalives, and its
	 * retransmitted Finished while our last flight is being lost. Written at most once
	 * per millisecond: the line is shared with the workers sealing for this session. */
	heard = dtls_session_last_heard(gs->s);
	if (heard > atomic_load_explicit(&gs->last_rx_ms, memory_order_relaxed))
		atomic_store_explicit(&gs->last_rx_ms, heard, memory_order_relaxed);
	gw_session_unlock(gs);
	gw_session_after(gs);
}

static void feed(struct worker *w, struct gw_session *gs, uint8_t *d, size_t n)
{
	struct rx_seg one = { d, n, 0 };

	feed_many(w, gs, &one, 1);
}

/* The stateless cookie exchange for a ClientHello without a session to go to (or one
 * that starts over from an address that has a session): DTLS_OK if a new session may be
 * created; DTLS_ERR_COOKIE when the HelloVerifyRequest went back; any other error is a
 * drop, counted and logged unless the datagram is a first fragment too short to judge
 * (DTLS_ERR_DECODE with partial: the rest of it may still come). */
static int cookie_check(struct worker *w, const struct sockaddr *from, socklen_t flen,
			const uint8_t *d, size_t n, bool partial)
{
	struct gateway *gw = w->gw;
	size_t hvr_len = 0;
	int rc;

	pthread_rwlock_rdlock(&gw->jar_lock);
	rc = dtls_cookie_check(gw->jar, from, flen, d, n, w->hvr, sizeof(w->hvr), &hvr_len);
	pthread_rwlock_unlock(&gw->jar_lock);
	if (rc == DTLS_ERR_COOKIE) {
		if (udp_send(w->udp_fd, w->hvr, hvr_len, from, flen) == 0)
			atomic_fetch_add_explicit(&gw->st.hvr_sent, 1, memory_order_relaxed);
	} else if (rc < 0 && !(partial && rc == DTLS_ERR_DECODE)) {
		char a[GW_ADDRSTRLEN];
		atomic_fetch_add_explicit(&gw->st.unknown_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_unknown, GW_LOG_DEBUG,
				"dropped a datagram from %s: no session and %s",
				gw_addr_str(from, flen, a), dtls_strerror(rc));
	}
	return rc;
}

/*
 * A ClientHello fragment from a sender the hello is new to. Into the area; once its
 * last piece is in, *d and *n are the whole hello and the result DTLS_OK. Meanwhile a
 * first fragment that holds every field the cookie covers is judged as it is (as
 * before the area, and for hellos too large for it): DTLS_OK lets it start a session
 * whose later fragments reach it through the map, DTLS_ERR_COOKIE has been answered.
 * Anything else: the hello is not whole yet (DTLS_ERR_IN_PROGRESS) or dropped.
 */
static int assemble(struct worker *w, const struct sockaddr *from, socklen_t flen,
		    uint8_t **d, size_t *n, enum dtls_hello_kind kind)
{
	struct gateway *gw = w->gw;
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&gw->hello_lock);
	rc = dtls_hello_area_add(gw->hellos, from, flen, *d, *n, w->hello, sizeof(w->hello), &len);
	pthread_mutex_unlock(&gw->hello_lock);
	if (rc == DTLS_OK) {
		*d = w->hello;
		*n = len;
		return cookie_check(w, from, flen, *d, *n, false);
	}
	if (rc == DTLS_ERR_IN_PROGRESS)
		atomic_fetch_add_explicit(&gw->st.hello_fragments, 1, memory_order_relaxed);
	if (kind == DTLS_HELLO_FIRST_FRAGMENT &&
	    (rc == DTLS_ERR_IN_PROGRESS || rc == DTLS_ERR_MESSAGE_TOO_LARGE)) {
		int crc = cookie_check(w, from, flen, *d, *n, true);
		if (crc == DTLS_OK || crc == DTLS_ERR_COOKIE) {
			/* Judged on its first fragment: the area need not finish it. */
			pthread_mutex_lock(&gw->hello_lock);
			dtls_hello_area_forget(gw->hellos, from, flen, *d, *n);
			pthread_mutex_unlock(&gw->hello_lock);
		}
		return crc == DTLS_ERR_DECODE ? DTLS_ERR_IN_PROGRESS : crc;
	}
	if (rc != DTLS_ERR_IN_PROGRESS) {
		char a[GW_ADDRSTRLEN];
		atomic_fetch_add_explicit(&gw->st.unknown_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_unknown, GW_LOG_DEBUG,
				"dropped a ClientHello fragment from %s: %s",
				gw_addr_str(from, flen, a), dtls_strerror(rc));
	}
	return rc;
}

/*
 * A ClientHello (whole, or a fragment of one) that starts a handshake from scratch:
 * put together if fragmented, cookie-checked, and given a new server session, in place
 * of the address's session if replace (RFC 6347 4.2.8).
 */
static void new_hello(struct worker *w, const struct sockaddr *from, socklen_t flen,
		      uint8_t *d, size_t n, enum dtls_hello_kind kind, bool replace)
{
	struct gateway *gw = w->gw;
	struct gw_session *gs;
	char a[GW_ADDRSTRLEN];
	int rc = kind == DTLS_HELLO_WHOLE ? cookie_check(w, from, flen, d, n, false)
					  : assemble(w, from, flen, &d, &n, kind);

	if (rc != DTLS_OK)
		return;
	unsigned max = atomic_load_explicit(&gw->max_sessions, memory_order_relaxed);
	if (!replace && smap_count(gw->map) >= max) {
		atomic_fetch_add_explicit(&gw->st.sessions_refused, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_limit, GW_LOG_WARNING,
				"refused a handshake from %s: max_sessions (%u) reached",
				gw_addr_str(from, flen, a), max);
		return;
	}
	gs = gw_session_accept(gw, atomic_load(&gw->gen), from, flen, d, n, replace);
	if (!gs)
		return;
	feed(w, gs, d, n);
	gw_session_put(gs);
}

static void rx_unknown(struct worker *w, const struct sockaddr *from, socklen_t flen,
		       uint8_t *d, size_t n)
{
	struct gateway *gw = w->gw;
	enum dtls_hello_kind kind = dtls_hello_classify(d, n, NULL);
	char a[GW_ADDRSTRLEN];

	if (kind == DTLS_HELLO_NONE || atomic_load(&gw->stopping)) {
		atomic_fetch_add_explicit(&gw->st.unknown_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_unknown, GW_LOG_DEBUG,
				"dropped a datagram from %s: no session and not a ClientHello",
				gw_addr_str(from, flen, a));
		return;
	}
	new_hello(w, from, flen, d, n, kind, false);
}

/* Whether ClientHello (fragment) d[0..n) of the given kind, from the address of session
 * gs, starts a new handshake rather than belonging to gs's own. */
static bool starts_over(const struct gw_session *gs, enum dtls_hello_kind kind,
			const uint8_t random[32])
{
	int state = atomic_load(&gs->state);

	if (gs->client) /* both sides dialling at once: the backoff jitter separates them */
		return state != DTLS_STATE_HANDSHAKING;
	if (kind == DTLS_HELLO_LATER_FRAGMENT) /* no random to tell: gs's while it shakes hands */
		return state != DTLS_STATE_HANDSHAKING;
	return memcmp(random, gs->hello_random, 32) != 0;
}

static void rx_one(struct worker *w, const struct sockaddr *from, socklen_t flen, uint8_t *d,
		   size_t n)
{
	struct gateway *gw = w->gw;
	struct smap_node *node = smap_get(gw->map, from, flen);
	struct gw_session *gs;

	if (!node) {
		rx_unknown(w, from, flen, d, n);
		return;
	}
	gs = gw_session_of(node);
	/*
	 * A ClientHello at an address that has a session is the peer starting over (it
	 * restarted, or declared us dead) unless it belongs to the hello that started this
	 * server session (a retransmission, a duplicate that arrives late, or a later
	 * fragment of it: the session takes it). RFC 6347 4.2.8: a new handshake after a
	 * cookie exchange; the old session stays the peer's until the new one is up.
	 */
	uint8_t random[32];
	enum dtls_hello_kind kind = dtls_hello_classify(d, n, random);
	if (kind != DTLS_HELLO_NONE && !atomic_load(&gw->stopping) && starts_over(gs, kind, random)) {
		gw_session_put(gs);
		new_hello(w, from, flen, d, n, kind, true);
		return;
	}
	gs = gw_session_route(gs, d, n);
	feed(w, gs, d, n);
	gw_session_put(gs);
}

/* A run of datagrams from one sender, each starting with an application data record:
 * one map lookup, one lock. Anything else goes one by one through rx_one. */
static void rx_run(struct worker *w, const struct rx_seg *segs, unsigned n)
{
	const struct msghdr *h;
	const struct sockaddr *from;
	struct smap_node *node;

	if (!n)
		return;
	h = &w->rx_msgs[segs[0].msg].msg_hdr;
	from = h->msg_name;
	node = smap_get(w->gw->map, from, h->msg_namelen);
	if (!node) {
		for (unsigned i = 0; i < n; i++)
			rx_one(w, from, h->msg_namelen, segs[i].d, segs[i].n);
		return;
	}
	struct gw_session *gs = gw_session_route(gw_session_of(node), segs[0].d, segs[0].n);
	feed_many(w, gs, segs, n);
	gw_session_put(gs);
}

/* The GRO segment size of a received message, or 0. */
static size_t gro_size(const struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

static bool same_sender(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_namelen == b->msg_namelen && !memcmp(a->msg_name, b->msg_name, a->msg_namelen);
}

/* One recvmmsg batch: split GRO receives, group application data by sender. */
static void rx_batch(struct worker *w, int n)
{
	unsigned ns = 0, run = 0;

	for (int i = 0; i < n; i++) {
		struct msghdr *h = &w->rx_msgs[i].msg_hdr;
		uint8_t *d = w->rx_bufs + (size_t)i * RX_STRIDE;
		size_t len = w->rx_msgs[i].msg_len, seg = w->gro ? gro_size(h) : 0, first = ns;
		bool data = true;

		if (h->msg_flags & MSG_TRUNC)
			continue;
		if (seg && seg < len)
			atomic_fetch_add_explicit(&w->gw->st.udp_gro_recvs, 1, memory_order_relaxed);
		if (!seg || seg > len)
			seg = len;
		/* One segment per datagram that GRO glued together (an empty datagram is
		 * one too, for the session to drop). */
		size_t off = 0;
		do {
			size_t m = len - off < seg ? len - off : seg;
			if (ns == RX_SEGS_MAX) {
				/* Many tiny datagrams: out with what we have. */
				rx_run(w, w->rx_segs + run, ns - run);
				ns = run = first = 0;
			}
			w->rx_segs[ns++] = (struct rx_seg){ d + off, m, (unsigned)i };
			data &= m > 13 && d[off] == 23; /* application_data */
			off += m;
		} while (off < len);
		if (!data) {
			/* Handshakes, alerts, garbage: the careful path, in order. */
			rx_run(w, w->rx_segs + run, first - run);
			for (unsigned k = first; k < ns; k++)
				rx_one(w, (struct sockaddr *)h->msg_name, h->msg_namelen, w->rx_segs[k].d,
				       w->rx_segs[k].n);
			ns = run = 0;
			continue;
		}
		if (first > run && !same_sender(&w->rx_msgs[w->rx_segs[run].msg].msg_hdr, h)) {
			rx_run(w, w->rx_segs + run, first - run);
			run = first;
		}
	}
	rx_run(w, w->rx_segs + run, ns - run);
}

static void rx(struct worker *w)
{
	for (int round = 0; round < WORKER_ROUNDS; round++) {
		int n;

		for (unsigned i = 0; i < WORKER_BATCH; i++) {
			w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
			w->rx_msgs[i].msg_hdr.msg_flags = 0;
			if (w->gro)
				w->rx_msgs[i].msg_hdr.msg_controllen = sizeof(w->rx_ctrl[i]);
		}
		n = recvmmsg(w->udp_fd, w->rx_msgs, WORKER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		w->rx_active = true;
		rx_batch(w, n);
		w->rx_active = false;
		if (w->n_pend)
			flush_pending(w);
		if (n < WORKER_BATCH)
			return;
	}
}

/* ---- TUN -> UDP ---- */

/* A GSO send the kernel refused: from now on one datagram per message. */
static void gso_off(struct worker *w, int e)
{
	static atomic_bool logged;

	w->gso = false;
	if (!atomic_exchange(&logged, true))
		log_msg(GW_LOG_WARNING, "UDP segmentation offload refused (%s): sending datagrams "
			"one by one", strerror(e));
}

static void send_failed(struct worker *w, unsigned k, unsigned records, int e)
{
	struct gateway *gw = w->gw;

	atomic_fetch_add_explicit(&gw->st.tx_dropped, records, memory_order_relaxed);
	if (e != EAGAIN && e != ENOBUFS) {
		char a[GW_ADDRSTRLEN];
		log_ratelimited(&gw->rl_send, GW_LOG_WARNING, "send to %s: %s",
				gw_addr_str((struct sockaddr *)&w->tx_addr[k],
					    w->tx_msgs[k].msg_hdr.msg_namelen, a),
				strerror(e));
	}
}

static void send_batch(struct worker *w, unsigned m)
{
	unsigned sent = 0, gso = 0;
	bool retried = false;

	while (sent < m) {
		struct msghdr *h;
		int r = sendmmsg(w->udp_fd, w->tx_msgs + sent, m - sent, MSG_DONTWAIT);
		int e = errno;

		if (r > 0) {
			for (unsigned i = sent; i < sent + (unsigned)r; i++)
				gso += w->tx_msgs[i].msg_hdr.msg_iovlen > 1;
			sent += (unsigned)r;
			continue;
		}
		if (r < 0 && (e == EINTR || (udp_errno_from_icmp(e) && !retried))) {
			/* EINTR; or a send failing once with the errno of an ICMP error queued
			 * on the socket (the error queue reports it): again. */
			retried |= e != EINTR;
			continue;
		}
		h = &w->tx_msgs[sent].msg_hdr;
		if (h->msg_iovlen > 1 && r < 0 &&
		    (e == EIO || e == EINVAL || e == EOPNOTSUPP || e == ENOPROTOOPT || e == EMSGSIZE)) {
			/* The first message failed as a GSO send: its datagrams one by one. */
			gso_off(w, e);
			for (size_t i = 0; i < h->msg_iovlen; i++)
				if (udp_send(w->udp_fd, h->msg_iov[i].iov_base, h->msg_iov[i].iov_len,
					     h->msg_name, h->msg_namelen) < 0)
					send_failed(w, sent, 1, errno);
			sent++;
			continue;
		}
		/* The first message failed: drop it and go on with the rest. */
		send_failed(w, sent, (unsigned)h->msg_iovlen, r < 0 ? e : EAGAIN);
		sent++;
	}
	if (gso)
		atomic_fetch_add_explicit(&w->gw->st.udp_gso_sends, gso, memory_order_relaxed);
}

static void release(struct gw_session *gs, bool locked, bool sealed, uint64_t now)
{
	if (!gs)
		return;
	if (sealed && atomic_load_explicit(&gs->last_tx_ms, memory_order_relaxed) != now)
		atomic_store_explicit(&gs->last_tx_ms, now, memory_order_relaxed);
	if (locked) {
		gw_session_unlock(gs);
		gw_session_after(gs);
	}
	gw_session_put(gs);
}

/* Queues record rec for gs's address: appended to the previous message as one more
 * GSO segment when it goes to the same address and fits, or a message of its own. */
static void queue_record(struct worker *w, unsigned *m, unsigned k, const struct gw_session *gs,
			 uint8_t *rec, size_t len)
{
	unsigned j = *m;

	w->tx_iov[k] = (struct iovec){ rec, len };
	if (w->gso && j > 0) {
		struct msghdr *h = &w->tx_msgs[j - 1].msg_hdr;
		size_t seg = w->tx_seg[j - 1];
		/* open: every segment so far had the full size */
		if (h->msg_namelen == gs->addr_len && len <= seg &&
		    w->tx_bytes[j - 1] == seg * h->msg_iovlen && h->msg_iovlen < GSO_MAX_SEGS &&
		    w->tx_bytes[j - 1] + len <= GSO_MAX_BYTES &&
		    !memcmp(&w->tx_addr[j - 1], &gs->addr, gs->addr_len)) {
			h->msg_iovlen++;
			w->tx_bytes[j - 1] += len;
			return;
		}
	}
	memcpy(&w->tx_addr[j], &gs->addr, gs->addr_len);
	w->tx_msgs[j].msg_hdr.msg_namelen = gs->addr_len;
	w->tx_msgs[j].msg_hdr.msg_iov = &w->tx_iov[k];
	w->tx_msgs[j].msg_hdr.msg_iovlen = 1;
	w->tx_seg[j] = w->tx_bytes[j] = len;
	*m = j + 1;
}

/* Seals the n packets of w->rec and sends them, one sendmmsg per batch (and one
 * GSO message per run of equal-sized records to one peer). Consecutive packets for
 * one peer share one session reference and one lock (taken again every LOCK_BATCH
 * records, so the receiving side is not kept waiting long). */
static void seal_and_send(struct worker *w, const struct gw_gen *gen, unsigned n)
{
	struct gateway *gw = w->gw;
	struct gw_peer *last = NULL;
	struct gw_session *gs = NULL;
	bool locked = false, sealed = false;
	unsigned m = 0, k = 0, under_lock = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *pkt = w->rec[i], *rec;
		size_t len = w->rec_len[i], rec_len;
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
			if (gw_peer_stage(p, pkt, len))
				continue; /* sent once the handshake is done */
			atomic_fetch_add_explicit(&p->c.drop_no_session, 1, memory_order_relaxed);
			log_ratelimited(&p->rl_no_session, GW_LOG_DEBUG,
					"peer %s: no session: packet dropped", p->pol.name);
			continue;
		}
		if (locked && under_lock >= LOCK_BATCH) {
			gw_session_unlock(gs);
			gw_session_after(gs);
			locked = false;
		}
		if (!locked) {
			gw_session_lock(gs);
			locked = true;
			under_lock = 0;
		}
		under_lock++;
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
		queue_record(w, &m, k++, gs, rec, rec_len);
	}
	release(gs, locked, sealed, w->tl.now);
	for (unsigned j = 0; j < m; j++) {
		struct msghdr *h = &w->tx_msgs[j].msg_hdr;
		if (h->msg_iovlen > 1) {
			struct cmsghdr *c;
			uint16_t seg = (uint16_t)w->tx_seg[j];
			h->msg_control = w->tx_ctrl[j].buf;
			h->msg_controllen = sizeof(w->tx_ctrl[j].buf);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		} else {
			h->msg_control = NULL;
			h->msg_controllen = 0;
		}
	}
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

/* One packet from the TUN queue into pkt (and its virtio-net header into *vh when the
 * queue has them): its length, 0 when there is nothing more to read now, -1 for a
 * packet to skip. */
static ssize_t tun_read(struct worker *w, uint8_t *pkt, struct off_vnet *vh, bool *lost)
{
	struct gateway *gw = w->gw;
	uint8_t raw[OFF_VNET_HDR_LEN];
	ssize_t r;

	for (;;) {
		if (w->vnet) {
			struct iovec iov[2] = { { raw, sizeof(raw) }, { pkt, TX_CAP } };
			r = readv(w->tun_fd, iov, 2);
		} else {
			r = read(w->tun_fd, pkt, TX_CAP);
		}
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (r <= 0) {
		if (r < 0 && errno != EAGAIN)
			atomic_fetch_add_explicit(&gw->st.tun_read_errors, 1, memory_order_relaxed);
		if (r < 0 && errno == EBADFD) {
			tun_lost(w, errno);
			*lost = true;
		}
		return 0;
	}
	if (!w->vnet)
		return r;
	if (r < OFF_VNET_HDR_LEN) {
		atomic_fetch_add_explicit(&gw->st.tun_read_errors, 1, memory_order_relaxed);
		return -1;
	}
	off_vnet_parse(raw, vh);
	return r - OFF_VNET_HDR_LEN;
}

/* Cuts the super-packet pkt[0..len) into segments in the segment slots and adds them
 * to the batch, sealing and sending the batch whenever it is full. */
static void add_super(struct worker *w, const struct gw_gen *gen, const struct off_vnet *vh,
		      const uint8_t *pkt, size_t len, unsigned *nrec, unsigned *nbig,
		      unsigned *nseg)
{
	struct gateway *gw = w->gw;
	struct off_super s;

	if (off_super_parse(vh, pkt, len, &s) < 0 || s.hdr_len + (size_t)s.seg_size > w->seg_cap) {
		atomic_fetch_add_explicit(&gw->st.tun_super_dropped, 1, memory_order_relaxed);
		log_ratelimited(&gw->rl_send, GW_LOG_INFO,
				"tun: dropped a %zu-byte super-packet (gso type %u, size %u) that "
				"cannot be cut into segments within the MTU", len, vh->gso_type,
				vh->gso_size);
		return;
	}
	atomic_fetch_add_explicit(&gw->st.tun_super_in, 1, memory_order_relaxed);
	for (size_t i = 0; i < s.n_segs; i++) {
		uint8_t *seg;
		if (*nseg == SEG_SLOTS || *nrec == TX_RECS) {
			/* Full: out with it. The super-packet's own slot is not part of the
			 * batch, so it survives. */
			seal_and_send(w, gen, *nrec);
			*nrec = *nseg = *nbig = 0;
		}
		seg = w->seg_bufs + (size_t)(*nseg)++ * w->seg_stride + DTLS_HEADROOM;
		w->rec[*nrec] = seg;
		w->rec_len[(*nrec)++] = off_super_segment(&s, pkt, i, seg);
	}
}

static void tx(struct worker *w)
{
	const struct gw_gen *gen = atomic_load(&w->gw->gen);

	for (int round = 0; round < WORKER_ROUNDS; round++) {
		unsigned nrec = 0, nbig = 0, nseg = 0;
		bool more = true, lost = false;

		while (nbig < WORKER_BATCH && nrec < TX_RECS) {
			uint8_t *pkt = w->tx_bufs + (size_t)nbig * TX_STRIDE + DTLS_HEADROOM;
			struct off_vnet vh = { 0 };
			ssize_t r = tun_read(w, pkt, &vh, &lost);

			if (r == 0) {
				more = false;
				break;
			}
			if (r < 0)
				continue;
			if (w->vnet && vh.gso_type != OFF_GSO_NONE) {
				add_super(w, gen, &vh, pkt, (size_t)r, &nrec, &nbig, &nseg);
				continue;
			}
			if (w->vnet && (vh.flags & OFF_F_NEEDS_CSUM) &&
			    off_csum_finish(&vh, pkt, (size_t)r) < 0) {
				atomic_fetch_add_explicit(&w->gw->st.tun_read_errors, 1,
							  memory_order_relaxed);
				continue;
			}
			w->rec[nrec] = pkt;
			w->rec_len[nrec++] = (size_t)r;
			nbig++;
		}
		if (nrec)
			seal_and_send(w, gen, nrec);
		if (!more || lost)
			return;
	}
}

/* ---- the thread ---- */

/* The errors queued on the UDP socket (ICMP errors for what we sent), a bounded number
 * per wake-up: epoll reports EPOLLERR again while more are queued. */
static void udp_errors(struct worker *w)
{
	struct udp_error e;

	for (int i = 0; i < 64 && udp_error_take(w->udp_fd, &e) > 0; i++)
		gw_udp_error(w->gw, &e);
}

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
			if (ev[i].data.u32 == EV_UDP && (ev[i].events & EPOLLERR))
				udp_errors(w);
			if (ev[i].data.u32 == EV_UDP && (ev[i].events & EPOLLIN))
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
	struct worker *w = aligned_alloc(64, (sizeof(struct worker) + 63) & ~(size_t)63);
	int rc = -ENOMEM;

	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	w->gw = gw;
	w->id = id;
	w->udp_fd = udp_fd;
	w->tun_fd = tun_fd;
	w->epfd = w->stop_fd = -1;
	atomic_init(&w->qs, 0);
	w->tl = (struct gw_thread){ .gw = gw, .udp_fd = udp_fd, .tun_fd = tun_fd, .w = w };
	w->vnet = gw->tun && (tun_offloads(gw->tun) & TUN_OFF_VNET);
	if (gw->cfg && gw->cfg->offload) {
		w->gso = udp_gso_supported(udp_fd);
		w->gro = udp_enable_gro(udp_fd);
		if (id == 0)
			log_info("UDP offloads: segmentation %s, receive coalescing %s",
				 w->gso ? "on" : "off (the kernel refuses it)",
				 w->gro ? "on" : "off (the kernel refuses it)");
	}
	w->seg_stride = (DTLS_HEADROOM + (size_t)gw->tun_mtu + DTLS_TAILROOM + 63) & ~(size_t)63;
	w->seg_cap = gw->tun_mtu;
	w->rx_bufs = malloc((size_t)WORKER_BATCH * RX_STRIDE);
	w->tx_bufs = malloc((size_t)WORKER_BATCH * TX_STRIDE);
	w->rx_segs = calloc(RX_SEGS_MAX, sizeof(*w->rx_segs));
	if (!w->rx_bufs || !w->tx_bufs || !w->rx_segs)
		goto fail;
	if (w->vnet) {
		w->seg_bufs = malloc(SEG_SLOTS * w->seg_stride);
		w->pend = calloc(PEND_MAX, sizeof(*w->pend));
		w->held = calloc(PEND_MAX, sizeof(*w->held));
		w->wr_iov = calloc(MERGE_MAX_SEGS + 1, sizeof(*w->wr_iov));
		w->wr_pend = calloc(MERGE_MAX_SEGS + 1, sizeof(*w->wr_pend));
		if (!w->seg_bufs || !w->pend || !w->held || !w->wr_iov || !w->wr_pend)
			goto fail;
		w->merge_tcp = true;
		w->merge_udp = tun_offloads(gw->tun) & TUN_OFF_USO;
	}
	for (unsigned i = 0; i < WORKER_BATCH; i++) {
		w->rx_iov[i] = (struct iovec){ w->rx_bufs + (size_t)i * RX_STRIDE, RX_CAP };
		w->rx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &w->rx_addr[i],
							 .msg_namelen = sizeof(w->rx_addr[i]),
							 .msg_iov = &w->rx_iov[i], .msg_iovlen = 1 };
		if (w->gro) {
			w->rx_msgs[i].msg_hdr.msg_control = w->rx_ctrl[i].buf;
			w->rx_msgs[i].msg_hdr.msg_controllen = sizeof(w->rx_ctrl[i].buf);
		}
	}
	for (unsigned i = 0; i < TX_RECS; i++)
		w->tx_msgs[i].msg_hdr = (struct msghdr){ .msg_name = &w->tx_addr[i],
							 .msg_iov = &w->tx_iov[i], .msg_iovlen = 1 };
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
	free(w->rx_segs);
	free(w->seg_bufs);
	free(w->pend);
	free(w->held);
	free(w->wr_iov);
	free(w->wr_pend);
	free(w);
}
