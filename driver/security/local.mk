## driver/security: filled in by its owner
