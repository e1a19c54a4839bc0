/*
 * sessions_bench: resident memory per established, idle DTLS session.
 *
 * One dtls_server (max_sessions = N) and N client sessions in one process, each client
 * with its own fake source address (10.x.y.z, ports 20000..20015), suite
 * TLS_PSK_WITH_AES_128_GCM_SHA256, cookies on. The handshakes run one after the other over
 * an in-memory queue on a virtual clock; then the clock jumps past every timer
 * (dtls_server_timeout / dtls_session_timeout) so that the lingering state of the last
 * flight expires and only idle established sessions remain. Memory is measured in phases:
 *
 *   baseline        configs, server, the bench's own arrays (allocated and touched first)
 *   handshaken      all N handshakes done, lingering handshake state still held
 *   idle, both      timers expired: N server + N client sessions
 *   idle, server    the client sessions freed: N server sessions
 *   all freed       the server freed too (what is left is a leak or allocator slack)
 *
 * Each phase reports RSS (/proc/self/statm) and the bytes malloc has handed out
 * (mallinfo2: in use + mmapped, all arenas), after malloc_trim(0). Per-session figures
 * divide the difference to the baseline by N. Prints numbers, asserts nothing.
 *
 * Every call on a client session runs on a second thread (the main thread waits for it),
 * so that client allocations come from another malloc arena than the server's: freed
 * client sessions then give their pages back, and the server-only RSS is what a real
 * server would hold rather than a heap with a hole between every two server sessions.
 * -1 runs everything on one thread (interleaved heap; the RSS figures then overstate).
 *
 *   sessions_bench [-1] [N, default 100000]
 */
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtls/dtls.h>

#define SLOT 2048
#define QLEN 64
#define PORTS 16

static void die(const char *what, const char *why)
{
	fprintf(stderr, "sessions_bench: %s: %s\n", what, why);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the client thread: runs one call at a time for the main thread ---------- */

static bool one_thread;
static pthread_mutex_t ex_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ex_cv = PTHREAD_COND_INITIALIZER;
static void (*ex_fn)(void *);
static void *ex_arg;
static bool ex_busy, ex_quit;

static void *client_thread(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&ex_mu);
	for (;;) {
		while (!ex_busy && !ex_quit)
			pthread_cond_wait(&ex_cv, &ex_mu);
		if (ex_quit)
			break;
		pthread_mutex_unlock(&ex_mu);
		ex_fn(ex_arg);
		pthread_mutex_lock(&ex_mu);
		ex_busy = false;
		pthread_cond_broadcast(&ex_cv);
	}
	pthread_mutex_unlock(&ex_mu);
	return NULL;
}

/* Runs fn(arg) on the client thread and waits for it. */
static void on_client_thread(void (*fn)(void *), void *arg)
{
	if (one_thread) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&ex_mu);
	ex_fn = fn;
	ex_arg = arg;
	ex_busy = true;
	pthread_cond_broadcast(&ex_cv);
	while (ex_busy)
		pthread_cond_wait(&ex_cv, &ex_mu);
	pthread_mutex_unlock(&ex_mu);
}

/* ---- the network: one FIFO of datagrams, each to the server or to one client ---- */

struct pkt {
	bool to_server;
	size_t client;
	size_t len;
	uint8_t data[SLOT];
};

static struct pkt queue[QLEN];
static unsigned q_head, q_n;
static uint64_t vclock = 1000; /* virtual milliseconds */
static uint64_t dgrams, bytes;

static void q_push(bool to_server, size_t client, const uint8_t *d, size_t len)
{
	if (len > SLOT || q_n == QLEN)
		die("queue", len > SLOT ? "datagram larger than a slot" : "queue full");
	struct pkt *p = &queue[(q_head + q_n) % QLEN];
	p->to_server = to_server;
	p->client = client;
	p->len = len;
	memcpy(p->data, d, len);
	q_n++;
	dgrams++;
	bytes += len;
}

/* Client i's address: 10.0.0.0 + i / PORTS, port 20000 + i % PORTS. */
static struct sockaddr_in addr_of(size_t i)
{
	return (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)(20000 + i % PORTS)),
		.sin_addr = { .s_addr = htonl(0x0a000000u | (uint32_t)(i / PORTS)) },
	};
}

static size_t index_of(const struct sockaddr *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	return (size_t)(ntohl(in->sin_addr.s_addr) & 0xffffff) * PORTS + (ntohs(in->sin_port) - 20000);
}

static struct dtls_session **clients;
static size_t n_clients, server_established;

static void client_send(void *arg, const uint8_t *d, size_t len)
{
	q_push(true, (size_t)(uintptr_t)arg, d, len);
}

static const struct dtls_callbacks client_cb = { .send = client_send };

static void server_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	(void)arg, (void)l;
	q_push(false, index_of(a), d, n);
}

static void server_established_cb(void *arg, struct dtls_session *s)
{
	(void)arg, (void)s;
	server_established++;
}

static const struct dtls_server_callbacks server_cb = { .send = server_send,
							.established = server_established_cb };

static struct dtls_config *ccfg;
static uint64_t later; /* a time past every timer */

static void client_start(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;
	clients[i] = dtls_session_new_client(ccfg, &client_cb, arg);
	if (!clients[i] || dtls_session_start(clients[i], vclock) < 0)
		die("client", "start failed");
}

static void client_handle(void *arg)
{
	struct pkt *p = arg;
	if (dtls_session_handle(clients[p->client], p->data, p->len, vclock) < 0)
		die("client", dtls_strerror(dtls_session_error(clients[p->client])));
}

static size_t pending_c;

static void clients_expire(void *unused)
{
	(void)unused;
	for (size_t i = 0; i < n_clients; i++) {
		if (dtls_session_next_timeout(clients[i]) <= later && dtls_session_timeout(clients[i], later) < 0)
			die("dtls_session_timeout", "failed");
		if (dtls_session_next_timeout(clients[i]) != UINT64_MAX)
			pending_c++;
		if (dtls_session_state(clients[i]) != DTLS_STATE_ESTABLISHED)
			die("client", "not established after the timers");
	}
}

static void clients_free(void *unused)
{
	(void)unused;
	for (size_t i = 0; i < n_clients; i++)
		dtls_session_free(clients[i]);
	/*
	 * glibc's malloc_trim does not shrink the top chunk of a thread's arena, and the
	 * small frees above may not have trimmed it either (they sit in fast bins until
	 * consolidated). Freeing one chunk of 64 KiB or more on this thread consolidates
	 * the arena and trims its heap.
	 */
	void *big = malloc(96 * 1024);
	if (big) {
		memset(big, 0, 96 * 1024);
		free(big);
	}
}

static void pump(struct dtls_server *srv)
{
	while (q_n) {
		struct pkt *p = &queue[q_head];
		vclock++;
		if (p->to_server) {
			struct sockaddr_in a = addr_of(p->client);
			if (dtls_server_handle(srv, (const struct sockaddr *)&a, sizeof(a), p->data, p->len, vclock) < 0)
				die("dtls_server_handle", "failed");
		} else {
			on_client_thread(client_handle, p);
		}
		q_head = (q_head + 1) % QLEN;
		q_n--;
	}
}

/* ---- memory ----------------------------------------------------------------- */

struct mem {
	size_t rss;  /* bytes resident */
	size_t heap; /* bytes malloc has handed out and not taken back */
};

static struct mem measure(bool trim)
{
	if (trim)
		malloc_trim(0);
	struct mem m = { 0, 0 };
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;
	if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
		die("/proc/self/statm", "unreadable");
	fclose(f);
	m.rss = resident * (size_t)sysconf(_SC_PAGESIZE);
	struct mallinfo2 mi = mallinfo2();
	m.heap = mi.uordblks + mi.hblkhd;
	return m;
}

static size_t peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %zu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

static void row(const char *phase, struct mem m, struct mem base, size_t n, bool per)
{
	double drss = (double)m.rss - (double)base.rss, dheap = (double)m.heap - (double)base.heap;
	printf("%-34s %10.1f %10.1f", phase, m.rss / 1048576.0, m.heap / 1048576.0);
	if (per)
		printf(" %12.0f %12.0f", drss / (double)n, dheap / (double)n);
	else
		printf(" %12s %12s", "", "");
	printf("\n");
}

/* ---- main ------------------------------------------------------------------- */

static struct dtls_config *psk_config(void)
{
	static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct dtls_config *cfg = dtls_config_new();
	if (!cfg || dtls_config_set_ciphers(cfg, "TLS_PSK_WITH_AES_128_GCM_SHA256") < 0 ||
	    dtls_config_add_psk(cfg, (const uint8_t *)"client1", 7, key, sizeof(key)) < 0)
		die("config", "failed");
	dtls_config_set_cookies(cfg, true);
	return cfg;
}

int main(int argc, char **argv)
{
	size_t n = 100000;
	if (argc > 1 && strcmp(argv[1], "-1") == 0) {
		one_thread = true;
		argc--, argv++;
	}
	if (argc > 2 || (argc == 2 && (n = strtoul(argv[1], NULL, 10)) == 0)) {
		fprintf(stderr, "usage: sessions_bench [-1] [number of sessions, default 100000]\n");
		return 2;
	}
	if ((n - 1) / PORTS >= (1u << 24))
		die("N", "too large for the address plan");
	if (dtls_init() < 0)
		die("dtls_init", "failed");
	n_clients = n;
	ccfg = psk_config();
	struct dtls_config *scfg = psk_config();
	pthread_t th;
	if (!one_thread && pthread_create(&th, NULL, client_thread, NULL) != 0)
		die("pthread_create", "failed");
	struct dtls_server *srv = dtls_server_new(scfg, &server_cb, NULL, n);
	clients = calloc(n, sizeof(*clients));
	if (!srv || !clients)
		die("setup", "out of memory");
	memset(clients, 0, n * sizeof(*clients)); /* resident before the baseline */
	struct mem base = measure(true);

	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		on_client_thread(client_start, (void *)(uintptr_t)i);
		pump(srv);
		if (dtls_session_state(clients[i]) != DTLS_STATE_ESTABLISHED)
			die("client", "handshake did not complete");
	}
	double t_hs = now_s() - t0;
	if (server_established != n || dtls_server_session_count(srv) != n)
		die("server", "not every session established");
	struct mem handshaken = measure(false);
	struct mem handshaken_trim = measure(true);

	/* Jump past every timer: the last flight's retransmission state expires. */
	size_t pending_s = 0;
	later = vclock + 24ull * 3600 * 1000;
	if (dtls_server_timeout(srv, later) < 0)
		die("dtls_server_timeout", "failed");
	on_client_thread(clients_expire, NULL);
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in a = addr_of(i);
		struct dtls_session *s = dtls_server_find(srv, (const struct sockaddr *)&a, sizeof(a));
		if (!s || dtls_session_state(s) != DTLS_STATE_ESTABLISHED)
			die("server", "a session is gone or not established after the timers");
		if (dtls_session_next_timeout(s) != UINT64_MAX)
			pending_s++;
	}
	if (q_n)
		die("timers", "sent datagrams on idle sessions");
	struct mem idle_both = measure(true);

	on_client_thread(clients_free, NULL);
	struct mem idle_server = measure(true);

	dtls_server_free(srv);
	struct mem freed = measure(true);
	size_t hwm = peak_rss();

	if (!one_thread) {
		pthread_mutex_lock(&ex_mu);
		ex_quit = true;
		pthread_cond_broadcast(&ex_cv);
		pthread_mutex_unlock(&ex_mu);
		pthread_join(th, NULL);
	}

	printf("%zu sessions, TLS_PSK_WITH_AES_128_GCM_SHA256, cookies on, one dtls_server; client sessions %s\n",
	       n, one_thread ? "on the same thread (one malloc arena)" : "on their own thread (own malloc arena)");
	printf("handshakes: %.1f s, %.0f/s (one at a time, dtls_server demux%s); %.1f datagrams, %.0f bytes each\n",
	       t_hs, n / t_hs, one_thread ? "" : ", thread hand-offs included", (double)dgrams / n,
	       (double)bytes / n);
	printf("timers still armed after the jump: %zu client, %zu server sessions\n\n", pending_c, pending_s);
	printf("%-34s %10s %10s %12s %12s\n", "phase", "RSS MiB", "malloc MiB", "RSS B/sess", "malloc B/sess");
	row("baseline", base, base, n, false);
	row("handshaken (no trim)", handshaken, base, n, true);
	row("handshaken", handshaken_trim, base, n, true);
	row("idle, server + client sessions", idle_both, base, n, true);
	row("idle, server sessions only", idle_server, base, n, true);
	row("all freed", freed, base, n, true);
	printf("peak RSS %.1f MiB\n\n", hwm / 1048576.0);
	printf("per idle session: server %.0f B RSS (%.0f B malloc), client %.0f B RSS (%.0f B malloc),\n"
	       "                  both %.0f B RSS (%.0f B malloc)\n",
	       ((double)idle_server.rss - base.rss) / n, ((double)idle_server.heap - base.heap) / n,
	       ((double)idle_both.rss - idle_server.rss) / n, ((double)idle_both.heap - idle_server.heap) / n,
	       ((double)idle_both.rss - base.rss) / n, ((double)idle_both.heap - base.heap) / n);

	free(clients);
	dtls_config_unref(ccfg);
	dtls_config_unref(scfg);
	return 0;
}
