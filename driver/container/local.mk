## driver/container: filled in by its owner
