/*
 * Handshake messages (RFC 5246 7.4, RFC 6347 4.2, RFC 4279, RFC 8422): one file per
 * message, each with a parse_* that reads a reassembled body through the wire cursor
 * and a write_* that appends a body to a wire writer.
 *
 * Parsed structs hold non-owning spans (struct wire_reader) into the body they were
 * parsed from: valid while that body is.
 */
#ifndef DTLS_HS_MESSAGE_H
#define DTLS_HS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/guard.h"
#include "wire/wire.h"

enum hs_type {
	HS_HELLO_REQUEST = 0,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_HELLO_VERIFY_REQUEST = 3,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_VERIFY = 15,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_FINISHED = 20,
	HS_CHANGE_CIPHER_SPEC = 0x100, /* not a message: the CCS record, as a row of the table */
};

const char *hs_type_name(int type);

/* ---- the DTLS handshake header (RFC 6347 4.2.2) ------------------------- */

#define HS_HEADER_LEN 12
#define HS_MAX_LENGTH 0xffffff

struct hs_header {
	uint8_t type;
	uint32_t length;
	uint16_t seq;
	uint32_t frag_off;
	uint32_t frag_len;
};

/* Reads a header and its fragment. DTLS_ERR_DECODE if the fragment runs past the record
 * or frag_off + frag_len > length. */
MUST_CHECK int hs_parse_header(struct wire_reader *r, struct hs_header *h, struct wire_reader *frag);
void hs_write_header(uint8_t out[static HS_HEADER_LEN], const struct hs_header *h);

/* ---- extensions (hello messages) ---------------------------------------- */

enum ext_type {
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ENCRYPT_THEN_MAC = 22,
	EXT_EXTENDED_MASTER_SECRET = 23,
	EXT_SESSION_TICKET = 35,
	EXT_RENEGOTIATION_INFO = 0xff01,
};

#define HELLO_MAX_SERVER_NAME 255
#define HELLO_MAX_RENEG 24

/* Bits of hello_ext.seen, one per extension type libdtls knows. */
enum ext_bit {
	EXT_BIT_SERVER_NAME = 1u << 0,
	EXT_BIT_SUPPORTED_GROUPS = 1u << 1,
	EXT_BIT_EC_POINT_FORMATS = 1u << 2,
	EXT_BIT_SIGNATURE_ALGORITHMS = 1u << 3,
	EXT_BIT_ENCRYPT_THEN_MAC = 1u << 4,
	EXT_BIT_EXTENDED_MASTER_SECRET = 1u << 5,
	EXT_BIT_SESSION_TICKET = 1u << 6,
	EXT_BIT_RENEGOTIATION_INFO = 1u << 7,
};

struct hello_ext {
	uint32_t seen;              /* enum ext_bit of every known extension present */
	bool unknown;               /* an extension libdtls does not know was present */
	bool ems;
	bool reneg;                 /* renegotiation_info present */
	uint8_t reneg_len;
	uint8_t reneg_data[HELLO_MAX_RENEG];
	bool groups;                /* supported_groups present */
	struct wire_reader group_list;
	bool point_formats;
	bool uncompressed_point;    /* ec_point_formats lists uncompressed (0) */
	bool sigalgs;
	struct wire_reader sigalg_list;
	char server_name[HELLO_MAX_SERVER_NAME + 1]; /* "" if none */
};

/* Parses an optional extensions block (absent when the cursor is empty). Unknown
 * extensions are skipped; a duplicate extension or a malformed known one fails. */
MUST_CHECK int ext_parse(struct wire_reader *r, struct hello_ext *e);

/* ---- ClientHello / HelloVerifyRequest / ServerHello --------------------- */

#define HELLO_RANDOM_LEN 32
#define HELLO_MAX_SESSION_ID 32
#define HELLO_MAX_COOKIE 255

struct client_hello {
	uint16_t version;
	uint8_t random[HELLO_RANDOM_LEN];
	struct wire_reader session_id;
	struct wire_reader cookie;
	struct wire_reader suites;       /* pairs of bytes */
	struct wire_reader compressions;
	struct hello_ext ext;
	/* Where the cookie starts and ends, and where the compression methods end. */
	size_t cookie_off, cookie_end, params_end;
};

/*
 * Parses a ClientHello body. With `prefix_only`, parsing stops after the cookie: the
 * part a stateless server can check in the first fragment of a fragmented ClientHello
 * (version, random, session_id and cookie fit in the first 100 bytes; a long list of
 * suites may not).
 */
MUST_CHECK int parse_client_hello(const uint8_t *body, size_t len, bool prefix_only, struct client_hello *ch);
bool client_hello_offers_suite(const struct client_hello *ch, uint16_t suite);

struct client_hello_params {
	const uint8_t *random;
	const uint8_t *cookie;
	size_t cookie_len;
	const uint16_t *suites;
	size_t n_suites;
	bool scsv;                 /* add TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
	bool ecc;                  /* send supported_groups and ec_point_formats */
	const uint16_t *groups;
	size_t n_groups;
	const uint16_t *sigalgs;   /* signature_algorithms, if n_sigalgs > 0 */
	size_t n_sigalgs;
	bool ems;
	const uint8_t *reneg;      /* renegotiation_info data (NULL: omit the extension) */
	size_t reneg_len;
	const char *server_name;   /* NULL: no SNI */
};
void write_client_hello(struct wire_writer *w, const struct client_hello_params *p);

struct hello_verify_request {
	uint16_t version;
	struct wire_reader cookie;
};
MUST_CHECK int parse_hello_verify_request(const uint8_t *body, size_t len, struct hello_verify_request *hvr);
void write_hello_verify_request(struct wire_writer *w, const uint8_t *cookie, size_t cookie_len);

struct server_hello {
	uint16_t version;
	uint8_t random[HELLO_RANDOM_LEN];
	struct wire_reader session_id;
	uint16_t suite;
	uint8_t compression;
	struct hello_ext ext;
};
MUST_CHECK int parse_server_hello(const uint8_t *body, size_t len, struct server_hello *sh);

struct server_hello_params {
	const uint8_t *random;
	uint16_t suite;
	bool ems;
	const uint8_t *reneg;      /* NULL: omit renegotiation_info */
	size_t reneg_len;
	bool point_formats;        /* echo ec_point_formats */
};
void write_server_hello(struct wire_writer *w, const struct server_hello_params *p);

/* ---- Certificate / CertificateRequest / CertificateVerify --------------- */

#define CERT_MAX_CHAIN 8

struct certificate_msg {
	size_t n;
	const uint8_t *der[CERT_MAX_CHAIN];
	size_t der_len[CERT_MAX_CHAIN];
};
MUST_CHECK int parse_certificate(const uint8_t *body, size_t len, struct certificate_msg *c);
void write_certificate(struct wire_writer *w, const struct certificate_msg *c);

struct certificate_request {
	bool rsa_sign, ecdsa_sign;
	struct wire_reader sigalgs;
};
MUST_CHECK int parse_certificate_request(const uint8_t *body, size_t len, struct certificate_request *cr);
void write_certificate_request(struct wire_writer *w, const uint16_t *sigalgs, size_t n);

struct digitally_signed {
	uint16_t scheme;
	struct wire_reader sig;
};
MUST_CHECK int parse_digitally_signed(struct wire_reader *r, struct digitally_signed *ds);
MUST_CHECK int parse_certificate_verify(const uint8_t *body, size_t len, struct digitally_signed *ds);
void write_digitally_signed(struct wire_writer *w, uint16_t scheme, const uint8_t *sig, size_t sig_len);

/* ---- ServerKeyExchange / ClientKeyExchange ------------------------------ */

#define EC_CURVE_NAMED 3

struct server_key_exchange {
	struct wire_reader hint;      /* PSK and ECDHE_PSK */
	uint16_t group;               /* ECDHE */
	struct wire_reader point;
	struct wire_reader params;    /* ECDHE: the ServerECDHParams bytes that are signed */
	bool signed_;                 /* ECDHE_ECDSA / ECDHE_RSA */
	struct digitally_signed sig;
};
/* has_hint: PSK/ECDHE_PSK; has_ecdh: ECDHE*; has_sig: ECDHE_ECDSA/RSA. */
MUST_CHECK int parse_server_key_exchange(const uint8_t *body, size_t len, bool has_hint, bool has_ecdh,
					 bool has_sig, struct server_key_exchange *ske);
/* Writes the ServerECDHParams (curve_type, group, point). */
void write_ecdh_params(struct wire_writer *w, uint16_t group, const uint8_t *point, size_t point_len);

struct client_key_exchange {
	struct wire_reader identity;  /* PSK and ECDHE_PSK */
	struct wire_reader point;     /* ECDHE */
	struct wire_reader rsa;       /* RSA: EncryptedPreMasterSecret */
};
MUST_CHECK int parse_client_key_exchange(const uint8_t *body, size_t len, bool has_identity, bool has_ecdh,
					 bool has_rsa, struct client_key_exchange *cke);

/* ---- Finished ----------------------------------------------------------- */

#define FINISHED_LEN 12
MUST_CHECK int parse_finished(const uint8_t *body, size_t len, const uint8_t **verify_data);

/* ---- empty messages ----------------------------------------------------- */

/* HelloRequest and ServerHelloDone have empty bodies. */
MUST_CHECK int parse_empty(const uint8_t *body, size_t len);

#endif
