/*
 * The ClientHello area (lib/hello_area.c) and dtls_hello_classify(): datagrams from a
 * handful of senders, each fed to a small area (4 entries of 256 bytes, so eviction and
 * the size limit are reached), as the daemon does for senders without a session.
 *
 * Input: chunk* (fuzz.h framing). A chunk is one datagram; its meta: bits 0-2 the
 * sender's port (8 senders), bit 3 an IPv6 sender, bit 4 the cookie check on the
 * result as well.
 *
 * Oracles: a whole hello comes out as one record of one unfragmented ClientHello that
 * dtls_hello_classify() calls whole, no longer than the area takes; and the sanitizers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <dtls/dtls.h>

#include "fuzz.h"

#define MAX_HELLO 256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_cookie_jar *jar;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0 || !(jar = dtls_cookie_jar_new(1000, 60000)))
		abort();
	return 0;
}

static socklen_t sender(uint8_t meta, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (meta & 8) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)(4000 + (meta & 7)));
		s6->sin6_addr.s6_addr[15] = 1;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)(4000 + (meta & 7)));
	s4->sin_addr.s_addr = htonl(0xc0000201);
	return sizeof(*s4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls_hello_area *a = dtls_hello_area_new(4, MAX_HELLO);
	static uint8_t out[25 + MAX_HELLO], hvr[256];
	const uint8_t *chunk;
	size_t n, out_len, hvr_len;
	uint8_t meta, random[32];

	if (!a)
		abort();
	while (fuzz_chunk(&data, &size, &meta, &chunk, &n)) {
		struct sockaddr_storage ss;
		socklen_t sl = sender(meta, &ss);
		enum dtls_hello_kind kind = dtls_hello_classify(chunk, n, random);
		int rc = dtls_hello_area_add(a, (struct sockaddr *)&ss, sl, chunk, n, out, sizeof(out),
					     &out_len);
		(void)kind; /* any record of a datagram may hold a fragment, not only the first */
		if (rc != DTLS_OK)
			continue;
		if (out_len < 25 || out_len > sizeof(out) ||
		    dtls_hello_classify(out, out_len, random) != DTLS_HELLO_WHOLE ||
		    (size_t)(out[11] << 8 | out[12]) != out_len - 13)
			abort();
		if (meta & 16)
			(void)!dtls_cookie_check(jar, (struct sockaddr *)&ss, sl, out, out_len, hvr,
						 sizeof(hvr), &hvr_len);
	}
	dtls_hello_area_free(a);
	return 0;
}
