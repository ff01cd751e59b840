## xml/: pure DomainDef model, parser and formatter (no system calls).
noinst_LIBRARIES += xml/libxml.a
xml_libxml_a_SOURCES = \
	xml/error.cc xml/error.h xml/escape.cc xml/escape.h \
	xml/domain_def.cc xml/domain_def.h \
	xml/domain_xml.cc xml/domain_xml.h \
	xml/capabilities.h xml/native.h

## Data-driven round trips and bad-input cases (tests/xml/{in,out,bad}).
check_PROGRAMS += tests/unit/domain_xml_test
tests_unit_domain_xml_test_SOURCES = tests/unit/domain_xml_test.cc
tests_unit_domain_xml_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_domain_xml_test_LDADD = xml/libxml.a $(TEST_LIBS) $(LIBXML_LIBS)
TESTS += tests/unit/domain_xml_test
EXTRA_DIST += tests/xml/README tests/xml/in tests/xml/out tests/xml/bad tests/xml/live
