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

#endif
