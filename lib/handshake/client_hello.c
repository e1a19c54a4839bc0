#include <string.h>

#include "handshake/message.h"
#include "record/record.h"

int parse_client_hello(const uint8_t *body, size_t len, bool prefix_only, struct client_hello *ch)
{
	struct wire_reader r = wire_reader(body, len);
	memset(ch, 0, sizeof(*ch));
	ch->version = wire_u16(&r);
	wire_copy(&r, ch->random, HELLO_RANDOM_LEN);
	ch->session_id = wire_vec8(&r);
	ch->cookie_off = wire_offset(&r);
	ch->cookie = wire_vec8(&r);
	ch->cookie_end = wire_offset(&r);
	ENSURE(wire_left(&ch->session_id) <= HELLO_MAX_SESSION_ID, DTLS_ERR_DECODE);
	if (prefix_only)
		return wire_check(&r);
	ch->suites = wire_vec16(&r);
	ch->compressions = wire_vec8(&r);
	ch->params_end = wire_offset(&r);
	TRY(wire_check(&r));
	ENSURE(wire_left(&ch->suites) >= 2 && wire_left(&ch->suites) % 2 == 0, DTLS_ERR_DECODE);
	ENSURE(wire_left(&ch->compressions) >= 1, DTLS_ERR_DECODE);
	return ext_parse(&r, &ch->ext);
}

bool client_hello_offers_suite(const struct client_hello *ch, uint16_t suite)
{
	struct wire_reader r = ch->suites;
	while (wire_left(&r) >= 2)
		if (wire_u16(&r) == suite)
			return true;
	return false;
}

void write_client_hello(struct wire_writer *w, const struct client_hello_params *p)
{
	wire_put_u16(w, DTLS_VERSION_1_2);
	wire_put_bytes(w, p->random, HELLO_RANDOM_LEN);
	wire_put_u8(w, 0); /* no session id: no resumption */
	wire_put_vec(w, 1, p->cookie, p->cookie_len);

	size_t suites = wire_open_vec(w, 2);
	for (size_t i = 0; i < p->n_suites; i++)
		wire_put_u16(w, p->suites[i]);
	if (p->scsv)
		wire_put_u16(w, 0x00ff);
	wire_close_vec(w, suites, 2);
	wire_put_vec(w, 1, "", 1); /* compression: null only */

	size_t exts = wire_open_vec(w, 2);
	if (p->server_name) {
		size_t n = strlen(p->server_name);
		wire_put_u16(w, EXT_SERVER_NAME);
		wire_put_u16(w, (uint16_t)(n + 5));
		wire_put_u16(w, (uint16_t)(n + 3));
		wire_put_u8(w, 0);
		wire_put_vec(w, 2, p->server_name, n);
	}
	if (p->ecc) {
		wire_put_u16(w, EXT_SUPPORTED_GROUPS);
		wire_put_u16(w, (uint16_t)(2 + 2 * p->n_groups));
		wire_put_u16(w, (uint16_t)(2 * p->n_groups));
		for (size_t i = 0; i < p->n_groups; i++)
			wire_put_u16(w, p->groups[i]);
		wire_put_u16(w, EXT_EC_POINT_FORMATS);
		wire_put_u16(w, 2);
		wire_put_u8(w, 1);
		wire_put_u8(w, 0); /* uncompressed */
	}
	if (p->n_sigalgs) {
		wire_put_u16(w, EXT_SIGNATURE_ALGORITHMS);
		wire_put_u16(w, (uint16_t)(2 + 2 * p->n_sigalgs));
		wire_put_u16(w, (uint16_t)(2 * p->n_sigalgs));
		for (size_t i = 0; i < p->n_sigalgs; i++)
			wire_put_u16(w, p->sigalgs[i]);
	}
	if (p->ems) {
		wire_put_u16(w, EXT_EXTENDED_MASTER_SECRET);
		wire_put_u16(w, 0);
	}
	if (p->reneg) {
		wire_put_u16(w, EXT_RENEGOTIATION_INFO);
		wire_put_u16(w, (uint16_t)(p->reneg_len + 1));
		wire_put_vec(w, 1, p->reneg, p->reneg_len);
	}
	wire_close_vec(w, exts, 2);
}
