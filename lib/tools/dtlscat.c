/*
 * dtlscat: netcat over DTLS 1.2, on libdtls's public API only.
 *
 *   dtlscat client HOST PORT [options]
 *   dtlscat server [--bind ADDR] PORT [options]
 *
 * Each line of stdin is one datagram to the peer; each datagram from the peer is
 * written to stdout as one line. End of stdin ends the session with close_notify.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtls/dtls.h>

#define MAX_CAS 8

struct opts {
	bool server;
	const char *host, *port, *bind;
	const char *psk_identity, *psk_hex, *psk_hint, *ciphers;
	const char *cas[MAX_CAS];
	int n_cas;
	const char *cert, *key, *servername, *pin_hex;
	bool verify_client, no_cookie, echo, verbose;
	long mtu, count, timeout_ms, rto_ms;
};

static struct {
	int fd;
	struct dtls_session *client;
	struct dtls_server *server;
	const struct opts *o;
	long ended;
	int last_err;
	bool stdin_open;
	bool closing; /* the client sent close_notify at the end of stdin */
	struct sockaddr_storage last_peer;
	socklen_t last_peer_len;
} g;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("dtlscat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap || n == 0)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static void usage(void)
{
	fputs("usage: dtlscat client HOST PORT [options]\n"
	      "       dtlscat server [--bind ADDR] PORT [options]\n"
	      "options: --psk-identity ID --psk HEX [--psk-hint HINT]\n"
	      "         --ca FILE (repeatable) --cert FILE --key FILE --verify-client\n"
	      "         --servername NAME --pin-sha256 HEX --ciphers LIST --mtu N\n"
	      "         --timeout MS --rto MS --no-cookie --echo --count N -v\n",
	      stderr);
	exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_ID = 256, O_PSK, O_HINT, O_CIPHERS, O_MTU, O_NOCOOKIE, O_ECHO, O_COUNT, O_BIND, O_CA, O_CERT,
	       O_KEY, O_VERIFY, O_SNI, O_PIN, O_TIMEOUT, O_RTO };
	static const struct option lo[] = {
		{ "psk-identity", 1, 0, O_ID }, { "psk", 1, 0, O_PSK }, { "psk-hint", 1, 0, O_HINT },
		{ "ciphers", 1, 0, O_CIPHERS }, { "mtu", 1, 0, O_MTU }, { "no-cookie", 0, 0, O_NOCOOKIE },
		{ "echo", 0, 0, O_ECHO }, { "count", 1, 0, O_COUNT }, { "bind", 1, 0, O_BIND },
		{ "ca", 1, 0, O_CA }, { "cert", 1, 0, O_CERT }, { "key", 1, 0, O_KEY },
		{ "verify-client", 0, 0, O_VERIFY }, { "servername", 1, 0, O_SNI }, { "pin-sha256", 1, 0, O_PIN },
		{ "timeout", 1, 0, O_TIMEOUT }, { "rto", 1, 0, O_RTO }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "client") == 0)
		o->server = false;
	else if (strcmp(argv[1], "server") == 0)
		o->server = true;
	else
		usage();
	optind = 2;
	int c;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case O_ID: o->psk_identity = optarg; break;
		case O_PSK: o->psk_hex = optarg; break;
		case O_HINT: o->psk_hint = optarg; break;
		case O_CIPHERS: o->ciphers = optarg; break;
		case O_MTU: o->mtu = strtol(optarg, NULL, 10); break;
		case O_NOCOOKIE: o->no_cookie = true; break;
		case O_ECHO: o->echo = true; break;
		case O_COUNT: o->count = strtol(optarg, NULL, 10); break;
		case O_BIND: o->bind = optarg; break;
		case O_CA:
			if (o->n_cas == MAX_CAS)
				die("too many --ca");
			o->cas[o->n_cas++] = optarg;
			break;
		case O_CERT: o->cert = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_VERIFY: o->verify_client = true; break;
		case O_SNI: o->servername = optarg; break;
		case O_PIN: o->pin_hex = optarg; break;
		case O_TIMEOUT: o->timeout_ms = strtol(optarg, NULL, 10); break;
		case O_RTO: o->rto_ms = strtol(optarg, NULL, 10); break;
		case 'v': o->verbose = true; break;
		default: usage();
		}
	}
	int left = argc - optind;
	if (o->server && left == 1) {
		o->port = argv[optind];
	} else if (!o->server && left == 2) {
		o->host = argv[optind];
		o->port = argv[optind + 1];
	} else {
		usage();
	}
}

static struct dtls_config *make_config(const struct opts *o)
{
	struct dtls_config *cfg = dtls_config_new();
	char err[256] = "";
	if (!cfg)
		die("cannot initialise the DTLS library");
	if (o->ciphers && dtls_config_set_ciphers(cfg, o->ciphers) < 0)
		die("--ciphers: no known suite in '%s'", o->ciphers);
	if (o->psk_hex) {
		uint8_t key[DTLS_MAX_PSK_LEN];
		int n = hex_decode(o->psk_hex, key, sizeof(key));
		const char *id = o->psk_identity ? o->psk_identity : "Client_identity";
		if (n < 0)
			die("--psk: expected 2 to 128 hex digits");
		if (dtls_config_add_psk(cfg, (const uint8_t *)id, strlen(id), key, (size_t)n) < 0)
			die("--psk-identity: 1 to %d bytes", DTLS_MAX_PSK_IDENTITY);
	}
	if (o->psk_hint && dtls_config_set_psk_hint(cfg, o->psk_hint) < 0)
		die("--psk-hint: at most %d bytes", DTLS_MAX_PSK_IDENTITY);
	if (o->mtu && dtls_config_set_mtu(cfg, (size_t)o->mtu) < 0)
		die("--mtu: out of range");
	if ((o->timeout_ms || o->rto_ms) &&
	    (o->timeout_ms < 0 || o->rto_ms < 0 ||
	     dtls_config_set_timers(cfg, o->rto_ms ? (uint32_t)o->rto_ms : 1000, 60000,
				    o->timeout_ms ? (uint32_t)o->timeout_ms : 120000) < 0))
		die("--timeout/--rto: out of range");
	for (int i = 0; i < o->n_cas; i++)
		if (dtls_config_add_trusted(cfg, o->cas[i], err, sizeof(err)) < 0)
			die("--ca: %s", err);
	if (!!o->cert != !!o->key)
		die("--cert and --key go together");
	if (o->cert && dtls_config_add_local_cert(cfg, o->cert, o->key, err, sizeof(err)) < 0)
		die("%s", err);
	if (o->verify_client)
		dtls_config_verify_client(cfg, true, true);
	if (o->servername && dtls_config_set_server_name(cfg, o->servername) < 0)
		die("--servername: invalid");
	if (o->pin_hex) {
		uint8_t pin[32];
		if (hex_decode(o->pin_hex, pin, sizeof(pin)) != 32 || dtls_config_pin_sha256(cfg, pin) < 0)
			die("--pin-sha256: expected 64 hex digits");
	}
	if (o->no_cookie)
		dtls_config_set_cookies(cfg, false);
	return cfg;
}

static void print_data(const uint8_t *d, size_t n)
{
	if (n == 0)
		return;
	fwrite(d, 1, n, stdout);
	if (d[n - 1] != '\n')
		fputc('\n', stdout);
	fflush(stdout);
}

static void report_established(struct dtls_session *s)
{
	if (g.o->verbose)
		fprintf(stderr, "negotiated: DTLSv1.2 %s\n", dtls_suite_name(dtls_session_suite(s)));
}

static void report_end(struct dtls_session *s, int err)
{
	g.last_err = err;
	if (err == DTLS_ERR_CLOSED) {
		if (g.o->verbose)
			fprintf(stderr, "closed\n");
		return;
	}
	/* RFC 5246 7.2.1: the initiator of the close need not wait for the answer; some
	 * peers (gnutls-serv) never send one. Everything was delivered: not an error. */
	if (err == DTLS_ERR_CLOSE_FAIL && g.closing) {
		if (g.o->verbose)
			fprintf(stderr, "closed (peer did not answer close_notify)\n");
		return;
	}
	int peer = dtls_session_peer_alert(s), sent = dtls_session_sent_alert(s);
	if (err == DTLS_ERR_PEER_ALERT)
		fprintf(stderr, "dtlscat: peer sent alert %s\n", dtls_alert_name(peer));
	else if (sent != DTLS_ALERT_NONE)
		fprintf(stderr, "dtlscat: %s (sent alert %s)\n", dtls_strerror(err), dtls_alert_name(sent));
	else
		fprintf(stderr, "dtlscat: %s\n", dtls_strerror(err));
}

/* ---- client ---- */

static void c_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	if (send(g.fd, d, n, 0) < 0 && g.o->verbose)
		fprintf(stderr, "dtlscat: send: %s\n", strerror(errno));
}

static void c_data(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	print_data(d, n);
}

static void c_established(void *arg)
{
	(void)arg;
	report_established(g.client);
}

static void c_ended(void *arg, int err)
{
	(void)arg;
	report_end(g.client, err);
	g.ended++;
}

/* ---- server ---- */

static void s_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	(void)arg;
	if (sendto(g.fd, d, n, 0, a, l) < 0 && g.o->verbose)
		fprintf(stderr, "dtlscat: sendto: %s\n", strerror(errno));
}

static void s_data(void *arg, struct dtls_session *s, const uint8_t *d, size_t n)
{
	(void)arg;
	print_data(d, n);
	if (g.o->echo && n > 0 && dtls_session_send(s, d, n) < 0)
		fprintf(stderr, "dtlscat: echo failed\n");
}

static void s_established(void *arg, struct dtls_session *s)
{
	(void)arg;
	report_established(s);
}

static void s_ended(void *arg, struct dtls_session *s, int err)
{
	(void)arg;
	if (dtls_session_handshakes(s) == 0 && err == DTLS_ERR_CLOSED)
		return; /* freed at exit without ever starting */
	report_end(s, err);
	g.ended++;
}

static int open_socket(const struct opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = o->server ? AI_PASSIVE : 0 }, *res;
	const char *host = o->server ? o->bind : o->host;
	if (o->server && !host)
		hints.ai_family = AF_INET6;
	int rc = getaddrinfo(host, o->port, &hints, &res);
	if (rc)
		die("%s: %s", host ? host : "bind", gai_strerror(rc));
	int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (o->server) {
		int off = 0, on = 1;
		if (res->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
			die("bind port %s: %s", o->port, strerror(errno));
	} else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		die("connect %s port %s: %s", o->host, o->port, strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

/* Sends one line (or the tail of the input) to the peer(s) as one datagram. */
static void send_line(const char *line, size_t n)
{
	if (g.client) {
		int rc = dtls_session_send(g.client, (const uint8_t *)line, n);
		if (rc < 0)
			fprintf(stderr, "dtlscat: not sent: %s\n", dtls_strerror(rc));
	} else if (g.last_peer_len) {
		struct dtls_session *s = dtls_server_find(g.server, (struct sockaddr *)&g.last_peer, g.last_peer_len);
		if (s && dtls_session_state(s) == DTLS_STATE_ESTABLISHED &&
		    dtls_session_send(s, (const uint8_t *)line, n) < 0)
			fprintf(stderr, "dtlscat: not sent\n");
	}
}

/*
 * Reads what stdin holds now (one read: poll said it would not block) and sends each
 * complete line, newline included, as one datagram; so two lines that came in one
 * write both go now. A partial line waits for its end, or for the end of input (a
 * line longer than the buffer goes in pieces). Returns false at end of input.
 */
static bool read_stdin(void)
{
	static char buf[65536];
	static size_t have;
	size_t start = 0;
	ssize_t r = read(0, buf + have, sizeof(buf) - have);

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	bool eof = r <= 0;
	if (r > 0)
		have += (size_t)r;
	for (size_t i = 0; i < have; i++) {
		if (buf[i] == '\n') {
			send_line(buf + start, i + 1 - start);
			start = i + 1;
		}
	}
	if (have > start && (eof || (start == 0 && have == sizeof(buf)))) {
		send_line(buf + start, have - start);
		start = have;
	}
	memmove(buf, buf + start, have - start);
	have -= start;
	return !eof;
}

static void handle_socket(void)
{
	static uint8_t buf[DTLS_MAX_DATAGRAM];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(g.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	if (n < 0)
		return; /* ICMP errors on a connected socket: the timers deal with it */
	if (g.client) {
		int rc = dtls_session_handle(g.client, buf, (size_t)n, now_ms());
		(void)rc; /* reported through the ended callback */
		return;
	}
	memcpy(&g.last_peer, &from, flen);
	g.last_peer_len = flen;
	if (dtls_server_handle(g.server, (struct sockaddr *)&from, flen, buf, (size_t)n, now_ms()) < 0 &&
	    g.o->verbose)
		fprintf(stderr, "dtlscat: datagram dropped\n");
}

static uint64_t next_timeout(void)
{
	return g.client ? dtls_session_next_timeout(g.client) : dtls_server_next_timeout(g.server);
}

static void fire_timers(void)
{
	uint64_t now = now_ms();
	if (next_timeout() > now)
		return;
	int rc = g.client ? dtls_session_timeout(g.client, now) : dtls_server_timeout(g.server, now);
	(void)rc;
}

static bool done(void)
{
	if (g.client)
		return g.ended > 0;
	return g.o->count > 0 && g.ended >= g.o->count;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	parse_args(argc, argv, &o);
	g.o = &o;
	if (dtls_init() < 0)
		die("cannot initialise the crypto libraries");
	struct dtls_config *cfg = make_config(&o);
	g.fd = open_socket(&o);
	g.stdin_open = true;

	if (o.server) {
		static const struct dtls_server_callbacks cb = {
			.send = s_send, .data = s_data, .established = s_established, .ended = s_ended,
		};
		g.server = dtls_server_new(cfg, &cb, NULL, 1024);
		if (!g.server)
			die("out of memory");
	} else {
		static const struct dtls_callbacks cb = {
			.send = c_send, .data = c_data, .established = c_established, .ended = c_ended,
		};
		g.client = dtls_session_new_client(cfg, &cb, NULL);
		if (!g.client)
			die("out of memory");
		int rc = dtls_session_start(g.client, now_ms());
		if (rc < 0)
			die("cannot start: %s", dtls_strerror(rc));
	}

	while (!done()) {
		/* Read stdin only once there is a session to send on. */
		bool want_stdin = g.stdin_open &&
				  (g.client ? dtls_session_state(g.client) == DTLS_STATE_ESTABLISHED : true);
		struct pollfd p[2] = { { .fd = g.fd, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
		uint64_t t = next_timeout(), now = now_ms();
		int wait = t == UINT64_MAX ? 1000 : t <= now ? 0 : (int)(t - now > 1000 ? 1000 : t - now);
		int rc = poll(p, want_stdin ? 2 : 1, wait);
		if (rc < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (rc > 0 && (p[0].revents & POLLIN))
			handle_socket();
		if (rc > 0 && want_stdin && (p[1].revents & (POLLIN | POLLHUP))) {
			if (!read_stdin()) {
				g.stdin_open = false;
				if (g.client && !g.closing) {
					g.closing = true;
					int crc = dtls_session_close(g.client, now_ms());
					(void)crc;
				}
			}
		}
		fire_timers();
	}

	int err = g.last_err;
	if (g.client && o.verbose) {
		struct dtls_session_stats st;
		dtls_session_stats(g.client, &st);
		fprintf(stderr,
			"records in %llu out %llu, dropped: mac %llu replay %llu epoch %llu malformed %llu, "
			"retransmits %llu\n",
			(unsigned long long)st.records_in, (unsigned long long)st.records_out,
			(unsigned long long)st.dropped_mac, (unsigned long long)st.dropped_replay,
			(unsigned long long)st.dropped_epoch, (unsigned long long)st.dropped_malformed,
			(unsigned long long)st.retransmits);
	}
	if (g.client)
		dtls_session_free(g.client);
	if (g.server)
		dtls_server_free(g.server);
	dtls_config_unref(cfg);
	close(g.fd);
	return err == DTLS_ERR_CLOSED || (err == DTLS_ERR_CLOSE_FAIL && g.closing) ? 0 : 1;
}
