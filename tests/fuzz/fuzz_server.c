/*
 * The server engine: a dtls_server fed a sequence of datagrams from one or several
 * addresses.
 *
 * Input: config(1) chunk*, chunks as in fuzz.h. config picks one of the configurations
 * below (cookies on and off, PSK, certificates, client certificates, a small MTU).
 * A chunk's meta: bits 0-1 the sender (two IPv4 ports, an IPv6 address, a second IPv4
 * host); bit 2: first let (meta >> 3) * 250 ms pass and run the timers.
 *
 * Oracles: with cookies on no session may exist (the fuzzer never sees a cookie); no
 * session may complete a handshake or deliver data (it never sees a key).
 */
#include <netinet/in.h>

#include "fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned configs[] = {
	FUZZ_CFG_PSK,
	FUZZ_CFG_PSK | FUZZ_CFG_NOCOOKIE,
	FUZZ_CFG_PSK | FUZZ_CFG_CERT | FUZZ_CFG_NOCOOKIE,
	FUZZ_CFG_CERT | FUZZ_CFG_VERIFY | FUZZ_CFG_NOCOOKIE,
	FUZZ_CFG_PSK | FUZZ_CFG_NOCOOKIE | FUZZ_CFG_SMALL,
	FUZZ_CFG_CERT,
};
#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))
static struct dtls_config *cfgs[N_CONFIGS];

static struct sockaddr_storage addrs[4];
static socklen_t addr_lens[4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0)
		abort();
	for (size_t i = 0; i < N_CONFIGS; i++)
		cfgs[i] = fuzz_config(true, configs[i], NULL);
	for (int i = 0; i < 4; i++) {
		if (i == 2) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addrs[i];
			a->sin6_family = AF_INET6;
			a->sin6_port = htons(4433);
			a->sin6_addr.s6_addr[15] = 1;
			addr_lens[i] = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&addrs[i];
			a->sin_family = AF_INET;
			a->sin_port = htons((uint16_t)(5000 + i));
			a->sin_addr.s_addr = htonl(i == 3 ? 0x0a000002 : 0x7f000001);
			addr_lens[i] = sizeof(*a);
		}
	}
	return 0;
}

static bool cookies;

static void on_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	(void)arg;
	fuzz_touch((const uint8_t *)a, l);
	fuzz_touch(d, n);
	if (n == 0 || n > DTLS_MAX_DATAGRAM)
		abort();
}

static int on_connect(void *arg, struct dtls_session *s, const struct sockaddr *a, socklen_t l)
{
	(void)arg, (void)s, (void)a, (void)l;
	if (cookies) {
		fprintf(stderr, "fuzz_server: a session without a valid cookie\n");
		abort();
	}
	return 0;
}

static void on_data(void *arg, struct dtls_session *s, const uint8_t *d, size_t n)
{
	(void)arg, (void)s, (void)d, (void)n;
	fprintf(stderr, "fuzz_server: application data from an unauthenticated peer\n");
	abort();
}

static void on_established(void *arg, struct dtls_session *s)
{
	(void)arg, (void)s;
	fprintf(stderr, "fuzz_server: a handshake completed with a peer that has no key\n");
	abort();
}

static const struct dtls_server_callbacks cb = {
	.send = on_send, .connect = on_connect, .data = on_data, .established = on_established,
};

static uint8_t buf[DTLS_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t which = data[0] % N_CONFIGS;
	cookies = !(configs[which] & FUZZ_CFG_NOCOOKIE);
	data++, size--;

	struct dtls_server *srv = dtls_server_new(cfgs[which], &cb, NULL, 2);
	if (!srv)
		abort();
	uint64_t now = 1000;
	uint8_t meta;
	const uint8_t *chunk;
	size_t len;
	while (fuzz_chunk(&data, &size, &meta, &chunk, &len)) {
		if (meta & 4) {
			now += (uint64_t)(meta >> 3) * 250;
			if (dtls_server_timeout(srv, now) < 0)
				abort();
		}
		now++;
		memcpy(buf, chunk, len);
		unsigned a = meta & 3;
		/* Fails only at the session limit: the datagram is dropped. */
		int rc = dtls_server_handle(srv, (const struct sockaddr *)&addrs[a], addr_lens[a], buf, len, now);
		(void)rc;
		if (dtls_server_session_count(srv) > 2)
			abort();
		(void)dtls_server_next_timeout(srv);
	}
	dtls_server_free(srv);
	return 0;
}
