## xml/ capabilities document and domxml-from-native (lxc-tools).
noinst_LIBRARIES += xml/libxmlextra.a
xml_libxmlextra_a_SOURCES = \
	xml/capabilities.cc xml/capabilities.h \
	xml/native.cc xml/native.h

## driver/host: live host facts (arch, CPU topology, NUMA cells, memory, uuid).
noinst_LIBRARIES += driver/host/libhost.a
driver_host_libhost_a_SOURCES = driver/host/host_probe.cc driver/host/host_probe.h

check_PROGRAMS += tests/unit/capabilities_test tests/unit/native_test
TESTS += tests/unit/capabilities_test tests/unit/native_test

tests_unit_capabilities_test_SOURCES = tests/unit/capabilities_test.cc
tests_unit_capabilities_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_capabilities_test_LDADD = driver/host/libhost.a xml/libxmlextra.a xml/libxml.a $(TEST_LIBS) $(LIBXML_LIBS)

tests_unit_native_test_SOURCES = tests/unit/native_test.cc
tests_unit_native_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_native_test_LDADD = xml/libxmlextra.a xml/libxml.a $(TEST_LIBS) $(LIBXML_LIBS)

EXTRA_DIST += tests/native tests/capabilities
