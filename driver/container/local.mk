## driver/container: code that runs in the cloned container child. It lives
## inside the lxvirt-controller binary, so its sources are listed in
## driver/controller/local.mk (this fragment is included from there).
CONTAINER_CHILD_SOURCES = \
	driver/container/child.h driver/container/child_util.h \
	driver/container/child.cc driver/container/mounts.cc \
	driver/container/dev.cc driver/container/caps_user.cc \
	driver/security/exec_label.cc
