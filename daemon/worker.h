/*
 * Workers: one thread per TUN queue, each with its own UDP socket (SO_REUSEPORT)
 * and epoll loop (DESIGN.md "the data path"):
 *
 *   UDP --recvmmsg--> session map lookup --lock, open in place--> policy check --> TUN queue
 *   TUN queue --read--> route (LPM) --> peer's session --lock, seal in place--> sendmmsg
 *
 * Nothing is allocated and nothing copied per packet: a worker owns two sets of
 * WORKER_BATCH buffers (received datagrams; TUN packets with DTLS_HEADROOM before and
 * DTLS_TAILROOM after) and seals and opens in them.
 *
 * A worker reads the gateway's generation only between two quiescent points (around
 * each epoll_wait), which lets the control thread free a replaced generation once
 * every worker has been through one (gw_retire()).
 */
#ifndef DTLSGW_DAEMON_WORKER_H
#define DTLSGW_DAEMON_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "daemon/gateway.h"

#define WORKER_MUST_CHECK __attribute__((warn_unused_result))
#define WORKER_BATCH 32  /* datagrams per recvmmsg/sendmmsg, packets per TUN round */
#define WORKER_ROUNDS 8  /* batches per wake-up and direction before epoll again */

struct worker;

/* A worker owning udp_fd (closed by worker_free) and using tun_fd (owned by the TUN
 * device). -errno. */
int worker_new(struct gateway *gw, unsigned id, int udp_fd, int tun_fd,
	       struct worker **out) WORKER_MUST_CHECK;
int worker_start(struct worker *w) WORKER_MUST_CHECK;
/* Asks the thread to stop and joins it. Idempotent. */
void worker_stop(struct worker *w);
void worker_free(struct worker *w);

int worker_udp_fd(const struct worker *w);
/* The quiescent-state counter: odd while the worker runs, even while it sleeps. */
uint64_t worker_qs(const struct worker *w);

/*
 * A packet opened for peer p goes to the worker's TUN queue (called by the data
 * callback on the worker's thread). With offloads it waits for the end of the
 * receive batch if it lies in the worker's receive buffers, so that consecutive TCP
 * segments of one flow go in as one super-packet; otherwise it is written at once.
 * A failed write is counted as a tun drop of p.
 */
void worker_tun_write(struct worker *w, struct gw_peer *p, const uint8_t *d, size_t n);

#endif
