## driver/controller: lxvirt-controller (one per running container) and the
## daemon-side runtime library driver/libruntime.a (driver/lxc/container*.cc).
include driver/container/local.mk

pkglibexec_PROGRAMS += driver/controller/lxvirt-controller
driver_controller_lxvirt_controller_SOURCES = \
	driver/controller/main.cc driver/controller/console.cc \
	driver/controller/controller.h \
	driver/controller/spec.cc driver/controller/spec.h \
	$(CONTAINER_CHILD_SOURCES)
driver_controller_lxvirt_controller_CPPFLAGS = -I$(top_srcdir) -I$(top_builddir) \
	$(LIBVIRT_HEADERS_CFLAGS) $(CAPNG_CFLAGS)
# The controller stays resident next to every container: no libxml2 or GLib,
# and linked statically: no dynamic loader work at each start (-3 ms) and no
# relocated library data paid again in every controller (PSS ~110 KiB each
# with 100 running, target 256). Sanitizer builds cannot link statically.
# (libcap-ng.a makes ld warn about getpwuid/initgroups, which we never call.)
driver_controller_lxvirt_controller_LDFLAGS = $(AM_LDFLAGS) \
	$(if $(SAN_FLAGS),-static-libstdc++ -static-libgcc,-static)
driver_controller_lxvirt_controller_LDADD = driver/cgroup/libcgroup.a xml/libxml.a $(CAPNG_LIBS)

noinst_LIBRARIES += driver/libruntime.a
driver_libruntime_a_SOURCES = \
	driver/lxc/container.h driver/lxc/container.cc \
	driver/lxc/container_spec.h driver/lxc/container_spec.cc \
	driver/controller/spec.cc driver/controller/spec.h

# Static multi-call helper put into the test root file systems.
check_PROGRAMS += tests/init
tests_init_SOURCES = tests/init.c
# Never sanitized: it must link statically to run in any test rootfs.
tests_init_CFLAGS = -Wall -Wextra
tests_init_LDFLAGS = -static

check_PROGRAMS += tests/unit/container_test
tests_unit_container_test_SOURCES = tests/unit/container_test.cc
tests_unit_container_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_container_test_LDADD = driver/libruntime.a driver/cgroup/libcgroup.a xml/libxml.a \
	$(LIBXML_LIBS) $(GLIB_LIBS) $(TEST_LIBS)
EXTRA_tests_unit_container_test_DEPENDENCIES = tests/init driver/controller/lxvirt-controller
TESTS += tests/unit/container_test
dist_noinst_SCRIPTS += tests/rootfs/mkrootfs.sh
