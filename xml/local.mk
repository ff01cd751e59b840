## xml/: pure DomainDef model, parser and formatter (no system calls).
noinst_LIBRARIES += xml/libxml.a
xml_libxml_a_SOURCES = \
	xml/error.cc xml/error.h \
	xml/domain_def.h xml/domain_xml.h xml/capabilities.h xml/native.h
