#include <string.h>

#include "handshake/message.h"
#include "record/record.h"

int parse_server_hello(const uint8_t *body, size_t len, struct server_hello *sh)
{
	struct wire_reader r = wire_reader(body, len);
	memset(sh, 0, sizeof(*sh));
	sh->version = wire_u16(&r);
	wire_copy(&r, sh->random, HELLO_RANDOM_LEN);
	sh->session_id = wire_vec8(&r);
	sh->suite = wire_u16(&r);
	sh->compression = wire_u8(&r);
	TRY(wire_check(&r));
	ENSURE(wire_left(&sh->session_id) <= HELLO_MAX_SESSION_ID, DTLS_ERR_DECODE);
	return ext_parse(&r, &sh->ext);
}

void write_server_hello(struct wire_writer *w, const struct server_hello_params *p)
{
	wire_put_u16(w, DTLS_VERSION_1_2);
	wire_put_bytes(w, p->random, HELLO_RANDOM_LEN);
	wire_put_u8(w, 0); /* no session id: sessions are not resumable */
	wire_put_u16(w, p->suite);
	wire_put_u8(w, 0);

	if (!p->reneg && !p->ems && !p->point_formats)
		return; /* no extensions block at all */
	size_t exts = wire_open_vec(w, 2);
	if (p->reneg) {
		wire_put_u16(w, EXT_RENEGOTIATION_INFO);
		wire_put_u16(w, (uint16_t)(p->reneg_len + 1));
		wire_put_vec(w, 1, p->reneg, p->reneg_len);
	}
	if (p->ems) {
		wire_put_u16(w, EXT_EXTENDED_MASTER_SECRET);
		wire_put_u16(w, 0);
	}
	if (p->point_formats) {
		wire_put_u16(w, EXT_EC_POINT_FORMATS);
		wire_put_u16(w, 2);
		wire_put_u8(w, 1);
		wire_put_u8(w, 0);
	}
	wire_close_vec(w, exts, 2);
}
