/*
 * dtlsgwd -c FILE [--foreground] [--check] [--user USER]
 *
 * The main thread is the control thread: it loads the configuration, builds the
 * gateway, starts the workers, then waits on a timerfd (GW_TICK_MS) and a signalfd:
 *   SIGTERM, SIGINT  close_notify to every peer, up to STOP_WAIT_MS for the answers
 *                    (input is still processed), then routes and addresses removed,
 *                    exit 0 (a second signal exits at once);
 *   SIGHUP           reload the configuration (reload.c);
 *   SIGUSR1          one log line per peer with its state and counters.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/config_verify.h"
#include "daemon/gateway.h"
#include "daemon/control_ops.h"
#include "daemon/privdrop.h"
#include "daemon/secret_file.h"

#define STOP_WAIT_MS 1000

static void usage(FILE *f)
{
	fprintf(f, "usage: dtlsgwd [-c FILE] [--foreground] [--check] [--user USER]\n"
		   "  -c, --config FILE   configuration (default %s)\n"
		   "  -f, --foreground    do not detach; log to stderr\n"
		   "  -n, --check         validate the configuration, load its certificates and\n"
		   "                      keys, print every problem, exit\n"
		   "  -u, --user USER     started as root, run as USER with only CAP_NET_ADMIN once\n"
		   "                      the device and sockets are open (default %s); USER must\n"
		   "                      exist. --user root: stay root with every capability\n"
		   "  -V, --version       print the version\n",
		   CONFIG_DEFAULT_PATH, PRIV_DTLSGW_USER);
}

/* Loads path and prints the diagnostics; with check, exits with the verdict. */
static struct gw_config *load(const char *path, bool check)
{
	struct config_diags diags;
	struct gw_config *cfg = NULL;
	int rc;

	config_diags_init(&diags);
	/* --check loads the certificates and keys as a start would. */
	config_verify_enable(check);
	rc = config_load(path, &cfg, &diags);
	config_diags_print(&diags, stderr);
	if (check) {
		if (rc == 0)
			printf("%s: configuration OK (%zu peer%s%s)\n", path, cfg->n_peers,
			       cfg->n_peers == 1 ? "" : "s",
			       diags.n_warnings ? ", with warnings" : "");
		else
			printf("%s: %zu error%s\n", path, diags.n_errors,
			       diags.n_errors == 1 ? "" : "s");
		config_diags_free(&diags);
		config_free(cfg);
		exit(rc == 0 ? 0 : 1);
	}
	config_diags_free(&diags);
	if (rc < 0) {
		fprintf(stderr, "dtlsgwd: %s: cannot use this configuration\n", path);
		exit(1);
	}
	return cfg;
}

static int watch(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The control loop; returns the exit status. */
static int run(struct gateway *gw, struct control *ctl, const char *path)
{
	struct itimerspec its = { .it_interval = { 0, GW_TICK_MS * 1000000L },
				  .it_value = { 0, GW_TICK_MS * 1000000L } };
	sigset_t sigs;
	int sfd, tfd, epfd;
	uint64_t stop_at = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0 ||
	    timerfd_settime(tfd, 0, &its, NULL) < 0 || (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    watch(epfd, sfd) < 0 || watch(epfd, tfd) < 0) {
		log_warn("control loop");
		return 1;
	}
	if (watch(epfd, control_fd(ctl)) < 0) {
		log_warn("control socket");
		return 1;
	}
	gw_timers_tick(gw, now_ms()); /* dial at once */
	for (;;) {
		struct epoll_event ev[3];
		int n = epoll_wait(epfd, ev, 3, -1);
		uint64_t now;

		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == control_fd(ctl)) {
				control_handle(ctl, now_ms());
				continue;
			}
			if (ev[i].data.fd == tfd) {
				uint64_t ticks;
				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					log_warn("timerfd");
				continue;
			}
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGHUP:
					log_info("SIGHUP: reloading %s", path);
					{ char e[256]; GW_IGNORE(gw_control_ops.reload(gw, NULL, e, sizeof(e))); }
					break;
				case SIGUSR1:
					gateway_dump_stats(gw);
					break;
				default:
					if (stop_at) {
						log_notice("second signal: stopping now");
						stop_at = 1;
						break;
					}
					log_notice("%s: closing every session", strsignal((int)si.ssi_signo));
					gateway_close_all(gw);
					stop_at = now_ms() + STOP_WAIT_MS;
					break;
				}
			}
		}
		now = now_ms();
		gw_timers_tick(gw, now);
		if (stop_at && (now >= stop_at || smap_count(gw->map) == 0))
			break;
	}
	close(epfd);
	close(tfd);
	close(sfd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	const char *user = PRIV_DTLSGW_USER;
	bool foreground = false, check = false;
	struct gw_config *cfg;
	struct gateway *gw;
	sigset_t sigs;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:fnu:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'u': user = optarg; break;
		case 'f': foreground = true; break;
		case 'n': check = true; break;
		case 'V': printf("dtlsgwd %s\n", DTLSGW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Key files may belong to the user the daemon will run as. A root start for a
	 * user that does not exist stops here, before anything is opened: staying root
	 * is a choice (--user root), never a fallback. */
	const bool as_root = strcmp(user, "root") == 0;
	if (!as_root) {
		struct passwd *pw = getpwnam(user);
		if (pw) {
			secret_file_set_owner(pw->pw_uid);
		} else if (geteuid() == 0 && !check) {
			fprintf(stderr,
				"dtlsgwd: user %s does not exist: create it (adduser --system %s), "
				"name another with --user USER, or stay root on purpose with "
				"--user root\n",
				user, user);
			return 1;
		}
	}
	cfg = load(path, check);
	/* Reloads read the file again after daemon() has moved to "/". */
	char *abs_path = realpath(path, NULL);
	if (abs_path)
		path = abs_path;
	log_set_level(cfg->log_level);
	/* Detach before dtls_init(): libsodium's generator aborts in a child forked after
	 * it was initialised. */
	if (!foreground && daemon(0, 1) < 0)
		fatal("daemon");
	if (dtls_init() < 0)
		fatalx("cannot initialise the crypto libraries");

	/* Every thread inherits this mask; the signals are read from the signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (gateway_new(cfg, path, &gw) < 0)
		fatalx("cannot start; see above");
	struct control *ctl = NULL;
	char err[256];
	gw_control_started();
	if (control_open(gw->cfg->control_socket, NULL, &gw_control_ops, gw, &ctl, err, sizeof(err)) < 0) {
		gateway_free(gw);
		fatalx("control socket: %s", err);
	}
	/* Everything privileged is open (TUN queues, UDP sockets, the control socket): drop
	 * to the --user user (dtlsgw), keeping only CAP_NET_ADMIN for routes on reload and
	 * at exit; a failure, a missing user included, stops the daemon. Before the workers
	 * start, so that no thread keeps root's credentials. */
	if (as_root && geteuid() == 0) {
		log_notice("running as root with every capability (--user root)");
	} else {
		int rc = priv_drop(user, true, err, sizeof(err));
		if (rc < 0) {
			control_close(ctl);
			gateway_free(gw);
			fatalx("dropping privileges: %s; not starting", err);
		}
		log_info("%s", err);
	}
	if (gateway_start(gw) < 0) {
		control_close(ctl);
		gateway_free(gw);
		fatalx("cannot start the workers");
	}
	log_notice("dtlsgwd %s started (pid %d)", DTLSGW_VERSION, (int)getpid());
	status = run(gw, ctl, path);
	control_close(ctl);
	gateway_free(gw);
	log_notice("stopped");
	free(abs_path);
	return status;
}
