/*
 * daemon/control: the request parser with hostile input, replies, Prometheus
 * rendering, and the control server in process over a real Unix socket in a
 * temporary directory, driven by fake ops (no daemon). Credential tests fork
 * children that drop to uid 65534 and connect for real; they need root and are
 * skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/control/control.h"
#include "harness.h"

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse(const char *s, struct control_request *req, char *err, size_t errlen)
{
	return control_parse_request(s, strlen(s), req, err, errlen);
}

/* Parse s, expect -EINVAL and an error message containing want (if not NULL). */
static void expect_bad(const char *s, const char *want, int line)
{
	struct control_request req;
	char err[CONTROL_ERR_MAX];
	int rc = parse(s, &req, err, sizeof(err));
	if (rc != -EINVAL || (want && !strstr(err, want)))
		fprintf(stderr, "\n    line %d: %.80s -> rc %d, \"%s\" (want \"%s\")\n", line, s, rc,
			err, want ? want : "");
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT(err[0] != '\0');
	for (const char *c = err; *c; c++)
		CU_ASSERT(*c >= 0x20 && *c < 0x7f); /* safe to show and to send */
	if (want)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	/* a failed parse leaves the request empty */
	CU_ASSERT_EQUAL(req.n_kv, 0);
	CU_ASSERT_PTR_NULL(req.kv);
	control_request_clear(&req);
}
#define BAD(s, want) expect_bad((s), (want), __LINE__)

static void expect_good(const char *s, struct control_request *req, int line)
{
	char err[CONTROL_ERR_MAX];
	int rc = parse(s, req, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\n    line %d: %.80s -> rc %d, \"%s\"\n", line, s, rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}
#define GOOD(s, req) expect_good((s), (req), __LINE__)

/* ---- the parser -------------------------------------------------------------- */

static void test_parse_commands(void)
{
	struct control_request r;

	GOOD("{\"version\":1,\"command\":\"status\"}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_STATUS);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"status\",\"args\":{}}\n", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_STATUS);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"status\",\"args\":null}\r\n", &r);
	control_request_clear(&r);
	GOOD("  {\"command\":\"peers\" , \"version\" : 1 }  \n", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_PEERS);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"site-b.1_x\"}}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_PEER);
	CU_ASSERT_STRING_EQUAL(r.name, "site-b.1_x");
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"remove-peer\",\"args\":{\"name\":\"b\"}}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_REMOVE_PEER);
	CU_ASSERT_STRING_EQUAL(r.name, "b");
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"disconnect\",\"args\":{\"name\":\"b\"}}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_DISCONNECT);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"reload\"}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_RELOAD);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"stats\"}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_STATS);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"stats\",\"args\":{\"format\":\"prometheus\"}}", &r);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"debug\"}}", &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_LOG_LEVEL);
	CU_ASSERT_EQUAL(r.level, GW_LOG_DEBUG);
	control_request_clear(&r);
	GOOD("{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"error\"}}", &r);
	CU_ASSERT_EQUAL(r.level, GW_LOG_ERROR);
	control_request_clear(&r);

	GOOD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\",\"settings\":["
	     "[\"psk_identity\",\"gw c\"],[\"psk\",\"00112233445566778899aabbccddeeff\"],"
	     "[\"allowed_ips\",\"10.3.0.0/16\"],[\"allowed_ips\",\"fd00:3::/48\"],"
	     "[\"endpoint\",\"[2001:db8::1]:4433\"],[\"keepalive\",\"\"]]}}",
	     &r);
	CU_ASSERT_EQUAL(r.command, CONTROL_ADD_PEER);
	CU_ASSERT_STRING_EQUAL(r.name, "c");
	CU_ASSERT_EQUAL_FATAL(r.n_kv, 6);
	CU_ASSERT_STRING_EQUAL(r.kv[0].key, "psk_identity");
	CU_ASSERT_STRING_EQUAL(r.kv[0].value, "gw c");
	CU_ASSERT_STRING_EQUAL(r.kv[3].key, "allowed_ips");
	CU_ASSERT_STRING_EQUAL(r.kv[3].value, "fd00:3::/48");
	CU_ASSERT_STRING_EQUAL(r.kv[5].value, "");
	char *ini = NULL;
	CU_ASSERT_EQUAL(control_settings_ini(r.name, r.kv, r.n_kv, &ini), 0);
	CU_ASSERT_STRING_EQUAL(ini, "[peer c]\npsk_identity = gw c\n"
				    "psk = 00112233445566778899aabbccddeeff\n"
				    "allowed_ips = 10.3.0.0/16\nallowed_ips = fd00:3::/48\n"
				    "endpoint = [2001:db8::1]:4433\nkeepalive = \n");
	free(ini);
	control_request_clear(&r);
	CU_ASSERT_EQUAL(r.n_kv, 0);
	CU_ASSERT_PTR_NULL(r.kv);

	/* add-peer without settings: valid for the parser, the daemon decides */
	GOOD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\",\"settings\":[]}}", &r);
	CU_ASSERT_EQUAL(r.n_kv, 0);
	control_request_clear(&r);

	/* the command table */
	CU_ASSERT_STRING_EQUAL(control_command_name(CONTROL_ADD_PEER), "add-peer");
	CU_ASSERT_STRING_EQUAL(control_command_name((enum control_command)99), "?");
	CU_ASSERT_FALSE(control_command_mutates(CONTROL_STATUS));
	CU_ASSERT_FALSE(control_command_mutates(CONTROL_PEERS));
	CU_ASSERT_FALSE(control_command_mutates(CONTROL_PEER));
	CU_ASSERT_FALSE(control_command_mutates(CONTROL_STATS));
	CU_ASSERT_TRUE(control_command_mutates(CONTROL_ADD_PEER));
	CU_ASSERT_TRUE(control_command_mutates(CONTROL_REMOVE_PEER));
	CU_ASSERT_TRUE(control_command_mutates(CONTROL_DISCONNECT));
	CU_ASSERT_TRUE(control_command_mutates(CONTROL_RELOAD));
	CU_ASSERT_TRUE(control_command_mutates(CONTROL_LOG_LEVEL));
	CU_ASSERT_TRUE(control_command_mutates((enum control_command)99));
	enum gw_log_level lv;
	CU_ASSERT_EQUAL(control_log_level_parse("notice", &lv), 0);
	CU_ASSERT_EQUAL(lv, GW_LOG_NOTICE);
	CU_ASSERT_EQUAL(control_log_level_parse("NOTICE", &lv), -EINVAL);
	CU_ASSERT_STRING_EQUAL(control_log_level_name(GW_LOG_WARNING), "warning");
}

static void test_parse_malformed(void)
{
	BAD("", "empty");
	BAD("\n", "empty");
	BAD("\r\n", "empty");
	BAD(" ", NULL);
	BAD("{", "truncated");
	BAD("}", "malformed");
	BAD("[]", "not a JSON object");
	BAD("null", NULL);
	BAD("true", NULL);
	BAD("1", NULL);
	BAD("\"status\"", "not a JSON object");
	BAD("status", "malformed");
	BAD("{version:1,command:\"status\"}", "malformed");
	BAD("{'version':1,'command':'status'}", "malformed");
	BAD("{\"version\":1,\"command\":\"status\",}", "malformed");
	BAD("{\"version\":1 \"command\":\"status\"}", "malformed");
	BAD("{\"version\":1,\"command\":\"status\"}{}", "trailing");
	BAD("{\"version\":1,\"command\":\"status\"} x", "trailing");
	BAD("{\"version\":1,\"command\":\"status\"}\n{\"version\":1,\"command\":\"status\"}\n",
	    "more than one line");
	BAD("{\"version\":1,\"command\":\"status\"} /* c */", NULL);
	BAD("{\"version\":1,\"command\":\"stat\\us\"}", "malformed");
	BAD("{\"version\":01,\"command\":\"status\"}", NULL);
	BAD("{\"version\":1,\"command\":\"status\",\"args\":{\"x\":NaN}}", NULL);

	/* every truncation of a valid request fails cleanly */
	const char *full = "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
			   "\"settings\":[[\"psk\",\"00112233445566778899aabbccddeeff\"]]}}";
	for (size_t n = 0; n < strlen(full); n++) {
		struct control_request r;
		char err[CONTROL_ERR_MAX];
		CU_ASSERT_EQUAL(control_parse_request(full, n, &r, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NULL(r.kv);
		control_request_clear(&r);
	}
	struct control_request r;
	GOOD(full, &r);
	control_request_clear(&r);
}

static void test_parse_wrong_types(void)
{
	/* version */
	BAD("{\"command\":\"status\"}", "version missing");
	BAD("{\"version\":\"1\",\"command\":\"status\"}", "not an integer");
	BAD("{\"version\":1.0,\"command\":\"status\"}", "not an integer");
	BAD("{\"version\":true,\"command\":\"status\"}", "not an integer");
	BAD("{\"version\":null,\"command\":\"status\"}", "not an integer");
	BAD("{\"version\":[1],\"command\":\"status\"}", "not an integer");
	BAD("{\"version\":2,\"command\":\"status\"}", "unsupported protocol version 2");
	BAD("{\"version\":0,\"command\":\"status\"}", "unsupported");
	BAD("{\"version\":-1,\"command\":\"status\"}", "unsupported");
	BAD("{\"version\":4294967297,\"command\":\"status\"}", "unsupported");
	BAD("{\"version\":99999999999999999999999,\"command\":\"status\"}", NULL);
	BAD("{\"version\":1e400,\"command\":\"status\"}", NULL);
	/* command */
	BAD("{\"version\":1}", "command missing");
	BAD("{\"version\":1,\"command\":5}", "command: not a string");
	BAD("{\"version\":1,\"command\":null}", "not a string");
	BAD("{\"version\":1,\"command\":\"\"}", "unknown command");
	BAD("{\"version\":1,\"command\":\"STATUS\"}", "unknown command");
	BAD("{\"version\":1,\"command\":\"status \"}", "unknown command");
	BAD("{\"version\":1,\"command\":\"status\\u0000x\"}", "NUL");
	BAD("{\"version\":1,\"command\":\"shutdown\"}", "unknown command \"shutdown\"");
	/* members */
	BAD("{\"version\":1,\"command\":\"status\",\"id\":7}", "unknown member \"id\"");
	BAD("{\"version\":1,\"command\":\"status\",\"args\":[]}", "args: not an object");
	BAD("{\"version\":1,\"command\":\"status\",\"args\":\"name=a\"}", "args: not an object");
	BAD("{\"version\":1,\"command\":\"status\",\"args\":{\"name\":\"a\"}}",
	    "unknown argument \"name\"");
	BAD("{\"version\":1,\"command\":\"reload\",\"args\":{\"force\":true}}", "unknown argument");
	/* names */
	BAD("{\"version\":1,\"command\":\"peer\"}", "args.name missing");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{}}", "args.name missing");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":5}}", "not a string");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"\"}}", "not a valid peer name");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a b\"}}", "not a valid");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a/b\"}}", "not a valid");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a\\nb\"}}", "not a valid");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a\\u0000b\"}}", "NUL");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"\xc3\xa9\"}}", "not a valid");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":"
	    "\"abcdefghijabcdefghijabcdefghijabc\"}}",
	    "not a valid");
	struct control_request r;
	GOOD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":"
	     "\"abcdefghijabcdefghijabcdefghijab\"}}",
	     &r);
	CU_ASSERT_EQUAL(strlen(r.name), PEER_NAME_MAX);
	control_request_clear(&r);
	BAD("{\"version\":1,\"command\":\"disconnect\",\"args\":{\"name\":[\"a\"]}}", "not a string");
	/* log-level */
	BAD("{\"version\":1,\"command\":\"log-level\"}", "args.level missing");
	BAD("{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"verbose\"}}",
	    "unknown level \"verbose\"; use error, warning, notice, info or debug");
	BAD("{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":3}}", "not a string");
	BAD("{\"version\":1,\"command\":\"log-level\",\"args\":{\"name\":\"a\"}}", "unknown argument");
	/* stats */
	BAD("{\"version\":1,\"command\":\"stats\",\"args\":{\"format\":\"json\"}}", "only");
	/* add-peer settings */
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"settings\":[]}}", "args.name missing");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\",\"settings\":{}}}",
	    "not an array");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[\"psk=00\"]}}",
	    "not a [key, value] pair");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"psk\"]]}}",
	    "pair");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"psk\",\"a\",\"b\"]]}}",
	    "pair");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"psk\",1]]}}",
	    "not a string");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"PSK\",\"00\"]]}}",
	    "key not");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"\",\"00\"]]}}",
	    "key not");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"psk = 1\\npsk\",\"00\"]]}}",
	    "key not");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"endpoint\",\"x\\n[gateway]\"]]}}",
	    "control character");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"endpoint\",\"x\\r\"]]}}",
	    "control character");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"endpoint\",\"x\\u007f\"]]}}",
	    "control character");
	BAD("{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
	    "\"settings\":[[\"endpoint\",\"x\\u0000y\"]]}}",
	    "NUL");
}

static void test_parse_huge_and_deep(void)
{
	char err[CONTROL_ERR_MAX];
	struct control_request r;

	/* a line of exactly CONTROL_LINE_MAX bytes (padding spaces) is fine */
	const char *req = "{\"version\":1,\"command\":\"status\"}";
	char *buf = malloc(CONTROL_LINE_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memset(buf, ' ', CONTROL_LINE_MAX + 1);
	memcpy(buf, req, strlen(req));
	buf[CONTROL_LINE_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(control_parse_request(buf, CONTROL_LINE_MAX, &r, err, sizeof(err)), 0);
	control_request_clear(&r);
	/* one more byte is not */
	buf[CONTROL_LINE_MAX - 1] = ' ';
	buf[CONTROL_LINE_MAX] = '\n';
	CU_ASSERT_EQUAL(control_parse_request(buf, CONTROL_LINE_MAX + 1, &r, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than"));
	/* a length near SIZE_MAX is refused before anything is read */
	CU_ASSERT_EQUAL(control_parse_request(buf, (size_t)-1, &r, err, sizeof(err)), -EINVAL);
	free(buf);

	/* a long string value inside the limit, and too long a setting */
	size_t n = 5000;
	buf = malloc(n + 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	int off = sprintf(buf, "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
			       "\"settings\":[[\"endpoint\",\"");
	memset(buf + off, 'x', n);
	strcpy(buf + off + n, "\"]]}}");
	BAD(buf, "longer than 4096");
	free(buf);

	/* too many settings */
	buf = malloc(CONTROL_LINE_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	off = sprintf(buf, "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
			   "\"settings\":[");
	for (int i = 0; i < CONTROL_KV_MAX + 1; i++)
		off += sprintf(buf + off, "%s[\"allowed_ips\",\"10.%d.0.0/16\"]", i ? "," : "", i);
	strcpy(buf + off, "]}}");
	BAD(buf, "at most 64");
	/* exactly the maximum is fine */
	off = sprintf(buf, "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
			   "\"settings\":[");
	for (int i = 0; i < CONTROL_KV_MAX; i++)
		off += sprintf(buf + off, "%s[\"allowed_ips\",\"10.%d.0.0/16\"]", i ? "," : "", i);
	strcpy(buf + off, "]}}");
	GOOD(buf, &r);
	CU_ASSERT_EQUAL(r.n_kv, CONTROL_KV_MAX);
	control_request_clear(&r);

	/* deep nesting: arrays, objects, inside args; never a crash, never accepted */
	for (int depth = 5; depth <= 30000; depth *= 3) {
		char *p = buf;
		size_t cap = CONTROL_LINE_MAX;
		int w = snprintf(p, cap, "{\"version\":1,\"command\":\"status\",\"args\":{\"x\":");
		size_t len = (size_t)w;
		for (int i = 0; i < depth && len + 20 < cap / 2; i++)
			buf[len++] = '[';
		size_t opened = len - (size_t)w;
		for (size_t i = 0; i < opened; i++)
			buf[len++] = ']';
		buf[len++] = '}';
		buf[len++] = '}';
		buf[len] = '\0';
		CU_ASSERT_EQUAL(control_parse_request(buf, len, &r, err, sizeof(err)), -EINVAL);
		control_request_clear(&r);
	}
	memset(buf, '[', 40000);
	CU_ASSERT_EQUAL(control_parse_request(buf, 40000, &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nested deeper"));
	size_t len = 0;
	for (int i = 0; i < 10000; i++)
		len += (size_t)sprintf(buf + len, "{\"a\":");
	CU_ASSERT_EQUAL(control_parse_request(buf, len, &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nested deeper"));
	free(buf);
}

static void test_parse_hostile_bytes(void)
{
	struct control_request r;
	char err[CONTROL_ERR_MAX];
	static const char nul_line[] = "{\"version\":1,\0\"command\":\"status\"}";

	CU_ASSERT_EQUAL(control_parse_request(nul_line, sizeof(nul_line) - 1, &r, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	/* invalid UTF-8 in a string and in a key */
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"\xff\xfe\"}}", "malformed");
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"\xc0\xaf\":\"a\"}}", NULL);
	BAD("{\"version\":1,\"command\":\"peer\",\"\xc0\xaf\":\"a\"}", "unknown member \"??\"");
	BAD("{\"version\":1,\"command\":\"st\xe2\x82\"}", "malformed");
	/* escapes that decode to odd things */
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"\\ud800\"}}", NULL);
	BAD("{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"\\u002e\\u002e/x\"}}", NULL);
	BAD("{\"version\":1,\"command\":\"\\u0073tatus\",\"x\":\"\\u0000\"}", "unknown member");
	/* duplicate members: the last one counts; still validated */
	BAD("{\"version\":1,\"command\":\"status\",\"command\":\"nope\"}", "unknown command");

	/* errlen 0 and 1 are safe */
	CU_ASSERT_EQUAL(control_parse_request("x", 1, &r, NULL, 0), -EINVAL);
	err[0] = 'x';
	CU_ASSERT_EQUAL(control_parse_request("x", 1, &r, err, 1), -EINVAL);
	CU_ASSERT_EQUAL(err[0], '\0');
	char small[8];
	CU_ASSERT_EQUAL(control_parse_request("{\"version\":3}", 13, &r, small, sizeof(small)),
			-EINVAL);
	CU_ASSERT_EQUAL(strlen(small), sizeof(small) - 1);

	/* random bytes, and random mutations of a valid request: only 0 or -EINVAL */
	const char *seed = "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\","
			   "\"settings\":[[\"psk\",\"0011\"],[\"allowed_ips\",\"10.3.0.0/16\"]]}}";
	size_t seed_len = strlen(seed);
	uint64_t x = 0x9e3779b97f4a7c15u;
	char buf[512];
	int accepted = 0;
	for (int iter = 0; iter < 30000; iter++) {
		size_t len;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (iter % 2 == 0) {
			len = x % sizeof(buf);
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				buf[i] = (char)(x >> 24);
			}
		} else {
			memcpy(buf, seed, seed_len);
			len = seed_len;
			int flips = 1 + (int)(x % 4);
			for (int f = 0; f < flips; f++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				static const char interesting[] = "{}[]\",:\\0 \x00\xff\n";
				buf[(x >> 8) % len] = (x & 1) ? interesting[(x >> 20) % sizeof(interesting)]
							      : (char)(x >> 32);
			}
			if (x & 2)
				len = (x >> 40) % (len + 1);
		}
		int rc = control_parse_request(buf, len, &r, err, sizeof(err));
		CU_ASSERT(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			accepted++;
		else
			CU_ASSERT(strlen(err) < sizeof(err) && err[0]);
		control_request_clear(&r);
	}
	(void)accepted;
}

/* ---- replies ---------------------------------------------------------------- */

static struct json_object *parse_json(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
	json_tokener_free(tok);
	return o;
}

static void test_replies(void)
{
	char *line;
	size_t len;

	struct json_object *res = json_object_new_object();
	json_object_object_add(res, "text", json_object_new_string("a\nb/\"c\""));
	CU_ASSERT_EQUAL_FATAL(control_reply_ok(res, &line, &len), 0);
	CU_ASSERT_EQUAL(strlen(line), len);
	CU_ASSERT_EQUAL(line[len - 1], '\n');
	CU_ASSERT_PTR_NULL(memchr(line, '\n', len - 1)); /* one line */
	CU_ASSERT_STRING_EQUAL(line,
			       "{\"version\":1,\"ok\":true,\"result\":{\"text\":\"a\\nb/\\\"c\\\"\"}}\n");
	free(line);
	/* the caller's reference is untouched */
	CU_ASSERT_EQUAL(json_object_put(res), 1);

	CU_ASSERT_EQUAL_FATAL(control_reply_ok(NULL, &line, &len), 0);
	CU_ASSERT_STRING_EQUAL(line, "{\"version\":1,\"ok\":true,\"result\":null}\n");
	free(line);

	CU_ASSERT_EQUAL_FATAL(control_reply_error("peer x: no such peer\nsecond", &line, &len), 0);
	CU_ASSERT_STRING_EQUAL(line, "{\"version\":1,\"ok\":false,"
				     "\"error\":\"peer x: no such peer\\nsecond\"}\n");
	struct json_object *o = parse_json(line);
	CU_ASSERT_PTR_NOT_NULL(o);
	json_object_put(o);
	free(line);
}

/* ---- Prometheus ------------------------------------------------------------- */

static struct json_object *make_peer(const char *name, const char *state, int64_t rx_bytes,
				     bool handshaken)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "state", json_object_new_string(state));
	json_object_object_add(p, "endpoint", json_object_new_string("192.0.2.7:4433"));
	json_object_object_add(p, "suite",
			       json_object_new_string("TLS_PSK_WITH_AES_128_GCM_SHA256"));
	json_object_object_add(p, "identity", json_object_new_string(name));
	struct json_object *ips = json_object_new_array();
	json_object_array_add(ips, json_object_new_string("10.2.0.0/16"));
	json_object_object_add(p, "allowed_ips", ips);
	json_object_object_add(p, "last_handshake",
			       handshaken ? json_object_new_int64(1700000000) : NULL);
	json_object_object_add(p, "last_rx", handshaken ? json_object_new_int64(1700000100) : NULL);
	json_object_object_add(p, "rx_bytes", json_object_new_int64(rx_bytes));
	json_object_object_add(p, "tx_bytes", json_object_new_uint64(18446744073709551615u));
	json_object_object_add(p, "rx_packets", json_object_new_int64(3));
	json_object_object_add(p, "tx_packets", json_object_new_int64(4));
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "policy", json_object_new_int64(1));
	json_object_object_add(d, "replay", json_object_new_int64(2));
	json_object_object_add(d, "mac", json_object_new_int64(0));
	json_object_object_add(d, "oversize", json_object_new_int64(0));
	json_object_object_add(p, "drops", d);
	return p;
}

static struct json_object *make_status(int64_t n_peers)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "version", json_object_new_string("0.1.0"));
	json_object_object_add(s, "uptime_s", json_object_new_int64(3725));
	json_object_object_add(s, "listen", json_object_new_string("[::]:4433"));
	json_object_object_add(s, "tun", json_object_new_string("dtlsgw0"));
	json_object_object_add(s, "workers", json_object_new_int(2));
	json_object_object_add(s, "peers", json_object_new_int64(n_peers));
	json_object_object_add(s, "sessions", json_object_new_int(1));
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "rx_bytes", json_object_new_int64(1000));
	json_object_object_add(t, "tx_bytes", json_object_new_int64(2000));
	json_object_object_add(t, "rx_packets", json_object_new_int64(10));
	json_object_object_add(t, "tx_packets", json_object_new_int64(20));
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "policy", json_object_new_int64(5));
	json_object_object_add(d, "no_session", json_object_new_int64(6));
	json_object_object_add(t, "drops", d);
	json_object_object_add(s, "totals", t);
	return s;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_prometheus(void)
{
	struct json_object *status = make_status(2);
	struct json_object *peers = json_object_new_array();
	json_object_array_add(peers, make_peer("a", "up", 123, true));
	json_object_array_add(peers, make_peer("we\"ird\\", "handshaking", 0, false));
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(control_prometheus_render(status, peers, &text), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE dtlsgw_info gauge\n"
					    "dtlsgw_info{version=\"0.1.0\",listen=\"[::]:4433\","
					    "tun=\"dtlsgw0\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE dtlsgw_uptime_seconds gauge\n"
					    "dtlsgw_uptime_seconds 3725\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ndtlsgw_peers 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ndtlsgw_workers 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE dtlsgw_rx_bytes_total counter\n"
					    "dtlsgw_rx_bytes_total 1000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_drops_total{reason=\"no_session\"} 6\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# HELP dtlsgw_peer_rx_bytes_total "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE dtlsgw_peer_rx_bytes_total counter\n"
					    "dtlsgw_peer_rx_bytes_total{peer=\"a\"} 123\n"
					    "dtlsgw_peer_rx_bytes_total{peer=\"we\\\"ird\\\\\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "dtlsgw_peer_tx_bytes_total{peer=\"a\"} 18446744073709551615\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_up{peer=\"a\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_up{peer=\"we\\\"ird\\\\\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_state{peer=\"a\",state=\"up\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_state{peer=\"a\",state=\"dead\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "dtlsgw_peer_state{peer=\"we\\\"ird\\\\\",state=\"handshaking\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "dtlsgw_peer_drops_total{peer=\"a\",reason=\"replay\"} 2\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "dtlsgw_peer_last_handshake_seconds{peer=\"a\"} 1700000000\n"));
	/* null times are left out */
	CU_ASSERT_PTR_NULL(strstr(text, "dtlsgw_peer_last_handshake_seconds{peer=\"we"));
	/* each family is announced once, and every line is a comment or a sample */
	CU_ASSERT_EQUAL(count(text, "# TYPE dtlsgw_peer_up "), 1);
	CU_ASSERT_EQUAL(count(text, "# HELP dtlsgw_peer_state "), 1);
	CU_ASSERT_EQUAL(count(text, "# TYPE dtlsgw_peer_drops_total "), 1);
	CU_ASSERT_EQUAL(text[strlen(text) - 1], '\n');
	for (char *l = text; *l; l = strchr(l, '\n') + 1) {
		CU_ASSERT(l[0] == '#' || strncmp(l, "dtlsgw_", 7) == 0);
		char *end = strchr(l, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		if (l[0] != '#') {
			char *sp = end;
			while (sp > l && sp[-1] != ' ')
				sp--;
			CU_ASSERT(sp > l && sp < end); /* "... value" */
		}
	}
	free(text);

	/* missing parts and wrong types: skipped, never a crash */
	CU_ASSERT_EQUAL(control_prometheus_render(NULL, NULL, &text), 0);
	CU_ASSERT_STRING_EQUAL(text, "");
	free(text);
	struct json_object *junk = json_object_new_array();
	json_object_array_add(junk, json_object_new_int(5));
	json_object_array_add(junk, NULL);
	json_object_array_add(junk, json_object_new_object());
	struct json_object *odd = json_object_new_object();
	json_object_object_add(odd, "name", json_object_new_string("z"));
	json_object_object_add(odd, "rx_bytes", json_object_new_string("12"));
	json_object_object_add(odd, "drops", json_object_new_array());
	json_object_array_add(junk, odd);
	struct json_object *str = json_object_new_string("status?");
	CU_ASSERT_EQUAL(control_prometheus_render(str, junk, &text), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_info{version=\"\",listen=\"\",tun=\"\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_up{peer=\"z\"} 0\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "dtlsgw_peer_rx_bytes_total{peer=\"z\"}"));
	free(text);
	json_object_put(str);
	json_object_put(junk);
	json_object_put(status);
	json_object_put(peers);
}

/* ---- a fake daemon ------------------------------------------------------------ */

struct fake {
	struct json_object *peers; /* array */
	enum gw_log_level level;
	int reloads, disconnects;
	char last_disconnect[PEER_NAME_MAX + 1];
	int warnings;
	char last_log[512];
	bool fail_status;
};

static struct json_object *fake_find(struct fake *f, const char *name, size_t *idx)
{
	size_t n = json_object_array_length(f->peers);
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(f->peers, i), *v;
		json_object_object_get_ex(p, "name", &v);
		if (strcmp(json_object_get_string(v), name) == 0) {
			if (idx)
				*idx = i;
			return p;
		}
	}
	return NULL;
}

static int fake_status(void *arg, struct json_object **result, char *err, size_t errlen)
{
	struct fake *f = arg;
	if (f->fail_status) {
		snprintf(err, errlen, "status: the fake is unwell");
		return -1;
	}
	*result = make_status((int64_t)json_object_array_length(f->peers));
	return 0;
}

static int fake_peers(void *arg, struct json_object **result, char *err, size_t errlen)
{
	struct fake *f = arg;
	(void)err, (void)errlen;
	*result = json_object_get(f->peers);
	return 0;
}

static int fake_peer(void *arg, const char *name, struct json_object **result, char *err,
		     size_t errlen)
{
	struct json_object *p = fake_find(arg, name, NULL);
	if (!p) {
		snprintf(err, errlen, "peer %s: no such peer", name);
		return -1;
	}
	*result = json_object_get(p);
	return 0;
}

static int fake_add_peer(void *arg, const char *name, const struct control_kv *kv, size_t n_kv,
			 struct json_object **result, char *err, size_t errlen)
{
	struct fake *f = arg;
	bool ips = false;
	if (fake_find(f, name, NULL)) {
		snprintf(err, errlen, "peer %s: exists", name);
		return -1;
	}
	for (size_t i = 0; i < n_kv; i++)
		ips |= strcmp(kv[i].key, "allowed_ips") == 0;
	if (!ips) {
		snprintf(err, errlen, "[peer %s]: no allowed_ips; a peer needs at least one prefix",
			 name);
		return -1;
	}
	struct json_object *p = make_peer(name, "connecting", 0, false);
	json_object_array_add(f->peers, p);
	*result = json_object_get(p);
	return 0;
}

static int fake_remove_peer(void *arg, const char *name, struct json_object **result, char *err,
			    size_t errlen)
{
	struct fake *f = arg;
	size_t idx;
	(void)result;
	if (!fake_find(f, name, &idx)) {
		snprintf(err, errlen, "peer %s: no such peer", name);
		return -1;
	}
	json_object_array_del_idx(f->peers, idx, 1);
	return 0;
}

static int fake_disconnect(void *arg, const char *name, struct json_object **result, char *err,
			   size_t errlen)
{
	struct fake *f = arg;
	(void)result, (void)err, (void)errlen;
	f->disconnects++;
	snprintf(f->last_disconnect, sizeof(f->last_disconnect), "%s", name);
	return 0;
}

static int fake_reload(void *arg, struct json_object **result, char *err, size_t errlen)
{
	struct fake *f = arg;
	(void)err, (void)errlen;
	f->reloads++;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "added", json_object_new_array());
	*result = r;
	return 0;
}

static int fake_log_level(void *arg, enum gw_log_level level, struct json_object **result,
			  char *err, size_t errlen)
{
	struct fake *f = arg;
	(void)err, (void)errlen;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "level", json_object_new_string(control_log_level_name(level)));
	json_object_object_add(r, "previous",
			       json_object_new_string(control_log_level_name(f->level)));
	f->level = level;
	*result = r;
	return 0;
}

static int fake_stats(void *arg, char **text, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	*text = strdup("# fake\nfake_metric 1\n");
	return 0;
}

static void fake_log(void *arg, enum gw_log_level level, const char *msg)
{
	struct fake *f = arg;
	if (level <= GW_LOG_WARNING)
		f->warnings++;
	snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
}

static const struct control_ops fake_ops = {
	.status = fake_status,
	.peers = fake_peers,
	.peer = fake_peer,
	.add_peer = fake_add_peer,
	.remove_peer = fake_remove_peer,
	.disconnect = fake_disconnect,
	.reload = fake_reload,
	.log_level = fake_log_level,
	.log = fake_log,
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->level = GW_LOG_INFO;
	f->peers = json_object_new_array();
	json_object_array_add(f->peers, make_peer("a", "up", 123, true));
	json_object_array_add(f->peers, make_peer("b", "dead", 0, false));
}

static void fake_free(struct fake *f)
{
	json_object_put(f->peers);
}

/* ---- a test server in a temporary directory ---------------------------------- */

struct srv {
	char dir[64];
	char path[100];
	struct control *ctl;
	struct fake fake;
};

static void srv_dir(struct srv *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_control.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(s->dir));
	CU_ASSERT_EQUAL(chmod(s->dir, 0755), 0); /* the setuid children must get in */
	/* one level below: control_open makes it */
	snprintf(s->path, sizeof(s->path), "%s/run/control.sock", s->dir);
}

static void srv_start(struct srv *s, const struct control_options *opt,
		      const struct control_ops *ops)
{
	char err[256];
	srv_dir(s);
	fake_init(&s->fake);
	int rc = control_open(s->path, opt, ops ? ops : &fake_ops, &s->fake, &s->ctl, err,
			      sizeof(err));
	if (rc)
		fprintf(stderr, "\n    control_open: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

static void srv_stop(struct srv *s)
{
	char run[160];
	control_close(s->ctl);
	CU_ASSERT_EQUAL(access(s->path, F_OK), -1); /* the socket file is gone */
	snprintf(run, sizeof(run), "%s/run", s->dir);
	rmdir(run);
	rmdir(s->dir);
	fake_free(&s->fake);
}

/* Let the server work for up to ms (less if stop() says so). */
static void pump(struct srv *s, int ms, bool (*stop)(void *), void *arg)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	while (!(stop && stop(arg))) {
		uint64_t now = mono_ms();
		if (now >= end)
			break;
		struct pollfd p = { .fd = control_fd(s->ctl), .events = POLLIN };
		int n = poll(&p, 1, (int)(end - now < 20 ? end - now : 20));
		if (n > 0)
			control_handle(s->ctl, mono_ms());
	}
}

static int client(struct srv *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Send all of buf, letting the server read meanwhile. -1 if the server closed. */
static int client_send(struct srv *s, int fd, const char *buf, size_t len)
{
	size_t off = 0;
	uint64_t end = mono_ms() + 5000;
	while (off < len && mono_ms() < end) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			pump(s, 10, NULL, NULL);
		else
			return -1;
	}
	return off == len ? 0 : -1;
}

struct reader {
	int fd;
	char buf[1 << 20];
	size_t len;
	bool eof;
};

static bool reader_step(void *arg)
{
	struct reader *r = arg;
	while (!r->eof && r->len < sizeof(r->buf)) {
		ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
		if (n > 0)
			r->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			r->eof = true; /* EOF or ECONNRESET */
		else
			break;
	}
	return r->eof || memchr(r->buf, '\n', r->len) != NULL;
}

/* Read one reply line (NUL-terminated, newline removed) into line; false on EOF/timeout. */
static bool client_line(struct srv *s, int fd, char *line, size_t cap)
{
	static struct reader r;
	r.fd = fd;
	r.len = 0;
	r.eof = false;
	pump(s, 5000, reader_step, &r);
	reader_step(&r);
	char *nl = memchr(r.buf, '\n', r.len);
	if (!nl)
		return false;
	size_t n = (size_t)(nl - r.buf);
	CU_ASSERT_FATAL(n < cap);
	memcpy(line, r.buf, n);
	line[n] = '\0';
	/* our clients never have more than one reply outstanding */
	CU_ASSERT_EQUAL(r.len, n + 1);
	return true;
}

static bool eof_step(void *arg)
{
	int fd = *(int *)arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Whether the server closes fd within ms. */
static bool client_closed(struct srv *s, int fd, int ms)
{
	pump(s, ms, eof_step, &fd);
	return eof_step(&fd);
}

/* One request, one reply, parsed; the caller puts it. */
static struct json_object *call(struct srv *s, int fd, const char *req)
{
	char line[1 << 16];
	size_t len = strlen(req);
	CU_ASSERT_EQUAL_FATAL(client_send(s, fd, req, len), 0);
	if (req[len - 1] != '\n')
		CU_ASSERT_EQUAL_FATAL(client_send(s, fd, "\n", 1), 0);
	CU_ASSERT_FATAL(client_line(s, fd, line, sizeof(line)));
	struct json_object *o = parse_json(line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	struct json_object *v;
	CU_ASSERT(json_object_object_get_ex(o, "version", &v) && json_object_get_int(v) == 1);
	CU_ASSERT(json_object_object_get_ex(o, "ok", &v) &&
		  json_object_is_type(v, json_type_boolean));
	return o;
}

static bool reply_ok(struct json_object *o)
{
	struct json_object *v;
	return json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
}

static const char *reply_error(struct json_object *o)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, "error", &v))
		return "";
	return json_object_get_string(v);
}

static struct json_object *reply_result(struct json_object *o)
{
	struct json_object *v = NULL;
	json_object_object_get_ex(o, "result", &v);
	return v;
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* ---- the server ---------------------------------------------------------------- */

static void test_server_commands(void)
{
	struct srv s;
	srv_start(&s, NULL, NULL);
	int fd = client(&s);
	struct json_object *o;

	o = call(&s, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "tun"), "dtlsgw0");
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"peers\"}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_EQUAL(json_object_array_length(reply_result(o)), 2);
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "state"), "up");
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"zz\"}}");
	CU_ASSERT_FALSE(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(reply_error(o), "peer zz: no such peer");
	json_object_put(o);

	o = call(&s, fd,
		 "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"c\",\"settings\":"
		 "[[\"psk_identity\",\"c\"],[\"allowed_ips\",\"10.3.0.0/16\"]]}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "name"), "c");
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "state"), "connecting");
	json_object_put(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, "control: add-peer c by uid 0"));

	o = call(&s, fd,
		 "{\"version\":1,\"command\":\"add-peer\",\"args\":{\"name\":\"d\",\"settings\":"
		 "[[\"psk_identity\",\"d\"]]}}");
	CU_ASSERT_FALSE(reply_ok(o));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply_error(o), "no allowed_ips"));
	json_object_put(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, "add-peer d by uid 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, "failed: [peer d]: no allowed_ips"));

	o = call(&s, fd, "{\"version\":1,\"command\":\"peers\"}");
	CU_ASSERT_EQUAL(json_object_array_length(reply_result(o)), 3);
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"remove-peer\",\"args\":{\"name\":\"c\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT(json_object_is_type(reply_result(o), json_type_null));
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"remove-peer\",\"args\":{\"name\":\"c\"}}");
	CU_ASSERT_FALSE(reply_ok(o));
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"disconnect\",\"args\":{\"name\":\"a\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_EQUAL(s.fake.disconnects, 1);
	CU_ASSERT_STRING_EQUAL(s.fake.last_disconnect, "a");
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"reload\"}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_EQUAL(s.fake.reloads, 1);
	json_object_put(o);

	o = call(&s, fd, "{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"debug\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "previous"), "info");
	CU_ASSERT_EQUAL(s.fake.level, GW_LOG_DEBUG);
	json_object_put(o);

	/* stats without a stats op: rendered from status and peers */
	o = call(&s, fd, "{\"version\":1,\"command\":\"stats\",\"args\":{\"format\":\"prometheus\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "format"), "prometheus");
	const char *text = str_member(reply_result(o), "text");
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peer_rx_bytes_total{peer=\"a\"} 123\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "dtlsgw_peers 2\n"));
	json_object_put(o);

	/* an op's failure is the reply's error */
	s.fake.fail_status = true;
	o = call(&s, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT_FALSE(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(reply_error(o), "status: the fake is unwell");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"stats\"}");
	CU_ASSERT_FALSE(reply_ok(o));
	json_object_put(o);
	s.fake.fail_status = false;

	/* bad requests get an error and the connection stays usable */
	o = call(&s, fd, "hello");
	CU_ASSERT_FALSE(reply_ok(o));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply_error(o), "malformed JSON"));
	json_object_put(o);
	o = call(&s, fd, "{\"version\":7,\"command\":\"status\"}");
	CU_ASSERT_STRING_EQUAL(reply_error(o), "unsupported protocol version 7 (this daemon speaks 1)");
	json_object_put(o);
	o = call(&s, fd, "\r\n");
	CU_ASSERT_STRING_EQUAL(reply_error(o), "empty request");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);

	/* pipelined requests are answered in order */
	const char *three = "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a\"}}\n"
			    "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"b\"}}\n"
			    "{\"version\":1,\"command\":\"nope\"}\n";
	CU_ASSERT_EQUAL(client_send(&s, fd, three, strlen(three)), 0);
	struct reader *r = calloc(1, sizeof(*r));
	r->fd = fd;
	uint64_t end = mono_ms() + 5000;
	while (count(r->buf, "\n") < 3 && mono_ms() < end) {
		pump(&s, 20, NULL, NULL);
		reader_step(r);
		r->buf[r->len < sizeof(r->buf) ? r->len : sizeof(r->buf) - 1] = '\0';
	}
	CU_ASSERT_EQUAL(count(r->buf, "\n"), 3);
	char *l2 = strchr(r->buf, '\n') + 1;
	char *l3 = strchr(l2, '\n') + 1;
	CU_ASSERT(strstr(r->buf, "\"name\":\"a\"") && strstr(r->buf, "\"name\":\"a\"") < l2);
	CU_ASSERT(strstr(l2, "\"name\":\"b\"") && strstr(l2, "\"name\":\"b\"") < l3);
	CU_ASSERT_PTR_NOT_NULL(strstr(l3, "unknown command"));
	free(r);

	/* a last request without newline, then end of input: answered, then closed */
	const char *last = "{\"version\":1,\"command\":\"status\"}";
	CU_ASSERT_EQUAL(client_send(&s, fd, last, strlen(last)), 0);
	shutdown(fd, SHUT_WR);
	char line[1 << 16];
	CU_ASSERT(client_line(&s, fd, line, sizeof(line)));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"ok\":true"));
	CU_ASSERT(client_closed(&s, fd, 2000));
	close(fd);
	pump(&s, 50, NULL, NULL);
	CU_ASSERT_EQUAL(control_connections(s.ctl), 0);
	srv_stop(&s);
}

/* No peer op, a stats op, and ops left NULL. */
static void test_server_optional_ops(void)
{
	struct control_ops ops = { .status = fake_status, .peers = fake_peers,
				   .stats_prometheus = fake_stats };
	struct srv s;
	srv_start(&s, NULL, &ops);
	int fd = client(&s);
	struct json_object *o;

	o = call(&s, fd, "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"b\"}}");
	CU_ASSERT(reply_ok(o));
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "state"), "dead");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"q\"}}");
	CU_ASSERT_STRING_EQUAL(reply_error(o), "peer q: no such peer");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"stats\"}");
	CU_ASSERT_STRING_EQUAL(str_member(reply_result(o), "text"), "# fake\nfake_metric 1\n");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"reload\"}");
	CU_ASSERT_STRING_EQUAL(reply_error(o), "reload: not supported by this daemon");
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"info\"}}");
	CU_ASSERT_STRING_EQUAL(reply_error(o), "log-level: not supported by this daemon");
	json_object_put(o);
	close(fd);
	srv_stop(&s);

	/* a result bigger than max_reply becomes an error */
	struct control_options opt = { .max_reply = 300 };
	srv_start(&s, &opt, NULL);
	fd = client(&s);
	o = call(&s, fd, "{\"version\":1,\"command\":\"peers\"}");
	CU_ASSERT_FALSE(reply_ok(o));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply_error(o), "reply too large"));
	json_object_put(o);
	o = call(&s, fd, "{\"version\":1,\"command\":\"disconnect\",\"args\":{\"name\":\"a\"}}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(fd);
	srv_stop(&s);
}

static void test_server_oversized(void)
{
	struct srv s;
	srv_start(&s, NULL, NULL);
	char line[1 << 16];

	/* exactly CONTROL_LINE_MAX bytes with the newline: answered */
	int fd = client(&s);
	char *big = malloc(CONTROL_LINE_MAX + 4096);
	const char *req = "{\"version\":1,\"command\":\"status\"}";
	memset(big, ' ', CONTROL_LINE_MAX + 4096);
	memcpy(big, req, strlen(req));
	big[CONTROL_LINE_MAX - 1] = '\n';
	CU_ASSERT_EQUAL(client_send(&s, fd, big, CONTROL_LINE_MAX), 0);
	CU_ASSERT(client_line(&s, fd, line, sizeof(line)));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"ok\":true"));
	close(fd);

	/* one byte more: an error, then the server closes */
	fd = client(&s);
	big[CONTROL_LINE_MAX - 1] = ' ';
	for (size_t i = 0; i < CONTROL_LINE_MAX + 4096; i += 97)
		big[i] = 'x'; /* and garbage at that */
	(void)client_send(&s, fd, big, CONTROL_LINE_MAX + 4096); /* may fail once closed */
	CU_ASSERT(client_line(&s, fd, line, sizeof(line)));
	CU_ASSERT_STRING_EQUAL(line, "{\"version\":1,\"ok\":false,"
				     "\"error\":\"request longer than 65536 bytes\"}");
	CU_ASSERT(client_closed(&s, fd, 2000));
	close(fd);
	free(big);

	/* hostile bytes (NULs, invalid UTF-8, deep nesting) over the socket */
	fd = client(&s);
	static const char junk[] = "\0\0\0\n\xff\xfe{\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
				   "{\"version\":1,\"command\":\"\xc3\x28\"}\n";
	CU_ASSERT_EQUAL(client_send(&s, fd, junk, sizeof(junk) - 1), 0);
	struct reader *r = calloc(1, sizeof(*r));
	r->fd = fd;
	uint64_t end = mono_ms() + 5000;
	while (count(r->buf, "\n") < 4 && mono_ms() < end) {
		pump(&s, 20, NULL, NULL);
		reader_step(r);
		r->buf[r->len < sizeof(r->buf) ? r->len : sizeof(r->buf) - 1] = '\0';
	}
	CU_ASSERT_EQUAL(count(r->buf, "\"ok\":false"), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->buf, "NUL byte"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->buf, "nested deeper"));
	free(r);
	struct json_object *o = call(&s, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(fd);
	srv_stop(&s);
}

static void test_server_idle(void)
{
	struct control_options opt = { .idle_timeout_ms = 400 };
	struct srv s;
	srv_start(&s, &opt, NULL);

	int silent = client(&s);
	int slow = client(&s);
	pump(&s, 30, NULL, NULL);
	CU_ASSERT_EQUAL(control_connections(s.ctl), 2);
	uint64_t t0 = mono_ms();

	/* another client is served while they hang around; the slow one trickles
	 * a byte every 50 ms but never finishes a line */
	int busy = client(&s);
	struct json_object *o = call(&s, busy, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(busy);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(send(slow, "{", 1, MSG_NOSIGNAL), 1);
		pump(&s, 50, NULL, NULL);
	}
	/* not before the timeout */
	CU_ASSERT(mono_ms() - t0 < 400);
	CU_ASSERT_FALSE(client_closed(&s, silent, 0));
	CU_ASSERT_EQUAL(control_connections(s.ctl), 2);

	/* both gone after it, without any traffic to wake the server but its timer */
	CU_ASSERT(client_closed(&s, silent, 2000));
	uint64_t dt = mono_ms() - t0;
	CU_ASSERT(dt >= 350 && dt < 1500);
	(void)send(slow, "{", 1, MSG_NOSIGNAL);
	CU_ASSERT(client_closed(&s, slow, 2000));
	CU_ASSERT_EQUAL(control_connections(s.ctl), 0);
	close(silent);
	close(slow);

	/* a client that is answered in time may go on */
	int ok = client(&s);
	for (int i = 0; i < 4; i++) {
		pump(&s, 200, NULL, NULL);
		o = call(&s, ok, "{\"version\":1,\"command\":\"status\"}");
		CU_ASSERT(reply_ok(o));
		json_object_put(o);
	}
	close(ok);
	srv_stop(&s);
}

static void test_server_max_conns(void)
{
	struct control_options opt = { .max_conns = 4 };
	struct srv s;
	srv_start(&s, &opt, NULL);
	int fds[4];
	char line[1024];

	for (int i = 0; i < 4; i++)
		fds[i] = client(&s);
	pump(&s, 50, NULL, NULL);
	CU_ASSERT_EQUAL(control_connections(s.ctl), 4);

	int extra = client(&s);
	CU_ASSERT(client_line(&s, extra, line, sizeof(line)));
	CU_ASSERT_STRING_EQUAL(line, "{\"version\":1,\"ok\":false,\"error\":\"too many connections\"}");
	CU_ASSERT(client_closed(&s, extra, 2000));
	close(extra);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, "too many connections"));
	CU_ASSERT_EQUAL(control_connections(s.ctl), 4);

	/* the four are still served; after one leaves, a new one gets in */
	struct json_object *o = call(&s, fds[3], "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(fds[0]);
	pump(&s, 50, NULL, NULL);
	CU_ASSERT_EQUAL(control_connections(s.ctl), 3);
	int again = client(&s);
	o = call(&s, again, "{\"version\":1,\"command\":\"peers\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(again);
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	srv_stop(&s);
}

static void test_socket_file(void)
{
	struct srv s, s2;
	struct control *other = NULL;
	char err[256];
	struct stat st;

	/* the default mode; the group of the options (daemon, gid 1, if it exists) */
	struct group *gr = getgrgid(1);
	struct control_options opt = { .group = gr ? gr->gr_name : "" };
	mode_t old_umask = umask(077);
	srv_start(&s, &opt, NULL);
	umask(old_umask);
	CU_ASSERT_EQUAL_FATAL(stat(s.path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	if (gr && geteuid() == 0)
		CU_ASSERT_EQUAL(st.st_gid, 1);
	/* the directory it made is open to the group whatever the umask */
	char run_dir[160];
	snprintf(run_dir, sizeof(run_dir), "%s/run", s.dir);
	CU_ASSERT_EQUAL(stat(run_dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);

	/* a running server is not displaced */
	int rc = control_open(s.path, NULL, &fake_ops, NULL, &other, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EADDRINUSE);
	CU_ASSERT_PTR_NULL(other);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "another dtlsgwd"));
	int fd = client(&s);
	struct json_object *o = call(&s, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(fd);
	srv_stop(&s);

	/* a stale socket is replaced */
	srv_dir(&s2);
	char run[160];
	snprintf(run, sizeof(run), "%s/run", s2.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(run, 0755), 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s2.path);
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(stale, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(stale);
	CU_ASSERT_EQUAL(access(s2.path, F_OK), 0);
	fake_init(&s2.fake);
	rc = control_open(s2.path, NULL, &fake_ops, &s2.fake, &s2.ctl, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	fd = client(&s2);
	o = call(&s2, fd, "{\"version\":1,\"command\":\"status\"}");
	CU_ASSERT(reply_ok(o));
	json_object_put(o);
	close(fd);
	/* a socket file replaced behind our back is not removed at close */
	char moved[200];
	snprintf(moved, sizeof(moved), "%s.old", s2.path);
	CU_ASSERT_EQUAL(rename(s2.path, moved), 0);
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(stale, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(stale);
	control_close(s2.ctl);
	CU_ASSERT_EQUAL(access(s2.path, F_OK), 0);
	unlink(s2.path);
	unlink(moved);

	/* anything else at the path is left alone */
	FILE *f = fopen(s2.path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("precious\n", f);
	fclose(f);
	rc = control_open(s2.path, NULL, &fake_ops, NULL, &other, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a socket"));
	CU_ASSERT_EQUAL(stat(s2.path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 9);
	unlink(s2.path);

	/* too long a path */
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	rc = control_open(longpath, NULL, &fake_ops, NULL, &other, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -ENAMETOOLONG);
	/* a directory that cannot be made */
	rc = control_open("/proc/nonexistent/dir/control.sock", NULL, &fake_ops, NULL, &other, err,
			  sizeof(err));
	CU_ASSERT(rc < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/proc/nonexistent/dir/control.sock"));
	rmdir(run);
	rmdir(s2.dir);
	fake_free(&s2.fake);
}

/* ---- an attacker who wins the race right after bind(2) ----------------------- */

/* When race_path is set, the next bind() to it is followed at once by what anyone who
 * may write the socket's directory can do: the new socket file is moved away and a
 * symlink to race_victim takes its place. This bind() stands in for libc's in this
 * program (the control server calls it); otherwise it is the system call itself. */
static const char *race_path, *race_victim;

int bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	const struct sockaddr_un *sun = addr.__sockaddr_un__;
	int rc = (int)syscall(SYS_bind, fd, addr.__sockaddr__, len);
	if (rc == 0 && race_path && sun->sun_family == AF_UNIX &&
	    !strcmp(sun->sun_path, race_path)) {
		char moved[160];
		snprintf(moved, sizeof(moved), "%s.moved", race_path);
		CU_ASSERT_EQUAL(rename(race_path, moved), 0);
		CU_ASSERT_EQUAL(symlink(race_victim, race_path), 0);
		race_path = NULL;
	}
	return rc;
}

static void test_socket_race(void)
{
	struct srv s;
	struct control *ctl = NULL;
	char err[256], victim[100], moved[160];
	struct stat st;

	srv_dir(&s);
	snprintf(victim, sizeof(victim), "%s/victim", s.dir);
	snprintf(moved, sizeof(moved), "%s.moved", s.path);
	int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(stat(victim, &st), 0);
	const gid_t victim_gid = st.st_gid;

	/* group "daemon" (gid 1) when it exists: a chown would show on the victim */
	struct group *gr = getgrgid(1);
	struct control_options opt = { .mode = 0666, .group = gr ? gr->gr_name : "" };
	race_path = s.path;
	race_victim = victim;
	int rc = control_open(s.path, &opt, &fake_ops, NULL, &ctl, err, sizeof(err));
	race_path = NULL;
	printf("(%s) ", rc < 0 ? err : "opened");
	CU_ASSERT_EQUAL(rc, -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "replaced right after bind (now a symlink"));
	CU_ASSERT_PTR_NULL(ctl);
	/* the file the symlink names is untouched: no chmod, no chown through it */
	CU_ASSERT_EQUAL(stat(victim, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_gid, victim_gid);
	/* and the symlink stays where the attacker put it */
	CU_ASSERT_EQUAL(lstat(s.path, &st), 0);
	CU_ASSERT(S_ISLNK(st.st_mode));
	control_close(ctl);

	/* without the race: the mode asked, exactly, and the group, from bind itself */
	unlink(s.path);
	unlink(moved);
	mode_t old_umask = umask(0);
	rc = control_open(s.path, &opt, &fake_ops, NULL, &ctl, err, sizeof(err));
	umask(old_umask);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(lstat(s.path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0666);
	if (gr && geteuid() == 0)
		CU_ASSERT_EQUAL(st.st_gid, 1);
	control_close(ctl);
	CU_ASSERT_EQUAL(access(s.path, F_OK), -1);
	unlink(victim);
	char run[160];
	snprintf(run, sizeof(run), "%s/run", s.dir);
	rmdir(run);
	rmdir(s.dir);
}

/* ---- credentials, with real children of other uids --------------------------- */

#define NOBODY 65534

/* In a child: become uid NOBODY with the given groups, connect, run a
 * request; exit 0 if the reply's "ok" is want_ok (and, when refused, says
 * "permission denied"), 10+ otherwise. */
static void child_request(const char *path, gid_t gid, const gid_t *groups, size_t n_groups,
			  const char *const *reqs, const bool *want_ok, size_t n_reqs)
{
	if (setgroups(n_groups, groups) < 0 || setgid(gid) < 0 || setuid(NOBODY) < 0)
		_exit(10);
	if (getuid() != NOBODY)
		_exit(11);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		_exit(12);
	for (size_t i = 0; i < n_reqs; i++) {
		char buf[65536]; /* a whole reply: stats (Prometheus text) is over 4 KiB */
		size_t len = 0;
		if (write(fd, reqs[i], strlen(reqs[i])) != (ssize_t)strlen(reqs[i]))
			_exit(13);
		while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				_exit(14);
			len += (size_t)n;
		}
		buf[len] = '\0';
		bool ok = strstr(buf, "\"ok\":true") != NULL;
		if (ok != want_ok[i])
			_exit(15 + (int)i);
		if (!ok && !strstr(buf, "permission denied"))
			_exit(30 + (int)i);
	}
	_exit(0);
}

struct child {
	pid_t pid;
	int status;
	bool done;
};

static bool child_done(void *arg)
{
	struct child *c = arg;
	if (!c->done && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
		c->done = true;
	return c->done;
}

/* Run child_request() in a child while the server works; its exit code. */
static int run_child(struct srv *s, gid_t gid, const gid_t *groups, size_t n_groups,
		     const char *const *reqs, const bool *want_ok, size_t n_reqs)
{
	fflush(NULL);
	struct child c = { .pid = fork() };
	CU_ASSERT_FATAL(c.pid >= 0);
	if (c.pid == 0)
		child_request(s->path, gid, groups, n_groups, reqs, want_ok, n_reqs);
	pump(s, 10000, child_done, &c);
	if (!child_done(&c)) {
		kill(c.pid, SIGKILL);
		waitpid(c.pid, &c.status, 0);
		return -1;
	}
	return WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -2;
}

static void test_credentials(void)
{
	if (geteuid() != 0) {
		printf("(skipped: needs root to become another uid) ");
		CU_PASS("skipped: not root");
		return;
	}
	struct group *gr = getgrgid(1); /* "daemon" on Debian: nobody is not in it */
	CU_ASSERT_PTR_NOT_NULL_FATAL(gr);
	char group[64];
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	gid_t g = gr->gr_gid;
	/* mode 0666 so that an outsider can connect and be refused by credentials */
	struct control_options opt = { .mode = 0666, .group = group };
	struct srv s;
	srv_start(&s, &opt, NULL);

	const char *const reqs[] = {
		"{\"version\":1,\"command\":\"status\"}\n",
		"{\"version\":1,\"command\":\"peer\",\"args\":{\"name\":\"a\"}}\n",
		"{\"version\":1,\"command\":\"stats\"}\n",
		"{\"version\":1,\"command\":\"reload\"}\n",
		"{\"version\":1,\"command\":\"remove-peer\",\"args\":{\"name\":\"a\"}}\n",
		"{\"version\":1,\"command\":\"log-level\",\"args\":{\"level\":\"debug\"}}\n",
	};
	const bool outsider[] = { true, true, true, false, false, false };
	const bool member[] = { true, true, true, true, true, true };

	/* an outsider: reads, but may not change anything; each refusal is logged */
	int rc = run_child(&s, NOBODY, NULL, 0, reqs, outsider, 6);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(s.fake.reloads, 0);
	CU_ASSERT_EQUAL(s.fake.level, GW_LOG_INFO);
	CU_ASSERT_EQUAL(json_object_array_length(s.fake.peers), 2);
	CU_ASSERT_EQUAL(s.fake.warnings, 3);
	char want[128];
	snprintf(want, sizeof(want), "control: refused log-level debug from uid %d pid ", NOBODY);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, want));
	snprintf(want, sizeof(want), "needs root or group %s", group);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, want));

	/* the group as a supplementary group of the process */
	rc = run_child(&s, NOBODY, &g, 1, reqs, member, 5);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(s.fake.reloads, 1);
	CU_ASSERT_EQUAL(json_object_array_length(s.fake.peers), 1);
	snprintf(want, sizeof(want), "control: remove-peer a by uid %d", NOBODY);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, want));

	/* the group as the primary group */
	const char *const reload[] = { reqs[3] };
	rc = run_child(&s, g, NULL, 0, reload, member, 1);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(s.fake.reloads, 2);
	srv_stop(&s);

	/* no such group: only root may change things */
	struct control_options nogroup = { .mode = 0666, .group = "no-such-group-dtlsgw-test" };
	srv_start(&s, &nogroup, NULL);
	rc = run_child(&s, NOBODY, &g, 1, reqs, outsider, 6);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s.fake.last_log, ": needs root"));
	CU_ASSERT_EQUAL(s.fake.reloads, 0);
	srv_stop(&s);

	/* the default mode 0660 keeps others out before any credential check */
	struct control_options closed = { .group = group };
	srv_start(&s, &closed, NULL);
	rc = run_child(&s, NOBODY, NULL, 0, reqs, outsider, 1);
	CU_ASSERT_EQUAL(rc, 12); /* connect: permission denied */
	rc = run_child(&s, NOBODY, &g, 1, reqs, member, 4);
	CU_ASSERT_EQUAL(rc, 0);
	srv_stop(&s);
}

static CU_TestInfo tests[] = {
	{ "parse: every command", test_parse_commands },
	{ "parse: malformed and truncated", test_parse_malformed },
	{ "parse: wrong types and bad values", test_parse_wrong_types },
	{ "parse: huge and deeply nested", test_parse_huge_and_deep },
	{ "parse: hostile bytes and random input", test_parse_hostile_bytes },
	{ "replies", test_replies },
	{ "prometheus rendering", test_prometheus },
	{ "server: each command round-trips", test_server_commands },
	{ "server: optional ops, reply limit", test_server_optional_ops },
	{ "server: oversized line, hostile bytes", test_server_oversized },
	{ "server: idle clients are dropped", test_server_idle },
	{ "server: connection limit", test_server_max_conns },
	{ "server: socket file, stale and live sockets", test_socket_file },
	{ "server: a symlink swapped in after bind gets no chmod or chown", test_socket_race },
	{ "server: credentials of other uids", test_credentials },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "control", NULL, NULL, tests };
