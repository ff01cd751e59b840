## driver/cgroup: one interface (cgroup.h), v1 and v2 backends chosen at run
## time; v2 device control through a hand-assembled BPF program.
noinst_LIBRARIES += driver/cgroup/libcgroup.a
driver_cgroup_libcgroup_a_SOURCES = \
	driver/cgroup/cgroup.h driver/cgroup/cgroup_internal.h \
	driver/cgroup/cgroup.cc driver/cgroup/v1.cc driver/cgroup/v2.cc \
	driver/cgroup/v2_devices.h driver/cgroup/v2_devices.cc

check_PROGRAMS += tests/unit/cgroup_test
tests_unit_cgroup_test_SOURCES = tests/unit/cgroup_test.cc
tests_unit_cgroup_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_cgroup_test_LDADD = driver/cgroup/libcgroup.a xml/libxml.a $(TEST_LIBS)
TESTS += tests/unit/cgroup_test
