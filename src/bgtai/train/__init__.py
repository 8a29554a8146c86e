"""Training recipes (application code: library modules never import this package)."""
