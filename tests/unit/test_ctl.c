/*
 * dtlsgwctl: the real binary against an in-process control server with fake
 * ops, over a Unix socket in a temporary directory: every command, its table
 * or JSON output, exit codes and the messages for an absent, forbidden or
 * silent daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/control/control.h"
#include "harness.h"

#ifndef DTLSGWCTL_PATH
#define DTLSGWCTL_PATH "dtlsgwctl" /* wired by daemon/ctl/CMakeLists.txt */
#endif

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- a fake daemon ---------------------------------------------------------- */

static struct json_object *fake_peers_list;
static enum gw_log_level fake_level = GW_LOG_INFO;
static int fake_reloads;

static struct json_object *make_peer(const char *name, const char *state, bool handshaken)
{
	struct json_object *p = json_object_new_object();
	int64_t now = (int64_t)time(NULL);
	json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "state", json_object_new_string(state));
	json_object_object_add(p, "endpoint", json_object_new_string("192.0.2.7:4433"));
	json_object_object_add(p, "suite", json_object_new_string("TLS_PSK_WITH_AES_128_GCM_SHA256"));
	json_object_object_add(p, "identity", json_object_new_string(name));
	struct json_object *ips = json_object_new_array();
	json_object_array_add(ips, json_object_new_string("10.2.0.0/16"));
	json_object_array_add(ips, json_object_new_string("fd00:2::/48"));
	json_object_object_add(p, "allowed_ips", ips);
	json_object_object_add(p, "last_handshake", handshaken ? json_object_new_int64(now - 7230) : NULL);
	json_object_object_add(p, "last_rx", handshaken ? json_object_new_int64(now - 630) : NULL);
	json_object_object_add(p, "rx_bytes", json_object_new_int64(handshaken ? 1258291 : 0));
	json_object_object_add(p, "tx_bytes", json_object_new_int64(handshaken ? 512 : 0));
	json_object_object_add(p, "rx_packets", json_object_new_int64(handshaken ? 3402 : 0));
	json_object_object_add(p, "tx_packets", json_object_new_int64(handshaken ? 1 : 0));
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "policy", json_object_new_int64(1));
	json_object_object_add(d, "replay", json_object_new_int64(2));
	json_object_object_add(d, "mac", json_object_new_int64(0));
	json_object_object_add(d, "oversize", json_object_new_int64(0));
	json_object_object_add(p, "drops", d);
	return p;
}

static int fake_status(void *arg, struct json_object **result, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "version", json_object_new_string("0.1.0"));
	json_object_object_add(s, "uptime_s", json_object_new_int64(3725));
	json_object_object_add(s, "listen", json_object_new_string("[::]:4433"));
	json_object_object_add(s, "tun", json_object_new_string("dtlsgw0"));
	json_object_object_add(s, "workers", json_object_new_int(2));
	json_object_object_add(s, "peers",
			       json_object_new_int64((int64_t)json_object_array_length(fake_peers_list)));
	json_object_object_add(s, "sessions", json_object_new_int(1));
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "rx_bytes", json_object_new_int64(1000));
	json_object_object_add(t, "tx_bytes", json_object_new_int64(3 * 1024 * 1024));
	json_object_object_add(t, "rx_packets", json_object_new_int64(10));
	json_object_object_add(t, "tx_packets", json_object_new_int64(1));
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "policy", json_object_new_int64(5));
	json_object_object_add(t, "drops", d);
	json_object_object_add(s, "totals", t);
	*result = s;
	return 0;
}

static int fake_peers(void *arg, struct json_object **result, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	*result = json_object_get(fake_peers_list);
	return 0;
}

static int fake_add_peer(void *arg, const char *name, const struct control_kv *kv, size_t n_kv,
			 struct json_object **result, char *err, size_t errlen)
{
	(void)arg;
	bool ips = false, psk = false;
	for (size_t i = 0; i < n_kv; i++) {
		ips |= strcmp(kv[i].key, "allowed_ips") == 0;
		psk |= strcmp(kv[i].key, "psk") == 0 &&
		       strcmp(kv[i].value, "00112233445566778899aabbccddeeff") == 0;
	}
	if (!ips) {
		snprintf(err, errlen, "[peer %s]: no allowed_ips; a peer needs at least one prefix",
			 name);
		return -1;
	}
	struct json_object *p = make_peer(name, psk ? "handshaking" : "connecting", false);
	json_object_array_add(fake_peers_list, p);
	*result = json_object_get(p);
	return 0;
}

static int fake_remove_peer(void *arg, const char *name, struct json_object **result, char *err,
			    size_t errlen)
{
	(void)arg, (void)result;
	size_t n = json_object_array_length(fake_peers_list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v;
		json_object_object_get_ex(json_object_array_get_idx(fake_peers_list, i), "name", &v);
		if (strcmp(json_object_get_string(v), name) == 0) {
			json_object_array_del_idx(fake_peers_list, i, 1);
			return 0;
		}
	}
	snprintf(err, errlen, "peer %s: no such peer", name);
	return -1;
}

static int fake_disconnect(void *arg, const char *name, struct json_object **result, char *err,
			   size_t errlen)
{
	(void)arg, (void)name, (void)result, (void)err, (void)errlen;
	return 0;
}

static int fake_reload(void *arg, struct json_object **result, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	fake_reloads++;
	struct json_object *r = json_object_new_object();
	struct json_object *added = json_object_new_array();
	json_object_array_add(added, json_object_new_string("x"));
	json_object_array_add(added, json_object_new_string("y"));
	json_object_object_add(r, "added", added);
	json_object_object_add(r, "removed", json_object_new_array());
	*result = r;
	return 0;
}

static int fake_log_level(void *arg, enum gw_log_level level, struct json_object **result,
			  char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "level", json_object_new_string(control_log_level_name(level)));
	json_object_object_add(r, "previous",
			       json_object_new_string(control_log_level_name(fake_level)));
	fake_level = level;
	*result = r;
	return 0;
}

static const struct control_ops fake_ops = {
	.status = fake_status,
	.peers = fake_peers,
	.add_peer = fake_add_peer,
	.remove_peer = fake_remove_peer,
	.disconnect = fake_disconnect,
	.reload = fake_reload,
	.log_level = fake_log_level,
};

/* ---- the server and running dtlsgwctl ---------------------------------------- */

static char dir[64];
static char sock[100];
static struct control *ctl;

static int suite_init(void)
{
	char err[256];
	snprintf(dir, sizeof(dir), "/tmp/test_ctl.XXXXXX");
	if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	fake_peers_list = json_object_new_array();
	json_object_array_add(fake_peers_list, make_peer("a", "up", true));
	json_object_array_add(fake_peers_list, make_peer("site-b", "dead", false));
	if (control_open(sock, NULL, &fake_ops, NULL, &ctl, err, sizeof(err)) < 0) {
		fprintf(stderr, "control_open: %s\n", err);
		return 1;
	}
	return 0;
}

static int suite_cleanup(void)
{
	control_close(ctl);
	json_object_put(fake_peers_list);
	rmdir(dir);
	return 0;
}

struct run {
	int status; /* exit code, or -1 */
	char out[1 << 16], err[4096];
	size_t out_len, err_len;
};

static void drain(int fd, char *buf, size_t cap, size_t *len, bool *open)
{
	for (;;) {
		if (*len + 1 >= cap) {
			char sink[512];
			if (read(fd, sink, sizeof(sink)) > 0)
				continue;
		} else {
			ssize_t n = read(fd, buf + *len, cap - 1 - *len);
			if (n > 0) {
				*len += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EAGAIN)
				break;
		}
		*open = false;
		break;
	}
	buf[*len] = '\0';
}

/*
 * Run dtlsgwctl with argv (NULL-terminated; "-s SOCK" is not added for you)
 * while the control server works. uid: if not 0, the child becomes that uid
 * first. stdin_text: fed to its standard input (NULL: /dev/null).
 */
static void run_as(struct run *r, uid_t uid, const char *stdin_text, const char *const *argv)
{
	int out[2], err[2], in[2];
	memset(r, 0, sizeof(*r));
	r->status = -1;
	CU_ASSERT_FATAL(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 &&
			pipe2(in, O_CLOEXEC) == 0);
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0))
			_exit(99);
		char *args[32];
		int n = 0;
		args[n++] = (char *)DTLSGWCTL_PATH;
		for (; argv[n - 1] && n < 31; n++)
			args[n] = (char *)argv[n - 1];
		args[n] = NULL;
		execv(DTLSGWCTL_PATH, args);
		fprintf(stderr, "exec %s: %s\n", DTLSGWCTL_PATH, strerror(errno));
		_exit(98);
	}
	close(out[1]);
	close(err[1]);
	close(in[0]);
	if (stdin_text)
		CU_ASSERT(write(in[1], stdin_text, strlen(stdin_text)) == (ssize_t)strlen(stdin_text));
	close(in[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);

	bool out_open = true, err_open = true, done = false;
	int wstatus = 0;
	uint64_t end = mono_ms() + 20000;
	while ((out_open || err_open || !done) && mono_ms() < end) {
		struct pollfd p[3] = { { .fd = control_fd(ctl), .events = POLLIN },
				       { .fd = out_open ? out[0] : -1, .events = POLLIN },
				       { .fd = err_open ? err[0] : -1, .events = POLLIN } };
		poll(p, 3, 20);
		if (p[0].revents)
			control_handle(ctl, mono_ms());
		if (out_open)
			drain(out[0], r->out, sizeof(r->out), &r->out_len, &out_open);
		if (err_open)
			drain(err[0], r->err, sizeof(r->err), &r->err_len, &err_open);
		if (!done && waitpid(pid, &wstatus, WNOHANG) == pid)
			done = true;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
	}
	close(out[0]);
	close(err[0]);
	if (done && WIFEXITED(wstatus))
		r->status = WEXITSTATUS(wstatus);
	if (getenv("TEST_CTL_SHOW")) { /* to look at the output as people see it */
		printf("\n$ dtlsgwctl");
		for (const char *const *a = argv; *a; a++)
			printf(" %s", *a);
		printf("   [exit %d]\n%s%s", r->status, r->out, r->err);
	}
}

static void run(struct run *r, const char *const *argv)
{
	run_as(r, 0, NULL, argv);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CTL(...) ARGS("-s", sock, __VA_ARGS__)

static void expect(const struct run *r, int status, const char *in_out, const char *in_err,
		   int line)
{
	bool ok = r->status == status && (!in_out || strstr(r->out, in_out)) &&
		  (!in_err || strstr(r->err, in_err));
	if (!ok)
		fprintf(stderr, "\n    line %d: exit %d (want %d)\n--- stdout\n%s--- stderr\n%s---\n",
			line, r->status, status, r->out, r->err);
	CU_ASSERT(ok);
}
#define EXPECT(r, status, in_out, in_err) expect((r), (status), (in_out), (in_err), __LINE__)

static struct json_object *parse_json(const char *s)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The line of text that starts with prefix, or NULL. */
static const char *line_of(const char *text, const char *prefix)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, prefix, strlen(prefix)) == 0)
			return l;
	return NULL;
}

/* ---- tests --------------------------------------------------------------------- */

static struct run r; /* big: not on the stack */

static void test_status(void)
{
	run(&r, CTL("status"));
	EXPECT(&r, 0, "version:   0.1.0\n", NULL);
	EXPECT(&r, 0, "uptime:    1 h 2 min\n", NULL);
	EXPECT(&r, 0, "listen:    [::]:4433\n", NULL);
	EXPECT(&r, 0, "received:  1000 B in 10 packets\n", NULL);
	EXPECT(&r, 0, "sent:      3.0 MiB in 1 packet\n", NULL);
	EXPECT(&r, 0, "drops:     policy 5\n", NULL);
	CU_ASSERT_EQUAL(r.err_len, 0);

	/* --json: the daemon's result, exactly */
	run(&r, CTL("--json", "status"));
	EXPECT(&r, 0, NULL, NULL);
	struct json_object *got = parse_json(r.out), *want;
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(fake_status(NULL, &want, NULL, 0), 0);
	CU_ASSERT(json_object_equal(got, want));
	CU_ASSERT_PTR_NULL(strchr(r.out, '\n') == r.out + r.out_len - 1 ? NULL : r.out);
	json_object_put(got);
	/* --pretty indents; --json may follow the command */
	run(&r, CTL("status", "--pretty"));
	EXPECT(&r, 0, "{\n", NULL);
	got = parse_json(r.out);
	CU_ASSERT(json_object_equal(got, want));
	json_object_put(got);
	json_object_put(want);
}

static void test_peers(void)
{
	run(&r, CTL("peers"));
	EXPECT(&r, 0, NULL, NULL);
	const char *h = line_of(r.out, "NAME");
	const char *a = line_of(r.out, "a ");
	const char *b = line_of(r.out, "site-b");
	CU_ASSERT_FATAL(h && a && b);
	/* aligned: each column starts at the same offset on every line */
	CU_ASSERT_EQUAL(strstr(h, "STATE") - h, strstr(a, "up") - a);
	CU_ASSERT_EQUAL(strstr(h, "STATE") - h, strstr(b, "dead") - b);
	CU_ASSERT_EQUAL(strstr(h, "ENDPOINT") - h, strstr(a, "192.0.2.7") - a);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "2 h ago"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "10 min ago"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "1.2 MiB"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "512 B"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b, "never"));
	/* right-aligned numbers end where their header ends */
	const char *drops_h = strstr(h, "DROPS");
	CU_ASSERT_EQUAL(strchr(h, '\n') - h, strchr(a, '\n') - a);
	CU_ASSERT_EQUAL(drops_h + 5 - h, strchr(a, '\n') - a);

	run(&r, CTL("peers", "--json"));
	struct json_object *got = parse_json(r.out);
	CU_ASSERT(json_object_equal(got, fake_peers_list));
	json_object_put(got);

	run(&r, CTL("peer", "a"));
	EXPECT(&r, 0, "peer:            a\n", NULL);
	EXPECT(&r, 0, "state:           up\n", NULL);
	EXPECT(&r, 0, "suite:           TLS_PSK_WITH_AES_128_GCM_SHA256\n", NULL);
	EXPECT(&r, 0, "allowed ips:     10.2.0.0/16, fd00:2::/48\n", NULL);
	EXPECT(&r, 0, "last handshake:  2 h ago (", NULL);
	EXPECT(&r, 0, "received:        1.2 MiB in 3402 packets\n", NULL);
	EXPECT(&r, 0, "drops:           policy 1, replay 2, mac 0, oversize 0\n", NULL);
	run(&r, CTL("peer", "site-b"));
	EXPECT(&r, 0, "last handshake:  never\n", NULL);
	run(&r, CTL("peer", "zz"));
	EXPECT(&r, 1, NULL, "dtlsgwctl: peer zz: no such peer\n");
	CU_ASSERT_EQUAL(r.out_len, 0);
	run(&r, CTL("peer", "bad name"));
	EXPECT(&r, 1, NULL, "not a valid peer name");
}

static void test_changes(void)
{
	run(&r, CTL("add-peer", "c", "psk_identity=c", "allowed_ips=10.3.0.0/16"));
	EXPECT(&r, 0, "added peer c\n", NULL);
	EXPECT(&r, 0, "state:           connecting\n", NULL);
	run(&r, CTL("add-peer", "d", "psk_identity=d"));
	EXPECT(&r, 1, NULL, "dtlsgwctl: [peer d]: no allowed_ips; a peer needs at least one prefix\n");
	run(&r, CTL("add-peer", "d", "allowed_ips"));
	EXPECT(&r, 2, NULL, "expected key=value");
	run(&r, CTL("add-peer"));
	EXPECT(&r, 2, NULL, "usage:");
	/* settings from stdin keep the key off the command line */
	run_as(&r, 0, "# a comment\n\npsk_identity = e\n psk = 00112233445566778899aabbccddeeff \n",
	       CTL("add-peer", "e", "allowed_ips=10.5.0.0/16", "-"));
	EXPECT(&r, 0, "state:           handshaking\n", NULL);
	run_as(&r, 0, "psk_identity\n", CTL("add-peer", "f", "-"));
	EXPECT(&r, 2, NULL, "stdin:1: expected key = value");
	run(&r, CTL("--json", "add-peer", "g", "allowed_ips=10.7.0.0/16"));
	struct json_object *got = parse_json(r.out);
	CU_ASSERT_PTR_NOT_NULL(got);
	json_object_put(got);

	run(&r, CTL("remove-peer", "c"));
	EXPECT(&r, 0, "removed peer c\n", NULL);
	run(&r, CTL("remove-peer", "c"));
	EXPECT(&r, 1, NULL, "peer c: no such peer");
	run(&r, CTL("remove-peer", "e"));
	run(&r, CTL("remove-peer", "g"));
	run(&r, CTL("peers", "--json"));
	got = parse_json(r.out);
	CU_ASSERT_EQUAL(json_object_array_length(got), 2);
	json_object_put(got);

	run(&r, CTL("disconnect", "a"));
	EXPECT(&r, 0, "disconnected peer a\n", NULL);
	run(&r, CTL("disconnect"));
	EXPECT(&r, 2, NULL, "usage: dtlsgwctl [options] disconnect NAME");

	int before = fake_reloads;
	run(&r, CTL("reload"));
	EXPECT(&r, 0, "reloaded: 2 added (x, y)\n", NULL);
	CU_ASSERT_PTR_NULL(strstr(r.out, "removed"));
	CU_ASSERT_EQUAL(fake_reloads, before + 1);

	run(&r, CTL("log-level", "debug"));
	EXPECT(&r, 0, "log level: debug (was info)\n", NULL);
	run(&r, CTL("--json", "log-level", "info"));
	EXPECT(&r, 0, "{\"level\":\"info\",\"previous\":\"debug\"}\n", NULL);
	run(&r, CTL("log-level", "loud"));
	EXPECT(&r, 1, NULL, "unknown level \"loud\"; use error, warning, notice, info or debug");
}

static void test_stats(void)
{
	run(&r, CTL("stats", "--prometheus"));
	EXPECT(&r, 0, "# TYPE dtlsgw_peer_rx_bytes_total counter\n", NULL);
	EXPECT(&r, 0, "dtlsgw_peer_rx_bytes_total{peer=\"a\"} 1258291\n", NULL);
	EXPECT(&r, 0, "dtlsgw_peer_up{peer=\"site-b\"} 0\n", NULL);
	EXPECT(&r, 0, "dtlsgw_tx_bytes_total 3145728\n", NULL);
	run(&r, CTL("stats"));
	EXPECT(&r, 0, "dtlsgw_peer_up{peer=\"a\"} 1\n", NULL);
	run(&r, CTL("stats", "--csv"));
	EXPECT(&r, 2, NULL, "usage:");
	run(&r, CTL("--json", "stats"));
	struct json_object *got = parse_json(r.out);
	struct json_object *v;
	CU_ASSERT(json_object_object_get_ex(got, "format", &v) &&
		  strcmp(json_object_get_string(v), "prometheus") == 0);
	json_object_put(got);
}

static void test_cli(void)
{
	run(&r, ARGS("--version"));
	EXPECT(&r, 0, "dtlsgwctl ", NULL);
	run(&r, ARGS("--help"));
	EXPECT(&r, 0, "add-peer NAME key=value", NULL);
	run(&r, ARGS("-h"));
	EXPECT(&r, 0, "usage: dtlsgwctl", NULL);
	run(&r, ARGS("-s", sock));
	EXPECT(&r, 2, NULL, "usage: dtlsgwctl");
	run(&r, CTL("frobnicate"));
	EXPECT(&r, 2, NULL, "unknown command \"frobnicate\"");
	run(&r, CTL("status", "extra"));
	EXPECT(&r, 2, NULL, "usage: dtlsgwctl [options] status");
	run(&r, ARGS("-t", "0", "status"));
	EXPECT(&r, 2, NULL, "-t: 0:");
	run(&r, ARGS("--bogus"));
	EXPECT(&r, 2, NULL, NULL);
}

static void test_no_daemon(void)
{
	char path[96];

	/* nothing there */
	snprintf(path, sizeof(path), "%s/nothing.sock", dir);
	run(&r, ARGS("-s", path, "status"));
	char want[256];
	snprintf(want, sizeof(want),
		 "dtlsgwctl: cannot connect to %s: No such file or directory (is dtlsgwd running?)\n",
		 path);
	EXPECT(&r, 3, NULL, want);

	/* a stale socket file */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	run(&r, ARGS("-s", path, "status"));
	EXPECT(&r, 3, NULL, "Connection refused (is dtlsgwd running?)");

	/* a daemon that never answers: the timeout */
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CU_ASSERT_EQUAL(listen(fd, 4), 0);
	uint64_t t0 = mono_ms();
	run(&r, ARGS("-s", path, "-t", "1", "status"));
	EXPECT(&r, 3, NULL, "dtlsgwctl: no reply from dtlsgwd within 1 s\n");
	CU_ASSERT(mono_ms() - t0 < 5000);
	close(fd);
	unlink(path);

	/* a socket that others may not open */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chmod(sock, 0600), 0);
		run_as(&r, 65534, NULL, CTL("status"));
		EXPECT(&r, 3, NULL, "Permission denied (root or group dtlsgw needed)");
		CU_ASSERT_EQUAL(chmod(sock, 0666), 0);
		/* may read, may not change */
		run_as(&r, 65534, NULL, CTL("peers"));
		EXPECT(&r, 0, "NAME", NULL);
		run_as(&r, 65534, NULL, CTL("reload"));
		EXPECT(&r, 1, NULL, "dtlsgwctl: permission denied: reload needs root");
		CU_ASSERT_EQUAL(chmod(sock, 0660), 0);
	} else {
		printf("(permission checks skipped: not root) ");
	}
}

/* -i NAME: the socket of instance dtlsgw@NAME, /run/dtlsgw/NAME.sock. */
static void test_instance(void)
{
	char name[64], path[128], err[256];
	struct control *c2 = NULL;
	bool made_dir = false;

	run(&r, ARGS("-i", "bad/x", "status"));
	EXPECT(&r, 2, NULL, "-i: \"bad/x\" is not an instance name");
	run(&r, ARGS("-i", "..", "status"));
	EXPECT(&r, 2, NULL, "is not an instance name");
	if (geteuid() != 0)
		return; /* /run/dtlsgw is root's */
	snprintf(name, sizeof(name), "test-ctl-%d", (int)getpid());
	snprintf(path, sizeof(path), "/run/dtlsgw/%s.sock", name);
	if (mkdir("/run/dtlsgw", 0755) == 0)
		made_dir = true;
	CU_ASSERT_FATAL(control_open(path, NULL, &fake_ops, NULL, &c2, err, sizeof(err)) == 0);
	struct control *main_ctl = ctl;
	ctl = c2; /* the one run() serves */
	run(&r, ARGS("-i", name, "status"));
	ctl = main_ctl;
	EXPECT(&r, 0, "version:   0.1.0\n", NULL);
	control_close(c2);
	unlink(path);
	run(&r, ARGS("-i", name, "status"));
	EXPECT(&r, 3, NULL, path);
	if (made_dir)
		rmdir("/run/dtlsgw");
}

static CU_TestInfo tests[] = {
	{ "-i NAME: an instance's socket", test_instance },
	{ "status, --json, --pretty", test_status },
	{ "peers table and peer NAME", test_peers },
	{ "add-peer, remove-peer, disconnect, reload, log-level", test_changes },
	{ "stats --prometheus", test_stats },
	{ "usage, help, version", test_cli },
	{ "no daemon, stale socket, silent daemon, permission denied", test_no_daemon },
	CU_TEST_INFO_NULL,
};

const struct unit_suite unit_suite = { "ctl", suite_init, suite_cleanup, tests };
