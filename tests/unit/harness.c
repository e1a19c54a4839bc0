#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>

#include "harness.h"

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_SuiteInfo suites[] = {
		{ (char *)unit_suite.name, unit_suite.init, unit_suite.cleanup, NULL, NULL,
		  unit_suite.tests },
		CU_SUITE_INFO_NULL,
	};
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cannot register suite: %s\n", CU_get_error_msg());
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (run == 0) {
		fprintf(stderr, "no test ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
