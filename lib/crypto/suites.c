/*
 * The ciphersuite table. Row order is the default preference: AES-GCM first (fastest on
 * CPUs with AES instructions), then ChaCha20-Poly1305, then CCM_8, then CBC-HMAC. Among
 * the AES-GCM PSK suites the forward-secret ECDHE_PSK ones (RFC 8442) come first, so that
 * two peers that both have them use them; OpenSSL 3.0 and GnuTLS 3.7 do not implement
 * them, and with those peers the plain PSK suites behind them are chosen.
 */
#include <strings.h>

#include "crypto/suites.h"

#define AEAD(cipher_, key_, fixed_, rec_, tag_, prf_) \
	.kind = CIPHER_KIND_AEAD, .cipher = (cipher_), .key_len = (key_), .fixed_iv_len = (fixed_), \
	.record_iv_len = (rec_), .tag_len = (tag_), .mac_len = 0, .mac_hash = (prf_), .prf_hash = (prf_)
#define GCM128 AEAD(CIPHER_AES_128_GCM, 16, 4, 8, 16, HASH_SHA256)
#define GCM256 AEAD(CIPHER_AES_256_GCM, 32, 4, 8, 16, HASH_SHA384)
#define CCM8 AEAD(CIPHER_AES_128_CCM_8, 16, 4, 8, 8, HASH_SHA256)
#define CHACHA AEAD(CIPHER_CHACHA20_POLY1305, 32, 12, 0, 16, HASH_SHA256)
#define CBC128(mac_, mac_len_) \
	.kind = CIPHER_KIND_CBC, .cipher = CIPHER_AES_128_CBC, .key_len = 16, .fixed_iv_len = 0, \
	.record_iv_len = 16, .tag_len = 0, .mac_len = (mac_len_), .mac_hash = (mac_), .prf_hash = HASH_SHA256

const struct suite suite_table[] = {
	/* RFC 8442: the ECDHE_PSK key exchange of RFC 5489; AES-GCM records as RFC 5288 says
	 * (4-byte implicit salt, 8-byte explicit nonce); the PRF hash of the suite's name. */
	{ 0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", KX_ECDHE_PSK, GCM128 },
	{ 0xD002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", KX_ECDHE_PSK, GCM256 },
	{ 0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", KX_PSK, GCM128 },
	{ 0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", KX_PSK, GCM256 },
	{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KX_ECDHE_ECDSA, GCM128 },
	{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KX_ECDHE_RSA, GCM128 },
	{ 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", KX_ECDHE_ECDSA, GCM256 },
	{ 0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", KX_ECDHE_PSK, CHACHA },
	{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KX_ECDHE_ECDSA, CHACHA },
	{ 0xC0A8, "TLS_PSK_WITH_AES_128_CCM_8", KX_PSK, CCM8 },
	{ 0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", KX_ECDHE_ECDSA, CCM8 },
	{ 0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", KX_ECDHE_PSK, CBC128(HASH_SHA256, 32) },
	{ 0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", KX_PSK, CBC128(HASH_SHA256, 32) },
	{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", KX_RSA, CBC128(HASH_SHA1, 20) },
};

const size_t suite_count = ARRAY_LEN(suite_table);

/* OpenSSL-style names, kept apart so struct suite stays as the other layers know it. */
static const struct {
	uint16_t id;
	const char *name;
} short_names[] = {
	{ 0xD001, "ECDHE-PSK-AES128-GCM-SHA256" },
	{ 0xD002, "ECDHE-PSK-AES256-GCM-SHA384" },
	{ 0x00A8, "PSK-AES128-GCM-SHA256" },
	{ 0x00A9, "PSK-AES256-GCM-SHA384" },
	{ 0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ 0xC02F, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ 0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ 0xCCAC, "ECDHE-PSK-CHACHA20-POLY1305" },
	{ 0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ 0xC0A8, "PSK-AES128-CCM8" },
	{ 0xC0AE, "ECDHE-ECDSA-AES128-CCM8" },
	{ 0xC037, "ECDHE-PSK-AES128-CBC-SHA256" },
	{ 0x00AE, "PSK-AES128-CBC-SHA256" },
	{ 0x002F, "AES128-SHA" },
};

_Static_assert(ARRAY_LEN(short_names) == ARRAY_LEN(suite_table), "a short name for every suite");

const struct suite *suite_by_id(uint16_t id)
{
	for (size_t i = 0; i < suite_count; i++)
		if (suite_table[i].id == id)
			return &suite_table[i];
	return NULL;
}

const char *suite_short_name(const struct suite *s)
{
	for (size_t i = 0; i < ARRAY_LEN(short_names); i++)
		if (short_names[i].id == s->id)
			return short_names[i].name;
	return s->name;
}

const struct suite *suite_by_name(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < suite_count; i++)
		if (strcasecmp(suite_table[i].name, name) == 0)
			return &suite_table[i];
	for (size_t i = 0; i < ARRAY_LEN(short_names); i++)
		if (strcasecmp(short_names[i].name, name) == 0)
			return suite_by_id(short_names[i].id);
	return NULL;
}

bool suite_is_recommended(const struct suite *s)
{
	return suite_is_ecdhe(s) && s->kind == CIPHER_KIND_AEAD && s->tag_len >= 16;
}

size_t suite_record_overhead(const struct suite *s)
{
	switch (s->kind) {
	case CIPHER_KIND_AEAD:
		return (size_t)s->record_iv_len + s->tag_len;
	case CIPHER_KIND_CBC:
		/* IV, MAC, then padding up to a full block including the length byte. */
		return 16 + (size_t)s->mac_len + 16;
	}
	return 0;
}
