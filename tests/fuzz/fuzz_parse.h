/* Checks shared by the message-parser targets. */
#ifndef DTLS_FUZZ_PARSE_H
#define DTLS_FUZZ_PARSE_H

#include <stdlib.h>
#include <string.h>

#include <dtls/dtls.h>

#include "handshake/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A span a parser returned must lie inside the body it parsed. */
static inline void fuzz_span_in(const struct wire_reader *r, const uint8_t *body, size_t len)
{
	if (r->err)
		abort();
	if (r->len == 0)
		return;
	if (r->buf < body || r->buf + r->len > body + len || r->off > r->len)
		abort();
	/* Touch every byte, so that ASan sees a span past the input. */
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < r->len; i++)
		sink ^= r->buf[i];
	(void)sink;
}

static inline void fuzz_ext_in(const struct hello_ext *e, const uint8_t *body, size_t len)
{
	if (e->groups)
		fuzz_span_in(&e->group_list, body, len);
	if (e->sigalgs)
		fuzz_span_in(&e->sigalg_list, body, len);
	if (e->reneg_len > HELLO_MAX_RENEG)
		abort();
	if (memchr(e->server_name, 0, sizeof(e->server_name)) == NULL)
		abort();
}

#endif
