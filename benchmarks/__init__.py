"""Benchmarks of what `kernel/` ships; not part of the package. Method and results: benchmarks/README.md."""
