## driver/rpc: libvirt's remote protocol — framing, a generic XDR codec and
## the procedure tables (number -> wire types -> DomainDriver call).
noinst_LIBRARIES += driver/rpc/librpc.a
driver_rpc_librpc_a_SOURCES = \
	driver/rpc/xdr.h \
	driver/rpc/protocol.h driver/rpc/protocol.cc \
	driver/rpc/dispatch.h driver/rpc/remote_procs.cc

check_PROGRAMS += tests/unit/rpc_codec_test
tests_unit_rpc_codec_test_SOURCES = tests/unit/rpc_codec_test.cc \
	tests/unit/fake_driver.h tests/unit/fake_driver.cc
tests_unit_rpc_codec_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_rpc_codec_test_LDADD = driver/rpc/librpc.a xml/libxml.a $(TEST_LIBS) -lpthread
TESTS += tests/unit/rpc_codec_test
