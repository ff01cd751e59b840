## driver/security: SecurityManager (none | selinux), the sVirt MCS
## allocator, lxc_contexts; the lxvirt SELinux policy module; their tests.
noinst_LIBRARIES += driver/security/libsecurity.a
driver_security_libsecurity_a_SOURCES = \
	driver/security/security_manager.h driver/security/security_manager.cc \
	driver/security/exec_label.cc \
	driver/security/selinux_model.h driver/security/selinux.cc \
	driver/security/mcs.h driver/security/mcs.cc \
	driver/security/lxc_contexts.h driver/security/lxc_contexts.cc \
	driver/security/socket_label.h
driver_security_libsecurity_a_CXXFLAGS = $(AM_CXXFLAGS) $(SELINUX_CFLAGS)
# Users of libsecurity.a link: driver/security/libsecurity.a xml/libxml.a $(SELINUX_LIBS)

check_PROGRAMS += tests/unit/mcs_test tests/unit/security_test
TESTS += tests/unit/mcs_test tests/unit/security_test

tests_unit_mcs_test_SOURCES = tests/unit/mcs_test.cc
tests_unit_mcs_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_mcs_test_LDADD = driver/security/libsecurity.a xml/libxml.a $(TEST_LIBS) $(SELINUX_LIBS)

# security_test re-executes itself with the libselinux mock in LD_PRELOAD
# (tests/selinux-mock), which must therefore be built first.
tests_unit_security_test_SOURCES = tests/unit/security_test.cc
tests_unit_security_test_CXXFLAGS = $(TEST_CXXFLAGS) $(SELINUX_CFLAGS)
tests_unit_security_test_LDADD = driver/security/libsecurity.a xml/libxml.a $(TEST_LIBS) $(SELINUX_LIBS) -ldl
EXTRA_tests_unit_security_test_DEPENDENCIES = tests/selinux-mock/libselinux-mock.so
noinst_HEADERS += tests/unit/security_mock.h

# ScopedSocketCreateLabel (header-only, used by lxvirt-controller), through
# the same mock.
check_PROGRAMS += tests/unit/security_socket_label_test
TESTS += tests/unit/security_socket_label_test
tests_unit_security_socket_label_test_SOURCES = tests/unit/security_socket_label_test.cc
tests_unit_security_socket_label_test_CXXFLAGS = $(TEST_CXXFLAGS)
tests_unit_security_socket_label_test_LDADD = xml/libxml.a $(TEST_LIBS) -ldl
EXTRA_tests_unit_security_socket_label_test_DEPENDENCIES = tests/selinux-mock/libselinux-mock.so

# The LD_PRELOAD libselinux mock: a shared object built as a program.
check_PROGRAMS += tests/selinux-mock/libselinux-mock.so
tests_selinux_mock_libselinux_mock_so_SOURCES = tests/selinux-mock/selinux_mock.cc
tests_selinux_mock_libselinux_mock_so_CXXFLAGS = $(AM_CXXFLAGS) $(SELINUX_CFLAGS) -fPIC
tests_selinux_mock_libselinux_mock_so_LDFLAGS = -shared -fPIC
tests_selinux_mock_libselinux_mock_so_LDADD = -ldl

# Static checks of the policy module with setools' sesearch (skips without it).
check_SCRIPTS += selinux-policy/check-policy.sh
TESTS += selinux-policy/check-policy.sh
EXTRA_DIST += selinux-policy tests/selinux-mock tests/vm

## selinux-policy/lxvirt.pp: built with the reference policy's devel Makefile
## (selinux-policy-dev) when it is installed, else skipped with a message.
## `make install` puts it in $(datadir)/selinux/packages; load it with
## `semodule -i /usr/share/selinux/packages/lxvirt.pp`.
LXVIRT_POLICY_DEVEL_MAKEFILE = /usr/share/selinux/devel/Makefile
LXVIRT_POLICY_SRC = selinux-policy/lxvirt.te selinux-policy/lxvirt.fc selinux-policy/lxvirt.if
lxvirt_policydir = $(datadir)/selinux/packages

selinux-policy/lxvirt.pp: $(LXVIRT_POLICY_SRC)
	$(AM_V_GEN)rm -rf selinux-policy/build && mkdir -p selinux-policy/build && \
	for f in $(LXVIRT_POLICY_SRC); do cp $(srcdir)/$$f selinux-policy/build/ || exit 1; done && \
	$(MAKE) -s -C selinux-policy/build -f $(LXVIRT_POLICY_DEVEL_MAKEFILE) lxvirt.pp >selinux-policy/build.out 2>&1 || \
	  { cat selinux-policy/build.out >&2; exit 1; }; \
	cp selinux-policy/build/lxvirt.pp $@

lxvirt-policy:
	@if test -f $(LXVIRT_POLICY_DEVEL_MAKEFILE); then \
	  $(MAKE) $(AM_MAKEFLAGS) selinux-policy/lxvirt.pp; \
	else \
	  echo "selinux-policy: $(LXVIRT_POLICY_DEVEL_MAKEFILE) not found, lxvirt.pp not built (apt-get install selinux-policy-dev)"; \
	fi

install-lxvirt-policy: lxvirt-policy
	@if test -f selinux-policy/lxvirt.pp; then \
	  $(MKDIR_P) '$(DESTDIR)$(lxvirt_policydir)' && \
	  $(INSTALL_DATA) selinux-policy/lxvirt.pp '$(DESTDIR)$(lxvirt_policydir)/lxvirt.pp'; \
	else \
	  echo "selinux-policy: lxvirt.pp not built, not installed"; \
	fi

uninstall-lxvirt-policy:
	rm -f '$(DESTDIR)$(lxvirt_policydir)/lxvirt.pp'

clean-lxvirt-policy:
	rm -rf selinux-policy/build selinux-policy/build.out selinux-policy/lxvirt.pp

all-local: lxvirt-policy
install-data-local: install-lxvirt-policy
uninstall-local: uninstall-lxvirt-policy
clean-local: clean-lxvirt-policy
.PHONY: lxvirt-policy install-lxvirt-policy uninstall-lxvirt-policy clean-lxvirt-policy

# Run inside the VM tier (tests/vm/run.sh), not by make check on the host.
check_PROGRAMS += tests/vm/svirt_vm_check
tests_vm_svirt_vm_check_SOURCES = tests/vm/svirt_vm_check.cc
tests_vm_svirt_vm_check_CXXFLAGS = $(AM_CXXFLAGS) $(SELINUX_CFLAGS)
tests_vm_svirt_vm_check_LDADD = driver/security/libsecurity.a xml/libxml.a $(SELINUX_LIBS)

# Real containers through the LXC driver in the VM tier (tests/vm/run.sh).
check_PROGRAMS += tests/vm/svirt_container_check
tests_vm_svirt_container_check_SOURCES = tests/vm/svirt_container_check.cc
tests_vm_svirt_container_check_CXXFLAGS = $(AM_CXXFLAGS) $(SELINUX_CFLAGS) $(GLIB_CFLAGS)
tests_vm_svirt_container_check_LDADD = driver/lxc/liblxcdriver.a driver/libruntime.a \
	driver/security/libsecurity.a driver/cgroup/libcgroup.a driver/host/libhost.a \
	xml/libxmlextra.a xml/libxml.a \
	$(LIBXML_LIBS) $(GLIB_LIBS) $(CAPNG_LIBS) $(SELINUX_LIBS) -lpthread
