## bench: benchmarks (built with `make`, never run by `make check`).

# Parse + format throughput of a typical domain: bench/xml_bench [SECONDS] [FILE]
noinst_PROGRAMS += bench/xml_bench
bench_xml_bench_SOURCES = bench/xml_bench.cc
bench_xml_bench_LDADD = xml/libxml.a $(LIBXML_LIBS)

# Container lifecycle through the LXC driver API (issue 5): bench/lifecycle_bench [-n N] [-m MANY]
noinst_PROGRAMS += bench/lifecycle_bench
bench_lifecycle_bench_SOURCES = bench/lifecycle_bench.cc
bench_lifecycle_bench_CXXFLAGS = $(AM_CXXFLAGS) $(GLIB_CFLAGS) $(LIBXML_CFLAGS)
bench_lifecycle_bench_LDADD = driver/lxc/liblxcdriver.a driver/libruntime.a \
	driver/security/libsecurity.a \
	driver/cgroup/libcgroup.a driver/host/libhost.a xml/libxmlextra.a xml/libxml.a \
	$(LIBXML_LIBS) $(GLIB_LIBS) $(CAPNG_LIBS) $(SELINUX_LIBS) -lpthread
EXTRA_bench_lifecycle_bench_DEPENDENCIES = driver/controller/lxvirt-controller tests/init

# RPC benchmark against a private lxvirtd and the libvirt peer (issue 3).
EXTRA_DIST += bench/rpc_bench.py bench/run.sh bench/RESULTS.md

# `make bench`: build and run both benchmarks (not part of `make check`).
bench: bench/lifecycle_bench bench/xml_bench lxvirtd driver/controller/lxvirt-controller tests/init
	$(srcdir)/bench/run.sh $(abs_builddir) $(abs_srcdir)
.PHONY: bench
