## driver/cgroup: filled in by its owner
