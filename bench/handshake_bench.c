/*
 * handshake_bench: full DTLS 1.2 handshakes per second, client and server in one process
 * joined by two in-memory datagram queues (no sockets, no loss), next to GnuTLS's own
 * DTLS 1.2 handshake rate for the same suite, measured by this program in the same run.
 *
 * Both sides do the same work per handshake:
 *   - a new client and a new server session (configs / credentials are made once);
 *   - the stateless cookie exchange, as in production: the first ClientHello is answered
 *     with a HelloVerifyRequest, and only the ClientHello carrying a valid cookie creates
 *     server state (ours: dtls_cookie_check, the path the gateway daemon takes;
 *     GnuTLS: gnutls_dtls_cookie_verify / gnutls_dtls_cookie_send / gnutls_dtls_prestate_set);
 *   - the same groups in the same order (X25519 first) and the same MTU (1400);
 *   - for the certificate suite, the client verifies the server chain against ca.pem and
 *     the name gw.test, and sends SNI;
 *   - both sessions are freed.
 * The datagrams and bytes of each handshake (both directions, HelloVerifyRequest round
 * included) are counted for both.
 *
 * Each measurement gives each side a fixed time, in ten slices that alternate between
 * ours and GnuTLS, so that load from elsewhere on a shared machine hits both alike; the
 * best of the repetitions is kept. Prints numbers, asserts nothing about timing.
 *
 *   handshake_bench [-t seconds per measurement, default 2.5] [-r repetitions, default 3]
 *                   [-s only suites whose name contains this] [-p PKI directory]
 *                   [-i ours|gnutls: measure one side only, for profiling]
 *
 * The PKI directory defaults to one beside the binary, made with tests/pki/mkpki.sh when
 * it has no server-ec-chain.pem yet.
 */
#include <errno.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dtls/dtls.h>

#ifndef BENCH_PKI_DIR
#define BENCH_PKI_DIR "pki"
#endif
#ifndef BENCH_MKPKI
#define BENCH_MKPKI "tests/pki/mkpki.sh"
#endif

#define MTU 1400
#define SLOT 2048  /* a handshake datagram is at most MTU bytes */
#define QLEN 64
#define SLICES 10 /* a measurement alternates the two sides in this many slices */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ms(void)
{
	return (uint64_t)(now_s() * 1000.0);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "handshake_bench: %s: %s\n", what, why);
	exit(1);
}

/* ---- the in-memory network, shared by both implementations ---------------- */

struct queue {
	uint8_t buf[QLEN][SLOT];
	size_t len[QLEN];
	unsigned head, n;
};

struct net {
	struct queue to_server, to_client;
	uint64_t dgrams, bytes; /* sent, both directions */
};

static void q_push(struct net *net, struct queue *q, const void *d, size_t len)
{
	if (len > SLOT || q->n == QLEN)
		die("queue", len > SLOT ? "datagram larger than a slot" : "queue full");
	unsigned at = (q->head + q->n) % QLEN;
	memcpy(q->buf[at], d, len);
	q->len[at] = len;
	q->n++;
	net->dgrams++;
	net->bytes += len;
}

/* The oldest datagram, left in the queue until q_pop. */
static uint8_t *q_front(struct queue *q, size_t *len)
{
	*len = q->len[q->head];
	return q->buf[q->head];
}

static void q_pop(struct queue *q)
{
	q->head = (q->head + 1) % QLEN;
	q->n--;
}

static const struct sockaddr_in client_addr = {
	.sin_family = AF_INET, .sin_port = 0x3930, .sin_addr = { .s_addr = 0x0100000a },
};

/* ---- the suites ----------------------------------------------------------- */

struct suite {
	const char *name;     /* IANA */
	const char *gnutls;   /* GnuTLS priority string */
	bool cert;
};

#define GNUTLS_BASE "NONE:+VERS-DTLS1.2:+COMP-NULL:+SIGN-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+CTYPE-X509"

static const struct suite suites[] = {
	{ "TLS_PSK_WITH_AES_128_GCM_SHA256", GNUTLS_BASE ":+PSK:+AES-128-GCM:+AEAD", false },
	{ "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", GNUTLS_BASE ":+ECDHE-PSK:+AES-128-CBC:+SHA256", false },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", GNUTLS_BASE ":+ECDHE-ECDSA:+AES-128-GCM:+AEAD", true },
};

static const uint8_t psk_key[16] = { 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
				     0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 };
static const char psk_identity[] = "client1";

static char pki[512];

static const char *pki_path(const char *name)
{
	static char buf[4][600];
	static unsigned k;
	char *p = buf[k++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/%s", pki, name);
	return p;
}

static void ensure_pki(void)
{
	struct stat st;
	if (stat(pki_path("server-ec-chain.pem"), &st) == 0 && stat(pki_path("ca.pem"), &st) == 0)
		return;
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", BENCH_MKPKI, pki);
	if (system(cmd) != 0)
		die(cmd, "failed");
}

struct result {
	double hs_per_s;
	double dgrams, bytes; /* per handshake */
};

/* What one side did over the slices of one measurement. */
struct tally {
	unsigned long n;
	double t;
	uint64_t dgrams, bytes;
};

static struct result tally_result(const struct tally *y)
{
	if (!y->n)
		return (struct result){ 0, 0, 0 };
	return (struct result){ y->n / y->t, (double)y->dgrams / y->n, (double)y->bytes / y->n };
}

/* ---- ours ---------------------------------------------------------------- */

struct ours {
	struct net *net;
	struct dtls_config *ccfg, *scfg;
	struct dtls_cookie_jar *jar;
	unsigned got; /* application records received, for the check */
};

static void ours_client_send(void *arg, const uint8_t *d, size_t len)
{
	struct ours *o = arg;
	q_push(o->net, &o->net->to_server, d, len);
}

static void ours_server_send(void *arg, const uint8_t *d, size_t len)
{
	struct ours *o = arg;
	q_push(o->net, &o->net->to_client, d, len);
}

static void ours_data(void *arg, const uint8_t *d, size_t len)
{
	struct ours *o = arg;
	(void)d;
	if (len == 5)
		o->got++;
}

static const struct dtls_callbacks ours_ccb = { .send = ours_client_send, .data = ours_data };
static const struct dtls_callbacks ours_scb = { .send = ours_server_send, .data = ours_data };

static struct dtls_config *ours_config(const struct suite *su, bool server)
{
	char err[256] = "";
	struct dtls_config *cfg = dtls_config_new();
	if (!cfg)
		die("dtls_config_new", "failed");
	if (dtls_config_set_ciphers(cfg, su->name) < 0 || dtls_config_set_mtu(cfg, MTU) < 0)
		die(su->name, "not accepted by dtls_config_set_ciphers");
	if (!su->cert) {
		if (dtls_config_add_psk(cfg, (const uint8_t *)psk_identity, strlen(psk_identity), psk_key,
					sizeof(psk_key)) < 0)
			die("dtls_config_add_psk", "failed");
	} else if (server) {
		if (dtls_config_add_local_cert(cfg, pki_path("server-ec-chain.pem"), pki_path("server-ec.key"), err,
					       sizeof(err)) < 0)
			die("dtls_config_add_local_cert", err);
	} else {
		if (dtls_config_add_trusted(cfg, pki_path("ca.pem"), err, sizeof(err)) < 0)
			die("dtls_config_add_trusted", err);
		if (dtls_config_set_server_name(cfg, "gw.test") < 0)
			die("dtls_config_set_server_name", "failed");
	}
	dtls_config_set_cookies(cfg, true);
	return cfg;
}

/* One handshake, cookie exchange included; the sessions are returned when keep is set. */
static void ours_handshake(struct ours *o, struct dtls_session **keep_c, struct dtls_session **keep_s)
{
	struct net *net = o->net;
	uint64_t t = now_ms();
	dtls_cookie_rotate(o->jar, t);
	struct dtls_session *c = dtls_session_new_client(o->ccfg, &ours_ccb, o), *s = NULL;
	if (!c || dtls_session_start(c, t) < 0)
		die("dtls client", "start failed");
	for (;;) {
		size_t len;
		while (net->to_server.n) {
			uint8_t *d = q_front(&net->to_server, &len);
			if (!s) {
				uint8_t hvr[256];
				size_t hvr_len;
				int rc = dtls_cookie_check(o->jar, (const struct sockaddr *)&client_addr,
							   sizeof(client_addr), d, len, hvr, sizeof(hvr), &hvr_len);
				if (rc == DTLS_ERR_COOKIE) {
					q_push(net, &net->to_client, hvr, hvr_len);
				} else if (rc == DTLS_OK) {
					s = dtls_session_new_server(o->scfg, &ours_scb, o,
								    (const struct sockaddr *)&client_addr,
								    sizeof(client_addr));
					if (!s)
						die("dtls_session_new_server", "failed");
					if (dtls_session_handle(s, d, len, t) < 0)
						die("server", dtls_strerror(dtls_session_error(s)));
				}
			} else if (dtls_session_handle(s, d, len, t) < 0) {
				die("server", dtls_strerror(dtls_session_error(s)));
			}
			q_pop(&net->to_server);
		}
		while (net->to_client.n) {
			uint8_t *d = q_front(&net->to_client, &len);
			if (dtls_session_handle(c, d, len, t) < 0)
				die("client", dtls_strerror(dtls_session_error(c)));
			q_pop(&net->to_client);
		}
		if (net->to_server.n || net->to_client.n)
			continue;
		if (s && dtls_session_state(c) == DTLS_STATE_ESTABLISHED &&
		    dtls_session_state(s) == DTLS_STATE_ESTABLISHED)
			break;
		die("dtls handshake", "stalled with nothing in flight");
	}
	if (keep_c) {
		*keep_c = c;
		*keep_s = s;
		return;
	}
	dtls_session_free(c);
	dtls_session_free(s);
}

static void ours_check(struct ours *o, const struct suite *su)
{
	struct dtls_session *c, *s;
	ours_handshake(o, &c, &s);
	const char *got = dtls_suite_name(dtls_session_suite(c));
	if (!got || strcmp(got, su->name) != 0 ||
	    dtls_session_suite(s) != dtls_session_suite(c))
		die(su->name, "negotiated another suite");
	o->got = 0;
	if (dtls_session_send(c, (const uint8_t *)"hello", 5) < 0 || dtls_session_send(s, (const uint8_t *)"hello", 5) < 0)
		die("dtls_session_send", "failed");
	size_t len;
	while (o->net->to_server.n) {
		uint8_t *d = q_front(&o->net->to_server, &len);
		if (dtls_session_handle(s, d, len, now_ms()) < 0)
			die("server", "data");
		q_pop(&o->net->to_server);
	}
	while (o->net->to_client.n) {
		uint8_t *d = q_front(&o->net->to_client, &len);
		if (dtls_session_handle(c, d, len, now_ms()) < 0)
			die("client", "data");
		q_pop(&o->net->to_client);
	}
	if (o->got != 2)
		die(su->name, "application data did not cross after the handshake");
	struct dtls_session_stats st;
	dtls_session_stats(c, &st);
	if (st.retransmits)
		fprintf(stderr, "handshake_bench: ours: %llu retransmissions in the check handshake\n",
			(unsigned long long)st.retransmits);
	dtls_session_free(c);
	dtls_session_free(s);
}

/* Handshakes for one slice of time, added to y. */
static void ours_run(struct ours *o, double seconds, struct tally *y)
{
	struct net *net = o->net;
	net->dgrams = net->bytes = 0;
	unsigned long n = 0;
	double t0 = now_s(), t;
	do {
		ours_handshake(o, NULL, NULL);
		n++;
	} while ((t = now_s() - t0) < seconds);
	y->n += n;
	y->t += t;
	y->dgrams += net->dgrams;
	y->bytes += net->bytes;
}

/* ---- GnuTLS --------------------------------------------------------------- */

struct gtls {
	struct net *net;
	gnutls_priority_t prio;
	gnutls_psk_client_credentials_t psk_c;
	gnutls_psk_server_credentials_t psk_s;
	gnutls_certificate_credentials_t cert_c, cert_s;
	gnutls_datum_t cookie_key;
	bool cert;
};

/* Transport ends: the client reads to_client and writes to_server, the server the reverse. */
struct end {
	struct net *net;
	struct queue *in, *out;
	gnutls_session_t session;
};

static ssize_t g_push(gnutls_transport_ptr_t p, const void *d, size_t len)
{
	struct end *e = p;
	q_push(e->net, e->out, d, len);
	return (ssize_t)len;
}

static ssize_t g_pull(gnutls_transport_ptr_t p, void *d, size_t cap)
{
	struct end *e = p;
	if (!e->in->n) {
		gnutls_transport_set_errno(e->session, EAGAIN);
		return -1;
	}
	size_t len;
	uint8_t *src = q_front(e->in, &len);
	if (len > cap)
		len = cap; /* a datagram is truncated to the buffer, as recv() does */
	memcpy(d, src, len);
	q_pop(e->in);
	return (ssize_t)len;
}

static int g_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct end *e = p;
	(void)ms;
	return e->in->n ? 1 : 0;
}

/* For gnutls_dtls_cookie_send: the HelloVerifyRequest goes to the client. */
static ssize_t g_cookie_push(gnutls_transport_ptr_t p, const void *d, size_t len)
{
	struct net *net = p;
	q_push(net, &net->to_client, d, len);
	return (ssize_t)len;
}

static int g_psk_lookup(gnutls_session_t session, const char *username, gnutls_datum_t *key)
{
	(void)session;
	if (strcmp(username, psk_identity) != 0)
		return -1;
	key->data = gnutls_malloc(sizeof(psk_key));
	if (!key->data)
		return -1;
	memcpy(key->data, psk_key, sizeof(psk_key));
	key->size = sizeof(psk_key);
	return 0;
}

static void g_check(int rc, const char *what)
{
	if (rc < 0)
		die(what, gnutls_strerror(rc));
}

static void gtls_setup(struct gtls *g, const struct suite *su, struct net *net)
{
	memset(g, 0, sizeof(*g));
	g->net = net;
	g->cert = su->cert;
	const char *errpos = NULL;
	if (gnutls_priority_init(&g->prio, su->gnutls, &errpos) < 0)
		die("gnutls_priority_init", errpos ? errpos : su->gnutls);
	g_check(gnutls_key_generate(&g->cookie_key, GNUTLS_COOKIE_KEY_SIZE), "gnutls_key_generate");
	if (!su->cert) {
		gnutls_datum_t key = { (unsigned char *)psk_key, sizeof(psk_key) };
		g_check(gnutls_psk_allocate_client_credentials(&g->psk_c), "psk client credentials");
		g_check(gnutls_psk_set_client_credentials(g->psk_c, psk_identity, &key, GNUTLS_PSK_KEY_RAW),
			"gnutls_psk_set_client_credentials");
		g_check(gnutls_psk_allocate_server_credentials(&g->psk_s), "psk server credentials");
		gnutls_psk_set_server_credentials_function(g->psk_s, g_psk_lookup);
	} else {
		g_check(gnutls_certificate_allocate_credentials(&g->cert_s), "certificate credentials");
		g_check(gnutls_certificate_set_x509_key_file2(g->cert_s, pki_path("server-ec-chain.pem"),
							     pki_path("server-ec.key"), GNUTLS_X509_FMT_PEM, NULL,
							     0),
			"gnutls_certificate_set_x509_key_file2");
		g_check(gnutls_certificate_allocate_credentials(&g->cert_c), "certificate credentials");
		g_check(gnutls_certificate_set_x509_trust_file(g->cert_c, pki_path("ca.pem"), GNUTLS_X509_FMT_PEM),
			"gnutls_certificate_set_x509_trust_file");
	}
}

static void gtls_teardown(struct gtls *g)
{
	gnutls_priority_deinit(g->prio);
	gnutls_free(g->cookie_key.data);
	if (g->psk_c)
		gnutls_psk_free_client_credentials(g->psk_c);
	if (g->psk_s)
		gnutls_psk_free_server_credentials(g->psk_s);
	if (g->cert_c)
		gnutls_certificate_free_credentials(g->cert_c);
	if (g->cert_s)
		gnutls_certificate_free_credentials(g->cert_s);
}

static void gtls_session(struct gtls *g, struct end *e, bool server)
{
	unsigned flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK |
			 GNUTLS_NO_TICKETS;
	g_check(gnutls_init(&e->session, flags), "gnutls_init");
	g_check(gnutls_priority_set(e->session, g->prio), "gnutls_priority_set");
	if (!g->cert) {
		g_check(gnutls_credentials_set(e->session, GNUTLS_CRD_PSK, server ? (void *)g->psk_s : (void *)g->psk_c),
			"gnutls_credentials_set");
	} else {
		g_check(gnutls_credentials_set(e->session, GNUTLS_CRD_CERTIFICATE, server ? g->cert_s : g->cert_c),
			"gnutls_credentials_set");
		if (!server) {
			g_check(gnutls_server_name_set(e->session, GNUTLS_NAME_DNS, "gw.test", 7), "gnutls_server_name_set");
			gnutls_session_set_verify_cert(e->session, "gw.test", 0);
		}
	}
	gnutls_dtls_set_mtu(e->session, MTU);
	gnutls_transport_set_ptr(e->session, e);
	gnutls_transport_set_push_function(e->session, g_push);
	gnutls_transport_set_pull_function(e->session, g_pull);
	gnutls_transport_set_pull_timeout_function(e->session, g_pull_timeout);
}

/* Runs one side's handshake as far as it goes; returns whether it finished. */
static bool g_step(struct end *e, const char *who)
{
	int rc = gnutls_handshake(e->session);
	if (rc == 0)
		return true;
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(rc))
		return false;
	die(who, gnutls_strerror(rc));
	return false;
}

static void gtls_handshake(struct gtls *g, struct end *c, struct end *s, bool keep)
{
	struct net *net = g->net;
	*c = (struct end){ net, &net->to_client, &net->to_server, NULL };
	*s = (struct end){ net, &net->to_server, &net->to_client, NULL };
	gtls_session(g, c, false);
	bool c_done = g_step(c, "gnutls client"), s_done = false;
	for (;;) {
		if (!s->session) {
			/* No state yet for this client: the stateless cookie exchange. */
			while (net->to_server.n && !s->session) {
				size_t len;
				uint8_t *d = q_front(&net->to_server, &len);
				gnutls_dtls_prestate_st pre;
				memset(&pre, 0, sizeof(pre));
				if (gnutls_dtls_cookie_verify(&g->cookie_key, (void *)&client_addr, sizeof(client_addr), d,
							      len, &pre) < 0) {
					g_check(gnutls_dtls_cookie_send(&g->cookie_key, (void *)&client_addr,
									sizeof(client_addr), &pre, net,
									g_cookie_push),
						"gnutls_dtls_cookie_send");
					q_pop(&net->to_server);
				} else {
					gtls_session(g, s, true);
					gnutls_dtls_prestate_set(s->session, &pre);
					/* the ClientHello stays queued for the server session to read */
				}
			}
		}
		if (s->session && !s_done && net->to_server.n)
			s_done = g_step(s, "gnutls server");
		if (!c_done && net->to_client.n)
			c_done = g_step(c, "gnutls client");
		if (net->to_server.n || net->to_client.n)
			continue;
		if (c_done && s_done)
			break;
		die("gnutls handshake", "stalled with nothing in flight");
	}
	if (keep)
		return;
	gnutls_deinit(c->session);
	gnutls_deinit(s->session);
}

static void gtls_check(struct gtls *g, const struct suite *su, char *desc, size_t desc_len)
{
	struct end c, s;
	gtls_handshake(g, &c, &s, true);
	const char *name = gnutls_ciphersuite_get(c.session); /* the IANA name */
	if (!name || strcmp(name, su->name) != 0)
		die(su->name, name ? name : "GnuTLS negotiated no known suite");
	const char *group = gnutls_group_get_name(gnutls_group_get(c.session));
	const char *sig = su->cert ? gnutls_sign_get_name(gnutls_sign_algorithm_get(c.session)) : NULL;
	snprintf(desc, desc_len, "group %s%s%s, EMS %s", group ? group : "none", sig ? ", signature " : "",
		 sig ? sig : "", gnutls_session_ext_master_secret_status(c.session) ? "yes" : "no");
	char buf[16];
	if (gnutls_record_send(c.session, "hello", 5) != 5)
		die("gnutls_record_send", "failed");
	if (gnutls_record_recv(s.session, buf, sizeof(buf)) != 5)
		die("gnutls_record_recv", "failed");
	gnutls_deinit(c.session);
	gnutls_deinit(s.session);
}

static void gtls_run(struct gtls *g, double seconds, struct tally *y)
{
	struct net *net = g->net;
	net->dgrams = net->bytes = 0;
	unsigned long n = 0;
	struct end c, s;
	double t0 = now_s(), t;
	do {
		gtls_handshake(g, &c, &s, false);
		n++;
	} while ((t = now_s() - t0) < seconds);
	y->n += n;
	y->t += t;
	y->dgrams += net->dgrams;
	y->bytes += net->bytes;
}

/* ---- main ----------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: handshake_bench [-t seconds] [-r repetitions] [-s suite-substring] [-p pki-dir]\n"
			"                       [-i ours|gnutls]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double seconds = 2.5;
	int reps = 3, opt;
	const char *only = NULL, *impl = NULL;
	snprintf(pki, sizeof(pki), "%s", BENCH_PKI_DIR);
	while ((opt = getopt(argc, argv, "t:r:s:p:i:h")) != -1) {
		switch (opt) {
		case 't': seconds = atof(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 's': only = optarg; break;
		case 'p': snprintf(pki, sizeof(pki), "%s", optarg); break;
		case 'i': impl = optarg; break;
		default: usage();
		}
	}
	if (seconds <= 0 || reps < 1 || optind != argc ||
	    (impl && strcmp(impl, "ours") != 0 && strcmp(impl, "gnutls") != 0))
		usage();
	bool run_ours = !impl || strcmp(impl, "ours") == 0, run_gnutls = !impl || strcmp(impl, "gnutls") == 0;
	if (dtls_init() < 0)
		die("dtls_init", "failed");
	g_check(gnutls_global_init(), "gnutls_global_init");

	static struct net net; /* the queues are large: not on the stack */
	printf("DTLS 1.2 full handshakes in one process over in-memory queues, cookies on for both,\n"
	       "MTU %d, best of %d x %.1f s each, ours and GnuTLS %s alternating in %d slices\n\n", MTU, reps, seconds,
	       gnutls_check_version(NULL), SLICES);
	printf("%-40s %12s %12s %7s %14s %14s\n", "suite", "dtlsgw hs/s", "GnuTLS hs/s", "ratio", "dtlsgw dg/B",
	       "GnuTLS dg/B");
	char notes[3][160];
	int n_notes = 0;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		const struct suite *su = &suites[i];
		if (only && !strstr(su->name, only))
			continue;
		if (su->cert)
			ensure_pki();
		struct ours o = { .net = &net };
		o.ccfg = ours_config(su, false);
		o.scfg = ours_config(su, true);
		o.jar = dtls_cookie_jar_new(now_ms(), 0);
		if (!o.jar)
			die("dtls_cookie_jar_new", "failed");
		struct gtls g;
		gtls_setup(&g, su, &net);

		ours_check(&o, su);
		char desc[128];
		gtls_check(&g, su, desc, sizeof(desc));
		snprintf(notes[n_notes++], sizeof(notes[0]), "%s: GnuTLS negotiated %s", su->name, desc);

		struct result best_o = { 0 }, best_g = { 0 };
		for (int r = 0; r < reps; r++) {
			struct tally yo = { 0 }, yg = { 0 };
			for (int k = 0; k < SLICES; k++) {
				if (run_ours)
					ours_run(&o, seconds / SLICES, &yo);
				if (run_gnutls)
					gtls_run(&g, seconds / SLICES, &yg);
			}
			struct result ro = tally_result(&yo), rg = tally_result(&yg);
			if (ro.hs_per_s > best_o.hs_per_s)
				best_o = ro;
			if (rg.hs_per_s > best_g.hs_per_s)
				best_g = rg;
		}
		char dg_o[32], dg_g[32];
		snprintf(dg_o, sizeof(dg_o), "%.0f/%.0f", best_o.dgrams, best_o.bytes);
		snprintf(dg_g, sizeof(dg_g), "%.0f/%.0f", best_g.dgrams, best_g.bytes);
		printf("%-40s %12.0f %12.0f %7.2f %14s %14s\n", su->name, best_o.hs_per_s, best_g.hs_per_s,
		       best_g.hs_per_s > 0 ? best_o.hs_per_s / best_g.hs_per_s : 0.0, dg_o, dg_g);
		fflush(stdout);

		gtls_teardown(&g);
		dtls_cookie_jar_free(o.jar);
		dtls_config_unref(o.ccfg);
		dtls_config_unref(o.scfg);
	}
	printf("\nratio = dtlsgw / GnuTLS; dg/B = datagrams / bytes per handshake, both directions,\n"
	       "HelloVerifyRequest round included\n");
	for (int i = 0; i < n_notes; i++)
		printf("%s\n", notes[i]);
	gnutls_global_deinit();
	return 0;
}
