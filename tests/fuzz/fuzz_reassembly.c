/*
 * hs_parse_header and fragment reassembly, through a server session: every chunk is the
 * payload of one epoch-0 record (handshake fragments, several per record if the fuzzer
 * likes) that the harness wraps in a valid record header.
 *
 * Input: config(1) chunk*. config: bit 0 a small MTU and 2 KiB message limit, bit 1
 * certificates as well as PSK. A chunk's meta: bits 0-1 content type (0, 1 handshake,
 * 2 ChangeCipherSpec, 3 alert); bit 2 repeat the previous record sequence number (a
 * replay); bit 3 put the record in the same datagram as the previous one; bits 4-7:
 * first let that many seconds pass and run the timer.
 *
 * Oracles: no handshake completes and no data is delivered.
 */
#include <netinet/in.h>

#include "fuzz_engine.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_config *cfgs[4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (dtls_init() < 0)
		abort();
	for (unsigned i = 0; i < 4; i++)
		cfgs[i] = fuzz_config(true, FUZZ_CFG_PSK | FUZZ_CFG_NOCOOKIE | (i & 1 ? FUZZ_CFG_SMALL : 0) |
						    (i & 2 ? FUZZ_CFG_CERT | FUZZ_CFG_VERIFY : 0),
				      NULL);
	return 0;
}

static void on_send(void *arg, const uint8_t *d, size_t n)
{
	(void)arg;
	fuzz_touch(d, n);
}

static void on_data(void *arg, const uint8_t *d, size_t n)
{
	(void)arg, (void)d, (void)n;
	abort();
}

static void on_established(void *arg)
{
	(void)arg;
	abort();
}

static const struct dtls_callbacks cb = { .send = on_send, .data = on_data, .established = on_established };
static const uint8_t types[4] = { 22, 22, 20, 21 };
static uint8_t dgram[DTLS_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned which = data[0] & 3;
	data++, size--;
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(5000), .sin_addr = { htonl(0x7f000001) } };
	struct dtls_session *s = dtls_session_new_server(cfgs[which], &cb, NULL, (struct sockaddr *)&peer, sizeof(peer));
	if (!s)
		abort();

	uint64_t now = 1000, seq = 0;
	size_t used = 0;
	uint8_t meta;
	const uint8_t *chunk;
	size_t len;
	while (fuzz_chunk(&data, &size, &meta, &chunk, &len)) {
		if (len > REC_MAX_PLAINTEXT)
			len = REC_MAX_PLAINTEXT;
		if (used && (!(meta & 8) || used + REC_HEADER_LEN + len > sizeof(dgram))) {
			int rc = dtls_session_handle(s, dgram, used, ++now);
			(void)rc;
			used = 0;
		}
		if (meta >> 4) {
			now += (uint64_t)(meta >> 4) * 1000;
			if (dtls_session_next_timeout(s) <= now) {
				int rc = dtls_session_timeout(s, now);
				(void)rc;
			}
		}
		struct rec_header h = { .type = types[meta & 3], .version = DTLS_VERSION_1_2, .epoch = 0,
					.seq = (meta & 4) && seq ? seq - 1 : seq++, .length = (uint16_t)len };
		rec_write_header(dgram + used, &h);
		memcpy(dgram + used + REC_HEADER_LEN, chunk, len);
		used += REC_HEADER_LEN + len;
	}
	if (used) {
		int rc = dtls_session_handle(s, dgram, used, ++now);
		(void)rc;
	}
	dtls_session_free(s);
	return 0;
}
