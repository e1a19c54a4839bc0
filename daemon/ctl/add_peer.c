/*
 * dtlsgwctl add-peer NAME key=value... : a new peer with the settings of a
 * [peer NAME] section of dtlsgw.conf(5). An argument "-" reads more settings
 * from standard input, one "key = value" per line (blank lines and lines
 * starting with # or ; are skipped), which keeps a psk off the command line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

static const char usage[] = "add-peer NAME key=value... [-]";

/* Append [key, value] to settings; key and value are trimmed of blanks. */
static bool add_setting(struct json_object *settings, const char *text, size_t keylen,
			const char *value)
{
	while (keylen > 0 && isblank((unsigned char)text[keylen - 1]))
		keylen--;
	while (isblank((unsigned char)*text) && keylen > 0)
		text++, keylen--;
	while (isblank((unsigned char)*value))
		value++;
	size_t vlen = strlen(value);
	while (vlen > 0 && isspace((unsigned char)value[vlen - 1]))
		vlen--;
	if (keylen == 0)
		return false;
	for (size_t i = 0; i < keylen; i++)
		if (!islower((unsigned char)text[i]) && !isdigit((unsigned char)text[i]) &&
		    text[i] != '_')
			return false;
	struct json_object *pair = json_object_new_array();
	json_object_array_add(pair, json_object_new_string_len(text, (int)keylen));
	json_object_array_add(pair, json_object_new_string_len(value, (int)vlen));
	json_object_array_add(settings, pair);
	return true;
}

static bool read_stdin(struct json_object *settings)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	bool ok = true;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		char *eq = strchr(s, '=');
		if (!eq || !add_setting(settings, s, (size_t)(eq - s), eq + 1)) {
			fprintf(stderr, "dtlsgwctl: stdin:%u: expected key = value\n", lineno);
			ok = false;
			break;
		}
	}
	if (line) {
		explicit_bzero(line, cap); /* may have held a key */
		free(line);
	}
	return ok;
}

int cmd_add_peer(const struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return ctl_usage(usage);
	struct json_object *settings = json_object_new_array();
	bool used_stdin = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 && !used_stdin) {
			used_stdin = true;
			if (!read_stdin(settings)) {
				json_object_put(settings);
				return EXIT_USAGE;
			}
			continue;
		}
		char *eq = strchr(argv[i], '=');
		if (!eq || !add_setting(settings, argv[i], (size_t)(eq - argv[i]), eq + 1)) {
			fprintf(stderr, "dtlsgwctl: add-peer: \"%s\": expected key=value\n",
				argv[i]);
			json_object_put(settings);
			return ctl_usage(usage);
		}
	}
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, CONTROL_ARG_NAME, json_object_new_string(argv[1]));
	json_object_object_add(args, CONTROL_ARG_SETTINGS, settings);

	struct json_object *result;
	int rc = ctl_call(ctl, CONTROL_CMD_NAME_ADD_PEER, args, &result);
	if (rc != EXIT_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(ctl, result);
	} else {
		printf("added peer %s\n", argv[1]);
		if (json_object_is_type(result, json_type_object))
			print_peer(result);
	}
	json_object_put(result);
	return EXIT_OK;
}
