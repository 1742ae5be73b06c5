"""Benchmarks: scripts that print numbers and merge them into .bench/results.json (`make bench`)."""
