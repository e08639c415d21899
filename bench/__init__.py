"""Benchmarks: measurements printed as tables, run with `python -m bench.<name>`; never tests."""
