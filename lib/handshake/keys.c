/* Key schedule (RFC 5246 6.3, 8.1, RFC 7627): master secret, key block, Finished. */
#include <string.h>

#include "handshake/engine.h"

int keys_master_secret(struct dtls_session *s, const uint8_t *pms, size_t pms_len)
{
	struct hs *hs = s->hs;
	enum hash_alg alg = hs->suite->prf_hash;
	if (!hs->ems)
		return prf_master_secret(alg, pms, pms_len, hs->client_random, hs->server_random, hs->master);
	uint8_t session_hash[HASH_MAX_LEN];
	TRY(transcript_hash(hs, alg, session_hash));
	return prf_extended_master_secret(alg, pms, pms_len, session_hash, hash_len(alg), hs->master);
}

int keys_install(struct dtls_session *s, bool read)
{
	struct hs *hs = s->hs;
	const struct suite *su = hs->suite;
	uint8_t block[2 * (48 + 32 + 12)];
	size_t mac = su->mac_len, key = su->key_len, iv = su->fixed_iv_len;
	size_t total = 2 * (mac + key + iv);
	TRY(prf_key_block(su->prf_hash, hs->master, hs->client_random, hs->server_random, block, total));

	const uint8_t *client_mac = block, *server_mac = block + mac;
	const uint8_t *client_key = block + 2 * mac, *server_key = client_key + key;
	const uint8_t *client_iv = server_key + key, *server_iv = client_iv + iv;
	/* The client writes with the client keys; the server reads with them. */
	bool use_client = s->client != read;
	const uint8_t *k = use_client ? client_key : server_key;
	const uint8_t *v = use_client ? client_iv : server_iv;
	const uint8_t *m = use_client ? client_mac : server_mac;
	uint16_t epoch = (uint16_t)(hs->epoch + 1);
	int rc = read ? rec_read_install(&s->rec, epoch, su, k, iv ? v : NULL, mac ? m : NULL)
		      : rec_write_install(&s->rec, epoch, su, k, iv ? v : NULL, mac ? m : NULL);
	crypto_wipe(block, sizeof(block));
	return rc;
}

int keys_finished(struct dtls_session *s, bool client_side, uint8_t out[static 12])
{
	struct hs *hs = s->hs;
	enum hash_alg alg = hs->suite->prf_hash;
	uint8_t h[HASH_MAX_LEN];
	TRY(transcript_hash(hs, alg, h));
	return prf_verify_data(alg, hs->master, client_side, h, hash_len(alg), out);
}
