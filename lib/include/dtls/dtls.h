/*
 * libdtls: a DTLS 1.2 (RFC 6347) engine that does no I/O.
 *
 * The caller owns the sockets and the clock. It hands received datagrams in with the
 * current time, sends the datagrams the engine hands out through the send callback,
 * and calls back in when dtls_session_next_timeout() is due. Nothing here blocks,
 * sleeps, reads a clock or opens a file descriptor (certificate files excepted, at
 * configuration time).
 *
 * Objects:
 *   struct dtls_config   what a session may negotiate: suites, PSKs, certificates,
 *                        timers, MTU. Shared by many sessions; reference-counted.
 *   struct dtls_session  one DTLS association, client or server.
 *   struct dtls_server   the many-sessions-on-one-port server (the reference product's
 *                        NX_SECURE_DTLS_SERVER): demultiplexes by peer address, answers
 *                        cookie-less ClientHellos statelessly, creates and frees sessions.
 *
 * Threading: a session or server is used by one thread at a time (the caller locks).
 * A config may be shared by sessions on many threads; its setters are for setup time,
 * except the certificate add/remove calls, which are safe at any time.
 */
#ifndef DTLS_DTLS_H
#define DTLS_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <dtls/err.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTLS_API __attribute__((visibility("default")))
#define DTLS_MUST_CHECK __attribute__((warn_unused_result))

/* Room a caller leaves before and after a payload passed to dtls_session_seal(). */
#define DTLS_HEADROOM 29
#define DTLS_TAILROOM 64
/* Largest datagram the engine emits or accepts; size receive buffers with it. */
#define DTLS_MAX_DATAGRAM 65536
#define DTLS_MAX_PSK_LEN 64
#define DTLS_MAX_PSK_IDENTITY 128

/* Initialises the crypto libraries; call once before anything else. */
DTLS_API DTLS_MUST_CHECK int dtls_init(void);

/* ---- configuration ------------------------------------------------------ */

struct dtls_config;

/* Returns a new config with safe defaults, or NULL. The caller owns one reference. */
DTLS_API struct dtls_config *dtls_config_new(void);
DTLS_API void dtls_config_ref(struct dtls_config *cfg);
DTLS_API void dtls_config_unref(struct dtls_config *cfg);

/*
 * Suites in order of preference, by IANA name or OpenSSL short name, comma-separated
 * ("TLS_PSK_WITH_AES_128_GCM_SHA256,PSK-AES128-CCM8"). DTLS_ERR_ARG names nothing known.
 */
DTLS_API DTLS_MUST_CHECK int dtls_config_set_ciphers(struct dtls_config *cfg, const char *list);
/* The IANA name of a suite code point, or NULL. */
DTLS_API const char *dtls_suite_name(uint16_t id);
/* The code point of a suite known by IANA or OpenSSL name, or DTLS_ERR_ARG. */
DTLS_API int dtls_suite_id(const char *name);
/* Worst-case bytes a record of this suite adds to its payload, header included
 * (what a tunnel subtracts from the path MTU), or DTLS_ERR_ARG for an unknown suite. */
DTLS_API int dtls_suite_overhead(uint16_t id);
/* Whether a suite's key exchange is ephemeral ECDHE (ECDHE_PSK, ECDHE_ECDSA, ECDHE_RSA),
 * so that its session keys do not follow from a long-term secret. false if unknown. */
DTLS_API bool dtls_suite_is_forward_secret(uint16_t id);
/* Whether a suite protects records with an AEAD (AES-GCM, AES-CCM_8, ChaCha20-Poly1305)
 * rather than AES-CBC and HMAC. false if unknown. */
DTLS_API bool dtls_suite_is_aead(uint16_t id);
/*
 * The suites a default policy should use: forward secret, and an AEAD with a full
 * 16-byte tag (no CBC-HMAC, no CCM_8, no RSA key transport), PSK and certificate ones
 * together, in the library's order of preference (a handshake skips the ones its
 * credentials cannot serve). Writes up to cap code points to ids; returns how many there
 * are, which may be more than cap (cap 0 and ids NULL ask for the count). Today:
 * TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 and _AES_256_GCM_SHA384 (RFC 8442, which OpenSSL
 * 3.0 and GnuTLS 3.7 lack: between dtlsgw peers), the ECDHE_ECDSA and ECDHE_RSA AES-GCM
 * suites, then the ChaCha20-Poly1305 ones.
 */
DTLS_API size_t dtls_suites_recommended(uint16_t *ids, size_t cap);

/*
 * PSK (RFC 4279). A client offers its first PSK's identity; a server finds the key for a
 * received identity among those added here, or asks the lookup callback when set.
 * Keys are 1..64 bytes, identities 1..128 bytes.
 */
DTLS_API DTLS_MUST_CHECK int dtls_config_add_psk(struct dtls_config *cfg, const uint8_t *identity,
						 size_t identity_len, const uint8_t *key, size_t key_len);
DTLS_API DTLS_MUST_CHECK int dtls_config_set_psk_hint(struct dtls_config *cfg, const char *hint);
/*
 * Server-side key lookup: copy the key for identity into key (at most DTLS_MAX_PSK_LEN
 * bytes) and return its length, or return a negative value for an unknown identity.
 * Called on the session's thread; `arg` is the config's (passed through), session_arg
 * that of the session asking (its callbacks' argument), so that the caller can bind
 * the handshake to the key it hands out.
 */
typedef int (*dtls_psk_lookup_fn)(void *arg, void *session_arg, const uint8_t *identity,
				  size_t identity_len, uint8_t key[DTLS_MAX_PSK_LEN]);
DTLS_API void dtls_config_set_psk_lookup(struct dtls_config *cfg, dtls_psk_lookup_fn fn, void *arg);
/*
 * Server: how an unknown PSK identity is answered. By default (false) exactly as a wrong
 * key: the handshake goes on with a random key and ends with bad_record_mac
 * (DTLS_ERR_BAD_RECORD_MAC) when the client's Finished does not authenticate, so a
 * scanner cannot learn which identities exist. The lookup callback is still called (the
 * place to log "unknown identity"), and dtls_session_psk_identity() still gives the
 * identity after the failure. true: refuse at once with unknown_psk_identity
 * (DTLS_ERR_UNKNOWN_PSK_IDENTITY), as before.
 */
DTLS_API void dtls_config_reveal_psk_identities(struct dtls_config *cfg, bool reveal);

/* Path MTU: the largest datagram (UDP payload) the engine sends. Default 1400. */
DTLS_API DTLS_MUST_CHECK int dtls_config_set_mtu(struct dtls_config *cfg, size_t mtu);
/* Retransmission timer (RFC 6347 4.2.4): initial, maximum, and total give-up time, in ms.
 * Defaults 1000, 60000, 120000. */
DTLS_API DTLS_MUST_CHECK int dtls_config_set_timers(struct dtls_config *cfg, uint32_t initial_ms,
						    uint32_t max_ms, uint32_t total_ms);
/* Largest handshake message accepted (reassembly bound). Default 32768. */
DTLS_API DTLS_MUST_CHECK int dtls_config_set_max_message(struct dtls_config *cfg, size_t max);
/* Require the extended master secret (RFC 7627) from the peer. Default: offered, not required. */
DTLS_API void dtls_config_require_ems(struct dtls_config *cfg, bool require);
/* Accept renegotiation started by the peer (secure renegotiation only). Default on. */
DTLS_API void dtls_config_allow_renegotiation(struct dtls_config *cfg, bool allow);
/*
 * Rate limit on renegotiations started by the peer (a ClientHello on an established
 * server session, a HelloRequest to a client): at most `max` may start within any
 * `window_ms`; one more is refused with a no_renegotiation warning alert (RFC 5246
 * 7.2.2), the session goes on under its current keys, and the session's
 * renegotiations_refused statistic counts it (each ClientHello or HelloRequest refused,
 * retransmissions included; refusals by dtls_config_allow_renegotiation(false) count
 * too). Only renegotiations that started count against the limit. window_ms 0 turns the
 * limit off; otherwise max is 1..DTLS_MAX_RENEGOTIATION_LIMIT, else DTLS_ERR_ARG.
 * Default: 3 per 60000 ms.
 */
#define DTLS_MAX_RENEGOTIATION_LIMIT 8
#define DTLS_DEFAULT_RENEGOTIATION_MAX 3
#define DTLS_DEFAULT_RENEGOTIATION_WINDOW_MS 60000
DTLS_API DTLS_MUST_CHECK int dtls_config_set_renegotiation_limit(struct dtls_config *cfg, unsigned max,
								 uint32_t window_ms);
/* Server: answer a ClientHello without a valid cookie with a HelloVerifyRequest. Default on. */
DTLS_API void dtls_config_set_cookies(struct dtls_config *cfg, bool on);

/* ---- certificates (X.509) ----------------------------------------------- */

/*
 * The local certificate chain and its private key (DER or PEM; PKCS#1 DER, PKCS#8 and
 * EC keys). Several may be added (say one RSA and one ECDSA); the handshake picks the one
 * that fits the negotiated suite. err receives a one-line reason naming the file.
 */
DTLS_API DTLS_MUST_CHECK int dtls_config_add_local_cert(struct dtls_config *cfg, const char *cert_file,
							const char *key_file, char *err, size_t err_len);
/*
 * As dtls_config_add_local_cert, with the private key from memory: key[0..key_len) as
 * the key file holds it (PEM or DER), for a caller that reads the file itself, say
 * from the descriptor on which it checked the file's owner and mode. key_name names
 * the key in err (NULL: "key"). The bytes are not kept; the caller wipes its copy.
 */
DTLS_API DTLS_MUST_CHECK int dtls_config_add_local_cert_mem(struct dtls_config *cfg, const char *cert_file,
							    const uint8_t *key, size_t key_len,
							    const char *key_name, char *err, size_t err_len);
DTLS_API DTLS_MUST_CHECK int dtls_config_remove_local_cert(struct dtls_config *cfg, const char *cert_file);
/* Trusted CA certificates (PEM bundle or DER). */
DTLS_API DTLS_MUST_CHECK int dtls_config_add_trusted(struct dtls_config *cfg, const char *file, char *err,
						     size_t err_len);
DTLS_API DTLS_MUST_CHECK int dtls_config_remove_trusted(struct dtls_config *cfg, const char *file);
/* Server: request and verify a client certificate (required when `require`). */
DTLS_API void dtls_config_verify_client(struct dtls_config *cfg, bool on, bool require);
/* Client: the server name to verify in the server certificate and to send as SNI. */
DTLS_API DTLS_MUST_CHECK int dtls_config_set_server_name(struct dtls_config *cfg, const char *name);
/* Accept only a peer whose SubjectPublicKeyInfo has this SHA-256 (with or without a CA). */
DTLS_API DTLS_MUST_CHECK int dtls_config_pin_sha256(struct dtls_config *cfg, const uint8_t pin[32]);

/* One certificate of a file, as dtls_cert_file_info() hands it out. */
struct dtls_cert_info {
	size_t index;                  /* its place in the file, 0 first */
	const char *subject;           /* the subject DN as RFC 4514 text ("CN=gw.test,O=x");
					* valid during the call only */
	int64_t not_before, not_after; /* the validity period, seconds since 1970 (UTC) */
};
typedef void (*dtls_cert_info_fn)(void *arg, const struct dtls_cert_info *info);
/*
 * Reads the certificates of a PEM bundle or of one DER certificate, as
 * dtls_config_add_trusted() and dtls_config_add_local_cert() read them, and calls fn
 * once for each, in file order. Nothing is verified and no clock is read: this is for
 * a caller's own checks, such as a warning about a certificate that expires soon.
 * Returns the number of certificates, or DTLS_ERR_FILE (cannot read; not a certificate,
 * "FILE is a private key, not a certificate" for a key) or DTLS_ERR_NOMEM with a reason
 * in err (may be NULL); fn is not called then.
 */
DTLS_API DTLS_MUST_CHECK int dtls_cert_file_info(const char *file, dtls_cert_info_fn fn, void *arg,
						 char *err, size_t err_len);

/* ---- sessions ----------------------------------------------------------- */

struct dtls_session;

enum dtls_state {
	DTLS_STATE_HANDSHAKING,
	DTLS_STATE_ESTABLISHED,
	DTLS_STATE_CLOSING,  /* close_notify sent, waiting for the peer's */
	DTLS_STATE_CLOSED,   /* both close_notify exchanged, or the peer closed */
	DTLS_STATE_FAILED,   /* a fatal error; dtls_session_error() tells which */
};

struct dtls_callbacks {
	/* A datagram to send to the session's peer. Required. */
	void (*send)(void *arg, const uint8_t *dgram, size_t len);
	/* Application data received (one record's payload, a span of the caller's datagram
	 * buffer valid during the call). Zero-length records are delivered too. */
	void (*data)(void *arg, const uint8_t *data, size_t len);
	/* The handshake (or a renegotiation) completed. Optional. */
	void (*established)(void *arg);
	/* The session ended: closed cleanly (err == DTLS_ERR_CLOSED) or failed. Optional. */
	void (*ended)(void *arg, int err);
	/*
	 * Server sessions: decide whether the authenticated peer identity may proceed.
	 * Return 0 to accept, a negative error (DTLS_ERR_ACCESS_DENIED) to refuse. Optional.
	 */
	int (*authorize)(void *arg, struct dtls_session *s);
};

/* A client session; call dtls_session_start() to send the first ClientHello. */
DTLS_API struct dtls_session *dtls_session_new_client(struct dtls_config *cfg, const struct dtls_callbacks *cb,
						      void *arg);
/*
 * A server session for one peer. The caller feeds it the ClientHello that carried a valid
 * cookie (dtls_server does this); `peer` identifies the client for the cookie check.
 */
DTLS_API struct dtls_session *dtls_session_new_server(struct dtls_config *cfg, const struct dtls_callbacks *cb,
						      void *arg, const struct sockaddr *peer, socklen_t peer_len);
/* Frees the session without sending anything (see dtls_session_close). */
DTLS_API void dtls_session_free(struct dtls_session *s);
/* Replaces the callback argument (for callers that learn it after creation). */
DTLS_API void dtls_session_set_arg(struct dtls_session *s, void *arg);

DTLS_API DTLS_MUST_CHECK int dtls_session_start(struct dtls_session *s, uint64_t now_ms);

/*
 * Processes one received datagram, in place (the buffer is modified). Returns 0, or the
 * session's sticky fatal error. Records that fail authentication, replays and garbage
 * are dropped silently and counted, as RFC 6347 says.
 */
DTLS_API DTLS_MUST_CHECK int dtls_session_handle(struct dtls_session *s, uint8_t *dgram, size_t len,
						 uint64_t now_ms);
/* When the engine next needs dtls_session_timeout(); UINT64_MAX for never. */
DTLS_API uint64_t dtls_session_next_timeout(const struct dtls_session *s);
DTLS_API DTLS_MUST_CHECK int dtls_session_timeout(struct dtls_session *s, uint64_t now_ms);

/* Sends one application data record (copies; for the hot path see dtls_session_seal). */
DTLS_API DTLS_MUST_CHECK int dtls_session_send(struct dtls_session *s, const uint8_t *data, size_t len);
/*
 * Seals payload[0..len) in place as one application data record, without sending it:
 * payload has DTLS_HEADROOM writable bytes before it and DTLS_TAILROOM after it; *rec and
 * *rec_len receive the record to send. DTLS_ERR_NOT_ESTABLISHED before the handshake.
 */
DTLS_API DTLS_MUST_CHECK int dtls_session_seal(struct dtls_session *s, uint8_t *payload, size_t len,
					       uint8_t **rec, size_t *rec_len);
/* The largest application payload one record can carry within the path MTU. */
DTLS_API size_t dtls_session_max_payload(const struct dtls_session *s);

/*
 * Sends close_notify. The session moves to CLOSING and to CLOSED when the peer's
 * close_notify arrives; if it has not arrived when the timer fires, the session ends with
 * DTLS_ERR_CLOSE_FAIL (the reference product's NX_SECURE_TLS_SESSION_CLOSE_FAIL).
 */
DTLS_API DTLS_MUST_CHECK int dtls_session_close(struct dtls_session *s, uint64_t now_ms);

DTLS_API enum dtls_state dtls_session_state(const struct dtls_session *s);
/* The first fatal error, or 0. */
DTLS_API int dtls_session_error(const struct dtls_session *s);
/* The alert description the peer sent (DTLS_ALERT_NONE if none), and the one we sent. */
DTLS_API int dtls_session_peer_alert(const struct dtls_session *s);
DTLS_API int dtls_session_sent_alert(const struct dtls_session *s);
DTLS_API bool dtls_session_is_client(const struct dtls_session *s);
/* Negotiated suite code point (0 before ServerHello). */
DTLS_API uint16_t dtls_session_suite(const struct dtls_session *s);
/* The PSK identity the client used (server and client), or NULL. */
DTLS_API const uint8_t *dtls_session_psk_identity(const struct dtls_session *s, size_t *len);
/* The peer certificate's SHA-256 SPKI pin and whether it carries a name (CN or SAN). */
DTLS_API bool dtls_session_peer_pin(const struct dtls_session *s, uint8_t pin[32]);
DTLS_API bool dtls_session_peer_has_name(const struct dtls_session *s, const char *name);
/*
 * The peer certificate's names for a log line: its subject CNs and its DNS, IP, e-mail
 * and URI SANs, "CN a, DNS b, IP 192.0.2.7" (the peer's bytes: unprintable ones, quotes
 * and backslashes as \xNN), cut to fit cap with its NUL. "" without a certificate. The
 * length written.
 */
DTLS_API size_t dtls_session_peer_names(const struct dtls_session *s, char *buf, size_t cap);
/*
 * The peer certificate's names by kind, for policies that require one (no wildcard
 * expansion; an empty name matches nothing):
 *   has_cn:  the subject has exactly one commonName and it equals name, ignoring ASCII
 *            case (a subject with several CNs matches no name);
 *   has_san: a subjectAltName equals name: an IPv4/IPv6 literal an iPAddress SAN by value
 *            ("::1" equals "0:0::1"), any other name a dNSName SAN, ignoring ASCII case.
 *            E-mail, URI and other SAN kinds are never compared.
 * dtls_session_peer_has_name above takes any of these, several CNs, and e-mail or URI
 * SANs byte for byte.
 */
DTLS_API bool dtls_session_peer_has_cn(const struct dtls_session *s, const char *name);
DTLS_API bool dtls_session_peer_has_san(const struct dtls_session *s, const char *name);
/*
 * In the authorize callback of a handshake in which the peer sent a certificate chain:
 * verifies that chain again, against cfg's trusted CAs instead of the session's (a
 * server that trusts several CAs can require the one of the peer the certificate names).
 * 0, a verification error (DTLS_ERR_UNKNOWN_CA, ...), or DTLS_ERR_ARG outside such a
 * handshake or when cfg has no trusted CA.
 */
DTLS_API DTLS_MUST_CHECK int dtls_session_peer_verify(struct dtls_session *s, struct dtls_config *cfg);
/* Number of completed handshakes (1 after the first, 2 after one renegotiation...). */
DTLS_API unsigned dtls_session_handshakes(const struct dtls_session *s);
/*
 * When a record from the peer last authenticated under the keys of a handshake (epoch 1
 * or later): the now_ms of that dtls_session_handle call, or 0 if none has. Application
 * data and empty records count, and so do alerts and handshake records, such as a peer
 * retransmitting its Finished because our last flight was lost. Epoch 0 records prove
 * nothing about their sender and do not count. For telling a live peer from a dead one.
 */
DTLS_API uint64_t dtls_session_last_heard(const struct dtls_session *s);
/*
 * Whether our handshake is complete but the peer may not have our last flight yet (the
 * server's ChangeCipherSpec and Finished): it is kept to answer the peer's
 * retransmissions until the peer's data shows it arrived, or the retransmission timer's
 * total time is over. Meanwhile the peer may be silent for as long as its backoff.
 */
DTLS_API bool dtls_session_last_flight_pending(const struct dtls_session *s);

struct dtls_session_stats {
	uint64_t records_in, records_out;
	uint64_t dropped_mac, dropped_replay, dropped_malformed, dropped_epoch;
	uint64_t retransmits;
	uint64_t renegotiations_refused; /* see dtls_config_set_renegotiation_limit */
	uint64_t dropped_reassembly; /* handshake fragments over a reassembly budget */
};
DTLS_API void dtls_session_stats(const struct dtls_session *s, struct dtls_session_stats *out);

/*
 * Memory for handshake messages being reassembled from fragments: only the bytes
 * received are kept (plus a small header per stored piece), so a peer that declares a
 * long message and sends little of it holds little. Two budgets bound it, both for the
 * whole process (the memory is the process's, and sessions of different configs, old
 * and new, run side by side):
 *   per_session  bytes one session may hold across the messages it reassembles; 0 (the
 *                default): twice its config's max_message (64 KiB by default);
 *   total        bytes all sessions together may hold; 0: no limit. Default
 *                DTLS_REASSEMBLY_TOTAL_DEFAULT.
 * A fragment that would go over either is dropped and counted (dropped_reassembly); the
 * peer's retransmission may fit later. A message that cannot fit in per_session at all
 * ends the handshake with DTLS_ERR_MESSAGE_TOO_LARGE, as one over max_message does.
 * Safe at any time; lowering a budget frees nothing, it only refuses more.
 */
#define DTLS_REASSEMBLY_TOTAL_DEFAULT ((size_t)16 << 20)
DTLS_API void dtls_set_reassembly_limits(size_t per_session, size_t total);
/* Bytes held by all sessions' reassembly now (for a gauge). */
DTLS_API size_t dtls_reassembly_bytes(void);

/* ---- the server: many sessions on one UDP port -------------------------- */

struct dtls_server;

struct dtls_server_callbacks {
	/* Send dgram to the peer at addr. Required. */
	void (*send)(void *arg, const struct sockaddr *addr, socklen_t len, const uint8_t *dgram, size_t n);
	/* A new session passed the cookie exchange: return 0 to accept it, negative to drop
	 * the ClientHello. The session's user pointer may be set with dtls_session_set_user. */
	int (*connect)(void *arg, struct dtls_session *s, const struct sockaddr *addr, socklen_t len);
	/* Application data from a session. */
	void (*data)(void *arg, struct dtls_session *s, const uint8_t *data, size_t len);
	/* A session completed its handshake (or a renegotiation). Optional. */
	void (*established)(void *arg, struct dtls_session *s);
	/* A session ended and is about to be freed. Optional. */
	void (*ended)(void *arg, struct dtls_session *s, int err);
	/* As dtls_callbacks.authorize. Optional. */
	int (*authorize)(void *arg, struct dtls_session *s);
};

DTLS_API struct dtls_server *dtls_server_new(struct dtls_config *cfg, const struct dtls_server_callbacks *cb,
					     void *arg, size_t max_sessions);
/* Sends nothing; frees every session. */
DTLS_API void dtls_server_free(struct dtls_server *srv);
DTLS_API DTLS_MUST_CHECK int dtls_server_handle(struct dtls_server *srv, const struct sockaddr *from,
						socklen_t from_len, uint8_t *dgram, size_t len, uint64_t now_ms);
DTLS_API uint64_t dtls_server_next_timeout(const struct dtls_server *srv);
DTLS_API DTLS_MUST_CHECK int dtls_server_timeout(struct dtls_server *srv, uint64_t now_ms);
/* The session of a peer address, or NULL. */
DTLS_API struct dtls_session *dtls_server_find(struct dtls_server *srv, const struct sockaddr *addr,
					       socklen_t len);
/* Sends close_notify on every session. */
DTLS_API void dtls_server_close_all(struct dtls_server *srv, uint64_t now_ms);
DTLS_API size_t dtls_server_session_count(const struct dtls_server *srv);
DTLS_API void dtls_session_set_user(struct dtls_session *s, void *user);
DTLS_API void *dtls_session_user(const struct dtls_session *s);

/*
 * The stateless cookie exchange on its own, for callers that keep their own session map
 * (the gateway daemon). Given a datagram from an address with no session:
 *   DTLS_OK           it is a ClientHello with a valid cookie: create a server session
 *                     and feed it this datagram;
 *   DTLS_ERR_COOKIE   answer with the HelloVerifyRequest written to hvr/hvr_len (never
 *                     longer than the datagram that caused it);
 *   other negative    drop it silently.
 * Allocates nothing. Thread-safe against itself; dtls_cookie_rotate needs exclusion.
 */
struct dtls_cookie_jar;
DTLS_API struct dtls_cookie_jar *dtls_cookie_jar_new(uint64_t now_ms, uint64_t lifetime_ms);
DTLS_API void dtls_cookie_jar_free(struct dtls_cookie_jar *jar);
DTLS_API void dtls_cookie_rotate(struct dtls_cookie_jar *jar, uint64_t now_ms);
DTLS_API DTLS_MUST_CHECK int dtls_cookie_check(const struct dtls_cookie_jar *jar, const struct sockaddr *from,
					       socklen_t from_len, const uint8_t *dgram, size_t len, uint8_t *hvr,
					       size_t hvr_cap, size_t *hvr_len);

/*
 * Whether dgram starts with an epoch-0 ClientHello that is not one of those the session
 * already answered: the peer is starting over from scratch (say it restarted on the same
 * port). A caller keeping its own session map then runs dtls_cookie_check on it: a valid
 * cookie proves the address, and a new session takes the place of the old one (RFC 6347
 * 4.2.8). A retransmitted or duplicated ClientHello of the session's own handshake is
 * not new. dtls_server does all this itself.
 */
DTLS_API bool dtls_session_is_new_hello(const struct dtls_session *s, const uint8_t *dgram, size_t len);

/*
 * What the first record of a datagram is, for a caller that keeps its own session map:
 * not an epoch-0 ClientHello at all, a whole one, the fragment that starts one (offset
 * 0), or a later fragment. For the first two, random receives the hello's random (zeros
 * if the fragment is too short to hold it); random may be NULL.
 */
enum dtls_hello_kind {
	DTLS_HELLO_NONE,
	DTLS_HELLO_WHOLE,
	DTLS_HELLO_FIRST_FRAGMENT,
	DTLS_HELLO_LATER_FRAGMENT,
};
DTLS_API enum dtls_hello_kind dtls_hello_classify(const uint8_t *dgram, size_t len, uint8_t random[32]);

/*
 * Reassembly of ClientHellos that come in fragments from senders without a session, so
 * that dtls_cookie_check can judge the whole hello (no single small fragment may hold
 * every field the cookie covers). A fixed area of `entries` hellos of at most max_hello
 * body bytes, keyed by address, port and message_seq, allocated once; a new hello takes
 * a free entry or the oldest one (counted by dtls_hello_area_evicted). The caller locks.
 */
struct dtls_hello_area;
DTLS_API struct dtls_hello_area *dtls_hello_area_new(size_t entries, size_t max_hello);
DTLS_API void dtls_hello_area_free(struct dtls_hello_area *a);
/*
 * Adds the ClientHello fragments of datagram dgram from `from`. When that completes a
 * hello: writes it to out as one datagram of one record holding the whole message (the
 * highest record sequence number of its fragments), *out_len, and returns DTLS_OK; the
 * entry is free again. DTLS_ERR_IN_PROGRESS while parts are missing;
 * DTLS_ERR_MESSAGE_TOO_LARGE for a hello above max_hello; other negative: not a
 * ClientHello fragment, or malformed or conflicting (dropped). out needs 25 + max_hello.
 */
DTLS_API DTLS_MUST_CHECK int dtls_hello_area_add(struct dtls_hello_area *a, const struct sockaddr *from,
						 socklen_t from_len, const uint8_t *dgram, size_t len,
						 uint8_t *out, size_t cap, size_t *out_len);
DTLS_API uint64_t dtls_hello_area_evicted(const struct dtls_hello_area *a);
/* Frees the entry of the hello that datagram dgram from `from` is a fragment of (it was
 * judged on that fragment). */
DTLS_API void dtls_hello_area_forget(struct dtls_hello_area *a, const struct sockaddr *from,
				     socklen_t from_len, const uint8_t *dgram, size_t len);

#ifdef __cplusplus
}
#endif
#endif
