/*
 * Negative tests of the engine: a client and a server session driven by hand, in
 * process, and fed what a hostile or broken peer would send. Every handshake message in
 * every wrong state, ChangeCipherSpec out of order, application data before Finished,
 * records from future and past epochs, replays, truncated and oversized records and
 * fragments, fragments that disagree, message_seq far ahead, hello contents that must be
 * refused. What must hold (RFC 6347, RFC 5246): the engine drops the input silently or
 * ends with the alert the RFC names, never crashes, and never delivers application data
 * that was not authenticated under the keys of a completed handshake.
 *
 * Records are built by hand (plaintext epoch 0) or sealed with a real session's write
 * keys (the peer's record layer), so a test can be the authenticated peer too.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake/engine.h"
#include "handshake/message.h"
#include "harness.h"
#include "record/record.h"

#define QMAX 64

/* One side of a hand-driven exchange: a real session and what it did. */
struct end {
	struct dtls_session *s;
	uint8_t *q[QMAX];  /* datagrams it sent that were not delivered yet */
	size_t qn[QMAX];
	size_t qlen;
	unsigned data_n;   /* application records delivered */
	uint8_t data[2048]; /* the last one */
	size_t data_len;
	unsigned established;
	bool ended;
	int end_err;
};

struct pair {
	struct end c, s;
	struct dtls_config *ccfg, *scfg;
	uint64_t now;
};

#define PSK_GCM "TLS_PSK_WITH_AES_128_GCM_SHA256"
#define PSK_CBC "TLS_PSK_WITH_AES_128_CBC_SHA256"
#define ECDHE_PSK "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"
#define ECDSA_GCM "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"

static const uint8_t psk_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const struct sockaddr_in client_addr = { .sin_family = AF_INET, .sin_port = 0x3412,
						 .sin_addr = { .s_addr = 0x0100007f } };

/* ---- the ends -------------------------------------------------------------- */

static void end_send(void *arg, const uint8_t *d, size_t n)
{
	struct end *e = arg;
	if (e->qlen == QMAX) {
		CU_FAIL("a session sent more than QMAX datagrams");
		return;
	}
	e->q[e->qlen] = malloc(n);
	memcpy(e->q[e->qlen], d, n);
	e->qn[e->qlen++] = n;
}

static void end_data(void *arg, const uint8_t *d, size_t n)
{
	struct end *e = arg;
	e->data_n++;
	e->data_len = n < sizeof(e->data) ? n : sizeof(e->data);
	memcpy(e->data, d, e->data_len);
}

static void end_established(void *arg)
{
	struct end *e = arg;
	e->established++;
}

static void end_ended(void *arg, int err)
{
	struct end *e = arg;
	e->ended = true;
	e->end_err = err;
}

static const struct dtls_callbacks end_cb = {
	.send = end_send, .data = end_data, .established = end_established, .ended = end_ended,
};

static struct dtls_config *psk_config(const char *suites)
{
	struct dtls_config *cfg = dtls_config_new();
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FATAL(dtls_config_set_ciphers(cfg, suites) == 0);
	CU_ASSERT_FATAL(dtls_config_add_psk(cfg, (const uint8_t *)"client1", 7, psk_key, sizeof(psk_key)) == 0);
	return cfg;
}

static uint64_t fixed_clock(void)
{
	return UINT64_C(1800000000); /* inside the validity of tests/fuzz/pki */
}

/* A certificate config from the checked-in test PKI (tests/fuzz/pki). */
static struct dtls_config *cert_config(bool server, const char *suites, bool verify_client)
{
	struct dtls_config *cfg = dtls_config_new();
	char err[256];
	CU_ASSERT_FATAL(cfg != NULL);
	cfg->wall_clock = fixed_clock;
	CU_ASSERT_FATAL(dtls_config_set_ciphers(cfg, suites) == 0);
	int rc = dtls_config_add_trusted(cfg, TEST_SOURCE_DIR "/tests/fuzz/pki/ca.der", err, sizeof(err));
	if (rc == 0 && server)
		rc = dtls_config_add_local_cert(cfg, TEST_SOURCE_DIR "/tests/fuzz/pki/server-ec-chain.pem",
						TEST_SOURCE_DIR "/tests/fuzz/pki/server-ec.key", err, sizeof(err));
	if (rc == 0 && !server)
		rc = dtls_config_set_server_name(cfg, "gw.test");
	if (rc < 0)
		fprintf(stderr, "\ntest PKI: %s\n", err);
	CU_ASSERT_FATAL(rc == 0);
	if (server)
		dtls_config_verify_client(cfg, verify_client, false);
	return cfg;
}

/* Takes the config references. */
static void pair_init_cfg(struct pair *p, struct dtls_config *c, struct dtls_config *s)
{
	memset(p, 0, sizeof(*p));
	p->now = 1000;
	p->ccfg = c;
	p->scfg = s;
	p->c.s = dtls_session_new_client(c, &end_cb, &p->c);
	p->s.s = dtls_session_new_server(s, &end_cb, &p->s, (const struct sockaddr *)&client_addr, sizeof(client_addr));
	CU_ASSERT_FATAL(p->c.s && p->s.s);
}

static void pair_init(struct pair *p, const char *suites)
{
	pair_init_cfg(p, psk_config(suites), psk_config(suites));
}

static void q_clear(struct end *e)
{
	for (size_t i = 0; i < e->qlen; i++)
		free(e->q[i]);
	e->qlen = 0;
}

static void pair_free(struct pair *p)
{
	q_clear(&p->c);
	q_clear(&p->s);
	dtls_session_free(p->c.s);
	dtls_session_free(p->s.s);
	dtls_config_unref(p->ccfg);
	dtls_config_unref(p->scfg);
}

static struct end *other(struct pair *p, struct end *e)
{
	return e == &p->c ? &p->s : &p->c;
}

/* Hands a copy of d to `to` (the engine works in place). */
static int feed(struct pair *p, struct end *to, const uint8_t *d, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, d, n);
	int rc = dtls_session_handle(to->s, copy, n, ++p->now);
	free(copy);
	return rc;
}

/* Removes datagram i from e's queue; the caller frees it. */
static uint8_t *q_take(struct end *e, size_t i, size_t *n)
{
	CU_ASSERT_FATAL(i < e->qlen);
	uint8_t *d = e->q[i];
	*n = e->qn[i];
	memmove(&e->q[i], &e->q[i + 1], (e->qlen - i - 1) * sizeof(e->q[0]));
	memmove(&e->qn[i], &e->qn[i + 1], (e->qlen - i - 1) * sizeof(e->qn[0]));
	e->qlen--;
	return d;
}

/* Delivers what `from` queued so far to the other end, in order. */
static size_t flush(struct pair *p, struct end *from)
{
	size_t k = from->qlen;
	for (size_t i = 0; i < k; i++) {
		size_t n;
		uint8_t *d = q_take(from, 0, &n);
		IGNORE_RESULT(feed(p, other(p, from), d, n));
		free(d);
	}
	return k;
}

static bool pair_established(struct pair *p)
{
	return dtls_session_state(p->c.s) == DTLS_STATE_ESTABLISHED &&
	       dtls_session_state(p->s.s) == DTLS_STATE_ESTABLISHED;
}

/* Exchanges until both are quiet. */
static void pair_run(struct pair *p)
{
	for (int round = 0; round < 32 && (p->c.qlen || p->s.qlen); round++) {
		flush(p, &p->c);
		flush(p, &p->s);
	}
}

/* Exchanges and lets the timers fire (retransmissions) until both are established or
 * `limit_ms` of virtual time passed. */
static bool pair_settle(struct pair *p, uint64_t limit_ms)
{
	uint64_t end = p->now + limit_ms;
	for (;;) {
		pair_run(p);
		if (pair_established(p))
			return true;
		uint64_t tc = dtls_session_next_timeout(p->c.s), ts = dtls_session_next_timeout(p->s.s);
		uint64_t t = tc < ts ? tc : ts;
		if (t == UINT64_MAX || t > end)
			return false;
		if (t > p->now)
			p->now = t;
		if (tc <= p->now)
			IGNORE_RESULT(dtls_session_timeout(p->c.s, p->now));
		if (ts <= p->now)
			IGNORE_RESULT(dtls_session_timeout(p->s.s, p->now));
	}
}

static void pair_start(struct pair *p)
{
	CU_ASSERT_FATAL(dtls_session_start(p->c.s, p->now) == 0);
}

static void pair_handshake(struct pair *p)
{
	pair_start(p);
	pair_run(p);
	CU_ASSERT_FATAL(pair_established(p));
}

/* The client starts a renegotiation (what a HelloRequest would make it do). */
static void client_renegotiate(struct pair *p)
{
	p->c.s->now_ms = p->now;
	CU_ASSERT_FATAL(hs_begin(p->c.s) == 0);
	CU_ASSERT_FATAL(hs_client_start(p->c.s) == 0);
}

/* ---- building records ---------------------------------------------------- */

struct dgram {
	uint8_t b[DTLS_MAX_DATAGRAM];
	size_t n;
};

/* Sequence numbers of injected plaintext records: above the real ones, within the window. */
static uint64_t inject_seq = 200;

static void put_record(struct dgram *d, uint8_t type, uint16_t epoch, uint64_t seq, const void *p, size_t n)
{
	CU_ASSERT_FATAL(d->n + REC_HEADER_LEN + n <= sizeof(d->b));
	struct rec_header h = { .type = type, .version = DTLS_VERSION_1_2, .epoch = epoch, .seq = seq,
				.length = (uint16_t)n };
	rec_write_header(d->b + d->n, &h);
	if (n)
		memcpy(d->b + d->n + REC_HEADER_LEN, p, n);
	d->n += REC_HEADER_LEN + n;
}

/* A plaintext epoch-0 record with a fresh sequence number. */
static void put_plain(struct dgram *d, uint8_t type, const void *p, size_t n)
{
	put_record(d, type, 0, inject_seq++, p, n);
}

/* A record sealed with `as`'s write keys of `epoch` (as if `as` had sent it). */
static void put_sealed(struct dgram *d, struct dtls_session *as, uint16_t epoch, uint8_t type, const void *p, size_t n)
{
	static uint8_t tmp[REC_HEADROOM + REC_MAX_PLAINTEXT + REC_TAILROOM];
	memcpy(tmp + REC_HEADROOM, p, n);
	uint8_t *rec;
	size_t len;
	CU_ASSERT_FATAL(rec_layer_seal_epoch(&as->rec, epoch, type, tmp + REC_HEADROOM, n, &rec, &len) == 0);
	CU_ASSERT_FATAL(d->n + len <= sizeof(d->b));
	memcpy(d->b + d->n, rec, len);
	d->n += len;
}

/* A handshake fragment (header + bytes) into out; returns its length. */
static size_t hs_frag(uint8_t *out, uint8_t type, uint16_t seq, uint32_t len, uint32_t off, const void *frag,
		      uint32_t flen)
{
	struct hs_header h = { .type = type, .length = len, .seq = seq, .frag_off = off, .frag_len = flen };
	hs_write_header(out, &h);
	if (flen)
		memcpy(out + HS_HEADER_LEN, frag, flen);
	return HS_HEADER_LEN + flen;
}

static size_t hs_msg(uint8_t *out, uint8_t type, uint16_t seq, const void *body, size_t len)
{
	return hs_frag(out, type, seq, (uint32_t)len, 0, body, (uint32_t)len);
}

/* Feeds `to` one plaintext handshake message. */
static void inject_msg(struct pair *p, struct end *to, uint8_t type, uint16_t seq, const void *body, size_t len)
{
	static uint8_t m[HS_HEADER_LEN + 4096];
	struct dgram d = { .n = 0 };
	CU_ASSERT_FATAL(len <= 4096);
	size_t n = hs_msg(m, type, seq, body, len);
	put_plain(&d, CT_HANDSHAKE, m, n);
	IGNORE_RESULT(feed(p, to, d.b, d.n));
}

/* Feeds `to` one handshake message sealed with the other end's keys of `epoch`. */
static void inject_sealed_msg(struct pair *p, struct end *to, uint16_t epoch, uint8_t type, uint16_t seq,
			      const void *body, size_t len)
{
	static uint8_t m[HS_HEADER_LEN + 4096];
	struct dgram d = { .n = 0 };
	size_t n = hs_msg(m, type, seq, body, len);
	put_sealed(&d, other(p, to)->s, epoch, CT_HANDSHAKE, m, n);
	IGNORE_RESULT(feed(p, to, d.b, d.n));
}

/* The records of a datagram. */
struct span {
	size_t off, len; /* whole record, header included */
	uint8_t type;
	uint16_t epoch;
	uint8_t hs_type; /* first handshake header's type of a plaintext handshake record */
};

static size_t records(const uint8_t *d, size_t n, struct span *out, size_t max)
{
	struct wire_reader r = wire_reader(d, n);
	size_t k = 0;
	while (wire_left(&r) > 0 && k < max) {
		size_t off = wire_offset(&r);
		struct rec_header h;
		struct wire_reader frag;
		if (rec_parse_header(&r, &h, &frag) < 0)
			break;
		out[k] = (struct span){ .off = off, .len = wire_offset(&r) - off, .type = h.type, .epoch = h.epoch,
					.hs_type = 0xff };
		if (h.type == CT_HANDSHAKE && h.epoch == 0 && wire_left(&frag) > 0)
			out[k].hs_type = frag.buf[frag.off];
		k++;
	}
	return k;
}

/* Takes every datagram e queued, as one buffer of records (a flight may come in one
 * datagram or in several), and their spans. */
static size_t gather(struct end *e, struct dgram *all, struct span *sp, size_t max)
{
	all->n = 0;
	while (e->qlen) {
		size_t n;
		uint8_t *d = q_take(e, 0, &n);
		CU_ASSERT_FATAL(all->n + n <= sizeof(all->b));
		memcpy(all->b + all->n, d, n);
		all->n += n;
		free(d);
	}
	return records(all->b, all->n, sp, max);
}

/*
 * Takes every datagram `from` queued and delivers only the records for which keep()
 * says yes; the others are dropped (and returned in `rest`, if given, as one datagram).
 */
static void deliver_if(struct pair *p, struct end *from, bool (*keep)(const struct span *r, void *arg), void *arg,
		       struct dgram *rest)
{
	size_t k = from->qlen;
	for (size_t i = 0; i < k; i++) {
		size_t n;
		uint8_t *d = q_take(from, 0, &n);
		struct span sp[32];
		size_t nr = records(d, n, sp, 32);
		struct dgram out = { .n = 0 };
		for (size_t j = 0; j < nr; j++) {
			struct dgram *to = keep(&sp[j], arg) ? &out : rest;
			if (!to)
				continue;
			memcpy(to->b + to->n, d + sp[j].off, sp[j].len);
			to->n += sp[j].len;
		}
		if (out.n)
			IGNORE_RESULT(feed(p, other(p, from), out.b, out.n));
		free(d);
	}
}

/* keep(): plaintext handshake records whose message type is in the 0xff-ended list. */
static bool keep_types(const struct span *r, void *arg)
{
	const uint8_t *types = arg;
	for (; *types != 0xff; types++)
		if (r->type == CT_HANDSHAKE && r->epoch == 0 && r->hs_type == *types)
			return true;
	return false;
}

/* ---- what a test expects --------------------------------------------------- */

static const char *state_name(enum dtls_state st)
{
	static const char *names[] = { "HANDSHAKING", "ESTABLISHED", "CLOSING", "CLOSED", "FAILED" };
	return (unsigned)st < 5 ? names[st] : "?";
}

static void explain(const char *what, const struct end *e)
{
	fprintf(stderr, "\n    %s: state %s, error %s, sent alert %s, data %u\n", what,
		state_name(dtls_session_state(e->s)), dtls_strerror(dtls_session_error(e->s)),
		dtls_alert_name(dtls_session_sent_alert(e->s)), e->data_n);
}

/* Whether the last datagram e sent holds an alert record. */
static bool sent_alert_record(const struct end *e)
{
	if (!e->qlen)
		return false;
	struct span sp[32];
	size_t nr = records(e->q[e->qlen - 1], e->qn[e->qlen - 1], sp, 32);
	return nr > 0 && sp[nr - 1].type == CT_ALERT;
}

/* The session ended with a fatal `alert` that went out on the wire, and delivered nothing. */
static bool expect_alert(const struct end *e, int alert, const char *what)
{
	bool ok = dtls_session_state(e->s) == DTLS_STATE_FAILED && dtls_session_sent_alert(e->s) == alert &&
		  sent_alert_record(e) && e->data_n == 0 && e->established == 0;
	if (!ok) {
		fprintf(stderr, "\n    %s: want fatal %s", what, dtls_alert_name(alert));
		explain("got", e);
	}
	CU_ASSERT(ok);
	return ok;
}

/* The input was dropped: the session still works in `st` and delivered nothing new. */
static bool expect_alive(const struct end *e, enum dtls_state st, unsigned data_n, const char *what)
{
	bool ok = dtls_session_state(e->s) == st && dtls_session_error(e->s) == 0 && e->data_n == data_n;
	if (!ok) {
		fprintf(stderr, "\n    %s: want it dropped, session %s", what, state_name(st));
		explain("got", e);
	}
	CU_ASSERT(ok);
	return ok;
}

/* ---- every message in every wrong state --------------------------------- */

static const uint8_t all_types[] = {
	HS_HELLO_REQUEST, HS_CLIENT_HELLO, HS_SERVER_HELLO, HS_HELLO_VERIFY_REQUEST, HS_CERTIFICATE,
	HS_SERVER_KEY_EXCHANGE, HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO_DONE, HS_CERTIFICATE_VERIFY,
	HS_CLIENT_KEY_EXCHANGE, HS_FINISHED, 99 /* unknown */,
};
#define N_TYPES ARRAY_LEN(all_types)

static const char *type_name(uint8_t t)
{
	return t == 99 ? "type 99" : hs_type_name(t);
}

/* A body for message type t: the parser never gets to it in a wrong state, but it
 * should look like the real thing anyway. */
static size_t dummy_body(uint8_t t, uint8_t *out)
{
	switch (t) {
	case HS_HELLO_REQUEST:
	case HS_SERVER_HELLO_DONE:
		return 0;
	case HS_FINISHED:
		memset(out, 0x5a, FINISHED_LEN);
		return FINISHED_LEN;
	default:
		memset(out, 0, 48);
		out[0] = 0xfe, out[1] = 0xfd;
		return 48;
	}
}

/* Counts of cases per class, printed at the end (and quoted in the issue note). */
static unsigned n_state_cases, n_ccs_cases;

enum server_state { SRV_FRESH, SRV_AFTER_HELLO, SRV_AFTER_CKE };
static const char *srv_state_names[] = { "fresh", "after ClientHello", "after ClientKeyExchange" };

/* A server session brought to `st` by a real client, the client's next flight held back. */
static void server_to(struct pair *p, enum server_state st)
{
	pair_init(p, PSK_GCM);
	pair_start(p);
	if (st == SRV_FRESH) {
		q_clear(&p->c);
		return;
	}
	flush(p, &p->c); /* ClientHello */
	if (st == SRV_AFTER_HELLO)
		return;
	flush(p, &p->s); /* ServerHello, ServerHelloDone: the client answers */
	static const uint8_t cke_only[] = { HS_CLIENT_KEY_EXCHANGE, 0xff };
	deliver_if(p, &p->c, keep_types, (void *)cke_only, NULL);
	CU_ASSERT_FATAL(p->s.s->hs && p->s.s->hs->recv_seq == 2);
}

static void test_server_wrong_message_every_state(void)
{
	static const uint16_t next_seq[] = { 0, 1, 2 };
	for (int st = SRV_FRESH; st <= SRV_AFTER_CKE; st++) {
		for (size_t i = 0; i < N_TYPES; i++) {
			uint8_t t = all_types[i];
			if ((st == SRV_FRESH && t == HS_CLIENT_HELLO) || (st == SRV_AFTER_HELLO && t == HS_CLIENT_KEY_EXCHANGE))
				continue; /* the right message */
			struct pair p;
			server_to(&p, st);
			q_clear(&p.s);
			uint8_t body[64];
			size_t n = dummy_body(t, body);
			inject_msg(&p, &p.s, t, next_seq[st], body, n);
			char what[96];
			snprintf(what, sizeof(what), "server %s: %s", srv_state_names[st], type_name(t));
			expect_alert(&p.s, DTLS_ALERT_UNEXPECTED_MESSAGE, what);
			n_state_cases++;
			pair_free(&p);
		}
	}
}

enum client_state { CLI_STARTED, CLI_AFTER_SERVER_HELLO, CLI_AFTER_FLIGHT5 };
static const char *cli_state_names[] = { "started", "after ServerHello", "after its Finished" };

static void client_to(struct pair *p, enum client_state st, const char *suite)
{
	pair_init(p, suite);
	pair_start(p);
	if (st == CLI_STARTED) {
		q_clear(&p->c);
		return;
	}
	flush(p, &p->c);
	if (st == CLI_AFTER_SERVER_HELLO) {
		static const uint8_t sh_only[] = { HS_SERVER_HELLO, 0xff };
		deliver_if(p, &p->s, keep_types, (void *)sh_only, NULL);
		CU_ASSERT_FATAL(p->c.s->hs && p->c.s->hs->recv_seq == 1);
	} else {
		flush(p, &p->s);
		CU_ASSERT_FATAL(p->c.s->rec.write_epoch == 1);
	}
	q_clear(&p->c);
	q_clear(&p->s);
}

static void test_client_wrong_message_every_state(void)
{
	static const uint16_t next_seq[] = { 0, 1, 2 };
	for (int st = CLI_STARTED; st <= CLI_AFTER_FLIGHT5; st++) {
		for (size_t i = 0; i < N_TYPES; i++) {
			uint8_t t = all_types[i];
			if (st == CLI_STARTED && (t == HS_SERVER_HELLO || t == HS_HELLO_VERIFY_REQUEST))
				continue;
			if (st == CLI_AFTER_SERVER_HELLO && (t == HS_SERVER_KEY_EXCHANGE || t == HS_SERVER_HELLO_DONE))
				continue; /* a PSK hint may come; ServerHelloDone is next */
			struct pair p;
			client_to(&p, st, PSK_GCM);
			uint8_t body[64];
			size_t n = dummy_body(t, body);
			inject_msg(&p, &p.c, t, next_seq[st], body, n);
			char what[96];
			snprintf(what, sizeof(what), "client %s: %s", cli_state_names[st], type_name(t));
			if (t == HS_HELLO_REQUEST) {
				/* RFC 5246 7.4.1.1: ignored while a handshake runs. */
				expect_alive(&p.c, DTLS_STATE_HANDSHAKING, 0, what);
				CU_ASSERT_EQUAL(p.c.qlen, 0);
			} else {
				expect_alert(&p.c, DTLS_ALERT_UNEXPECTED_MESSAGE, what);
			}
			n_state_cases++;
			pair_free(&p);
		}
	}
}

/* After the handshake, plaintext (epoch 0) handshake messages are forgeable: ignored. */
static void test_established_ignores_plaintext_handshake(void)
{
	for (int side = 0; side < 2; side++) {
		for (size_t i = 0; i < N_TYPES; i++) {
			struct pair p;
			pair_init(&p, PSK_GCM);
			pair_handshake(&p);
			struct end *victim = side ? &p.s : &p.c;
			uint8_t body[64];
			size_t n = dummy_body(all_types[i], body);
			for (uint16_t seq = 0; seq < 6; seq++)
				inject_msg(&p, victim, all_types[i], seq, body, n);
			char what[96];
			snprintf(what, sizeof(what), "%s established: plaintext %s", side ? "server" : "client",
				 type_name(all_types[i]));
			expect_alive(victim, DTLS_STATE_ESTABLISHED, 0, what);
			CU_ASSERT_EQUAL(dtls_session_handshakes(victim->s), 1);
			/* and the session still carries data both ways */
			q_clear(&p.c);
			q_clear(&p.s);
			CU_ASSERT(dtls_session_send(p.c.s, (const uint8_t *)"x", 1) == 0);
			CU_ASSERT(dtls_session_send(p.s.s, (const uint8_t *)"y", 1) == 0);
			pair_run(&p);
			CU_ASSERT(p.c.data_n == 1 && p.s.data_n == 1);
			n_state_cases++;
			pair_free(&p);
		}
	}
}

/*
 * After the handshake, an authenticated peer sends a message that starts nothing
 * (anything but a ClientHello to a server, a HelloRequest to a client): dropped, or
 * unexpected_message; never a second handshake or a reset.
 */
static void test_established_sealed_unexpected(void)
{
	for (int side = 0; side < 2; side++) {
		for (size_t i = 0; i < N_TYPES; i++) {
			uint8_t t = all_types[i];
			if ((side && t == HS_CLIENT_HELLO) || (!side && t == HS_HELLO_REQUEST))
				continue;
			struct pair p;
			pair_init(&p, PSK_GCM);
			pair_handshake(&p);
			struct end *victim = side ? &p.s : &p.c;
			q_clear(victim);
			uint8_t body[64];
			size_t n = dummy_body(t, body);
			inject_sealed_msg(&p, victim, 1, t, 3, body, n);
			inject_sealed_msg(&p, victim, 1, t, 40, body, n);
			char what[96];
			snprintf(what, sizeof(what), "%s established: sealed %s", side ? "server" : "client", type_name(t));
			bool dropped = dtls_session_state(victim->s) == DTLS_STATE_ESTABLISHED;
			if (!dropped)
				expect_alert(victim, DTLS_ALERT_UNEXPECTED_MESSAGE, what);
			CU_ASSERT_EQUAL(dtls_session_handshakes(victim->s), 1);
			CU_ASSERT_EQUAL(victim->established, 1);
			n_state_cases++;
			pair_free(&p);
		}
	}
}


/* ---- ChangeCipherSpec out of order ------------------------------------------ */

static const uint8_t ccs_body[1] = { 1 };

/* A plaintext CCS at each point of a handshake changes nothing: the handshake then
 * completes as if it had not come (the CCS carries no authority, RFC 6347 4.1). */
static void test_ccs_out_of_order_is_noted_only(void)
{
	for (int at = 0; at < 5; at++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		struct end *victim = at % 2 ? &p.c : &p.s;
		struct dgram d = { .n = 0 };
		put_plain(&d, CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
		/* 0: server before ClientHello; 1: client before ServerHello; 2: server before
		 * ClientKeyExchange; 3: client before ServerHelloDone; 4: server, CCS twice */
		if (at >= 2)
			flush(&p, &p.c);
		static struct dgram rest;
		rest.n = 0;
		if (at == 3) {
			static const uint8_t sh_only[] = { HS_SERVER_HELLO, 0xff };
			deliver_if(&p, &p.s, keep_types, (void *)sh_only, &rest);
			IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		} else {
			IGNORE_RESULT(feed(&p, victim, d.b, d.n));
			if (at == 4)
				IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		}
		char what[64];
		snprintf(what, sizeof(what), "CCS out of order, case %d", at);
		expect_alive(victim, DTLS_STATE_HANDSHAKING, 0, what);
		CU_ASSERT_EQUAL(victim->s->rec.write_epoch, 0);
		if (at == 3)
			IGNORE_RESULT(feed(&p, victim, rest.b, rest.n));
		pair_run(&p);
		CU_ASSERT(pair_established(&p));
		n_ccs_cases++;
		pair_free(&p);
	}
}

/* Malformed CCS bodies are dropped; the handshake completes. */
static void test_ccs_malformed(void)
{
	static const struct {
		uint8_t b[3];
		size_t n;
	} bodies[] = { { { 0 }, 0 }, { { 2 }, 1 }, { { 1, 1 }, 2 }, { { 0 }, 1 } };
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		flush(&p, &p.c);
		struct dgram d = { .n = 0 };
		put_plain(&d, CT_CHANGE_CIPHER_SPEC, bodies[i].b, bodies[i].n);
		IGNORE_RESULT(feed(&p, &p.c, d.b, d.n));
		IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
		expect_alive(&p.c, DTLS_STATE_HANDSHAKING, 0, "malformed CCS to the client");
		expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "malformed CCS to the server");
		pair_run(&p);
		CU_ASSERT(pair_established(&p));
		n_ccs_cases++;
		pair_free(&p);
	}
}

/* A CCS then a plaintext Finished: the CCS switched nothing, so that Finished is out of
 * its epoch: unexpected_message, never accepted (server and client). */
static void test_ccs_then_plaintext_finished(void)
{
	uint8_t fin[FINISHED_LEN] = { 0 };
	struct pair p;
	server_to(&p, SRV_AFTER_CKE);
	q_clear(&p.s);
	struct dgram d = { .n = 0 };
	put_plain(&d, CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	inject_msg(&p, &p.s, HS_FINISHED, 2, fin, sizeof(fin));
	expect_alert(&p.s, DTLS_ALERT_UNEXPECTED_MESSAGE, "server: CCS + plaintext Finished");
	n_ccs_cases++;
	pair_free(&p);

	client_to(&p, CLI_AFTER_FLIGHT5, PSK_GCM);
	d.n = 0;
	put_plain(&d, CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
	IGNORE_RESULT(feed(&p, &p.c, d.b, d.n));
	inject_msg(&p, &p.c, HS_FINISHED, 2, fin, sizeof(fin));
	expect_alert(&p.c, DTLS_ALERT_UNEXPECTED_MESSAGE, "client: CCS + plaintext Finished");
	n_ccs_cases++;
	pair_free(&p);
}

/* A sealed CCS on an established session: nothing happens; data still flows. */
static void test_ccs_established(void)
{
	for (int side = 0; side < 2; side++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_handshake(&p);
		struct end *victim = side ? &p.s : &p.c;
		struct dgram d = { .n = 0 };
		put_sealed(&d, other(&p, victim)->s, 1, CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
		put_plain(&d, CT_CHANGE_CIPHER_SPEC, ccs_body, 1);
		IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		expect_alive(victim, DTLS_STATE_ESTABLISHED, 0, "CCS on an established session");
		CU_ASSERT_EQUAL(victim->s->rec.write_epoch, 1);
		CU_ASSERT(dtls_session_send(other(&p, victim)->s, (const uint8_t *)"z", 1) == 0);
		pair_run(&p);
		CU_ASSERT_EQUAL(victim->data_n, 1);
		n_ccs_cases++;
		pair_free(&p);
	}
}

/* ---- application data before Finished ----------------------------------- */

static unsigned n_early_data_cases;

/* Plaintext application data (epoch 0) is never delivered, at any point. */
static void test_plaintext_data_never_delivered(void)
{
	static const char msg[] = "plaintext data";
	for (int at = 0; at < 6; at++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		if (at >= 2)
			flush(&p, &p.c);
		if (at >= 4)
			pair_run(&p);
		struct end *victim = at % 2 ? &p.c : &p.s;
		struct dgram d = { .n = 0 };
		put_plain(&d, CT_APPLICATION_DATA, msg, sizeof(msg));
		/* a low sequence number too: it burns a real record's number, which the
		 * retransmission timer repairs */
		put_record(&d, CT_APPLICATION_DATA, 0, 0, msg, sizeof(msg));
		IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		CU_ASSERT_EQUAL(victim->data_n, 0);
		CU_ASSERT_EQUAL(dtls_session_error(victim->s), 0);
		CU_ASSERT(pair_settle(&p, 30000));
		CU_ASSERT_EQUAL(victim->data_n, 0);
		n_early_data_cases++;
		pair_free(&p);
	}
}

/* Server: data sealed under the client's new keys but ahead of its Finished. */
static void test_server_data_before_client_finished(void)
{
	struct pair p;
	server_to(&p, SRV_AFTER_CKE); /* the client has its epoch-1 keys; CCS and Finished held */
	struct dgram d = { .n = 0 };
	put_sealed(&d, p.c.s, 1, CT_APPLICATION_DATA, "early", 5);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "server: data before the client's Finished");
	/* the client's flight again (a retransmission brings the CCS and Finished) */
	p.now += 5000;
	IGNORE_RESULT(dtls_session_timeout(p.c.s, p.now));
	pair_run(&p);
	CU_ASSERT(pair_established(&p));
	CU_ASSERT_EQUAL(p.s.data_n, 1); /* held back, delivered once the Finished checked out */
	n_early_data_cases++;
	pair_free(&p);
}

/* Client: the server's first data overtakes its CCS and Finished (kept, then delivered). */
static void test_client_data_before_server_finished(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_start(&p);
	flush(&p, &p.c);
	flush(&p, &p.s);
	flush(&p, &p.c); /* the server completes and sends CCS + Finished */
	CU_ASSERT_FATAL(dtls_session_state(p.s.s) == DTLS_STATE_ESTABLISHED);
	CU_ASSERT_FATAL(dtls_session_send(p.s.s, (const uint8_t *)"overtaking", 10) == 0);
	size_t n;
	uint8_t *data = q_take(&p.s, p.s.qlen - 1, &n);
	IGNORE_RESULT(feed(&p, &p.c, data, n));
	expect_alive(&p.c, DTLS_STATE_HANDSHAKING, 0, "client: data before the server's Finished");
	flush(&p, &p.s);
	CU_ASSERT(pair_established(&p));
	CU_ASSERT_EQUAL(p.c.data_n, 1); /* held back until the Finished, then delivered */
	/* the same record again, now that the client is established: it was seen once */
	IGNORE_RESULT(feed(&p, &p.c, data, n));
	CU_ASSERT_EQUAL(p.c.data_n, 1);
	free(data);
	n_early_data_cases++;
	pair_free(&p);
}

/*
 * Renegotiation: data under the new epoch's keys before that handshake's Finished.
 * The server has the new read keys from the ClientKeyExchange on; until the client's
 * Finished has been checked, that epoch carries no authenticated data.
 */
static void test_server_data_in_pending_epoch_during_renegotiation(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	flush(&p, &p.c); /* ClientHello in epoch 1 */
	flush(&p, &p.s); /* ServerHello .. ServerHelloDone; the client answers */
	CU_ASSERT_FATAL(p.c.s->rec.write_epoch == 2);
	/* the client's flight: ClientKeyExchange (epoch 1), CCS (epoch 1), Finished (epoch 2) */
	static struct dgram flight;
	struct span sp[8];
	size_t nr = gather(&p.c, &flight, sp, 8);
	CU_ASSERT_FATAL(nr == 3 && sp[2].epoch == 2);
	IGNORE_RESULT(feed(&p, &p.s, flight.b + sp[0].off, sp[0].len)); /* ClientKeyExchange only */
	CU_ASSERT_FATAL(p.s.s->hs && !p.s.s->hs->done);
	struct dgram d = { .n = 0 };
	put_sealed(&d, p.c.s, 2, CT_APPLICATION_DATA, "before Finished", 15);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	if (p.s.data_n)
		fprintf(stderr, "\n    renegotiation: the server delivered epoch-2 data before the client's Finished\n");
	CU_ASSERT_EQUAL(p.s.data_n, 0);
	IGNORE_RESULT(feed(&p, &p.s, flight.b + sp[1].off, flight.n - sp[1].off));
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 2);
	n_early_data_cases++;
	pair_free(&p);
}

/* The same on the client: the server's first data under the renegotiated keys
 * overtakes the server's Finished. */
static void test_client_data_in_pending_epoch_during_renegotiation(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	flush(&p, &p.c); /* ClientHello */
	flush(&p, &p.s); /* ServerHello .. ServerHelloDone */
	flush(&p, &p.c); /* ClientKeyExchange, CCS, Finished: the server completes */
	CU_ASSERT_FATAL(dtls_session_handshakes(p.s.s) == 2 && p.s.s->rec.write_epoch == 2);
	CU_ASSERT_FATAL(dtls_session_send(p.s.s, (const uint8_t *)"overtaking", 10) == 0);
	size_t n;
	uint8_t *data = q_take(&p.s, p.s.qlen - 1, &n);
	IGNORE_RESULT(feed(&p, &p.c, data, n));
	free(data);
	if (p.c.data_n)
		fprintf(stderr, "\n    renegotiation: the client delivered epoch-2 data before the server's Finished\n");
	CU_ASSERT_EQUAL(p.c.data_n, 0);
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.c.s), 2);
	n_early_data_cases++;
	pair_free(&p);
}

/* ---- epochs ---------------------------------------------------------------- */

/* A plausible ServerHello body for PSK_GCM (extended master secret, empty renegotiation_info). */
static size_t write_sh_for_test(uint8_t *out, size_t cap)
{
	struct server_hello_params sp = { .random = (const uint8_t *)"0123456789abcdef0123456789abcdef",
					  .suite = 0x00A8, .ems = true, .reneg = (const uint8_t *)"", .reneg_len = 0 };
	struct wire_writer w = wire_writer(out, cap);
	write_server_hello(&w, &sp);
	size_t n = 0;
	CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
	return n;
}

static unsigned n_epoch_cases;

/* Records of an epoch that has no keys yet: dropped and counted, at every stage. */
static void test_future_epoch_dropped(void)
{
	static const uint16_t epochs[] = { 1, 2, 7, 0x8000, 0xffff };
	static const uint8_t types[] = { CT_HANDSHAKE, CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_APPLICATION_DATA, 99 };
	for (int stage = 0; stage < 3; stage++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		if (stage >= 1)
			flush(&p, &p.c);
		if (stage >= 2)
			pair_run(&p);
		for (int side = 0; side < 2; side++) {
			struct end *victim = side ? &p.s : &p.c;
			enum dtls_state st = dtls_session_state(victim->s);
			struct dtls_session_stats before, after;
			dtls_session_stats(victim->s, &before);
			size_t fed = 0;
			for (size_t e = 0; e < ARRAY_LEN(epochs); e++) {
				if (stage == 2 && epochs[e] == 1)
					continue; /* epoch 1 has keys then: see the bad-MAC tests */
				for (size_t t = 0; t < ARRAY_LEN(types); t++) {
					struct dgram d = { .n = 0 };
					uint8_t junk[40];
					memset(junk, (int)(e * 16 + t), sizeof(junk));
					put_record(&d, types[t], epochs[e], 5 + t, junk, sizeof(junk));
					IGNORE_RESULT(feed(&p, victim, d.b, d.n));
					fed++;
				}
			}
			dtls_session_stats(victim->s, &after);
			expect_alive(victim, st, 0, "future epoch");
			CU_ASSERT_EQUAL(after.dropped_epoch - before.dropped_epoch, fed);
			n_epoch_cases++;
		}
		pair_run(&p);
		CU_ASSERT(pair_established(&p));
		pair_free(&p);
	}
}

/*
 * After a renegotiation to epoch 2: alerts of epoch 1 and anything in plaintext epoch 0
 * are not taken. Data of epoch 1 still is during the grace period (RFC 6347 4.1: keys of
 * the previous epoch may be kept for a while so that data the peer sent just before it
 * switched is not lost), and no longer once that period is over.
 */
static void test_old_epoch_after_renegotiation(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	pair_run(&p);
	CU_ASSERT_FATAL(dtls_session_handshakes(p.s.s) == 2 && dtls_session_handshakes(p.c.s) == 2);
	CU_ASSERT_FATAL(p.s.s->established_epoch == 2);

	for (int side = 0; side < 2; side++) {
		struct end *victim = side ? &p.s : &p.c;
		struct dtls_session *peer = other(&p, victim)->s;
		struct dgram d = { .n = 0 };
		put_sealed(&d, peer, 1, CT_APPLICATION_DATA, "old epoch", 9);
		put_sealed(&d, peer, 1, CT_ALERT, "\x01\x00", 2); /* close_notify in the old epoch */
		put_sealed(&d, peer, 1, CT_ALERT, "\x02\x28", 2); /* a fatal alert in the old epoch */
		put_plain(&d, CT_APPLICATION_DATA, "epoch 0", 7);
		put_plain(&d, CT_ALERT, "\x02\x28", 2);
		IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		expect_alive(victim, DTLS_STATE_ESTABLISHED, 1, "old epoch after renegotiation");
		/* the current epoch still works */
		d.n = 0;
		put_sealed(&d, peer, 2, CT_APPLICATION_DATA, "new epoch", 9);
		IGNORE_RESULT(feed(&p, victim, d.b, d.n));
		CU_ASSERT_EQUAL(victim->data_n, 2);
		n_epoch_cases++;
	}

	/* once the grace period is over the old epoch's keys are gone altogether */
	p.now += 10000;
	IGNORE_RESULT(dtls_session_timeout(p.s.s, p.now));
	struct dtls_session_stats before, after;
	dtls_session_stats(p.s.s, &before);
	struct dgram d = { .n = 0 };
	put_sealed(&d, p.c.s, 1, CT_APPLICATION_DATA, "late", 4);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	dtls_session_stats(p.s.s, &after);
	CU_ASSERT_EQUAL(after.dropped_epoch, before.dropped_epoch + 1);
	CU_ASSERT_EQUAL(p.s.data_n, 2);
	n_epoch_cases++;
	pair_free(&p);
}

/*
 * During a renegotiation, handshake messages of the new handshake come in the current
 * epoch. A plaintext (epoch 0) copy is unauthenticated: it must not be taken for the
 * real message, nor end the established session. (Within the epoch-0 grace period
 * after the first handshake, epoch 0 is still readable.)
 */
static void test_plaintext_messages_during_renegotiation(void)
{
	uint8_t body[64];
	/* server: the renegotiating client's ClientKeyExchange forged in epoch 0 */
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	flush(&p, &p.c); /* ClientHello (epoch 1): the server answers */
	CU_ASSERT_FATAL(p.s.s->hs && !p.s.s->hs->done);
	uint16_t next = p.s.s->hs->recv_seq;
	size_t n = dummy_body(HS_CLIENT_KEY_EXCHANGE, body);
	inject_msg(&p, &p.s, HS_CLIENT_KEY_EXCHANGE, next, body, n);
	inject_msg(&p, &p.s, HS_FINISHED, (uint16_t)(next + 1), body, FINISHED_LEN);
	expect_alive(&p.s, DTLS_STATE_ESTABLISHED, 0, "server renegotiating: plaintext ClientKeyExchange");
	pair_settle(&p, 30000);
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 2);
	n_epoch_cases++;
	pair_free(&p);

	/* client: the server's ServerHello forged in epoch 0 */
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	q_clear(&p.c);
	uint8_t sh[128];
	n = write_sh_for_test(sh, sizeof(sh));
	inject_msg(&p, &p.c, HS_SERVER_HELLO, 0, sh, n);
	inject_msg(&p, &p.c, HS_SERVER_HELLO_DONE, 1, NULL, 0);
	expect_alive(&p.c, DTLS_STATE_ESTABLISHED, 0, "client renegotiating: plaintext ServerHello");
	CU_ASSERT_EQUAL(p.c.s->rec.write_epoch, 1);
	n_epoch_cases++;
	pair_free(&p);
}

/*
 * Junk under the epoch whose Finished is awaited. In a first handshake the engine may
 * end with bad_record_mac (RFC 6347 4.1.2.7 allows it: that is how a wrong PSK shows);
 * an established session that renegotiates must not be ended by a record nobody
 * authenticated.
 */
static void test_junk_in_pending_epoch(void)
{
	uint8_t junk[48];
	memset(junk, 0xa5, sizeof(junk));
	struct pair p;
	server_to(&p, SRV_AFTER_CKE);
	q_clear(&p.s);
	struct dgram d = { .n = 0 };
	put_record(&d, CT_HANDSHAKE, 1, 9, junk, sizeof(junk));
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	if (dtls_session_state(p.s.s) != DTLS_STATE_HANDSHAKING)
		expect_alert(&p.s, DTLS_ALERT_BAD_RECORD_MAC, "first handshake: junk where Finished is awaited");
	n_epoch_cases++;
	pair_free(&p);

	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	client_renegotiate(&p);
	flush(&p, &p.c);
	flush(&p, &p.s);
	/* the client's ClientKeyExchange only: the server now awaits a Finished in epoch 2 */
	static struct dgram flight;
	struct span sp[8];
	CU_ASSERT_FATAL(gather(&p.c, &flight, sp, 8) == 3);
	IGNORE_RESULT(feed(&p, &p.s, flight.b + sp[0].off, sp[0].len));
	d.n = 0;
	put_record(&d, CT_HANDSHAKE, 2, 9, junk, sizeof(junk));
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	expect_alive(&p.s, DTLS_STATE_ESTABLISHED, 0, "renegotiating: junk where Finished is awaited");
	IGNORE_RESULT(feed(&p, &p.s, flight.b + sp[1].off, flight.n - sp[1].off));
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 2);
	n_epoch_cases++;
	pair_free(&p);
}

/* ---- replays ---------------------------------------------------------------- */

static unsigned n_replay_cases;

/* A datagram of application data fed twice is delivered once (both directions, every
 * record protection). */
static void test_replayed_data_delivered_once(void)
{
	static const char *suites[] = { PSK_GCM, PSK_CBC, "TLS_PSK_WITH_AES_128_CCM_8",
					"TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" };
	for (size_t i = 0; i < ARRAY_LEN(suites); i++) {
		for (int side = 0; side < 2; side++) {
			struct pair p;
			pair_init(&p, suites[i]);
			pair_handshake(&p);
			struct end *from = side ? &p.c : &p.s, *to = other(&p, from);
			CU_ASSERT_FATAL(dtls_session_send(from->s, (const uint8_t *)"once", 4) == 0);
			size_t n;
			uint8_t *d = q_take(from, from->qlen - 1, &n);
			for (int k = 0; k < 3; k++)
				IGNORE_RESULT(feed(&p, to, d, n));
			free(d);
			struct dtls_session_stats st;
			dtls_session_stats(to->s, &st);
			CU_ASSERT_EQUAL(to->data_n, 1);
			CU_ASSERT_EQUAL(st.dropped_replay, 2);
			n_replay_cases++;
			pair_free(&p);
		}
	}
}

/* Replayed handshake flights after the handshake: no second handshake, no reset. */
static void test_replayed_flights(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_start(&p);
	struct dgram c_flights[3], s_flights[3];
	size_t nc = 0, ns = 0;
	/* record every datagram of the handshake as it passes */
	for (int round = 0; round < 8 && (p.c.qlen || p.s.qlen); round++) {
		for (int side = 0; side < 2; side++) {
			struct end *from = side ? &p.s : &p.c;
			while (from->qlen) {
				size_t n;
				uint8_t *d = q_take(from, 0, &n);
				struct dgram *keep = side ? (ns < 3 ? &s_flights[ns++] : NULL) : (nc < 3 ? &c_flights[nc++] : NULL);
				if (keep) {
					memcpy(keep->b, d, n);
					keep->n = n;
				}
				IGNORE_RESULT(feed(&p, other(&p, from), d, n));
				free(d);
			}
		}
	}
	CU_ASSERT_FATAL(pair_established(&p));
	for (size_t i = 0; i < nc; i++)
		IGNORE_RESULT(feed(&p, &p.s, c_flights[i].b, c_flights[i].n));
	for (size_t i = 0; i < ns; i++)
		IGNORE_RESULT(feed(&p, &p.c, s_flights[i].b, s_flights[i].n));
	expect_alive(&p.s, DTLS_STATE_ESTABLISHED, 0, "server: the client's flights replayed");
	expect_alive(&p.c, DTLS_STATE_ESTABLISHED, 0, "client: the server's flights replayed");
	CU_ASSERT(p.s.established == 1 && p.c.established == 1);
	CU_ASSERT(dtls_session_handshakes(p.s.s) == 1 && dtls_session_handshakes(p.c.s) == 1);
	n_replay_cases += 2;
	/* still one session that carries data */
	q_clear(&p.c);
	q_clear(&p.s);
	CU_ASSERT(dtls_session_send(p.c.s, (const uint8_t *)"after", 5) == 0);
	pair_run(&p);
	CU_ASSERT_EQUAL(p.s.data_n, 1);
	pair_free(&p);
}

/* The same through dtls_server: an old ClientHello from the peer's address does not
 * replace its session. */
struct srv_watch {
	struct dtls_session *last;
	unsigned connects, ended, data;
	uint8_t out[QMAX][2048];
	size_t out_n[QMAX], n_out;
};

static void srv_send(void *arg, const struct sockaddr *a, socklen_t l, const uint8_t *d, size_t n)
{
	struct srv_watch *w = arg;
	(void)a, (void)l;
	if (w->n_out < QMAX && n <= sizeof(w->out[0])) {
		memcpy(w->out[w->n_out], d, n);
		w->out_n[w->n_out++] = n;
	}
}

static int srv_connect(void *arg, struct dtls_session *s, const struct sockaddr *a, socklen_t l)
{
	struct srv_watch *w = arg;
	(void)a, (void)l;
	w->last = s;
	w->connects++;
	return 0;
}

static void srv_ended(void *arg, struct dtls_session *s, int err)
{
	struct srv_watch *w = arg;
	(void)s, (void)err;
	w->ended++;
}

static void srv_data(void *arg, struct dtls_session *s, const uint8_t *d, size_t n)
{
	struct srv_watch *w = arg;
	(void)s, (void)d, (void)n;
	w->data++;
}

static const struct dtls_server_callbacks srv_cb = {
	.send = srv_send, .connect = srv_connect, .ended = srv_ended, .data = srv_data,
};

static int srv_handle(struct dtls_server *srv, const struct sockaddr_in *from, const uint8_t *d, size_t n,
		      uint64_t now)
{
	uint8_t copy[DTLS_MAX_DATAGRAM];
	memcpy(copy, d, n);
	return dtls_server_handle(srv, (const struct sockaddr *)from, sizeof(*from), copy, n, now);
}

static void test_server_replayed_client_hello(void)
{
	struct dtls_config *ccfg = psk_config(PSK_GCM), *scfg = psk_config(PSK_GCM);
	struct srv_watch w = { 0 };
	struct dtls_server *srv = dtls_server_new(scfg, &srv_cb, &w, 8);
	struct end c = { 0 };
	c.s = dtls_session_new_client(ccfg, &end_cb, &c);
	CU_ASSERT_FATAL(srv && c.s && dtls_session_start(c.s, 1000) == 0);
	struct dgram hellos[2];
	size_t nh = 0;
	uint64_t now = 1000;
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < c.qlen; i++) {
			if (nh < 2) {
				memcpy(hellos[nh].b, c.q[i], c.qn[i]);
				hellos[nh++].n = c.qn[i];
			}
			IGNORE_RESULT(srv_handle(srv, &client_addr, c.q[i], c.qn[i], ++now));
		}
		q_clear(&c);
		size_t k = w.n_out;
		w.n_out = 0;
		for (size_t i = 0; i < k; i++) {
			uint8_t copy[2048];
			memcpy(copy, w.out[i], w.out_n[i]);
			IGNORE_RESULT(dtls_session_handle(c.s, copy, w.out_n[i], ++now));
		}
	}
	CU_ASSERT_FATAL(dtls_session_state(c.s) == DTLS_STATE_ESTABLISHED && w.connects == 1);
	/* both ClientHellos (without and with the cookie) again */
	for (size_t i = 0; i < nh; i++)
		IGNORE_RESULT(srv_handle(srv, &client_addr, hellos[i].b, hellos[i].n, ++now));
	CU_ASSERT_EQUAL(w.connects, 1);
	CU_ASSERT_EQUAL(w.ended, 0);
	CU_ASSERT_EQUAL(dtls_server_session_count(srv), 1);
	CU_ASSERT(w.last && dtls_session_state(w.last) == DTLS_STATE_ESTABLISHED);
	n_replay_cases++;
	dtls_session_free(c.s);
	q_clear(&c);
	dtls_server_free(srv);
	dtls_config_unref(ccfg);
	dtls_config_unref(scfg);
}

/* ---- truncated and oversized records -------------------------------------- */

static unsigned n_record_cases;

/* The client's first ClientHello, as one datagram (one record). */
static struct dgram first_hello(struct pair *p)
{
	struct dgram d;
	CU_ASSERT_FATAL(p->c.qlen == 1);
	memcpy(d.b, p->c.q[0], p->c.qn[0]);
	d.n = p->c.qn[0];
	q_clear(&p->c);
	return d;
}

/* Garbage that is not a whole record, before any handshake and after it. */
static void test_truncated_records(void)
{
	for (int stage = 0; stage < 2; stage++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		struct dgram hello = first_hello(&p);
		if (stage) {
			IGNORE_RESULT(feed(&p, &p.s, hello.b, hello.n));
			pair_run(&p);
			CU_ASSERT_FATAL(pair_established(&p));
			q_clear(&p.s);
		}
		struct end *v = &p.s;
		enum dtls_state st = dtls_session_state(v->s);
		/* every prefix of a real record, header included */
		for (size_t cut = 1; cut < hello.n; cut += (cut < 20 ? 1 : 17))
			IGNORE_RESULT(feed(&p, v, hello.b, cut));
		/* a header whose length runs past the datagram */
		struct dgram d = { .n = 0 };
		put_plain(&d, CT_HANDSHAKE, hello.b + REC_HEADER_LEN, hello.n - REC_HEADER_LEN);
		d.b[11] = (uint8_t)((d.n + 50) >> 8), d.b[12] = (uint8_t)(d.n + 50);
		IGNORE_RESULT(feed(&p, v, d.b, d.n));
		/* an unknown version, content type, and an empty datagram */
		d.n = 0;
		put_plain(&d, CT_HANDSHAKE, "x", 1);
		d.b[1] = 0x03, d.b[2] = 0x03;
		IGNORE_RESULT(feed(&p, v, d.b, d.n));
		d.n = 0;
		put_plain(&d, 0x42, "xyz", 3);
		put_plain(&d, 0, "", 0);
		IGNORE_RESULT(feed(&p, v, d.b, d.n));
		IGNORE_RESULT(feed(&p, v, d.b, 0));
		expect_alive(v, st, 0, stage ? "truncated records, established" : "truncated records, fresh");
		CU_ASSERT_EQUAL(v->qlen, 0); /* no answer to any of it */
		n_record_cases++;
		pair_free(&p);
	}
}

/* A good record then a truncated one in one datagram: the good one counts. A bad
 * header first: the whole datagram goes (RFC 6347 4.1.2.7). */
static void test_good_and_bad_records_in_one_datagram(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_start(&p);
	struct dgram hello = first_hello(&p);
	struct dgram d = hello;
	memcpy(d.b + d.n, hello.b, 20); /* a truncated second record */
	d.n += 20;
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	CU_ASSERT(p.s.qlen > 0); /* the ClientHello was answered */
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "good + truncated");
	pair_run(&p);
	CU_ASSERT(pair_established(&p));
	n_record_cases++;
	pair_free(&p);

	pair_init(&p, PSK_GCM);
	pair_start(&p);
	hello = first_hello(&p);
	d.n = 0;
	put_plain(&d, CT_HANDSHAKE, "x", 1);
	d.b[1] = 0x01; /* version 0x01fd: not DTLS */
	memcpy(d.b + d.n, hello.b, hello.n);
	d.n += hello.n;
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "bad header + good record");
	n_record_cases++;
	pair_free(&p);
}

/* Records longer than DTLS allows: plaintext over 2^14, any over 2^14 + 2048. */
static void test_oversized_records(void)
{
	static uint8_t big[REC_MAX_CIPHERTEXT + 2];
	memset(big, 0x16, sizeof(big));
	static const size_t lens[] = { REC_MAX_PLAINTEXT + 1, REC_MAX_CIPHERTEXT, REC_MAX_CIPHERTEXT + 1,
				       REC_MAX_CIPHERTEXT + 2 };
	for (int stage = 0; stage < 2; stage++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		if (stage)
			pair_handshake(&p);
		for (int side = 0; side < 2; side++) {
			struct end *v = side ? &p.s : &p.c;
			enum dtls_state st = dtls_session_state(v->s);
			for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
				static struct dgram d;
				d.n = 0;
				put_plain(&d, CT_HANDSHAKE, big, lens[i]);
				IGNORE_RESULT(feed(&p, v, d.b, d.n));
				d.n = 0;
				put_record(&d, CT_APPLICATION_DATA, stage, 77, big, lens[i]);
				IGNORE_RESULT(feed(&p, v, d.b, d.n));
			}
			expect_alive(v, st, 0, "oversized records");
			n_record_cases++;
		}
		pair_free(&p);
	}
}

/* Under keys: records too short for the nonce and tag, or not a whole number of
 * blocks, or just wrong, are dropped; the session lives on. */
static void test_bad_protected_records(void)
{
	static const char *suites[] = { PSK_GCM, PSK_CBC, "TLS_PSK_WITH_AES_128_CCM_8",
					"TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256" };
	static const size_t lens[] = { 0, 1, 8, 15, 16, 23, 24, 31, 32, 47, 48, 63, 64, 80, 100 };
	for (size_t i = 0; i < ARRAY_LEN(suites); i++) {
		struct pair p;
		pair_init(&p, suites[i]);
		pair_handshake(&p);
		for (int side = 0; side < 2; side++) {
			struct end *v = side ? &p.s : &p.c;
			struct dtls_session_stats before, after;
			dtls_session_stats(v->s, &before);
			for (size_t k = 0; k < ARRAY_LEN(lens); k++) {
				uint8_t junk[128];
				memset(junk, (int)k, sizeof(junk));
				static const uint8_t types[] = { CT_APPLICATION_DATA, CT_ALERT, CT_HANDSHAKE };
				for (size_t t = 0; t < 3; t++) {
					struct dgram d = { .n = 0 };
					put_record(&d, types[t], 1, 1000 + k * 3 + t, junk, lens[k]);
					IGNORE_RESULT(feed(&p, v, d.b, d.n));
				}
			}
			/* a real record with one bit flipped, and cut short by one byte */
			CU_ASSERT_FATAL(dtls_session_send(other(&p, v)->s, (const uint8_t *)"payload", 7) == 0);
			size_t n;
			uint8_t *rec = q_take(other(&p, v), other(&p, v)->qlen - 1, &n);
			for (size_t bit = REC_HEADER_LEN * 8; bit < n * 8; bit += 13) {
				rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				IGNORE_RESULT(feed(&p, v, rec, n));
				rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
			rec[12]--;
			IGNORE_RESULT(feed(&p, v, rec, n - 1));
			free(rec);
			dtls_session_stats(v->s, &after);
			expect_alive(v, DTLS_STATE_ESTABLISHED, 0, suites[i]);
			CU_ASSERT(after.dropped_mac > before.dropped_mac);
			n_record_cases++;
		}
		pair_free(&p);
	}
}

/* ---- fragments ---------------------------------------------------------------- */

static unsigned n_fragment_cases;

/* The body of the client's first ClientHello. */
static size_t hello_body(struct pair *p, uint8_t *out)
{
	struct dgram d = first_hello(p);
	struct wire_reader r = wire_reader(d.b, d.n);
	struct rec_header h;
	struct wire_reader frag, body;
	struct hs_header hh;
	CU_ASSERT_FATAL(rec_parse_header(&r, &h, &frag) == 0 && hs_parse_header(&frag, &hh, &body) == 0);
	CU_ASSERT_FATAL(hh.type == HS_CLIENT_HELLO && hh.frag_len == hh.length);
	memcpy(out, wire_bytes(&body, hh.length), hh.length);
	return hh.length;
}

/* Feeds the server one plaintext record holding one fragment of message seq 0. */
static void feed_frag(struct pair *p, uint8_t type, uint32_t len, uint32_t off, const uint8_t *frag, uint32_t flen)
{
	uint8_t m[HS_HEADER_LEN + 4096];
	struct dgram d = { .n = 0 };
	size_t n = hs_frag(m, type, 0, len, off, frag, flen);
	put_plain(&d, CT_HANDSHAKE, m, n);
	IGNORE_RESULT(feed(p, &p->s, d.b, d.n));
}

/* Malformed handshake headers inside a good record are dropped. */
static void test_malformed_fragment_headers(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	pair_start(&p);
	uint8_t body[1024];
	size_t len = hello_body(&p, body);
	uint8_t m[HS_HEADER_LEN + 1024];
	size_t n = hs_msg(m, HS_CLIENT_HELLO, 0, body, len);
	struct dgram d;
	/* every cut of the handshake header and of the fragment */
	for (size_t cut = 1; cut < n; cut += (cut < HS_HEADER_LEN + 2 ? 1 : 23)) {
		d.n = 0;
		put_plain(&d, CT_HANDSHAKE, m, cut);
		IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	}
	/* frag_off + frag_len past the message length; a fragment past the record */
	uint8_t bad[HS_HEADER_LEN + 1024];
	size_t k = hs_frag(bad, HS_CLIENT_HELLO, 0, (uint32_t)len, 10, body, (uint32_t)len);
	d.n = 0;
	put_plain(&d, CT_HANDSHAKE, bad, k);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	k = hs_frag(bad, HS_CLIENT_HELLO, 0, (uint32_t)len, 0, body, (uint32_t)len);
	bad[9] = 0x0f; /* frag_len 0x0fxxxx */
	d.n = 0;
	put_plain(&d, CT_HANDSHAKE, bad, k);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "malformed fragment headers");
	CU_ASSERT_EQUAL(p.s.qlen, 0);
	CU_ASSERT(!p.s.s->hs || p.s.s->hs->row == 0); /* no handshake began */
	n_fragment_cases += 3;
	/* the real ClientHello still works */
	feed_frag(&p, HS_CLIENT_HELLO, (uint32_t)len, 0, body, (uint32_t)len);
	CU_ASSERT(p.s.qlen > 0);
	pair_free(&p);
}

/* Fragments of one message that disagree (length, type, epoch) are never merged: the
 * first fragment decides, the others are dropped, and the real rest completes it. */
static void test_fragments_that_disagree(void)
{
	for (int kind = 0; kind < 3; kind++) {
		struct pair p;
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		uint8_t body[1024];
		uint32_t len = (uint32_t)hello_body(&p, body);
		uint32_t half = len / 2;
		feed_frag(&p, HS_CLIENT_HELLO, len, 0, body, half);
		uint8_t evil[1024];
		memset(evil, 0xee, sizeof(evil));
		switch (kind) {
		case 0: /* the second half claims another total length */
			feed_frag(&p, HS_CLIENT_HELLO, len + 1, half, evil, len + 1 - half);
			feed_frag(&p, HS_CLIENT_HELLO, len - 1, half, evil, len - 1 - half);
			break;
		case 1: /* another message type */
			feed_frag(&p, HS_CLIENT_KEY_EXCHANGE, len, half, evil, len - half);
			break;
		case 2: { /* another epoch (a record of epoch 1 the server cannot open anyway) */
			uint8_t m[HS_HEADER_LEN + 1024];
			struct dgram d = { .n = 0 };
			size_t n = hs_frag(m, HS_CLIENT_HELLO, 0, len, half, evil, len - half);
			put_record(&d, CT_HANDSHAKE, 1, 3, m, n);
			IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
			break;
		}
		}
		expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "disagreeing fragment");
		CU_ASSERT_EQUAL(p.s.qlen, 0); /* nothing complete yet */
		/* overlapping and duplicate real fragments, then the rest */
		feed_frag(&p, HS_CLIENT_HELLO, len, half / 2, body + half / 2, half);
		feed_frag(&p, HS_CLIENT_HELLO, len, half, body + half, len - half);
		CU_ASSERT(p.s.qlen > 0);
		q_clear(&p.c);
		pair_run(&p);
		CU_ASSERT(pair_established(&p));
		n_fragment_cases++;
		pair_free(&p);
	}
}

/* message_seq far ahead of the next expected one: dropped without allocating; at the
 * edge of the window: buffered, and the handshake continues when its turn comes. */
static void test_message_seq_far_ahead(void)
{
	static const uint16_t seqs[] = { 4, 5, 100, 1000, 0x7fff, 0xfffe, 0xffff };
	struct pair p;
	server_to(&p, SRV_AFTER_HELLO);
	q_clear(&p.s);
	uint8_t body[64];
	for (size_t i = 0; i < ARRAY_LEN(seqs); i++) {
		size_t n = dummy_body(HS_CLIENT_KEY_EXCHANGE, body);
		inject_msg(&p, &p.s, HS_CLIENT_KEY_EXCHANGE, seqs[i], body, n);
		inject_msg(&p, &p.s, HS_FINISHED, seqs[i], body, FINISHED_LEN);
		n_fragment_cases++;
	}
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "message_seq far ahead");
	for (size_t i = 0; i < HS_WINDOW; i++)
		CU_ASSERT(!p.s.s->hs->pending[i].used || p.s.s->hs->pending[i].seq < p.s.s->hs->recv_seq + HS_WINDOW);
	CU_ASSERT_EQUAL(p.s.qlen, 0);
	CU_ASSERT(pair_settle(&p, 30000)); /* its flight was held back: the timer resends it */
	pair_free(&p);

	/* the client: a ServerHelloDone far ahead does not complete its flight */
	client_to(&p, CLI_AFTER_SERVER_HELLO, PSK_GCM);
	for (size_t i = 0; i < ARRAY_LEN(seqs); i++)
		inject_msg(&p, &p.c, HS_SERVER_HELLO_DONE, seqs[i], NULL, 0);
	expect_alive(&p.c, DTLS_STATE_HANDSHAKING, 0, "client: ServerHelloDone far ahead");
	CU_ASSERT_EQUAL(p.c.qlen, 0);
	CU_ASSERT_EQUAL(p.c.s->rec.write_epoch, 0);
	n_fragment_cases++;
	pair_free(&p);
}

/* Zero-length messages where a body is required: decode_error. */
static void test_zero_length_messages(void)
{
	struct pair p;
	pair_init(&p, PSK_GCM);
	inject_msg(&p, &p.s, HS_CLIENT_HELLO, 0, NULL, 0);
	expect_alert(&p.s, DTLS_ALERT_DECODE_ERROR, "empty ClientHello");
	n_fragment_cases++;
	pair_free(&p);

	server_to(&p, SRV_AFTER_HELLO);
	q_clear(&p.s);
	inject_msg(&p, &p.s, HS_CLIENT_KEY_EXCHANGE, 1, NULL, 0);
	expect_alert(&p.s, DTLS_ALERT_DECODE_ERROR, "empty ClientKeyExchange");
	n_fragment_cases++;
	pair_free(&p);

	client_to(&p, CLI_STARTED, PSK_GCM);
	inject_msg(&p, &p.c, HS_SERVER_HELLO, 0, NULL, 0);
	expect_alert(&p.c, DTLS_ALERT_DECODE_ERROR, "empty ServerHello");
	n_fragment_cases++;
	pair_free(&p);

	client_to(&p, CLI_STARTED, PSK_GCM);
	inject_msg(&p, &p.c, HS_HELLO_VERIFY_REQUEST, 0, NULL, 0);
	expect_alert(&p.c, DTLS_ALERT_DECODE_ERROR, "empty HelloVerifyRequest");
	n_fragment_cases++;
	pair_free(&p);

	/* Finished under the right keys, but empty or one byte long */
	for (size_t len = 0; len < 2; len++) {
		server_to(&p, SRV_AFTER_CKE);
		q_clear(&p.s);
		uint8_t fin[FINISHED_LEN] = { 0 };
		inject_sealed_msg(&p, &p.s, 1, HS_FINISHED, 2, fin, len);
		expect_alert(&p.s, DTLS_ALERT_DECODE_ERROR, "short Finished");
		n_fragment_cases++;
		pair_free(&p);
	}
	/* and the right length with the wrong verify_data: decrypt_error (RFC 5246 7.4.9) */
	server_to(&p, SRV_AFTER_CKE);
	q_clear(&p.s);
	uint8_t fin[FINISHED_LEN] = { 0 };
	inject_sealed_msg(&p, &p.s, 1, HS_FINISHED, 2, fin, sizeof(fin));
	expect_alert(&p.s, DTLS_ALERT_DECRYPT_ERROR, "wrong verify_data");
	n_fragment_cases++;
	pair_free(&p);

	/* the same to the client, sealed with the real server's keys */
	for (size_t len = 0; len <= FINISHED_LEN; len += FINISHED_LEN) {
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		flush(&p, &p.c);
		flush(&p, &p.s);
		flush(&p, &p.c); /* the server is done: its CCS + Finished are held back */
		CU_ASSERT_FATAL(dtls_session_state(p.s.s) == DTLS_STATE_ESTABLISHED);
		q_clear(&p.s);
		q_clear(&p.c);
		inject_sealed_msg(&p, &p.c, 1, HS_FINISHED, 2, fin, len);
		expect_alert(&p.c, len ? DTLS_ALERT_DECRYPT_ERROR : DTLS_ALERT_DECODE_ERROR, "client: bad Finished");
		n_fragment_cases++;
		pair_free(&p);
	}
}

/* Message lengths at the limit: max_message is taken, one more is refused, and the
 * 2^24 - 1 a header can claim allocates nothing. */
static void test_message_length_limits(void)
{
	for (int over = 0; over < 2; over++) {
		struct pair p;
		struct dtls_config *s = psk_config(PSK_GCM);
		CU_ASSERT_FATAL(dtls_config_set_max_message(s, 4096) == 0);
		pair_init_cfg(&p, psk_config(PSK_GCM), s);
		pair_start(&p);
		uint8_t body[8192];
		size_t len = hello_body(&p, body);
		/* pad the ClientHello with an unknown extension to exactly 4096 (+1) bytes:
		 * extensions block = 2-byte length, then the existing ones, then ours */
		size_t ext_at = len;
		{
			struct client_hello ch;
			CU_ASSERT_FATAL(parse_client_hello(body, len, false, &ch) == 0);
			ext_at = ch.params_end;
		}
		size_t want = 4096 + (size_t)over;
		size_t old_ext = len - ext_at - 2;
		size_t pad = want - len - 4;
		body[len] = 0xfa, body[len + 1] = 0xce; /* extension type 0xface */
		body[len + 2] = (uint8_t)(pad >> 8), body[len + 3] = (uint8_t)pad;
		memset(body + len + 4, 0x61, pad);
		size_t total_ext = old_ext + 4 + pad;
		body[ext_at] = (uint8_t)(total_ext >> 8), body[ext_at + 1] = (uint8_t)total_ext;
		len = want;
		/* in 1000-byte fragments, last first */
		for (size_t off = len - len % 1000; ; off -= 1000) {
			size_t flen = off + 1000 <= len ? 1000 : len - off;
			feed_frag(&p, HS_CLIENT_HELLO, (uint32_t)len, (uint32_t)off, body + off, (uint32_t)flen);
			if (off == 0)
				break;
		}
		if (over) {
			expect_alert(&p.s, DTLS_ALERT_HANDSHAKE_FAILURE, "ClientHello over max_message");
		} else {
			/* answered with ServerHello .. ServerHelloDone (the client, which sent a
			 * shorter hello, could not finish this handshake: its transcript differs) */
			expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "ClientHello of max_message bytes");
			CU_ASSERT(p.s.qlen > 0);
			CU_ASSERT(p.s.s->hs && p.s.s->hs->row == 1);
		}
		n_fragment_cases++;
		pair_free(&p);
	}

	struct pair p;
	pair_init(&p, PSK_GCM);
	uint8_t some[100] = { 0 };
	feed_frag(&p, HS_CLIENT_HELLO, HS_MAX_LENGTH, 0, some, sizeof(some));
	CU_ASSERT(!p.s.s->hs || !p.s.s->hs->pending[0].used);
	CU_ASSERT(dtls_session_state(p.s.s) != DTLS_STATE_ESTABLISHED);
	if (dtls_session_state(p.s.s) == DTLS_STATE_FAILED)
		CU_ASSERT(sent_alert_record(&p.s));
	n_fragment_cases++;
	pair_free(&p);
}

/* ---- hello contents that must be refused ---------------------------------- */

static unsigned n_hello_cases;

struct ch_opts {
	uint16_t version;                  /* 0: DTLS 1.2 */
	const uint16_t *suites;            /* NULL: TLS_PSK_WITH_AES_128_GCM_SHA256 */
	size_t n_suites;
	bool odd_suites;                   /* a suites vector of odd length */
	const uint8_t *comp;               /* NULL: { null } */
	size_t n_comp;
	size_t sid_len;
	bool ems, dup_ems;
	const uint8_t *reneg;              /* renegotiation_info data, if reneg_len >= 0 */
	int reneg_len;
	bool cut, trailing;                /* truncated in the extensions; a byte after them */
};

/* A ClientHello body built field by field. */
static size_t write_hello(uint8_t *out, size_t cap, const struct ch_opts *o)
{
	static const uint16_t psk_gcm[] = { 0x00A8 };
	static const uint8_t null_comp[] = { 0 };
	uint8_t random[32], sid[64];
	memset(random, 0x42, sizeof(random));
	memset(sid, 0x53, sizeof(sid));
	struct wire_writer w = wire_writer(out, cap);
	wire_put_u16(&w, o->version ? o->version : DTLS_VERSION_1_2);
	wire_put_bytes(&w, random, sizeof(random));
	wire_put_vec(&w, 1, sid, o->sid_len);
	wire_put_u8(&w, 0); /* no cookie */
	const uint16_t *suites = o->suites ? o->suites : psk_gcm;
	size_t n_suites = o->suites ? o->n_suites : 1;
	size_t mark = wire_open_vec(&w, 2);
	for (size_t i = 0; i < n_suites; i++)
		wire_put_u16(&w, suites[i]);
	if (o->odd_suites)
		wire_put_u8(&w, 0xA8);
	wire_close_vec(&w, mark, 2);
	if (o->comp)
		wire_put_vec(&w, 1, o->comp, o->n_comp);
	else
		wire_put_vec(&w, 1, null_comp, 1);
	mark = wire_open_vec(&w, 2);
	for (int k = 0; k < (o->dup_ems ? 2 : o->ems ? 1 : 0); k++) {
		wire_put_u16(&w, EXT_EXTENDED_MASTER_SECRET);
		wire_put_u16(&w, 0);
	}
	if (o->reneg_len >= 0) {
		wire_put_u16(&w, EXT_RENEGOTIATION_INFO);
		wire_put_u16(&w, (uint16_t)(o->reneg_len + 1));
		wire_put_vec(&w, 1, o->reneg, (size_t)o->reneg_len);
	}
	wire_close_vec(&w, mark, 2);
	if (o->trailing)
		wire_put_u8(&w, 0);
	size_t len = 0;
	CU_ASSERT_FATAL(wire_written(&w, &len) == 0);
	return o->cut ? len - 3 : len;
}

static void test_client_hello_refused(void)
{
	static const uint16_t not_ours[] = { 0x00AE, 0xC02B };
	static const uint16_t none[] = { 0 };
	static const uint8_t deflate_only[] = { 1 };
	static const uint8_t reneg_junk[12] = { 1 };
	static const struct {
		const char *what;
		struct ch_opts o;
		int alert;
		bool require_ems;
	} cases[] = {
		{ "no common suite", { .suites = not_ours, .n_suites = 2, .reneg_len = -1 }, DTLS_ALERT_HANDSHAKE_FAILURE },
		{ "no null compression", { .comp = deflate_only, .n_comp = 1, .reneg_len = -1 },
		  DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "no compression methods", { .comp = deflate_only, .n_comp = 0, .reneg_len = -1 },
		  DTLS_ALERT_DECODE_ERROR },
		{ "DTLS 1.0 only", { .version = DTLS_VERSION_1_0, .reneg_len = -1 }, DTLS_ALERT_PROTOCOL_VERSION },
		{ "a TLS version number (3,3)", { .version = 0x0303, .reneg_len = -1 }, DTLS_ALERT_PROTOCOL_VERSION },
		{ "empty suites", { .suites = none, .n_suites = 0, .reneg_len = -1 }, DTLS_ALERT_DECODE_ERROR },
		{ "odd-length suites", { .odd_suites = true, .reneg_len = -1 }, DTLS_ALERT_DECODE_ERROR },
		{ "session_id of 33 bytes", { .sid_len = 33, .reneg_len = -1 }, DTLS_ALERT_DECODE_ERROR },
		{ "a duplicate extension", { .dup_ems = true, .reneg_len = -1 }, DTLS_ALERT_DECODE_ERROR },
		{ "cut in the extensions", { .ems = true, .reneg_len = -1, .cut = true }, DTLS_ALERT_DECODE_ERROR },
		{ "a byte after the extensions", { .ems = true, .reneg_len = -1, .trailing = true },
		  DTLS_ALERT_DECODE_ERROR },
		{ "renegotiation_info not empty in a first handshake",
		  { .reneg = reneg_junk, .reneg_len = 12 }, DTLS_ALERT_HANDSHAKE_FAILURE },
		{ "no extended master secret where required", { .reneg_len = 0 }, DTLS_ALERT_HANDSHAKE_FAILURE, true },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct pair p;
		struct dtls_config *s = psk_config(PSK_GCM);
		dtls_config_require_ems(s, cases[i].require_ems);
		pair_init_cfg(&p, psk_config(PSK_GCM), s);
		uint8_t body[512];
		size_t n = write_hello(body, sizeof(body), &cases[i].o);
		inject_msg(&p, &p.s, HS_CLIENT_HELLO, 0, body, n);
		expect_alert(&p.s, cases[i].alert, cases[i].what);
		n_hello_cases++;
		pair_free(&p);
	}
}

/* A ServerHello body. */
static size_t write_sh(uint8_t *out, size_t cap, uint16_t version, uint16_t suite, uint8_t comp, bool ems,
		       const uint8_t *reneg, int reneg_len, bool dup)
{
	uint8_t random[32];
	memset(random, 0x24, sizeof(random));
	struct wire_writer w = wire_writer(out, cap);
	wire_put_u16(&w, version);
	wire_put_bytes(&w, random, 32);
	wire_put_u8(&w, 0);
	wire_put_u16(&w, suite);
	wire_put_u8(&w, comp);
	size_t mark = wire_open_vec(&w, 2);
	for (int k = 0; k < (dup ? 2 : ems ? 1 : 0); k++) {
		wire_put_u16(&w, EXT_EXTENDED_MASTER_SECRET);
		wire_put_u16(&w, 0);
	}
	if (reneg_len >= 0) {
		wire_put_u16(&w, EXT_RENEGOTIATION_INFO);
		wire_put_u16(&w, (uint16_t)(reneg_len + 1));
		wire_put_vec(&w, 1, reneg, (size_t)reneg_len);
	}
	wire_close_vec(&w, mark, 2);
	size_t len = 0;
	CU_ASSERT_FATAL(wire_written(&w, &len) == 0);
	return len;
}

static void test_server_hello_refused(void)
{
	static const uint8_t junk[12] = { 7 };
	static const struct {
		const char *what;
		uint16_t version, suite;
		uint8_t comp;
		bool ems;
		const uint8_t *reneg;
		int reneg_len;
		bool dup, require_ems;
		int alert;
	} cases[] = {
		{ "a suite not offered", DTLS_VERSION_1_2, 0x00AE, 0, true, NULL, 0, false, false,
		  DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "an unknown suite", DTLS_VERSION_1_2, 0x1234, 0, true, NULL, 0, false, false, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "the SCSV as the suite", DTLS_VERSION_1_2, 0x00FF, 0, true, NULL, 0, false, false,
		  DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "DTLS 1.0", DTLS_VERSION_1_0, 0x00A8, 0, true, NULL, 0, false, false, DTLS_ALERT_PROTOCOL_VERSION },
		{ "a TLS version number", 0x0303, 0x00A8, 0, true, NULL, 0, false, false, DTLS_ALERT_PROTOCOL_VERSION },
		{ "compression 1", DTLS_VERSION_1_2, 0x00A8, 1, true, NULL, 0, false, false, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "renegotiation_info not empty", DTLS_VERSION_1_2, 0x00A8, 0, true, junk, 12, false, false,
		  DTLS_ALERT_HANDSHAKE_FAILURE },
		{ "a duplicate extension", DTLS_VERSION_1_2, 0x00A8, 0, true, NULL, -1, true, false,
		  DTLS_ALERT_DECODE_ERROR },
		{ "no extended master secret where required", DTLS_VERSION_1_2, 0x00A8, 0, false, NULL, 0, false, true,
		  DTLS_ALERT_HANDSHAKE_FAILURE },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct pair p;
		struct dtls_config *c = psk_config(PSK_GCM);
		dtls_config_require_ems(c, cases[i].require_ems);
		pair_init_cfg(&p, c, psk_config(PSK_GCM));
		pair_start(&p);
		q_clear(&p.c);
		uint8_t body[256];
		size_t n = write_sh(body, sizeof(body), cases[i].version, cases[i].suite, cases[i].comp, cases[i].ems,
				    cases[i].reneg, cases[i].reneg_len, cases[i].dup);
		inject_msg(&p, &p.c, HS_SERVER_HELLO, 0, body, n);
		expect_alert(&p.c, cases[i].alert, cases[i].what);
		n_hello_cases++;
		pair_free(&p);
	}
}

/* RFC 5246 7.4.1.4: an extension in the ServerHello that the ClientHello did not
 * offer ends the handshake with unsupported_extension. */
static void test_server_hello_unsolicited_extension(void)
{
	static const uint16_t unsolicited[] = { 0xface, EXT_SESSION_TICKET, EXT_ENCRYPT_THEN_MAC, EXT_SERVER_NAME };
	for (size_t i = 0; i < ARRAY_LEN(unsolicited); i++) {
		struct pair p;
		pair_init(&p, PSK_GCM); /* the client sends no server_name: it has none configured */
		pair_start(&p);
		q_clear(&p.c);
		uint8_t body[256], random[32];
		memset(random, 0x24, sizeof(random));
		struct wire_writer w = wire_writer(body, sizeof(body));
		wire_put_u16(&w, DTLS_VERSION_1_2);
		wire_put_bytes(&w, random, 32);
		wire_put_u8(&w, 0);
		wire_put_u16(&w, 0x00A8);
		wire_put_u8(&w, 0);
		size_t mark = wire_open_vec(&w, 2);
		wire_put_u16(&w, EXT_EXTENDED_MASTER_SECRET);
		wire_put_u16(&w, 0);
		wire_put_u16(&w, unsolicited[i]);
		wire_put_u16(&w, 0);
		wire_close_vec(&w, mark, 2);
		size_t n = 0;
		CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
		inject_msg(&p, &p.c, HS_SERVER_HELLO, 0, body, n);
		char what[64];
		snprintf(what, sizeof(what), "ServerHello with unsolicited extension 0x%04x", unsolicited[i]);
		expect_alert(&p.c, DTLS_ALERT_UNSUPPORTED_EXTENSION, what);
		n_hello_cases++;
		pair_free(&p);
	}
}

/* HelloVerifyRequest: after ServerHello, without a cookie, with a foreign version, and
 * over and over. */
static void test_hello_verify_request_refused(void)
{
	uint8_t body[300];
	struct wire_writer w;
	size_t n = 0;
	struct pair p;

	client_to(&p, CLI_AFTER_SERVER_HELLO, PSK_GCM);
	w = wire_writer(body, sizeof(body));
	write_hello_verify_request(&w, (const uint8_t *)"cookie", 6);
	CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
	inject_msg(&p, &p.c, HS_HELLO_VERIFY_REQUEST, 1, body, n);
	expect_alert(&p.c, DTLS_ALERT_UNEXPECTED_MESSAGE, "HelloVerifyRequest after ServerHello");
	n_hello_cases++;
	pair_free(&p);

	client_to(&p, CLI_STARTED, PSK_GCM);
	w = wire_writer(body, sizeof(body));
	write_hello_verify_request(&w, NULL, 0);
	CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
	inject_msg(&p, &p.c, HS_HELLO_VERIFY_REQUEST, 0, body, n);
	expect_alert(&p.c, DTLS_ALERT_ILLEGAL_PARAMETER, "HelloVerifyRequest without a cookie");
	n_hello_cases++;
	pair_free(&p);

	client_to(&p, CLI_STARTED, PSK_GCM);
	static const uint8_t tls_hvr[] = { 3, 3, 2, 0xab, 0xcd };
	inject_msg(&p, &p.c, HS_HELLO_VERIFY_REQUEST, 0, tls_hvr, sizeof(tls_hvr));
	expect_alert(&p.c, DTLS_ALERT_PROTOCOL_VERSION, "HelloVerifyRequest with version (3,3)");
	n_hello_cases++;
	pair_free(&p);

	/* one after the other: the client gives up after a few, never loops */
	client_to(&p, CLI_STARTED, PSK_GCM);
	w = wire_writer(body, sizeof(body));
	write_hello_verify_request(&w, (const uint8_t *)"again", 5);
	CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
	unsigned hellos = 0;
	for (uint16_t seq = 0; seq < 20 && dtls_session_state(p.c.s) == DTLS_STATE_HANDSHAKING; seq++) {
		inject_msg(&p, &p.c, HS_HELLO_VERIFY_REQUEST, seq, body, n);
		hellos += (unsigned)p.c.qlen;
		q_clear(&p.c);
	}
	CU_ASSERT(hellos >= 1 && hellos <= 4);
	p.c.qlen = 0;
	CU_ASSERT_EQUAL(dtls_session_state(p.c.s), DTLS_STATE_FAILED);
	CU_ASSERT_EQUAL(dtls_session_sent_alert(p.c.s), DTLS_ALERT_UNEXPECTED_MESSAGE);
	n_hello_cases++;
	pair_free(&p);
}

/* ECDHE suites: ServerKeyExchange missing, or with a group or point we cannot use. */
static void test_server_key_exchange_refused(void)
{
	struct pair p;
	client_to(&p, CLI_AFTER_SERVER_HELLO, ECDHE_PSK);
	inject_msg(&p, &p.c, HS_SERVER_HELLO_DONE, 1, NULL, 0);
	expect_alert(&p.c, DTLS_ALERT_UNEXPECTED_MESSAGE, "ECDHE: no ServerKeyExchange");
	n_hello_cases++;
	pair_free(&p);

	static const struct {
		const char *what;
		uint8_t curve_type;
		uint16_t group;
		size_t point_len;
		uint8_t point0;
		int alert;
	} cases[] = {
		{ "explicit curve", 1, 0x0017, 65, 4, DTLS_ALERT_HANDSHAKE_FAILURE },
		{ "an unknown group", 3, 0x0099, 32, 0, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "a P-256 point off the curve", 3, 0x0017, 65, 4, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "a compressed P-256 point", 3, 0x0017, 33, 2, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "an X25519 key of 31 bytes", 3, 0x001d, 31, 9, DTLS_ALERT_ILLEGAL_PARAMETER },
		{ "an empty point", 3, 0x001d, 0, 0, DTLS_ALERT_DECODE_ERROR },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		client_to(&p, CLI_AFTER_SERVER_HELLO, ECDHE_PSK);
		uint8_t body[128], point[80];
		memset(point, 0x33, sizeof(point));
		point[0] = cases[i].point0;
		struct wire_writer w = wire_writer(body, sizeof(body));
		wire_put_u16(&w, 0); /* no hint */
		wire_put_u8(&w, cases[i].curve_type);
		wire_put_u16(&w, cases[i].group);
		wire_put_vec(&w, 1, point, cases[i].point_len);
		size_t n = 0;
		CU_ASSERT_FATAL(wire_written(&w, &n) == 0);
		inject_msg(&p, &p.c, HS_SERVER_KEY_EXCHANGE, 1, body, n);
		if (dtls_session_state(p.c.s) == DTLS_STATE_HANDSHAKING)
			inject_msg(&p, &p.c, HS_SERVER_HELLO_DONE, 2, NULL, 0);
		expect_alert(&p.c, cases[i].alert, cases[i].what);
		CU_ASSERT_EQUAL(p.c.s->rec.write_epoch, 0);
		n_hello_cases++;
		pair_free(&p);
	}
}

/* Certificates: CertificateVerify without a certificate, an empty server certificate, a
 * required client certificate missing. */
static void cert_pair(struct pair *p, bool verify_client, bool require)
{
	struct dtls_config *s = cert_config(true, ECDSA_GCM, verify_client);
	if (verify_client)
		dtls_config_verify_client(s, true, require);
	pair_init_cfg(p, cert_config(false, ECDSA_GCM, false), s);
}

static void test_certificate_messages_refused(void)
{
	struct pair p;
	/* the client sends an empty Certificate, then the test a CertificateVerify */
	cert_pair(&p, true, false);
	pair_start(&p);
	flush(&p, &p.c);
	flush(&p, &p.s);
	static const uint8_t cert_cke[] = { HS_CERTIFICATE, HS_CLIENT_KEY_EXCHANGE, 0xff };
	deliver_if(&p, &p.c, keep_types, (void *)cert_cke, NULL);
	expect_alive(&p.s, DTLS_STATE_HANDSHAKING, 0, "empty client Certificate");
	CU_ASSERT_FATAL(p.s.s->hs && p.s.s->hs->recv_seq == 3);
	q_clear(&p.s);
	uint8_t cv[72];
	memset(cv, 0x30, sizeof(cv));
	cv[0] = 0x04, cv[1] = 0x03, cv[2] = 0, cv[3] = 68;
	inject_msg(&p, &p.s, HS_CERTIFICATE_VERIFY, 3, cv, sizeof(cv));
	expect_alert(&p.s, DTLS_ALERT_UNEXPECTED_MESSAGE, "CertificateVerify without a certificate");
	n_hello_cases++;
	pair_free(&p);

	/* the server requires one and gets an empty Certificate (RFC 5246 7.4.6) */
	cert_pair(&p, true, true);
	pair_start(&p);
	flush(&p, &p.c);
	flush(&p, &p.s);
	flush(&p, &p.c);
	expect_alert(&p.s, DTLS_ALERT_HANDSHAKE_FAILURE, "a required client certificate missing");
	n_hello_cases++;
	pair_free(&p);

	/* the client gets an empty server Certificate */
	cert_pair(&p, false, false);
	pair_start(&p);
	flush(&p, &p.c);
	static const uint8_t sh_only[] = { HS_SERVER_HELLO, 0xff };
	deliver_if(&p, &p.s, keep_types, (void *)sh_only, NULL);
	static const uint8_t empty_cert[3] = { 0 };
	inject_msg(&p, &p.c, HS_CERTIFICATE, 1, empty_cert, sizeof(empty_cert));
	expect_alert(&p.c, DTLS_ALERT_BAD_CERTIFICATE, "an empty server Certificate");
	n_hello_cases++;
	pair_free(&p);

	/* and a Certificate that is not DER */
	cert_pair(&p, false, false);
	pair_start(&p);
	flush(&p, &p.c);
	deliver_if(&p, &p.s, keep_types, (void *)sh_only, NULL);
	static const uint8_t junk_cert[] = { 0, 0, 7, 0, 0, 4, 0x30, 0x02, 0x05, 0x00 };
	inject_msg(&p, &p.c, HS_CERTIFICATE, 1, junk_cert, sizeof(junk_cert));
	expect_alert(&p.c, DTLS_ALERT_BAD_CERTIFICATE, "a server Certificate that is not X.509");
	n_hello_cases++;
	pair_free(&p);
}

/* ---- alerts ------------------------------------------------------------------- */

static unsigned n_alert_cases;

static void test_alerts(void)
{
	struct pair p;
	/* malformed alerts are dropped, during the handshake and after */
	for (int stage = 0; stage < 2; stage++) {
		pair_init(&p, PSK_GCM);
		pair_start(&p);
		if (stage)
			pair_run(&p);
		static const struct {
			uint8_t b[3];
			size_t n;
		} bad[] = { { { 0 }, 0 }, { { 2 }, 1 }, { { 2, 40, 0 }, 3 } };
		for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
			struct dgram d = { .n = 0 };
			if (stage)
				put_sealed(&d, p.c.s, 1, CT_ALERT, bad[i].b, bad[i].n);
			else
				put_plain(&d, CT_ALERT, bad[i].b, bad[i].n);
			IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
		}
		expect_alive(&p.s, stage ? DTLS_STATE_ESTABLISHED : DTLS_STATE_HANDSHAKING, 0, "malformed alerts");
		n_alert_cases++;
		pair_free(&p);
	}

	/* after the handshake, plaintext alerts are forgeable: ignored (fatal and close_notify) */
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	for (int side = 0; side < 2; side++) {
		struct end *v = side ? &p.s : &p.c;
		struct dgram d = { .n = 0 };
		put_plain(&d, CT_ALERT, "\x02\x28", 2);
		put_plain(&d, CT_ALERT, "\x01\x00", 2);
		put_record(&d, CT_ALERT, 0, 0, "\x02\x14", 2);
		IGNORE_RESULT(feed(&p, v, d.b, d.n));
		expect_alive(v, DTLS_STATE_ESTABLISHED, 0, "plaintext alerts after the handshake");
		n_alert_cases++;
	}
	/* a sealed warning that is not close_notify changes nothing; a sealed fatal ends it */
	struct dgram d = { .n = 0 };
	put_sealed(&d, p.c.s, 1, CT_ALERT, "\x01\x64", 2);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	expect_alive(&p.s, DTLS_STATE_ESTABLISHED, 0, "sealed warning");
	d.n = 0;
	put_sealed(&d, p.c.s, 1, CT_ALERT, "\x02\x50", 2);
	IGNORE_RESULT(feed(&p, &p.s, d.b, d.n));
	CU_ASSERT_EQUAL(dtls_session_error(p.s.s), DTLS_ERR_PEER_ALERT);
	CU_ASSERT_EQUAL(dtls_session_peer_alert(p.s.s), DTLS_ALERT_INTERNAL_ERROR);
	n_alert_cases += 2;
	/* and a dead session takes nothing more */
	d.n = 0;
	put_sealed(&d, p.c.s, 1, CT_APPLICATION_DATA, "late", 4);
	CU_ASSERT_EQUAL(feed(&p, &p.s, d.b, d.n), DTLS_ERR_PEER_ALERT);
	CU_ASSERT_EQUAL(p.s.data_n, 0);
	n_alert_cases++;
	pair_free(&p);
}

/* ---- renegotiation ------------------------------------------------------------ */

static unsigned n_reneg_cases;

static void test_renegotiation_refused(void)
{
	static const uint8_t zeros[12] = { 0 };
	static const uint16_t with_scsv[] = { 0x00A8, 0x00FF };
	for (int kind = 0; kind < 4; kind++) {
		struct pair p;
		struct dtls_config *s = psk_config(PSK_GCM);
		if (kind == 3)
			dtls_config_allow_renegotiation(s, false);
		pair_init_cfg(&p, psk_config(PSK_GCM), s);
		pair_handshake(&p);
		q_clear(&p.s);
		p.s.established = 0; /* count this handshake's */
		struct ch_opts o = { .ems = true };
		const char *what = "";
		switch (kind) {
		case 0:
			o.reneg = zeros, o.reneg_len = 12, what = "renegotiation: wrong renegotiation_info";
			break;
		case 1:
			o.reneg_len = -1, what = "renegotiation: no renegotiation_info";
			break;
		case 2:
			o.reneg = p.c.s->client_verify, o.reneg_len = 12, o.suites = with_scsv, o.n_suites = 2;
			what = "renegotiation: the SCSV";
			break;
		case 3:
			o.reneg = p.c.s->client_verify, o.reneg_len = 12, what = "renegotiation: not allowed";
			break;
		}
		uint8_t body[256];
		size_t n = write_hello(body, sizeof(body), &o);
		inject_sealed_msg(&p, &p.s, 1, HS_CLIENT_HELLO, 3, body, n);
		if (kind == 3) {
			/* a warning no_renegotiation, and the session goes on (RFC 5746 4.4) */
			expect_alive(&p.s, DTLS_STATE_ESTABLISHED, 0, what);
			CU_ASSERT(sent_alert_record(&p.s));
			CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 1);
		} else {
			expect_alert(&p.s, DTLS_ALERT_HANDSHAKE_FAILURE, what);
		}
		n_reneg_cases++;
		pair_free(&p);
	}
}

/* The alert in the last datagram `from` sent, opened with `to`'s read keys: its
 * description, and its level in *level; -1 if there is none. The datagram is consumed. */
static int last_alert(struct end *from, struct end *to, uint8_t *level)
{
	CU_ASSERT_FATAL(from->qlen > 0);
	size_t n;
	uint8_t *d = q_take(from, from->qlen - 1, &n);
	struct wire_reader r = wire_reader(d, n);
	int desc = -1;
	while (wire_left(&r) > 0 && desc < 0) {
		struct rec_header h;
		struct wire_reader frag;
		if (rec_parse_header(&r, &h, &frag) < 0)
			break;
		uint8_t *plain;
		size_t len;
		if (h.type == CT_ALERT && rec_layer_open(&to->s->rec, &h, d + (wire_offset(&r) - h.length), &plain, &len) == 0 &&
		    len == 2) {
			*level = plain[0];
			desc = plain[1];
		}
	}
	free(d);
	return desc;
}

static void expect_reneg_refused(struct end *refuser, struct end *peer, uint64_t refused, const char *what)
{
	uint8_t level = 0;
	struct dtls_session_stats st;
	CU_ASSERT_EQUAL(last_alert(refuser, peer, &level), DTLS_ALERT_NO_RENEGOTIATION);
	CU_ASSERT_EQUAL(level, 1); /* a warning */
	dtls_session_stats(refuser->s, &st);
	CU_ASSERT_EQUAL(st.renegotiations_refused, refused);
	expect_alive(refuser, DTLS_STATE_ESTABLISHED, refuser->data_n, what);
}

/* The server sends a HelloRequest (libdtls itself never does). */
static void server_hello_request(struct pair *p)
{
	struct dtls_session *srv = p->s.s;
	srv->now_ms = p->now;
	CU_ASSERT_FATAL(hs_begin(srv) == 0);
	CU_ASSERT_FATAL(flight_add(srv, CT_HANDSHAKE, srv->hs->epoch, HS_HELLO_REQUEST, NULL, 0) == 0);
	CU_ASSERT_FATAL(flight_send(srv) == 0);
}

/* Renegotiations the peer starts beyond the rate limit are refused with a warning, counted,
 * and the session goes on; once the window has passed, the next one is accepted. */
static void test_renegotiation_rate_limit(void)
{
	struct pair p;
	struct dtls_config *s = psk_config(PSK_GCM);
	CU_ASSERT_FATAL(dtls_config_set_renegotiation_limit(s, 2, 60000) == 0);
	pair_init_cfg(&p, psk_config(PSK_GCM), s);
	pair_handshake(&p);
	for (int i = 0; i < 2; i++) {
		client_renegotiate(&p);
		pair_run(&p);
	}
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 3);
	/* a third within the minute: refused */
	client_renegotiate(&p);
	flush(&p, &p.c);
	expect_reneg_refused(&p.s, &p.c, 1, "renegotiation: a third within the window");
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 3);
	/* the session still carries data both ways, under the keys of the last handshake */
	CU_ASSERT(dtls_session_send(p.s.s, (const uint8_t *)"s", 1) == 0);
	CU_ASSERT(dtls_session_send(p.c.s, (const uint8_t *)"c", 1) == 0);
	pair_run(&p);
	CU_ASSERT_EQUAL(p.c.data_n, 1);
	CU_ASSERT_EQUAL(p.s.data_n, 1);
	/* a minute after the first: the client's retransmitted ClientHello is accepted */
	p.now += 60000;
	CU_ASSERT(dtls_session_timeout(p.c.s, p.now) == 0);
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 4);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.c.s), 4);
	n_reneg_cases++;
	pair_free(&p);

	/* a client refuses HelloRequests beyond its limit in the same way */
	struct dtls_config *c = psk_config(PSK_GCM);
	CU_ASSERT_FATAL(dtls_config_set_renegotiation_limit(c, 1, 10000) == 0);
	pair_init_cfg(&p, c, psk_config(PSK_GCM));
	pair_handshake(&p);
	server_hello_request(&p);
	pair_run(&p);
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.c.s), 2);
	server_hello_request(&p);
	flush(&p, &p.s);
	expect_reneg_refused(&p.c, &p.s, 1, "renegotiation: a HelloRequest beyond the client's limit");
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.c.s), 2);
	n_reneg_cases++;
	pair_free(&p);

	/* the limit's arguments, and the default (3 per minute) */
	struct dtls_config *d = psk_config(PSK_GCM);
	CU_ASSERT_EQUAL(dtls_config_set_renegotiation_limit(d, 0, 1000), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(dtls_config_set_renegotiation_limit(d, DTLS_MAX_RENEGOTIATION_LIMIT + 1, 1000), DTLS_ERR_ARG);
	CU_ASSERT_EQUAL(dtls_config_set_renegotiation_limit(d, 0, 0), 0); /* no limit */
	dtls_config_unref(d);
	pair_init(&p, PSK_GCM);
	pair_handshake(&p);
	for (int i = 0; i < 4; i++) {
		client_renegotiate(&p);
		flush(&p, &p.c);
		if (i == 3)
			expect_reneg_refused(&p.s, &p.c, 1, "renegotiation: a fourth within a minute by default");
		pair_run(&p);
	}
	CU_ASSERT_EQUAL(dtls_session_handshakes(p.s.s), 4);
	n_reneg_cases++;
	pair_free(&p);
}

/* ---- PSK identities ------------------------------------------------------------ */

static unsigned n_psk_cases;
static char looked_up[DTLS_MAX_PSK_IDENTITY + 1]; /* what the lookup callback was asked */

static int lookup_nothing(void *arg, void *session_arg, const uint8_t *id, size_t len,
			  uint8_t key[DTLS_MAX_PSK_LEN])
{
	(void)arg, (void)session_arg, (void)key;
	snprintf(looked_up, sizeof(looked_up), "%.*s", (int)len, (const char *)id);
	return -1;
}

/* What a failed PSK handshake looked like from outside, and what the server knows. */
struct psk_failure {
	size_t shape[QMAX]; /* the lengths of the server's datagrams, in order */
	size_t n_shape;
	int server_err, client_err, server_alert, client_peer_alert;
	char identity[DTLS_MAX_PSK_IDENTITY + 1]; /* dtls_session_psk_identity() afterwards */
	char looked_up[DTLS_MAX_PSK_IDENTITY + 1];
};

/* A client with `identity` and `key` against a server that knows client1 with psk_key
 * and asks its lookup callback, in vain, for any other identity. */
static void psk_failure(const char *suite, const char *identity, const uint8_t *key, bool reveal,
			struct psk_failure *f)
{
	struct dtls_config *c = dtls_config_new(), *s = psk_config(suite);
	CU_ASSERT_FATAL(c && dtls_config_set_ciphers(c, suite) == 0);
	CU_ASSERT_FATAL(dtls_config_add_psk(c, (const uint8_t *)identity, strlen(identity), key, 16) == 0);
	dtls_config_set_psk_lookup(s, lookup_nothing, NULL);
	dtls_config_reveal_psk_identities(s, reveal);
	struct pair p;
	pair_init_cfg(&p, c, s);
	memset(f, 0, sizeof(*f));
	looked_up[0] = 0;
	pair_start(&p);
	for (int round = 0; round < 32 && (p.c.qlen || p.s.qlen); round++) {
		flush(&p, &p.c);
		for (size_t i = 0; i < p.s.qlen && f->n_shape < QMAX; i++)
			f->shape[f->n_shape++] = p.s.qn[i];
		flush(&p, &p.s);
	}
	f->server_err = dtls_session_error(p.s.s);
	f->client_err = dtls_session_error(p.c.s);
	f->server_alert = dtls_session_sent_alert(p.s.s);
	f->client_peer_alert = dtls_session_peer_alert(p.c.s);
	size_t len;
	const uint8_t *id = dtls_session_psk_identity(p.s.s, &len);
	if (id)
		snprintf(f->identity, sizeof(f->identity), "%.*s", (int)len, (const char *)id);
	memcpy(f->looked_up, looked_up, sizeof(looked_up));
	n_psk_cases++;
	pair_free(&p);
}

/* An unknown identity fails exactly as a wrong key does (same alert, same error, the
 * same datagrams from the server), unless the config reveals identities; either way
 * the lookup callback was asked and the session still names the identity. */
static void test_unknown_identity_as_wrong_key(void)
{
	static const uint8_t other_key[16] = { 9 };
	static const char *suites[] = { PSK_GCM, ECDHE_PSK };
	for (size_t k = 0; k < ARRAY_LEN(suites); k++) {
		struct psk_failure wrong, unknown, revealed;
		psk_failure(suites[k], "client1", other_key, false, &wrong);
		psk_failure(suites[k], "client9", psk_key, false, &unknown); /* same length as client1 */
		psk_failure(suites[k], "client9", psk_key, true, &revealed);

		CU_ASSERT_EQUAL(wrong.server_err, DTLS_ERR_BAD_RECORD_MAC);
		CU_ASSERT_EQUAL(unknown.server_err, wrong.server_err);
		CU_ASSERT_EQUAL(unknown.server_alert, DTLS_ALERT_BAD_RECORD_MAC);
		CU_ASSERT_EQUAL(unknown.server_alert, wrong.server_alert);
		CU_ASSERT_EQUAL(unknown.client_err, wrong.client_err);
		CU_ASSERT_EQUAL(unknown.client_peer_alert, DTLS_ALERT_BAD_RECORD_MAC);
		CU_ASSERT_EQUAL(unknown.n_shape, wrong.n_shape);
		CU_ASSERT(memcmp(unknown.shape, wrong.shape, sizeof(wrong.shape)) == 0);
		CU_ASSERT_STRING_EQUAL(unknown.looked_up, "client9");
		CU_ASSERT_STRING_EQUAL(unknown.identity, "client9");
		CU_ASSERT_STRING_EQUAL(wrong.looked_up, ""); /* client1 is in the table */
		CU_ASSERT_STRING_EQUAL(wrong.identity, "client1");

		CU_ASSERT_EQUAL(revealed.server_err, DTLS_ERR_UNKNOWN_PSK_IDENTITY);
		CU_ASSERT_EQUAL(revealed.server_alert, DTLS_ALERT_UNKNOWN_PSK_IDENTITY);
		CU_ASSERT_EQUAL(revealed.client_peer_alert, DTLS_ALERT_UNKNOWN_PSK_IDENTITY);
		CU_ASSERT_STRING_EQUAL(revealed.looked_up, "client9");
		CU_ASSERT_STRING_EQUAL(revealed.identity, "client9");
	}
}

/* ---- cookies (dtls_server) ------------------------------------------------------- */

static unsigned n_cookie_cases;

/* Runs a client through the cookie exchange from `addr`; returns the ClientHello that
 * carried the cookie (or an empty dgram). */
static struct dgram cookie_hello(struct dtls_server *srv, struct srv_watch *w, const struct sockaddr_in *addr)
{
	struct dgram out = { .n = 0 };
	struct dtls_config *c = psk_config(PSK_GCM);
	struct end e = { 0 };
	e.s = dtls_session_new_client(c, &end_cb, &e);
	CU_ASSERT_FATAL(e.s && dtls_session_start(e.s, 1000) == 0);
	IGNORE_RESULT(srv_handle(srv, addr, e.q[0], e.qn[0], 1001));
	q_clear(&e);
	CU_ASSERT_FATAL(w->n_out == 1); /* the HelloVerifyRequest */
	IGNORE_RESULT(dtls_session_handle(e.s, w->out[0], w->out_n[0], 1002));
	w->n_out = 0;
	CU_ASSERT_FATAL(e.qlen == 1);
	memcpy(out.b, e.q[0], e.qn[0]);
	out.n = e.qn[0];
	q_clear(&e);
	dtls_session_free(e.s);
	dtls_config_unref(c);
	return out;
}

static void test_cookies_refused(void)
{
	struct dtls_config *s = psk_config(PSK_GCM);
	struct srv_watch w = { 0 };
	struct dtls_server *srv = dtls_server_new(s, &srv_cb, &w, 8);
	CU_ASSERT_FATAL(srv != NULL);
	struct dgram hello = cookie_hello(srv, &w, &client_addr);
	CU_ASSERT_EQUAL(w.connects, 0);

	/* from another address or port: a new HelloVerifyRequest, no session */
	struct sockaddr_in elsewhere = client_addr;
	elsewhere.sin_port = 0x3413;
	IGNORE_RESULT(srv_handle(srv, &elsewhere, hello.b, hello.n, 1003));
	CU_ASSERT(w.connects == 0 && w.n_out == 1);
	w.n_out = 0;
	n_cookie_cases++;

	/* the cookie's bytes or the hello's random changed: the same */
	struct span sp[2];
	CU_ASSERT_FATAL(records(hello.b, hello.n, sp, 2) == 1);
	size_t cookie_at = REC_HEADER_LEN + HS_HEADER_LEN + 2 + 32 + 1 + 1; /* first cookie byte */
	for (int k = 0; k < 2; k++) {
		struct dgram d = hello;
		d.b[k ? REC_HEADER_LEN + HS_HEADER_LEN + 5 : cookie_at] ^= 1;
		IGNORE_RESULT(srv_handle(srv, &client_addr, d.b, d.n, 1004));
		CU_ASSERT(w.connects == 0 && w.n_out == 1);
		w.n_out = 0;
		n_cookie_cases++;
	}

	/* a later fragment of a ClientHello from a stranger: dropped without an answer */
	uint8_t m[HS_HEADER_LEN + 64];
	uint8_t body[64] = { 0 };
	struct dgram d = { .n = 0 };
	size_t n = hs_frag(m, HS_CLIENT_HELLO, 0, 200, 100, body, sizeof(body));
	put_record(&d, CT_HANDSHAKE, 0, 1, m, n);
	IGNORE_RESULT(srv_handle(srv, &elsewhere, d.b, d.n, 1005));
	CU_ASSERT(w.connects == 0 && w.n_out == 0);
	n_cookie_cases++;

	/* anything but a ClientHello from a stranger: dropped without an answer */
	static const uint8_t types[] = { CT_APPLICATION_DATA, CT_ALERT, CT_CHANGE_CIPHER_SPEC };
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		d.n = 0;
		put_record(&d, types[i], 0, 1, "\x01\x00", 2);
		IGNORE_RESULT(srv_handle(srv, &elsewhere, d.b, d.n, 1006));
		d.n = 0;
		put_record(&d, types[i], 1, 1, "\x01\x00", 2);
		IGNORE_RESULT(srv_handle(srv, &elsewhere, d.b, d.n, 1006));
	}
	CU_ASSERT(w.connects == 0 && w.n_out == 0 && w.data == 0);
	CU_ASSERT_EQUAL(dtls_server_session_count(srv), 0);
	n_cookie_cases++;

	/* the untouched hello is taken */
	IGNORE_RESULT(srv_handle(srv, &client_addr, hello.b, hello.n, 1007));
	CU_ASSERT_EQUAL(w.connects, 1);
	dtls_server_free(srv);
	dtls_config_unref(s);
}

static CU_TestInfo tests[] = {
	{ "state: server, every message in every wrong state", test_server_wrong_message_every_state },
	{ "state: client, every message in every wrong state", test_client_wrong_message_every_state },
	{ "state: established, plaintext handshake messages ignored", test_established_ignores_plaintext_handshake },
	{ "state: established, sealed unexpected messages", test_established_sealed_unexpected },
	{ "ccs: out of order at each step of the handshake", test_ccs_out_of_order_is_noted_only },
	{ "ccs: malformed bodies", test_ccs_malformed },
	{ "ccs: CCS then a plaintext Finished", test_ccs_then_plaintext_finished },
	{ "ccs: on an established session", test_ccs_established },
	{ "early data: plaintext application data never delivered", test_plaintext_data_never_delivered },
	{ "early data: server, data before the client's Finished", test_server_data_before_client_finished },
	{ "early data: client, data before the server's Finished", test_client_data_before_server_finished },
	{ "early data: renegotiation, server, new epoch before Finished",
	  test_server_data_in_pending_epoch_during_renegotiation },
	{ "early data: renegotiation, client, new epoch before Finished",
	  test_client_data_in_pending_epoch_during_renegotiation },
	{ "epoch: future epochs dropped at every stage", test_future_epoch_dropped },
	{ "epoch: old epoch after renegotiation", test_old_epoch_after_renegotiation },
	{ "epoch: plaintext messages during renegotiation", test_plaintext_messages_during_renegotiation },
	{ "epoch: junk in the epoch whose Finished is awaited", test_junk_in_pending_epoch },
	{ "replay: data delivered once, every protection", test_replayed_data_delivered_once },
	{ "replay: handshake flights after the handshake", test_replayed_flights },
	{ "replay: old ClientHellos through dtls_server", test_server_replayed_client_hello },
	{ "record: truncated records", test_truncated_records },
	{ "record: good and bad records in one datagram", test_good_and_bad_records_in_one_datagram },
	{ "record: oversized records", test_oversized_records },
	{ "record: bad protected records", test_bad_protected_records },
	{ "fragment: malformed handshake headers", test_malformed_fragment_headers },
	{ "fragment: fragments that disagree", test_fragments_that_disagree },
	{ "fragment: message_seq far ahead", test_message_seq_far_ahead },
	{ "fragment: zero-length and short messages", test_zero_length_messages },
	{ "fragment: message length limits", test_message_length_limits },
	{ "hello: ClientHellos the server refuses", test_client_hello_refused },
	{ "hello: ServerHellos the client refuses", test_server_hello_refused },
	{ "hello: ServerHello extensions the client did not offer", test_server_hello_unsolicited_extension },
	{ "hello: HelloVerifyRequests the client refuses", test_hello_verify_request_refused },
	{ "hello: ServerKeyExchange missing or unusable", test_server_key_exchange_refused },
	{ "hello: certificate messages refused", test_certificate_messages_refused },
	{ "alert: malformed, forged and fatal alerts", test_alerts },
	{ "reneg: renegotiations the server refuses", test_renegotiation_refused },
	{ "reneg: renegotiations beyond the rate limit", test_renegotiation_rate_limit },
	{ "psk: an unknown identity fails as a wrong key does", test_unknown_identity_as_wrong_key },
	{ "cookie: ClientHellos without a valid cookie", test_cookies_refused },
	CU_TEST_INFO_NULL,
};

static int suite_init(void)
{
	return dtls_init() < 0;
}

static int suite_cleanup(void)
{
	fprintf(stderr,
		"\nnegative cases: state %u, ccs %u, early data %u, epoch %u, replay %u, record %u, fragment %u, "
		"hello %u, alert %u, reneg %u, psk %u, cookie %u\n",
		n_state_cases, n_ccs_cases, n_early_data_cases, n_epoch_cases, n_replay_cases, n_record_cases,
		n_fragment_cases, n_hello_cases, n_alert_cases, n_reneg_cases, n_psk_cases, n_cookie_cases);
	return 0;
}

const struct unit_suite unit_suite = { "negative", suite_init, suite_cleanup, tests };
