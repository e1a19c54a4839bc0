/* daemon/config: dtlsgw.conf parsing, validation messages, hostile input. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/secret_file.h"
#include "dtls/dtls.h"
#include "harness.h"

static char dir[] = "/tmp/dtlsgw-test-config-XXXXXX";
static char path_buf[8][512];

/* A file in the test directory with the given content and mode. */
static const char *make_file(int slot, const char *name, const char *content, mode_t mode)
{
	char *path = path_buf[slot];
	snprintf(path, sizeof(path_buf[0]), "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	CU_ASSERT_FATAL(fchmod(fd, mode) == 0);
	close(fd);
	return path;
}

static int suite_init(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int suite_cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct config_diags diags;

/* Parse text as "dtlsgw.conf"; the diagnostics stay in `diags` until the next call. */
static int parse_text(const char *text, size_t len, struct gw_config **cfg)
{
	config_diags_free(&diags);
	return config_parse_buffer("dtlsgw.conf", text, len, cfg, &diags);
}

static int parse(const char *text, struct gw_config **cfg)
{
	return parse_text(text, strlen(text), cfg);
}

static bool has_diag(const char *want)
{
	for (size_t i = 0; i < diags.n; i++)
		if (!strcmp(diags.v[i].text, want))
			return true;
	fprintf(stderr, "\n  missing diagnostic: %s\n  have:\n", want);
	config_diags_print(&diags, stderr);
	return false;
}

/* The text must be invalid with `errors` errors, one of them want. */
static void expect_errors(const char *text, size_t errors, const char *want)
{
	struct gw_config *cfg = (struct gw_config *)1;
	int rc = parse(text, &cfg);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has_diag(want));
	if (diags.n_errors != errors) {
		fprintf(stderr, "\n  expected %zu error(s) (%s), got:\n", errors, want);
		config_diags_print(&diags, stderr);
	}
	CU_ASSERT_EQUAL(diags.n_errors, errors);
}

/* The text must be invalid with exactly this one error. */
static void expect_error(const char *text, const char *want)
{
	expect_errors(text, 1, want);
}

#define KEY32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PIN "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

/* Line numbers matter below: keep the layout. */
static const char *minimal =
	"[gateway]\n"                          /* 1 */
	"tun_address = 10.0.0.1/24\n"          /* 2 */
	"\n"                                   /* 3 */
	"[peer a]\n"                           /* 4 */
	"psk_identity = site-a\n"              /* 5 */
	"psk = " KEY32 "\n"                    /* 6 */
	"allowed_ips = 10.1.0.0/16\n";         /* 7 */

static void test_full_config(void)
{
	make_file(0, "b.key", "  00112233445566778899aabbccddeeff\n", 0600);
	const char *ca = make_file(1, "ca.pem", "not parsed here\n", 0644);
	const char *cert = make_file(2, "gw.pem", "not parsed here\n", 0644);
	const char *key = make_file(3, "gw.key", "not parsed here\n", 0600);
	char text[4096];
	struct gw_config *cfg = NULL;
	char buf[PREFIX_STRLEN];

	snprintf(text, sizeof(text),
		 "; dtlsgw.conf for site A\n"
		 "# another comment\n"
		 "[gateway]\n"
		 "listen = 192.0.2.1:5000\n"
		 "tun_name = vpn%%d\n"
		 "tun_address = 10.0.0.1/24, fd00::1/64\n"
		 "tun_address = 10.0.1.1/32\n"
		 "mtu = 1380\n"
		 "workers = 4\n"
		 "ciphers = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CCM_8\n"
		 "keepalive = 15\n"
		 "dead_after = 60\n"
		 "max_sessions = 100\n"
		 "control_socket = /run/test/ctl.sock\n"
		 "log_level = debug\n"
		 "offload = off\n"
		 "cert = %s\n"
		 "key = %s\n"
		 "ca = %s\n"
		 "\n"
		 "[peer a]\n"
		 "  psk_identity = site-a ; the identity\n"
		 "  psk = " KEY32 "\n"
		 "  allowed_ips = 10.1.0.0/16, fd00:1::/48\n"
		 "  allowed_ips = 192.168.1.0/24\n"
		 "  endpoint = [2001:db8::2]:4433\n"
		 "  keepalive = 0\n"
		 "[peer b]\n"
		 "psk_identity = sité-b\n"
		 "psk_file = b.key\n"
		 "allowed_ips = 10.2.0.0/16\n"
		 "[ peer   c-3 ]\n"
		 "cert_cn = gw-c.example.net\n"
		 "cert_san = gw-c.example.net\n"
		 "cert_pin_sha256 = " PIN "\n"
		 "ca = %s\n"
		 "ca = ca.pem\n"
		 "allowed_ips = 10.3.0.0/16\n"
		 "endpoint = 198.51.100.3:4433\n",
		 cert, key, ca, ca);
	config_diags_free(&diags);
	char name[600];
	snprintf(name, sizeof(name), "%s/dtlsgw.conf", dir);
	int rc = config_parse_buffer(name, text, strlen(text), &cfg, &diags);
	if (rc)
		config_diags_print(&diags, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(diags.n, 0);

	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->listen;
	CU_ASSERT_EQUAL(sin->sin_family, AF_INET);
	CU_ASSERT_EQUAL(ntohs(sin->sin_port), 5000);
	CU_ASSERT_STRING_EQUAL(cfg->tun_name, "vpn%d");
	CU_ASSERT_EQUAL_FATAL(cfg->n_tun_addrs, 3);
	CU_ASSERT_STRING_EQUAL(prefix_format(&cfg->tun_addrs[0], buf), "10.0.0.1/24");
	CU_ASSERT_STRING_EQUAL(prefix_format(&cfg->tun_addrs[1], buf), "fd00::1/64");
	CU_ASSERT_STRING_EQUAL(prefix_format(&cfg->tun_addrs[2], buf), "10.0.1.1/32");
	CU_ASSERT_EQUAL(cfg->mtu, 1380);
	CU_ASSERT_EQUAL(cfg->workers, 4);
	CU_ASSERT_EQUAL_FATAL(cfg->n_ciphers, 2);
	CU_ASSERT_STRING_EQUAL(cfg->ciphers[1], "TLS_PSK_WITH_AES_128_CCM_8");
	CU_ASSERT_EQUAL(cfg->keepalive, 15);
	CU_ASSERT_EQUAL(cfg->dead_after, 60);
	CU_ASSERT_EQUAL(cfg->max_sessions, 100);
	CU_ASSERT_STRING_EQUAL(cfg->control_socket, "/run/test/ctl.sock");
	CU_ASSERT_EQUAL(cfg->log_level, GW_LOG_DEBUG);
	CU_ASSERT_FALSE(cfg->offload);
	CU_ASSERT_STRING_EQUAL(cfg->cert, cert);
	CU_ASSERT_STRING_EQUAL(cfg->key, key);
	CU_ASSERT_STRING_EQUAL(cfg->ca, ca);
	CU_ASSERT_EQUAL_FATAL(cfg->n_peers, 3);

	const struct peer_policy *a = &cfg->peers[0], *b = &cfg->peers[1], *c = &cfg->peers[2];
	CU_ASSERT_STRING_EQUAL(a->name, "a");
	CU_ASSERT_EQUAL(a->auth, PEER_AUTH_PSK);
	CU_ASSERT_EQUAL(a->psk.identity_len, 6);
	CU_ASSERT_EQUAL(memcmp(a->psk.identity, "site-a", 6), 0);
	CU_ASSERT_EQUAL(a->psk.key_len, 32);
	CU_ASSERT_EQUAL(a->psk.key[31], 0x1f);
	CU_ASSERT_EQUAL_FATAL(a->n_allowed, 3);
	CU_ASSERT_STRING_EQUAL(prefix_format(&a->allowed[1], buf), "fd00:1::/48");
	CU_ASSERT_STRING_EQUAL(prefix_format(&a->allowed[2], buf), "192.168.1.0/24");
	CU_ASSERT_TRUE(a->has_endpoint);
	CU_ASSERT_EQUAL(a->endpoint.ss_family, AF_INET6);
	CU_ASSERT_EQUAL(a->keepalive, 0);

	CU_ASSERT_EQUAL(b->auth, PEER_AUTH_PSK);
	CU_ASSERT_EQUAL(b->psk.identity_len, strlen("sité-b"));
	CU_ASSERT_EQUAL(b->psk.key_len, 16);
	CU_ASSERT_EQUAL(b->psk.key[15], 0xff);
	CU_ASSERT_FALSE(b->has_endpoint);
	CU_ASSERT_EQUAL(b->keepalive, 15); /* the gateway's */

	CU_ASSERT_STRING_EQUAL(c->name, "c-3");
	CU_ASSERT_EQUAL(c->auth, PEER_AUTH_CERT);
	CU_ASSERT_STRING_EQUAL(c->cert.cn, "gw-c.example.net");
	CU_ASSERT_STRING_EQUAL(c->cert.san, "gw-c.example.net");
	CU_ASSERT_TRUE(c->cert.has_pin);
	CU_ASSERT_EQUAL(c->cert.pin_sha256[0], 0x9f);
	CU_ASSERT_EQUAL(c->cert.pin_sha256[31], 0x08);
	CU_ASSERT_EQUAL_FATAL(c->cert.n_ca_files, 2);
	CU_ASSERT_STRING_EQUAL(c->cert.ca_files[1], ca); /* relative: from the config's directory */
	CU_ASSERT_TRUE(c->has_endpoint);
	config_free(cfg);
}

static void test_defaults(void)
{
	struct gw_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(parse(minimal, &cfg), 0);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->listen;
	CU_ASSERT_EQUAL(sin6->sin6_family, AF_INET6);
	CU_ASSERT_EQUAL(ntohs(sin6->sin6_port), 4433);
	CU_ASSERT_TRUE(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	CU_ASSERT_STRING_EQUAL(cfg->tun_name, "dtlsgw0");
	CU_ASSERT_EQUAL(cfg->mtu, 1400);
	CU_ASSERT_EQUAL(cfg->workers, 0);
	CU_ASSERT_EQUAL(cfg->n_ciphers, 0);
	CU_ASSERT_EQUAL(cfg->keepalive, 10);
	CU_ASSERT_EQUAL(cfg->dead_after, 30);
	CU_ASSERT_EQUAL(cfg->max_sessions, 4096);
	CU_ASSERT_STRING_EQUAL(cfg->control_socket, "/run/dtlsgw/control.sock");
	CU_ASSERT_EQUAL(cfg->log_level, GW_LOG_INFO);
	CU_ASSERT_TRUE(cfg->offload);
	CU_ASSERT_PTR_NULL(cfg->cert);
	CU_ASSERT_EQUAL(cfg->peers[0].keepalive, 10);
	CU_ASSERT_STRING_EQUAL(config_log_level_name(cfg->log_level), "info");
	config_free(cfg);

	/* keepalive 0: no keepalives, sessions never declared dead by default. */
	CU_ASSERT_EQUAL_FATAL(parse("[gateway]\ntun_address=10.0.0.1/24\nkeepalive=0\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg->keepalive, 0);
	CU_ASSERT_EQUAL(cfg->dead_after, 0);
	CU_ASSERT_EQUAL(cfg->n_peers, 0);
	config_free(cfg);
	config_free(NULL);
}

/* Replace line `line` (1-based) of minimal with repl (which may hold several lines). */
static char *edit(char *out, size_t cap, unsigned line, const char *repl)
{
	const char *s = minimal;
	size_t o = 0;

	for (unsigned l = 1; *s; l++) {
		const char *e = strchr(s, '\n');
		size_t n = (size_t)(e - s) + 1;
		if (l == line)
			o += (size_t)snprintf(out + o, cap - o, "%s\n", repl);
		else
			o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)n, s);
		s += n;
	}
	return out;
}

static void test_errors_keys(void)
{
	char t[2048];

	expect_error(edit(t, sizeof(t), 6, "psk = 00112233445566778899aabbccddeefg"),
		     "dtlsgw.conf:6: [peer a] psk: not valid hex");
	expect_error(edit(t, sizeof(t), 6, "psk = 0011223344"),
		     "dtlsgw.conf:6: [peer a] psk: key is 5 bytes; at least 16 needed");
	expect_error(edit(t, sizeof(t), 6, "psk = " KEY32 KEY32 "00"),
		     "dtlsgw.conf:6: [peer a] psk: key is 65 bytes; at most 64 allowed");
	expect_error(edit(t, sizeof(t), 5, "psk_identity = "
					"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
		     "dtlsgw.conf:5: [peer a] psk_identity: is 129 bytes; at most 128 allowed");
	expect_error(edit(t, sizeof(t), 5, "psk_identity = bad\xff"),
		     "dtlsgw.conf:5: [peer a] psk_identity: not printable UTF-8");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/33"),
		     "dtlsgw.conf:7: [peer a] allowed_ips: \"10.1.0.0/33\" is not a prefix (10.1.0.0/16, fd00:1::/48)");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16,,10.2.0.0/16"),
		     "dtlsgw.conf:7: [peer a] allowed_ips: empty item in the list");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\nendpoint = gw.example.net:4433"),
		     "dtlsgw.conf:8: [peer a] endpoint: \"gw.example.net:4433\" is not ADDRESS:PORT or [IPV6]:PORT (numeric, port 1-65535)");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\nkeepalive = 10s"),
		     "dtlsgw.conf:8: [peer a] keepalive: not a number");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\ncert_pin_sha256 = " PIN),
		     "dtlsgw.conf:4: [peer a]: has both a PSK and a certificate identity; keep one");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nmtu = 100"),
		     "dtlsgw.conf:3: [gateway] mtu: must be between 576 and 65507");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nmtu = 99999999999999"),
		     "dtlsgw.conf:3: [gateway] mtu: not a number");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nlog_level = loud"),
		     "dtlsgw.conf:3: [gateway] log_level: must be error, warning, notice, info or debug");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\noffload = maybe"),
		     "dtlsgw.conf:3: [gateway] offload: must be on or off");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\ntun_name = a/b"),
		     "dtlsgw.conf:3: [gateway] tun_name: not an interface name (1-15 printable characters, no '/' or ':', at most one %d)");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\ntun_name = 0123456789abcdef"),
		     "dtlsgw.conf:3: [gateway] tun_name: not an interface name (1-15 printable characters, no '/' or ':', at most one %d)");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nciphers = AES128-SHA, TLS/B"),
		     "dtlsgw.conf:3: [gateway] ciphers: \"TLS/B\" is not a cipher suite name");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nciphers = AES128-SHA, TLS_A"),
		     "dtlsgw.conf:3: [gateway] ciphers: unknown cipher suite TLS_A (dtlsgw.conf(5) "
		     "lists them)");
	/* The same suite by its IANA and its OpenSSL name. */
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nciphers = "
			  "TLS_RSA_WITH_AES_128_CBC_SHA, AES128-SHA"),
		     "dtlsgw.conf:3: [gateway] ciphers: AES128-SHA is listed twice");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\ncontrol_socket = run/ctl"),
		     "dtlsgw.conf:3: [gateway] control_socket: must be an absolute path of at most 107 bytes");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nlisten = 4433"),
		     "dtlsgw.conf:3: [gateway] listen: \"4433\" is not ADDRESS:PORT or [IPV6]:PORT (numeric, port 1-65535)");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nkeepalive = 20\ndead_after = 20"),
		     "dtlsgw.conf:4: [gateway] dead_after: must be longer than keepalive (20 s)");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nca = /nonexistent/ca.pem"),
		     "dtlsgw.conf:3: [gateway] ca: /nonexistent/ca.pem: No such file or directory");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nworkers ="),
		     "dtlsgw.conf:3: [gateway] workers: empty value");
	expect_error(edit(t, sizeof(t), 2, "tun_address = 10.0.0.1/24\nmtu = 1400\nmtu = 1300"),
		     "dtlsgw.conf:4: [gateway] mtu: given twice (first at line 3)");
}

static void test_errors_structure(void)
{
	char t[2048];

	expect_error(edit(t, sizeof(t), 2, "tun_addres = 10.0.0.1/24\ntun_address = 10.0.0.1/24"),
		     "dtlsgw.conf:2: [gateway] tun_addres: unknown key");
	expect_error(edit(t, sizeof(t), 3, "[peers]\nfoo = bar"),
		     "dtlsgw.conf:3: [peers]: unknown section; use [gateway] or [peer NAME]");
	expect_error(edit(t, sizeof(t), 3, "[peer]"), "dtlsgw.conf:3: [peer]: missing peer name; use [peer NAME]");
	expect_error(edit(t, sizeof(t), 4, "[peer a b]"),
		     "dtlsgw.conf:4: [peer a b]: invalid peer name; use 1-32 of A-Z a-z 0-9 . _ -");
	expect_error(edit(t, sizeof(t), 2, "# no tun_address"),
		     "dtlsgw.conf:1: [gateway] tun_address: missing; the tunnel needs an address with prefix length");
	expect_errors(edit(t, sizeof(t), 1, "[gatway]\ntun_address = 10.0.0.1/24"), 2,
		      "dtlsgw.conf:1: [gatway]: unknown section; use [gateway] or [peer NAME]");
	/* That also leaves no [gateway]; a file-wide problem has no line number. */
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf: [gateway]: section missing"));
	CU_ASSERT_EQUAL(diags.v[0].line, 0);
	expect_error(edit(t, sizeof(t), 1, "mtu = 1400\n[gateway]"),
		     "dtlsgw.conf:1: mtu: outside of any section");
	expect_error(edit(t, sizeof(t), 3, "[gateway]"),
		     "dtlsgw.conf:3: [gateway]: section given twice (first at line 1)");
	expect_error(edit(t, sizeof(t), 3, "[peer b"), "dtlsgw.conf:3: missing ']' in section header");
	expect_error(edit(t, sizeof(t), 3, "[peer b] x"), "dtlsgw.conf:3: unexpected text after ']'");
	expect_error(edit(t, sizeof(t), 3, "just words"),
		     "dtlsgw.conf:3: expected \"key = value\", a [section] or a comment");
	expect_error(edit(t, sizeof(t), 3, "= value"), "dtlsgw.conf:3: missing key name before '='");

	/* Peers: identity, allowed_ips, duplicates, overlaps. */
	expect_error(edit(t, sizeof(t), 6, "# no key"), "dtlsgw.conf:5: [peer a] psk_identity: needs psk or psk_file");
	expect_error(edit(t, sizeof(t), 5, "# no identity"), "dtlsgw.conf:6: [peer a] psk: needs psk_identity");
	expect_error(edit(t, sizeof(t), 7, "# no prefixes"),
		     "dtlsgw.conf:4: [peer a]: no allowed_ips; a peer needs at least one prefix");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer b]\nallowed_ips = 10.2.0.0/16"),
		     "dtlsgw.conf:8: [peer b]: no identity; set psk_identity with psk or psk_file, or cert_cn, cert_san or cert_pin_sha256");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer a]\npsk_identity = x\npsk = " KEY32 "\nallowed_ips = 10.2.0.0/16"),
		     "dtlsgw.conf:8: [peer a]: peer name given twice (first at line 4)");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer b]\npsk_identity = site-a\npsk = " KEY32 "\nallowed_ips = 10.2.0.0/16"),
		     "dtlsgw.conf:9: [peer b] psk_identity: same identity as peer a (line 5)");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer b]\npsk_identity = b\npsk = " KEY32 "\nallowed_ips = 10.2.0.0/16\nallowed_ips = 10.0.0.0/8"),
		     "dtlsgw.conf:12: [peer b] allowed_ips: 10.0.0.0/8 overlaps 10.1.0.0/16 of peer a (line 7)");
	expect_error(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer b]\npsk_identity = b\npsk = " KEY32 "\nallowed_ips = fd00::/8, 10.1.2.0/24"),
		     "dtlsgw.conf:11: [peer b] allowed_ips: 10.1.2.0/24 overlaps 10.1.0.0/16 of peer a (line 7)");
	expect_errors(edit(t, sizeof(t), 7, "allowed_ips = 10.1.0.0/16\n[peer b]\ncert_cn = b.example"), 3,
		      "dtlsgw.conf:8: [peer b]: no allowed_ips; a peer needs at least one prefix");
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:8: [peer b]: a certificate identity needs the gateway's own cert and key in [gateway]"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:9: [peer b] cert_cn: needs a ca here or in [gateway], or a cert_pin_sha256"));
}

static void test_host_bits_warning(void)
{
	char t[2048];
	struct gw_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(parse(edit(t, sizeof(t), 7, "allowed_ips = 10.1.2.3/16"), &cfg), 0);
	CU_ASSERT_EQUAL(diags.n_warnings, 1);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:7: [peer a] allowed_ips: warning: 10.1.2.3/16 has host bits set; using 10.1.0.0/16"));
	config_free(cfg);
}

static void test_secret_files(void)
{
	char t[2048], line[700];
	const char *open_key = make_file(4, "open.key", KEY32 "\n", 0644);
	const char *grp_key = make_file(5, "grp.key", KEY32 "\n", 0620);
	const char *short_key = make_file(6, "short.key", "0011\n", 0600);
	make_file(0, "good.key", KEY32, 0600);
	char want[800];

	snprintf(line, sizeof(line), "psk_file = %s", open_key);
	snprintf(want, sizeof(want), "dtlsgw.conf:6: [peer a] psk_file: %s is readable by others; chmod 600", open_key);
	expect_error(edit(t, sizeof(t), 6, line), want);

	snprintf(line, sizeof(line), "psk_file = %s", grp_key);
	snprintf(want, sizeof(want), "dtlsgw.conf:6: [peer a] psk_file: %s is writable by others; chmod 600", grp_key);
	expect_error(edit(t, sizeof(t), 6, line), want);

	snprintf(line, sizeof(line), "psk_file = %s", short_key);
	snprintf(want, sizeof(want), "dtlsgw.conf:6: [peer a] psk_file: %s: key is 2 bytes; at least 16 needed", short_key);
	expect_error(edit(t, sizeof(t), 6, line), want);

	snprintf(line, sizeof(line), "psk_file = %s/missing.key", dir);
	snprintf(want, sizeof(want), "dtlsgw.conf:6: [peer a] psk_file: %s/missing.key cannot open: No such file or directory", dir);
	expect_error(edit(t, sizeof(t), 6, line), want);

	snprintf(line, sizeof(line), "psk = " KEY32 "\npsk_file = %s", path_buf[0]);
	expect_error(edit(t, sizeof(t), 6, line), "dtlsgw.conf:7: [peer a] psk_file: psk is given too (line 6); keep one");

	/* The gateway's private key too. */
	const char *cert = make_file(7, "c.pem", "x", 0644);
	snprintf(line, sizeof(line), "tun_address = 10.0.0.1/24\ncert = %s\nkey = %s", cert, open_key);
	snprintf(want, sizeof(want), "dtlsgw.conf:4: [gateway] key: %s is readable by others; chmod 600", open_key);
	expect_error(edit(t, sizeof(t), 2, line), want);
	snprintf(line, sizeof(line), "tun_address = 10.0.0.1/24\ncert = %s", cert);
	expect_error(edit(t, sizeof(t), 2, line), "dtlsgw.conf:3: [gateway] cert: given without key");
}

/* The gateway's private key: checked and read through one descriptor
 * (secret_file_load), then given to libdtls from memory (dtls_config_add_local_cert_mem). */
static void test_key_load(void)
{
	char cmd[2400], pki[600], key[700], cert[700], other[700], why[128], err[2400];
	uint8_t *buf = (uint8_t *)"x";
	size_t len = 1;

	snprintf(pki, sizeof(pki), "%s/pki", dir);
	snprintf(cmd, sizeof(cmd), "'%s/tests/pki/mkpki.sh' '%s' >/dev/null 2>&1", TEST_SOURCE_DIR, pki);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	snprintf(key, sizeof(key), "%s/server-ec.key", pki);
	snprintf(cert, sizeof(cert), "%s/server-ec-chain.pem", pki);
	snprintf(other, sizeof(other), "%s/client.key", pki);

	/* the checks of secret_file_open(), on the descriptor it then reads */
	CU_ASSERT_EQUAL(chmod(key, 0640), 0);
	CU_ASSERT_EQUAL(secret_file_load(key, 65536, &buf, &len, why, sizeof(why)), -EPERM);
	CU_ASSERT_STRING_EQUAL(why, "is readable by others; chmod 600");
	CU_ASSERT_PTR_NULL(buf);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(chmod(key, 0600), 0);
	snprintf(cmd, sizeof(cmd), "%s/missing.key", pki);
	CU_ASSERT_EQUAL(secret_file_load(cmd, 65536, &buf, &len, why, sizeof(why)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(why, "cannot open: No such file or directory");
	CU_ASSERT_EQUAL(secret_file_load(pki, 65536, &buf, &len, why, sizeof(why)), -EPERM);
	CU_ASSERT_STRING_EQUAL(why, "is not a regular file");

	/* the whole file, byte for byte, NUL after it */
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(key, &st), 0);
	CU_ASSERT_EQUAL_FATAL(secret_file_load(key, 65536, &buf, &len, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(len, (size_t)st.st_size);
	CU_ASSERT_EQUAL(buf[len], 0);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)buf, "PRIVATE KEY-----"));
	uint8_t *big = NULL;
	size_t big_len = 7;
	CU_ASSERT_EQUAL(secret_file_load(key, len - 1, &big, &big_len, why, sizeof(why)), -EFBIG);
	CU_ASSERT_STRING_EQUAL(why, "is too large");
	CU_ASSERT_PTR_NULL(big);

	/* libdtls takes the key from those bytes; err names the key as the caller says */
	struct dtls_config *c = dtls_config_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	int rc = dtls_config_add_local_cert_mem(c, cert, buf, len, key, err, sizeof(err));
	if (rc < 0)
		printf("\n    %s ", err);
	CU_ASSERT_EQUAL(rc, DTLS_OK);
	CU_ASSERT_EQUAL(dtls_config_remove_local_cert(c, cert), DTLS_OK);
	secret_file_free(buf, len);

	CU_ASSERT_EQUAL_FATAL(secret_file_load(other, 65536, &buf, &len, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(dtls_config_add_local_cert_mem(c, cert, buf, len, other, err, sizeof(err)),
			DTLS_ERR_KEY_MISMATCH);
	snprintf(cmd, sizeof(cmd), "%s: key does not match certificate %s", other, cert);
	CU_ASSERT_STRING_EQUAL(err, cmd);
	secret_file_free(buf, len);
	const uint8_t junk[] = "not a key\n";
	CU_ASSERT_EQUAL(dtls_config_add_local_cert_mem(c, cert, junk, sizeof(junk) - 1, NULL, err,
						       sizeof(err)), DTLS_ERR_FILE);
	CU_ASSERT_EQUAL(strncmp(err, "key: ", 5), 0);
	CU_ASSERT_EQUAL(dtls_config_add_local_cert_mem(c, cert, NULL, 0, NULL, err, sizeof(err)),
			DTLS_ERR_ARG);
	dtls_config_unref(c);
}

static void test_all_errors_collected(void)
{
	static const char text[] =
		"[gateway]\n"                          /* 1 */
		"mtu = lots\n"                         /* 2 */
		"bogus = 1\n"                          /* 3 */
		"[peer a]\n"                           /* 4 */
		"psk_identity = a\n"                   /* 5 */
		"psk = zz\n"                           /* 6 */
		"allowed_ips = 10.0.0.0/8\n"           /* 7 */
		"[peer b\n"                            /* 8 */
		"[peer b]\n"                           /* 9 */
		"psk_identity = b\n"                   /* 10 */
		"psk = " KEY32 "\n"                    /* 11 */
		"allowed_ips = 10.9.0.0/16\n"          /* 12 */
		"[what]\n"                             /* 13 */
		"x = y\n";                             /* 14 */
	struct gw_config *cfg = NULL;

	CU_ASSERT_EQUAL(parse(text, &cfg), -EINVAL);
	CU_ASSERT_EQUAL(diags.n_errors, 7);
	CU_ASSERT_EQUAL(diags.n, 7);
	static const char *want[] = {
		"dtlsgw.conf:1: [gateway] tun_address: missing; the tunnel needs an address with prefix length",
		"dtlsgw.conf:2: [gateway] mtu: not a number",
		"dtlsgw.conf:3: [gateway] bogus: unknown key",
		"dtlsgw.conf:6: [peer a] psk: not valid hex",
		"dtlsgw.conf:8: missing ']' in section header",
		"dtlsgw.conf:12: [peer b] allowed_ips: 10.9.0.0/16 overlaps 10.0.0.0/8 of peer a (line 7)",
		"dtlsgw.conf:13: [what]: unknown section; use [gateway] or [peer NAME]",
	};
	for (size_t i = 0; i < diags.n && i < 7; i++) {
		if (strcmp(diags.v[i].text, want[i]))
			fprintf(stderr, "\n  #%zu: %s\n  want %s\n", i, diags.v[i].text, want[i]);
		CU_ASSERT_STRING_EQUAL(diags.v[i].text, want[i]);
	}
}

static void test_hostile(void)
{
	struct gw_config *cfg = NULL;
	char *big;
	size_t n;

	/* A very long line: an error, not a crash, and the next line still counts. */
	big = malloc(1 << 20);
	CU_ASSERT_FATAL(big != NULL);
	n = (size_t)snprintf(big, 64, "[gateway]\ntun_address = 10.0.0.1/24\npsk = ");
	memset(big + n, 'a', (1 << 20) - n - 16);
	memcpy(big + (1 << 20) - 16, "\nmtu = 1\n", 10);
	CU_ASSERT_EQUAL(parse(big, &cfg), -EINVAL);
	CU_ASSERT_EQUAL(diags.n_errors, 2);
	CU_ASSERT_TRUE(diags.n > 0 && strstr(diags.v[0].text, "dtlsgw.conf:3: line longer than") != NULL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:4: [gateway] mtu: must be between 576 and 65507"));

	/* The documented limit: 197 characters per line. */
	char edge[512];
	n = (size_t)snprintf(edge, sizeof(edge), "[gateway]\ntun_address = 10.0.0.1/24\n#");
	memset(edge + n, 'c', 196);
	memcpy(edge + n + 196, "\n", 2);
	CU_ASSERT_EQUAL(parse(edge, &cfg), 0);
	config_free(cfg);
	memcpy(edge + n + 196, "c\n", 3);
	CU_ASSERT_EQUAL(parse(edge, &cfg), -EINVAL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:3: line longer than 197 characters"));

	/* NUL bytes. */
	static const char nul[] = "[gateway]\ntun_address = 10.0.0.1/24\nmtu = 14\0000\n[peer\0x]\n";
	CU_ASSERT_EQUAL(parse_text(nul, sizeof(nul) - 1, &cfg), -EINVAL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:3: contains a NUL byte"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:4: contains a NUL byte"));
	CU_ASSERT_EQUAL(diags.n_errors, 2);

	/* Missing brackets, stray brackets, CRLF, a BOM, no final newline. */
	static const char odd[] = "\xef\xbb\xbf[gateway]\r\ntun_address = 10.0.0.1/24\r\n]\r\n[\r\n[]\r\n[[peer x]]\r\nmtu=1400";
	CU_ASSERT_EQUAL(parse(odd, &cfg), -EINVAL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:3: expected \"key = value\", a [section] or a comment"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:4: missing ']' in section header"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:5: []: unknown section; use [gateway] or [peer NAME]"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:6: unexpected text after ']'"));
	CU_ASSERT_EQUAL(diags.n_errors, 4);

	/* Control characters in names are escaped in messages. */
	CU_ASSERT_EQUAL(parse("[gateway]\ntun_address=10.0.0.1/24\n\x1b[31m=1\n[\x1b]\n", &cfg), -EINVAL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:3: [gateway] \\x1b[31m: unknown key"));
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:4: [\\x1b]: unknown section; use [gateway] or [peer NAME]"));

	/* 10k sections: valid peers load; unknown ones give capped diagnostics. */
	size_t cap = 10000 * 120 + 100;
	char *many = malloc(cap);
	CU_ASSERT_FATAL(many != NULL);
	n = (size_t)snprintf(many, cap, "[gateway]\ntun_address = 10.0.0.1/24\n");
	for (unsigned i = 0; i < 10000; i++)
		n += (size_t)snprintf(many + n, cap - n,
				      "[peer p%u]\npsk_identity = id%u\npsk = " "00112233445566778899aabbccddeeff" "\n"
				      "allowed_ips = 10.%u.%u.0/24\n", i, i, i / 256, i % 256);
	CU_ASSERT_EQUAL_FATAL(parse(many, &cfg), 0);
	CU_ASSERT_EQUAL(cfg->n_peers, 10000);
	CU_ASSERT_STRING_EQUAL(cfg->peers[9999].name, "p9999");
	config_free(cfg);
	n = (size_t)snprintf(many, cap, "[gateway]\ntun_address = 10.0.0.1/24\n");
	for (unsigned i = 0; i < 10000; i++)
		n += (size_t)snprintf(many + n, cap - n, "[x%u]\nk = v\n[peer]\n", i);
	CU_ASSERT_EQUAL(parse(many, &cfg), -EINVAL);
	CU_ASSERT_EQUAL(diags.n_errors, 20000);
	CU_ASSERT_EQUAL(diags.n, CONFIG_DIAGS_MAX);
	CU_ASSERT_EQUAL(diags.dropped, 20000 - CONFIG_DIAGS_MAX);
	/* 10k empty peers with the same name. */
	n = (size_t)snprintf(many, cap, "[gateway]\ntun_address = 10.0.0.1/24\n");
	for (unsigned i = 0; i < 10000; i++)
		n += (size_t)snprintf(many + n, cap - n, "[peer same]\n");
	CU_ASSERT_EQUAL(parse(many, &cfg), -EINVAL);
	CU_ASSERT_EQUAL(diags.n_errors, 10000 * 2 + 9999);
	free(many);

	/* Random bytes and random mutations of a valid file: never a crash. */
	static const char mutations[] = "[]=;#\n\0 ,/:x%\xff"; /* and its NUL */
	unsigned seed = 99;
	size_t mlen = strlen(minimal);
	for (int iter = 0; iter < 2000; iter++) {
		size_t len = (size_t)rand_r(&seed) % 600;
		if (iter % 2) {
			for (size_t i = 0; i < len; i++)
				big[i] = (char)(rand_r(&seed) % 256);
		} else {
			len = mlen;
			memcpy(big, minimal, mlen);
			for (int k = 0; k < 4; k++)
				big[(size_t)rand_r(&seed) % mlen] = mutations[rand_r(&seed) % sizeof(mutations)];
		}
		int rc = parse_text(big, len, &cfg);
		CU_ASSERT(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			config_free(cfg);
	}
	free(big);
}

static void test_load_file(void)
{
	struct gw_config *cfg = NULL;
	char path[600];

	config_diags_free(&diags);
	snprintf(path, sizeof(path), "%s/nonexistent.conf", dir);
	CU_ASSERT_EQUAL(config_load(path, &cfg, &diags), -ENOENT);
	CU_ASSERT_PTR_NULL(cfg);
	char want[700];
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	CU_ASSERT_TRUE(has_diag(want));

	/* An inline PSK in a world-readable file: loads, with a warning. */
	const char *conf = make_file(0, "dtlsgw.conf", minimal, 0644);
	config_diags_free(&diags);
	CU_ASSERT_EQUAL_FATAL(config_load(conf, &cfg, &diags), 0);
	CU_ASSERT_EQUAL(cfg->n_peers, 1);
	snprintf(want, sizeof(want), "%s: warning: holds PSKs and is readable by others; chmod 600 or use psk_file", conf);
	CU_ASSERT_TRUE(has_diag(want));
	config_free(cfg);

	conf = make_file(0, "dtlsgw.conf", minimal, 0600);
	config_diags_free(&diags);
	CU_ASSERT_EQUAL_FATAL(config_load(conf, &cfg, &diags), 0);
	CU_ASSERT_EQUAL(diags.n, 0);
	config_free(cfg);

	conf = make_file(0, "dtlsgw.conf", "[gateway]\nmtu = 1\n", 0600);
	config_diags_free(&diags);
	CU_ASSERT_EQUAL(config_load(conf, &cfg, &diags), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: [gateway] mtu: must be between 576 and 65507", conf);
	CU_ASSERT_TRUE(has_diag(want));
	config_diags_free(&diags);
}

/* The EXAMPLE of docs/dtlsgw.conf.5 is a valid configuration. */
static void test_man_page_example(void)
{
	char line[512], text[8192] = "";
	size_t n = 0;
	int state = 0; /* 0: before EXAMPLE, 1: before .EX, 2: in it, 3: done */
	FILE *f = fopen(TEST_SOURCE_DIR "/docs/dtlsgw.conf.5", "r");

	CU_ASSERT_FATAL(f != NULL);
	while (state < 3 && fgets(line, sizeof(line), f)) {
		if (state == 0 && !strcmp(line, ".SH EXAMPLE\n"))
			state = 1;
		else if (state == 1 && !strcmp(line, ".EX\n"))
			state = 2;
		else if (state == 2 && !strcmp(line, ".EE\n"))
			state = 3;
		else if (state == 2) {
			/* Files of the example live in the test directory. */
			char *etc = strstr(line, "/etc/dtlsgw/");
			if (etc) {
				char *file = etc + strlen("/etc/dtlsgw/");
				size_t flen = strcspn(file, " \n");
				char name[64];
				snprintf(name, sizeof(name), "%.*s", (int)flen, file);
				make_file(0, name, KEY32 "\n", 0600);
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%.*s%s", (int)(etc - line),
						      line, path_buf[0]);
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", file + flen);
			} else {
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", line);
			}
			CU_ASSERT_FATAL(n < sizeof(text));
		}
	}
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(state, 3);

	struct gw_config *cfg = NULL;
	int rc = parse(text, &cfg);
	if (rc)
		config_diags_print(&diags, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(diags.n, 0);
	CU_ASSERT_EQUAL(cfg->n_tun_addrs, 2);
	CU_ASSERT_EQUAL_FATAL(cfg->n_peers, 2);
	CU_ASSERT_EQUAL(cfg->peers[0].auth, PEER_AUTH_PSK);
	CU_ASSERT_EQUAL(cfg->peers[0].psk.key_len, 32);
	CU_ASSERT_EQUAL(cfg->peers[1].auth, PEER_AUTH_CERT);
	CU_ASSERT_EQUAL(cfg->peers[1].n_allowed, 2);
	CU_ASSERT_EQUAL(cfg->peers[1].keepalive, 25);
	config_free(cfg);
}

/* ---- peers left out (dtlsgwctl remove-peer of a peer of the file) ---- */

/* The names of cfg's peers, space-separated, into out. */
static const char *peer_names(const struct gw_config *cfg, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; cfg && i < cfg->n_peers && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "", cfg->peers[i].name);
	return out;
}

/* Parse text leaving out drop[0..n) within its first head lines; the peers' names, or
 * "invalid" (the diagnostics stay in `diags`). */
static const char *parse_without(const char *text, unsigned head, const char *const *drop,
				 size_t n, char *out, size_t cap)
{
	struct gw_config *cfg = NULL;
	config_diags_free(&diags);
	const struct config_overlay ov = { .head_lines = head, .drop = drop, .n_drop = n };
	int rc = config_parse_overlay("dtlsgw.conf", text, strlen(text), &ov, &cfg, &diags);
	if (rc < 0) {
		config_free(cfg);
		return strcpy(out, "invalid");
	}
	peer_names(cfg, out, cap);
	config_free(cfg);
	return out;
}

#define PEER_B "peer b]\npsk_identity = id-b\npsk = " KEY32 "\nallowed_ips = 10.2.0.0/24\n"
#define PEER_C "peer c]\npsk_identity = id-c\npsk = " KEY32 "\nallowed_ips = 10.3.0.0/24\n"
#define GATEWAY "[gateway]\ntun_address = 10.0.0.1/24\n"

static void test_parse_without(void)
{
	/* What an editor may leave before a header: the parser trims it, so must the
	 * removal. The byte order mark only counts on line 1. */
	static const struct {
		const char *what, *text;
	} files[] = {
		{ "BOM before [peer b]", "\xef\xbb\xbf[" PEER_B GATEWAY "\f[" PEER_C },
		{ "\\v before [peer b]", "\v[" PEER_B GATEWAY "\v[" PEER_C },
		{ "\\f before [peer b]", GATEWAY "\f[" PEER_B "\f[" PEER_C },
		{ "blanks, \\v and \\f", GATEWAY " \t\v\f [" PEER_B "\v\f[" PEER_C },
		{ "plain, \\v before the next", GATEWAY "[" PEER_B "\v[" PEER_C },
	};
	const char *const b[] = { "b" }, *const c[] = { "c" }, *const both[] = { "c", "b" };
	const char *const others[] = { "B", "b ", "bb", "" };
	char names[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *t = files[i].text;
		printf("\n    %s: ", files[i].what);
		CU_ASSERT_STRING_EQUAL(parse_without(t, 100, NULL, 0, names, sizeof(names)), "b c");
		printf("b left out: %s; ", parse_without(t, 100, b, 1, names, sizeof(names)));
		CU_ASSERT_STRING_EQUAL(names, "c");
		CU_ASSERT_STRING_EQUAL(parse_without(t, 100, c, 1, names, sizeof(names)), "b");
		CU_ASSERT_STRING_EQUAL(parse_without(t, 100, both, 2, names, sizeof(names)), "");
		/* only that very name */
		CU_ASSERT_STRING_EQUAL(parse_without(t, 100, others, 4, names, sizeof(names)), "b c");
		/* only within the head */
		CU_ASSERT_STRING_EQUAL(parse_without(t, 0, b, 1, names, sizeof(names)), "b c");
	}

	/* A section after the head takes the name, identity and prefixes of the peer it
	 * leaves out (add-peer b after remove-peer b); the checks see the peers that stay. */
	const char *readd = "\xef\xbb\xbf[" PEER_B GATEWAY "\f[" PEER_C "\n[" PEER_B;
	CU_ASSERT_STRING_EQUAL(parse_without(readd, 10, b, 1, names, sizeof(names)), "c b");
	CU_ASSERT_STRING_EQUAL(parse_without(readd, 100, NULL, 0, names, sizeof(names)), "invalid");
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:12: [peer b]: peer name given twice (first at line 1)"));
	/* and a peer of the head that stays still conflicts with it */
	CU_ASSERT_STRING_EQUAL(parse_without(readd, 10, c, 1, names, sizeof(names)), "invalid");

	/* A section left out is not read: its mistakes do not fail the rest. */
	const char *bad = GATEWAY "\v[peer b]\nallowed_ips = nonsense\nno_such_key = 1\n\f[" PEER_C;
	CU_ASSERT_STRING_EQUAL(parse_without(bad, 100, b, 1, names, sizeof(names)), "c");
	CU_ASSERT_EQUAL(diags.n, 0);
	CU_ASSERT_STRING_EQUAL(parse_without(bad, 100, c, 1, names, sizeof(names)), "invalid");
	config_diags_free(&diags);
}

/* Diagnostics about sections added at run time cite the add-peer, not a line past the
 * end of the file (dtlsgwctl add-peer); those about the file keep its lines. */
static void test_overlay_origins(void)
{
	const char *file = GATEWAY "[" PEER_B; /* lines 1-6: b's allowed_ips on line 6 */
	const char *added_c = "[peer c]\npsk_identity = id-c\npsk = " KEY32
			      "\nallowed_ips = 10.3.0.0/24\n"; /* lines 7-10 */
	const char *added_d = "[peer d]\npsk_identity = id-c\npsk = " KEY32
			      "\nallowed_ips = 10.2.0.128/25\nallowed_ips = 10.3.0.0/25\n"
			      "keepalive = 1\nkeepalive = 2\n"; /* lines 11-17 */
	const struct config_origin origins[] = { { 7, 10, "add-peer c" }, { 11, 17, "add-peer d" } };
	const struct config_overlay ov = { .head_lines = 6, .origins = origins, .n_origins = 2 };
	char text[1024];
	struct gw_config *cfg = NULL;

	snprintf(text, sizeof(text), "%s%s%s", file, added_c, added_d);
	config_diags_free(&diags);
	CU_ASSERT_EQUAL(config_parse_overlay("dtlsgw.conf", text, strlen(text), &ov, &cfg, &diags),
			-EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_TRUE(has_diag("add-peer d: psk_identity: same identity as peer c (add-peer c)"));
	CU_ASSERT_TRUE(has_diag("add-peer d: allowed_ips: 10.2.0.128/25 overlaps 10.2.0.0/24 of "
				"peer b (line 6)"));
	CU_ASSERT_TRUE(has_diag("add-peer d: allowed_ips: 10.3.0.0/25 overlaps 10.3.0.0/24 of "
				"peer c (add-peer c)"));
	CU_ASSERT_TRUE(has_diag("add-peer d: keepalive: given twice (first at add-peer d)"));
	CU_ASSERT_EQUAL(diags.n_errors, 4);
	for (size_t i = 0; i < diags.n; i++)
		CU_ASSERT_PTR_NULL(strstr(diags.v[i].text, "dtlsgw.conf:1")); /* no line 10+ */

	/* The same sections in the file itself: its lines, as before. */
	config_diags_free(&diags);
	CU_ASSERT_EQUAL(config_parse_buffer("dtlsgw.conf", text, strlen(text), &cfg, &diags), -EINVAL);
	CU_ASSERT_TRUE(has_diag("dtlsgw.conf:12: [peer d] psk_identity: same identity as peer c "
				"(line 8)"));
	config_diags_free(&diags);
}

static CU_TestInfo tests[] = {
	{ "full valid config", test_full_config },
	{ "defaults", test_defaults },
	{ "errors: key values", test_errors_keys },
	{ "errors: structure and peers", test_errors_structure },
	{ "warning: host bits", test_host_bits_warning },
	{ "secret files", test_secret_files },
	{ "the private key: checked and read on one descriptor, loaded from memory",
	  test_key_load },
	{ "all errors collected, in order", test_all_errors_collected },
	{ "hostile input", test_hostile },
	{ "load from a file", test_load_file },
	{ "the man page example", test_man_page_example },
	{ "peers left out by name (remove-peer), whatever is trimmed before a header",
	  test_parse_without },
	{ "sections added at run time are cited by their change, not by line",
	  test_overlay_origins },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "config", suite_init, suite_cleanup, tests };
