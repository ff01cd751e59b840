## driver/lxc: the LXC DomainDriver (registry, persistence, live state,
## lifecycle, events). container*.cc belong to the runtime (libruntime.a).
noinst_LIBRARIES += driver/lxc/liblxcdriver.a
driver_lxc_liblxcdriver_a_SOURCES = \
	driver/lxc/driver.cc driver/lxc/driver.h driver/lxc/driver_internal.h \
	driver/lxc/state_file.cc driver/lxc/state_file.h \
	driver/lxc/runtime_real.cc

check_PROGRAMS += tests/unit/lxc_driver_test
tests_unit_lxc_driver_test_SOURCES = tests/unit/lxc_driver_test.cc
tests_unit_lxc_driver_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_lxc_driver_test_LDADD = driver/lxc/liblxcdriver.a driver/libruntime.a \
	driver/security/libsecurity.a \
	driver/cgroup/libcgroup.a driver/host/libhost.a xml/libxmlextra.a xml/libxml.a \
	$(TEST_LIBS) $(LIBXML_LIBS) $(GLIB_LIBS) $(CAPNG_LIBS) $(SELINUX_LIBS) -lpthread
# The real-container cases run the controller and the in-container helper.
EXTRA_tests_unit_lxc_driver_test_DEPENDENCIES = tests/init driver/controller/lxvirt-controller
TESTS += tests/unit/lxc_driver_test
