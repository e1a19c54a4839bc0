/*
 * The handshake as data (STYLE.md practice 2): for each role, the messages it expects in
 * order. A row applies always, optionally, or not at all in a given handshake (its
 * `when` looks at the negotiated suite); the dispatcher walks the rows, and any message
 * that is not the next applicable row is unexpected.
 */
#ifndef DTLS_HS_TABLE_H
#define DTLS_HS_TABLE_H

#include "handshake/engine.h"

enum row_when { ROW_REQUIRED, ROW_OPTIONAL, ROW_SKIP };

/* Who adds a received message to the transcript: the dispatcher before the handler
 * (most), or the handler itself after it checked the message against the transcript
 * without it (CertificateVerify, Finished). */
enum row_hash { HASH_BEFORE, HASH_BY_HANDLER, HASH_NEVER };

struct hs_row {
	int type;
	enum row_when (*when)(const struct dtls_session *s); /* NULL: required */
	int (*handle)(struct dtls_session *s, const uint8_t *body, size_t len);
	enum row_hash hash;
};

extern const struct hs_row client_rows[];
extern const size_t client_rows_n;
extern const struct hs_row server_rows[];
extern const size_t server_rows_n;

/* Shared by the client and server handlers. */
MUST_CHECK int hs_complete(struct dtls_session *s);
MUST_CHECK int hs_send_finished(struct dtls_session *s);
MUST_CHECK int hs_check_finished(struct dtls_session *s, const uint8_t *body, size_t len);
MUST_CHECK int hs_verify_peer_chain(struct dtls_session *s, const uint8_t *body, size_t len, bool *empty);
MUST_CHECK int hs_authorize(struct dtls_session *s);
void hs_timer_start(struct dtls_session *s);
void hs_timer_stop(struct dtls_session *s);
uint64_t hs_wall_clock(const struct dtls_session *s);
/* The Certificate message with id's chain (an empty list when id is NULL). */
MUST_CHECK int hs_add_certificate(struct dtls_session *s, const struct pki_identity *id);
/* pki's name for a certificate suite's key exchange. */
int hs_pki_kx(const struct suite *su);
enum row_when hs_when_optional(const struct dtls_session *s);
/* ChangeCipherSpec: noted only (see hs_handle_ccs). */
int hs_on_ccs(struct dtls_session *s, const uint8_t *body, size_t len);
/* Our signature schemes, in preference order. */
extern const uint16_t hs_sigalgs[];
extern const size_t hs_sigalgs_n;
extern const uint16_t hs_groups[];
extern const size_t hs_groups_n;
/* The PSK premaster secret (RFC 4279 2, RFC 5489 2); other == NULL: other_len zero bytes. */
MUST_CHECK int hs_psk_premaster(const uint8_t *other, size_t other_len, const uint8_t *psk, size_t psk_len,
				uint8_t *out, size_t cap, size_t *len);
void hs_copy_u16_list(struct wire_reader list, uint16_t *out, size_t cap, size_t *n);
bool hs_list_has(const uint16_t *list, size_t n, uint16_t v);

#endif
