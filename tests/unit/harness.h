/* The shared CUnit runner: a test file defines one `unit_suite` and harness.c runs it. */
#ifndef UNIT_HARNESS_H
#define UNIT_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;    /* may be NULL */
	CU_CleanupFunc cleanup;    /* may be NULL */
	CU_TestInfo *tests;        /* terminated by CU_TEST_INFO_NULL */
};

extern const struct unit_suite unit_suite;

/* Test vectors: hex to bytes (fails the test if it does not fit), and a comparison. */
size_t unit_unhex(uint8_t *out, size_t cap, const char *hex);
void unit_check_hex(const uint8_t *got, size_t len, const char *want_hex);

/*
 * The test PKI of tests/pki/mkpki.sh, made in a temporary directory of its own with its
 * keys mode 600 (unit_pki_make: 0, or -1 if it failed), a file of it (unit_pki_path:
 * the last 8 results stay valid), and its removal (unit_pki_free: 0 or -1).
 */
int unit_pki_make(void);
const char *unit_pki_path(const char *name);
int unit_pki_free(void);

#endif
