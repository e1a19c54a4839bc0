/* The shared CUnit runner: a test file defines one `unit_suite` and harness.c runs it. */
#ifndef UNIT_HARNESS_H
#define UNIT_HARNESS_H

#include <CUnit/CUnit.h>

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;    /* may be NULL */
	CU_CleanupFunc cleanup;    /* may be NULL */
	CU_TestInfo *tests;        /* terminated by CU_TEST_INFO_NULL */
};

extern const struct unit_suite unit_suite;

#endif
