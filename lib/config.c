/* The public configuration API. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handshake/engine.h"
#include "pki/pki.h"

int dtls_init(void)
{
	return crypto_init();
}

static uint64_t system_wall_clock(void)
{
	return (uint64_t)time(NULL);
}

struct dtls_config *dtls_config_new(void)
{
	if (crypto_init() < 0)
		return NULL;
	struct dtls_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	atomic_init(&cfg->refs, 1);
	/* Default preference: AES-GCM first (AES instructions), then the rest of the table. */
	for (size_t i = 0; i < suite_count && cfg->n_suites < CFG_MAX_SUITES; i++)
		cfg->suites[cfg->n_suites++] = suite_table[i].id;
	cfg->mtu = 1400;
	cfg->timer_initial_ms = 1000;
	cfg->timer_max_ms = 60000;
	cfg->timer_total_ms = 120000;
	cfg->max_message = 32768;
	cfg->allow_reneg = true;
	cfg->reneg_max = DTLS_DEFAULT_RENEGOTIATION_MAX;
	cfg->reneg_window_ms = DTLS_DEFAULT_RENEGOTIATION_WINDOW_MS;
	cfg->cookies = true;
	cfg->wall_clock = system_wall_clock;
	pthread_mutex_init(&cfg->cert_lock, NULL);
	return cfg;
}

void dtls_config_ref(struct dtls_config *cfg)
{
	atomic_fetch_add(&cfg->refs, 1);
}

void dtls_config_unref(struct dtls_config *cfg)
{
	if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
		return;
	for (size_t i = 0; i < cfg->n_local; i++) {
		pki_identity_unref(cfg->local[i].id);
		free(cfg->local[i].file);
	}
	pki_trust_unref(cfg->trust);
	if (cfg->psks)
		crypto_wipe(cfg->psks, cfg->n_psks * sizeof(*cfg->psks));
	free(cfg->psks);
	free(cfg->server_name);
	pthread_mutex_destroy(&cfg->cert_lock);
	crypto_wipe(cfg, sizeof(*cfg));
	free(cfg);
}

const char *dtls_suite_name(uint16_t id)
{
	const struct suite *su = suite_by_id(id);
	return su ? su->name : NULL;
}

int dtls_suite_id(const char *name)
{
	const struct suite *su = name ? suite_by_name(name) : NULL;
	return su ? su->id : DTLS_ERR_ARG;
}

int dtls_suite_overhead(uint16_t id)
{
	const struct suite *su = suite_by_id(id);
	return su ? (int)(REC_HEADER_LEN + suite_record_overhead(su)) : DTLS_ERR_ARG;
}

bool dtls_suite_is_forward_secret(uint16_t id)
{
	const struct suite *su = suite_by_id(id);
	return su && suite_is_ecdhe(su);
}

bool dtls_suite_is_aead(uint16_t id)
{
	const struct suite *su = suite_by_id(id);
	return su && su->kind == CIPHER_KIND_AEAD;
}

size_t dtls_suites_recommended(uint16_t *ids, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < suite_count; i++) {
		if (!suite_is_recommended(&suite_table[i]))
			continue;
		if (n < cap)
			ids[n] = suite_table[i].id;
		n++;
	}
	return n;
}

int dtls_config_set_ciphers(struct dtls_config *cfg, const char *list)
{
	uint16_t ids[CFG_MAX_SUITES];
	size_t n = 0;
	const char *p = list;
	while (p && *p) {
		size_t len = strcspn(p, ", ");
		if (len) {
			char name[96];
			ENSURE(len < sizeof(name), DTLS_ERR_ARG);
			memcpy(name, p, len);
			name[len] = 0;
			const struct suite *su = suite_by_name(name);
			ENSURE(su, DTLS_ERR_ARG);
			ENSURE(n < CFG_MAX_SUITES, DTLS_ERR_ARG);
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup |= ids[i] == su->id;
			if (!dup)
				ids[n++] = su->id;
		}
		p += len;
		p += strspn(p, ", ");
	}
	ENSURE(n > 0, DTLS_ERR_ARG);
	memcpy(cfg->suites, ids, n * sizeof(ids[0]));
	cfg->n_suites = n;
	return DTLS_OK;
}

int dtls_config_add_psk(struct dtls_config *cfg, const uint8_t *identity, size_t identity_len, const uint8_t *key,
			size_t key_len)
{
	ENSURE(identity_len > 0 && identity_len <= DTLS_MAX_PSK_IDENTITY, DTLS_ERR_ARG);
	ENSURE(key_len > 0 && key_len <= DTLS_MAX_PSK_LEN, DTLS_ERR_ARG);
	struct psk_entry *p = realloc(cfg->psks, (cfg->n_psks + 1) * sizeof(*p));
	ENSURE(p, DTLS_ERR_NOMEM);
	cfg->psks = p;
	struct psk_entry *e = &p[cfg->n_psks++];
	memset(e, 0, sizeof(*e));
	memcpy(e->identity, identity, identity_len);
	e->identity_len = identity_len;
	memcpy(e->key, key, key_len);
	e->key_len = key_len;
	return DTLS_OK;
}

int dtls_config_set_psk_hint(struct dtls_config *cfg, const char *hint)
{
	ENSURE(hint && strlen(hint) <= DTLS_MAX_PSK_IDENTITY, DTLS_ERR_ARG);
	strcpy(cfg->psk_hint, hint);
	return DTLS_OK;
}

void dtls_config_set_psk_lookup(struct dtls_config *cfg, dtls_psk_lookup_fn fn, void *arg)
{
	cfg->psk_lookup = fn;
	cfg->psk_lookup_arg = arg;
}

void dtls_config_reveal_psk_identities(struct dtls_config *cfg, bool reveal)
{
	cfg->reveal_psk_identities = reveal;
}

int dtls_config_set_mtu(struct dtls_config *cfg, size_t mtu)
{
	ENSURE(mtu >= 200 && mtu <= DTLS_MAX_DATAGRAM - REC_HEADROOM - REC_TAILROOM, DTLS_ERR_ARG);
	cfg->mtu = mtu;
	return DTLS_OK;
}

int dtls_config_set_timers(struct dtls_config *cfg, uint32_t initial_ms, uint32_t max_ms, uint32_t total_ms)
{
	ENSURE(initial_ms >= 1 && max_ms >= initial_ms && total_ms >= initial_ms, DTLS_ERR_ARG);
	cfg->timer_initial_ms = initial_ms;
	cfg->timer_max_ms = max_ms;
	cfg->timer_total_ms = total_ms;
	return DTLS_OK;
}

int dtls_config_set_max_message(struct dtls_config *cfg, size_t max)
{
	ENSURE(max >= 1024 && max <= HS_MAX_LENGTH, DTLS_ERR_ARG);
	cfg->max_message = max;
	return DTLS_OK;
}

void dtls_config_require_ems(struct dtls_config *cfg, bool require) { cfg->require_ems = require; }
void dtls_config_allow_renegotiation(struct dtls_config *cfg, bool allow) { cfg->allow_reneg = allow; }
void dtls_config_set_cookies(struct dtls_config *cfg, bool on) { cfg->cookies = on; }

int dtls_config_set_renegotiation_limit(struct dtls_config *cfg, unsigned max, uint32_t window_ms)
{
	ENSURE(!window_ms || (max >= 1 && max <= DTLS_MAX_RENEGOTIATION_LIMIT), DTLS_ERR_ARG);
	cfg->reneg_max = max;
	cfg->reneg_window_ms = window_ms;
	return DTLS_OK;
}

void dtls_config_verify_client(struct dtls_config *cfg, bool on, bool require)
{
	cfg->verify_client = on;
	cfg->require_client_cert = on && require;
}

int dtls_config_set_server_name(struct dtls_config *cfg, const char *name)
{
	ENSURE(name && *name && strlen(name) <= HELLO_MAX_SERVER_NAME, DTLS_ERR_ARG);
	char *copy = strdup(name);
	ENSURE(copy, DTLS_ERR_NOMEM);
	free(cfg->server_name);
	cfg->server_name = copy;
	return DTLS_OK;
}

int dtls_config_pin_sha256(struct dtls_config *cfg, const uint8_t pin[32])
{
	memcpy(cfg->pin, pin, 32);
	cfg->have_pin = true;
	return DTLS_OK;
}

/* Keeps id (one reference, dropped on failure) as the local certificate of cert_file. */
static int add_identity(struct dtls_config *cfg, struct pki_identity *id, const char *cert_file)
{
	char *file = strdup(cert_file);
	int rc = DTLS_OK;
	pthread_mutex_lock(&cfg->cert_lock);
	if (!file)
		rc = DTLS_ERR_NOMEM;
	else if (cfg->n_local == CFG_MAX_LOCAL_CERTS)
		rc = DTLS_ERR_ARG;
	else
		cfg->local[cfg->n_local++] = (struct local_cert){ .id = id, .file = file };
	pthread_mutex_unlock(&cfg->cert_lock);
	if (rc < 0) {
		free(file);
		pki_identity_unref(id);
	}
	return rc;
}

int dtls_config_add_local_cert(struct dtls_config *cfg, const char *cert_file, const char *key_file, char *err,
			       size_t err_len)
{
	struct pki_identity *id;
	TRY(pki_identity_load(&id, cert_file, key_file, cfg->wall_clock ? cfg->wall_clock() : 0, err, err_len));
	return add_identity(cfg, id, cert_file);
}

int dtls_config_add_local_cert_mem(struct dtls_config *cfg, const char *cert_file, const uint8_t *key,
				   size_t key_len, const char *key_name, char *err, size_t err_len)
{
	struct pki_identity *id;
	TRY(pki_identity_load_key_mem(&id, cert_file, key, key_len, key_name,
				      cfg->wall_clock ? cfg->wall_clock() : 0, err, err_len));
	return add_identity(cfg, id, cert_file);
}

int dtls_config_remove_local_cert(struct dtls_config *cfg, const char *cert_file)
{
	int rc = DTLS_ERR_ARG;
	pthread_mutex_lock(&cfg->cert_lock);
	for (size_t i = 0; i < cfg->n_local; i++) {
		if (strcmp(cfg->local[i].file, cert_file) != 0)
			continue;
		/* Handshakes that took a reference keep the identity alive. */
		pki_identity_unref(cfg->local[i].id);
		free(cfg->local[i].file);
		cfg->local[i] = cfg->local[--cfg->n_local];
		rc = DTLS_OK;
		break;
	}
	pthread_mutex_unlock(&cfg->cert_lock);
	return rc;
}

int dtls_config_add_trusted(struct dtls_config *cfg, const char *file, char *err, size_t err_len)
{
	pthread_mutex_lock(&cfg->cert_lock);
	if (!cfg->trust)
		cfg->trust = pki_trust_new();
	struct pki_trust *t = cfg->trust ? pki_trust_ref(cfg->trust) : NULL;
	pthread_mutex_unlock(&cfg->cert_lock);
	ENSURE(t, DTLS_ERR_NOMEM);
	int rc = pki_trust_add_file(t, file, err, err_len);
	pki_trust_unref(t);
	return rc < 0 ? rc : DTLS_OK;
}

int dtls_config_remove_trusted(struct dtls_config *cfg, const char *file)
{
	pthread_mutex_lock(&cfg->cert_lock);
	struct pki_trust *t = cfg->trust ? pki_trust_ref(cfg->trust) : NULL;
	pthread_mutex_unlock(&cfg->cert_lock);
	ENSURE(t, DTLS_ERR_ARG);
	int rc = pki_trust_remove_file(t, file, NULL, 0);
	pki_trust_unref(t);
	return rc < 0 ? rc : rc == 0 ? DTLS_ERR_ARG : DTLS_OK;
}

int dtls_cert_file_info(const char *file, dtls_cert_info_fn fn, void *arg, char *err, size_t err_len)
{
	ENSURE(file && fn, DTLS_ERR_ARG);
	return pki_file_cert_info(file, fn, arg, err, err_len);
}
