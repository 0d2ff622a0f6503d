"""The benchmark (SPEC §10): seeds a million requests, drives the API as deployed, prints figures and ratios.

Run it with `uv run python -m bench.run`; see README.md ("Benchmark") and bench/README.md.
"""
