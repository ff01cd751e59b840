## bench: benchmarks (built with `make`, never run by `make check`).

# Parse + format throughput of a typical domain: bench/xml_bench [SECONDS] [FILE]
noinst_PROGRAMS += bench/xml_bench
bench_xml_bench_SOURCES = bench/xml_bench.cc
bench_xml_bench_LDADD = xml/libxml.a $(LIBXML_LIBS)
