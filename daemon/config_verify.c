/* Loading the certificate files of a configuration as a start does (config_verify.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/config_internal.h"
#include "daemon/config_verify.h"
#include "daemon/secret_file.h"

int gw_add_local_cert(struct dtls_config *d, const char *cert, const char *key, char *msg,
		      size_t msglen, enum gw_cert_part *part)
{
	char err[512] = "", why[128] = "";
	size_t klen = strlen(key), len;
	uint8_t *buf;
	int rc = secret_file_load(key, SECRET_FILE_KEY_MAX, &buf, &len, why, sizeof(why));

	if (rc < 0) {
		*part = GW_CERT_PART_KEY;
		snprintf(msg, msglen, "%s %s", key, why);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	rc = dtls_config_add_local_cert_mem(d, cert, buf, len, key, err, sizeof(err));
	secret_file_free(buf, len);
	if (rc == DTLS_OK)
		return 0;
	/* libdtls's reasons start with the name of the file they are about. */
	*part = !strncmp(err, key, klen) && err[klen] == ':' && rc != DTLS_ERR_KEY_MISMATCH
			? GW_CERT_PART_KEY : GW_CERT_PART_CERT;
	if (rc == DTLS_ERR_KEY_MISMATCH)
		snprintf(msg, msglen, "%s does not match key %s", cert, key);
	else
		snprintf(msg, msglen, "%s", err[0] ? err : dtls_strerror(rc));
	return rc == DTLS_ERR_NOMEM ? -ENOMEM : -EINVAL;
}

int gw_add_trusted(struct dtls_config *d, const char *file, char *msg, size_t msglen)
{
	char err[512] = "";
	int rc = dtls_config_add_trusted(d, file, err, sizeof(err));

	if (rc == DTLS_OK)
		return 0;
	snprintf(msg, msglen, "%s", err[0] ? err : dtls_strerror(rc));
	return rc == DTLS_ERR_NOMEM ? -ENOMEM : -EINVAL;
}

static bool verify_on;

void config_verify_enable(bool on)
{
	verify_on = on;
}

/* Where a file was named: the diagnostic's line, section and key. */
struct named {
	struct parser *p;
	unsigned line;
	const char *label, *key, *file;
	int64_t now;
};

static void on_cert(void *arg, const struct dtls_cert_info *ci)
{
	const struct named *n = arg;
	int64_t soon = n->now + (int64_t)CONFIG_VERIFY_EXPIRY_DAYS * 86400;
	time_t t = (time_t)ci->not_after;
	struct tm tm;
	char when[32];

	if (ci->not_after > soon)
		return;
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)ci->not_after);
	if (ci->not_after < n->now)
		config_report(n->p, true, n->line, n->label, n->key,
			      "%s: certificate %s expired on %s", n->file, ci->subject, when);
	else
		config_report(n->p, true, n->line, n->label, n->key,
			      "%s: certificate %s expires on %s, in %lld days", n->file,
			      ci->subject, when, (long long)((ci->not_after - n->now) / 86400));
}

/* The expiry warnings of a file that loaded. */
static void warn_expiry(struct named *n)
{
	char err[512];

	if (dtls_cert_file_info(n->file, on_cert, n, err, sizeof(err)) == DTLS_ERR_NOMEM)
		n->p->oom = true; /* anything else: the load just read it */
}

static void report(struct named *n, int rc, const char *msg)
{
	if (rc == -ENOMEM)
		n->p->oom = true;
	else
		config_report(n->p, false, n->line, n->label, n->key, "%s", msg);
}

/* A CA file, unless files[0..*nf) holds it already (then it was reported there). */
static void verify_ca(struct named *n, const char **files, size_t *nf)
{
	struct dtls_config *d;
	char msg[600];
	int rc;

	for (size_t i = 0; i < *nf; i++)
		if (!strcmp(files[i], n->file))
			return;
	files[(*nf)++] = n->file;
	if (!(d = dtls_config_new())) {
		n->p->oom = true;
		return;
	}
	if ((rc = gw_add_trusted(d, n->file, msg, sizeof(msg))) < 0)
		report(n, rc, msg);
	else
		warn_expiry(n);
	dtls_config_unref(d);
}

static void verify_local(struct named *n, const struct gw_config *cfg)
{
	struct dtls_config *d = dtls_config_new();
	enum gw_cert_part part;
	char msg[600];
	int rc;

	if (!d) {
		n->p->oom = true;
		return;
	}
	rc = gw_add_local_cert(d, cfg->cert, cfg->key, msg, sizeof(msg), &part);
	dtls_config_unref(d);
	if (rc < 0 && part == GW_CERT_PART_KEY) {
		n->line = n->p->gw_key_line[GK_KEY];
		n->key = "key";
	}
	if (rc < 0)
		report(n, rc, msg);
	else
		warn_expiry(n);
}

void config_verify(struct parser *p)
{
	const struct gw_config *cfg = p->cfg;
	const unsigned *gl = p->gw_key_line;
	struct named n = { .p = p, .label = "gateway", .now = (int64_t)time(NULL) };
	const char **seen;
	size_t n_files = 1, n_seen = 0;
	char label[64];

	if (!verify_on)
		return;
	if (cfg->cert && cfg->key) {
		n.line = gl[GK_CERT];
		n.key = "cert";
		n.file = cfg->cert;
		verify_local(&n, cfg);
	}
	for (size_t i = 0; i < cfg->n_peers; i++)
		n_files += cfg->peers[i].cert.n_ca_files;
	if (!(seen = calloc(n_files, sizeof(*seen)))) {
		p->oom = true;
		return;
	}
	if (cfg->ca) {
		n = (struct named){ .p = p, .line = gl[GK_CA], .label = "gateway", .key = "ca",
				    .file = cfg->ca, .now = n.now };
		verify_ca(&n, seen, &n_seen);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct peer_policy *pol = &cfg->peers[i];
		snprintf(label, sizeof(label), "peer %s", pol->name);
		/* A peer's several ca lines: the first one's line (the parser keeps no more). */
		for (size_t j = 0; j < pol->cert.n_ca_files; j++) {
			n = (struct named){ .p = p, .line = p->meta[i].key_line[PK_CA],
					    .label = label, .key = "ca", .file = pol->cert.ca_files[j],
					    .now = n.now };
			verify_ca(&n, seen, &n_seen);
		}
	}
	free(seen);
}
