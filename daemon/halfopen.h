/*
 * The budget for half-open handshakes: server sessions past the cookie exchange whose
 * client has not yet authenticated (its Finished). A cookie proves only that the sender
 * reads what is sent to its address, so one host can open one such session per source
 * port; these limits keep them from filling the gateway:
 *   - at most max_per_addr per source address (the port ignored): more are refused;
 *   - at most max in all: a new one takes the place of the oldest;
 *   - none older than timeout_ms: the control thread drops them.
 * A real peer's handshake is half-open for one round trip, so under a flood it is the
 * newest, not the oldest, and gets through.
 *
 * The registry keeps its sessions in a list, oldest first, and counts them per address
 * in a session map keyed by the address with port 0. It holds a reference on each.
 * Lock: lock, taken inside a session lock (authorize) or alone; it holds none of the
 * gateway's other locks (the map's shard locks are leaves).
 */
#ifndef DTLSGW_DAEMON_HALFOPEN_H
#define DTLSGW_DAEMON_HALFOPEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct gw_session;
struct session_map;

struct halfopen {
	pthread_mutex_t lock;
	struct gw_session *head, *tail; /* under lock: oldest first */
	size_t n;                       /* under lock */
	struct session_map *addrs;      /* under lock: address (port 0) -> count */
	atomic_uint max, max_per_addr;  /* set at start and by reload */
	_Atomic uint64_t timeout_ms;
};

int ho_init(struct halfopen *h) __attribute__((warn_unused_result));
/* Lets go of every session (their references) and frees the registry. */
void ho_free(struct halfopen *h);
void ho_set_limits(struct halfopen *h, unsigned max, unsigned max_per_addr, unsigned timeout_s);
/*
 * Registers gs, a new server session, and takes a reference on it. -EAGAIN if its
 * address has max_per_addr half-open sessions already (gs is not registered);
 * -ENOMEM. When the registry was full, *evicted is the oldest session, taken out of it
 * with the registry's reference, for the caller to drop and put; else NULL.
 */
int ho_admit(struct halfopen *h, struct gw_session *gs, struct gw_session **evicted)
	__attribute__((warn_unused_result));
/* Takes gs out (authorized, or gone) and drops the registry's reference; does nothing
 * if gs is not in it. */
void ho_leave(struct halfopen *h, struct gw_session *gs);
/* The oldest session if it is older than the timeout at now, taken out with the
 * registry's reference (the caller drops and puts it); else NULL. */
struct gw_session *ho_expired(struct halfopen *h, uint64_t now);
size_t ho_count(struct halfopen *h);

#endif
