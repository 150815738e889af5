"""Benchmarks: each module measures a figure against a baseline in the same run (see bench/run.py)."""
