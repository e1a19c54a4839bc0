/*
 * dtlsgwctl [-s SOCKET] [--json] COMMAND [ARGS]: see and change a running
 * dtlsgwd through its control socket. See dtlsgwctl(8).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

/* The instances of dtlsgw@NAME.service keep their control sockets here. */
#define CTL_INSTANCE_DIR "/run/dtlsgw"

static const struct {
	const char *name;
	ctl_cmd_fn fn;
	const char *args, *help;
} commands[] = {
	{ "status", cmd_status, "", "the gateway: version, uptime, addresses, totals" },
	{ "peers", cmd_peers, "", "every peer: state, endpoint, traffic" },
	{ "peer", cmd_peer, "NAME", "everything about one peer" },
	{ "add-peer", cmd_add_peer, "NAME key=value... [-]", "add a peer ([peer] keys of dtlsgw.conf)" },
	{ "remove-peer", cmd_remove_peer, "NAME", "remove a peer (close_notify to it)" },
	{ "disconnect", cmd_disconnect, "NAME", "end a peer's session (an initiator dials again)" },
	{ "reload", cmd_reload, "", "re-read the configuration, as SIGHUP" },
	{ "stats", cmd_stats, "[--prometheus]", "counters in the Prometheus text format" },
	{ "log-level", cmd_log_level, "LEVEL", "error, warning, notice, info or debug" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(FILE *f)
{
	fprintf(f,
		"usage: dtlsgwctl [-s SOCKET | -i NAME] [--json [--pretty]] [-t SECONDS] COMMAND [ARGS]\n"
		"\n"
		"  -s, --socket PATH    control socket (default %s)\n"
		"  -i, --instance NAME  the instance dtlsgw@NAME: socket %s/NAME.sock\n"
		"  -j, --json           print the daemon's result as JSON\n"
		"  -p, --pretty         indent the JSON\n"
		"  -t, --timeout SECS   give up after this long (default %d)\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n"
		"\ncommands:\n",
		CONTROL_DEFAULT_SOCKET, CTL_INSTANCE_DIR, CTL_DEFAULT_TIMEOUT_S);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s %s", commands[i].name, commands[i].args);
		fprintf(f, "  %-32s %s\n", left, commands[i].help);
	}
}

/* A systemd instance name as dtlsgw@NAME uses it for /etc/dtlsgw/NAME.conf. */
static bool instance_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

int ctl_usage(const char *usage)
{
	fprintf(stderr, "usage: dtlsgwctl [options] %s\n", usage);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "instance", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .socket = CONTROL_DEFAULT_SOCKET, .timeout_s = CTL_DEFAULT_TIMEOUT_S };
	static char instance_socket[108];
	int c;

	/* "+": options end at the command; its own arguments are its business */
	while ((c = getopt_long(argc, argv, "+s:i:jpt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'i':
			if (!instance_name_ok(optarg) ||
			    snprintf(instance_socket, sizeof(instance_socket), "%s/%s.sock",
				     CTL_INSTANCE_DIR, optarg) >= (int)sizeof(instance_socket)) {
				fprintf(stderr, "dtlsgwctl: -i: \"%s\" is not an instance name "
					"(letters, digits, '.', '_', '-')\n", optarg);
				return EXIT_USAGE;
			}
			ctl.socket = instance_socket;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'p':
			ctl.json = ctl.pretty = true;
			break;
		case 't': {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v == 0 || v > 3600) {
				fprintf(stderr, "dtlsgwctl: -t: %s: not 1 to 3600 seconds\n",
					optarg);
				return EXIT_USAGE;
			}
			ctl.timeout_s = (unsigned)v;
			break;
		}
		case 'h':
			help(stdout);
			return EXIT_OK;
		case 'V':
			printf("dtlsgwctl %s\n", DTLSGW_VERSION);
			return EXIT_OK;
		default:
			help(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return EXIT_USAGE;
	}

	/* --json and --pretty may also follow the command ("dtlsgwctl peers --json") */
	int n = 0;
	char **args = argv + optind;
	int nargs = argc - optind;
	for (int i = 0; i < nargs; i++) {
		if (i > 0 && (strcmp(args[i], "--json") == 0 || strcmp(args[i], "-j") == 0))
			ctl.json = true;
		else if (i > 0 && (strcmp(args[i], "--pretty") == 0 || strcmp(args[i], "-p") == 0))
			ctl.json = ctl.pretty = true;
		else
			args[n++] = args[i];
	}
	args[n] = NULL;

	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(args[0], commands[i].name) == 0)
			return commands[i].fn(&ctl, n, args);
	if (strcmp(args[0], "help") == 0) {
		help(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "dtlsgwctl: unknown command \"%s\" (see dtlsgwctl --help)\n", args[0]);
	return EXIT_USAGE;
}
