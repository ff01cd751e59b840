## driver/rpc: filled in by its owner
