/*
 * The certificate files of a configuration, loaded as a start loads them: the
 * gateway's certificate chain and key (gw_add_local_cert) and the CA files
 * (gw_add_trusted). A start builds its libdtls configs with these two; --check runs
 * them on a scratch config (config_verify) and reports each failure at the line of the
 * key that named the file, so that what --check accepts a start accepts too.
 *
 * Messages name the file and never start with the config key: the caller puts the key
 * before them ("[gateway] cert: ..." in a diagnostic, "gateway cert: ..." in the log).
 */
#ifndef DTLSGW_DAEMON_CONFIG_VERIFY_H
#define DTLSGW_DAEMON_CONFIG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <dtls/dtls.h>

#define CONFIG_VERIFY_MUST_CHECK __attribute__((warn_unused_result))

/* A certificate that expires within this many days is warned about. */
#define CONFIG_VERIFY_EXPIRY_DAYS 30

/* Which file of the gateway's pair a failure of gw_add_local_cert() is about. */
enum gw_cert_part {
	GW_CERT_PART_CERT, /* the cert file (also: the pair does not match) */
	GW_CERT_PART_KEY,  /* the key file */
};

/*
 * Adds the gateway's certificate chain (file cert) and private key (file key) to d. The
 * key file is checked (owner, mode) and read through one descriptor (secret_file_load)
 * and handed to libdtls from memory, so what is checked is what is loaded. Returns 0,
 * or -EINVAL / -ENOMEM with a reason in msg ("CERT does not match key KEY", "KEY is
 * readable by others; chmod 600", "CERT: certificate (CN=x) expired on ...") and in
 * *part the file it is about.
 */
int gw_add_local_cert(struct dtls_config *d, const char *cert, const char *key, char *msg,
		      size_t msglen, enum gw_cert_part *part) CONFIG_VERIFY_MUST_CHECK;

/*
 * Adds the CA certificates of file to d's trusted store. Returns 0, or -EINVAL /
 * -ENOMEM with a reason in msg ("FILE is a private key, not a certificate",
 * "FILE: not a certificate in PEM or DER").
 */
int gw_add_trusted(struct dtls_config *d, const char *file, char *msg,
		   size_t msglen) CONFIG_VERIFY_MUST_CHECK;

/*
 * Whether config_check() also loads the certificate files (config_verify()): on for
 * --check, off by default. Set once, before config_load().
 */
void config_verify_enable(bool on);

struct parser;
/*
 * After the whole-file checks: loads the gateway's cert and key and every ca file the
 * configuration names (each file once, reported at the first key that names it) with
 * gw_add_local_cert() and gw_add_trusted(); a failure is an error at that key's line;
 * a certificate of the gateway's chain or of a CA file that has expired or expires
 * within CONFIG_VERIFY_EXPIRY_DAYS is a warning naming the file, the subject and the
 * date (an expired gateway certificate is an error, as a start refuses it). Does
 * nothing unless config_verify_enable(true).
 */
void config_verify(struct parser *p);

#endif
