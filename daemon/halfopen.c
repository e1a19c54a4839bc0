/* The budget for half-open handshakes. See halfopen.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/gateway.h"
#include "daemon/halfopen.h"
#include "daemon/session_map.h"

/* The half-open sessions of one source address. */
struct ho_addr {
	struct smap_node node; /* key: the address, port 0 */
	unsigned count;        /* under the registry's lock */
};

static void addr_release(struct smap_node *n)
{
	free((struct ho_addr *)((char *)n - offsetof(struct ho_addr, node)));
}

/* gs's address with port 0 (a copy). */
static void addr_of(const struct gw_session *gs, struct sockaddr_storage *out)
{
	memcpy(out, &gs->addr, gs->addr_len);
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = 0;
	else
		((struct sockaddr_in6 *)out)->sin6_port = 0;
}

/* The entry of gs's address, with a reference; created (count 0) if create. */
static struct ho_addr *addr_get(struct halfopen *h, const struct gw_session *gs, bool create)
{
	struct sockaddr_storage sa;
	struct smap_node *n;
	struct ho_addr *a;

	addr_of(gs, &sa);
	if ((n = smap_get(h->addrs, (struct sockaddr *)&sa, gs->addr_len)))
		return (struct ho_addr *)((char *)n - offsetof(struct ho_addr, node));
	if (!create || !(a = calloc(1, sizeof(*a))))
		return NULL;
	if (smap_node_init(&a->node, (struct sockaddr *)&sa, gs->addr_len, addr_release) < 0) {
		free(a);
		return NULL;
	}
	if (smap_insert(h->addrs, &a->node) < 0) { /* cannot happen: under the lock */
		smap_put(&a->node);
		return NULL;
	}
	return a;
}

int ho_init(struct halfopen *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	return smap_new(&h->addrs);
}

void ho_set_limits(struct halfopen *h, unsigned max, unsigned max_per_addr, unsigned timeout_s)
{
	atomic_store(&h->max, max);
	atomic_store(&h->max_per_addr, max_per_addr);
	atomic_store(&h->timeout_ms, (uint64_t)timeout_s * 1000);
}

/* Takes gs out of the list and its address's count (under lock); the caller has the
 * registry's reference now. */
static void unlink_locked(struct halfopen *h, struct gw_session *gs)
{
	struct ho_addr *a = addr_get(h, gs, false);

	if (gs->ho_prev)
		gs->ho_prev->ho_next = gs->ho_next;
	else
		h->head = gs->ho_next;
	if (gs->ho_next)
		gs->ho_next->ho_prev = gs->ho_prev;
	else
		h->tail = gs->ho_prev;
	gs->ho_prev = gs->ho_next = NULL;
	gs->ho_in = false;
	h->n--;
	if (a) {
		if (--a->count == 0)
			(void)smap_remove(h->addrs, &a->node);
		smap_put(&a->node);
	}
}

int ho_admit(struct halfopen *h, struct gw_session *gs, struct gw_session **evicted)
{
	struct ho_addr *a;

	*evicted = NULL;
	pthread_mutex_lock(&h->lock);
	if (!(a = addr_get(h, gs, true))) {
		pthread_mutex_unlock(&h->lock);
		return -ENOMEM;
	}
	if (a->count >= atomic_load(&h->max_per_addr)) {
		if (!a->count)
			(void)smap_remove(h->addrs, &a->node);
		smap_put(&a->node);
		pthread_mutex_unlock(&h->lock);
		return -EAGAIN;
	}
	a->count++;
	smap_put(&a->node);
	if (h->n >= atomic_load(&h->max) && h->head) {
		*evicted = h->head;
		unlink_locked(h, h->head);
	}
	gw_session_ref(gs);
	gs->ho_in = true;
	gs->ho_prev = h->tail;
	gs->ho_next = NULL;
	if (h->tail)
		h->tail->ho_next = gs;
	else
		h->head = gs;
	h->tail = gs;
	h->n++;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void ho_leave(struct halfopen *h, struct gw_session *gs)
{
	bool was_in;

	pthread_mutex_lock(&h->lock);
	was_in = gs->ho_in;
	if (was_in)
		unlink_locked(h, gs);
	pthread_mutex_unlock(&h->lock);
	if (was_in)
		gw_session_put(gs); /* never the last: the caller holds one */
}

struct gw_session *ho_expired(struct halfopen *h, uint64_t now)
{
	struct gw_session *gs = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->head && h->head->created_ms + atomic_load(&h->timeout_ms) <= now) {
		gs = h->head;
		unlink_locked(h, gs);
	}
	pthread_mutex_unlock(&h->lock);
	return gs;
}

size_t ho_count(struct halfopen *h)
{
	size_t n;

	pthread_mutex_lock(&h->lock);
	n = h->n;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void ho_free(struct halfopen *h)
{
	struct gw_session *gs;

	for (;;) {
		pthread_mutex_lock(&h->lock);
		gs = h->head;
		if (gs)
			unlink_locked(h, gs);
		pthread_mutex_unlock(&h->lock);
		if (!gs)
			break;
		gw_session_put(gs);
	}
	smap_free(h->addrs);
	h->addrs = NULL;
	pthread_mutex_destroy(&h->lock);
}
