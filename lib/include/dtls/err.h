/*
 * libdtls errors: negative values from one table. Each error carries its text and
 * the TLS alert description that a fatal error of that kind sends to the peer
 * (DTLS_ALERT_NONE: nothing is sent, as for records that are silently dropped).
 */
#ifndef DTLS_ERR_H
#define DTLS_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* TLS alert descriptions (RFC 5246 7.2, RFC 4279 2, RFC 5746, RFC 7627). */
enum dtls_alert {
	DTLS_ALERT_CLOSE_NOTIFY = 0,
	DTLS_ALERT_UNEXPECTED_MESSAGE = 10,
	DTLS_ALERT_BAD_RECORD_MAC = 20,
	DTLS_ALERT_RECORD_OVERFLOW = 22,
	DTLS_ALERT_HANDSHAKE_FAILURE = 40,
	DTLS_ALERT_BAD_CERTIFICATE = 42,
	DTLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
	DTLS_ALERT_CERTIFICATE_REVOKED = 44,
	DTLS_ALERT_CERTIFICATE_EXPIRED = 45,
	DTLS_ALERT_CERTIFICATE_UNKNOWN = 46,
	DTLS_ALERT_ILLEGAL_PARAMETER = 47,
	DTLS_ALERT_UNKNOWN_CA = 48,
	DTLS_ALERT_ACCESS_DENIED = 49,
	DTLS_ALERT_DECODE_ERROR = 50,
	DTLS_ALERT_DECRYPT_ERROR = 51,
	DTLS_ALERT_PROTOCOL_VERSION = 70,
	DTLS_ALERT_INSUFFICIENT_SECURITY = 71,
	DTLS_ALERT_INTERNAL_ERROR = 80,
	DTLS_ALERT_USER_CANCELED = 90,
	DTLS_ALERT_NO_RENEGOTIATION = 100,
	DTLS_ALERT_UNSUPPORTED_EXTENSION = 110,
	DTLS_ALERT_UNRECOGNIZED_NAME = 112,
	DTLS_ALERT_UNKNOWN_PSK_IDENTITY = 115,
	DTLS_ALERT_NONE = 255,
};

/* X(name, value, text, alert) */
#define DTLS_ERRORS(X) \
	X(DTLS_OK,                       0, "success", NONE) \
	X(DTLS_ERR_DECODE,              -1, "malformed message", DECODE_ERROR) \
	X(DTLS_ERR_NOMEM,               -2, "out of memory", INTERNAL_ERROR) \
	X(DTLS_ERR_BUFFER,              -3, "buffer too small", INTERNAL_ERROR) \
	X(DTLS_ERR_ARG,                 -4, "invalid argument", NONE) \
	X(DTLS_ERR_CRYPTO,              -5, "cryptographic library failure", INTERNAL_ERROR) \
	X(DTLS_ERR_INTERNAL,            -6, "internal error", INTERNAL_ERROR) \
	X(DTLS_ERR_BAD_RECORD_MAC,      -7, "record authentication failed", BAD_RECORD_MAC) \
	X(DTLS_ERR_REPLAY,              -8, "replayed or too old record", NONE) \
	X(DTLS_ERR_RECORD_OVERFLOW,     -9, "record too large", RECORD_OVERFLOW) \
	X(DTLS_ERR_EPOCH,              -10, "record from an unknown epoch", NONE) \
	X(DTLS_ERR_VERSION,            -11, "unsupported protocol version", PROTOCOL_VERSION) \
	X(DTLS_ERR_UNEXPECTED_MESSAGE, -12, "unexpected message", UNEXPECTED_MESSAGE) \
	X(DTLS_ERR_HANDSHAKE_FAILURE,  -13, "no acceptable security parameters", HANDSHAKE_FAILURE) \
	X(DTLS_ERR_ILLEGAL_PARAMETER,  -14, "illegal parameter", ILLEGAL_PARAMETER) \
	X(DTLS_ERR_DECRYPT_ERROR,      -15, "handshake verification failed", DECRYPT_ERROR) \
	X(DTLS_ERR_UNKNOWN_PSK_IDENTITY, -16, "unknown PSK identity", UNKNOWN_PSK_IDENTITY) \
	X(DTLS_ERR_INSUFFICIENT_SECURITY, -17, "insufficient security", INSUFFICIENT_SECURITY) \
	X(DTLS_ERR_BAD_CERTIFICATE,    -18, "bad certificate", BAD_CERTIFICATE) \
	X(DTLS_ERR_UNSUPPORTED_CERTIFICATE, -19, "unsupported certificate", UNSUPPORTED_CERTIFICATE) \
	X(DTLS_ERR_CERTIFICATE_EXPIRED, -20, "certificate expired or not yet valid", CERTIFICATE_EXPIRED) \
	X(DTLS_ERR_CERTIFICATE_REVOKED, -21, "certificate revoked", CERTIFICATE_REVOKED) \
	X(DTLS_ERR_CERTIFICATE_UNKNOWN, -22, "certificate not acceptable", CERTIFICATE_UNKNOWN) \
	X(DTLS_ERR_UNKNOWN_CA,         -23, "certificate not issued by a trusted CA", UNKNOWN_CA) \
	X(DTLS_ERR_ACCESS_DENIED,      -24, "peer identity not allowed", ACCESS_DENIED) \
	X(DTLS_ERR_NO_RENEGOTIATION,   -25, "renegotiation refused", NO_RENEGOTIATION) \
	X(DTLS_ERR_HANDSHAKE_TIMEOUT,  -26, "handshake timed out", NONE) \
	X(DTLS_ERR_PEER_ALERT,         -27, "peer sent a fatal alert", NONE) \
	X(DTLS_ERR_CLOSED,             -28, "session closed", NONE) \
	X(DTLS_ERR_CLOSE_FAIL,         -29, "peer did not answer close_notify", NONE) \
	X(DTLS_ERR_NOT_ESTABLISHED,    -30, "session not established", NONE) \
	X(DTLS_ERR_SESSION_LIMIT,      -31, "session limit reached", NONE) \
	X(DTLS_ERR_COOKIE,             -32, "missing or invalid cookie", NONE) \
	X(DTLS_ERR_FILE,               -33, "cannot read file", NONE) \
	X(DTLS_ERR_KEY_MISMATCH,       -34, "private key does not match certificate", NONE) \
	X(DTLS_ERR_MESSAGE_TOO_LARGE,  -35, "handshake message too large", HANDSHAKE_FAILURE) \
	X(DTLS_ERR_UNSUPPORTED,        -36, "not supported", HANDSHAKE_FAILURE) \
	X(DTLS_ERR_IN_PROGRESS,        -37, "operation in progress", NONE) \
	X(DTLS_ERR_UNSUPPORTED_EXTENSION, -38, "extension that was not offered", UNSUPPORTED_EXTENSION)

enum dtls_err {
#define DTLS_ERR_ENUM_(name, value, text, alert) name = (value),
	DTLS_ERRORS(DTLS_ERR_ENUM_)
#undef DTLS_ERR_ENUM_
};

/* The text of an error (or "unknown error"); never NULL. */
const char *dtls_strerror(int err);

/* The alert a fatal error sends, DTLS_ALERT_NONE when none. */
enum dtls_alert dtls_err_alert(int err);

/* The name of an alert description ("handshake_failure"), or "unknown". */
const char *dtls_alert_name(int alert);

#ifdef __cplusplus
}
#endif
#endif
