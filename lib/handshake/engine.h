/*
 * The engine's internal state: the configuration and the session. Only lib/ sees this.
 *
 * A session is used by one thread at a time (the caller's lock). Its handshake state
 * (struct hs) exists only while a handshake runs or its last flight may still have to
 * be retransmitted; an idle established session keeps only the record layer and a few
 * fields.
 */
#ifndef DTLS_ENGINE_H
#define DTLS_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <dtls/dtls.h>

#include "common/guard.h"
#include "crypto/crypto.h"
#include "crypto/suites.h"
#include "handshake/message.h"
#include "record/record.h"

struct pki_identity;
struct pki_trust;
struct pki_peer;

/* ---- configuration ------------------------------------------------------ */

#define CFG_MAX_SUITES 16
#define CFG_MAX_LOCAL_CERTS 4

struct psk_entry {
	uint8_t identity[DTLS_MAX_PSK_IDENTITY];
	size_t identity_len;
	uint8_t key[DTLS_MAX_PSK_LEN];
	size_t key_len;
};

struct local_cert {
	struct pki_identity *id; /* one reference */
	char *file;
};

struct dtls_config {
	atomic_int refs;
	uint16_t suites[CFG_MAX_SUITES];
	size_t n_suites;

	struct psk_entry *psks;
	size_t n_psks;
	char psk_hint[DTLS_MAX_PSK_IDENTITY + 1];
	dtls_psk_lookup_fn psk_lookup;
	void *psk_lookup_arg;
	bool reveal_psk_identities; /* unknown identity: unknown_psk_identity, not a random key */

	size_t mtu;
	uint32_t timer_initial_ms, timer_max_ms, timer_total_ms;
	size_t max_message;
	bool require_ems;
	bool allow_reneg;
	unsigned reneg_max;        /* peer-initiated renegotiations per reneg_window_ms ... */
	uint32_t reneg_window_ms;  /* ... (0: no limit); see dtls_config_set_renegotiation_limit */
	bool cookies;

	/* Certificates may change while sessions run: under cert_lock; a handshake takes
	 * references to what it uses when it starts. */
	pthread_mutex_t cert_lock;
	struct local_cert local[CFG_MAX_LOCAL_CERTS];
	size_t n_local;
	struct pki_trust *trust; /* NULL until a CA is added */
	bool verify_client, require_client_cert;
	char *server_name;
	bool have_pin;
	uint8_t pin[32];
	/* Wall-clock seconds for certificate validity; the library itself reads no clock. */
	uint64_t (*wall_clock)(void);
};

/* ---- handshake state ---------------------------------------------------- */

#define HS_WINDOW 4        /* messages buffered ahead of the next expected one */
#define HS_EARLY_RECORDS 4 /* application records kept that came before the peer's Finished */
#define FLIGHT_MAX_MSGS 8

/* A handshake message being reassembled from fragments. It holds only the bytes received
 * (as pieces, each charged with its header to the session's and the process's budget:
 * reassembly.c); once complete, one piece holds the whole body. */
struct reasm_piece;
struct reasm {
	bool used;
	uint8_t type;
	uint16_t seq;
	uint16_t epoch;      /* record epoch it arrived in (all fragments must agree) */
	uint32_t len;
	uint32_t have;       /* bytes received so far */
	size_t held;         /* bytes charged to the budgets */
	struct reasm_piece *pieces; /* owned; by offset, disjoint */
	const uint8_t *body; /* len bytes once have == len, else NULL */
};

/* One message of an outgoing flight, kept whole so a retransmission can re-fragment it. */
struct flight_msg {
	uint8_t content_type; /* CT_HANDSHAKE or CT_CHANGE_CIPHER_SPEC */
	uint16_t epoch;
	uint8_t *msg;         /* handshake header (unfragmented form) + body */
	size_t len;
};

struct flight {
	struct flight_msg msgs[FLIGHT_MAX_MSGS];
	size_t n;
};

struct hs {
	int row;                   /* position in the role's table of expected messages */
	bool done;                 /* Finished exchanged; only retransmission duty left */
	uint16_t epoch;            /* the epoch this handshake's first flights are protected in */
	uint16_t send_seq;         /* next message_seq we send */
	uint16_t recv_seq;         /* next message_seq we expect */
	struct reasm pending[HS_WINDOW];

	uint8_t *transcript;       /* all messages hashed so far, in the unfragmented form */
	size_t transcript_len, transcript_cap;

	uint8_t client_random[32], server_random[32];
	const struct suite *suite;
	struct kex_key kex;
	bool kex_ready;
	uint8_t master[48];
	bool ems;
	bool peer_reneg_ext;       /* the peer sent renegotiation_info or the SCSV */
	bool offered_ecc, offered_sni; /* client: what our ClientHello asked for */
	uint8_t cookie[HELLO_MAX_COOKIE];
	size_t cookie_len;

	uint8_t psk[DTLS_MAX_PSK_LEN];
	size_t psk_len;
	uint8_t psk_identity[DTLS_MAX_PSK_IDENTITY];
	size_t psk_identity_len;

	uint16_t peer_sigalgs[32];
	size_t n_peer_sigalgs;
	uint16_t peer_groups[16];
	size_t n_peer_groups;

	struct pki_identity *local; /* reference, the chain we send (if any) */
	struct pki_trust *trust;    /* reference, to verify the peer */
	struct pki_peer *peer;      /* the verified peer certificate (owned) */
	/* The peer's chain as it came, for dtls_session_peer_verify() (owned; one buffer
	 * holding chain_n DER certificates of chain_len[i] bytes each, back to back). */
	uint8_t *chain;
	size_t chain_n, chain_len[CERT_MAX_CHAIN];
	bool cert_requested;        /* server: we sent CertificateRequest; client: we got one */
	bool peer_sent_cert;        /* the peer's Certificate message was not empty */
	bool have_server_ecdh;      /* client: ServerKeyExchange seen */
	uint8_t server_point[KEX_MAX_PUB];
	size_t server_point_len;
	uint16_t server_group;

	uint8_t verify_data_client[12], verify_data_server[12];

	struct flight out;
	/* Application data under the new epoch that overtook the peer's Finished (RFC 6347
	 * 4.1 allows buffering it): delivered once the Finished checks out, else dropped. */
	struct {
		uint8_t *data;
		size_t len;
	} early[HS_EARLY_RECORDS];
	size_t n_early;
	uint64_t started_ms;       /* first flight of this handshake */
	uint64_t sent_ms;          /* last (re)transmission of `out` */
	uint32_t rto_ms;           /* current retransmission timeout */
	bool timer_on;
	uint64_t peer_rexmit_ms;   /* last retransmission the peer's retransmission caused */
	uint64_t linger_until;     /* done: keep `out` for the peer's retransmissions until then */
};

/* ---- session ------------------------------------------------------------ */

#define EARLY_DATA_SLOTS 0

struct dtls_session {
	struct dtls_config *cfg;   /* one reference */
	struct dtls_callbacks cb;
	void *arg;
	void *user;
	bool client;
	enum dtls_state state;
	int error;                 /* sticky first fatal error */
	int peer_alert, sent_alert;

	struct rec_layer rec;
	struct hs *hs;             /* NULL when no handshake is running or lingering */

	const struct suite *suite; /* of the current epoch */
	uint16_t established_epoch; /* application data is accepted from this epoch on; 0 = none */
	unsigned handshakes;
	bool secure_reneg;         /* both sides did RFC 5746 */
	/* When the last peer-initiated renegotiations started, oldest first (the rate limit). */
	uint64_t reneg_started[DTLS_MAX_RENEGOTIATION_LIMIT];
	uint8_t n_reneg_started;
	uint8_t client_verify[12], server_verify[12];
	uint8_t psk_identity[DTLS_MAX_PSK_IDENTITY];
	size_t psk_identity_len;
	struct pki_peer *peer;     /* the peer certificate of the last completed handshake (owned);
				    * the identity getters read it through session.c's current_peer() */

	uint8_t hello_random[32];  /* server: client_random of the last ClientHello answered */
	/* Client: the cookie of the first handshake, sent again in a renegotiation's
	 * ClientHello (OpenSSL servers do not proceed without it). Longer ones are not kept. */
	uint8_t hello_cookie[32];
	uint8_t hello_cookie_len;
	struct sockaddr_storage peer_addr;
	socklen_t peer_addr_len;

	uint64_t now_ms;           /* the time of the call being processed */
	uint64_t close_deadline;   /* CLOSING: when to give up on the peer's close_notify */
	uint64_t retire_at;        /* when to forget the previous read epoch; 0 = nothing to do */
	uint64_t heard_ms;         /* last record authenticated in epoch 1 or later; 0 = none */

	struct dtls_session_stats stats;

	uint8_t *scratch;          /* one datagram being built, or NULL: see session_scratch */
};

/* ---- shared between the engine's files ---------------------------------- */

/* Ends the session with err (sending its alert if it has one). Returns err. */
int session_fail(struct dtls_session *s, int err);
/*
 * The buffer one outgoing datagram is built in (mtu bytes, with REC_HEADROOM before the
 * returned pointer and REC_TAILROOM after), allocated when first needed and released when
 * a handshake ends, so an idle session does not keep one. NULL when out of memory.
 */
uint8_t *session_scratch(struct dtls_session *s);
void session_scratch_release(struct dtls_session *s);
/* Sends an alert record in the current write epoch. */
void session_send_alert(struct dtls_session *s, uint8_t level, uint8_t desc);

/* handshake.c */
MUST_CHECK int hs_begin(struct dtls_session *s);
void hs_free(struct dtls_session *s);
/* A handshake-content record's plaintext, from epoch `epoch`. */
MUST_CHECK int hs_handle_record(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n);
/* A ChangeCipherSpec record. */
MUST_CHECK int hs_handle_ccs(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n);
/* A record of the handshake's next epoch failed to authenticate. */
MUST_CHECK int hs_bad_record(struct dtls_session *s, uint16_t epoch);
uint64_t hs_next_timeout(const struct dtls_session *s);
MUST_CHECK int hs_timeout(struct dtls_session *s);
/* Keeps a copy of application data that came under the handshake's new epoch before the
 * peer's Finished. Returns false if it was not kept (no room, not that epoch). */
bool hs_keep_early(struct dtls_session *s, uint16_t epoch, const uint8_t *p, size_t n);
/* Client: send the first ClientHello of a handshake. */
MUST_CHECK int hs_client_start(struct dtls_session *s);

/* flight.c */
void flight_clear(struct flight *f);
MUST_CHECK int flight_add(struct dtls_session *s, uint8_t content_type, uint16_t epoch, uint8_t hs_type,
			  const uint8_t *body, size_t len);
MUST_CHECK int flight_send(struct dtls_session *s);

/* reassembly.c */
/* Takes one handshake fragment. Returns 1 when the message `recv_seq` is complete. */
MUST_CHECK int reasm_add(struct dtls_session *s, uint16_t epoch, const struct hs_header *h,
			 struct wire_reader *frag);
struct reasm *reasm_next(struct dtls_session *s);
void reasm_release(struct reasm *m);
/* Bytes the session's reassembly holds now (all its messages). */
size_t reasm_held(const struct dtls_session *s);

/* transcript.c */
MUST_CHECK int transcript_add(struct hs *hs, uint8_t type, uint16_t seq, const uint8_t *body, size_t len);
MUST_CHECK int transcript_hash(const struct hs *hs, enum hash_alg alg, uint8_t out[static HASH_MAX_LEN]);
void transcript_reset(struct hs *hs);

/* keys.c */
MUST_CHECK int keys_master_secret(struct dtls_session *s, const uint8_t *pms, size_t pms_len);
MUST_CHECK int keys_install(struct dtls_session *s, bool read);
MUST_CHECK int keys_finished(struct dtls_session *s, bool client_side, uint8_t out[static 12]);

/* The sticky error, or 0 if the session can still work. */
static inline int session_dead(const struct dtls_session *s)
{
	return s->error;
}

#endif
