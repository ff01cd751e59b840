## driver/controller: filled in by its owner
