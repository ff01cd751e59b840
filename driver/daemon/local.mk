## driver/daemon: filled in by its owner
