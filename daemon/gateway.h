/*
 * The gateway: peers, their DTLS sessions, and the shared state of the workers
 * and the control thread.
 *
 * Threads: N workers (worker.c) move packets; the control thread (main.c, the
 * main thread) runs the timers (timers.c), dials, reloads (reload.c) and signals.
 *
 * Objects and who owns them:
 *   struct gw_gen      one configuration generation: the immutable policy_set, a
 *                      gw_peer for each of its peers and the server-side DTLS config.
 *                      Published through gateway.gen; a replaced generation is freed
 *                      only after every worker has passed a quiescent point
 *                      (gw_retire(), like RCU), so workers use it without locks.
 *   struct gw_peer     a configured peer at run time. Reference-counted: its
 *                      generation(s) and its sessions hold references.
 *   struct gw_session  one DTLS session. Reference-counted through its map node:
 *                      the session map, its peer (cur / dialing) and any thread
 *                      working on it hold references.
 *
 * Lock order (never the other way round):
 *   session lock  ->  peer lock  ->  shard lock (session_map.c)
 *   jar_lock (cookie jar) is taken alone.
 * A thread holds at most one session lock, and the callbacks libdtls makes under a
 * session lock only note events (gw_session.events); what they imply for the peer
 * and the map is done by gw_session_after(), after the session lock is dropped.
 */
#ifndef DTLSGW_DAEMON_GATEWAY_H
#define DTLSGW_DAEMON_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <dtls/dtls.h>

#include "daemon/config.h"
#include "daemon/halfopen.h"
#include "daemon/suites.h"
#include "daemon/log.h"
#include "daemon/session_map.h"
#include "policy/policy.h"

#define GW_MUST_CHECK __attribute__((warn_unused_result))
/* For a result that is deliberately not looked at (a cast to void does not do it for
 * warn_unused_result), with the reason next to it. */
#define GW_IGNORE(expr) do { if (expr) {} } while (0)

struct tun_dev;
struct worker;

enum peer_state {
	PEER_WAITING,     /* a responder without a session: waiting to be dialled */
	PEER_CONNECTING,  /* an initiator between dial attempts (backoff) */
	PEER_HANDSHAKING, /* an initiator's handshake is under way */
	PEER_UP,          /* an established session carries the traffic */
	PEER_DEAD,        /* a responder whose session was dropped for silence */
	PEER_DISCONNECTED, /* a responder whose session `dtlsgwctl disconnect` ended */
};

const char *peer_state_name(enum peer_state st);

/* Counters a worker may bump at any time (relaxed atomics). The receiving and the
 * sending side of a peer usually run on different workers: their counters sit on
 * cache lines of their own. */
struct peer_counters {
	_Alignas(64) atomic_uint_fast64_t rx_packets, rx_bytes, keepalives_rx, drop_policy, drop_tun;
	/* inner packets from a link-local source (an ICMPv6 redirect of the peer's own link):
	 * dropped as policy drops are, but counted apart and logged at debug level */
	atomic_uint_fast64_t drop_link_local;
	_Alignas(64) atomic_uint_fast64_t tx_packets, tx_bytes, drop_oversize, drop_no_session;
	_Alignas(64) atomic_uint_fast64_t drop_mac, drop_replay; /* of sessions that have ended */
	/* renegotiations the peer started beyond the limit (3 a minute), refused with a
	 * no_renegotiation warning; the session goes on */
	atomic_uint_fast64_t reneg_refused;
	atomic_uint_fast64_t handshakes, handshake_failures;
	/* Handshakes that named this peer (its PSK identity, sent in clear) but failed
	 * before authenticating: anyone can cause them, so they are kept apart from the
	 * peer's own traffic and logged at most once per interval (rl_auth). */
	atomic_uint_fast64_t auth_failures;
};

/* The area for fragmented ClientHellos: entries, and the largest hello body each holds
 * (larger ones are judged by their first fragment, which then must hold the cookie). */
#define GW_HELLO_ENTRIES 128
#define GW_HELLO_MAX 4096

/* Packets from TUN for a peer without a session, sent once one is up (a ring). */
#define GW_STAGE_MAX 16
#define GW_STAGE_MAX_AGE_MS 5000 /* older ones are dropped instead */
struct gw_staged {
	uint8_t *pkt[GW_STAGE_MAX]; /* malloc'd copies */
	uint16_t len[GW_STAGE_MAX];
	uint64_t at[GW_STAGE_MAX];  /* when staged, ms */
	unsigned head, n;
};

struct gw_peer {
	atomic_uint refs;
	struct gateway *gw;
	struct peer_policy pol;   /* own deep copy; immutable */
	atomic_bool removed;      /* no longer configured: sessions are refused and closed */

	/* Control thread only. */
	struct dtls_config *dcfg; /* for dialling it (initiators); NULL for responders */
	/* A certificate peer with a CA (its own ca, else the gateway's): those CAs alone,
	 * to verify its chain when it dials us (the server trusts every peer's CAs). Set by
	 * the control thread, read by the workers; a replaced one is retired. */
	struct dtls_config *_Atomic vcfg;
	uint64_t keepalive_ms;    /* 0: no keepalives */
	uint64_t dead_after_ms;   /* 0: never declared dead */

	pthread_mutex_t lock;     /* protects the fields down to the counters */
	enum peer_state state;
	struct gw_session *cur;     /* the established session carrying traffic (reference) */
	struct gw_session *dialing; /* our client session in handshake (reference) */
	struct sockaddr_storage endpoint; /* where cur talks to */
	socklen_t endpoint_len;
	uint64_t last_handshake_ms; /* 0: never */
	unsigned attempts;          /* failed dials since the last success */
	uint64_t next_dial_ms;
	struct gw_staged staged;    /* only while cur is NULL */
	char last_error[200];       /* why the last session or handshake failed; "" if none */
	uint64_t last_error_ms;     /* when (0: never) */

	struct peer_counters c;
	struct log_ratelimit rl_policy, rl_oversize, rl_no_session, rl_tun, rl_auth, rl_link_local;
};

/* gw_session.events, set under the session lock, consumed by gw_session_after() */
#define GW_EV_ESTABLISHED 0x1u
#define GW_EV_ENDED 0x2u

struct gw_session {
	struct smap_node node;        /* key: the peer's UDP address; holds the refcount */
	struct gateway *gw;
	struct sockaddr_storage addr; /* immutable: where to send */
	socklen_t addr_len;
	bool client;                  /* immutable: we dialled */
	uint64_t created_ms;          /* immutable */
	uint8_t hello_random[32];     /* immutable: server sessions, of the ClientHello that
				       * created it (a different one means a new handshake) */
	/* A new handshake that took the address of its peer's working session keeps that
	 * session here (a reference) until it is up or gone: records other than the
	 * handshake's go there meanwhile (RFC 6347 4.2.8), and the address goes back to it
	 * if the handshake fails. Written under lock; read as a hint without it. */
	struct gw_session *_Atomic prev;

	pthread_mutex_t lock;         /* every dtls_session_* call on s is made under it */
	struct dtls_session *s;       /* under lock */
	int end_err;                  /* under lock: the error the session ended with */

	/* Set once (at creation for clients, by authorize for servers, under lock), then
	 * read by anyone who saw the session established; holds a peer reference. */
	struct gw_peer *_Atomic peer;
	/* Server sessions, under lock: the peer whose key the PSK lookup of the handshake in
	 * progress keyed it with (a reference). Authorize admits exactly that peer (and so
	 * that key: a peer's policy never changes), and a reload ends a handshake whose peer
	 * it replaced or removed. */
	struct gw_peer *_Atomic hs_peer;

	atomic_uint events;           /* GW_EV_* */
	atomic_bool reaped;           /* gw_session_reap() ran */
	atomic_bool closed_by_us;     /* we sent close_notify first */
	_Atomic uint64_t next_due;    /* dtls_session_next_timeout(), refreshed on unlock */
	_Atomic int state;            /* dtls_session_state(), refreshed on unlock */
	_Atomic uint64_t last_rx_ms;  /* dtls_session_last_heard(), refreshed after feeding */
	_Atomic uint64_t last_tx_ms;  /* last data or keepalive record sealed */
	_Atomic uint64_t reneg_seen;  /* its renegotiations_refused counted so far */
	/* In the half-open registry (gateway.ho), under its lock. */
	struct gw_session *ho_prev, *ho_next;
	bool ho_in;
};

struct gw_gen {
	struct policy_set *set;
	struct gw_peer **peers;       /* peers[i] runs policy_set_peer(set, i); references */
	size_t n_peers;
	struct dtls_config *server_cfg; /* for sessions of peers that dial us */
	struct gw_suites suites;        /* the gateway's, for peers without ciphers of their own */
};

/* A deferred free waiting for every worker to pass a quiescent point. */
struct gw_retired {
	struct gw_retired *next;
	void (*fn)(void *arg);
	void *arg;
	uint64_t snap[]; /* each worker's quiescent counter when retired */
};

/* Per-thread context: what the libdtls callbacks need to know about the thread
 * that is calling into a session. */
struct gw_thread {
	struct gateway *gw;
	int udp_fd;                 /* sends go out here */
	int tun_fd;                 /* received packets go in here (-1: control thread) */
	struct worker *w;           /* the worker of this thread (NULL: control thread) */
	uint64_t now;               /* ms, refreshed on each wake-up */
};

struct gw_stats {
	atomic_uint_fast64_t hvr_sent, unknown_dropped, sessions_refused, no_route, oversize;
	atomic_uint_fast64_t tx_dropped, tun_read_errors;
	/* records of a removed peer's session, dropped before TUN; handshakes refused at
	 * authorize because a reload changed the peer or key they were keyed with (or
	 * ended by that reload before they got there) */
	atomic_uint_fast64_t removed_dropped, hs_rekeyed_refused;
	/* half-open handshakes: refused (their address had max_halfopen_per_address),
	 * dropped for a newer one (max_halfopen), dropped at halfopen_timeout */
	atomic_uint_fast64_t halfopen_refused, halfopen_evicted, halfopen_expired;
	/* ClientHello fragments from senders without a session: put in the area (the
	 * hellos they completed are cookie-checked like any other) */
	atomic_uint_fast64_t hello_fragments;
	/* handshake fragments over libdtls's reassembly budgets, of sessions that ended */
	atomic_uint_fast64_t reasm_dropped;
	/* offloads: super-packets read from TUN, merged writes to it, GSO sends, GRO
	 * receives (each one for many packets) */
	atomic_uint_fast64_t tun_super_in, tun_merged_out, udp_gso_sends, udp_gro_recvs;
	atomic_uint_fast64_t tun_super_dropped; /* not understood, or segments above the MTU */
	/* errors the UDP sockets' error queues gave (ICMP unreachable and the like) */
	atomic_uint_fast64_t icmp_errors;
};

struct gateway {
	char *config_path;              /* control thread only */
	struct gw_config *cfg;          /* control thread only: the running configuration */
	_Atomic(struct gw_gen *) gen;   /* read by workers between quiescent points */
	struct session_map *map;
	struct dtls_cookie_jar *jar;
	pthread_rwlock_t jar_lock;      /* checks read-lock, rotation write-locks */
	struct tun_dev *tun;
	unsigned tun_mtu;               /* largest inner packet we carry */
	int udp_family;                 /* AF_INET or AF_INET6: of every UDP socket */
	struct worker **workers;
	unsigned n_workers;
	atomic_uint max_sessions;       /* for sessions of unknown senders; reload sets it */
	struct halfopen ho;             /* handshakes not yet authorized */
	/* ClientHellos in fragments from senders without a session, put together to be
	 * cookie-checked whole (workers, under hello_lock). */
	struct dtls_hello_area *hellos;
	pthread_mutex_t hello_lock;
	atomic_bool stopping;
	struct gw_retired *retired;     /* control thread only */
	uint64_t last_rotate_ms;        /* control thread only */
	struct gw_stats st;
	struct gw_thread ctl;           /* the control thread's context */
	struct log_ratelimit rl_unknown, rl_limit, rl_hs_fail, rl_psk, rl_send, rl_halfopen, rl_icmp;
};

extern _Thread_local struct gw_thread *gw_tl;

/* ---- gateway.c: life cycle ---- */

/* Builds everything from cfg (which the gateway then owns): TUN, routes, sockets,
 * workers (not started). On failure logs why and returns negative. */
int gateway_new(struct gw_config *cfg, const char *config_path,
		struct gateway **out) GW_MUST_CHECK;
int gateway_start(struct gateway *gw) GW_MUST_CHECK;
/* Sends close_notify to every session and stops dialling (SIGTERM, first step). */
void gateway_close_all(struct gateway *gw);
/* Stops the workers, frees every session, removes routes and addresses, frees gw. */
void gateway_free(struct gateway *gw);
/* Partial ClientHellos the hello area dropped for newer ones. */
uint64_t gw_hellos_evicted(struct gateway *gw);
/* One log line per peer with its state and counters (SIGUSR1). */
void gateway_dump_stats(struct gateway *gw);

/* ---- generations and peers ---- */

/* A new generation for cfg; peers of old whose policy is unchanged are reused
 * (same gw_peer, same sessions). Logs and returns negative on failure. */
int gw_gen_new(struct gateway *gw, const struct gw_config *cfg, const struct gw_gen *old,
	       struct gw_gen **out) GW_MUST_CHECK;
/* Publishes gen and retires the previous one (freed after a grace period). */
void gw_gen_publish(struct gateway *gw, struct gw_gen *gen);
void gw_gen_free(struct gw_gen *gen);
/* The gw_peer of a policy of gen (as returned by its lookups), or NULL. */
struct gw_peer *gw_gen_peer(const struct gw_gen *gen, const struct peer_policy *pol);

void gw_peer_ref(struct gw_peer *p);
void gw_peer_put(struct gw_peer *p);
/* The peer's session carrying traffic, with a reference the caller must put; NULL if
 * none. */
struct gw_session *gw_peer_session(struct gw_peer *p);
/* Keeps a copy of pkt[0..len), read from TUN for p while p has no session, to be sent
 * when one is up (within GW_STAGE_MAX_AGE_MS; the oldest goes when GW_STAGE_MAX wait).
 * False if p has a session by now, is removed, or there is no memory: drop it. */
bool gw_peer_stage(struct gw_peer *p, const uint8_t *pkt, size_t len);
/* Marks p removed, stops its dialling and closes its sessions (close_notify). */
void gw_peer_disconnect(struct gw_peer *p);
/* Counts and logs (rate-limited) the renegotiations of gs that libdtls refused since
 * the last call, st being its stats (the control thread, or gs's reaper). */
void gw_reneg_account(struct gw_peer *p, struct gw_session *gs,
		      const struct dtls_session_stats *st);
/* Ends every server handshake not yet authorized that a PSK lookup bound to a peer
 * now removed (a reload replaced its key or identity, or removed it). */
void gw_end_stale_handshakes(struct gateway *gw);
/* Whether two peer policies are the same in everything a session depends on. */
bool gw_policy_equal(const struct peer_policy *a, const struct peer_policy *b);
/* (Re)builds p's client config from cfg. */
int gw_peer_configure(struct gw_peer *p, const struct gw_config *cfg) GW_MUST_CHECK;
/* Starts a handshake towards an initiator peer's endpoint (control thread). */
void gw_peer_dial(struct gw_peer *p, uint64_t now);

/* ---- sessions ---- */

/*
 * A server session for a sender whose ClientHello hello[0..len) passed the cookie
 * check, linked in the map (replacing the session of that address if replace).
 * Returns it with a reference the caller must put, or NULL (logged).
 */
struct gw_session *gw_session_accept(struct gateway *gw, const struct gw_gen *gen,
				     const struct sockaddr *from, socklen_t from_len,
				     const uint8_t *hello, size_t len, bool replace);
/* The session that gets datagram d[0..n) from gs's address: gs, or, while gs is a new
 * handshake standing in for its peer's working session, that session for anything but
 * handshake records. Takes the caller's reference on gs and returns one on the result. */
struct gw_session *gw_session_route(struct gw_session *gs, const uint8_t *d, size_t n);

static inline struct gw_session *gw_session_of(struct smap_node *n)
{
	return (struct gw_session *)((char *)n - offsetof(struct gw_session, node));
}

static inline void gw_session_ref(struct gw_session *gs) { smap_ref(&gs->node); }
static inline void gw_session_put(struct gw_session *gs) { if (gs) smap_put(&gs->node); }

void gw_session_lock(struct gw_session *gs);
/* Refreshes next_due/state and unlocks. Call gw_session_after() next. */
void gw_session_unlock(struct gw_session *gs);
/* Acts on what the callbacks noted during the last calls (handshake done: install
 * as the peer's session; ended: reap). Without any session lock held. */
void gw_session_after(struct gw_session *gs);
/* Sends close_notify (takes the lock). */
void gw_session_close(struct gw_session *gs);
struct udp_error;
/* An error a worker took from its UDP socket's error queue (daemon/udp.h): one that
 * says the peer we are dialling cannot be reached (ICMP port unreachable, no route)
 * ends that handshake at once, logged, and the peer is dialled again after the usual
 * backoff; the others are counted and logged at debug level (rate-limited). */
void gw_udp_error(struct gateway *gw, const struct udp_error *e);
/* Drops gs at once, without a word to the peer: out of the map, off its peer. Logged
 * with reason at level, or, for reason NULL, with the error libdtls ended it with.
 * A peer whose session is dropped with a reason is dialled again at once (if it is
 * an initiator). Idempotent. */
void gw_session_reap(struct gw_session *gs, enum gw_log_level level, const char *reason);

/* ---- quiescent-state reclamation ---- */

void gw_retire(struct gateway *gw, void (*fn)(void *arg), void *arg);
/* Runs the retired frees whose grace period is over (all, if force). */
void gw_retire_poll(struct gateway *gw, bool force);

/* ---- timers.c (control thread) ---- */

/* The periodic work: session timers, keepalives, dead peers, reaping, dialling,
 * cookie rotation, deferred frees. */
void gw_timers_tick(struct gateway *gw, uint64_t now);
/* Milliseconds between ticks. */
#define GW_TICK_MS 25

/* ---- reload.c (control thread) ---- */

/* What gw_apply() did to a peer. */
enum gw_peer_change { GW_PEER_ADDED, GW_PEER_CHANGED, GW_PEER_REMOVED, GW_PEER_UNCHANGED };
/* Told of each peer of the old and new configuration once; name is valid for the call. */
typedef void gw_applied_fn(void *arg, const char *name, enum gw_peer_change change);

/* Applies a validated configuration (consumed), as a reload (daemon/control_ops.c does
 * the reading): unchanged peers keep their sessions, removed peers are disconnected,
 * new ones dialled/awaited, changed ones reconnected, routes updated; logged as
 * "reloaded WHAT: ...". Then, if fn is not NULL, fn(arg, ...) for each new peer in
 * configuration order and each removed one in the old order. If the new configuration
 * cannot be built, nothing changes, fn is not called and the return is negative. */
int gw_apply(struct gateway *gw, struct gw_config *cfg, const char *what, gw_applied_fn *fn,
	     void *arg) GW_MUST_CHECK;

/* ---- helpers ---- */

/* "192.0.2.1:4433" / "[2001:db8::1]:4433"; IPv4-mapped IPv6 shown as IPv4. */
#define GW_ADDRSTRLEN 64
const char *gw_addr_str(const struct sockaddr *sa, socklen_t len, char buf[static GW_ADDRSTRLEN]);

#endif
