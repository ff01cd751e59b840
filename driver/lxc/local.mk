## driver/lxc: filled in by its owner
