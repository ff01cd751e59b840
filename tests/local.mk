## tests/: unit (CppUnit, TAP), integration and interop tests.
check_PROGRAMS += tests/unit/smoke_test
tests_unit_smoke_test_SOURCES = tests/unit/smoke_test.cc
tests_unit_smoke_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_smoke_test_LDADD = xml/libxml.a $(TEST_LIBS)
TESTS += tests/unit/smoke_test
