## driver/daemon: lxvirtd — GLib main loop, unix sockets, config, logging,
## lock file, signals, clients, worker pool, streams, keepalive, events.
noinst_LIBRARIES += driver/daemon/libdaemon.a
driver_daemon_libdaemon_a_SOURCES = \
	driver/daemon/log.h driver/daemon/log.cc \
	driver/daemon/worker_pool.h driver/daemon/worker_pool.cc \
	driver/daemon/server.h driver/daemon/server.cc \
	driver/daemon/daemon.h driver/daemon/daemon.cc

LXVIRTD_BASE_LIBS = driver/daemon/libdaemon.a driver/rpc/librpc.a

# lxvirtd links the LXC driver library and every other area library the
# local.mk fragments declare. They are listed three times so that their
# order does not matter (automake refuses -Wl,--start-group in LDADD); the
# linker takes only the members that are used. Until
# driver/lxc/liblxcdriver.a exists, a stub driver that refuses to start
# keeps the build whole.
LXVIRTD_LXC_LIB = $(filter driver/lxc/liblxcdriver.a,$(noinst_LIBRARIES))
LXVIRTD_AREA_LIBS = $(filter-out driver/daemon/% driver/rpc/% tests/%,$(noinst_LIBRARIES))
LXVIRTD_STUB_LIB = $(if $(LXVIRTD_LXC_LIB),,driver/daemon/libnolxc.a)
noinst_LIBRARIES += driver/daemon/libnolxc.a
driver_daemon_libnolxc_a_SOURCES = driver/daemon/no_lxc_driver.cc

sbin_PROGRAMS += lxvirtd
lxvirtd_SOURCES = driver/daemon/main.cc
lxvirtd_LDADD = $(LXVIRTD_BASE_LIBS) $(LXVIRTD_STUB_LIB) \
	$(LXVIRTD_AREA_LIBS) $(LXVIRTD_AREA_LIBS) $(LXVIRTD_AREA_LIBS) \
	$(GLIB_LIBS) $(LIBXML_LIBS) $(SELINUX_LIBS) $(CAPNG_LIBS) $(LIBNL_LIBS) $(DEVMAPPER_LIBS) -lpthread
lxvirtd_DEPENDENCIES = $(LXVIRTD_BASE_LIBS) $(LXVIRTD_STUB_LIB) $(LXVIRTD_AREA_LIBS)

check_PROGRAMS += tests/unit/worker_pool_test
tests_unit_worker_pool_test_SOURCES = tests/unit/worker_pool_test.cc
tests_unit_worker_pool_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_worker_pool_test_LDADD = driver/daemon/libdaemon.a $(TEST_LIBS) -lpthread
TESTS += tests/unit/worker_pool_test

# The same server over the in-memory test driver.
check_PROGRAMS += tests/interop/fake-lxvirtd
tests_interop_fake_lxvirtd_SOURCES = tests/interop/fake_lxvirtd_main.cc \
	tests/unit/fake_driver.h tests/unit/fake_driver.cc
tests_interop_fake_lxvirtd_LDADD = $(LXVIRTD_BASE_LIBS) xml/libxml.a $(GLIB_LIBS) -lpthread

# Interop tests: the real virsh and python3-libvirt against fake-lxvirtd.
LXVIRTD_INTEROP_TESTS = tests/interop/virsh_test.py tests/interop/python_api_test.py \
	tests/interop/bad_clients_test.py tests/interop/daemon_test.py \
	tests/interop/real_driver_test.py tests/interop/api_fuzz_test.py
check_SCRIPTS += $(LXVIRTD_INTEROP_TESTS)
TESTS += $(LXVIRTD_INTEROP_TESTS)
EXTRA_DIST += tests/interop/tap.py $(LXVIRTD_INTEROP_TESTS)

# The unmodified virt-manager, headless (Xvfb + xdotool), against lxvirtd
# with real containers; skips with the reason when a tool is missing.
check_SCRIPTS += tests/virt-manager/virt_manager_test.sh
TESTS += tests/virt-manager/virt_manager_test.sh
EXTRA_DIST += tests/virt-manager/virt_manager_test.sh

systemdsystemunit_DATA += data/systemd/lxvirtd.service data/systemd/lxvirtd.socket \
	data/systemd/lxvirtd-ro.socket
EXTRA_DIST += data/systemd/lxvirtd.service.in data/systemd/lxvirtd.socket \
	data/systemd/lxvirtd-ro.socket
CLEANFILES += data/systemd/lxvirtd.service
data/systemd/lxvirtd.service: $(srcdir)/data/systemd/lxvirtd.service.in
	$(AM_V_GEN)$(MKDIR_P) data/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/data/systemd/lxvirtd.service.in > $@

dist_man_MANS += docs/lxvirtd.8
lxvirtconfdir = $(sysconfdir)/lxvirt
dist_lxvirtconf_DATA = docs/lxvirtd.conf
