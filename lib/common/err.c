#include <stddef.h>

#include <dtls/err.h>

#include "common/guard.h"

const char *dtls_strerror(int err)
{
	switch (err) {
#define TEXT_(name, value, text, alert) case (value): return (text);
		DTLS_ERRORS(TEXT_)
#undef TEXT_
	default:
		return "unknown error";
	}
}

enum dtls_alert dtls_err_alert(int err)
{
	switch (err) {
#define ALERT_(name, value, text, alert) case (value): return DTLS_ALERT_##alert;
		DTLS_ERRORS(ALERT_)
#undef ALERT_
	default:
		return DTLS_ALERT_INTERNAL_ERROR;
	}
}

static const struct {
	int alert;
	const char *name;
} alert_names[] = {
	{ DTLS_ALERT_CLOSE_NOTIFY, "close_notify" },
	{ DTLS_ALERT_UNEXPECTED_MESSAGE, "unexpected_message" },
	{ DTLS_ALERT_BAD_RECORD_MAC, "bad_record_mac" },
	{ DTLS_ALERT_RECORD_OVERFLOW, "record_overflow" },
	{ DTLS_ALERT_HANDSHAKE_FAILURE, "handshake_failure" },
	{ DTLS_ALERT_BAD_CERTIFICATE, "bad_certificate" },
	{ DTLS_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate" },
	{ DTLS_ALERT_CERTIFICATE_REVOKED, "certificate_revoked" },
	{ DTLS_ALERT_CERTIFICATE_EXPIRED, "certificate_expired" },
	{ DTLS_ALERT_CERTIFICATE_UNKNOWN, "certificate_unknown" },
	{ DTLS_ALERT_ILLEGAL_PARAMETER, "illegal_parameter" },
	{ DTLS_ALERT_UNKNOWN_CA, "unknown_ca" },
	{ DTLS_ALERT_ACCESS_DENIED, "access_denied" },
	{ DTLS_ALERT_DECODE_ERROR, "decode_error" },
	{ DTLS_ALERT_DECRYPT_ERROR, "decrypt_error" },
	{ DTLS_ALERT_PROTOCOL_VERSION, "protocol_version" },
	{ DTLS_ALERT_INSUFFICIENT_SECURITY, "insufficient_security" },
	{ DTLS_ALERT_INTERNAL_ERROR, "internal_error" },
	{ DTLS_ALERT_USER_CANCELED, "user_canceled" },
	{ DTLS_ALERT_NO_RENEGOTIATION, "no_renegotiation" },
	{ DTLS_ALERT_UNSUPPORTED_EXTENSION, "unsupported_extension" },
	{ DTLS_ALERT_UNRECOGNIZED_NAME, "unrecognized_name" },
	{ DTLS_ALERT_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity" },
};

const char *dtls_alert_name(int alert)
{
	for (size_t i = 0; i < ARRAY_LEN(alert_names); i++)
		if (alert_names[i].alert == alert)
			return alert_names[i].name;
	return "unknown";
}
